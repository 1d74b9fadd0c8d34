//! The fast path: `credctl auth token` with a valid stored token, next to
//! `cat` of the same file (the floor for starting a process that reads one
//! file) and, when bench/peers.sh has set them up, the peers that do the
//! same job: `oidc-token` (oidc-agent) and `gh auth token`.
//!
//! What must hold: every command is timed in one interleaved loop, so that
//! drift of the machine affects all alike, in an order that rotates; each is spawned the same way
//! (std's posix_spawn), with a cleared environment plus the harness's locale
//! (`LANG`, `LC_*`, as a shell would pass them) and what it needs, and its
//! output checked once before timing. gh takes ~50 ms, so it runs on every
//! `GH_EVERY`-th round only.
//!
//! The locale matters to cat (glibc's setlocale opens the locale's files:
//! ~0.3 ms for C.UTF-8), not to credctl, which reads none. So when the
//! harness has one, an extra row, not a target, shows cat without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::TimeDelta;
use credctl::store::TokenStore;
use serde_json::{Value, json};

use crate::{credctl, now, peak_rss, round, seed, stats, stats_json, time, token, verdict, which};

/// credctl's median is at most this many times cat's.
const TARGET_RATIO_TO_CAT: f64 = 1.10;
/// oidc-token's median is at least this many times credctl's.
const TARGET_OIDC_TOKEN_SPEEDUP: f64 = 1.25;
/// credctl's peak RSS, in KiB (3 MiB).
const TARGET_RSS_KIB: u64 = 3 * 1024;
/// gh runs on every this-many rounds.
const GH_EVERY: usize = 10;

/// The environment a peer keeps besides the locale; the rest is cleared,
/// as for credctl. bench/peers.sh exports these.
const PEER_ENV: &[&str] = &[
    "PATH",
    "OIDC_SOCK",
    "GH_CONFIG_DIR",
    "GH_NO_UPDATE_NOTIFIER",
    "GH_PROMPT_DISABLED",
];

/// One command of the table.
struct Contender {
    name: &'static str,
    /// Its key in the JSON report.
    key: &'static str,
    program: PathBuf,
    args: Vec<String>,
    /// The environment it runs with (after clearing).
    env: Vec<(String, String)>,
    /// It runs on every `every`-th round.
    every: usize,
    /// `--version`, for peers: which build was measured.
    version: Option<String>,
    samples: Vec<Duration>,
}

