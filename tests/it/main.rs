//! The integration tests: one binary, a file per command or concern.

// Tests arrange files, locks and environments themselves, as no part of
// credctl may.
#![allow(clippy::disallowed_methods)]

mod bad_input;
mod binding;
mod browser_flow;
mod common;
mod completions;
mod concurrency;
mod crash;
mod exec;
mod faults;
mod first_steps;
mod flows;
mod git;
mod hostile;
mod kubectl;
mod list;
mod login;
mod logout;
mod names;
mod network;
mod ownership;
mod readme;
mod redaction;
mod refresh;
mod security;
mod status;
mod store;
mod tls;
mod tls_idp;
mod token;
mod tools_infra;
mod transcripts;
mod two_users;
