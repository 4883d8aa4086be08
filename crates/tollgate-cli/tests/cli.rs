//! Whole-CLI tests: exit codes, stdout/stderr, output files, the README's example.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{bin, fixtures, repo, run};

#[test]
fn the_titanic_example_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let (code, out, err) = run(bin()
        .arg("test")
        .arg(repo().join("examples/titanic/tollgate.yaml"))
        .arg("-o")
        .arg(&report));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("PASS  suite passengers-contract"), "{out}");
    assert!(out.contains("WARN  suite passengers-known-gaps"), "{out}");
    assert!(out.contains("891 rows"), "{out}");
    // The article's tests, each a test of the plan.
    for line in [
        "PASS  suite train-split (data/train.csv, 712 rows",
        "PASS  suite test-split (data/test.csv, 179 rows",
        "PASS  model_check tree-serves",
        "PASS  model_check forest-serves",
        "PASS  behaviour tree-ignores-name",
        "PASS  behaviour tree-ignores-ticket",
        "PASS  behaviour tree-ignores-port",
        "WARN  behaviour forest-ignores-port",
        "PASS  behaviour forest-women-first",
        "PASS  behaviour forest-first-class",
        "WARN  behaviour forest-higher-fare",
        "PASS  behaviour forest-obvious-cases",
        "PASS  evaluation tree-test",
        "PASS  evaluation forest-test",
        "PASS  evaluation tree-train",
        "PASS  evaluation forest-train",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    // The article's bars, with the values scikit-learn gives (examples/titanic/TRAINING.md).
    let json = std::fs::read_to_string(&report).expect("report");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    for (test, metric, sklearn) in [
        ("tree-test", "accuracy", 0.8659),
        ("tree-test", "roc_auc", 0.8940),
        ("forest-test", "accuracy", 0.8715),
        ("forest-test", "roc_auc", 0.9051),
        ("tree-train", "accuracy", 0.8736),
        ("forest-train", "roc_auc", 0.9480),
    ] {
        let got = observed(&doc, test, metric);
        assert!(
            (got - sklearn).abs() < 5e-5,
            "{test} {metric}: {got} vs {sklearn}"
        );
    }
}

#[test]
fn the_example_filter_and_fail_on_warn() {
    let plan = repo().join("examples/titanic/tollgate.yaml");
    let (code, out, _) = run(bin()
        .arg("test")
        .arg(&plan)
        .arg("known-gaps")
        .args(["--fail-on", "warn"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        !out.contains("passengers-contract"),
        "the filter keeps one test: {out}"
    );
    let (code, _, err) = run(bin().arg("test").arg(&plan).arg("no-such-test"));
    assert_eq!(code, 2);
    assert!(
        err.contains("no test name contains `no-such-test`"),
        "{err}"
    );
}

#[test]
fn validate_reports_failures_with_samples_and_writes_every_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (json, xml, txt) = (
        dir.path().join("r.json"),
        dir.path().join("r.xml"),
        dir.path().join("r.txt"),
    );
    let (code, out, err) = run(bin()
        .arg("validate")
        .arg(fixtures().join("people.csv"))
        .arg("--suite")
        .arg(fixtures().join("people.yaml"))
        .args([
            "-o".as_ref(),
            json.as_os_str(),
            "-o".as_ref(),
            xml.as_os_str(),
            "--output".as_ref(),
            txt.as_os_str(),
        ]));
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("valid JSON");
    assert_eq!(doc["schema"], "tollgate.results/v1");
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["summary"]["failed"], 1);
    let findings = doc["tests"][0]["findings"].as_array().expect("findings");
    let between = findings
        .iter()
        .find(|f| f["check"] == "between")
        .expect("between finding");
    assert_eq!(between["status"], "failed");
    assert_eq!(between["unexpected_count"], 1);
    assert_eq!(between["element_count"], 4);
    assert_eq!(between["sample"][0]["row"], 4);
    assert_eq!(between["sample"][0]["values"]["id"], 5);
    assert_eq!(between["sample"][0]["values"]["age"], 230);
    let adults = findings
        .iter()
        .find(|f| f["name"] == "adults")
        .expect("adults");
    assert_eq!(adults["status"], "warned");
    assert_eq!(adults["severity"], "warn");
    let xml = std::fs::read_to_string(&xml).expect("xml written");
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("<testsuite name=\"people\""), "{xml}");
    assert!(xml.contains("<failure"), "{xml}");
    let txt = std::fs::read_to_string(&txt).expect("txt written");
    assert!(txt.contains("FAIL  suite people"), "{txt}");
    assert!(!txt.contains('\x1b'), "no colour in files");
    assert!(out.contains("row 4: id=5, age=230"), "{out}");
    assert!(
        out.contains("expected value in [0, 120] for every non-null value"),
        "{out}"
    );
}

#[test]
fn json_is_identical_whatever_the_threads() {
    let mut docs = Vec::new();
    for threads in ["1", "2", "4"] {
        let (code, out, _) = run(bin()
            .arg("validate")
            .arg(fixtures().join("people.csv"))
            .arg("--suite")
            .arg(fixtures().join("people.yaml"))
            .args(["--format", "json", "--threads", threads]));
        assert_eq!(code, 1);
        docs.push(out);
    }
    assert_eq!(docs[0], docs[1]);
    assert_eq!(docs[0], docs[2]);
}

#[test]
fn suite_errors_name_file_line_column_and_suggest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_file = dir.path().join("r.json");
    let (code, out, err) = run(bin()
        .arg("validate")
        .arg(fixtures().join("people.csv"))
        .arg("--suite")
        .arg(fixtures().join("typo.yaml"))
        .arg("-o")
        .arg(&out_file));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "nothing on stdout: {out}");
    assert!(
        err.contains("typo.yaml:2:9: unknown column check `not_nul`"),
        "{err}"
    );
    assert!(err.contains("did you mean `not_null`?"), "{err}");
    assert!(err.contains("typo.yaml:4:1: unknown key `tabel`"), "{err}");
    assert!(err.contains("did you mean `table`?"), "{err}");
    assert!(
        !out_file.exists(),
        "no output is written for a suite that does not parse"
    );
}

#[test]
fn missing_data_and_missing_suite_exit_2() {
    let (code, out, _) = run(bin()
        .arg("validate")
        .arg("nowhere.csv")
        .arg("--suite")
        .arg(fixtures().join("people.yaml")));
    assert_eq!(code, 2);
    assert!(
        out.contains("nowhere.csv: no such file or directory"),
        "{out}"
    );
    // With JSON on stdout, the reason goes to stderr too.
    let (code, out, err) = run(bin()
        .arg("validate")
        .arg("nowhere.csv")
        .arg("--suite")
        .arg(fixtures().join("people.yaml"))
        .args(["--format", "json"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("nowhere.csv: no such file or directory"),
        "{err}"
    );
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON even for errors");
    assert_eq!(doc["status"], "error");
    let (code, _, err) = run(bin()
        .arg("validate")
        .arg(fixtures().join("people.csv"))
        .arg("--suite")
        .arg("nowhere.yaml"));
    assert_eq!(code, 2);
    assert!(err.contains("nowhere.yaml: cannot read the suite"), "{err}");
}

#[test]
fn a_diff_without_a_key_is_a_plan_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = dir.path().join("tollgate.yaml");
    std::fs::write(
        &plan,
        "version: 1\nsources:\n  a: { path: a.csv }\ndiffs:\n  x: { expected: a, actual: a }\n",
    )
    .expect("write");
    let (code, _, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2);
    assert!(
        err.contains("tollgate.yaml:5:3: diff `x` needs `expected`, `actual` and `key`"),
        "{err}"
    );
}

#[test]
fn outputs_never_overwrite_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d.json");
    std::fs::write(&data, "{\"a\": 1}\n").expect("write");
    let suite = dir.path().join("s.yaml");
    std::fs::write(&suite, "table: { row_count: 1 }\n").expect("write");
    let (code, _, err) = run(bin()
        .arg("validate")
        .arg(&data)
        .arg("--suite")
        .arg(&suite)
        .arg("-o")
        .arg(&data));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&data).expect("read"),
        "{\"a\": 1}\n",
        "the data is untouched"
    );
}

