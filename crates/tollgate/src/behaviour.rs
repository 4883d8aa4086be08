//! Behavioural tests of a model's learned logic (`behaviour:`): perturb a source's raw rows,
//! recompute the model's inputs from them with the same SQL, and expect the score to stay put
//! (invariance) or to move one way (directional expectation); or run a table of cases whose
//! answers are known (minimum functionality).

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use serde_json::{Value, json};
use tollgate_core::finding::{SampleRow, stable_f64};
use tollgate_core::plan::{BehaviourDecl, CaseDecl, ExpectDecl, ModelDecl, OutputDecl};
use tollgate_core::{Finding, Plan, Status, TestKind, TestResult};
use tollgate_data::Engine;
use tollgate_data::perturb::{self, CaseKind, Perturbation};
use tollgate_data::profile::json_cell;
use tollgate_model::runner::Model;

use crate::{build_model, features_of};

/// A number for the report (12 significant digits; NaN as null).
fn num(x: f64) -> Value {
    json!(stable_f64(x))
}

/// Examples shown per finding.
const WORST: usize = 5;

/// The plan's perturbation, as the data crate takes it.
fn perturbation(kind: &str, args: &Value) -> Result<Vec<Perturbation>, String> {
    let pairs = || -> Result<Vec<(String, Value)>, String> {
        match args {
            Value::Object(m) if !m.is_empty() => {
                Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            _ => Err(format!("`{kind}` takes a map of column to argument")),
        }
    };
    let columns = || -> Result<Vec<String>, String> {
        match args {
            Value::String(c) => Ok(vec![c.clone()]),
            Value::Array(cs) if !cs.is_empty() => cs
                .iter()
                .map(|c| {
                    c.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("`{kind}` takes column names"))
                })
                .collect(),
            _ => Err(format!("`{kind}` takes a column or a list of columns")),
        }
    };
    let number = |v: &Value, what: &str| {
        v.as_f64()
            .ok_or_else(|| format!("`{kind}` of `{what}` must be a number, not {v}"))
    };
    Ok(match kind {
        "set" => pairs()?
            .into_iter()
            .map(|(column, value)| Perturbation::Set { column, value })
            .collect(),
        "replace" => pairs()?
            .into_iter()
            .map(|(column, v)| match v {
                Value::Array(values) => Ok(Perturbation::Replace { column, values }),
                _ => Err(format!("`replace` of `{column}` takes a list of values")),
            })
            .collect::<Result<_, _>>()?,
        "shift" | "scale" | "noise" => pairs()?
            .into_iter()
            .map(|(column, v)| {
                let by = number(&v, &column)?;
                Ok(match kind {
                    "shift" => Perturbation::Shift { column, by },
                    "scale" => Perturbation::Scale { column, by },
                    _ => Perturbation::Noise { column, std: by },
                })
            })
            .collect::<Result<_, String>>()?,
        "set_null" => columns()?
            .into_iter()
            .map(|column| Perturbation::SetNull { column })
            .collect(),
        "shuffle" => columns()?
            .into_iter()
            .map(|column| Perturbation::Shuffle { column })
            .collect(),
        "whitespace" => columns()?
            .into_iter()
            .map(|column| Perturbation::Whitespace { column })
            .collect(),
        "typo" => columns()?
            .into_iter()
            .map(|column| Perturbation::Typo { column })
            .collect(),
        "swap" => match columns()?.as_slice() {
            [a, b] => vec![Perturbation::Swap {
                a: a.clone(),
                b: b.clone(),
            }],
            _ => return Err("`swap` takes two columns: `[a, b]`".into()),
        },
        "map" => pairs()?
            .into_iter()
            .map(|(column, v)| match v {
                Value::Object(m) => Ok(Perturbation::Map {
                    column,
                    mapping: m.into_iter().collect(),
                }),
                _ => Err(format!(
                    "`map` of `{column}` takes a map of old value to new value"
                )),
            })
            .collect::<Result<_, _>>()?,
        "case" => pairs()?
            .into_iter()
            .map(|(column, v)| {
                let to = match v.as_str() {
                    Some("upper") => CaseKind::Upper,
                    Some("lower") => CaseKind::Lower,
                    Some("title") => CaseKind::Title,
                    _ => {
                        return Err(format!(
                            "`case` of `{column}` is `upper`, `lower` or `title`"
                        ));
                    }
                };
                Ok(Perturbation::Case { column, to })
            })
            .collect::<Result<_, _>>()?,
        other => return Err(format!("unknown perturbation `{other}`")),
    })
}

