//! How endpoint text is made safe in each report format: it must never break a table, close a
//! code span, inject markup or send escape sequences to a terminal. Every renderer of a report
//! (and of the runbook) escapes through these, and only these.

use crate::util::text::{escaped, is_unsafe_char};

/// HTML-escape text for element content and attribute values (which are always quoted).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (an ANSI escape in a reason, say) are invalid in HTML text;
            // show them escaped (`\x1b[31m`) so they stay visible in any font.
            '\t' | '\n' | '\r' => out.push(c),
            // Bidi overrides would reorder the page's text around them: shown escaped too.
            c if is_unsafe_char(c) => out.push_str(&escaped(c)),
            _ => out.push(c),
        }
    }
    out
}

/// Endpoint text in Markdown (a table cell, a reason in a list): inert. Every character that
/// Markdown or GitHub gives a meaning is escaped — `[`, `]`, `!`, `(`, `)` (no link and no image
/// beacon), `*`, `_`, `~` (no emphasis), `` ` `` (no code span), `|` (no new cell), `<`, `>`,
/// `&` (no raw HTML or entity), `#`, `\` — a newline ends no table row, bare `http://` and
/// `www.` are broken by a zero-width joiner so GitHub does not autolink them, and control and
/// bidi characters are shown escaped.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '(' | ')' | '!' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            ':' if s[i..].starts_with("://") => out.push_str(":\u{200d}"),
            '.' if s[..i].to_ascii_lowercase().ends_with("www") => out.push_str("\u{200d}."),
            c if is_unsafe_char(c) => out.push_str(&escaped(c)),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a code span: no entities (they would show literally), no backticks or pipes
/// that would end the span or split a table cell, control characters made visible.
pub fn md_code(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '`' => out.push('\''),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c if is_unsafe_char(c) => out.push_str(&escaped(c)),
            _ => out.push(c),
        }
    }
    out
}

/// Endpoint text printed to a terminal: one line, control and bidi characters shown escaped
/// (no escape sequence, no reordered line).
pub fn one_line(s: &str) -> String {
    crate::util::text::inert(s)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect()
}
