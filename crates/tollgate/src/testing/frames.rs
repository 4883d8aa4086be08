//! Frame equality for `cargo test`: [`assert_frames_eq!`](crate::assert_frames_eq) over Arrow
//! record batches or data files.
//!
//! ```
//! use std::sync::Arc;
//! use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
//! use tollgate::testing::frames::FrameEq;
//!
//! let batch = |ids: Vec<i64>, ctr: Vec<f64>| {
//!     RecordBatch::try_from_iter([
//!         ("item", Arc::new(Int64Array::from(ids)) as _),
//!         ("ctr", Arc::new(Float64Array::from(ctr)) as _),
//!     ])
//!     .unwrap()
//! };
//! let expected = batch(vec![1, 2], vec![0.5, 0.25]);
//! let actual = batch(vec![2, 1], vec![0.25 + 1e-12, 0.5]);
//! tollgate::assert_frames_eq!(&expected, &actual, FrameEq::new().ignore_order().abs_tol(1e-9));
//! ```
//!
//! Rules: columns are matched by name (order of columns does not matter); types must be equal
//! unless [`FrameEq::check_types`] is off (then numbers compare as numbers and the rest as
//! text); nulls equal nulls and NaN equals NaN; a floating-point cell is equal when
//! `|left - right| <= abs_tol + rel_tol * |left|` (the left side is the expected one, as in
//! `tollgate diff EXPECTED ACTUAL`). Rows are compared by position, by position
//! after sorting both sides by every compared column ([`FrameEq::ignore_order`]), or matched
//! by key ([`FrameEq::key`], which also reports keys found on one side only and duplicate
//! keys).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use tollgate_data::sql::type_name;

/// How two frames are compared.
#[derive(Debug, Clone, Default)]
pub struct FrameEq {
    ignore_order: bool,
    abs_tol: f64,
    rel_tol: f64,
    columns: Option<Vec<String>>,
    ignore: Vec<String>,
    key: Vec<String>,
    lenient_types: bool,
    shown: Option<usize>,
}

impl FrameEq {
    /// Exact comparison, row by row, every column.
    pub fn new() -> Self {
        FrameEq::default()
    }

    /// Compare the rows as multisets: both sides sorted by every compared column first.
    pub fn ignore_order(mut self) -> Self {
        self.ignore_order = true;
        self
    }

    /// Absolute tolerance of floating-point cells.
    pub fn abs_tol(mut self, tol: f64) -> Self {
        self.abs_tol = tol;
        self
    }

    /// Relative tolerance of floating-point cells (relative to the left, expected, value).
    pub fn rel_tol(mut self, tol: f64) -> Self {
        self.rel_tol = tol;
        self
    }

