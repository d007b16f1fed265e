//! `uri.parse` and `uri.is_valid`: a URI reference split the way OPA splits it, with Go's
//! `net/url.Parse` (OPA's engine is Go): what it accepts, how it decodes, and its error
//! messages (`parse "http://h:x/": invalid port ":x" after host`).
//!
//! `uri.parse` answers an object of the parts that are not empty: `scheme` (lower case),
//! `hostname`, `port`, `path` (decoded), `raw_path` (as written, when that differs from the
//! decoded path's default encoding; else the path), `raw_query` and `fragment` (decoded). A
//! URI with a scheme and no `/` after it (`mailto:a@b.c`) is opaque: only its scheme is given.
//! `uri.is_valid` is true when the string is not empty and parses.

use regorus::Value;
use regorus::value::Object;

use super::Builtin;
use super::args::{Outcome, finish, string};
use super::go_text::quote;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "uri.parse",
        nargs: 1,
        eval: |args| finish("uri.parse", parse_builtin(&args)),
    },
    Builtin {
        name: "uri.is_valid",
        nargs: 1,
        eval: |args| finish("uri.is_valid", is_valid(&args)),
    },
];

fn parse_builtin(args: &[Value]) -> Outcome {
    let text = string(args, 0)?;
    let uri = Uri::parse(text)?;
    let mut parts = Object::new();
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            parts.insert(Value::from(key), Value::from(value));
        }
    };
    put("scheme", &uri.scheme);
    let (hostname, port) = split_host_port(&uri.host);
    put("hostname", hostname);
    put("port", port);
    put("path", &uri.path);
    put("raw_path", uri.raw_path.as_deref().unwrap_or(&uri.path));
    put("raw_query", &uri.raw_query);
    put("fragment", &uri.fragment);
    Ok(parts.into_value())
}

/// `false` for anything but a string, as OPA answers.
fn is_valid(args: &[Value]) -> Outcome {
    let Some(Value::String(text)) = args.first() else {
        return Ok(Value::from(false));
    };
    Ok(Value::from(!text.is_empty() && Uri::parse(text).is_ok()))
}

/// The parts of a URI reference, as Go's `url.URL` holds them.
#[derive(Debug, Default, PartialEq)]
struct Uri {
    scheme: String,
    /// What follows `scheme:` when no `/` does (`mailto:a@b.c`), without query and fragment.
    opaque: String,
    /// The user name and, after a `:`, the password, decoded.
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    /// The path as written, when its decoding re-encodes differently.
    raw_path: Option<String>,
    /// `scheme:/path`: a scheme, a path, and no `//` before it.
    omit_host: bool,
    /// A `?` with nothing after it.
    force_query: bool,
    raw_query: String,
    fragment: String,
    /// The fragment as written, when its decoding re-encodes differently.
    raw_fragment: String,
}

impl Uri {
    /// Go's `url.Parse`, with its error message (`parse "…": …`).
    fn parse(text: &str) -> Result<Self, String> {
        let (before, fragment) = match text.split_once('#') {
            Some((before, fragment)) => (before, Some(fragment)),
            None => (text, None),
        };
        let mut uri = Self::parse_reference(before).map_err(|e| error(before, &e))?;
        if let Some(fragment) = fragment {
            uri.fragment = unescape(fragment, Mode::Fragment).map_err(|e| error(text, &e))?;
            if escape(&uri.fragment, Mode::Fragment) != fragment {
                uri.raw_fragment = fragment.into();
            }
        }
        Ok(uri)
    }

