//! Number literals beyond f64's range in a policy, written so that regorus reads them exactly.
//!
//! OPA keeps `1e400` as the integer it denotes. regorus' lexer checks each number literal
//! against f64's range and refused the module (`invalid number ... out of range`); its parser
//! reads an integer literal of up to 308 digits as an exact big integer. Owns: finding number
//! literals outside comments and strings whose value is an integer beyond f64's range
//! (`1e400`, `15e399`, a 400-digit integer) and writing each as an exact product of literals
//! regorus takes, `((1000...0 * 1000...0) + 0)`, on the same line.

/// Digits per literal of the product: below f64's 309.
const CHUNK: usize = 300;

/// `source` with every such literal rewritten, or `None` when it has none.
pub fn rewrite(source: &str) -> Option<String> {
    let src = source.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut pos = 0;
    while let Some(&byte) = src.get(pos) {
        match byte {
            b'#' => pos = skip_until(src, pos + 1, b'\n'),
            b'`' => pos = skip_until(src, pos + 1, b'`') + 1,
            b'"' => {
                pos += 1;
                while let Some(&b) = src.get(pos) {
                    match b {
                        b'\\' => pos += 2,
                        b'"' | b'\n' => break,
                        _ => pos += 1,
                    }
                }
                pos += 1;
            }
            b'0'..=b'9' if pos == 0 || !is_word(src[pos - 1]) => {
                let end = literal_end(src, pos);
                let text = source.get(pos..end)?;
                if let Some(expression) = exact_expression(text) {
                    // `-1e400`, a negative literal: regorus negates no parenthesis.
                    let negated = pos > copied && negative_sign(&source[..pos]);
                    let start = if negated { pos - 1 } else { pos };
                    out.push_str(source.get(copied..start)?);
                    if negated {
                        out.push_str(&format!("(0 - {expression})"));
                    } else {
                        out.push_str(&expression);
                    }
                    copied = end;
                }
                pos = end;
            }
            _ => pos += 1,
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(source.get(copied..)?);
    Some(out)
}

/// True when `before` ends with a `-` that starts an operand (after an operator, a bracket, a
/// comma or the start of a statement), not one that subtracts.
fn negative_sign(before: &str) -> bool {
    let Some(rest) = before.strip_suffix('-') else {
        return false;
    };
    let rest = rest.trim_end();
    rest.is_empty()
        || rest.ends_with([
            '=', '(', '[', '{', ',', ':', '|', '+', '*', '/', '<', '>', '%', ';',
        ])
        || rest.ends_with(" if")
        || rest.ends_with('\n')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

fn skip_until(src: &[u8], from: usize, end: u8) -> usize {
    src[from.min(src.len())..]
        .iter()
        .position(|&b| b == end)
        .map_or(src.len(), |at| from + at)
}

/// The end of the number literal at `start`: digits, a fraction, an exponent.
fn literal_end(src: &[u8], start: usize) -> usize {
    let digits = |mut at: usize| {
        while src.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        at
    };
    let mut end = digits(start);
    if src.get(end) == Some(&b'.') && src.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end = digits(end + 1);
    }
    if matches!(src.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(src.get(end + 1), Some(b'+' | b'-')));
        if src.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
            end = digits(end + 1 + sign);
        }
    }
    end
}

/// `text` as an exact expression when it is an integer beyond f64's range.
fn exact_expression(text: &str) -> Option<String> {
    if text.parse::<f64>().ok()?.is_finite() {
        return None;
    }
    let digits = crate::value_json::integer_digits(text, crate::value_json::MAX_EXACT_DIGITS)?;
    // Horner's rule over chunks of CHUNK digits, the first one shorter.
    let head = digits.len() % CHUNK;
    let mut chunks: Vec<&str> = Vec::new();
    if head > 0 {
        chunks.push(&digits[..head]);
    }
    chunks.extend(
        digits.as_bytes()[head..]
            .chunks(CHUNK)
            .filter_map(|c| std::str::from_utf8(c).ok()),
    );
    let shift = format!("1{}", "0".repeat(CHUNK));
    let mut expression = number(chunks.first()?);
    for chunk in &chunks[1..] {
        expression = format!("({expression} * {shift} + {})", number(chunk));
    }
    Some(expression)
}

/// A chunk of digits as a literal (without leading zeros).
fn number(chunk: &str) -> String {
    let trimmed = chunk.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_f64_become_exact_products() {
        let out = rewrite("package t\nx := [1e400, 2, 1.5] # 1e400\ny := \"1e400\"\n").unwrap();
        let shift = format!("1{}", "0".repeat(CHUNK));
        let head = format!("1{}", "0".repeat(100));
        assert_eq!(
            out,
            format!("package t\nx := [({head} * {shift} + 0), 2, 1.5] # 1e400\ny := \"1e400\"\n")
        );
        assert_eq!(out.lines().count(), 3);
        let negated = rewrite("x := [-1e400, 2 -1e400]").unwrap();
        assert_eq!(
            negated,
            format!("x := [(0 - ({head} * {shift} + 0)), 2 -({head} * {shift} + 0)]")
        );
    }

    #[test]
    fn numbers_within_f64_and_fractions_are_left_alone() {
        for source in [
            "package t\nx := 1e300\n",
            "package t\nx := 123456789012345678901234567890\n",
            "package t\nx := input.a1e400\n",
            "package t\nx := `1e400`\n",
        ] {
            assert_eq!(rewrite(source), None, "{source}");
        }
    }
}
