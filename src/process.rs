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
    for fd in closed_standard_streams() {
        // open takes the lowest free descriptor: the closed one.
        match open_dev_null() {
            Ok(opened) if std::os::fd::AsRawFd::as_raw_fd(&opened) == fd => {
                std::mem::forget(opened);
            }
            _ => std::process::abort(),
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

#[expect(
    clippy::disallowed_methods,
    reason = "/dev/null in place of a closed standard stream: no file of credctl's"
)]
fn open_dev_null() -> rustix::io::Result<rustix::fd::OwnedFd> {
    rustix::fs::open(
        "/dev/null",
        rustix::fs::OFlags::RDWR,
        rustix::fs::Mode::empty(),
    )
}

/// Which of 0, 1 and 2 are closed: one poll(2), as std's runtime does, and
/// where poll cannot tell (it fails under `RLIMIT_NOFILE` < 3), fcntl(2)
/// on each.
#[expect(
    unsafe_code,
    reason = "asking the kernel about descriptors that may be closed"
)]
fn closed_standard_streams() -> Vec<i32> {
    let mut polled = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: three initialised pollfd records; poll only reads the
    // descriptors' state and writes `revents`.
    if unsafe { libc::poll(polled.as_mut_ptr(), 3, 0) } >= 0 {
        return polled
            .iter()
            .filter(|p| p.revents & libc::POLLNVAL != 0)
            .map(|p| p.fd)
            .collect();
    }
    (0..3)
        // SAFETY: F_GETFD only reads the descriptor's flags; EBADF if closed.
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1)
        .filter(|_| std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF))
        .collect()
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
