//! HTTP request bodies and query strings, through the functions the data API handlers use:
//! `read_body` (size cap, gzip), `v1_input` / `raw_input` (JSON or YAML), `DataParams::parse`
//! and `query_input` (`GET /v1/data?input=`), and the batch API's `merge_common`. Errors are
//! fine; a panic, a hang or unbounded memory is not.
//!
//! The first byte is the request's shape: bit 0 YAML, bit 1 gzip-encoded, bits 2-3 which
//! decoder. The rest is the body (or the query string).

#![no_main]

use std::sync::LazyLock;

use authzd::decide::input::merge_common;
use authzd::fuzzing::{DataParams, query_input, raw_input, read_body, v1_input};
use axum::body::Body;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 64 * 1024;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
});

fuzz_target!(|data: &[u8]| {
    let Some((&shape, body)) = data.split_first() else {
        return;
    };
    let yaml = shape & 1 != 0;
    let mut request = Request::builder().uri("/v1/data/x");
    if yaml {
        request = request.header(header::CONTENT_TYPE, "application/yaml");
    }
    if shape & 2 != 0 {
        request = request.header(header::CONTENT_ENCODING, "gzip");
    }
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        return;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = RUNTIME.block_on(read_body(&parts, body, LIMIT)) else {
        return;
    };
    match (shape >> 2) & 3 {
        0 => {
            let _ = v1_input(&bytes, yaml);
        }
        1 => {
            let _ = raw_input(&bytes, yaml);
        }
        2 => {
            let query = String::from_utf8_lossy(&bytes);
            if let Some(input) = DataParams::parse(Some(&query)).input {
                let _ = query_input(&input);
            }
        }
        _ => {
            if let Ok(common) = raw_input(&bytes, yaml) {
                let _ = merge_common(&common, common.clone());
            }
        }
    }
});
