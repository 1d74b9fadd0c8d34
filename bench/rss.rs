//! The peak RSS of one program, and only its own: the `VmHWM` of the image
//! a child exec'd, read just before that image's memory is released.
//!
//! Not `ru_maxrss` from wait4(2): at exec, Linux folds the high-water mark of
//! the address space being replaced into the process's maxrss (exec_mmap,
//! `setmax_mm_hiwater_rss`), and that space is the harness's own: shared with
//! it under vfork/posix_spawn, copied from it under fork. Every figure would
//! be at least the harness's RSS. Instead the child asks to be traced
//! (PTRACE_TRACEME) and execs; the harness asks for exit stops
//! (PTRACE_O_TRACEEXIT), which come before the kernel drops the address
//! space, and reads `/proc/<tid>/status` there.
//!
//! Threads are traced too (PTRACE_O_TRACECLONE; gh is a Go program): the
//! exit stop of a group exit is taken by the thread that called exit_group,
//! which need not be the main one; the threads it kills take none.
//!
//! What must hold: the harness has no other child while a measurement runs
//! (it waits for any child, to see every thread of the traced one). Tracing
//! slows a run down, so these runs are never the timed ones.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::ptr;

/// Runs `cmd` to its end under ptrace, its output discarded, and returns
/// its peak RSS in KiB. Panics if it fails.
#[allow(unsafe_code)]
#[allow(clippy::zombie_processes)] // reaped by waitpid in the loop below
pub fn peak_kib(cmd: &mut Command) -> u64 {
    // SAFETY: the hook runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes one system call and
    // allocates nothing.
    unsafe {
        cmd.pre_exec(trace_me);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut peak = None;
    let mut traced = false;
    loop {
        let (tid, status) = wait_any();
        if tid == pid && (libc::WIFEXITED(status) || libc::WIFSIGNALED(status)) {
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "{cmd:?} failed under ptrace (wait status {status:#x})"
            );
            break;
        }
        if !libc::WIFSTOPPED(status) {
            continue; // one of its threads ended
        }
        let signal = libc::WSTOPSIG(status);
        let deliver = match status >> 16 {
            libc::PTRACE_EVENT_EXIT => {
                peak = peak.max(vm_hwm_kib(tid));
                0
            }
            // PTRACE_EVENT_CLONE: the new thread is traced from its start.
            event if event != 0 => 0,
            // The stop that PTRACE_TRACEME gives after exec.
            _ if signal == libc::SIGTRAP && !traced => {
                set_options(pid);
                traced = true;
                0
            }
            // A new thread starts stopped.
            _ if signal == libc::SIGSTOP && tid != pid => 0,
            // A signal for the program itself (Go's runtime sends some).
            _ => signal,
        };
        resume(tid, deliver);
    }
    peak.unwrap_or_else(|| panic!("{cmd:?}: exited without an exit stop"))
}

/// In the child before exec: become a tracee of the parent.
#[allow(unsafe_code)]
fn trace_me() -> io::Result<()> {
    // SAFETY: PTRACE_TRACEME takes no pointers; the null addr and data are ignored.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_TRACEME,
            0 as libc::pid_t,
            ptr::null_mut::<libc::c_void>(),
            ptr::null_mut::<libc::c_void>(),
        )
    };
    if r == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[allow(unsafe_code)]
fn set_options(pid: libc::pid_t) {
    let options = libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_TRACECLONE | libc::PTRACE_O_EXITKILL;
    // SAFETY: pid is our stopped tracee; PTRACE_SETOPTIONS reads its data
    // argument as a bit set, not as a pointer.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_SETOPTIONS,
            pid,
            ptr::null_mut::<libc::c_void>(),
            options as usize as *mut libc::c_void,
        )
    };
    assert_eq!(r, 0, "PTRACE_SETOPTIONS: {}", io::Error::last_os_error());
}

/// Lets a stopped thread go on, delivering `signal` (0: none).
#[allow(unsafe_code)]
fn resume(tid: libc::pid_t, signal: i32) {
    // SAFETY: PTRACE_CONT reads its data argument as a signal number, not as
    // a pointer. A thread that a group exit killed meanwhile gives ESRCH,
    // which is harmless.
    unsafe {
        libc::ptrace(
            libc::PTRACE_CONT,
            tid,
            ptr::null_mut::<libc::c_void>(),
            signal as usize as *mut libc::c_void,
        );
    }
}

/// The next state change of any child or traced thread.
#[allow(unsafe_code)]
fn wait_any() -> (libc::pid_t, i32) {
    loop {
        let mut status = 0;
        // SAFETY: status is a valid int for the kernel to write.
        let tid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if tid > 0 {
            return (tid, status);
        }
        let e = io::Error::last_os_error();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted, "waitpid: {e}");
    }
}

/// `VmHWM` of a thread's address space, in KiB.
fn vm_hwm_kib(tid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
