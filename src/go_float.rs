//! Go's `%g` spelling of a number (`strconv.FormatFloat(f, 'g', ...)`), shared by `sprintf`
//! and by YAML's float keys ([`crate::value_yaml`]).
//!
//! Owns: turning the digits and exponent Rust writes (`{:e}`) into Go's spelling.

/// Go's `%g` of a positive number Rust wrote as `{:e}` (`1.2345679e8`): for the shortest
/// digits of an f32 too (`strconv.FormatFloat(f, 'g', -1, 32)`).
pub(crate) fn g_from_scientific(sci: &str, e: char, precision: Option<usize>) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let eprec = match precision {
        None => 6,
        Some(p) => {
            let p = p.max(1) as i32;
            if p > digits.len() as i32 && digits.len() as i32 > exp {
                digits.len() as i32
            } else {
                p
            }
        }
    };
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{first}{fraction}{e}{sign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("0.{zeros}{digits}");
    }
    let point = (exp + 1) as usize;
    if digits.len() <= point {
        format!("{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{}.{}", &digits[..point], &digits[point..])
    }
}
