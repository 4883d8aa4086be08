//! Evaluation tests: metrics with gates, per-slice metrics (the worst slice named), seeded
//! bootstrap confidence intervals, and a baseline compared on the same rows (paired bootstrap).

use serde_json::{Value, json};
use tollgate_core::catalog::LOWER_IS_BETTER;
use tollgate_core::finding::stable_f64;
use tollgate_core::plan::EvaluationDecl;
use tollgate_core::{Bound, Finding, Scalar, Severity, Status, TestKind, TestResult};

use crate::{Outcomes, metric};

/// A small, fast, seedable generator (SplitMix64): bootstrap results depend only on the seed.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// numpy's default percentile (linear interpolation) of sorted values.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Percentile interval of a statistic over bootstrap resamples of the rows.
pub fn bootstrap(
    n: usize,
    resamples: usize,
    seed: u64,
    level: f64,
    stat: impl Fn(&[usize]) -> Option<f64>,
) -> Option<[f64; 2]> {
    let mut rng = Rng::new(seed);
    let mut values = Vec::with_capacity(resamples);
    let mut idx = vec![0usize; n];
    for _ in 0..resamples {
        for i in idx.iter_mut() {
            *i = rng.below(n);
        }
        if let Some(v) = stat(&idx).filter(|v| v.is_finite()) {
            values.push(v);
        }
    }
    if values.len() < resamples / 2 {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let alpha = (1.0 - level) / 2.0;
    Some([percentile(&values, alpha), percentile(&values, 1.0 - alpha)])
}

fn within(v: f64, b: &Bound) -> bool {
    let num = |s: &Scalar| s.as_f64().unwrap_or(f64::NAN);
    let lo_ok = b.min.as_ref().is_none_or(|m| {
        if b.strict_min {
            v > num(m)
        } else {
            v >= num(m)
        }
    });
    let hi_ok = b.max.as_ref().is_none_or(|m| {
        if b.strict_max {
            v < num(m)
        } else {
            v <= num(m)
        }
    });
    !v.is_nan() && lo_ok && hi_ok
}

/// The end of an interval a gate is judged on when it gates on the bound: the pessimistic one.
fn pessimistic(name: &str, interval: [f64; 2]) -> f64 {
    if LOWER_IS_BETTER.contains(&name) {
        interval[1]
    } else {
        interval[0]
    }
}

fn metric_finding(
    decl: &EvaluationDecl,
    name: &str,
    gate: Option<&Bound>,
    o: &Outcomes,
    slice: Option<(&str, &str)>,
) -> Finding {
    let mut f = Finding::new(name, Status::Passed, decl.severity);
    f.element_count = Some(o.y.len() as u64);
    if let Some((col, val)) = slice {
        let mut m = serde_json::Map::new();
        m.insert(col.to_string(), Value::String(val.to_string()));
        f.slice = Some(m);
    }
    let value = match metric(name, o) {
        Ok(v) => v,
        Err(e) => {
            f.status = Status::Error;
            f.error = Some(e);
            return f;
        }
    };
    f.observed = if value.is_finite() {
        json!(stable_f64(value))
    } else {
        json!(value.to_string())
    };
    if let Some(c) = &decl.confidence {
        f.interval = bootstrap(o.y.len(), c.resamples, c.seed, c.level, |idx| {
            metric(name, &o.take(idx)).ok()
        })
        .map(|[a, b]| [stable_f64(a), stable_f64(b)]);
    }
    match gate {
        None => f.expected = "reported (no gate)".into(),
        Some(b) => {
            let judged = match (&decl.confidence, f.interval) {
                (Some(c), Some(iv)) if c.gate_on_bound => {
                    f.expected = format!(
                        "{name} {} at the pessimistic end of the {}% interval",
                        b.describe(),
                        c.level * 100.0
                    );
                    pessimistic(name, iv)
                }
                _ => {
                    f.expected = format!("{name} {}", b.describe());
                    value
                }
            };
            f.status = Finding::verdict(within(judged, b), decl.severity);
        }
    }
    f
}

/// Run an evaluation on outcomes already read. `slices` holds, per slice column, each row's
/// value as text; `baseline`, the baseline's outcomes on the same rows.
pub fn evaluate(
    decl: &EvaluationDecl,
    o: &Outcomes,
    slices: &[(String, Vec<String>)],
    baseline: Option<&Outcomes>,
) -> TestResult {
    let mut findings = Vec::new();
    let metrics: Vec<(String, Option<Bound>)> = if decl.metrics.is_empty() {
        default_metrics(o, decl.task.as_deref())
            .into_iter()
            .map(|m| (m.to_string(), None))
            .collect()
    } else {
        decl.metrics.clone()
    };
    for (name, gate) in &metrics {
        let mut f = metric_finding(decl, name, gate.as_ref(), o, None);
        if f.status != Status::Error {
            f.plot = crate::plots::for_metric(name, o);
        }
        findings.push(f);
    }
    for (col, values) in slices {
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match groups.iter_mut().find(|(g, _)| g == v) {
                Some((_, rows)) => rows.push(i),
                None => groups.push((v.clone(), vec![i])),
            }
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, gate) in &metrics {
            let mut worst: Option<(f64, String)> = None;
            for (value, rows) in &groups {
                let part = o.take(rows);
                let supported = rows.len() >= decl.min_support;
                let mut f = metric_finding(
                    decl,
                    name,
                    if supported { gate.as_ref() } else { None },
                    &part,
                    Some((col, value)),
                );
                if !supported {
                    f.expected = format!(
                        "reported only: {} rows, below min_support {}",
                        rows.len(),
                        decl.min_support
                    );
                    if f.status != Status::Error {
                        f.status = Status::Passed;
                    }
                } else if let Some(v) = f.observed.as_f64() {
                    let worse = |a: f64, b: f64| {
                        if LOWER_IS_BETTER.contains(&name.as_str()) {
                            a > b
                        } else {
                            a < b
                        }
                    };
                    if worst.as_ref().is_none_or(|(w, _)| worse(v, *w)) {
                        worst = Some((v, value.clone()));
                    }
                }
                findings.push(f);
            }
            if let Some((v, value)) = worst {
                let mut f = Finding::new(name, Status::Passed, Severity::Warn);
                let mut m = serde_json::Map::new();
                m.insert(col.clone(), Value::String(value.clone()));
                f.slice = Some(m);
                f.name = Some("worst slice".into());
                f.observed = json!(v);
                f.expected = format!(
                    "the worst slice by {col} (among slices with at least {} rows) is {col} = {value}",
                    decl.min_support
                );
                findings.push(f);
            }
        }
    }
    if let (Some(b), Some(base)) = (&decl.baseline, baseline) {
        for (name, max_drop) in &b.max_drop {
            findings.push(baseline_finding(decl, name, *max_drop, o, base));
        }
    }
    TestResult {
        kind: TestKind::Evaluation,
        name: decl.name.clone(),
        status: TestResult::status_of(&findings),
        source: Some(decl.predictions.source.clone()),
        rows: Some(o.y.len() as u64),
        error: None,
        findings,
    }
}

