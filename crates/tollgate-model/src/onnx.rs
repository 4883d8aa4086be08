//! ONNX models, run by ONNX Runtime (loaded at run time from a library found on the machine)
//! or by tract (pure Rust, the `tract` feature).
//!
//! How the plan's inputs reach the model:
//! - a model with one input and several plan inputs takes them as one matrix `[rows, k]`, in the
//!   plan's order (what scikit-learn models exported with one `X` take);
//! - otherwise each model input is fed the plan input of the same name, as `[rows, 1]` (what
//!   skl2onnx writes for a `ColumnTransformer` pipeline).
//!
//! Numbers become the input's element type (float, double, int64, int32, bool); a null number
//! becomes NaN for a float input and is an error for an integer one; text feeds string inputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::onnx_proto::{self, Dim, Elem, OnnxInfo};
use crate::runner::{FeatureColumn, Features, Model, ModelError, Predictions, SignatureReport};

/// Which engine runs an ONNX model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerKind {
    /// ONNX Runtime when it is found, tract otherwise.
    Auto,
    /// ONNX Runtime only.
    OnnxRuntime,
    /// tract only.
    Tract,
}

impl RunnerKind {
    /// From the plan's `runner:` value.
    pub fn parse(s: &str) -> Option<RunnerKind> {
        match s {
            "auto" => Some(RunnerKind::Auto),
            "onnxruntime" | "ort" => Some(RunnerKind::OnnxRuntime),
            "tract" => Some(RunnerKind::Tract),
            _ => None,
        }
    }
}

/// Operator domains ONNX Runtime implements.
const ORT_DOMAINS: &[&str] = &["ai.onnx", "ai.onnx.ml", "com.microsoft"];

/// Rows per call when the plan does not say.
pub const DEFAULT_BATCH: usize = 65_536;

// ---------------------------------------------------------------------------------------------
// Feeding

/// The values of one input tensor.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Data {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    Bool(Vec<bool>),
    Str(Vec<String>),
}

/// One input tensor, ready for a runner.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Feed {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Data,
}

/// How the plan's inputs map onto the model's.
#[derive(Debug, Clone, PartialEq)]
enum Layout {
    /// All plan inputs, in order, as the columns of the model's only input.
    Matrix,
    /// For each model input, the index of the plan input of the same name.
    PerColumn(Vec<usize>),
}

fn rank2(dims: &[Dim]) -> bool {
    dims.len() != 1
}

fn elem_takes(elem: Elem, text: bool) -> Result<(), String> {
    match (elem, text) {
        (Elem::String, true) => Ok(()),
        (Elem::String, false) => Err("text for the model but numbers in the data".into()),
        (Elem::Other(_), _) => Err(format!("of {elem}, which tollgate cannot feed")),
        (_, true) => Err(format!("{elem} for the model but text in the data")),
        (_, false) => Ok(()),
    }
}