#[test]
fn explain_documents_checks() {
    let (code, out, _) = run(bin().args(["explain", "not_null"]));
    assert_eq!(code, 0);
    assert!(out.contains("expect_column_values_to_not_be_null"), "{out}");
    let (code, out, _) = run(bin().arg("explain"));
    assert_eq!(code, 0);
    for c in tollgate::core::catalog::CHECKS {
        assert!(out.contains(c.name), "{} missing from the list", c.name);
    }
    let (code, out, _) = run(bin().args(["explain", "roc_auc"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("scikit-learn") && out.contains("binary metric"),
        "{out}"
    );
    let (code, out, _) = run(bin().args(["explain", "batch_invariant"]));
    assert_eq!(code, 0);
    assert!(out.contains("model check"), "{out}");
    let (code, _, err) = run(bin().args(["explain", "not_nul"]));
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `not_null`?"), "{err}");
}

#[test]
fn text_report_snapshot() {
    let (code, out, _) = run(bin().current_dir(fixtures()).args([
        "validate",
        "people.csv",
        "--suite",
        "people.yaml",
    ]));
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn gx_suites_run_directly_and_keep_their_types() {
    let (code, out, err) = run(bin()
        .arg("validate")
        .arg(fixtures().join("people.csv"))
        .arg("--suite")
        .arg(fixtures().join("people_gx.json"))
        .args(["--format", "json"]));
    assert_eq!(code, 1, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let findings = doc["tests"][0]["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 6);
    let between = findings
        .iter()
        .find(|f| f["check"] == "between")
        .expect("between");
    assert_eq!(between["gx_type"], "expect_column_values_to_be_between");
    assert_eq!(between["status"], "failed");
    assert_eq!(between["unexpected_count"], 1);
    let regex = findings
        .iter()
        .find(|f| f["check"] == "regex_list")
        .expect("regex_list");
    assert_eq!(
        regex["status"], "warned",
        "GX severity warning is a warning"
    );
    assert_eq!(regex["unexpected_count"], 1, "bob@example has no .com");
}

#[test]
fn import_gx_writes_yaml_that_validates_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, yaml, err) = run(bin()
        .args(["import", "gx"])
        .arg(fixtures().join("people_gx.json")));
    assert_eq!(code, 0, "{err}");
    assert!(
        yaml.contains("age: { between: [0, 120] }")
            || yaml.contains("between: { min: 0, max: 120 }"),
        "{yaml}"
    );
    assert!(
        yaml.contains("expectations:\n  - { type: expect_column_values_to_match_regex_list"),
        "{yaml}"
    );
    let suite = dir.path().join("people.yaml");
    std::fs::write(&suite, &yaml).expect("write");
    let json = |s: &std::path::Path| {
        let (code, out, _) = run(bin()
            .arg("validate")
            .arg(fixtures().join("people.csv"))
            .arg("--suite")
            .arg(s)
            .args(["--format", "json"]));
        assert_eq!(code, 1);
        let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        let mut v: Vec<String> = doc["tests"][0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f["check"], f["column"], f["status"], f["unexpected_count"]
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(json(&suite), json(&fixtures().join("people_gx.json")));
}

#[test]
fn unsupported_gx_expectations_are_errors_that_list_the_supported() {
    let (code, _, err) = run(bin()
        .args(["import", "gx"])
        .arg(fixtures().join("legacy_gx.json")));
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "unsupported Great Expectations expectation `expect_column_values_to_be_fabulous`"
        ),
        "{err}"
    );
    assert!(
        err.contains("supported: expect_table_row_count_to_be_between"),
        "{err}"
    );
    let (code, _, err) = run(bin()
        .arg("validate")
        .arg(fixtures().join("people.csv"))
        .arg("--suite")
        .arg(fixtures().join("legacy_gx.json")));
    assert_eq!(code, 2);
    assert!(err.contains("expectations[2]"), "{err}");
}

#[test]
fn malformed_gx_json_names_the_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"name\": \"x\",\n  \"expectations\": [\n    {\"type\": \"expect_column_to_exist\" \"kwargs\": {}}\n  ]\n}\n").expect("write");
    let (code, out, err) = run(bin().args(["import", "gx"]).arg(&bad));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("bad.json: invalid JSON at line 4, column"),
        "{err}"
    );
}

fn sklearn_case(name: &str) -> serde_json::Value {
    let text =
        std::fs::read_to_string(repo().join("crates/tollgate-model/tests/fixtures/metrics.json"))
            .expect("fixtures");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .expect("case")
}

