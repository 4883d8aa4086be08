//! `tollgate::testing`: `assert_frames_eq!` and the proptest strategy that generates data
//! satisfying a suite.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use proptest::test_runner::{Config, TestRunner};
use tollgate::assert_frames_eq;
use tollgate::testing::frames::{FrameEq, compare};
use tollgate::testing::strategy::batches_for;

fn batch(ids: Vec<i64>, names: Vec<Option<&str>>, ctr: Vec<Option<f64>>) -> RecordBatch {
    RecordBatch::try_from_iter([
        ("item", Arc::new(Int64Array::from(ids)) as _),
        ("name", Arc::new(StringArray::from(names)) as _),
        ("ctr", Arc::new(Float64Array::from(ctr)) as _),
    ])
    .expect("batch")
}

fn message(r: Result<(), Box<tollgate::testing::frames::FrameDiff>>) -> String {
    r.expect_err("frames differ").to_string()
}

#[test]
fn equal_frames_pass_under_order_tolerance_and_column_options() {
    let left = batch(
        vec![1, 2, 3],
        vec![Some("a"), None, Some("c")],
        vec![Some(0.5), Some(f64::NAN), None],
    );
    assert_frames_eq!(&left, &left);
    let shuffled = batch(
        vec![3, 1, 2],
        vec![Some("c"), Some("a"), None],
        vec![None, Some(0.5 + 1e-12), Some(f64::NAN)],
    );
    assert_frames_eq!(
        &left,
        &shuffled,
        FrameEq::new().ignore_order().abs_tol(1e-9)
    );
    assert_frames_eq!(
        &left,
        &shuffled,
        FrameEq::new().key(&["item"]).rel_tol(1e-9)
    );
    // By position, the shuffled rows differ.
    let text = message(compare(&left, &shuffled, &FrameEq::new()));
    assert!(
        text.contains("3 of the compared rows differ (by position)"),
        "{text}"
    );
    // Columns selected or ignored.
    let renamed = batch(
        vec![1, 2, 3],
        vec![Some("x"), Some("y"), Some("z")],
        vec![Some(0.5), Some(f64::NAN), None],
    );
    assert_frames_eq!(&left, &renamed, FrameEq::new().ignore_columns(&["name"]));
    assert_frames_eq!(&left, &renamed, FrameEq::new().columns(&["item", "ctr"]));
    // Batches split differently are the same frame.
    let parts = vec![left.slice(0, 1), left.slice(1, 2)];
    assert_frames_eq!(parts, &left);
}

#[test]
fn a_failure_shows_the_differing_rows_not_a_dump() {
    let n = 1000;
    let ids: Vec<i64> = (0..n).collect();
    let ctr: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64 / 1000.0)).collect();
    let names: Vec<Option<&str>> = (0..n).map(|_| Some("x")).collect();
    let left = batch(ids.clone(), names.clone(), ctr.clone());
    let mut changed = ctr.clone();
    changed[7] = Some(0.5);
    changed[900] = None;
    let right = batch(ids, names, changed);
    let text = message(compare(&left, &right, &FrameEq::new().key(&["item"])));
    assert!(
        text.contains("2 of the compared rows differ (matched on item)"),
        "{text}"
    );
    assert!(text.contains("ctr: 0.007 ≠ 0.5"), "{text}");
    assert!(text.contains("ctr: 0.9 ≠ null"), "{text}");
    assert!(
        text.lines().count() < 12,
        "a few lines, not a dump:\n{text}"
    );

    // Schema and key differences are named.
    let other = RecordBatch::try_from_iter([
        ("item", Arc::new(Int64Array::from(vec![1, 1, 5])) as _),
        ("name", Arc::new(Int64Array::from(vec![1, 2, 3])) as _),
    ])
    .expect("batch");
    let left = batch(
        vec![1, 2],
        vec![Some("a"), Some("b")],
        vec![Some(0.1), None],
    );
    let text = message(compare(&left, &other, &FrameEq::new().key(&["item"])));
    assert!(text.contains("columns only on the left: ctr"), "{text}");
    assert!(
        text.contains("column `name`: string on the left, int64 on the right"),
        "{text}"
    );
    assert!(text.contains("keys only on the left: 2"), "{text}");
    assert!(text.contains("keys only on the right: 5"), "{text}");
    assert!(text.contains("duplicate keys on the right: 1"), "{text}");
    let text = message(compare(&left, &other, &FrameEq::new().key(&["nope"])));
    assert!(text.contains("key column `nope` is missing"), "{text}");

    // The macro panics with the message.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_frames_eq!(&left, &other);
    }));
    let payload = caught.expect_err("panics");
    let text = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        text.starts_with("assert_frames_eq!(&left, &other) failed"),
        "{text}"
    );
}

