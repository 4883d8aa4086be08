//! ONNX models exported from scikit-learn (scripts/export_onnx_models.py) against
//! scikit-learn's own predictions, on both runners. ONNX Runtime comes from the machine (the
//! `onnxruntime` Python wheel that `.ci/run` installs, or ORT_DYLIB_PATH): these tests fail,
//! not skip, when it is missing.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tollgate_core::{Severity, Status};
use tollgate_model::checks::{self, ModelCheck};
use tollgate_model::onnx::{OnnxModel, RunnerKind, unsupported_ops};
use tollgate_model::runner::{FeatureColumn, Features, Model};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx")
}

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(dir().join("manifest.json")).expect("manifest");
    let m: Value = serde_json::from_str(&text).expect("manifest json");
    m["models"].as_array().expect("models").clone()
}

/// A small CSV (no quoting in these fixtures): header and rows of cells.
fn csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir().join(name)).expect("csv");
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// The model's inputs: text where the model takes strings, numbers otherwise.
fn features(model: &Value) -> Features {
    let (names, rows) = csv(model["inputs_csv"].as_str().expect("inputs_csv"));
    let text_inputs: Vec<&str> = model["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .filter(|i| i["type"] == "string")
        .filter_map(|i| i["name"].as_str())
        .collect();
    let columns = names
        .iter()
        .enumerate()
        .map(|(c, n)| {
            if text_inputs.contains(&n.as_str()) {
                FeatureColumn::Text(rows.iter().map(|r| Some(r[c].clone())).collect())
            } else {
                FeatureColumn::Num(
                    rows.iter()
                        .map(|r| Some(r[c].parse::<f64>().expect("number")))
                        .collect(),
                )
            }
        })
        .collect();
    Features { names, columns }
}

fn expected(model: &Value) -> (Vec<String>, Vec<Vec<f64>>) {
    let (names, rows) = csv(model["expected_csv"].as_str().expect("expected_csv"));
    let rows = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| c.parse::<f64>().expect("number"))
                .collect()
        })
        .collect();
    (names, rows)
}

