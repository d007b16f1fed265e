//! `sprintf`, overriding regorus' with Go's `fmt.Sprintf` as OPA calls it: OPA hands Go an
//! integer as `int64` (or `*big.Int` beyond 64 bits), any other number as `float64`, a string as
//! `string`, and every other value as its Rego text (`[1, "a"]`), a `string` too. regorus knows
//! fewer verbs and flags and fails the call on the rest (`%s` of a number, `%-5s`, `%e`), which
//! makes a `deny contains sprintf(...)` silently not fire; Go writes `%!s(int64=1)` and goes on.
//!
//! Owns: the verbs `v d b o O x X c q U e E f F g G s t T %`, the flags `+ - # 0` and space,
//! width and precision (also `*`), argument indexes (`%[2]d`), and Go's error forms
//! (`%!d(string=a)`, `%!d(MISSING)`, `%!(EXTRA int64=2)`, `%!(NOVERB)`). A number is written from
//! its value, where OPA keeps a literal's text (`1e30` stays `1e30` in OPA, `1e+30` here).

use std::fmt::Write;

use regorus::Value;

use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "sprintf",
    nargs: 2,
    eval: sprintf,
}];

fn sprintf(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::String(format)), Some(values)) = (args.first(), args.get(1)) else {
        return builtin_error("sprintf: operand 1 must be string");
    };
    let Value::Array(values) = values else {
        return builtin_error("sprintf: operand 2 must be array");
    };
    let operands: Vec<Operand> = values.iter().map(Operand::of).collect();
    Ok(Value::from(format_go(format, &operands)))
}

/// A value as Go's `fmt` receives it: what it holds, and the name of its Go type (for `%T`
/// and `%!verb(type=value)`). `sprintf` gets OPA's operands ([`Operand::of`]); the template
/// builtin's `printf` gets Go's template values.
#[derive(Debug, Clone)]
pub(super) struct Operand {
    held: Held,
    go_type: &'static str,
}

#[derive(Debug, Clone)]
enum Held {
    Int(i64),
    /// An integer beyond 64 bits.
    Big(num_bigint::BigInt),
    Float(f64),
    /// A value of a string kind (`string`, and `json.Number`, a string type).
    Str(String),
    Bool(bool),
    /// A nil interface: `<nil>` to `%v`, refused by any other verb.
    Nil,
    /// A slice or a map (in key order): each element (and key) written with the directive.
    Slice(Vec<Operand>),
    Map(Vec<(Operand, Operand)>),
}

impl Operand {
    pub(super) fn int(i: i64, go_type: &'static str) -> Self {
        Self {
            held: Held::Int(i),
            go_type,
        }
    }

    pub(super) fn float(f: f64) -> Self {
        Self {
            held: Held::Float(f),
            go_type: "float64",
        }
    }

    pub(super) fn string(s: String, go_type: &'static str) -> Self {
        Self {
            held: Held::Str(s),
            go_type,
        }
    }

    pub(super) fn boolean(b: bool) -> Self {
        Self {
            held: Held::Bool(b),
            go_type: "bool",
        }
    }

    pub(super) fn nil() -> Self {
        Self {
            held: Held::Nil,
            go_type: "<nil>",
        }
    }

    pub(super) fn slice(items: Vec<Operand>, go_type: &'static str) -> Self {
        Self {
            held: Held::Slice(items),
            go_type,
        }
    }

    pub(super) fn map(entries: Vec<(Operand, Operand)>, go_type: &'static str) -> Self {
        Self {
            held: Held::Map(entries),
            go_type,
        }
    }

    /// An operand of OPA's `sprintf`: an integer is an `int64` (a `*big.Int` beyond 64 bits),
    /// any other number a `float64`, a string a `string`, anything else its Rego text.
    fn of(value: &Value) -> Self {
        match value {
            Value::String(s) => Operand::string(s.to_string(), "string"),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Operand::int(i, "int64")
                } else if n.is_integer()
                    && let Some(big) = n.as_big()
                {
                    Operand {
                        held: Held::Big((*big).clone()),
                        go_type: "*big.Int",
                    }
                } else {
                    Operand::float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            other => {
                let mut text = String::new();
                super::template_string::write_term(&mut text, other);
                Operand::string(text, "string")
            }
        }
    }
}

