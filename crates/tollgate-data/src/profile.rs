//! Profiling: what every column of a source holds, and a suite inferred from it.
//!
//! One aggregate query computes, per column, the count, nulls, exact distinct count, minimum and
//! maximum; for numbers the mean, sample standard deviation and quantiles; for text the length
//! statistics and the share of values matching each recognised pattern. Then one query per
//! column gives its most frequent values, and one per numeric column its histogram.
//!
//! Exactness: counts, extremes, means, deviations, lengths, patterns, top values and histograms
//! are exact at any size; distinct counts up to 2 million rows (HyperLogLog beyond, about 1%
//! relative error, and then `distinct_exact` is false). Quantiles come from DataFusion's
//! `approx_percentile_cont`, a t-digest: exact while a column has at most 100 distinct values,
//! and otherwise within a small rank error (typically under 1% of the rows at the tails, less
//! in the middle). Profiles are not yet mergeable.

use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Serialize;
use serde_json::{Value, json};
use tollgate_core::SourceDecl;

use crate::error::{DataError, Result};
use crate::run::Engine;
use crate::sql::{ident, type_name};

/// The version of the profile document.
pub const SCHEMA: &str = "tollgate.profile/v1";
/// Quantiles reported.
pub const QUANTILES: &[f64] = &[0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];
/// Histogram bins of numeric columns.
pub const BINS: usize = 20;
/// Rows up to which distinct counts are exact; beyond, HyperLogLog (`approx_distinct`, a
/// relative error of about 1%).
pub const EXACT_DISTINCT_ROWS: u64 = 2_000_000;
/// Most frequent values reported.
pub const TOP: usize = 10;
/// Recognised text patterns (name, full-match regex).
pub const PATTERNS: &[(&str, &str)] = &[
    ("email", r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    ("url", r"^https?://[^\s]+$"),
    (
        "uuid",
        r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    ),
    ("date", r"^\d{4}-\d{2}-\d{2}$"),
    (
        "datetime",
        r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$",
    ),
];

/// Length statistics of a text column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lengths {
    /// Shortest.
    pub min: u64,
    /// Longest.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

/// One bin of a histogram: [low, high) (the last bin includes its high end).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bin {
    /// Low edge.
    pub low: f64,
    /// High edge.
    pub high: f64,
    /// Values in the bin.
    pub count: u64,
}

/// What one column holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnProfile {
    /// Its name.
    pub name: String,
    /// Its type, as tollgate names it.
    #[serde(rename = "type")]
    pub dtype: String,
    /// Non-null values.
    pub count: u64,
    /// Nulls.
    pub nulls: u64,
    /// Distinct non-null values.
    pub distinct: u64,
    /// Whether `distinct` is exact (else a HyperLogLog estimate).
    pub distinct_exact: bool,
    /// Smallest value.
    pub min: Value,
    /// Largest value.
    pub max: Value,
    /// Mean (numbers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Sample standard deviation (numbers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Quantiles (numbers): (q, value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quantiles: Vec<(f64, f64)>,
    /// Histogram (numbers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<Bin>,
    /// Most frequent values with their counts (empty when more than half the values are
    /// distinct).
    pub top: Vec<(Value, u64)>,
    /// Lengths (text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<Lengths>,
    /// Share of non-null values matching each recognised pattern (text; patterns seen only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<(String, f64)>,
}

/// A profile of a source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// `tollgate.profile/v1`.
    pub schema: &'static str,
    /// The data profiled.
    pub source: String,
    /// Rows.
    pub rows: u64,
    /// Columns, in the source's order.
    pub columns: Vec<ColumnProfile>,
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn numeric(t: &DataType) -> bool {
    t.is_numeric()
}

/// One cell as JSON: integers and other numbers as numbers, booleans as booleans, the rest
/// as its display text; null as null.
pub fn json_cell(col: &ArrayRef, row: usize) -> Value {
    if col.is_null(row) {
        return Value::Null;
    }
    let text = ArrayFormatter::try_new(col.as_ref(), &FormatOptions::default())
        .map(|f| f.value(row).to_string())
        .unwrap_or_default();
    if col.data_type().is_integer()
        && let Ok(n) = text.parse::<i64>()
    {
        return json!(n);
    }
    if numeric(col.data_type())
        && let Ok(n) = text.parse::<f64>()
    {
        return json!(n);
    }
    if let DataType::Boolean = col.data_type() {
        return json!(text == "true");
    }
    Value::String(text)
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn count(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f as u64))
        .unwrap_or(0)
}

