//! Drift between two sources, column by column (`drift:` and `tollgate drift`).
//!
//! Column kinds: a numeric column with more than 5 distinct values in the reference is numeric;
//! other numeric columns, text and booleans are categorical.
//!
//! `method: auto` follows Evidently's defaults: with at most 1000 reference rows, the
//! Kolmogorov–Smirnov test (numeric) or the chi-square test (categorical), drift when the p-value
//! is below 0.05; above 1000 rows, the Wasserstein distance normed by the reference's standard
//! deviation (numeric) or the Jensen–Shannon distance (categorical), drift when it is at least
//! 0.1. `psi` (drift at 0.1 or more) and `linf` (categorical, 0.1) are there to choose.
//! The dataset drifts when the share of drifted columns reaches `max_drifted_share`.

use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use serde_json::json;
use tollgate_core::finding::stable_f64;
use tollgate_core::plan::DriftDecl;
use tollgate_core::{Finding, Plan, Status, TestKind, TestResult};
use tollgate_data::Engine;
use tollgate_data::drift as d;

/// Reference rows up to which `auto` uses the statistical tests.
pub const AUTO_TEST_ROWS: usize = 1000;
/// Distinct reference values up to which a numeric column is treated as categorical.
pub const CATEGORICAL_DISTINCT: usize = 5;

/// One column's values, numbers (sorted, NaN left out) or categories (nulls left out).
#[derive(Clone)]
enum Values {
    Num(std::sync::Arc<Vec<f64>>),
    Cat(StringArray),
}

/// A column's values, converted (and numbers sorted) once per run for every drift test that
/// reads it: (source, column, as numbers).
type Cache = std::collections::HashMap<(String, String, bool), Result<Values, String>>;

fn numeric(t: &DataType) -> bool {
    t.is_numeric()
}

fn values(col: &ArrayRef, as_numbers: bool) -> Result<Values, String> {
    if as_numbers {
        let c = cast(col, &DataType::Float64).map_err(|e| e.to_string())?;
        let f = c
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or("not numbers")?;
        Ok(Values::Num(std::sync::Arc::new(d::sorted(
            f.iter().flatten().filter(|v| !v.is_nan()).collect(),
        ))))
    } else {
        let c = cast(col, &DataType::Utf8).map_err(|e| e.to_string())?;
        let s = c.as_any().downcast_ref::<StringArray>().ok_or("not text")?;
        Ok(Values::Cat(s.clone()))
    }
}

fn distinct(v: &[f64], cap: usize) -> usize {
    let mut seen: Vec<u64> = Vec::new();
    for x in v {
        let b = x.to_bits();
        if !seen.contains(&b) {
            seen.push(b);
            if seen.len() > cap {
                break;
            }
        }
    }
    seen.len()
}

/// A column's verdict: method, score (statistic or distance), p-value, drifted.
struct Verdict {
    method: String,
    statistic: f64,
    pvalue: Option<f64>,
    threshold: f64,
}

impl Verdict {
    fn score(&self) -> f64 {
        self.pvalue.unwrap_or(self.statistic)
    }

    fn drifted(&self) -> bool {
        match self.pvalue {
            Some(p) => p < self.threshold,
            None => self.statistic >= self.threshold,
        }
    }
}

fn default_threshold(method: &str) -> f64 {
    match method {
        "ks" | "chi2" => 0.05,
        _ => 0.1,
    }
}

