//! Go's `%q` (`strconv.Quote`) for the builtins whose messages and outputs quote text as OPA's
//! Go code does: `uri.parse` errors, GraphQL syntax errors, `strings.render_template`'s `%q`.

/// `text` in double quotes, with `"` and `\` escaped, `\n`, `\t` and `\r` by name, and the
/// other control characters (and DEL) as `\xNN`.
pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_as_go_strconv_quote() {
        assert_eq!(
            super::quote("a\"b\\c\n\t\r\u{1}\u{7f}é"),
            r#""a\"b\\c\n\t\r\x01\x7fé""#
        );
    }
}
