//! One self-contained HTML page: inline CSS and inline SVG, no script, nothing fetched from
//! elsewhere. A summary band, then the tests grouped by kind, each with its findings, the
//! samples of its failing findings and a chart suited to its kind. Only findings are rendered,
//! so the page stays small whatever the size of the data.

use std::fmt::Write;

use tollgate_core::{Finding, RunReport, Status, TestKind, TestResult};

use crate::{bound, brief, cell, check_label, kind_name, num, sample_columns, subject, unexpected};

/// Failing rows shown per finding.
const SAMPLE_ROWS: usize = 10;

/// Text safe in HTML content and in quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn colour(s: Status) -> &'static str {
    match s {
        Status::Passed => "#1a7f37",
        Status::Warned => "#b35900",
        Status::Failed => "#cf222e",
        Status::Error => "#8250df",
    }
}

const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 12px;padding-bottom:4px;border-bottom:1px solid #d0d7de}
.band{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:20px;margin-bottom:8px}
.muted{color:#59636e;font-size:13px}
.counts{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0 12px}
.count{flex:1 1 120px;border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;border-left-width:6px}
.count b{display:block;font-size:26px;line-height:1.2}
.badge{display:inline-block;min-width:64px;text-align:center;padding:1px 8px;border-radius:12px;color:#fff;font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.03em;vertical-align:middle}
.badge.passed{background:#1a7f37}.badge.warned{background:#b35900}.badge.failed{background:#cf222e}.badge.error{background:#8250df}
.count.passed{border-left-color:#1a7f37}.count.warned{border-left-color:#b35900}.count.failed{border-left-color:#cf222e}.count.error{border-left-color:#8250df}
details.test{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:0 0 12px;padding:0 16px}
details.test[open]{padding-bottom:12px}
details.test>summary{cursor:pointer;padding:12px 0;font-weight:600}
details.test>summary .muted{font-weight:400;margin-left:6px}
.err{background:#fff0f0;border:1px solid #f5c2c7;border-radius:6px;padding:8px 12px;white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%;margin:8px 0 12px;font-size:13px;table-layout:auto}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{white-space:nowrap}
tr.failed{background:#fff5f5}tr.warned{background:#fff8ee}tr.error{background:#f7f2ff}
th{background:#f0f3f6;font-weight:600}
tr.failed td:first-child,tr.warned td:first-child,tr.error td:first-child,tr.passed td:first-child{font-weight:600}
tr.failed td:first-child{color:#cf222e}tr.warned td:first-child{color:#b35900}tr.error td:first-child{color:#8250df}tr.passed td:first-child{color:#1a7f37}
table.sample,table.worst{width:auto;min-width:50%;max-width:100%}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
h3{font-size:14px;margin:12px 0 4px}
figure{margin:8px 0 12px}
figcaption{font-size:13px;color:#59636e;margin-bottom:4px}
svg.chart{display:block;width:100%;max-width:840px;height:auto}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#1f2328}
"#;

/// Render a run as one HTML page.
pub fn html(report: &RunReport) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let s = &report.summary;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>tollgate: {status}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        status = report.status.as_str()
    );
    let _ = writeln!(
        out,
        "<section class=\"band\" id=\"summary\">\n<h1>tollgate run <span class=\"badge {st}\">{st}</span></h1>\n<div class=\"muted\">{} {} · {} · tollgate {}</div>",
        s.tests,
        if s.tests == 1 { "test" } else { "tests" },
        esc(report.schema),
        esc(report.tollgate_version),
        st = report.status.as_str(),
    );
    let _ = writeln!(out, "<div class=\"counts\">");
    let counts = [
        (Status::Passed, "passed", s.passed),
        (Status::Failed, "failed", s.failed),
        (Status::Warned, "warned", s.warned),
        (Status::Error, "errors", s.errors),
    ];
    for (st, label, n) in counts {
        let _ = writeln!(
            out,
            "<div class=\"count {}\" id=\"count-{label}\"><b>{n}</b>{label}</div>",
            st.as_str()
        );
    }
    let _ = writeln!(out, "</div>");
    share_bar(&mut out, &counts, s.tests);
    let _ = writeln!(out, "</section>");

    let kinds = [
        (TestKind::Suite, "Data suites"),
        (TestKind::Drift, "Drift"),
        (TestKind::Diff, "Dataset diffs"),
        (TestKind::Pretrain, "Pre-train checks"),
        (TestKind::ModelCheck, "Model checks"),
        (TestKind::Behaviour, "Behaviour"),
        (TestKind::Evaluation, "Evaluation"),
    ];
    for (kind, title) in kinds {
        let tests: Vec<&TestResult> = report.tests.iter().filter(|t| t.kind == kind).collect();
        if tests.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h2 id=\"kind-{}\">{title} <span class=\"muted\">({})</span></h2>",
            kind_name(kind),
            tests.len()
        );
        for t in tests {
            test(&mut out, t);
        }
    }
    let _ = writeln!(out, "</main>\n</body>\n</html>");
    out
}

/// The shares of passed/failed/warned/errors as one stacked bar.
fn share_bar(out: &mut String, counts: &[(Status, &str, usize)], total: usize) {
    let label: Vec<String> = counts.iter().map(|(_, l, n)| format!("{n} {l}")).collect();
    let _ = write!(
        out,
        "<svg class=\"chart share\" role=\"img\" aria-label=\"Shares of tests: {}\" viewBox=\"0 0 1000 18\" preserveAspectRatio=\"none\" style=\"max-width:none;height:18px\">",
        label.join(", ")
    );
    if total == 0 {
        let _ = write!(
            out,
            "<rect width=\"1000\" height=\"18\" rx=\"4\" fill=\"#d0d7de\"/>"
        );
    } else {
        let mut x = 0.0;
        for (st, l, n) in counts {
            if *n == 0 {
                continue;
            }
            let w = 1000.0 * *n as f64 / total as f64;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" width=\"{w:.1}\" height=\"18\" fill=\"{}\"><title>{n} {l}</title></rect>",
                colour(*st)
            );
            x += w;
        }
    }
    let _ = writeln!(out, "</svg>");
}

fn test(out: &mut String, t: &TestResult) {
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
    let open = if t.status == Status::Passed {
        ""
    } else {
        " open"
    };
    let _ = writeln!(
        out,
        "<details class=\"test\" id=\"test-{}-{}\"{open}>\n<summary><span class=\"badge {st}\">{st}</span> {} <span class=\"muted\">{}</span></summary>",
        kind_name(t.kind),
        esc(&t.name),
        esc(&t.name),
        facts.join(" · "),
        st = t.status.as_str(),
    );
    if let Some(e) = &t.error {
        let _ = writeln!(out, "<div class=\"err\">{}</div>", esc(e));
    }
    match t.kind {
        TestKind::Evaluation => evaluation_chart(out, t),
        TestKind::Drift => drift_chart(out, t),
        TestKind::Diff => diff_chart(out, t),
        TestKind::Suite | TestKind::Pretrain => suite_chart(out, t),
        TestKind::Behaviour => worst_examples(out, t),
        _ => {}
    }
    findings_table(out, &t.findings);
    if t.kind != TestKind::Behaviour {
        for f in t
            .findings
            .iter()
            .filter(|f| f.status != Status::Passed && !f.sample.is_empty())
        {
            sample_table(out, f);
        }
    }
    let _ = writeln!(out, "</details>");
}

fn findings_table(out: &mut String, findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<table class=\"findings\">\n<thead><tr><th>status</th><th>check</th><th>column</th><th>expected</th><th>observed</th><th>unexpected</th></tr></thead>\n<tbody>"
    );
    for f in findings {
        let expected = match (&f.error, f.status) {
            (Some(e), Status::Error) => format!("error: {e}"),
            _ => f.expected.clone(),
        };
        let mut observed = brief(&f.observed);
        if let Some([lo, hi]) = f.interval {
            observed.push_str(&format!(" [{}, {}]", num(lo), num(hi)));
        }
        let _ = writeln!(
            out,
            "<tr class=\"{st}\"><td>{st}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&check_label(f)),
            esc(&subject(f)),
            esc(&expected),
            esc(&observed),
            esc(&unexpected(f)),
            st = f.status.as_str(),
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>");
}

fn sample_table(out: &mut String, f: &Finding) {
    let rows = &f.sample[..f.sample.len().min(SAMPLE_ROWS)];
    let cols = sample_columns(rows);
    let has_row = rows.iter().any(|r| r.row.is_some());
    let mut what = check_label(f);
    let col = subject(f);
    if !col.is_empty() {
        what.push(' ');
        what.push_str(&col);
    }
    let _ = writeln!(
        out,
        "<h3>Failing rows of {}{}</h3>\n<table class=\"sample\">\n<thead><tr>",
        esc(&what),
        if f.sample.len() > rows.len() {
            format!(" (first {} of {})", rows.len(), f.sample.len())
        } else {
            String::new()
        }
    );
    if has_row {
        let _ = write!(out, "<th>row</th>");
    }
    for c in &cols {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    let _ = writeln!(out, "</tr></thead>\n<tbody>");
    for r in rows {
        let _ = write!(out, "<tr>");
        if has_row {
            let _ = write!(
                out,
                "<td class=\"num\">{}</td>",
                r.row.map(|n| n.to_string()).unwrap_or_default()
            );
        }
        for c in &cols {
            let _ = write!(out, "<td>{}</td>", esc(&cell(r.values.get(c))));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody>\n</table>");
}

/// One bar of a horizontal bar chart.
struct Bar {
    label: String,
    value: f64,
    text: String,
    status: Status,
    /// A bound to mark on the bar's row (a threshold or a gate).
    mark: Option<f64>,
}

/// A horizontal bar chart: one row per bar, a grey track, the bar in its status' colour, an
/// optional bound marked with a dark tick. `max` is the value of a full track.
fn bar_chart(out: &mut String, caption: &str, aria: &str, bars: &[Bar], max: f64) {
    if bars.is_empty() {
        return;
    }
    const LABEL: f64 = 220.0;
    const TRACK: f64 = 420.0;
    const ROW: f64 = 24.0;
    let width = LABEL + TRACK + 200.0;
    let height = ROW * bars.len() as f64 + 8.0;
    let max = if max > 0.0 && max.is_finite() {
        max
    } else {
        1.0
    };
    let x = |v: f64| LABEL + TRACK * (v / max).clamp(0.0, 1.0);
    let _ = writeln!(
        out,
        "<figure>\n<figcaption>{}</figcaption>\n<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">",
        esc(caption),
        esc(aria)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let _ = write!(
            out,
            "<g><title>{}: {}</title><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            esc(&b.label),
            esc(&b.text),
            LABEL - 8.0,
            y + 15.0,
            esc(&crate::cut(&b.label, 32))
        );
        let _ = write!(
            out,
            "<rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{TRACK}\" height=\"16\" rx=\"3\" fill=\"#eaeef2\"/>",
            y + 2.0
        );
        let w = x(b.value) - LABEL;
        let _ = write!(
            out,
            "<rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"16\" rx=\"3\" fill=\"{}\"/>",
            y + 2.0,
            colour(b.status)
        );
        if let Some(m) = b.mark {
            let _ = write!(
                out,
                "<path d=\"M{:.1} {:.1}v22\" stroke=\"#1f2328\" stroke-width=\"2\"/>",
                x(m),
                y - 1.0
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{:.1}\">{}</text></g>",
            LABEL + TRACK + 8.0,
            y + 15.0,
            esc(&b.text)
        );
    }
    let _ = writeln!(out, "</svg>\n</figure>");
}

fn evaluation_chart(out: &mut String, t: &TestResult) {
    let bars: Vec<Bar> = t
        .findings
        .iter()
        .filter_map(|f| {
            let value = f.observed.as_f64()?;
            let mark = bound(&f.expected).map(|(_, b)| b);
            let mut text = num(value);
            if let Some(m) = mark {
                text.push_str(&format!(" (bound {})", num(m)));
            }
            Some(Bar {
                label: check_label(f),
                value,
                text,
                status: f.status,
                mark,
            })
        })
        .collect();
    let max = bars
        .iter()
        .flat_map(|b| [b.value, b.mark.unwrap_or(0.0)])
        .fold(1.0_f64, f64::max);
    bar_chart(
        out,
        "Metrics against their bounds (the dark tick)",
        &format!("Evaluation metrics of {}", t.name),
        &bars,
        max,
    );
}

fn drift_chart(out: &mut String, t: &TestResult) {
    let mut bars = Vec::new();
    let mut p_values = false;
    for f in t.findings.iter().filter(|f| f.column.is_some()) {
        let (value, what) = match f.observed.get("p_value").and_then(|v| v.as_f64()) {
            Some(p) => {
                p_values = true;
                (p, "p-value")
            }
            None => match f.observed.as_f64() {
                Some(v) => (v, f.check.as_str()),
                None => continue,
            },
        };
        let mark = bound(&f.expected).map(|(_, b)| b);
        let mut text = format!("{what} {}", num(value));
        if let Some(m) = mark {
            text.push_str(&format!(" (threshold {})", num(m)));
        }
        bars.push(Bar {
            label: format!("{} ({})", subject(f), f.check),
            value,
            text,
            status: f.status,
            mark,
        });
    }
    let max = bars
        .iter()
        .flat_map(|b| [b.value, b.mark.unwrap_or(0.0)])
        .fold(1.0_f64, f64::max);
    let caption = if p_values {
        "Drift score per column against its threshold (the dark tick): p-values drift below it, distances above it"
    } else {
        "Drift score per column against its threshold (the dark tick)"
    };
    bar_chart(
        out,
        caption,
        &format!("Drift scores per column of {}", t.name),
        &bars,
        max,
    );
}

fn diff_chart(out: &mut String, t: &TestResult) {
    let bars: Vec<Bar> = t
        .findings
        .iter()
        .filter_map(|f| {
            let n = f.unexpected_count?;
            let label = match f.check.as_str() {
                "values_equal" => subject(f),
                _ => f.check.replace('_', " "),
            };
            Some(Bar {
                label,
                value: n as f64,
                text: if f.check == "values_equal" {
                    format!("{n} mismatched")
                } else {
                    format!("{n} keys")
                },
                status: f.status,
                mark: None,
            })
        })
        .collect();
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    bar_chart(
        out,
        "Mismatches per column and unmatched keys",
        &format!("Mismatch counts of {}", t.name),
        &bars,
        if max > 0.0 { max } else { 1.0 },
    );
}

fn suite_chart(out: &mut String, t: &TestResult) {
    let bars: Vec<Bar> = t
        .findings
        .iter()
        .filter_map(|f| {
            let frac = f.unexpected_fraction?;
            let mut label = check_label(f);
            let col = subject(f);
            if !col.is_empty() {
                label = format!("{col}: {label}");
            }
            Some(Bar {
                label,
                value: frac,
                text: format!("{:.2}% unexpected", frac * 100.0),
                status: f.status,
                mark: None,
            })
        })
        .collect();
    bar_chart(
        out,
        "Share of unexpected values per check",
        &format!("Unexpected fraction per check of {}", t.name),
        &bars,
        1.0,
    );
}

/// The worst examples of a behavioural test: the score before and after, and what changed.
fn worst_examples(out: &mut String, t: &TestResult) {
    for f in t.findings.iter().filter(|f| !f.sample.is_empty()) {
        let rows = &f.sample[..f.sample.len().min(SAMPLE_ROWS)];
        let changed: Vec<String> = sample_columns(rows)
            .into_iter()
            .filter(|c| !matches!(c.as_str(), "score_before" | "score_after" | "row"))
            .collect();
        let _ = writeln!(
            out,
            "<h3>Worst examples of {}</h3>\n<table class=\"worst\">\n<thead><tr><th>row</th><th>score before</th><th>score after</th><th>change</th>",
            esc(&check_label(f))
        );
        for c in &changed {
            let _ = write!(out, "<th>{}</th>", esc(c));
        }
        let _ = writeln!(out, "<th>input</th></tr></thead>\n<tbody>");
        for r in rows {
            let before = r.values.get("score_before").and_then(|v| v.as_f64());
            let after = r.values.get("score_after").and_then(|v| v.as_f64());
            let delta = match (before, after) {
                (Some(b), Some(a)) => format!("{:+.4}", a - b),
                _ => String::new(),
            };
            let _ = write!(
                out,
                "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{delta}</td>",
                r.row.map(|n| n.to_string()).unwrap_or_default(),
                before.map(num).unwrap_or_default(),
                after.map(num).unwrap_or_default(),
            );
            for c in &changed {
                let _ = write!(out, "<td>{}</td>", esc(&cell(r.values.get(c))));
            }
            let input = match r.values.get("row") {
                Some(serde_json::Value::Object(m)) => crate::cut(
                    &m.iter()
                        .map(|(k, v)| format!("{k}={}", crate::show(v)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    160,
                ),
                other => cell(other),
            };
            let _ = writeln!(out, "<td>{}</td></tr>", esc(&input));
        }
        let _ = writeln!(out, "</tbody>\n</table>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::tests::sample_report;

    #[test]
    fn text_is_escaped() {
        let page = html(&sample_report());
        assert!(page.contains("&lt;script&gt;"), "a column named <script>");
        assert!(!page.contains("<script"), "no script element at all");
        assert!(!page.contains("<i>"));
        assert!(page.contains("matches `^[A-Z]` &amp; &lt;b&gt;"));
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn every_chart_draws_something_and_is_labelled() {
        let page = html(&sample_report());
        let charts: Vec<&str> = page.split("<svg").skip(1).collect();
        // The share bar, a chart per suite with fractions, drift, diff and evaluation.
        assert!(charts.len() >= 5, "{} charts", charts.len());
        for c in charts {
            let body = &c[..c.find("</svg>").expect("closed svg")];
            assert!(body.contains("<rect") || body.contains("<path"), "{body}");
            assert!(body.contains("role=\"img\""), "{body}");
            assert!(body.contains("aria-label=\""), "{body}");
            assert!(!body.contains("aria-label=\"\""), "{body}");
        }
        for label in [
            "Drift scores per column of split",
            "Mismatch counts of rebuild",
            "Evaluation metrics of tree-test",
            "Unexpected fraction per check of new-batch",
        ] {
            assert!(page.contains(label), "{label}");
        }
    }

    #[test]
    fn nothing_is_fetched() {
        let page = html(&sample_report());
        assert!(!page.contains("http://"));
        assert!(!page.contains("https://"));
        assert!(!page.contains("src="));
        assert!(!page.contains("@import"));
        assert!(!page.contains("url("));
    }

    #[test]
    fn the_summary_numbers_appear() {
        let page = html(&sample_report());
        for want in [
            "id=\"count-passed\"><b>1</b>passed",
            "id=\"count-failed\"><b>3</b>failed",
            "id=\"count-warned\"><b>2</b>warned",
            "id=\"count-errors\"><b>1</b>errors",
            "7 tests",
            "aria-label=\"Shares of tests: 1 passed, 3 failed, 2 warned, 1 errors\"",
        ] {
            assert!(page.contains(want), "{want}");
        }
    }

    #[test]
    fn failing_samples_and_worst_examples_are_tables() {
        let page = html(&sample_report());
        assert!(
            page.contains("Failing rows of between Age (first 7 of 7)")
                || page.contains("Failing rows of between Age</h3>")
        );
        assert!(page.contains("Worst examples of increase"));
        assert!(page.contains("26.55 → 53.1"));
        assert!(page.contains("<td class=\"num\">-0.2622</td>"));
        assert_eq!(html(&sample_report()), page, "deterministic");
    }
}
