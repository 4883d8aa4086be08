//! Round trips through tollgate's own writers and readers: CSV, Parquet, JSON lines and Arrow
//! IPC. Each format's test states exactly what it keeps and what it changes (the truth, found by
//! running, not assumed); the table in `docs/formats.md` is generated from the same round trips
//! (`UPDATE_DOCS=1 cargo test -p tollgate --test roundtrip` rewrites it) and a test keeps it
//! fresh. Then bad input: missing directories, failed writes, readable failure messages.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Float64Array,
    Int32Array, Int64Array, ListArray, StringArray, TimestampMicrosecondArray, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use tollgate::core::plan::Format;
use tollgate::data::write::write_batches;
use tollgate::testing::roundtrip::{
    ChangeKind, Expect, RoundTrip, assert_round_trip, assert_round_trip_changes, round_trip,
};

const FORMATS: [Format; 4] = [Format::Csv, Format::Parquet, Format::Json, Format::Arrow];

/// Microseconds since the epoch (UTC) of an ISO date-time.
fn micros(text: &str) -> i64 {
    let texts: ArrayRef = Arc::new(StringArray::from(vec![text]));
    let ts =
        datafusion::arrow::compute::cast(&texts, &DataType::Timestamp(TimeUnit::Microsecond, None))
            .expect("a timestamp");
    ts.as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .expect("microseconds")
        .value(0)
}

fn strings(values: [Option<&str>; 5]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// The column kinds: name, what it holds (a row of the docs' table), five values. Every column
/// has a null, and the last row is null throughout.
fn kinds() -> Vec<(&'static str, &'static str, ArrayRef)> {
    // 100 KB of text: also makes the CSV file longer than one read chunk (see the regression
    // test below).
    let long = "é漢🦀a".repeat(100 * 1024 / 10);
    let times = || {
        TimestampMicrosecondArray::from(vec![
            // An hour before Paris moves its clocks forward, with a fraction.
            Some(micros("2024-03-31T00:59:59.123456")),
            // Before 1970, whole seconds.
            Some(micros("1969-07-20T20:17:40")),
            // In the hour Paris repeats when it moves its clocks back.
            Some(micros("2024-10-27T01:30:00")),
            None,
            None,
        ])
    };
    let dictionary: DictionaryArray<Int32Type> =
        vec![Some("red"), Some("green"), Some("red"), None, None]
            .into_iter()
            .collect();
    vec![
        (
            "int64",
            "Int64 (min, max)",
            Arc::new(Int64Array::from(vec![
                Some(i64::MIN),
                Some(i64::MAX),
                Some(0),
                Some(-1),
                None,
            ])),
        ),
        (
            "int32",
            "Int32",
            Arc::new(Int32Array::from(vec![
                Some(i32::MIN),
                Some(7),
                None,
                Some(-1),
                None,
            ])),
        ),
        (
            "uint64",
            "UInt64 (max)",
            Arc::new(UInt64Array::from(vec![
                Some(u64::MAX),
                Some(1),
                None,
                Some(0),
                None,
            ])),
        ),
        (
            "float_special",
            "Float64: NaN, inf, -inf",
            Arc::new(Float64Array::from(vec![
                Some(1.5),
                Some(f64::NAN),
                Some(f64::INFINITY),
                Some(f64::NEG_INFINITY),
                None,
            ])),
        ),
        (
            "float_finite",
            "Float64: 0.1, -0.0, 1e300, -2.5e-300",
            Arc::new(Float64Array::from(vec![
                Some(0.1),
                Some(-0.0),
                Some(1e300),
                Some(-2.5e-300),
                None,
            ])),
        ),
        (
            "boolean",
            "Boolean",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
                None,
            ])),
        ),
        (
            "date",
            "Date32 (incl. before 1970)",
            Arc::new(Date32Array::from(vec![
                Some(19_782),
                Some(-1),
                Some(0),
                None,
                None,
            ])),
        ),
        ("ts_naive", "Timestamp(µs), no zone", Arc::new(times())),
        (
            "ts_utc",
            "Timestamp(µs, \"UTC\")",
            Arc::new(times().with_timezone("UTC")),
        ),
        (
            "ts_paris",
            "Timestamp(µs, \"Europe/Paris\")",
            Arc::new(times().with_timezone("Europe/Paris")),
        ),
        (
            "decimal",
            "Decimal128(12, 3)",
            Arc::new(
                Decimal128Array::from(vec![
                    Some(123_456_789_123),
                    Some(-1),
                    Some(999_999_999_999),
                    Some(0),
                    None,
                ])
                .with_precision_and_scale(12, 3)
                .expect("decimal"),
            ),
        ),
        (
            "decimal_wide",
            "Decimal128(38, 10), 30 digits",
            Arc::new(
                Decimal128Array::from(vec![
                    Some(123_456_789_012_345_678_901_234_567_890),
                    Some(1),
                    None,
                    Some(-5),
                    None,
                ])
                .with_precision_and_scale(38, 10)
                .expect("decimal"),
            ),
        ),
        (
            "unicode",
            "Utf8: accents, CJK, emoji, RTL",
            strings([
                Some("café déjà vu"),
                Some("東京 漢字"),
                Some("🦀 👩‍💻 🇫🇷"),
                Some("שלום مرحبا"),
                None,
            ]),
        ),
        (
            "punctuation",
            "Utf8: comma, quotes, line break, padding",
            strings([
                Some("a,b"),
                Some("say \"hi\""),
                Some("line 1\nline 2"),
                Some("  padded  "),
                None,
            ]),
        ),
        (
            "empty_string",
            "Utf8: empty strings",
            strings([Some(""), Some("x"), Some(""), Some("y"), None]),
        ),
        (
            "long",
            "Utf8: 100 KB values",
            strings([Some(&long), Some("short"), None, Some(&long), None]),
        ),
        (
            "numeric_text",
            "Utf8: \"007\", \"1e3\", \"42\", \"true\"",
            strings([Some("007"), Some("1e3"), Some("42"), Some("true"), None]),
        ),
        ("all_null", "Utf8: only nulls", strings([None; 5])),
        (
            "dictionary",
            "Dictionary(Int32, Utf8)",
            Arc::new(dictionary),
        ),
    ]
}