/// Plan the feeding, or say every way the inputs differ from the model's.
fn layout(info: &OnnxInfo, x: &Features) -> Result<Layout, Vec<String>> {
    let is_text = |c: &FeatureColumn| matches!(c, FeatureColumn::Text(_));
    let mut problems = Vec::new();
    if info.inputs.is_empty() {
        return Err(vec!["the model declares no inputs".into()]);
    }
    let single_same_name =
        info.inputs.len() == 1 && x.names.len() == 1 && x.names[0] == info.inputs[0].name;
    if info.inputs.len() == 1 && !single_same_name {
        let input = &info.inputs[0];
        let Some(elem) = input.elem else {
            return Err(vec![format!(
                "input `{}` is a {}, not a tensor",
                input.name, input.kind
            )]);
        };
        if input.dims.len() > 2 {
            problems.push(format!(
                "input `{}` has {} dimensions; tollgate feeds tables (rows × columns)",
                input.describe(),
                input.dims.len()
            ));
        }
        let width = match input.dims.last() {
            Some(Dim::Fixed(k)) if input.dims.len() == 2 => Some(*k),
            _ if input.dims.len() == 1 => Some(1),
            _ => None,
        };
        if let Some(k) = width
            && k != x.names.len() as i64
        {
            problems.push(format!(
                "input `{}` takes {k} column(s) but {} are fed ({})",
                input.describe(),
                x.names.len(),
                x.names.join(", ")
            ));
        }
        for (name, col) in x.names.iter().zip(&x.columns) {
            if let Err(why) = elem_takes(elem, is_text(col)) {
                problems.push(format!("`{name}` (a column of `{}`) is {why}", input.name));
            }
        }
        return if problems.is_empty() {
            Ok(Layout::Matrix)
        } else {
            Err(problems)
        };
    }
    let mut order = Vec::new();
    for input in &info.inputs {
        match x.names.iter().position(|n| n == &input.name) {
            None => problems.push(format!(
                "the model takes `{}`, which it is not fed",
                input.describe()
            )),
            Some(i) => {
                match input.elem {
                    None => problems.push(format!(
                        "input `{}` is a {}, not a tensor",
                        input.name, input.kind
                    )),
                    Some(elem) => {
                        if let Err(why) = elem_takes(elem, is_text(&x.columns[i])) {
                            problems.push(format!("`{}` is {why}", input.name));
                        }
                    }
                }
                if matches!(input.dims.get(1), Some(Dim::Fixed(k)) if *k != 1) {
                    problems.push(format!(
                        "input `{}` takes several columns; name one column per input",
                        input.describe()
                    ));
                }
                order.push(i);
            }
        }
    }
    for name in &x.names {
        if !info.inputs.iter().any(|i| &i.name == name) {
            let declared: Vec<&str> = info.inputs.iter().map(|i| i.name.as_str()).collect();
            problems.push(format!(
                "`{name}` is fed but the model does not declare it (its inputs: {})",
                declared.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(Layout::PerColumn(order))
    } else {
        Err(problems)
    }
}

fn convert(
    elem: Elem,
    input: &str,
    cols: &[&FeatureColumn],
    rows: usize,
) -> Result<Data, ModelError> {
    // Row-major: value (r, c) at r * cols + c.
    let width = cols.len();
    let num = |r: usize, c: usize| match cols[c] {
        FeatureColumn::Num(v) => v[r],
        FeatureColumn::Text(_) => None,
    };
    let integer = |r: usize, c: usize, lo: f64, hi: f64| -> Result<f64, ModelError> {
        match num(r, c) {
            None => Err(ModelError::Predict(format!(
                "input `{input}` ({elem}) is null at row {} (counting from 1); integer inputs take no nulls",
                r + 1
            ))),
            Some(v) if v.fract() != 0.0 || !(lo..=hi).contains(&v) => {
                Err(ModelError::Predict(format!(
                    "input `{input}` ({elem}) is {v} at row {} (counting from 1), not an integer in range",
                    r + 1
                )))
            }
            Some(v) => Ok(v),
        }
    };
    let cells = (0..rows).flat_map(|r| (0..width).map(move |c| (r, c)));
    Ok(match elem {
        Elem::Float => Data::F32(
            cells
                .map(|(r, c)| num(r, c).map(|v| v as f32).unwrap_or(f32::NAN))
                .collect(),
        ),
        Elem::Double => Data::F64(
            cells
                .map(|(r, c)| num(r, c).unwrap_or(f64::NAN))
                .collect(),
        ),
        Elem::Int64 => Data::I64(
            cells
                .map(|(r, c)| integer(r, c, -9.007_199_254_740_992e15, 9.007_199_254_740_992e15).map(|v| v as i64))
                .collect::<Result<_, _>>()?,
        ),
        Elem::Int32 => Data::I32(
            cells
                .map(|(r, c)| integer(r, c, f64::from(i32::MIN), f64::from(i32::MAX)).map(|v| v as i32))
                .collect::<Result<_, _>>()?,
        ),
        Elem::Bool => Data::Bool(
            cells
                .map(|(r, c)| integer(r, c, 0.0, 1.0).map(|v| v != 0.0))
                .collect::<Result<_, _>>()?,
        ),
        Elem::String => Data::Str(
            cells
                .map(|(r, c)| match cols[c] {
                    FeatureColumn::Text(v) => v[r].clone().ok_or_else(|| {
                        ModelError::Predict(format!(
                            "input `{input}` (string) is null at row {} (counting from 1); text inputs take no nulls",
                            r + 1
                        ))
                    }),
                    FeatureColumn::Num(_) => Err(ModelError::Predict(format!(
                        "input `{input}` takes text but is fed numbers"
                    ))),
                })
                .collect::<Result<_, _>>()?,
        ),
        Elem::Other(_) => {
            return Err(ModelError::Predict(format!(
                "input `{input}` is of {elem}, which tollgate cannot feed"
            )));
        }
    })
}

/// The tensors for a batch.
fn feeds(info: &OnnxInfo, x: &Features) -> Result<Vec<Feed>, ModelError> {
    let layout = layout(info, x).map_err(|p| ModelError::Predict(p.join("; ")))?;
    let rows = x.rows();
    match layout {
        Layout::Matrix => {
            let input = &info.inputs[0];
            let elem = input.elem.unwrap_or(Elem::Float);
            let cols: Vec<&FeatureColumn> = x.columns.iter().collect();
            let shape = if rank2(&input.dims) {
                vec![rows, cols.len()]
            } else {
                vec![rows]
            };
            Ok(vec![Feed {
                name: input.name.clone(),
                shape,
                data: convert(elem, &input.name, &cols, rows)?,
            }])
        }
        Layout::PerColumn(order) => info
            .inputs
            .iter()
            .zip(order)
            .map(|(input, i)| {
                let elem = input.elem.unwrap_or(Elem::Float);
                let shape = if rank2(&input.dims) {
                    vec![rows, 1]
                } else {
                    vec![rows]
                };
                Ok(Feed {
                    name: input.name.clone(),
                    shape,
                    data: convert(elem, &input.name, &[&x.columns[i]], rows)?,
                })
            })
            .collect(),
    }
}

/// Which output is read: the one named, else class probabilities, else the first numeric one.
fn pick_output(info: &OnnxInfo, wanted: Option<&str>) -> Result<usize, String> {
    let listing = || {
        info.outputs
            .iter()
            .map(|o| o.describe())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(w) = wanted {
        return info
            .outputs
            .iter()
            .position(|o| o.name == w)
            .ok_or_else(|| format!("the model has no output `{w}` (its outputs: {})", listing()));
    }
    let numeric = |e: Option<Elem>| matches!(e, Some(Elem::Float | Elem::Double));
    if let Some(i) = info
        .outputs
        .iter()
        .position(|o| o.name == "probabilities" && numeric(o.elem))
    {
        return Ok(i);
    }
    if let Some(i) = info
        .outputs
        .iter()
        .position(|o| numeric(o.elem) && o.dims.len() == 2 && !matches!(o.dims[1], Dim::Fixed(1)))
    {
        return Ok(i);
    }
    if let Some(i) = info.outputs.iter().position(|o| numeric(o.elem)) {
        return Ok(i);
    }
    if let Some(i) = info.outputs.iter().position(
        |o| matches!(o.elem, Some(e) if e != Elem::String && !matches!(e, Elem::Other(_))),
    ) {
        return Ok(i);
    }
    let mut msg = format!(
        "the model has no numeric output (its outputs: {})",
        listing()
    );
    if info.outputs.iter().any(|o| o.elem.is_none()) {
        msg.push_str(
            "; class probabilities as a sequence of maps come from skl2onnx's ZipMap: export with \
             `options={id(model): {'zipmap': False}}`",
        );
    }
    Err(msg)
}

/// Rows of predictions from an output tensor's shape and values.
fn to_rows(
    name: &str,
    shape: &[i64],
    values: Vec<f64>,
    rows: usize,
) -> Result<Predictions, ModelError> {
    let got = shape.first().copied().unwrap_or(1);
    if got != rows as i64 {
        return Err(ModelError::Predict(format!(
            "output `{name}` has {got} rows for {rows} input rows (shape {shape:?})"
        )));
    }
    let width = values.len().checked_div(rows).unwrap_or(0);
    if width == 0 && rows > 0 || width * rows != values.len() {
        return Err(ModelError::Predict(format!(
            "output `{name}` has {} values for {rows} rows (shape {shape:?})",
            values.len()
        )));
    }
    Ok(values.chunks(width.max(1)).map(<[f64]>::to_vec).collect())
}

// ---------------------------------------------------------------------------------------------
// Finding ONNX Runtime

/// ONNX Runtime, once loaded for the process.
struct OrtRuntime {
    path: PathBuf,
    env: ort::environment::Environment,
}

static ORT: OnceLock<Result<OrtRuntime, String>> = OnceLock::new();

fn library_names() -> &'static [&'static str] {
    if cfg!(target_os = "windows") {
        &["onnxruntime.dll"]
    } else if cfg!(target_os = "macos") {
        &["libonnxruntime.dylib"]
    } else {
        &["libonnxruntime.so"]
    }
}

/// The library inside a directory: the plain name, else a versioned one (`.so.1.20.1`).
fn library_in(dir: &Path) -> Option<PathBuf> {
    for name in library_names() {
        let p = dir.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            // `libonnxruntime.so.1.20.1` (Linux), `libonnxruntime.1.20.1.dylib` (macOS).
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("libonnxruntime.so.")
                    || n.starts_with("libonnxruntime.") && n.ends_with(".dylib")
            })
        })
        .collect();
    versioned.sort();
    versioned.pop()
}