impl Engine {
    /// Profile a source.
    pub async fn profile(&self, decl: &SourceDecl, base: &Path) -> Result<Profile> {
        let prepared = self.prepare(decl, base, &[]).await?;
        let ctx = prepared.context();
        let fields: Vec<(String, DataType)> = prepared
            .schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        // One scan: the aggregates of every column, distinct counts by HyperLogLog (made
        // exact below for sources of at most EXACT_DISTINCT_ROWS rows).
        let mut select = vec!["COUNT(*)".to_string()];
        for (name, dt) in &fields {
            let c = ident(name);
            select.push(format!("COUNT({c})"));
            select.push(if !(dt.is_integer() || is_text(dt)) {
                // DataFusion's HyperLogLog takes integers and text only: the others as text,
                // which is as distinct.
                format!("approx_distinct(CAST({c} AS VARCHAR))")
            } else {
                format!("approx_distinct({c})")
            });
            select.push(format!("MIN({c})"));
            select.push(format!("MAX({c})"));
            if numeric(dt) {
                select.push(format!("AVG(CAST({c} AS DOUBLE))"));
                select.push(format!("STDDEV(CAST({c} AS DOUBLE))"));
                for q in QUANTILES {
                    select.push(format!("approx_percentile_cont(CAST({c} AS DOUBLE), {q})"));
                }
            }
            if is_text(dt) {
                select.push(format!("MIN(character_length({c}))"));
                select.push(format!("MAX(character_length({c}))"));
                select.push(format!("AVG(CAST(character_length({c}) AS DOUBLE))"));
                for (_, re) in PATTERNS {
                    let re = re.replace('\'', "''");
                    select.push(format!(
                        "SUM(CASE WHEN regexp_like({c}, '{re}') THEN 1 ELSE 0 END)"
                    ));
                }
            }
        }
        let q = format!("SELECT {} FROM t", select.join(", "));
        let row = one_row(&ctx, &q).await?;
        let mut at = 0usize;
        let mut next = || {
            let v = row.get(at).cloned().unwrap_or(Value::Null);
            at += 1;
            v
        };
        let rows = count(&next());
        let mut columns = Vec::new();
        for (name, dt) in &fields {
            let n = count(&next());
            let distinct = count(&next());
            let (min, max) = (next(), next());
            let mut p = ColumnProfile {
                name: name.clone(),
                dtype: type_name(dt),
                count: n,
                nulls: rows - n.min(rows),
                distinct,
                distinct_exact: false,
                min,
                max,
                mean: None,
                std: None,
                quantiles: Vec::new(),
                histogram: Vec::new(),
                top: Vec::new(),
                length: None,
                patterns: Vec::new(),
            };
            if numeric(dt) {
                p.mean = number(&next());
                p.std = number(&next());
                for q in QUANTILES {
                    if let Some(v) = number(&next()) {
                        p.quantiles.push((*q, v));
                    }
                }
            }
            if is_text(dt) {
                let (lo, hi, mean) = (next(), next(), next());
                if n > 0 {
                    p.length = Some(Lengths {
                        min: count(&lo),
                        max: count(&hi),
                        mean: number(&mean).unwrap_or(f64::NAN),
                    });
                }
                for (pat, _) in PATTERNS {
                    let hits = count(&next());
                    if hits > 0 && n > 0 {
                        p.patterns
                            .push(((*pat).to_string(), hits as f64 / n as f64));
                    }
                }
            }
            columns.push(p);
        }
        // Small enough: exact distinct counts, in one more scan.
        if rows <= EXACT_DISTINCT_ROWS && !fields.is_empty() {
            let select: Vec<String> = fields
                .iter()
                .map(|(name, _)| format!("COUNT(DISTINCT {})", ident(name)))
                .collect();
            let exact = one_row(&ctx, &format!("SELECT {} FROM t", select.join(", "))).await?;
            for (p, v) in columns.iter_mut().zip(&exact) {
                p.distinct = count(v);
                p.distinct_exact = true;
            }
        }
        // Most frequent values, and histograms.
        for p in &mut columns {
            let c = ident(&p.name);
            // Most values distinct (more than half): a top list says little and costs a
            // grouping of every row; it is left out.
            if p.distinct * 2 <= p.count {
                let q = format!(
                    "SELECT {c}, COUNT(*) AS n FROM t WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY n DESC, {c} LIMIT {TOP}"
                );
                for b in collect(&ctx, &q).await? {
                    for r in 0..b.num_rows() {
                        p.top
                            .push((json_cell(b.column(0), r), count(&json_cell(b.column(1), r))));
                    }
                }
            }
            if let (Some(lo), Some(hi)) = (number(&p.min), number(&p.max))
                && p.mean.is_some()
                && lo.is_finite()
                && hi.is_finite()
            {
                let width = (hi - lo) / BINS as f64;
                let bin = if width > 0.0 {
                    format!(
                        "LEAST(CAST(FLOOR((CAST({c} AS DOUBLE) - {lo:?}) / {width:?}) AS BIGINT), {})",
                        BINS - 1
                    )
                } else {
                    "CAST(0 AS BIGINT)".to_string()
                };
                let q = format!(
                    "SELECT {bin} AS b, COUNT(*) AS n FROM t WHERE {c} IS NOT NULL AND NOT isnan(CAST({c} AS DOUBLE)) GROUP BY 1 ORDER BY 1"
                );
                let mut counts = vec![0u64; if width > 0.0 { BINS } else { 1 }];
                for b in collect(&ctx, &q).await? {
                    for r in 0..b.num_rows() {
                        let i = json_cell(b.column(0), r).as_i64().unwrap_or(0).max(0) as usize;
                        if let Some(slot) = counts.get_mut(i) {
                            *slot += count(&json_cell(b.column(1), r));
                        }
                    }
                }
                p.histogram = counts
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| Bin {
                        low: lo + width * i as f64,
                        high: if i + 1 == counts.len() {
                            hi
                        } else {
                            lo + width * (i + 1) as f64
                        },
                        count: n,
                    })
                    .collect();
            }
        }
        Ok(Profile {
            schema: SCHEMA,
            source: decl.path.clone(),
            rows,
            columns,
        })
    }
}

