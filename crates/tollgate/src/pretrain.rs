//! Pre-train checks of a plan (`pretrain:`): training code reached through a command template
//! that writes an ONNX model, checked with `tollgate_model::pretrain`, plus the data check
//! `no_train_test_leakage`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use serde_json::json;
use tollgate_core::finding::SampleRow;
use tollgate_core::plan::{
    ModelDecl, OutputDecl, PretrainCheckDecl, PretrainDecl, RunnerDecl, quote_ident,
};
use tollgate_core::{Finding, Plan, Status, TestKind, TestResult};
use tollgate_data::Engine;

use crate::features_of;
use tollgate_data::run::ColumnData;
use tollgate_model::onnx::{OnnxModel, RunnerKind};
use tollgate_model::pretrain::{self, Params, PretrainCheck, Sample, Setup, Trainer};
use tollgate_model::runner::{Model, ModelError};

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tollgate-pretrain-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Training code behind a command: the rows go to `{data}` as CSV with the source's raw
/// columns, the command writes an ONNX model to `{model}`.
struct CommandTrainer {
    argv: Vec<String>,
    rows: RecordBatch,
    dir: Scratch,
    cwd: PathBuf,
    timeout: Duration,
    runner: RunnerKind,
    tensor: Option<String>,
    calls: AtomicUsize,
}

impl CommandTrainer {
    fn write_rows(&self, path: &Path, rows: &[usize]) -> Result<(), String> {
        let idx = UInt32Array::from(rows.iter().map(|&r| r as u32).collect::<Vec<_>>());
        let batch = take_record_batch(&self.rows, &idx).map_err(|e| e.to_string())?;
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut w = datafusion::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(file);
        w.write(&batch)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn fill(arg: &str, data: &Path, model: &Path, seed: u64, params: &Params) -> String {
    let mut out = arg
        .replace("{data}", &data.display().to_string())
        .replace("{model}", &model.display().to_string())
        .replace("{seed}", &seed.to_string());
    for (name, v) in params {
        let text = if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{}", *v as i64)
        } else {
            v.to_string()
        };
        out = out.replace(&format!("{{param.{name}}}"), &text);
    }
    out
}

impl Trainer for CommandTrainer {
    fn fit(&self, data: &Sample, seed: u64, params: &Params) -> Result<Box<dyn Model>, ModelError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let data_path = self.dir.0.join(format!("train-{n}.csv"));
        let model_path = self.dir.0.join(format!("model-{n}.onnx"));
        self.write_rows(&data_path, &data.rows)
            .map_err(ModelError::Load)?;
        let argv: Vec<String> = self
            .argv
            .iter()
            .map(|a| fill(a, &data_path, &model_path, seed, params))
            .collect();
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ModelError::Load(format!("cannot start `{}`: {e}", argv[0])))?;
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if start.elapsed() < self.timeout => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(ModelError::Timeout(self.timeout));
                }
                Err(e) => return Err(ModelError::Load(e.to_string())),
            }
        };
        let out = child
            .wait_with_output()
            .map_err(|e| ModelError::Load(e.to_string()))?;
        if !status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(5).collect();
            return Err(ModelError::Load(format!(
                "training exited with {status}: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            )));
        }
        if !model_path.is_file() {
            return Err(ModelError::Load(format!(
                "training succeeded but wrote no model to {{model}} ({})",
                model_path.display()
            )));
        }
        let model = OnnxModel::load(&model_path, self.runner, self.tensor.as_deref(), 65_536)?;
        Ok(Box::new(model))
    }

    fn describe(&self) -> String {
        format!("training command `{}`", self.argv.join(" "))
    }
}

