//! Model runners: anything that turns rows of features into predictions. One trait, several
//! adapters: a Rust closure (for `cargo test`), and a command that reads a batch on stdin and
//! writes one prediction per line. ONNX and HTTP runners come with a later change.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One input column of a model.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureColumn {
    /// Numbers (nulls as `None`).
    Num(Vec<Option<f64>>),
    /// Text (nulls as `None`).
    Text(Vec<Option<String>>),
}

impl FeatureColumn {
    fn len(&self) -> usize {
        match self {
            FeatureColumn::Num(v) => v.len(),
            FeatureColumn::Text(v) => v.len(),
        }
    }
}

/// Rows of model inputs, column by column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    /// Input names, in the order the model takes them.
    pub names: Vec<String>,
    /// The columns.
    pub columns: Vec<FeatureColumn>,
}

impl Features {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map(FeatureColumn::len).unwrap_or(0)
    }

    /// The rows in `range`.
    pub fn slice(&self, start: usize, end: usize) -> Features {
        Features {
            names: self.names.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| match c {
                    FeatureColumn::Num(v) => FeatureColumn::Num(v[start..end].to_vec()),
                    FeatureColumn::Text(v) => FeatureColumn::Text(v[start..end].to_vec()),
                })
                .collect(),
        }
    }
}

/// Why a model could not predict. All are failures of the model or its setup, reported as
/// errors (exit 2), never as failed checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The model could not be started or loaded.
    #[error("the model could not be loaded: {0}")]
    Load(String),
    /// The model ran but failed or answered nonsense.
    #[error("the model failed: {0}")]
    Predict(String),
    /// The model did not answer in time.
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
}

/// Predictions: one row of numbers per input row (one number: a score, a label or a value;
/// several: class probabilities).
pub type Predictions = Vec<Vec<f64>>;

/// The declared inputs (as text for a report) and the ways the inputs fed differ from them.
pub type SignatureReport = (Vec<String>, Vec<String>);

/// Anything that predicts.
pub trait Model: Send + Sync {
    /// Predict a batch of rows.
    fn predict(&self, x: &Features) -> Result<Predictions, ModelError>;
    /// A short description for messages.
    fn describe(&self) -> String;
    /// The inputs the model declares, by name, and whether each is text (`None` when the
    /// runner has no way to know, as for a command).
    fn signature(&self) -> Result<Option<Vec<(String, bool)>>, ModelError> {
        Ok(None)
    }

    /// The declared inputs (as text for a report) and how the inputs `x` differ from them
    /// (empty when they agree); `None` when the model declares nothing.
    fn signature_problems(&self, x: &Features) -> Result<Option<SignatureReport>, ModelError> {
        let Some(declared) = self.signature()? else {
            return Ok(None);
        };
        let fed: Vec<(&String, bool)> = x
            .names
            .iter()
            .zip(&x.columns)
            .map(|(n, c)| (n, matches!(c, FeatureColumn::Text(_))))
            .collect();
        let kind = |text: bool| if text { "text" } else { "a number" };
        let mut problems = Vec::new();
        for (name, text) in &declared {
            match fed.iter().find(|(n, _)| *n == name) {
                None => problems.push(format!("the model takes `{name}`, which it is not fed")),
                Some((_, t)) if t != text => problems.push(format!(
                    "`{name}` is {} for the model but {} in the data",
                    kind(*text),
                    kind(*t)
                )),
                Some(_) => {}
            }
        }
        for (name, _) in &fed {
            if !declared.iter().any(|(n, _)| n == *name) {
                problems.push(format!("`{name}` is fed but the model does not declare it"));
            }
        }
        let shown = declared
            .iter()
            .map(|(n, t)| format!("{n}: {}", if *t { "text" } else { "number" }))
            .collect();
        Ok(Some((shown, problems)))
    }
}

/// A model that is a Rust function: `FnModel::new("rule", |x| ...)`.
pub struct FnModel<F> {
    name: String,
    f: F,
}

impl<F> FnModel<F>
where
    F: Fn(&Features) -> Result<Predictions, ModelError> + Send + Sync,
{
    /// Wrap a function.
    pub fn new(name: &str, f: F) -> Self {
        FnModel {
            name: name.to_string(),
            f,
        }
    }
}

