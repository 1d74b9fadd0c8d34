//! The loopback servers for the git and kubectl end-to-end tests, proved
//! with the real `git` and `kubectl` and static stand-ins for credctl (a
//! shell credential helper, a shell exec plugin). The credctl tests later
//! swap only the stand-in.
//!
//! What these tests pin down about the real programs, because credctl's
//! design relies on it:
//! - git: every git process starts without credentials, so its first
//!   request is answered 401 and only then asks the helper (`get`). After a
//!   success it calls `store`; when the server rejects the helper's password
//!   it calls `erase` with that password and fails at once, without a second
//!   `get`. The next git process calls `get` again: "erase marks the token
//!   rejected, the next get refreshes" holds across processes, never within
//!   one.
//! - kubectl: it runs the exec plugin once and caches the token for the
//!   process; after each 401 it runs the plugin again (to refresh the cache)
//!   but does not repeat the request. The plugin must answer in the
//!   `apiVersion` that `KUBERNETES_EXEC_INFO` names.
//! - The `kubectl` on some machines is the Google Cloud SDK's dispatcher: it
//!   first sends its own `GET /version?timeout=5s` (user agent
//!   `kubectl-dispatcher/…`), with the plugin's token, to pick a kubectl
//!   version. The assertions below leave that request out where counts
//!   matter, so they hold with and without the dispatcher.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::common::git_server::{GitServer, run, run_ok};
use crate::common::kube_api::{CONFIGMAP, EXEC_V1, EXEC_V1BETA1, ExecPlugin, KubeApi, KubeRequest};

const USER: &str = "x-access-token";
const GOOD: &str = "good-token";
const BAD: &str = "bad-token";

fn good_password(user: &str, password: &str) -> bool {
    user == USER && password == GOOD
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes a shell script under the environment's root. It is run as
/// `sh SCRIPT`, never executed itself, so there is no "text file busy" race
/// with other tests' forks.
fn script(env: &TestEnv, name: &str, body: &str) -> PathBuf {
    let path = env.root.path().join(name);
    std::fs::write(&path, body).expect("write a script");
    path
}

// ---------------------------------------------------------------- git --

/// A stand-in for `credctl git-credential`: logs every call (`action=…`,
/// then its stdin, then `--`) and answers `get` with `BAD` for the first
/// `bad_gets` calls and `GOOD` after.
fn credential_helper(env: &TestEnv, bad_gets: u32) -> (PathBuf, PathBuf) {
    let log = env.root.path().join("helper.log");
    let body = format!(
        r#"input=$(cat)
{{ printf 'action=%s\n' "$1"; printf '%s\n' "$input"; printf -- '--\n'; }} >> '{log}'
if [ "$1" = get ]; then
  n=$(grep -c '^action=get$' '{log}')
  if [ "$n" -le {bad_gets} ]; then pass={BAD}; else pass={GOOD}; fi
  printf 'username={USER}\npassword=%s\n' "$pass"
fi
"#,
        log = log.display(),
    );
    (script(env, "helper.sh", &body), log)
}

/// `credential.helper` for a script: a shell snippet, so git runs
/// `sh 'SCRIPT' ACTION`.
fn helper_value(script: &Path) -> String {
    format!("!sh '{}'", script.display())
}

struct Call {
    action: String,
    input: Vec<String>,
}

impl Call {
    fn has(&self, line: &str) -> bool {
        self.input.iter().any(|l| l == line)
    }
}

/// The helper's log, one entry per call.
fn helper_calls(log: &Path) -> Vec<Call> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut calls = Vec::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let action = first.strip_prefix("action=").expect("a log entry");
        let input = lines
            .by_ref()
            .take_while(|l| *l != "--")
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        calls.push(Call {
            action: action.to_string(),
            input,
        });
    }
    calls
}

fn actions(calls: &[Call]) -> Vec<&str> {
    calls.iter().map(|c| c.action.as_str()).collect()
}

fn git_in(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = env.git();
    cmd.current_dir(dir).args(args);
    run(cmd, "")
}

fn git_ok(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let mut cmd = env.git();
    cmd.current_dir(dir).args(args);
    run_ok(cmd, "")
}

/// Commits `size` bytes of incompressible data as `name` in `work`.
fn commit_file(env: &TestEnv, work: &Path, name: &str, size: usize) {
    let mut rng = fastrand::Rng::with_seed(size as u64);
    let data: Vec<u8> = std::iter::repeat_with(|| rng.u8(..)).take(size).collect();
    std::fs::write(work.join(name), data).expect("a file to commit");
    git_ok(env, work, &["add", name]);
    git_ok(env, work, &["commit", "--quiet", "-m", name]);
}