/// Raw rows, the model's inputs and the labels of a source.
async fn sample(
    engine: &Engine,
    plan: &Plan,
    name: &str,
    base: &Path,
    m: &ModelDecl,
    label: &str,
) -> Result<(RecordBatch, Sample), String> {
    let source = plan
        .sources
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("unknown source `{name}`"))?;
    let rows = engine
        .read_rows(source, base, None)
        .await
        .map_err(|e| e.to_string())?;
    if rows.schema().field_with_name(label).is_err() {
        return Err(format!("`{name}` has no label column `{label}`"));
    }
    // The model's inputs and the label in one query; the label comes last.
    let mut exprs = m.inputs.clone();
    exprs.push((
        "__tollgate_label".to_string(),
        format!("CAST({} AS DOUBLE)", quote_ident(label)),
    ));
    let mut x = engine
        .exprs_over(rows.clone(), &exprs)
        .await
        .map_err(|e| e.to_string())?;
    let y = x.pop();
    let y = match y {
        Some(ColumnData::Num(v)) => v
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| format!("`{name}`: label `{label}` is null at row {i}")))
            .collect::<Result<Vec<f64>, String>>()?,
        _ => return Err(format!("`{name}`: label `{label}` is not a number")),
    };
    let n = y.len();
    Ok((
        rows,
        Sample {
            x: features_of(m, x),
            y,
            rows: (0..n).collect(),
        },
    ))
}

/// Rows of `test` whose key (the `key` columns, or every column but `ignore`) is also a row
/// of `train`.
fn leakage(
    train: &RecordBatch,
    test: &RecordBatch,
    key: &[String],
    ignore: &[String],
    severity: tollgate_core::Severity,
) -> Finding {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let mut f = Finding::new("no_train_test_leakage", Status::Error, severity);
    let cols: Vec<String> = if key.is_empty() {
        test.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !ignore.contains(n))
            .collect()
    } else {
        key.to_vec()
    };
    let keys = |b: &RecordBatch| -> Result<Vec<String>, String> {
        let mut fmts = Vec::new();
        for c in &cols {
            let col = b
                .column_by_name(c)
                .ok_or_else(|| format!("no column `{c}` on both sides"))?;
            fmts.push(
                ArrayFormatter::try_new(col.as_ref(), &FormatOptions::default().with_null("\u{0}"))
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok((0..b.num_rows())
            .map(|r| {
                fmts.iter()
                    .map(|f| f.value(r).to_string())
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            })
            .collect())
    };
    let (a, b) = match (keys(train), keys(test)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            f.error = Some(e);
            return f;
        }
    };
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, k) in a.iter().enumerate() {
        seen.entry(k.as_str()).or_insert(i);
    }
    let leaks: Vec<(usize, usize)> = b
        .iter()
        .enumerate()
        .filter_map(|(i, k)| seen.get(k.as_str()).map(|&j| (i, j)))
        .collect();
    f.element_count = Some(b.len() as u64);
    f.unexpected_count = Some(leaks.len() as u64);
    f.unexpected_fraction = Some(leaks.len() as f64 / b.len().max(1) as f64);
    f.observed = json!(leaks.len());
    f.expected = format!(
        "no held-out row equal to a training row on {} (observed: such rows)",
        if key.is_empty() && ignore.is_empty() {
            "all columns".to_string()
        } else {
            cols.join(", ")
        }
    );
    f.status = Finding::verdict(leaks.is_empty(), severity);
    for (i, j) in leaks.iter().take(5) {
        let mut values = serde_json::Map::new();
        values.insert("training_row".into(), json!(j));
        values.insert("key".into(), json!(b[*i].replace('\u{1f}', " | ")));
        f.sample.push(SampleRow {
            row: Some(*i as u64),
            values,
        });
    }
    f
}

/// A check to run with the trainer, or a finding already made.
enum Slot {
    Check(PretrainCheck),
    Done(Box<Finding>),
}

/// Run one `pretrain:` test.
pub async fn run_pretrain(
    engine: &Engine,
    plan: &Plan,
    d: &PretrainDecl,
    base: &Path,
) -> TestResult {
    let mut result = TestResult::new(TestKind::Pretrain, &d.name, Some(&d.source));
    match pretrain_findings(engine, plan, d, base, &mut result).await {
        Ok(findings) => {
            result.status = TestResult::status_of(&findings);
            result.findings = findings;
        }
        Err(e) => result.error = Some(e),
    }
    result
}