impl<F> Model for FnModel<F>
where
    F: Fn(&Features) -> Result<Predictions, ModelError> + Send + Sync,
{
    fn predict(&self, x: &Features) -> Result<Predictions, ModelError> {
        (self.f)(x)
    }

    fn describe(&self) -> String {
        format!("Rust function `{}`", self.name)
    }
}

/// How a command receives its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// CSV with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// A model behind a command: the batch goes to its stdin, one prediction per line comes back
/// (numbers separated by commas or spaces for several outputs).
#[derive(Debug, Clone)]
pub struct CommandModel {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Input format.
    pub wire: Wire,
    /// Longest time one batch may take.
    pub timeout: Duration,
    /// Rows per call.
    pub batch_size: usize,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl CommandModel {
    fn encode(&self, x: &Features) -> String {
        let mut out = String::new();
        if self.wire == Wire::Csv {
            out.push_str(
                &x.names
                    .iter()
                    .map(|n| csv_field(n))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        for r in 0..x.rows() {
            match self.wire {
                Wire::Csv => {
                    let cells: Vec<String> = x
                        .columns
                        .iter()
                        .map(|c| match c {
                            FeatureColumn::Num(v) => {
                                v[r].map(|f| format!("{f:?}")).unwrap_or_default()
                            }
                            FeatureColumn::Text(v) => {
                                v[r].as_deref().map(csv_field).unwrap_or_default()
                            }
                        })
                        .collect();
                    out.push_str(&cells.join(","));
                }
                Wire::JsonLines => {
                    let obj: serde_json::Map<String, serde_json::Value> = x
                        .names
                        .iter()
                        .zip(&x.columns)
                        .map(|(n, c)| {
                            let v = match c {
                                FeatureColumn::Num(v) => v[r]
                                    .and_then(serde_json::Number::from_f64)
                                    .map(serde_json::Value::Number),
                                FeatureColumn::Text(v) => {
                                    v[r].clone().map(serde_json::Value::String)
                                }
                            };
                            (n.clone(), v.unwrap_or(serde_json::Value::Null))
                        })
                        .collect();
                    out.push_str(&serde_json::Value::Object(obj).to_string());
                }
            }
            out.push('\n');
        }
        out
    }

    fn call(&self, x: &Features) -> Result<Predictions, ModelError> {
        use std::sync::mpsc;
        let Some((program, args)) = self.argv.split_first() else {
            return Err(ModelError::Load("the command is empty".into()));
        };
        // On a timeout the child is killed; what it started itself is not waited for.
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ModelError::Load(format!("cannot start `{program}`: {e}")))?;
        let kill_group = |child: &mut std::process::Child| {
            let _ = child.kill();
            let _ = child.wait();
        };
        let input = self.encode(x);
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| ModelError::Load("no stdin".into()))?;
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        // Output is read on threads and handed over through channels, so that a grandchild
        // holding the pipes open cannot make us wait past the timeout.
        let read = |mut r: Box<dyn Read + Send>, cap: usize| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.by_ref().take(cap as u64).read_to_end(&mut buf);
                let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
            });
            rx
        };
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ModelError::Load("no stdout".into()))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| ModelError::Load("no stderr".into()))?;
        let out_rx = read(Box::new(stdout), 1 << 30);
        let err_rx = read(Box::new(stderr), 1 << 20);
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() > self.timeout => {
                    kill_group(&mut child);
                    return Err(ModelError::Timeout(self.timeout));
                }
                Ok(None) => std::thread::sleep(Duration::from_micros(200)),
                Err(e) => {
                    kill_group(&mut child);
                    return Err(ModelError::Predict(e.to_string()));
                }
            }
        };
        let left = self
            .timeout
            .saturating_sub(start.elapsed())
            .max(Duration::from_millis(100));
        let Ok(out) = out_rx.recv_timeout(left) else {
            kill_group(&mut child);
            return Err(ModelError::Predict(format!(
                "`{}` exited but something it started still holds its output open",
                self.argv.join(" ")
            )));
        };
        let err = err_rx
            .recv_timeout(Duration::from_millis(100))
            .unwrap_or_default();
        if !status.success() {
            let tail: String = err
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            return Err(ModelError::Predict(format!(
                "`{}` exited with {status}{}",
                self.argv.join(" "),
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(": {tail}")
                }
            )));
        }
        let mut preds = Vec::new();
        for (i, line) in out
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let row: Result<Vec<f64>, _> = line
                .split([',', ' ', '\t'])
                .filter(|t| !t.is_empty())
                .map(str::parse::<f64>)
                .collect();
            match row {
                Ok(r) if !r.is_empty() => preds.push(r),
                _ => {
                    return Err(ModelError::Predict(format!(
                        "line {} of the output is not numbers: {line:?}",
                        i + 1
                    )));
                }
            }
        }
        if preds.len() != x.rows() {
            return Err(ModelError::Predict(format!(
                "{} predictions for {} rows",
                preds.len(),
                x.rows()
            )));
        }
        Ok(preds)
    }
}

