//! Profiling: what every column of a source holds, and a suite inferred from it.
//!
//! One aggregate query computes, per column, the count, nulls, exact distinct count, minimum and
//! maximum; for numbers the mean, sample standard deviation and quantiles; for text the length
//! statistics and the share of values matching each recognised pattern. Then one query per
//! column gives its most frequent values, and one per numeric column its histogram.
//!
//! Exactness: counts, extremes, means, deviations, lengths, patterns, top values and histograms
//! are exact at any size; distinct counts up to 2 million rows (HyperLogLog beyond, relative
//! standard error 0.81%, and then `distinct_exact` is false). Quantiles come from a t-digest
//! (DataFusion's, at most 100 centroids): exact while a column has at most 100 distinct
//! values, and otherwise within a small rank error (tested: at most 1% of the rows).
//!
//! Merging ([`merge`]): each column carries its sketches (`sketch`: the HyperLogLog registers
//! and the t-digest), so the profiles of two parts combine into the profile of both. Counts,
//! nulls, extremes, lengths and pattern shares merge exactly; means and deviations exactly up
//! to rounding (Chan's pairwise formula); distinct counts by the union of the HyperLogLogs
//! (exact only when one side is empty); quantiles by merging the t-digests. Histograms are
//! re-binned over the combined range, each old bin's count spread evenly over the new bins it
//! overlaps (exact when both sides have the same edges). Top values add the counts of both
//! sides' lists of their 100 most frequent values (`top` and `sketch.top_more`): exact when
//! each side has at most 100 distinct values, otherwise a value outside one side's list is
//! missing that side's count (at most that side's 100th count). Top values are listed for
//! every column of up to 100 000 values, and above only when at most half are distinct;
//! when one side has no list, neither has the merge.

use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef, BinaryArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion_functions_aggregate_common::tdigest::TDigest;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tollgate_core::SourceDecl;

use crate::error::{DataError, Result};
use crate::run::Engine;
use crate::sketch;
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
/// Values up to which the most frequent values are always listed; above, only when at most
/// half the values are distinct.
pub const TOP_ALWAYS_ROWS: u64 = 100_000;
/// Most frequent values kept in the sketch, for merging (`top` and then `sketch.top_more`).
pub const TOP_KEPT: usize = 100;
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lengths {
    /// Shortest.
    pub min: u64,
    /// Longest.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

/// One bin of a histogram: [low, high) (the last bin includes its high end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Low edge.
    pub low: f64,
    /// High edge.
    pub high: f64,
    /// Values in the bin.
    pub count: u64,
}

/// What one column holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Sample standard deviation (numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Quantiles (numbers): (q, value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantiles: Vec<(f64, f64)>,
    /// Histogram (numbers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<Bin>,
    /// Most frequent values with their counts (empty when more than half the values are
    /// distinct).
    pub top: Vec<(Value, u64)>,
    /// Lengths (text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Lengths>,
    /// Share of non-null values matching each recognised pattern (text; patterns seen only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<(String, f64)>,
    /// The mergeable sketches behind `distinct` and `quantiles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch: Option<Sketch>,
}

/// The sketches of a column, as text (see [`crate::sketch`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sketch {
    /// HyperLogLog registers of the non-null values.
    pub hll: String,
    /// t-digest of the values (numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdigest: Option<String>,
    /// The next most frequent values after `top`, up to [`TOP_KEPT`] in all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_more: Vec<(Value, u64)>,
}

