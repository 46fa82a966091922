//! How endpoint text is made safe in each report format: it must never break a table, close a
//! code span, inject markup or send escape sequences to a terminal. Every renderer of a report
//! (and of the runbook) escapes through these, and only these.

use std::borrow::Cow;

use crate::util::text::{escaped, is_unsafe_char};

/// HTML-escape text for element content and attribute values (which are always quoted).
pub fn esc(s: &str) -> String {
    Esc(s).to_string()
}

/// [`esc`] written straight into the output (`write!(h, "{}", Esc(s))`), without a string of
/// its own: the HTML report escapes every reason and label it shows this way. Runs of text that
/// need nothing are written whole (most report text is such a run); ASCII is checked byte by
/// byte, and only a non-ASCII character is decoded to be checked.
#[derive(Clone, Copy)]
pub struct Esc<'a>(pub &'a str);

/// [`Esc`] for element content only (a `<pre>` of a body or headers), never an attribute value:
/// quotes are left as they are, since only `&`, `<` and `>` mean anything there. A JSON body is
/// full of quotes; written as `&quot;` they were a fifth of a report's bytes.
#[derive(Clone, Copy)]
pub struct EscText<'a>(pub &'a str);

/// XML text for `junit.xml`, in an attribute value or element content: [`Esc`] with XML's own
/// apostrophe entity (`&apos;`), and a carriage return shown escaped too (a parser would turn
/// it into a line break or a space).
#[derive(Clone, Copy)]
pub struct EscXml<'a>(pub &'a str);

impl std::fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_escaped(f, self.0, &PLAIN, "&#39;")
    }
}

impl std::fmt::Display for EscText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_escaped(f, self.0, &PLAIN_TEXT, "&#39;")
    }
}

impl std::fmt::Display for EscXml<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_escaped(f, self.0, &PLAIN_XML, "&apos;")
    }
}

/// `s` escaped into `f`, the ASCII bytes marked in `plain` written as they are and `'` (when
/// not plain) as `apos`.
fn write_escaped(
    f: &mut std::fmt::Formatter<'_>,
    s: &str,
    plain: &[bool; 256],
    apos: &'static str,
) -> std::fmt::Result {
    let bytes = s.as_bytes();
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        if plain[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        let (escaped_as, width): (Cow<'static, str>, usize) = match bytes[i] {
            b'&' => ("&amp;".into(), 1),
            b'<' => ("&lt;".into(), 1),
            b'>' => ("&gt;".into(), 1),
            b'"' => ("&quot;".into(), 1),
            b'\'' => (apos.into(), 1),
            // Control characters (an ANSI escape in a reason, say) are invalid in HTML text;
            // show them escaped (`\x1b[31m`) so they stay visible in any font. (Tab and line
            // breaks are plain, but a carriage return in XML.)
            b @ (0..0x20 | 0x7f) => (escaped(char::from(b)).into(), 1),
            // The rest of ASCII is plain, skipped above.
            0..0x80 => {
                i += 1;
                continue;
            }
            // Bidi overrides would reorder the page's text around them: shown escaped too.
            _ => match s[i..].chars().next() {
                Some(c) if is_unsafe_char(c) => (escaped(c).into(), c.len_utf8()),
                c => {
                    i += c.map_or(1, char::len_utf8);
                    continue;
                }
            },
        };
        f.write_str(&s[run..i])?;
        f.write_str(&escaped_as)?;
        i += width;
        run = i;
    }
    f.write_str(&s[run..])
}

/// The ASCII bytes [`Esc`] writes as they are: printable ones but `&<>"'`, and tab and line
/// breaks.
const PLAIN: [bool; 256] = plain_but(b"&<>\"'");

/// The ASCII bytes [`EscXml`] writes as they are: [`PLAIN`] but the carriage return.
const PLAIN_XML: [bool; 256] = {
    let mut t = PLAIN;
    t[b'\r' as usize] = false;
    t
};

/// The ASCII bytes [`EscText`] writes as they are: [`PLAIN`] and the quotes.
const PLAIN_TEXT: [bool; 256] = plain_but(b"&<>");