fn batch_of(columns: Vec<(&'static str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("a batch")
}

/// Every kind in one batch.
fn batch() -> RecordBatch {
    batch_of(kinds().into_iter().map(|(n, _, a)| (n, a)).collect())
}

/// A list column (apart: CSV cannot hold it at all).
fn list_batch() -> RecordBatch {
    let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), None]),
        Some(vec![]),
        None,
        Some(vec![Some(3)]),
        None,
    ]);
    batch_of(vec![("list", Arc::new(list))])
}

const LIST_KIND: &str = "List(Int64) (empty lists, null items)";

fn timestamp(zone: Option<&str>) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, zone.map(Into::into))
}

#[test]
fn arrow_ipc_keeps_everything() {
    assert_round_trip(&batch(), Format::Arrow);
    assert_round_trip(&list_batch(), Format::Arrow);
}

#[test]
fn parquet_keeps_every_value_and_type_but_reads_strings_as_views() {
    let view = || Expect::Type(DataType::Utf8View);
    assert_round_trip_changes(
        &batch(),
        Format::Parquet,
        &[
            ("unicode", view()),
            ("punctuation", view()),
            ("empty_string", view()),
            ("long", view()),
            ("numeric_text", view()),
            ("all_null", view()),
            // Zones, decimals, unsigned and dictionary columns are kept.
        ],
    );
    assert_round_trip(&list_batch(), Format::Parquet);
}

