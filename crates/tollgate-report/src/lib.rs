//! tollgate-report: renderers of a run's results (text for people, JSON and JUnit XML for
//! machines). Renderers read a [`RunReport`] and return text; they never print or write files.
#![deny(missing_docs)]

mod junit;
mod text;

pub use junit::junit;
pub use text::{TextOptions, text};
use tollgate_core::RunReport;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Human-readable text.
    Text,
    /// The `tollgate.results/v1` JSON document.
    Json,
    /// JUnit XML.
    Junit,
}

impl Format {
    /// Parse a `--format` name.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "text" | "txt" => Some(Format::Text),
            "json" => Some(Format::Json),
            "junit" | "xml" => Some(Format::Junit),
            _ => None,
        }
    }

    /// The format an output file's extension implies.
    pub fn from_extension(path: &str) -> Option<Format> {
        let ext = path.rsplit('.').next()?.to_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Junit),
            "txt" | "log" => Some(Format::Text),
            _ => None,
        }
    }
}

/// The JSON document (pretty-printed, deterministic, newline-terminated).
pub fn json(report: &RunReport) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Render in a format.
pub fn render(report: &RunReport, format: Format, opts: &TextOptions) -> String {
    match format {
        Format::Text => text(report, opts),
        Format::Json => json(report),
        Format::Junit => junit(report, opts.fail_on_warn),
    }
}

/// A short value rendering shared by the text and JUnit renderers.
pub(crate) fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "null".into(),
        other => other.to_string(),
    }
}
