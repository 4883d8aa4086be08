//! The format of the data-driven check cases (`tests/cases/*.case`), shared by the runners of
//! every engine: the local one (`it/cases.rs`), PostgreSQL and Ballista.
//!
//! File format:
//! ```text
//! ### case: NAME
//! --- data.csv            (or data.jsonl; the file name of the data block)
//! a,b
//! 1,2
//! --- suite
//! columns: { a: { not_null: true } }
//! --- expect
//! not_null a: passed observed=1.0 unexpected=0/1
//! ```
//! Each expected line is one finding rendered by [`line`]; a line ending in `...` matches any
//! rendered line that starts with the text before it. A test-level error is `error: MESSAGE...`.
#![allow(dead_code)] // each runner uses part of it

use std::path::{Path, PathBuf};

use tollgate::{RunReport, Status};

pub struct Case {
    pub name: String,
    pub file: String,
    pub data_name: String,
    pub data: String,
    pub suite: String,
    pub expect: Vec<String>,
}

pub fn parse(file: &str, text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for chunk in text.split("### case: ").skip(1) {
        let (name, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        let mut case = Case {
            name: name.trim().to_string(),
            file: file.to_string(),
            data_name: String::new(),
            data: String::new(),
            suite: String::new(),
            expect: Vec::new(),
        };
        for block in body.split("--- ").skip(1) {
            let (head, content) = block.split_once('\n').unwrap_or((block, ""));
            let head = head.trim();
            match head {
                "suite" => case.suite = content.to_string(),
                "expect" => {
                    case.expect = content
                        .lines()
                        .map(str::trim_end)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(String::from)
                        .collect()
                }
                data => {
                    case.data_name = data.to_string();
                    case.data = content.to_string();
                }
            }
        }
        cases.push(case);
    }
    cases
}

/// One finding as one line: `CHECK SUBJECT: STATUS observed=JSON [unexpected=U/E] [rows=[..]] [error=..]`.
pub fn line(f: &tollgate::Finding) -> String {
    let mut subject = f
        .column
        .clone()
        .or_else(|| f.columns.as_ref().map(|c| c.join(",")))
        .unwrap_or_default();
    if let Some(n) = &f.name {
        subject = if subject.is_empty() {
            format!("[{n}]")
        } else {
            format!("{subject} [{n}]")
        };
    }
    let mut s = format!("{} {}: {}", f.check, subject, f.status.as_str());
    if f.status == Status::Error {
        s.push_str(&format!(" error={}", f.error.clone().unwrap_or_default()));
        return s;
    }
    s.push_str(&format!(" observed={}", f.observed));
    if let (Some(u), Some(e)) = (f.unexpected_count, f.element_count) {
        s.push_str(&format!(" unexpected={u}/{e}"));
    }
    if !f.sample.is_empty() {
        let rows: Vec<String> = f
            .sample
            .iter()
            .filter_map(|r| r.row)
            .map(|r| r.to_string())
            .collect();
        s.push_str(&format!(" rows=[{}]", rows.join(",")));
    }
    s
}

pub fn render(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    for t in &report.tests {
        if let Some(e) = &t.error {
            out.push(format!("error: {e}"));
        }
        out.extend(t.findings.iter().map(line));
    }
    out
}

pub fn matches(expected: &str, got: &str) -> bool {
    match expected.strip_suffix("...") {
        Some(prefix) => got.starts_with(prefix),
        None => expected == got,
    }
}

/// Every case of every `tests/cases/*.case` file, in file order.
pub fn all() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/cases")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|f| f.extension().is_some_and(|e| e == "case"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read case file");
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        cases.extend(parse(&name, &text));
    }
    assert!(!cases.is_empty(), "no cases found");
    cases
}
