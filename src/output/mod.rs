//! The only module that prints, and it knows nothing of credentials or
//! providers: it prints what it is given.
//!
//! stdout carries data a script reads (a token, a table, JSON); everything for
//! a person — notes, warnings, errors, progress — goes to stderr, so that
//! `TOKEN=$(credctl auth token github)` works while messages reach the
//! terminal. A closed stdout pipe (`credctl auth list | head -1`) is not an error.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};

use serde::Serialize;

use crate::error::Error;
use crate::secret::Secret;

/// Writes data to stdout. A reader that went away (EPIPE) is fine.
pub fn stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Output(e)),
    }
}

/// The token and a newline, in one write, and nothing else.
pub fn token<T: AsRef<str>>(token: Secret<T>) -> Result<(), Error> {
    // The stdout boundary: this is what `auth token` is for.
    let token = token.expose();
    let token = token.as_ref();
    let mut line = Vec::with_capacity(token.len() + 1);
    line.extend_from_slice(token.as_bytes());
    line.push(b'\n');
    stdout(&line)
}

/// JSON on stdout, pretty, and a newline. It may hold the token, on purpose
/// (`auth token --format json|k8s`).
pub fn json<T: Serialize>(value: &T) -> Result<(), Error> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Internal {
        what: "cannot encode JSON output",
        source: Box::new(e),
    })?;
    bytes.push(b'\n');
    stdout(&bytes)
}

/// Rows as aligned columns on stdout; the first row is the header.
pub fn table(rows: &[Vec<String>]) -> Result<(), Error> {
    stdout(render(rows).as_bytes())
}

fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::with_capacity(rows.len() * (widths.iter().sum::<usize>() + 2 * columns));
    for row in rows {
        let start = text.len();
        for (cell, width) in row.iter().zip(&widths) {
            text.push_str(cell);
            let pad = width - cell.chars().count() + 2;
            text.extend(std::iter::repeat_n(' ', pad));
        }
        text.truncate(text[start..].trim_end().len() + start);
        text.push('\n');
    }
    text
}

static COLOR: AtomicBool = AtomicBool::new(true);

/// Whether credctl's own prefixes may be coloured (off with `NO_COLOR`);
/// they are coloured only on a terminal anyway.
pub fn set_color(enabled: bool) {
    COLOR.store(enabled, Ordering::Relaxed);
}

/// `error:` or `warning:`, styled as clap styles its own on a terminal.
fn prefix(word: &str, color: AnsiColor) -> String {
    if COLOR.load(Ordering::Relaxed) && stderr_is_terminal() {
        let style = Style::new().bold().fg_color(Some(color.into()));
        format!("{style}{word}:{style:#}")
    } else {
        format!("{word}:")
    }
}

/// A message for the person at the terminal.
pub fn note(message: impl Display) {
    let _ = writeln!(io::stderr(), "{message}");
}

pub fn warn(message: impl Display) {
    let _ = writeln!(
        io::stderr(),
        "{} {message}",
        prefix("warning", AnsiColor::Yellow)
    );
}

/// An error with its causes on one line, and its hint on the next.
pub fn error(error: &Error) {
    // After Ctrl-C the terminal shows `^C`: start on a line of its own.
    let fresh = if matches!(error, Error::Interrupted) && stderr_is_terminal() {
        "\n"
    } else {
        ""
    };
    let mut text = format!(
        "{fresh}{} {}",
        prefix("error", AnsiColor::Red),
        crate::error::chain(error)
    );
    if let Some(hint) = error.hint() {
        text.push_str("\nhint: ");
        text.push_str(&hint);
    }
    let _ = writeln!(io::stderr(), "{text}");
}

pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
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
