//! tollgate-model: model evaluation. Metrics as scikit-learn defines them ([`metrics`]), a
//! catalogue of metric names ([`metric`]), and evaluation with gates, slices, bootstrap
//! confidence intervals and baselines ([`eval`]). Model runners (ONNX, HTTP, command) come
//! with a later change; evaluation already runs from a predictions file. Never prints.
#![deny(missing_docs)]

pub mod checks;
pub mod eval;
pub mod http;
pub mod metrics;
pub mod onnx;
pub mod onnx_proto;
pub mod plots;
pub mod pretrain;
pub mod runner;

/// The classes and the confusion matrix (rows: true class, columns: predicted class).
pub type Confusion = (Vec<f64>, Vec<Vec<u64>>);

/// The columns of one evaluation: labels and what the model said about them.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    /// True labels (class indices, 0/1, or regression targets).
    pub y: Vec<f64>,
    /// Probability of the positive class (binary), when given.
    pub score: Option<Vec<f64>>,
    /// Predicted labels or regression values, when given.
    pub pred: Option<Vec<f64>>,
    /// Per-class probabilities (multiclass), one vector per class.
    pub probs: Option<Vec<Vec<f64>>>,
    /// Threshold turning `score` into predicted labels.
    pub threshold: f64,
    /// (score, is positive) sorted by score, computed once for the ranking metrics.
    pub sorted: std::sync::OnceLock<Vec<(f64, bool)>>,
    /// Classes and confusion matrix of the predicted labels, computed once for the counting
    /// metrics.
    pub confusion: std::sync::OnceLock<Option<Confusion>>,
}

impl Outcomes {
    /// Predicted labels: given, or thresholded scores, or the argmax of the class probabilities.
    pub fn labels(&self) -> Option<Vec<f64>> {
        if let Some(p) = &self.pred {
            return Some(p.clone());
        }
        if let Some(s) = &self.score {
            return Some(
                s.iter()
                    .map(|p| if *p >= self.threshold { 1.0 } else { 0.0 })
                    .collect(),
            );
        }
        let probs = self.probs.as_ref()?;
        Some(
            (0..self.y.len())
                .map(|i| {
                    let mut best = 0;
                    for k in 1..probs.len() {
                        if probs[k][i] > probs[best][i] {
                            best = k;
                        }
                    }
                    best as f64
                })
                .collect(),
        )
    }

    /// The rows at `idx` (slices and bootstrap resamples).
    pub fn take(&self, idx: &[usize]) -> Outcomes {
        let pick = |v: &Vec<f64>| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        Outcomes {
            y: pick(&self.y),
            score: self.score.as_ref().map(pick),
            pred: self.pred.as_ref().map(pick),
            probs: self.probs.as_ref().map(|ps| ps.iter().map(pick).collect()),
            threshold: self.threshold,
            sorted: std::sync::OnceLock::new(),
            confusion: std::sync::OnceLock::new(),
        }
    }
}

pub use tollgate_core::catalog::METRICS;