/// Printable ASCII but `special`, and tab and line breaks.
const fn plain_but(special: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        let mut k = 0;
        t[b] = true;
        while k < special.len() {
            if special[k] as usize == b {
                t[b] = false;
            }
            k += 1;
        }
        b += 1;
    }
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
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
            // The three bytes before, not the whole prefix: a long text of dots stays linear.
            '.' if i >= 3 && s.as_bytes()[i - 3..i].eq_ignore_ascii_case(b"www") => {
                out.push_str("\u{200d}.")
            }
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The HTML escape as it was first written, one character at a time: the oracle of the
    /// byte-wise one.
    fn esc_by_char(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                '\t' | '\n' | '\r' => out.push(c),
                c if is_unsafe_char(c) => out.push_str(&escaped(c)),
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn every_ascii_byte_alone_is_escaped_as_character_by_character() {
        for b in 0..0x80u8 {
            let s = char::from(b).to_string();
            assert_eq!(esc(&s), esc_by_char(&s), "byte {b:#04x}");
            let text = esc_by_char(&s)
                .replace("&quot;", "\"")
                .replace("&#39;", "'");
            assert_eq!(EscText(&s).to_string(), text, "byte {b:#04x}");
        }
    }

    proptest! {
        /// Any text, markup, control, bidi and other non-ASCII characters mixed in, is escaped
        /// exactly as character by character.
        #[test]
        fn html_escape_is_the_escape_of_each_character(
            s in "(\\PC|[\u{0}-\u{1f}\u{7f}-\u{9f}&<>\"'\u{200b}-\u{200f}\u{2028}-\u{202e}\u{2060}-\u{2069}\u{feff}\u{061c}é😀a-z ])*"
        ) {
            prop_assert_eq!(esc(&s), esc_by_char(&s));
            // In element content the quotes stay (a literal `&quot;` in the text is still
            // `&amp;quot;`, so the replacement only undoes the quotes' escapes).
            let text = esc_by_char(&s).replace("&quot;", "\"").replace("&#39;", "'");
            prop_assert_eq!(EscText(&s).to_string(), text);
        }
    }

    /// Invisible characters an endpoint may use to hide an autolink from an escaper: joiners
    /// and zero-width spaces, bidi overrides and isolates, the word joiner, the byte-order mark.
    const INVISIBLE: &[char] = &[
        '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{202a}', '\u{202e}', '\u{2060}',
        '\u{2066}', '\u{2069}', '\u{feff}', '\u{061c}',
    ];

    /// What GitHub-flavoured Markdown would make live in `md`: an extended autolink
    /// (`http://`, `https://`, `ftp://`, `www.`, in any case), an angle-bracket autolink or raw
    /// HTML, a link or an image. Also after every invisible character but the marker the
    /// escaper itself puts after `:`/before `.` is dropped, as a lenient renderer might.
    fn live(md: &str) -> Option<&'static str> {
        let visible: String = md
            .char_indices()
            .filter(|&(i, c)| {
                !INVISIBLE.contains(&c)
                    || (c == '\u{200d}'
                        && (md[..i].ends_with(':') || md[i + c.len_utf8()..].starts_with('.')))
            })
            .map(|(_, c)| c)
            .collect();
        let lower = visible.to_ascii_lowercase();
        ["http://", "https://", "ftp://", "www.", "<", "](", "!["]
            .into_iter()
            .find(|t| lower.contains(t))
    }

    fn hostile_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("http".to_string()),
            Just("HTTPS".to_string()),
            Just("://".to_string()),
            Just(":".to_string()),
            Just("/".to_string()),
            Just("www".to_string()),
            Just("WwW".to_string()),
            Just(".".to_string()),
            Just("beacon.example/x.png".to_string()),
            Just("<".to_string()),
            Just(">".to_string()),
            Just("[x]".to_string()),
            Just("(".to_string()),
            Just("!".to_string()),
            Just(" ".to_string()),
            proptest::sample::select(INVISIBLE).prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    #[test]
    fn html_escapes_markup_and_unsafe_characters_between_runs_kept_whole() {
        assert_eq!(
            esc("é<b a=\"1\">&'x'</b>\x1b[31m\u{202e}z\tok\n"),
            "é&lt;b a=&quot;1&quot;&gt;&amp;&#39;x&#39;&lt;/b&gt;\\x1b[31m\\u{202e}z\tok\n"
        );
        assert_eq!(esc("plain text, ünïcode"), "plain text, ünïcode");
        assert_eq!(esc(""), "");
    }

    #[test]
    fn autolinks_hidden_by_invisible_characters_stay_inert() {
        for text in [
            "http\u{200d}://beacon.example/x.png",
            "h\u{200b}ttps://beacon.example",
            "https:\u{200d}//beacon.example",
            "https:/\u{2060}/beacon.example",
            "www\u{200d}.beacon.example",
            "w\u{202e}ww.beacon.example",
            "\u{feff}WWW.beacon.example",
            "<\u{200d}https://beacon.example>",
            "!\u{200b}[x](https://beacon.example/x.png)",
            "[x](java\u{200d}script:alert(1))",
        ] {
            let md = md_escape(text);
            assert_eq!(live(&md), None, "{text:?} -> {md:?}");
            for out in [one_line(text), esc(text), md_code(text)] {
                assert!(
                    !out.chars().any(|c| INVISIBLE.contains(&c)),
                    "an invisible character reached the output as itself: {out:?}"
                );
            }
        }
        // The check can fail: unescaped, these are live.
        assert_eq!(live("http\u{200d}://x"), Some("http://"));
        assert_eq!(live("www.x"), Some("www."));
    }

    #[test]
    fn a_long_text_of_dots_is_escaped_in_linear_time() {
        let text = "www.".repeat(200_000);
        let md = md_escape(&text);
        assert_eq!(live(&md), None);
    }

    proptest! {
        // Whatever mix of scheme pieces, `www`, brackets and invisible characters an endpoint
        // sends, the Markdown escape leaves nothing live and no invisible character but its own
        // marker, and the terminal and HTML escapes show every invisible character escaped.
        #[test]
        fn no_mix_of_link_pieces_and_invisible_characters_is_live(text in hostile_text()) {
            let md = md_escape(&text);
            prop_assert_eq!(live(&md), None, "{:?} -> {:?}", text, md);
            for out in [one_line(&text), esc(&text), md_code(&text)] {
                prop_assert!(!out.chars().any(|c| INVISIBLE.contains(&c)), "{:?}", out);
            }
        }
    }
}
