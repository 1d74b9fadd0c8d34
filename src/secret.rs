//! `Secret<T>`: a value that must never reach a log, an error message or a `Debug` dump.
//!
//! Tokens, refresh tokens, client secrets, PKCE verifiers and device codes live here.
//! `Debug` prints `***`, there is no `Display`, and the one way to the value is
//! [`Secret::expose`], so every place that reveals a secret is easy to find.
//! Serialization is transparent because the store must write the value to disk.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret value itself. Callers must not log or format it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("gho_abcdef".to_string());
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(***)");
        assert_eq!(secret.expose(), "gho_abcdef");
    }

    #[test]
    fn serializes_transparently_for_the_store() {
        let secret = Secret::new("t0k".to_string());
        assert_eq!(
            serde_json::to_string(&secret).expect("serialize"),
            "\"t0k\""
        );
    }
}
