//! The credctl binary: parse, set up logging, run one command, map its error to an exit code.
//!
//! It starts at C's `main`, not Rust's. Rust's runtime set-up before `main`
//! finds the main thread's stack by reading `/proc/self/maps` and installs a
//! stack-overflow handler: 17 system calls and a fifth of the fast path's
//! instructions. What of it credctl needs — closed standard streams opened
//! on /dev/null, SIGPIPE ignored — `process::start` does; the exit goes
//! through `std::process::exit`, which flushes stdout as the runtime would.
#![no_main]

use clap::{CommandFactory, FromArgMatches};
use credctl::cli::Cli;
use credctl::error::Error;
use credctl::{commands, output, paths::Env};

#[expect(
    unsafe_code,
    reason = "the process's entry point has to be named `main` for the C runtime"
)]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    credctl::process::start();
    std::process::exit(i32::from(run()))
}

/// The exit code (DESIGN.md) of one command.
fn run() -> u8 {
    credctl::process::harden();
    output::set_color(credctl::paths::color_wanted());
    // A completion request from the shell (COMPLETE=bash credctl …) is
    // answered here, and the process exits.
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(credctl::commands::completions::COMPLETE_VAR)
        .complete();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let cli = match Cli::parse_script_shape(&args) {
        Some(cli) => cli,
        None => match Cli::from_arg_matches(&credctl::cli::command().get_matches()) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        },
    };
    let result = Env::from_process().map_err(Error::from).and_then(|env| {
        output::init_logging(cli.verbose, env.log.as_deref());
        commands::run(cli, env)
    });
    match result {
        Ok(()) => 0,
        Err(error) => {
            if !matches!(error, Error::Reported(_)) {
                output::error(&error);
            }
            error.exit_code()
        }
    }
}