async fn collect(ctx: &datafusion::prelude::SessionContext, q: &str) -> Result<Vec<RecordBatch>> {
    let df = ctx
        .sql(q)
        .await
        .map_err(|e| DataError::Plan(crate::error::engine_message(&e)))?;
    df.collect().await.map_err(|e| {
        DataError::Source(format!(
            "reading the data failed: {}",
            crate::error::engine_message(&e)
        ))
    })
}

async fn one_row(ctx: &datafusion::prelude::SessionContext, q: &str) -> Result<Vec<Value>> {
    let batches = collect(ctx, q).await?;
    let b = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| DataError::Plan("the profile query returned no row".into()))?;
    Ok((0..b.num_columns())
        .map(|i| json_cell(b.column(i), 0))
        .collect())
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => other.to_string(),
    }
}

/// A suite that passes on the profiled data and reads like one a person would write:
/// - the type of every column;
/// - `not_null` where there are no nulls;
/// - `unique` for id-like columns (as many distinct values as rows, more than 1);
/// - `in_set` for columns with at most 10 distinct values (text, integers, booleans), from the
///   profile's top values;
/// - `between` for numbers, widened by 10% of the range on each side (and never below 0 when
///   the minimum is not);
/// - `matches` for text where every value matches one recognised pattern;
/// - `length` bounds for other text.
pub fn infer_suite(p: &Profile) -> String {
    let mut out = format!(
        "# Inferred by `tollgate profile` from {} ({} rows): review before relying on it.\ncolumns:\n",
        p.source, p.rows
    );
    for c in &p.columns {
        let mut checks: Vec<String> = vec![format!("type: {}", c.dtype)];
        if c.nulls == 0 && c.count > 0 {
            checks.push("not_null: true".into());
        }
        if c.count > 1
            && c.distinct_exact
            && c.distinct == c.count
            && c.dtype != "float64"
            && c.dtype != "float32"
        {
            checks.push("unique: true".into());
        }
        let small_set = c.distinct > 0
            && c.distinct <= 10
            && (c.dtype == "string" || c.dtype.starts_with("int") || c.dtype == "bool")
            && c.top.len() as u64 == c.distinct;
        if small_set {
            let mut values: Vec<String> = c.top.iter().map(|(v, _)| yaml_scalar(v)).collect();
            values.sort();
            checks.push(format!("in_set: [{}]", values.join(", ")));
        } else if let (Some(lo), Some(hi)) = (number(&c.min), number(&c.max)) {
            let margin = (hi - lo) * 0.1;
            let mut low = lo - margin;
            if lo >= 0.0 && low < 0.0 {
                low = 0.0;
            }
            let (low, high) = if c.dtype.starts_with("int") || c.dtype.starts_with("uint") {
                (low.floor(), (hi + margin).ceil())
            } else {
                (low, hi + margin)
            };
            checks.push(format!("between: [{}, {}]", fmt(low), fmt(high)));
        } else if let Some((pat, _)) = c.patterns.iter().find(|(_, share)| *share >= 1.0) {
            if let Some((_, re)) = PATTERNS.iter().find(|(n, _)| n == pat) {
                checks.push(format!("matches: '{}'", re.replace('\'', "''")));
            }
        } else if let Some(l) = &c.length {
            checks.push(format!("length: {{ between: [{}, {}] }}", l.min, l.max));
        }
        let name = if c
            .name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            c.name.clone()
        } else {
            format!("'{}'", c.name.replace('\'', "''"))
        };
        out.push_str(&format!("  {name}: {{ {} }}\n", checks.join(", ")));
    }
    out
}

fn fmt(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