#[test]
fn csv_keeps_instants_and_text_but_not_zones_decimals_or_dictionaries() {
    assert_round_trip_changes(
        &batch(),
        Format::Csv,
        &[
            ("int32", Expect::Type(DataType::Int64)),
            // Past i64: inference gives up on numbers.
            ("uint64", Expect::Type(DataType::Utf8)),
            // The offsets written are applied: the instants are kept, the zone is not.
            ("ts_utc", Expect::Type(timestamp(None))),
            ("ts_paris", Expect::Type(timestamp(None))),
            ("decimal", Expect::Type(DataType::Float64)),
            ("decimal_wide", Expect::TypeAndValues(DataType::Float64)),
            // An empty field is null: "" and null are written alike.
            ("empty_string", Expect::Values),
            ("all_null", Expect::Type(DataType::Null)),
            ("dictionary", Expect::Type(DataType::Utf8)),
        ],
    );
}

#[test]
fn json_lines_keeps_text_and_numbers_but_reads_dates_and_timestamps_as_text() {
    assert_round_trip_changes(
        &batch(),
        Format::Json,
        &[
            ("int32", Expect::Type(DataType::Int64)),
            ("uint64", Expect::TypeAndValues(DataType::Float64)),
            // JSON has no NaN or infinity: Arrow's writer writes null.
            ("float_special", Expect::Values),
            ("date", Expect::Type(DataType::Utf8)),
            ("ts_naive", Expect::Type(DataType::Utf8)),
            ("ts_utc", Expect::Type(DataType::Utf8)),
            ("ts_paris", Expect::Type(DataType::Utf8)),
            ("decimal", Expect::Type(DataType::Float64)),
            ("decimal_wide", Expect::TypeAndValues(DataType::Float64)),
            ("all_null", Expect::Type(DataType::Null)),
            ("dictionary", Expect::Type(DataType::Utf8)),
        ],
    );
    assert_round_trip(&list_batch(), Format::Json);
}

