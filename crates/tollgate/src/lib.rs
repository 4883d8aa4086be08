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

pub mod behaviour;
pub mod diff;
pub mod drift;
pub mod pretrain;
pub mod testing;

pub use tollgate_core as core;
use tollgate_core::plan::{
    EvaluationDecl, ModelCheckDecl, ModelCheckSpec, ModelDecl, OutputDecl, PredictionsDecl,
    RunnerDecl,
};
pub use tollgate_core::plan::{parse_plan, parse_suite};
pub use tollgate_core::{
    Finding, Plan, RunReport, SourceDecl, Status, SuiteDecl, TestKind, TestResult,
};
pub use tollgate_data as data;
pub use tollgate_data::ballista::EngineSpec;
use tollgate_data::run::ColumnData;
pub use tollgate_data::{Engine, EngineOptions};
pub use tollgate_model as model;
use tollgate_model::Outcomes;
use tollgate_model::onnx::{OnnxModel, RunnerKind};
use tollgate_model::runner::{CommandModel, FeatureColumn, Features, Model, ModelError, Wire};
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
    for m in plan
        .model_checks
        .iter()
        .filter(|m| filter.is_none_or(|f| m.name.contains(f)))
    {
        results.push(run_model_checks(engine, plan, m, base).await);
    }
    let drifts: Vec<&tollgate_core::plan::DriftDecl> = plan
        .drifts
        .iter()
        .filter(|d| filter.is_none_or(|f| d.name.contains(f)))
        .collect();
    if !drifts.is_empty() {
        results.extend(drift::run_drifts(engine, plan, &drifts, base).await);
    }
    for p in plan
        .pretrains
        .iter()
        .filter(|p| filter.is_none_or(|f| p.name.contains(f)))
    {
        results.push(pretrain::run_pretrain(engine, plan, p, base).await);
    }
    for b in plan
        .behaviours
        .iter()
        .filter(|b| filter.is_none_or(|f| b.name.contains(f)))
    {
        results.push(behaviour::run_behaviour(engine, plan, b, base).await);
    }
    for e in plan
        .evaluations
        .iter()
        .filter(|e| filter.is_none_or(|f| e.name.contains(f)))
    {
        results.push(run_evaluation(engine, plan, e, base).await);
    }
    for d in plan
        .diffs
        .iter()
        .filter(|d| filter.is_none_or(|f| d.name.contains(f)))
    {
        results.push(diff::run_diff(engine, plan, d, base).await);
    }
    RunReport::new(results)
}

fn source_of<'a>(plan: &'a Plan, name: &str) -> Option<&'a SourceDecl> {
    plan.sources.iter().find(|s| s.name == name)
}