fn measure(
    method: &str,
    threshold: Option<f64>,
    reference: &Values,
    current: &Values,
) -> Result<Verdict, String> {
    let threshold = threshold.unwrap_or_else(|| default_threshold(method));
    let v = |statistic: f64, pvalue: Option<f64>| Verdict {
        method: method.to_string(),
        statistic,
        pvalue,
        threshold,
    };
    Ok(match (method, reference, current) {
        ("ks", Values::Num(a), Values::Num(b)) => {
            let k = d::ks_2samp(a, b);
            v(k.statistic, Some(k.pvalue))
        }
        ("wasserstein", Values::Num(a), Values::Num(b)) => v(d::wasserstein_normed(a, b), None),
        ("psi", Values::Num(a), Values::Num(b)) => v(d::psi(a, b, d::PSI_DEFAULT_BINS), None),
        ("js", Values::Num(a), Values::Num(b)) => {
            let h = d::histogram_pair(a, b, d::JS_DEFAULT_BINS).ok_or("no finite values")?;
            v(d::jensen_shannon(&h.reference, &h.current), None)
        }
        (m, Values::Cat(a), Values::Cat(b)) => {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (a.iter().flatten().collect(), b.iter().flatten().collect());
            let c = d::category_counts(&a, &b);
            match m {
                "chi2" => {
                    let x = d::chi2_contingency(&c.reference, &c.current);
                    v(x.statistic, Some(x.pvalue))
                }
                "psi" => v(d::psi_categorical(&c.reference, &c.current), None),
                "js" => {
                    let p: Vec<f64> = c.reference.iter().map(|&x| x as f64).collect();
                    let q: Vec<f64> = c.current.iter().map(|&x| x as f64).collect();
                    v(d::jensen_shannon(&p, &q), None)
                }
                "linf" => v(d::l_infinity(&c.reference, &c.current), None),
                other => {
                    return Err(format!(
                        "`{other}` compares numbers; this column is categorical (chi2, psi, js or linf)"
                    ));
                }
            }
        }
        (other, _, _) => {
            return Err(format!(
                "`{other}` compares categories; this column is numeric (ks, wasserstein, psi or js)"
            ));
        }
    })
}

/// Categories drawn per column; the rest are summed as `(other)`.
const PLOT_CATEGORIES: usize = 20;

/// The reference and current distributions of a column, for reports: 20 shared bins of
/// numbers, or the counts of the most frequent categories.
fn plot(reference: &Values, current: &Values) -> Option<serde_json::Value> {
    match (reference, current) {
        (Values::Num(a), Values::Num(b)) => {
            let h = d::histogram_pair(a, b, 20)?;
            Some(json!({
                "kind": "histograms",
                "edges": h.edges.iter().map(|e| stable_f64(*e)).collect::<Vec<_>>(),
                "series": { "reference": h.reference, "current": h.current },
            }))
        }
        (Values::Cat(a), Values::Cat(b)) => {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (a.iter().flatten().collect(), b.iter().flatten().collect());
            let c = d::category_counts(&a, &b);
            let mut order: Vec<usize> = (0..c.categories.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(c.reference[i] + c.current[i]));
            let (mut labels, mut r, mut k) = (Vec::new(), Vec::new(), Vec::new());
            for &i in order.iter().take(PLOT_CATEGORIES) {
                labels.push(c.categories[i].to_string());
                r.push(c.reference[i]);
                k.push(c.current[i]);
            }
            if order.len() > PLOT_CATEGORIES {
                let rest = &order[PLOT_CATEGORIES..];
                labels.push("(other)".to_string());
                r.push(rest.iter().map(|&i| c.reference[i]).sum());
                k.push(rest.iter().map(|&i| c.current[i]).sum());
            }
            Some(json!({
                "kind": "bars",
                "labels": labels,
                "series": { "reference": r, "current": k },
            }))
        }
        _ => None,
    }
}

async fn read(
    engine: &Engine,
    plan: &Plan,
    name: &str,
    base: &Path,
    columns: &[String],
) -> Result<RecordBatch, String> {
    let src = plan
        .sources
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("unknown source `{name}`"))?;
    engine
        .read_some_rows(src, base, None, (!columns.is_empty()).then_some(columns))
        .await
        .map_err(|e| e.to_string())
}

/// Run one drift test of a plan.
pub async fn run_drift(engine: &Engine, plan: &Plan, t: &DriftDecl, base: &Path) -> TestResult {
    run_drifts(engine, plan, &[t], base).await.remove(0)
}