fn load(model: &Value, runner: RunnerKind, output: Option<&str>, batch: usize) -> OnnxModel {
    let file = dir().join(model["file"].as_str().expect("file"));
    OnnxModel::load(&file, runner, output, batch)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Compare a model's default output (probabilities or the regression value) and its labels
/// with scikit-learn's; returns the largest difference seen.
fn compare(model: &Value, runner: RunnerKind, batch: usize) -> f64 {
    let name = model["name"].as_str().expect("name");
    let x = features(model);
    let (cols, want) = expected(model);
    let got = load(model, runner, None, batch)
        .predict(&x)
        .expect("predicts");
    assert_eq!(got.len(), want.len(), "{name}: one prediction per row");
    let mut worst = 0.0f64;
    let regression = cols == ["value"];
    for (r, (g, w)) in got.iter().zip(&want).enumerate() {
        // Expected columns: `value`, or `label, p0, p1, ...`.
        let w_scores = if regression { &w[..] } else { &w[1..] };
        assert_eq!(g.len(), w_scores.len(), "{name} row {r}: width");
        for (a, b) in g.iter().zip(w_scores) {
            let d = (a - b).abs();
            worst = worst.max(d);
            let tol = if regression {
                1e-4 * b.abs().max(1.0)
            } else {
                1e-5
            };
            assert!(
                d <= tol,
                "{name} row {r}: {a} vs scikit-learn {b} ({runner:?})"
            );
        }
    }
    let tree = model["operators"]
        .to_string()
        .contains("TreeEnsembleClassifier");
    if runner == RunnerKind::Tract && tree && model["n_classes"] == 2 {
        // tract's binary tree labels are wrong (a third of the Titanic rows): refused, with
        // the way out.
        let file = dir().join(model["file"].as_str().expect("file"));
        let e = OnnxModel::load(&file, runner, Some("label"), batch)
            .err()
            .expect("label refused on tract")
            .to_string();
        assert!(
            e.contains("wrong class labels") && e.contains("probability_of"),
            "{e}"
        );
    } else if !regression {
        let labels = load(model, runner, Some("label"), batch)
            .predict(&x)
            .expect("labels");
        for (r, (g, w)) in labels.iter().zip(&want).enumerate() {
            assert_eq!(g, &vec![w[0]], "{name} row {r}: label ({runner:?})");
        }
    }
    worst
}

#[test]
fn onnxruntime_equals_scikit_learn_on_every_fixture_model() {
    let models = manifest();
    assert!(models.len() >= 8);
    for m in &models {
        let worst = compare(m, RunnerKind::OnnxRuntime, 65_536);
        eprintln!("onnxruntime {}: max |diff| {worst:e}", m["name"]);
        // The auto runner picks ONNX Runtime when it is installed.
        let auto = load(m, RunnerKind::Auto, None, 100);
        assert_eq!(auto.runner(), "onnxruntime");
    }
}

#[test]
fn tract_equals_scikit_learn_where_it_supports_the_model_and_names_what_it_lacks() {
    let mut ran = Vec::new();
    for m in &manifest() {
        let file = dir().join(m["file"].as_str().expect("file"));
        let info = tollgate_model::onnx_proto::parse(&std::fs::read(&file).expect("file"))
            .expect("parses");
        let missing = unsupported_ops(&info, RunnerKind::Tract);
        if missing.is_empty() {
            // tract reads some attributes more strictly than ONNX Runtime: such a model is
            // refused at load, with tract's reason.
            if let Err(e) = OnnxModel::load(&file, RunnerKind::Tract, None, 100) {
                let e = e.to_string();
                assert!(e.contains("tract cannot load"), "{e}");
                eprintln!("tract refuses {}: {e}", m["name"]);
                continue;
            }
            let worst = compare(m, RunnerKind::Tract, 65_536);
            eprintln!("tract {}: max |diff| {worst:e}", m["name"]);
            ran.push(m["name"].as_str().expect("name").to_string());
        } else {
            let err = OnnxModel::load(&file, RunnerKind::Tract, None, 100)
                .err()
                .expect("tract refuses the model")
                .to_string();
            for op in &missing {
                assert!(err.contains(op), "{err} names {op}");
            }
            assert!(err.contains("runner: onnxruntime"), "{err}");
        }
    }
    // Tree ensembles, linear models and integer inputs run on tract; the scikit-learn pipeline
    // (Scaler, OneHotEncoder, Imputer) does not, nor the binary gradient boosting model (tract
    // expects one base value where scikit-learn writes two).
    assert_eq!(
        ran,
        [
            "titanic_lr",
            "titanic_rf",
            "gb_multiclass",
            "rf_multiclass",
            "linreg",
            "titanic_int"
        ]
    );
    let pipeline = dir().join("titanic_pipeline.onnx");
    let info = tollgate_model::onnx_proto::parse(&std::fs::read(&pipeline).expect("file"))
        .expect("parses");
    assert_eq!(
        unsupported_ops(&info, RunnerKind::Tract),
        [
            "ai.onnx.ml.Imputer",
            "ai.onnx.ml.OneHotEncoder",
            "ai.onnx.ml.Scaler"
        ]
    );
}

#[test]
fn small_batches_give_the_same_predictions_as_one_batch() {
    for name in ["titanic_pipeline", "gb_multiclass"] {
        let m = manifest()
            .into_iter()
            .find(|m| m["name"] == name)
            .expect("model");
        let x = features(&m);
        let whole = load(&m, RunnerKind::OnnxRuntime, None, 65_536)
            .predict(&x)
            .expect("whole");
        let batched = load(&m, RunnerKind::OnnxRuntime, None, 7)
            .predict(&x)
            .expect("batched");
        // ONNX Runtime's kernels may sum in another order for another batch size.
        assert_eq!(whole.len(), batched.len());
        for (p, q) in whole.iter().zip(&batched) {
            for (u, v) in p.iter().zip(q) {
                assert!((u - v).abs() < 1e-6, "{name}: {u} vs {v}");
            }
        }
    }
    // tract plans once per batch size: 891 rows in batches of 100 use two plans.
    let m = manifest()
        .into_iter()
        .find(|m| m["name"] == "titanic_rf")
        .expect("model");
    let x = features(&m);
    let a = load(&m, RunnerKind::Tract, None, 100)
        .predict(&x)
        .expect("tract");
    let b = load(&m, RunnerKind::OnnxRuntime, None, 100)
        .predict(&x)
        .expect("ort");
    for (p, q) in a.iter().zip(&b) {
        for (u, v) in p.iter().zip(q) {
            assert!((u - v).abs() < 1e-6);
        }
    }
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&p, bytes).expect("write scratch file");
    p
}

#[test]
fn missing_and_corrupt_model_files_are_clear_load_errors() {
    for runner in [RunnerKind::OnnxRuntime, RunnerKind::Tract, RunnerKind::Auto] {
        let missing = dir().join("no-such-model.onnx");
        let e = OnnxModel::load(&missing, runner, None, 10)
            .err()
            .expect("missing")
            .to_string();
        assert!(
            e.contains("no-such-model.onnx") && e.contains("cannot read"),
            "{e}"
        );

        let good = std::fs::read(dir().join("titanic_rf.onnx")).expect("model");
        let cut = scratch("truncated.onnx", &good[..good.len() / 3]);
        let e = OnnxModel::load(&cut, runner, None, 10)
            .err()
            .expect("truncated")
            .to_string();
        assert!(
            e.contains("truncated.onnx is not a valid ONNX model"),
            "{e}"
        );

        let text = scratch("text.onnx", b"name,age\nann,3\n");
        let e = OnnxModel::load(&text, runner, None, 10)
            .err()
            .expect("text")
            .to_string();
        assert!(e.contains("text.onnx is not a valid ONNX model"), "{e}");
    }
}

fn pipeline_features() -> (Value, Features) {
    let m = manifest()
        .into_iter()
        .find(|m| m["name"] == "titanic_pipeline")
        .expect("model");
    let x = features(&m);
    (m, x)
}

