//! `Secret<T>`: a value that must never reach a log, an error message or a `Debug` dump.
//!
//! Tokens, refresh tokens, client secrets, PKCE verifiers and device codes live here.
//! `Debug` prints `***` and there is no `Display`. As in cargo's
//! `cargo-credential`, the combinators [`Secret::as_deref`], [`Secret::as_ref`]
//! and [`Secret::map`] work on the value without revealing it, and
//! [`Secret::expose`] — which consumes the wrapper — marks the few places where
//! a secret leaves the process: the HTTP form, the stdout write. (The file
//! write goes through serde, which is transparent.)

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// Unwraps the value. Each call marks a boundary where the secret leaves
    /// the process (or a derived, non-secret value is read out of it).
    pub fn expose(self) -> T {
        self.0
    }

    /// `Secret<String>` → `Secret<&str>`.
    pub fn as_deref(&self) -> Secret<&<T as Deref>::Target>
    where
        T: Deref,
    {
        Secret(self.0.deref())
    }

    pub fn as_ref(&self) -> Secret<&T> {
        Secret(&self.0)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Secret<U> {
        Secret(f(self.0))
    }
}

impl<T: ToOwned + ?Sized> Secret<&T> {
    /// `Secret<&str>` → `Secret<String>`.
    pub fn to_owned(&self) -> Secret<<T as ToOwned>::Owned> {
        Secret(self.0.to_owned())
    }
}

impl<T, E> Secret<Result<T, E>> {
    /// `Secret<Result<T, E>>` → `Result<Secret<T>, E>`.
    pub fn transpose(self) -> Result<Secret<T>, E> {
        self.0.map(Secret)
    }
}

impl<T: AsRef<str>> Secret<T> {
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_empty()
    }

    /// Replaces every copy of the secret in `text` with `***`: the exact
    /// value and its percent- and form-encoded forms, which is how a
    /// provider that echoes a request body quotes it back. Values shorter
    /// than 4 bytes are left alone: blanking them would mangle the text and
    /// hide nothing.
    pub fn redact(&self, text: &str) -> String {
        let value = self.0.as_ref();
        if value.len() < 4 {
            return text.to_string();
        }
        let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let percent = form.replace('+', "%20");
        let mut out = text.to_string();
        // Longest first, so that a shorter form never cuts a longer one in two.
        let mut forms = vec![value.to_string(), form, percent];
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        for form in forms {
            out = replace_ignoring_hex_case(&out, &form);
        }
        out
    }
}

/// Replaces `needle` in `haystack` with `***`, matching the hex digits of
/// percent escapes in either case (`%2F` and `%2f`).
fn replace_ignoring_hex_case(haystack: &str, needle: &str) -> String {
    if !needle.contains('%') {
        return haystack.replace(needle, "***");
    }
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let mut out = String::with_capacity(haystack.len());
    let mut i = 0;
    let mut copied = 0;
    while i + n.len() <= h.len() {
        if h[i..i + n.len()].eq_ignore_ascii_case(n) && haystack.is_char_boundary(i) {
            out.push_str(&haystack[copied..i]);
            out.push_str("***");
            i += n.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&haystack[copied..]);
    out
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
        assert_eq!(format!("{:?}", secret.as_deref()), "***");
        assert_eq!(secret.as_deref().expose(), "gho_abcdef");
    }

    #[test]
    fn combinators_keep_the_value_wrapped() {
        let secret = Secret::new("abc".to_string());
        let len = secret.as_deref().map(str::len);
        assert_eq!(format!("{len:?}"), "***");
        assert_eq!(len.expose(), 3);
        assert_eq!(secret.as_deref().to_owned(), secret);
        assert!(!secret.is_empty());
    }

    #[test]
    fn serializes_transparently_for_the_store() {
        let secret = Secret::new("t0k".to_string());
        assert_eq!(
            serde_json::to_string(&secret).expect("serialize"),
            "\"t0k\""
        );
    }

    #[test]
    fn redaction_covers_encoded_copies() {
        let secret = Secret::new("rt/a+b=c d".to_string());
        let echoed = "got refresh_token=rt%2Fa%2Bb%3Dc+d, raw rt/a+b=c d, url rt%2fa%2bb%3dc%20d";
        let clean = secret.redact(echoed);
        assert_eq!(clean, "got refresh_token=***, raw ***, url ***");
        assert_eq!(Secret::new("abc").redact("abc"), "abc");
    }
}
