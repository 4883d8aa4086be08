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
use tollgate_core::plan::{EvaluationDecl, PredictionsDecl};
pub use tollgate_core::plan::{parse_plan, parse_suite};
pub use tollgate_core::{
    Finding, Plan, RunReport, SourceDecl, Status, SuiteDecl, TestKind, TestResult,
};
pub use tollgate_data as data;
use tollgate_data::run::ColumnData;
pub use tollgate_data::{Engine, EngineOptions};
pub use tollgate_model as model;
use tollgate_model::Outcomes;
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
    for e in plan
        .evaluations
        .iter()
        .filter(|e| filter.is_none_or(|f| e.name.contains(f)))
    {
        results.push(run_evaluation(engine, plan, e, base).await);
    }
    RunReport::new(results)
}

fn source_of<'a>(plan: &'a Plan, name: &str) -> Option<&'a SourceDecl> {
    plan.sources.iter().find(|s| s.name == name)
}

/// Read the outcomes of an evaluation: label and predictions (rows with a null in any of them
/// are left out and counted), plus the slice columns as text.
async fn read_outcomes(
    engine: &Engine,
    source: &SourceDecl,
    base: &Path,
    label: &str,
    p: &PredictionsDecl,
    threshold: f64,
    slices: &[String],
) -> Result<(Outcomes, Vec<(String, Vec<String>)>, usize), String> {
    let mut cols = vec![label.to_string()];
    cols.extend(p.score.iter().cloned());
    cols.extend(p.predicted.iter().cloned());
    cols.extend(p.probabilities.iter().cloned());
    let numeric = cols.len();
    cols.extend(slices.iter().cloned());
    let text: Vec<bool> = (0..cols.len()).map(|i| i >= numeric).collect();
    let data = engine
        .read_columns(source, base, &cols, &text)
        .await
        .map_err(|e| e.to_string())?;
    let nums: Vec<&Vec<Option<f64>>> = data[..numeric]
        .iter()
        .filter_map(|c| {
            if let ColumnData::Num(v) = c {
                Some(v)
            } else {
                None
            }
        })
        .collect();
    let n = nums.first().map(|v| v.len()).unwrap_or(0);
    let keep: Vec<usize> = (0..n)
        .filter(|&i| nums.iter().all(|c| c[i].is_some_and(|x| !x.is_nan())))
        .collect();
    let col = |k: usize| {
        keep.iter()
            .map(|&i| nums[k][i].unwrap_or(f64::NAN))
            .collect::<Vec<f64>>()
    };
    let mut k = 1;
    let mut o = Outcomes {
        y: col(0),
        threshold,
        ..Outcomes::default()
    };
    if p.score.is_some() {
        o.score = Some(col(k));
        k += 1;
    }
    if p.predicted.is_some() {
        o.pred = Some(col(k));
        k += 1;
    }
    if !p.probabilities.is_empty() {
        o.probs = Some((k..k + p.probabilities.len()).map(col).collect());
    }
    let slice_values = slices
        .iter()
        .zip(&data[numeric..])
        .map(|(name, c)| {
            let values = match c {
                ColumnData::Text(v) => keep
                    .iter()
                    .map(|&i| v[i].clone().unwrap_or_else(|| "null".into()))
                    .collect(),
                ColumnData::Num(_) => Vec::new(),
            };
            (name.clone(), values)
        })
        .collect();
    Ok((o, slice_values, n - keep.len()))
}

/// Run one evaluation of a plan.
pub async fn run_evaluation(
    engine: &Engine,
    plan: &Plan,
    e: &EvaluationDecl,
    base: &Path,
) -> TestResult {
    let error = |msg: String| TestResult {
        kind: TestKind::Evaluation,
        name: e.name.clone(),
        status: Status::Error,
        source: Some(e.predictions.source.clone()),
        rows: None,
        error: Some(msg),
        findings: Vec::new(),
    };
    let Some(source) = source_of(plan, &e.predictions.source) else {
        return error(format!("unknown source `{}`", e.predictions.source));
    };
    let (o, slices, dropped) = match read_outcomes(
        engine,
        source,
        base,
        &e.label,
        &e.predictions,
        e.threshold,
        &e.slices,
    )
    .await
    {
        Ok(x) => x,
        Err(msg) => return error(msg),
    };
    let baseline = match &e.baseline {
        None => None,
        Some(b) => {
            let Some(bs) = source_of(plan, &b.predictions.source) else {
                return error(format!("unknown source `{}`", b.predictions.source));
            };
            match read_outcomes(engine, bs, base, &e.label, &b.predictions, e.threshold, &[]).await {
                Ok((bo, _, _)) if bo.y.len() == o.y.len() && bo.y == o.y => Some(bo),
                Ok(_) => return error("the baseline's rows do not line up with the model's (same labels, same order, same nulls are needed)".into()),
                Err(msg) => return error(format!("baseline: {msg}")),
            }
        }
    };
    let mut result = tollgate_model::eval::evaluate(e, &o, &slices, baseline.as_ref());
    if dropped > 0 {
        let mut f = Finding::new("rows", Status::Passed, tollgate_core::Severity::Warn);
        f.observed = serde_json::json!(dropped);
        f.expected = format!(
            "{dropped} rows with a null or NaN label or prediction are left out of every metric"
        );
        result.findings.insert(0, f);
    }
    result
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
