//! What a person sees, as one text: the exit code, stdout and stderr,
//! normalised so that a snapshot holds only what is stable — the temporary
//! root, ports, RFC 3339 times, countdowns (with a real clock) and tokens
//! are replaced by placeholders.

use std::process::Output;

use super::TestEnv;

/// Exit code, stdout and stderr of a finished command.
pub fn transcript(output: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output
            .status
            .code()
            .map_or_else(|| "killed by a signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

/// The normaliser for snapshots of commands run in `env`.
pub struct Normalize {
    settings: insta::Settings,
}

impl Normalize {
    /// Paths under the test's root, loopback ports and RFC 3339 times.
    pub fn new(env: &TestEnv) -> Normalize {
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        // Beside the tests, not beside this helper.
        settings.set_snapshot_path("../snapshots");
        let root = env.root.path().display().to_string();
        settings.add_filter(&regex_escape(&root), "[ROOT]");
        settings.add_filter(r"(127\.0\.0\.1|localhost|\[::1\]):\d{2,5}", "$1:[PORT]");
        settings.add_filter(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[TIME]",
        );
        Normalize { settings }
    }

    /// Countdowns such as `59m 12s`, for commands that run on the real clock.
    pub fn durations(mut self) -> Normalize {
        self.settings
            .add_filter(r"\b\d+[dhms]( \d+[dhms])?\b", "[DURATION]");
        self
    }

    /// Replaces each of these literal strings with `[TOKEN]`.
    pub fn secrets(mut self, secrets: &[&str]) -> Normalize {
        for secret in secrets {
            self.settings.add_filter(&regex_escape(secret), "[TOKEN]");
        }
        self
    }

    /// Replaces matches of a regular expression.
    pub fn pattern(mut self, regex: &str, with: &str) -> Normalize {
        self.settings.add_filter(regex, with);
        self
    }

    /// Asserts the snapshot `name` of `output`'s transcript.
    pub fn assert(&self, name: &str, output: &Output) {
        let text = transcript(output);
        self.settings
            .bind(|| insta::assert_snapshot!(name.to_string(), text));
    }
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