/// The `onnxruntime` Python package's directory, asked of the Python found first.
fn python_package(looked: &mut Vec<String>) -> Option<PathBuf> {
    let mut pythons = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        pythons.push(PathBuf::from(venv).join("bin").join("python"));
    }
    pythons.push("python3".into());
    pythons.push("python".into());
    for py in pythons {
        let child = Command::new(&py)
            .args([
                "-c",
                "import os, onnxruntime; print(os.path.dirname(onnxruntime.__file__))",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(child) = child else {
            looked.push(format!(
                "the onnxruntime Python package (no `{}` to ask)",
                py.display()
            ));
            continue;
        };
        let out = match wait_with_timeout(child, Duration::from_secs(30)) {
            Some(o) => o,
            None => {
                looked.push(format!(
                    "the onnxruntime Python package (`{}` did not answer in 30 s)",
                    py.display()
                ));
                continue;
            }
        };
        if out.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            let capi = dir.join("capi");
            match library_in(&capi) {
                Some(p) => return Some(p),
                None => looked.push(format!(
                    "the onnxruntime package of `{}` at {} (no library in capi/)",
                    py.display(),
                    dir.display()
                )),
            }
        } else {
            looked.push(format!(
                "the onnxruntime Python package (`{}`: not installed)",
                py.display()
            ));
        }
    }
    None
}

