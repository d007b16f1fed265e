//! Go's `%q` (`strconv.Quote`) for the builtins whose messages and outputs quote text as OPA's
//! Go code does: `uri.parse` errors, GraphQL syntax errors, `strings.render_template`'s `%q`,
//! strings inside a template string's values.

/// `text` in double quotes as `strconv.Quote` writes it: `"` and `\` escaped, `\a \b \f \n \r
/// \t \v` by name, the other ASCII control characters and DEL as `\xNN`, and the characters Go
/// does not print (C1 controls, spaces other than ' ', line and paragraph separators, format
/// characters, private use) as `\uNNNN` or `\UNNNNNNNN`. Unassigned code points are written as
/// they are (Go escapes them too; that needs the Unicode tables).
pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if !printable(c) && (c as u32) < 0x10000 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if !printable(c) => out.push_str(&format!("\\U{:08x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// False for the assigned characters Go's `unicode.IsPrint` refuses beyond ASCII: C1 controls
/// (Cc), spaces other than U+0020 (Zs), separators (Zl, Zp), format characters (Cf) and
/// private use (Co).
fn printable(c: char) -> bool {
    !matches!(c as u32,
        0x80..=0x9f
        | 0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2
        | 0x1680 | 0x180e | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
        | 0x2066..=0x206f | 0x3000 | 0xe000..=0xf8ff | 0xfeff | 0xfff9..=0xfffb
        | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a
        | 0xe0001 | 0xe0020..=0xe007f | 0xf0000..=0xffffd | 0x100000..=0x10fffd)
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_as_go_strconv_quote() {
        // Expected values are Go's strconv.Quote (through OPA's template strings).
        assert_eq!(
            super::quote("a\"b\\c\n\t\r\u{1}\u{7f}é"),
            r#""a\"b\\c\n\t\r\x01\x7fé""#
        );
        assert_eq!(
            super::quote("\u{7}\u{8}\u{c}\u{b}\u{85}\u{a0}\u{200b}\u{2028}\u{e000}\u{f0000}😀"),
            r#""\a\b\f\v\u0085\u00a0\u200b\u2028\ue000\U000f0000😀""#
        );
    }
}
