//! Model smoke checks (`model_checks`): the model loads, answers one prediction per row, gives
//! valid probabilities and finite numbers, answers the same twice, answers a row alone as it does
//! in a batch, and answers fast enough.

use std::time::Instant;

use serde_json::{Value, json};
use tollgate_core::finding::stable_f64;
use tollgate_core::{Finding, Severity, Status};

use crate::eval::percentile;
use crate::runner::{Features, Model, Predictions};

/// Latency budgets (any may be absent).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latency {
    /// Median single-row call, in milliseconds.
    pub p50_ms: Option<f64>,
    /// 95th percentile single-row call.
    pub p95_ms: Option<f64>,
    /// 99th percentile single-row call.
    pub p99_ms: Option<f64>,
    /// Rows per second of a whole batch, at least.
    pub min_rows_per_s: Option<f64>,
}

/// One smoke check.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelCheck {
    /// The model answers at all.
    Loads,
    /// One prediction per row, every row as wide.
    OutputShape,
    /// Probabilities in [0, 1]; several per row sum to 1 within 1e-6.
    ProbabilitiesValid,
    /// No NaN or infinity.
    Finite,
    /// Two runs give identical predictions.
    Deterministic,
    /// Row by row equals the whole batch within 1e-6.
    BatchInvariant,
    /// Latency and throughput budgets.
    Latency(Latency),
    /// The model's declared inputs match the inputs it is fed (names and text/number).
    Signature,
}

impl ModelCheck {
    /// The check's name in plans and results.
    pub fn name(&self) -> &'static str {
        match self {
            ModelCheck::Loads => "loads",
            ModelCheck::OutputShape => "output_shape",
            ModelCheck::ProbabilitiesValid => "probabilities_valid",
            ModelCheck::Finite => "finite",
            ModelCheck::Deterministic => "deterministic",
            ModelCheck::BatchInvariant => "batch_invariant",
            ModelCheck::Latency(_) => "latency",
            ModelCheck::Signature => "signature",
        }
    }
}

/// Rows used for the row-by-row checks (each row is a call).
pub const ROW_BY_ROW: usize = 100;

fn max_diff(a: &Predictions, b: &Predictions) -> Option<f64> {
    if a.len() != b.len() {
        return None;
    }
    let mut worst = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        if x.len() != y.len() {
            return None;
        }
        for (p, q) in x.iter().zip(y) {
            let d = if p.is_nan() && q.is_nan() {
                0.0
            } else {
                (p - q).abs()
            };
            worst = worst.max(if d.is_nan() { f64::INFINITY } else { d });
        }
    }
    Some(worst)
}

