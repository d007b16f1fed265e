//! `authzd capabilities`: print OPA's capabilities JSON for exactly what authzd evaluates, for
//! `opa check --capabilities FILE`, `opa build --capabilities FILE` and Regal.
//!
//! Owns only the printing; what goes in the document is [`crate::builtins::capabilities`]'s.

use std::process::ExitCode;

pub fn run() -> ExitCode {
    match serde_json::to_string_pretty(&crate::builtins::capabilities::document()) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("authzd capabilities: {e}");
            ExitCode::FAILURE
        }
    }
}