#[test]
fn git_clones_and_pushes_through_a_credential_helper() {
    let server = GitServer::start(good_password);
    let first = server.create_repo("demo");
    let env = TestEnv::new();
    let (helper, log) = credential_helper(&env, 0);
    env.git_config("credential.helper", &helper_value(&helper));
    let root = env.root.path();

    git_ok(
        &env,
        root,
        &["clone", "--quiet", &server.repo_url("demo"), "work"],
    );
    let work = root.join("work");
    assert_eq!(git_ok(&env, &work, &["rev-parse", "HEAD"]), first);
    commit_file(&env, &work, "change.bin", 100);
    git_ok(&env, &work, &["push", "--quiet", "origin", "main"]);

    let pushed = git_ok(&env, &work, &["rev-parse", "HEAD"]);
    assert_ne!(pushed, first);
    assert_eq!(server.head("demo", "main"), Some(pushed));

    // Each process (clone, push) opens with one request without
    // credentials; everything after it carries the helper's.
    let requests = server.requests();
    assert_eq!(server.unauthorized(), 2, "{requests:#?}");
    for r in &requests {
        if r.user.is_none() {
            assert_eq!((r.method.as_str(), r.status), ("GET", 401), "{r:?}");
            assert!(r.path.ends_with("/info/refs"), "{r:?}");
        } else {
            assert_eq!(r.user.as_deref(), Some(USER), "{r:?}");
            assert!(r.authorized && r.status == 200, "{r:?}");
        }
    }
    assert!(
        requests
            .iter()
            .any(|r| r.method == "POST" && r.path == "/demo.git/git-receive-pack" && r.authorized),
        "{requests:#?}"
    );

    let calls = helper_calls(&log);
    assert_eq!(actions(&calls), ["get", "store", "get", "store"]);
    let host = format!("host={}", server.host());
    for get in calls.iter().filter(|c| c.action == "get") {
        for line in [
            "protocol=http",
            host.as_str(),
            "wwwauth[]=Basic realm=\"test\"",
            "capability[]=authtype",
        ] {
            assert!(get.has(line), "{line} in {:?}", get.input);
        }
        assert!(!get.input.iter().any(|l| l.starts_with("path=")));
    }
    for store in calls.iter().filter(|c| c.action == "store") {
        assert!(store.has(&format!("username={USER}")), "{:?}", store.input);
        assert!(store.has(&format!("password={GOOD}")), "{:?}", store.input);
    }
}

#[test]
fn git_erases_a_rejected_password_and_asks_again_only_in_the_next_process() {
    let server = GitServer::start(good_password);
    server.create_repo("demo");
    let env = TestEnv::new();
    let (helper, log) = credential_helper(&env, 1);
    env.git_config("credential.helper", &helper_value(&helper));
    let root = env.root.path();

    let failed = git_in(&env, root, &["clone", &server.repo_url("demo"), "first"]);
    assert!(!failed.status.success());
    let stderr = text(&failed.stderr);
    assert!(stderr.contains("Authentication failed"), "{stderr}");

    // One get, then erase of exactly that password, then git gives up:
    // no second get within the process.
    let calls = helper_calls(&log);
    assert_eq!(actions(&calls), ["get", "erase"]);
    let erase = &calls[1];
    for line in [
        "protocol=http".to_string(),
        format!("host={}", server.host()),
        format!("username={USER}"),
        format!("password={BAD}"),
    ] {
        assert!(erase.has(&line), "{line} in {:?}", erase.input);
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(requests[0].user, None);
    assert_eq!(requests[1].user.as_deref(), Some(USER));
    assert!(requests.iter().all(|r| r.status == 401 && !r.authorized));

    // The next process asks again, gets the good password, and stores it.
    git_ok(
        &env,
        root,
        &["clone", "--quiet", &server.repo_url("demo"), "second"],
    );
    let calls = helper_calls(&log);
    assert_eq!(actions(&calls), ["get", "erase", "get", "store"]);
    assert!(calls[3].has(&format!("password={GOOD}")));
    assert_eq!(server.unauthorized(), 3);
}

#[test]
fn git_uses_a_per_url_helper_for_its_url_only() {
    let server = GitServer::start(good_password);
    server.create_repo("demo");
    let env = TestEnv::new();
    let (helper, log) = credential_helper(&env, 0);
    let root = env.root.path();

    // A helper for another origin (port 1) is not asked: with prompts off,
    // git fails for want of a user name.
    env.git_config(
        "credential.http://127.0.0.1:1.helper",
        &helper_value(&helper),
    );
    let failed = git_in(&env, root, &["clone", &server.repo_url("demo"), "other"]);
    assert!(!failed.status.success());
    let stderr = text(&failed.stderr);
    assert!(stderr.contains("terminal prompts disabled"), "{stderr}");
    assert!(helper_calls(&log).is_empty());

    // The same helper keyed to the server's URL (scheme, host and port).
    env.git_config(
        &format!("credential.{}.helper", server.url()),
        &helper_value(&helper),
    );
    git_ok(
        &env,
        root,
        &["clone", "--quiet", &server.repo_url("demo"), "work"],
    );
    assert_eq!(actions(&helper_calls(&log)), ["get", "store"]);
}

#[test]
fn git_pushes_a_large_pack_as_a_chunked_body() {
    let server = GitServer::start(good_password);
    server.create_repo("demo");
    let env = TestEnv::new();
    let (helper, _log) = credential_helper(&env, 0);
    env.git_config("credential.helper", &helper_value(&helper));
    let root = env.root.path();

    git_ok(
        &env,
        root,
        &["clone", "--quiet", &server.repo_url("demo"), "work"],
    );
    let work = root.join("work");
    // Larger than git's default http.postBuffer (1 MiB).
    commit_file(&env, &work, "large.bin", 3 << 20);
    git_ok(&env, &work, &["push", "--quiet", "origin", "main"]);

    let pushed = git_ok(&env, &work, &["rev-parse", "HEAD"]);
    assert_eq!(server.head("demo", "main"), Some(pushed));
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/demo.git/git-receive-pack" && r.chunked && r.status == 200),
        "{requests:#?}"
    );
}

