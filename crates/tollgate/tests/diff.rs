//! `diffs:` and the diff engine: crafted pairs for each kind of difference, bad input, and a
//! property test against a brute-force comparison (`tollgate::testing::frames`) on random
//! data.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tollgate::core::{Status, TestKind};
use tollgate::data::diff::{DiffOptions, DiffResult};
use tollgate::testing::frames::{FrameEq, diff_frames, read_file};
use tollgate::{Engine, SourceDecl};

fn source(path: &Path) -> SourceDecl {
    SourceDecl::file(&path.display().to_string(), &path.display().to_string())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn diff(e: &Path, a: &Path, opts: &DiffOptions) -> Result<DiffResult, String> {
    rt().block_on(Engine::default().diff(&source(e), &source(a), Path::new("."), opts))
        .map_err(|e| e.to_string())
}

fn keyed(key: &[&str]) -> DiffOptions {
    DiffOptions {
        key: key.iter().map(|s| s.to_string()).collect(),
        samples: 5,
        ..DiffOptions::default()
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn column<'a>(r: &'a DiffResult, name: &str) -> &'a tollgate::data::diff::ColumnDiff {
    r.columns
        .iter()
        .find(|c| c.name == name)
        .expect("column compared")
}

#[test]
fn each_kind_of_difference_is_found_and_order_does_not_matter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = write(
        dir.path(),
        "e.csv",
        "id,name,score,n,gone\n1,a,0.5,1,x\n2,b,0.25,2,y\n3,c,1.0,3,z\n4,d,,4,w\n6,f,NaN,6,v\n",
    );
    // Shuffled; 2.score off by 1e-7; 3.name changed; 4.score null on both sides; 5 new;
    // 6.score NaN on both sides; `gone` removed, `new` added, `n` retyped to float.
    let a = write(
        dir.path(),
        "a.csv",
        "id,name,score,n,new\n6,f,NaN,6.0,1\n2,b,0.2500001,2.0,1\n1,a,0.5,1.0,1\n5,e,0.1,5.0,1\n3,C,1.0,3.0,1\n4,d,,4.0,1\n",
    );
    let r = diff(&e, &a, &keyed(&["id"])).expect("diff");
    assert_eq!((r.expected_rows, r.actual_rows), (5, 6));
    assert_eq!(r.removed, vec![("gone".to_string(), "string".to_string())]);
    assert_eq!(r.added, vec![("new".to_string(), "int64".to_string())]);
    assert_eq!(
        r.retyped,
        vec![("n".to_string(), "int64".to_string(), "float64".to_string())]
    );
    assert_eq!((r.only_expected, r.only_actual), (0, 1));
    assert_eq!(r.only_samples[0]["id"], 5);
    assert_eq!(r.matched, 5);
    assert_eq!(column(&r, "name").mismatches, 1);
    assert_eq!(column(&r, "name").samples[0]["expected"], "c");
    assert_eq!(column(&r, "name").samples[0]["actual"], "C");
    assert_eq!(
        column(&r, "score").mismatches,
        1,
        "exact: 0.25 vs 0.2500001"
    );
    assert_eq!(column(&r, "n").mismatches, 0, "1 and 1.0 are equal numbers");
    assert!(r.differs());

    // Tolerances: absolute, then relative to the expected value.
    let mut o = keyed(&["id"]);
    o.abs = 1e-6;
    assert_eq!(
        column(&diff(&e, &a, &o).expect("diff"), "score").mismatches,
        0
    );
    let mut o = keyed(&["id"]);
    o.rel = 1e-6;
    assert_eq!(
        column(&diff(&e, &a, &o).expect("diff"), "score").mismatches,
        0
    );
    o.rel = 1e-8;
    assert_eq!(
        column(&diff(&e, &a, &o).expect("diff"), "score").mismatches,
        1
    );
    // Per column, and columns selected or ignored.
    let mut o = keyed(&["id"]);
    o.per_column = vec![("score".into(), 1e-3, 0.0)];
    o.ignore = vec!["name".into(), "gone".into(), "new".into()];
    let r = diff(&e, &a, &o).expect("diff");
    assert!(r.columns.iter().all(|c| c.mismatches == 0), "{r:?}");
    assert!(r.removed.is_empty() && r.added.is_empty());
    let mut o = keyed(&["id"]);
    o.columns = Some(vec!["name".into()]);
    let r = diff(&e, &a, &o).expect("diff");
    assert_eq!(r.columns.len(), 1);

    // The same data in another order is equal.
    let shuffled = write(
        dir.path(),
        "s.csv",
        "id,name,score,n,gone\n6,f,NaN,6,v\n4,d,,4,w\n3,c,1.0,3,z\n1,a,0.5,1,x\n2,b,0.25,2,y\n",
    );
    let r = diff(&e, &shuffled, &keyed(&["id"])).expect("diff");
    assert!(!r.differs(), "{r:?}");
}