    /// Go's `URL.String()`: the URL re-encoded from its parts.
    fn to_go_string(&self) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(&self.opaque);
        } else {
            let omitted = self.omit_host && self.host.is_empty() && self.user.is_none();
            if (!self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some()) && !omitted
            {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.push_str("//");
                }
                if let Some((name, password)) = &self.user {
                    out.push_str(&escape(name, Mode::UserPassword));
                    if let Some(password) = password {
                        out.push(':');
                        out.push_str(&escape(password, Mode::UserPassword));
                    }
                    out.push('@');
                }
                out.push_str(&escape(&self.host, Mode::Host));
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                out.push('/');
            }
            if out.is_empty() && path.split('/').next().unwrap_or("").contains(':') {
                out.push_str("./");
            }
            out.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            out.push('#');
            let raw = &self.raw_fragment;
            if !raw.is_empty()
                && valid_encoded(raw, Mode::Fragment)
                && unescape(raw, Mode::Fragment).is_ok_and(|f| f == self.fragment)
            {
                out.push_str(raw);
            } else {
                out.push_str(&escape(&self.fragment, Mode::Fragment));
            }
        }
        out
    }

    /// Go's `EscapedPath()`.
    fn escaped_path(&self) -> String {
        if let Some(raw) = &self.raw_path
            && valid_encoded(raw, Mode::Path)
            && unescape(raw, Mode::Path).is_ok_and(|p| p == self.path)
        {
            return raw.clone();
        }
        if self.path == "*" {
            return "*".into();
        }
        escape(&self.path, Mode::Path)
    }

    /// The `url.URL` struct as Go's `json.Marshal` writes it (`User` has only unexported
    /// fields: `{}`).
    fn go_struct(&self) -> Value {
        let mut fields = Object::new();
        let mut put = |name: &str, value: Value| {
            fields.insert(Value::from(name), value);
        };
        put("Scheme", Value::from(self.scheme.as_str()));
        put("Opaque", Value::from(self.opaque.as_str()));
        put(
            "User",
            match self.user {
                Some(_) => Object::new().into_value(),
                None => Value::Null,
            },
        );
        put("Host", Value::from(self.host.as_str()));
        put("Path", Value::from(self.path.as_str()));
        put(
            "RawPath",
            Value::from(self.raw_path.as_deref().unwrap_or_default()),
        );
        put("OmitHost", Value::from(self.omit_host));
        put("ForceQuery", Value::from(self.force_query));
        put("RawQuery", Value::from(self.raw_query.as_str()));
        put("Fragment", Value::from(self.fragment.as_str()));
        put("RawFragment", Value::from(self.raw_fragment.as_str()));
        fields.into_value()
    }

    fn parse_reference(text: &str) -> Result<Self, String> {
        if text.bytes().any(|b| b < b' ' || b == 0x7f) {
            return Err("net/url: invalid control character in URL".into());
        }
        let mut uri = Self::default();
        if text == "*" {
            uri.path = "*".into();
            return Ok(uri);
        }
        let (scheme, rest) = scheme(text)?;
        uri.scheme = scheme.to_ascii_lowercase();
        let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
            uri.force_query = true;
            &rest[..rest.len() - 1]
        } else {
            match rest.split_once('?') {
                Some((rest, query)) => {
                    uri.raw_query = query.into();
                    rest
                }
                None => rest,
            }
        };
        if !rest.starts_with('/') {
            if !uri.scheme.is_empty() {
                // Opaque (`mailto:a@b.c`): `uri.parse` reports nothing but the scheme.
                uri.opaque = rest.into();
                return Ok(uri);
            }
            let segment = rest.split('/').next().unwrap_or("");
            if segment.contains(':') {
                return Err("first path segment in URL cannot contain colon".into());
            }
        }
        let mut path = rest;
        if (!uri.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
            let authority = &rest[2..];
            let (authority, after) = match authority.find('/') {
                Some(i) => (&authority[..i], &authority[i..]),
                None => (authority, ""),
            };
            (uri.host, uri.user) = parse_authority(authority)?;
            path = after;
        } else if !uri.scheme.is_empty() && rest.starts_with('/') {
            uri.omit_host = true;
        }
        uri.path = unescape(path, Mode::Path)?;
        if escape_path(&uri.path) != path {
            uri.raw_path = Some(path.into());
        }
        Ok(uri)
    }
}

/// Go's `url.Error` text: the operation, the URL quoted, the cause.
fn error(url: &str, cause: &str) -> String {
    format!("parse {}: {cause}", quote(url))
}

/// The scheme before the first `:`, if what precedes it can be one.
fn scheme(text: &str) -> Result<(&str, &str), String> {
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&text[..i], &text[i + 1..])),
            _ => return Ok(("", text)),
        }
    }
    Ok(("", text))
}

