//! The authzd side of a comparison with OPA's engine, run by hand: evaluates `{fn, args,
//! strict}` lines from `$BUILTIN_CASES` and writes one JSON answer per line (`{"value": ..}`,
//! `{"undefined": true}` or `{"error": ..}`) to `$BUILTIN_OUT`
//! (`cargo test --lib builtins::compare -- --ignored`; `tests/oracle/cmp.py` drives it).

#[test]
#[ignore = "a tool: needs BUILTIN_CASES and BUILTIN_OUT"]
fn compare() {
    let cases = std::fs::read_to_string(std::env::var("BUILTIN_CASES").unwrap()).unwrap();
    let mut out = String::new();
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = case["fn"].as_str().unwrap();
        let args = case["args"].as_array().unwrap();
        let strict = case["strict"].as_bool().unwrap_or(false);
        let params: Vec<String> = (0..args.len()).map(|i| format!("input.a{i}")).collect();
        let module = format!("package t\nx := {name}({})\n", params.join(", "));
        let mut engine = regorus::Engine::new();
        super::register(&mut engine).unwrap();
        engine.add_policy("t.rego".into(), module).unwrap();
        let mut input = serde_json::Map::new();
        for (i, a) in args.iter().enumerate() {
            input.insert(format!("a{i}"), a.clone());
        }
        engine.set_input(regorus::Value::from(serde_json::Value::Object(input)));
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            super::with_strict_errors(strict, || engine.eval_rule("data.t.x".to_string()))
        }));
        let json = match answer {
            Err(_) => serde_json::json!({"error": "panic"}),
            Ok(Ok(regorus::Value::Undefined)) => serde_json::json!({"undefined": true}),
            Ok(Ok(v)) => match v.to_json_str() {
                Ok(text) => {
                    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                    serde_json::json!({ "value": value })
                }
                Err(e) => serde_json::json!({"error": format!("unserializable {v:?}: {e}")}),
            },
            Ok(Err(e)) => serde_json::json!({"error": e.to_string()}),
        };
        out.push_str(&json.to_string());
        out.push('\n');
    }
    std::fs::write(std::env::var("BUILTIN_OUT").unwrap(), out).unwrap();
}
