//! Text helpers shared by every layer.

/// `s` trimmed and cut to at most `max` characters, with `…` where it was cut: endpoint text
/// quoted in a reason or a report stays short whatever the endpoint sent.
pub fn excerpt(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn cuts_at_a_character_boundary_and_marks_the_cut() {
        assert_eq!(excerpt("  short  ", 10), "short");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
        assert_eq!(excerpt("abc", 3), "abc");
    }
}