// ------------------------------------------------------------ kubectl --

/// A stand-in for `credctl auth token P --format k8s`: logs each run (a
/// line `info=$KUBERNETES_EXEC_INFO`, a line `env=` with the names of its
/// environment) and prints an ExecCredential holding `token`, in the
/// apiVersion the exec info asks for (`answer_version` overrides it).
fn exec_plugin(env: &TestEnv, token: &str, answer_version: Option<&str>) -> (PathBuf, PathBuf) {
    let log = env.root.path().join("plugin.log");
    let version = match answer_version {
        Some(v) => v.to_string(),
        None => r#"$(printf '%s' "$KUBERNETES_EXEC_INFO" | sed -n 's/.*"apiVersion":"\([^"]*\)".*/\1/p')"#
            .to_string(),
    };
    let body = format!(
        r#"{{ printf 'info=%s\n' "$KUBERNETES_EXEC_INFO"; printf 'env='; env | cut -d= -f1 | sort | tr '\n' ' '; echo; }} >> '{log}'
printf '{{"apiVersion":"%s","kind":"ExecCredential","status":{{"token":"{token}"}}}}\n' "{version}"
"#,
        log = log.display(),
    );
    (script(env, "plugin.sh", &body), log)
}

/// One entry per plugin run: its `KUBERNETES_EXEC_INFO` (parsed) and the
/// names in its environment. (kubectl ends the variable with a newline,
/// hence the empty lines in the log.)
fn plugin_runs(log: &Path) -> Vec<(Value, Vec<String>)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut runs = Vec::new();
    for line in text.lines() {
        if let Some(info) = line.strip_prefix("info=") {
            let info = serde_json::from_str(info).expect("KUBERNETES_EXEC_INFO is JSON");
            runs.push((info, Vec::new()));
        } else if let Some(names) = line.strip_prefix("env=") {
            let (_, env) = runs.last_mut().expect("env after info");
            env.extend(names.split_whitespace().map(str::to_string));
        }
    }
    runs
}

fn kubectl(env: &TestEnv, kubeconfig: &Path, args: &[&str]) -> Output {
    let mut cmd: Command = env.command("kubectl");
    cmd.env("KUBECONFIG", kubeconfig)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--request-timeout=20s")
        .args(args);
    run(cmd, "")
}

/// The requests kubectl itself sent, without the Cloud SDK dispatcher's
/// version probe.
fn kubectl_requests(api: &KubeApi) -> Vec<KubeRequest> {
    api.requests()
        .into_iter()
        .filter(|r| {
            !r.user_agent
                .as_deref()
                .is_some_and(|ua| ua.starts_with("kubectl-dispatcher"))
        })
        .collect()
}

fn paths(requests: &[KubeRequest]) -> Vec<&str> {
    requests.iter().map(|r| r.path.as_str()).collect()
}

