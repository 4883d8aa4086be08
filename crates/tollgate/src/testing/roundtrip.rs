//! Round trips: write a record batch in one format with
//! [`write_batches`](tollgate_data::write::write_batches), read it back with tollgate's own
//! reader (the one checks run on), and say what changed, column by column.
//!
//! A column can come back with another type ([`ChangeKind::TypeChanged`]), with other values
//! ([`ChangeKind::ValuesChanged`]), both, or not at all ([`ChangeKind::Missing`]). When the type
//! changed, the values read back are cast to the written type before comparing, and the cast is
//! checked to be lossless for them (casting back gives the values read); so "type changed,
//! values kept" is told apart from "values changed". A timestamp without zone read back for
//! one with a zone is taken as UTC, as every reader here writes and reads instants.
//!
//! ```no_run
//! use datafusion::arrow::datatypes::{DataType, TimeUnit};
//! use tollgate::core::plan::Format;
//! use tollgate::testing::roundtrip::{Expect, assert_round_trip, assert_round_trip_changes};
//! # fn demo(batch: &datafusion::arrow::record_batch::RecordBatch) {
//! assert_round_trip(batch, Format::Arrow);
//! // CSV keeps the instants but not the zone; every other column must come back as written.
//! assert_round_trip_changes(
//!     batch,
//!     Format::Csv,
//!     &[("at", Expect::Type(DataType::Timestamp(TimeUnit::Nanosecond, None)))],
//! );
//! # }
//! ```

use std::fmt;
use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray};
use datafusion::arrow::compute::kernels::cmp::not_distinct;
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use tollgate_core::SourceDecl;
use tollgate_core::plan::Format;

/// What came back from a round trip.
#[derive(Debug, Clone)]
pub struct RoundTrip {
    /// The format written and read.
    pub format: Format,
    /// The rows as tollgate read them back.
    pub read: RecordBatch,
    /// What differs from the batch written, in column order (empty: everything kept).
    pub changes: Vec<Change>,
}

/// One difference between a column written and the column read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The column's name.
    pub column: String,
    /// What changed.
    pub kind: ChangeKind,
}

/// How a column changed. A column whose type and values both changed has two changes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChangeKind {
    /// Read back with another type.
    TypeChanged {
        /// The type written.
        from: DataType,
        /// The type read back.
        to: DataType,
    },
    /// Some values differ (compared in the written type where the cast is lossless).
    ValuesChanged {
        /// How many rows differ (a row missing on either side counts).
        rows: usize,
        /// The first differing row: (row, value written, value read), as text.
        first: (usize, String, String),
    },
    /// The column is not in what was read back.
    Missing,
    /// A column that was not written was read back.
    Added,
}

/// What a format is expected to do to one column (columns not named must be kept exactly).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Expect {
    /// Read back as this type, every value kept.
    Type(DataType),
    /// Same type, some values changed.
    Values,
    /// Read back as this type, and some values changed.
    TypeAndValues(DataType),
    /// Not read back.
    Missing,
}

/// Write `batch` in `format` to a temporary directory, read it back with tollgate's reader
/// ([`Engine::read_rows`](tollgate_data::Engine::read_rows)), and compare.
///
/// Errors (as text naming the file) when the batch cannot be written or the file not read.
/// Works in plain `#[test]`s and inside a Tokio runtime alike.
pub fn round_trip(batch: &RecordBatch, format: Format) -> Result<RoundTrip, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let path = dir.path().join(format!("round-trip.{}", extension(format)));
    tollgate_data::write::write_batches(std::slice::from_ref(batch), &path, format)
        .map_err(|e| e.to_string())?;
    let decl = SourceDecl {
        name: "round_trip".into(),
        pos: Default::default(),
        path: path.to_string_lossy().to_string(),
        format: Some(format),
        csv: Default::default(),
        postgres: None,
    };
    // Errors met while reading rows (not while opening) do not always say which file.
    let read = read_back(&decl, dir.path()).map_err(|e| {
        if e.contains(&decl.path) {
            e
        } else {
            format!("{}: {e}", decl.path)
        }
    })?;
    Ok(RoundTrip {
        format,
        changes: compare(batch, &read),
        read,
    })
}

/// Panic unless `batch` comes back from `format` exactly: same columns, types and values.
#[track_caller]
pub fn assert_round_trip(batch: &RecordBatch, format: Format) {
    assert_round_trip_changes(batch, format, &[]);
}

