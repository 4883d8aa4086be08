//! What a run found: findings, test results and the whole run, independent of how they were
//! computed or shown. These types serialize to the public JSON contract (`tollgate.results/v1`).

use serde::Serialize;
use serde_json::Value;

/// Outcome of a finding, a test or a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The expectation holds.
    Passed,
    /// A `warn` severity expectation does not hold.
    Warned,
    /// An `error` severity expectation does not hold.
    Failed,
    /// The check could not be evaluated (e.g. a regex on a numeric column).
    Error,
}

impl Status {
    /// The lower-case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Warned => "warned",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }
}

/// How much a failed expectation matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the run.
    #[default]
    Error,
    /// Reported, but the run still passes (unless `--fail-on warn`).
    Warn,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        }
    }
}

/// One failing row in a sample: its 0-based row number and the values of interest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleRow {
    /// 0-based position of the row in the source (files in name order); absent where rows
    /// have no position (a diff's rows are named by their key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// Column name to value (id columns first, then the checked columns).
    pub values: serde_json::Map<String, Value>,
}

/// One judged expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Native check name (`not_null`, `between`, ...).
    pub check: String,
    /// The Great Expectations expectation type, for imported expectations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gx_type: Option<String>,
    /// The user's name of the check, where it has one (row conditions, custom aggregates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The column checked, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The columns checked, for checks over several columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// The outcome.
    pub status: Status,
    /// The declared severity.
    pub severity: Severity,
    /// The measured value.
    pub observed: Value,
    /// The expectation, as a sentence.
    pub expected: String,
    /// Rows considered (non-null values for value checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_count: Option<u64>,
    /// Rows or values that broke the expectation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected_count: Option<u64>,
    /// `unexpected_count / element_count`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected_fraction: Option<f64>,
    /// Nulls in the checked column, where that is informative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_count: Option<u64>,
    /// The slice of rows a metric was computed on (`{"Sex": "male"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<serde_json::Map<String, Value>>,
    /// A bootstrap confidence interval of the observed value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// A few failing rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample: Vec<SampleRow>,
    /// Why the check could not be evaluated (status `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Data for a chart of the finding, small and bounded (reports draw it): `kind` is
    /// `histograms` or `bars` (drift: reference and current), `roc`, `pr`, `calibration`,
    /// `confusion` (evaluation), `histogram` (latency).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plot: Option<Value>,
}

impl Finding {
    /// A finding with the given check and outcome and nothing else filled in.
    pub fn new(check: &str, status: Status, severity: Severity) -> Self {
        Finding {
            check: check.to_string(),
            gx_type: None,
            name: None,
            column: None,
            columns: None,
            status,
            severity,
            observed: Value::Null,
            expected: String::new(),
            element_count: None,
            unexpected_count: None,
            unexpected_fraction: None,
            missing_count: None,
            slice: None,
            interval: None,
            sample: Vec::new(),
            error: None,
            plot: None,
        }
    }

    /// The status a pass/fail verdict gets under a severity.
    pub fn verdict(ok: bool, severity: Severity) -> Status {
        match (ok, severity) {
            (true, _) => Status::Passed,
            (false, Severity::Error) => Status::Failed,
            (false, Severity::Warn) => Status::Warned,
        }
    }
}

/// The kind of a test in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// A data suite.
    Suite,
    /// Drift between two sources.
    Drift,
    /// Model smoke checks.
    ModelCheck,
    /// Pre-train checks.
    Pretrain,
    /// Behavioural tests.
    Behaviour,
    /// Evaluation gates.
    Evaluation,
    /// Dataset diff.
    Diff,
}

/// The result of one named test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestResult {
    /// Kind of test.
    pub kind: TestKind,
    /// The test's name in the plan.
    pub name: String,
    /// Worst status of its findings (or `error` when it could not run).
    pub status: Status,
    /// The source it ran on, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Rows scanned, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Why the test could not run (status `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The judged expectations.
    pub findings: Vec<Finding>,
}

impl TestResult {
    /// A test that has not produced anything yet: status `error`, no findings; the runner fills
    /// in what it learns.
    pub fn new(kind: TestKind, name: &str, source: Option<&str>) -> Self {
        TestResult {
            kind,
            name: name.to_string(),
            status: Status::Error,
            source: source.map(str::to_string),
            rows: None,
            error: None,
            findings: Vec::new(),
        }
    }

    /// Derive a test's status from its findings.
    pub fn status_of(findings: &[Finding]) -> Status {
        findings
            .iter()
            .map(|f| f.status)
            .max()
            .unwrap_or(Status::Passed)
    }
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Tests run.
    pub tests: usize,
    /// Tests passed.
    pub passed: usize,
    /// Tests failed.
    pub failed: usize,
    /// Tests that only warned.
    pub warned: usize,
    /// Tests that could not run.
    pub errors: usize,
}

/// A whole run: the JSON document of `--format json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Always `tollgate.results/v1` for this shape.
    pub schema: &'static str,
    /// The version of tollgate that ran.
    pub tollgate_version: &'static str,
    /// Worst status over the tests.
    pub status: Status,
    /// Counts.
    pub summary: Summary,
    /// Every test, in plan order.
    pub tests: Vec<TestResult>,
}

impl RunReport {
    /// Assemble a report from test results.
    pub fn new(tests: Vec<TestResult>) -> Self {
        let mut summary = Summary {
            tests: tests.len(),
            ..Summary::default()
        };
        for t in &tests {
            match t.status {
                Status::Passed => summary.passed += 1,
                Status::Failed => summary.failed += 1,
                Status::Warned => summary.warned += 1,
                Status::Error => summary.errors += 1,
            }
        }
        let status = tests
            .iter()
            .map(|t| t.status)
            .max()
            .unwrap_or(Status::Passed);
        RunReport {
            schema: "tollgate.results/v1",
            tollgate_version: env!("CARGO_PKG_VERSION"),
            status,
            summary,
            tests,
        }
    }
}

/// Round a measured float to 12 significant digits, so that results do not depend on the order
/// in which partial sums were added (partitions, threads, batch sizes).
pub fn stable_f64(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let text = format!("{:.*e}", 11, x);
    text.parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_f64_hides_summation_order() {
        let a = 0.1 + 0.2 + 0.3;
        let b = 0.3 + 0.2 + 0.1;
        assert_ne!(a, b);
        assert_eq!(stable_f64(a), stable_f64(b));
        assert_eq!(stable_f64(123.456), 123.456);
        assert!(stable_f64(f64::NAN).is_nan());
    }

    #[test]
    fn run_status_is_the_worst_test() {
        let t = |s| TestResult {
            kind: TestKind::Suite,
            name: "x".into(),
            status: s,
            source: None,
            rows: None,
            error: None,
            findings: vec![],
        };
        let r = RunReport::new(vec![t(Status::Passed), t(Status::Warned)]);
        assert_eq!(r.status, Status::Warned);
        assert_eq!(r.summary.warned, 1);
        let r = RunReport::new(vec![t(Status::Failed), t(Status::Warned)]);
        assert_eq!(r.status, Status::Failed);
    }
}