#[test]
fn eval_reports_scikit_learn_values_and_gates() {
    // preds_500.csv holds the `random_500_rounded` fixture (label y, score p) and a column grp.
    let want = sklearn_case("random_500_rounded")["expected"].clone();
    let (code, out, err) = run(bin()
        .arg("eval")
        .arg(fixtures().join("preds_500.csv"))
        .args([
            "--label",
            "y",
            "--score",
            "p",
            "--metric",
            "log_loss",
            "--metric",
            "brier",
            "--gate",
            "roc_auc>=0.8",
            "--format",
            "json",
        ]));
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(doc["tests"][0]["kind"], "evaluation");
    let f = doc["tests"][0]["findings"].as_array().expect("findings");
    let get = |name: &str| {
        f.iter()
            .find(|x| x["check"] == name && x.get("slice").is_none())
            .expect(name)["observed"]
            .as_f64()
            .expect("number")
    };
    for m in ["roc_auc", "log_loss", "brier"] {
        assert!(
            (get(m) - want[m].as_f64().expect("number")).abs() < 1e-9,
            "{m}: {} vs {}",
            get(m),
            want[m]
        );
    }
    // A gate that fails exits 1; an unknown metric is a usage error.
    let (code, out, _) = run(bin()
        .arg("eval")
        .arg(fixtures().join("preds_500.csv"))
        .args(["--label", "y", "--score", "p", "--gate", "roc_auc>=0.9"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  roc_auc"), "{out}");
    let (code, _, err) = run(bin()
        .arg("eval")
        .arg(fixtures().join("preds_500.csv"))
        .args(["--label", "y", "--score", "p", "--gate", "rocauc>=0.9"]));
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `roc_auc`"), "{err}");
    let (code, out, _) = run(bin()
        .arg("eval")
        .arg(fixtures().join("preds_500.csv"))
        .args(["--label", "nope", "--score", "p"]));
    assert_eq!(code, 2);
    assert!(out.contains("column `nope` is not in the data"), "{out}");
}

#[test]
fn plan_evaluations_slice_bootstrap_and_compare_with_a_baseline() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixtures().join("preds_500.csv"),
        dir.path().join("preds.csv"),
    )
    .expect("copy");
    // The baseline: the same rows with a blurred score (a worse model).
    let text = std::fs::read_to_string(dir.path().join("preds.csv")).expect("read");
    let mut blurred = String::from("y,p\n");
    for (i, line) in text.lines().skip(1).enumerate() {
        let parts: Vec<&str> = line.split(',').collect();
        let p: f64 = parts[1].parse().expect("score");
        blurred.push_str(&format!(
            "{},{}\n",
            parts[0],
            if i % 3 == 0 { 1.0 - p } else { p }
        ));
    }
    std::fs::write(dir.path().join("old.csv"), blurred).expect("write");
    let plan = dir.path().join("tollgate.yaml");
    std::fs::write(
        &plan,
        "version: 1\nsources:\n  preds: { path: preds.csv }\n  old: { path: old.csv }\nevaluation:\n  model:\n    predictions: { source: preds, score: p }\n    label: y\n    metrics: { roc_auc: { at_least: 0.8 }, accuracy: {} }\n    slices: [grp]\n    min_support: 10\n    confidence: { resamples: 200, seed: 3 }\n    baseline: { predictions: { source: old, score: p }, max_drop: { roc_auc: 0.01 } }\n",
    )
    .expect("write plan");
    let run_json = || {
        let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
        (
            code,
            serde_json::from_str::<serde_json::Value>(&out)
                .unwrap_or_else(|_| panic!("{out}{err}")),
        )
    };
    let (code, doc) = run_json();
    assert_eq!(code, 0, "{doc:#}");
    let f = doc["tests"][0]["findings"].as_array().expect("findings");
    let auc = f
        .iter()
        .find(|x| x["check"] == "roc_auc" && x.get("slice").is_none() && x.get("name").is_none())
        .expect("auc");
    let iv = auc["interval"].as_array().expect("interval");
    let (lo, hi, v) = (
        iv[0].as_f64().unwrap_or(9.0),
        iv[1].as_f64().unwrap_or(0.0),
        auc["observed"].as_f64().unwrap_or(0.0),
    );
    assert!(lo < v && v < hi, "{lo} < {v} < {hi}");
    assert!(
        f.iter()
            .any(|x| x["slice"]["grp"] == "a" && x["check"] == "roc_auc"),
        "a slice finding"
    );
    let worst = f
        .iter()
        .find(|x| x["name"] == "worst slice" && x["check"] == "roc_auc")
        .expect("worst slice");
    assert_eq!(worst["slice"]["grp"], "a");
    let base = f
        .iter()
        .find(|x| x["name"] == "baseline")
        .expect("baseline finding");
    assert_eq!(
        base["status"], "passed",
        "the model beats its blurred baseline: {base:#}"
    );
    assert!(
        base["observed"].as_f64().unwrap_or(1.0) < 0.0,
        "a negative drop: better than the baseline"
    );
    let (_, again) = run_json();
    assert_eq!(doc, again, "seeded bootstrap: identical results");
}

#[test]
fn eval_multiclass_and_regression_match_scikit_learn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mc = sklearn_case("four_classes_300");
    let probs: Vec<Vec<f64>> = mc["probs"]
        .as_array()
        .expect("probs")
        .iter()
        .map(|c| {
            c.as_array()
                .expect("col")
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    let mut csv = String::from("y,p0,p1,p2,p3\n");
    for (i, y) in mc["y"].as_array().expect("y").iter().enumerate() {
        csv.push_str(&format!(
            "{},{:?},{:?},{:?},{:?}\n",
            y.as_f64().unwrap_or(0.0),
            probs[0][i],
            probs[1][i],
            probs[2][i],
            probs[3][i]
        ));
    }
    std::fs::write(dir.path().join("mc.csv"), csv).expect("write");
    let (code, out, err) = run(bin().arg("eval").arg(dir.path().join("mc.csv")).args([
        "--label",
        "y",
        "--probabilities",
        "p0,p1,p2,p3",
        "--metric",
        "roc_auc_ovr_macro",
        "--metric",
        "roc_auc_ovr_weighted",
        "--metric",
        "f1_macro",
        "--metric",
        "balanced_accuracy",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    for f in doc["tests"][0]["findings"].as_array().expect("findings") {
        let name = f["check"].as_str().unwrap_or_default();
        let want = mc["expected"][name].as_f64().expect("expected value");
        assert!(
            (f["observed"].as_f64().unwrap_or(f64::NAN) - want).abs() < 1e-9,
            "{name}: {} vs {want}",
            f["observed"]
        );
    }
    let rg = sklearn_case("random_400");
    let mut csv = String::from("y,yhat\n");
    for (y, p) in rg["y"]
        .as_array()
        .expect("y")
        .iter()
        .zip(rg["pred"].as_array().expect("pred"))
    {
        csv.push_str(&format!(
            "{:?},{:?}\n",
            y.as_f64().unwrap_or(0.0),
            p.as_f64().unwrap_or(0.0)
        ));
    }
    std::fs::write(dir.path().join("rg.csv"), csv).expect("write");
    let (code, out, err) = run(bin().arg("eval").arg(dir.path().join("rg.csv")).args([
        "--label",
        "y",
        "--predicted",
        "yhat",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let findings = doc["tests"][0]["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 4, "the default regression metrics");
    for f in findings {
        let name = f["check"].as_str().unwrap_or_default();
        let want = rg["expected"][name].as_f64().expect("expected value");
        assert!(
            (f["observed"].as_f64().unwrap_or(f64::NAN) - want).abs() < 1e-9 * want.abs().max(1.0),
            "{name}: {} vs {want}",
            f["observed"]
        );
    }
}

fn model_plan(dir: &std::path::Path, command: &str) -> std::path::PathBuf {
    let data = repo().join("examples/titanic/data/titanic.csv");
    let plan = dir.join("tollgate.yaml");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nsources:\n  passengers: {{ path: '{}' }}\nmodels:\n  rule:\n    command: [sh, -c, \"{command}\"]\n    inputs:\n      - {{ is_female: \"CAST(Sex = 'female' AS DOUBLE)\" }}\n      - Pclass\n    output: {{ probability_of: 1 }}\nmodel_checks:\n  rule-smoke:\n    model: rule\n    source: passengers\n    rows: 40\n    checks: [loads, output_shape, probabilities_valid, finite, deterministic, batch_invariant, {{ latency: {{ p99_ms: 5000 }} }}]\nevaluation:\n  rule-eval:\n    model: rule\n    source: passengers\n    label: Survived\n    metrics: {{ accuracy: {{ at_least: 0.75 }}, roc_auc: {{ at_least: 0.7 }} }}\n",
            data.display()
        ),
    )
    .expect("write plan");
    plan
}

#[test]
fn a_command_model_is_smoke_checked_and_evaluated() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The gender rule of the Titanic: 0.74 for women, 0.19 for men (sklearn: accuracy
    // 0.7867564534231201, ROC AUC 0.7668727830505226 on these 891 rows).
    let plan = model_plan(
        dir.path(),
        "tail -n +2 | awk -F, '{ print ($1 == 1 ? 0.74 : 0.19) }'",
    );
    let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let smoke = &doc["tests"][0];
    assert_eq!(smoke["kind"], "model_check");
    assert_eq!(smoke["findings"].as_array().map(Vec::len), Some(7));
    assert!(
        smoke["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["status"] == "passed"),
        "{smoke:#}"
    );
    let eval = &doc["tests"][1];
    let get = |m: &str| {
        eval["findings"]
            .as_array()
            .expect("f")
            .iter()
            .find(|f| f["check"] == m)
            .expect(m)["observed"]
            .as_f64()
            .expect("number")
    };
    assert!((get("accuracy") - 0.7867564534231201).abs() < 1e-9);
    assert!((get("roc_auc") - 0.7668727830505226).abs() < 1e-9);
}

#[test]
fn a_failing_model_is_an_error_not_a_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = model_plan(dir.path(), "echo 'weights missing' >&2; exit 4");
    let (code, out, _) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("weights missing"), "{out}");
    let plan = model_plan(dir.path(), "cat > /dev/null; echo 0.5");
    let (code, out, _) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("1 predictions for 40 rows") || out.contains("predictions for"),
        "{out}"
    );
}

/// A KServe v2 server on 127.0.0.1 answering the gender rule: [0.26, 0.74] for women.
fn gender_rule_server() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let female: Vec<f64> = doc["inputs"][0]["data"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_f64().unwrap_or(0.0)).collect())
                .unwrap_or_default();
            let data: Vec<f64> = female
                .iter()
                .flat_map(|f| {
                    if *f == 1.0 {
                        [0.26, 0.74]
                    } else {
                        [0.81, 0.19]
                    }
                })
                .collect();
            let text = serde_json::json!({ "outputs": [{ "name": "probabilities", "shape": [female.len(), 2], "data": data }] }).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    url
}

#[test]
fn an_http_model_is_smoke_checked_and_evaluated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = gender_rule_server();
    let data = repo().join("examples/titanic/data/titanic.csv");
    let plan = dir.path().join("tollgate.yaml");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nsources:\n  passengers: {{ path: '{}' }}\nmodels:\n  rule:\n    http: {{ url: '{url}', protocol: kserve-v2, batch_size: 300, max_in_flight: 2 }}\n    inputs:\n      - {{ is_female: \"CAST(Sex = 'female' AS DOUBLE)\" }}\n    output: {{ probability_of: 1 }}\nmodel_checks:\n  rule-smoke: {{ model: rule, source: passengers, rows: 20, checks: [loads, output_shape, probabilities_valid, deterministic, batch_invariant] }}\nevaluation:\n  rule-eval: {{ model: rule, source: passengers, label: Survived, metrics: {{ roc_auc: {{ at_least: 0.7 }} }} }}\n",
            data.display()
        ),
    )
    .expect("write plan");
    let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(
        doc["tests"][0]["findings"]
            .as_array()
            .expect("f")
            .iter()
            .all(|f| f["status"] == "passed"),
        "{doc:#}"
    );
    let auc = doc["tests"][1]["findings"][0]["observed"]
        .as_f64()
        .expect("auc");
    assert!((auc - 0.7668727830505226).abs() < 1e-9, "{auc}");
}

fn onnx_fixture(name: &str) -> PathBuf {
    repo()
        .join("crates/tollgate-model/tests/fixtures/onnx")
        .join(name)
}

/// A plan over the Titanic CSV with two scikit-learn models exported to ONNX: the pipeline
/// (one named input per column, strings included) and the random forest (one matrix input).
fn onnx_plan(dir: &Path, pipeline_runner: &str, rf_runner: &str) -> PathBuf {
    let plan = dir.join("tollgate.yaml");
    let text = format!(
        r#"version: 1
sources:
  passengers: {{ path: '{data}' }}
models:
  pipeline:
    onnx: '{pipeline}'
    runner: {pipeline_runner}
    inputs:
      - Pclass
      - Sex
      - {{ Age: "COALESCE(Age, 28.0)" }}
      - Fare
      - {{ Embarked: "COALESCE(Embarked, 'S')" }}
    output: {{ probability_of: 1 }}
  forest:
    onnx: '{rf}'
    runner: {rf_runner}
    inputs:
      - Pclass
      - {{ is_female: "CAST(Sex = 'female' AS DOUBLE)" }}
      - {{ Age: "COALESCE(Age, 28.0)" }}
      - SibSp
      - Parch
      - Fare
    output: {{ probability_of: 1 }}
model_checks:
  pipeline-smoke:
    model: pipeline
    source: passengers
    checks: [loads, signature, output_shape, probabilities_valid, finite, deterministic, batch_invariant, {{ latency: {{ p99_ms: 5000 }} }}]
evaluation:
  pipeline-eval:
    model: pipeline
    source: passengers
    label: Survived
    metrics: {{ accuracy: {{ at_least: 0.75 }}, roc_auc: {{ at_least: 0.8 }} }}
  forest-eval:
    model: forest
    source: passengers
    label: Survived
    metrics: {{ accuracy: {{ at_least: 0.8 }}, roc_auc: {{ at_least: 0.85 }} }}
"#,
        data = repo().join("examples/titanic/data/titanic.csv").display(),
        pipeline = onnx_fixture("titanic_pipeline.onnx").display(),
        rf = onnx_fixture("titanic_rf.onnx").display(),
    );
    std::fs::write(&plan, text).expect("write plan");
    plan
}

fn observed(doc: &serde_json::Value, test: &str, check: &str) -> f64 {
    doc["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .find(|t| t["name"] == test)
        .and_then(|t| {
            t["findings"]
                .as_array()?
                .iter()
                .find(|f| f["check"] == check)
        })
        .and_then(|f| f["observed"].as_f64())
        .unwrap_or_else(|| panic!("{test}/{check} in {doc:#}"))
}

#[test]
fn onnx_models_are_smoke_checked_and_evaluated_like_scikit_learn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = onnx_plan(dir.path(), "onnxruntime", "tract");
    let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let smoke = &doc["tests"][0];
    assert_eq!(smoke["findings"].as_array().map(Vec::len), Some(8));
    assert!(
        smoke["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["status"] == "passed"),
        "{smoke:#}"
    );
    // scikit-learn's accuracy_score and roc_auc_score on the same 891 rows. The pipeline's AUC
    // is scikit-learn's on the model's float32 probabilities (onnxruntime in Python): rounded
    // to float32, a few scores tie, and on scikit-learn's own float64 predict_proba the AUC is
    // 0.8517293537425835.
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(
        observed(&doc, "pipeline-eval", "accuracy"),
        0.7901234567901234
    ));
    assert!(close(
        observed(&doc, "pipeline-eval", "roc_auc"),
        0.8517400057520852
    ));
    assert!(close(
        observed(&doc, "forest-eval", "accuracy"),
        0.8451178451178452
    ));
    assert!(close(
        observed(&doc, "forest-eval", "roc_auc"),
        0.9010401687278305
    ));
}

/// tollgate with no ONNX Runtime to be found: no ORT_DYLIB_PATH file, no Python.
fn without_onnxruntime(cmd: &mut Command) -> &mut Command {
    cmd.env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .env("PATH", "/nonexistent")
        .env_remove("VIRTUAL_ENV")
        .env_remove("LD_LIBRARY_PATH")
}

#[test]
fn without_onnxruntime_auto_falls_back_to_tract_or_says_where_it_looked() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The forest runs on tract; the pipeline needs operators tract lacks.
    let plan = onnx_plan(dir.path(), "auto", "auto");
    let (code, out, err) = run(without_onnxruntime(
        bin().arg("test").arg(&plan).arg("forest-eval"),
    ));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(without_onnxruntime(
        bin().arg("test").arg(&plan).arg("pipeline-eval"),
    ));
    assert_eq!(code, 2, "{out}{err}");
    for part in [
        "tract (the fallback) does not support the operators ai.onnx.ml.Imputer, ai.onnx.ml.OneHotEncoder, ai.onnx.ml.Scaler",
        "ONNX Runtime was not found",
        "ORT_DYLIB_PATH=/nonexistent/libonnxruntime.so (no such file)",
        "onnxruntime Python package",
        "pip install onnxruntime",
    ] {
        assert!(out.contains(part), "missing {part:?} in {out}");
    }
    // Asking for ONNX Runtime by name: the same search, no fallback.
    let plan = onnx_plan(dir.path(), "onnxruntime", "onnxruntime");
    let (code, out, _) = run(without_onnxruntime(
        bin().arg("test").arg(&plan).arg("forest-eval"),
    ));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("ONNX Runtime was not found"), "{out}");
}

#[test]
fn onnx_plan_errors_name_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = onnx_plan(dir.path(), "onnxruntim", "tract");
    let (code, out, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("tollgate.yaml:7:") && err.contains("unknown runner `onnxruntim`"),
        "{err}"
    );
    assert!(err.contains("did you mean `onnxruntime`?"), "{err}");

    // A missing model file: every test of the model is an error naming the file.
    let text = std::fs::read_to_string(&plan)
        .expect("plan")
        .replace("onnxruntim\n", "onnxruntime\n")
        .replace("titanic_pipeline.onnx", "no_such_model.onnx");
    std::fs::write(&plan, text).expect("plan");
    let (code, out, _) = run(bin().arg("test").arg(&plan).arg("pipeline-smoke"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("no_such_model.onnx") && out.contains("cannot read"),
        "{out}"
    );

    // A class index the model does not have.
    let text = std::fs::read_to_string(&plan)
        .expect("plan")
        .replace("no_such_model.onnx", "titanic_pipeline.onnx")
        .replacen("probability_of: 1", "probability_of: 2", 1);
    std::fs::write(&plan, text).expect("plan");
    let (code, out, _) = run(bin().arg("test").arg(&plan).arg("pipeline-eval"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("`probability_of: 2` but the model answers 2 numbers per row"),
        "{out}"
    );
}

/// Behavioural tests of the scikit-learn pipeline (ONNX) on the Titanic rows.
fn behaviour_plan(dir: &Path, tests: &str) -> PathBuf {
    let plan = dir.join("tollgate.yaml");
    let text = format!(
        r#"version: 1
sources:
  passengers: {{ path: '{data}' }}
models:
  pipeline:
    onnx: '{model}'
    inputs: [Pclass, Sex, {{ Age: "COALESCE(Age, 28.0)" }}, Fare, {{ Embarked: "COALESCE(Embarked, 'S')" }}]
    output: {{ probability_of: 1 }}
behaviour:
{tests}"#,
        data = repo().join("examples/titanic/data/titanic.csv").display(),
        model = onnx_fixture("titanic_pipeline.onnx").display(),
    );
    std::fs::write(&plan, text).expect("write plan");
    plan
}

const BEHAVIOURS: &str = r#"  women-first:
    model: pipeline
    source: passengers
    where: "Sex = 'male'"
    perturb: { set: { Sex: female } }
    expect: increase
  name-and-ticket-do-not-matter:
    model: pipeline
    source: passengers
    perturb: { typo: Name, replace: { Ticket: ["A/5 21171", "PC 17599"] } }
    expect: unchanged
  first-class-by-0.3:
    model: pipeline
    source: passengers
    where: "Pclass = 3"
    perturb: { set: { Pclass: 1 } }
    expect: increase
    min_delta: 0.3
  age-noise:
    model: pipeline
    source: passengers
    perturb: { noise: { Age: 5 } }
    expect: unchanged
    tolerance: 0.05
    mostly: 0.9
    seed: 3
  obvious-cases:
    model: pipeline
    source: passengers
    cases:
      - { row: { Pclass: 1, Sex: female, Age: 30, Fare: 80, Embarked: C }, expect: { label: 1 } }
      - { row: { Pclass: 3, Sex: male, Age: 40, Fare: 7.5, Embarked: S }, expect: { score: { at_most: 0.2 } } }
      - { row: { Pclass: 3, Sex: male, Age: 40, Fare: 7.5, Embarked: S }, expect: { label: 1 } }
"#;

fn test_named<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {doc:#}"))
}

#[test]
fn behaviour_tests_perturb_rows_and_report_the_worst_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = behaviour_plan(dir.path(), BEHAVIOURS);
    let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(code, 1, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");

    // Directional: every man's score rises when he is made a woman (577 men).
    let t = test_named(&doc, "women-first");
    assert_eq!(
        (t["status"].as_str(), t["rows"].as_u64()),
        (Some("passed"), Some(577))
    );
    assert_eq!(t["kind"], "behaviour");
    assert_eq!(t["findings"][0]["check"], "increase");

    // Invariance: the pipeline does not read Name or Ticket, so nothing moves at all.
    let t = test_named(&doc, "name-and-ticket-do-not-matter");
    assert_eq!(t["status"], "passed");
    assert_eq!(t["findings"][0]["unexpected_count"], 0);
    assert_eq!(t["findings"][0]["element_count"], 891);

    // Third to first class raises the score, but not by 0.3 for 67 of the 491 passengers;
    // the worst example comes first, with what changed and both scores.
    let t = test_named(&doc, "first-class-by-0.3");
    let f = &t["findings"][0];
    assert_eq!(t["status"], "failed");
    assert_eq!(
        (f["element_count"].as_u64(), f["unexpected_count"].as_u64()),
        (Some(491), Some(67))
    );
    let worst = &f["sample"][0];
    assert_eq!(worst["row"], 851, "{f:#}");
    assert_eq!(
        worst["values"]["Pclass"],
        serde_json::json!({ "from": 3, "to": 1 })
    );
    assert_eq!(worst["values"]["row"]["Name"], "Svensson, Mr. Johan");
    let (b, a) = (
        worst["values"]["score_before"].as_f64().expect("before"),
        worst["values"]["score_after"].as_f64().expect("after"),
    );
    assert!(a > b && a - b < 0.3, "{b} -> {a}");
    let shown = f["sample"].as_array().expect("sample");
    assert_eq!(shown.len(), 5);

    // Seeded noise: passes under `mostly`, and the same seed gives the same report.
    assert_eq!(test_named(&doc, "age-noise")["status"], "passed");
    let (_, again, _) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(out, again, "perturbations are seeded");

    // Minimum functionality: the third case (a poor old man expected to survive) fails.
    let t = test_named(&doc, "obvious-cases");
    let f = &t["findings"][0];
    assert_eq!(
        (f["element_count"].as_u64(), f["unexpected_count"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(f["sample"][0]["row"], 2);
    assert_eq!(f["sample"][0]["values"]["expected_label"], 1.0);
}

#[test]
fn a_where_that_selects_no_rows_warns_instead_of_passing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = behaviour_plan(
        dir.path(),
        "  t:\n    model: pipeline\n    source: passengers\n    where: \"Pclass = 9\"\n    perturb: { set: { Pclass: 1 } }\n    expect: increase\n",
    );
    let (code, out, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("WARN  behaviour t"), "{out}");
    assert!(
        out.contains("meeting `where: Pclass = 9` to test; there are none"),
        "{out}"
    );
    let (code, _, _) = run(bin().arg("test").arg(&plan).args(["--fail-on", "warn"]));
    assert_eq!(code, 1);
}

/// Broken models over the Titanic rows, behind a command: one reads the name, one ignores sex.
#[test]
fn broken_models_fail_the_matching_behavioural_tests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = dir.path().join("tollgate.yaml");
    let text = format!(
        r#"version: 1
sources:
  passengers: {{ path: '{data}' }}
models:
  reads-name:
    command: [sh, -c, "tail -n +2 | awk -F, '{{ print ($1 % 7) / 10 }}'"]
    inputs: [{{ name_length: "CAST(length(Name) AS DOUBLE)" }}, Pclass]
  ignores-sex:
    command: [sh, -c, "tail -n +2 | awk -F, '{{ print 1 / ($1 + 1) }}'"]
    inputs: [Pclass]
behaviour:
  name-does-not-matter:
    model: reads-name
    source: passengers
    perturb: {{ replace: {{ Name: ["Smith, Mr. John", "Doe, Mrs. Jane"] }} }}
    expect: unchanged
  women-first:
    model: ignores-sex
    source: passengers
    where: "Sex = 'male'"
    perturb: {{ set: {{ Sex: female }} }}
    expect: increase
  class-matters-to-the-rule:
    model: ignores-sex
    source: passengers
    where: "Pclass = 3"
    perturb: {{ set: {{ Pclass: 1 }} }}
    expect: increase
"#,
        data = repo().join("examples/titanic/data/titanic.csv").display(),
    );
    std::fs::write(&plan, text).expect("plan");
    let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(code, 1, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let t = test_named(&doc, "name-does-not-matter");
    assert_eq!(t["status"], "failed");
    assert!(
        t["findings"][0]["unexpected_count"].as_u64() > Some(700),
        "{t:#}"
    );
    let t = test_named(&doc, "women-first");
    assert_eq!(t["status"], "failed");
    // Strict by default: a score that does not move breaks `increase` for all 577 men.
    assert_eq!(t["findings"][0]["unexpected_count"], 577);
    assert_eq!(
        test_named(&doc, "class-matters-to-the-rule")["status"],
        "passed"
    );
}

#[test]
fn behaviour_findings_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tests = BEHAVIOURS
        .split("  name-and-ticket-do-not-matter:")
        .next()
        .unwrap_or_default()
        .to_string()
        + &BEHAVIOURS[BEHAVIOURS.find("  first-class-by-0.3:").unwrap_or(0)
            ..BEHAVIOURS.find("  age-noise:").unwrap_or(0)];
    let plan = behaviour_plan(dir.path(), &tests);
    let (_, out, _) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    let mut doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    // Durations vary run to run.
    doc.as_object_mut().map(|o| o.remove("duration_ms"));
    insta::assert_json_snapshot!(doc);
}

#[test]
fn behaviour_mistakes_are_errors_that_say_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "  t:\n    model: pipeline\n    source: passengers\n    perturb: { shfit: { Fare: 1 } }\n    expect: unchanged\n",
            "unknown perturbation `shfit`",
        ),
        (
            "  t:\n    model: pipeline\n    source: passengers\n    perturb: { shift: { Sex: 1 } }\n    expect: unchanged\n",
            "Sex",
        ),
        (
            "  t:\n    model: pipeline\n    source: passengers\n    perturb: { set: { Nope: 1 } }\n    expect: unchanged\n",
            "unknown column `Nope`",
        ),
        (
            "  t:\n    model: pipeline\n    source: passengers\n    perturb: { set: { Age: old } }\n    expect: unchanged\n",
            "cannot put value \"old\" into column `Age` of type Float64",
        ),
        (
            "  t:\n    model: pipeline\n    source: passengers\n    where: \"Pclass = = 9\"\n    perturb: { set: { Pclass: 1 } }\n    expect: increase\n",
            "where: Pclass = = 9",
        ),
        (
            "  t:\n    model: pipeline\n    source: passengers\n    cases: [ { row: { Klass: 1 }, expect: { label: 1 } } ]\n",
            "names column `Klass`",
        ),
        (
            "  t:\n    model: pipeline\n    source: passengers\n    perturb: { set: { Sex: female } }\n",
            "needs `perturb` with `expect`, or `cases`",
        ),
    ];
    for (tests, want) in cases {
        let plan = behaviour_plan(dir.path(), tests);
        let (code, out, err) = run(bin().arg("test").arg(&plan));
        assert_eq!(code, 2, "{tests}: {out}{err}");
        assert!(
            out.contains(want) || err.contains(want),
            "{tests}: want {want:?} in\n{out}{err}"
        );
    }
}

