//! GitHub-flavoured Markdown for a pull-request comment: a one-line summary, the failing tests
//! in full, everything else folded in `<details>` blocks. Deterministic: no times, no paths
//! beyond those in the results.

use std::fmt::Write;

use tollgate_core::{Finding, RunReport, Status, TestResult};

use crate::{brief, cell, check_label, kind_name, num, sample_columns, subject, unexpected};

/// Failing rows shown per finding.
const SAMPLE_ROWS: usize = 5;

fn icon(s: Status) -> &'static str {
    match s {
        Status::Passed => "✅",
        Status::Warned => "⚠️",
        Status::Failed => "❌",
        Status::Error => "💥",
    }
}

/// Text safe in a table cell, a heading or a `<summary>`: no table breaks, no code spans, no
/// HTML, no emphasis, on one line.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '\\' => out.push_str("\\\\"),
            '*' => out.push_str("\\*"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Render a run as Markdown.
pub fn markdown(report: &RunReport) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} **tollgate: {}** — {} {}: {} passed, {} failed, {} warned, {} errors",
        icon(report.status),
        report.status.as_str(),
        s.tests,
        if s.tests == 1 { "test" } else { "tests" },
        s.passed,
        s.failed,
        s.warned,
        s.errors
    );
    let failing = |t: &&TestResult| matches!(t.status, Status::Failed | Status::Error);
    let failures: Vec<&TestResult> = report.tests.iter().filter(failing).collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n### Failures");
        for t in &failures {
            let _ = writeln!(out, "\n#### {}", heading(t));
            body(&mut out, t, false);
        }
    }
    // Warnings before passes: they are what a reviewer reads next.
    let rest = report
        .tests
        .iter()
        .filter(|t| t.status == Status::Warned)
        .chain(report.tests.iter().filter(|t| t.status == Status::Passed));
    for t in rest {
        let _ = writeln!(out, "\n<details><summary>{}</summary>", heading(t));
        body(&mut out, t, true);
        let _ = writeln!(out, "\n</details>");
    }
    out
}

fn heading(t: &TestResult) -> String {
    let passed = t
        .findings
        .iter()
        .filter(|f| f.status == Status::Passed)
        .count();
    let mut facts = Vec::new();
    if let Some(src) = &t.source {
        facts.push(esc(src));
    }
    if let Some(rows) = t.rows {
        facts.push(format!("{rows} rows"));
    }
    if !t.findings.is_empty() {
        facts.push(format!("{passed}/{} checks passed", t.findings.len()));
    }
    let mut h = format!(
        "{} {} {} <b>{}</b>",
        icon(t.status),
        t.status.as_str(),
        kind_name(t.kind),
        esc(&t.name)
    );
    if !facts.is_empty() {
        h.push_str(&format!(" ({})", facts.join(", ")));
    }
    h
}

/// A test's error, its findings table and the samples of its failing findings. Folded tests
/// list every finding; failing tests list only the ones that did not pass.
fn body(out: &mut String, t: &TestResult, all: bool) {
    if let Some(e) = &t.error {
        let _ = writeln!(out, "\n> {}", esc(e));
    }
    let shown: Vec<&Finding> = t
        .findings
        .iter()
        .filter(|f| all || f.status != Status::Passed)
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| | check | column | expected | observed | unexpected |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for f in &shown {
            let expected = match (&f.error, f.status) {
                (Some(e), Status::Error) => format!("error: {e}"),
                _ => f.expected.clone(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                icon(f.status),
                esc(&check_label(f)),
                esc(&subject(f)),
                esc(&expected),
                esc(&observed(f)),
                esc(&unexpected(f))
            );
        }
    }
    for f in shown
        .iter()
        .filter(|f| f.status != Status::Passed && !f.sample.is_empty())
    {
        sample(out, f);
    }
}

/// The observed value, with its confidence interval where there is one.
fn observed(f: &Finding) -> String {
    let mut s = brief(&f.observed);
    if let Some([lo, hi]) = f.interval {
        s.push_str(&format!(" [{}, {}]", num(lo), num(hi)));
    }
    s
}