    /// Compare only these columns.
    pub fn columns(mut self, names: &[&str]) -> Self {
        self.columns = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Leave these columns out.
    pub fn ignore_columns(mut self, names: &[&str]) -> Self {
        self.ignore.extend(names.iter().map(|s| s.to_string()));
        self
    }

    /// Match rows by these key columns instead of by position.
    pub fn key(mut self, names: &[&str]) -> Self {
        self.key = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Whether column types must be equal (default true). When false, numbers of any type
    /// compare as numbers and everything else as its text.
    pub fn check_types(mut self, check: bool) -> Self {
        self.lenient_types = !check;
        self
    }

    /// How many differing rows a failure shows (default 10).
    pub fn show(mut self, rows: usize) -> Self {
        self.shown = Some(rows);
        self
    }
}

/// Something that can be read as a frame: record batches, or a data file (CSV, Parquet, JSON
/// lines, Arrow IPC; read with tollgate's readers).
pub trait IntoFrame {
    /// The frame, or why it cannot be read.
    fn into_frame(self) -> Result<RecordBatch, String>;
}

impl IntoFrame for RecordBatch {
    fn into_frame(self) -> Result<RecordBatch, String> {
        Ok(self)
    }
}

impl IntoFrame for &RecordBatch {
    fn into_frame(self) -> Result<RecordBatch, String> {
        Ok(self.clone())
    }
}

impl IntoFrame for &[RecordBatch] {
    fn into_frame(self) -> Result<RecordBatch, String> {
        let schema = self
            .first()
            .map(|b| b.schema())
            .unwrap_or_else(|| Arc::new(Schema::empty()));
        concat_batches(&schema, self).map_err(|e| e.to_string())
    }
}

impl IntoFrame for Vec<RecordBatch> {
    fn into_frame(self) -> Result<RecordBatch, String> {
        self.as_slice().into_frame()
    }
}

impl IntoFrame for &Vec<RecordBatch> {
    fn into_frame(self) -> Result<RecordBatch, String> {
        self.as_slice().into_frame()
    }
}

impl IntoFrame for &Path {
    fn into_frame(self) -> Result<RecordBatch, String> {
        read_file(self)
    }
}

impl IntoFrame for &PathBuf {
    fn into_frame(self) -> Result<RecordBatch, String> {
        read_file(self)
    }
}

impl IntoFrame for PathBuf {
    fn into_frame(self) -> Result<RecordBatch, String> {
        read_file(&self)
    }
}

impl IntoFrame for &str {
    fn into_frame(self) -> Result<RecordBatch, String> {
        read_file(Path::new(self))
    }
}

impl IntoFrame for &String {
    fn into_frame(self) -> Result<RecordBatch, String> {
        read_file(Path::new(self))
    }
}

/// Read a whole file with tollgate's reader (on a thread of its own, so that this works in
/// async tests too).
pub fn read_file(path: &Path) -> Result<RecordBatch, String> {
    let decl = crate::SourceDecl::file("frame", &path.display().to_string());
    let shown = path.display().to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(crate::Engine::default().read_rows(&decl, Path::new("."), None))
            .map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| format!("{shown}: the reader panicked"))?
    .map_err(|e| format!("{shown}: {e}"))
}

/// One cell, as compared.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Num(f64),
    Text(String),
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => write!(f, "null"),
            Cell::Num(x) => write!(f, "{x:?}"),
            Cell::Text(s) => {
                let short: String = s.chars().take(40).collect();
                if short.len() < s.len() {
                    write!(f, "{short:?}…")
                } else {
                    write!(f, "{s:?}")
                }
            }
        }
    }
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64)
}

/// How a column's cells compare.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Same types: non-integer numbers as numbers, integers and the rest exactly, as text.
    Typed,
    /// Two different number types: as numbers.
    Numbers,
    /// Two different types, not both numbers: as text.
    Text,
}

/// The cells of a column.
fn cells(col: &ArrayRef, mode: Mode) -> Vec<Cell> {
    let t = col.data_type();
    let as_number = match mode {
        Mode::Typed => is_float(t) || (t.is_numeric() && !t.is_integer()),
        Mode::Numbers => t.is_numeric(),
        Mode::Text => false,
    };
    if as_number
        && let Ok(f) = datafusion::arrow::compute::cast(col, &DataType::Float64)
        && let Some(f) = f
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Float64Array>()
    {
        return (0..f.len())
            .map(|i| {
                if f.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Num(f.value(i))
                }
            })
            .collect();
    }
    let fmt = ArrayFormatter::try_new(col.as_ref(), &FormatOptions::default());
    // Logical nulls: a column of the null type has no null buffer, yet every value is null.
    let nulls = col.logical_nulls();
    (0..col.len())
        .map(|i| {
            if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                Cell::Null
            } else {
                match &fmt {
                    Ok(f) => Cell::Text(f.value(i).to_string()),
                    Err(_) => Cell::Text("?".into()),
                }
            }
        })
        .collect()
}

fn equal(a: &Cell, b: &Cell, abs: f64, rel: f64) -> bool {
    match (a, b) {
        (Cell::Num(x), Cell::Num(y)) => {
            x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= abs + rel * x.abs()
        }
        _ => a == b,
    }
}

/// One differing cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CellDiff {
    /// The column.
    pub column: String,
    /// Left value, as shown.
    pub left: String,
    /// Right value, as shown.
    pub right: String,
}

/// One differing row: where it is on each side, its key (or position) and its differing cells.
#[derive(Debug, Clone, PartialEq)]
pub struct RowDiff {
    /// The key values (or `row N` when rows are compared by position).
    pub at: String,
    /// Row number on the left and the right (after sorting, when order is ignored).
    pub rows: (usize, usize),
    /// The cells that differ.
    pub cells: Vec<CellDiff>,
}