fn wait_with_timeout(
    mut child: std::process::Child,
    limit: Duration,
) -> Option<std::process::Output> {
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

fn system_library(looked: &mut Vec<String>) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for var in ["LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"] {
        if let Some(v) = std::env::var_os(var) {
            dirs.extend(std::env::split_paths(&v));
        }
    }
    for d in [
        "/usr/local/lib",
        "/usr/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/opt/homebrew/lib",
    ] {
        dirs.push(d.into());
    }
    for d in &dirs {
        if let Some(p) = library_in(d) {
            return Some(p);
        }
    }
    looked.push(format!(
        "the system library {} in {}",
        library_names().join(" or "),
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    None
}

/// Find ONNX Runtime: `ORT_DYLIB_PATH`, then the `onnxruntime` Python package, then the system.
/// The error says everywhere it looked.
pub fn find_onnxruntime() -> Result<PathBuf, String> {
    let mut looked = Vec::new();
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            if p.is_file() {
                return Ok(p);
            }
            looked.push(format!("ORT_DYLIB_PATH={} (no such file)", p.display()));
        }
        _ => looked.push("ORT_DYLIB_PATH (not set)".into()),
    }
    if let Some(p) = python_package(&mut looked) {
        return Ok(p);
    }
    if let Some(p) = system_library(&mut looked) {
        return Ok(p);
    }
    Err(format!(
        "ONNX Runtime was not found; looked at: {}. Install it with `pip install onnxruntime`, \
         or set ORT_DYLIB_PATH to the library file",
        looked.join("; ")
    ))
}

fn onnxruntime() -> Result<&'static OrtRuntime, String> {
    ORT.get_or_init(|| {
        let path = find_onnxruntime()?;
        let builder = ort::init_from(&path).map_err(|e| {
            format!(
                "ONNX Runtime at {} could not be loaded: {e}",
                path.display()
            )
        })?;
        let env = builder
            .with_name("tollgate")
            .build()
            .map_err(|e| format!("ONNX Runtime at {} did not start: {e}", path.display()))?;
        Ok(OrtRuntime { path, env })
    })
    .as_ref()
    .map_err(Clone::clone)
}

// ---------------------------------------------------------------------------------------------
// Runners

/// Operators the runner cannot run, as `domain.Op`.
pub fn unsupported_ops(info: &OnnxInfo, runner: RunnerKind) -> Vec<String> {
    info.ops
        .iter()
        .filter(|(domain, op)| match runner {
            RunnerKind::Tract => !tract_supports(domain, op),
            _ => !ORT_DOMAINS.contains(&domain.as_str()),
        })
        .map(|(d, o)| format!("{d}.{o}"))
        .collect()
}

#[cfg(feature = "tract")]
fn tract_supports(domain: &str, op: &str) -> bool {
    static OPS: OnceLock<std::collections::HashSet<String>> = OnceLock::new();
    let ops = OPS.get_or_init(|| tract_onnx::onnx().op_register.0.keys().cloned().collect());
    matches!(domain, "ai.onnx" | "ai.onnx.ml") && ops.contains(op)
}

#[cfg(not(feature = "tract"))]
fn tract_supports(_domain: &str, _op: &str) -> bool {
    false
}

/// tract 0.23's binary `TreeEnsembleClassifier` gets the probabilities right but the label
/// wrong: reading that label is refused rather than answered wrongly.
fn tract_label_defect(info: &OnnxInfo, output: usize) -> bool {
    let o = &info.outputs[output];
    let integer_label = matches!(o.elem, Some(Elem::Int64 | Elem::Int32 | Elem::String));
    let binary = info.outputs.iter().any(|o| {
        matches!(o.elem, Some(Elem::Float | Elem::Double)) && o.dims.get(1) == Some(&Dim::Fixed(2))
    });
    integer_label
        && binary
        && info
            .ops
            .iter()
            .any(|(d, op)| d == "ai.onnx.ml" && op == "TreeEnsembleClassifier")
}

