//! A profile (`tollgate.profile/v1`) as one self-contained HTML page: a card per column with
//! its null share, its key numbers and a chart (the histogram of a numeric column, the most
//! frequent values of the others). Reads the JSON document, so anything missing or malformed
//! is left out rather than refused.

use std::fmt::Write;

use serde_json::Value;

use crate::html::{Axes, CSS, close_plot, esc, open_plot};
use crate::{cut, num, show};

const PROFILE_CSS: &str = r#"
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:12px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;min-width:0}
.card h2{font-size:16px;margin:0 0 6px;padding:0;border:0;overflow-wrap:anywhere}
.card h2 .type{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#59636e;margin-left:6px}
.card table{margin:6px 0}
.card td,.card th{padding:2px 6px}
.nulls{display:flex;align-items:center;gap:8px;font-size:13px;color:#59636e}
.nulls svg{flex:0 0 120px}
"#;

/// Values of a JSON field as a number.
fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key)?.as_f64()
}

/// Render a profile document as one HTML page.
pub fn profile_html(profile: &Value) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let source = profile.get("source").map(show).unwrap_or_default();
    let rows = f(profile, "rows");
    let columns: &[Value] = profile
        .get("columns")
        .and_then(|c| c.as_array())
        .map(|c| c.as_slice())
        .unwrap_or(&[]);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>tollgate profile: {}</title>\n<style>{CSS}{PROFILE_CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(&source)
    );
    let _ = writeln!(
        out,
        "<section class=\"band\" id=\"summary\">\n<h1>Profile of {}</h1>\n<div class=\"muted\">{} rows · {} columns · {}</div>\n</section>",
        esc(&source),
        rows.map(num).unwrap_or_else(|| "?".into()),
        columns.len(),
        esc(&profile.get("schema").map(show).unwrap_or_default())
    );
    let _ = writeln!(out, "<div class=\"cards\">");
    for (i, c) in columns.iter().enumerate() {
        card(&mut out, i, c);
    }
    let _ = writeln!(out, "</div>\n</main>\n</body>\n</html>");
    out
}

