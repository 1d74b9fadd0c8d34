//! The one sanitiser for text that comes from outside: a provider's error
//! text, user codes, URLs, scopes, token types, id_token claims.
//!
//! What always holds: the result has no C0 or C1 control character (so no
//! escape sequence can move the cursor, rewrite lines or set a window
//! title), no Unicode format character (bidi overrides, zero-width
//! characters) and no line or paragraph separator, and it is bounded in
//! length. Whatever reaches a terminal, a file or JSON output from a
//! provider passes [`text`] first.

/// Longest provider text kept; longer text is cut with `…`.
pub const MAX_CHARS: usize = 4096;

/// `s` without control and format characters (controls become spaces so
/// that words stay apart), trimmed, at most [`MAX_CHARS`] characters.
pub fn text(s: &str) -> String {
    clip(&clean(s), MAX_CHARS)
}

/// Like [`text`], bounded at `max` characters.
pub fn text_max(s: &str, max: usize) -> String {
    clip(&clean(s), max)
}

fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_CHARS * 4));
    for c in s.chars() {
        if c.is_control() {
            out.push(' ');
        } else if !is_format(c) {
            out.push(c);
        }
        // Enough for any bound: the rest is cut anyway.
        if out.len() > MAX_CHARS * 4 {
            break;
        }
    }
    out.trim().to_string()
}

/// At most `max` characters, with `…` where text was cut.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// Unicode general category Cf (format), plus the line and paragraph
/// separators (Zl, Zp): invisible characters that reorder or hide text.
fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x180E
        | 0x200B..=0x200F
        | 0x2028..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0001
        | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_bidi_and_zero_width_are_removed() {
        let hostile = "\x1b]0;pwned\x07ok\x1b[2J\r\nnext\u{202E}txt.exe\u{200B}\u{9b}31m";
        let clean = text(hostile);
        assert!(
            !clean.chars().any(|c| c.is_control() || is_format(c)),
            "{clean:?}"
        );
        assert_eq!(clean, "]0;pwned ok [2J  nexttxt.exe 31m");
    }

    #[test]
    fn long_text_is_bounded() {
        let long = "é".repeat(10_000);
        let clean = text(&long);
        assert_eq!(clean.chars().count(), MAX_CHARS + 1);
        assert!(clean.ends_with('…'));
        assert_eq!(text_max("abcdef", 3), "abc…");
    }
}
