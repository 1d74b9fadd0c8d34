//! The person at the terminal: the command layer's implementation of the
//! `ui` traits and of the use-cases' reports, printed through `output`.
//! Progress and prompts go to stderr; typed input comes from the terminal.
//!
//! What always holds: Ctrl-C at any wait or prompt restores the terminal
//! (echo back on, the cursor shown, the spinner line cleared), prints
//! `interrupted` on a line of its own, and exits 130. The handler is armed
//! by commands that may wait, never on the fast path of `auth token`.

use std::io::{BufRead, Write};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use url::Url;

use crate::error::{Error, InputError};
use crate::manager::{Event, Report};
use crate::name::CredentialId;
use crate::output::{self, note};
use crate::secret::Secret;
use crate::timefmt::span_std;
use crate::ui::{Interaction, Progress};

/// The spinner on screen, if any: Ctrl-C clears it.
static SPINNER: Mutex<Option<ProgressBar>> = Mutex::new(None);
/// The terminal settings a hidden prompt changed: Ctrl-C restores them.
static SAVED_TTY: Mutex<Option<(std::fs::File, rustix::termios::Termios)>> = Mutex::new(None);
static ARMED: OnceLock<()> = OnceLock::new();
/// The terminal's settings when the handler was armed: a prompt in raw mode
/// (the picker, the logout question) may be interrupted mid-read, and its
/// own restore never runs.
static FOUND_TTY: OnceLock<Option<(std::fs::File, rustix::termios::Termios)>> = OnceLock::new();

/// From now on, Ctrl-C (SIGINT) restores the terminal, prints
/// `interrupted` and exits 130, wherever the process is waiting.
pub fn arm_interrupt() {
    FOUND_TTY.get_or_init(|| {
        if !(output::stdin_is_terminal() || output::stderr_is_terminal()) {
            return None;
        }
        let tty = std::fs::File::open("/dev/tty").ok()?;
        let termios = rustix::termios::tcgetattr(&tty).ok()?;
        Some((tty, termios))
    });
    ARMED.get_or_init(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])
        else {
            return;
        };
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                interrupted();
            }
        });
    });
}

/// Undoes what is on screen, says so, and exits 130.
pub fn interrupted() -> ! {
    restore_tty();
    restore_found_tty();
    if let Some(bar) = lock(&SPINNER).take() {
        bar.finish_and_clear();
    }
    if output::stderr_is_terminal() {
        let _ = console::Term::stderr().show_cursor();
    }
    output::error(&Error::Interrupted);
    std::process::exit(i32::from(Error::Interrupted.exit_code()));
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn restore_tty() {
    if let Some((tty, termios)) = lock(&SAVED_TTY).take() {
        let _ = rustix::termios::tcsetattr(&tty, rustix::termios::OptionalActions::Now, &termios);
        let _ = writeln!(&tty);
    }
}

/// The terminal as credctl found it, whatever a prompt did to it since.
fn restore_found_tty() {
    if let Some(Some((tty, termios))) = FOUND_TTY.get() {
        let _ = rustix::termios::tcsetattr(tty, rustix::termios::OptionalActions::Now, termios);
    }
}

/// Reads one line from the terminal with echo off (a token), restoring the
/// terminal afterwards — or, on Ctrl-C, in the interrupt handler.
#[expect(
    clippy::disallowed_methods,
    reason = "/dev/tty is the terminal, not a file the store owns"
)]
pub fn read_hidden(prompt: &str) -> Result<Secret<String>, Error> {
    let read_error = |source| InputError::TokenRead {
        from: "the terminal",
        source,
    };
    arm_interrupt();
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(read_error)?;
    let saved = rustix::termios::tcgetattr(&tty).map_err(|e| read_error(e.into()))?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
    let mut writer = &tty;
    let _ = write!(writer, "{prompt}");
    let _ = writer.flush();
    *lock(&SAVED_TTY) = Some((tty.try_clone().map_err(read_error)?, saved));
    rustix::termios::tcsetattr(&tty, rustix::termios::OptionalActions::Now, &quiet)
        .map_err(|e| read_error(e.into()))?;
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    restore_tty();
    read.map_err(read_error)?;
    Ok(Secret::new(line))
}

/// Shows a spinner with `message`, and the time left until `deadline`.
fn spin(message: &'static str, deadline: Instant) {
    let left = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = w.write_str(&span_std(
            deadline.saturating_duration_since(Instant::now()),
        ));
    };
    let style = ProgressStyle::with_template(&format!("{{spinner}} {message}{{left}}"))
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .with_key("left", left);
    let mut spinner = lock(&SPINNER);
    let bar = spinner
        .get_or_insert_with(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()));
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
}

fn stop_spinner() {
    if let Some(bar) = lock(&SPINNER).take() {
        bar.finish_and_clear();
    }
}

/// Prints a line without tearing the spinner.
fn line(print: impl FnOnce()) {
    let spinner = lock(&SPINNER).clone();
    match spinner {
        Some(bar) => bar.suspend(print),
        None => print(),
    }
}

#[derive(Default)]
pub struct Terminal;

impl Drop for Terminal {
    fn drop(&mut self) {
        stop_spinner();
    }
}

impl Progress for Terminal {
    fn waiting_for_lock(&self, id: &CredentialId) {
        arm_interrupt();
        line(|| {
            note(format_args!(
                "waiting for another credctl process that is using {id}…"
            ))
        });
    }

    fn refreshing(&self) {
        arm_interrupt();
    }
}

impl Report for Terminal {
    fn event(&self, event: Event) {
        if event.is_warning() {
            line(|| output::warn(&event));
        } else {
            line(|| note(&event));
        }
    }

    fn failed(&self, error: &Error) {
        line(|| output::error(error));
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

    fn browser_waiting(&self, timeout: Duration) {
        if output::stderr_is_terminal() {
            spin(
                "Waiting for the browser… Ctrl-C to cancel, gives up in ",
                Instant::now() + timeout,
            );
        } else {
            note(format_args!(
                "Waiting for the browser (giving up in {})…",
                span_std(timeout)
            ));
        }
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
            span_std(expires_in)
        ));
        note(user_code);
    }

    fn device_waiting(&self, expires_in: Duration, interval: Duration) {
        if output::stderr_is_terminal() {
            spin(
                "Waiting for approval… Ctrl-C to cancel, the code expires in ",
                Instant::now() + expires_in,
            );
        } else {
            note(format_args!(
                "Waiting for the sign-in to be approved (checking every {}s; the code expires in {})…",
                interval.as_secs(),
                span_std(expires_in)
            ));
        }
    }

    fn wait_done(&self) {
        stop_spinner();
    }

    fn warn(&self, message: &str) {
        line(|| output::warn(message));
    }

    fn paste_prompt(&self, prompt: &str) {
        note(prompt);
    }
}