/// Panic unless `batch` comes back from `format` changed exactly as `expected` says: each named
/// column as stated, every other column kept. An expected change that does not happen fails
/// too, so a test states the truth about a format, not a bound on it.
#[track_caller]
pub fn assert_round_trip_changes(batch: &RecordBatch, format: Format, expected: &[(&str, Expect)]) {
    let rt = match round_trip(batch, format) {
        Ok(rt) => rt,
        Err(e) => panic!("round trip through {format:?} failed: {e}"),
    };
    if let Err(msg) = rt.check(batch, expected) {
        panic!("{msg}");
    }
}

impl RoundTrip {
    /// The changes to one column.
    pub fn changes_of(&self, column: &str) -> Vec<&Change> {
        self.changes.iter().filter(|c| c.column == column).collect()
    }

    /// `Ok` when the columns of `written` changed exactly as `expected` says (unnamed columns:
    /// kept); otherwise a message listing every column that did not.
    pub fn check(&self, written: &RecordBatch, expected: &[(&str, Expect)]) -> Result<(), String> {
        let mut wrong = Vec::new();
        for (name, _) in expected {
            if written.schema().field_with_name(name).is_err() {
                wrong.push(format!(
                    "  `{name}`: expected a change, but no such column was written"
                ));
            }
        }
        for field in written.schema().fields() {
            let name = field.name().as_str();
            let want = expected.iter().find(|(n, _)| *n == name).map(|(_, e)| e);
            let got = self.changes_of(name);
            if !matches_expect(&got, want) {
                wrong.push(format!(
                    "  `{name}`: expected {}, got {}",
                    describe_expect(want),
                    describe_changes(&got)
                ));
            }
        }
        for c in self.changes.iter().filter(|c| c.kind == ChangeKind::Added) {
            wrong.push(format!("  `{}`: {c}", c.column));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "round trip through {:?} ({} rows written, {} read) did not go as expected:\n{}",
                self.format,
                written.num_rows(),
                self.read.num_rows(),
                wrong.join("\n")
            ))
        }
    }
}

impl fmt::Display for RoundTrip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return write!(f, "{:?}: everything kept", self.format);
        }
        write!(f, "{:?}:", self.format)?;
        for c in &self.changes {
            write!(f, "\n  `{}`: {c}", c.column)?;
        }
        Ok(())
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ChangeKind::TypeChanged { from, to } => write!(f, "type {from} read back as {to}"),
            ChangeKind::ValuesChanged { rows, first } => write!(
                f,
                "{rows} value(s) changed, first in row {}: wrote {}, read {}",
                first.0, first.1, first.2
            ),
            ChangeKind::Missing => write!(f, "not read back"),
            ChangeKind::Added => write!(f, "read back but never written"),
        }
    }
}

fn matches_expect(got: &[&Change], want: Option<&Expect>) -> bool {
    let type_to = got.iter().find_map(|c| match &c.kind {
        ChangeKind::TypeChanged { to, .. } => Some(to),
        _ => None,
    });
    let values = got
        .iter()
        .any(|c| matches!(c.kind, ChangeKind::ValuesChanged { .. }));
    let missing = got.iter().any(|c| c.kind == ChangeKind::Missing);
    match want {
        None => got.is_empty(),
        Some(Expect::Missing) => missing,
        Some(Expect::Values) => !missing && type_to.is_none() && values,
        Some(Expect::Type(t)) => !missing && type_to == Some(t) && !values,
        Some(Expect::TypeAndValues(t)) => !missing && type_to == Some(t) && values,
    }
}

fn describe_expect(want: Option<&Expect>) -> String {
    match want {
        None => "it kept".to_string(),
        Some(Expect::Missing) => "it missing".to_string(),
        Some(Expect::Values) => "its type kept and some values changed".to_string(),
        Some(Expect::Type(t)) => format!("it read back as {t} with every value kept"),
        Some(Expect::TypeAndValues(t)) => format!("it read back as {t} with some values changed"),
    }
}

fn describe_changes(got: &[&Change]) -> String {
    if got.is_empty() {
        return "it kept".to_string();
    }
    got.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn extension(format: Format) -> &'static str {
    match format {
        Format::Csv => "csv",
        Format::Parquet => "parquet",
        Format::Json => "jsonl",
        Format::Arrow => "arrow",
    }
}

/// Read with tollgate's reader on a runtime of our own (on another thread when the caller is
/// already inside one: a runtime cannot block inside another).
fn read_back(decl: &SourceDecl, base: &Path) -> Result<RecordBatch, String> {
    let read = || -> Result<RecordBatch, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a Tokio runtime: {e}"))?;
        rt.block_on(tollgate_data::Engine::default().read_rows(decl, base, None))
            .map_err(|e| e.to_string())
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return read();
    }
    std::thread::scope(|s| {
        s.spawn(read)
            .join()
            .unwrap_or_else(|_| Err("the reading thread panicked".to_string()))
    })
}

