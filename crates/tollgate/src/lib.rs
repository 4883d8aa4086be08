//! tollgate: tests for data and machine-learning pipelines.
//!
//! The facade over the workspace's crates:
//! - `tollgate-core` decodes plans and suites (YAML with positions) and defines findings;
//! - `tollgate-data` computes checks with DataFusion, one aggregate scan per suite;
//! - `tollgate-report` renders results (text, JSON, JUnit XML).
//!
//! ```no_run
//! # async fn demo() {
//! let plan = tollgate::parse_plan(&std::fs::read_to_string("tollgate.yaml").unwrap()).unwrap();
//! let report = tollgate::run_plan(&tollgate::Engine::default(), &plan, std::path::Path::new("."), None).await;
//! assert_eq!(tollgate::exit_code(&report, false), 0);
//! # }
//! ```
#![deny(missing_docs)]

use std::path::Path;

pub use tollgate_core as core;
pub use tollgate_core::plan::{parse_plan, parse_suite};
pub use tollgate_core::{
    Finding, Plan, RunReport, SourceDecl, Status, SuiteDecl, TestKind, TestResult,
};
pub use tollgate_data as data;
pub use tollgate_data::{Engine, EngineOptions};
pub use tollgate_report as report;

/// Run every suite of a plan whose name contains `filter` (all when `None`). Source paths are
/// relative to `base` (the plan's directory).
pub async fn run_plan(
    engine: &Engine,
    plan: &Plan,
    base: &Path,
    filter: Option<&str>,
) -> RunReport {
    let mut results = Vec::new();
    for source in &plan.sources {
        let suites: Vec<&SuiteDecl> = plan
            .suites
            .iter()
            .filter(|s| s.source.as_deref() == Some(source.name.as_str()))
            .filter(|s| filter.is_none_or(|f| s.name.contains(f)))
            .collect();
        if suites.is_empty() {
            continue;
        }
        results.extend(run_on(engine, source, &suites, base).await);
    }
    // Plan order, not source order.
    results.sort_by_key(|r: &TestResult| plan.suites.iter().position(|s| s.name == r.name));
    RunReport::new(results)
}

/// Run suites on one source (the `validate` command).
pub async fn run_suites(
    engine: &Engine,
    source: &SourceDecl,
    suites: &[SuiteDecl],
    base: &Path,
) -> RunReport {
    let refs: Vec<&SuiteDecl> = suites.iter().collect();
    RunReport::new(run_on(engine, source, &refs, base).await)
}

async fn run_on(
    engine: &Engine,
    source: &SourceDecl,
    suites: &[&SuiteDecl],
    base: &Path,
) -> Vec<TestResult> {
    match engine.run_suites(source, base, suites).await {
        Ok(results) => results,
        Err(e) => suites
            .iter()
            .map(|s| TestResult {
                kind: TestKind::Suite,
                name: s.name.clone(),
                status: Status::Error,
                source: Some(source.path.clone()),
                rows: None,
                error: Some(e.to_string()),
                findings: Vec::new(),
            })
            .collect(),
    }
}

/// The process exit code of a run: 0 passed, 1 failed (or warned with `fail_on_warn`), 2 a
/// test could not run.
pub fn exit_code(report: &RunReport, fail_on_warn: bool) -> u8 {
    match report.status {
        Status::Error => 2,
        Status::Failed => 1,
        Status::Warned if fail_on_warn => 1,
        _ => 0,
    }
}