/// The Titanic example's pre-train checks: they run its training script (Python with
/// scikit-learn and skl2onnx, which `.ci/run` installs).
#[test]
fn the_titanic_training_code_passes_its_pretrain_checks() {
    let plan = repo().join("examples/titanic/pretrain.yaml");
    let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let t = &doc["tests"][0];
    assert_eq!(t["kind"], "pretrain");
    let checks: Vec<&str> = t["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["check"].as_str().expect("check"))
        .collect();
    assert_eq!(
        checks,
        [
            "output_shape",
            "probabilities_valid",
            "overfits_tiny_sample",
            "capacity_monotone",
            "deterministic_with_seed",
            "no_train_test_leakage",
            "training_time",
            "metrics"
        ]
    );
    let capacity = &t["findings"][3]["observed"];
    assert_eq!(capacity["accuracy"].as_array().map(Vec::len), Some(9));
    assert_eq!(t["findings"][5]["element_count"], 179);
}

fn pretrain_plan(dir: &Path, command: &str, test: &str, checks: &str) -> PathBuf {
    let titanic = repo().join("examples/titanic");
    let plan = dir.join("pretrain.yaml");
    let text = format!(
        r#"version: 1
sources:
  train: {{ path: '{train}' }}
  test: {{ path: '{test_path}' }}
models:
  m:
    onnx: '{model}'
    inputs: [Pclass, SibSp]
    output: {{ probability_of: 1 }}
pretrain:
  p:
    model: m
    source: train
    test: {test}
    label: Survived
    train: {{ command: {command}, params: {{ depth: 3 }} }}
    checks: {checks}
"#,
        train = titanic.join("data/train.csv").display(),
        test_path = titanic.join("data/test.csv").display(),
        model = titanic.join("models/tree.onnx").display(),
    );
    std::fs::write(&plan, text).expect("write plan");
    plan
}

#[test]
fn leakage_between_splits_is_found_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The training rows as their own held-out rows: every row leaks, unless the check is
    // blinded by an id column (the article's version of the test).
    let plan = pretrain_plan(
        dir.path(),
        "[sh, -c, 'exit 1']",
        "train",
        "[{ no_train_test_leakage: { ignore: [PassengerId] } }]",
    );
    let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(code, 1, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let f = &doc["tests"][0]["findings"][0];
    assert_eq!(f["status"], "failed");
    assert_eq!(f["unexpected_count"], 712);
    assert_eq!(f["sample"][0]["values"]["training_row"], 0);

    let plan = pretrain_plan(
        dir.path(),
        "[sh, -c, 'exit 1']",
        "test",
        "[{ no_train_test_leakage: { key: [Name, Ticket] } }]",
    );
    let (code, out, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_failing_training_command_is_an_error_with_its_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = pretrain_plan(
        dir.path(),
        "[sh, -c, 'echo \"CUDA out of memory\" >&2; exit 3', '{data}', '{param.depth}']",
        "test",
        "[output_shape, deterministic_with_seed]",
    );
    let (code, out, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("CUDA out of memory") && out.contains("exit status: 3"),
        "{out}"
    );

    // A command that succeeds without writing the model.
    let plan = pretrain_plan(dir.path(), "[sh, -c, 'true']", "test", "[output_shape]");
    let (code, out, _) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("wrote no model"), "{out}");

    // A parameter the template uses but the plan does not give.
    let plan = pretrain_plan(
        dir.path(),
        "[sh, -c, 'true', '{param.width}']",
        "test",
        "[output_shape]",
    );
    let (code, _, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2);
    assert!(
        err.contains("uses `{param.width}` but `train.params` gives no `width`"),
        "{err}"
    );
}

fn write_csv(dir: &Path, name: &str, header: &str, rows: impl Iterator<Item = String>) -> PathBuf {
    let p = dir.join(name);
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(&r);
        text.push('\n');
    }
    std::fs::write(&p, text).expect("write csv");
    p
}

