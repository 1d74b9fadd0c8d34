//! The only module that prints.
//!
//! stdout carries data a script reads (a token, a table, JSON); everything for
//! a person — notes, warnings, errors, progress — goes to stderr, so that
//! `TOKEN=$(credctl auth token github)` works while messages reach the
//! terminal. A closed stdout pipe (`credctl auth list | head -1`) is not an error.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde::Serialize;
use url::Url;

use crate::error::Error;
use crate::flow::Interaction;
use crate::manager::Progress;
use crate::name::CredentialId;
use crate::secret::Secret;

/// Writes data to stdout. A reader that went away (EPIPE) is fine.
fn stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Output(e)),
    }
}

/// The token and a newline, in one write, and nothing else.
pub fn token(token: &Secret<String>) -> Result<(), Error> {
    let mut line = Vec::with_capacity(token.expose().len() + 1);
    line.extend_from_slice(token.expose().as_bytes());
    line.push(b'\n');
    stdout(&line)
}

pub fn json<T: Serialize>(value: &T) -> Result<(), Error> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Internal(format!("cannot encode JSON output: {e}")))?;
    bytes.push(b'\n');
    stdout(&bytes)
}

/// A message for the person at the terminal.
pub fn note(message: impl Display) {
    let _ = writeln!(io::stderr(), "{message}");
}

pub fn warn(message: impl Display) {
    let _ = writeln!(io::stderr(), "warning: {message}");
}

pub fn error(message: impl Display) {
    let _ = writeln!(io::stderr(), "error: {message}");
}

pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}

/// The person at the terminal: progress and sign-in prompts on stderr,
/// typed input from stdin.
#[derive(Default)]
pub struct Terminal {
    spinner: Mutex<Option<ProgressBar>>,
}

impl Terminal {
    fn spinner(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        self.spinner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Prints a line without tearing the spinner.
    fn line(&self, text: &str) {
        match self.spinner().as_ref() {
            Some(bar) => bar.suspend(|| note(text)),
            None => note(text),
        }
    }
}

impl Progress for Terminal {
    fn waiting_for_lock(&self, id: &CredentialId) {
        self.line(&format!(
            "waiting for another credctl process that is using {id}…"
        ));
    }
}

impl Interaction for Terminal {
    fn authorization_url(&self, url: &Url, browser_opened: bool) {
        if browser_opened {
            note("Opening the sign-in page in your browser. If it does not open, visit:");
        } else {
            note("Open this URL in a browser to sign in:");
        }
        // Alone on its line, so that it can be copied or read by a script.
        note(url);
    }

    fn device_code(&self, verification_url: &str, user_code: &str, expires_in: Duration) {
        note("To sign in, open this page in a browser on any device:");
        note(verification_url);
        let action = if verification_url.contains(user_code) {
            "check that it shows this code"
        } else {
            "and enter this code"
        };
        note(format_args!(
            "{action} (valid for {}):",
            span(TimeDelta::from_std(expires_in).unwrap_or_default())
        ));
        note(user_code);
    }

    fn device_waiting(&self, expires_in: Duration, interval: Duration) {
        let deadline = Instant::now() + expires_in;
        if !stderr_is_terminal() {
            note(format_args!(
                "Waiting for the sign-in to be approved (checking every {}s; the code expires in {})…",
                interval.as_secs(),
                span(TimeDelta::from_std(expires_in).unwrap_or_default())
            ));
            return;
        }
        let left = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = w.write_str(&span(TimeDelta::from_std(left).unwrap_or_default()));
        };
        let style = ProgressStyle::with_template(
            "{spinner} Waiting for approval… the code expires in {left}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .with_key("left", left);
        let mut spinner = self.spinner();
        let bar = spinner.get_or_insert_with(|| {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        });
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
    }

    fn device_done(&self) {
        if let Some(bar) = self.spinner().take() {
            bar.finish_and_clear();
        }
    }

    fn warn(&self, message: &str) {
        self.line(&format!("warning: {message}"));
    }