/// The score of one prediction, as the model's `output` defines it.
fn score(m: &ModelDecl, p: &[f64]) -> Result<f64, String> {
    match m.output {
        OutputDecl::ProbabilityOf(k) if p.len() > 1 => p.get(k).copied().ok_or_else(|| {
            format!(
                "`probability_of: {k}` but the model answers {} numbers per row",
                p.len()
            )
        }),
        _ if p.len() == 1 => Ok(p[0]),
        _ => Err(format!(
            "the model answers {} numbers per row; name the class with `output: {{ probability_of: K }}`",
            p.len()
        )),
    }
}

async fn scores(
    engine: &Engine,
    m: &ModelDecl,
    model: &dyn Model,
    rows: &RecordBatch,
) -> Result<Vec<f64>, String> {
    let data = engine
        .exprs_over(rows.clone(), &m.inputs)
        .await
        .map_err(|e| e.to_string())?;
    let x = features_of(m, data);
    let preds = model
        .predict(&x)
        .map_err(|e| format!("{}: {e}", model.describe()))?;
    if preds.len() != rows.num_rows() {
        return Err(format!(
            "{} answered {} predictions for {} rows",
            model.describe(),
            preds.len(),
            rows.num_rows()
        ));
    }
    preds.iter().map(|p| score(m, p)).collect()
}

fn row_json(batch: &RecordBatch, row: usize) -> serde_json::Map<String, Value> {
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| (f.name().clone(), json_cell(c, row)))
        .collect()
}

/// Run one behavioural test of a plan.
pub async fn run_behaviour(
    engine: &Engine,
    plan: &Plan,
    b: &BehaviourDecl,
    base: &Path,
) -> TestResult {
    match behaviour(engine, plan, b, base).await {
        Ok(r) => r,
        Err(e) => TestResult {
            error: Some(e),
            ..TestResult::new(TestKind::Behaviour, &b.name, Some(&b.source))
        },
    }
}

async fn behaviour(
    engine: &Engine,
    plan: &Plan,
    b: &BehaviourDecl,
    base: &Path,
) -> Result<TestResult, String> {
    let m = plan
        .models
        .iter()
        .find(|m| m.name == b.model)
        .ok_or_else(|| format!("unknown model `{}`", b.model))?;
    let source = plan
        .sources
        .iter()
        .find(|s| s.name == b.source)
        .ok_or_else(|| format!("unknown source `{}`", b.source))?;
    let model = build_model(m, base);
    if !b.cases.is_empty() {
        let empty = engine
            .read_rows(source, base, Some(0))
            .await
            .map_err(|e| e.to_string())?;
        return cases(engine, b, m, model.as_ref(), &empty).await;
    }
    let mut ps = Vec::new();
    for (kind, args, pos) in &b.perturb {
        ps.extend(
            perturbation(kind, args)
                .map_err(|e| format!("perturb at line {}, column {}: {e}", pos.line, pos.col))?,
        );
    }
    let all = engine
        .read_rows(source, base, b.rows)
        .await
        .map_err(|e| e.to_string())?;
    // Rows in the source, for the examples: every row, or those meeting `where`.
    let (rows, positions): (RecordBatch, Vec<usize>) = match &b.where_sql {
        None => (all.clone(), (0..all.num_rows()).collect()),
        Some(cond) => {
            let mask = engine
                .mask_over(all.clone(), cond)
                .await
                .map_err(|e| e.to_string())?;
            let keep = BooleanArray::from(mask.clone());
            let picked = filter_record_batch(&all, &keep).map_err(|e| e.to_string())?;
            let pos = mask
                .iter()
                .enumerate()
                .filter(|(_, m)| **m)
                .map(|(i, _)| i)
                .collect();
            (picked, pos)
        }
    };
    let mut result = TestResult {
        rows: Some(rows.num_rows() as u64),
        ..TestResult::new(TestKind::Behaviour, &b.name, Some(&b.source))
    };
    let Some(expect) = &b.expect else {
        return Err("a perturbation needs `expect`".into());
    };
    let check = match expect {
        ExpectDecl::Unchanged { .. } => "unchanged",
        ExpectDecl::Direction { up: true, .. } => "increase",
        ExpectDecl::Direction { up: false, .. } => "decrease",
    };
    let mut f = Finding::new(check, Status::Error, b.severity);
    if rows.num_rows() == 0 {
        // Nothing was tested: a warning, never a pass.
        f.status = Status::Warned;
        f.element_count = Some(0);
        f.expected = match &b.where_sql {
            Some(w) => format!(
                "rows of `{}` meeting `where: {w}` to test; there are none",
                b.source
            ),
            None => format!("rows of `{}` to test; it has none", b.source),
        };
        f.observed = json!(0);
        result.findings.push(f);
        result.status = Status::Warned;
        return Ok(result);
    }
    let perturbed =
        perturb::apply_all(&rows, &ps, None, b.seed).map_err(|e| format!("perturb: {e}"))?;
    let before = scores(engine, m, model.as_ref(), &rows).await?;
    let after = scores(engine, m, model.as_ref(), &perturbed).await?;
    // How far each row is from meeting the expectation (> 0: broken).
    let miss: Vec<f64> = before
        .iter()
        .zip(&after)
        .map(|(x, y)| shortfall(expect, *x, *y))
        .collect();
    let n = miss.len();
    let broken = miss.iter().filter(|m| **m > 0.0).count();
    let kept = (n - broken) as f64 / n as f64;
    f.element_count = Some(n as u64);
    f.unexpected_count = Some(broken as u64);
    f.unexpected_fraction = Some(broken as f64 / n as f64);
    f.observed = num(kept);
    f.expected = match expect {
        ExpectDecl::Unchanged { tolerance } => {
            format!("|score change| <= {tolerance}")
        }
        ExpectDecl::Direction {
            up,
            min_delta,
            strict,
        } => format!(
            "score {} by {} {min_delta}",
            if *up { "rises" } else { "falls" },
            if *strict { "more than" } else { "at least" }
        ),
    } + &if b.mostly < 1.0 {
        format!(
            " for at least {}% of rows (observed: the share)",
            b.mostly * 100.0
        )
    } else {
        " for every row (observed: the share)".to_string()
    };
    f.status = Finding::verdict(kept >= b.mostly, b.severity);
    // The worst examples: original row, what changed, both scores.
    let mut order: Vec<usize> = (0..n).filter(|&i| miss[i] > 0.0).collect();
    order.sort_by(|&i, &j| miss[j].total_cmp(&miss[i]).then(i.cmp(&j)));
    for &i in order.iter().take(WORST) {
        let original = row_json(&rows, i);
        let changed = row_json(&perturbed, i);
        let mut values = serde_json::Map::new();
        values.insert("score_before".into(), num(before[i]));
        values.insert("score_after".into(), num(after[i]));
        for (k, v) in &changed {
            if original.get(k) != Some(v) {
                values.insert(
                    k.clone(),
                    json!({ "from": original.get(k).cloned().unwrap_or(Value::Null), "to": v }),
                );
            }
        }
        values.insert("row".into(), Value::Object(original));
        f.sample.push(SampleRow {
            row: Some(positions[i] as u64),
            values,
        });
    }
    result.findings.push(f);
    result.status = TestResult::status_of(&result.findings);
    Ok(result)
}