#[test]
fn composite_and_null_keys_match_and_duplicates_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = write(
        dir.path(),
        "e.csv",
        "k1,k2,v\n1,a,10\n1,b,20\n,c,30\n2,,40\n",
    );
    let a = write(
        dir.path(),
        "a.csv",
        "k1,k2,v\n1,b,20\n2,,41\n1,a,10\n,c,30\n",
    );
    let r = diff(&e, &a, &keyed(&["k1", "k2"])).expect("diff");
    assert_eq!((r.only_expected, r.only_actual), (0, 0), "null keys match");
    assert_eq!(column(&r, "v").mismatches, 1);
    assert_eq!(column(&r, "v").samples[0]["k1"], 2);

    let dup = write(
        dir.path(),
        "dup.csv",
        "k1,k2,v\n1,a,10\n1,a,11\n1,b,20\n,c,30\n2,,40\n",
    );
    let r = diff(&e, &dup, &keyed(&["k1", "k2"])).expect("diff");
    assert_eq!(r.duplicate_keys, (0, 1));
    assert!(!r.compared);
    assert_eq!(r.duplicate_samples[0]["side"], "actual");
    assert_eq!(r.duplicate_samples[0]["rows"], 2);
    assert!(r.differs());
}

#[test]
fn bad_input_is_refused_with_the_file_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = write(dir.path(), "e.csv", "id,v\n1,a\n");
    let a = write(dir.path(), "a.csv", "key,v\n1,a\n");
    let err = diff(&e, &a, &keyed(&["id"])).expect_err("key missing");
    assert!(
        err.contains("key column `id` is missing in") && err.contains("a.csv"),
        "{err}"
    );
    let t = write(dir.path(), "t.csv", "id,v\nx,a\n");
    let err = diff(&e, &t, &keyed(&["id"])).expect_err("incomparable key types");
    assert!(
        err.contains("`id` is int64 in") && err.contains("string in"),
        "{err}"
    );
    let err = diff(&e, &e, &keyed(&[])).expect_err("no key");
    assert!(err.contains("needs key columns"), "{err}");
    let mut o = keyed(&["id"]);
    o.columns = Some(vec!["nope".into()]);
    let err = diff(&e, &e, &o).expect_err("unknown column");
    assert!(err.contains("column `nope` is in neither"), "{err}");
    let err = diff(&dir.path().join("missing.csv"), &e, &keyed(&["id"])).expect_err("no file");
    assert!(err.contains("missing.csv"), "{err}");
}

#[test]
fn a_plan_diff_gives_findings_and_added_columns_can_be_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "golden.csv", "item,ctr\n1,0.5\n2,0.25\n");
    write(
        dir.path(),
        "out.csv",
        "item,ctr,visible\n2,0.25000000001,3\n1,0.5,4\n",
    );
    let plan = tollgate::parse_plan(
        "version: 1\nsources:\n  out: { path: out.csv }\ndiffs:\n  golden:\n    expected: golden.csv\n    actual: out\n    key: item\n    tolerance: { abs: 1.0e-9 }\n  strict:\n    expected: golden.csv\n    actual: out\n    key: [item]\n  lenient:\n    expected: golden.csv\n    actual: out\n    key: [item]\n    added_columns: ignore\n    per_column: { ctr: { tolerance: { rel: 1.0e-6 } } }\n",
    )
    .expect("plan");
    let report = rt().block_on(tollgate::run_plan(
        &Engine::default(),
        &plan,
        dir.path(),
        None,
    ));
    let by = |n: &str| report.tests.iter().find(|t| t.name == n).expect("test ran");
    let golden = by("golden");
    assert_eq!(golden.kind, TestKind::Diff);
    assert_eq!(golden.status, Status::Failed, "{golden:?}");
    let checks: Vec<(&str, Status)> = golden
        .findings
        .iter()
        .map(|f| (f.check.as_str(), f.status))
        .collect();
    assert_eq!(
        checks,
        vec![
            ("column_added", Status::Failed),
            ("row_count", Status::Passed),
            ("keys_only_in_expected", Status::Passed),
            ("keys_only_in_actual", Status::Passed),
            ("values_equal", Status::Passed),
        ]
    );
    let strict = by("strict");
    let values = strict
        .findings
        .iter()
        .find(|f| f.check == "values_equal")
        .expect("values");
    assert_eq!(values.unexpected_count, Some(1));
    assert_eq!(values.sample[0].row, None);
    assert_eq!(values.sample[0].values["item"], 2);
    assert_eq!(by("lenient").status, Status::Passed, "{:?}", by("lenient"));

    // The section is checked like every other: unknown keys and missing keys are errors.
    let err = tollgate::parse_plan("version: 1\ndiffs:\n  x: { expected: a.csv, actual: b.csv, key: [id], tolerence: { abs: 1 } }\n")
        .expect_err("typo");
    let text = err.to_string();
    assert!(
        text.contains("tolerence") && text.contains("tolerance"),
        "{text}"
    );
    let err = tollgate::parse_plan("version: 1\ndiffs:\n  x: { expected: a.csv, actual: b.csv }\n")
        .expect_err("no key");
    assert!(
        err.to_string()
            .contains("needs `expected`, `actual` and `key`"),
        "{err}"
    );
}

