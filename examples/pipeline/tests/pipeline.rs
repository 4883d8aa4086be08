//! The article's tests at every scope (row, column, table, schema, integration), in two forms:
//!
//! - **brittle** (`*_brittle_v1`): a hand-crafted expected column, table or file, an exact
//!   schema. It passes on v1 and fails on v2 (`*_brittle_fails_on_v2`, which shows what the
//!   failure says), so it has to be rewritten (`*_rewritten_v2`) when the additive change lands.
//! - **robust** (`*_robust`): a property or an invariant that holds for any logs, checked on
//!   both versions of the five hand-made rows and on 20 000 generated rows. It never changes.
//!
//! The README's table names each of these tests.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::DataFrame;
use tempfile::TempDir;
use tollgate::assert_frames_eq;
use tollgate::testing::frames::{FrameEq, compare};
use tollgate_example_pipeline::generate::{GenerateOptions, generate_logs};
use tollgate_example_pipeline::{
    Version, aggregates_to_ctr, events_to_aggregates, impress_events, logs_to_events, new_context,
    read_items, read_logs, rows, run,
};

// ---------------------------------------------------------------------------------------------
// Inputs and helpers

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

fn hand_logs(v: Version) -> PathBuf {
    data(&format!("logs_{v}.csv"))
}

/// A generated log (20 000 requests, seed 42) in a temporary directory.
fn generated_logs(v: Version) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("generated_{v}.csv"));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let opts = GenerateOptions {
        rows: 20_000,
        seed: 42,
        version: v,
        ..GenerateOptions::default()
    };
    generate_logs(&opts, &mut file).expect("generate");
    (dir, path)
}

/// Every input a robust test must hold on: both versions of the hand-made rows, and both
/// versions of the generated log. (The temporary directories live as long as the list.)
fn every_input() -> Vec<(String, Version, PathBuf, Option<TempDir>)> {
    let mut all = Vec::new();
    for v in [Version::V1, Version::V2] {
        all.push((format!("hand-made {v}"), v, hand_logs(v), None));
        let (dir, path) = generated_logs(v);
        all.push((format!("generated {v}"), v, path, Some(dir)));
    }
    all
}

async fn collect(df: DataFrame) -> RecordBatch {
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.expect("collect");
    datafusion::arrow::compute::concat_batches(&schema, &batches).expect("concat")
}

/// The frames of one run on `logs`: (logs, events, aggregates, ctr).
async fn outputs(
    logs: &Path,
    v: Version,
    items: Option<&Path>,
) -> (RecordBatch, RecordBatch, RecordBatch, RecordBatch) {
    let ctx = new_context();
    let out = run(&ctx, logs, items, v).await.expect("the pipeline runs");
    (
        collect(out.logs).await,
        collect(out.events).await,
        collect(out.aggregates).await,
        collect(out.ctr).await,
    )
}

fn strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let c = b.column_by_name(name).expect("column");
    let s = c
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("a text column");
    s.iter().map(|v| v.map(String::from)).collect()
}

fn ints(b: &RecordBatch, name: &str) -> Vec<i64> {
    let c = b.column_by_name(name).expect("column");
    let a = c
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("an int64 column");
    a.iter().map(|v| v.expect("no null")).collect()
}

fn floats(b: &RecordBatch, name: &str) -> Vec<f64> {
    let c = b.column_by_name(name).expect("column");
    let a = c
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Float64Array>()
        .expect("a float64 column");
    a.iter().map(|v| v.expect("no null")).collect()
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).expect("batch")
}