#[test]
fn the_values_that_change_change_as_documented() {
    let first = |rt: &RoundTrip, column: &str| -> (usize, (usize, String, String)) {
        rt.changes_of(column)
            .into_iter()
            .find_map(|c| match &c.kind {
                ChangeKind::ValuesChanged { rows, first } => Some((*rows, first.clone())),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no value of `{column}` changed:\n{rt}"))
    };
    let owned = |row: usize, w: &str, r: &str| (row, w.to_string(), r.to_string());
    let csv = round_trip(&batch(), Format::Csv).expect("csv");
    assert_eq!(first(&csv, "empty_string"), (2, owned(0, "\"\"", "null")));
    assert_eq!(
        first(&csv, "decimal_wide"),
        (
            1,
            owned(
                0,
                "12345678901234567890.1234567890",
                "1.2345678901234567e19"
            )
        )
    );
    let json = round_trip(&batch(), Format::Json).expect("json");
    assert_eq!(first(&json, "float_special"), (3, owned(1, "NaN", "null")));
    assert_eq!(
        first(&json, "uint64"),
        (1, owned(0, "18446744073709551615", "1.8446744073709552e19"))
    );
}

#[test]
fn csv_cannot_hold_a_list_column_and_says_which_file() {
    let err = round_trip(&list_batch(), Format::Csv).expect_err("CSV has no lists");
    assert!(err.contains("round-trip.csv"), "{err}");
    assert!(err.contains("List(Int64) is not supported in CSV"), "{err}");
}

/// Regression: DataFusion infers a CSV file's types chunk by chunk, and a chunk of
/// `...:40` timestamps (seconds) disagreeing with one of `...:59.123456` (microseconds) made
/// the column text. The writer now writes every timestamp with the same fraction digits.
#[test]
fn csv_timestamps_stay_timestamps_in_a_file_read_in_chunks() {
    let all = kinds();
    let pick = |name: &str| {
        all.iter()
            .find(|(n, _, _)| *n == name)
            .map(|(n, _, a)| (*n, a.clone()))
            .expect("a kind")
    };
    let b = batch_of(vec![pick("ts_naive"), pick("long"), pick("ts_paris")]);
    assert_round_trip_changes(
        &b,
        Format::Csv,
        &[("ts_paris", Expect::Type(timestamp(None)))],
    );
}

/// docs/formats.md: a `type:` check pins a CSV column, so the suite's checks see the declared
/// type where inference would widen it (Int32 read as Int64) or give up (UInt64 past i64 read
/// as text, or a timestamp column made text by chunked inference); the truth tests above show
/// what inference alone gives.
#[tokio::test]
async fn type_checks_keep_csv_columns_as_declared() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_batches(&[batch()], &dir.path().join("data.csv"), Format::Csv).expect("write");
    let plan = tollgate::parse_plan(
        "version: 1\n\
         sources:\n  data: { path: data.csv }\n\
         suites:\n  declared:\n    source: data\n    columns:\n\
         \x20     int32: { type: int32 }\n\
         \x20     uint64: { type: uint64 }\n\
         \x20     ts_paris: { type: timestamp }\n\
         \x20     decimal: { type: float64 }\n",
    )
    .expect("a plan");
    let report = tollgate::run_plan(&tollgate::Engine::default(), &plan, dir.path(), None).await;
    assert_eq!(
        report.status,
        tollgate::Status::Passed,
        "{:#?}",
        report.tests
    );
    // A file inference reads as text (whole seconds, then a fraction in a later chunk).
    let mut text = String::from("at\n");
    for i in 0..3000 {
        text.push_str(&format!("2024-01-01T00:00:{:02}\n", i % 60));
    }
    text.push_str("2024-01-01T00:00:00.5\n");
    std::fs::write(dir.path().join("times.csv"), text).expect("write");
    let decl = tollgate::SourceDecl {
        name: "times".into(),
        pos: Default::default(),
        path: "times.csv".into(),
        format: None,
        csv: Default::default(),
        postgres: None,
    };
    let rows = tollgate::Engine::default()
        .read_rows(&decl, dir.path(), None)
        .await
        .expect("read");
    assert_eq!(*rows.schema().field(0).data_type(), DataType::Utf8);
    let plan = tollgate::parse_plan(
        "version: 1\n\
         sources:\n  times: { path: times.csv }\n\
         suites:\n  declared:\n    source: times\n    columns:\n\
         \x20     at: { type: timestamp, not_null: true }\n",
    )
    .expect("a plan");
    let report = tollgate::run_plan(&tollgate::Engine::default(), &plan, dir.path(), None).await;
    assert_eq!(
        report.status,
        tollgate::Status::Passed,
        "{:#?}",
        report.tests
    );
}

#[test]
fn writing_into_a_missing_directory_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-dir");
    for format in FORMATS {
        let path = missing.join("out.data");
        let err = write_batches(&[batch()], &path, format)
            .expect_err("no directory")
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(
            err.contains(&format!(
                "the directory {} does not exist",
                missing.display()
            )),
            "{err}"
        );
    }
    assert!(!missing.exists());
}

#[test]
fn a_failed_write_keeps_the_existing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data.csv");
    std::fs::write(&path, "id\n1\n").expect("the old file");
    let err = write_batches(&[batch(), list_batch()], &path, Format::Csv)
        .expect_err("two schemas")
        .to_string();
    assert!(err.contains("data.csv") && err.contains("batch 1"), "{err}");
    // Fails after the rows started going out: CSV cannot hold a list.
    let err = write_batches(&[list_batch()], &path, Format::Csv)
        .expect_err("a list in CSV")
        .to_string();
    assert!(err.contains("data.csv"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("still there"),
        "id\n1\n"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["data.csv"], "no temporary file left behind");
    // And a successful write replaces it.
    write_batches(&[batch()], &path, Format::Csv).expect("write");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.starts_with("int64,int32,uint64,"), "{}", &text[..40]);
}

