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
pub(crate) fn esc(s: &str) -> String {
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

pub(crate) const CSS: &str = r#"
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
svg text.tick{font-size:11px;fill:#59636e}
svg text.axis{font-size:12px;fill:#1f2328}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:8px 16px;margin:8px 0 12px}
.plots figure{margin:0;min-width:0}
svg.chart.plot{max-width:420px}
table.slices{width:auto;min-width:50%}
table.slices td.failed{color:#cf222e;font-weight:600}table.slices td.warned{color:#b35900;font-weight:600}
tr.baseline{border-top:2px solid #59636e}
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
    // Failures open; passing tests folded, except evaluations, whose curves are the point.
    let open = if t.status == Status::Passed && t.kind != tollgate_core::TestKind::Evaluation {
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
    plots(out, t);
    if t.kind == TestKind::Evaluation {
        slice_table(out, t);
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

// ---------------------------------------------------------------------------------------------
// Plots: the `plot` data a finding carries, drawn as small SVG charts. Malformed data (wrong
// lengths, non-numbers) draws nothing. Curves are thinned to `MAX_POINTS`, so a report stays
// small whatever the producer sent.

/// Points drawn per curve at most.
const MAX_POINTS: usize = 200;
/// Bins drawn per histogram at most (more are merged).
const MAX_BINS: usize = 100;
/// Categories drawn per bar chart at most.
const MAX_CATEGORIES: usize = 30;
/// Classes drawn per confusion matrix at most (larger matrices are skipped).
const MAX_CLASSES: usize = 20;
const REFERENCE: &str = "#8c959f";
const CURRENT: &str = "#0969da";

/// All elements as finite numbers, or nothing.
fn numbers(v: Option<&serde_json::Value>) -> Option<Vec<f64>> {
    v?.as_array()?
        .iter()
        .map(|x| x.as_f64().filter(|x| x.is_finite()))
        .collect()
}

/// All elements as non-negative finite numbers, or nothing.
fn counts(v: Option<&serde_json::Value>) -> Option<Vec<f64>> {
    numbers(v).filter(|c| c.iter().all(|x| *x >= 0.0))
}

/// Edges: finite, non-decreasing, with a positive span.
fn edges(v: Option<&serde_json::Value>) -> Option<Vec<f64>> {
    numbers(v).filter(|e| e.len() >= 2 && e.windows(2).all(|w| w[0] <= w[1]))
}

/// Indices of at most `max` points spread evenly over `n`, first and last included.
fn thin(n: usize, max: usize) -> Vec<usize> {
    if n <= max || max < 2 {
        return (0..n).collect();
    }
    let mut idx: Vec<usize> = (0..max)
        .map(|i| (i as f64 * (n - 1) as f64 / (max - 1) as f64).round() as usize)
        .collect();
    idx.dedup();
    idx
}

/// Adjacent bins merged until at most `MAX_BINS` remain: (edges, one count vector per series).
fn merge_bins(edges: &[f64], series: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = edges.len() - 1;
    let k = n.div_ceil(MAX_BINS).max(1);
    if k == 1 {
        return (edges.to_vec(), series.to_vec());
    }
    let mut e: Vec<f64> = (0..n).step_by(k).map(|i| edges[i]).collect();
    e.push(edges[n]);
    let s = series
        .iter()
        .map(|c| c.chunks(k).map(|ch| ch.iter().sum()).collect())
        .collect();
    (e, s)
}

/// Rounded tick values over [lo, hi], about `n` of them.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo || !(hi - lo).is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step - 1e-9).ceil() as i64;
    (0..=2 * n as i64)
        .map(|i| ((first + i) as f64 * step * 1e9).round() / 1e9)
        .take_while(|t| *t <= hi + step * 1e-9)
        .collect()
}

/// A plot area: data ranges mapped onto an SVG rectangle.
pub(crate) struct Frame {
    x: (f64, f64),
    y: (f64, f64),
    left: f64,
    top: f64,
    w: f64,
    h: f64,
}

impl Frame {
    pub(crate) fn px(&self, v: f64) -> f64 {
        self.left + self.w * ((v - self.x.0) / (self.x.1 - self.x.0)).clamp(0.0, 1.0)
    }
    pub(crate) fn py(&self, v: f64) -> f64 {
        self.top + self.h * (1.0 - ((v - self.y.0) / (self.y.1 - self.y.0)).clamp(0.0, 1.0))
    }
}

/// Axes of a chart, after the caller opened its `<svg>`.
pub(crate) struct Axes<'a> {
    pub(crate) x: (f64, f64),
    pub(crate) y: (f64, f64),
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    /// Draw x tick labels (false for categories, which label themselves).
    pub(crate) x_ticks: bool,
    /// Tick labels as percentages.
    pub(crate) y_percent: bool,
}

/// Chart size in SVG units.
pub(crate) const PLOT_W: f64 = 360.0;
pub(crate) const PLOT_H: f64 = 240.0;

/// Open a figure with a chart, draw its axes and return the frame to draw in.
pub(crate) fn open_plot(out: &mut String, caption: &str, aria: &str, a: &Axes<'_>) -> Frame {
    let pad = |(lo, hi): (f64, f64)| {
        if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        }
    };
    let f = Frame {
        x: pad(a.x),
        y: pad(a.y),
        left: 52.0,
        top: 26.0,
        w: PLOT_W - 52.0 - 14.0,
        h: PLOT_H - 26.0 - 44.0,
    };
    let _ = writeln!(
        out,
        "<figure class=\"plot\">\n<figcaption>{}</figcaption>\n<svg class=\"chart plot\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {PLOT_W} {PLOT_H}\" width=\"{PLOT_W}\" height=\"{PLOT_H}\">",
        esc(caption),
        esc(aria)
    );
    let bottom = f.top + f.h;
    for t in ticks(f.y.0, f.y.1, 4) {
        let y = f.py(t);
        let label = if a.y_percent {
            format!("{}%", num(t * 100.0))
        } else {
            num(t)
        };
        let _ = write!(
            out,
            "<path d=\"M{:.1} {y:.1}H{:.1}\" stroke=\"#eaeef2\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text>",
            f.left,
            f.left + f.w,
            f.left - 4.0,
            y + 4.0,
            esc(&label)
        );
    }
    if a.x_ticks {
        for t in ticks(f.x.0, f.x.1, 4) {
            let x = f.px(t);
            let _ = write!(
                out,
                "<path d=\"M{x:.1} {bottom:.1}v4\" stroke=\"#59636e\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"tick\">{}</text>",
                bottom + 16.0,
                esc(&num(t))
            );
        }
    }
    let _ = write!(
        out,
        "<path d=\"M{l:.1} {t:.1}V{bottom:.1}H{r:.1}\" fill=\"none\" stroke=\"#59636e\"/>",
        l = f.left,
        t = f.top,
        r = f.left + f.w
    );
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
        f.left + f.w / 2.0,
        PLOT_H - 6.0,
        esc(a.x_label)
    );
    let _ = writeln!(
        out,
        "<text x=\"4\" y=\"14\" class=\"axis\">{}</text>",
        esc(a.y_label)
    );
    f
}

pub(crate) fn close_plot(out: &mut String) {
    let _ = writeln!(out, "</svg>\n</figure>");
}

/// A legend at the top right: (colour, name).
fn legend(out: &mut String, entries: &[(&str, &str)]) {
    let mut x = PLOT_W - 14.0;
    for (colour, name) in entries.iter().rev() {
        x -= 8.0 * name.chars().count() as f64 + 18.0;
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{colour}\" fill-opacity=\"0.6\"/><text x=\"{:.1}\" y=\"15\" class=\"tick\">{}</text>",
            x + 13.0,
            esc(name)
        );
    }
}

/// A polyline through points, thinned.
fn line_path(f: &Frame, xs: &[f64], ys: &[f64]) -> String {
    let mut d = String::new();
    for (k, i) in thin(xs.len(), MAX_POINTS).into_iter().enumerate() {
        let _ = write!(
            d,
            "{}{:.1} {:.1}",
            if k == 0 { "M" } else { "L" },
            f.px(xs[i]),
            f.py(ys[i])
        );
    }
    d
}

/// Bars over bins, one series: `share` draws shares of the series' total instead of counts.
fn bin_bars(out: &mut String, f: &Frame, edges: &[f64], ys: &[f64], colour: &str, what: &str) {
    for (i, y) in ys.iter().enumerate() {
        let (x0, x1) = (f.px(edges[i]), f.px(edges[i + 1]));
        let top = f.py(*y);
        let _ = write!(
            out,
            "<rect x=\"{x0:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" fill-opacity=\"0.55\"><title>{}: [{}, {}): {}</title></rect>",
            (x1 - x0 - 0.5).max(0.5),
            (f.top + f.h - top).max(0.0),
            esc(what),
            esc(&num(edges[i])),
            esc(&num(edges[i + 1])),
            esc(&num(*y))
        );
    }
}

fn shares(c: &[f64]) -> Vec<f64> {
    let total: f64 = c.iter().sum();
    c.iter()
        .map(|x| if total > 0.0 { x / total } else { 0.0 })
        .collect()
}

/// The caption of a finding's plot: its check and column or slice.
fn plot_title(f: &Finding) -> String {
    let col = subject(f);
    if col.is_empty() {
        check_label(f)
    } else {
        format!("{col} ({})", f.check)
    }
}

/// Draw one finding's plot; false (and nothing written) when the plot is malformed.
fn plot(out: &mut String, t: &TestResult, f: &Finding) -> bool {
    let Some(p) = f.plot.as_ref().filter(|p| p.is_object()) else {
        return false;
    };
    let mut buf = String::new();
    let drawn = match p.get("kind").and_then(|k| k.as_str()) {
        Some("histograms") => drift_histograms(&mut buf, f, p),
        Some("bars") => drift_bars(&mut buf, f, p),
        Some("roc") => curve(&mut buf, t, f, p, true),
        Some("pr") => curve(&mut buf, t, f, p, false),
        Some("calibration") => calibration(&mut buf, t, f, p),
        Some("confusion") => confusion(&mut buf, t, f, p),
        Some("histogram") => latency(&mut buf, t, f, p),
        _ => None,
    };
    if drawn.is_some() {
        out.push_str(&buf);
    }
    drawn.is_some()
}

fn drift_histograms(out: &mut String, f: &Finding, p: &serde_json::Value) -> Option<()> {
    let e = edges(p.get("edges"))?;
    let r = counts(p.pointer("/series/reference"))?;
    let c = counts(p.pointer("/series/current"))?;
    if r.len() != e.len() - 1 || c.len() != r.len() {
        return None;
    }
    let (e, s) = merge_bins(&e, &[shares(&r), shares(&c)]);
    let top = s.iter().flatten().fold(0.0_f64, |a, b| a.max(*b));
    let col = subject(f);
    let fr = open_plot(
        out,
        &plot_title(f),
        &format!(
            "Distribution of {col} in the reference and current data: {} bins from {} to {}",
            s[0].len(),
            num(e[0]),
            num(e[e.len() - 1])
        ),
        &Axes {
            x: (e[0], e[e.len() - 1]),
            y: (0.0, if top > 0.0 { top * 1.1 } else { 1.0 }),
            x_label: &col,
            y_label: "share of rows",
            x_ticks: true,
            y_percent: true,
        },
    );
    bin_bars(out, &fr, &e, &s[0], REFERENCE, "reference");
    bin_bars(out, &fr, &e, &s[1], CURRENT, "current");
    legend(out, &[(REFERENCE, "reference"), (CURRENT, "current")]);
    close_plot(out);
    Some(())
}

fn drift_bars(out: &mut String, f: &Finding, p: &serde_json::Value) -> Option<()> {
    let labels: Vec<String> = p
        .get("labels")?
        .as_array()?
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            serde_json::Value::Null => Some("null".into()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let r = counts(p.pointer("/series/reference"))?;
    let c = counts(p.pointer("/series/current"))?;
    if labels.is_empty() || r.len() != labels.len() || c.len() != labels.len() {
        return None;
    }
    let (r, c) = (shares(&r), shares(&c));
    let k = labels.len().min(MAX_CATEGORIES);
    let top = r[..k].iter().chain(&c[..k]).fold(0.0_f64, |a, b| a.max(*b));
    let col = subject(f);
    let fr = open_plot(
        out,
        &plot_title(f),
        &format!(
            "Shares of the categories of {col} in the reference and current data: {}",
            labels[..k].join(", ")
        ),
        &Axes {
            x: (0.0, k as f64),
            y: (0.0, if top > 0.0 { top * 1.1 } else { 1.0 }),
            x_label: &col,
            y_label: "share of rows",
            x_ticks: false,
            y_percent: true,
        },
    );
    let band = fr.w / k as f64;
    let bar = band * 0.38;
    let chars = ((band / 7.0) as usize).clamp(1, 14);
    for i in 0..k {
        let x = fr.left + band * i as f64;
        for (j, (v, colour, what)) in [(r[i], REFERENCE, "reference"), (c[i], CURRENT, "current")]
            .into_iter()
            .enumerate()
        {
            let y = fr.py(v);
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{colour}\" fill-opacity=\"0.75\"><title>{} {what}: {:.2}%</title></rect>",
                x + band * 0.12 + bar * j as f64,
                (fr.top + fr.h - y).max(0.0),
                esc(&labels[i]),
                v * 100.0
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"tick\">{}</text>",
            x + band / 2.0,
            fr.top + fr.h + 14.0,
            esc(&crate::cut(&labels[i], chars))
        );
    }
    legend(out, &[(REFERENCE, "reference"), (CURRENT, "current")]);
    close_plot(out);
    Some(())
}

/// Two equal-length number arrays `x` and `y` of at least `min` points within [0, 1].
fn unit_xy(p: &serde_json::Value, min: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let x = numbers(p.get("x"))?;
    let y = numbers(p.get("y"))?;
    let unit = |v: &[f64]| v.iter().all(|a| (-1e-9..=1.0 + 1e-9).contains(a));
    (x.len() == y.len() && x.len() >= min && unit(&x) && unit(&y)).then_some((x, y))
}

fn curve(
    out: &mut String,
    t: &TestResult,
    f: &Finding,
    p: &serde_json::Value,
    roc: bool,
) -> Option<()> {
    let (x, y) = unit_xy(p, 2)?;
    let (caption, x_label, y_label) = if roc {
        ("ROC curve", "false positive rate", "true positive rate")
    } else {
        ("Precision-recall curve", "recall", "precision")
    };
    let value = f
        .observed
        .as_f64()
        .map(|v| format!(" ({} {})", f.check, num(v)))
        .unwrap_or_default();
    let fr = open_plot(
        out,
        &format!("{caption}{value}"),
        &format!("{caption} of {}{value}", t.name),
        &Axes {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            x_label,
            y_label,
            x_ticks: true,
            y_percent: false,
        },
    );
    if roc {
        let _ = write!(
            out,
            "<path d=\"M{:.1} {:.1}L{:.1} {:.1}\" stroke=\"#8c959f\" stroke-dasharray=\"4 4\" fill=\"none\"><title>chance</title></path>",
            fr.px(0.0),
            fr.py(0.0),
            fr.px(1.0),
            fr.py(1.0)
        );
    }
    let _ = writeln!(
        out,
        "<path d=\"{}\" stroke=\"{CURRENT}\" stroke-width=\"2\" fill=\"none\" stroke-linejoin=\"round\"/>",
        line_path(&fr, &x, &y)
    );
    close_plot(out);
    Some(())
}

fn calibration(
    out: &mut String,
    t: &TestResult,
    _f: &Finding,
    p: &serde_json::Value,
) -> Option<()> {
    let (x, y) = unit_xy(p, 1)?;
    let n = match p.get("n") {
        None => vec![1.0; x.len()],
        v => counts(v).filter(|n| n.len() == x.len())?,
    };
    let fr = open_plot(
        out,
        "Calibration (point size: rows per bin)",
        &format!(
            "Calibration of {}: observed positive fraction against mean predicted probability in {} bins",
            t.name,
            x.len()
        ),
        &Axes {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            x_label: "mean predicted probability",
            y_label: "observed positive fraction",
            x_ticks: true,
            y_percent: false,
        },
    );
    let _ = write!(
        out,
        "<path d=\"M{:.1} {:.1}L{:.1} {:.1}\" stroke=\"#8c959f\" stroke-dasharray=\"4 4\" fill=\"none\"><title>perfect calibration</title></path>",
        fr.px(0.0),
        fr.py(0.0),
        fr.px(1.0),
        fr.py(1.0)
    );
    let _ = write!(
        out,
        "<path d=\"{}\" stroke=\"{CURRENT}\" stroke-width=\"1.5\" fill=\"none\"/>",
        line_path(&fr, &x, &y)
    );
    let most = n.iter().fold(0.0_f64, |a, b| a.max(*b));
    for i in thin(x.len(), MAX_POINTS) {
        let r = if most > 0.0 {
            2.5 + 6.0 * (n[i] / most).sqrt()
        } else {
            3.0
        };
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"{CURRENT}\" fill-opacity=\"0.6\"><title>predicted {}, observed {}, {} rows</title></circle>",
            fr.px(x[i]),
            fr.py(y[i]),
            num(x[i]),
            num(y[i]),
            num(n[i])
        );
    }
    close_plot(out);
    Some(())
}

fn confusion(out: &mut String, t: &TestResult, _f: &Finding, p: &serde_json::Value) -> Option<()> {
    let labels: Vec<String> = p
        .get("labels")?
        .as_array()?
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let k = labels.len();
    let m: Vec<Vec<f64>> = p
        .get("matrix")?
        .as_array()?
        .iter()
        .map(|row| counts(Some(row)).filter(|r| r.len() == k))
        .collect::<Option<_>>()?;
    if k == 0 || k > MAX_CLASSES || m.len() != k {
        return None;
    }
    let cell = (300.0 / k as f64).min(64.0);
    let left = 70.0;
    let top = 40.0;
    let w = left + cell * k as f64 + 14.0;
    let h = top + cell * k as f64 + 30.0;
    let total: f64 = m.iter().flatten().sum();
    let right: f64 = (0..k).map(|i| m[i][i]).sum();
    let _ = writeln!(
        out,
        "<figure class=\"plot\">\n<figcaption>Confusion matrix (rows: true class, columns: predicted)</figcaption>\n<svg class=\"chart plot\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" style=\"max-width:{w:.0}px\">",
        esc(&format!(
            "Confusion matrix of {}: {} of {} rows on the diagonal, classes {}",
            t.name,
            num(right),
            num(total),
            labels.join(", ")
        ))
    );
    let chars = ((cell / 7.0) as usize).clamp(1, 8);
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"14\" text-anchor=\"middle\" class=\"axis\">predicted</text><text x=\"4\" y=\"{:.1}\" class=\"axis\">true</text>",
        left + cell * k as f64 / 2.0,
        top - 4.0
    );
    for (j, l) in labels.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"tick\">{}</text>",
            left + cell * (j as f64 + 0.5),
            top - 6.0,
            esc(&crate::cut(l, chars))
        );
    }
    for (i, row) in m.iter().enumerate() {
        let y = top + cell * i as f64;
        let sum: f64 = row.iter().sum();
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text>",
            left - 6.0,
            y + cell / 2.0 + 4.0,
            esc(&crate::cut(&labels[i], 10))
        );
        for (j, v) in row.iter().enumerate() {
            let share = if sum > 0.0 { v / sum } else { 0.0 };
            let x = left + cell * j as f64;
            let fill = if i == j { "#1a7f37" } else { "#cf222e" };
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"{fill}\" fill-opacity=\"{:.3}\" stroke=\"#d0d7de\"><title>true {}, predicted {}: {} ({:.1}% of the row)</title></rect>",
                0.08 + 0.8 * share,
                esc(&labels[i]),
                esc(&labels[j]),
                num(*v),
                share * 100.0
            );
            if cell >= 22.0 {
                let _ = write!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"tick\"{}>{}</text>",
                    x + cell / 2.0,
                    y + cell / 2.0 + 4.0,
                    if share > 0.55 {
                        " style=\"fill:#fff\""
                    } else {
                        ""
                    },
                    num(*v)
                );
            }
        }
    }
    let _ = writeln!(out, "</svg>\n</figure>");
    Some(())
}