fn card(out: &mut String, i: usize, c: &Value) {
    let name = c.get("name").map(show).unwrap_or_default();
    let dtype = c.get("type").map(show).unwrap_or_default();
    let count = f(c, "count").unwrap_or(0.0);
    let nulls = f(c, "nulls").unwrap_or(0.0);
    let total = count + nulls;
    let share = if total > 0.0 { nulls / total } else { 0.0 };
    let _ = writeln!(
        out,
        "<section class=\"card\" id=\"column-{i}\" data-column=\"{}\">\n<h2>{}<span class=\"type\">{}</span></h2>",
        esc(&name),
        esc(&name),
        esc(&dtype)
    );
    let _ = writeln!(
        out,
        "<div class=\"nulls\"><svg class=\"nullbar\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 120 10\" width=\"120\" height=\"10\"><rect width=\"120\" height=\"10\" rx=\"3\" fill=\"#eaeef2\"/><rect width=\"{:.1}\" height=\"10\" rx=\"3\" fill=\"#cf222e\"/></svg><span>{} nulls ({:.1}%)</span></div>",
        esc(&format!("Null share of {name}: {:.1}%", share * 100.0)),
        120.0 * share,
        num(nulls),
        share * 100.0
    );
    // Key numbers, two per row.
    let mut facts: Vec<(String, String)> = vec![("values".into(), num(count))];
    if let Some(d) = f(c, "distinct") {
        let exact = c.get("distinct_exact").and_then(|v| v.as_bool()) != Some(false);
        facts.push((
            "distinct".into(),
            format!("{}{}", if exact { "" } else { "≈" }, num(d)),
        ));
    }
    for key in ["min", "max"] {
        if let Some(v) = c.get(key).filter(|v| !v.is_null()) {
            let s = v.as_f64().map(num).unwrap_or_else(|| show(v));
            facts.push((key.into(), cut(&s, 24)));
        }
    }
    for key in ["mean", "std"] {
        if let Some(v) = f(c, key) {
            facts.push((key.into(), num(v)));
        }
    }
    if let Some(qs) = c.get("quantiles").and_then(|q| q.as_array()) {
        for q in qs {
            let (Some(p), Some(v)) = (
                q.get(0).and_then(|p| p.as_f64()),
                q.get(1).and_then(|v| v.as_f64()),
            ) else {
                continue;
            };
            if [0.05, 0.5, 0.95].iter().any(|w| (w - p).abs() < 1e-9) {
                facts.push((format!("p{}", num(p * 100.0)), num(v)));
            }
        }
    }
    if let Some(l) = c.get("length")
        && let (Some(lo), Some(mean), Some(hi)) = (f(l, "min"), f(l, "mean"), f(l, "max"))
    {
        facts.push((
            "length".into(),
            format!("{} – {} (mean {})", num(lo), num(hi), num(mean)),
        ));
    }
    if let Some(ps) = c.get("patterns").and_then(|p| p.as_array()) {
        for p in ps {
            if let (Some(n), Some(s)) = (
                p.get(0).and_then(|n| n.as_str()),
                p.get(1).and_then(|s| s.as_f64()),
            ) {
                facts.push((format!("{n} pattern"), format!("{:.1}%", s * 100.0)));
            }
        }
    }
    let _ = writeln!(out, "<table class=\"facts\"><tbody>");
    for pair in facts.chunks(2) {
        let _ = write!(out, "<tr>");
        for (k, v) in pair {
            let _ = write!(out, "<th>{}</th><td class=\"num\">{}</td>", esc(k), esc(v));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
    if !histogram(out, &name, c) && !top_values(out, &name, c) {
        let _ = writeln!(
            out,
            "<p class=\"muted\">No chart: no histogram or frequent values.</p>"
        );
    }
    let _ = writeln!(out, "</section>");
}

/// The histogram of a numeric column; false when there is none (or it is malformed).
fn histogram(out: &mut String, name: &str, c: &Value) -> bool {
    let Some(bins) = c.get("histogram").and_then(|h| h.as_array()) else {
        return false;
    };
    let bins: Option<Vec<(f64, f64, f64)>> = bins
        .iter()
        .map(|b| {
            let (lo, hi, n) = (f(b, "low")?, f(b, "high")?, f(b, "count")?);
            (lo.is_finite() && hi.is_finite() && lo <= hi && n >= 0.0).then_some((lo, hi, n))
        })
        .collect();
    let Some(bins) = bins.filter(|b| !b.is_empty() && b.len() <= 1000) else {
        return false;
    };
    let lo = bins[0].0;
    let hi = bins.iter().fold(lo, |a, b| a.max(b.1));
    let top = bins.iter().fold(0.0_f64, |a, b| a.max(b.2));
    let fr = open_plot(
        out,
        "Histogram",
        &format!(
            "Histogram of {name}: {} bins from {} to {}",
            bins.len(),
            num(lo),
            num(hi)
        ),
        &Axes {
            x: (lo, hi),
            y: (0.0, if top > 0.0 { top * 1.1 } else { 1.0 }),
            x_label: name,
            y_label: "rows",
            x_ticks: true,
            y_percent: false,
        },
    );
    for (lo, hi, n) in &bins {
        let (x0, x1) = (fr.px(*lo), fr.px(*hi));
        let y = fr.py(*n);
        let _ = write!(
            out,
            "<rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#0969da\" fill-opacity=\"0.75\"><title>[{}, {}): {}</title></rect>",
            (x1 - x0 - 0.5).max(0.5),
            (fr.py(0.0) - y).max(0.0),
            esc(&num(*lo)),
            esc(&num(*hi)),
            num(*n)
        );
    }
    close_plot(out);
    true
}

/// The most frequent values of a column as horizontal bars; false when there are none.
fn top_values(out: &mut String, name: &str, c: &Value) -> bool {
    let Some(top) = c.get("top").and_then(|t| t.as_array()) else {
        return false;
    };
    let top: Vec<(String, f64)> = top
        .iter()
        .filter_map(|p| {
            let v = p.get(0)?;
            let n = p.get(1)?.as_f64()?;
            Some((show(v), n))
        })
        .take(10)
        .collect();
    if top.is_empty() {
        return false;
    }
    let count = f(c, "count").unwrap_or(0.0);
    let most = top.iter().fold(0.0_f64, |a, b| a.max(b.1));
    const LABEL: f64 = 130.0;
    const TRACK: f64 = 170.0;
    const ROW: f64 = 20.0;
    let w = LABEL + TRACK + 60.0;
    let h = ROW * top.len() as f64 + 6.0;
    let _ = writeln!(
        out,
        "<figure class=\"plot\">\n<figcaption>Most frequent values</figcaption>\n<svg class=\"chart plot\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\">",
        esc(&format!(
            "Most frequent values of {name}: {}",
            top.iter()
                .take(5)
                .map(|(v, n)| format!("{} ({})", cut(v, 20), num(*n)))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    );
    for (i, (v, n)) in top.iter().enumerate() {
        let y = 3.0 + ROW * i as f64;
        let bw = if most > 0.0 { TRACK * n / most } else { 0.0 };
        let pct = if count > 0.0 {
            format!(" ({:.1}%)", 100.0 * n / count)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<g><title>{}: {}{pct}</title><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text><rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"14\" rx=\"2\" fill=\"#0969da\" fill-opacity=\"0.75\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\">{}</text></g>",
            esc(v),
            num(*n),
            LABEL - 6.0,
            y + 12.0,
            esc(&cut(v, 18)),
            y + 1.0,
            LABEL + bw + 4.0,
            y + 12.0,
            num(*n)
        );
    }
    let _ = writeln!(out, "</svg>\n</figure>");
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({
            "schema": "tollgate.profile/v1", "source": "people.csv", "rows": 4,
            "columns": [
                {"name": "Age", "type": "float64", "count": 3, "nulls": 1, "distinct": 3,
                 "distinct_exact": true, "min": 1.0, "max": 80.0, "mean": 30.5, "std": 20.1,
                 "quantiles": [[0.05, 2.0], [0.5, 28.0], [0.95, 70.0]],
                 "histogram": [{"low": 1.0, "high": 40.5, "count": 2}, {"low": 40.5, "high": 80.0, "count": 1}],
                 "top": [[28.0, 1]], "sketch": {"hll": "xxx"}},
                {"name": "<b>Sex</b>", "type": "utf8", "count": 4, "nulls": 0, "distinct": 2,
                 "distinct_exact": true, "min": "female", "max": "male",
                 "top": [["male", 3], ["<i>female</i>", 1]],
                 "length": {"min": 4, "max": 6, "mean": 4.5}, "patterns": [["email", 0.25]]},
                {"name": "broken", "type": "float64", "count": 2, "nulls": 2,
                 "histogram": [{"low": "x", "high": 1, "count": 1}], "top": "nope"}
            ]
        })
    }

    #[test]
    fn every_column_has_a_card_with_its_chart() {
        let page = profile_html(&doc());
        assert_eq!(page.matches("<section class=\"card\"").count(), 3);
        assert!(page.contains("aria-label=\"Histogram of Age: 2 bins from 1 to 80\""));
        assert!(page.contains("aria-label=\"Null share of Age: 25.0%\""));
        assert!(page.contains("1 nulls (25.0%)"));
        assert!(page.contains("aria-label=\"Most frequent values of &lt;b&gt;Sex&lt;/b&gt;: male (3), &lt;i&gt;female&lt;/i&gt; (1)\""));
        assert!(page.contains("<th>p50</th><td class=\"num\">28</td>"));
        assert!(page.contains("<th>email pattern</th><td class=\"num\">25.0%</td>"));
        // The malformed column gets a card and no chart, and nothing panics.
        assert!(page.contains("No chart: no histogram or frequent values."));
        assert!(!page.contains("<b>") && !page.contains("<i>"), "escaped");
        assert!(!page.contains("xxx"), "sketches are not shown");
        for c in page.split("<svg").skip(1) {
            let body = &c[..c.find("</svg>").expect("closed")];
            assert!(
                body.contains("role=\"img\"") && body.contains("<rect"),
                "{body}"
            );
        }
        assert_eq!(profile_html(&doc()), page, "deterministic");
        // Not a profile at all: an empty page, no panic.
        assert!(profile_html(&json!([1, 2])).contains("0 columns"));
    }
}