/// How far a score change is from meeting the expectation: > 0 breaks it (NaN scores always do).
fn shortfall(expect: &ExpectDecl, before: f64, after: f64) -> f64 {
    // Bounds are met up to rounding: |0.49 - 0.5| is 0.010000000000000009 in binary.
    const EPS: f64 = 1e-12;
    let d = after - before;
    let m = match expect {
        ExpectDecl::Unchanged { tolerance } => d.abs() - tolerance - EPS,
        ExpectDecl::Direction {
            up,
            min_delta,
            strict,
        } => {
            let moved = if *up { d } else { -d };
            let short = min_delta - moved;
            // Strict: moving exactly `min_delta` is not enough.
            if *strict { short + EPS } else { short - EPS }
        }
    };
    if m.is_nan() { f64::INFINITY } else { m }
}

/// One string array per column from the cases' values, cast to the source's types.
fn case_batch(empty: &RecordBatch, cases: &[CaseDecl]) -> Result<RecordBatch, String> {
    let schema = empty.schema();
    for c in cases {
        for k in c.row.keys() {
            if schema.field_with_name(k).is_err() {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(format!(
                    "the case at line {} names column `{k}`, which the source does not have (its columns: {})",
                    c.pos.line,
                    names.join(", ")
                ));
            }
        }
    }
    let mut columns: Vec<ArrayRef> = Vec::new();
    for field in schema.fields() {
        let text: StringArray = cases
            .iter()
            .map(|c| match c.row.get(field.name()) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(v) => Some(v.to_string()),
            })
            .collect();
        let opts = CastOptions {
            safe: false,
            ..CastOptions::default()
        };
        let col = cast_with_options(&text, field.data_type(), &opts).map_err(|e| {
            format!(
                "a case's value of `{}` is not {}: {e}",
                field.name(),
                field.data_type()
            )
        })?;
        columns.push(col);
    }
    let relaxed = Arc::new(datafusion::arrow::datatypes::Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    RecordBatch::try_new(relaxed, columns).map_err(|e| e.to_string())
}

