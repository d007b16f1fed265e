//! Calling regorus' own implementation of a builtin from an override.
//!
//! Owns: evaluating regorus' builtin `name` on argument values, for overrides that fix OPA
//! compatibility at the edges (argument types, limits) and keep regorus' answer everywhere
//! else, so that the RVM (which calls regorus' builtin directly) and the interpreter agree
//! wherever the override does not step in. Regorus' builtins want the call's source span and
//! argument expressions (for their messages); a parsed placeholder call provides them.

use regorus::Value;
use regorus::unstable::{BUILTINS, Expr, Parser, Source};

/// Regorus' answer for `name(args...)`, or its error message.
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let (builtin, _) = BUILTINS
        .get(name)
        .ok_or_else(|| format!("{name}: not a regorus builtin"))?;
    let params: Vec<String> = (0..args.len()).map(|i| format!("a{i}")).collect();
    let text = format!("{name}({})", params.join(", "));
    let source = Source::from_contents(name.to_string(), text).map_err(|e| e.to_string())?;
    let mut parser = Parser::new(&source).map_err(|e| e.to_string())?;
    let expr = parser.parse_expr().map_err(|e| e.to_string())?;
    let Expr::Call { span, params, .. } = &expr else {
        return Err(format!("{name}: not a call"));
    };
    // Strict, so that a failure is an error the caller turns into OPA's builtin error.
    builtin(span, params, args, true).map_err(|e| {
        // regorus' messages carry a source excerpt; the last line is the message.
        let text = e.to_string();
        text.lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_regorus_builtins() {
        let got = call(
            "count",
            &[Value::from(vec![Value::from(1), Value::from(2)])],
        )
        .unwrap();
        assert_eq!(got, Value::from(2));
        assert!(call("count", &[Value::from(1)]).is_err());
        assert!(call("no.such.builtin", &[]).is_err());
    }
}
