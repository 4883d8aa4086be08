//! Chart data for evaluation findings (the `plot` field of a finding): ROC and
//! precision-recall curves, a calibration curve and the confusion matrix. Curves are thinned to
//! at most [`MAX_POINTS`] points, so a report of 10M rows stays small.

use serde_json::{Value, json};
use tollgate_core::finding::stable_f64;

use crate::{Outcomes, metrics};

/// Points kept per curve.
pub const MAX_POINTS: usize = 200;
/// Bins of the calibration curve.
pub const CALIBRATION_BINS: usize = 10;

fn thin(x: Vec<f64>, y: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    if x.len() <= MAX_POINTS {
        return (x, y);
    }
    let step = (x.len() - 1) as f64 / (MAX_POINTS - 1) as f64;
    (0..MAX_POINTS)
        .map(|i| {
            let j = ((i as f64 * step).round() as usize).min(x.len() - 1);
            (x[j], y[j])
        })
        .unzip()
}

/// The ROC curve (false and true positive rates at each distinct threshold, from the highest
/// score down), or `None` without both classes.
pub fn roc(pairs: &[(f64, bool)]) -> Option<Value> {
    let pos = pairs.iter().filter(|p| p.1).count() as f64;
    let neg = pairs.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let (mut x, mut y) = (vec![0.0], vec![0.0]);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut j = pairs.len();
    while j > 0 {
        let mut i = j - 1;
        while i > 0 && pairs[i - 1].0 == pairs[j - 1].0 {
            i -= 1;
        }
        for p in &pairs[i..j] {
            if p.1 { tp += 1.0 } else { fp += 1.0 }
        }
        x.push(stable_f64(fp / neg));
        y.push(stable_f64(tp / pos));
        j = i;
    }
    let (x, y) = thin(x, y);
    Some(json!({ "kind": "roc", "x": x, "y": y }))
}

/// The precision-recall curve (recall ascending), or `None` without positives.
pub fn pr(pairs: &[(f64, bool)]) -> Option<Value> {
    let pos = pairs.iter().filter(|p| p.1).count() as f64;
    if pos == 0.0 {
        return None;
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut j = pairs.len();
    while j > 0 {
        let mut i = j - 1;
        while i > 0 && pairs[i - 1].0 == pairs[j - 1].0 {
            i -= 1;
        }
        for p in &pairs[i..j] {
            if p.1 { tp += 1.0 } else { fp += 1.0 }
        }
        x.push(stable_f64(tp / pos));
        y.push(stable_f64(tp / (tp + fp)));
        j = i;
    }
    let (x, y) = thin(x, y);
    Some(json!({ "kind": "pr", "x": x, "y": y }))
}

/// The calibration curve: in each of [`CALIBRATION_BINS`] equal-width probability bins with
/// rows, the mean predicted probability against the share of positives.
pub fn calibration(y: &[f64], p: &[f64]) -> Option<Value> {
    let mut sums = vec![(0.0f64, 0.0f64, 0u64); CALIBRATION_BINS];
    for (yi, pi) in y.iter().zip(p) {
        if !pi.is_finite() {
            continue;
        }
        let b =
            ((pi * CALIBRATION_BINS as f64).floor().max(0.0) as usize).min(CALIBRATION_BINS - 1);
        sums[b].0 += pi;
        sums[b].1 += yi;
        sums[b].2 += 1;
    }
    let kept: Vec<&(f64, f64, u64)> = sums.iter().filter(|s| s.2 > 0).collect();
    if kept.is_empty() {
        return None;
    }
    let x: Vec<f64> = kept.iter().map(|s| stable_f64(s.0 / s.2 as f64)).collect();
    let yv: Vec<f64> = kept.iter().map(|s| stable_f64(s.1 / s.2 as f64)).collect();
    let n: Vec<u64> = kept.iter().map(|s| s.2).collect();
    Some(json!({ "kind": "calibration", "x": x, "y": yv, "n": n }))
}

/// The confusion matrix of the predicted labels (rows: true class, columns: predicted).
pub fn confusion(o: &Outcomes) -> Option<Value> {
    let labels = o.labels()?;
    let classes = metrics::classes(&o.y, &labels);
    if classes.len() > 20 {
        return None;
    }
    let m = metrics::confusion(&o.y, &labels, &classes);
    let names: Vec<String> = classes
        .iter()
        .map(|c| {
            if c.fract() == 0.0 {
                format!("{}", *c as i64)
            } else {
                c.to_string()
            }
        })
        .collect();
    Some(json!({ "kind": "confusion", "labels": names, "matrix": m }))
}

/// The chart of an overall metric's finding, where the metric has one.
pub fn for_metric(name: &str, o: &Outcomes) -> Option<Value> {
    let pairs = || o.score.as_ref().map(|s| metrics::sorted_pairs(&o.y, s));
    let binary = o.y.iter().all(|v| *v == 0.0 || *v == 1.0);
    match name {
        "roc_auc" if binary => roc(&pairs()?),
        "average_precision" | "pr_auc" if binary => pr(&pairs()?),
        "brier" | "log_loss" | "ece" if binary => calibration(&o.y, o.score.as_ref()?),
        n if n == "accuracy"
            || n == "balanced_accuracy"
            || n.starts_with("precision")
            || n.starts_with("recall")
            || n.starts_with("f1") =>
        {
            confusion(o)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_match_hand_computed_points() {
        // scores 0.1 (neg), 0.4 (pos), 0.35 (neg), 0.8 (pos); thresholds from the top:
        // 0.8 gives (fpr 0, tpr 0.5), 0.4 (0, 1), 0.35 (0.5, 1), 0.1 (1, 1).
        let pairs = metrics::sorted_pairs(&[0.0, 1.0, 0.0, 1.0], &[0.1, 0.4, 0.35, 0.8]);
        let r = roc(&pairs).expect("roc");
        assert_eq!(r["x"], json!([0.0, 0.0, 0.0, 0.5, 1.0]));
        assert_eq!(r["y"], json!([0.0, 0.5, 1.0, 1.0, 1.0]));
        let p = pr(&pairs).expect("pr");
        assert_eq!(p["x"], json!([0.5, 1.0, 1.0, 1.0]));
        assert_eq!(p["y"], json!([1.0, 1.0, stable_f64(2.0 / 3.0), 0.5]));
        let c = calibration(&[0.0, 1.0, 0.0, 1.0], &[0.1, 0.4, 0.35, 0.8]).expect("calibration");
        // Bins [0.1, 0.2), [0.3, 0.4), [0.4, 0.5), [0.8, 0.9).
        assert_eq!(c["n"], json!([1, 1, 1, 1]));
        assert_eq!(c["x"], json!([0.1, 0.35, 0.4, 0.8]));
        assert_eq!(c["y"], json!([0.0, 0.0, 1.0, 1.0]));
        assert!(roc(&metrics::sorted_pairs(&[1.0, 1.0], &[0.2, 0.3])).is_none());
    }

    #[test]
    fn long_curves_are_thinned() {
        let n = 10_000;
        let y: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let s: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        let r = roc(&metrics::sorted_pairs(&y, &s)).expect("roc");
        let xs = r["x"].as_array().expect("x");
        assert_eq!(xs.len(), MAX_POINTS);
        assert_eq!(xs[0], json!(0.0));
        assert_eq!(xs[MAX_POINTS - 1], json!(1.0));
    }
}