/// Run drift tests, reading each source once for all of them (the columns any of them needs).
pub async fn run_drifts(
    engine: &Engine,
    plan: &Plan,
    tests: &[&DriftDecl],
    base: &Path,
) -> Vec<TestResult> {
    let mut sources: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for t in tests {
        for name in [&t.reference, &t.current] {
            let want = (!t.columns.is_empty()).then(|| t.columns.clone());
            match sources.iter_mut().find(|(n, _)| n == name) {
                None => sources.push((name.clone(), want)),
                Some((_, cols)) => match (cols.as_mut(), want) {
                    (Some(have), Some(more)) => {
                        for c in more {
                            if !have.contains(&c) {
                                have.push(c);
                            }
                        }
                    }
                    // Some test wants every column.
                    _ => *cols = None,
                },
            }
        }
    }
    let mut read_once: Vec<(String, Result<RecordBatch, String>)> = Vec::new();
    for (name, cols) in &sources {
        let cols = cols.clone().unwrap_or_default();
        read_once.push((name.clone(), read(engine, plan, name, base, &cols).await));
    }
    let rows = |name: &str| {
        read_once
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| Err(format!("unknown source `{name}`")))
    };
    let mut cache = Cache::new();
    tests
        .iter()
        .map(|t| {
            let mut result = TestResult::new(TestKind::Drift, &t.name, Some(&t.current));
            match (rows(&t.reference), rows(&t.current)) {
                (Ok(reference), Ok(current)) => {
                    result.rows = Some(current.num_rows() as u64);
                    result.findings = findings(t, &reference, &current, &mut cache);
                    result.status = TestResult::status_of(&result.findings);
                }
                (Err(e), _) | (_, Err(e)) => result.error = Some(e),
            }
            result
        })
        .collect()
}