#[test]
fn drift_agrees_with_evidently_rules_and_names_bad_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 400 rows each: x shifts by a whole unit, y does not move, c gains a category, k is constant.
    let reference = write_csv(
        dir.path(),
        "ref.csv",
        "x,y,c,k,gone,t",
        (0..400).map(|i| {
            format!(
                "{},{},{},1,{i},{i}",
                i % 97,
                (i * 7) % 101,
                ["a", "b"][i % 2]
            )
        }),
    );
    let current = write_csv(
        dir.path(),
        "cur.csv",
        "x,y,c,k,t",
        (0..400).map(|i| {
            format!(
                "{},{},{},1,t{i}",
                i % 97 + 40,
                (i * 7) % 101,
                ["a", "b", "z"][i % 3]
            )
        }),
    );
    let (code, out, err) = run(bin()
        .arg("drift")
        .arg(&reference)
        .arg(&current)
        .args(["--format", "json"]));
    assert_eq!(
        code, 2,
        "a missing column and a changed type are errors: {out}{err}"
    );
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let by_col = |c: &str| {
        doc["tests"][0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["column"] == c)
            .unwrap_or_else(|| panic!("{c} in {doc:#}"))
            .clone()
    };
    // At most 1000 reference rows: KS for numbers, chi-square for categories (p < 0.05 drifts).
    assert_eq!(by_col("x")["check"], "ks");
    assert_eq!(by_col("x")["status"], "warned");
    assert_eq!(by_col("y")["check"], "ks");
    assert_eq!(by_col("y")["status"], "passed");
    assert_eq!(by_col("y")["observed"]["statistic"], 0.0);
    assert_eq!(by_col("c")["check"], "chi2");
    assert_eq!(
        by_col("c")["status"],
        "warned",
        "a category only one side has"
    );
    assert_eq!(
        by_col("k")["check"],
        "chi2",
        "one distinct value: a category"
    );
    assert!(
        by_col("gone")["error"]
            .as_str()
            .is_some_and(|e| e.contains("missing in the current data"))
    );
    assert!(
        by_col("t")["error"]
            .as_str()
            .is_some_and(|e| e.contains("changed type"))
    );

    // Without the bad columns the run judges the dataset: 2 of 4 columns drift.
    let (code, out, _) = run(bin()
        .arg("drift")
        .arg(&reference)
        .arg(&current)
        .args(["--ignore", "gone,t,n", "--format", "json"]));
    assert_eq!(code, 1, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let verdict = doc["tests"][0]["findings"]
        .as_array()
        .expect("f")
        .last()
        .cloned()
        .expect("verdict");
    assert_eq!(verdict["check"], "dataset_drift");
    assert_eq!(verdict["observed"], 0.5);
    let (code, _, _) = run(bin().arg("drift").arg(&reference).arg(&current).args([
        "--ignore",
        "gone,t",
        "--max-drifted-share",
        "0.75",
    ]));
    assert_eq!(code, 0);

    // Other methods by name; a categorical method on numbers is refused per column.
    let (_, out, _) = run(bin().arg("drift").arg(&reference).arg(&current).args([
        "--columns",
        "x,c",
        "--method",
        "psi",
        "--format",
        "json",
    ]));
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["tests"][0]["findings"][0]["check"], "psi");
    assert_eq!(doc["tests"][0]["findings"][1]["check"], "psi");
    let (code, out, _) = run(bin().arg("drift").arg(&reference).arg(&current).args([
        "--columns",
        "x",
        "--method",
        "linf",
    ]));
    assert_eq!(
        code, 0,
        "linf on a numeric column makes it categorical: {out}"
    );
    let (code, _, err) = run(bin()
        .arg("drift")
        .arg(&reference)
        .arg(&current)
        .args(["--method", "kss"]));
    assert_eq!(code, 2);
    assert!(err.contains("--method is one of"), "{err}");
}