/// The host of an authority and its user information, decoded.
type Authority = (String, Option<(String, Option<String>)>);

/// The host and user of an authority (`uri.parse` reports no user).
fn parse_authority(authority: &str) -> Result<Authority, String> {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let host = parse_host(host)?;
    let Some(userinfo) = userinfo else {
        return Ok((host, None));
    };
    if !userinfo.bytes().all(valid_userinfo_byte) {
        return Err("net/url: invalid userinfo".into());
    }
    let user = match userinfo.split_once(':') {
        Some((name, password)) => (
            unescape(name, Mode::UserPassword)?,
            Some(unescape(password, Mode::UserPassword)?),
        ),
        None => (unescape(userinfo, Mode::UserPassword)?, None),
    };
    Ok((host, Some(user)))
}

fn valid_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b)
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(close) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let port = &host[close + 1..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", quote(port)));
        }
        if let Some(zone) = host[..close].find("%25") {
            let mut out = unescape(&host[..zone], Mode::Host)?;
            out.push_str(&unescape(&host[zone..close], Mode::Zone)?);
            out.push_str(&unescape(&host[close..], Mode::Host)?);
            return Ok(out);
        }
    } else if let Some(colon) = host.rfind(':') {
        let port = &host[colon..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", quote(port)));
        }
    }
    unescape(host, Mode::Host)
}

/// Empty, or `:` and digits only.
fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => port.is_empty(),
    }
}

/// Go's `Hostname()` and `Port()`: the port after the last `:` when it is digits, the host
/// without the brackets of an IPv6 literal.
fn split_host_port(host_port: &str) -> (&str, &str) {
    let mut host = host_port;
    let mut port = "";
    if let Some(colon) = host_port.rfind(':')
        && valid_optional_port(&host_port[colon..])
    {
        host = &host_port[..colon];
        port = &host_port[colon + 1..];
    }
    if host.len() >= 2 && host.starts_with('[') && host.ends_with(']') {
        host = &host[1..host.len() - 1];
    }
    (host, port)
}

/// Which part of the URI a string is, for what it may contain and how it is encoded.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
    /// A key or value of a query (Go's `encodeQueryComponent`): a space is `+`.
    QueryComponent,
}

/// Go's `url.QueryEscape` (`urlquery.encode`).
pub(super) fn query_escape(text: &str) -> String {
    escape(text, Mode::QueryComponent)
}

/// Go's `url.QueryUnescape` (`urlquery.decode`).
pub(super) fn query_unescape(text: &str) -> Result<String, String> {
    unescape(text, Mode::QueryComponent)
}

/// Decodes `%XX` escapes (and `+` in a query component), refusing a broken one (`invalid URL
/// escape "%zz"`) and, in a host, an escape of an ASCII byte other than `%25` and a byte a host
/// may not hold.
fn unescape(text: &str, mode: Mode) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
            let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                let end = (i + 3).min(bytes.len());
                return Err(format!(
                    "invalid URL escape {}",
                    quote(&String::from_utf8_lossy(&bytes[i..end]))
                ));
            };
            if mode == Mode::Host && high < 8 && &bytes[i..i + 3] != b"%25" {
                return Err(format!(
                    "invalid URL escape {}",
                    quote(&String::from_utf8_lossy(&bytes[i..i + 3]))
                ));
            }
            if mode == Mode::Zone {
                let decoded = (high * 16 + low) as u8;
                if &bytes[i..i + 3] != b"%25"
                    && decoded != b' '
                    && should_escape(decoded, Mode::Host)
                {
                    return Err(format!(
                        "invalid URL escape {}",
                        quote(&String::from_utf8_lossy(&bytes[i..i + 3]))
                    ));
                }
            }
            out.push((high * 16 + low) as u8);
            i += 3;
            continue;
        }
        if matches!(mode, Mode::Host | Mode::Zone) && b < 0x80 && should_escape(b, mode) {
            return Err(format!(
                "invalid character {} in host name",
                quote(&(b as char).to_string())
            ));
        }
        out.push(if b == b'+' && mode == Mode::QueryComponent {
            b' '
        } else {
            b
        });
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `shouldEscape`: whether `b` must be percent-encoded in a part of this kind.
fn should_escape(b: u8, mode: Mode) -> bool {
    if b.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone) && b"!$&'()*+,;=:[]<>\"".contains(&b) {
        return false;
    }
    match b {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => b == b'?',
            Mode::UserPassword => matches!(b, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => false,
            Mode::Host | Mode::Zone | Mode::QueryComponent => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
        _ => true,
    }
}