/// Run smoke checks. The model is called once for the whole batch (reused by every check),
/// again for `deterministic`, and row by row on the first rows for `batch_invariant` and
/// `latency`.
pub fn run(
    model: &dyn Model,
    x: &Features,
    checks: &[ModelCheck],
    severity: Severity,
) -> Vec<Finding> {
    let rows = x.rows();
    if rows == 0 {
        // Nothing to predict on: the model was never asked, so nothing is known about it.
        return checks
            .iter()
            .map(|c| {
                let mut f = Finding::new(c.name(), Status::Error, severity);
                f.error = Some("the source has no rows to feed the model".into());
                f
            })
            .collect();
    }
    let t0 = Instant::now();
    let first = model.predict(x);
    let batch_secs = t0.elapsed().as_secs_f64();
    let preds = match first {
        Ok(p) => p,
        Err(e) => {
            return checks
                .iter()
                .map(|c| {
                    let mut f = Finding::new(c.name(), Status::Error, severity);
                    f.error = Some(format!("{}: {e}", model.describe()));
                    f
                })
                .collect();
        }
    };
    let mut single: Option<(Predictions, Vec<f64>)> = None;
    let mut row_by_row = || -> Result<(Predictions, Vec<f64>), String> {
        if let Some(s) = &single {
            return Ok(s.clone());
        }
        let n = rows.min(ROW_BY_ROW);
        let mut out = Vec::with_capacity(n);
        let mut times = Vec::with_capacity(n);
        for r in 0..n {
            let t = Instant::now();
            let p = model
                .predict(&x.slice(r, r + 1))
                .map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            out.extend(p);
        }
        single = Some((out.clone(), times.clone()));
        Ok((out, times))
    };
    let mut findings = Vec::new();
    for c in checks {
        let mut f = Finding::new(c.name(), Status::Passed, severity);
        f.element_count = Some(rows as u64);
        let verdict = |f: &mut Finding, ok: bool| f.status = Finding::verdict(ok, severity);
        match c {
            ModelCheck::Loads => {
                f.observed = json!(model.describe());
                f.expected = "the model answers".into();
            }
            ModelCheck::Signature => match model.signature_problems(x) {
                Ok(Some((declared, problems))) => {
                    f.observed = json!(declared);
                    f.expected = if problems.is_empty() {
                        "declared inputs equal the inputs fed".into()
                    } else {
                        problems.join("; ")
                    };
                    verdict(&mut f, problems.is_empty());
                }
                Ok(None) => {
                    f.status = Status::Error;
                    f.error = Some(format!(
                        "{} declares no input signature to compare",
                        model.describe()
                    ));
                }
                Err(e) => {
                    f.status = Status::Error;
                    f.error = Some(e.to_string());
                }
            },
            ModelCheck::OutputShape => {
                let width = preds.first().map(Vec::len).unwrap_or(0);
                let same = preds.iter().all(|p| p.len() == width);
                f.observed = json!({ "rows": preds.len(), "outputs_per_row": width });
                f.expected = format!("{rows} predictions (one per row), each as wide");
                verdict(&mut f, preds.len() == rows && same && width > 0);
            }
            ModelCheck::ProbabilitiesValid => {
                let bad: Vec<usize> = preds
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        p.iter().any(|v| !(0.0..=1.0).contains(v))
                            || (p.len() > 1 && (p.iter().sum::<f64>() - 1.0).abs() > 1e-6)
                    })
                    .map(|(i, _)| i)
                    .collect();
                f.unexpected_count = Some(bad.len() as u64);
                f.observed = json!(bad.iter().take(5).collect::<Vec<_>>());
                f.expected = "probabilities in [0, 1]; rows of several sum to 1 within 1e-6 (observed: the first bad rows)".into();
                verdict(&mut f, bad.is_empty());
            }
            ModelCheck::Finite => {
                let bad: Vec<usize> = preds
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.iter().any(|v| !v.is_finite()))
                    .map(|(i, _)| i)
                    .collect();
                f.unexpected_count = Some(bad.len() as u64);
                f.observed = json!(bad.iter().take(5).collect::<Vec<_>>());
                f.expected = "no NaN or infinite prediction (observed: the first bad rows)".into();
                verdict(&mut f, bad.is_empty());
            }
            ModelCheck::Deterministic => match model.predict(x) {
                Ok(again) => {
                    let d = max_diff(&preds, &again);
                    f.observed = json!(d.map(stable_f64));
                    f.expected =
                        "two runs give identical predictions (largest difference 0)".into();
                    verdict(&mut f, d == Some(0.0));
                }
                Err(e) => {
                    f.status = Status::Error;
                    f.error = Some(e.to_string());
                }
            },
            ModelCheck::BatchInvariant => match row_by_row() {
                Ok((one, _)) => {
                    let n = one.len();
                    let d = max_diff(&preds[..n.min(preds.len())].to_vec(), &one);
                    f.element_count = Some(n as u64);
                    f.observed = json!(d.map(stable_f64));
                    f.expected = format!(
                        "each of the first {n} rows predicted alone equals its batch prediction within 1e-6"
                    );
                    verdict(&mut f, d.is_some_and(|d| d <= 1e-6));
                }
                Err(e) => {
                    f.status = Status::Error;
                    f.error = Some(e);
                }
            },
            ModelCheck::Latency(budget) => match row_by_row() {
                Ok((_, mut times)) => {
                    times.sort_by(|a, b| a.total_cmp(b));
                    let (p50, p95, p99) = (
                        percentile(&times, 0.5),
                        percentile(&times, 0.95),
                        percentile(&times, 0.99),
                    );
                    let rate = if batch_secs > 0.0 {
                        rows as f64 / batch_secs
                    } else {
                        f64::INFINITY
                    };
                    f.observed = json!({ "p50_ms": stable_f64(p50), "p95_ms": stable_f64(p95), "p99_ms": stable_f64(p99), "rows_per_s": stable_f64(rate.min(1e15)) });
                    f.plot = latency_histogram(&times);
                    let mut parts = Vec::new();
                    let mut ok = true;
                    for (name, limit, value) in [
                        ("p50", budget.p50_ms, p50),
                        ("p95", budget.p95_ms, p95),
                        ("p99", budget.p99_ms, p99),
                    ] {
                        if let Some(l) = limit {
                            parts.push(format!("{name} <= {l} ms"));
                            ok &= value <= l;
                        }
                    }
                    if let Some(r) = budget.min_rows_per_s {
                        parts.push(format!(">= {r} rows/s in a batch"));
                        ok &= rate >= r;
                    }
                    f.expected = if parts.is_empty() {
                        "reported (no budget)".into()
                    } else {
                        parts.join(", ")
                    };
                    verdict(&mut f, ok);
                }
                Err(e) => {
                    f.status = Status::Error;
                    f.error = Some(e);
                }
            },
        }
        findings.push(f);
    }
    findings
}

