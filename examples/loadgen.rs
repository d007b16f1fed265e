//! A load generator for authzd: HTTP `/v1/data`, gRPC `Decide` and Envoy `Check`, over TCP or a
//! Unix socket, with persistent connections, for a fixed time, closed-loop (as fast as each
//! connection can go) or at a fixed total request rate (scheduled with tokio's millisecond
//! timer; latency measured from each send).
//!
//! ```text
//! cargo run --release --example loadgen -- run --protocol http --target 127.0.0.1:8181 -c 1 -d 10
//! cargo run --release --example loadgen -- run --protocol grpc --target unix:///tmp/authzd-grpc.sock
//! cargo run --release --example loadgen -- trivial      # a do-nothing server, to find our own ceiling
//! ```
//!
//! Prints throughput, p50/p90/p99/p99.9/max and errors; `--json` prints the same as one line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authzd::api::grpc::pb;
use authzd::api::grpc::pb::authorizer_client::AuthorizerClient;
use clap::{Parser, Subcommand, ValueEnum};
use envoy_types::ext_authz::v3::pb::CheckRequest;
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, attribute_context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Parser)]
#[command(name = "loadgen", about = "Load generator for authzd")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive load at a daemon.
    Run(RunArgs),
    /// Serve trivial HTTP and gRPC answers (the load generator's own ceiling).
    Trivial {
        #[arg(long, default_value = "127.0.0.1:18181")]
        http: String,
        #[arg(long, default_value = "127.0.0.1:19191")]
        grpc: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Protocol {
    Http,
    Grpc,
    Envoy,
}

#[derive(Parser, Clone)]
struct RunArgs {
    #[arg(long, value_enum, default_value = "http")]
    protocol: Protocol,
    /// host:port, or unix:///path.
    #[arg(long, default_value = "127.0.0.1:8181")]
    target: String,
    /// Persistent connections.
    #[arg(long, short = 'c', default_value_t = 1)]
    connections: usize,
    /// Seconds to measure (after the warm-up).
    #[arg(long, short = 'd', default_value_t = 10.0)]
    duration: f64,
    /// Seconds of warm-up, not measured.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Total requests per second; without it each connection goes as fast as it can.
    #[arg(long)]
    rate: Option<f64>,
    /// Decision path (HTTP and gRPC; Envoy uses the daemon's --envoy-path).
    #[arg(long, default_value = "orders/allow")]
    path: String,
    /// Print one JSON line instead of a table.
    #[arg(long)]
    json: bool,
    /// Runtime threads of the load generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// The decision mix: the order service's common requests (see policies/orders).
fn inputs() -> Vec<serde_json::Value> {
    let ago = |minutes| {
        (chrono::Utc::now() - chrono::Duration::minutes(minutes))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let (fresh, stale) = (ago(5), ago(45));
    let order = |owner: &str, created: &str| serde_json::json!({"type": "order", "id": "42", "owner": owner, "created_at": created});
    vec![
        serde_json::json!({"subject": {"id": "10001", "roles": ["customer"]}, "action": "view", "resource": order("10001", &fresh)}),
        serde_json::json!({"subject": {"id": "10001", "roles": ["customer"]}, "action": "cancel", "resource": order("10001", &fresh)}),
        serde_json::json!({"subject": {"id": "20001", "roles": ["warehouse_staff"]}, "action": "process", "resource": order("10001", &fresh)}),
        serde_json::json!({"subject": {"id": "10002", "roles": ["customer"]}, "action": "view", "resource": order("10001", &fresh)}),
        serde_json::json!({"subject": {"id": "10001", "roles": ["customer"]}, "action": "cancel", "resource": order("10001", &stale)}),
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(args.threads.max(1))
                .enable_all()
                .build()?;
            let report = runtime.block_on(run(args.clone()))?;
            report.print(&args);
            Ok(())
        }
        Command::Trivial { http, grpc } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            runtime.block_on(trivial(http, grpc))
        }
    }
}

struct Report {
    latencies: Vec<u64>,
    errors: u64,
    elapsed: Duration,
}

impl Report {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        Duration::from_nanos(self.latencies[index.min(self.latencies.len() - 1)])
    }

    fn print(&self, args: &RunArgs) {
        let throughput = self.latencies.len() as f64 / self.elapsed.as_secs_f64();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let protocol = match args.protocol {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Envoy => "envoy",
        };
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "protocol": protocol,
                    "target": args.target,
                    "connections": args.connections,
                    "rate": args.rate,
                    "requests": self.latencies.len(),
                    "errors": self.errors,
                    "throughput_per_s": throughput.round(),
                    "p50_us": us(self.percentile(0.50)).round(),
                    "p90_us": us(self.percentile(0.90)).round(),
                    "p99_us": us(self.percentile(0.99)).round(),
                    "p999_us": us(self.percentile(0.999)).round(),
                    "max_us": us(self.percentile(1.0)).round(),
                })
            );
        } else {
            println!(
                "{protocol} {} connections={} rate={}",
                args.target,
                args.connections,
                args.rate.map_or("max".to_string(), |r| format!("{r}/s"))
            );
            println!(
                "  requests {}  errors {}  throughput {:.0}/s",
                self.latencies.len(),
                self.errors,
                throughput
            );
            println!(
                "  latency p50 {:.1} µs  p90 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs  max {:.1} µs",
                us(self.percentile(0.50)),
                us(self.percentile(0.90)),
                us(self.percentile(0.99)),
                us(self.percentile(0.999)),
                us(self.percentile(1.0))
            );
        }
    }
}