/// One random row: a key, a float, a text and an integer, each possibly null.
type Row = (i64, Option<f64>, Option<String>, Option<i64>);

fn csv(rows: &[Row]) -> String {
    let mut s = String::from("id,x,s,n\n");
    for (id, x, t, n) in rows {
        s.push_str(&format!(
            "{id},{},{},{}\n",
            x.map(|v| format!("{v:?}")).unwrap_or_default(),
            t.clone().unwrap_or_default(),
            n.map(|v| v.to_string()).unwrap_or_default()
        ));
    }
    s
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    proptest::collection::vec(
        (
            0i64..40,
            proptest::option::weighted(0.8, (-100i32..100).prop_map(|v| v as f64 / 8.0)),
            proptest::option::weighted(0.8, "[a-c]{1,2}"),
            proptest::option::weighted(0.8, -3i64..3),
        ),
        1..30,
    )
}

#[test]
fn the_diff_agrees_with_a_brute_force_comparison_on_random_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(rows(), rows(), 0usize..3), |(left, right, tol)| {
            // Half the cases: the right side is the left one, perturbed, so that most keys
            // match.
            let (left, right) = if tol == 0 {
                (left, right)
            } else {
                // Unique keys on the left, so that values are compared.
                let mut left = left;
                let mut seen = std::collections::HashSet::new();
                left.retain(|row| seen.insert(row.0));
                let mut r = left.clone();
                for (i, row) in r.iter_mut().enumerate() {
                    if i % 3 == 0 {
                        row.1 = row.1.map(|v| v + 0.01 * tol as f64);
                    }
                }
                r.extend(
                    right
                        .into_iter()
                        .filter(|row| !seen.contains(&row.0))
                        .take(2),
                );
                (left, r)
            };
            let e = dir.path().join("e.csv");
            let a = dir.path().join("a.csv");
            std::fs::write(&e, csv(&left)).expect("write");
            std::fs::write(&a, csv(&right)).expect("write");
            let abs = [0.0, 0.005, 0.05][tol];
            let mut o = keyed(&["id"]);
            o.abs = abs;
            let got = diff(&e, &a, &o).expect("diff");
            let brute = diff_frames(
                read_file(&e).expect("read"),
                read_file(&a).expect("read"),
                &FrameEq::new().key(&["id"]).abs_tol(abs),
            )
            .expect("compare");
            prop_assert_eq!(got.duplicate_keys.0 as usize, brute.duplicate_keys.0.len());
            prop_assert_eq!(got.duplicate_keys.1 as usize, brute.duplicate_keys.1.len());
            if got.compared {
                prop_assert_eq!(got.only_expected as usize, brute.only_left_keys.len());
                prop_assert_eq!(got.only_actual as usize, brute.only_right_keys.len());
                for (name, n) in &brute.mismatches {
                    prop_assert_eq!(
                        column(&got, name).mismatches as usize,
                        *n,
                        "column {}",
                        name
                    );
                }
            }
            Ok(())
        })
        .expect("the diff and the brute force agree");
}

#[test]
fn samples_are_the_smallest_keys_whatever_the_order_of_the_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 3000 keys in a scrambled order; every value differs; keys 5000.. only on one side.
    let order: Vec<i64> = (0..3000).map(|i| (i * 1237) % 3000).collect();
    let mut e = String::from("id,v\n");
    let mut a = String::from("id,v\n");
    for k in &order {
        e.push_str(&format!("{k},{k}\n"));
        a.push_str(&format!("{k},{}\n", k + 1));
    }
    for k in [5007, 5003, 5005] {
        e.push_str(&format!("{k},0\n"));
    }
    let (ep, ap) = (
        write(dir.path(), "e.csv", &e),
        write(dir.path(), "a.csv", &a),
    );
    let engine = Engine::new(tollgate::EngineOptions {
        partitions: Some(4),
        split_small_files: true,
        ..Default::default()
    });
    let mut o = keyed(&["id"]);
    o.samples = 3;
    let r = rt()
        .block_on(engine.diff(&source(&ep), &source(&ap), Path::new("."), &o))
        .expect("diff");
    let keys = |rows: &[serde_json::Map<String, serde_json::Value>]| -> Vec<i64> {
        rows.iter().filter_map(|m| m["id"].as_i64()).collect()
    };
    assert_eq!(column(&r, "v").mismatches, 3000);
    assert_eq!(keys(&column(&r, "v").samples), vec![0, 1, 2]);
    assert_eq!(keys(&r.only_samples), vec![5003, 5005, 5007]);
}
