//! `credctl auth list` with 10, 100 and 1,000 stored credentials.
//!
//! What must hold: the three sizes are timed in one interleaved loop, so
//! that drift of the machine affects them alike; linearity is judged on the
//! cost per credential above the fixed cost of starting the process, taken
//! as the 10-credential median: (t(n) - t(10)) / (n - 10) at 1,000 against
//! the same at 100.

use std::time::Duration;

use chrono::TimeDelta;
use credctl::store::TokenStore;
use serde_json::{Value, json};

use crate::{credctl, now, peak_rss, round, seed, stats, stats_json, time, token, verdict};

const SIZES: [usize; 3] = [10, 100, 1000];
/// The median at 1,000 credentials, in ms.
const TARGET_MS_AT_1000: f64 = 10.0;
/// The cost per credential at 1,000 is at most this many times that at 100.
const TARGET_GROWTH: f64 = 1.5;

pub fn run(runs: usize) -> Value {
    let runs = runs.min(100);
    let homes: Vec<tempfile::TempDir> = SIZES
        .iter()
        .map(|&n| {
            let dir = tempfile::tempdir().unwrap();
            let store = TokenStore::new(dir.path().join("oauth"));
            for i in 0..n {
                let provider = format!("p{}", i % 10);
                let lifetime = TimeDelta::minutes(30 + (i as i64 % 90));
                seed(
                    &store,
                    &provider,
                    &format!("a{i}"),
                    token(&format!("at-{i}"), now() - TimeDelta::minutes(20), lifetime),
                );
            }
            dir
        })
        .collect();
    let list = |i: usize| {
        let mut cmd = credctl(homes[i].path());
        cmd.args(["auth", "list"]);
        cmd
    };
    for i in 0..SIZES.len() {
        for _ in 0..5 {
            time(&mut list(i));
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); SIZES.len()];
    for _ in 0..runs {
        for (i, s) in samples.iter_mut().enumerate() {
            s.push(time(&mut list(i)));
        }
    }
    let measured: Vec<_> = (0..SIZES.len())
        .map(|i| stats(&samples[i], peak_rss(|| list(i))))
        .collect();

    println!("auth list ({runs} interleaved rounds)");
    println!(
        "  {:<12} {:>9} {:>9} {:>10} {:>15} {:>15}",
        "credentials", "median", "p95", "peak RSS", "per credential", "above 10"
    );
    let base = measured[0].median_ms;
    let above = |i: usize| (measured[i].median_ms - base) / (SIZES[i] - SIZES[0]) as f64;
    let mut rows = Vec::new();
    for (i, s) in measured.iter().enumerate() {
        let n = SIZES[i];
        let extra = if i == 0 {
            "-".to_string()
        } else {
            format!("{:.1}µs", above(i) * 1000.0)
        };
        println!(
            "  {n:<12} {:>7.3}ms {:>7.3}ms {:>6} KiB {:>13.1}µs {extra:>15}",
            s.median_ms,
            s.p95_ms,
            s.max_rss_kib,
            s.median_ms / n as f64 * 1000.0
        );
        let mut row = stats_json(*s);
        row["credentials"] = json!(n);
        rows.push(row);
    }
    let at_1000 = measured[2].median_ms;
    let growth = above(2) / above(1);
    let fast_met = at_1000 <= TARGET_MS_AT_1000;
    let linear = growth <= TARGET_GROWTH;
    println!(
        "  median at 1,000 ≤ {TARGET_MS_AT_1000:.0} ms: {at_1000:.3} ms — {}",
        verdict(fast_met)
    );
    println!(
        "  linear (cost per credential above 10, at 1,000 ≤ {TARGET_GROWTH}× at 100): {growth:.2}× — {}\n",
        verdict(linear)
    );
    json!({
        "rounds": runs,
        "rows": rows,
        "us_per_credential_above_10": {
            "at_100": round(above(1) * 1000.0),
            "at_1000": round(above(2) * 1000.0),
        },
        "marginal_us_per_credential": round(
            (measured[2].median_ms - measured[1].median_ms) / (SIZES[2] - SIZES[1]) as f64 * 1000.0
        ),
        "growth_1000_over_100": round(growth),
        "targets": {
            "ms_at_1000": { "max": TARGET_MS_AT_1000, "value": round(at_1000), "met": fast_met },
            "linear": { "max_growth": TARGET_GROWTH, "value": round(growth), "met": linear },
        },
        "target_ms_at_1000": TARGET_MS_AT_1000,
        "met": fast_met && linear,
    })
}