#[test]
fn drift_in_a_plan_with_per_column_methods_and_corrections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let titanic = repo().join("examples/titanic/data");
    let plan = dir.path().join("tollgate.yaml");
    let write = |extra: &str| {
        std::fs::write(
            &plan,
            format!(
                "version: 1\nsources:\n  train: {{ path: '{}' }}\n  test: {{ path: '{}' }}\ndrift:\n  split:\n    reference: train\n    current: test\n    ignore: [PassengerId, Name, Ticket, Cabin]\n{extra}",
                titanic.join("train.csv").display(),
                titanic.join("test.csv").display()
            ),
        )
        .expect("plan")
    };
    write("    correction: bh\n    per_column: { Fare: { method: psi, threshold: 0.25 } }\n");
    let (code, out, err) = run(bin().arg("test").arg(&plan).args(["--format", "json"]));
    assert_eq!(code, 0, "a stratified split does not drift: {out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let findings = doc["tests"][0]["findings"].as_array().expect("findings");
    let fare = findings
        .iter()
        .find(|f| f["column"] == "Fare")
        .expect("Fare");
    assert_eq!(fare["check"], "psi");
    assert!(
        fare["expected"]
            .as_str()
            .is_some_and(|e| e.contains("0.25"))
    );
    let sex = findings.iter().find(|f| f["column"] == "Sex").expect("Sex");
    assert!(
        sex["expected"]
            .as_str()
            .is_some_and(|e| e.contains("Benjamini")),
        "{sex:#}"
    );
    assert_eq!(doc["tests"][0]["kind"], "drift");

    write("    method: kst\n");
    let (code, _, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown drift method `kst`") && err.contains("did you mean `ks`?"),
        "{err}"
    );
}