/// Compute one metric by name.
pub fn metric(name: &str, o: &Outcomes) -> Result<f64, String> {
    use metrics as m;
    if o.y.is_empty() {
        return Err("no rows to evaluate".into());
    }
    // scikit-learn refuses what these cannot mean; so do we.
    let non_finite =
        |v: &Option<Vec<f64>>| v.as_ref().is_some_and(|v| v.iter().any(|x| !x.is_finite()));
    if o.y.iter().any(|x| !x.is_finite())
        || non_finite(&o.score)
        || non_finite(&o.pred)
        || o.probs
            .as_ref()
            .is_some_and(|ps| ps.iter().any(|p| p.iter().any(|x| !x.is_finite())))
    {
        return Err("labels and predictions must be finite numbers (NaN or infinity found)".into());
    }
    if tollgate_core::catalog::BINARY_METRICS.contains(&name)
        && o.y.iter().any(|v| *v != 0.0 && *v != 1.0)
    {
        return Err(format!(
            "`{name}` is a binary metric: labels must be 0 and 1 (found {:?}); use the _macro / _weighted / _ovr forms for several classes",
            metrics::classes(&o.y, &[])
                .into_iter()
                .take(5)
                .collect::<Vec<_>>()
        ));
    }
    let score = || {
        o.score
            .as_ref()
            .ok_or_else(|| format!("`{name}` needs a probability score column"))
    };
    let pred = || {
        o.pred
            .as_ref()
            .or(o.score.as_ref())
            .ok_or_else(|| format!("`{name}` needs a prediction column"))
    };
    // Classes and confusion matrix, once for every counting metric of these outcomes.
    let confusion = || -> Result<&Confusion, String> {
        o.confusion
            .get_or_init(|| {
                let l = o.labels()?;
                let cls = m::classes(&o.y, &l);
                let matrix = m::confusion(&o.y, &l, &cls);
                Some((cls, matrix))
            })
            .as_ref()
            .ok_or_else(|| format!("`{name}` needs predicted labels or scores"))
    };
    let prf = |avg: m::Average, which: usize| -> Result<f64, String> {
        let (cls, matrix) = confusion()?;
        let (p, r, f) = m::prf_from(cls, matrix, avg);
        Ok([p, r, f][which])
    };
    Ok(match name {
        "accuracy" => {
            let (_, matrix) = confusion()?;
            let hits: u64 = (0..matrix.len()).map(|k| matrix[k][k]).sum();
            hits as f64 / o.y.len() as f64
        }
        "balanced_accuracy" => m::balanced_accuracy_from(&confusion()?.1),
        "precision" => prf(m::Average::Binary, 0)?,
        "recall" => prf(m::Average::Binary, 1)?,
        "f1" => prf(m::Average::Binary, 2)?,
        "precision_micro" => prf(m::Average::Micro, 0)?,
        "recall_micro" => prf(m::Average::Micro, 1)?,
        "f1_micro" => prf(m::Average::Micro, 2)?,
        "precision_macro" => prf(m::Average::Macro, 0)?,
        "recall_macro" => prf(m::Average::Macro, 1)?,
        "f1_macro" => prf(m::Average::Macro, 2)?,
        "precision_weighted" => prf(m::Average::Weighted, 0)?,
        "recall_weighted" => prf(m::Average::Weighted, 1)?,
        "f1_weighted" => prf(m::Average::Weighted, 2)?,
        "roc_auc" => {
            let s = score()?;
            let auc = m::roc_auc_sorted(o.sorted.get_or_init(|| m::sorted_pairs(&o.y, s)));
            if auc.is_nan() {
                return Err("`roc_auc` is undefined when the labels hold one class only".into());
            }
            auc
        }
        "roc_auc_ovr_macro" | "roc_auc_ovr_weighted" => {
            let probs = o
                .probs
                .as_ref()
                .ok_or_else(|| format!("`{name}` needs one probability column per class"))?;
            if o.y
                .iter()
                .any(|v| v.fract() != 0.0 || *v < 0.0 || *v as usize >= probs.len())
            {
                return Err(format!(
                    "`{name}`: labels must be class indices 0..{} (one probability column per class)",
                    probs.len()
                ));
            }
            let auc = m::roc_auc_ovr(&o.y, probs, name.ends_with("weighted"));
            if auc.is_nan() {
                return Err(format!("`{name}` is undefined when a class has no rows"));
            }
            auc
        }
        "average_precision" => {
            let s = score()?;
            let ap = m::average_precision_sorted(o.sorted.get_or_init(|| m::sorted_pairs(&o.y, s)));
            if ap.is_nan() {
                return Err("`average_precision` is undefined without positive labels".into());
            }
            ap
        }
        "log_loss" => m::log_loss(&o.y, score()?),
        "brier" => m::brier(&o.y, score()?),
        "ece" => m::ece(&o.y, score()?, 10),
        "mae" => m::mae(&o.y, pred()?),
        "mse" => m::mse(&o.y, pred()?),
        "rmse" => m::mse(&o.y, pred()?).sqrt(),
        "r2" => m::r2(&o.y, pred()?),
        "mape" => m::mape(&o.y, pred()?),
        "median_absolute_error" => m::median_ae(&o.y, pred()?),
        "max_error" => m::max_error(&o.y, pred()?),
        other => {
            let mut msg = format!("unknown metric `{other}`");
            if let Some(s) = tollgate_core::diag::suggest(other, METRICS.iter().copied()) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            msg.push_str(&format!("; metrics: {}", METRICS.join(", ")));
            return Err(msg);
        }
    })
}