impl Contender {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .env_clear()
            .envs(self.env.iter().cloned());
        cmd
    }

    fn shown(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// One run with its output kept: it must succeed and print `expect`
    /// (or, when `expect` is None, something).
    fn check(&self, expect: Option<&str>) -> Result<(), String> {
        let out = self
            .command()
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `{}`: {e}", self.shown()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let printed = stdout.trim_end();
        let ok = out.status.success()
            && match expect {
                Some(expected) => printed == expected.trim_end(),
                None => !printed.is_empty(),
            };
        if ok {
            return Ok(());
        }
        Err(format!(
            "`{}` {} and printed {} bytes; stderr: {}",
            self.shown(),
            out.status,
            printed.len(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A peer named by an environment variable, e.g. `CREDCTL_BENCH_OIDC_TOKEN_CMD
/// = "/usr/bin/oidc-token bench"`: split on spaces, run directly.
fn peer(
    var: &str,
    name: &'static str,
    key: &'static str,
    every: usize,
    home: &Path,
) -> Option<Contender> {
    let line = std::env::var(var).ok()?;
    let mut words = line.split_whitespace().map(String::from);
    let program = which(&words.next()?);
    let mut env = locale();
    env.extend(
        PEER_ENV
            .iter()
            .filter_map(|k| Some((k.to_string(), std::env::var(k).ok()?))),
    );
    env.push(("HOME".into(), home.display().to_string()));
    let version = Command::new(&program)
        .arg("--version")
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines().next().map(|l| l.trim().to_string())
        });
    Some(Contender {
        name,
        key,
        program,
        args: words.collect(),
        env,
        every,
        version,
        samples: Vec::new(),
    })
}

/// The harness's locale variables.
fn locale() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k == "LANG" || k.starts_with("LC_"))
        .collect()
}

pub fn run(runs: usize) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let store = TokenStore::new(home.join("oauth"));
    let file = seed(
        &store,
        "bench",
        "default",
        token("at-bench", now(), TimeDelta::hours(1)),
    );
    let credctl_cmd = credctl(home);
    let bare_env: Vec<(String, String)> = credctl_cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
        .collect();
    let mut own_env = locale();
    own_env.extend(bare_env.iter().cloned());
    let has_locale = own_env.len() > bare_env.len();
    let mut contenders = vec![
        // cat runs with credctl's environment: like for like.
        Contender {
            name: "cat",
            key: "cat",
            program: which("cat"),
            args: vec![file.display().to_string()],
            env: own_env.clone(),
            every: 1,
            version: None,
            samples: Vec::new(),
        },
        Contender {
            name: "credctl auth token",
            key: "credctl",
            program: PathBuf::from(credctl_cmd.get_program()),
            args: vec!["auth".into(), "token".into(), "bench".into()],
            env: own_env,
            every: 1,
            version: None,
            samples: Vec::new(),
        },
    ];
    let mut skipped = Vec::new();
    let peers = [
        peer(
            "CREDCTL_BENCH_OIDC_TOKEN_CMD",
            "oidc-token",
            "oidc_token",
            1,
            home,
        ),
        peer(
            "CREDCTL_BENCH_GH_TOKEN_CMD",
            "gh auth token",
            "gh",
            GH_EVERY,
            home,
        ),
    ];
    // A peer that does not work (a stale bench/peers.sh environment) is
    // left out, and said so, rather than stopping the whole benchmark.
    for peer in peers.into_iter().flatten() {
        match peer.check(None) {
            Ok(()) => contenders.push(peer),
            Err(why) => {
                println!("  note: {} left out: {why}", peer.name);
                skipped.push(json!({ "name": peer.name, "why": why }));
            }
        }
    }
    if has_locale {
        contenders.push(Contender {
            name: "cat, no locale",
            key: "cat_no_locale",
            program: which("cat"),
            args: vec![file.display().to_string()],
            env: bare_env,
            every: 1,
            version: None,
            samples: Vec::new(),
        });
    }
    let stored = std::fs::read_to_string(&file).unwrap();
    for c in &contenders {
        let expect = match c.key {
            "credctl" => Some("at-bench"),
            "cat" | "cat_no_locale" => Some(stored.as_str()),
            _ => None,
        };
        c.check(expect).unwrap();
    }

    // Warm the page cache and the binaries.
    for c in &contenders {
        for _ in 0..(20 / c.every).max(2) {
            time(&mut c.command());
        }
    }
    // Interleaved, so that drift of the machine affects all alike, and
    // each round starts one command further on, so that none always runs
    // right after the same other one (gh, or the agent oidc-token wakes).
    let n = contenders.len();
    for round in 0..runs {
        for i in 0..n {
            let c = &mut contenders[(round + i) % n];
            if round % c.every == 0 {
                let wall = time(&mut c.command());
                c.samples.push(wall);
            }
        }
    }

    let measured: Vec<_> = contenders
        .iter()
        .map(|c| (c, stats(&c.samples, peak_rss(|| c.command()))))
        .collect();
    let median = |key: &str| {
        measured
            .iter()
            .find(|(c, _)| c.key == key)
            .map(|(_, s)| s.median_ms)
    };
    let cat = median("cat").unwrap();
    let credctl_stats = measured[1].1;
    let ratio = credctl_stats.median_ms / cat;
    let oidc_speedup = median("oidc_token").map(|m| m / credctl_stats.median_ms);

    println!(
        "fast path: one valid stored token, read by each command in turn, interleaved ({runs} rounds{})",
        if contenders.iter().any(|c| c.key == "gh") {
            format!("; gh auth token every {GH_EVERY}th")
        } else {
            String::new()
        }
    );
    println!(
        "  {:<20} {:>5} {:>9} {:>9} {:>10} {:>8}",
        "command", "runs", "median", "p95", "peak RSS", "÷ cat"
    );
    for (c, s) in &measured {
        println!(
            "  {:<20} {:>5} {:>7.3}ms {:>7.3}ms {:>6} KiB {:>8.2}",
            c.name,
            c.samples.len(),
            s.median_ms,
            s.p95_ms,
            s.max_rss_kib,
            s.median_ms / cat
        );
    }
    let ratio_met = ratio <= TARGET_RATIO_TO_CAT;
    let rss_met = credctl_stats.max_rss_kib <= TARGET_RSS_KIB;
    let oidc_met = oidc_speedup.map(|x| x >= TARGET_OIDC_TOKEN_SPEEDUP);
    println!(
        "  credctl median ≤ {TARGET_RATIO_TO_CAT:.2}× cat: {ratio:.2}× — {}",
        verdict(ratio_met)
    );
    match oidc_speedup {
        Some(x) => println!(
            "  credctl ≥ {TARGET_OIDC_TOKEN_SPEEDUP:.2}× faster than oidc-token: {x:.2}× — {}",
            verdict(x >= TARGET_OIDC_TOKEN_SPEEDUP)
        ),
        None => println!(
            "  credctl ≥ {TARGET_OIDC_TOKEN_SPEEDUP:.2}× faster than oidc-token: not measured (eval \"$(bench/peers.sh)\" first)"
        ),
    }
    println!(
        "  credctl peak RSS ≤ {TARGET_RSS_KIB} KiB: {} KiB — {}",
        credctl_stats.max_rss_kib,
        verdict(rss_met)
    );
    println!(
        "  (peak RSS: the highest VmHWM of {} separate runs under ptrace)\n",
        crate::RSS_RUNS
    );

    let mut report = json!({
        "rounds": runs,
        "rss_runs": crate::RSS_RUNS,
        "gh_every": GH_EVERY,
        "ratio_median": round(ratio),
        "oidc_token_over_credctl": oidc_speedup.map(round),
        "targets": {
            "ratio_to_cat": { "max": TARGET_RATIO_TO_CAT, "value": round(ratio), "met": ratio_met },
            "oidc_token_speedup": { "min": TARGET_OIDC_TOKEN_SPEEDUP, "value": oidc_speedup.map(round), "met": oidc_met },
            "peak_rss_kib": { "max": TARGET_RSS_KIB, "value": credctl_stats.max_rss_kib, "met": rss_met },
        },
        "met": ratio_met && rss_met && oidc_met.unwrap_or(true),
        "skipped": skipped,
        "locale": locale().into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "oidc_token": null,
        "gh": null,
    });
    for (c, s) in &measured {
        let mut entry = stats_json(*s);
        // As the next person would type it: no path of this machine.
        let shown = c
            .shown()
            .replace(concat!(env!("CARGO_MANIFEST_DIR"), "/"), "")
            .replace(&dir.path().display().to_string(), "$CREDCTL_HOME");
        entry["command"] = json!(shown);
        entry["runs"] = json!(c.samples.len());
        entry["ratio_to_cat"] = json!(round(s.median_ms / cat));
        if let Some(v) = &c.version {
            entry["version"] = json!(v);
        }
        report[c.key] = entry;
    }
    report
}
