//! Parsing one large data document on several threads: most of a bundle's activation time
//! is building the values of its largest object or array (a map of 100k users), so that
//! container's members are split at its commas into one run of members per thread, each
//! parsed by its own [`super::parse`] parser (and sharing cache), then put together in the
//! document's order and spliced into the serial parse of the rest.
//!
//! Owns: finding that container (descending into the child that holds most of the bytes),
//! the split, the threads, and the rule that makes the result the serial parser's: the same
//! value, and on any error the serial parser runs again, so that the error is its own.

use std::collections::BTreeMap;

use regorus::Value;

use super::parse::{ParseError, members_in, parse_interned, parse_interned_with};

/// Below this size one thread is as fast.
const MIN_BYTES: usize = 1 << 20;
/// A container with fewer members is not worth splitting.
const MIN_MEMBERS: usize = 1024;
/// Parsers' stacks: nesting is bounded (128 levels), 8 MiB is plenty.
const STACK_BYTES: usize = 8 << 20;

/// As [`parse_interned`], on up to `threads` threads for a document of at least
/// `min_bytes` (1 MiB unless a test says otherwise).
pub fn parse_interned_parallel(bytes: &[u8], threads: usize) -> Result<Value, ParseError> {
    parse_with(bytes, threads, MIN_BYTES, MIN_MEMBERS)
}

fn parse_with(
    bytes: &[u8],
    threads: usize,
    min_bytes: usize,
    min_members: usize,
) -> Result<Value, ParseError> {
    if threads < 2 || bytes.len() < min_bytes {
        return parse_interned(bytes);
    }
    let Some(target) = find_target(bytes, min_members) else {
        return parse_interned(bytes);
    };
    match parse_split(bytes, &target, threads) {
        Some(value) => Ok(value),
        None => parse_interned(bytes),
    }
}

/// The container to split: where its bracket is, its depth, its closing bracket, and the
/// commas between its members.
struct Target {
    open: usize,
    depth: usize,
    close: usize,
    commas: Vec<usize>,
}

/// One container's scan: its closing bracket, its commas, and its largest child container.
struct Scan {
    close: usize,
    commas: Vec<usize>,
    largest_child: Option<(usize, usize)>,
}

/// Descends from the document's root into the child container that holds more than half
/// of the bytes, until a container has `min_members` members.
fn find_target(bytes: &[u8], min_members: usize) -> Option<Target> {
    let mut open = bytes.iter().position(|b| !b" \t\r\n".contains(b))?;
    let mut depth = 1;
    loop {
        if !matches!(bytes[open], b'{' | b'[') || depth >= super::MAX_DEPTH {
            return None;
        }
        let scan = scan(bytes, open)?;
        if scan.commas.len() + 1 >= min_members {
            return Some(Target {
                open,
                depth,
                close: scan.close,
                commas: scan.commas,
            });
        }
        match scan.largest_child {
            Some((child, len)) if 2 * len > scan.close - open => {
                open = child;
                depth += 1;
            }
            _ => return None,
        }
    }
}

/// Scans the container whose bracket is at `open`, skipping strings; `None` when it does
/// not close (the serial parser then reports why).
fn scan(bytes: &[u8], open: usize) -> Option<Scan> {
    let mut commas = Vec::new();
    let mut largest: Option<(usize, usize)> = None;
    let mut depth = 0usize;
    let mut child_open = 0;
    let mut i = open + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // To the closing quote, past escaped characters.
                let mut j = i + 1;
                loop {
                    j += memchr::memchr2(b'"', b'\\', bytes.get(j..)?)?;
                    if bytes[j] == b'\\' {
                        j += 2;
                    } else {
                        break;
                    }
                }
                i = j;
            }
            b'{' | b'[' => {
                if depth == 0 {
                    child_open = i;
                }
                depth += 1;
            }
            b'}' | b']' => {
                if depth == 0 {
                    return Some(Scan {
                        close: i,
                        commas,
                        largest_child: largest,
                    });
                }
                depth -= 1;
                if depth == 0 && largest.is_none_or(|(_, len)| i - child_open > len) {
                    largest = Some((child_open, i - child_open));
                }
            }
            b',' if depth == 0 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses the target's members on `threads` threads and the rest of the document around
