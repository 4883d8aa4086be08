//! The `Trainer` path of the Titanic example: training code written in Rust, tested with
//! tollgate's pre-train checks inside `cargo test`, with no Python and no files in between.
//!
//! The model is a logistic regression on the example's 8 features (computed by the plan's SQL,
//! read here through tollgate), trained by full-batch gradient descent on standardised inputs.
//! Its hyperparameter is the number of epochs; its seed draws the initial weights.
//!
//! Run: `cargo test -p tollgate --test titanic_trainer` (the file lives in
//! examples/titanic/rust/ and is compiled as a test of the `tollgate` crate).

use std::path::Path;

use tollgate::core::{Severity, Status};
use tollgate::model::eval::Rng;
use tollgate::model::pretrain::{self, Params, PretrainCheck, Sample, Setup, Trainer};
use tollgate::model::runner::{FeatureColumn, Features, FnModel, Model, ModelError};
use tollgate::{Engine, EngineOptions, parse_plan};

/// Logistic regression by gradient descent.
struct LogisticRegression;

fn rows_of(x: &Features) -> Result<Vec<Vec<f64>>, ModelError> {
    let n = x.rows();
    let mut out = vec![Vec::with_capacity(x.columns.len()); n];
    for c in &x.columns {
        let FeatureColumn::Num(v) = c else {
            return Err(ModelError::Predict("numeric features only".into()));
        };
        for (row, value) in out.iter_mut().zip(v) {
            row.push(value.unwrap_or(0.0));
        }
    }
    Ok(out)
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Trainer for LogisticRegression {
    fn fit(&self, data: &Sample, seed: u64, params: &Params) -> Result<Box<dyn Model>, ModelError> {
        let epochs = params
            .iter()
            .find(|(k, _)| k == "epochs")
            .map(|(_, v)| *v as usize)
            .unwrap_or(300);
        let x = rows_of(&data.x)?;
        let k = data.x.columns.len();
        // Standardise with the training rows' mean and deviation.
        let n = x.len().max(1) as f64;
        let mean: Vec<f64> = (0..k)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
            .collect();
        let sd: Vec<f64> = (0..k)
            .map(|j| {
                let v = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
                if v > 0.0 { v.sqrt() } else { 1.0 }
            })
            .collect();
        let z: Vec<Vec<f64>> = x
            .iter()
            .map(|r| (0..k).map(|j| (r[j] - mean[j]) / sd[j]).collect())
            .collect();
        let mut rng = Rng::new(seed);
        let mut w: Vec<f64> = (0..k)
            .map(|_| (rng.next_u64() as f64 / u64::MAX as f64 - 0.5) * 0.01)
            .collect();
        let mut b = 0.0;
        let rate = 0.5;
        for _ in 0..epochs {
            let mut gw = vec![0.0; k];
            let mut gb = 0.0;
            for (r, y) in z.iter().zip(&data.y) {
                let p = sigmoid(b + r.iter().zip(&w).map(|(a, c)| a * c).sum::<f64>());
                let e = p - y;
                for j in 0..k {
                    gw[j] += e * r[j];
                }
                gb += e;
            }
            for j in 0..k {
                w[j] -= rate * gw[j] / n;
            }
            b -= rate * gb / n;
        }
        Ok(Box::new(FnModel::new(
            "logistic regression",
            move |x: &Features| {
                Ok(rows_of(x)?
                    .iter()
                    .map(|r| {
                        let s: f64 = (0..k).map(|j| (r[j] - mean[j]) / sd[j] * w[j]).sum();
                        let p = sigmoid(b + s);
                        vec![1.0 - p, p]
                    })
                    .collect())
            },
        )))
    }

    fn describe(&self) -> String {
        "logistic regression (Rust, gradient descent)".into()
    }
}

/// The example plan's features over one of its sources, with the labels.
async fn sample(source: &str) -> Sample {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/titanic");
    let text = std::fs::read_to_string(dir.join("tollgate.yaml")).expect("plan");
    let plan = parse_plan(&text).expect("the example plan parses");
    let src = plan
        .sources
        .iter()
        .find(|s| s.name == source)
        .expect("source");
    let inputs = &plan
        .models
        .iter()
        .find(|m| m.name == "tree")
        .expect("model")
        .inputs;
    let engine = Engine::new(EngineOptions::default());
    let x = engine
        .read_exprs(src, &dir, inputs, None)
        .await
        .expect("features");
    let y = engine
        .read_exprs(
            src,
            &dir,
            &[("y".into(), "CAST(Survived AS DOUBLE)".into())],
            None,
        )
        .await
        .expect("labels");
    let tollgate::data::run::ColumnData::Num(y) = &y[0] else {
        panic!("numeric labels")
    };
    let y: Vec<f64> = y.iter().map(|v| v.expect("no null label")).collect();
    let n = y.len();
    Sample {
        x: Features {
            names: inputs.iter().map(|(n, _)| n.clone()).collect(),
            columns: x
                .into_iter()
                .map(|c| match c {
                    tollgate::data::run::ColumnData::Num(v) => FeatureColumn::Num(v),
                    tollgate::data::run::ColumnData::Text(v) => FeatureColumn::Text(v),
                })
                .collect(),
        },
        y,
        rows: (0..n).collect(),
    }
}

#[tokio::test]
async fn the_rust_trainer_passes_the_pretrain_checks() {
    let (train, test) = (sample("train").await, sample("test").await);
    assert_eq!((train.len(), test.len()), (712, 179));
    let setup = Setup {
        train: &train,
        test: Some(&test),
        seed: 7,
        params: vec![("epochs".into(), 300.0)],
        positive: Some(1),
        small: 20,
        severity: Severity::Error,
    };
    let checks = [
        PretrainCheck::OutputShape,
        PretrainCheck::ProbabilitiesValid,
        PretrainCheck::OverfitsTinySample { rows: 4 },
        PretrainCheck::CapacityMonotone {
            param: "epochs".into(),
            values: vec![1.0, 10.0, 50.0, 300.0],
            metrics: vec!["roc_auc".into()],
            on_test: false,
            tolerance: 0.005,
        },
        PretrainCheck::DeterministicWithSeed,
        PretrainCheck::TrainingTime {
            runs: 3,
            p95_s: Some(5.0),
        },
        PretrainCheck::Metrics {
            bounds: vec![
                ("accuracy".into(), Some(0.78), None),
                ("roc_auc".into(), Some(0.84), None),
            ],
            on_test: true,
        },
    ];
    let found = pretrain::run(&LogisticRegression, &setup, &checks);
    for f in &found {
        assert_eq!(f.status, Status::Passed, "{f:#?}");
    }
    println!(
        "Rust logistic regression, test split: {}",
        found[6].observed
    );
}
