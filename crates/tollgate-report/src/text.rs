//! Text for people: one line per passing test, details for failing checks.

use std::fmt::Write;

use tollgate_core::{Finding, RunReport, Status, TestKind, TestResult};

use crate::show;

/// Options of the text renderer.
#[derive(Debug, Clone, Default)]
pub struct TextOptions {
    /// ANSI colours.
    pub color: bool,
    /// List passing checks of failing tests too.
    pub verbose: bool,
    /// Warnings fail the run (`--fail-on warn`): JUnit reports them as failures.
    pub fail_on_warn: bool,
}

struct Paint(bool);

impl Paint {
    fn status(&self, s: Status, text: &str) -> String {
        let code = match s {
            Status::Passed => "32",
            Status::Warned => "33",
            Status::Failed => "31",
            Status::Error => "35",
        };
        self.code(code, text)
    }

    fn code(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn dim(&self, text: &str) -> String {
        self.code("2", text)
    }
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Passed => "PASS",
        Status::Warned => "WARN",
        Status::Failed => "FAIL",
        Status::Error => "ERROR",
    }
}

/// Render a run as text.
pub fn text(report: &RunReport, opts: &TextOptions) -> String {
    let p = Paint(opts.color);
    let mut out = String::new();
    for t in &report.tests {
        test(&mut out, t, &p, opts);
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{} {} {}: {} passed, {} failed, {} warned, {} errors",
        p.status(report.status, mark(report.status)),
        s.tests,
        if s.tests == 1 { "test" } else { "tests" },
        s.passed,
        s.failed,
        s.warned,
        s.errors
    );
    out
}

fn test(out: &mut String, t: &TestResult, p: &Paint, opts: &TextOptions) {
    let kind = serde_json::to_value(t.kind)
        .ok()
        .map(|v| show(&v))
        .unwrap_or_default();
    let passed = t
        .findings
        .iter()
        .filter(|f| f.status == Status::Passed)
        .count();
    let mut line = format!(
        "{:<5} {kind} {}",
        p.status(t.status, mark(t.status)),
        t.name
    );
    let mut facts = Vec::new();
    if let Some(src) = &t.source {
        facts.push(src.clone());
    }
    if let Some(rows) = t.rows {
        facts.push(format!("{rows} rows"));
    }
    if !t.findings.is_empty() {
        facts.push(format!("{passed}/{} checks passed", t.findings.len()));
    }
    if !facts.is_empty() {
        line.push_str(&p.dim(&format!(" ({})", facts.join(", "))));
    }
    let _ = writeln!(out, "{line}");
    if let Some(e) = &t.error {
        for l in e.lines() {
            let _ = writeln!(out, "      {l}");
        }
    }
    if t.kind == TestKind::Evaluation {
        // The numbers are the point of an evaluation: one line per metric, always.
        for f in &t.findings {
            metric_line(out, f, p);
        }
        return;
    }
    for f in &t.findings {
        if f.status != Status::Passed || opts.verbose {
            finding(out, f, p);
        }
    }
}

fn metric_line(out: &mut String, f: &Finding, p: &Paint) {
    let mut name = f.check.clone();
    if let Some(slice) = &f.slice {
        let parts: Vec<String> = slice
            .iter()
            .map(|(k, v)| format!("{k}={}", show(v)))
            .collect();
        name.push_str(&format!(" [{}]", parts.join(", ")));
    }
    if let Some(n) = &f.name {
        name.push_str(&format!(" ({n})"));
    }
    let num = |v: f64| format!("{v:.4}");
    let value = f
        .observed
        .as_f64()
        .map(num)
        .unwrap_or_else(|| show(&f.observed));
    let mut line = format!(
        "      {:<5} {:<40} {value}",
        p.status(f.status, mark(f.status)),
        name
    );
    if let Some([lo, hi]) = f.interval {
        line.push_str(&format!("  [{}, {}]", num(lo), num(hi)));
    }
    if let Some(e) = &f.error {
        line.push_str(&format!("  {e}"));
    } else if !f.expected.is_empty() {
        line.push_str(&p.dim(&format!("  {}", f.expected)));
    }
    let _ = writeln!(out, "{line}");
}

fn finding(out: &mut String, f: &Finding, p: &Paint) {
    let mut subject = f.check.clone();
    if let Some(c) = &f.column {
        subject.push_str(&format!(" {c}"));
    } else if let Some(cs) = &f.columns {
        subject.push_str(&format!(" {}", cs.join(", ")));
    }
    if let Some(n) = &f.name {
        subject.push_str(&format!(" [{n}]"));
    }
    if let Some(g) = &f.gx_type {
        subject.push_str(&p.dim(&format!(" ({g})")));
    }
    let _ = writeln!(
        out,
        "      {} {subject}",
        p.status(f.status, mark(f.status))
    );
    if let Some(e) = &f.error {
        let _ = writeln!(out, "          {e}");
        if f.status == Status::Error {
            return;
        }
    }
    let _ = writeln!(out, "          expected {}", f.expected);
    let _ = writeln!(out, "          observed {}", show(&f.observed));
    if let (Some(u), Some(e)) = (f.unexpected_count, f.element_count) {
        let frac = f.unexpected_fraction.unwrap_or(0.0) * 100.0;
        let _ = writeln!(out, "          {u} of {e} unexpected ({frac:.2}%)");
    }
    if !f.sample.is_empty() {
        let _ = writeln!(out, "          failing rows:");
        for r in &f.sample {
            let vals: Vec<String> = r.values.iter().map(|(k, v)| format!("{k}={}", v)).collect();
            match r.row {
                Some(row) => {
                    let _ = writeln!(out, "            row {row}: {}", vals.join(", "));
                }
                None => {
                    let _ = writeln!(out, "            {}", vals.join(", "));
                }
            }
        }
    }
}
