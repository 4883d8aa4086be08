//! Kullback–Leibler divergence of a column's distribution from a Great Expectations partition
//! object: `{bins, weights}` (continuous: histogram edges) or `{values, weights}` (categorical).
//! Computed from the column's value counts (one grouped query), in the way GX does: tails and
//! unexpected values get `tail_weight_holdout`, empty internal bins share
//! `internal_weight_holdout`, and the divergence is `sum p ln(p / q)` over normalised weights.

use serde_json::Value;

use crate::value::V;

fn weights(partition: &Value, tails: f64) -> Result<Vec<f64>, String> {
    let w = partition
        .get("weights")
        .and_then(Value::as_array)
        .ok_or("the partition object needs `weights`")?;
    let w: Vec<f64> = w
        .iter()
        .map(|x| x.as_f64().ok_or("weights must be numbers"))
        .collect::<Result<_, _>>()?;
    if w.is_empty() {
        return Err("the partition object has no weights".into());
    }
    if w.iter().any(|x| *x < 0.0 || !x.is_finite()) {
        return Err("partition weights must be finite and non-negative".into());
    }
    let total: f64 = w.iter().sum::<f64>() + tails;
    if (total - 1.0).abs() > 1e-6 {
        return Err(format!(
            "partition weights must sum to 1 (they sum to {total})"
        ));
    }
    Ok(w)
}

/// `sum p ln(p/q)` after normalising both (SciPy's `entropy(pk, qk)`); infinite when some
/// `p > 0` meets `q = 0`.
pub fn entropy(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    if sp <= 0.0 || sq <= 0.0 {
        return f64::NAN;
    }
    let mut kl = 0.0;
    for (pi, qi) in p.iter().zip(q) {
        let (pi, qi) = (pi / sp, qi / sq);
        if pi > 0.0 {
            if qi <= 0.0 {
                return f64::INFINITY;
            }
            kl += pi * (pi / qi).ln();
        }
    }
    kl
}

