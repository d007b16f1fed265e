//! Build steps: compile `proto/` into Rust (tonic + prost, with protox so no system `protoc` is
//! needed), write the descriptor set served by gRPC reflection, and record build facts for
//! `?provenance`.

use std::path::PathBuf;
use std::process::Command;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    // Rust code for authzd's own API only; Envoy's types come from the envoy-types crate.
    let ours = protox::compile(["authzd/v1/authzd.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .bytes(".authzd.v1")
        .compile_fds(ours)?;

    // Reflection describes every service on the gRPC listener, Envoy's included.
    let all = protox::compile(
        [
            "authzd/v1/authzd.proto",
            "envoy/service/auth/v3/external_auth.proto",
        ],
        ["proto", "proto/third_party"],
    )?;
    std::fs::write(
        out_dir.join("reflection_descriptor.bin"),
        all.encode_to_vec(),
    )?;
    println!("cargo:rerun-if-changed=proto");

    build_facts();
    Ok(())
}

fn build_facts() {
    let run = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let commit = run("git", &["rev-parse", "--short=12", "HEAD"]);
    let timestamp = run("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]);
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=AUTHZD_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=AUTHZD_BUILD_TIMESTAMP={timestamp}");
    println!("cargo:rustc-env=AUTHZD_BUILD_HOSTNAME={hostname}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
}
