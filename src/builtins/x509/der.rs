//! A DER reader for the certificate builtins: tag-length-value elements read in order, with
//! the raw bytes of each kept, since OPA's answers carry them (`Raw`, `RawTBSCertificate`,
//! `RawSubject`, ...). Only what X.509 needs: definite lengths, single-byte tags, and decoding
//! of OIDs, integers, booleans and times. Every failure is a `None` the caller names.

use rsa::BigUint;

pub(super) const BOOLEAN: u8 = 0x01;
pub(super) const INTEGER: u8 = 0x02;
pub(super) const BIT_STRING: u8 = 0x03;
pub(super) const OCTET_STRING: u8 = 0x04;
pub(super) const OID: u8 = 0x06;
pub(super) const SEQUENCE: u8 = 0x30;
pub(super) const SET: u8 = 0x31;
pub(super) const UTC_TIME: u8 = 0x17;
pub(super) const GENERALIZED_TIME: u8 = 0x18;

/// A context-specific tag `[n]`, primitive.
pub(super) const fn context(n: u8) -> u8 {
    0x80 | n
}

/// A context-specific tag `[n]`, constructed.
pub(super) const fn context_constructed(n: u8) -> u8 {
    0xa0 | n
}

/// One element: its tag, its contents, and its whole encoding (tag and length included).
#[derive(Clone, Copy)]
pub(super) struct Element<'a> {
    pub tag: u8,
    pub contents: &'a [u8],
    pub raw: &'a [u8],
}

/// Elements read one after another from a byte string.
#[derive(Clone, Copy)]
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element, if any.
    pub(super) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element, whatever its tag.
    pub(super) fn any(&mut self) -> Option<Element<'a>> {
        let (&tag, after_tag) = self.rest.split_first()?;
        if tag & 0x1f == 0x1f {
            return None; // multi-byte tags: not used by X.509
        }
        let (&first, mut after) = after_tag.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || after.len() < count {
                return None;
            }
            let (digits, rest) = after.split_at(count);
            after = rest;
            if digits[0] == 0 {
                return None; // not minimal (DER)
            }
            let len = digits.iter().fold(0usize, |n, d| n << 8 | usize::from(*d));
            if len < 0x80 {
                return None;
            }
            len
        };
        if after.len() < len {
            return None;
        }
        let header = self.rest.len() - after.len();
        let raw = &self.rest[..header + len];
        let contents = &after[..len];
        self.rest = &after[len..];
        Some(Element { tag, contents, raw })
    }

    /// The next element, which must have tag `tag`.
    pub(super) fn read(&mut self, tag: u8) -> Option<Element<'a>> {
        if self.peek_tag()? != tag {
            return None;
        }
        self.any()
    }

    /// The next element if it has tag `tag`; `Some(None)` when the next tag is another.
    pub(super) fn optional(&mut self, tag: u8) -> Option<Option<Element<'a>>> {
        if self.peek_tag() == Some(tag) {
            self.any().map(Some)
        } else {
            Some(None)
        }
    }

    /// The next element, an OBJECT IDENTIFIER, as its arcs.
    pub(super) fn oid(&mut self) -> Option<Vec<u64>> {
        self.read(OID).and_then(|e| oid(e.contents))
    }

    /// The contents of a SEQUENCE, as a reader of its elements.
    pub(super) fn sequence(&mut self) -> Option<Reader<'a>> {
        self.read(SEQUENCE).map(|e| Reader::new(e.contents))
    }
}

/// An OBJECT IDENTIFIER's arcs.
pub(super) fn oid(contents: &[u8]) -> Option<Vec<u64>> {
    if contents.is_empty() || contents.last().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    let mut start = true;
    for &b in contents {
        if start && b == 0x80 {
            return None; // not minimal
        }
        start = false;
        value = value.checked_mul(128)? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
            start = true;
        }
    }
    Some(arcs)
}