/// The divergence of the observed `(value, count)` pairs from the partition.
pub fn divergence(
    partition: &Value,
    observed: &[(V, f64)],
    internal_holdout: f64,
    tail_holdout: f64,
) -> Result<f64, String> {
    if !(0.0..=1.0).contains(&internal_holdout) || !(0.0..=1.0).contains(&tail_holdout) {
        return Err("holdouts must be between 0 and 1".into());
    }
    if partition.is_null() {
        // No partition: the data is its own partition.
        return Ok(0.0);
    }
    let tail_weights: Option<Vec<f64>> = match partition.get("tail_weights") {
        None | Some(Value::Null) => None,
        Some(Value::Array(t))
            if t.len() == 2 && t.iter().all(|x| x.as_f64().is_some_and(|v| v >= 0.0)) =>
        {
            Some(t.iter().map(|x| x.as_f64().unwrap_or(0.0)).collect())
        }
        Some(_) => return Err("`tail_weights` holds two numbers".into()),
    };
    let w = weights(
        partition,
        tail_weights.as_ref().map(|t| t.iter().sum()).unwrap_or(0.0),
    )?;
    let total: f64 = observed.iter().map(|(_, n)| n).sum();
    if total <= 0.0 {
        return Err("the column has no values".into());
    }
    if let Some(values) = partition.get("values").and_then(Value::as_array) {
        if values.len() != w.len() {
            return Err("`values` and `weights` differ in length".into());
        }
        if internal_holdout > 0.0 {
            return Err(
                "ValueError: internal_weight_holdout does not apply to a categorical partition"
                    .into(),
            );
        }
        let mut p = vec![0.0; values.len() + 1];
        for (v, n) in observed {
            match values.iter().position(|e| same(v, e)) {
                Some(i) => p[i] += n,
                None => p[values.len()] += n,
            }
        }
        let mut q: Vec<f64> = w.iter().map(|x| x * (1.0 - tail_holdout)).collect();
        q.push(tail_holdout);
        return Ok(entropy(&p, &q));
    }
    let bins = partition
        .get("bins")
        .and_then(Value::as_array)
        .ok_or("the partition object needs `bins` or `values`")?;
    let edges: Vec<f64> = bins
        .iter()
        .map(|b| match b {
            Value::Number(n) => n.as_f64().ok_or("bins must be numbers"),
            Value::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
            Value::String(s) if s == "Infinity" => Ok(f64::INFINITY),
            _ => Err("bins must be numbers"),
        })
        .collect::<Result<_, _>>()?;
    if edges.len() != w.len() + 1 {
        return Err("a continuous partition has one more bin edge than weights".into());
    }
    if edges.windows(2).any(|e| e[0] > e[1]) {
        return Err("bin edges must increase".into());
    }
    let last = edges.len() - 1;
    let (mut below, mut above) = (0.0, 0.0);
    let mut hist = vec![0.0; w.len()];
    for (v, n) in observed {
        let Some(x) = v.as_f64() else {
            return Err("a continuous partition needs a numeric column".into());
        };
        if x.is_nan() {
            continue;
        }
        if x < edges[0] {
            below += n;
        } else if x > edges[last] {
            above += n;
        } else {
            // [e_i, e_{i+1}), the last bin closed (numpy.histogram).
            let i = edges
                .partition_point(|e| *e <= x)
                .saturating_sub(1)
                .min(w.len() - 1);
            hist[i] += n;
        }
    }
    let mut q: Vec<f64> = w.iter().map(|x| x * (1.0 - tail_holdout)).collect();
    if internal_holdout > 0.0 {
        let zeros = q.iter().filter(|x| **x == 0.0).count();
        if zeros > 0 {
            for x in q.iter_mut() {
                *x = if *x == 0.0 {
                    internal_holdout / zeros as f64
                } else {
                    *x * (1.0 - internal_holdout)
                };
            }
        }
    }
    let (lo_inf, hi_inf) = (edges[0].is_infinite(), edges[last].is_infinite());
    if tail_holdout > 0.0 && (tail_weights.is_some() || (lo_inf && hi_inf)) {
        return Err("ValueError: tail_weight_holdout is not defined for a partition that already has both tails (tail_weights or two infinite end points)".into());
    }
    // An infinite end bin is that side's tail; the holdout goes to the other side.
    let (tail_lo, tail_hi) = match (&tail_weights, lo_inf, hi_inf) {
        (Some(t), _, _) => (t[0], t[1]),
        (None, false, false) => (tail_holdout / 2.0, tail_holdout / 2.0),
        (None, true, false) => (0.0, tail_holdout),
        (None, false, true) => (tail_holdout, 0.0),
        (None, true, true) => (0.0, 0.0),
    };
    let mut p = vec![below];
    p.extend(hist);
    p.push(above);
    let mut qq = vec![tail_lo];
    qq.extend(q);
    qq.push(tail_hi);
    Ok(entropy(&p, &qq))
}

fn same(v: &V, e: &Value) -> bool {
    match (v, e) {
        (V::Str(a), Value::String(b)) => a == b,
        (V::Bool(a), Value::Bool(b)) => a == b,
        (_, Value::Number(n)) => v.as_f64().zip(n.as_f64()).is_some_and(|(a, b)| a == b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn categorical_with_tail_holdout_matches_gx() {
        // GX's own test: data a, a, b, c against {a: 0.6, b: 0.4}.
        let obs = vec![
            (V::Str("a".into()), 2.0),
            (V::Str("b".into()), 1.0),
            (V::Str("c".into()), 1.0),
        ];
        let part = json!({"values": ["a", "b"], "weights": [0.6, 0.4]});
        assert!((divergence(&part, &obs, 0.0, 0.1).unwrap() - 0.09943138400349738).abs() < 1e-12);
        assert!((divergence(&part, &obs, 0.0, 0.05).unwrap() - 0.2321677631907768).abs() < 1e-12);
        assert!(divergence(&part, &obs, 0.0, 0.0).unwrap().is_infinite());
    }

    #[test]
    fn entropy_matches_scipy() {
        // scipy.stats.entropy([0.5, 0.25, 0.25], [1/3, 1/3, 1/3]) = 0.0589048...
        let e = entropy(&[0.5, 0.25, 0.25], &[1.0, 1.0, 1.0]);
        assert!((e - 0.05889151782819172).abs() < 1e-12, "{e}");
    }
}
