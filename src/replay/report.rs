//! The replay report, as text for people and as JSON for scripts.
//!
//! Owns: the report's shape and wording. The counting is [`super::tally`]'s.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;

use super::Replayed;
use crate::policy::BundleRevision;

/// What the report is about besides the tally.
pub struct Context<'a> {
    pub logs: &'a [PathBuf],
    pub bundles: &'a [BundleRevision],
}

#[derive(Serialize)]
struct ChangeGroup<'a> {
    path: &'a str,
    kind: &'static str,
    count: u64,
    examples: Vec<&'a str>,
}

/// The report as one JSON document.
pub fn json(replayed: &Replayed, context: &Context<'_>) -> serde_json::Value {
    let t = &replayed.tally;
    let changes: Vec<ChangeGroup<'_>> = t
        .changes
        .iter()
        .map(|((path, kind), group)| ChangeGroup {
            path,
            kind: kind.as_str(),
            count: group.count,
            examples: group.examples.iter().map(|(_, id)| id.as_str()).collect(),
        })
        .collect();
    let not_replayable: serde_json::Map<String, serde_json::Value> = t
        .not_replayable
        .iter()
        .map(|(why, n)| (why.as_str().to_string(), json!(n)))
        .collect();
    let unreadable: Vec<serde_json::Value> = t
        .unreadable
        .iter()
        .map(|u| {
            json!({
                "file": context.logs.get(u.file).map(|p| p.display().to_string()),
                "line": u.line,
                "message": u.message,
            })
        })
        .collect();
    json!({
        "bundles": context
            .bundles
            .iter()
            .map(|b| (b.name.clone(), json!({ "revision": b.revision })))
            .collect::<serde_json::Map<_, _>>(),
        "decisions": t.replayed + t.not_replayable.values().sum::<u64>(),
        "replayed": t.replayed,
        "unchanged": t.unchanged,
        "changed": t.changed(),
        "not_replayable": {
            "count": t.not_replayable.values().sum::<u64>(),
            "reasons": not_replayable,
        },
        "skipped_shadow_events": t.skipped_shadow,
        "unreadable": { "count": t.unreadable_count, "first": unreadable },
        "changes": changes,
        "elapsed_seconds": replayed.elapsed.as_secs_f64(),
        "threads": replayed.threads,
    })
}

/// The report as text.
pub fn text(replayed: &Replayed, context: &Context<'_>) -> String {
    let t = &replayed.tally;
    let mut out = String::new();
    let revisions: Vec<String> = context
        .bundles
        .iter()
        .map(|b| {
            if b.revision.is_empty() {
                b.name.clone()
            } else {
                format!("{} (revision {})", b.name, b.revision)
            }
        })
        .collect();
    let not_replayable: u64 = t.not_replayable.values().sum();
    let seconds = replayed.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        t.replayed as f64 / seconds
    } else {
        0.0
    };
    out.push_str(&format!(
        "replayed {} decisions against {} in {:.2} s ({:.0}/s, {} threads)\n",
        t.replayed,
        revisions.join(", "),
        seconds,
        rate,
        replayed.threads
    ));
    out.push_str(&format!("  unchanged       {:>10}\n", t.unchanged));
    out.push_str(&format!("  changed         {:>10}\n", t.changed()));
    out.push_str(&format!("  not replayable  {not_replayable:>10}"));
    if not_replayable > 0 {
        let reasons: Vec<String> = t
            .not_replayable
            .iter()
            .map(|(why, n)| format!("{n} {}", why.as_str()))
            .collect();
        out.push_str(&format!("  ({})", reasons.join(", ")));
    }
    out.push('\n');
    if t.unreadable_count > 0 {
        out.push_str(&format!(
            "  unreadable      {:>10}  (not decision-log events)\n",
            t.unreadable_count
        ));
        for u in &t.unreadable {
            let file = context
                .logs
                .get(u.file)
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            out.push_str(&format!("    {file}:{}: {}\n", u.line, u.message));
        }
    }
    if t.changes.is_empty() {
        return out;
    }
    out.push_str("\nchanged decisions:\n");
    let width = t.changes.keys().map(|(p, _)| p.len()).max().unwrap_or(0);
    for ((path, kind), group) in &t.changes {
        let examples: Vec<&str> = group.examples.iter().map(|(_, id)| id.as_str()).collect();
        out.push_str(&format!(
            "  {path:<width$}  {:<13}  {:>8}  e.g. {}\n",
            kind.as_str(),
            group.count,
            examples.join(" ")
        ));
    }
    out
}