enum Backend {
    Ort(Mutex<ort::session::Session>),
    #[cfg(feature = "tract")]
    Tract(TractModel),
}

/// An ONNX model file with the engine that runs it.
pub struct OnnxModel {
    path: PathBuf,
    info: OnnxInfo,
    output: usize,
    backend: Backend,
    runner: &'static str,
    batch_size: usize,
}

impl OnnxModel {
    /// Load a model file. `output` names the output to read (default: class probabilities,
    /// else the first numeric output).
    pub fn load(
        path: &Path,
        runner: RunnerKind,
        output: Option<&str>,
        batch_size: usize,
    ) -> Result<OnnxModel, ModelError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ModelError::Load(format!("cannot read {}: {e}", path.display())))?;
        let info = onnx_proto::parse(&bytes).map_err(|e| {
            ModelError::Load(format!("{} is not a valid ONNX model: {e}", path.display()))
        })?;
        let out = pick_output(&info, output)
            .map_err(|e| ModelError::Load(format!("{}: {e}", path.display())))?;
        let unsupported_by = |kind| unsupported_ops(&info, kind);
        let use_ort = match runner {
            RunnerKind::OnnxRuntime => {
                onnxruntime().map_err(ModelError::Load)?;
                true
            }
            RunnerKind::Tract => false,
            RunnerKind::Auto => match onnxruntime() {
                Ok(_) => true,
                Err(why) if !cfg!(feature = "tract") => return Err(ModelError::Load(why)),
                Err(why) => {
                    let missing = unsupported_by(RunnerKind::Tract);
                    if !missing.is_empty() {
                        return Err(ModelError::Load(format!(
                            "{}: tract (the fallback) does not support the operators {}, and {why}",
                            path.display(),
                            missing.join(", ")
                        )));
                    }
                    false
                }
            },
        };
        let kind = if use_ort {
            RunnerKind::OnnxRuntime
        } else {
            RunnerKind::Tract
        };
        let missing = unsupported_by(kind);
        if !missing.is_empty() {
            return Err(ModelError::Load(format!(
                "{}: {} does not support the operators {}{}",
                path.display(),
                if use_ort { "ONNX Runtime" } else { "tract" },
                missing.join(", "),
                if use_ort {
                    ""
                } else {
                    "; use `runner: onnxruntime`"
                }
            )));
        }
        if !use_ort && tract_label_defect(&info, out) {
            return Err(ModelError::Load(format!(
                "{}: tract answers wrong class labels for binary TreeEnsembleClassifier models \
                 (tollgate's tests against scikit-learn found a third of them wrong); read the \
                 class probabilities (the default output, with `probability_of: 1`), or use \
                 `runner: onnxruntime`",
                path.display()
            )));
        }
        let batch_size = batch_size.max(1);
        let (backend, runner) = if use_ort {
            (
                Backend::Ort(Mutex::new(ort_session(path, &bytes)?)),
                "onnxruntime",
            )
        } else {
            (tract_backend(path, &bytes, &info)?, "tract")
        };
        Ok(OnnxModel {
            path: path.to_path_buf(),
            info,
            output: out,
            backend,
            runner,
            batch_size,
        })
    }

    /// What the file declares.
    pub fn info(&self) -> &OnnxInfo {
        &self.info
    }

    /// `onnxruntime` or `tract`.
    pub fn runner(&self) -> &'static str {
        self.runner
    }

    fn predict_batch(&self, x: &Features) -> Result<Predictions, ModelError> {
        let feeds = feeds(&self.info, x)?;
        let out = &self.info.outputs[self.output].name;
        let (shape, values) = match &self.backend {
            Backend::Ort(session) => ort_run(session, feeds, out)?,
            #[cfg(feature = "tract")]
            Backend::Tract(t) => t.run(&self.info, feeds, self.output)?,
        };
        to_rows(out, &shape, values, x.rows())
    }
}