/// Every difference between the batch written and the batch read.
fn compare(written: &RecordBatch, read: &RecordBatch) -> Vec<Change> {
    let mut changes = Vec::new();
    let read_schema = read.schema();
    for (i, field) in written.schema().fields().iter().enumerate() {
        let name = field.name().clone();
        let Ok(j) = read_schema.index_of(&name) else {
            changes.push(Change {
                column: name,
                kind: ChangeKind::Missing,
            });
            continue;
        };
        let w = written.column(i);
        let r = read.column(j);
        if w.data_type() != r.data_type() {
            changes.push(Change {
                column: name.clone(),
                kind: ChangeKind::TypeChanged {
                    from: w.data_type().clone(),
                    to: r.data_type().clone(),
                },
            });
        }
        if let Some((rows, first)) = differing_rows(w, r) {
            changes.push(Change {
                column: name,
                kind: ChangeKind::ValuesChanged { rows, first },
            });
        }
    }
    for f in read_schema.fields() {
        if written.schema().field_with_name(f.name()).is_err() {
            changes.push(Change {
                column: f.name().clone(),
                kind: ChangeKind::Added,
            });
        }
    }
    changes
}

/// How many rows differ and the first of them, or `None` when every value was kept.
fn differing_rows(w: &ArrayRef, r: &ArrayRef) -> Option<(usize, (usize, String, String))> {
    let n = w.len().min(r.len());
    let same = same_values(&w.slice(0, n), &r.slice(0, n));
    let mut rows = 0;
    let mut first = None;
    for row in 0..w.len().max(r.len()) {
        if same.get(row).copied().unwrap_or(false) {
            continue;
        }
        rows += 1;
        if first.is_none() {
            first = Some((row, show(w, row), show(r, row)));
        }
    }
    first.map(|f| (rows, f))
}

/// Per row, whether the value read is the value written: in the written type when a cast gets
/// it there losslessly, else as text.
fn same_values(w: &ArrayRef, r: &ArrayRef) -> Vec<bool> {
    if w.data_type() == r.data_type() {
        return equal(w, r).unwrap_or_else(|| same_text(w, r));
    }
    let Some(as_written) = cast_to(r, w.data_type()) else {
        return same_text(w, r);
    };
    let kept = equal(w, &as_written).unwrap_or_else(|| same_text(w, &as_written));
    if *r.data_type() == DataType::Null {
        // All null: nothing a cast could lose.
        return kept;
    }
    // Lossless for a row when casting back gives the value read (a cast that cannot go back
    // proves nothing: those rows count as changed).
    match cast_to(&as_written, r.data_type()).and_then(|b| equal(&b, r)) {
        Some(back) => kept.iter().zip(back).map(|(k, b)| *k && b).collect(),
        None => vec![false; w.len()],
    }
}

fn cast_to(a: &ArrayRef, to: &DataType) -> Option<ArrayRef> {
    let options = CastOptions {
        safe: true,
        format_options: FormatOptions::default(),
    };
    // Arrow takes a zoneless timestamp as wall-clock time in the new zone; the readers here
    // hand back instants (UTC), so go through UTC, which changes no value.
    if let (DataType::Timestamp(_, None), DataType::Timestamp(unit, Some(_))) = (a.data_type(), to)
    {
        let utc = DataType::Timestamp(*unit, Some("UTC".into()));
        let a = cast_with_options(a, &utc, &options).ok()?;
        return cast_with_options(&a, to, &options).ok();
    }
    cast_with_options(a, to, &options).ok()
}

/// Null-aware equality (two nulls are equal; NaN equals NaN), `None` where Arrow cannot compare.
fn equal(a: &ArrayRef, b: &ArrayRef) -> Option<Vec<bool>> {
    let eq: BooleanArray = not_distinct(a, b).ok()?;
    Some(
        (0..eq.len())
            .map(|i| eq.is_valid(i) && eq.value(i))
            .collect(),
    )
}

fn same_text(a: &ArrayRef, b: &ArrayRef) -> Vec<bool> {
    (0..a.len().min(b.len()))
        .map(|i| show(a, i) == show(b, i))
        .collect()
}

