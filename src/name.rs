//! Provider and account names, and the credential id made of the two.
//!
//! A name matches `[a-z0-9][a-z0-9._-]{0,63}`. It is validated once, when it is
//! parsed, so that nothing a user types can name a path outside `oauth/`: the
//! alphabet has no `/`, and a name cannot start with `.`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub const MAX_NAME_LEN: usize = 64;

/// The account used when `--account` is not given.
pub const DEFAULT_ACCOUNT: &str = "default";

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid name {shown:?}: use 1 to 64 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
)]
pub struct InvalidName {
    shown: String,
}

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn default_account() -> Name {
        Name(DEFAULT_ACCOUNT.to_string())
    }

    pub fn is_valid(s: &str) -> bool {
        let bytes = s.as_bytes();
        let Some(first) = bytes.first() else {
            return false;
        };
        bytes.len() <= MAX_NAME_LEN
            && (first.is_ascii_lowercase() || first.is_ascii_digit())
            && bytes.iter().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
    }
}

impl FromStr for Name {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if Name::is_valid(s) {
            Ok(Name(s.to_string()))
        } else {
            // Show a bounded, printable form: the input may be long or hold control characters.
            let shown: String = s.chars().take(80).flat_map(char::escape_default).collect();
            Err(InvalidName { shown })
        }
    }
}

impl TryFrom<String> for Name {
    type Error = InvalidName;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One credential: a provider and an account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CredentialId {
    pub provider: Name,
    pub account: Name,
}

impl CredentialId {
    pub fn new(provider: Name, account: Name) -> Self {
        CredentialId { provider, account }
    }

    /// The command line a person runs to (re-)create this credential.
    pub fn login_command(&self) -> String {
        format!("credctl auth login {}", self.cli_args())
    }

    /// `github` for the default account, `github --account work` otherwise.
    pub fn cli_args(&self) -> String {
        if self.account.as_str() == DEFAULT_ACCOUNT {
            self.provider.to_string()
        } else {
            format!("{} --account {}", self.provider, self.account)
        }
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (account {})", self.provider, self.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["github", "a", "0", "my-idp.prod_2", &"a".repeat(64)] {
            assert!(ok.parse::<Name>().is_ok(), "{ok} should be valid");
        }
    }

    #[test]
    fn refuses_anything_that_could_escape_or_surprise() {
        for bad in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "-flag",
            "_x",
            "GitHub",
            "a b",
            "a\0b",
            "é",
            &"a".repeat(65),
            &"a".repeat(200),
        ] {
            assert!(bad.parse::<Name>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn login_command_omits_the_default_account() {
        let id = CredentialId::new("github".parse().expect("name"), Name::default_account());
        assert_eq!(id.login_command(), "credctl auth login github");
        let id = CredentialId::new(
            "github".parse().expect("name"),
            "work".parse().expect("name"),
        );
        assert_eq!(
            id.login_command(),
            "credctl auth login github --account work"
        );
    }
}