/// them; `None` on any error.
fn parse_split(bytes: &[u8], target: &Target, threads: usize) -> Option<Value> {
    let object = bytes[target.open] == b'{';
    // Chunk boundaries: the commas nearest to equal shares of the container's bytes.
    let span = target.close - target.open;
    let mut bounds = vec![target.open + 1];
    for k in 1..threads {
        let wanted = target.open + span * k / threads;
        let at = target.commas.partition_point(|&c| c < wanted);
        if let Some(&comma) = target.commas.get(at)
            && comma + 1 > *bounds.last()?
        {
            bounds.push(comma + 1);
        }
    }
    let chunks: Vec<(usize, usize)> = bounds
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = bounds.get(i + 1).map_or(target.close, |next| next - 1);
            (start, end)
        })
        .collect();
    let depth = target.depth;
    let parsed: Vec<Result<Vec<(Value, Value)>, ParseError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks[1..]
            .iter()
            .map(|&(start, end)| {
                std::thread::Builder::new()
                    .name("authzd-parse".into())
                    .stack_size(STACK_BYTES)
                    .spawn_scoped(scope, move || members_in(bytes, start, end, depth, object))
            })
            .collect();
        let (start, end) = chunks[0];
        let mut out = vec![members_in(bytes, start, end, depth, object)];
        for handle in handles {
            out.push(match handle {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    Err(ParseError {
                        message: "a parser thread failed".into(),
                        line: 0,
                        column: 0,
                    })
                }),
                Err(e) => Err(ParseError {
                    message: e.to_string(),
                    line: 0,
                    column: 0,
                }),
            });
        }
        out
    });
    let mut members = Vec::with_capacity(target.commas.len() + 1);
    for chunk in parsed {
        members.extend(chunk.ok()?);
    }
    let value = if object {
        // Sorted at once; a repeated key keeps its last value, as in the serial parse.
        Value::from(members.into_iter().collect::<BTreeMap<_, _>>())
    } else {
        Value::from(members.into_iter().map(|(_, v)| v).collect::<Vec<_>>())
    };
    parse_interned_with(bytes, target.open, target.close + 1, value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document like the scale benchmark's, with `n` users under `users`.
    fn users(n: usize) -> String {
        let users: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#""u{i}": {{"roles": ["r{}", "viewer"], "tenant": "t{}", "n": {i}, "s": "a\"b\\{i}", "orders": [[{i}], {{}}, []]}}"#,
                    i % 7,
                    i % 13
                )
            })
            .collect();
        format!(
            "{{\"meta\": {{\"v\": 1}}, \"users\": {{{}}}, \"tail\": [1, 2]}}",
            users.join(", ")
        )
    }

    #[test]
    fn split_parse_is_the_serial_parse() {
        let text = users(5000);
        let serial = parse_interned(text.as_bytes()).unwrap();
        for threads in [2, 3, 4, 7] {
            assert_eq!(
                parse_with(text.as_bytes(), threads, 0, 100).unwrap(),
                serial,
                "{threads} threads"
            );
        }
        let target = find_target(text.as_bytes(), 100).unwrap();
        assert_eq!(target.commas.len() + 1, 5000);
        assert_eq!(target.depth, 2);
    }

    #[test]
    fn arrays_at_the_root_and_repeated_keys_across_chunks() {
        let items: Vec<String> = (0..3000).map(|i| format!("{{\"k\": {i}}}")).collect();
        let text = format!("[{}]", items.join(","));
        assert_eq!(
            parse_with(text.as_bytes(), 4, 0, 100).unwrap(),
            parse_interned(text.as_bytes()).unwrap()
        );
        // The same key in the first and the last chunk: the last value wins, as serially.
        let members: Vec<String> = (0..3000)
            .map(|i| format!("\"k{}\": {i}", i % 1500))
            .collect();
        let text = format!("{{{}}}", members.join(","));
        let parsed = parse_with(text.as_bytes(), 4, 0, 100).unwrap();
        assert_eq!(parsed, parse_interned(text.as_bytes()).unwrap());
        assert_eq!(parsed["k0"], Value::from(1500u64));
    }

    #[test]
    fn errors_are_the_serial_parsers() {
        let text = users(3000);
        for (at, byte) in [
            (text.len() / 2, b'x'),
            (text.len() / 3, b'"'),
            (text.len() - 3, b','),
        ] {
            let mut broken = text.clone().into_bytes();
            broken[at] = byte;
            assert_eq!(
                parse_with(&broken, 4, 0, 100).unwrap_err(),
                parse_interned(&broken).unwrap_err(),
                "byte {at}"
            );
        }
        let cut = &text.as_bytes()[..text.len() / 2];
        assert_eq!(
            parse_with(cut, 4, 0, 100).unwrap_err(),
            parse_interned(cut).unwrap_err()
        );
    }
}
