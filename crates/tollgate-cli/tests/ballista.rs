//! `--engine ballista:…`: suites on an Apache DataFusion Ballista cluster started inside the
//! process (scheduler and executor), compared with the local engine through the whole CLI.
#![cfg(feature = "ballista")]

use std::path::Path;

mod common;
use common::{bin, repo, run};

const SUITE: &str = "\
id_columns: [PassengerId]
sample_size: 3
table:
  row_count: { between: [800, 1000] }
  columns: { include: [PassengerId, Survived, Pclass, Name, Sex, Age, Fare] }
columns:
  PassengerId: { unique: true, not_null: true, min: 1 }
  Survived: { in_set: [0, 1] }
  Pclass: { in_set: [1, 2, 3], distinct_count: 3 }
  Sex: { in_set: [male, female] }
  Age: { between: [1, 70], null_fraction: { at_most: 0.15 }, median: { between: [27, 29] }, mean: { between: [29, 30] } }
  Fare: { stdev: { at_most: 40 }, quantiles: { 0.5: { at_most: 15 }, 0.9: { at_least: 70 } } }
  Name: { matches: '^[^,]+, ', length: { at_most: 60 } }
  Embarked: { not_null: true, unique_fraction: { at_most: 0.01 } }
";

fn validate(engine: Option<&str>, dir: &Path) -> (i32, String, String) {
    let suite = dir.join("suite.yaml");
    std::fs::write(&suite, SUITE).expect("write suite");
    let mut cmd = bin();
    cmd.arg("validate")
        .arg(repo().join("examples/titanic/data/titanic.csv"))
        .arg("--suite")
        .arg(&suite)
        .args(["--format", "json", "--threads", "2"]);
    if let Some(e) = engine {
        cmd.args(["--engine", e]);
    }
    run(&mut cmd)
}

#[test]
fn a_suite_on_a_standalone_cluster_gives_the_local_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lc, local, lerr) = validate(None, dir.path());
    let (bc, cluster, berr) = validate(Some("ballista:standalone"), dir.path());
    // The suite fails (Age, Fare, Embarked): failing checks fetch samples on the cluster too.
    assert_eq!(lc, 1, "{local}\n{lerr}");
    assert_eq!(bc, lc, "{cluster}\n{berr}");
    // Everything but the samples is byte for byte the same; the samples show the same number
    // of failing rows, without row positions (a cluster keeps no file order), in value order.
    let mut l: serde_json::Value = serde_json::from_str(&local).expect("json");
    let mut c: serde_json::Value = serde_json::from_str(&cluster).expect("json");
    let mut sampled = 0;
    for (lf, cf) in findings(&mut l).iter_mut().zip(findings(&mut c).iter_mut()) {
        let (ls, cs) = (lf["sample"].take(), cf["sample"].take());
        let (ls, cs) = (
            ls.as_array().cloned().unwrap_or_default(),
            cs.as_array().cloned().unwrap_or_default(),
        );
        assert_eq!(ls.len(), cs.len(), "{lf}");
        assert!(cs.iter().all(|s| s.get("row").is_none()), "{cs:?}");
        sampled += usize::from(!cs.is_empty());
    }
    assert!(sampled >= 3, "{local}");
    assert_eq!(c, l, "stderr on the cluster:\n{berr}");
}

fn findings(v: &mut serde_json::Value) -> &mut Vec<serde_json::Value> {
    v["tests"][0]["findings"].as_array_mut().expect("findings")
}

#[test]
fn the_plan_can_name_the_engine_and_the_flag_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = repo().join("examples/titanic/data/titanic.csv");
    let plan = dir.path().join("tollgate.yaml");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nengine: ballista://127.0.0.1:1\nsources:\n  p: {{ path: '{}' }}\nsuites:\n  s:\n    source: p\n    columns:\n      PassengerId: {{ unique: true }}\n      Sex: {{ in_set: [male, female] }}\n",
            data.display()
        ),
    )
    .expect("write plan");
    // The plan's engine is unreachable: the run stops with exit 2 and says where it looked.
    let (code, out, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("cannot reach the Ballista scheduler at 127.0.0.1:1"),
        "{err}"
    );
    // `--engine` overrides it.
    let (code, out, err) = run(bin()
        .arg("test")
        .arg(&plan)
        .args(["--engine", "ballista:standalone"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("PASS  suite s"), "{out}");
}

#[test]
fn checks_a_cluster_cannot_run_are_errors_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "id,ts\n1,2024/01/01\n2,2024/01/02\n3,2024/01/03\n").expect("data");
    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        "columns:\n  id: { increasing: true, not_null: true }\n  ts: { date_format: '%Y/%m/%d' }\n",
    )
    .expect("suite");
    let args = |engine: &str| {
        let mut c = bin();
        c.arg("validate")
            .arg(&data)
            .arg("--suite")
            .arg(&suite)
            .args(["--engine", engine, "--format", "json"]);
        c
    };
    let (code, out, err) = run(&mut args("ballista:standalone"));
    assert_eq!(code, 2, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let findings = v["tests"][0]["findings"].as_array().expect("findings");
    let by = |check: &str| {
        findings
            .iter()
            .find(|f| f["check"] == check)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by("not_null")["status"], "passed", "{out}");
    assert_eq!(by("increasing")["status"], "error", "{out}");
    assert!(
        by("increasing")["error"]
            .as_str()
            .is_some_and(|e| e.contains("not supported on Ballista") && e.contains("file order")),
        "{out}"
    );
    assert_eq!(by("date_format")["status"], "error", "{out}");
    assert!(
        by("date_format")["error"].as_str().is_some_and(|e| e
            .contains("not supported on Ballista")
            && e.contains("`tg_parses_datetime`")),
        "{out}"
    );
    // The same suite passes here.
    let (code, out, err) = run(&mut args("local"));
    assert_eq!(code, 0, "{out}\n{err}");
}
