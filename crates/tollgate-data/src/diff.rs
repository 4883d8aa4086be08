//! Data diff: what differs between an expected and an actual dataset, rows matched by key.
//!
//! Both sources are registered in one DataFusion session (`e` and `a`) and compared in one
//! streamed full outer join on the key (`IS NOT DISTINCT FROM`: null keys match null keys), so
//! that 10M rows against 10M rows never sit in memory; only the differing rows flow back, and
//! of those only counts and a few samples are kept. Before the join, one grouping per side
//! finds duplicate keys; with duplicates the rows are not compared (a row would meet several
//! partners), and the duplicates are reported with samples.
//!
//! Cells: nulls equal nulls; integers are equal when equal; other numbers (of any numeric
//! types) when `|expected - actual| <= abs + rel * |expected|`, NaN equals NaN; other values
//! are equal
//! when they are the same value of the same type, or, for a column whose type changed, the
//! same text. Row order never matters.

use std::path::Path;

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde_json::{Map, Value};
use tollgate_core::SourceDecl;

use crate::error::{DataError, Result, engine_message};
use crate::profile::json_cell;
use crate::run::Engine;
use crate::sql::{ident, type_name};

/// How two datasets are compared.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Key columns: rows are matched on them.
    pub key: Vec<String>,
    /// Compare only these columns (the key is always compared).
    pub columns: Option<Vec<String>>,
    /// Leave these columns out.
    pub ignore: Vec<String>,
    /// Absolute tolerance of numbers.
    pub abs: f64,
    /// Relative tolerance of numbers (relative to the expected value).
    pub rel: f64,
    /// Per-column tolerances `(column, abs, rel)`, overriding the default.
    pub per_column: Vec<(String, f64, f64)>,
    /// Samples kept per kind of difference.
    pub samples: usize,
}

/// One column's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDiff {
    /// The column.
    pub name: String,
    /// Rows (matched on the key) whose values differ.
    pub mismatches: u64,
    /// A few of them: key values, then `expected` and `actual`.
    pub samples: Vec<Map<String, Value>>,
    /// Why the column was not compared, if it was not.
    pub not_compared: Option<String>,
    /// Whether it was compared as numbers with the tolerances (integers compare exactly).
    pub numeric: bool,
}

/// What differs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiffResult {
    /// Rows of the expected dataset.
    pub expected_rows: u64,
    /// Rows of the actual dataset.
    pub actual_rows: u64,
    /// Columns only in the expected dataset: (name, type).
    pub removed: Vec<(String, String)>,
    /// Columns only in the actual dataset: (name, type).
    pub added: Vec<(String, String)>,
    /// Columns whose type differs: (name, expected type, actual type).
    pub retyped: Vec<(String, String, String)>,
    /// Key values found more than once: (in expected, in actual) counts of such keys.
    pub duplicate_keys: (u64, u64),
    /// A few duplicated keys with their counts (`side`, key values, `rows`).
    pub duplicate_samples: Vec<Map<String, Value>>,
    /// Rows whose key is only in the expected dataset.
    pub only_expected: u64,
    /// Rows whose key is only in the actual dataset.
    pub only_actual: u64,
    /// A few of them (key values, `side`).
    pub only_samples: Vec<Map<String, Value>>,
    /// Rows matched on the key (and compared).
    pub matched: u64,
    /// Whether the values were compared (not with duplicate keys).
    pub compared: bool,
    /// Per compared column.
    pub columns: Vec<ColumnDiff>,
}

impl DiffResult {
    /// Whether anything differs (schema, rows, keys or values).
    pub fn differs(&self) -> bool {
        !self.removed.is_empty()
            || !self.added.is_empty()
            || !self.retyped.is_empty()
            || self.duplicate_keys != (0, 0)
            || self.only_expected > 0
            || self.only_actual > 0
            || self.expected_rows != self.actual_rows
            || self.columns.iter().any(|c| c.mismatches > 0)
    }
}

fn nested(t: &DataType) -> bool {
    t.is_nested() || matches!(t, DataType::Map(..) | DataType::Union(..))
}

/// Can values of these two types be compared (as numbers, or as the same kind of value)?
fn comparable(a: &DataType, b: &DataType) -> bool {
    (a.is_numeric() && b.is_numeric()) || type_name(a) == type_name(b)
}

async fn collect(ctx: &SessionContext, q: &str) -> Result<Vec<RecordBatch>> {
    let df = ctx
        .sql(q)
        .await
        .map_err(|e| DataError::Plan(engine_message(&e)))?;
    df.collect().await.map_err(|e| {
        let msg = crate::memory::explain(engine_message(&e));
        DataError::Source(format!("reading the data failed: {msg}"))
    })
}