impl Model for OnnxModel {
    fn predict(&self, x: &Features) -> Result<Predictions, ModelError> {
        let rows = x.rows();
        let progress = &tollgate_core::progress::PROGRESS;
        progress.expect(Some(rows as u64));
        if rows <= self.batch_size {
            let out = self.predict_batch(x);
            progress.add_rows(rows as u64);
            return out;
        }
        let mut out = Vec::with_capacity(rows);
        for start in (0..rows).step_by(self.batch_size) {
            let end = (start + self.batch_size).min(rows);
            let part = self
                .predict_batch(&x.slice(start, end))
                .map_err(|e| match e {
                    ModelError::Predict(m) => ModelError::Predict(format!(
                        "{m} (in the batch of rows {}..{})",
                        start + 1,
                        end
                    )),
                    other => other,
                })?;
            out.extend(part);
            progress.add_rows((end - start) as u64);
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        format!("ONNX model {} on {}", self.path.display(), self.runner)
    }

    fn signature(&self) -> Result<Option<Vec<(String, bool)>>, ModelError> {
        Ok(Some(
            self.info
                .inputs
                .iter()
                .map(|i| (i.name.clone(), i.elem.is_some_and(Elem::is_text)))
                .collect(),
        ))
    }

    fn signature_problems(&self, x: &Features) -> Result<Option<SignatureReport>, ModelError> {
        let declared = self.info.inputs.iter().map(|i| i.describe()).collect();
        let problems = layout(&self.info, x).err().unwrap_or_default();
        Ok(Some((declared, problems)))
    }
}

// ---------------------------------------------------------------------------------------------
// ONNX Runtime

fn ort_session(path: &Path, bytes: &[u8]) -> Result<ort::session::Session, ModelError> {
    let rt = onnxruntime().map_err(ModelError::Load)?;
    let fail = |e: String| {
        ModelError::Load(format!(
            "ONNX Runtime ({}) cannot load {}: {e}",
            rt.path.display(),
            path.display()
        ))
    };
    let mut builder = ort::session::Session::builder(&rt.env).map_err(|e| fail(e.to_string()))?;
    builder
        .commit_from_memory(bytes)
        .map_err(|e| fail(e.to_string()))
}

fn ort_run(
    session: &Mutex<ort::session::Session>,
    feeds: Vec<Feed>,
    output: &str,
) -> Result<(Vec<i64>, Vec<f64>), ModelError> {
    use ort::value::{DynValue, Tensor};
    let fail = |e: ort::Error| ModelError::Predict(format!("ONNX Runtime: {e}"));
    let mut inputs: Vec<(String, DynValue)> = Vec::with_capacity(feeds.len());
    for f in feeds {
        let shape = f.shape;
        let v: DynValue = match f.data {
            Data::F32(v) => Tensor::from_array((shape, v)).map_err(fail)?.into_dyn(),
            Data::F64(v) => Tensor::from_array((shape, v)).map_err(fail)?.into_dyn(),
            Data::I64(v) => Tensor::from_array((shape, v)).map_err(fail)?.into_dyn(),
            Data::I32(v) => Tensor::from_array((shape, v)).map_err(fail)?.into_dyn(),
            Data::Bool(v) => Tensor::from_array((shape, v)).map_err(fail)?.into_dyn(),
            Data::Str(v) => Tensor::from_string_array((shape, v.as_slice()))
                .map_err(fail)?
                .into_dyn(),
        };
        inputs.push((f.name, v));
    }
    let mut session = session.lock().map_err(|_| {
        ModelError::Predict("ONNX Runtime session poisoned by an earlier panic".into())
    })?;
    let outputs = session.run(inputs).map_err(fail)?;
    let value = outputs.get(output).ok_or_else(|| {
        ModelError::Predict(format!("ONNX Runtime returned no output `{output}`"))
    })?;
    macro_rules! extract {
        ($($t:ty),*) => {{
            $(
                if let Ok((shape, data)) = value.try_extract_tensor::<$t>() {
                    return Ok((shape.to_vec(), data.iter().map(|&v| v as f64).collect()));
                }
            )*
        }};
    }
    extract!(f32, f64, i64, i32);
    if let Ok((shape, data)) = value.try_extract_tensor::<bool>() {
        return Ok((
            shape.to_vec(),
            data.iter().map(|&v| f64::from(u8::from(v))).collect(),
        ));
    }
    Err(ModelError::Predict(format!(
        "output `{output}` is not a numeric tensor ({:?})",
        value.dtype()
    )))
}

// ---------------------------------------------------------------------------------------------
// tract

#[cfg(feature = "tract")]
type TractPlan = Arc<tract_onnx::prelude::TypedRunnableModel>;

/// A tract model, optimised once per batch size (tract is fastest with fixed shapes; a run
/// sees two or three sizes: the batch, the last partial batch, single rows).
#[cfg(feature = "tract")]
struct TractModel {
    model: tract_onnx::prelude::InferenceModel,
    plans: Mutex<HashMap<usize, TractPlan>>,
}

#[cfg(feature = "tract")]
fn tract_backend(path: &Path, bytes: &[u8], _info: &OnnxInfo) -> Result<Backend, ModelError> {
    use tract_onnx::prelude::*;
    let mut reader = std::io::Cursor::new(bytes);
    let model = tract_onnx::onnx()
        .model_for_read(&mut reader)
        .map_err(|e| ModelError::Load(format!("tract cannot load {}: {e:#}", path.display())))?;
    Ok(Backend::Tract(TractModel {
        model,
        plans: Mutex::new(HashMap::new()),
    }))
}

#[cfg(not(feature = "tract"))]
fn tract_backend(path: &Path, _bytes: &[u8], _info: &OnnxInfo) -> Result<Backend, ModelError> {
    Err(ModelError::Load(format!(
        "{}: this tollgate was built without tract (the `tract` feature)",
        path.display()
    )))
}

#[cfg(feature = "tract")]
impl TractModel {
    fn plan(&self, info: &OnnxInfo, feeds: &[Feed]) -> Result<TractPlan, ModelError> {
        use tract_onnx::prelude::*;
        let rows = feeds
            .first()
            .and_then(|f| f.shape.first())
            .copied()
            .unwrap_or(0);
        let mut plans = self
            .plans
            .lock()
            .map_err(|_| ModelError::Predict("tract plan cache poisoned".into()))?;
        if let Some(p) = plans.get(&rows) {
            return Ok(p.clone());
        }
        let fail = |e: anyhow_like::Error| ModelError::Load(format!("tract: {e:#}"));
        let mut model = self.model.clone();
        for (i, (f, input)) in feeds.iter().zip(&info.inputs).enumerate() {
            let dt = match f.data {
                Data::F32(_) => f32::datum_type(),
                Data::F64(_) => f64::datum_type(),
                Data::I64(_) => i64::datum_type(),
                Data::I32(_) => i32::datum_type(),
                Data::Bool(_) => bool::datum_type(),
                Data::Str(_) => String::datum_type(),
            };
            debug_assert_eq!(f.name, input.name);
            model
                .set_input_fact(i, InferenceFact::dt_shape(dt, f.shape.clone()))
                .map_err(fail)?;
        }
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(fail)?;
        if plans.len() >= 8 {
            plans.clear();
        }
        plans.insert(rows, plan.clone());
        Ok(plan)
    }