fn text(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn int(values: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

/// The impressions each log row counts, by the row-level rules: the oracle of the robust tests.
fn counted_impressions(logs: &RecordBatch, v: Version) -> Vec<(String, Vec<String>)> {
    let ids = strings(logs, "request_id");
    let imps = strings(logs, "impressions");
    let vis = match v {
        Version::V1 => vec![None; logs.num_rows()],
        Version::V2 => strings(logs, "impressions_visible"),
    };
    ids.into_iter()
        .zip(imps)
        .zip(vis)
        .map(|((id, imp), vis)| {
            let imp = imp.expect("validated");
            let slate = rows::parse_items(&imp).expect("validated");
            let vis = vis.map(|t| {
                rows::parse_items(&t)
                    .expect("validated")
                    .into_iter()
                    .map(String::from)
                    .collect::<Vec<_>>()
            });
            let vis_refs: Option<Vec<&str>> =
                vis.as_ref().map(|v| v.iter().map(String::as_str).collect());
            let kept = rows::updated_impressions(&slate, vis_refs.as_deref());
            (
                id.expect("validated"),
                kept.into_iter().map(String::from).collect(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Row level: a pure function of one row. Stays valid (the article: additive).

#[test]
fn row_click_position_robust() {
    let slate = ["i1", "i2", "i3", "i4"];
    for (click, expected) in [
        (Some("i1"), 1),
        (Some("i3"), 3),
        (None, rows::NOT_IN_SLATE),
        (Some("NA"), rows::NOT_IN_SLATE),
        (Some("i4"), 4),
    ] {
        assert_eq!(
            rows::click_position(&slate, click),
            expected,
            "click {click:?}"
        );
    }
}

/// A case of `updated_impressions`: (slate, visible impressions, impressions counted).
type UpdateCase<'a> = (&'a [&'a str], Option<&'a [&'a str]>, &'a [&'a str]);

/// Added with v2: the rule that picks the impressions to count.
#[test]
fn row_updated_impressions_robust() {
    let four = ["i1", "i2", "i3", "i4"];
    let cases: [UpdateCase<'_>; 4] = [
        // Visible impressions replace the slate...
        (&four, Some(&["i1", "i2", "i3"]), &["i1", "i2", "i3"]),
        // ...unless they are longer than the slate (not trusted)...
        (&["i1", "i2"], Some(&["i1", "i2", "i3"]), &["i1", "i2"]),
        // ...or were not logged at all (r3 of the article).
        (&four, None, &four),
        // Every item seen.
        (&four, Some(&four), &four),
    ];
    for (slate, visible, expected) in cases {
        assert_eq!(
            rows::updated_impressions(slate, visible),
            expected,
            "{slate:?} / {visible:?}"
        );
    }
}

#[test]
fn row_naive_ctr_robust() {
    assert_eq!(rows::naive_ctr(Some(1), Some(5)), 0.2);
    assert_eq!(rows::naive_ctr(Some(1), Some(4)), 0.25);
    assert_eq!(rows::naive_ctr(Some(0), Some(2)), 0.0);
    assert_eq!(rows::naive_ctr(None, None), rows::COLD_START_CTR);
    assert_eq!(rows::naive_ctr(Some(1), Some(0)), rows::COLD_START_CTR);
}

#[test]
fn row_parse_items_robust() {
    assert_eq!(
        rows::parse_items("i1|i2|i3|i4"),
        Ok(vec!["i1", "i2", "i3", "i4"])
    );
    assert_eq!(rows::parse_items("i9"), Ok(vec!["i9"]));
    for bad in ["", "|i1", "i1||i2", "i1|", "i1| |i2"] {
        assert!(rows::parse_items(bad).is_err(), "{bad:?} accepted");
    }
}

// ---------------------------------------------------------------------------------------------
// Column level: `impress_events` turns the `impressions` column into `item` and `position`.

async fn impress_positions(v: Version) -> RecordBatch {
    let ctx = new_context();
    let logs = read_logs(&ctx, &hand_logs(v), v).await.expect("logs");
    let logs = match v {
        Version::V1 => logs,
        Version::V2 => tollgate_example_pipeline::apply_visible_impressions(logs).expect("v2"),
    };
    let events = impress_events(logs)
        .expect("events")
        .sort(vec![
            datafusion::prelude::col("request_id").sort(true, false),
            datafusion::prelude::col("position").sort(true, false),
        ])
        .expect("sort")
        .select_columns(&["position"])
        .expect("select");
    collect(events).await
}

/// The article's column test: every slate has four items, so the positions are five runs of
/// 1..=4.
fn positions_v1() -> RecordBatch {
    batch(vec![("position", int(&[1, 2, 3, 4].repeat(5)))])
}

#[tokio::test]
async fn column_impress_positions_brittle_v1() {
    assert_frames_eq!(positions_v1(), impress_positions(Version::V1).await);
}

#[tokio::test]
async fn column_impress_positions_brittle_fails_on_v2() {
    let diff = compare(
        positions_v1(),
        impress_positions(Version::V2).await,
        &FrameEq::new(),
    )
    .expect_err("the hand-crafted v1 column cannot hold on v2");
    // Fewer impressions are counted: 15 positions instead of 20.
    assert_eq!(diff.rows, (20, 15), "{diff}");
}

/// The column the article rewrites by hand for v2.
#[tokio::test]
async fn column_impress_positions_rewritten_v2() {
    let expected = batch(vec![(
        "position",
        int(&[1, 2, 3, 1, 2, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2]),
    )]);
    assert_frames_eq!(expected, impress_positions(Version::V2).await);
}

/// The robust form: in each request, the impression positions are exactly 1..=n, n being the
/// number of impressions the row-level rule counts for that request, and each position names
/// the item at that place of the counted slate.
#[tokio::test]
async fn column_impress_positions_robust() {
    for (name, v, path, _dir) in every_input() {
        let (logs, events, _, _) = outputs(&path, v, None).await;
        let expected: HashMap<String, Vec<String>> =
            counted_impressions(&logs, v).into_iter().collect();
        let mut seen: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        let kinds = strings(&events, "event_type");
        let ids = strings(&events, "request_id");
        let items = strings(&events, "item");
        let positions = ints(&events, "position");
        for i in 0..events.num_rows() {
            if kinds[i].as_deref() == Some("impress") {
                seen.entry(ids[i].clone().expect("id"))
                    .or_default()
                    .push((positions[i], items[i].clone().expect("item")));
            }
        }
        assert_eq!(
            seen.len(),
            expected.len(),
            "{name}: requests with impressions"
        );
        for (id, slate) in &expected {
            let mut got = seen.remove(id).unwrap_or_default();
            got.sort();
            let want: Vec<(i64, String)> = slate
                .iter()
                .enumerate()
                .map(|(p, item)| (p as i64 + 1, item.clone()))
                .collect();
            assert_eq!(got, want, "{name}: request {id}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Table level: `events_to_aggregates`.

async fn aggregates(v: Version) -> RecordBatch {
    let ctx = new_context();
    let logs = read_logs(&ctx, &hand_logs(v), v).await.expect("logs");
    let events = logs_to_events(logs, v).expect("events");
    collect(events_to_aggregates(events).expect("aggregates")).await
}

fn aggregates_table(impress: &[i64]) -> RecordBatch {
    batch(vec![
        ("item", text(&["i1", "i2", "i3", "i4"])),
        ("click", int(&[0, 1, 1, 0])),
        ("impress", int(impress)),
    ])
}

#[tokio::test]
async fn table_aggregates_brittle_v1() {
    assert_frames_eq!(
        aggregates_table(&[5, 5, 5, 5]),
        aggregates(Version::V1).await
    );
}

#[tokio::test]
async fn table_aggregates_brittle_fails_on_v2() {
    let diff = compare(
        aggregates_table(&[5, 5, 5, 5]),
        aggregates(Version::V2).await,
        &FrameEq::new().key(&["item"]),
    )
    .expect_err("the hand-crafted v1 table cannot hold on v2");
    // i1, i3 and i4 lose impressions that were not visible; clicks do not change.
    let at: Vec<&str> = diff.differing.iter().map(|d| d.at.as_str()).collect();
    assert_eq!(at.len(), 3, "{diff}");
    assert!(
        diff.mismatches.contains(&("impress".to_string(), 3)),
        "{diff}"
    );
    assert!(
        diff.mismatches.contains(&("click".to_string(), 0)),
        "{diff}"
    );
}

#[tokio::test]
async fn table_aggregates_rewritten_v2() {
    assert_frames_eq!(
        aggregates_table(&[4, 5, 4, 2]),
        aggregates(Version::V2).await
    );
}

/// The robust form: invariants of any aggregation of events.
#[tokio::test]
async fn table_aggregates_robust() {
    for (name, v, path, _dir) in every_input() {
        let (logs, events, aggs, _) = outputs(&path, v, None).await;
        let items = strings(&aggs, "item");
        let clicks = ints(&aggs, "click");
        let impress = ints(&aggs, "impress");
        // One row per item.
        let unique: BTreeSet<&Option<String>> = items.iter().collect();
        assert_eq!(unique.len(), items.len(), "{name}: items are unique");
        // Every click was shown: no item has more clicks than impressions.
        for i in 0..aggs.num_rows() {
            assert!(
                clicks[i] <= impress[i],
                "{name}: {:?} has {} clicks and {} impressions",
                items[i],
                clicks[i],
                impress[i]
            );
        }
        // Nothing is lost or made up: the totals are the event counts, which the row-level
        // rules predict from the logs.
        let counted: usize = counted_impressions(&logs, v)
            .iter()
            .map(|(_, s)| s.len())
            .sum();
        let click_logs = strings(&logs, "event_type")
            .iter()
            .filter(|t| t.as_deref() == Some("click"))
            .count();
        assert_eq!(impress.iter().sum::<i64>() as usize, counted, "{name}");
        assert_eq!(clicks.iter().sum::<i64>() as usize, click_logs, "{name}");
        assert_eq!(
            events.num_rows(),
            counted + click_logs,
            "{name}: one event per impression and per click"
        );
        // The items are the items of the events.
        let event_items: BTreeSet<Option<String>> = strings(&events, "item").into_iter().collect();
        let agg_items: BTreeSet<Option<String>> = items.into_iter().collect();
        assert_eq!(event_items, agg_items, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Schema.

async fn logs_schema(v: Version) -> Vec<String> {
    let ctx = new_context();
    let logs = read_logs(&ctx, &hand_logs(v), v).await.expect("logs");
    logs.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

const V1_LOG_COLUMNS: [&str; 4] = ["request_id", "impressions", "event_item", "event_type"];

#[tokio::test]
async fn schema_logs_exact_brittle_v1() {
    assert_eq!(logs_schema(Version::V1).await, V1_LOG_COLUMNS);
}

#[tokio::test]
async fn schema_logs_exact_brittle_fails_on_v2() {
    let got = logs_schema(Version::V2).await;
    assert_ne!(got, V1_LOG_COLUMNS);
    assert!(got.iter().any(|c| c == "impressions_visible"), "{got:?}");
}

/// The robust form (the article's own schema test): the columns the pipeline needs are there
/// with their types; new columns may appear.
#[tokio::test]
async fn schema_include_robust() {
    for (name, v, path, _dir) in every_input() {
        let (logs, events, aggs, ctr) = outputs(&path, v, None).await;
        let needs: [(&RecordBatch, &[(&str, DataType)]); 4] = [
            (
                &logs,
                &[
                    ("request_id", DataType::Utf8),
                    ("impressions", DataType::Utf8),
                    ("event_item", DataType::Utf8),
                    ("event_type", DataType::Utf8),
                ],
            ),
            (
                &events,
                &[
                    ("request_id", DataType::Utf8),
                    ("item", DataType::Utf8),
                    ("position", DataType::Int64),
                    ("event_type", DataType::Utf8),
                ],
            ),
            (
                &aggs,
                &[
                    ("item", DataType::Utf8),
                    ("click", DataType::Int64),
                    ("impress", DataType::Int64),
                ],
            ),
            (
                &ctr,
                &[("item_id", DataType::Utf8), ("ctr", DataType::Float64)],
            ),
        ];
        for (frame, columns) in needs {
            for (col, ty) in columns {
                let field = frame.schema().field_with_name(col).cloned();
                let field = field.unwrap_or_else(|_| panic!("{name}: `{col}` is missing"));
                assert_eq!(field.data_type(), ty, "{name}: type of `{col}`");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Integration: logs to CTR, against golden files (data/golden/README.md derives them).

async fn ctr_of(v: Version, logs: &Path) -> RecordBatch {
    let (_, _, _, ctr) = outputs(logs, v, Some(&data("items.csv"))).await;
    ctr
}

fn golden(v: Version, file: &str) -> PathBuf {
    data(&format!("golden/{v}/{file}"))
}

fn by_item() -> FrameEq {
    FrameEq::new()
        .key(&["item_id"])
        .abs_tol(1e-9)
        .columns(&["item_id", "ctr"])
}

#[tokio::test]
async fn integration_golden_brittle_v1() {
    assert_frames_eq!(
        golden(Version::V1, "ctr.csv"),
        ctr_of(Version::V1, &hand_logs(Version::V1)).await,
        by_item()
    );
}

#[tokio::test]
async fn integration_golden_brittle_fails_on_v2() {
    let diff = compare(
        golden(Version::V1, "ctr.csv"),
        ctr_of(Version::V2, &hand_logs(Version::V2)).await,
        &by_item(),
    )
    .expect_err("the v1 golden file cannot hold on v2");
    // Only i3 moves: 1/5 = 0.2 becomes 1/4 = 0.25.
    assert_eq!(diff.differing.len(), 1, "{diff}");
    let cell = &diff.differing[0].cells[0];
    assert_eq!(
        (
            cell.column.as_str(),
            cell.left.as_str(),
            cell.right.as_str()
        ),
        ("ctr", "0.2", "0.25"),
        "{diff}"
    );
}

#[tokio::test]
async fn integration_golden_rewritten_v2() {
    assert_frames_eq!(
        golden(Version::V2, "ctr.csv"),
        ctr_of(Version::V2, &hand_logs(Version::V2)).await,
        by_item()
    );
}

/// The whole file, as the binary writes it: same bytes-level content as the golden files
/// (read back with tollgate's CSV reader, types included).
#[tokio::test]
async fn integration_written_files_equal_golden() {
    for v in [Version::V1, Version::V2] {
        let dir = tempfile::tempdir().expect("tempdir");
        tollgate_example_pipeline::run_to_dir(
            &hand_logs(v),
            Some(&data("items.csv")),
            v,
            dir.path(),
        )
        .await
        .expect("run");
        for file in ["ctr.csv", "aggregates.csv"] {
            assert_frames_eq!(golden(v, file), dir.path().join(file));
        }
    }
}

/// The robust form: coarse properties of the output, and relations that must hold whatever the
/// logs.
#[tokio::test]
async fn integration_properties_robust() {
    for (name, v, path, _dir) in every_input() {
        let (_, events, aggs, ctr) = outputs(&path, v, None).await;
        let ids = strings(&ctr, "item_id");
        let values = floats(&ctr, "ctr");
        // Every item of the events is scored, once.
        let scored: BTreeSet<Option<String>> = ids.iter().cloned().collect();
        let event_items: BTreeSet<Option<String>> = strings(&events, "item").into_iter().collect();
        assert_eq!(scored.len(), ids.len(), "{name}: one row per item");
        assert_eq!(
            scored, event_items,
            "{name}: every item of the events is scored"
        );
        // A CTR is a rate, or the cold-start value.
        for (id, c) in ids.iter().zip(&values) {
            assert!(
                (0.0..=1.0).contains(c) || *c == rows::COLD_START_CTR,
                "{name}: {id:?} has ctr {c}"
            );
        }
        // The model answers clicks / impressions for every item it saw.
        let (clicks, impress) = (ints(&aggs, "click"), ints(&aggs, "impress"));
        for i in 0..aggs.num_rows() {
            let want = rows::naive_ctr(Some(clicks[i]), Some(impress[i]));
            assert!((values[i] - want).abs() < 1e-12, "{name}: row {i}");
        }
    }
    // Items the logs never showed get the cold-start value.
    let ctr = ctr_of(Version::V2, &hand_logs(Version::V2)).await;
    let i5 = strings(&ctr, "item_id")
        .iter()
        .position(|s| s.as_deref() == Some("i5"))
        .expect("i5 is scored");
    assert_eq!(floats(&ctr, "ctr")[i5], rows::COLD_START_CTR);
}

/// Across versions, on the same requests: v2 counts a subset of v1's impressions and the same
/// clicks, so no item's CTR falls (unless v2 saw it nowhere).
#[tokio::test]
async fn integration_v2_never_lowers_ctr_robust() {
    let hand = (hand_logs(Version::V1), hand_logs(Version::V2));
    let (_d1, gen1) = generated_logs(Version::V1);
    let (_d2, gen2) = generated_logs(Version::V2);
    for (name, (l1, l2)) in [("hand-made", hand), ("generated", (gen1, gen2))] {
        let (_, _, a1, c1) = outputs(&l1, Version::V1, None).await;
        let (_, _, a2, c2) = outputs(&l2, Version::V2, None).await;
        let v1: HashMap<_, _> = strings(&c1, "item_id")
            .into_iter()
            .zip(floats(&c1, "ctr"))
            .collect();
        let imp1: HashMap<_, _> = strings(&a1, "item")
            .into_iter()
            .zip(ints(&a1, "impress"))
            .collect();
        assert_eq!(
            ints(&a1, "click"),
            ints(&a2, "click"),
            "{name}: same clicks"
        );
        for ((item, c), n) in strings(&c2, "item_id")
            .into_iter()
            .zip(floats(&c2, "ctr"))
            .zip(ints(&a2, "impress"))
        {
            assert!(
                n <= imp1[&item],
                "{name}: {item:?} has more impressions in v2"
            );
            if n > 0 {
                assert!(
                    c >= v1[&item] - 1e-12,
                    "{name}: {item:?} {} -> {c}",
                    v1[&item]
                );
            }
        }
    }
}

/// The additive change seen from the old code: v1 run on the new logs ignores the new column
/// and gives what it gave before.
#[tokio::test]
async fn integration_v1_ignores_the_new_column_robust() {
    let on_v1_logs = ctr_of(Version::V1, &hand_logs(Version::V1)).await;
    let on_v2_logs = ctr_of(Version::V1, &hand_logs(Version::V2)).await;
    assert_frames_eq!(on_v1_logs, on_v2_logs);
}

// ---------------------------------------------------------------------------------------------
// Bad input: errors name the file and the line.

#[tokio::test]
async fn bad_rows_are_named_by_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "request_id,impressions,event_item,event_type\n\
         r1,i1|i2,,impress\n\
         r2,i1||i2,,impress\n\
         r3,i1|i2,,click\n\
         r4,i1,,shown\n",
    )
    .expect("write");
    let ctx = new_context();
    let err = read_logs(&ctx, &path, Version::V1)
        .await
        .expect_err("bad rows");
    let msg = err.to_string();
    assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    assert!(msg.contains("3 invalid row(s)"), "{msg}");
    assert!(
        msg.contains("line 3 (request r2): `impressions`: item 2"),
        "{msg}"
    );
    assert!(
        msg.contains("line 4 (request r3): a click without `event_item`"),
        "{msg}"
    );
    assert!(
        msg.contains("line 5 (request r4): `event_type` is \"shown\""),
        "{msg}"
    );
}

#[tokio::test]
async fn v2_needs_the_new_column() {
    let ctx = new_context();
    let err = read_logs(&ctx, &hand_logs(Version::V1), Version::V2)
        .await
        .expect_err("v1 logs have no impressions_visible");
    let msg = err.to_string();
    assert!(msg.contains("logs_v1.csv"), "{msg}");
    assert!(
        msg.contains("missing column(s) impressions_visible"),
        "{msg}"
    );
}

#[tokio::test]
async fn items_without_an_id_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("items.csv");
    std::fs::write(&path, "item_id,name\ni1,first\n,second\ni3,third\n").expect("write");
    let ctx = new_context();
    let msg = match read_items(&ctx, &path).await {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    };
    assert!(msg.contains("items.csv: 1 invalid row(s)"), "{msg:?}");
    assert!(msg.contains("line 3: `item_id` is empty"), "{msg:?}");
}

#[tokio::test]
async fn an_empty_log_gives_empty_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.csv");
    std::fs::write(&path, "request_id,impressions,event_item,event_type\n").expect("write");
    let ctx = new_context();
    let logs = read_logs(&ctx, &path, Version::V1)
        .await
        .expect("header only");
    let events = logs_to_events(logs, Version::V1).expect("events");
    let aggs = events_to_aggregates(events.clone()).expect("aggregates");
    let ctr = aggregates_to_ctr(aggs, None).expect("ctr");
    assert_eq!(collect(events).await.num_rows(), 0);
    assert_eq!(collect(ctr).await.num_rows(), 0);
}