async fn count(ctx: &SessionContext, table: &str) -> Result<u64> {
    let b = collect(ctx, &format!("SELECT COUNT(*) FROM {table}")).await?;
    Ok(b.first()
        .filter(|b| b.num_rows() > 0)
        .and_then(|b| json_cell(b.column(0), 0).as_u64())
        .unwrap_or(0))
}

/// The rows (among those `mask` selects) with the `n` smallest keys, smallest first.
fn smallest_rows(
    keys: &[datafusion::arrow::array::ArrayRef],
    mask: Option<&BooleanArray>,
    n: usize,
) -> Result<Vec<usize>> {
    use datafusion::arrow::compute::{SortColumn, filter, lexsort_to_indices};
    if n == 0 || keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<u32> = match mask {
        Some(m) => (0..m.len() as u32)
            .filter(|&r| m.is_valid(r as usize) && m.value(r as usize))
            .collect(),
        None => (0..keys[0].len() as u32).collect(),
    };
    let picked: Vec<datafusion::arrow::array::ArrayRef> = match mask {
        Some(m) => keys
            .iter()
            .map(|k| filter(k.as_ref(), m))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| DataError::Internal(e.to_string()))?,
        None => keys.to_vec(),
    };
    let columns: Vec<SortColumn> = picked
        .into_iter()
        .map(|values| SortColumn {
            values,
            options: None,
        })
        .collect();
    let order =
        lexsort_to_indices(&columns, Some(n)).map_err(|e| DataError::Internal(e.to_string()))?;
    Ok(order
        .values()
        .iter()
        .filter_map(|&i| rows.get(i as usize).map(|&r| r as usize))
        .collect())
}

/// Order JSON cells as the engine sorts them: nulls first, numbers by value, text by bytes.
fn cmp_cells(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        (Some(Value::Number(x)), Some(Value::Number(y))) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => x
                .as_f64()
                .unwrap_or(f64::NAN)
                .total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        },
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
    }
}