/// A decoded path in Go's default encoding (upper-case hex).
fn escape_path(path: &str) -> String {
    escape(path, Mode::Path)
}

/// Go's `escape`: every byte this part may not hold as `%XX` (upper-case hex), a space in a
/// query component as `+`.
fn escape(text: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b == b' ' && mode == Mode::QueryComponent {
            out.push('+');
        } else if should_escape(b, mode) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Go's `validEncoded`: `text` holds only bytes this part may hold as written.
fn valid_encoded(text: &str, mode: Mode) -> bool {
    text.bytes()
        .all(|b| b"!$&'()*+,;=:@[]%".contains(&b) || !should_escape(b, mode))
}

/// A URI as Go's `url.Parse` reads it.
pub(super) struct GoUrl {
    /// Its `url.URL` struct as `json.Marshal` writes it.
    pub value: Value,
    /// Its `String()`.
    pub text: String,
    /// Its `Host`: `host:port`, decoded.
    pub host: String,
}

/// Reads a URI as Go's `url.Parse` does, with Go's error messages.
pub(super) fn go_url(text: &str) -> Result<GoUrl, String> {
    let uri = Uri::parse(text)?;
    Ok(GoUrl {
        value: uri.go_struct(),
        text: uri.to_go_string(),
        host: uri.host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Value, String> {
        parse_builtin(&[Value::from(text)])
    }

    fn json(text: &str) -> Value {
        Value::from_json_str(text).unwrap()
    }

    /// Answers of OPA v1.20's engine (the differential test's oracle) for each input.
    #[test]
    fn parts_as_opa_reports_them() {
        let cases = [
            (
                "https://user:pw@example.com:8443/a/b%20c?x=1&y=2#frag",
                r#"{"fragment": "frag", "hostname": "example.com", "path": "/a/b c", "port": "8443", "raw_path": "/a/b c", "raw_query": "x=1&y=2", "scheme": "https"}"#,
            ),
            (
                "http://example.com",
                r#"{"hostname": "example.com", "scheme": "http"}"#,
            ),
            ("mailto:a@b.c", r#"{"scheme": "mailto"}"#),
            (
                "/relative/path?q",
                r#"{"path": "/relative/path", "raw_path": "/relative/path", "raw_query": "q"}"#,
            ),
            (
                "not a uri",
                r#"{"path": "not a uri", "raw_path": "not a uri"}"#,
            ),
            ("", "{}"),
            ("urn:isbn:123", r#"{"scheme": "urn"}"#),
            (
                "http://[::1]:80/p",
                r#"{"hostname": "::1", "path": "/p", "port": "80", "raw_path": "/p", "scheme": "http"}"#,
            ),
            (
                "HTTP://EXAMPLE.com/%7e",
                r#"{"hostname": "EXAMPLE.com", "path": "/~", "raw_path": "/%7e", "scheme": "http"}"#,
            ),
            (
                "http://host/a b",
                r#"{"hostname": "host", "path": "/a b", "raw_path": "/a b", "scheme": "http"}"#,
            ),
            (
                "//host/path",
                r#"{"hostname": "host", "path": "/path", "raw_path": "/path"}"#,
            ),
            ("foo:bar:baz", r#"{"scheme": "foo"}"#),
            (
                "http://h/p#a%2Fb",
                r#"{"fragment": "a/b", "hostname": "h", "path": "/p", "raw_path": "/p", "scheme": "http"}"#,
            ),
            (
                "http://h:99999/",
                r#"{"hostname": "h", "path": "/", "port": "99999", "raw_path": "/", "scheme": "http"}"#,
            ),
            ("http:", r#"{"scheme": "http"}"#),
            (
                "http:/p",
                r#"{"path": "/p", "raw_path": "/p", "scheme": "http"}"#,
            ),
            ("http:p", r#"{"scheme": "http"}"#),
            ("http://h?#", r#"{"hostname": "h", "scheme": "http"}"#),
            (
                "http://h/?q=%zz",
                r#"{"hostname": "h", "path": "/", "raw_path": "/", "raw_query": "q=%zz", "scheme": "http"}"#,
            ),
            (
                "http://h/p%2Fq",
                r#"{"hostname": "h", "path": "/p/q", "raw_path": "/p%2Fq", "scheme": "http"}"#,
            ),
            ("HtTp://h", r#"{"hostname": "h", "scheme": "http"}"#),
            (
                "http://h/p?a=1#f?g",
                r#"{"fragment": "f?g", "hostname": "h", "path": "/p", "raw_path": "/p", "raw_query": "a=1", "scheme": "http"}"#,
            ),
            (
                "http://h/\u{e9}",
                r#"{"hostname": "h", "path": "/\u00e9", "raw_path": "/\u00e9", "scheme": "http"}"#,
            ),
            ("?", "{}"),
            ("#", "{}"),
            (
                "http://h:/",
                r#"{"hostname": "h", "path": "/", "raw_path": "/", "scheme": "http"}"#,
            ),
            ("x://@/", r#"{"path": "/", "raw_path": "/", "scheme": "x"}"#),
            ("mailto:%zz", r#"{"scheme": "mailto"}"#),
            (
                "http://h/a?b c",
                r#"{"hostname": "h", "path": "/a", "raw_path": "/a", "raw_query": "b c", "scheme": "http"}"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parsed(input), Ok(json(want)), "{input}");
            assert_eq!(
                is_valid(&[Value::from(input)]),
                Ok(Value::from(!input.is_empty())),
                "{input}"
            );
        }
    }

    #[test]
    fn errors_as_go_words_them() {
        let cases = [
            (
                "http://h:x/",
                r#"parse "http://h:x/": invalid port ":x" after host"#,
            ),
            (
                "1http://x",
                r#"parse "1http://x": first path segment in URL cannot contain colon"#,
            ),
            (
                "a b:c",
                r#"parse "a b:c": first path segment in URL cannot contain colon"#,
            ),
            (
                "http://h/#%zz",
                r#"parse "http://h/#%zz": invalid URL escape "%zz""#,
            ),
            (
                "http://u%zz@h/",
                r#"parse "http://u%zz@h/": invalid URL escape "%zz""#,
            ),
            (
                "http://[::1/",
                r#"parse "http://[::1/": missing ']' in host"#,
            ),
            (
                "http://h%41/",
                r#"parse "http://h%41/": invalid URL escape "%41""#,
            ),
            (
                "ftp://a b/",
                r#"parse "ftp://a b/": invalid character " " in host name"#,
            ),
            (
                "http://h/%",
                r#"parse "http://h/%": invalid URL escape "%""#,
            ),
            (":x", r#"parse ":x": missing protocol scheme"#),
            (
                "http://h/\u{1}",
                r#"parse "http://h/\x01": net/url: invalid control character in URL"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parsed(input), Err(want.to_string()), "{input}");
            assert_eq!(is_valid(&[Value::from(input)]), Ok(Value::from(false)));
        }
        assert_eq!(
            parsed_with_name(Value::from(1u64)),
            "uri.parse: operand 1 must be string but got number"
        );
    }

    /// The builtin's error under strict builtin errors (undefined otherwise, as in OPA).
    fn parsed_with_name(arg: Value) -> String {
        let builtin = BUILTINS.iter().find(|b| b.name == "uri.parse").unwrap();
        assert_eq!((builtin.eval)(vec![arg.clone()]).unwrap(), Value::Undefined);
        super::super::with_strict_errors(true, || (builtin.eval)(vec![arg]).unwrap_err())
            .to_string()
    }
}
