//! The integration tests: one binary, a file per command or concern.

mod common;
mod flows;
mod list;
mod login;
mod logout;
mod names;
mod redaction;
mod store;
mod token;