/// Keep the `n` samples with the smallest keys, in key order.
fn keep_smallest(
    kept: &mut Vec<Map<String, Value>>,
    m: Map<String, Value>,
    n: usize,
    keys: &[String],
) {
    let order = |a: &Map<String, Value>, b: &Map<String, Value>| {
        keys.iter()
            .map(|k| cmp_cells(a.get(k), b.get(k)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    let at = kept.partition_point(|x| order(x, &m).is_le());
    if at < n {
        kept.insert(at, m);
        kept.truncate(n);
    }
}

fn flag(b: &RecordBatch, name: &str) -> Option<BooleanArray> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<BooleanArray>().cloned())
}

impl Engine {
    /// Compare `actual` with `expected`, rows matched on `opts.key`.
    pub async fn diff(
        &self,
        expected: &SourceDecl,
        actual: &SourceDecl,
        base: &Path,
        opts: &DiffOptions,
    ) -> Result<DiffResult> {
        let both = format!("{} or {}", expected.path, actual.path);
        self.diff_at(expected, actual, base, opts)
            .await
            .map_err(|e| e.at(&both))
    }

    async fn diff_at(
        &self,
        expected: &SourceDecl,
        actual: &SourceDecl,
        base: &Path,
        opts: &DiffOptions,
    ) -> Result<DiffResult> {
        if opts.key.is_empty() {
            return Err(DataError::Plan(
                "a diff needs key columns to match rows (--key / `key:`)".into(),
            ));
        }
        let (pe, pa) = (
            self.prepare(expected, base, &[]).await?,
            self.prepare(actual, base, &[]).await?,
        );
        let ctx = self.context(None);
        ctx.register_table("e", pe.source.provider.clone())
            .map_err(|e| DataError::Plan(e.to_string()))?;
        ctx.register_table("a", pa.source.provider.clone())
            .map_err(|e| DataError::Plan(e.to_string()))?;
        let (se, sa) = (pe.source.raw_schema(), pa.source.raw_schema());
        let field = |s: &datafusion::arrow::datatypes::Schema, n: &str| {
            s.field_with_name(n).ok().map(|f| f.data_type().clone())
        };
        for k in &opts.key {
            match (field(&se, k), field(&sa, k)) {
                (Some(x), Some(y)) if comparable(&x, &y) && !nested(&x) => {}
                (Some(x), Some(y)) => {
                    return Err(DataError::Plan(format!(
                        "key column `{k}` is {} in {} and {} in {}: keys of these types cannot be matched",
                        type_name(&x),
                        expected.path,
                        type_name(&y),
                        actual.path
                    )));
                }
                (x, _) => {
                    return Err(DataError::Plan(format!(
                        "key column `{k}` is missing in {}",
                        if x.is_none() {
                            &expected.path
                        } else {
                            &actual.path
                        }
                    )));
                }
            }
        }
        let wanted = |n: &str| {
            opts.columns
                .as_ref()
                .is_none_or(|c| c.iter().any(|x| x == n) || opts.key.iter().any(|k| k == n))
                && !opts.ignore.iter().any(|x| x == n)
        };
        if let Some(cols) = &opts.columns {
            for c in cols {
                if field(&se, c).is_none() && field(&sa, c).is_none() {
                    return Err(DataError::Plan(format!(
                        "column `{c}` is in neither {} nor {}",
                        expected.path, actual.path
                    )));
                }
            }
        }
        let mut out = DiffResult::default();
        let mut compare: Vec<(String, DataType, DataType)> = Vec::new();
        for f in se.fields().iter().filter(|f| wanted(f.name())) {
            match field(&sa, f.name()) {
                None => out
                    .removed
                    .push((f.name().clone(), type_name(f.data_type()))),
                Some(t) => {
                    if type_name(&t) != type_name(f.data_type()) {
                        out.retyped.push((
                            f.name().clone(),
                            type_name(f.data_type()),
                            type_name(&t),
                        ));
                    }
                    if !opts.key.contains(f.name()) {
                        compare.push((f.name().clone(), f.data_type().clone(), t));
                    }
                }
            }
        }
        for f in sa.fields().iter().filter(|f| wanted(f.name())) {
            if field(&se, f.name()).is_none() {
                out.added.push((f.name().clone(), type_name(f.data_type())));
            }
        }
        out.expected_rows = count(&ctx, "e").await?;
        out.actual_rows = count(&ctx, "a").await?;

        // Duplicate keys, one grouping per side.
        let keys: Vec<String> = opts.key.iter().map(|k| ident(k)).collect();
        let key_list = keys.join(", ");
        for (table, side) in [("e", "expected"), ("a", "actual")] {
            let q = format!(
                "SELECT {key_list}, COUNT(*) AS __rows FROM {table} GROUP BY {key_list} HAVING COUNT(*) > 1"
            );
            let mut found = 0u64;
            let mut kept: Vec<Map<String, Value>> = Vec::new();
            for b in collect(&ctx, &q).await? {
                let key_cols: Vec<_> = (0..opts.key.len()).map(|i| b.column(i).clone()).collect();
                for r in smallest_rows(&key_cols, None, opts.samples)? {
                    let mut m = Map::new();
                    m.insert("side".into(), Value::String(side.into()));
                    for (i, k) in opts.key.iter().enumerate() {
                        m.insert(k.clone(), json_cell(b.column(i), r));
                    }
                    m.insert("rows".into(), json_cell(b.column(opts.key.len()), r));
                    keep_smallest(&mut kept, m, opts.samples, &opts.key);
                }
                found += b.num_rows() as u64;
            }
            out.duplicate_samples.extend(kept);
            if table == "e" {
                out.duplicate_keys.0 = found;
            } else {
                out.duplicate_keys.1 = found;
            }
        }
        out.columns = compare
            .iter()
            .map(|(name, x, y)| ColumnDiff {
                name: name.clone(),
                mismatches: 0,
                samples: Vec::new(),
                numeric: x.is_numeric() && y.is_numeric() && !(x.is_integer() && y.is_integer()),
                not_compared: (nested(x) || nested(y))
                    .then(|| format!("not compared: {} and {} values", type_name(x), type_name(y))),
            })
            .collect();
        if out.duplicate_keys != (0, 0) {
            for c in &mut out.columns {
                c.not_compared = Some("not compared: duplicate keys make rows ambiguous".into());
            }
            return Ok(out);
        }
        out.compared = true;

        // One streamed full outer join: only differing rows come back.
        let on: Vec<String> = keys
            .iter()
            .map(|k| format!("(e.{k} IS NOT DISTINCT FROM a.{k})"))
            .collect();
        let mut select: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| format!("CASE WHEN e.__tg_in THEN e.{k} ELSE a.{k} END AS __k{i}"))
            .collect();
        select.push("a.__tg_in IS NULL AS __only_e".into());
        select.push("e.__tg_in IS NULL AS __only_a".into());
        let mut flags = vec!["__only_e".to_string(), "__only_a".to_string()];
        for (i, ((name, x, y), c)) in compare.iter().zip(&out.columns).enumerate() {
            if c.not_compared.is_some() {
                continue;
            }
            let (abs, rel) = opts
                .per_column
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, a, r)| (*a, *r))
                .unwrap_or((opts.abs, opts.rel));
            let (ec, ac) = (format!("e.{}", ident(name)), format!("a.{}", ident(name)));
            let differs = if x.is_integer() && y.is_integer() {
                format!("{ec} IS DISTINCT FROM {ac}")
            } else if x.is_numeric() && y.is_numeric() {
                let (xe, xa) = (
                    format!("CAST({ec} AS DOUBLE)"),
                    format!("CAST({ac} AS DOUBLE)"),
                );
                format!(
                    "CASE WHEN {ec} IS NULL AND {ac} IS NULL THEN FALSE \
                     WHEN {ec} IS NULL OR {ac} IS NULL THEN TRUE \
                     WHEN isnan({xe}) AND isnan({xa}) THEN FALSE \
                     WHEN {xe} = {xa} THEN FALSE \
                     ELSE NOT (abs({xe} - {xa}) <= {abs:?} + {rel:?} * abs({xe})) END"
                )
            } else if type_name(x) == type_name(y) {
                format!("{ec} IS DISTINCT FROM {ac}")
            } else {
                format!("CAST({ec} AS VARCHAR) IS DISTINCT FROM CAST({ac} AS VARCHAR)")
            };
            select.push(format!(
                "COALESCE(e.__tg_in AND a.__tg_in AND ({differs}), FALSE) AS __m{i}"
            ));
            select.push(format!("{ec} AS __e{i}"));
            select.push(format!("{ac} AS __a{i}"));
            flags.push(format!("__m{i}"));
        }
        let q = format!(
            "SELECT * FROM (SELECT {} FROM (SELECT *, TRUE AS __tg_in FROM e) e \
             FULL OUTER JOIN (SELECT *, TRUE AS __tg_in FROM a) a ON {}) WHERE {}",
            select.join(", "),
            on.join(" AND "),
            flags.join(" OR ")
        );
        let df = ctx
            .sql(&q)
            .await
            .map_err(|e| DataError::Plan(engine_message(&e)))?;
        let mut stream = df
            .execute_stream()
            .await
            .map_err(|e| DataError::Source(engine_message(&e)))?;
        let key_map = |b: &RecordBatch, r: usize| {
            let mut m = Map::new();
            for (i, k) in opts.key.iter().enumerate() {
                if let Some(c) = b.column_by_name(&format!("__k{i}")) {
                    m.insert(k.clone(), json_cell(c, r));
                }
            }
            m
        };
        // Samples are the differing rows with the smallest keys: the same on every run,
        // whatever order the parallel join returns rows in.
        let mut only_e: Vec<Map<String, Value>> = Vec::new();
        let mut only_a: Vec<Map<String, Value>> = Vec::new();
        while let Some(batch) = stream.next().await {
            let b = batch.map_err(|e| {
                let msg = crate::memory::explain(engine_message(&e));
                DataError::Source(format!("reading the data failed: {msg}"))
            })?;
            let key_cols: Vec<_> = (0..opts.key.len())
                .filter_map(|i| b.column_by_name(&format!("__k{i}")).cloned())
                .collect();
            for (name, side) in [("__only_e", "expected"), ("__only_a", "actual")] {
                let Some(f) = flag(&b, name) else { continue };
                let n = f.true_count() as u64;
                if name == "__only_e" {
                    out.only_expected += n;
                } else {
                    out.only_actual += n;
                }
                if n == 0 {
                    continue;
                }
                let kept = if name == "__only_e" {
                    &mut only_e
                } else {
                    &mut only_a
                };
                for r in smallest_rows(&key_cols, Some(&f), opts.samples)? {
                    let mut m = key_map(&b, r);
                    m.insert("side".into(), Value::String(side.into()));
                    keep_smallest(kept, m, opts.samples, &opts.key);
                }
            }
            for (i, c) in out.columns.iter_mut().enumerate() {
                let Some(f) = flag(&b, &format!("__m{i}")) else {
                    continue;
                };
                let n = f.true_count();
                c.mismatches += n as u64;
                if n == 0 {
                    continue;
                }
                for r in smallest_rows(&key_cols, Some(&f), opts.samples)? {
                    let mut m = key_map(&b, r);
                    for (label, col) in [("expected", "__e"), ("actual", "__a")] {
                        if let Some(v) = b.column_by_name(&format!("{col}{i}")) {
                            m.insert(label.into(), json_cell(v, r));
                        }
                    }
                    keep_smallest(&mut c.samples, m, opts.samples, &opts.key);
                }
            }
        }
        out.only_samples = only_e.into_iter().chain(only_a).collect();
        out.matched = out.expected_rows.saturating_sub(out.only_expected);
        Ok(out)
    }
}