fn findings(
    t: &DriftDecl,
    reference: &RecordBatch,
    current: &RecordBatch,
    cache: &mut Cache,
) -> Vec<Finding> {
    let mut values = |source: &str, name: &str, col: &ArrayRef, numbers: bool| {
        cache
            .entry((source.to_string(), name.to_string(), numbers))
            .or_insert_with(|| values(col, numbers))
            .clone()
    };
    let (rs, cs) = (reference.schema(), current.schema());
    let names: Vec<String> = if t.columns.is_empty() {
        let mut n: Vec<String> = rs.fields().iter().map(|f| f.name().clone()).collect();
        for f in cs.fields() {
            if !n.contains(f.name()) {
                n.push(f.name().clone());
            }
        }
        n
    } else {
        t.columns.clone()
    };
    let mut out = Vec::new();
    let mut verdicts: Vec<(usize, Verdict)> = Vec::new();
    type Job = (usize, String, String, Option<f64>, Values, Values);
    let mut jobs: Vec<Job> = Vec::new();
    for name in names.iter().filter(|n| !t.ignore.contains(n)) {
        let mut f = Finding::new("drift", Status::Error, t.severity);
        f.column = Some(name.clone());
        let (Some(a), Some(b)) = (reference.column_by_name(name), current.column_by_name(name))
        else {
            let side = if reference.column_by_name(name).is_none() {
                "reference"
            } else {
                "current"
            };
            f.error = Some(format!("column `{name}` is missing in the {side} data"));
            out.push(f);
            continue;
        };
        let (ta, tb) = (a.data_type(), b.data_type());
        if numeric(ta) != numeric(tb) {
            f.error = Some(format!(
                "column `{name}` changed type: {ta} in the reference, {tb} in the current data"
            ));
            out.push(f);
            continue;
        }
        let per = t.per_column.iter().find(|c| &c.column == name);
        let method = per
            .and_then(|c| c.method.clone())
            .unwrap_or_else(|| t.method.clone());
        // Numeric with few distinct values, or a categorical method asked for: categories.
        let as_numbers = (numeric(ta) && !matches!(method.as_str(), "chi2" | "linf"))
            .then(|| values(&t.reference, name, a, true))
            .filter(|r| {
                matches!(r, Ok(Values::Num(v)) if distinct(v, CATEGORICAL_DISTINCT) > CATEGORICAL_DISTINCT)
            });
        let numbers = as_numbers.is_some();
        let va = as_numbers.unwrap_or_else(|| values(&t.reference, name, a, false));
        let (va, vb) = match (va, values(&t.current, name, b, numbers)) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(e), _) | (_, Err(e)) => {
                f.error = Some(format!("column `{name}`: {e}"));
                out.push(f);
                continue;
            }
        };
        let len = |v: &Values| match v {
            Values::Num(x) => x.len(),
            Values::Cat(x) => x.len() - x.null_count(),
        };
        if len(&va) == 0 || len(&vb) == 0 {
            f.error = Some(format!(
                "column `{name}` has no values in the {} data (all null or empty)",
                if len(&va) == 0 {
                    "reference"
                } else {
                    "current"
                }
            ));
            out.push(f);
            continue;
        }
        let method = if method == "auto" {
            match (numbers, len(&va) <= AUTO_TEST_ROWS) {
                (true, true) => "ks",
                (true, false) => "wasserstein",
                (false, true) => "chi2",
                (false, false) => "js",
            }
            .to_string()
        } else {
            method
        };
        // Measured below, all columns at once.
        jobs.push((
            out.len(),
            name.clone(),
            method,
            per.and_then(|c| c.threshold).or(t.threshold),
            va,
            vb,
        ));
        out.push(f);
    }
    // Columns are independent: measure them on all cores.
    type Measured = (
        usize,
        String,
        Result<Verdict, String>,
        Option<serde_json::Value>,
    );
    let measured: Vec<Measured> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(i, name, method, threshold, va, vb)| {
                scope.spawn(move || {
                    (
                        *i,
                        name.clone(),
                        measure(method, *threshold, va, vb),
                        plot(va, vb),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(&jobs)
            .map(|(h, job)| {
                h.join().unwrap_or_else(|_| {
                    (
                        job.0,
                        job.1.clone(),
                        Err("the measurement panicked".into()),
                        None,
                    )
                })
            })
            .collect()
    });
    for (i, name, r, chart) in measured {
        out[i].plot = chart;
        match r {
            Ok(v) if v.score().is_nan() => {
                out[i].error = Some(format!("column `{name}`: {} is not defined here", v.method));
            }
            Ok(v) => verdicts.push((i, v)),
            Err(e) => out[i].error = Some(format!("column `{name}`: {e}")),
        }
    }
    // Multiple-testing correction over the p-value columns.
    let p: Vec<f64> = verdicts.iter().filter_map(|(_, v)| v.pvalue).collect();
    let adjusted = match t.correction.as_str() {
        "bonferroni" => d::bonferroni(&p),
        "bh" => d::benjamini_hochberg(&p),
        _ => p.clone(),
    };
    let mut adj = adjusted.into_iter();
    let mut drifted = 0usize;
    for (i, v) in &mut verdicts {
        if v.pvalue.is_some() {
            v.pvalue = adj.next();
        }
        let f = &mut out[*i];
        f.check = v.method.clone();
        let is_drift = v.drifted();
        drifted += usize::from(is_drift);
        f.observed = match v.pvalue {
            Some(pv) => json!({ "statistic": stable_f64(v.statistic), "p_value": stable_f64(pv) }),
            None => json!(stable_f64(v.statistic)),
        };
        f.expected = match v.pvalue {
            Some(_) => format!(
                "p-value >= {}{} (no drift)",
                v.threshold,
                match t.correction.as_str() {
                    "bonferroni" => ", Bonferroni-adjusted",
                    "bh" => ", Benjamini–Hochberg-adjusted",
                    _ => "",
                }
            ),
            None => format!("{} < {} (no drift)", v.method, v.threshold),
        };
        // A drifted column is reported; the dataset verdict decides the test.
        f.status = if is_drift {
            Status::Warned
        } else {
            Status::Passed
        };
    }
    let judged = verdicts.len();
    let mut verdict = Finding::new("dataset_drift", Status::Error, t.severity);
    if judged == 0 {
        verdict.error = Some("no column could be compared".into());
    } else {
        let share = drifted as f64 / judged as f64;
        verdict.element_count = Some(judged as u64);
        verdict.unexpected_count = Some(drifted as u64);
        verdict.unexpected_fraction = Some(share);
        verdict.observed = json!(stable_f64(share));
        verdict.expected = format!(
            "share of drifted columns < {} (observed: {drifted} of {judged})",
            t.max_drifted_share
        );
        verdict.status = Finding::verdict(share < t.max_drifted_share, t.severity);
    }
    out.push(verdict);
    out
}
