//! Envoy's `Check`: a CheckRequest into the policy's input document (`input::build`: the
//! protobuf JSON mapping of the attributes, `parsed_path`, `parsed_query`, `parsed_body`).
//! Errors (a 400 denial) are fine; a panic is not.
//!
//! The first byte picks how the request is made: even, the rest is decoded as the protobuf
//! message Envoy sends (as tonic does); odd, the rest fills the fields the builder parses
//! (path and query, body, content headers), which random protobuf rarely reaches.

#![no_main]

use std::collections::HashMap;

use arbitrary::{Arbitrary, Unstructured};
use authzd::api::envoy::input;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest};
use libfuzzer_sys::fuzz_target;
use prost::Message;

#[derive(Arbitrary, Debug)]
struct Fields {
    path: String,
    content_type: ContentType,
    content_length: Option<String>,
    partial_body: bool,
    body: String,
    raw_body: Vec<u8>,
    headers: Vec<(String, String)>,
    context_extensions: Vec<(String, String)>,
    parse_body: bool,
}

#[derive(Arbitrary, Debug)]
enum ContentType {
    None,
    Json,
    Form,
    Other(String),
}

impl Fields {
    fn request(self) -> CheckRequest {
        let mut headers: HashMap<String, String> = self.headers.into_iter().collect();
        match self.content_type {
            ContentType::None => None,
            ContentType::Json => headers.insert("content-type".into(), "application/json".into()),
            ContentType::Form => headers.insert(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ContentType::Other(other) => headers.insert("content-type".into(), other),
        };
        if let Some(length) = self.content_length {
            headers.insert("content-length".into(), length);
        }
        if self.partial_body {
            headers.insert("x-envoy-auth-partial-body".into(), "true".into());
        }
        CheckRequest {
            attributes: Some(AttributeContext {
                request: Some(Request {
                    http: Some(HttpRequest {
                        path: self.path,
                        headers,
                        body: self.body,
                        raw_body: self.raw_body,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                context_extensions: self.context_extensions.into_iter().collect(),
                ..Default::default()
            }),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(request) = CheckRequest::decode(rest) {
            let _ = input::build(&request, true);
            let _ = input::build(&request, false);
        }
    } else if let Ok(fields) = Fields::arbitrary_take_rest(Unstructured::new(rest)) {
        let parse_body = fields.parse_body;
        let _ = input::build(&fields.request(), parse_body);
    }
});