/// Per-row latencies (sorted, in ms) as a 20-bin histogram for reports.
fn latency_histogram(sorted_ms: &[f64]) -> Option<Value> {
    let (lo, hi) = (*sorted_ms.first()?, *sorted_ms.last()?);
    let bins = 20usize;
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for t in sorted_ms {
        let b = if width > 0.0 {
            (((t - lo) / width).floor() as usize).min(bins - 1)
        } else {
            0
        };
        counts[b] += 1;
    }
    let edges: Vec<f64> = (0..=bins)
        .map(|i| stable_f64(lo + width * i as f64))
        .collect();
    Some(json!({ "kind": "histogram", "edges": edges, "counts": counts, "unit": "ms" }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{FeatureColumn, FnModel, ModelError};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn x(n: usize) -> Features {
        Features {
            names: vec!["a".into()],
            columns: vec![FeatureColumn::Num((0..n).map(|i| Some(i as f64)).collect())],
        }
    }

    fn all() -> Vec<ModelCheck> {
        vec![
            ModelCheck::Loads,
            ModelCheck::OutputShape,
            ModelCheck::ProbabilitiesValid,
            ModelCheck::Finite,
            ModelCheck::Deterministic,
            ModelCheck::BatchInvariant,
            ModelCheck::Latency(Latency {
                p99_ms: Some(1000.0),
                ..Latency::default()
            }),
        ]
    }

    fn status(fs: &[Finding]) -> Vec<(String, Status)> {
        fs.iter().map(|f| (f.check.clone(), f.status)).collect()
    }

    #[test]
    fn a_good_model_passes_everything() {
        let m = FnModel::new("sigmoid", |x: &Features| {
            let FeatureColumn::Num(a) = &x.columns[0] else {
                return Err(ModelError::Predict("text".into()));
            };
            Ok(a.iter()
                .map(|v| vec![1.0 / (1.0 + (-v.unwrap_or(0.0)).exp())])
                .collect())
        });
        let fs = run(&m, &x(50), &all(), Severity::Error);
        assert!(fs.iter().all(|f| f.status == Status::Passed), "{fs:#?}");
    }

    #[test]
    fn bad_models_fail_the_right_checks() {
        // Out of [0, 1], one NaN, different on every call, and batch-dependent.
        let calls = AtomicUsize::new(0);
        let m = FnModel::new("bad", move |x: &Features| {
            let k = calls.fetch_add(1, Ordering::SeqCst) as f64;
            let n = x.rows() as f64;
            Ok((0..x.rows())
                .map(|i| vec![if i == 3 { f64::NAN } else { 1.5 + k + n }])
                .collect())
        });
        let fs = run(&m, &x(10), &all(), Severity::Error);
        assert_eq!(
            status(&fs),
            vec![
                ("loads".into(), Status::Passed),
                ("output_shape".into(), Status::Passed),
                ("probabilities_valid".into(), Status::Failed),
                ("finite".into(), Status::Failed),
                ("deterministic".into(), Status::Failed),
                ("batch_invariant".into(), Status::Failed),
                ("latency".into(), Status::Passed),
            ]
        );
        let short = FnModel::new("short", |_x: &Features| Ok(vec![vec![0.5]]));
        assert_eq!(
            run(&short, &x(3), &[ModelCheck::OutputShape], Severity::Error)[0].status,
            Status::Failed
        );
        let broken = FnModel::new("broken", |_x: &Features| {
            Err(ModelError::Load("no weights".into()))
        });
        let fs = run(
            &broken,
            &x(3),
            &[ModelCheck::Loads, ModelCheck::Finite],
            Severity::Error,
        );
        assert!(fs.iter().all(|f| f.status == Status::Error
            && f.error.as_deref().is_some_and(|e| e.contains("no weights"))));
    }
}