#[test]
fn a_missing_or_mistyped_input_is_named_by_the_signature_check_and_by_predict() {
    let (m, x) = pipeline_features();
    let model = load(&m, RunnerKind::OnnxRuntime, None, 1000);
    // As fed: the signature agrees.
    let f = checks::run(&model, &x, &[ModelCheck::Signature], Severity::Error);
    assert_eq!(f[0].status, Status::Passed, "{:?}", f[0]);

    // Without `Sex`.
    let i = x.names.iter().position(|n| n == "Sex").expect("Sex");
    let mut without = x.clone();
    without.names.remove(i);
    without.columns.remove(i);
    let e = model
        .predict(&without)
        .expect_err("missing input")
        .to_string();
    assert!(
        e.contains("the model takes `Sex: string[?, 1]`, which it is not fed"),
        "{e}"
    );

    // `Sex` as numbers.
    let mut numbers = x.clone();
    numbers.columns[i] = FeatureColumn::Num(vec![Some(1.0); x.rows()]);
    let e = model.predict(&numbers).expect_err("wrong type").to_string();
    assert!(
        e.contains("`Sex` is text for the model but numbers in the data"),
        "{e}"
    );
    let f = checks::run(
        &model,
        &numbers,
        &[ModelCheck::Signature, ModelCheck::Loads],
        Severity::Error,
    );
    assert!(f.iter().all(|f| f.status == Status::Error), "{f:?}");

    // A null string.
    let mut nulls = x.clone();
    if let FeatureColumn::Text(v) = &mut nulls.columns[i] {
        v[4] = None;
    }
    let e = model.predict(&nulls).expect_err("null text").to_string();
    assert!(e.contains("`Sex` (string) is null at row 5"), "{e}");
}

#[test]
fn nan_inputs_reach_the_model_and_the_finite_check_names_the_rows() {
    let m = manifest()
        .into_iter()
        .find(|m| m["name"] == "titanic_lr")
        .expect("model");
    let mut x = features(&m);
    if let FeatureColumn::Num(v) = &mut x.columns[2] {
        v[3] = Some(f64::NAN);
        v[10] = None;
    }
    let model = load(&m, RunnerKind::OnnxRuntime, None, 1000);
    let f = checks::run(
        &model,
        &x,
        &[ModelCheck::Finite, ModelCheck::OutputShape],
        Severity::Error,
    );
    assert_eq!(f[0].status, Status::Failed, "{:?}", f[0]);
    assert_eq!(f[0].unexpected_count, Some(2));
    assert_eq!(
        f[0].observed,
        serde_json::json!([3, 10]),
        "the rows, from 0"
    );
    assert_eq!(f[1].status, Status::Passed);
}

#[test]
fn integer_inputs_refuse_fractions_and_an_unknown_output_lists_the_outputs() {
    let m = manifest()
        .into_iter()
        .find(|m| m["name"] == "titanic_int")
        .expect("model");
    let mut x = features(&m);
    if let FeatureColumn::Num(v) = &mut x.columns[0] {
        v[2] = Some(2.5);
    }
    for runner in [RunnerKind::OnnxRuntime, RunnerKind::Tract] {
        let e = load(&m, runner, None, 1000)
            .predict(&x)
            .expect_err("fraction")
            .to_string();
        assert!(e.contains("is 2.5 at row 3"), "{e}");
    }
    let file = dir().join("titanic_int.onnx");
    let e = OnnxModel::load(&file, RunnerKind::OnnxRuntime, Some("proba"), 10)
        .err()
        .expect("no such output")
        .to_string();
    assert!(
        e.contains("no output `proba`") && e.contains("probabilities: float[?, 2]"),
        "{e}"
    );
}

#[test]
fn probabilities_are_valid_and_runs_are_deterministic_and_batch_invariant() {
    let (m, x) = pipeline_features();
    let model = load(&m, RunnerKind::OnnxRuntime, None, 1000);
    let f = checks::run(
        &model,
        &x,
        &[
            ModelCheck::Loads,
            ModelCheck::OutputShape,
            ModelCheck::ProbabilitiesValid,
            ModelCheck::Finite,
            ModelCheck::Deterministic,
            ModelCheck::BatchInvariant,
        ],
        Severity::Error,
    );
    for f in &f {
        assert_eq!(f.status, Status::Passed, "{f:?}");
    }
}

#[test]
fn model_runs_count_their_rows_for_the_progress_line() {
    let m = manifest()
        .into_iter()
        .find(|m| m["name"] == "titanic_rf")
        .expect("model");
    let x = features(&m);
    let progress = &tollgate_core::progress::PROGRESS;
    tollgate_core::progress::enable();
    let before = progress.rows();
    load(&m, RunnerKind::Tract, None, 100)
        .predict(&x)
        .expect("tract");
    // Other tests of this binary may count too: at least these rows were added.
    assert!(progress.rows() - before >= x.rows() as u64);
}