/// The stub, a plugin giving `token`, and a kubeconfig running it.
fn kube_setup(
    token: &str,
    exec: fn(&str, &[&str]) -> ExecPlugin,
) -> (KubeApi, TestEnv, PathBuf, PathBuf) {
    let api = KubeApi::start(|token| token == "good");
    let env = TestEnv::new();
    let (plugin, log) = exec_plugin(&env, token, None);
    let plugin = plugin.display().to_string();
    let kubeconfig = api.write_kubeconfig(
        env.root.path(),
        &exec("sh", &[&plugin]).env("FROM_KUBECONFIG", "yes"),
    );
    (api, env, kubeconfig, log)
}

#[test]
fn kubectl_sends_the_plugins_token_over_tls() {
    let (api, env, kubeconfig, log) = kube_setup("good", ExecPlugin::v1);
    let path = "/api/v1/namespaces/default/configmaps";
    let out = kubectl(&env, &kubeconfig, &["get", "--raw", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).expect("a ConfigMapList");
    assert_eq!(list["items"][0]["metadata"]["name"], CONFIGMAP);

    assert!(
        api.tokens().iter().all(|t| t == "good"),
        "{:?}",
        api.tokens()
    );
    let requests = kubectl_requests(&api);
    assert_eq!(paths(&requests), [path]);
    assert!(requests[0].authorized);
    // One run serves the whole process.
    assert_eq!(plugin_runs(&log).len(), 1);
    assert!(api.errors().is_empty(), "{:?}", api.errors());
}

#[test]
fn kubectl_fails_on_a_rejected_token_and_reruns_the_plugin_after_each_401() {
    let (api, env, kubeconfig, log) = kube_setup("bad", ExecPlugin::v1);
    let out = kubectl(
        &env,
        &kubeconfig,
        &["get", "--raw", "/api/v1/namespaces/default/configmaps"],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("You must be logged in to the server"),
        "{stderr}"
    );

    assert!(
        api.tokens().iter().all(|t| t == "bad"),
        "{:?}",
        api.tokens()
    );
    // kubectl does not repeat the request...
    assert_eq!(kubectl_requests(&api).len(), 1);
    // ...but runs the plugin again after every 401 (including the
    // dispatcher's, where there is one), to have a fresh token cached.
    assert_eq!(plugin_runs(&log).len(), 1 + api.unauthorized());
}

#[test]
fn kubectl_discovers_the_api_before_a_get() {
    let (api, env, kubeconfig, log) = kube_setup("good", ExecPlugin::v1);
    let out = kubectl(&env, &kubeconfig, &["get", "configmaps", "-o", "name"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("configmap/{CONFIGMAP}"));
    assert_eq!(
        paths(&kubectl_requests(&api)),
        [
            "/api",
            "/apis",
            "/api/v1",
            "/api/v1/namespaces/default/configmaps"
        ]
    );
    assert_eq!(plugin_runs(&log).len(), 1);
}

#[test]
fn kubectl_describes_the_request_in_kubernetes_exec_info() {
    for (exec, version) in [
        (ExecPlugin::v1 as fn(&str, &[&str]) -> ExecPlugin, EXEC_V1),
        (ExecPlugin::v1beta1, EXEC_V1BETA1),
    ] {
        let (_api, env, kubeconfig, log) = kube_setup("good", exec);
        let out = kubectl(&env, &kubeconfig, &["get", "--raw", "/version"]);
        assert!(out.status.success(), "{version}: {}", text(&out.stderr));
        let runs = plugin_runs(&log);
        assert_eq!(runs.len(), 1, "{version}");
        let (info, names) = &runs[0];
        // With provideClusterInfo false there is no spec.cluster; stdin is
        // not a terminal, so interactive is false.
        assert_eq!(
            *info,
            json!({
                "kind": "ExecCredential",
                "apiVersion": version,
                "spec": { "interactive": false },
            })
        );
        // kubectl's own environment, the kubeconfig's env, and the info.
        for name in ["FROM_KUBECONFIG", "KUBERNETES_EXEC_INFO", "HOME", "PATH"] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
    }
}

#[test]
fn kubectl_refuses_an_answer_in_another_api_version() {
    let api = KubeApi::start(|token| token == "good");
    let env = TestEnv::new();
    let (plugin, log) = exec_plugin(&env, "good", Some(EXEC_V1));
    let plugin = plugin.display().to_string();
    let kubeconfig = api.write_kubeconfig(env.root.path(), &ExecPlugin::v1beta1("sh", &[&plugin]));
    let out = kubectl(&env, &kubeconfig, &["get", "--raw", "/version"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("plugin returned version {EXEC_V1}")),
        "{stderr}"
    );
    // Nothing reached the server: the token was never used.
    assert!(api.requests().is_empty(), "{:?}", api.requests());
    assert!(!plugin_runs(&log).is_empty());
}