/// One `%` directive's flags, width and precision.
#[derive(Default, Clone, Copy)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Go's `fmt.Sprintf(format, operands...)`.
pub(super) fn format_go(format: &str, operands: &[Operand]) -> String {
    let mut out = String::new();
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    let mut next = 0usize;
    let mut reordered = false;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        while let Some(&f) = chars.get(i) {
            match f {
                '+' => spec.plus = true,
                '-' => spec.minus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        let index = |i: &mut usize, next: &mut usize, reordered: &mut bool| {
            if chars.get(*i) == Some(&'[') {
                let close = chars[*i..].iter().position(|&c| c == ']').map(|p| *i + p);
                if let Some(close) = close {
                    let digits: String = chars[*i + 1..close].iter().collect();
                    if let Ok(n) = digits.parse::<usize>()
                        && n >= 1
                    {
                        *next = n - 1;
                        *reordered = true;
                    }
                    *i = close + 1;
                }
            }
        };
        index(&mut i, &mut next, &mut reordered);
        if chars.get(i) == Some(&'*') {
            i += 1;
            match operands.get(next).map(|o| &o.held) {
                Some(Held::Int(w)) => {
                    if *w < 0 {
                        spec.minus = true;
                    }
                    spec.width = Some(w.unsigned_abs() as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            next += 1;
        } else {
            spec.width = digits(&chars, &mut i);
        }
        if chars.get(i) == Some(&'.') {
            i += 1;
            index(&mut i, &mut next, &mut reordered);
            if chars.get(i) == Some(&'*') {
                i += 1;
                match operands.get(next).map(|o| &o.held) {
                    Some(Held::Int(p)) if *p >= 0 => spec.precision = Some(*p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                next += 1;
            } else {
                spec.precision = Some(digits(&chars, &mut i).unwrap_or(0));
            }
        }
        index(&mut i, &mut next, &mut reordered);
        let Some(&verb) = chars.get(i) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(operand) = operands.get(next) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        next += 1;
        out.push_str(&directive(verb, spec, operand));
    }
    if !reordered && next < operands.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = operands[next..]
            .iter()
            .map(|o| format!("{}={}", o.go_type, plain(o)))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn digits(chars: &[char], i: &mut usize) -> Option<usize> {
    let start = *i;
    while chars.get(*i).is_some_and(char::is_ascii_digit) {
        *i += 1;
    }
    (start < *i).then(|| chars[start..*i].iter().collect::<String>().parse().ok())?
}

/// `operand` as `%v` writes it.
fn plain(operand: &Operand) -> String {
    directive('v', Spec::default(), operand)
}

/// Go's `%!verb(type=value)`, the value written as `%v` with the directive's flags, width and
/// precision.
fn bad_verb(verb: char, spec: Spec, operand: &Operand) -> String {
    if matches!(operand.held, Held::Nil) {
        return format!("%!{verb}(<nil>)");
    }
    format!(
        "%!{verb}({}={})",
        operand.go_type,
        directive('v', spec, operand)
    )
}

fn directive(verb: char, spec: Spec, operand: &Operand) -> String {
    if verb == 'T' {
        return string('s', spec, operand.go_type).unwrap_or_default();
    }
    match &operand.held {
        Held::Int(n) => integer(verb, spec, *n < 0, &n.unsigned_abs().into(), *n)
            .unwrap_or_else(|| bad_verb(verb, spec, operand)),
        Held::Big(b) => {
            let magnitude = b.magnitude().clone();
            let verb = if verb == 's' { 'd' } else { verb };
            if matches!(verb, 'c' | 'q' | 'U') {
                return format!("%!{verb}(big.Int={b})");
            }
            integer(
                verb,
                spec,
                b.sign() == num_bigint::Sign::Minus,
                &magnitude,
                0,
            )
            .unwrap_or_else(|| format!("%!{verb}(big.Int={b})"))
        }
        Held::Float(f) => float(verb, spec, *f).unwrap_or_else(|| bad_verb(verb, spec, operand)),
        Held::Str(s) => string(verb, spec, s).unwrap_or_else(|| bad_verb(verb, spec, operand)),
        Held::Bool(b) if matches!(verb, 'v' | 't') => pad(b.to_string(), spec, false),
        Held::Nil if verb == 'v' => pad("<nil>".to_string(), spec, false),
        Held::Bool(_) | Held::Nil => bad_verb(verb, spec, operand),
        Held::Slice(items) => {
            let items: Vec<String> = items.iter().map(|i| element(verb, spec, i)).collect();
            format!("[{}]", items.join(" "))
        }
        Held::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}:{}", element(verb, spec, k), element(verb, spec, v)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
    }
}

/// An element of a slice or map: as the directive writes it, but nil is `<nil>` whatever the
/// verb, as in Go.
fn element(verb: char, spec: Spec, operand: &Operand) -> String {
    match operand.held {
        Held::Nil if verb != 'T' => pad("<nil>".to_string(), spec, false),
        _ => directive(verb, spec, operand),
    }
}

/// Pads `text` to the width: spaces on the left, on the right with `-`, or zeros after the sign
/// with `0` (when `zero_ok`).
fn pad(text: String, spec: Spec, zero_ok: bool) -> String {
    let Some(width) = spec.width else {
        return text;
    };
    let len = text.chars().count();
    if len >= width {
        return text;
    }
    let fill = width - len;
    if spec.minus {
        format!("{text}{}", " ".repeat(fill))
    } else if spec.zero && zero_ok {
        let sign_len = text
            .chars()
            .next()
            .filter(|c| matches!(c, '+' | '-' | ' '))
            .map_or(0, char::len_utf8);
        format!(
            "{}{}{}",
            &text[..sign_len],
            "0".repeat(fill),
            &text[sign_len..]
        )
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

fn sign(spec: Spec, negative: bool) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn integer(
    verb: char,
    spec: Spec,
    negative: bool,
    magnitude: &num_bigint::BigUint,
    small: i64,
) -> Option<String> {
    let (radix, prefix) = match verb {
        'v' | 'd' => (10, ""),
        'b' => (2, if spec.sharp { "0b" } else { "" }),
        'o' => (8, if spec.sharp { "0" } else { "" }),
        'O' => (8, "0o"),
        'x' => (16, if spec.sharp { "0x" } else { "" }),
        'X' => (16, if spec.sharp { "0X" } else { "" }),
        'c' => {
            let c = u32::try_from(small).ok().and_then(char::from_u32)?;
            return Some(pad(c.to_string(), spec, false));
        }
        'q' => {
            let c = u32::try_from(small).ok().and_then(char::from_u32)?;
            let quoted = super::go_text::quote(&c.to_string());
            let inner = &quoted[1..quoted.len() - 1];
            let inner = if c == '\'' {
                "\\'"
            } else if c == '"' {
                "\""
            } else {
                inner
            };
            return Some(pad(format!("'{inner}'"), spec, false));
        }
        'U' => {
            let mut text = format!("U+{:04X}", small);
            if spec.sharp
                && let Some(c) = u32::try_from(small).ok().and_then(char::from_u32)
            {
                let _ = write!(text, " '{c}'");
            }
            return Some(pad(text, spec, false));
        }
        _ => return None,
    };
    let mut digits = magnitude.to_str_radix(radix);
    if verb == 'X' {
        digits = digits.to_uppercase();
    }
    if let Some(precision) = spec.precision {
        if precision == 0 && digits == "0" {
            digits.clear();
        } else if digits.len() < precision {
            digits = format!("{}{digits}", "0".repeat(precision - digits.len()));
        }
    }
    // Go's octal `#` adds a leading zero only when there is none.
    let prefix = if verb == 'o' && digits.starts_with('0') {
        ""
    } else {
        prefix
    };
    let text = format!("{}{prefix}{digits}", sign(spec, negative));
    Some(pad(text, spec, spec.precision.is_none()))
}

fn float(verb: char, spec: Spec, f: f64) -> Option<String> {
    let negative = f.is_sign_negative() && f != 0.0;
    let magnitude = f.abs();
    let body = if magnitude.is_infinite() {
        "Inf".to_string()
    } else if magnitude.is_nan() {
        "NaN".to_string()
    } else {
        match verb {
            'v' => shortest_g(magnitude, 'e', spec.precision),
            'g' | 'G' => {
                let text = shortest_g(magnitude, 'e', spec.precision);
                if verb == 'G' {
                    text.to_uppercase()
                } else {
                    text
                }
            }
            'e' | 'E' => {
                let text = exponent(magnitude, spec.precision.unwrap_or(6));
                if verb == 'E' {
                    text.to_uppercase()
                } else {
                    text
                }
            }
            'f' | 'F' => format!("{:.*}", spec.precision.unwrap_or(6), magnitude),
            _ => return None,
        }
    };
    let text = format!("{}{body}", sign(spec, negative));
    Some(pad(text, spec, magnitude.is_finite()))
}

/// Go's `%e`: one digit, the fraction to `precision` digits, and an exponent of at least two
/// digits with its sign (`1.234500e+03`).
fn exponent(f: f64, precision: usize) -> String {
    let text = format!("{:.*e}", precision, f);
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// Go's `%g`: the shortest decimal that reads back as `f` (or `precision` significant digits),
/// in exponent form when its exponent is below -4 or at least the precision (6 for the
/// shortest).
fn shortest_g(f: f64, e: char, precision: Option<usize>) -> String {
    if f == 0.0 {
        return "0".to_string();
    }
    // The significant digits and the decimal exponent, from Rust's shortest `{:e}`.
    let sci = match precision {
        Some(p) => format!("{:.*e}", p.max(1) - 1, f),
        None => format!("{f:e}"),
    };
    crate::go_float::g_from_scientific(&sci, e, precision)
}

fn string(verb: char, spec: Spec, s: &str) -> Option<String> {
    let truncated: String = match spec.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    let text = match verb {
        'v' | 's' => truncated,
        'q' => super::go_text::quote(&truncated),
        'x' | 'X' => {
            let bytes = truncated.as_bytes();
            let prefix = if spec.sharp {
                if verb == 'x' { "0x" } else { "0X" }
            } else {
                ""
            };
            let hex: Vec<String> = bytes
                .iter()
                .map(|b| {
                    if verb == 'x' {
                        format!("{b:02x}")
                    } else {
                        format!("{b:02X}")
                    }
                })
                .collect();
            if spec.space {
                hex.iter()
                    .map(|h| format!("{prefix}{h}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                format!("{prefix}{}", hex.concat())
            }
        }
        _ => return None,
    };
    Some(pad(text, spec, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(format: &str, values: &str) -> String {
        let Value::Array(values) = crate::value_json::parse(values.as_bytes()).unwrap() else {
            panic!("not an array");
        };
        let operands: Vec<Operand> = values.iter().map(Operand::of).collect();
        format_go(format, &operands)
    }

    #[test]
    fn verbs_flags_and_errors_as_go_writes_them() {
        // Expected values are OPA v1.20's (Go's fmt.Sprintf).
        let cases = [
            ("%s", "[1]", "%!s(int64=1)"),
            ("%t", "[\"true\"]", "%!t(string=true)"),
            ("%d", "[\"a\"]", "%!d(string=a)"),
            ("%d", "[-2]", "-2"),
            ("%5s", "[\"ab\"]", "   ab"),
            ("%-5s|", "[\"ab\"]", "ab   |"),
            ("%+d", "[42]", "+42"),
            ("%e", "[1234.5]", "1.234500e+03"),
            ("%g", "[0.0001]", "0.0001"),
            ("%o", "[8]", "10"),
            ("%f", "[1]", "%!f(int64=1)"),
            ("%.3s", "[\"abcdef\"]", "abc"),
            ("%x", "[\"hi\"]", "6869"),
            ("%T", "[1]", "int64"),
            ("%8.3f", "[3.14159]", "   3.142"),
            ("%d", "[1, 2]", "1%!(EXTRA int64=2)"),
            ("%", "[1]", "%!(NOVERB)%!(EXTRA int64=1)"),
            ("%z", "[1]", "%!z(int64=1)"),
            (
                "%x %X %o %O %b %c %q %U",
                "[255, 255, 8, 8, 5, 65, 65, 65]",
                "ff FF 10 0o10 101 A 'A' U+0041",
            ),
            (
                "%#x %#o %+d % d %-4d| %04d %.3d",
                "[255, 8, 5, 5, 5, -5, 7]",
                "0xff 010 +5  5 5   | -005 007",
            ),
            (
                "%e %E %.2e %g %G %.3g %f %.1f",
                "[1234.5678, 1234.5678, 1234.5678, 1234.5678, 0.00001234, 1234.5678, 1234.5678, 0.05]",
                "1.234568e+03 1.234568E+03 1.23e+03 1234.5678 1.234E-05 1.23e+03 1234.567800 0.1",
            ),
            (
                "%s %q %x % x %X %.2s %5.1s| %-6q|",
                "[\"hé\", \"hé\\n\", \"hi\", \"hi\", \"hi\", \"héllo\", \"abc\", \"a\"]",
                "hé \"hé\\n\" 6869 68 69 6869 hé     a| \"a\"   |",
            ),
            (
                "%v %d %s %x",
                "[12345678901234567890123, 12345678901234567890123, 12345678901234567890123, 12345678901234567890123]",
                "12345678901234567890123 12345678901234567890123 12345678901234567890123 29d42b64e76714244cb",
            ),
            (
                "%T %T %T %T %T",
                "[1, 1.5, \"s\", true, 12345678901234567890123]",
                "int64 float64 string string *big.Int",
            ),
            (
                "%5.2f|%-8.3f|%08.3f",
                "[3.14159, 3.14159, -3.14159]",
                " 3.14|3.142   |-003.142",
            ),
            ("%v %v %d", "[100, 1.0, 1.0]", "100 1 1"),
            (
                "%v|%s|%d",
                "[[1, \"a\"], {\"a\": 1}, null]",
                "[1, \"a\"]|{\"a\": 1}|%!d(string=null)",
            ),
            ("%6.2v|", "[3.14159]", "   3.1|"),
            ("%*d", "[5, 1]", "    1"),
            ("%[2]d %[1]d", "[1, 2]", "2 1"),
            ("%d %d", "[1]", "1 %!d(MISSING)"),
            ("%v %v", "[0.000001, 1.5]", "1e-06 1.5"),
        ];
        for (format, values, want) in cases {
            assert_eq!(go(format, values), want, "{format} {values}");
        }
    }
}
