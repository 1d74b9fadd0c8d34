//! A command run in a pseudo-terminal, with keys typed at it
//! (`tests/pty/drive.py`, Python's `pty` module): for what credctl does only
//! on a terminal — prompts, spinners, colour, Ctrl-C.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::TestEnv;

/// Ctrl-C, as a terminal sends it.
pub const CTRL_C: &str = "\u{3}";

pub struct PtyRun {
    pub exit: Option<i32>,
    pub signal: Option<i32>,
    /// Everything the terminal showed.
    pub output: String,
    /// The expectation that never came, if one did not.
    pub missed: Option<String>,
}

impl PtyRun {
    /// The output without terminal escape sequences (colours, cursor moves).
    pub fn plain(&self) -> String {
        let mut out = String::new();
        let mut chars = self.output.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\u{1b}' {
                out.push(c);
                continue;
            }
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        }
        out
    }
}

impl TestEnv {
    /// `sh -c script` in a terminal, `$0` the credctl binary; each step
    /// waits for its text, then types its keys.
    pub fn pty(&self, script: &str, steps: &[(&str, &str)]) -> PtyRun {
        let driver = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pty/drive.py");
        let mut vars = serde_json::Map::new();
        let probe = self.command("true");
        for (key, value) in probe.get_envs() {
            if let (Some(value), Some(key)) = (value, key.to_str()) {
                vars.insert(
                    key.into(),
                    Value::from(value.to_string_lossy().into_owned()),
                );
            }
        }
        vars.insert("TERM".into(), Value::from("xterm-256color"));
        let spec = json!({
            "argv": ["/bin/sh", "-c", script, super::BIN],
            "env": vars,
            "steps": steps.iter().map(|(expect, send)| json!({"expect": expect, "send": send})).collect::<Vec<_>>(),
            "timeout": 30,
        });
        let spec_path = self
            .root
            .path()
            .join(format!("pty-{}.json", fastrand::u64(..)));
        std::fs::write(&spec_path, spec.to_string()).expect("spec");
        let out = std::process::Command::new("python3")
            .arg(driver)
            .arg(&spec_path)
            .output()
            .expect("python3 runs the pty driver");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: Value = serde_json::from_slice(&out.stdout).expect("driver JSON");
        PtyRun {
            exit: result["exit"].as_i64().map(|c| c as i32),
            signal: result["signal"].as_i64().map(|c| c as i32),
            output: result["output"].as_str().unwrap_or_default().to_string(),
            missed: result["missed"].as_str().map(String::from),
        }
    }
}
