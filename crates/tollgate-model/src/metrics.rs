//! Evaluation metrics, defined as scikit-learn defines them (the tests compare with
//! `sklearn.metrics` on committed fixtures to 1e-9). Pure functions over slices: labels are
//! class indices or 0/1 as f64, scores are probabilities of the positive class.

/// Fraction of exact matches.
pub fn accuracy(y: &[f64], pred: &[f64]) -> f64 {
    if y.is_empty() {
        return f64::NAN;
    }
    y.iter().zip(pred).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
}

/// The sorted distinct classes of labels and predictions together.
pub fn classes(y: &[f64], pred: &[f64]) -> Vec<f64> {
    // Few classes in practice: collect them without sorting all the rows.
    let mut c: Vec<f64> = Vec::new();
    for v in y.iter().chain(pred) {
        if !v.is_nan() && !c.contains(v) {
            c.push(*v);
            if c.len() > 1024 {
                let mut all: Vec<f64> = y
                    .iter()
                    .chain(pred)
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                all.sort_by(|a, b| a.total_cmp(b));
                all.dedup();
                return all;
            }
        }
    }
    c.sort_by(|a, b| a.total_cmp(b));
    c
}

/// Confusion matrix over `classes`: rows are true classes, columns predicted ones.
pub fn confusion(y: &[f64], pred: &[f64], classes: &[f64]) -> Vec<Vec<u64>> {
    let idx = |v: f64| classes.iter().position(|c| *c == v);
    let mut m = vec![vec![0u64; classes.len()]; classes.len()];
    for (a, b) in y.iter().zip(pred) {
        if let (Some(i), Some(j)) = (idx(*a), idx(*b)) {
            m[i][j] += 1;
        }
    }
    m
}

/// Per-class (tp, fp, fn, support).
fn per_class(m: &[Vec<u64>]) -> Vec<(f64, f64, f64, f64)> {
    (0..m.len())
        .map(|k| {
            let tp = m[k][k] as f64;
            let fp = (0..m.len())
                .filter(|&i| i != k)
                .map(|i| m[i][k] as f64)
                .sum::<f64>();
            let fn_ = (0..m.len())
                .filter(|&j| j != k)
                .map(|j| m[k][j] as f64)
                .sum::<f64>();
            let support = m[k].iter().sum::<u64>() as f64;
            (tp, fp, fn_, support)
        })
        .collect()
}

fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// How per-class scores are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// The positive class (label 1) only.
    Binary,
    /// Pool every class's counts.
    Micro,
    /// Unweighted mean over classes.
    Macro,
    /// Mean weighted by support.
    Weighted,
}

/// Precision, recall and F1 with sklearn's conventions (zero division gives 0).
pub fn prf(y: &[f64], pred: &[f64], average: Average) -> (f64, f64, f64) {
    let cls = classes(y, pred);
    let m = confusion(y, pred, &cls);
    prf_from(&cls, &m, average)
}