/// What differs between two frames.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameDiff {
    /// Columns only on the left.
    pub only_left_columns: Vec<String>,
    /// Columns only on the right.
    pub only_right_columns: Vec<String>,
    /// Columns of different types: (name, left type, right type).
    pub retyped: Vec<(String, String, String)>,
    /// Rows on each side.
    pub rows: (usize, usize),
    /// Keys only on the left (shown as text), by key.
    pub only_left_keys: Vec<String>,
    /// Keys only on the right.
    pub only_right_keys: Vec<String>,
    /// Keys found more than once on the left / the right.
    pub duplicate_keys: (Vec<String>, Vec<String>),
    /// Per compared column: how many compared rows differ.
    pub mismatches: Vec<(String, usize)>,
    /// The differing rows (all of them).
    pub differing: Vec<RowDiff>,
    /// How many rows a message shows.
    shown: usize,
    /// Why the frames could not be compared at all.
    error: Option<String>,
    /// How rows were paired, for the message.
    pairing: String,
}

impl FrameDiff {
    /// Whether the frames are equal.
    pub fn is_empty(&self) -> bool {
        self.only_left_columns.is_empty()
            && self.only_right_columns.is_empty()
            && self.retyped.is_empty()
            && self.rows.0 == self.rows.1
            && self.only_left_keys.is_empty()
            && self.only_right_keys.is_empty()
            && self.duplicate_keys.0.is_empty()
            && self.duplicate_keys.1.is_empty()
            && self.differing.is_empty()
            && self.error.is_none()
    }
}

fn list(v: &[String], max: usize) -> String {
    let mut s = v
        .iter()
        .take(max)
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if v.len() > max {
        s.push_str(&format!(", … ({} in all)", v.len()));
    }
    s
}

impl fmt::Display for FrameDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.error {
            return writeln!(f, "the frames cannot be compared: {e}");
        }
        writeln!(
            f,
            "frames differ (left {} rows, right {} rows):",
            self.rows.0, self.rows.1
        )?;
        if !self.only_left_columns.is_empty() {
            writeln!(
                f,
                "  columns only on the left: {}",
                list(&self.only_left_columns, 20)
            )?;
        }
        if !self.only_right_columns.is_empty() {
            writeln!(
                f,
                "  columns only on the right: {}",
                list(&self.only_right_columns, 20)
            )?;
        }
        for (c, l, r) in &self.retyped {
            writeln!(f, "  column `{c}`: {l} on the left, {r} on the right")?;
        }
        if self.rows.0 != self.rows.1 {
            writeln!(f, "  row counts differ: {} vs {}", self.rows.0, self.rows.1)?;
        }
        if !self.only_left_keys.is_empty() {
            writeln!(
                f,
                "  keys only on the left: {}",
                list(&self.only_left_keys, 10)
            )?;
        }
        if !self.only_right_keys.is_empty() {
            writeln!(
                f,
                "  keys only on the right: {}",
                list(&self.only_right_keys, 10)
            )?;
        }
        if !self.duplicate_keys.0.is_empty() {
            writeln!(
                f,
                "  duplicate keys on the left: {}",
                list(&self.duplicate_keys.0, 10)
            )?;
        }
        if !self.duplicate_keys.1.is_empty() {
            writeln!(
                f,
                "  duplicate keys on the right: {}",
                list(&self.duplicate_keys.1, 10)
            )?;
        }
        let counts: Vec<String> = self
            .mismatches
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| format!("{c} ({n})"))
            .collect();
        if !counts.is_empty() {
            writeln!(
                f,
                "  {} of the compared rows differ ({}), by column: {}",
                self.differing.len(),
                self.pairing,
                counts.join(", ")
            )?;
            for d in self.differing.iter().take(self.shown) {
                let cells: Vec<String> = d
                    .cells
                    .iter()
                    .map(|c| format!("{}: {} ≠ {}", c.column, c.left, c.right))
                    .collect();
                writeln!(f, "    {:<16} {}", d.at, cells.join("; "))?;
            }
            if self.differing.len() > self.shown {
                writeln!(f, "    … {} more", self.differing.len() - self.shown)?;
            }
        }
        Ok(())
    }
}