async fn pretrain_findings(
    engine: &Engine,
    plan: &Plan,
    d: &PretrainDecl,
    base: &Path,
    result: &mut TestResult,
) -> Result<Vec<Finding>, String> {
    let m = plan
        .models
        .iter()
        .find(|m| m.name == d.model)
        .ok_or_else(|| format!("unknown model `{}`", d.model))?;
    let RunnerDecl::Onnx { runner, tensor, .. } = &m.runner else {
        return Err(format!("model `{}` is not an `onnx` model", d.model));
    };
    let (train_rows, train) = sample(engine, plan, &d.source, base, m, &d.label).await?;
    result.rows = Some(train.len() as u64);
    let test = match &d.test {
        Some(t) => Some(sample(engine, plan, t, base, m, &d.label).await?),
        None => None,
    };
    let trainer = CommandTrainer {
        argv: d.command.clone(),
        rows: train_rows.clone(),
        dir: Scratch::new().map_err(|e| format!("cannot make a scratch directory: {e}"))?,
        cwd: if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base.to_path_buf()
        },
        timeout: Duration::try_from_secs_f64(d.timeout_s).unwrap_or(Duration::from_secs(600)),
        runner: RunnerKind::parse(runner).unwrap_or(RunnerKind::Auto),
        tensor: tensor.clone(),
        calls: AtomicUsize::new(0),
    };
    let setup = Setup {
        train: &train,
        test: test.as_ref().map(|t| &t.1),
        seed: d.seed,
        params: d.params.clone(),
        positive: match m.output {
            OutputDecl::ProbabilityOf(k) => Some(k),
            OutputDecl::Value => None,
        },
        small: d.small_rows,
        severity: d.severity,
    };
    let mut out = Vec::new();
    for c in &d.checks {
        let check = match c {
            PretrainCheckDecl::Leakage { key, ignore } => {
                let Some((test_rows, _)) = &test else {
                    return Err("`no_train_test_leakage` needs `test`".into());
                };
                out.push(Slot::Done(Box::new(leakage(
                    &train_rows,
                    test_rows,
                    key,
                    ignore,
                    d.severity,
                ))));
                continue;
            }
            PretrainCheckDecl::Named(n) => match n.as_str() {
                "output_shape" => PretrainCheck::OutputShape,
                "probabilities_valid" => PretrainCheck::ProbabilitiesValid,
                _ => PretrainCheck::DeterministicWithSeed,
            },
            PretrainCheckDecl::Overfit { rows } => {
                PretrainCheck::OverfitsTinySample { rows: *rows }
            }
            PretrainCheckDecl::Capacity {
                param,
                values,
                metrics,
                on_test,
                tolerance,
            } => PretrainCheck::CapacityMonotone {
                param: param.clone(),
                values: values.clone(),
                metrics: metrics.clone(),
                on_test: *on_test,
                tolerance: *tolerance,
            },
            PretrainCheckDecl::TrainingTime { runs, p95_s } => PretrainCheck::TrainingTime {
                runs: *runs,
                p95_s: *p95_s,
            },
            PretrainCheckDecl::Metrics { bounds, on_test } => PretrainCheck::Metrics {
                bounds: bounds.clone(),
                on_test: *on_test,
            },
        };
        out.push(Slot::Check(check));
    }
    // Checks run in one batch so that trainings on the whole sample are shared; the leakage
    // findings (data only) are put back in their place.
    let model_checks: Vec<PretrainCheck> = out
        .iter()
        .filter_map(|c| match c {
            Slot::Check(c) => Some(c.clone()),
            Slot::Done(_) => None,
        })
        .collect();
    let mut found = pretrain::run(&trainer, &setup, &model_checks).into_iter();
    Ok(out
        .into_iter()
        .filter_map(|s| match s {
            Slot::Done(f) => Some(*f),
            Slot::Check(_) => found.next(),
        })
        .collect())
}
