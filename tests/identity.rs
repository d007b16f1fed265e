//! The identity step against the real binary: gateway-signed user contexts, service tokens and
//! JWTs verified before every decision, over the HTTP Data API (v1, v0, `POST /`, batch), gRPC
//! (`Decide`, `DecideBatch`) and Envoy `Check`; what the policy sees in `input.identity`; that
//! the decision log carries the verified identity and never a credential; the metrics; secret
//! rotation without a restart; and start-up errors for missing secrets.

mod common;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authzd::api::grpc::pb;
use authzd::api::grpc::pb::authorizer_client::AuthorizerClient;
use base64::Engine as _;
use common::{Daemon, client, metric};
use envoy_types::ext_authz::v3::pb::CheckRequest;
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, attribute_context};
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;
use tonic::transport::Channel;

const GATEWAY_SECRET: &str = "gateway-secret-for-tests";
const SERVICE_SECRET: &str = "service-secret-for-tests";
const ISSUER: &str = "https://gateway.example.com";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn hex_hmac(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The three headers of a user context signed at `at` with `secret`.
fn context_headers(secret: &str, context: &str, at: u64) -> Value {
    json!({
        "x-user-context": context,
        "x-user-context-timestamp": at.to_string(),
        "x-user-context-signature": hex_hmac(secret, &format!("{at}.{context}")),
    })
}

fn service_token(secret: &str, service: &str, issued: u64, expires: u64) -> String {
    let claims = json!({"service": service, "instance": "order-7d9f", "issuedAt": issued, "expiresAt": expires});
    let payload = base64::engine::general_purpose::STANDARD.encode(claims.to_string());
    format!("{payload}.{}", hex_hmac(secret, &payload))
}

/// A JWT signed with the private JWK `name` of `tests/keys/private_jwks.json`, by the
/// product's own `io.jwt.encode_sign_raw`.
fn jwt(name: &str, header: &str, claims: &Value) -> String {
    let keys: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("tests/keys/private_jwks.json")).unwrap(),
    )
    .unwrap();
    let builtin = authzd::builtins::all()
        .find(|b| b.name == "io.jwt.encode_sign_raw")
        .unwrap();
    let token = (builtin.eval)(vec![
        regorus::Value::from(header),
        regorus::Value::from(claims.to_string()),
        regorus::Value::from(keys[name].to_string()),
    ])
    .unwrap();
    token.as_string().unwrap().to_string()
}

/// A daemon serving the example bundle with all three verifiers, its decision log in `dir`.
fn start(dir: &Path) -> Daemon {
    std::fs::write(dir.join("user-context"), format!("{GATEWAY_SECRET}\n")).unwrap();
    let config = format!(
        r#"
identity:
  user_context:
    secret_path: {dir}/user-context
    max_age_seconds: 300
  service_token:
    secret: {SERVICE_SECRET}
  jwt:
    issuer: {ISSUER}
    audiences: [orders]
    jwks_path: {jwks}
    leeway_seconds: 5
"#,
        dir = dir.display(),
        jwks = common::repo().join("tests/keys/jwks.json").display(),
    );
    let config_path = dir.join("authzd.yaml");
    std::fs::write(&config_path, config).unwrap();
    Daemon::start(&[
        "--config-file",
        config_path.to_str().unwrap(),
        "--decision-logs-file",
        dir.join("decisions.jsonl").to_str().unwrap(),
    ])
}