    fn run(
        &self,
        info: &OnnxInfo,
        feeds: Vec<Feed>,
        output: usize,
    ) -> Result<(Vec<i64>, Vec<f64>), ModelError> {
        use tract_onnx::prelude::*;
        let plan = self.plan(info, &feeds)?;
        let fail = |e: anyhow_like::Error| ModelError::Predict(format!("tract: {e:#}"));
        let mut inputs: TVec<TValue> = TVec::new();
        for f in feeds {
            let t = match f.data {
                Data::F32(v) => Tensor::from_shape(&f.shape, &v),
                Data::F64(v) => Tensor::from_shape(&f.shape, &v),
                Data::I64(v) => Tensor::from_shape(&f.shape, &v),
                Data::I32(v) => Tensor::from_shape(&f.shape, &v),
                Data::Bool(v) => Tensor::from_shape(&f.shape, &v),
                Data::Str(v) => tract_ndarray::ArrayD::from_shape_vec(f.shape.clone(), v)
                    .map(Tensor::from)
                    .map_err(|e| TractError::msg(e.to_string())),
            }
            .map_err(fail)?;
            inputs.push(t.into_tvalue());
        }
        let outputs = plan.run(inputs).map_err(fail)?;
        let t = outputs.get(output).ok_or_else(|| {
            ModelError::Predict(format!("tract returned no output number {output}"))
        })?;
        let shape: Vec<i64> = t.shape().iter().map(|&d| d as i64).collect();
        let t64 = t
            .cast_to::<f64>()
            .map_err(|e| ModelError::Predict(format!("tract: output is not numeric: {e:#}")))?;
        let values = t64
            .to_plain_array_view::<f64>()
            .map_err(fail)?
            .iter()
            .copied()
            .collect();
        Ok((shape, values))
    }
}

#[cfg(feature = "tract")]
mod anyhow_like {
    pub type Error = tract_onnx::prelude::TractError;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx_proto::ValueInfo;

    fn input(name: &str, elem: Elem, dims: Vec<Dim>) -> ValueInfo {
        ValueInfo {
            name: name.into(),
            elem: Some(elem),
            dims,
            kind: "tensor",
        }
    }

    fn info(inputs: Vec<ValueInfo>) -> OnnxInfo {
        OnnxInfo {
            inputs,
            outputs: vec![input(
                "probabilities",
                Elem::Float,
                vec![Dim::Unknown, Dim::Fixed(2)],
            )],
            ..OnnxInfo::default()
        }
    }

    fn features(cols: Vec<(&str, FeatureColumn)>) -> Features {
        Features {
            names: cols.iter().map(|(n, _)| n.to_string()).collect(),
            columns: cols.into_iter().map(|(_, c)| c).collect(),
        }
    }

