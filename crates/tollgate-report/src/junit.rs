//! JUnit XML: each test is a `testsuite`, each finding a `testcase`.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use tollgate_core::{Finding, RunReport, Status};

use crate::show;

fn case_name(f: &Finding) -> String {
    let mut name = f.check.clone();
    if let Some(c) = &f.column {
        name.push_str(&format!(" {c}"));
    } else if let Some(cs) = &f.columns {
        name.push_str(&format!(" {}", cs.join(",")));
    }
    if let Some(n) = &f.name {
        name.push_str(&format!(" [{n}]"));
    }
    name
}

/// Render a run as JUnit XML.
pub fn junit(report: &RunReport, fail_on_warn: bool) -> String {
    let mut r = Report::new("tollgate");
    for t in &report.tests {
        let mut suite = TestSuite::new(t.name.clone());
        if let Some(e) = &t.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(e.clone());
            suite.add_test_case(TestCase::new("run", status));
        }
        for f in &t.findings {
            let status = match f.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Warned if !fail_on_warn => TestCaseStatus::success(),
                Status::Warned | Status::Failed => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!(
                        "expected {}; observed {}",
                        f.expected,
                        show(&f.observed)
                    ));
                    let mut detail = String::new();
                    if let (Some(u), Some(e)) = (f.unexpected_count, f.element_count) {
                        detail.push_str(&format!("{u} of {e} unexpected\n"));
                    }
                    for row in &f.sample {
                        let at = row.row.map(|r| format!("row {r}: ")).unwrap_or_default();
                        detail.push_str(&format!(
                            "{at}{}\n",
                            serde_json::Value::Object(row.values.clone())
                        ));
                    }
                    s.set_description(detail);
                    s
                }
                Status::Error => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(f.error.clone().unwrap_or_default());
                    s
                }
            };
            let mut case = TestCase::new(case_name(f), status);
            case.set_classname(format!("tollgate.{}", t.name));
            if f.status == Status::Warned {
                case.system_out = Some(
                    format!(
                        "warning: expected {}; observed {}",
                        f.expected,
                        show(&f.observed)
                    )
                    .into(),
                );
            }
            suite.add_test_case(case);
        }
        r.add_test_suite(suite);
    }
    r.to_string()
        .unwrap_or_else(|e| format!("<!-- junit rendering failed: {e} -->\n"))
}