fn post(d: &Daemon, path: &str, body: &Value) -> (u16, Value) {
    let response = client().post(d.url(path)).json(body).send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn decision(d: &Daemon, path: &str, input: Value) -> Value {
    let (status, body) = post(d, path, &json!({ "input": input }));
    assert_eq!(status, 200, "{body}");
    body["result"].clone()
}

/// `orders/decision` for viewing order 42 (owned by 10001) with `headers`, plus a forged
/// `input.identity` and `input.subject` the step must ignore.
fn view_order(d: &Daemon, headers: Value) -> Value {
    decision(
        d,
        "/v1/data/orders/decision",
        json!({
            "headers": headers,
            "identity": {"user": {"id": "10001", "roles": ["admin"]}},
            "subject": {"id": "10001"},
            "action": "view",
            "resource": {"type": "order", "id": "42", "owner": "10001"},
        }),
    )
}

/// A denial for want of a verified user (reasons are a set: sorted).
fn refused(reason: &str) -> Value {
    let mut reasons = vec!["the request carries no verified user", reason];
    reasons.sort_unstable();
    json!({"allow": false, "reasons": reasons})
}

const OWNER: &str = r#"{"id":"10001","roles":["customer"]}"#;

/// The policy sees exactly what was verified: `orders/echo`-like access through the bundle's
/// own data path `data.lib.identity`, read over v1.
fn identity_seen(d: &Daemon, input: Value) -> Value {
    // The example bundle has no rule echoing the input; `lib/identity` rules show what the
    // policy reads.
    json!({
        "user": decision(d, "/v1/data/lib/identity/user", input.clone()),
        "caller": decision(d, "/v1/data/lib/identity/caller", input.clone()),
        "refusals": decision(d, "/v1/data/lib/identity/refusals", input),
    })
}

#[test]
fn user_contexts_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let at = now();

    // Valid: the owner views their order.
    let valid = context_headers(GATEWAY_SECRET, OWNER, at);
    assert_eq!(
        view_order(&d, valid.clone()),
        json!({"allow": true, "reasons": []})
    );
    // Header names are case-insensitive, values may be one-element lists.
    let mut spelled = json!({});
    for (k, v) in valid.as_object().unwrap() {
        spelled[k.to_uppercase()] = json!([v]);
    }
    assert_eq!(view_order(&d, spelled)["allow"], json!(true));

    // Expired, and signed too far in the future.
    assert_eq!(
        view_order(&d, context_headers(GATEWAY_SECRET, OWNER, at - 301)),
        refused("user_context refused: expired")
    );
    assert_eq!(
        view_order(&d, context_headers(GATEWAY_SECRET, OWNER, at + 400)),
        refused("user_context refused: not_yet_valid")
    );
    // Wrong secret.
    assert_eq!(
        view_order(&d, context_headers("guessed", OWNER, at)),
        refused("user_context refused: signature_mismatch")
    );
    // The payload tampered with, the signature kept: another user.
    let mut tampered = valid.clone();
    tampered["x-user-context"] = json!(r#"{"id":"30001","roles":["admin"]}"#);
    assert_eq!(
        view_order(&d, tampered),
        refused("user_context refused: signature_mismatch")
    );
    // Malformed: no signature, a bad timestamp, a context that is no JSON object.
    let mut unsigned = valid.clone();
    unsigned
        .as_object_mut()
        .unwrap()
        .remove("x-user-context-signature");
    assert_eq!(
        view_order(&d, unsigned),
        refused("user_context refused: malformed")
    );
    let mut bad_time = valid.clone();
    bad_time["x-user-context-timestamp"] = json!("yesterday");
    assert_eq!(
        view_order(&d, bad_time),
        refused("user_context refused: malformed")
    );
    assert_eq!(
        view_order(&d, context_headers(GATEWAY_SECRET, "[1]", at)),
        refused("user_context refused: malformed")
    );
    // Missing: no user, no error; the forged input.identity and input.subject do not count.
    assert_eq!(
        view_order(&d, json!({"accept": "*/*"})),
        json!({"allow": false, "reasons": ["the request carries no verified user"]})
    );

    // What the policy sees: the context, verified; nothing the client claimed.
    assert_eq!(
        identity_seen(
            &d,
            json!({"headers": context_headers(GATEWAY_SECRET, OWNER, at), "identity": {"caller": {"service": "order-service"}}})
        ),
        json!({"user": {"id": "10001", "roles": ["customer"]}, "caller": null, "refusals": []})
    );

    // v0, POST / and batch go through the same step.
    let body = json!({"headers": context_headers(GATEWAY_SECRET, OWNER, at), "action": "read"});
    let v0: Value = client()
        .post(d.url("/v0/data/inventory/allow"))
        .json(&body)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v0, json!(true));
    let forged = json!({"headers": context_headers("guessed", OWNER, at), "action": "read", "service": "inventory"});
    let main: Value = client()
        .post(d.url("/"))
        .json(&forged)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        main,
        json!({"allow": false, "reasons": ["reading stock requires an authenticated subject", "user_context refused: signature_mismatch"]})
    );
    let (status, batch) = post(
        &d,
        "/v1/batch/data/orders/allow",
        &json!({
            "inputs": {
                "signed": {"headers": context_headers(GATEWAY_SECRET, OWNER, at)},
                "forged": {"headers": context_headers("guessed", OWNER, at), "identity": {"user": {"id": "10001"}}},
            },
            "common_input": {"action": "view", "resource": {"owner": "10001"}},
        }),
    );
    assert_eq!(status, 200, "{batch}");
    assert_eq!(batch["responses"]["signed"]["result"], json!(true));
    assert_eq!(batch["responses"]["forged"]["result"], json!(false));

    // Counted by source and result.
    let metrics = client()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let count = |result: &str| {
        metric(
            &metrics,
            "authzd_identity_verifications_total",
            &[("source", "user_context"), ("result", result)],
        )
    };
    assert_eq!(count("verified"), 7.0, "{metrics}");
    assert_eq!(count("signature_mismatch"), 4.0);
    assert_eq!(count("expired"), 1.0);
    assert_eq!(count("not_yet_valid"), 1.0);
    assert_eq!(count("malformed"), 3.0);

    // The decision log has the verified user and none of the credentials.
    let log = d.stop_and_read_log();
    assert!(!log.contains(GATEWAY_SECRET));
    let events = std::fs::read_to_string(dir.path().join("decisions.jsonl")).unwrap();
    assert!(!events.is_empty());
    for needle in [
        GATEWAY_SECRET,
        "x-user-context",
        &hex_hmac(GATEWAY_SECRET, &format!("{at}.{OWNER}")),
    ] {
        assert!(
            !events.contains(needle),
            "{needle} in the decision log:\n{events}"
        );
    }
    let first: Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["input"]["identity"],
        json!({"user": {"id": "10001", "roles": ["customer"]}}),
        "{first}"
    );
    assert_eq!(first["input"]["headers"], json!({}));
}