/// Sort a frame's rows by the given columns (all of them, in order).
fn sorted(batch: &RecordBatch, by: &[String]) -> Result<RecordBatch, String> {
    if batch.num_rows() < 2 || by.is_empty() {
        return Ok(batch.clone());
    }
    let cols: Vec<ArrayRef> = by
        .iter()
        .filter_map(|c| batch.column_by_name(c).cloned())
        .collect();
    let fields = cols
        .iter()
        .map(|c| SortField::new(c.data_type().clone()))
        .collect();
    let conv = RowConverter::new(fields).map_err(|e| e.to_string())?;
    let rows = conv.convert_columns(&cols).map_err(|e| e.to_string())?;
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.sort_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));
    let idx = datafusion::arrow::array::UInt32Array::from(order);
    let columns = batch
        .columns()
        .iter()
        .map(|c| take(c.as_ref(), &idx, None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    RecordBatch::try_new(batch.schema(), columns).map_err(|e| e.to_string())
}

/// Compare two frames; `Ok` when equal under `opts`.
pub fn compare(
    left: impl IntoFrame,
    right: impl IntoFrame,
    opts: &FrameEq,
) -> Result<(), Box<FrameDiff>> {
    let diff = diff_frames(left, right, opts).map_err(|e| {
        Box::new(FrameDiff {
            error: Some(e),
            ..FrameDiff::default()
        })
    })?;
    if diff.is_empty() {
        Ok(())
    } else {
        Err(Box::new(diff))
    }
}

/// Everything that differs between two frames under `opts` (empty when equal).
pub fn diff_frames(
    left: impl IntoFrame,
    right: impl IntoFrame,
    opts: &FrameEq,
) -> Result<FrameDiff, String> {
    let (l, r) = (left.into_frame()?, right.into_frame()?);
    let names = |b: &RecordBatch| -> Vec<String> {
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    let (ln, rn) = (names(&l), names(&r));
    let wanted = |n: &String| {
        opts.columns.as_ref().is_none_or(|c| c.contains(n)) && !opts.ignore.contains(n)
    };
    let mut d = FrameDiff {
        shown: opts.shown.unwrap_or(10),
        rows: (l.num_rows(), r.num_rows()),
        ..FrameDiff::default()
    };
    if let Some(cols) = &opts.columns {
        for c in cols {
            if !ln.contains(c) && !rn.contains(c) {
                return Err(format!("column `{c}` is on neither side"));
            }
        }
    }
    d.only_left_columns = ln
        .iter()
        .filter(|n| wanted(n) && !rn.contains(n))
        .cloned()
        .collect();
    d.only_right_columns = rn
        .iter()
        .filter(|n| wanted(n) && !ln.contains(n))
        .cloned()
        .collect();
    let common: Vec<String> = ln
        .iter()
        .filter(|n| wanted(n) && rn.contains(n))
        .cloned()
        .collect();
    for k in &opts.key {
        if !ln.contains(k) || !rn.contains(k) {
            return Err(format!(
                "key column `{k}` is missing on the {}",
                if ln.contains(k) { "right" } else { "left" }
            ));
        }
    }
    let mut compared = Vec::new();
    // Key columns are equal on matched rows: they are not compared again.
    for c in common.iter().filter(|c| !opts.key.contains(c)) {
        let (Some(a), Some(b)) = (l.column_by_name(c), r.column_by_name(c)) else {
            continue;
        };
        // Types as tollgate names them: the three Arrow string layouts are one type.
        let (ta, tb) = (type_name(a.data_type()), type_name(b.data_type()));
        if ta != tb && !opts.lenient_types {
            d.retyped.push((c.clone(), ta, tb));
        }
        compared.push(c.clone());
    }
    // Pair the rows.
    let (l, r) = if opts.ignore_order && opts.key.is_empty() {
        (sorted(&l, &compared)?, sorted(&r, &compared)?)
    } else {
        (l, r)
    };
    // Integers compare exactly; a column whose two types differ (both numbers) compares as
    // numbers.
    let retyped: Vec<Mode> = compared
        .iter()
        .map(|c| {
            let t = |b: &RecordBatch| b.column_by_name(c).map(|x| x.data_type().clone());
            match (t(&l), t(&r)) {
                (Some(x), Some(y)) if type_name(&x) == type_name(&y) => Mode::Typed,
                (Some(x), Some(y)) if x.is_numeric() && y.is_numeric() => Mode::Numbers,
                _ => Mode::Text,
            }
        })
        .collect();
    let lc: Vec<Vec<Cell>> = compared
        .iter()
        .zip(&retyped)
        .filter_map(|(c, re)| l.column_by_name(c).map(|x| cells(x, *re)))
        .collect();
    let rc: Vec<Vec<Cell>> = compared
        .iter()
        .zip(&retyped)
        .filter_map(|(c, re)| r.column_by_name(c).map(|x| cells(x, *re)))
        .collect();
    // The key of each row, as text.
    let keys_of = |b: &RecordBatch| -> Vec<String> {
        let cols: Vec<Vec<Cell>> = opts
            .key
            .iter()
            .filter_map(|k| b.column_by_name(k))
            .map(|c| cells(c, Mode::Typed))
            .collect();
        (0..b.num_rows())
            .map(|i| {
                cols.iter()
                    .map(|c| match &c[i] {
                        Cell::Text(t) => t.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect()
    };
    let pairs: Vec<(usize, usize, String)> = if opts.key.is_empty() {
        d.pairing = if opts.ignore_order {
            "rows sorted, then by position".into()
        } else {
            "by position".into()
        };
        (0..l.num_rows().min(r.num_rows()))
            .map(|i| (i, i, format!("row {i}")))
            .collect()
    } else {
        d.pairing = format!("matched on {}", opts.key.join(", "));
        let index = |b: &RecordBatch| {
            let mut m: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, k) in keys_of(b).into_iter().enumerate() {
                m.entry(k).or_default().push(i);
            }
            m
        };
        let (li, ri) = (index(&l), index(&r));
        let dups = |m: &HashMap<String, Vec<usize>>| {
            let mut v: Vec<String> = m
                .iter()
                .filter(|(_, rows)| rows.len() > 1)
                .map(|(k, _)| k.clone())
                .collect();
            v.sort();
            v
        };
        d.duplicate_keys = (dups(&li), dups(&ri));
        let mut only_l: Vec<(usize, String)> = li
            .iter()
            .filter(|(k, _)| !ri.contains_key(*k))
            .map(|(k, rows)| (rows[0], k.clone()))
            .collect();
        only_l.sort();
        d.only_left_keys = only_l.into_iter().map(|(_, k)| k).collect();
        let mut only_r: Vec<(usize, String)> = ri
            .iter()
            .filter(|(k, _)| !li.contains_key(*k))
            .map(|(k, rows)| (rows[0], k.clone()))
            .collect();
        only_r.sort();
        d.only_right_keys = only_r.into_iter().map(|(_, k)| k).collect();
        // Unique keys on both sides are compared; duplicated ones are reported only.
        let mut p: Vec<(usize, usize, String)> = li
            .iter()
            .filter_map(
                |(k, rows)| match (rows.as_slice(), ri.get(k).map(|v| v.as_slice())) {
                    ([a], Some([b])) => Some((*a, *b, k.clone())),
                    _ => None,
                },
            )
            .collect();
        p.sort();
        p
    };
    let mut counts = vec![0usize; compared.len()];
    for (a, b, at) in pairs {
        let mut cells_differ = Vec::new();
        for (j, name) in compared.iter().enumerate() {
            let (x, y) = (&lc[j][a], &rc[j][b]);
            if !equal(x, y, opts.abs_tol, opts.rel_tol) {
                counts[j] += 1;
                cells_differ.push(CellDiff {
                    column: name.clone(),
                    left: x.to_string(),
                    right: y.to_string(),
                });
            }
        }
        if !cells_differ.is_empty() {
            d.differing.push(RowDiff {
                at,
                rows: (a, b),
                cells: cells_differ,
            });
        }
    }
    d.mismatches = compared.into_iter().zip(counts).collect();
    Ok(d)
}

/// Assert that two frames (record batches, or data files) are equal, optionally under a
/// [`FrameEq`]; on failure, panic with what differs and the first differing rows.
#[macro_export]
macro_rules! assert_frames_eq {
    ($left:expr, $right:expr $(,)?) => {
        $crate::assert_frames_eq!($left, $right, $crate::testing::frames::FrameEq::new())
    };
    ($left:expr, $right:expr, $opts:expr $(,)?) => {
        if let Err(diff) = $crate::testing::frames::compare($left, $right, &$opts) {
            panic!(
                "assert_frames_eq!({}, {}) failed\n{}",
                stringify!($left),
                stringify!($right),
                diff
            );
        }
    };
}
