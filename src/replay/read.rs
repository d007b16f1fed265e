//! Reading decision logs: the file sink's JSON lines, and a collector's batches (gzip-compressed
//! JSON arrays, OPA's upload format), plain or gzip-compressed, whatever the file name.
//!
//! Owns: cutting a file into chunks of whole lines for the replay threads ([`Chunks`]), and
//! reading the events of one chunk ([`events`]): a line is one event, or one or more JSON
//! arrays of events. Only what a replay needs is decoded; the rest of an event is skipped.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use regorus::Value;
use serde::{Deserialize, Deserializer};

/// Bytes per chunk handed to a replay thread (extended to the end of the line).
const CHUNK_BYTES: usize = 1 << 20;

/// Why a decision-log file cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// A run of whole lines of one file.
pub struct Chunk {
    /// Position of the chunk among all chunks of all files: orders examples.
    pub index: u64,
    pub file: usize,
    /// Line number (1-based) of the chunk's first line.
    pub first_line: u64,
    pub bytes: Vec<u8>,
}

/// The chunks of one file, in order.
pub struct Chunks {
    path: PathBuf,
    file: usize,
    reader: Box<dyn Read + Send>,
    carry: Vec<u8>,
    next_line: u64,
    done: bool,
}

impl Chunks {
    /// Opens `path`; gzip is recognised by its magic bytes.
    pub fn open(path: &Path, file: usize) -> Result<Self, ReadError> {
        let error = |source| ReadError {
            path: path.to_path_buf(),
            source,
        };
        let mut head = [0u8; 2];
        let mut probe = File::open(path).map_err(error)?;
        let gzip = probe.read(&mut head).map_err(error)? == 2 && head == [0x1f, 0x8b];
        let file_handle = File::open(path).map_err(error)?;
        let reader: Box<dyn Read + Send> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(
                file_handle,
            )))
        } else {
            Box::new(file_handle)
        };
        Ok(Self {
            path: path.to_path_buf(),
            file,
            reader,
            carry: Vec::new(),
            next_line: 1,
            done: false,
        })
    }

    /// The next chunk (`index` is filled in by the caller), or `None` at the end.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, ReadError> {
        if self.done && self.carry.is_empty() {
            return Ok(None);
        }
        let mut bytes = std::mem::take(&mut self.carry);
        let mut block = vec![0u8; CHUNK_BYTES];
        while !self.done {
            let n = self.reader.read(&mut block).map_err(|source| ReadError {
                path: self.path.clone(),
                source,
            })?;
            if n == 0 {
                self.done = true;
                break;
            }
            let read = block.get(..n).unwrap_or_default();
            if bytes.len() + n >= CHUNK_BYTES
                && let Some(last_newline) = read.iter().rposition(|b| *b == b'\n')
            {
                let (whole, rest) = read.split_at(last_newline + 1);
                bytes.extend_from_slice(whole);
                self.carry.extend_from_slice(rest);
                break;
            }
            bytes.extend_from_slice(read);
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        let first_line = self.next_line;
        self.next_line += bytes.iter().filter(|b| **b == b'\n').count() as u64;
        Ok(Some(Chunk {
            index: 0,
            file: self.file,
            first_line,
            bytes,
        }))
    }
}

