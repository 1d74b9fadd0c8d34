//! credctl: a credential manager for the command line.
//!
//! `main.rs` parses and maps errors to exit codes; [`commands`] run one
//! subcommand each on top of [`manager`] (shared use-cases) and [`store`]
//! (every byte on disk). The library is public so that tests can reach the
//! store and the model directly.

pub mod cli;
pub mod commands;
pub mod error;
pub mod flow;
pub mod http;
pub mod manager;
pub mod name;
pub mod output;
pub mod paths;
pub mod provider;
pub mod secret;
pub mod store;
pub mod token;