fn sample(out: &mut String, f: &Finding) {
    let rows = &f.sample[..f.sample.len().min(SAMPLE_ROWS)];
    let cols = sample_columns(rows);
    let has_row = rows.iter().any(|r| r.row.is_some());
    let mut what = check_label(f);
    let col = subject(f);
    if !col.is_empty() {
        what.push(' ');
        what.push_str(&col);
    }
    let more = if f.sample.len() > rows.len() {
        format!(" (first {} of {})", rows.len(), f.sample.len())
    } else {
        String::new()
    };
    let _ = writeln!(out, "\nFailing rows of {}{more}:\n", esc(&what));
    let mut header: Vec<String> = Vec::new();
    if has_row {
        header.push("row".into());
    }
    // A behavioural sample holds the whole input row under `row`.
    header.extend(
        cols.iter()
            .map(|c| if c == "row" { "input".into() } else { esc(c) }),
    );
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let mut cells: Vec<String> = Vec::new();
        if has_row {
            cells.push(r.row.map(|n| n.to_string()).unwrap_or_default());
        }
        cells.extend(cols.iter().map(|c| esc(&cell(r.values.get(c)))));
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;
    use tollgate_core::{Finding, RunReport, SampleRow, Severity, Status, TestKind, TestResult};

    use super::*;

    fn values(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        match v {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }

    fn test(
        kind: TestKind,
        name: &str,
        source: Option<&str>,
        findings: Vec<Finding>,
    ) -> TestResult {
        let mut t = TestResult::new(kind, name, source);
        t.status = TestResult::status_of(&findings);
        t.findings = findings;
        t
    }

    /// A run with a passing suite, a failing suite with samples, a drift, a diff, an
    /// evaluation and a behaviour test; shared with the HTML tests.
    pub(crate) fn sample_report() -> RunReport {
        let mut ok = Finding::new("not_null", Status::Passed, Severity::Error);
        ok.column = Some("PassengerId".into());
        ok.observed = json!(1.0);
        ok.expected = "non-null fraction >= 1.0".into();
        ok.element_count = Some(891);
        ok.unexpected_count = Some(0);
        ok.unexpected_fraction = Some(0.0);
        let mut rows = test(TestKind::Suite, "contract", Some("passengers"), vec![ok]);
        rows.rows = Some(891);

        let mut age = Finding::new("between", Status::Failed, Severity::Error);
        age.column = Some("Age".into());
        age.observed = json!(0.9832);
        age.expected = "values in [0, 100]".into();
        age.element_count = Some(714);
        age.unexpected_count = Some(12);
        age.unexpected_fraction = Some(0.0168);
        age.sample = (0..7)
            .map(|i| SampleRow {
                row: Some(10 * i),
                values: values(json!({"PassengerId": 10 * i + 1, "Age": -1.5 - i as f64})),
            })
            .collect();
        let mut script = Finding::new("regex", Status::Warned, Severity::Warn);
        script.column = Some("<script>|`x`".into());
        script.observed = json!(0.5);
        script.expected = "matches `^[A-Z]` & <b>".into();
        script.element_count = Some(4);
        script.unexpected_count = Some(2);
        script.unexpected_fraction = Some(0.5);
        script.sample = vec![SampleRow {
            row: Some(3),
            values: values(json!({"<script>|`x`": "a|b <i>"})),
        }];
        let mut pclass = Finding::new("in_set", Status::Passed, Severity::Error);
        pclass.column = Some("Pclass".into());
        pclass.observed = json!(1.0);
        pclass.expected = "values in {1, 2, 3}".into();
        pclass.element_count = Some(891);
        pclass.unexpected_count = Some(0);
        pclass.unexpected_fraction = Some(0.0);
        let mut bad = test(
            TestKind::Suite,
            "new-batch",
            Some("batch"),
            vec![age, script, pclass],
        );
        bad.rows = Some(891);

        let mut sex = Finding::new("chi2", Status::Passed, Severity::Error);
        sex.column = Some("Sex".into());
        sex.observed = json!({"statistic": 0.0054, "p_value": 0.9417});
        sex.expected = "p-value >= 0.05 (no drift)".into();
        let mut fare = Finding::new("psi", Status::Failed, Severity::Error);
        fare.column = Some("Fare".into());
        fare.observed = json!(0.4123);
        fare.expected = "psi < 0.25 (no drift)".into();
        let mut share = Finding::new("dataset_drift", Status::Passed, Severity::Error);
        share.observed = json!(0.5);
        share.expected = "share of drifted columns < 0.75 (observed: 1 of 2)".into();
        share.element_count = Some(2);
        share.unexpected_count = Some(1);
        share.unexpected_fraction = Some(0.5);
        let mut drift = test(
            TestKind::Drift,
            "split",
            Some("test"),
            vec![sex, fare, share],
        );
        drift.rows = Some(179);

        let mut keys = Finding::new("keys_only_in_expected", Status::Failed, Severity::Error);
        keys.columns = Some(vec!["PassengerId".into()]);
        keys.observed = json!(2);
        keys.expected = "every key of the expected data on the other side too".into();
        keys.unexpected_count = Some(2);
        keys.sample = vec![
            SampleRow {
                row: None,
                values: values(json!({"PassengerId": 7})),
            },
            SampleRow {
                row: None,
                values: values(json!({"PassengerId": 9})),
            },
        ];
        let mut fare_eq = Finding::new("values_equal", Status::Failed, Severity::Error);
        fare_eq.column = Some("Fare".into());
        fare_eq.observed = json!(3);
        fare_eq.expected = "equal values on rows with the same key".into();
        fare_eq.element_count = Some(889);
        fare_eq.unexpected_count = Some(3);
        fare_eq.unexpected_fraction = Some(0.0034);
        fare_eq.sample = vec![SampleRow {
            row: None,
            values: values(
                json!({"PassengerId": 2, "Fare": {"expected": 71.2833, "actual": 71.28}}),
            ),
        }];
        let mut name_eq = Finding::new("values_equal", Status::Passed, Severity::Error);
        name_eq.column = Some("Name".into());
        name_eq.observed = json!(0);
        name_eq.expected = "equal values on rows with the same key".into();
        name_eq.element_count = Some(889);
        name_eq.unexpected_count = Some(0);
        name_eq.unexpected_fraction = Some(0.0);
        let diff = test(
            TestKind::Diff,
            "rebuild",
            None,
            vec![keys, fare_eq, name_eq],
        );

        let mut acc = Finding::new("accuracy", Status::Passed, Severity::Error);
        acc.observed = json!(0.8659);
        acc.expected = "accuracy >= 0.82".into();
        acc.element_count = Some(179);
        acc.interval = Some([0.8156, 0.9108]);
        let mut auc = Finding::new("roc_auc", Status::Warned, Severity::Warn);
        auc.observed = json!(0.7712);
        auc.expected = "roc_auc >= 0.8".into();
        auc.element_count = Some(64);
        auc.slice = Some(values(json!({"Sex": "female"})));
        let eval = test(
            TestKind::Evaluation,
            "tree-test",
            Some("test"),
            vec![acc, auc],
        );

        let mut inc = Finding::new("increase", Status::Warned, Severity::Warn);
        inc.observed = json!(0.6145);
        inc.expected =
            "score rises by at least 0 for at least 90% of rows (observed: the share)".into();
        inc.element_count = Some(179);
        inc.unexpected_count = Some(69);
        inc.unexpected_fraction = Some(0.3855);
        inc.sample = vec![SampleRow {
            row: Some(102),
            values: values(json!({
                "score_before": 0.5024, "score_after": 0.2402,
                "Fare": {"from": 26.55, "to": 53.1},
                "row": {"PassengerId": 461, "Name": "Anderson, Mr. Harry", "Fare": 26.55}
            })),
        }];
        let behaviour = test(
            TestKind::Behaviour,
            "higher-fare",
            Some("passengers"),
            vec![inc],
        );

        let mut broken = TestResult::new(TestKind::ModelCheck, "smoke", Some("passengers"));
        broken.error = Some("cannot load model.onnx: no such file".into());

        RunReport::new(vec![rows, bad, drift, diff, eval, behaviour, broken])
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown(&sample_report()));
    }

    #[test]
    fn cells_cannot_break_the_table() {
        let md = markdown(&sample_report());
        assert!(md.contains("&lt;script&gt;\\|\\`x\\`"), "{md}");
        assert!(!md.contains("<script>"), "{md}");
        assert!(!md.contains("<i>"), "{md}");
    }

    #[test]
    fn failures_come_first_and_samples_are_short() {
        let md = markdown(&sample_report());
        let fail = md.find("new-batch").expect("failing suite");
        let pass = md.find("contract").expect("passing suite");
        assert!(fail < pass, "{md}");
        assert!(md.contains("(first 5 of 7)"), "{md}");
        assert!(
            !md.contains("| 60 |"),
            "the 6th sample row is not shown: {md}"
        );
        assert!(
            md.starts_with(
                "💥 **tollgate: error** — 7 tests: 1 passed, 3 failed, 2 warned, 1 errors\n"
            ),
            "{md}"
        );
    }
}
