//! JSON in and out of regorus values, exactly: the one parser for request inputs and bundle
//! data, and the one encoder for results.
//!
//! Owns: [`parse`] (JSON text to a [`regorus::Value`], integers of any size kept exact) and
//! [`Exact`] (a value serialised with its big integers digit for digit, where regorus' own
//! `Serialize` rounds them to f64), and [`parse_interned_parallel`] (a large data document
//! on several threads).

mod decimal;
mod parallel;
mod parse;
mod share;
mod write;

pub use decimal::integer_digits;
pub use parallel::parse_interned_parallel;
pub use parse::{MAX_DEPTH, MAX_EXACT_DIGITS, ParseError, parse, parse_interned};
pub use write::{Exact, exact};
