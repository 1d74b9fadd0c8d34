//! What the process does to itself before it touches a secret.
//!
//! What always holds: on Linux the process is not dumpable — no core file,
//! no ptrace by another process of the same user that is not already its
//! parent-debugger, /proc/PID/mem closed — and its soft core-size limit is 0,
//! as ssh-agent does. A child started by `auth exec` gets the core limit back.

use std::sync::OnceLock;

use tracing::debug;

/// What Rust's runtime does before `main` that credctl needs, for a binary
/// that starts at C's `main` (see src/main.rs):
/// - a standard stream that was closed is opened on /dev/null, so that the
///   first file credctl opens cannot become stdout or stderr and receive a
///   token or a message meant for the terminal;
/// - SIGPIPE is ignored: a reader that went away is an error (`EPIPE`) that
///   credctl reports, not a silent death half-way through a write. Children
///   get the default back, from std's `Command`.
pub fn start() {
    use rustix::event::{PollFd, PollFlags, poll};
    use rustix::fd::BorrowedFd;
    // SAFETY: 0, 1 and 2 are only polled, never read or closed; a closed one is reported as POLLNVAL.
    #[expect(
        unsafe_code,
        reason = "polling the standard descriptors, which may be closed"
    )]
    let streams = [0, 1, 2].map(|fd| unsafe { BorrowedFd::borrow_raw(fd) });
    let mut polled = streams
        .each_ref()
        .map(|fd| PollFd::new(fd, PollFlags::empty()));
    if poll(&mut polled, Some(&rustix::time::Timespec::default())).is_ok() {
        for p in &polled {
            if p.revents().contains(PollFlags::NVAL) {
                // Takes the lowest free descriptor: the closed one.
                match rustix::fs::open(
                    "/dev/null",
                    rustix::fs::OFlags::RDWR,
                    rustix::fs::Mode::empty(),
                ) {
                    Ok(fd) => std::mem::forget(fd),
                    Err(_) => std::process::abort(),
                }
            }
        }
    }
    #[expect(
        unsafe_code,
        reason = "setting a signal's disposition; std's runtime does the same"
    )]
    // SAFETY: SIG_IGN installs no handler; no other thread exists yet.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// The core size limit the process started with, for the command `auth
/// exec` runs.
static CORE_LIMIT: OnceLock<rustix::process::Rlimit> = OnceLock::new();

/// Makes the process not dumpable and its core files empty. Failures are
/// logged, not fatal: the secrets are still protected by the file modes.
pub fn harden() {
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        debug!(error = %e, "cannot make the process non-dumpable");
    }
    let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
    let _ = CORE_LIMIT.set(limit);
    let none = rustix::process::Rlimit {
        current: Some(0),
        maximum: limit.maximum,
    };
    if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Core, none) {
        debug!(error = %e, "cannot set the core size limit to 0");
    }
}

/// Gives a command that replaces this process (`auth exec`) the core limit
/// the process started with. (exec resets dumpability by itself.)
pub fn before_exec() {
    if let Some(limit) = CORE_LIMIT.get()
        && let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Core, *limit)
    {
        debug!(error = %e, "cannot restore the core size limit");
    }
}
