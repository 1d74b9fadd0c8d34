//! The stampede: 64 concurrent `credctl auth token` on one credential inside
//! its margin, from an issuer-configured provider, against a fake
//! authorization server whose token endpoint answers in 100 ms.
//!
//! What must hold: the credential carries the origin that credctl records
//! at sign-in (the issuer as configured, the endpoints discovery gave, the
//! client), so that its refresh is bound to that origin and needs no
//! discovery. The server still serves discovery, so that a credctl that did
//! discover would work, and its requests would be counted: the target is
//! exactly one request per round, the token POST. Latency is each process's
//! own, from just before its spawn to its exit, seen by a thread of its own.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use credctl::secret::Secret;
use credctl::store::TokenStore;
use credctl::token::{Credential, OAuthToken, Origin};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{credctl, now, round, seed, stats, verdict};

const PROCESSES: usize = 64;
const CLIENT_ID: &str = "bench-cli";
/// How long the token endpoint takes to answer.
const ENDPOINT_DELAY: Duration = Duration::from_millis(100);
/// Single refreshes timed for the round trip.
const ROUND_TRIPS: usize = 5;
/// p99 is at most one round trip plus this.
const TARGET_P99_SLACK_MS: f64 = 50.0;

/// A fake authorization server: discovery, and a slow token endpoint that
/// always answers with `access_token`.
async fn server(access_token: &str) -> MockServer {
    let server = MockServer::start().await;
    let issuer = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "device_authorization_endpoint": format!("{issuer}/device/auth"),
            "revocation_endpoint": format!("{issuer}/token/revocation"),
            "userinfo_endpoint": format!("{issuer}/me"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "access_token": access_token,
                    "refresh_token": format!("rt-{access_token}"),
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }))
                .set_delay(ENDPOINT_DELAY),
        )
        .mount(&server)
        .await;
    server
}

/// What credctl records when it signs in to this provider: the issuer as
/// configured, the endpoints from discovery (as `Url` prints them), the client.
fn origin(issuer: &str) -> Origin {
    Origin {
        issuer: Some(issuer.to_string()),
        token_endpoint: format!("{issuer}/token"),
        revocation_endpoint: Some(format!("{issuer}/token/revocation")),
        client_id: CLIENT_ID.to_string(),
        userinfo_endpoint: Some(format!("{issuer}/me")),
        introspection_endpoint: None,
        unknown: Default::default(),
    }
}

/// A home whose provider `bench` is configured by issuer alone, holding a
/// credential from that issuer with 2 minutes left of an hour: inside the
/// 5-minute margin.
fn home(issuer: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[providers.bench]\nissuer = \"{issuer}\"\nclient_id = \"{CLIENT_ID}\"\nscopes = [\"openid\", \"offline_access\"]\n"
        ),
    )
    .unwrap();
    let obtained = now() - TimeDelta::minutes(58);
    let credential = Credential::OAuth(OAuthToken {
        access_token: Secret::new("at-old".to_string()),
        refresh_token: Some(Secret::new("rt-old".to_string())),
        token_type: "Bearer".into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        id_token: None,
        expires_at: Some(obtained + TimeDelta::hours(1)),
        obtained_at: obtained,
        flow: None,
        origin: Some(Box::new(origin(issuer))),
        rejected_at: None,
        unknown: Default::default(),
    });
    let store = TokenStore::new(dir.path().join("oauth"));
    seed(&store, "bench", "default", credential);
    dir
}

/// The requests a server received, by kind.
#[derive(Default, Clone, Copy)]
struct Requests {
    discovery: usize,
    token: usize,
    other: usize,
}

impl Requests {
    fn json(self) -> Value {
        json!({ "discovery": self.discovery, "token": self.token, "other": self.other })
    }
}

async fn requests(server: &MockServer) -> Requests {
    let mut counted = Requests::default();
    for request in server.received_requests().await.unwrap_or_default() {
        let path = request.url.path();
        match request.method.as_str() {
            "GET" if path.starts_with("/.well-known/") => counted.discovery += 1,
            "POST" if path == "/token" => counted.token += 1,
            _ => counted.other += 1,
        }
    }
    counted
}