#[test]
fn profile_reports_what_pandas_reports_and_infers_a_passing_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = repo().join("examples/titanic/data/titanic.csv");
    let suite = dir.path().join("inferred.yaml");
    let (code, out, err) = run(bin()
        .arg("profile")
        .arg(&data)
        .arg("--suite-out")
        .arg(&suite)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let p: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(p["schema"], "tollgate.profile/v1");
    assert_eq!(p["rows"], 891);
    let col = |name: &str| {
        p["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    // pandas: df.Age.count(), .isna().sum(), .nunique(), .mean(), .std(), .min(), .max()
    let age = col("Age");
    assert_eq!(
        (
            age["count"].as_u64(),
            age["nulls"].as_u64(),
            age["distinct"].as_u64()
        ),
        (Some(714), Some(177), Some(88))
    );
    assert!((age["mean"].as_f64().expect("mean") - 29.69911764705882).abs() < 1e-9);
    assert!((age["std"].as_f64().expect("std") - 14.526497332334044).abs() < 1e-9);
    assert_eq!(
        (age["min"].as_f64(), age["max"].as_f64()),
        (Some(0.42), Some(80.0))
    );
    let bins: u64 = age["histogram"]
        .as_array()
        .expect("histogram")
        .iter()
        .map(|b| b["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(bins, 714, "every non-null age is in one bin");
    // The median from the t-digest, beside pandas' 28.0.
    let median = age["quantiles"]
        .as_array()
        .expect("q")
        .iter()
        .find(|q| q[0] == 0.5)
        .expect("median")[1]
        .as_f64()
        .expect("m");
    assert!((median - 28.0).abs() <= 1.0, "{median}");
    assert_eq!(
        col("Sex")["top"],
        serde_json::json!([["male", 577], ["female", 314]])
    );
    assert_eq!(col("Embarked")["nulls"], 2);
    assert_eq!(col("Name")["length"]["max"], 82);

    let text = std::fs::read_to_string(&suite).expect("suite");
    assert!(
        text.contains("Sex: { type: string, not_null: true, in_set: ['female', 'male'] }"),
        "{text}"
    );
    assert!(
        text.contains("PassengerId: { type: int64, not_null: true, unique: true"),
        "{text}"
    );
    let (code, out, _) = run(bin().arg("validate").arg(&data).arg("--suite").arg(&suite));
    assert_eq!(
        code, 0,
        "the inferred suite passes on the profiled data: {out}"
    );
}

#[test]
fn profile_recognises_patterns_and_refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = write_csv(
        dir.path(),
        "people.csv",
        "email,id,day,note",
        (0..30).map(|i| {
            format!(
                "user{i}@example.com,{:08x}-0000-4000-8000-{:012x},2024-01-{:02},{}",
                i * 7919,
                i,
                i % 28 + 1,
                if i % 3 == 0 { "" } else { "hello world" }
            )
        }),
    );
    let suite = dir.path().join("suite.yaml");
    let (code, out, err) = run(bin()
        .arg("profile")
        .arg(&data)
        .arg("--suite-out")
        .arg(&suite)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let p: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        p["columns"][0]["patterns"],
        serde_json::json!([["email", 1.0]])
    );
    assert_eq!(
        p["columns"][1]["patterns"],
        serde_json::json!([["uuid", 1.0]])
    );
    assert_eq!(p["columns"][3]["nulls"], 10);
    let (code, out, _) = run(bin().arg("validate").arg(&data).arg("--suite").arg(&suite));
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&suite).expect("suite");
    assert!(
        text.contains("email: { type: string, not_null: true, unique: true, matches: "),
        "{text}"
    );

    let (code, _, err) = run(bin()
        .arg("profile")
        .arg(&data)
        .arg("--suite-out")
        .arg(&data));
    assert_eq!(code, 2);
    assert!(
        err.contains("refusing to overwrite the data being profiled"),
        "{err}"
    );
    assert!(
        std::fs::read_to_string(&data)
            .expect("data")
            .starts_with("email,id")
    );
    let (code, _, err) = run(bin().arg("profile").arg(dir.path().join("nope.csv")));
    assert_eq!(code, 2);
    assert!(err.contains("nope.csv"), "{err}");
}

#[test]
fn profiles_of_parts_merge_into_the_profile_of_the_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/titanic/data");
    let (a, b, whole) = (
        dir.path().join("train.json"),
        dir.path().join("test.json"),
        dir.path().join("whole.json"),
    );
    for (csv, out) in [("train.csv", &a), ("test.csv", &b), ("titanic.csv", &whole)] {
        let (code, _, err) = run(bin().arg("profile").arg(data.join(csv)).arg("-o").arg(out));
        assert_eq!(code, 0, "{err}");
    }
    let merged = dir.path().join("merged.json");
    let suite = dir.path().join("suite.yaml");
    let (code, out, err) = run(bin()
        .args(["profile", "--merge"])
        .arg(&a)
        .arg(&b)
        .arg("-o")
        .arg(&merged)
        .arg("--suite-out")
        .arg(&suite));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("891 rows"), "{out}");
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
    };
    let (m, w) = (read(&merged), read(&whole));
    assert_eq!(m["rows"], 891);
    for (cm, cw) in m["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .zip(w["columns"].as_array().expect("columns"))
    {
        for key in ["name", "type", "count", "nulls", "min", "max", "length"] {
            assert_eq!(cm[key], cw[key], "{} {key}", cw["name"]);
        }
    }
    // The suite inferred from the merged profile passes on the whole data set.
    let (code, out, _) = run(bin()
        .arg("validate")
        .arg(data.join("titanic.csv"))
        .arg("--suite")
        .arg(&suite));
    assert_eq!(code, 0, "{out}");

    // Bad input: a file that is not a profile, named with its line and column.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\n  \"rows\": [\n").expect("write");
    let (code, _, err) = run(bin().args(["profile", "--merge"]).arg(&a).arg(&junk));
    assert_eq!(code, 2);
    assert!(
        err.contains("junk.json:2:10:") && err.contains("not a tollgate profile"),
        "{err}"
    );
    // Several data files without --merge are refused, not silently half-read.
    let (code, _, err) = run(bin()
        .arg("profile")
        .arg(data.join("train.csv"))
        .arg(data.join("test.csv")));
    assert_eq!(code, 2);
    assert!(err.contains("--merge"), "{err}");
}

