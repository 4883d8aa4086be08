//! Data-driven check cases: `tests/cases/*.case`, one file per check family. Each case has a
//! data block, a suite and the expected findings; every case runs at batch sizes {1, 3, 8192}
//! and partitions {1, 4} and must give byte-identical JSON in all six runs.
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

use std::path::Path;

use tollgate::{Engine, EngineOptions, RunReport, SourceDecl, Status};

struct Case {
    name: String,
    file: String,
    data_name: String,
    data: String,
    suite: String,
    expect: Vec<String>,
}

fn parse(file: &str, text: &str) -> Vec<Case> {
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

fn render(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    for t in &report.tests {
        if let Some(e) = &t.error {
            out.push(format!("error: {e}"));
        }
        out.extend(t.findings.iter().map(line));
    }
    out
}

fn matches(expected: &str, got: &str) -> bool {
    match expected.strip_suffix("...") {
        Some(prefix) => got.starts_with(prefix),
        None => expected == got,
    }
}

fn run_case(case: &Case, dir: &Path) -> Result<(), String> {
    let data_path = dir.join(&case.data_name);
    std::fs::write(&data_path, &case.data).map_err(|e| e.to_string())?;
    let suite = tollgate::parse_suite(&case.suite, &case.name)
        .map_err(|d| format!("suite does not parse:\n{}", d.render(Some(&case.suite))))?;
    let source = SourceDecl {
        name: "data".into(),
        pos: Default::default(),
        path: case.data_name.clone(),
        format: None,
        csv: Default::default(),
        postgres: None,
    };
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let mut first: Option<(String, Vec<String>)> = None;
    for batch in [1usize, 3, 8192] {
        for partitions in [1usize, 4] {
            let engine = Engine::new(EngineOptions {
                batch_size: Some(batch),
                partitions: Some(partitions),
                split_small_files: true,
            });
            let report = rt.block_on(tollgate::run_suites(
                &engine,
                &source,
                std::slice::from_ref(&suite),
                dir,
            ));
            let json = tollgate::report::json(&report);
            let lines = render(&report);
            match &first {
                None => {
                    let ok = lines.len() == case.expect.len()
                        && case.expect.iter().zip(&lines).all(|(e, g)| matches(e, g));
                    if !ok {
                        return Err(format!(
                            "findings differ\n  expected:\n    {}\n  got:\n    {}",
                            case.expect.join("\n    "),
                            lines.join("\n    ")
                        ));
                    }
                    first = Some((json, lines));
                }
                Some((j, _)) if *j != json => {
                    return Err(format!(
                        "JSON differs at batch size {batch}, {partitions} partitions:\n{json}\nvs\n{j}"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

#[test]
fn check_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/cases")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "case"))
    {
        let text = std::fs::read_to_string(f).expect("read case file");
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        for case in parse(&name, &text) {
            count += 1;
            let dir = tempfile::tempdir().expect("tempdir");
            if let Err(e) = run_case(&case, dir.path()) {
                failures.push(format!("{} / {}: {e}", case.file, case.name));
            }
        }
    }
    assert!(count > 0, "no cases found");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