#[test]
fn an_unexpected_change_fails_with_the_column_and_the_values() {
    let b = batch_of(vec![(
        "name",
        strings([Some("Zoë"), Some(""), None, Some("x"), Some("")]),
    )]);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_round_trip(&b, Format::Csv)
    }));
    let payload = caught.expect_err("CSV turns empty strings into nulls");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        msg,
        "round trip through Csv (5 rows written, 5 read) did not go as expected:\n  \
         `name`: expected it kept, got 2 value(s) changed, first in row 1: wrote \"\", read null"
    );
}

#[test]
fn an_expected_change_that_does_not_happen_fails() {
    let b = batch();
    let rt = round_trip(&b, Format::Arrow).expect("arrow");
    let err = rt
        .check(
            &b,
            &[
                ("dictionary", Expect::Type(DataType::Utf8)),
                ("nope", Expect::Missing),
            ],
        )
        .expect_err("Arrow keeps dictionaries");
    assert!(
        err.contains(
            "`dictionary`: expected it read back as Utf8 with every value kept, got it kept"
        ),
        "{err}"
    );
    assert!(
        err.contains("`nope`: expected a change, but no such column was written"),
        "{err}"
    );
}

#[tokio::test]
async fn round_trip_works_inside_a_tokio_runtime() {
    assert_round_trip(&list_batch(), Format::Parquet);
}

// ---- docs/formats.md ----------------------------------------------------------------------

const BEGIN: &str = "<!-- BEGIN truth table: generated by `UPDATE_DOCS=1 cargo test -p tollgate --test roundtrip` -->";
const END: &str = "<!-- END truth table -->";

/// A table cell: what the round trip did to one column.
fn cell(rt: &RoundTrip, column: &str) -> String {
    let changes = rt.changes_of(column);
    if changes.is_empty() {
        return "kept".to_string();
    }
    let mut parts = Vec::new();
    for c in changes {
        parts.push(match &c.kind {
            ChangeKind::TypeChanged { to, .. } => format!("as `{to}`"),
            ChangeKind::ValuesChanged { rows, first } => {
                format!("{rows} changed, e.g. `{}` → `{}`", first.1, first.2)
            }
            ChangeKind::Missing => "missing".to_string(),
            other => format!("{other:?}"),
        });
    }
    parts.join("; ")
}

fn truth_table() -> String {
    let b = batch();
    let lists = list_batch();
    let mut out = String::from(
        "| column | CSV | Parquet | JSON lines | Arrow IPC |\n|---|---|---|---|---|\n",
    );
    let trips: Vec<RoundTrip> = FORMATS
        .iter()
        .map(|f| round_trip(&b, *f).expect("round trip"))
        .collect();
    for (name, kind, _) in kinds() {
        let cells: Vec<String> = trips.iter().map(|rt| cell(rt, name)).collect();
        out.push_str(&format!("| {kind} | {} |\n", cells.join(" | ")));
    }
    let cells: Vec<String> = FORMATS
        .iter()
        .map(|f| match round_trip(&lists, *f) {
            Ok(rt) => cell(&rt, "list"),
            Err(_) => "cannot be written (error)".to_string(),
        })
        .collect();
    out.push_str(&format!("| {LIST_KIND} | {} |\n", cells.join(" | ")));
    out
}

#[test]
fn docs_formats_md_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/formats.md");
    let text = std::fs::read_to_string(&path).expect("docs/formats.md");
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        panic!("docs/formats.md lacks the truth table markers");
    };
    let want = format!("{BEGIN}\n\n{}\n{END}", truth_table());
    let have = &text[start..end + END.len()];
    if have == want {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let fresh = format!("{}{want}{}", &text[..start], &text[end + END.len()..]);
        std::fs::write(&path, fresh).expect("write docs/formats.md");
    } else {
        panic!(
            "docs/formats.md is stale: run `UPDATE_DOCS=1 cargo test -p tollgate --test roundtrip`\nwant:\n{want}"
        );
    }
}