/// One connection's client.
enum Client {
    Http(HttpConnection),
    Grpc(AuthorizerClient<tonic::transport::Channel>),
    Envoy(AuthorizationClient<tonic::transport::Channel>),
}

async fn run(args: RunArgs) -> Result<Report, Box<dyn std::error::Error>> {
    let inputs = Arc::new(inputs());
    let warmup_until = Instant::now() + Duration::from_secs_f64(args.warmup);
    let end = warmup_until + Duration::from_secs_f64(args.duration);
    let per_connection_interval = args
        .rate
        .map(|rate| Duration::from_secs_f64(args.connections as f64 / rate));
    let mut tasks = Vec::new();
    for index in 0..args.connections {
        let client = connect(&args).await?;
        let inputs = inputs.clone();
        let path = args.path.clone();
        tasks.push(tokio::spawn(async move {
            drive(
                client,
                index,
                &inputs,
                &path,
                warmup_until,
                end,
                per_connection_interval,
            )
            .await
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    Ok(Report {
        latencies,
        errors,
        elapsed: end - warmup_until,
    })
}

async fn drive(
    mut client: Client,
    index: usize,
    inputs: &[serde_json::Value],
    path: &str,
    warmup_until: Instant,
    end: Instant,
    interval: Option<Duration>,
) -> (Vec<u64>, u64) {
    let requests = prepare(&client, inputs, path);
    let mut latencies = Vec::with_capacity(1 << 16);
    let mut errors = 0u64;
    let mut n = index;
    // Fixed rate: requests are due at fixed times, offset per connection. tokio's timer has
    // millisecond granularity, so latency is measured from the actual send, and the achieved
    // rate is reported.
    let mut due =
        Instant::now() + interval.map_or(Duration::ZERO, |i| i.mul_f64(index as f64 / 8.0));
    loop {
        if interval.is_some() && due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let start = Instant::now();
        if start >= end {
            break;
        }
        let ok = send(&mut client, &requests[n % requests.len()]).await;
        let took = start.elapsed();
        if start >= warmup_until {
            if ok {
                latencies.push(took.as_nanos() as u64);
            } else {
                errors += 1;
            }
        }
        if let Some(interval) = interval {
            due += interval;
        }
        n += 1;
    }
    (latencies, errors)
}

/// A pre-encoded request, so the load generator does no per-request encoding work.
enum Prepared {
    Http(Vec<u8>),
    Grpc(pb::DecideRequest),
    Envoy(Box<CheckRequest>),
}

fn prepare(client: &Client, inputs: &[serde_json::Value], path: &str) -> Vec<Prepared> {
    inputs
        .iter()
        .map(|input| match client {
            Client::Http(_) => {
                let body = serde_json::json!({ "input": input }).to_string();
                Prepared::Http(
                    format!(
                        "POST /v1/data/{path} HTTP/1.1\r\nHost: authzd\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .into_bytes(),
                )
            }
            Client::Grpc(_) => Prepared::Grpc(pb::DecideRequest {
                path: path.to_string(),
                input: Some(pb::decide_request::Input::InputJson(input.to_string().into())),
                ..Default::default()
            }),
            Client::Envoy(_) => {
                let subject = input["subject"]["id"].as_str().unwrap_or("").to_string();
                let method = if input["action"] == "view" { "GET" } else { "POST" };
                Prepared::Envoy(Box::new(CheckRequest {
                    attributes: Some(AttributeContext {
                        request: Some(attribute_context::Request {
                            http: Some(attribute_context::HttpRequest {
                                method: method.into(),
                                path: "/orders/42".into(),
                                host: "orders".into(),
                                headers: [("x-subject-id".to_string(), subject)].into(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                }))
            }
        })
        .collect()
}

async fn send(client: &mut Client, request: &Prepared) -> bool {
    match (client, request) {
        (Client::Http(connection), Prepared::Http(bytes)) => connection.round_trip(bytes).await,
        (Client::Grpc(grpc), Prepared::Grpc(request)) => grpc.decide(request.clone()).await.is_ok(),
        (Client::Envoy(envoy), Prepared::Envoy(request)) => {
            envoy.check(request.as_ref().clone()).await.is_ok()
        }
        _ => false,
    }
}

async fn connect(args: &RunArgs) -> Result<Client, Box<dyn std::error::Error>> {
    let unix = args.target.strip_prefix("unix://").map(str::to_string);
    match args.protocol {
        Protocol::Http => {
            let stream: Box<dyn Stream> = match &unix {
                Some(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
                None => {
                    let tcp = tokio::net::TcpStream::connect(&args.target).await?;
                    tcp.set_nodelay(true)?;
                    Box::new(tcp)
                }
            };
            Ok(Client::Http(HttpConnection {
                stream,
                buffer: vec![0u8; 64 << 10],
            }))
        }
        Protocol::Grpc | Protocol::Envoy => {
            let channel = match unix {
                Some(path) => {
                    tonic::transport::Endpoint::try_from("http://[::]:50051")?
                        .connect_with_connector(tower::service_fn(
                            move |_: tonic::transport::Uri| {
                                let path = path.clone();
                                async move {
                                    let stream = tokio::net::UnixStream::connect(path).await?;
                                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                                }
                            },
                        ))
                        .await?
                }
                None => {
                    tonic::transport::Endpoint::from_shared(format!("http://{}", args.target))?
                        .tcp_nodelay(true)
                        .connect()
                        .await?
                }
            };
            Ok(match args.protocol {
                Protocol::Grpc => Client::Grpc(AuthorizerClient::new(channel)),
                _ => Client::Envoy(AuthorizationClient::new(channel)),
            })
        }
    }
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

/// A keep-alive HTTP/1.1 connection that reads exactly one response per request.
struct HttpConnection {
    stream: Box<dyn Stream>,
    buffer: Vec<u8>,
}

impl HttpConnection {
    async fn round_trip(&mut self, request: &[u8]) -> bool {
        if self.stream.write_all(request).await.is_err() {
            return false;
        }
        let mut filled = 0;
        loop {
            match self.stream.read(&mut self.buffer[filled..]).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => filled += n,
            }
            let Some(head_end) = find(&self.buffer[..filled], b"\r\n\r\n") else {
                if filled == self.buffer.len() {
                    return false;
                }
                continue;
            };
            let head = &self.buffer[..head_end];
            let length = content_length(head).unwrap_or(0);
            if filled >= head_end + 4 + length {
                return head.starts_with(b"HTTP/1.1 200");
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(head).ok()?;
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// A server that answers every HTTP request with `{"result":true}` and every gRPC `Decide` with
/// `true`, doing no other work: what the load generator reaches against it is its own ceiling.
async fn trivial(http: String, grpc: String) -> Result<(), Box<dyn std::error::Error>> {
    let http_listener = tokio::net::TcpListener::bind(&http).await?;
    let grpc_listener = tokio::net::TcpListener::bind(&grpc).await?;
    println!(
        "trivial http={} grpc={}",
        http_listener.local_addr()?,
        grpc_listener.local_addr()?
    );
    let router = axum::Router::new().fallback(|| async {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            "{\"result\":true}\n",
        )
    });
    let http_server = async move {
        loop {
            let Ok((stream, _)) = http_listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let router = router.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let router = router.clone();
                        async move {
                            use tower::ServiceExt;
                            router.oneshot(request.map(axum::body::Body::new)).await
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    };
    struct Trivial;
    #[tonic::async_trait]
    impl pb::authorizer_server::Authorizer for Trivial {
        async fn decide(
            &self,
            _: tonic::Request<pb::DecideRequest>,
        ) -> Result<tonic::Response<pb::DecideResponse>, tonic::Status> {
            Ok(tonic::Response::new(pb::DecideResponse {
                defined: true,
                result_json: "true".into(),
                ..Default::default()
            }))
        }
        async fn decide_batch(
            &self,
            _: tonic::Request<pb::DecideBatchRequest>,
        ) -> Result<tonic::Response<pb::DecideBatchResponse>, tonic::Status> {
            Ok(tonic::Response::new(pb::DecideBatchResponse::default()))
        }
    }
    let grpc_server = tonic::transport::Server::builder()
        .add_service(pb::authorizer_server::AuthorizerServer::new(Trivial))
        .serve_with_incoming(
            tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true)),
        );
    tokio::select! {
        () = http_server => {}
        result = grpc_server => result?,
    }
    Ok(())
}
