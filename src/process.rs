//! What the process does to itself before it touches a secret.
//!
//! What always holds: on Linux the process is not dumpable — no core file,
//! no ptrace by another process of the same user that is not already its
//! parent-debugger, /proc/PID/mem closed — and its soft core-size limit is 0,
//! as ssh-agent does. A child started by `auth exec` gets the core limit back.

use std::sync::OnceLock;

use tracing::debug;

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