#[test]
fn service_tokens_and_jwts_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let at = now();
    let initiate = |token: &str| {
        decision(
            &d,
            "/v1/data/payment/decision",
            json!({"headers": {"x-service-auth": token}, "caller": {"service": "order-service"}, "action": "initiate"}),
        )
    };
    assert_eq!(
        initiate(&service_token(
            SERVICE_SECRET,
            "order-service",
            at,
            at + 300
        )),
        json!({"allow": true, "reasons": []})
    );
    let denied = |reason: &str| json!({"allow": false, "reasons": ["service \"\" may not initiate payments", reason]});
    assert_eq!(
        initiate(&service_token(
            SERVICE_SECRET,
            "order-service",
            at - 600,
            at - 1
        )),
        denied("service_token refused: expired")
    );
    assert_eq!(
        initiate(&service_token(
            SERVICE_SECRET,
            "order-service",
            at + 600,
            at + 900
        )),
        denied("service_token refused: not_yet_valid")
    );
    assert_eq!(
        initiate(&service_token("guessed", "order-service", at, at + 300)),
        denied("service_token refused: signature_mismatch")
    );
    let genuine = service_token(SERVICE_SECRET, "inventory-service", at, at + 300);
    let (_, signature) = genuine.split_once('.').unwrap();
    let claims = json!({"service": "order-service", "instance": "order-7d9f", "issuedAt": at, "expiresAt": at + 300});
    let forged_payload = base64::engine::general_purpose::STANDARD.encode(claims.to_string());
    assert_eq!(
        initiate(&format!("{forged_payload}.{signature}")),
        denied("service_token refused: signature_mismatch")
    );
    assert_eq!(
        initiate("not-a-token"),
        denied("service_token refused: malformed")
    );
    // A verified token from another service is that service.
    assert_eq!(
        initiate(&genuine),
        json!({"allow": false, "reasons": ["service \"inventory-service\" may not initiate payments"]})
    );

    // JWTs: RS256 from the JWK set, issuer and audience checked, claims become the user.
    let claims = |extra: Value| {
        let mut c =
            json!({"sub": "10001", "iss": ISSUER, "aud": ["orders"], "exp": at + 300, "iat": at});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let bearer = |token: String| json!({"authorization": format!("Bearer {token}")});
    let rs256 = r#"{"alg": "RS256", "kid": "rsa-1"}"#;
    let valid = jwt("rsa", rs256, &claims(json!({})));
    assert_eq!(view_order(&d, bearer(valid.clone()))["allow"], json!(true));
    assert_eq!(
        view_order(
            &d,
            bearer(jwt("rsa", rs256, &claims(json!({"exp": at - 10}))))
        ),
        refused("jwt refused: expired")
    );
    assert_eq!(
        view_order(
            &d,
            bearer(jwt("rsa", rs256, &claims(json!({"iat": at + 600}))))
        ),
        refused("jwt refused: not_yet_valid")
    );
    assert_eq!(
        view_order(&d, bearer(jwt("rsa2", rs256, &claims(json!({})))),),
        refused("jwt refused: signature_mismatch"),
        "signed with a key outside the JWK set"
    );
    assert_eq!(
        view_order(
            &d,
            bearer(jwt("rsa", rs256, &claims(json!({"aud": "payments"}))))
        ),
        refused("jwt refused: audience_mismatch")
    );
    assert_eq!(
        view_order(
            &d,
            bearer(jwt(
                "rsa",
                rs256,
                &claims(json!({"iss": "https://evil.example.com"}))
            ))
        ),
        refused("jwt refused: issuer_mismatch")
    );
    let parts: Vec<&str> = valid.split('.').collect();
    let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(claims(json!({"sub": "30001"})).to_string());
    assert_eq!(
        view_order(
            &d,
            bearer(format!("{}.{forged_claims}.{}", parts[0], parts[2]))
        ),
        refused("jwt refused: signature_mismatch")
    );
    assert_eq!(
        view_order(&d, json!({"authorization": "Basic dXNlcjpwYXNz"})),
        refused("jwt refused: malformed")
    );
    assert_eq!(
        identity_seen(&d, json!({"headers": bearer(valid.clone())}))["user"]["sub"],
        json!("10001")
    );

    let metrics = client()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let count = |source: &str, result: &str| {
        metric(
            &metrics,
            "authzd_identity_verifications_total",
            &[("source", source), ("result", result)],
        )
    };
    assert_eq!(count("service_token", "verified"), 2.0);
    assert_eq!(count("service_token", "signature_mismatch"), 2.0);
    assert_eq!(count("jwt", "verified"), 4.0);
    assert_eq!(count("jwt", "audience_mismatch"), 1.0);

    d.stop_and_read_log();
    let events = std::fs::read_to_string(dir.path().join("decisions.jsonl")).unwrap();
    for needle in [
        SERVICE_SECRET,
        parts[2],
        forged_payload.as_str(),
        "x-service-auth",
        "Bearer",
    ] {
        assert!(!events.contains(needle), "{needle} in the decision log");
    }
    assert!(events.contains(r#""caller":{"instance":"order-7d9f","service":"order-service"}"#));
}

fn decide_request(path: &str, input: Value) -> pb::DecideRequest {
    pb::DecideRequest {
        path: path.into(),
        input: Some(pb::decide_request::Input::InputJson(
            input.to_string().into(),
        )),
        ..Default::default()
    }
}

fn check(headers: &[(&str, String)], principal: &str) -> CheckRequest {
    check_at("POST", "/payments", headers, principal)
}

fn check_at(method: &str, path: &str, headers: &[(&str, String)], principal: &str) -> CheckRequest {
    CheckRequest {
        attributes: Some(AttributeContext {
            source: Some(attribute_context::Peer {
                principal: principal.into(),
                ..Default::default()
            }),
            request: Some(attribute_context::Request {
                http: Some(attribute_context::HttpRequest {
                    method: method.into(),
                    path: path.into(),
                    headers: headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

const PRINCIPAL: &str = "spiffe://cluster.local/ns/shop/sa/orders";

#[test]
fn grpc_and_envoy_verify_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let at = now();
    // The gRPC calls on a runtime of their own (the HTTP client here is a blocking one).
    let addr = d.grpc_addr.clone().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (token, forged) = runtime.block_on(grpc_and_envoy(&addr, at));

    let metrics = client()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let count = |result: &str| {
        metric(
            &metrics,
            "authzd_identity_verifications_total",
            &[("source", "service_token"), ("result", result)],
        )
    };
    assert_eq!((count("verified"), count("signature_mismatch")), (2.0, 2.0));

    d.stop_and_read_log();
    let events: Vec<Value> = std::fs::read_to_string(dir.path().join("decisions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let envoy_events: Vec<&Value> = events.iter().filter(|e| e["api"] == "envoy").collect();
    assert_eq!(envoy_events.len(), 2);
    assert_eq!(
        envoy_events[0]["input"]["identity"],
        json!({"caller": {"service": "order-service", "instance": "order-7d9f"}, "peer": PRINCIPAL})
    );
    assert_eq!(
        envoy_events[1]["input"]["identity"],
        json!({"errors": [{"source": "service_token", "code": "signature_mismatch"}], "peer": PRINCIPAL})
    );
    assert_eq!(
        envoy_events[1]["input"]["attributes"]["request"]["http"]["headers"],
        json!({"x-caller-service": "order-service"})
    );
    let all = serde_json::to_string(&events).unwrap();
    for needle in [
        token.as_str(),
        forged.as_str(),
        GATEWAY_SECRET,
        SERVICE_SECRET,
    ] {
        assert!(!all.contains(needle), "a credential in the decision log");
    }
    assert_eq!(events.iter().filter(|e| e["api"] == "grpc").count(), 4);
}

/// `Decide`, `DecideBatch` and Envoy `Check` with credentials; the two service tokens sent
/// to Envoy (to look for in the decision log).
async fn grpc_and_envoy(addr: &str, at: u64) -> (String, String) {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    // gRPC Decide and DecideBatch read input.headers like the Data API.
    let mut grpc = AuthorizerClient::new(channel.clone());
    let view = |headers: Value| json!({"headers": headers, "identity": {"user": {"id": "10001"}}, "action": "view", "resource": {"owner": "10001"}});
    let signed = grpc
        .decide(decide_request(
            "orders/allow",
            view(context_headers(GATEWAY_SECRET, OWNER, at)),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(&signed.result_json[..], b"true");
    let reasons = grpc
        .decide(decide_request(
            "orders/decision/reasons",
            view(context_headers(GATEWAY_SECRET, OWNER, at - 3600)),
        ))
        .await
        .unwrap()
        .into_inner();
    let reasons: Value = serde_json::from_slice(&reasons.result_json).unwrap();
    assert_eq!(
        reasons,
        json!([
            "the request carries no verified user",
            "user_context refused: expired"
        ])
    );
    let items = [
        (
            "token",
            service_token(SERVICE_SECRET, "order-service", at, at + 60),
        ),
        (
            "forged",
            service_token("guessed", "order-service", at, at + 60),
        ),
    ]
    .into_iter()
    .map(|(id, token)| pb::DecideItem {
        id: id.into(),
        input: Some(pb::decide_item::Input::InputJson(
            json!({"headers": {"X-Service-Auth": token}, "caller": {"service": "order-service"}})
                .to_string()
                .into(),
        )),
        ..Default::default()
    })
    .collect();
    let batch = grpc
        .decide_batch(pb::DecideBatchRequest {
            path: "payment/allow".into(),
            items,
            common_input_json: json!({"action": "initiate"}).to_string().into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let answers: Vec<Vec<u8>> = batch
        .results
        .iter()
        .map(|r| match &r.outcome {
            Some(pb::decide_item_result::Outcome::Decision(response)) => {
                response.result_json.to_vec()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(answers, vec![b"true".to_vec(), b"false".to_vec()]);

    // Envoy: the HTTP request's headers, and the mTLS peer.
    let mut envoy = AuthorizationClient::new(channel);
    let principal = PRINCIPAL;
    let token = service_token(SERVICE_SECRET, "order-service", at, at + 60);
    let ok = envoy
        .check(check(&[("x-service-auth", token.clone())], principal))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ok.status.unwrap().code,
        0,
        "a verified order service may pay"
    );
    let forged = service_token("guessed", "order-service", at, at + 60);
    let denied = envoy
        .check(check(
            &[
                ("x-service-auth", forged.clone()),
                ("x-caller-service", "order-service".into()),
            ],
            principal,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        denied.status.unwrap().code,
        tonic::Code::PermissionDenied as i32,
        "neither a forged token nor the demo header counts"
    );
    (token, forged)
}

#[test]
fn user_contexts_and_jwts_over_grpc_and_envoy() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let at = now();
    let addr = d.grpc_addr.clone().unwrap();
    let rs256 = r#"{"alg": "RS256", "kid": "rsa-1"}"#;
    let claims = json!({"sub": "10001", "iss": ISSUER, "aud": "orders", "exp": at + 300});
    let valid_jwt = jwt("rsa", rs256, &claims);
    let parts: Vec<&str> = valid_jwt.split('.').collect();
    let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        json!({"sub": "30001", "iss": ISSUER, "aud": "orders", "exp": at + 300}).to_string(),
    );
    let tampered_jwt = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    let context = context_headers(GATEWAY_SECRET, OWNER, at);
    let forged_context = context_headers("guessed", OWNER, at);
    let as_pairs = |headers: &Value| -> Vec<(String, String)> {
        headers
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect()
    };
    let bearer = |token: &str| vec![("authorization".to_string(), format!("Bearer {token}"))];

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut grpc = AuthorizerClient::new(channel.clone());
        let mut envoy = AuthorizationClient::new(channel);
        let cases = [
            ("user context, valid", as_pairs(&context), true),
            (
                "user context, wrong secret",
                as_pairs(&forged_context),
                false,
            ),
            ("jwt, valid", bearer(&valid_jwt), true),
            ("jwt, payload tampered with", bearer(&tampered_jwt), false),
            ("no credential", Vec::new(), false),
        ];
        for (name, headers, allowed) in &cases {
            // gRPC Decide: the credentials in input.headers, a forged input.identity beside.
            let header_map: serde_json::Map<String, Value> = headers
                .iter()
                .map(|(k, v)| (k.to_uppercase(), json!(v)))
                .collect();
            let input = json!({
                "headers": header_map,
                "identity": {"user": {"id": "10001"}},
                "action": "view",
                "resource": {"owner": "10001"},
            });
            let decided = grpc
                .decide(decide_request("orders/allow", input))
                .await
                .unwrap()
                .into_inner();
            let want: &[u8] = if *allowed { b"true" } else { b"false" };
            assert_eq!(&decided.result_json[..], want, "gRPC: {name}");

            // Envoy Check: the HTTP request's headers.
            let pairs: Vec<(&str, String)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            let checked = envoy
                .check(check_at("GET", "/orders/42", &pairs, PRINCIPAL))
                .await
                .unwrap()
                .into_inner();
            let want = if *allowed {
                0
            } else {
                tonic::Code::PermissionDenied as i32
            };
            assert_eq!(checked.status.unwrap().code, want, "Envoy: {name}");
        }
    });

    d.stop_and_read_log();
    let text = std::fs::read_to_string(dir.path().join("decisions.jsonl")).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let identities = |api: &str| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["api"] == api)
            .map(|e| e["input"]["identity"].clone())
            .collect()
    };
    let user = json!({"id": "10001", "roles": ["customer"]});
    let jwt_user = json!({"sub": "10001", "iss": ISSUER, "aud": "orders", "exp": at + 300});
    let context_refused = json!([{"source": "user_context", "code": "signature_mismatch"}]);
    let jwt_refused = json!([{"source": "jwt", "code": "signature_mismatch"}]);
    assert_eq!(
        identities("grpc"),
        vec![
            json!({"user": user}),
            json!({"errors": context_refused}),
            json!({"user": jwt_user}),
            json!({"errors": jwt_refused}),
            json!({}),
        ]
    );
    assert_eq!(
        identities("envoy"),
        vec![
            json!({"user": user, "peer": PRINCIPAL}),
            json!({"errors": context_refused, "peer": PRINCIPAL}),
            json!({"user": jwt_user, "peer": PRINCIPAL}),
            json!({"errors": jwt_refused, "peer": PRINCIPAL}),
            json!({"peer": PRINCIPAL}),
        ]
    );
    for needle in [
        valid_jwt.as_str(),
        parts[2],
        forged_claims.as_str(),
        "Bearer",
        context["x-user-context-signature"].as_str().unwrap(),
        forged_context["x-user-context-signature"].as_str().unwrap(),
        GATEWAY_SECRET,
    ] {
        assert!(!text.contains(needle), "{needle} in the decision log");
    }
}

#[test]
fn a_rotated_secret_is_used_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let allowed = |secret: &str| {
        view_order(&d, context_headers(secret, OWNER, now()))["allow"] == json!(true)
    };
    assert!(allowed(GATEWAY_SECRET));
    // Replaced the way a Kubernetes secret volume is: a new file renamed over the old.
    let next = dir.path().join("user-context.next");
    std::fs::write(&next, "rotated-secret").unwrap();
    std::fs::rename(&next, dir.path().join("user-context")).unwrap();
    let started = Instant::now();
    while !allowed("rotated-secret") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the rotated secret was never used"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !allowed(GATEWAY_SECRET),
        "the old secret no longer verifies"
    );
    // A broken replacement keeps the last good secret serving.
    std::fs::write(&next, "\n").unwrap();
    std::fs::rename(&next, dir.path().join("user-context")).unwrap();
    d.wait_for_log("identity secret file not usable");
    assert!(allowed("rotated-secret"));
    let log = d.stop_and_read_log();
    assert!(log.contains("identity secret reloaded"), "{log}");
    assert!(!log.contains("rotated-secret") && !log.contains(GATEWAY_SECRET));
}

#[test]
fn missing_secrets_and_bad_sections_do_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("authzd.yaml");
    let missing = dir.path().join("no-such-secret");
    std::fs::write(
        &config,
        format!(
            "identity:\n  service_token:\n    secret_path: {}\n",
            missing.display()
        ),
    )
    .unwrap();
    let log = Daemon::try_start(&["--config-file", config.to_str().unwrap()], &[])
        .err()
        .expect("started without its secret");
    assert!(
        log.contains("identity.service_token.secret_path") && log.contains("no-such-secret"),
        "{log}"
    );
    std::fs::write(&config, "identity:\n  jwt:\n    secret: x\n    leeway: 5\n").unwrap();
    let log = Daemon::try_start(&["--config-file", config.to_str().unwrap()], &[])
        .err()
        .expect("started with an unknown field");
    assert!(log.contains("leeway"), "{log}");
}

#[test]
fn without_an_identity_section_a_client_identity_is_removed() {
    // The default daemon: the example bundle's demo mode reads input.subject, and a client
    // cannot pose as verified by sending input.identity.
    let d = Daemon::start(&[]);
    let input = json!({"identity": {"user": {"id": "30001"}}, "action": "delete", "resource": {"owner": "10001"}});
    assert_eq!(decision(&d, "/v1/data/orders/allow", input), json!(false));
    let demo =
        json!({"subject": {"id": "30001"}, "action": "delete", "resource": {"owner": "10001"}});
    assert_eq!(decision(&d, "/v1/data/orders/allow", demo), json!(true));
}