/// Read the outcomes of an evaluation: label and predictions (rows with a null in any of them
/// are left out and counted), plus the slice columns as text.
#[expect(
    clippy::too_many_arguments,
    reason = "the columns of one evaluation, read together; a struct would only rename them"
)]
async fn read_outcomes(
    engine: &Engine,
    source: &SourceDecl,
    base: &Path,
    label: &str,
    p: &PredictionsDecl,
    threshold: f64,
    slices: &[String],
    ordered: bool,
) -> Result<(Outcomes, Vec<(String, Vec<String>)>, usize), String> {
    let mut cols = vec![label.to_string()];
    cols.extend(p.score.iter().cloned());
    cols.extend(p.predicted.iter().cloned());
    cols.extend(p.probabilities.iter().cloned());
    let numeric = cols.len();
    cols.extend(slices.iter().cloned());
    let text: Vec<bool> = (0..cols.len()).map(|i| i >= numeric).collect();
    let data = engine
        .read_columns(source, base, &cols, &text, ordered)
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

/// A model that could not be loaded: every call answers the load error, so each check and
/// evaluation that uses it reports it.
struct Unloaded {
    what: String,
    why: String,
}

impl Model for Unloaded {
    fn predict(&self, _x: &Features) -> Result<tollgate_model::runner::Predictions, ModelError> {
        Err(ModelError::Load(self.why.clone()))
    }

    fn describe(&self) -> String {
        self.what.clone()
    }
}

/// A runnable model from its declaration; relative model files are found from `base` (the
/// plan's directory).
pub fn build_model(m: &ModelDecl, base: &Path) -> Box<dyn Model> {
    match &m.runner {
        RunnerDecl::Onnx {
            path,
            runner,
            tensor,
            batch_size,
        } => {
            let file = base.join(path);
            let kind = RunnerKind::parse(runner).unwrap_or(RunnerKind::Auto);
            let batch = batch_size.unwrap_or(tollgate_model::onnx::DEFAULT_BATCH);
            match OnnxModel::load(&file, kind, tensor.as_deref(), batch) {
                Ok(model) => Box::new(model),
                Err(e) => Box::new(Unloaded {
                    what: format!("ONNX model {}", file.display()),
                    why: match e {
                        ModelError::Load(m) => m,
                        other => other.to_string(),
                    },
                }),
            }
        }
        RunnerDecl::Command {
            argv,
            wire,
            timeout_s,
            batch_size,
        } => Box::new(CommandModel {
            argv: argv.clone(),
            wire: if wire == "jsonl" {
                Wire::JsonLines
            } else {
                Wire::Csv
            },
            timeout: std::time::Duration::try_from_secs_f64(*timeout_s)
                .unwrap_or(std::time::Duration::from_secs(86_400)),
            batch_size: *batch_size,
        }),
        RunnerDecl::Http {
            url,
            protocol,
            model_name,
            output,
            timeout_s,
            batch_size,
            max_in_flight,
            retries,
        } => Box::new(tollgate_model::http::HttpModel {
            url: url.clone(),
            protocol: if protocol == "mlflow" {
                tollgate_model::http::Protocol::Mlflow
            } else {
                tollgate_model::http::Protocol::KServeV2
            },
            model_name: model_name.clone(),
            output: output.clone(),
            timeout: std::time::Duration::try_from_secs_f64(*timeout_s)
                .unwrap_or(std::time::Duration::from_secs(86_400)),
            batch_size: *batch_size,
            max_in_flight: *max_in_flight,
            retries: *retries,
        }),
    }
}

/// The model's inputs over a source's rows (its SQL expressions evaluated by DataFusion).
async fn features(
    engine: &Engine,
    source: &SourceDecl,
    base: &Path,
    m: &ModelDecl,
    limit: Option<usize>,
) -> Result<Features, String> {
    let data = engine
        .read_exprs(source, base, &m.inputs, limit)
        .await
        .map_err(|e| e.to_string())?;
    Ok(features_of(m, data))
}

/// A model's inputs from the columns its SQL expressions gave.
pub(crate) fn features_of(m: &ModelDecl, data: Vec<ColumnData>) -> Features {
    Features {
        names: m.inputs.iter().map(|(n, _)| n.clone()).collect(),
        columns: data
            .into_iter()
            .map(|c| match c {
                ColumnData::Num(v) => FeatureColumn::Num(v),
                ColumnData::Text(v) => FeatureColumn::Text(v),
            })
            .collect(),
    }
}

/// Run a model's smoke checks.
pub async fn run_model_checks(
    engine: &Engine,
    plan: &Plan,
    d: &ModelCheckDecl,
    base: &Path,
) -> TestResult {
    let mut result = TestResult::new(TestKind::ModelCheck, &d.name, Some(&d.source));
    let (Some(m), Some(source)) = (
        plan.models.iter().find(|m| m.name == d.model),
        source_of(plan, &d.source),
    ) else {
        result.error = Some("unknown model or source".into());
        return result;
    };
    let x = match features(engine, source, base, m, d.rows).await {
        Ok(x) => x,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    result.rows = Some(x.rows() as u64);
    let checks: Vec<tollgate_model::checks::ModelCheck> = d
        .checks
        .iter()
        .map(|c| {
            use tollgate_model::checks::{Latency, ModelCheck as C};
            match c {
                ModelCheckSpec::Latency {
                    p50_ms,
                    p95_ms,
                    p99_ms,
                    min_rows_per_s,
                } => C::Latency(Latency {
                    p50_ms: *p50_ms,
                    p95_ms: *p95_ms,
                    p99_ms: *p99_ms,
                    min_rows_per_s: *min_rows_per_s,
                }),
                ModelCheckSpec::Named(n) => match n.as_str() {
                    "signature" => C::Signature,
                    "output_shape" => C::OutputShape,
                    "probabilities_valid" => C::ProbabilitiesValid,
                    "finite" => C::Finite,
                    "deterministic" => C::Deterministic,
                    "batch_invariant" => C::BatchInvariant,
                    "latency" => C::Latency(Latency::default()),
                    _ => C::Loads,
                },
            }
        })
        .collect();
    let model = build_model(m, base);
    result.findings = tollgate_model::checks::run(model.as_ref(), &x, &checks, d.severity);
    result.status = TestResult::status_of(&result.findings);
    result
}

/// Outcomes of a live model over a source: its predictions beside the source's labels.
async fn model_outcomes(
    engine: &Engine,
    plan: &Plan,
    name: &str,
    source: &SourceDecl,
    base: &Path,
    e: &EvaluationDecl,
) -> Result<(Outcomes, Vec<(String, Vec<String>)>, usize), String> {
    let m = plan
        .models
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| format!("unknown model `{name}`"))?;
    let x = features(engine, source, base, m, None).await?;
    let model = build_model(m, base);
    let preds = model
        .predict(&x)
        .map_err(|err| format!("{}: {err}", model.describe()))?;
    let label_only = PredictionsDecl {
        source: source.name.clone(),
        predicted: None,
        score: None,
        probabilities: vec![],
    };
    let (labels, slices, dropped) = read_outcomes(
        engine,
        source,
        base,
        &e.label,
        &label_only,
        e.threshold,
        &e.slices,
        true,
    )
    .await
    .map_err(|msg| format!("labels: {msg}"))?;
    if dropped > 0 || labels.y.len() != preds.len() {
        return Err(format!(
            "{} rows have a label, the model made {} predictions: labels must not be null when a model predicts",
            labels.y.len(),
            preds.len()
        ));
    }
    let mut o = Outcomes {
        y: labels.y,
        threshold: e.threshold,
        ..Outcomes::default()
    };
    let width = preds.first().map(Vec::len).unwrap_or(1);
    if let Some(i) = preds.iter().position(|p| p.len() != width || p.is_empty()) {
        return Err(format!(
            "{}: row {i} has {} outputs, row 0 has {width}: every row needs as many",
            model.describe(),
            preds[i].len()
        ));
    }
    match m.output {
        OutputDecl::ProbabilityOf(k) => {
            if k >= width && width > 1 {
                return Err(format!(
                    "`probability_of: {k}` but the model answers {width} numbers per row"
                ));
            }
            o.score = Some(
                preds
                    .iter()
                    .map(|p| if width > 1 { p[k] } else { p[0] })
                    .collect(),
            );
        }
        OutputDecl::Value if width > 1 => {
            o.probs = Some(
                (0..width)
                    .map(|k| {
                        preds
                            .iter()
                            .map(|p| p.get(k).copied().unwrap_or(f64::NAN))
                            .collect()
                    })
                    .collect(),
            )
        }
        OutputDecl::Value => o.pred = Some(preds.iter().map(|p| p[0]).collect()),
    }
    Ok((o, slices, 0))
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
    let outcomes = match &e.model {
        None => {
            read_outcomes(
                engine,
                source,
                base,
                &e.label,
                &e.predictions,
                e.threshold,
                &e.slices,
                e.baseline.is_some(),
            )
            .await
        }
        Some(name) => model_outcomes(engine, plan, name, source, base, e).await,
    };
    let (o, slices, dropped) = match outcomes {
        Ok(x) => x,
        Err(msg) => return error(msg),
    };
    let baseline = match &e.baseline {
        None => None,
        Some(b) => {
            let Some(bs) = source_of(plan, &b.predictions.source) else {
                return error(format!("unknown source `{}`", b.predictions.source));
            };
            match read_outcomes(engine, bs, base, &e.label, &b.predictions, e.threshold, &[], true).await {
                Ok((bo, _, 0)) if dropped == 0 && bo.y.len() == o.y.len() && bo.y == o.y => Some(bo),
                Ok(_) => return error("the baseline's rows do not line up with the model's (the same rows in the same order are needed, and no null label or prediction on either side)".into()),
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

/// Is `data` a PostgreSQL URL (`postgres://` or `postgresql://`)? Such a DATA names a table:
/// see [`run_suites_at_url`].
pub fn is_postgres_url(data: &str) -> bool {
    let lower = data.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// Run suites on the PostgreSQL table a URL names (the `validate` command's DATA):
/// `postgres://user[:password]@host[:port]/database?table=schema.table`, the password from
/// `PGPASSWORD` when the URL has none. `Err` is the user's: a URL that names no table, or a
/// tollgate built without the `postgres` feature. A server that cannot be reached is an error
/// of each suite, as for a source of a plan.
pub async fn run_suites_at_url(url: &str, suites: &[SuiteDecl]) -> Result<RunReport, String> {
    #[cfg(feature = "postgres")]
    {
        use tollgate_data::pg;
        let at = pg::TableUrl::parse(url, std::env::var(pg::PASSWORD_ENV).ok().as_deref())
            .map_err(|e| e.to_string())?;
        let source = at.source("data");
        let refs: Vec<&SuiteDecl> = suites.iter().collect();
        let run = pg::run_suites_with_url(&at.url, &source, &refs).await;
        Ok(RunReport::new(results_or_errors(run, &source, &refs)))
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = (url, suites);
        Err(format!("DATA is a PostgreSQL URL, but {WITHOUT_POSTGRES}"))
    }
}

#[cfg(not(feature = "postgres"))]
const WITHOUT_POSTGRES: &str = "this tollgate was built without the `postgres` feature";

async fn run_on(
    engine: &Engine,
    source: &SourceDecl,
    suites: &[&SuiteDecl],
    base: &Path,
) -> Vec<TestResult> {
    let run = match source.postgres {
        // Pushed down: the checks run as SQL inside PostgreSQL.
        #[cfg(feature = "postgres")]
        Some(_) => tollgate_data::pg::run_suites(source, suites).await,
        #[cfg(not(feature = "postgres"))]
        Some(_) => Err(tollgate_data::DataError::Source(format!(
            "source `{}` is a PostgreSQL table, but {WITHOUT_POSTGRES}",
            source.name
        ))),
        None => engine.run_suites(source, base, suites).await,
    };
    results_or_errors(run, source, suites)
}

/// The suites' results, or the error that stopped them as each one's error.
fn results_or_errors(
    run: tollgate_data::Result<Vec<TestResult>>,
    source: &SourceDecl,
    suites: &[&SuiteDecl],
) -> Vec<TestResult> {
    match run {
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
