//! The credctl binary: parse, set up logging, run one command, map its error to an exit code.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use credctl::cli::Cli;
use credctl::error::Error;
use credctl::{commands, output, paths::Env};

fn main() -> ExitCode {
    credctl::process::harden();
    output::set_color(credctl::paths::color_wanted());
    // A completion request from the shell (COMPLETE=bash credctl …) is
    // answered here, and the process exits.
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(credctl::commands::completions::COMPLETE_VAR)
        .complete();
    let cli = match Cli::from_arg_matches(&credctl::cli::command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = Env::from_process().map_err(Error::from).and_then(|env| {
        output::init_logging(cli.verbose, env.log.as_deref());
        commands::run(cli, env)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if !matches!(error, Error::Reported(_)) {
                output::error(&error);
            }
            ExitCode::from(error.exit_code())
        }
    }
}
