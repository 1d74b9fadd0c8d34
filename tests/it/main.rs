//! The integration tests: one binary, a file per command or concern.

mod bad_input;
mod common;
mod concurrency;
mod crash;
mod faults;
mod flows;
mod list;
mod login;
mod logout;
mod names;
mod redaction;
mod refresh;
mod security;
mod store;
mod token;
mod tools_infra;
