//! credctl: a credential manager for the command line.
//!
//! The layers, top to bottom; a module imports only from its own layer or
//! below (`clippy.toml` and review keep it so):
//!
//! | layer | modules | job |
//! |---|---|---|
//! | front end | `main.rs`, [`cli`], [`commands`] | parse, call one use-case, print its result |
//! | presentation | [`output`] | the only module that prints; knows nothing of credentials |
//! | use-cases | [`manager`] | policy: which account, when to refresh, the soft case, logout |
//! | providers | [`provider`] (registry, config, discovery) | build providers with the store injected; sign in, refresh single-flight, revoke |
//! | errors | [`error`] | the aggregate error over the layers below, its hints, and the one mapping to exit codes |
//! | protocol | [`flow`] | the OAuth flows over HTTP; no files, no printing |
//! | transport | [`http`] | the HTTP client, retry rules, what is a loopback URL |
//! | storage | [`store`] | every byte on disk: modes, ownership, locks, atomic writes, the format |
//! | model | [`token`], [`name`], [`secret`], [`jwt`], [`ui`], [`sanitize`], [`timefmt`], [`paths`], [`process`] | data, its rules, the process's own hardening, and the interfaces the layers above implement |
//!
//! [`paths`] is the only reader of environment variables; [`ui`] holds the
//! traits through which lower layers talk to the person without printing.

pub mod cli;
pub mod commands;
pub mod error;
pub mod flow;
pub mod http;
pub mod jwt;
pub mod manager;
pub mod name;
pub mod output;
pub mod paths;
pub mod process;
pub mod provider;
pub mod sanitize;
pub mod secret;
pub mod store;
pub mod timefmt;
pub mod token;
pub mod ui;