#[test]
fn diff_exits_1_on_differences_0_when_equal_and_2_on_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = write_csv(
        dir.path(),
        "expected.csv",
        "item,ctr",
        ["1,0.5", "2,0.25", "3,0.125"].map(String::from).into_iter(),
    );
    let a = write_csv(
        dir.path(),
        "actual.csv",
        "item,ctr",
        ["3,0.125", "1,0.5", "2,0.2501"]
            .map(String::from)
            .into_iter(),
    );
    let (code, out, err) = run(bin().arg("diff").arg(&e).arg(&a).args(["--key", "item"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FAIL values_equal ctr"), "{out}");
    assert!(
        out.contains("item=2, expected=0.25, actual=0.2501"),
        "{out}"
    );
    let (code, out, _) = run(bin().arg("diff").arg(&e).arg(&a).args([
        "--key",
        "item",
        "--abs-tol",
        "0.001",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["tests"][0]["kind"], "diff");
    assert_eq!(report["tests"][0]["status"], "passed");
    let (code, _, err) = run(bin().arg("diff").arg(&e).arg(&a).args(["--key", "nope"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("key column `nope` is missing in") && err.contains("expected.csv"),
        "{err}"
    );
    let (code, _, err) = run(bin().arg("diff").arg(&e).arg(&a));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--key"), "{err}");
}

#[test]
fn a_value_that_breaks_type_inference_late_in_a_file_is_named_with_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = (0..30_000)
        .map(|i| format!("{i},{i}"))
        .chain(["x,1".to_string()]);
    let data = write_csv(dir.path(), "late.csv", "a,b", rows);
    let (code, _, err) = run(bin().arg("profile").arg(&data));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("late.csv: reading the data failed"), "{err}");
    assert!(err.contains("'x'") && err.contains("line 30001"), "{err}");
}

#[test]
fn progress_is_shown_only_when_asked_or_on_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = (0..300_000).map(|i| format!("{i},{}", i % 7));
    let data = write_csv(dir.path(), "big.csv", "a,b", rows);
    let suite = dir.path().join("s.yaml");
    std::fs::write(&suite, "columns:\n  a: { not_null: true, unique: true }\n").expect("write");
    // Not a terminal (the tests' pipes): nothing on standard error.
    let (code, _, err) = run(bin().arg("validate").arg(&data).arg("--suite").arg(&suite));
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    // Asked for: a line with rows, rate and elapsed time, cleared at the end.
    let (code, _, err) = run(bin()
        .arg("validate")
        .arg(&data)
        .arg("--suite")
        .arg(&suite)
        .args(["--progress", "always"])
        .env("TOLLGATE_PROGRESS_MS", "1"));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(" rows · ") && err.contains("rows/s"),
        "{err:?}"
    );
    assert!(err.contains("300k rows · "), "every row counted: {err:?}");
    assert!(err.ends_with("\r\u{1b}[2K"), "the line is cleared: {err:?}");
    let (code, _, err) = run(bin()
        .arg("validate")
        .arg(&data)
        .arg("--suite")
        .arg(&suite)
        .args(["--progress", "sometimes"]));
    assert_eq!(code, 2);
    assert!(err.contains("expected auto, always or never"), "{err}");
}

#[test]
fn findings_carry_small_charts_for_reports() {
    // Evaluation: ROC and PR curves and a confusion matrix over the 500 fixture rows.
    let (code, out, err) = run(bin()
        .arg("eval")
        .arg(fixtures().join("preds_500.csv"))
        .args(["--label", "y", "--score", "p"])
        .args(["--metric", "roc_auc", "--metric", "average_precision"])
        .args([
            "--metric", "accuracy", "--metric", "brier", "--format", "json",
        ]));
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let findings = doc["tests"][0]["findings"].as_array().expect("findings");
    let plot = |check: &str| {
        findings
            .iter()
            .find(|f| f["check"] == check && f.get("slice").is_none())
            .map(|f| f["plot"].clone())
            .expect("finding")
    };
    let roc = plot("roc_auc");
    assert_eq!(roc["kind"], "roc");
    let (x, y) = (
        roc["x"].as_array().expect("x"),
        roc["y"].as_array().expect("y"),
    );
    assert_eq!(x.len(), y.len());
    assert!(x.len() <= 200 && x.len() > 10, "{}", x.len());
    assert_eq!(
        (x[0].clone(), y[0].clone()),
        (serde_json::json!(0.0), serde_json::json!(0.0))
    );
    assert_eq!(
        (x[x.len() - 1].clone(), y[y.len() - 1].clone()),
        (serde_json::json!(1.0), serde_json::json!(1.0))
    );
    assert_eq!(plot("average_precision")["kind"], "pr");
    let confusion = plot("accuracy");
    let cells: u64 = confusion["matrix"]
        .as_array()
        .expect("rows")
        .iter()
        .flat_map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|v| v.as_u64().unwrap_or(0))
        })
        .sum();
    assert_eq!(cells, 500, "every row is in the matrix");
    let calibration = plot("brier");
    let n: u64 = calibration["n"]
        .as_array()
        .expect("n")
        .iter()
        .map(|v| v.as_u64().unwrap_or(0))
        .sum();
    assert_eq!(n, 500);

    // Drift: both distributions of each column, counts that add up to the rows compared.
    let data = repo().join("examples/titanic/data");
    let (code, out, err) = run(bin()
        .arg("drift")
        .arg(data.join("train.csv"))
        .arg(data.join("test.csv"))
        .args(["--columns", "Fare,Sex", "--format", "json"]));
    assert!(code == 0 || code == 1, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let findings = doc["tests"][0]["findings"].as_array().expect("findings");
    let column = |c: &str| {
        findings
            .iter()
            .find(|f| f["column"] == c)
            .map(|f| f["plot"].clone())
            .expect("column finding")
    };
    let sum = |v: &serde_json::Value| -> f64 {
        v.as_array()
            .expect("counts")
            .iter()
            .map(|x| x.as_f64().unwrap_or(0.0))
            .sum()
    };
    let fare = column("Fare");
    assert_eq!(fare["kind"], "histograms");
    assert_eq!(fare["edges"].as_array().expect("edges").len(), 21);
    assert_eq!(sum(&fare["series"]["reference"]), 712.0);
    assert_eq!(sum(&fare["series"]["current"]), 179.0);
    let sex = column("Sex");
    assert_eq!(sex["kind"], "bars");
    assert_eq!(sex["labels"], serde_json::json!(["male", "female"]));
    assert_eq!(
        sum(&sex["series"]["reference"]) + sum(&sex["series"]["current"]),
        891.0
    );
}

/// Built without the `postgres` feature (`--no-default-features`), a PostgreSQL table is a clear
/// error (exit 2), as a source of a plan and as DATA.
#[cfg(not(feature = "postgres"))]
#[test]
fn without_the_postgres_feature_a_table_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = dir.path().join("tollgate.yaml");
    std::fs::write(
        &plan,
        "sources:\n  orders: { postgres: { url_env: ORDERS_DB_URL, table: public.orders } }\nsuites:\n  s:\n    source: orders\n    table: { row_count: { at_least: 1 } }\n",
    )
    .expect("write plan");
    let (code, out, err) = run(bin().arg("test").arg(&plan));
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("source `orders` is a PostgreSQL table, but this tollgate was built without the `postgres` feature"),
        "{out}"
    );
    let suite = dir.path().join("s.yaml");
    std::fs::write(&suite, "table: { row_count: 1 }\n").expect("write suite");
    let (code, out, err) = run(bin()
        .arg("validate")
        .arg("postgres://u:S3cret@localhost/db?table=public.t")
        .arg("--suite")
        .arg(&suite));
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("without the `postgres` feature"), "{err}");
    assert!(!err.contains("S3cret"), "{err}");
}

#[test]
fn memory_limit_keeps_results_and_bad_sizes_exit_2() {
    let validate = |extra: &[&str]| {
        run(bin()
            .arg("validate")
            .arg(fixtures().join("people.csv"))
            .arg("--suite")
            .arg(fixtures().join("people.yaml"))
            .args(["--format", "json"])
            .args(extra))
    };
    let (code, free, _) = validate(&[]);
    assert_eq!(code, 1);
    for limit in ["64MiB", "1GB", "268435456"] {
        let (code, bounded, err) = validate(&["--memory-limit", limit]);
        assert_eq!(code, 1, "{err}");
        assert_eq!(bounded, free, "--memory-limit {limit}");
    }
    let (code, out, err) = run(bin()
        .arg("test")
        .arg(repo().join("examples/titanic/tollgate.yaml"))
        .arg("passengers")
        .args(["--memory-limit", "256MiB"]));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("PASS  suite passengers-contract"), "{out}");
    for (bad, says) in [
        ("12XB", "unknown unit `XB`"),
        ("lots", "`lots` is not a size"),
        ("100KB", "at least 1MiB"),
    ] {
        let (code, _, err) = validate(&["--memory-limit", bad]);
        assert_eq!(code, 2, "--memory-limit {bad}: {err}");
        assert!(
            err.contains("--memory-limit") && err.contains(says),
            "--memory-limit {bad}: {err}"
        );
    }
}