    #[test]
    fn one_matrix_input_takes_the_columns_row_major() {
        let i = info(vec![input(
            "X",
            Elem::Float,
            vec![Dim::Unknown, Dim::Fixed(2)],
        )]);
        let x = features(vec![
            ("a", FeatureColumn::Num(vec![Some(1.0), Some(2.0)])),
            ("b", FeatureColumn::Num(vec![Some(10.0), None])),
        ]);
        let f = feeds(&i, &x).expect("feeds");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].shape, vec![2, 2]);
        match &f[0].data {
            Data::F32(v) => {
                assert_eq!(&v[..3], &[1.0, 10.0, 2.0]);
                assert!(v[3].is_nan(), "a null number is NaN for a float input");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn named_inputs_are_matched_by_name_whatever_the_order() {
        let i = info(vec![
            input("Sex", Elem::String, vec![Dim::Unknown, Dim::Fixed(1)]),
            input("Pclass", Elem::Int64, vec![Dim::Unknown, Dim::Fixed(1)]),
        ]);
        let x = features(vec![
            ("Pclass", FeatureColumn::Num(vec![Some(3.0)])),
            ("Sex", FeatureColumn::Text(vec![Some("male".into())])),
        ]);
        let f = feeds(&i, &x).expect("feeds");
        assert_eq!(f[0].name, "Sex");
        assert_eq!(f[0].data, Data::Str(vec!["male".into()]));
        assert_eq!(f[1].data, Data::I64(vec![3]));
        assert_eq!(f[1].shape, vec![1, 1]);
    }

    #[test]
    fn mismatches_are_all_named() {
        let i = info(vec![input(
            "X",
            Elem::Float,
            vec![Dim::Unknown, Dim::Fixed(3)],
        )]);
        let x = features(vec![
            ("a", FeatureColumn::Num(vec![Some(1.0)])),
            ("name", FeatureColumn::Text(vec![Some("x".into())])),
        ]);
        let p = layout(&i, &x).expect_err("mismatch");
        assert!(p[0].contains("takes 3 column(s) but 2 are fed"), "{p:?}");
        assert!(
            p[1].contains("`name`") && p[1].contains("text in the data"),
            "{p:?}"
        );

        let i = info(vec![
            input("Sex", Elem::String, vec![Dim::Unknown, Dim::Fixed(1)]),
            input("Age", Elem::Float, vec![Dim::Unknown, Dim::Fixed(1)]),
        ]);
        let x = features(vec![
            ("Sex", FeatureColumn::Num(vec![Some(1.0)])),
            ("Fare", FeatureColumn::Num(vec![Some(1.0)])),
        ]);
        let p = layout(&i, &x).expect_err("mismatch").join("\n");
        assert!(
            p.contains("`Sex` is text for the model but numbers in the data"),
            "{p}"
        );
        assert!(
            p.contains("the model takes `Age: float[?, 1]`, which it is not fed"),
            "{p}"
        );
        assert!(
            p.contains("`Fare` is fed but the model does not declare it"),
            "{p}"
        );
    }

    #[test]
    fn integer_inputs_refuse_nulls_and_fractions_naming_the_row() {
        let i = info(vec![input(
            "X",
            Elem::Int64,
            vec![Dim::Unknown, Dim::Fixed(1)],
        )]);
        for (v, what) in [(None, "null at row 2"), (Some(2.5), "2.5 at row 2")] {
            let x = features(vec![("a", FeatureColumn::Num(vec![Some(1.0), v]))]);
            let e = feeds(&i, &x).expect_err("refused").to_string();
            assert!(e.contains(what), "{e}");
        }
    }

    #[test]
    fn the_output_defaults_to_probabilities_and_zipmap_gets_a_hint() {
        let mut i = info(vec![]);
        i.outputs
            .insert(0, input("label", Elem::Int64, vec![Dim::Unknown]));
        assert_eq!(pick_output(&i, None), Ok(1));
        assert_eq!(pick_output(&i, Some("label")), Ok(0));
        assert!(pick_output(&i, Some("nope")).is_err_and(|e| e.contains("label: int64[?]")));
        i.outputs = vec![
            input("label", Elem::String, vec![Dim::Unknown]),
            ValueInfo {
                name: "output_probability".into(),
                elem: None,
                dims: vec![],
                kind: "sequence",
            },
        ];
        assert!(pick_output(&i, None).is_err_and(|e| e.contains("zipmap")));
    }

    #[test]
    fn output_rows_must_match_input_rows() {
        assert_eq!(
            to_rows("p", &[2, 2], vec![0.1, 0.9, 0.8, 0.2], 2).expect("rows"),
            vec![vec![0.1, 0.9], vec![0.8, 0.2]]
        );
        assert!(to_rows("p", &[3, 1], vec![1.0, 2.0, 3.0], 2).is_err());
        assert!(to_rows("p", &[2, 1], vec![1.0, 2.0, 3.0], 2).is_err());
    }
}
