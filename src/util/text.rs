//! Text helpers shared by every layer.

/// `s` redacted, trimmed and cut to at most `max` characters, with `…` where it was cut:
/// endpoint text quoted in a reason or a report stays short whatever the endpoint sent, and
/// holds no piece of a secret (the run's secrets are masked in the whole text before it is
/// cut: [`Redactor::excerpt`](crate::redact::Redactor::excerpt)).
pub fn excerpt(s: &str, max: usize) -> String {
    crate::redact::Redactor::process().excerpt(s, max)
}

/// 1-based (line, column, in characters) of a byte offset of `src`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Whether `c` must never reach a terminal or a file as itself: C0 and C1 control characters
/// (ESC starts terminal escape sequences, BEL rings, NUL truncates), DEL, and the invisible
/// characters that reorder or hide text (bidi overrides and isolates such as U+202E, zero-width
/// spaces and joiners, the byte-order mark), and the noncharacters U+FFFE and U+FFFF, which no
/// XML document may hold.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fffe}'
                | '\u{ffff}'
        )
}

/// `s` with every [unsafe character](is_unsafe_char) but the newline and the tab written as a
/// visible escape (`\x1b`, `\u{202e}`): text from a suite file or an endpoint is inert on a
/// terminal and in any log.
pub fn inert(s: &str) -> std::borrow::Cow<'_, str> {
    if !s
        .chars()
        .any(|c| is_unsafe_char(c) && c != '\n' && c != '\t')
    {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if is_unsafe_char(c) => out.push_str(&escaped(c)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The visible form of an unsafe character: `\x1b` below U+0100, `\u{202e}` above.
pub fn escaped(c: char) -> String {
    if (c as u32) < 0x100 {
        format!("\\x{:02x}", c as u32)
    } else {
        format!("\\u{{{:04x}}}", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::{excerpt, inert};

    #[test]
    fn unsafe_characters_are_made_visible() {
        assert_eq!(
            inert("a\x1b[31mb\x07\0c\u{202e}d\u{200b}\n\te"),
            "a\\x1b[31mb\\x07\\x00c\\u{202e}d\\u{200b}\n\te"
        );
        assert_eq!(inert("é ok"), "é ok");
        assert_eq!(inert("\u{85}\r"), "\\x85\\x0d");
    }

    #[test]
    fn cuts_at_a_character_boundary_and_marks_the_cut() {
        assert_eq!(excerpt("  short  ", 10), "short");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
        assert_eq!(excerpt("abc", 3), "abc");
    }
}
