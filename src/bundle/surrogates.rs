//! Lone UTF-16 surrogate escapes in a policy's strings, read as OPA reads them.
//!
//! OPA unquotes a Rego string as Go's `encoding/json` does, so `"\ud83d"` (a high surrogate
//! with no low one after it, or a low one alone) is U+FFFD, the replacement character; a pair
//! (`"\ud83d\ude00"`) is the character it encodes. regorus' parser refuses a lone one, so the
//! whole module failed to load.
//!
//! Owns: finding `\uXXXX` escapes of lone surrogates inside double-quoted strings (not in
//! comments or raw strings) and writing each as `\ufffd`, which is as long: lines and columns
//! stay those of the file.

/// `source` with every lone surrogate escape in its strings written `\ufffd`, or `None` when
/// it has none.
pub fn rewrite(source: &str) -> Option<String> {
    // Cheap test first: a surrogate escape starts `\ud8`..`\udf`, in either case.
    if !source.contains("\\ud") && !source.contains("\\uD") {
        return None;
    }
    let src = source.as_bytes();
    let mut lone = Vec::new();
    let mut pos = 0;
    while let Some(&byte) = src.get(pos) {
        pos = match byte {
            b'#' => line_end(src, pos),
            b'`' => raw_end(src, pos),
            b'"' => string_end(src, pos, &mut lone),
            _ => pos + 1,
        };
    }
    if lone.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(source.len());
    let mut copied = 0;
    for at in lone {
        out.push_str(source.get(copied..at)?);
        out.push_str("\\ufffd");
        copied = at + ESCAPE_LEN;
    }
    out.push_str(source.get(copied..)?);
    Some(out)
}

/// `\uXXXX`, in bytes.
const ESCAPE_LEN: usize = 6;

/// The position after the string opening at `pos` (or the end of its line when it does not
/// close there: the parser reports that), noting where each lone surrogate escape starts.
fn string_end(src: &[u8], mut pos: usize, lone: &mut Vec<usize>) -> usize {
    pos += 1;
    while let Some(&byte) = src.get(pos) {
        match byte {
            b'\\' => match unicode_escape(src, pos) {
                Some(0xD800..=0xDBFF)
                    if unicode_escape(src, pos + ESCAPE_LEN)
                        .is_some_and(|next| (0xDC00..=0xDFFF).contains(&next)) =>
                {
                    pos += 2 * ESCAPE_LEN
                }
                Some(0xD800..=0xDFFF) => {
                    lone.push(pos);
                    pos += ESCAPE_LEN;
                }
                _ => pos += 2,
            },
            b'"' => return pos + 1,
            b'\n' => return pos,
            _ => pos += 1,
        }
    }
    pos
}

/// The code unit of a `\uXXXX` escape at `pos`.
fn unicode_escape(src: &[u8], pos: usize) -> Option<u32> {
    let escape = src.get(pos..pos + ESCAPE_LEN)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

fn line_end(src: &[u8], mut pos: usize) -> usize {
    while src.get(pos).is_some_and(|&b| b != b'\n') {
        pos += 1;
    }
    pos
}

fn raw_end(src: &[u8], mut pos: usize) -> usize {
    pos += 1;
    while let Some(&byte) = src.get(pos) {
        pos += 1;
        if byte == b'`' {
            return pos;
        }
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn a_lone_surrogate_escape_becomes_the_replacement_character() {
        assert_eq!(
            rewrite("package p\nx := \"a\\ud83db\"\ny := \"\\uDC00\"\n").as_deref(),
            Some("package p\nx := \"a\\ufffdb\"\ny := \"\\ufffd\"\n")
        );
    }

    #[test]
    fn a_pair_and_a_high_surrogate_before_one_stay() {
        let source = "package p\nx := \"\\ud83d\\ude00\"\n";
        assert_eq!(rewrite(source), None);
        assert_eq!(
            rewrite("package p\nx := \"\\ud83d\\ud83d\\ude00\"\n").as_deref(),
            Some("package p\nx := \"\\ufffd\\ud83d\\ude00\"\n")
        );
    }

    #[test]
    fn comments_raw_strings_and_escaped_backslashes_are_left_alone() {
        let source = "package p\n# \"\\ud83d\"\nx := `\\ud83d`\ny := \"\\\\ud83d\"\n";
        assert_eq!(rewrite(source), None);
    }
}