    fn paste_prompt(&self, prompt: &str) {
        note(prompt);
    }
}

/// Sets up `tracing` on stderr. `-v`/`-vv` on the command line win over
/// `$CREDCTL_LOG`. With neither, no subscriber is installed at all, which
/// keeps the fast path of `auth token` free of it.
pub fn init_logging(verbose: u8, directive: Option<&str>) {
    let directive = match (verbose, directive) {
        (0, None) => return,
        (0, Some(directive)) => directive.to_string(),
        (1, _) => "credctl=debug".to_string(),
        _ => "credctl=trace,oauth2=debug,hyper_util=debug".to_string(),
    };
    let filter = match tracing_subscriber::EnvFilter::try_new(&directive) {
        Ok(filter) => filter,
        Err(e) => {
            warn(format_args!(
                "ignoring CREDCTL_LOG={directive:?}: {e}; use an EnvFilter directive such as `debug` or `credctl=trace`"
            ));
            return;
        }
    };
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

/// One row of `auth list`; also its `--json` form. Holds no token.
#[derive(Debug, Serialize)]
pub struct ListItem {
    pub provider: String,
    pub account: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub expires_at: Option<DateTime<Utc>>,
    /// Seconds; negative when expired, null when unknown.
    pub expires_in: Option<i64>,
    pub refreshable: bool,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub refresh_count: u64,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<ListError>,
}

#[derive(Debug, Serialize)]
pub struct ListError {
    pub category: crate::error::Category,
    pub at: DateTime<Utc>,
    pub message: String,
}

/// `auth list` as a table, aligned, sorted by the caller.
pub fn list_table(items: &[ListItem], now: DateTime<Utc>) -> Result<(), Error> {
    let with_notes = items.iter().any(|i| i.last_error.is_some());
    let mut rows: Vec<Vec<String>> = vec![
        [
            "PROVIDER", "ACCOUNT", "KIND", "STATUS", "EXPIRES", "SCOPES", "NOTE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for item in items {
        let scopes = if item.scopes.is_empty() {
            "-".to_string()
        } else {
            item.scopes.join(" ")
        };
        let note = match &item.last_error {
            Some(e) => format!("{} ({})", e.category.describe(), ago(now - e.at)),
            None => String::new(),
        };
        rows.push(vec![
            item.provider.clone(),
            item.account.clone(),
            item.kind.to_string(),
            item.status.to_string(),
            countdown(now, item.expires_at),
            scopes,
            note,
        ]);
    }
    if !with_notes {
        for row in &mut rows {
            row.pop();
        }
    }
    stdout(render(&rows).as_bytes())
}

/// One row of `auth providers`; also its `--json` form. Holds no secret.
#[derive(Debug, Serialize)]
pub struct ProviderItem {
    pub name: String,
    pub source: &'static str,
    pub flows: Vec<String>,
    pub client_id_configured: bool,
    pub issuer: Option<String>,
}

pub fn providers_table(items: &[ProviderItem]) -> Result<(), Error> {
    let mut rows = vec![
        ["NAME", "SOURCE", "FLOWS", "CLIENT_ID", "ISSUER"]
            .map(String::from)
            .to_vec(),
    ];
    for item in items {
        rows.push(vec![
            item.name.clone(),
            item.source.to_string(),
            if item.flows.is_empty() {
                "-".into()
            } else {
                item.flows.join(",")
            },
            if item.client_id_configured {
                "set"
            } else {
                "missing"
            }
            .to_string(),
            item.issuer.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    stdout(render(&rows).as_bytes())
}

fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(&format!("{cell:<width$}  ", width = widths[c]));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// For sentences: `expires in 59m 12s`, `expired 3h ago`, `has no known expiry`.
pub fn expiry(now: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> String {
    match expires_at {
        None => "has no known expiry".to_string(),
        Some(at) if at > now => format!("expires in {}", span(at - now)),
        Some(at) => format!("expired {}", ago(now - at)),
    }
}

/// `in 59m 12s`, `expired 3h ago`, `unknown`.
pub fn countdown(now: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> String {
    match expires_at {
        None => "unknown".to_string(),
        Some(at) if at > now => format!("in {}", span(at - now)),
        Some(at) => format!("expired {}", ago(now - at)),
    }
}

/// A past moment, in its largest unit: `3h ago`.
fn ago(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    let coarse = if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3600 {
        format!("{}h", s / 3600)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    };
    format!("{coarse} ago")
}

/// A duration in its two largest units: `59m 12s`, `7h 5m`, `2d 3h`.
pub fn span(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    let (big, small) = if s >= 86_400 {
        ((s / 86_400, "d"), (s % 86_400 / 3600, "h"))
    } else if s >= 3600 {
        ((s / 3600, "h"), (s % 3600 / 60, "m"))
    } else if s >= 60 {
        ((s / 60, "m"), (s % 60, "s"))
    } else {
        return format!("{s}s");
    };
    if small.0 == 0 {
        format!("{}{}", big.0, big.1)
    } else {
        format!("{}{} {}{}", big.0, big.1, small.0, small.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn countdowns_read_like_the_design() {
        let now = at("2026-01-01T12:00:00Z");
        assert_eq!(
            countdown(now, Some(at("2026-01-01T12:59:12Z"))),
            "in 59m 12s"
        );
        assert_eq!(
            countdown(now, Some(at("2026-01-01T09:00:00Z"))),
            "expired 3h ago"
        );
        assert_eq!(
            countdown(now, Some(at("2026-01-01T09:00:01Z"))),
            "expired 2h ago"
        );
        assert_eq!(countdown(now, None), "unknown");
        assert_eq!(countdown(now, Some(at("2026-01-01T12:00:05Z"))), "in 5s");
        assert_eq!(countdown(now, Some(at("2026-01-03T15:00:00Z"))), "in 2d 3h");
        assert_eq!(countdown(now, Some(at("2026-01-01T13:00:00Z"))), "in 1h");
        assert_eq!(countdown(now, Some(now)), "expired 0s ago");
    }
}