/// One logged decision, as far as a replay needs it.
#[derive(Debug, Deserialize)]
pub struct LoggedDecision {
    #[serde(default)]
    pub decision_id: String,
    #[serde(default)]
    pub path: Option<String>,
    /// `Undefined` when the event has no `input` (the request had none, or it was erased).
    #[serde(default = "undefined")]
    pub input: Value,
    /// `None` when the event has no `result` (undefined, an error, or erased).
    #[serde(default, deserialize_with = "present")]
    pub result: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<LoggedError>,
    /// JSON pointers the mask policy removed or replaced.
    #[serde(default)]
    pub erased: Vec<String>,
    #[serde(default)]
    pub masked: Vec<String>,
    /// Set on the events shadow evaluation adds: not decisions of their own.
    #[serde(default)]
    pub shadow: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub struct LoggedError {
    #[serde(default)]
    pub code: String,
}

fn undefined() -> Value {
    Value::Undefined
}

/// A present field, `null` included, is `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// What one line held.
pub enum Line {
    Decision(Box<LoggedDecision>),
    /// Not an event: the line number and why.
    Unreadable(u64, String),
}

/// The events of `chunk`, in order: one per line, or every member of the JSON arrays on a
/// line (a collector's batch).
pub fn events(chunk: &Chunk) -> Vec<Line> {
    let mut out = Vec::new();
    for (offset, line) in chunk.bytes.split(|b| *b == b'\n').enumerate() {
        let number = chunk.first_line + offset as u64;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.first() == Some(&b'[') {
            let stream =
                serde_json::Deserializer::from_slice(trimmed).into_iter::<Vec<LoggedDecision>>();
            for batch in stream {
                match batch {
                    Ok(batch) => out.extend(batch.into_iter().map(|d| Line::Decision(Box::new(d)))),
                    Err(e) => {
                        out.push(Line::Unreadable(number, e.to_string()));
                        break;
                    }
                }
            }
        } else {
            match serde_json::from_slice::<LoggedDecision>(trimmed) {
                Ok(decision) => out.push(Line::Decision(Box::new(decision))),
                Err(e) => out.push(Line::Unreadable(number, e.to_string())),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn all(path: &Path) -> Vec<Line> {
        let mut chunks = Chunks::open(path, 0).unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = chunks.next_chunk().unwrap() {
            out.extend(events(&chunk));
        }
        out
    }

    fn ids(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| match l {
                Line::Decision(d) => d.decision_id.clone(),
                Line::Unreadable(n, _) => format!("unreadable line {n}"),
            })
            .collect()
    }

    #[test]
    fn json_lines_and_gzip_batches() {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("decisions.jsonl");
        std::fs::write(
            &lines,
            concat!(
                r#"{"decision_id": "a", "path": "p/x", "input": null, "result": null}"#,
                "\n\nnot json\n",
                r#"{"decision_id": "b", "path": "p/x", "erased": ["/input"]}"#,
                "\n",
            ),
        )
        .unwrap();
        let read = all(&lines);
        assert_eq!(ids(&read), ["a", "unreadable line 3", "b"]);
        let Line::Decision(a) = &read[0] else {
            panic!()
        };
        assert_eq!(a.input, Value::Null);
        assert_eq!(a.result, Some(serde_json::Value::Null));
        let Line::Decision(b) = &read[2] else {
            panic!()
        };
        assert_eq!(b.input, Value::Undefined);
        assert_eq!(b.result, None);

        let batches = dir.path().join("batch-1");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(br#"[{"decision_id": "c", "path": "p"},{"decision_id": "d", "path": "p"}]"#)
            .unwrap();
        gz.write_all(br#"[{"decision_id": "e", "path": "p"}]"#)
            .unwrap();
        let mut bytes = gz.finish().unwrap();
        // A second gzip member, as when batches are appended to one file.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"\n[{\"decision_id\": \"f\", \"path\": \"p\"}]\n")
            .unwrap();
        bytes.extend(gz.finish().unwrap());
        std::fs::write(&batches, bytes).unwrap();
        assert_eq!(ids(&all(&batches)), ["c", "d", "e", "f"]);
    }

    #[test]
    fn chunks_end_at_line_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        let line = format!(
            "{{\"decision_id\": \"x\", \"path\": \"p\", \"input\": \"{}\"}}\n",
            "y".repeat(1000)
        );
        let count = 3 * CHUNK_BYTES / line.len();
        std::fs::write(&path, line.repeat(count)).unwrap();
        let mut chunks = Chunks::open(&path, 0).unwrap();
        let mut seen = 0;
        let mut pieces = 0;
        while let Some(chunk) = chunks.next_chunk().unwrap() {
            assert_eq!(chunk.first_line, seen as u64 + 1);
            let lines = events(&chunk);
            assert!(lines.iter().all(|l| matches!(l, Line::Decision(_))));
            seen += lines.len();
            pieces += 1;
        }
        assert_eq!(seen, count);
        assert!(pieces >= 3, "{pieces}");
    }
}
