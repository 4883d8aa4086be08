//! Pre-train checks: tests of training code, before trained weights exist. A [`Trainer`] turns
//! labelled rows into a model; the checks train it on chosen data and look at what comes out:
//! the shape and range of its answers, whether it can learn a tiny sample by heart, whether
//! more capacity never makes it worse, whether a seed fixes the result, and how long it takes.

use std::time::Instant;

use serde_json::json;
use tollgate_core::finding::stable_f64;
use tollgate_core::{Finding, Severity, Status};

use crate::checks::{self, ModelCheck};
use crate::eval::percentile;
use crate::runner::{Features, Model, ModelError, Predictions};
use crate::{Outcomes, metric};

/// Labelled rows to train or evaluate on.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The model's inputs.
    pub x: Features,
    /// The labels.
    pub y: Vec<f64>,
    /// Where each row comes from in the source (0-based), for trainers that read raw rows.
    pub rows: Vec<usize>,
}

impl Sample {
    /// The rows at positions `idx` of this sample.
    pub fn take(&self, idx: &[usize]) -> Sample {
        let x = Features {
            names: self.x.names.clone(),
            columns: self
                .x
                .columns
                .iter()
                .map(|c| match c {
                    crate::runner::FeatureColumn::Num(v) => {
                        crate::runner::FeatureColumn::Num(idx.iter().map(|&i| v[i]).collect())
                    }
                    crate::runner::FeatureColumn::Text(v) => crate::runner::FeatureColumn::Text(
                        idx.iter().map(|&i| v[i].clone()).collect(),
                    ),
                })
                .collect(),
        };
        Sample {
            x,
            y: idx.iter().map(|&i| self.y[i]).collect(),
            rows: idx.iter().map(|&i| self.rows[i]).collect(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
}

/// Hyperparameters by name (`{param.NAME}` in a command template).
pub type Params = Vec<(String, f64)>;

/// Training code under test.
pub trait Trainer: Send + Sync {
    /// Train on `data` with `seed` and hyperparameters `params`.
    fn fit(&self, data: &Sample, seed: u64, params: &Params) -> Result<Box<dyn Model>, ModelError>;
    /// A short description for messages.
    fn describe(&self) -> String;
}

/// A trainer that is a Rust function (for `cargo test`).
pub struct FnTrainer<F> {
    name: String,
    f: F,
}

impl<F> FnTrainer<F>
where
    F: Fn(&Sample, u64, &Params) -> Result<Box<dyn Model>, ModelError> + Send + Sync,
{
    /// Wrap a function.
    pub fn new(name: &str, f: F) -> Self {
        FnTrainer {
            name: name.to_string(),
            f,
        }
    }
}

impl<F> Trainer for FnTrainer<F>
where
    F: Fn(&Sample, u64, &Params) -> Result<Box<dyn Model>, ModelError> + Send + Sync,
{
    fn fit(&self, data: &Sample, seed: u64, params: &Params) -> Result<Box<dyn Model>, ModelError> {
        (self.f)(data, seed, params)
    }

    fn describe(&self) -> String {
        format!("Rust trainer `{}`", self.name)
    }
}

/// One pre-train check.
#[derive(Debug, Clone, PartialEq)]
pub enum PretrainCheck {
    /// A model trained on a few rows answers one prediction per row, all as wide.
    OutputShape,
    /// A model trained on a few rows answers probabilities in [0, 1] summing to 1.
    ProbabilitiesValid,
    /// Trained on `rows` rows (half of each class), it predicts all of them right.
    OverfitsTinySample {
        /// Rows in the tiny sample.
        rows: usize,
    },
    /// A metric never falls (beyond `tolerance`) as a hyperparameter grows.
    CapacityMonotone {
        /// The hyperparameter.
        param: String,
        /// Its values, in growing order.
        values: Vec<f64>,
        /// The metrics watched.
        metrics: Vec<String>,
        /// Measured on the held-out sample instead of the training one.
        on_test: bool,
        /// Largest allowed fall.
        tolerance: f64,
    },
    /// Two trainings with one seed give identical predictions.
    DeterministicWithSeed,
    /// Training time over `runs` runs, with a budget on the 95th percentile.
    TrainingTime {
        /// Trainings timed.
        runs: usize,
        /// Budget for the 95th percentile, seconds.
        p95_s: Option<f64>,
    },
    /// Metrics of a model trained on the whole training sample, with bounds.
    Metrics {
        /// (metric, at least, at most), measured on the training sample or the held-out one.
        bounds: Vec<(String, Option<f64>, Option<f64>)>,
        /// Measured on the held-out sample.
        on_test: bool,
    },
}

impl PretrainCheck {
    /// The check's name in findings.
    pub fn name(&self) -> &'static str {
        match self {
            PretrainCheck::OutputShape => "output_shape",
            PretrainCheck::ProbabilitiesValid => "probabilities_valid",
            PretrainCheck::OverfitsTinySample { .. } => "overfits_tiny_sample",
            PretrainCheck::CapacityMonotone { .. } => "capacity_monotone",
            PretrainCheck::DeterministicWithSeed => "deterministic_with_seed",
            PretrainCheck::TrainingTime { .. } => "training_time",
            PretrainCheck::Metrics { .. } => "metrics",
        }
    }
}

/// Everything a run of checks needs besides the trainer.
pub struct Setup<'a> {
    /// Training rows.
    pub train: &'a Sample,
    /// Held-out rows, if any.
    pub test: Option<&'a Sample>,
    /// The seed.
    pub seed: u64,
    /// Hyperparameters every training gets (a check may override one).
    pub params: Params,
    /// Which output column is the positive class's probability (binary scores).
    pub positive: Option<usize>,
    /// Rows of the small sample the shape checks train on.
    pub small: usize,
    /// Severity of the findings.
    pub severity: Severity,
}

/// The first `n` rows taking classes in turn (each class in file order): a small sample that
/// holds every class when it can.
pub fn balanced(y: &[f64], n: usize) -> Vec<usize> {
    let mut classes: Vec<f64> = Vec::new();
    for v in y {
        if !classes.contains(v) {
            classes.push(*v);
        }
    }
    classes.sort_by(f64::total_cmp);
    let mut queues: Vec<std::collections::VecDeque<usize>> = classes
        .iter()
        .map(|c| (0..y.len()).filter(|&i| y[i] == *c).collect())
        .collect();
    let mut out = Vec::new();
    while out.len() < n && queues.iter().any(|q| !q.is_empty()) {
        for q in &mut queues {
            if out.len() < n
                && let Some(i) = q.pop_front()
            {
                out.push(i);
            }
        }
    }
    out.sort_unstable();
    out
}

fn outcomes(y: &[f64], preds: &Predictions, positive: Option<usize>) -> Outcomes {
    let width = preds.first().map(Vec::len).unwrap_or(0);
    let mut o = Outcomes {
        y: y.to_vec(),
        threshold: 0.5,
        ..Outcomes::default()
    };
    match (width, positive) {
        (1, _) => o.score = Some(preds.iter().map(|p| p[0]).collect()),
        (w, Some(k)) if k < w && w == 2 => {
            o.score = Some(preds.iter().map(|p| p[k]).collect());
        }
        (w, _) if w > 1 => {
            o.probs = Some(
                (0..w)
                    .map(|k| preds.iter().map(|p| p[k]).collect())
                    .collect(),
            )
        }
        _ => {}
    }
    o
}

fn predict(model: &dyn Model, x: &Features) -> Result<Predictions, String> {
    model
        .predict(x)
        .map_err(|e| format!("{}: {e}", model.describe()))
}

fn with_param(params: &Params, name: &str, value: f64) -> Params {
    let mut p: Params = params.iter().filter(|(n, _)| n != name).cloned().collect();
    p.push((name.to_string(), value));
    p
}

/// Run pre-train checks. Training failures are errors of the check that needed the training.
pub fn run(trainer: &dyn Trainer, setup: &Setup<'_>, checks: &[PretrainCheck]) -> Vec<Finding> {
    let mut out = Vec::new();
    // Trainings on the whole training sample are shared by the checks that need one.
    let mut times: Vec<f64> = Vec::new();
    let mut full: Option<Result<Box<dyn Model>, String>> = None;
    let fit_full = |times: &mut Vec<f64>| -> Result<Box<dyn Model>, String> {
        let t0 = Instant::now();
        let m = trainer
            .fit(setup.train, setup.seed, &setup.params)
            .map_err(|e| format!("{}: {e}", trainer.describe()))?;
        times.push(t0.elapsed().as_secs_f64());
        Ok(m)
    };
    for check in checks {
        let mut f = Finding::new(check.name(), Status::Error, setup.severity);
        let r: Result<(), String> = (|| {
            match check {
                PretrainCheck::OutputShape | PretrainCheck::ProbabilitiesValid => {
                    let idx = balanced(&setup.train.y, setup.small.max(2));
                    let small = setup.train.take(&idx);
                    let model = trainer
                        .fit(&small, setup.seed, &setup.params)
                        .map_err(|e| format!("{}: {e}", trainer.describe()))?;
                    let which = if *check == PretrainCheck::OutputShape {
                        ModelCheck::OutputShape
                    } else {
                        ModelCheck::ProbabilitiesValid
                    };
                    let mut found =
                        checks::run(model.as_ref(), &setup.train.x, &[which], setup.severity);
                    let g = found.remove(0);
                    f.status = g.status;
                    f.observed = g.observed;
                    f.expected = format!(
                        "{} (a model trained on {} rows, asked about all {})",
                        g.expected,
                        small.len(),
                        setup.train.len()
                    );
                    f.error = g.error;
                    f.unexpected_count = g.unexpected_count;
                }
                PretrainCheck::OverfitsTinySample { rows } => {
                    let idx = balanced(&setup.train.y, *rows);
                    let tiny = setup.train.take(&idx);
                    let model = trainer
                        .fit(&tiny, setup.seed, &setup.params)
                        .map_err(|e| format!("{}: {e}", trainer.describe()))?;
                    let preds = predict(model.as_ref(), &tiny.x)?;
                    let acc = metric("accuracy", &outcomes(&tiny.y, &preds, setup.positive))?;
                    f.observed = json!(stable_f64(acc));
                    f.expected = format!("training accuracy 1 on {} rows", tiny.len());
                    f.element_count = Some(tiny.len() as u64);
                    f.unexpected_count = Some(((1.0 - acc) * tiny.len() as f64).round() as u64);
                    f.status = Finding::verdict(acc == 1.0, setup.severity);
                }
                PretrainCheck::CapacityMonotone {
                    param,
                    values,
                    metrics,
                    on_test,
                    tolerance,
                } => {
                    let eval = if *on_test {
                        setup
                            .test
                            .ok_or("`on: test` needs a held-out `test` source")?
                    } else {
                        setup.train
                    };
                    let mut series: Vec<Vec<f64>> = vec![Vec::new(); metrics.len()];
                    for v in values {
                        let model = trainer
                            .fit(
                                setup.train,
                                setup.seed,
                                &with_param(&setup.params, param, *v),
                            )
                            .map_err(|e| {
                                format!("{} with {param} = {v}: {e}", trainer.describe())
                            })?;
                        let preds = predict(model.as_ref(), &eval.x)?;
                        let o = outcomes(&eval.y, &preds, setup.positive);
                        for (s, m) in series.iter_mut().zip(metrics) {
                            s.push(metric(m, &o)?);
                        }
                    }
                    let mut falls = Vec::new();
                    for (s, m) in series.iter().zip(metrics) {
                        for i in 1..s.len() {
                            if s[i] < s[i - 1] - tolerance {
                                falls.push(format!(
                                    "{m} falls from {} ({param} = {}) to {} ({param} = {})",
                                    stable_f64(s[i - 1]),
                                    values[i - 1],
                                    stable_f64(s[i]),
                                    values[i]
                                ));
                            }
                        }
                    }
                    let mut obs = serde_json::Map::new();
                    obs.insert(param.clone(), json!(values));
                    for (s, m) in series.iter().zip(metrics) {
                        obs.insert(
                            m.clone(),
                            json!(s.iter().map(|x| stable_f64(*x)).collect::<Vec<_>>()),
                        );
                    }
                    f.observed = serde_json::Value::Object(obs);
                    f.expected = if falls.is_empty() {
                        format!(
                            "{} never fall as {param} grows (on the {} rows)",
                            metrics.join(" and "),
                            if *on_test { "held-out" } else { "training" }
                        )
                    } else {
                        falls.join("; ")
                    };
                    f.status = Finding::verdict(falls.is_empty(), setup.severity);
                }
                PretrainCheck::DeterministicWithSeed => {
                    let a = fit_full(&mut times)?;
                    let b = fit_full(&mut times)?;
                    let (pa, pb) = (
                        predict(a.as_ref(), &setup.train.x)?,
                        predict(b.as_ref(), &setup.train.x)?,
                    );
                    let differ = pa
                        .iter()
                        .zip(&pb)
                        .filter(|(x, y)| {
                            x.iter()
                                .zip(y.iter())
                                .any(|(u, v)| u.to_bits() != v.to_bits())
                        })
                        .count()
                        + pa.len().abs_diff(pb.len());
                    f.observed = json!(differ);
                    f.expected = format!(
                        "two trainings with seed {} predict identically (observed: rows that differ)",
                        setup.seed
                    );
                    f.element_count = Some(pa.len() as u64);
                    f.unexpected_count = Some(differ as u64);
                    f.status = Finding::verdict(differ == 0, setup.severity);
                    full = Some(Ok(a));
                }
                PretrainCheck::TrainingTime { runs, p95_s } => {
                    while times.len() < *runs {
                        let m = fit_full(&mut times)?;
                        full.get_or_insert(Ok(m));
                    }
                    let mut sorted = times.clone();
                    sorted.sort_by(f64::total_cmp);
                    let p50 = percentile(&sorted, 0.5);
                    let p95 = percentile(&sorted, 0.95);
                    f.observed = json!({ "runs": sorted.len(), "p50_s": stable_f64(p50), "p95_s": stable_f64(p95) });
                    match p95_s {
                        Some(budget) => {
                            f.expected = format!("p95 of training time <= {budget} s");
                            f.status = Finding::verdict(p95 <= *budget, setup.severity);
                        }
                        None => {
                            f.expected = "training time (no budget)".into();
                            f.status = Status::Passed;
                        }
                    }
                }
                PretrainCheck::Metrics { bounds, on_test } => {
                    if full.is_none() {
                        full = Some(fit_full(&mut times));
                    }
                    let model = match &full {
                        Some(Ok(m)) => m,
                        Some(Err(e)) => return Err(e.clone()),
                        None => return Err("no model".into()),
                    };
                    let eval = if *on_test {
                        setup
                            .test
                            .ok_or("`on: test` needs a held-out `test` source")?
                    } else {
                        setup.train
                    };
                    let preds = predict(model.as_ref(), &eval.x)?;
                    let o = outcomes(&eval.y, &preds, setup.positive);
                    let mut obs = serde_json::Map::new();
                    let mut bad = Vec::new();
                    let mut want = Vec::new();
                    for (m, lo, hi) in bounds {
                        let v = metric(m, &o)?;
                        obs.insert(m.clone(), json!(stable_f64(v)));
                        if let Some(lo) = lo {
                            want.push(format!("{m} >= {lo}"));
                            if v < *lo || v.is_nan() {
                                bad.push(m.clone());
                            }
                        }
                        if let Some(hi) = hi {
                            want.push(format!("{m} <= {hi}"));
                            if v > *hi || v.is_nan() {
                                bad.push(m.clone());
                            }
                        }
                    }
                    f.observed = serde_json::Value::Object(obs);
                    f.expected = format!(
                        "{} on the {} rows",
                        want.join(", "),
                        if *on_test { "held-out" } else { "training" }
                    );
                    f.status = Finding::verdict(bad.is_empty(), setup.severity);
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            f.status = Status::Error;
            f.error = Some(e);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{FeatureColumn, FnModel};

    /// A nearest-class-mean model on one feature: learns, is deterministic, and its capacity
    /// is not a parameter.
    fn trainer() -> impl Trainer {
        FnTrainer::new("class means", |s: &Sample, _seed, _p: &Params| {
            let FeatureColumn::Num(x) = &s.x.columns[0] else {
                return Err(ModelError::Load("numbers only".into()));
            };
            let mean = |c: f64| {
                let v: Vec<f64> = x
                    .iter()
                    .zip(&s.y)
                    .filter(|(_, y)| **y == c)
                    .filter_map(|(x, _)| *x)
                    .collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            let (m0, m1) = (mean(0.0), mean(1.0));
            Ok(Box::new(FnModel::new("means", move |x: &Features| {
                let FeatureColumn::Num(v) = &x.columns[0] else {
                    return Err(ModelError::Predict("numbers only".into()));
                };
                Ok(v.iter()
                    .map(|x| {
                        let x = x.unwrap_or(0.0);
                        let p1 = if (x - m1).abs() < (x - m0).abs() {
                            0.9
                        } else {
                            0.1
                        };
                        vec![1.0 - p1, p1]
                    })
                    .collect())
            })) as Box<dyn Model>)
        })
    }

    fn sample(n: usize) -> Sample {
        let x: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64)).collect();
        Sample {
            x: Features {
                names: vec!["x".into()],
                columns: vec![FeatureColumn::Num(x)],
            },
            y: (0..n).map(|i| f64::from(u8::from(i >= n / 2))).collect(),
            rows: (0..n).collect(),
        }
    }

    #[test]
    fn balanced_samples_take_classes_in_turn() {
        assert_eq!(balanced(&[0.0, 0.0, 0.0, 1.0, 1.0], 4), vec![0, 1, 3, 4]);
        assert_eq!(balanced(&[1.0, 1.0], 5), vec![0, 1]);
    }

    #[test]
    fn a_learning_trainer_passes_and_a_broken_one_fails_or_errs() {
        let s = sample(40);
        let setup = Setup {
            train: &s,
            test: Some(&s),
            seed: 1,
            params: vec![],
            positive: Some(1),
            small: 10,
            severity: Severity::Error,
        };
        let checks = vec![
            PretrainCheck::OutputShape,
            PretrainCheck::ProbabilitiesValid,
            PretrainCheck::OverfitsTinySample { rows: 10 },
            PretrainCheck::CapacityMonotone {
                param: "depth".into(),
                values: vec![1.0, 2.0, 3.0],
                metrics: vec!["accuracy".into(), "roc_auc".into()],
                on_test: true,
                tolerance: 0.0,
            },
            PretrainCheck::DeterministicWithSeed,
            PretrainCheck::TrainingTime {
                runs: 3,
                p95_s: Some(10.0),
            },
            PretrainCheck::Metrics {
                bounds: vec![("accuracy".into(), Some(0.9), None)],
                on_test: false,
            },
        ];
        let found = run(&trainer(), &setup, &checks);
        for f in &found {
            assert_eq!(f.status, Status::Passed, "{f:?}");
        }
        assert_eq!(found[5].observed["runs"], 3);

        // A trainer that gets worse with depth and differs on every training.
        let calls = std::sync::atomic::AtomicU64::new(0);
        let bad = FnTrainer::new("bad", move |_s: &Sample, _seed, p: &Params| {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let deep = p.iter().any(|(k, v)| k == "depth" && *v >= 2.0);
            Ok(Box::new(FnModel::new("bad", move |x: &Features| {
                let FeatureColumn::Num(v) = &x.columns[0] else {
                    return Err(ModelError::Predict("numbers only".into()));
                };
                Ok(v.iter()
                    .map(|x| {
                        let right = x.unwrap_or(0.0) >= 20.0;
                        let p1 = if right != deep { 0.6 } else { 0.4 } + n as f64 * 1e-9;
                        vec![1.0 - p1, p1]
                    })
                    .collect())
            })) as Box<dyn Model>)
        });
        let found = run(&bad, &setup, &checks[3..5]);
        assert!(
            found.iter().all(|f| f.status == Status::Failed),
            "{found:?}"
        );
        assert!(
            found[0]
                .expected
                .contains("accuracy falls from 1 (depth = 1) to 0 (depth = 2)"),
            "{:?}",
            found[0]
        );

        // A trainer that learns nothing cannot overfit ten rows.
        let constant = FnTrainer::new("constant", |_s: &Sample, _seed, _p: &Params| {
            Ok(Box::new(FnModel::new("half", |x: &Features| {
                Ok(vec![vec![0.6, 0.4]; x.rows()])
            })) as Box<dyn Model>)
        });
        let found = run(&constant, &setup, &checks[2..3]);
        assert_eq!(found[0].status, Status::Failed);
        assert_eq!(found[0].observed, json!(0.5));

        let failing = FnTrainer::new("crash", |_s: &Sample, _seed, _p: &Params| {
            Err(ModelError::Load("out of memory".into()))
        });
        let found = run(&failing, &setup, &checks);
        assert!(found.iter().all(|f| f.status == Status::Error), "{found:?}");
        assert!(
            found[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("out of memory")),
            "{:?}",
            found[0]
        );
    }
}
