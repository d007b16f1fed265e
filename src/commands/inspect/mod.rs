//! `authzd inspect BUNDLE`: what a bundle holds, whether its signature is good, and where each
//! of its rules runs.
//!
//! Owns: the command line and the exit code (1 when the bundle cannot be read, its signature
//! is invalid, or it would be refused at load). The report is [`report`]; its text form
//! [`text`]; `--format json` prints the report as it is.

pub mod report;
pub mod text;

use std::process::ExitCode;

use crate::cli::{InspectArgs, OutputFormat};

pub fn run(args: InspectArgs) -> ExitCode {
    let (keys, verification) = match args.signing.key_and_verification() {
        Ok(found) => found,
        Err(e) => {
            eprintln!("authzd inspect: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match report::inspect(&args.bundle, &keys, verification.as_ref()) {
        Ok(report) => report,
        Err(message) => {
            eprintln!("authzd inspect: {message}");
            return ExitCode::from(2);
        }
    };
    match args.format {
        OutputFormat::Text => print!("{}", text::render(&report)),
        OutputFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("authzd inspect: {e}");
                return ExitCode::from(2);
            }
        },
    }
    if report.signature.status == "invalid" || report.error.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
