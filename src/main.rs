//! The credctl binary: parse, set up logging, run one command, map its error to an exit code.

use std::process::ExitCode;

use clap::Parser;
use credctl::cli::Cli;
use credctl::error::Error;
use credctl::{commands, output, paths::Env};

fn main() -> ExitCode {
    credctl::process::harden();
    let cli = Cli::parse();
    let result = Env::from_process().map_err(Error::from).and_then(|env| {
        output::init_logging(cli.verbose, env.log.as_deref());
        commands::run(cli, env)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}