/// An OID in dotted form (`2.5.29.17`).
pub(super) fn dotted(arcs: &[u64]) -> String {
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The longest INTEGER read (16,384 bits, the largest RSA modulus authzd accepts): writing
/// an integer in decimal costs quadratic time, and a request may carry the certificate.
const MAX_INTEGER_BYTES: usize = 2048;

/// A DER INTEGER in decimal, negative numbers included (two's complement).
pub(super) fn integer_decimal(contents: &[u8]) -> Option<String> {
    if contents.len() > MAX_INTEGER_BYTES {
        return None;
    }
    let &first = contents.first()?;
    if contents.len() > 1 {
        let second = contents[1];
        if (first == 0 && second & 0x80 == 0) || (first == 0xff && second & 0x80 != 0) {
            return None; // not minimal
        }
    }
    if first & 0x80 == 0 {
        return Some(BigUint::from_bytes_be(contents).to_string());
    }
    // Negative: the magnitude is the two's complement.
    let inverted: Vec<u8> = contents.iter().map(|b| !b).collect();
    let magnitude = BigUint::from_bytes_be(&inverted) + 1u32;
    Some(format!("-{magnitude}"))
}

/// A DER INTEGER that fits an i64.
pub(super) fn small_integer(contents: &[u8]) -> Option<i64> {
    if contents.is_empty() || contents.len() > 8 {
        return None;
    }
    integer_decimal(contents)?;
    let negative = contents[0] & 0x80 != 0;
    let start: i64 = if negative { -1 } else { 0 };
    Some(contents.iter().fold(start, |n, b| (n << 8) | i64::from(*b)))
}

/// A DER BOOLEAN.
pub(super) fn boolean(contents: &[u8]) -> Option<bool> {
    match contents {
        [0x00] => Some(false),
        [0xff] => Some(true),
        _ => None,
    }
}

/// A BIT STRING's bytes and its number of unused bits in the last byte.
pub(super) fn bit_string(contents: &[u8]) -> Option<(&[u8], u8)> {
    let (&unused, bytes) = contents.split_first()?;
    if unused > 7 || (bytes.is_empty() && unused != 0) {
        return None;
    }
    if let Some(last) = bytes.last()
        && last & ((1u8 << unused) - 1) != 0
    {
        return None; // unused bits must be zero
    }
    Some((bytes, unused))
}

/// A UTCTime or GeneralizedTime as Go's `time.Time` marshals it (RFC 3339, UTC, `Z`). Like
/// Go's x509 parser, only the `Z` forms without fractions are accepted.
pub(super) fn time(element: &Element) -> Option<String> {
    let text = std::str::from_utf8(element.contents).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match element.tag {
        UTC_TIME if digits.len() == 12 => {
            let yy: u32 = digits[..2].parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &digits[2..])
        }
        GENERALIZED_TIME if digits.len() == 14 => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let field = |i: usize| rest[i..i + 2].parse::<u32>().ok();
    let (month, day, hour, minute, second) =
        (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    date.and_hms_opt(hour, minute, second)?;
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lengths_and_keeps_raw_bytes() {
        let bytes = [0x30, 0x03, 0x02, 0x01, 0x05, 0x04, 0x00];
        let mut reader = Reader::new(&bytes);
        let seq = reader.read(SEQUENCE).unwrap();
        assert_eq!(seq.raw, &bytes[..5]);
        assert_eq!(seq.contents, &[0x02, 0x01, 0x05]);
        assert!(reader.read(OCTET_STRING).unwrap().contents.is_empty());
        assert!(reader.is_empty());
        // Long form that could be short, and a length past the end, are refused.
        assert!(
            Reader::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5])
                .any()
                .is_none()
        );
        assert!(Reader::new(&[0x04, 0x05, 1]).any().is_none());
    }

    #[test]
    fn decodes_oids_integers_and_times() {
        assert_eq!(
            oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]).unwrap(),
            vec![1, 2, 840, 113549, 1, 1, 11]
        );
        assert_eq!(oid(&[0x55, 0x1d, 0x11]).unwrap(), vec![2, 5, 29, 17]);
        assert_eq!(integer_decimal(&[0x00, 0x80]).unwrap(), "128");
        assert_eq!(integer_decimal(&[0xff, 0x7f]).unwrap(), "-129");
        assert_eq!(integer_decimal(&[0x80]).unwrap(), "-128");
        assert!(integer_decimal(&[0x00, 0x01]).is_none());
        assert!(integer_decimal(&[0x7f; MAX_INTEGER_BYTES + 1]).is_none());
        assert!(integer_decimal(&[0x7f; MAX_INTEGER_BYTES]).is_some());
        assert_eq!(small_integer(&[0xff]), Some(-1));
        assert_eq!(small_integer(&[0x01, 0x00]), Some(256));
        let utc = Element {
            tag: UTC_TIME,
            contents: b"491231235959Z",
            raw: &[],
        };
        assert_eq!(time(&utc).unwrap(), "2049-12-31T23:59:59Z");
        let utc = Element {
            tag: UTC_TIME,
            contents: b"500101000000Z",
            raw: &[],
        };
        assert_eq!(time(&utc).unwrap(), "1950-01-01T00:00:00Z");
        let general = Element {
            tag: GENERALIZED_TIME,
            contents: b"20500229000000Z",
            raw: &[],
        };
        assert!(time(&general).is_none(), "2050 is no leap year");
    }
}
