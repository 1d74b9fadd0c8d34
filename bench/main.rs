//! The credctl benchmark: `cargo bench`. Prints a table and writes JSON.
//!
//! It measures, on the release binary (bench/run builds it as `cargo
//! install` does), with the targets of issue 13:
//! - the fast path (fast.rs): `credctl auth token P` with a valid stored
//!   token, interleaved with `cat` of the same file (the floor for starting a
//!   process that reads a file) and, when bench/peers.sh has set them up,
//!   `oidc-token` and `gh auth token`: median, p95, peak RSS, ratio to cat
//!   (targets: ≤ 1.10× cat, ≥ 1.25× faster than oidc-token, ≤ 3 MiB);
//! - `credctl auth list` with 10, 100 and 1,000 credentials (list.rs;
//!   targets: ≤ 10 ms at 1,000, growing linearly);
//! - a stampede (stampede.rs): 64 concurrent `auth token` on a credential
//!   inside its margin, from an issuer-configured provider, against a token
//!   endpoint that takes 100 ms: the requests of each kind (target: exactly
//!   one, the token POST), and p99 latency (target: ≤ one token round trip
//!   + 50 ms).
//!
//! Wall time is measured around spawn and wait, so the harness's own cost is
//! in every command's figure; the ratios compare like with like. Peak RSS is
//! the program's own (its VmHWM at exit, see rss.rs), from separate runs
//! under ptrace, never from the timed ones.
//!
//! Environment: CREDCTL_BENCH_RUNS (default 300), CREDCTL_BENCH_OUT (JSON
//! path, default target/credctl-bench.json), CREDCTL_BENCH_BIN (the binary;
//! default: the one cargo built for this harness), and from bench/peers.sh
//! CREDCTL_BENCH_OIDC_TOKEN_CMD and CREDCTL_BENCH_GH_TOKEN_CMD.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]
// The harness arranges files and reads its settings itself.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use credctl::name::CredentialId;
use credctl::secret::Secret;
use credctl::store::TokenStore;
use credctl::token::{Credential, Entry, OAuthToken};
use serde_json::{Value, json};

mod fast;
mod list;
mod rss;
mod stampede;

/// The binary under test: `$CREDCTL_BENCH_BIN` (bench/run sets it to the
/// shipped build), else the one cargo built for this harness.
fn bin() -> String {
    std::env::var("CREDCTL_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_credctl").to_string())
}

fn main() {
    let runs: usize = std::env::var("CREDCTL_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let out = std::env::var("CREDCTL_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/credctl-bench.json")
        });
    let machine = machine();
    let bin = bin();
    let binary_kib = fs::metadata(&bin).map(|m| m.len() / 1024).unwrap_or(0);
    let linked = linkage(Path::new(&bin));
    println!("credctl benchmark, {runs} runs per figure");
    println!(
        "machine: {}, {} CPUs, Linux {}, load average {}",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cpus"],
        machine["kernel"].as_str().unwrap_or("?"),
        machine["load_average"].as_str().unwrap_or("?"),
    );
    println!("binary:  {bin}, {binary_kib} KiB, {linked}\n");

    let fast = fast::run(runs);
    let list = list::run(runs);
    let stampede = stampede::run(5);

    let report = json!({
        "date": Utc::now().to_rfc3339(),
        "machine": machine,
        "binary": bin.strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/")).unwrap_or(&bin),
        "binary_kib": binary_kib,
        "binary_linkage": linked,
        "runs": runs,
        "fast_path": fast,
        "list": list,
        "stampede": stampede,
    });
    if let Some(dir) = out.parent() {
        let _ = fs::create_dir_all(dir);
    }
    fs::write(&out, serde_json::to_vec_pretty(&report).unwrap()).unwrap();
    println!("\nJSON: {}", out.display());
}

/// Wall time of one run of a child, its output discarded. std spawns it
/// with posix_spawn (vfork), the same way for every command measured.
fn time(cmd: &mut Command) -> Duration {
    let started = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let wall = started.elapsed();
    assert!(status.success(), "{cmd:?} failed: {status}");
    wall
}

/// Runs for peak RSS, apart from the timed ones: tracing slows them down.
const RSS_RUNS: usize = 20;

/// The highest peak RSS (KiB) of `RSS_RUNS` runs.
fn peak_rss(mut cmd: impl FnMut() -> Command) -> u64 {
    (0..RSS_RUNS)
        .map(|_| rss::peak_kib(&mut cmd()))
        .max()
        .unwrap_or(0)
}

#[derive(Clone, Copy)]
struct Stats {
    median_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_rss_kib: u64,
}

fn stats(samples: &[Duration], max_rss_kib: u64) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|s| s.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        median_ms: pick(0.5),
        p95_ms: pick(0.95),
        p99_ms: pick(0.99),
        max_rss_kib,
    }
}

fn stats_json(s: Stats) -> Value {
    json!({ "median_ms": round(s.median_ms), "p95_ms": round(s.p95_ms), "p99_ms": round(s.p99_ms), "peak_rss_kib": s.max_rss_kib })
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The real clock: the release binary honours no test clock.
fn now() -> DateTime<Utc> {
    Utc::now()
}

fn token(access: &str, obtained: DateTime<Utc>, lifetime: TimeDelta) -> Credential {
    Credential::OAuth(OAuthToken {
        access_token: Secret::new(access.to_string()),
        refresh_token: Some(Secret::new(format!("rt-{access}"))),
        token_type: "Bearer".into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        id_token: None,
        expires_at: Some(obtained + lifetime),
        obtained_at: obtained,
        flow: None,
        origin: None,
        rejected_at: None,
        unknown: Default::default(),
    })
}

fn seed(store: &TokenStore, provider: &str, account: &str, credential: Credential) -> PathBuf {
    let id = CredentialId::new(provider.parse().unwrap(), account.parse().unwrap());
    let guard = store.lock(&id, &mut || {}).unwrap();
    store
        .save(&guard, &Entry::login(id.clone(), credential, None, now()))
        .unwrap();
    store.path_of(&id)
}

fn credctl(home: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_clear().env("CREDCTL_HOME", home).env("HOME", home);
    cmd
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// A program named on its own, found in PATH; a path is taken as it is.
fn which(name: &str) -> PathBuf {
    if name.contains('/') {
        return PathBuf::from(name);
    }
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(format!("/bin/{name}")))
}

fn machine() -> Value {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    // The first three fields: 1, 5 and 15 minutes. Another build on the
    // machine shows here, and in every figure.
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    json!({
        "cpu": cpu,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "kernel": kernel.trim(),
        "load_average": load.join(" "),
    })
}

/// How an ELF binary is linked: `dynamic` when it names a program
/// interpreter (a PT_INTERP header), else `static-pie` or `static`.
fn linkage(path: &Path) -> &'static str {
    const PT_INTERP: u32 = 3;
    let Ok(elf) = fs::read(path) else {
        return "unreadable";
    };
    // 64-bit little-endian ELF only: the machines this bench runs on.
    if elf.len() < 64 || !elf.starts_with(b"\x7fELF") || elf[4] != 2 || elf[5] != 1 {
        return "not a 64-bit little-endian ELF file";
    }
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    let interp = (0..phnum).any(|i| {
        let at = phoff + i * phentsize;
        elf.get(at..at + 4)
            .is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) == PT_INTERP)
    });
    match (interp, u16_at(16)) {
        (true, _) => "dynamic",
        (false, 3) => "static-pie",
        (false, _) => "static",
    }
}