/// A profile of a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// `tollgate.profile/v1`.
    pub schema: String,
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
        self.profile_at(decl, base)
            .await
            .map_err(|e| e.at(&decl.path))
    }

    async fn profile_at(&self, decl: &SourceDecl, base: &Path) -> Result<Profile> {
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
            select.push(if is_text(dt) {
                format!("tg_hll({c})")
            } else if dt.is_signed_integer()
                || matches!(dt, DataType::UInt8 | DataType::UInt16 | DataType::UInt32)
            {
                format!("tg_hll(CAST({c} AS BIGINT))")
            } else {
                // Other values as text, which is as distinct.
                format!("tg_hll(CAST({c} AS VARCHAR))")
            });
            select.push(format!("MIN({c})"));
            select.push(format!("MAX({c})"));
            if numeric(dt) {
                select.push(format!("AVG(CAST({c} AS DOUBLE))"));
                select.push(format!("STDDEV(CAST({c} AS DOUBLE))"));
                select.push(format!("tg_tdigest(CAST({c} AS DOUBLE))"));
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
            let hll = match next() {
                Value::String(s) => s,
                _ => String::new(),
            };
            let registers = sketch::decode_hll(&hll)
                .map_err(|e| DataError::Plan(format!("column `{name}`: {e}")))?;
            let (min, max) = (next(), next());
            let mut p = ColumnProfile {
                name: name.clone(),
                dtype: type_name(dt),
                count: n,
                nulls: rows - n.min(rows),
                distinct: sketch::hll_estimate(&registers),
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
                sketch: Some(Sketch {
                    hll: sketch::encode_hll(&registers),
                    tdigest: None,
                    top_more: Vec::new(),
                }),
            };
            if numeric(dt) {
                p.mean = number(&next());
                p.std = number(&next());
                if let Value::String(text) = next() {
                    let digest = sketch::decode_tdigest(&text)
                        .map_err(|e| DataError::Plan(format!("column `{name}`: {e}")))?;
                    p.quantiles = quantiles_of(&digest);
                    if let Some(s) = &mut p.sketch {
                        s.tdigest = Some(text);
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
            // Most values distinct (more than half) in a large source: a top list says
            // little and costs a grouping of every row; it is left out.
            if p.distinct * 2 <= p.count || p.count <= TOP_ALWAYS_ROWS {
                let q = format!(
                    "SELECT {c}, COUNT(*) AS n FROM t WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY n DESC, {c} LIMIT {TOP_KEPT}"
                );
                for b in collect(&ctx, &q).await? {
                    for r in 0..b.num_rows() {
                        p.top
                            .push((json_cell(b.column(0), r), count(&json_cell(b.column(1), r))));
                    }
                }
                if p.top.len() > TOP
                    && let Some(s) = &mut p.sketch
                {
                    s.top_more = p.top.split_off(TOP);
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
            schema: SCHEMA.to_string(),
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
        .map(|i| {
            let col = b.column(i);
            match col.as_any().downcast_ref::<BinaryArray>() {
                // HyperLogLog registers.
                Some(bin) if !bin.is_null(0) => Value::String(sketch::encode_hll(bin.value(0))),
                _ => json_cell(col, 0),
            }
        })
        .collect())
}

fn quantiles_of(d: &TDigest) -> Vec<(f64, f64)> {
    if d.count() == 0.0 {
        return Vec::new();
    }
    QUANTILES
        .iter()
        .map(|&q| (q, d.estimate_quantile(q)))
        .collect()
}

/// Order two profile values (numbers as numbers, text as text).
fn cmp_values(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn extreme(a: &Value, b: &Value, want: std::cmp::Ordering) -> Value {
    match (a.is_null(), b.is_null()) {
        (true, _) => b.clone(),
        (_, true) => a.clone(),
        _ => match cmp_values(b, a) {
            Some(o) if o == want => b.clone(),
            _ => a.clone(),
        },
    }
}

/// Re-bin histograms over [lo, hi] in `BINS` bins: each bin's count spread evenly over the
/// new bins it overlaps; totals are kept (largest remainders).
fn rebin(hists: &[&[Bin]], lo: f64, hi: f64) -> Vec<Bin> {
    let total: u64 = hists.iter().flat_map(|h| h.iter()).map(|b| b.count).sum();
    let width = (hi - lo) / BINS as f64;
    let n = if width > 0.0 { BINS } else { 1 };
    let index = |x: f64| -> usize {
        if width > 0.0 {
            (((x - lo) / width).floor().max(0.0) as usize).min(n - 1)
        } else {
            0
        }
    };
    let mut share = vec![0f64; n];
    for b in hists.iter().flat_map(|h| h.iter()) {
        let span = b.high - b.low;
        if span <= 0.0 || width <= 0.0 {
            share[index(b.low)] += b.count as f64;
            continue;
        }
        for (j, slot) in share.iter_mut().enumerate() {
            let (l, h) = (lo + width * j as f64, lo + width * (j + 1) as f64);
            let overlap = b.high.min(h) - b.low.max(l);
            if overlap > 0.0 {
                *slot += b.count as f64 * overlap / span;
            }
        }
    }
    let mut counts: Vec<u64> = share.iter().map(|x| x.floor() as u64).collect();
    let mut rest: Vec<usize> = (0..n).collect();
    rest.sort_by(|&i, &j| (share[j] - share[j].floor()).total_cmp(&(share[i] - share[i].floor())));
    let mut missing = total.saturating_sub(counts.iter().sum());
    for i in rest.into_iter().cycle().take(n * 2) {
        if missing == 0 {
            break;
        }
        counts[i] += 1;
        missing -= 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(i, &count)| Bin {
            low: lo + width * i as f64,
            high: if i + 1 == n {
                hi
            } else {
                lo + width * (i + 1) as f64
            },
            count,
        })
        .collect()
}

fn merge_column(
    a: &ColumnProfile,
    b: &ColumnProfile,
) -> std::result::Result<ColumnProfile, String> {
    // A part where the column holds no value at all (an empty CSV infers it as null) adds
    // only its nulls.
    for (empty, other) in [(a, b), (b, a)] {
        if empty.count == 0 && empty.dtype == "null" && other.dtype != "null" {
            let mut out = other.clone();
            out.nulls += empty.nulls;
            return Ok(out);
        }
    }
    if a.dtype != b.dtype {
        return Err(format!(
            "column `{}` is {} in one profile and {} in the other",
            a.name, a.dtype, b.dtype
        ));
    }
    let no_sketch = || {
        format!(
            "column `{}` has no sketch (a profile from an older tollgate): profile the data again",
            a.name
        )
    };
    let (sa, sb) = (
        a.sketch.as_ref().ok_or_else(no_sketch)?,
        b.sketch.as_ref().ok_or_else(no_sketch)?,
    );
    let mut registers =
        sketch::decode_hll(&sa.hll).map_err(|e| format!("column `{}`: {e}", a.name))?;
    let other = sketch::decode_hll(&sb.hll).map_err(|e| format!("column `{}`: {e}", a.name))?;
    sketch::hll_merge(&mut registers, &other);
    let count = a.count + b.count;
    let (distinct, distinct_exact) = if a.count == 0 {
        (b.distinct, b.distinct_exact)
    } else if b.count == 0 {
        (a.distinct, a.distinct_exact)
    } else {
        (sketch::hll_estimate(&registers), false)
    };
    let (na, nb, n) = (a.count as f64, b.count as f64, count as f64);
    let (mean, std) = match (a.mean, b.mean) {
        (Some(ma), Some(mb)) if a.count > 0 && b.count > 0 => {
            let mean = (na * ma + nb * mb) / n;
            let m2 = |s: Option<f64>, k: f64| s.map_or(0.0, |s| s * s * (k - 1.0));
            let delta = mb - ma;
            let total = m2(a.std, na) + m2(b.std, nb) + delta * delta * na * nb / n;
            (Some(mean), (count > 1).then(|| (total / (n - 1.0)).sqrt()))
        }
        _ if a.count == 0 => (b.mean, b.std),
        _ => (a.mean, a.std),
    };
    let mut digests = Vec::new();
    for t in [&sa.tdigest, &sb.tdigest].into_iter().flatten() {
        digests.push(sketch::decode_tdigest(t).map_err(|e| format!("column `{}`: {e}", a.name))?);
    }
    let digest = (!digests.is_empty()).then(|| sketch::merge_tdigests(&digests));
    let min = extreme(&a.min, &b.min, std::cmp::Ordering::Less);
    let max = extreme(&a.max, &b.max, std::cmp::Ordering::Greater);
    let histogram = match (number(&min), number(&max)) {
        (Some(lo), Some(hi)) if !(a.histogram.is_empty() && b.histogram.is_empty()) => {
            rebin(&[&a.histogram, &b.histogram], lo, hi)
        }
        _ => Vec::new(),
    };
    let mut top: Vec<(Value, u64)> = Vec::new();
    let listed = |p: &ColumnProfile| p.count == 0 || !p.top.is_empty();
    if (distinct * 2 <= count || count <= TOP_ALWAYS_ROWS) && listed(a) && listed(b) {
        let kept = |s: &Sketch| s.top_more.clone();
        for (v, k) in a.top.iter().chain(&kept(sa)).chain(&b.top).chain(&kept(sb)) {
            match top.iter_mut().find(|(w, _)| w == v) {
                Some((_, total)) => *total += k,
                None => top.push((v.clone(), *k)),
            }
        }
        top.sort_by(|(v, k), (w, j)| {
            j.cmp(k)
                .then_with(|| cmp_values(v, w).unwrap_or(std::cmp::Ordering::Equal))
        });
        top.truncate(TOP_KEPT);
    }
    let top_more = if top.len() > TOP {
        top.split_off(TOP)
    } else {
        Vec::new()
    };
    let length = match (&a.length, &b.length) {
        (Some(x), Some(y)) => Some(Lengths {
            min: x.min.min(y.min),
            max: x.max.max(y.max),
            mean: (x.mean * na + y.mean * nb) / n,
        }),
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    let mut patterns: Vec<(String, f64)> = Vec::new();
    for (name, _) in PATTERNS {
        let hits = |p: &ColumnProfile| {
            p.patterns
                .iter()
                .find(|(q, _)| q == name)
                .map_or(0.0, |(_, share)| (share * p.count as f64).round())
        };
        let total = hits(a) + hits(b);
        if total > 0.0 {
            patterns.push(((*name).to_string(), total / n));
        }
    }
    Ok(ColumnProfile {
        name: a.name.clone(),
        dtype: a.dtype.clone(),
        count,
        nulls: a.nulls + b.nulls,
        distinct,
        distinct_exact,
        min,
        max,
        mean,
        std,
        quantiles: digest.as_ref().map(quantiles_of).unwrap_or_default(),
        histogram,
        top,
        length,
        patterns,
        sketch: Some(Sketch {
            hll: sketch::encode_hll(&registers),
            tdigest: digest
                .as_ref()
                .filter(|d| d.count() > 0.0)
                .map(sketch::encode_tdigest),
            top_more,
        }),
    })
}

/// The profile of two parts' union, from their profiles (what stays exact: see the module
/// documentation). The parts must have the same columns, of the same types.
pub fn merge(a: &Profile, b: &Profile) -> std::result::Result<Profile, String> {
    for p in [a, b] {
        if p.schema != SCHEMA {
            return Err(format!(
                "{}: a `{}` document, expected `{SCHEMA}`",
                p.source, p.schema
            ));
        }
    }
    let names = |p: &Profile| p.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    if names(a) != names(b) {
        let only = |x: &Profile, y: &Profile| {
            names(x)
                .into_iter()
                .filter(|n| !names(y).contains(n))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "the profiles have different columns (only in {}: [{}]; only in {}: [{}]; or another order)",
            a.source,
            only(a, b),
            b.source,
            only(b, a)
        ));
    }
    let columns = a
        .columns
        .iter()
        .zip(&b.columns)
        .map(|(x, y)| merge_column(x, y))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Profile {
        schema: SCHEMA.to_string(),
        source: format!("{} + {}", a.source, b.source),
        rows: a.rows + b.rows,
        columns,
    })
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