#[test]
fn files_compare_with_frames_and_other_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("a.csv");
    std::fs::write(&csv, "item,name,ctr\n1,a,0.5\n2,,\n").expect("write");
    let left = batch(vec![1, 2], vec![Some("a"), None], vec![Some(0.5), None]);
    assert_frames_eq!(&left, csv.as_path());
    assert_frames_eq!(csv.display().to_string().as_str(), &csv);
    let missing = dir.path().join("missing.csv");
    let text = message(compare(&left, missing.as_path(), &FrameEq::new()));
    assert!(
        text.contains("cannot be compared") && text.contains("missing.csv"),
        "{text}"
    );
}

/// Run a suite on a batch (written as CSV next to the suite) and return whether it passed.
fn suite_passes(suite_yaml: &str, batch: &RecordBatch, dir: &Path) -> Result<(), String> {
    let data = dir.join("generated.parquet");
    let file = std::fs::File::create(&data).map_err(|e| e.to_string())?;
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .map_err(|e| e.to_string())?;
    w.write(batch).map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    let indented: String = suite_yaml.lines().map(|l| format!("    {l}\n")).collect();
    let plan = tollgate::parse_plan(&format!(
        "version: 1\nsources:\n  g: {{ path: generated.parquet }}\nsuites:\n  contract:\n    source: g\n{indented}"
    ))
    .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = rt.block_on(tollgate::run_plan(
        &tollgate::Engine::default(),
        &plan,
        dir,
        None,
    ));
    if tollgate::exit_code(&report, false) == 0 {
        Ok(())
    } else {
        Err(format!("{:#?}", report.tests))
    }
}

#[test]
fn generated_batches_satisfy_the_suite_they_come_from() {
    let suite = "table:\n  row_count: { between: [3, 40] }\n  columns: { include: [id, kind, score, code, note] }\ncolumns:\n  id: { type: int64, not_null: true, unique: true, between: [1, 100000] }\n  kind: { in_set: [click, view, buy], not_null: true }\n  score: { type: float64, between: [0, 1] }\n  code: { type: string, matches: '^[A-Z]{2}-[0-9]{3}$', not_null: true }\n  note: { type: string, length: { between: [2, 5] } }\n  qty: { type: int32, min: { at_least: -5 }, max: { at_most: 5 } }\n";
    let decl = tollgate::parse_suite(suite, "contract").expect("suite");
    let strategy = batches_for(&decl, 1..=60).expect("a strategy");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |b| {
            proptest::prop_assert!((3..=40).contains(&b.num_rows()), "{}", b.num_rows());
            proptest::prop_assert_eq!(b.num_columns(), 6);
            suite_passes(suite, &b, dir.path())
                .map_err(proptest::test_runner::TestCaseError::fail)?;
            Ok(())
        })
        .expect("every generated batch satisfies its suite");

    // Checks the strategy cannot keep by construction are named, never silently dropped.
    let hard = tollgate::parse_suite(
        "columns:\n  a: { mean: { between: [1, 2] } }\nrows:\n  - { name: r, condition: \"a > 0\" }\n",
        "hard",
    )
    .expect("suite");
    let Err(err) = batches_for(&hard, 1..=5) else {
        panic!("refused")
    };
    assert!(
        err.contains("`mean` on `a`") && err.contains("cannot generate"),
        "{err}"
    );
}
