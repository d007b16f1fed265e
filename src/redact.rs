//! URLs as they may be shown: in `/v1/status`, `/health`, logs and metrics.
//!
//! Owns: [`url`], which strips userinfo (`user:pass@`) and the values of credential-like query
//! parameters (`api_key`, `token`, `signature`, `X-Amz-*`, ...) from a URL, and
//! [`join_resource`], which appends a resource path to a service URL before its query string.
//! Fetching keeps the real URL; only what is displayed goes through here.

/// Query parameters whose values are credentials (compared without case, `-` and `_`).
const SECRET_PARAMS: [&str; 16] = [
    "apikey",
    "key",
    "token",
    "accesstoken",
    "idtoken",
    "authtoken",
    "auth",
    "secret",
    "clientsecret",
    "password",
    "passwd",
    "pwd",
    "signature",
    "sig",
    "credential",
    "code",
];

fn is_secret(name: &str) -> bool {
    let normal: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    normal.starts_with("xamz")
        || normal.starts_with("xgoog")
        || SECRET_PARAMS.contains(&normal.as_str())
        || normal.ends_with("token")
        || normal.ends_with("secret")
        || normal.ends_with("password")
}

/// `url` with userinfo removed and credential-like query values replaced by `REDACTED`.
pub fn url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = strip_userinfo(base);
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret(&percent_decode(name)) => {
                    format!("{name}=REDACTED")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

fn strip_userinfo(base: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://{}{path}", &authority[at + 1..]),
        None => base.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes.get(i), bytes.get(i + 1..i + 3)) {
            (Some(b'%'), Some(hex)) => {
                match std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            (Some(b), _) => {
                out.push(*b);
                i += 1;
            }
            (None, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `resource` appended to the path of `service` (a URL that may carry a query string): the
/// query stays at the end, and exactly one `/` separates the two.
pub fn join_resource(service: &str, resource: &str) -> String {
    let (base, query) = match service.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (service, None),
    };
    let mut joined = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        resource.trim_start_matches('/')
    );
    if let Some(query) = query {
        joined.push(if resource.contains('?') { '&' } else { '?' });
        joined.push_str(query);
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_credential_parameters_are_removed() {
        assert_eq!(
            url("https://user:pass@bundles.example.com/b.tar.gz?api_key=s3cret&v=1"),
            "https://bundles.example.com/b.tar.gz?api_key=REDACTED&v=1"
        );
        assert_eq!(
            url("https://h/b?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1&Token=t&keep=me"),
            "https://h/b?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&Token=REDACTED&keep=me"
        );
        assert_eq!(
            url("https://h/p?access-token=x"),
            "https://h/p?access-token=REDACTED"
        );
        assert_eq!(
            url("https://h/p?sig=x#frag"),
            "https://h/p?sig=REDACTED#frag"
        );
        assert_eq!(url("https://h/a@b"), "https://h/a@b");
        assert_eq!(url("/local/dir"), "/local/dir");
    }

    #[test]
    fn resources_go_before_the_query() {
        assert_eq!(
            join_resource("https://h/base/?api_key=k", "/bundles/b"),
            "https://h/base/bundles/b?api_key=k"
        );
        assert_eq!(
            join_resource("https://h", "bundles/b"),
            "https://h/bundles/b"
        );
        assert_eq!(
            join_resource("https://h?a=1", "b?x=2"),
            "https://h/b?x=2&a=1"
        );
    }
}