/// A value as text for messages: `null`, strings quoted (so an empty string is told from a
/// null), long values shortened.
fn show(a: &ArrayRef, row: usize) -> String {
    if row >= a.len() {
        return "(no row)".to_string();
    }
    // Logical nulls: a `Null`-typed column has no null buffer.
    if a.logical_nulls().is_some_and(|n| n.is_null(row)) {
        return "null".to_string();
    }
    let options = FormatOptions::default();
    let text = match ArrayFormatter::try_new(a.as_ref(), &options) {
        Ok(f) => f.value(row).to_string(),
        Err(e) => format!("(cannot show: {e})"),
    };
    let text = if is_text(a.data_type()) {
        format!("{text:?}")
    } else {
        text
    };
    const MAX: usize = 60;
    let chars = text.chars().count();
    if chars > MAX {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}… ({chars} characters)")
    } else {
        text
    }
}

fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        Float64Array, Int64Array, NullArray, StringArray, TimestampMicrosecondArray,
        TimestampNanosecondArray,
    };

    use super::*;

    fn one(name: &str, a: ArrayRef) -> RecordBatch {
        RecordBatch::try_from_iter(vec![(name, a)]).expect("batch")
    }

    /// 2024-03-31T11:00:00Z (13:00 in Paris).
    const INSTANT: i64 = 1_711_882_800_000_000;

    #[test]
    fn an_instant_read_back_without_its_zone_is_kept() {
        let w: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![Some(INSTANT), None])
                .with_timezone("Europe/Paris"),
        );
        let same: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![
            Some(INSTANT * 1000),
            None,
        ]));
        let changes = compare(&one("t", w.clone()), &one("t", same));
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(matches!(changes[0].kind, ChangeKind::TypeChanged { .. }));
        // An hour off (the instant as read by a reader that got the zone wrong).
        let shifted: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![
            Some((INSTANT + 3_600_000_000) * 1000),
            None,
        ]));
        let changes = compare(&one("t", w), &one("t", shifted));
        assert_eq!(
            changes[1].kind,
            ChangeKind::ValuesChanged {
                rows: 1,
                first: (
                    0,
                    "2024-03-31T13:00:00+02:00".into(),
                    "2024-03-31T12:00:00".into()
                ),
            }
        );
    }

    #[test]
    fn a_lossy_cast_is_a_value_change() {
        // 1.5 read for 1 casts to 1 but does not cast back.
        let w: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let r: ArrayRef = Arc::new(Float64Array::from(vec![1.5, 2.0]));
        let changes = compare(&one("x", w), &one("x", r));
        assert_eq!(
            changes[1].kind,
            ChangeKind::ValuesChanged {
                rows: 1,
                first: (0, "1".into(), "1.5".into()),
            }
        );
        // "007" read as 7: the text 7 is not "007".
        let w: ArrayRef = Arc::new(StringArray::from(vec!["007", "7"]));
        let r: ArrayRef = Arc::new(Int64Array::from(vec![7, 7]));
        let changes = compare(&one("x", w), &one("x", r));
        assert_eq!(
            changes[1].kind,
            ChangeKind::ValuesChanged {
                rows: 1,
                first: (0, "\"007\"".into(), "7".into()),
            }
        );
    }

    #[test]
    fn nan_equals_nan_and_nulls_equal_nulls() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN), None]));
        assert!(compare(&one("f", a.clone()), &one("f", a)).is_empty());
        let w: ArrayRef = Arc::new(StringArray::from(vec![None::<&str>, None]));
        let r: ArrayRef = Arc::new(NullArray::new(2));
        let changes = compare(&one("s", w), &one("s", r));
        assert_eq!(changes.len(), 1, "only the type: {changes:?}");
    }

    #[test]
    fn missing_added_and_short_columns_are_told() {
        let w = RecordBatch::try_from_iter(vec![
            ("a", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            ("b", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])
        .expect("batch");
        let r = RecordBatch::try_from_iter(vec![
            ("a", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ("c", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ])
        .expect("batch");
        let changes = compare(&w, &r);
        let kinds: Vec<(&str, &ChangeKind)> = changes
            .iter()
            .map(|c| (c.column.as_str(), &c.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    "a",
                    &ChangeKind::ValuesChanged {
                        rows: 1,
                        first: (1, "2".into(), "(no row)".into())
                    }
                ),
                ("b", &ChangeKind::Missing),
                ("c", &ChangeKind::Added),
            ]
        );
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["é".repeat(1000)]));
        let shown = show(&a, 0);
        assert!(shown.ends_with("… (1002 characters)"), "{shown}");
        assert!(shown.chars().count() < 90, "{shown}");
    }
}
