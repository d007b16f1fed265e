//! Lame-duck shutdown against the real binary: after SIGTERM, readiness (`/health?bundles` on
//! the HTTP and the diagnostic listener, gRPC health) fails at once while liveness stays up and
//! decisions are still served, over HTTP and gRPC, for `--shutdown-delay-seconds`; then the
//! daemon drains and exits 0.
//!
//! Owns: the shutdown ordering contract the chart's probes rely on. No wall-clock asserts
//! beyond generous bounds: "during the delay" is shown by decisions succeeding after readiness
//! was seen failing, and before the process has exited.

mod common;

use std::time::{Duration, Instant};

use authzd::api::grpc::pb;
use authzd::api::grpc::pb::authorizer_client::AuthorizerClient;
use common::{Daemon, client, field};
use serde_json::{Value, json};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn decide(d: &Daemon) -> (u16, Value) {
    let response = client()
        .post(d.url("/v1/data/payment/allow"))
        .json(&json!({"input": {"caller": {"service": "order-service"}, "action": "initiate"}}))
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

fn get(url: &str) -> (u16, String) {
    let response = client().get(url).send().unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

async fn grpc_health(channel: tonic::transport::Channel) -> i32 {
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sigterm_readiness_fails_while_decisions_are_served_for_the_delay() {
    // A delay long enough that nothing below can outlast it on a slow machine, and short
    // enough for the suite.
    let delay_secs = 8;
    let d = Daemon::start(&[
        "--shutdown-delay-seconds",
        &delay_secs.to_string(),
        "--diagnostic-addr",
        "127.0.0.1:0",
    ]);
    let diagnostic = d
        .log_text()
        .lines()
        .filter(|l| l.contains("diagnostic listener ready"))
        .find_map(|l| field(l, "addr"))
        .expect("diagnostic listener");
    let readiness = [
        d.url("/health?bundles"),
        format!("http://{diagnostic}/health?bundles"),
    ];
    let grpc = format!("http://{}", d.grpc_addr.clone().expect("gRPC listener"));
    let channel = tonic::transport::Endpoint::from_shared(grpc)
        .unwrap()
        .connect()
        .await
        .unwrap();

    let (readiness_before, decision_before) = tokio::task::block_in_place(|| {
        (
            readiness.iter().map(|url| get(url).0).collect::<Vec<_>>(),
            decide(&d),
        )
    });
    assert_eq!(readiness_before, vec![200, 200]);
    assert_eq!(decision_before.0, 200);
    assert_eq!(
        grpc_health(channel.clone()).await,
        ServingStatus::Serving as i32
    );

    let signalled = Instant::now();
    d.signal("TERM");
    d.wait_for_log("readiness fails");

    // Readiness fails on every listener, with OPA's JSON error shape; liveness does not.
    tokio::task::block_in_place(|| {
        for url in &readiness {
            let (status, body) = get(url);
            assert_eq!(status, 503, "{url}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["error"], "shutting down", "{url}");
        }
        assert_eq!(get(&d.url("/health")).0, 200);
        assert_eq!(get(&format!("http://{diagnostic}/health")).0, 200);
    });
    // gRPC health follows (its reporter task may lag the flag by a moment).
    let deadline = Instant::now() + Duration::from_secs(30);
    while grpc_health(channel.clone()).await != ServingStatus::NotServing as i32 {
        assert!(Instant::now() < deadline, "gRPC health still SERVING");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Decisions are still served, on a new connection too, over HTTP and gRPC.
    let (status, body) = tokio::task::block_in_place(|| decide(&d));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!(true));
    let response = AuthorizerClient::new(channel.clone())
        .decide(pb::DecideRequest {
            path: "payment/allow".into(),
            input: Some(pb::decide_request::Input::InputJson(
                json!({"caller": {"service": "order-service"}, "action": "initiate"})
                    .to_string()
                    .into(),
            )),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let result: Value = serde_json::from_slice(&response.result_json).unwrap();
    assert_eq!(result, json!(true));
    assert!(
        !d.log_text().contains("no new connections"),
        "the drain began before the delay was over:\n{}",
        d.log_text()
    );

    let log = d.log.clone();
    let status = tokio::task::block_in_place(|| d.wait_for_exit());
    assert!(status.success(), "exit status {status:?}");
    // The process waited for the delay (measured from before the signal, so this can only
    // be early if the delay was cut short).
    assert!(
        signalled.elapsed() >= Duration::from_secs(delay_secs),
        "exited after {:?}",
        signalled.elapsed()
    );
    let text = log.text();
    let lame = text.find("readiness fails").unwrap();
    let drain = text.find("no new connections").expect("the drain ran");
    assert!(lame < drain, "{text}");
}
