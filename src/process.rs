//! What the process does to itself before it touches a secret.
//!
//! What always holds: on Linux the process is not dumpable — no core file,
//! no ptrace by another process of the same user that is not already its
//! parent-debugger, /proc/PID/mem closed — and its soft core-size limit is 0,
//! as ssh-agent does. A child started by `auth exec` gets the core limit back.

use tracing::debug;

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
    let none = rustix::process::Rlimit {
        current: Some(0),
        maximum: limit.maximum,
    };
    if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Core, none) {
        debug!(error = %e, "cannot set the core size limit to 0");
    }
}
