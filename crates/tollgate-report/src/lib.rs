//! tollgate-report: renderers of a run's results (text for people, JSON and JUnit XML for
//! machines, Markdown for pull-request comments, one self-contained HTML page with SVG charts).
//! Renderers read a [`RunReport`] and return text; they never print or write files.
#![deny(missing_docs)]

mod html;
mod junit;
mod markdown;
mod profile;
mod text;

pub use html::html;
pub use junit::junit;
pub use markdown::markdown;
pub use profile::profile_html;
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
    /// One self-contained HTML page (inline CSS and SVG, nothing fetched).
    Html,
    /// GitHub-flavoured Markdown, for a pull-request comment.
    Markdown,
}

impl Format {
    /// Parse a `--format` name.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "text" | "txt" => Some(Format::Text),
            "json" => Some(Format::Json),
            "junit" | "xml" => Some(Format::Junit),
            "html" => Some(Format::Html),
            "markdown" | "md" => Some(Format::Markdown),
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
            "html" | "htm" => Some(Format::Html),
            "md" | "markdown" => Some(Format::Markdown),
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
        Format::Html => html(report),
        Format::Markdown => markdown(report),
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

/// A number for people: integers as they are, others to 4 decimals (tiny ones in e-notation).
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    if x != 0.0 && x.abs() < 1e-3 {
        return format!("{x:.2e}");
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A measured value in a table cell: numbers rounded, objects as `key=value`, long text cut.
pub(crate) fn brief(v: &serde_json::Value) -> String {
    use serde_json::Value;
    let s = match v {
        Value::Number(n) => n.as_f64().map(num).unwrap_or_else(|| n.to_string()),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::Number(_) => format!("{k}={}", brief(v)),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => show(other),
    };
    cut(&s, 120)
}

/// At most `max` characters, with an ellipsis when cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The column (or columns) a finding is about.
pub(crate) fn subject(f: &tollgate_core::Finding) -> String {
    if let Some(c) = &f.column {
        c.clone()
    } else if let Some(cs) = &f.columns {
        cs.join(", ")
    } else {
        String::new()
    }
}

/// The check's name with its slice and user name: `accuracy [Sex=male] (worst slice)`.
pub(crate) fn check_label(f: &tollgate_core::Finding) -> String {
    let mut s = f.check.clone();
    if let Some(slice) = &f.slice {
        let parts: Vec<String> = slice
            .iter()
            .map(|(k, v)| format!("{k}={}", show(v)))
            .collect();
        s.push_str(&format!(" [{}]", parts.join(", ")));
    }
    if let Some(n) = &f.name {
        s.push_str(&format!(" ({n})"));
    }
    s
}

/// `177 of 891 (19.87%)`, or just the count, or nothing.
pub(crate) fn unexpected(f: &tollgate_core::Finding) -> String {
    match (f.unexpected_count, f.element_count) {
        (Some(u), Some(e)) if e > 0 => {
            let frac = f.unexpected_fraction.unwrap_or(u as f64 / e as f64) * 100.0;
            format!("{u} of {e} ({frac:.2}%)")
        }
        (Some(u), _) => u.to_string(),
        _ => String::new(),
    }
}

/// The kind's name as in the JSON (`model_check`).
pub(crate) fn kind_name(k: tollgate_core::TestKind) -> String {
    serde_json::to_value(k)
        .ok()
        .map(|v| show(&v))
        .unwrap_or_default()
}

/// The columns of a sample table: the union of the rows' keys, in order of first appearance.
pub(crate) fn sample_columns(rows: &[tollgate_core::SampleRow]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for r in rows {
        for k in r.values.keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

/// A sample cell: scalars as they are, nested values as compact JSON, cut short.
pub(crate) fn cell(v: Option<&serde_json::Value>) -> String {
    match v {
        None => String::new(),
        Some(serde_json::Value::Number(n)) => n.as_f64().map(num).unwrap_or_else(|| n.to_string()),
        Some(serde_json::Value::Object(m)) if m.contains_key("from") && m.contains_key("to") => {
            format!("{} → {}", show(&m["from"]), show(&m["to"]))
        }
        Some(other) => cut(&show(other), 60),
    }
}

/// The bound an expectation sentence states: `accuracy >= 0.82` gives `(true, 0.82)` (a lower
/// bound), `psi < 0.25` gives `(false, 0.25)`. The first comparison in the sentence counts.
pub(crate) fn bound(expected: &str) -> Option<(bool, f64)> {
    for (i, c) in expected.char_indices() {
        if c != '>' && c != '<' {
            continue;
        }
        let lower = c == '>';
        let rest = expected[i + 1..].trim_start_matches('=').trim_start();
        let end = rest
            .find(|ch: char| !(ch.is_ascii_digit() || matches!(ch, '.' | '-' | 'e' | 'E' | '+')))
            .unwrap_or(rest.len());
        if let Ok(x) = rest[..end].trim_end_matches('.').parse::<f64>() {
            return Some((lower, x));
        }
    }
    None
}
