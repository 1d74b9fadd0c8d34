//! A credential is bound to where it came from: the issuer, token and
//! revocation endpoints and client recorded at sign-in. Refresh and
//! revocation go only there; a config.toml that now names somewhere else
//! gets nothing, and an exit 6 that says to sign in again.

use credctl::token::Origin;

use crate::common::fake::{Fake, tokens};
use crate::common::idp::{self, Idp};
use crate::common::*;

fn origin(token_endpoint: &str, client_id: &str, issuer: Option<&str>) -> Origin {
    Origin {
        issuer: issuer.map(String::from),
        token_endpoint: token_endpoint.to_string(),
        revocation_endpoint: None,
        client_id: client_id.to_string(),
        userinfo_endpoint: None,
        introspection_endpoint: None,
        unknown: Default::default(),
    }
}

/// `acme` holding an expired token bound to `bound_to`.
fn seed_bound(env: &TestEnv, bound_to: Origin) {
    let mut token = oauth("at-old", Some("rt-old"), EXPIRED.0, Some(EXPIRED.1));
    token.origin = Some(Box::new(bound_to));
    env.seed_oauth("acme", "default", token);
}

#[test]
fn sign_in_records_where_the_credential_came_from_but_never_the_secret() {
    let idp = Idp::start();
    let env = TestEnv::new();
    env.config_for(&idp);
    assert_eq!(browser_login(&env, &idp, "default").code, Some(0));
    let file: serde_json::Value =
        serde_json::from_slice(&env.file_bytes("idp", "default")).expect("json");
    let origin = &file["credential"]["origin"];
    assert_eq!(origin["issuer"], idp.issuer(), "the issuer as configured");
    assert_eq!(origin["token_endpoint"], format!("{}/token", idp.issuer()));
    assert_eq!(
        origin["revocation_endpoint"],
        format!("{}/token/revocation", idp.issuer())
    );
    assert_eq!(origin["client_id"], idp::PUBLIC_CLIENT_ID);
    assert_eq!(
        file["version"], 1,
        "older readers keep it as an unknown field"
    );

    env.run(&["auth", "login", "machine"]).success();
    let file = String::from_utf8(env.file_bytes("machine", "default")).expect("utf8");
    assert!(file.contains(idp::CONFIDENTIAL_CLIENT_ID));
    assert!(!file.contains(idp::CONFIDENTIAL_CLIENT_SECRET), "{file}");
}

#[test]
fn a_config_naming_another_token_endpoint_gets_nothing() {
    let env = TestEnv::fixed_clock();
    let recorded = Fake::start();
    let replaced = Fake::serving(&env); // config.toml now names this one
    replaced.token_answers(tokens("at-evil", Some("rt-evil"), Some(3600)), None);
    seed_bound(&env, origin(&recorded.token_url(), "cli", None));
    let before = env.file_bytes("acme", "default");

    let a = env.run(&["auth", "token", "acme"]).code(6).stdout("");
    let err = stderr(&a);
    assert!(
        err.contains(&recorded.token_url()),
        "names the recorded one: {err}"
    );
    assert!(
        err.contains(&replaced.token_url()),
        "names the new one: {err}"
    );
    assert!(err.contains("credctl sends nothing there"), "{err}");
    assert!(err.contains("run `credctl auth login acme`"), "{err}");
    assert!(
        replaced.token_requests().is_empty(),
        "the new endpoint got nothing"
    );
    assert!(recorded.token_requests().is_empty());
    assert_eq!(env.file_bytes("acme", "default"), before);
    assert_eq!(
        env.list_json()[0]["last_error"]["category"],
        "configuration"
    );
}

#[test]
fn a_config_naming_another_client_or_issuer_gets_nothing() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::start();
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    seed_bound(&env, origin(&fake.token_url(), "cli", None));
    env.config(&format!(
        "[providers.acme]\nclient_id = \"another-client\"\ntoken_url = \"{}\"\n",
        fake.token_url()
    ));
    let a = env.run(&["auth", "token", "acme"]).code(6);
    assert!(
        stderr(&a).contains("the client cli, but") && stderr(&a).contains("another-client"),
        "{}",
        stderr(&a)
    );
    // An issuer the credential did not come from: no discovery, nothing sent.
    seed_bound(
        &env,
        origin(&fake.token_url(), "cli", Some("https://id.one.example")),
    );
    env.config("[providers.acme]\nissuer = \"https://id.two.example\"\nclient_id = \"cli\"\n");
    let a = env.run(&["auth", "token", "acme"]).code(6);
    assert!(
        stderr(&a).contains("https://id.one.example")
            && stderr(&a).contains("https://id.two.example"),
        "{}",
        stderr(&a)
    );
    assert!(fake.token_requests().is_empty());
}

#[test]
fn a_file_without_an_origin_still_refreshes_and_is_bound_by_it() {
    let env = TestEnv::fixed_clock();
    let fake = Fake::serving(&env);
    fake.token_answers(tokens("at-new", Some("rt-new"), Some(3600)), None);
    env.seed_expired("at-old", "rt-old");
    assert!(env.stored("acme", "default").credential.origin().is_none());
    env.run(&["auth", "token", "acme"])
        .success()
        .stdout("at-new\n");
    let origin = env
        .stored("acme", "default")
        .credential
        .origin()
        .cloned()
        .expect("bound by its first refresh");
    assert_eq!(origin.token_endpoint, fake.token_url());
    assert_eq!(origin.client_id, "cli");
}

#[test]
fn logout_sends_nothing_to_a_new_config_and_deletes_nothing() {
    let env = TestEnv::fixed_clock();
    let recorded = Fake::start();
    let _replaced = Fake::serving(&env);
    seed_bound(&env, origin(&recorded.token_url(), "cli", None));
    let a = env.run(&["auth", "logout", "acme"]).code(6);
    assert!(stderr(&a).contains("--local-only"), "{}", stderr(&a));
    assert!(env.file("acme", "default").exists(), "nothing deleted");
    env.run(&["auth", "logout", "acme", "--local-only"])
        .success();
    assert!(!env.file("acme", "default").exists());
}

#[test]
fn an_issuer_differing_by_a_trailing_slash_is_refused_with_the_fix() {
    let idp = Idp::start();
    let env = TestEnv::new();
    let slashed = format!("{}/", idp.issuer());
    env.config(&format!(
        "[providers.idp]\nissuer = \"{slashed}\"\nclient_id = \"{}\"\n",
        idp::PUBLIC_CLIENT_ID
    ));
    let a = env
        .run(&["auth", "login", "idp", "--flow", "device"])
        .code(6);
    let err = stderr(&a);
    assert!(err.contains(&format!("{:?}", idp.issuer())), "{err}");
    assert!(err.contains(&slashed), "{err}");
    assert!(
        err.contains(&format!("set issuer = {:?}", idp.issuer())),
        "the fix: {err}"
    );
}