fn auth_token(home: &std::path::Path) -> Command {
    let mut cmd = credctl(home);
    cmd.args(["auth", "token", "bench"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The process printed `expected` and succeeded.
fn check(out: &Output, expected: &str) {
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim_end() == expected,
        "auth token {}, printed {:?} instead of {expected}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

pub fn run(rounds: usize) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // One token round trip as a caller sees it: a single auth token that
    // refreshes, on a fresh credential each time.
    let single = runtime.block_on(server("at-single"));
    let mut round_trips = Vec::new();
    for _ in 0..ROUND_TRIPS {
        let dir = home(&single.uri());
        let started = Instant::now();
        let out = auth_token(dir.path()).output().unwrap();
        round_trips.push(started.elapsed());
        check(&out, "at-single");
    }
    let round_trip_requests = runtime.block_on(requests(&single));
    let round_trip_ms = stats(&round_trips, 0).median_ms;

    let mut latencies = Vec::new();
    let mut per_round = Vec::new();
    for round in 0..rounds {
        let access_token = format!("at-new-{round}");
        let server = runtime.block_on(server(&access_token));
        let dir = home(&server.uri());
        let finished: Vec<(Duration, Output)> = std::thread::scope(|scope| {
            let waiters: Vec<_> = (0..PROCESSES)
                .map(|_| {
                    let started = Instant::now();
                    let child = auth_token(dir.path()).spawn().unwrap();
                    scope.spawn(move || {
                        let out = child.wait_with_output().unwrap();
                        (started.elapsed(), out)
                    })
                })
                .collect();
            waiters.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for (latency, out) in finished {
            check(&out, &access_token);
            latencies.push(latency);
        }
        per_round.push(runtime.block_on(requests(&server)));
    }

    let s = stats(&latencies, 0);
    let exactly_one = per_round
        .iter()
        .all(|r| r.token == 1 && r.discovery == 0 && r.other == 0);
    let p99_limit = round_trip_ms + TARGET_P99_SLACK_MS;
    let p99_met = s.p99_ms <= p99_limit;
    println!(
        "stampede: {PROCESSES} concurrent auth token on a credential inside its margin, from an issuer-configured provider (origin recorded); the token endpoint answers in {} ms; {rounds} rounds",
        ENDPOINT_DELAY.as_millis()
    );
    let row = |label: &str, f: fn(&Requests) -> usize| {
        let counts: String = per_round.iter().map(|r| format!("{:>4}", f(r))).collect();
        println!("  {label:<22}{counts}");
    };
    let rounds_header: String = (1..=rounds).map(|r| format!("{r:>4}")).collect();
    println!("  {:<22}{rounds_header}", "requests in round");
    row("  discovery GET", |r| r.discovery);
    row("  token POST", |r| r.token);
    row("  other", |r| r.other);
    println!(
        "  exactly 1 request per round, the token POST: {}",
        verdict(exactly_one)
    );
    println!(
        "  one token round trip (a single auth token that refreshes, median of {ROUND_TRIPS}): {round_trip_ms:.1} ms ({} discovery, {} token, {} other requests in all)",
        round_trip_requests.discovery, round_trip_requests.token, round_trip_requests.other
    );
    println!(
        "  latency, spawn to exit: p50 {:.1} ms, p99 {:.1} ms; p99 ≤ round trip + {TARGET_P99_SLACK_MS:.0} ms ({p99_limit:.1} ms): {}",
        s.median_ms,
        s.p99_ms,
        verdict(p99_met)
    );
    json!({
        "processes": PROCESSES,
        "rounds": rounds,
        "endpoint_delay_ms": ENDPOINT_DELAY.as_millis() as u64,
        "provider": "issuer-configured, credential with a recorded origin",
        "requests_per_round": per_round.iter().map(|r| r.json()).collect::<Vec<_>>(),
        "refresh_requests_per_round": per_round.iter().map(|r| r.token).collect::<Vec<_>>(),
        "round_trip_ms": round(round_trip_ms),
        "round_trip_runs": ROUND_TRIPS,
        "round_trip_requests": round_trip_requests.json(),
        "p50_ms": round(s.median_ms),
        "p99_ms": round(s.p99_ms),
        "targets": {
            "exactly_one_token_post": { "met": exactly_one },
            "p99_ms": { "max": round(p99_limit), "value": round(s.p99_ms), "met": p99_met },
        },
        "met": exactly_one && p99_met,
    })
}