fn baseline_finding(
    decl: &EvaluationDecl,
    name: &str,
    max_drop: f64,
    o: &Outcomes,
    base: &Outcomes,
) -> Finding {
    let mut f = Finding::new(name, Status::Passed, decl.severity);
    f.name = Some("baseline".into());
    f.element_count = Some(o.y.len() as u64);
    let lower_better = LOWER_IS_BETTER.contains(&name);
    let drop = |cur: f64, old: f64| if lower_better { cur - old } else { old - cur };
    match (metric(name, o), metric(name, base)) {
        (Ok(cur), Ok(old)) => {
            let d = drop(cur, old);
            f.observed = json!(stable_f64(d));
            let c = decl
                .confidence
                .clone()
                .unwrap_or(tollgate_core::plan::ConfidenceDecl {
                    level: 0.95,
                    resamples: 200,
                    seed: 0,
                    gate_on_bound: false,
                });
            // Paired: the same resampled rows for the model and its baseline.
            f.interval = bootstrap(o.y.len(), c.resamples, c.seed, c.level, |idx| {
                Some(drop(
                    metric(name, &o.take(idx)).ok()?,
                    metric(name, &base.take(idx)).ok()?,
                ))
            })
            .map(|[a, b]| [stable_f64(a), stable_f64(b)]);
            f.expected = format!(
                "{name} drops by at most {max_drop} from the baseline ({} now, {} before)",
                stable_f64(cur),
                stable_f64(old)
            );
            f.status = Finding::verdict(d <= max_drop, decl.severity);
        }
        (Err(e), _) | (_, Err(e)) => {
            f.status = Status::Error;
            f.error = Some(e);
        }
    }
    f
}

/// The metrics reported when an evaluation names none: by `task`, or guessed from the columns
/// (predicted values that are all small integers are class labels).
pub fn default_metrics(o: &Outcomes, task: Option<&str>) -> Vec<&'static str> {
    let classification = || {
        let small_int = |v: &f64| v.fract() == 0.0 && v.abs() < 1000.0;
        let pred = o.pred.as_deref().unwrap_or(&[]);
        o.y.iter().chain(pred).all(small_int) && crate::metrics::classes(&o.y, pred).len() <= 50
    };
    match task {
        Some("regression") => vec!["mae", "rmse", "r2", "max_error"],
        _ if o.probs.is_some() || task == Some("multiclass") => vec![
            "accuracy",
            "balanced_accuracy",
            "f1_macro",
            "roc_auc_ovr_macro",
        ],
        _ if o.score.is_some() => {
            vec![
                "accuracy",
                "balanced_accuracy",
                "precision",
                "recall",
                "f1",
                "roc_auc",
                "average_precision",
                "log_loss",
                "brier",
                "ece",
            ]
        }
        Some("binary") => vec!["accuracy", "balanced_accuracy", "precision", "recall", "f1"],
        _ if classification() => vec![
            "accuracy",
            "balanced_accuracy",
            "precision_macro",
            "recall_macro",
            "f1_macro",
        ],
        _ => vec!["mae", "rmse", "r2", "max_error"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_is_seeded_and_covers_the_estimate() {
        let y: Vec<f64> = (0..200).map(|i| (i % 3 == 0) as u8 as f64).collect();
        let mean = |idx: &[usize]| Some(idx.iter().map(|&i| y[i]).sum::<f64>() / idx.len() as f64);
        let a = bootstrap(200, 500, 7, 0.95, mean).unwrap();
        let b = bootstrap(200, 500, 7, 0.95, mean).unwrap();
        assert_eq!(a, b, "same seed, same interval");
        let full = mean(&(0..200).collect::<Vec<_>>()).unwrap();
        assert!(a[0] < full && full < a[1], "{a:?} around {full}");
        assert!(a[1] - a[0] < 0.2);
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.025), 1.075);
    }
}