fn latency(out: &mut String, t: &TestResult, f: &Finding, p: &serde_json::Value) -> Option<()> {
    let e = edges(p.get("edges"))?;
    let c = counts(p.get("counts"))?;
    if c.len() != e.len() - 1 {
        return None;
    }
    let unit = p.get("unit").and_then(|u| u.as_str()).unwrap_or("");
    let (e, s) = merge_bins(&e, &[c]);
    let top = s[0].iter().fold(0.0_f64, |a, b| a.max(*b));
    let x_label = if unit.is_empty() {
        f.check.clone()
    } else {
        format!("{} ({unit})", f.check.replace('_', " "))
    };
    let fr = open_plot(
        out,
        &format!("{} of {}", f.check.replace('_', " "), t.name),
        &format!(
            "Histogram of {} of {}: {} to {} {unit}",
            f.check.replace('_', " "),
            t.name,
            num(e[0]),
            num(e[e.len() - 1])
        ),
        &Axes {
            x: (e[0], e[e.len() - 1]),
            y: (0.0, if top > 0.0 { top * 1.1 } else { 1.0 }),
            x_label: &x_label,
            y_label: "calls",
            x_ticks: true,
            y_percent: false,
        },
    );
    bin_bars(out, &fr, &e, &s[0], CURRENT, "calls");
    close_plot(out);
    Some(())
}

