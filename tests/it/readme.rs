//! The README's worked example, run as written: its commands are read out
//! of README.md and run in bash, with a temporary `HOME` (so `~/.app` is
//! the temporary `CREDCTL_HOME`) and the built credctl first on `PATH`. The
//! device sign-in is approved on the test server's pages, as the person
//! reading the README would in a browser.

use std::path::PathBuf;

use crate::common::idp::Idp;
use crate::common::*;

/// The commands of the console block under "Worked example", with the
/// heredoc bodies they carry; `npm ci` is left out (the test command has
/// just run it, and running it again would pull node_modules from under
/// the tests that use it).
fn worked_example() -> String {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    let section = readme
        .split("### Worked example: a provider by issuer")
        .nth(1)
        .expect("the worked example");
    let block = section
        .split("```console\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("its console block");
    let mut script = String::new();
    let mut heredoc: Option<String> = None;
    for line in block.lines() {
        if let Some(end) = &heredoc {
            script.push_str(line);
            script.push('\n');
            if line == end {
                heredoc = None;
            }
        } else if let Some(command) = line.strip_prefix("$ ") {
            if command.starts_with("npm ci") {
                continue;
            }
            if let Some((_, end)) = command.split_once("<<'") {
                heredoc = Some(end.trim_end_matches('\'').to_string());
            }
            script.push_str(command);
            script.push('\n');
        }
    }
    script
}

#[test]
fn the_worked_example_runs_as_written() {
    let script = worked_example();
    assert!(
        script.contains("credctl auth login local --flow device"),
        "{script}"
    );
    let mut env = TestEnv::new();
    let home = env.root.path().join("home");
    env.set("CREDCTL_HOME", &home.join(".app").display().to_string());
    let bin_dir = PathBuf::from(BIN).parent().expect("bin dir").to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.set("PATH", &path);
    let mut cmd = env.command("bash");
    // Stop the example's server however the script ends.
    cmd.arg("-c")
        .arg(format!(
            "trap 'kill $(jobs -p) 2>/dev/null' EXIT\nset -e\n{script}"
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    let mut running = env.spawn_command(cmd, None);
    let code = running.line("the user code", |l| {
        l.len() == 9
            && l.as_bytes()[4] == b'-'
            && l.chars().all(|c| c == '-' || c.is_ascii_uppercase())
    });
    Idp::attach("http://127.0.0.1:41235").device_approve(code.trim(), "you");
    let done = running.finish(LOGIN_WAIT);
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    for seen in [
        "Logged in to local as you@example.test (account default)",
        "Revoked the tokens of local (account default) at the provider.",
        "Logged out of local (account default): removed",
    ] {
        assert!(done.stderr.contains(seen), "{seen}:\n{}", done.stderr);
    }
    assert!(
        done.stdout.contains("local     default  oauth  valid"),
        "{}",
        done.stdout
    );
    assert!(!home.join(".app/oauth/local@default.json").exists());
}
