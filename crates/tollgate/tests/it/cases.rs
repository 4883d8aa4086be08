//! Data-driven check cases: `tests/cases/*.case`, one file per check family (the format is in
//! `tests/common/cases.rs`). Every case runs at batch sizes {1, 3, 8192} and partitions {1, 4}
//! and must give byte-identical JSON in all six runs.

use std::path::Path;

use tollgate::{Engine, EngineOptions, SourceDecl};

#[path = "../common/cases.rs"]
mod format;
use format::{Case, matches, render};

fn run_case(case: &Case, dir: &Path) -> Result<(), String> {
    let data_path = dir.join(&case.data_name);
    std::fs::write(&data_path, &case.data).map_err(|e| e.to_string())?;
    let suite = tollgate::parse_suite(&case.suite, &case.name)
        .map_err(|d| format!("suite does not parse:\n{}", d.render(Some(&case.suite))))?;
    let source = SourceDecl::file("data", &case.data_name);
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let mut first: Option<(String, Vec<String>)> = None;
    for batch in [1usize, 3, 8192] {
        for partitions in [1usize, 4] {
            let engine = Engine::new(EngineOptions {
                batch_size: Some(batch),
                partitions: Some(partitions),
                split_small_files: true,
                ..Default::default()
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
    let mut failures = Vec::new();
    let mut count = 0;
    for case in format::all() {
        count += 1;
        let dir = tempfile::tempdir().expect("tempdir");
        if let Err(e) = run_case(&case, dir.path()) {
            failures.push(format!("{} / {}: {e}", case.file, case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
