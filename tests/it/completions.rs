//! Shell completion in a real bash, the names coming from config.toml and
//! the store; and the manual page.

use crate::common::*;

fn complete(env: &TestEnv, words: &[&str]) -> Vec<String> {
    let cword = words.len() - 1;
    let script = format!(
        r#"source <("$0" completions bash) && COMP_WORDS=({words}) && COMP_CWORD={cword} && COMP_TYPE=9 && _clap_complete_credctl credctl "{last}" "{prev}" && printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = words
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" "),
        last = words[cword],
        prev = words[cword - 1],
    );
    let mut cmd = env.command("bash");
    cmd.arg("-c").arg(script).arg(BIN);
    let out = cmd.output().expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_providers_and_accounts() {
    let env = TestEnv::new();
    env.config("[providers.acme]\nissuer = \"https://id.acme.example\"\nclient_id = \"cli\"\n");
    env.login_with_token("stored-only", "work", "sk-1");
    assert_eq!(complete(&env, &["credctl", "au"]), ["auth"]);
    let providers = complete(&env, &["credctl", "auth", "token", ""]);
    for name in ["acme", "github", "stored-only"] {
        assert!(
            providers.contains(&name.to_string()),
            "{name} in {providers:?}"
        );
    }
    assert_eq!(
        complete(
            &env,
            &["credctl", "auth", "token", "acme", "--account", "w"]
        ),
        ["work"]
    );
}

#[test]
fn every_shell_gets_a_script_and_man_a_page() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let a = env.run(&["completions", shell]).success();
        assert!(stdout(&a).contains("COMPLETE"), "{shell}");
    }
    let a = env.run(&["man"]).success();
    let page = stdout(&a);
    assert!(page.starts_with(".ie"), "roff");
    assert!(page.contains(".TH credctl 1"), "{page}");
    assert!(
        page.contains("CREDCTL AUTH TOKEN"),
        "every command has a section"
    );
}
