//! Refresh against the real server with refresh-token rotation and reuse
//! detection on: a refresh token presented twice revokes the whole grant, so
//! any second refresh with the same token would log the user out.

use std::process::{Output, Stdio};

use chrono::TimeDelta;

use crate::common::idp::Idp;
use crate::common::*;

const REFRESH: &str = "refresh_token";

/// Signs in, then fixes the clock one minute before the token expires:
/// inside the 5-minute margin, still valid.
fn signed_in_and_expiring(idp: &Idp) -> (TestEnv, credctl::token::Entry) {
    let mut env = TestEnv::new();
    env.config_for(idp);
    let done = browser_login(&env, idp, "default");
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let entry = env.stored("idp", "default");
    let expires_at = entry.credential.expires_at().expect("expires_in was sent");
    env.set(
        "CREDCTL_NOW",
        &(expires_at - TimeDelta::seconds(60)).to_rfc3339(),
    );
    idp.reset_stats();
    (env, entry)
}

fn spawn_all(env: &TestEnv, commands: &[Vec<&str>]) -> Vec<Output> {
    let children: Vec<_> = commands
        .iter()
        .map(|args| {
            env.command(BIN)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    // Every child has its own bound (the lock wait is 30 s, a refresh 60 s).
    children
        .into_iter()
        .map(|child| child.wait_with_output().expect("wait"))
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn after_a_refresh_the_old_refresh_token_is_rejected_and_the_stored_one_works() {
    let idp = Idp::start();
    let (env, first) = signed_in_and_expiring(&idp);
    let r1 = refresh_token(&first).expect("refresh token");

    env.run(&["auth", "refresh", "idp"]).success();
    let second = env.stored("idp", "default");
    let r2 = refresh_token(&second).expect("refresh token");
    assert_ne!(
        r1, r2,
        "the server rotated the refresh token and credctl saved the new one"
    );
    assert_eq!(second.metadata.refresh_count, 1);

    // The stored one works: credctl can refresh again.
    env.run(&["auth", "refresh", "idp"]).success();
    assert_eq!(idp.token_requests(REFRESH), 2);
    let third = env.stored("idp", "default");
    assert_eq!(idp.introspect(&access_token(&third))["active"], true);

    // The rotated-out one is dead (and presenting it ends the grant; hence last).
    let (status, body) = idp.refresh(&r1);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[test]
fn thirty_two_concurrent_auth_token_calls_make_exactly_one_refresh() {
    let idp = Idp::start();
    let (env, before) = signed_in_and_expiring(&idp);
    let old_access = access_token(&before);

    let outputs = spawn_all(&env, &vec![vec!["auth", "token", "idp"]; 32]);

    assert_eq!(
        idp.token_requests(REFRESH),
        1,
        "exactly one refresh reached the server"
    );
    assert_eq!(
        idp.discovery_requests(),
        0,
        "refresh goes to the recorded token endpoint, with no discovery"
    );
    let tokens: Vec<String> = outputs.iter().map(|o| text(&o.stdout)).collect();
    for (i, o) in outputs.iter().enumerate() {
        assert!(o.status.success(), "process {i}: {}", text(&o.stderr));
    }
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "all print the same token"
    );
    let printed = tokens[0].trim_end_matches('\n');
    assert_ne!(printed, old_access, "the refreshed token");
    assert_eq!(idp.introspect(printed)["active"], true);

    // The credential can still be refreshed afterwards.
    env.run(&["auth", "refresh", "idp"]).success();
    assert_eq!(idp.token_requests(REFRESH), 2);
}

#[test]
fn auth_refresh_and_auth_token_racing_never_reuse_a_refresh_token() {
    let idp = Idp::start();
    let (env, _) = signed_in_and_expiring(&idp);
    let mut commands = Vec::new();
    for i in 0..32 {
        commands.push(if i % 4 == 0 {
            vec!["auth", "refresh", "idp"]
        } else {
            vec!["auth", "token", "idp"]
        });
    }
    let outputs = spawn_all(&env, &commands);
    for (args, o) in commands.iter().zip(&outputs) {
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        assert!(
            !text(&o.stderr).contains("invalid_grant"),
            "{}",
            text(&o.stderr)
        );
    }
    let refreshes = idp.token_requests(REFRESH);
    assert!(
        (1..=9).contains(&refreshes),
        "{refreshes} refreshes for 8 forced + 1 needed"
    );
    // Every token handed out is alive: no refresh token was presented twice,
    // which would have revoked the whole grant.
    for (args, o) in commands.iter().zip(&outputs) {
        if args[1] == "token" {
            let token = text(&o.stdout);
            assert_eq!(idp.introspect(token.trim_end())["active"], true);
        }
    }
    env.run(&["auth", "refresh", "idp"]).success();
    let last = env.stored("idp", "default");
    assert_eq!(idp.introspect(&access_token(&last))["active"], true);
}

#[test]
fn single_flight_holds_whatever_min_valid_asks_for() {
    // Tokens live 60 s; every caller asks for 2 hours, which no refresh can
    // give. The first refreshes; the others take its token and warn.
    let idp = Idp::start_with(crate::common::idp::IdpOptions {
        access_token_ttl: 60,
        ..Default::default()
    });
    let (env, _) = signed_in_and_expiring(&idp);
    let outputs = spawn_all(
        &env,
        &vec![vec!["auth", "token", "idp", "--min-valid", "2h"]; 8],
    );
    assert_eq!(idp.token_requests(REFRESH), 1, "one refresh, not eight");
    let tokens: Vec<String> = outputs.iter().map(|o| text(&o.stdout)).collect();
    for (i, o) in outputs.iter().enumerate() {
        assert!(o.status.success(), "process {i}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("sooner than asked"),
            "process {i}: {}",
            text(&o.stderr)
        );
    }
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "all print the same token"
    );
}