/// The plots of a test's findings, in a grid; the same plot carried by several findings (a
/// calibration on brier and log_loss) is drawn once. Evaluation plots of slices are left out.
fn plots(out: &mut String, t: &TestResult) {
    let mut seen: Vec<&serde_json::Value> = Vec::new();
    let mut body = String::new();
    for f in &t.findings {
        let Some(p) = &f.plot else { continue };
        if seen.contains(&p) || (t.kind == TestKind::Evaluation && f.slice.is_some()) {
            continue;
        }
        if plot(&mut body, t, f) {
            seen.push(p);
        }
    }
    if !body.is_empty() {
        let _ = writeln!(out, "<div class=\"plots\">\n{body}</div>");
    }
}

/// An evaluation's metrics by slice: overall, then one column per slice value, each with its
/// interval; baseline comparisons last.
fn slice_table(out: &mut String, t: &TestResult) {
    let is_base = |f: &Finding| f.name.as_deref() == Some("baseline");
    let is_worst = |f: &Finding| f.name.as_deref() == Some("worst slice");
    let mut metrics: Vec<&str> = Vec::new();
    let mut slices: Vec<String> = Vec::new();
    let slice_name = |f: &Finding| {
        f.slice.as_ref().map(|s| {
            s.iter()
                .map(|(k, v)| format!("{k}={}", crate::show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    for f in t.findings.iter().filter(|f| !is_base(f) && !is_worst(f)) {
        if !metrics.contains(&f.check.as_str()) {
            metrics.push(&f.check);
        }
        if let Some(s) = slice_name(f)
            && !slices.contains(&s)
        {
            slices.push(s);
        }
    }
    let bases: Vec<&Finding> = t.findings.iter().filter(|f| is_base(f)).collect();
    if slices.is_empty() && bases.is_empty() {
        return;
    }
    let value = |f: &Finding| {
        let mut s = brief(&f.observed);
        if let Some([lo, hi]) = f.interval {
            s.push_str(&format!(" [{}, {}]", num(lo), num(hi)));
        }
        s
    };
    let _ = write!(
        out,
        "<h3>Metrics by slice</h3>\n<table class=\"slices\">\n<thead><tr><th>metric</th><th>overall</th>"
    );
    for s in &slices {
        let _ = write!(out, "<th>{}</th>", esc(s));
    }
    let _ = writeln!(out, "</tr></thead>\n<tbody>");
    for m in &metrics {
        let _ = write!(out, "<tr><th>{}</th>", esc(m));
        let cols = std::iter::once(None).chain(slices.iter().map(Some));
        for s in cols {
            let f = t.findings.iter().find(|f| {
                f.check == *m && !is_base(f) && !is_worst(f) && slice_name(f).as_ref() == s
            });
            match f {
                Some(f) => {
                    let _ = write!(
                        out,
                        "<td class=\"num {}\" title=\"{}\">{}</td>",
                        f.status.as_str(),
                        esc(&f.expected),
                        esc(&value(f))
                    );
                }
                None => {
                    let _ = write!(out, "<td></td>");
                }
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    for f in bases {
        let _ = writeln!(
            out,
            "<tr class=\"baseline {st}\"><th>{} vs baseline</th><td class=\"num {st}\">drop {}</td><td colspan=\"{}\">{}</td></tr>",
            esc(&f.check),
            esc(&value(f)),
            slices.len().max(1),
            esc(f.error.as_deref().unwrap_or(&f.expected)),
            st = f.status.as_str()
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>");
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
    fn with_plot(check: &str, column: Option<&str>, plot: serde_json::Value) -> Finding {
        let mut f = Finding::new(check, Status::Passed, tollgate_core::Severity::Error);
        f.column = column.map(str::to_string);
        f.observed = serde_json::json!(0.9);
        f.plot = Some(plot);
        f
    }

    fn page_of(kind: TestKind, findings: Vec<Finding>) -> String {
        let mut t = TestResult::new(kind, "t<1>", Some("src"));
        t.status = Status::Passed;
        t.findings = findings;
        html(&RunReport::new(vec![t]))
    }

    /// The `<svg>` whose aria-label starts with `label`, checked for role and a shape.
    fn chart<'a>(page: &'a str, label: &str) -> &'a str {
        let at = page
            .find(&format!("aria-label=\"{label}"))
            .unwrap_or_else(|| panic!("no chart {label:?}"));
        let start = page[..at].rfind("<svg").expect("svg opened");
        let body = &page[start..at + page[at..].find("</svg>").expect("svg closed")];
        assert!(body.contains("role=\"img\""), "{body}");
        assert!(body.contains("<rect") || body.contains("<path"), "{body}");
        body
    }

    #[test]
    fn each_plot_kind_is_drawn() {
        use serde_json::json;
        let page = page_of(
            TestKind::Drift,
            vec![
                with_plot(
                    "psi",
                    Some("Fare"),
                    json!({"kind": "histograms", "edges": [0, 10, 20, 40],
                           "series": {"reference": [5, 3, 2], "current": [1, 4, 5]}}),
                ),
                with_plot(
                    "chi2",
                    Some("Sex"),
                    json!({"kind": "bars", "labels": ["male", "<f>"],
                           "series": {"reference": [60, 40], "current": [50, 50]}}),
                ),
            ],
        );
        let h = chart(
            &page,
            "Distribution of Fare in the reference and current data: 3 bins",
        );
        assert_eq!(
            h.matches("<rect").count(),
            6 + 2,
            "3 bins × 2 series and a legend"
        );
        assert!(h.contains(">reference</text>") && h.contains(">current</text>"));
        let b = chart(&page, "Shares of the categories of Sex");
        assert!(b.contains("&lt;f&gt;") && !b.contains("<f>"));
        assert!(b.contains("<title>male reference: 60.00%</title>"), "{b}");
        assert!(
            page.contains("<div class=\"plots\">"),
            "small multiples in a grid"
        );

        let roc: Vec<f64> = (0..=1000).map(|i| i as f64 / 1000.0).collect();
        let tpr: Vec<f64> = roc.iter().map(|x| x.sqrt()).collect();
        let mut sliced = with_plot(
            "roc_auc",
            None,
            json!({"kind": "roc", "x": [0, 1], "y": [0, 1]}),
        );
        sliced.slice = Some(serde_json::Map::from_iter([("g".into(), json!("a"))]));
        let calib = json!({"kind": "calibration", "x": [0.1, 0.5, 0.9], "y": [0.2, 0.4, 0.95], "n": [10, 50, 5]});
        let conf =
            json!({"kind": "confusion", "labels": ["0", "1"], "matrix": [[50, 10], [5, 35]]});
        let page = page_of(
            TestKind::Evaluation,
            vec![
                with_plot("roc_auc", None, json!({"kind": "roc", "x": roc, "y": tpr})),
                sliced,
                with_plot(
                    "average_precision",
                    None,
                    json!({"kind": "pr", "x": [0, 0.5, 1], "y": [1, 0.8, 0.4]}),
                ),
                with_plot("brier", None, calib.clone()),
                with_plot("log_loss", None, calib),
                with_plot("accuracy", None, conf.clone()),
                with_plot("f1", None, conf),
            ],
        );
        let r = chart(&page, "ROC curve of t&lt;1&gt; (roc_auc 0.9)");
        assert!(r.contains("stroke-dasharray"), "the diagonal");
        let points = r.matches(" L").count() + r.matches('L').count();
        assert!(points <= 2 * (MAX_POINTS + 2), "thinned: {points}");
        assert_eq!(
            page.matches("aria-label=\"ROC curve").count(),
            1,
            "not the slice's"
        );
        chart(&page, "Precision-recall curve of t&lt;1&gt;");
        let c = chart(&page, "Calibration of t&lt;1&gt;");
        assert_eq!(c.matches("<circle").count(), 3);
        assert!(c.contains("50 rows"));
        assert_eq!(
            page.matches("aria-label=\"Calibration").count(),
            1,
            "drawn once"
        );
        let m = chart(
            &page,
            "Confusion matrix of t&lt;1&gt;: 85 of 100 rows on the diagonal",
        );
        assert_eq!(m.matches("<rect").count(), 4);
        assert!(m.contains(">35</text>"));
        assert_eq!(
            page.matches("aria-label=\"Confusion").count(),
            1,
            "drawn once"
        );

        let page = page_of(
            TestKind::ModelCheck,
            vec![with_plot(
                "latency_p95",
                None,
                json!({"kind": "histogram", "edges": [0, 1, 2, 4], "counts": [10, 5, 1], "unit": "ms"}),
            )],
        );
        let l = chart(&page, "Histogram of latency p95 of t&lt;1&gt;: 0 to 4 ms");
        assert!(l.contains("latency p95 (ms)"));
        assert_eq!(html(&RunReport::new(vec![])), html(&RunReport::new(vec![])));
    }

    #[test]
    fn malformed_plots_are_skipped() {
        use serde_json::json;
        let bad = [
            json!({"kind": "histograms", "edges": [0, 1], "series": {"reference": [1, 2], "current": [1, 2]}}),
            json!({"kind": "histograms", "edges": [0, 1, 2], "series": {"reference": [1, "x"], "current": [1, 2]}}),
            json!({"kind": "histograms", "edges": [2, 1, 0], "series": {"reference": [1, 1], "current": [1, 2]}}),
            json!({"kind": "bars", "labels": ["a"], "series": {"reference": [1, 2], "current": [1]}}),
            json!({"kind": "bars", "labels": [["a"]], "series": {"reference": [1], "current": [1]}}),
            json!({"kind": "roc", "x": [0, 1], "y": [0]}),
            json!({"kind": "roc", "x": [0, 2], "y": [0, 1]}),
            json!({"kind": "pr", "x": "nope", "y": [1]}),
            json!({"kind": "calibration", "x": [0.1], "y": [0.2], "n": [1, 2]}),
            json!({"kind": "confusion", "labels": ["0", "1"], "matrix": [[1, 2], [3]]}),
            json!({"kind": "confusion", "labels": ["0"], "matrix": [[-1]]}),
            json!({"kind": "histogram", "edges": [0, 1], "counts": [1, 2]}),
            json!({"kind": "histogram", "edges": [0, 1], "counts": [null]}),
            json!({"kind": "pie"}),
            json!([1, 2, 3]),
            json!(null),
        ];
        for kind in [TestKind::Drift, TestKind::Evaluation, TestKind::ModelCheck] {
            let page = page_of(
                kind,
                bad.iter()
                    .map(|p| with_plot("psi", Some("c"), p.clone()))
                    .collect(),
            );
            assert!(!page.contains("class=\"plots\""), "{page}");
            assert!(!page.contains("<figure class=\"plot\""), "{page}");
        }
    }

    #[test]
    fn slices_show_intervals_and_the_baseline_is_a_comparison_row() {
        use serde_json::json;
        let metric = |slice: Option<&str>, v: f64, iv: [f64; 2]| {
            let mut f = Finding::new("accuracy", Status::Passed, tollgate_core::Severity::Error);
            f.observed = json!(v);
            f.interval = Some(iv);
            f.slice = slice.map(|s| serde_json::Map::from_iter([("Sex".into(), json!(s))]));
            f
        };
        let mut worst = metric(Some("male"), 0.77, [0.7, 0.8]);
        worst.name = Some("worst slice".into());
        worst.interval = None;
        let mut base = metric(None, -0.02, [-0.05, 0.01]);
        base.name = Some("baseline".into());
        base.expected =
            "accuracy drops by at most 0.01 from the baseline (0.81 now, 0.79 before)".into();
        let page = page_of(
            TestKind::Evaluation,
            vec![
                metric(None, 0.81, [0.77, 0.85]),
                metric(Some("female"), 0.9, [0.85, 0.95]),
                metric(Some("male"), 0.77, [0.7, 0.8]),
                worst,
                base,
            ],
        );
        let table = &page[page.find("<table class=\"slices\">").expect("slice table")..];
        let table = &table[..table.find("</table>").expect("closed")];
        assert!(
            table.contains("<th>Sex=female</th><th>Sex=male</th>"),
            "{table}"
        );
        assert!(table.contains(">0.81 [0.77, 0.85]</td>"), "{table}");
        assert!(table.contains(">0.9 [0.85, 0.95]</td>"), "{table}");
        assert_eq!(table.matches("<tr><th>accuracy</th>").count(), 1, "{table}");
        assert!(table.contains("<th>accuracy vs baseline</th><td class=\"num passed\">drop -0.02 [-0.05, 0.01]</td>"), "{table}");
        assert!(table.contains("(0.81 now, 0.79 before)"), "{table}");
    }
}
