//! The gRPC listener against the real binary: `authzd.v1.Authorizer`, Envoy's `Check`, health
//! and reflection, over TCP and a Unix socket.

mod common;

use std::collections::HashMap;

use authzd::api::grpc::pb;
use authzd::api::grpc::pb::authorizer_client::AuthorizerClient;
use common::Daemon;
use envoy_types::ext_authz::v3::pb::{CheckRequest, HttpResponse};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, attribute_context};
use serde_json::{Value, json};
use tonic::transport::Channel;

async fn channel(d: &Daemon) -> Channel {
    let addr = d.grpc_addr.clone().expect("gRPC listener");
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn decide_request(path: &str, input: Value) -> pb::DecideRequest {
    pb::DecideRequest {
        path: path.to_string(),
        input: Some(pb::decide_request::Input::InputJson(
            input.to_string().into(),
        )),
        ..Default::default()
    }
}

fn result_json(response: &pb::DecideResponse) -> Value {
    serde_json::from_slice(&response.result_json).unwrap()
}

#[tokio::test]
async fn decide_allow_deny_and_undefined() {
    let d = Daemon::start(&[]);
    let mut client = AuthorizerClient::new(channel(&d).await);
    let allow = client
        .decide(decide_request(
            "orders/allow",
            json!({"subject": {"id": "10001"}, "action": "view", "resource": {"owner": "10001"}}),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(allow.defined);
    assert_eq!(result_json(&allow), json!(true));
    assert_eq!(allow.decision_id.len(), 36);
    assert_eq!(
        allow.revisions.get("policies").map(String::as_str),
        Some("example-2026-11-23")
    );

    let deny = client
        .decide(decide_request(
            "data.orders.decision",
            json!({"subject": {"id": "10002"}, "action": "view", "resource": {"owner": "10001"}}),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        result_json(&deny),
        json!({"allow": false, "reasons": ["only the owner may view or cancel this order"]})
    );

    let undefined = client
        .decide(decide_request("no/such/rule", json!({})))
        .await
        .unwrap()
        .into_inner();
    assert!(!undefined.defined);
    assert!(undefined.result_json.is_empty());
}

#[tokio::test]
async fn decide_with_typed_values() {
    let d = Daemon::start(&[]);
    let mut client = AuthorizerClient::new(channel(&d).await);
    let input = authzd::api::protobuf::to_proto(
        &regorus::Value::from_json_str(
            r#"{"caller": {"service": "order-service"}, "action": "initiate"}"#,
        )
        .unwrap(),
    );
    let response = client
        .decide(pb::DecideRequest {
            path: "payment/decision".into(),
            input: Some(pb::decide_request::Input::InputValue(input)),
            want_value: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let value = authzd::api::protobuf::from_proto(response.result_value.as_ref().unwrap()).unwrap();
    assert_eq!(
        value,
        regorus::Value::from_json_str(r#"{"allow": true, "reasons": []}"#).unwrap()
    );
}

#[tokio::test]
async fn decide_errors_map_to_grpc_statuses() {
    let d = Daemon::start(&["--bundle", "tests/bundles/conflict"]);
    let mut client = AuthorizerClient::new(channel(&d).await);
    let status = client
        .decide(pb::DecideRequest {
            path: "conflict/x".into(),
            input: Some(pb::decide_request::Input::InputJson("{oops".into())),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status
            .message()
            .starts_with("invalid_parameter: input_json is not valid JSON"),
        "{}",
        status.message()
    );

    let status = client
        .decide(decide_request("conflict/x", json!({"both": true})))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Internal);
    assert!(
        status.message().starts_with("eval_conflict_error: "),
        "{}",
        status.message()
    );
    assert!(
        status.message().contains("policy.rego:6"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn decide_batch_with_one_bad_item() {
    let d = Daemon::start(&[]);
    let mut client = AuthorizerClient::new(channel(&d).await);
    let item = |id: &str, input: &str| pb::DecideItem {
        id: id.into(),
        path: String::new(),
        input: Some(pb::decide_item::Input::InputJson(input.to_string().into())),
    };
    let response = client
        .decide_batch(pb::DecideBatchRequest {
            path: "orders/allow".into(),
            items: vec![
                item(
                    "own",
                    r#"{"subject": {"id": "10001"}, "resource": {"owner": "10001"}}"#,
                ),
                item("bad", "{not json"),
                item(
                    "other",
                    r#"{"subject": {"id": "10002"}, "resource": {"owner": "10001"}}"#,
                ),
                pb::DecideItem {
                    id: "elsewhere".into(),
                    path: "inventory/allow".into(),
                    input: Some(pb::decide_item::Input::InputJson(
                        r#"{"subject": {"id": "7"}}"#.into(),
                    )),
                },
            ],
            common_input_json: r#"{"action": "view"}"#.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let outcomes: HashMap<&str, &pb::decide_item_result::Outcome> = response
        .results
        .iter()
        .map(|r| (r.id.as_str(), r.outcome.as_ref().unwrap()))
        .collect();
    let result = |id: &str| match outcomes[id] {
        pb::decide_item_result::Outcome::Decision(d) => result_json(d),
        pb::decide_item_result::Outcome::Error(e) => panic!("{id}: {e:?}"),
    };
    assert_eq!(result("own"), json!(true));
    assert_eq!(result("other"), json!(false));
    // common_input supplied the action to the item with its own path, and "read" was not it.
    assert_eq!(result("elsewhere"), json!(false));
    match outcomes["bad"] {
        pb::decide_item_result::Outcome::Error(e) => assert_eq!(e.code, "invalid_parameter"),
        other => panic!("bad item decided: {other:?}"),
    }
    assert_eq!(
        response
            .results
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["own", "bad", "other", "elsewhere"]
    );
    assert_eq!(response.batch_decision_id.len(), 36);
}

fn check_request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> CheckRequest {
    CheckRequest {
        attributes: Some(AttributeContext {
            source: Some(attribute_context::Peer {
                address: Some(envoy_types::pb::envoy::config::core::v3::Address {
                    address: Some(envoy_types::pb::envoy::config::core::v3::address::Address::SocketAddress(
                        envoy_types::pb::envoy::config::core::v3::SocketAddress {
                            address: "10.0.0.7".into(),
                            port_specifier: Some(envoy_types::pb::envoy::config::core::v3::socket_address::PortSpecifier::PortValue(51234)),
                            ..Default::default()
                        },
                    )),
                }),
                principal: "spiffe://cluster.local/ns/shop/sa/gateway".into(),
                ..Default::default()
            }),
            request: Some(attribute_context::Request {
                time: Some(envoy_types::pb::google::protobuf::Timestamp { seconds: 1_795_428_000, nanos: 0 }),
                http: Some(attribute_context::HttpRequest {
                    method: method.into(),
                    path: path.into(),
                    host: "orders.shop.svc".into(),
                    headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                    body: body.into(),
                    size: body.len() as i64,
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn envoy_check_bodies_headers_and_denials() {
    let d = Daemon::start(&[
        "--bundle",
        "tests/bundles/envoy",
        "--envoy-path",
        "envoy/authz/result",
    ]);
    let mut client = AuthorizationClient::new(channel(&d).await);

    // JSON body: allowed, with headers for upstream and for the client.
    let response = client
        .check(check_request(
            "POST",
            "/orders",
            &[("content-type", "application/json")],
            r#"{"user": "alice"}"#,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.status.unwrap().code, 0);
    let Some(HttpResponse::OkResponse(ok)) = response.http_response else {
        panic!("not OK")
    };
    let header = &ok.headers[0].header.as_ref().unwrap();
    assert_eq!(
        (header.key.as_str(), header.value.as_str()),
        ("x-authz-user", "alice")
    );
    assert_eq!(
        ok.response_headers_to_add[0].header.as_ref().unwrap().key,
        "x-checked"
    );
    assert_eq!(ok.headers_to_remove, vec!["x-secret"]);
    let metadata = response.dynamic_metadata.unwrap();
    assert!(metadata.fields.contains_key("decision_id") && metadata.fields.contains_key("path"));

    // Form body.
    let response = client
        .check(check_request(
            "POST",
            "/login",
            &[("content-type", "application/x-www-form-urlencoded")],
            "user=alice&remember=1",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.status.unwrap().code, 0);

    // Denied: the policy's status, body and headers.
    let response = client
        .check(check_request(
            "POST",
            "/orders",
            &[("content-type", "application/json")],
            r#"{"user": "mallory"}"#,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.status.unwrap().code, 7);
    let Some(HttpResponse::DeniedResponse(denied)) = response.http_response else {
        panic!("not denied")
    };
    assert_eq!(denied.status.unwrap().code, 401);
    assert_eq!(denied.body, "who are you?");
    assert_eq!(
        denied.headers[0].header.as_ref().unwrap().key,
        "www-authenticate"
    );

    // A malformed JSON body is a 400 denial, not an error and not a crash.
    let response = client
        .check(check_request(
            "POST",
            "/orders",
            &[("content-type", "application/json")],
            "{\"user\": ",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.status.as_ref().unwrap().code, 7);
    let Some(HttpResponse::DeniedResponse(denied)) = response.http_response else {
        panic!("not denied")
    };
    assert_eq!(denied.status.unwrap().code, 400);
    assert!(
        denied.body.starts_with("request_parse_error: "),
        "{}",
        denied.body
    );
}

#[tokio::test]
async fn envoy_input_document_shape() {
    let d = Daemon::start(&[
        "--bundle",
        "tests/bundles/envoy",
        "--envoy-path",
        "envoy/authz/echo",
    ]);
    let mut client = AuthorizationClient::new(channel(&d).await);
    let response = client
        .check(check_request(
            "POST",
            "/orders/42%20x/items?expand=a&expand=b&q=x+y",
            &[
                ("content-type", "application/json"),
                ("x-subject-id", "10001"),
            ],
            r#"{"qty": 2}"#,
        ))
        .await
        .unwrap()
        .into_inner();
    let metadata = response.dynamic_metadata.unwrap();
    let input = struct_json(&metadata.fields["input"]);
    assert_eq!(input["parsed_path"], json!(["orders", "42 x", "items"]));
    assert_eq!(
        input["parsed_query"],
        json!({"expand": ["a", "b"], "q": ["x y"]})
    );
    assert_eq!(input["parsed_body"], json!({"qty": 2}));
    assert_eq!(input["truncated_body"], json!(false));
    assert_eq!(
        input["version"],
        json!({"ext_authz": "v3", "encoding": "protojson"})
    );
    assert_eq!(
        input["source_principal"],
        json!("spiffe://cluster.local/ns/shop/sa/gateway")
    );
    let http = &input["attributes"]["request"]["http"];
    assert_eq!(http["method"], "POST");
    assert_eq!(http["headers"]["x-subject-id"], "10001");
    assert_eq!(http["host"], "orders.shop.svc");
    assert_eq!(http["size"], "10");
    assert_eq!(
        input["attributes"]["request"]["time"],
        "2026-11-23T10:00:00Z"
    );
    assert_eq!(
        input["attributes"]["source"]["address"]["socketAddress"],
        json!({"address": "10.0.0.7", "portValue": 51234})
    );
}

/// A protobuf value from `dynamic_metadata` as JSON (numbers come back as floats).
fn struct_json(value: &envoy_types::pb::google::protobuf::Value) -> Value {
    use envoy_types::pb::google::protobuf::value::Kind;
    match value.kind.as_ref().unwrap() {
        Kind::NullValue(_) => Value::Null,
        Kind::BoolValue(b) => json!(b),
        Kind::NumberValue(n) if n.fract() == 0.0 => json!(*n as i64),
        Kind::NumberValue(n) => json!(n),
        Kind::StringValue(s) => json!(s),
        Kind::ListValue(l) => Value::Array(l.values.iter().map(struct_json).collect()),
        Kind::StructValue(s) => Value::Object(
            s.fields
                .iter()
                .map(|(k, v)| (k.clone(), struct_json(v)))
                .collect(),
        ),
    }
}

#[tokio::test]
async fn envoy_boolean_default_path_dry_run_and_errors() {
    // The example bundle's default path envoy/authz/allow is a boolean.
    let d = Daemon::start(&[]);
    let mut client = AuthorizationClient::new(channel(&d).await);
    let allowed = client
        .check(check_request("GET", "/health", &[], ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(allowed.status.unwrap().code, 0);
    assert!(allowed.http_response.is_none());
    let denied = client
        .check(check_request("DELETE", "/orders/1", &[], ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(denied.status.unwrap().code, 7);

    // Dry run: the same denial is let through.
    let d = Daemon::start(&["--envoy-dry-run"]);
    let mut client = AuthorizationClient::new(channel(&d).await);
    let response = client
        .check(check_request("DELETE", "/orders/1", &[], ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.status.unwrap().code, 0);

    // Undefined and illegal results are gRPC errors, so Envoy's failure_mode_allow applies.
    for (path, needle) in [
        ("envoy/authz/never", "undefined decision"),
        ("envoy/authz/illegal", "illegal value"),
    ] {
        let d = Daemon::start(&["--bundle", "tests/bundles/envoy", "--envoy-path", path]);
        let mut client = AuthorizationClient::new(channel(&d).await);
        let status = client
            .check(check_request("GET", "/", &[], ""))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unknown);
        assert!(status.message().contains(needle), "{}", status.message());
    }
}

#[tokio::test]
async fn health_and_reflection() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let d = Daemon::start(&[]);
    let channel = channel(&d).await;
    let mut health = HealthClient::new(channel.clone());
    for service in [
        "",
        "authzd.v1.Authorizer",
        "envoy.service.auth.v3.Authorization",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service:?}"
        );
    }

    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("no list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for want in [
        "authzd.v1.Authorizer",
        "envoy.service.auth.v3.Authorization",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }

    // grpcurl and grpcio's reflection client still speak v1alpha.
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest as AlphaReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as AlphaClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest as AlphaRequest;
    let mut alpha = AlphaClient::new(channel);
    let request = AlphaReflectionRequest {
        host: String::new(),
        message_request: Some(AlphaRequest::FileContainingSymbol(
            "envoy.service.auth.v3.Authorization".into(),
        )),
    };
    let mut stream = alpha
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().unwrap();
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse as AlphaResponse;
    match response.message_response {
        Some(AlphaResponse::FileDescriptorResponse(files)) => {
            assert!(!files.file_descriptor_proto.is_empty());
        }
        other => panic!("v1alpha reflection did not describe Check: {other:?}"),
    }
}

#[tokio::test]
async fn grpc_over_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("grpc.sock");
    let addr = format!("unix://{}", sock.display());
    let _d = Daemon::start(&["--grpc-addr", &addr]);
    let path = sock.clone();
    let channel = tonic::transport::Endpoint::try_from("http://[::]:50051")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .unwrap();
    let mut client = AuthorizerClient::new(channel);
    let response = client
        .decide(decide_request(
            "inventory/allow",
            json!({"subject": {"id": "1"}, "action": "read"}),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result_json(&response), json!(true));
}

#[tokio::test]
async fn oversized_messages_are_refused() {
    let d = Daemon::start(&["--grpc-max-recv-bytes", "1024"]);
    let mut client = AuthorizerClient::new(channel(&d).await);
    let status = client
        .decide(decide_request(
            "inventory/allow",
            json!({"pad": "x".repeat(4096)}),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange);
    // The connection and the daemon are fine afterwards.
    let response = client
        .decide(decide_request(
            "inventory/allow",
            json!({"subject": {"id": "1"}, "action": "read"}),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result_json(&response), json!(true));
}

#[tokio::test]
async fn paths_of_thousands_of_segments_are_refused_fast_on_every_api() {
    // Issue 12, finding 5: a 64 KB path of 32k segments cost seconds of CPU (quadratic
    // resolution). Now it is refused at the segment limit (256), in time linear in its length.
    // (16k segments over HTTP: the client library refuses URLs of 64 KB.)
    let d = Daemon::start(&[]);
    let long = "a/".repeat(16 * 1024);
    let urls = [
        d.url(&format!("/v1/data/{long}")),
        d.url(&format!("/v0/data/{long}")),
    ];
    tokio::task::spawn_blocking(move || {
        let http = common::client();
        for url in urls {
            let response = http.post(url).body("{}").send().unwrap();
            assert_eq!(response.status(), 400);
            let body: Value = response.json().unwrap();
            assert_eq!(body["code"], "invalid_parameter", "{body}");
        }
    })
    .await
    .unwrap();
    let mut client = AuthorizerClient::new(channel(&d).await);
    let status = client
        .decide(decide_request(&"a/".repeat(100 * 1024), json!({})))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    // The next normal decision is answered.
    let owner =
        json!({"subject": {"id": "10001"}, "action": "view", "resource": {"owner": "10001"}});
    let answer = client
        .decide(decide_request("orders/allow", owner))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result_json(&answer), json!(true));
}

/// `input_json` and `result_json` carry integers beyond 64 bits exactly, as the Data API does.
#[tokio::test]
async fn big_integers_stay_exact_over_grpc() {
    let d = Daemon::start(&["--bundle", "tests/bundles/big_numbers"]);
    let mut client = AuthorizerClient::new(channel(&d).await);
    let request = |path: &str| pb::DecideRequest {
        path: path.to_string(),
        input: Some(pb::decide_request::Input::InputJson(
            r#"{"n": 12345678901234567890123}"#.into(),
        )),
        ..Default::default()
    };
    for (path, want) in [
        ("numbers/from_input", "12345678901234567890123"),
        ("numbers/sum", "123456789012345678901234567891"),
        ("numbers/same", "true"),
    ] {
        let answer = client.decide(request(path)).await.unwrap().into_inner();
        assert_eq!(String::from_utf8_lossy(&answer.result_json), want, "{path}");
    }
}
