//! credctl as kubectl's exec credential plugin, end to end: the real
//! kubectl against a loopback HTTPS API stub (a test CA) that accepts a
//! bearer token only if the test authorization server says it is active.

use chrono::TimeDelta;

use crate::common::git_server::run;
use crate::common::idp::Idp;
use crate::common::kube_api::{ExecPlugin, KubeApi};
use crate::common::*;

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

fn kubectl(env: &TestEnv, kubeconfig: &std::path::Path) -> std::process::Output {
    let mut cmd = env.command("kubectl");
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", CONFIGMAPS]);
    run(cmd, "")
}

#[test]
fn kubectl_authenticates_with_the_token_credctl_gives_in_v1_and_v1beta1() {
    let idp = Idp::start();
    let api = KubeApi::start(idp.introspector());
    let mut env = TestEnv::new();
    env.config_for(&idp);
    assert_eq!(browser_login(&env, &idp, "default").code, Some(0));
    let args = ["auth", "token", "idp", "--format", "k8s"];
    for plugin in [ExecPlugin::v1(BIN, &args), ExecPlugin::v1beta1(BIN, &args)] {
        let kubeconfig = api.write_kubeconfig(env.root.path(), &plugin);
        let out = kubectl(&env, &kubeconfig);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("credctl-test"));
    }
    let token = access_token(&env.stored("idp", "default"));
    assert!(
        api.tokens().iter().all(|t| *t == token),
        "{:?}",
        api.tokens()
    );
    assert_eq!(api.unauthorized(), 0);

    // Near expiry, the plugin refreshes before kubectl gets a token.
    let expires_at = env
        .stored("idp", "default")
        .credential
        .expires_at()
        .expect("expiry");
    env.set(
        "CREDCTL_NOW",
        &(expires_at - TimeDelta::seconds(60)).to_rfc3339(),
    );
    idp.reset_stats();
    let kubeconfig = api.write_kubeconfig(env.root.path(), &ExecPlugin::v1(BIN, &args));
    let out = kubectl(&env, &kubeconfig);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(idp.token_requests("refresh_token"), 1);
    let fresh = access_token(&env.stored("idp", "default"));
    assert_ne!(fresh, token);
    assert_eq!(api.tokens().last(), Some(&fresh));
}