/// [`prf`] from classes and their confusion matrix.
pub fn prf_from(cls: &[f64], m: &[Vec<u64>], average: Average) -> (f64, f64, f64) {
    let pc = per_class(m);
    let f1 = |p: f64, r: f64| div(2.0 * p * r, p + r);
    match average {
        Average::Binary => {
            let Some(k) = cls.iter().position(|c| *c == 1.0) else {
                return (0.0, 0.0, 0.0);
            };
            let (tp, fp, fn_, _) = pc[k];
            let (p, r) = (div(tp, tp + fp), div(tp, tp + fn_));
            (p, r, f1(p, r))
        }
        Average::Micro => {
            let (tp, fp, fn_) = pc
                .iter()
                .fold((0.0, 0.0, 0.0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
            let (p, r) = (div(tp, tp + fp), div(tp, tp + fn_));
            (p, r, f1(p, r))
        }
        Average::Macro | Average::Weighted => {
            // sklearn averages over the labels present in y or pred.
            let total: f64 = pc.iter().map(|c| c.3).sum();
            let (mut sp, mut sr, mut sf, mut sw) = (0.0, 0.0, 0.0, 0.0);
            for &(tp, fp, fn_, support) in &pc {
                let (p, r) = (div(tp, tp + fp), div(tp, tp + fn_));
                let w = if average == Average::Macro {
                    1.0
                } else {
                    support
                };
                sp += w * p;
                sr += w * r;
                sf += w * f1(p, r);
                sw += w;
            }
            if average == Average::Weighted && total == 0.0 {
                return (0.0, 0.0, 0.0);
            }
            (div(sp, sw), div(sr, sw), div(sf, sw))
        }
    }
}

/// Mean of per-class recall over the classes present in `y`.
pub fn balanced_accuracy(y: &[f64], pred: &[f64]) -> f64 {
    let cls = classes(y, pred);
    balanced_accuracy_from(&confusion(y, pred, &cls))
}

/// [`balanced_accuracy`] from a confusion matrix.
pub fn balanced_accuracy_from(m: &[Vec<u64>]) -> f64 {
    let recalls: Vec<f64> = per_class(m)
        .iter()
        .filter(|c| c.3 > 0.0)
        .map(|&(tp, _, fn_, _)| div(tp, tp + fn_))
        .collect();
    if recalls.is_empty() {
        f64::NAN
    } else {
        recalls.iter().sum::<f64>() / recalls.len() as f64
    }
}

/// Area under the ROC curve of binary labels (1 is positive): the Mann–Whitney statistic with
/// tied scores counted as one half, which equals sklearn's trapezoidal area.
pub fn roc_auc(y: &[f64], score: &[f64]) -> f64 {
    roc_auc_sorted(&sorted_pairs(y, score))
}

/// [`roc_auc`] from (score, is positive) pairs sorted by score.
pub fn roc_auc_sorted(pairs: &[(f64, bool)]) -> f64 {
    let (mut rank_sum_pos, mut n_pos) = (0.0f64, 0.0f64);
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j + 1 < pairs.len() && pairs[j + 1].0 == pairs[i].0 {
            j += 1;
        }
        // average rank of the tie group (1-based)
        let avg = (i + j) as f64 / 2.0 + 1.0;
        let pos = pairs[i..=j].iter().filter(|p| p.1).count() as f64;
        rank_sum_pos += avg * pos;
        n_pos += pos;
        i = j + 1;
    }
    let n_neg = pairs.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// (score, is positive) sorted by score ascending: one contiguous sort instead of an index sort.
pub fn sorted_pairs(y: &[f64], score: &[f64]) -> Vec<(f64, bool)> {
    let mut pairs: Vec<(f64, bool)> = score.iter().zip(y).map(|(s, y)| (*s, *y == 1.0)).collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    pairs
}

/// One-vs-rest ROC AUC over classes 0..k-1 with per-class probability columns; macro or
/// weighted by prevalence (sklearn's `multi_class="ovr"`).
pub fn roc_auc_ovr(y: &[f64], probs: &[Vec<f64>], weighted: bool) -> f64 {
    let (mut s, mut w) = (0.0, 0.0);
    for (k, p) in probs.iter().enumerate() {
        let yk: Vec<f64> = y
            .iter()
            .map(|v| if *v == k as f64 { 1.0 } else { 0.0 })
            .collect();
        let prevalence: f64 = yk.iter().sum();
        let auc = roc_auc(&yk, p);
        let weight = if weighted { prevalence } else { 1.0 };
        s += weight * auc;
        w += weight;
    }
    s / w
}

/// Average precision (sklearn): sum over decreasing thresholds of (R_n - R_{n-1}) * P_n.
pub fn average_precision(y: &[f64], score: &[f64]) -> f64 {
    average_precision_sorted(&sorted_pairs(y, score))
}

/// [`average_precision`] from (score, is positive) pairs sorted by score.
pub fn average_precision_sorted(pairs: &[(f64, bool)]) -> f64 {
    let total_pos = pairs.iter().filter(|p| p.1).count() as f64;
    if total_pos == 0.0 {
        return f64::NAN;
    }
    let (mut tp, mut fp, mut ap, mut prev_recall) = (0.0, 0.0, 0.0, 0.0);
    // Thresholds from the highest score down: walk the ascending pairs backwards.
    let mut j = pairs.len();
    while j > 0 {
        let mut i = j - 1;
        while i > 0 && pairs[i - 1].0 == pairs[j - 1].0 {
            i -= 1;
        }
        for p in &pairs[i..j] {
            if p.1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
        }
        let recall = tp / total_pos;
        let precision = tp / (tp + fp);
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        j = i;
    }
    ap
}

/// Binary log loss with probabilities clipped to [eps, 1 - eps] (float64 machine epsilon, as
/// sklearn's `eps="auto"`).
pub fn log_loss(y: &[f64], p: &[f64]) -> f64 {
    let eps = f64::EPSILON;
    let n = y.len() as f64;
    -y.iter()
        .zip(p)
        .map(|(y, p)| {
            let p = p.clamp(eps, 1.0 - eps);
            y * p.ln() + (1.0 - y) * (1.0 - p).ln()
        })
        .sum::<f64>()
        / n
}

/// Mean squared difference of probability and outcome.
pub fn brier(y: &[f64], p: &[f64]) -> f64 {
    y.iter().zip(p).map(|(y, p)| (p - y).powi(2)).sum::<f64>() / y.len() as f64
}

/// Expected calibration error over `bins` equal-width bins of the predicted probability:
/// sum over bins of |mean outcome - mean probability| weighted by the bin's share of rows.
pub fn ece(y: &[f64], p: &[f64], bins: usize) -> f64 {
    let mut acc = vec![(0.0f64, 0.0f64, 0usize); bins];
    for (y, p) in y.iter().zip(p) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        acc[b].0 += y;
        acc[b].1 += p;
        acc[b].2 += 1;
    }
    let n = y.len() as f64;
    acc.iter()
        .filter(|b| b.2 > 0)
        .map(|(sy, sp, c)| (sy / *c as f64 - sp / *c as f64).abs() * *c as f64 / n)
        .sum()
}

/// Mean absolute error.
pub fn mae(y: &[f64], p: &[f64]) -> f64 {
    y.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64
}

/// Mean squared error.
pub fn mse(y: &[f64], p: &[f64]) -> f64 {
    y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / y.len() as f64
}

/// Coefficient of determination (1 for a perfect fit; sklearn returns 0 when y is constant and
/// the fit imperfect, 1 when perfect).
pub fn r2(y: &[f64], p: &[f64]) -> f64 {
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    if ss_tot == 0.0 {
        return if ss_res == 0.0 { 1.0 } else { 0.0 };
    }
    1.0 - ss_res / ss_tot
}

/// Mean absolute percentage error (a fraction; |y| floored at float64 epsilon, as sklearn).
pub fn mape(y: &[f64], p: &[f64]) -> f64 {
    y.iter()
        .zip(p)
        .map(|(a, b)| (a - b).abs() / a.abs().max(f64::EPSILON))
        .sum::<f64>()
        / y.len() as f64
}

/// Median of absolute errors.
pub fn median_ae(y: &[f64], p: &[f64]) -> f64 {
    let mut e: Vec<f64> = y.iter().zip(p).map(|(a, b)| (a - b).abs()).collect();
    median(&mut e)
}

/// Largest absolute error.
pub fn max_error(y: &[f64], p: &[f64]) -> f64 {
    y.iter()
        .zip(p)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// Median (mean of the middle two for an even count).
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
