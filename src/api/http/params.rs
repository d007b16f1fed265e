//! Query parameters of the data API, read the way OPA reads them.
//!
//! Owns: boolean parameters (`?pretty`, `?metrics=true`: present without a value, or any value
//! equal to `true` ignoring case) and the `input` parameter of `GET /v1/data`.

/// The parameters a data request may carry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DataParams {
    pub pretty: bool,
    pub provenance: bool,
    pub metrics: bool,
    pub strict_builtin_errors: bool,
    /// The last `input=` value, URL-decoded.
    pub input: Option<String>,
}

impl DataParams {
    pub fn parse(query: Option<&str>) -> Self {
        let mut params = Self::default();
        let Some(query) = query.filter(|q| !q.is_empty()) else {
            return params;
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let truthy = value.is_empty() || value.eq_ignore_ascii_case("true");
            match key.as_ref() {
                "pretty" => params.pretty |= truthy,
                "provenance" => params.provenance |= truthy,
                "metrics" | "instrument" => params.metrics |= truthy,
                "strict-builtin-errors" => params.strict_builtin_errors |= truthy,
                "input" => params.input = Some(value.into_owned()),
                _ => {}
            }
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_opa() {
        let p = DataParams::parse(Some(
            "pretty&metrics=TRUE&provenance=false&strict-builtin-errors=",
        ));
        assert!(p.pretty);
        assert!(p.metrics);
        assert!(!p.provenance);
        assert!(p.strict_builtin_errors);
        assert_eq!(DataParams::parse(None), DataParams::default());
        assert!(!DataParams::parse(Some("pretty=1")).pretty);
    }

    #[test]
    fn input_is_decoded_and_last_wins() {
        let p = DataParams::parse(Some("input=%7B%22a%22%3A1%7D&input=%7B%22b%22%3A+2%7D"));
        assert_eq!(p.input.as_deref(), Some("{\"b\": 2}"));
    }
}
