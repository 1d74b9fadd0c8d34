//! The integration tests: one binary, a file per command or concern.

mod common;
mod concurrency;
mod flows;
mod list;
mod login;
mod logout;
mod names;
mod redaction;
mod refresh;
mod store;
mod token;
