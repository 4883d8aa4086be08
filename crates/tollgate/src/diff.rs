//! Diffs (`diffs:` and `tollgate diff`): what differs between an expected and an actual
//! dataset, as findings.
//!
//! Findings, in order: `column_removed`, `column_added`, `column_retyped` (one per column),
//! `row_count`, `duplicate_keys`, `keys_only_in_expected`, `keys_only_in_actual`, then
//! `values_equal` per compared column (mismatching rows of the rows matched on the key, with
//! samples of key, expected and actual). Any difference fails the test (`severity` applies).

use std::path::Path;

use serde_json::{Map, Value, json};
use tollgate_core::finding::SampleRow;
use tollgate_core::plan::DiffDecl;
use tollgate_core::{Finding, Plan, SourceDecl, Status, TestKind, TestResult};
use tollgate_data::Engine;
use tollgate_data::diff::{DiffOptions, DiffResult};

/// The source a diff side names: a declared source, or a path relative to the plan.
fn side(plan: &Plan, name: &str) -> SourceDecl {
    plan.sources
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .unwrap_or_else(|| SourceDecl::file(name, name))
}

/// The options of a declared diff.
pub fn options(d: &DiffDecl) -> DiffOptions {
    DiffOptions {
        key: d.key.clone(),
        columns: (!d.columns.is_empty()).then(|| d.columns.clone()),
        ignore: d.ignore.clone(),
        abs: d.abs,
        rel: d.rel,
        per_column: d.per_column.clone(),
        samples: d.samples,
    }
}

/// Run one diff of a plan.
pub async fn run_diff(engine: &Engine, plan: &Plan, d: &DiffDecl, base: &Path) -> TestResult {
    let (expected, actual) = (side(plan, &d.expected), side(plan, &d.actual));
    let mut result = TestResult::new(TestKind::Diff, &d.name, Some(&actual.name));
    match engine.diff(&expected, &actual, base, &options(d)).await {
        Ok(r) => {
            result.rows = Some(r.actual_rows);
            result.findings = findings(&r, d);
            result.status = TestResult::status_of(&result.findings);
        }
        Err(e) => result.error = Some(e.to_string()),
    }
    result
}

fn samples(rows: &[Map<String, Value>]) -> Vec<SampleRow> {
    rows.iter()
        .map(|m| SampleRow {
            row: None,
            values: m.clone(),
        })
        .collect()
}

/// The findings of a diff.
pub fn findings(r: &DiffResult, d: &DiffDecl) -> Vec<Finding> {
    let sev = d.severity;
    let mut out = Vec::new();
    let finding = |check: &str, ok: bool| Finding::new(check, Finding::verdict(ok, sev), sev);
    for (c, t) in &r.removed {
        let mut f = finding("column_removed", false);
        f.column = Some(c.clone());
        f.observed = json!("missing");
        f.expected = format!("column `{c}` ({t}), as in the expected data");
        out.push(f);
    }
    for (c, t) in &r.added {
        let mut f = finding("column_added", d.added_columns_ignored);
        f.column = Some(c.clone());
        f.observed = json!(t);
        f.expected = if d.added_columns_ignored {
            "columns only in the actual data are allowed (`added_columns: ignore`)".into()
        } else {
            "no column beyond the expected data's".into()
        };
        out.push(f);
    }
    for (c, from, to) in &r.retyped {
        let mut f = finding("column_retyped", false);
        f.column = Some(c.clone());
        f.observed = json!(to);
        f.expected = format!("type {from}, as in the expected data");
        out.push(f);
    }
    let mut f = finding("row_count", r.expected_rows == r.actual_rows);
    f.observed = json!(r.actual_rows);
    f.expected = format!("{} rows, as in the expected data", r.expected_rows);
    out.push(f);
    if r.duplicate_keys != (0, 0) {
        let mut f = finding("duplicate_keys", false);
        f.columns = Some(d.key.clone());
        f.observed = json!({ "expected": r.duplicate_keys.0, "actual": r.duplicate_keys.1 });
        f.expected = "every key once on each side (values are not compared until then)".into();
        f.sample = samples(&r.duplicate_samples);
        out.push(f);
    }
    for (check, n, side) in [
        ("keys_only_in_expected", r.only_expected, "expected"),
        ("keys_only_in_actual", r.only_actual, "actual"),
    ] {
        if !r.compared {
            continue;
        }
        let mut f = finding(check, n == 0);
        f.columns = Some(d.key.clone());
        f.observed = json!(n);
        f.unexpected_count = Some(n);
        f.expected = format!("every key of the {side} data on the other side too");
        f.sample = samples(
            &r.only_samples
                .iter()
                .filter(|m| m.get("side") == Some(&json!(side)))
                .map(|m| {
                    let mut m = m.clone();
                    m.remove("side");
                    m
                })
                .collect::<Vec<_>>(),
        );
        out.push(f);
    }
    if r.compared {
        for c in &r.columns {
            let mut f = finding("values_equal", c.mismatches == 0);
            f.column = Some(c.name.clone());
            let tol = d
                .per_column
                .iter()
                .find(|(n, _, _)| n == &c.name)
                .map(|(_, a, r)| (*a, *r))
                .unwrap_or((d.abs, d.rel));
            f.expected = if tol == (0.0, 0.0) || !c.numeric {
                "equal values on rows with the same key".into()
            } else {
                format!(
                    "equal values on rows with the same key (numbers within {} + {} × |expected|)",
                    tol.0, tol.1
                )
            };
            if let Some(why) = &c.not_compared {
                f.status = Status::Error;
                f.error = Some(format!("column `{}`: {why}", c.name));
            } else {
                f.observed = json!(c.mismatches);
                f.element_count = Some(r.matched);
                f.unexpected_count = Some(c.mismatches);
                f.unexpected_fraction = Some(c.mismatches as f64 / (r.matched.max(1)) as f64);
                f.sample = samples(&c.samples);
            }
            out.push(f);
        }
    }
    out
}