async fn cases(
    engine: &Engine,
    b: &BehaviourDecl,
    m: &ModelDecl,
    model: &dyn Model,
    empty: &RecordBatch,
) -> Result<TestResult, String> {
    let rows = case_batch(empty, &b.cases)?;
    let got = scores(engine, m, model, &rows).await?;
    let mut f = Finding::new("cases", Status::Error, b.severity);
    let mut failing = Vec::new();
    for (i, (c, s)) in b.cases.iter().zip(&got).enumerate() {
        let label_ok = c
            .label
            .is_none_or(|l| f64::from(u8::from(*s >= b.threshold)) == l);
        let score_ok = c
            .score
            .is_none_or(|(lo, hi)| lo.is_none_or(|lo| *s >= lo) && hi.is_none_or(|hi| *s <= hi));
        if !(label_ok && score_ok && s.is_finite()) {
            failing.push(i);
        }
    }
    let n = b.cases.len();
    let kept = (n - failing.len()) as f64 / n as f64;
    f.element_count = Some(n as u64);
    f.unexpected_count = Some(failing.len() as u64);
    f.unexpected_fraction = Some(failing.len() as f64 / n as f64);
    f.observed = num(kept);
    f.expected = format!(
        "each case's label (score >= {}) or score range as written, for {} of cases (observed: the share)",
        b.threshold,
        if b.mostly < 1.0 {
            format!("at least {}%", b.mostly * 100.0)
        } else {
            "all".to_string()
        }
    );
    f.status = Finding::verdict(kept >= b.mostly, b.severity);
    for &i in failing.iter().take(WORST) {
        let c = &b.cases[i];
        let mut values = serde_json::Map::new();
        values.insert("line".into(), json!(c.pos.line));
        values.insert("score".into(), num(got[i]));
        if let Some(l) = c.label {
            values.insert("expected_label".into(), num(l));
        }
        if let Some((lo, hi)) = c.score {
            values.insert(
                "expected_score".into(),
                json!({ "at_least": lo, "at_most": hi }),
            );
        }
        values.insert("row".into(), Value::Object(c.row.clone()));
        f.sample.push(SampleRow {
            row: Some(i as u64),
            values,
        });
    }
    Ok(TestResult {
        status: TestResult::status_of(std::slice::from_ref(&f)),
        rows: Some(n as u64),
        findings: vec![f],
        ..TestResult::new(TestKind::Behaviour, &b.name, Some(&b.source))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(up: bool, min_delta: f64, strict: bool) -> ExpectDecl {
        ExpectDecl::Direction {
            up,
            min_delta,
            strict,
        }
    }

    #[test]
    fn expectations_break_where_they_should() {
        let broken = |e: &ExpectDecl, a: f64, b: f64| shortfall(e, a, b) > 0.0;
        let same = ExpectDecl::Unchanged { tolerance: 0.01 };
        assert!(!broken(&same, 0.5, 0.505));
        assert!(!broken(&same, 0.5, 0.49));
        assert!(broken(&same, 0.5, 0.52));
        assert!(
            broken(&same, 0.5, f64::NAN),
            "NaN never meets an expectation"
        );
        // Strict increase: no change breaks it; non-strict: no change is fine.
        assert!(broken(&dir(true, 0.0, true), 0.5, 0.5));
        assert!(!broken(&dir(true, 0.0, false), 0.5, 0.5));
        assert!(!broken(&dir(true, 0.0, true), 0.5, 0.6));
        assert!(broken(&dir(true, 0.0, false), 0.5, 0.4));
        // By at least / more than min_delta.
        assert!(broken(&dir(true, 0.25, true), 0.5, 0.75));
        assert!(!broken(&dir(true, 0.25, false), 0.5, 0.75));
        assert!(broken(&dir(true, 0.3, false), 0.5, 0.7));
        // Decrease mirrors increase.
        assert!(!broken(&dir(false, 0.1, true), 0.5, 0.3));
        assert!(broken(&dir(false, 0.1, true), 0.5, 0.45));
        assert!(broken(&dir(false, 0.0, true), 0.5, 0.6));
        // The worst rows come first: a bigger shortfall for a bigger miss.
        assert!(shortfall(&same, 0.5, 0.9) > shortfall(&same, 0.5, 0.6));
    }

    #[test]
    fn plan_perturbations_become_the_data_crate_s() {
        let p = perturbation("shift", &json!({ "Fare": 2.5, "Age": -1 })).expect("shift");
        assert_eq!(p.len(), 2);
        assert!(
            matches!(&p[0], Perturbation::Shift { column, by } if column == "Fare" && *by == 2.5)
        );
        assert!(perturbation("swap", &json!(["a"])).is_err());
        assert!(
            perturbation("case", &json!({ "Name": "sideways" }))
                .is_err_and(|e| e.contains("upper"))
        );
        assert!(
            perturbation("replace", &json!({ "Name": "x" })).is_err_and(|e| e.contains("list"))
        );
        assert_eq!(
            perturbation("typo", &json!(["a", "b"])).map(|p| p.len()),
            Ok(2)
        );
    }
}
