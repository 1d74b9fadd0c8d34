//! The person at the terminal: the command layer's implementation of the
//! `ui` traits and of the use-cases' reports, printed through `output`.
//! Progress and prompts go to stderr; typed input comes from stdin.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use url::Url;

use crate::error::Error;
use crate::manager::{Event, Report};
use crate::name::CredentialId;
use crate::output::{self, note};
use crate::timefmt::span_std;
use crate::ui::{Interaction, Progress};

#[derive(Default)]
pub struct Terminal {
    spinner: Mutex<Option<ProgressBar>>,
}

impl Terminal {
    fn spinner(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        self.spinner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Prints a line without tearing the spinner.
    fn line(&self, print: impl FnOnce()) {
        match self.spinner().as_ref() {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }
}

impl Progress for Terminal {
    fn waiting_for_lock(&self, id: &CredentialId) {
        self.line(|| {
            note(format_args!(
                "waiting for another credctl process that is using {id}…"
            ))
        });
    }
}

impl Report for Terminal {
    fn event(&self, event: Event) {
        if event.is_warning() {
            self.line(|| output::warn(&event));
        } else {
            self.line(|| note(&event));
        }
    }

    fn failed(&self, error: &Error) {
        self.line(|| output::error(error));
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
            span_std(expires_in)
        ));
        note(user_code);
    }

    fn device_waiting(&self, expires_in: Duration, interval: Duration) {
        let deadline = Instant::now() + expires_in;
        if !output::stderr_is_terminal() {
            note(format_args!(
                "Waiting for the sign-in to be approved (checking every {}s; the code expires in {})…",
                interval.as_secs(),
                span_std(expires_in)
            ));
            return;
        }
        let left = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&span_std(
                deadline.saturating_duration_since(Instant::now()),
            ));
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
        self.line(|| output::warn(message));
    }

    fn paste_prompt(&self, prompt: &str) {
        note(prompt);
    }
}