impl Model for CommandModel {
    fn predict(&self, x: &Features) -> Result<Predictions, ModelError> {
        let mut out = Vec::with_capacity(x.rows());
        let step = self.batch_size.max(1);
        let mut start = 0;
        while start < x.rows() {
            let end = (start + step).min(x.rows());
            out.extend(self.call(&x.slice(start, end))?);
            start = end;
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        format!("command `{}`", self.argv.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features() -> Features {
        Features {
            names: vec!["a".into(), "b".into()],
            columns: vec![
                FeatureColumn::Num(vec![Some(1.0), Some(2.5), None]),
                FeatureColumn::Text(vec![Some("x,y".into()), None, Some("z".into())]),
            ],
        }
    }

    fn sh(script: &str) -> CommandModel {
        CommandModel {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            wire: Wire::Csv,
            timeout: Duration::from_secs(10),
            batch_size: 2,
        }
    }

    #[test]
    fn a_command_predicts_in_batches() {
        // Echo column a (0 when empty) for each data line; batches of 2 rows: two calls.
        let m = sh("tail -n +2 | awk -F, '{ print ($1 == \"\" ? 0 : $1 * 2) }'");
        assert_eq!(
            m.predict(&features()).unwrap(),
            vec![vec![2.0], vec![5.0], vec![0.0]]
        );
    }

    #[test]
    fn command_failures_are_clear_errors() {
        let crash = sh("echo broken >&2; exit 3")
            .predict(&features())
            .unwrap_err()
            .to_string();
        assert!(
            crash.contains("exited with exit status: 3") && crash.contains("broken"),
            "{crash}"
        );
        let short = sh("echo 1").predict(&features()).unwrap_err().to_string();
        assert!(short.contains("1 predictions for 2 rows"), "{short}");
        let garbage = sh("cat >/dev/null; echo yes; echo no")
            .predict(&features())
            .unwrap_err()
            .to_string();
        assert!(
            garbage.contains("line 1 of the output is not numbers"),
            "{garbage}"
        );
        let mut slow = sh("sleep 5");
        slow.timeout = Duration::from_millis(200);
        assert!(matches!(
            slow.predict(&features()),
            Err(ModelError::Timeout(_))
        ));
        let missing = CommandModel {
            argv: vec!["/no/such/program".into()],
            ..sh("")
        }
        .predict(&features())
        .unwrap_err()
        .to_string();
        assert!(
            missing.contains("cannot start `/no/such/program`"),
            "{missing}"
        );
    }

    #[test]
    fn a_grandchild_holding_the_output_cannot_hang_the_run() {
        let mut m = sh("cat > /dev/null; (sleep 2 &); echo 1; echo 2");
        m.timeout = Duration::from_millis(500);
        let t = std::time::Instant::now();
        let e = m.predict(&features()).unwrap_err().to_string();
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "took {:?}",
            t.elapsed()
        );
        assert!(
            e.contains("holds its output open") || e.contains("did not answer"),
            "{e}"
        );
    }

    #[test]
    fn json_lines_wire() {
        let m = CommandModel {
            wire: Wire::JsonLines,
            batch_size: 10,
            ..sh("cat")
        };
        assert_eq!(
            m.encode(&features()),
            "{\"a\":1.0,\"b\":\"x,y\"}\n{\"a\":2.5,\"b\":null}\n{\"a\":null,\"b\":\"z\"}\n"
        );
    }
}
