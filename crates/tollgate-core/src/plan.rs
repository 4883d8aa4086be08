//! The plan file (`tollgate.yaml`) and standalone suite files, decoded from a positioned YAML
//! tree. Every problem is collected (not just the first) with its line and column.

use std::collections::BTreeMap;

use crate::catalog::{self, Scope};
use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::finding::Severity;
use crate::yaml::{self, Key, Node, NodeKind, Pos};

/// A literal value in a plan: a bound, a set member.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text (also dates and timestamps, written as ISO text).
    Str(String),
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// The value as f64 when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Scalar::Int(i) => (*i).into(),
            Scalar::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(f.to_string())),
            Scalar::Str(s) => s.clone().into(),
            Scalar::Bool(b) => (*b).into(),
        }
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Str(s) => write!(f, "{s:?}"),
            Scalar::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Bounds on a number (or date, or string) computed from the data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bound {
    /// Lower bound.
    pub min: Option<Scalar>,
    /// Upper bound.
    pub max: Option<Scalar>,
    /// Lower bound excluded.
    pub strict_min: bool,
    /// Upper bound excluded.
    pub strict_max: bool,
}

impl Bound {
    /// The bound as a sentence fragment: "between 1 and 3", ">= 0", "= 5".
    pub fn describe(&self) -> String {
        match (&self.min, &self.max) {
            (Some(a), Some(b)) if a == b && !self.strict_min && !self.strict_max => {
                format!("= {a}")
            }
            (Some(a), Some(b)) => format!(
                "in {}{a}, {b}{}",
                if self.strict_min { "(" } else { "[" },
                if self.strict_max { ")" } else { "]" }
            ),
            (Some(a), None) => format!("{} {a}", if self.strict_min { ">" } else { ">=" }),
            (None, Some(b)) => format!("{} {b}", if self.strict_max { "<" } else { "<=" }),
            (None, None) => "any value".into(),
        }
    }
}

/// Which comparison of two columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `=`
    Eq,
    /// `!=`
    Ne,
}

impl CompareOp {
    /// SQL spelling.
    pub fn sql(self) -> &'static str {
        match self {
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
        }
    }
}

/// How `distinct_values` compares the distinct set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// Every distinct value is in the set.
    In,
    /// The distinct values include every member of the set.
    Contain,
    /// The distinct values are exactly the set.
    Equals,
}

/// What a check checks; parameters only, no execution.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CheckKind {
    /// Number of rows.
    RowCount(Bound),
    /// Number of columns.
    ColumnCount(Bound),
    /// Column names.
    Columns {
        /// The whole set (or list, when ordered).
        exact: Option<Vec<String>>,
        /// Must exist.
        include: Vec<String>,
        /// Must not exist.
        exclude: Vec<String>,
        /// `exact` is an ordered list.
        ordered: bool,
    },
    /// Uniqueness of a combination of columns.
    CompoundUnique(Vec<String>),
    /// Column type.
    Type(String),
    /// Not null.
    NotNull,
    /// Null fraction within bounds.
    NullFraction(Bound),
    /// Unique values.
    Unique,
    /// Values in range.
    Between(Bound),
    /// Values in a set.
    InSet(Vec<Scalar>),
    /// Values not in a set.
    NotInSet(Vec<Scalar>),
    /// Values match a regex.
    Matches(String),
    /// Values do not match a regex.
    NotMatches(String),
    /// String length within bounds.
    Length(Bound),
    /// Monotonic non-decreasing (or increasing when strict).
    Increasing {
        /// `>` instead of `>=`.
        strict: bool,
    },
    /// Monotonic non-increasing (or decreasing when strict).
    Decreasing {
        /// `<` instead of `<=`.
        strict: bool,
    },
    /// Strings parse with a strftime format.
    DateFormat(String),
    /// Minimum value.
    Min(Bound),
    /// Maximum value.
    Max(Bound),
    /// Mean.
    Mean(Bound),
    /// Median.
    Median(Bound),
    /// Sample standard deviation.
    Stdev(Bound),
    /// Sum.
    Sum(Bound),
    /// Quantiles, each with bounds.
    Quantiles(Vec<(f64, Bound)>),
    /// Distinct count.
    DistinctCount(Bound),
    /// Distinct / non-null.
    UniqueFraction(Bound),
    /// Most common value in a set.
    MostCommonInSet {
        /// The set.
        values: Vec<Scalar>,
        /// One of several tied values in the set is enough.
        ties_okay: bool,
    },
    /// Distinct values vs a set.
    DistinctValues {
        /// How to compare.
        mode: SetMode,
        /// The set.
        values: Vec<Scalar>,
    },
    /// Two columns compared row by row.
    Compare {
        /// Left column.
        left: String,
        /// Operator.
        op: CompareOp,
        /// Right column.
        right: String,
    },
    /// Sum of columns equals a total in every row.
    SumEquals {
        /// The columns.
        columns: Vec<String>,
        /// The total.
        total: f64,
    },
    /// A SQL boolean expression over a row.
    Condition(String),
    /// A SQL aggregate with bounds.
    Aggregate {
        /// The aggregate expression.
        sql: String,
        /// Its bounds.
        bound: Bound,
    },
    /// A column exists (at a position, when given).
    ColumnExists {
        /// The column.
        column: String,
        /// Its 0-based position.
        index: Option<usize>,
    },
    /// Values are null.
    Null,
    /// Fraction of non-null values within bounds.
    NonNullFraction(Bound),
    /// Values match any (or all) of several regexes; `negate`: match none.
    RegexList {
        /// The patterns.
        patterns: Vec<String>,
        /// All must match (instead of any).
        all: bool,
        /// Match none of them.
        negate: bool,
    },
    /// SQL LIKE patterns, as `RegexList`.
    Like {
        /// The patterns.
        patterns: Vec<String>,
        /// All must match (instead of any).
        all: bool,
        /// Match none of them.
        negate: bool,
    },
    /// Strings parse as a date or time in a common format.
    DateParseable,
    /// Strings parse as JSON.
    JsonParseable,
    /// Strings are JSON documents satisfying a JSON Schema.
    JsonSchema(serde_json::Value),
    /// The column's type is one of these (GX / pandas / Arrow names).
    TypeList(Vec<String>),
    /// |z-score| (or z-score) of every value is below a threshold.
    ZScore {
        /// The threshold.
        threshold: f64,
        /// Compare |z| instead of z.
        double_sided: bool,
    },
    /// Pairs of values of two columns are in a set of pairs.
    PairInSet {
        /// First column.
        left: String,
        /// Second column.
        right: String,
        /// The allowed pairs.
        pairs: Vec<(Option<Scalar>, Option<Scalar>)>,
    },
    /// Within each row, the listed columns hold distinct values.
    UniqueWithinRecord(Vec<String>),
    /// Within each row, the listed columns hold equal values.
    EqualWithinRecord(Vec<String>),
    /// KL divergence from a partition object (a histogram or categorical weights).
    KlDivergence {
        /// GX's `partition_object` (`bins` + `weights`, or `values` + `weights`).
        partition: serde_json::Value,
        /// Fail above this divergence (no verdict when absent).
        threshold: Option<f64>,
        /// Weight spread over empty internal bins.
        internal_holdout: f64,
        /// Weight put on the two open tails.
        tail_holdout: f64,
    },
}

/// How much of the failing values a check reports (GX `result_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    /// Only the verdict.
    BooleanOnly,
    /// Counts and up to N values.
    Basic(usize),
    /// Counts, up to N values and rows.
    Summary(usize),
    /// Every failing value and row.
    Complete,
}

impl ResultFormat {
    /// How many failing rows to sample.
    pub fn sample_size(self) -> usize {
        match self {
            ResultFormat::BooleanOnly => 0,
            ResultFormat::Basic(n) | ResultFormat::Summary(n) => n,
            ResultFormat::Complete => 100_000,
        }
    }
}

/// One declared check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckDecl {
    /// Native name (catalogue name).
    pub check: &'static str,
    /// Where it is written.
    pub pos: Pos,
    /// The column it applies to (column checks).
    pub column: Option<String>,
    /// Parameters.
    pub kind: CheckKind,
    /// Fraction of non-null values that must pass (value checks).
    pub mostly: Option<f64>,
    /// Severity.
    pub severity: Severity,
    /// The user's name for it (rows and aggregates).
    pub name: Option<String>,
    /// The Great Expectations type it was written as, for imported expectations.
    pub gx_type: Option<String>,
    /// A SQL condition: only rows where it holds are checked (GX `row_condition`).
    pub filter: Option<String>,
    /// GX `ignore_row_if` for checks over several columns.
    pub ignore_row_if: Option<String>,
    /// GX `result_format`.
    pub result_format: Option<ResultFormat>,
}

/// A data suite.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteDecl {
    /// The suite's name.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// The source it runs on (plan suites); `None` in a standalone suite file.
    pub source: Option<String>,
    /// Columns shown first in samples of failing rows.
    pub id_columns: Vec<String>,
    /// How many failing rows to show per check.
    pub sample_size: usize,
    /// Severity applied to checks that do not set one.
    pub severity: Severity,
    /// The checks, in file order.
    pub checks: Vec<CheckDecl>,
}

/// Data file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma (or other delimiter) separated values.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Newline-delimited JSON.
    Json,
    /// Arrow IPC file.
    Arrow,
}

impl Format {
    /// Guess the format from a file name (compression suffixes are looked through).
    pub fn from_path(path: &str) -> Option<Format> {
        let lower = path.to_lowercase();
        let stem = lower
            .strip_suffix(".gz")
            .or_else(|| lower.strip_suffix(".zst"))
            .or_else(|| lower.strip_suffix(".zstd"))
            .or_else(|| lower.strip_suffix(".bz2"))
            .or_else(|| lower.strip_suffix(".xz"))
            .unwrap_or(&lower);
        let ext = stem.rsplit('.').next()?;
        match ext {
            "csv" | "tsv" | "txt" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            "json" | "jsonl" | "ndjson" => Some(Format::Json),
            "arrow" | "ipc" | "feather" => Some(Format::Arrow),
            _ => None,
        }
    }

    /// Parse a `format:` value.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "csv" | "tsv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            "json" | "jsonl" | "ndjson" => Some(Format::Json),
            "arrow" | "ipc" | "feather" => Some(Format::Arrow),
            _ => None,
        }
    }
}

/// CSV reading options.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvOptions {
    /// Field delimiter (default `,`, or tab for `.tsv`).
    pub delimiter: Option<u8>,
    /// First line is a header (default true).
    pub header: Option<bool>,
    /// Quote character (default `"`).
    pub quote: Option<u8>,
    /// Escape character (default none: quotes are doubled).
    pub escape: Option<u8>,
    /// A text that means null (default: empty field).
    pub null_value: Option<String>,
    /// Quoted values may hold line breaks (default false: files are then read in parallel
    /// byte ranges).
    pub newlines_in_values: Option<bool>,
}

/// A data source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDecl {
    /// Its name in the plan.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// A file, a glob, or a directory of part files, relative to the plan file.
    pub path: String,
    /// The format, when not guessed from the extension.
    pub format: Option<Format>,
    /// CSV options.
    pub csv: CsvOptions,
    /// A PostgreSQL table instead of files (`path` is then `schema.table`, for messages).
    pub postgres: Option<PgSourceDecl>,
}

impl SourceDecl {
    /// A file source (a file, a glob or a directory), its format and CSV options inferred.
    pub fn file(name: &str, path: &str) -> SourceDecl {
        SourceDecl {
            name: name.to_string(),
            pos: Pos::default(),
            path: path.to_string(),
            format: None,
            csv: CsvOptions::default(),
            postgres: None,
        }
    }
}

/// A PostgreSQL table checked in place (`postgres: { url_env, table }`): suites run as SQL
/// inside the database.
#[derive(Debug, Clone, PartialEq)]
pub struct PgSourceDecl {
    /// The environment variable holding the `postgres://user:pass@host/db` URL (the URL itself
    /// never appears in the plan, so the password is not written down).
    pub url_env: String,
    /// The table, `schema.table` or `table` (schema `public`).
    pub table: String,
}

/// A decoded plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Sources by name, in file order.
    pub sources: Vec<SourceDecl>,
    /// Suites by name, in file order.
    pub suites: Vec<SuiteDecl>,
    /// Evaluations by name, in file order.
    pub evaluations: Vec<EvaluationDecl>,
    /// Models by name.
    pub models: Vec<ModelDecl>,
    /// Model smoke checks by name.
    pub model_checks: Vec<ModelCheckDecl>,
    /// Behavioural tests by name.
    pub behaviours: Vec<BehaviourDecl>,
    /// Pre-train checks by name.
    pub pretrains: Vec<PretrainDecl>,
    /// Drift tests by name.
    pub drifts: Vec<DriftDecl>,
    /// Diffs by name.
    pub diffs: Vec<DiffDecl>,
    /// Where suites run (`engine:`): `local`, `ballista:standalone` or `ballista://HOST[:PORT]`.
    /// `None`: here. The command line's `--engine` wins.
    pub engine: Option<String>,
}

/// The drift methods `method:` accepts.
pub const DRIFT_METHODS: &[&str] = &["auto", "ks", "chi2", "wasserstein", "psi", "js", "linf"];

/// A column's own drift method and threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDriftDecl {
    /// The column.
    pub column: String,
    /// Its method (`None`: the test's).
    pub method: Option<String>,
    /// Its threshold (`None`: the method's default).
    pub threshold: Option<f64>,
}

/// Drift between two sources, column by column (`drift:`).
#[derive(Debug, Clone, PartialEq)]
pub struct DriftDecl {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// The reference source.
    pub reference: String,
    /// The current source.
    pub current: String,
    /// Default method for every column.
    pub method: String,
    /// Default threshold (`None`: the method's).
    pub threshold: Option<f64>,
    /// Columns compared (empty: every column both sides have).
    pub columns: Vec<String>,
    /// Columns left out.
    pub ignore: Vec<String>,
    /// Per-column methods and thresholds.
    pub per_column: Vec<ColumnDriftDecl>,
    /// The dataset drifts when at least this share of columns drift.
    pub max_drifted_share: f64,
    /// Multiple-testing correction for p-value methods: `none`, `bonferroni` or `bh`.
    pub correction: String,
    /// Severity.
    pub severity: Severity,
}

/// A diff between an expected and an actual dataset (`diffs:`).
#[derive(Debug, Clone, PartialEq)]
pub struct DiffDecl {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// The expected data: a source name, or a path relative to the plan.
    pub expected: String,
    /// The actual data: a source name, or a path relative to the plan.
    pub actual: String,
    /// Key columns rows are matched on.
    pub key: Vec<String>,
    /// Compare only these columns (empty: all).
    pub columns: Vec<String>,
    /// Columns left out.
    pub ignore: Vec<String>,
    /// Absolute tolerance of numbers.
    pub abs: f64,
    /// Relative tolerance of numbers (relative to the expected value).
    pub rel: f64,
    /// Per-column tolerances: (column, abs, rel).
    pub per_column: Vec<(String, f64, f64)>,
    /// Whether columns only in the actual data are differences (`added_columns: error`, the
    /// default) or not (`ignore`).
    pub added_columns_ignored: bool,
    /// Differing rows shown per kind of difference.
    pub samples: usize,
    /// Severity.
    pub severity: Severity,
}

/// One pre-train check as written.
#[derive(Debug, Clone, PartialEq)]
pub enum PretrainCheckDecl {
    /// `output_shape`, `probabilities_valid`, `deterministic_with_seed`.
    Named(String),
    /// `overfits_tiny_sample: { rows }`.
    Overfit {
        /// Rows in the tiny sample.
        rows: usize,
    },
    /// `capacity_monotone: { param, values, metrics, on, tolerance }`.
    Capacity {
        /// The hyperparameter.
        param: String,
        /// Its values, growing.
        values: Vec<f64>,
        /// Metrics watched.
        metrics: Vec<String>,
        /// On the held-out source.
        on_test: bool,
        /// Largest allowed fall.
        tolerance: f64,
    },
    /// `no_train_test_leakage: { key, ignore }`.
    Leakage {
        /// Columns that identify a row (empty: all columns but `ignore`).
        key: Vec<String>,
        /// Columns left out of the comparison.
        ignore: Vec<String>,
    },
    /// `training_time: { runs, p95_s }`.
    TrainingTime {
        /// Trainings timed.
        runs: usize,
        /// Budget on the 95th percentile, seconds.
        p95_s: Option<f64>,
    },
    /// `metrics: { on, NAME: { at_least, at_most } }`.
    Metrics {
        /// (metric, at least, at most).
        bounds: Vec<(String, Option<f64>, Option<f64>)>,
        /// On the held-out source.
        on_test: bool,
    },
}

/// Names of the pre-train checks.
pub const PRETRAIN_CHECKS: &[&str] = &[
    "output_shape",
    "probabilities_valid",
    "overfits_tiny_sample",
    "capacity_monotone",
    "deterministic_with_seed",
    "no_train_test_leakage",
    "training_time",
    "metrics",
];

/// Pre-train checks of training code (`pretrain:`).
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainDecl {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// The declared ONNX model whose inputs and output the trained file takes.
    pub model: String,
    /// Training rows.
    pub source: String,
    /// Held-out rows.
    pub test: Option<String>,
    /// The label column.
    pub label: String,
    /// The training command, with `{data}`, `{model}`, `{seed}` and `{param.NAME}`.
    pub command: Vec<String>,
    /// Hyperparameters (`{param.NAME}`).
    pub params: Vec<(String, f64)>,
    /// The seed.
    pub seed: u64,
    /// Longest time one training may take, seconds.
    pub timeout_s: f64,
    /// Rows the shape checks train on.
    pub small_rows: usize,
    /// The checks, in order.
    pub checks: Vec<PretrainCheckDecl>,
    /// Severity.
    pub severity: Severity,
}

/// The perturbations `perturb:` accepts.
pub const PERTURBATIONS: &[&str] = &[
    "set",
    "replace",
    "shift",
    "scale",
    "noise",
    "set_null",
    "shuffle",
    "swap",
    "map",
    "case",
    "whitespace",
    "typo",
];

/// What a behavioural test expects of the score.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectDecl {
    /// Invariance: |after - before| <= tolerance.
    Unchanged {
        /// Largest allowed change.
        tolerance: f64,
    },
    /// Directional: the score rises (or falls) by more than `min_delta` (at least, when not
    /// strict).
    Direction {
        /// `true` for `increase`, `false` for `decrease`.
        up: bool,
        /// The change required.
        min_delta: f64,
        /// Whether a change of exactly `min_delta` breaks the expectation.
        strict: bool,
    },
}

/// One minimum-functionality case: a row and what the model must answer for it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDecl {
    /// Where it is written.
    pub pos: Pos,
    /// Raw column values (columns left out are null).
    pub row: serde_json::Map<String, serde_json::Value>,
    /// The class expected (the score against the threshold), if given.
    pub label: Option<f64>,
    /// Bounds on the score, if given.
    pub score: Option<(Option<f64>, Option<f64>)>,
}

/// A behavioural test (`behaviour:`): perturb rows and expect the score to hold or move, or
/// run a table of cases.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviourDecl {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// The model.
    pub model: String,
    /// The source whose rows are perturbed (and whose columns the cases take).
    pub source: String,
    /// Only rows where this SQL condition holds.
    pub where_sql: Option<String>,
    /// Perturbations in order: (kind, arguments as JSON, position).
    pub perturb: Vec<(String, serde_json::Value, Pos)>,
    /// The expectation for perturbations.
    pub expect: Option<ExpectDecl>,
    /// Minimum-functionality cases.
    pub cases: Vec<CaseDecl>,
    /// Score threshold for `label` cases.
    pub threshold: f64,
    /// Share of rows (or cases) that must meet the expectation.
    pub mostly: f64,
    /// Seed of the random perturbations.
    pub seed: u64,
    /// Use at most this many rows.
    pub rows: Option<usize>,
    /// Severity.
    pub severity: Severity,
}

/// How a model is run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunnerDecl {
    /// A command reading a batch on stdin, writing one prediction per line.
    Command {
        /// Program and arguments.
        argv: Vec<String>,
        /// `csv` or `jsonl`.
        wire: String,
        /// Seconds one batch may take.
        timeout_s: f64,
        /// Rows per call.
        batch_size: usize,
    },
    /// An ONNX model file, run in process.
    Onnx {
        /// The file, as written (relative to the plan's directory).
        path: String,
        /// `auto`, `onnxruntime` or `tract`.
        runner: String,
        /// The output tensor to read (default: class probabilities, else the first numeric).
        tensor: Option<String>,
        /// Rows per call (`None`: the runner's default).
        batch_size: Option<usize>,
    },
    /// A model server speaking KServe v2 or MLflow.
    Http {
        /// Base URL (`http://host:port`).
        url: String,
        /// `kserve-v2` or `mlflow`.
        protocol: String,
        /// The model's name on the server (KServe v2).
        model_name: String,
        /// Which output to read (KServe v2).
        output: Option<String>,
        /// Seconds one request may take.
        timeout_s: f64,
        /// Rows per request.
        batch_size: usize,
        /// Requests in flight at once.
        max_in_flight: usize,
        /// Retries of refused connections and 5xx answers.
        retries: usize,
    },
}

/// Which number of a model's output row is "the score".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputDecl {
    /// The model answers one number per row.
    Value,
    /// The probability of this class index (of several outputs per row).
    ProbabilityOf(usize),
}

/// The values of a model's `runner:`.
pub const ONNX_RUNNERS: &[&str] = &["auto", "onnxruntime", "tract"];

/// A model (`models:`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDecl {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// How it runs.
    pub runner: RunnerDecl,
    /// Its inputs, in order: (name, SQL expression over the source's raw columns).
    pub inputs: Vec<(String, String)>,
    /// What the score is.
    pub output: OutputDecl,
}

/// One smoke check as written.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelCheckSpec {
    /// A check without parameters (`loads`, `output_shape`, ...).
    Named(String),
    /// `latency` with budgets.
    Latency {
        /// p50 budget, ms.
        p50_ms: Option<f64>,
        /// p95 budget, ms.
        p95_ms: Option<f64>,
        /// p99 budget, ms.
        p99_ms: Option<f64>,
        /// Throughput floor, rows/s.
        min_rows_per_s: Option<f64>,
    },
}

/// Model smoke checks (`model_checks:`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCheckDecl {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// The model.
    pub model: String,
    /// The source whose rows feed it.
    pub source: String,
    /// The checks.
    pub checks: Vec<ModelCheckSpec>,
    /// Use at most this many rows.
    pub rows: Option<usize>,
    /// Severity.
    pub severity: Severity,
}

/// Names of the model smoke checks.
pub const MODEL_CHECKS: &[&str] = &[
    "loads",
    "signature",
    "output_shape",
    "probabilities_valid",
    "finite",
    "deterministic",
    "batch_invariant",
    "latency",
];

/// Where predictions come from: columns of a source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PredictionsDecl {
    /// The source holding them.
    pub source: String,
    /// Probability of the positive class (binary classification).
    pub score: Option<String>,
    /// Predicted label or regression value.
    pub predicted: Option<String>,
    /// One probability column per class, in class order (multiclass).
    pub probabilities: Vec<String>,
}

/// Bootstrap confidence intervals of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfidenceDecl {
    /// Two-sided level (0.95).
    pub level: f64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Seed of the resampling.
    pub seed: u64,
    /// Gate on the pessimistic end of the interval instead of the point estimate.
    pub gate_on_bound: bool,
}

/// A baseline compared on the same rows.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineDecl {
    /// The baseline's predictions.
    pub predictions: PredictionsDecl,
    /// Largest allowed drop per metric (baseline minus current, for metrics where higher is
    /// better; current minus baseline for losses and errors).
    pub max_drop: Vec<(String, f64)>,
}

/// An evaluation test (`evaluation:`), from predictions already made.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationDecl {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub pos: Pos,
    /// The predictions (from a file, or `source` is the data and `model` makes them).
    pub predictions: PredictionsDecl,
    /// A model that predicts on `predictions.source` (instead of prediction columns).
    pub model: Option<String>,
    /// The label column (in the predictions' source).
    pub label: String,
    /// `binary`, `multiclass` or `regression` (inferred from the columns when absent).
    pub task: Option<String>,
    /// Threshold of `score` for predicted labels.
    pub threshold: f64,
    /// Metrics with their gates (`None`: reported only).
    pub metrics: Vec<(String, Option<Bound>)>,
    /// Columns to slice by.
    pub slices: Vec<String>,
    /// Slices with fewer rows are reported but not gated.
    pub min_support: usize,
    /// Bootstrap intervals.
    pub confidence: Option<ConfidenceDecl>,
    /// Baseline comparison.
    pub baseline: Option<BaselineDecl>,
    /// Severity of its gates.
    pub severity: Severity,
}

/// Plan sections that later versions of tollgate will run; named so that they are reported as
/// "not yet supported" instead of "unknown".
const LATER_SECTIONS: &[&str] = &[];

/// Decode a plan file's text.
pub fn parse_plan(text: &str) -> Result<Plan, Diagnostics> {
    let root = yaml::parse(text).map_err(syntax)?;
    let mut d = Decoder::default();
    let plan = d.plan(&root);
    d.finish(plan)
}

/// Decode a standalone suite file (the body of one suite). `name` names it in results.
pub fn parse_suite(text: &str, name: &str) -> Result<SuiteDecl, Diagnostics> {
    let root = yaml::parse(text).map_err(syntax)?;
    let mut d = Decoder::default();
    let suite = d.suite(name, &root, false);
    d.finish(suite)
}

fn syntax(e: yaml::SyntaxError) -> Diagnostics {
    Diagnostics(vec![Diagnostic::new(
        e.pos,
        format!("YAML syntax error: {}", e.message),
    )])
}

#[derive(Default)]
struct Decoder {
    diags: Vec<Diagnostic>,
}

type Entries<'a> = &'a [(Key, Node)];

impl Decoder {
    fn finish<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.diags.is_empty() {
            Ok(value)
        } else {
            let mut diags = self.diags;
            diags.sort_by_key(|d| (d.pos.line, d.pos.col));
            Err(Diagnostics(diags))
        }
    }

    fn err(&mut self, pos: Pos, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(pos, msg));
    }

    fn map<'a>(&mut self, node: &'a Node, what: &str) -> Option<Entries<'a>> {
        match &node.kind {
            NodeKind::Map(m) => Some(m),
            NodeKind::Null => Some(&[]),
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a map, found {}", node.shape()),
                );
                None
            }
        }
    }

    fn unknown_key(&mut self, key: &Key, allowed: &[&str], what: &str) {
        let mut d = Diagnostic::new(key.pos, format!("unknown key `{}` in {what}", key.name));
        d = match suggest(&key.name, allowed.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("expected one of: {}", allowed.join(", "))),
        };
        self.diags.push(d);
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) => node.scalar_text(),
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a string, found {}", node.shape()),
                );
                None
            }
        }
    }

    fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<String>> {
        match &node.kind {
            NodeKind::Seq(items) => {
                let v: Vec<_> = items.iter().filter_map(|n| self.string(n, what)).collect();
                (v.len() == items.len()).then_some(v)
            }
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a list of names, found {}", node.shape()),
                );
                None
            }
        }
    }

    fn scalar(&mut self, node: &Node, what: &str) -> Option<Scalar> {
        match &node.kind {
            NodeKind::Int(i) => Some(Scalar::Int(*i)),
            NodeKind::Float(f) => Some(Scalar::Float(*f)),
            NodeKind::Str(s) => Some(Scalar::Str(s.clone())),
            NodeKind::Bool(b) => Some(Scalar::Bool(*b)),
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a single value, found {}", node.shape()),
                );
                None
            }
        }
    }

    fn scalars(&mut self, node: &Node, what: &str) -> Option<Vec<Scalar>> {
        match &node.kind {
            NodeKind::Seq(items) => {
                let v: Vec<_> = items.iter().filter_map(|n| self.scalar(n, what)).collect();
                (v.len() == items.len()).then_some(v)
            }
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a list of values, found {}", node.shape()),
                );
                None
            }
        }
    }

    fn number(&mut self, node: &Node, what: &str) -> Option<f64> {
        match &node.kind {
            NodeKind::Int(i) => Some(*i as f64),
            NodeKind::Float(f) => Some(*f),
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a number, found {}", node.shape()),
                );
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match &node.kind {
            NodeKind::Bool(b) => Some(*b),
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be true or false, found {}", node.shape()),
                );
                None
            }
        }
    }

    fn fraction(&mut self, node: &Node, what: &str) -> Option<f64> {
        let f = self.number(node, what)?;
        if (0.0..=1.0).contains(&f) {
            Some(f)
        } else {
            self.err(
                node.pos,
                format!("{what} must be between 0 and 1, found {f}"),
            );
            None
        }
    }

    fn severity(&mut self, node: &Node) -> Option<Severity> {
        match &node.kind {
            NodeKind::Str(s) if s == "error" => Some(Severity::Error),
            NodeKind::Str(s) if s == "warn" || s == "warning" => Some(Severity::Warn),
            _ => {
                self.err(node.pos, "`severity` must be `error` or `warn`");
                None
            }
        }
    }

    fn plan(&mut self, root: &Node) -> Plan {
        let mut plan = Plan::default();
        let Some(entries) = self.map(root, "the plan") else {
            return plan;
        };
        let allowed: Vec<&str> = [
            "version",
            "sources",
            "suites",
            "models",
            "model_checks",
            "evaluation",
            "behaviour",
            "pretrain",
            "drift",
            "diffs",
            "engine",
        ]
        .iter()
        .chain(LATER_SECTIONS)
        .copied()
        .collect();
        let mut suites_node = None;
        for (key, value) in entries {
            match key.name.as_str() {
                "version" => {
                    if !matches!(value.kind, NodeKind::Int(1)) {
                        self.err(value.pos, "unsupported plan `version`: this tollgate reads version 1");
                    }
                }
                "sources" => plan.sources = self.items(value, "`sources`", Self::source),
                "suites" => suites_node = Some(value),
                "models" => plan.models = self.items(value, "`models`", Self::model),
                "drift" => plan.drifts = self.items(value, "`drift`", Self::drift),
                "diffs" => plan.diffs = self.items(value, "`diffs`", Self::diff),
                "engine" => {
                    if let Some(e) = self.string(value, "`engine`") {
                        let known = e == "local"
                            || e == "ballista:standalone"
                            || e.starts_with("ballista://")
                            || e.starts_with("df://");
                        if known {
                            plan.engine = Some(e);
                        } else {
                            self.diags.push(
                                Diagnostic::new(value.pos, format!("unknown `engine` `{e}`"))
                                    .with_help("`local`, `ballista:standalone` or `ballista://HOST[:PORT]`"),
                            );
                        }
                    }
                }
                "pretrain" => plan.pretrains = self.items(value, "`pretrain`", Self::pretrain),
                "behaviour" => plan.behaviours = self.items(value, "`behaviour`", Self::behaviour),
                "model_checks" => plan.model_checks = self.items(value, "`model_checks`", Self::model_check),
                "evaluation" => plan.evaluations = self.items(value, "`evaluation`", Self::evaluation),
                s if LATER_SECTIONS.contains(&s) => self.diags.push(
                    Diagnostic::new(key.pos, format!("the `{s}` section is not yet supported by this version of tollgate"))
                        .with_help("remove it, or run it with a tollgate that supports it; it is never silently ignored"),
                ),
                _ => self.unknown_key(key, &allowed, "the plan"),
            }
        }
        if let Some(node) = suites_node
            && let Some(items) = self.map(node, "`suites`")
        {
            for (k, v) in items {
                let suite = self.suite(&k.name, v, true);
                match &suite.source {
                    Some(src) if !plan.sources.iter().any(|s| &s.name == src) => {
                        let names: Vec<&str> =
                            plan.sources.iter().map(|s| s.name.as_str()).collect();
                        let mut d = Diagnostic::new(
                            suite.pos,
                            format!(
                                "suite `{}` names source `{src}`, which is not declared under `sources`",
                                k.name
                            ),
                        );
                        if let Some(s) = suggest(src, names.iter().copied()) {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        self.diags.push(d);
                    }
                    None => self.err(k.pos, format!("suite `{}` has no `source`", k.name)),
                    _ => {}
                }
                plan.suites.push(suite);
            }
        }
        for d in &plan.drifts {
            for src in [&d.reference, &d.current] {
                if !plan.sources.iter().any(|x| &x.name == src) {
                    self.err(
                        d.pos,
                        format!(
                            "drift `{}` names source `{src}`, which is not declared under `sources`",
                            d.name
                        ),
                    );
                }
            }
        }
        for p in &plan.pretrains {
            match plan.models.iter().find(|x| x.name == p.model) {
                None => self.err(
                    p.pos,
                    format!(
                        "pretrain `{}` names model `{}`, which is not declared under `models`",
                        p.name, p.model
                    ),
                ),
                Some(m) if !matches!(m.runner, RunnerDecl::Onnx { .. }) => self.err(
                    p.pos,
                    format!(
                        "pretrain `{}`: model `{}` must be an `onnx` model (training writes the file)",
                        p.name, p.model
                    ),
                ),
                Some(_) => {}
            }
            for src in std::iter::once(&p.source).chain(p.test.iter()) {
                if !plan.sources.iter().any(|x| &x.name == src) {
                    self.err(
                        p.pos,
                        format!(
                            "pretrain `{}` names source `{src}`, which is not declared under `sources`",
                            p.name
                        ),
                    );
                }
            }
        }
        for b in &plan.behaviours {
            if !plan.models.iter().any(|x| x.name == b.model) {
                self.err(
                    b.pos,
                    format!(
                        "behaviour `{}` names model `{}`, which is not declared under `models`",
                        b.name, b.model
                    ),
                );
            }
            if !plan.sources.iter().any(|x| x.name == b.source) {
                self.err(
                    b.pos,
                    format!(
                        "behaviour `{}` names source `{}`, which is not declared under `sources`",
                        b.name, b.source
                    ),
                );
            }
        }
        for m in &plan.model_checks {
            if !plan.models.iter().any(|x| x.name == m.model) {
                self.err(
                    m.pos,
                    format!(
                        "model check `{}` names model `{}`, which is not declared under `models`",
                        m.name, m.model
                    ),
                );
            }
            if !plan.sources.iter().any(|x| x.name == m.source) {
                self.err(
                    m.pos,
                    format!(
                        "model check `{}` names source `{}`, which is not declared under `sources`",
                        m.name, m.source
                    ),
                );
            }
        }
        for e in &plan.evaluations {
            if let Some(m) = &e.model
                && !plan.models.iter().any(|x| &x.name == m)
            {
                self.err(
                    e.pos,
                    format!(
                        "evaluation `{}` names model `{m}`, which is not declared under `models`",
                        e.name
                    ),
                );
            }
            let sources = std::iter::once(&e.predictions.source)
                .chain(e.baseline.as_ref().map(|b| &b.predictions.source));
            for src in sources {
                if !plan.sources.iter().any(|s| &s.name == src) {
                    let names: Vec<&str> = plan.sources.iter().map(|s| s.name.as_str()).collect();
                    let mut d = Diagnostic::new(
                        e.pos,
                        format!(
                            "evaluation `{}` names source `{src}`, which is not declared under `sources`",
                            e.name
                        ),
                    );
                    if let Some(s) = suggest(src, names.iter().copied()) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.diags.push(d);
                }
            }
        }
        plan
    }

    fn model(&mut self, key: &Key, node: &Node) -> Option<ModelDecl> {
        let entries = self.map(node, &format!("model `{}`", key.name))?;
        const KEYS: &[&str] = &[
            "command",
            "format",
            "timeout_s",
            "batch_size",
            "inputs",
            "output",
            "onnx",
            "http",
            "runner",
        ];
        let (mut argv, mut wire, mut timeout_s, mut batch_size) =
            (None, "csv".to_string(), 60.0, 10_000usize);
        let mut inputs = Vec::new();
        let mut output = OutputDecl::Value;
        let mut http: Option<RunnerDecl> = None;
        let mut onnx: Option<String> = None;
        let mut runner: Option<String> = None;
        let mut tensor: Option<(String, Pos)> = None;
        let mut batch_given = false;
        for (k, v) in entries {
            match k.name.as_str() {
                "command" => argv = self.strings(v, "`command`"),
                "format" => {
                    wire = self.string(v, "`format`").unwrap_or_default();
                    if !matches!(wire.as_str(), "csv" | "jsonl") {
                        self.err(v.pos, "`format` is `csv` or `jsonl`");
                    }
                }
                "timeout_s" => match self.number(v, "`timeout_s`") {
                    Some(t) if t > 0.0 && t <= 86_400.0 => timeout_s = t,
                    Some(_) => self.err(
                        v.pos,
                        "`timeout_s` must be a number of seconds between 0 and 86400",
                    ),
                    None => {}
                },
                "batch_size" => match v.kind {
                    NodeKind::Int(n) if n >= 1 => {
                        batch_size = n as usize;
                        batch_given = true;
                    }
                    _ => self.err(v.pos, "`batch_size` must be a positive integer"),
                },
                "inputs" => {
                    let NodeKind::Seq(items) = &v.kind else {
                        self.err(
                            v.pos,
                            "`inputs` is a list of columns or `{ name: SQL }` maps",
                        );
                        continue;
                    };
                    for item in items {
                        match &item.kind {
                            NodeKind::Str(c) => {
                                inputs.push((c.clone(), crate::plan::quote_ident(c)))
                            }
                            NodeKind::Map(m) if m.len() == 1 => {
                                if let Some(sql) = self.string(&m[0].1, "an input expression") {
                                    inputs.push((m[0].0.name.clone(), sql));
                                }
                            }
                            _ => self.err(
                                item.pos,
                                "an input is a column name or `{ name: SQL expression }`",
                            ),
                        }
                    }
                }
                "output" => {
                    let Some(o) = self.map(v, "`output`") else {
                        continue;
                    };
                    for (ok, ov) in o {
                        match ok.name.as_str() {
                            "probability_of" => match ov.kind {
                                NodeKind::Int(n) if n >= 0 => {
                                    output = OutputDecl::ProbabilityOf(n as usize)
                                }
                                _ => self
                                    .err(ov.pos, "`probability_of` is a class index (0, 1, ...)"),
                            },
                            "tensor" => {
                                if let Some(t) = self.string(ov, "`tensor`") {
                                    tensor = Some((t, ov.pos));
                                }
                            }
                            _ => self.unknown_key(ok, &["probability_of", "tensor"], "`output`"),
                        }
                    }
                }
                "http" => http = self.http(v, &key.name),
                "onnx" => onnx = self.string(v, "`onnx` (the model file)"),
                "runner" => {
                    runner = self.string(v, "`runner`");
                    if let Some(r) = &runner
                        && !ONNX_RUNNERS.contains(&r.as_str())
                    {
                        let mut d = Diagnostic::new(
                            v.pos,
                            format!("unknown runner `{r}`; one of: {}", ONNX_RUNNERS.join(", ")),
                        );
                        if let Some(s) = suggest(r, ONNX_RUNNERS.iter().copied()) {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        self.diags.push(d);
                    }
                }
                _ => self.unknown_key(k, KEYS, &format!("model `{}`", key.name)),
            }
        }
        let runners =
            usize::from(onnx.is_some()) + usize::from(http.is_some()) + usize::from(argv.is_some());
        if runners > 1 {
            self.err(
                key.pos,
                format!(
                    "model `{}` has more than one of `onnx`, `http` and `command`; give one",
                    key.name
                ),
            );
            return None;
        }
        if let Some((_, pos)) = &tensor
            && onnx.is_none()
        {
            self.err(*pos, "`output: { tensor }` applies to `onnx` models (an `http` model names its output under `http`)");
        }
        if runner.is_some()
            && onnx.is_none()
            && let Some((k, _)) = entries.iter().find(|(k, _)| k.name == "runner")
        {
            self.err(k.pos, "`runner` applies to `onnx` models");
        }
        if let Some(path) = onnx {
            if inputs.is_empty() {
                self.err(key.pos, format!("model `{}` needs `inputs`", key.name));
            }
            return Some(ModelDecl {
                name: key.name.clone(),
                pos: key.pos,
                runner: RunnerDecl::Onnx {
                    path,
                    runner: runner.unwrap_or_else(|| "auto".into()),
                    tensor: tensor.map(|t| t.0),
                    batch_size: batch_given.then_some(batch_size),
                },
                inputs,
                output,
            });
        }
        if let Some(runner) = http {
            if inputs.is_empty() {
                self.err(key.pos, format!("model `{}` needs `inputs`", key.name));
            }
            return Some(ModelDecl {
                name: key.name.clone(),
                pos: key.pos,
                runner,
                inputs,
                output,
            });
        }
        let Some(argv) = argv.filter(|a| !a.is_empty()) else {
            if !entries
                .iter()
                .any(|(k, _)| matches!(k.name.as_str(), "onnx" | "http" | "runner"))
            {
                self.err(
                    key.pos,
                    format!(
                        "model `{}` needs one of `onnx`, `http` or `command`",
                        key.name
                    ),
                );
            }
            return None;
        };
        if inputs.is_empty() {
            self.err(key.pos, format!("model `{}` needs `inputs`", key.name));
        }
        Some(ModelDecl {
            name: key.name.clone(),
            pos: key.pos,
            runner: RunnerDecl::Command {
                argv,
                wire,
                timeout_s,
                batch_size,
            },
            inputs,
            output,
        })
    }

    fn http(&mut self, node: &Node, model: &str) -> Option<RunnerDecl> {
        let entries = self.map(node, "`http`")?;
        let (mut url, mut protocol, mut model_name, mut output) =
            (None, "kserve-v2".to_string(), model.to_string(), None);
        let (mut timeout_s, mut batch_size, mut max_in_flight, mut retries) =
            (30.0, 1000usize, 4usize, 2usize);
        for (k, v) in entries {
            let count = |d: &mut Self, lo: i64, hi: i64| match v.kind {
                NodeKind::Int(n) if (lo..=hi).contains(&n) => Some(n as usize),
                _ => {
                    d.err(
                        v.pos,
                        format!("`{}` must be an integer from {lo} to {hi}", k.name),
                    );
                    None
                }
            };
            match k.name.as_str() {
                "url" => url = self.string(v, "`url`"),
                "protocol" => {
                    protocol = self.string(v, "`protocol`").unwrap_or_default();
                    if !matches!(protocol.as_str(), "kserve-v2" | "mlflow") {
                        self.err(v.pos, "`protocol` is `kserve-v2` or `mlflow`");
                    }
                }
                "model_name" => model_name = self.string(v, "`model_name`").unwrap_or_default(),
                "output" => output = self.string(v, "`output`"),
                "timeout_s" => match self.number(v, "`timeout_s`") {
                    Some(t) if t > 0.0 && t <= 86_400.0 => timeout_s = t,
                    Some(_) => self.err(
                        v.pos,
                        "`timeout_s` must be a number of seconds between 0 and 86400",
                    ),
                    None => {}
                },
                "batch_size" => batch_size = count(self, 1, 10_000_000).unwrap_or(batch_size),
                "max_in_flight" => max_in_flight = count(self, 1, 256).unwrap_or(max_in_flight),
                "retries" => retries = count(self, 0, 10).unwrap_or(retries),
                _ => self.unknown_key(
                    k,
                    &[
                        "url",
                        "protocol",
                        "model_name",
                        "output",
                        "timeout_s",
                        "batch_size",
                        "max_in_flight",
                        "retries",
                    ],
                    "`http`",
                ),
            }
        }
        let Some(url) = url else {
            self.err(node.pos, "`http` needs `url`");
            return None;
        };
        Some(RunnerDecl::Http {
            url,
            protocol,
            model_name,
            output,
            timeout_s,
            batch_size,
            max_in_flight,
            retries,
        })
    }

    /// The entries of a section of named items (`models:`, `evaluation:`, ...), each decoded
    /// by `item`; those that do not decode are left out (their errors are recorded).
    fn items<T>(
        &mut self,
        node: &Node,
        what: &str,
        item: impl Fn(&mut Self, &Key, &Node) -> Option<T>,
    ) -> Vec<T> {
        let Some(entries) = self.map(node, what) else {
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|(k, v)| item(self, k, v))
            .collect()
    }

    fn drift_method(&mut self, node: &Node) -> Option<String> {
        let m = self.string(node, "`method`")?;
        if DRIFT_METHODS.contains(&m.as_str()) {
            return Some(m);
        }
        let mut d = Diagnostic::new(node.pos, format!("unknown drift method `{m}`"));
        d = match suggest(&m, DRIFT_METHODS.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("methods: {}", DRIFT_METHODS.join(", "))),
        };
        self.diags.push(d);
        None
    }

    fn drift(&mut self, key: &Key, node: &Node) -> Option<DriftDecl> {
        let what = format!("drift `{}`", key.name);
        let entries = self.map(node, &what)?;
        const KEYS: &[&str] = &[
            "reference",
            "current",
            "method",
            "threshold",
            "columns",
            "ignore",
            "per_column",
            "max_drifted_share",
            "correction",
            "severity",
        ];
        let mut d = DriftDecl {
            name: key.name.clone(),
            pos: key.pos,
            reference: String::new(),
            current: String::new(),
            method: "auto".into(),
            threshold: None,
            columns: Vec::new(),
            ignore: Vec::new(),
            per_column: Vec::new(),
            max_drifted_share: 0.5,
            correction: "none".into(),
            severity: Severity::Error,
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "reference" => d.reference = self.string(v, "`reference`").unwrap_or_default(),
                "current" => d.current = self.string(v, "`current`").unwrap_or_default(),
                "method" => d.method = self.drift_method(v).unwrap_or_else(|| "auto".into()),
                "threshold" => d.threshold = self.number(v, "`threshold`"),
                "columns" => d.columns = self.strings(v, "`columns`").unwrap_or_default(),
                "ignore" => d.ignore = self.strings(v, "`ignore`").unwrap_or_default(),
                "max_drifted_share" => {
                    d.max_drifted_share = self.fraction(v, "`max_drifted_share`").unwrap_or(0.5)
                }
                "correction" => match self.string(v, "`correction`").as_deref() {
                    Some(c @ ("none" | "bonferroni" | "bh")) => d.correction = c.to_string(),
                    Some(c) => self.err(v.pos, format!("`correction` is `none`, `bonferroni` or `bh` (Benjamini–Hochberg), not `{c}`")),
                    None => {}
                },
                "severity" => d.severity = self.severity(v).unwrap_or(Severity::Error),
                "per_column" => {
                    let Some(cols) = self.map(v, "`per_column`") else { continue };
                    for (ck, cv) in cols {
                        let mut c = ColumnDriftDecl { column: ck.name.clone(), method: None, threshold: None };
                        if let Some(args) = self.map(cv, &format!("`per_column.{}`", ck.name)) {
                            for (ak, av) in args {
                                match ak.name.as_str() {
                                    "method" => c.method = self.drift_method(av),
                                    "threshold" => c.threshold = self.number(av, "`threshold`"),
                                    _ => self.unknown_key(ak, &["method", "threshold"], "a column's drift"),
                                }
                            }
                        }
                        d.per_column.push(c);
                    }
                }
                _ => self.unknown_key(k, KEYS, &what),
            }
        }
        if d.reference.is_empty() || d.current.is_empty() {
            self.err(
                key.pos,
                format!("{what} needs `reference` and `current` sources"),
            );
        }
        Some(d)
    }

    fn tolerance(&mut self, node: &Node, what: &str) -> (f64, f64) {
        let (mut abs, mut rel) = (0.0, 0.0);
        if let Some(t) = self.map(node, what) {
            for (k, v) in t {
                match k.name.as_str() {
                    "abs" | "rel" => match self.number(v, &format!("`{}`", k.name)) {
                        Some(x) if x >= 0.0 && x.is_finite() => {
                            if k.name == "abs" {
                                abs = x
                            } else {
                                rel = x
                            }
                        }
                        Some(_) => self.err(
                            v.pos,
                            format!("`{}` must be a finite number of at least 0", k.name),
                        ),
                        None => {}
                    },
                    _ => self.unknown_key(k, &["abs", "rel"], what),
                }
            }
        }
        (abs, rel)
    }

    fn diff(&mut self, key: &Key, node: &Node) -> Option<DiffDecl> {
        let what = format!("diff `{}`", key.name);
        let entries = self.map(node, &what)?;
        const KEYS: &[&str] = &[
            "expected",
            "actual",
            "key",
            "columns",
            "ignore",
            "tolerance",
            "per_column",
            "added_columns",
            "samples",
            "severity",
        ];
        let mut d = DiffDecl {
            name: key.name.clone(),
            pos: key.pos,
            expected: String::new(),
            actual: String::new(),
            key: Vec::new(),
            columns: Vec::new(),
            ignore: Vec::new(),
            abs: 0.0,
            rel: 0.0,
            per_column: Vec::new(),
            added_columns_ignored: false,
            samples: 5,
            severity: Severity::Error,
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "expected" => d.expected = self.string(v, "`expected`").unwrap_or_default(),
                "actual" => d.actual = self.string(v, "`actual`").unwrap_or_default(),
                "key" => {
                    d.key = match &v.kind {
                        NodeKind::Str(s) => vec![s.clone()],
                        _ => self.strings(v, "`key`").unwrap_or_default(),
                    }
                }
                "columns" => d.columns = self.strings(v, "`columns`").unwrap_or_default(),
                "ignore" => d.ignore = self.strings(v, "`ignore`").unwrap_or_default(),
                "tolerance" => (d.abs, d.rel) = self.tolerance(v, "`tolerance`"),
                "per_column" => {
                    let Some(cols) = self.map(v, "`per_column`") else {
                        continue;
                    };
                    for (ck, cv) in cols {
                        let Some(args) = self.map(cv, &format!("`per_column.{}`", ck.name)) else {
                            continue;
                        };
                        let mut tol = (d.abs, d.rel);
                        for (ak, av) in args {
                            match ak.name.as_str() {
                                "tolerance" => tol = self.tolerance(av, "`tolerance`"),
                                _ => self.unknown_key(ak, &["tolerance"], "a column's diff"),
                            }
                        }
                        d.per_column.push((ck.name.clone(), tol.0, tol.1));
                    }
                }
                "added_columns" => match self.string(v, "`added_columns`").as_deref() {
                    Some("error") => d.added_columns_ignored = false,
                    Some("ignore") => d.added_columns_ignored = true,
                    Some(o) => self.err(
                        v.pos,
                        format!("`added_columns` is `error` or `ignore`, not `{o}`"),
                    ),
                    None => {}
                },
                "samples" => match v.kind {
                    NodeKind::Int(n) if (0..=1000).contains(&n) => d.samples = n as usize,
                    _ => self.err(v.pos, "`samples` must be an integer between 0 and 1000"),
                },
                "severity" => d.severity = self.severity(v).unwrap_or(Severity::Error),
                _ => self.unknown_key(k, KEYS, &what),
            }
        }
        if d.expected.is_empty() || d.actual.is_empty() || d.key.is_empty() {
            self.err(
                key.pos,
                format!("{what} needs `expected`, `actual` and `key`"),
            );
        }
        Some(d)
    }

    fn pretrain(&mut self, key: &Key, node: &Node) -> Option<PretrainDecl> {
        let what = format!("pretrain `{}`", key.name);
        let entries = self.map(node, &what)?;
        const KEYS: &[&str] = &[
            "model",
            "source",
            "test",
            "label",
            "train",
            "small_rows",
            "checks",
            "severity",
        ];
        let mut d = PretrainDecl {
            name: key.name.clone(),
            pos: key.pos,
            model: String::new(),
            source: String::new(),
            test: None,
            label: String::new(),
            command: Vec::new(),
            params: Vec::new(),
            seed: 0,
            timeout_s: 600.0,
            small_rows: 20,
            checks: Vec::new(),
            severity: Severity::Error,
        };
        let mut command_pos = key.pos;
        for (k, v) in entries {
            match k.name.as_str() {
                "model" => d.model = self.string(v, "`model`").unwrap_or_default(),
                "source" => d.source = self.string(v, "`source`").unwrap_or_default(),
                "test" => d.test = self.string(v, "`test`"),
                "label" => d.label = self.string(v, "`label`").unwrap_or_default(),
                "severity" => d.severity = self.severity(v).unwrap_or(Severity::Error),
                "small_rows" => match v.kind {
                    NodeKind::Int(n) if n >= 2 => d.small_rows = n as usize,
                    _ => self.err(v.pos, "`small_rows` must be an integer of at least 2"),
                },
                "train" => {
                    let Some(t) = self.map(v, "`train`") else {
                        continue;
                    };
                    for (tk, tv) in t {
                        match tk.name.as_str() {
                            "command" => {
                                command_pos = tv.pos;
                                d.command = self.strings(tv, "`command`").unwrap_or_default();
                            }
                            "params" => {
                                let Some(ps) = self.map(tv, "`params`") else {
                                    continue;
                                };
                                for (pk, pv) in ps {
                                    if let Some(x) = self.number(pv, "a parameter") {
                                        d.params.push((pk.name.clone(), x));
                                    }
                                }
                            }
                            "seed" => match tv.kind {
                                NodeKind::Int(n) if n >= 0 => d.seed = n as u64,
                                _ => self.err(tv.pos, "`seed` must be a non-negative integer"),
                            },
                            "timeout_s" => match self.number(tv, "`timeout_s`") {
                                Some(t) if t > 0.0 && t <= 86_400.0 => d.timeout_s = t,
                                Some(_) => self.err(
                                    tv.pos,
                                    "`timeout_s` must be a number of seconds between 0 and 86400",
                                ),
                                None => {}
                            },
                            _ => self.unknown_key(
                                tk,
                                &["command", "params", "seed", "timeout_s"],
                                "`train`",
                            ),
                        }
                    }
                }
                "checks" => {
                    let NodeKind::Seq(items) = &v.kind else {
                        self.err(v.pos, "`checks` is a list");
                        continue;
                    };
                    for item in items {
                        if let Some(c) = self.pretrain_check(item) {
                            d.checks.push(c);
                        }
                    }
                }
                _ => self.unknown_key(k, KEYS, &what),
            }
        }
        for (field, empty) in [
            ("model", d.model.is_empty()),
            ("source", d.source.is_empty()),
            ("label", d.label.is_empty()),
        ] {
            if empty {
                self.err(key.pos, format!("{what} needs `{field}`"));
            }
        }
        if d.command.is_empty() {
            self.err(
                key.pos,
                format!("{what} needs `train: {{ command: [...] }}`"),
            );
        }
        let needs_test = d.checks.iter().any(|c| match c {
            PretrainCheckDecl::Capacity { on_test, .. }
            | PretrainCheckDecl::Metrics { on_test, .. } => *on_test,
            PretrainCheckDecl::Leakage { .. } => true,
            _ => false,
        });
        if needs_test && d.test.is_none() {
            self.err(
                key.pos,
                format!("{what}: a check on held-out rows needs `test: SOURCE`"),
            );
        }
        // Every `{param.NAME}` needs a value.
        for arg in &d.command {
            let mut rest = arg.as_str();
            while let Some(i) = rest.find("{param.") {
                let after = &rest[i + 7..];
                let Some(end) = after.find('}') else { break };
                let name = &after[..end];
                if !d.params.iter().any(|(p, _)| p == name) {
                    self.err(
                        command_pos,
                        format!("the command uses `{{param.{name}}}` but `train.params` gives no `{name}`"),
                    );
                }
                rest = &after[end..];
            }
        }
        Some(d)
    }

    fn pretrain_check(&mut self, item: &Node) -> Option<PretrainCheckDecl> {
        match &item.kind {
            NodeKind::Str(n) => match n.as_str() {
                "output_shape" | "probabilities_valid" | "deterministic_with_seed" => {
                    Some(PretrainCheckDecl::Named(n.clone()))
                }
                "no_train_test_leakage" => Some(PretrainCheckDecl::Leakage {
                    key: Vec::new(),
                    ignore: Vec::new(),
                }),
                "overfits_tiny_sample" => Some(PretrainCheckDecl::Overfit { rows: 10 }),
                "training_time" => Some(PretrainCheckDecl::TrainingTime {
                    runs: 5,
                    p95_s: None,
                }),
                "capacity_monotone" | "metrics" => {
                    self.err(
                        item.pos,
                        format!("`{n}` needs its parameters: `{{ {n}: {{ ... }} }}`"),
                    );
                    None
                }
                _ => {
                    self.unknown_pretrain_check(n, item.pos);
                    None
                }
            },
            NodeKind::Map(m) if m.len() == 1 => {
                let (k, v) = (&m[0].0, &m[0].1);
                let args = self.map(v, &format!("`{}`", k.name))?;
                let mut on_test = false;
                match k.name.as_str() {
                    "overfits_tiny_sample" => {
                        let mut rows = 10;
                        for (ak, av) in args {
                            match (ak.name.as_str(), &av.kind) {
                                ("rows", NodeKind::Int(n)) if *n >= 2 => rows = *n as usize,
                                ("rows", _) => {
                                    self.err(av.pos, "`rows` must be an integer of at least 2")
                                }
                                _ => self.unknown_key(ak, &["rows"], "`overfits_tiny_sample`"),
                            }
                        }
                        Some(PretrainCheckDecl::Overfit { rows })
                    }
                    "capacity_monotone" => {
                        let (mut param, mut values, mut metrics, mut tolerance) =
                            (String::new(), Vec::new(), vec!["accuracy".to_string()], 0.0);
                        for (ak, av) in args {
                            match ak.name.as_str() {
                                "param" => param = self.string(av, "`param`").unwrap_or_default(),
                                "values" => match &av.kind {
                                    NodeKind::Seq(xs) => {
                                        values = xs
                                            .iter()
                                            .filter_map(|x| self.number(x, "a value"))
                                            .collect()
                                    }
                                    _ => self.err(av.pos, "`values` is a list of numbers"),
                                },
                                "metrics" => {
                                    metrics = self.strings(av, "`metrics`").unwrap_or_default()
                                }
                                "on" => on_test = self.on_split(av),
                                "tolerance" => {
                                    tolerance = self.number(av, "`tolerance`").unwrap_or(0.0)
                                }
                                _ => self.unknown_key(
                                    ak,
                                    &["param", "values", "metrics", "on", "tolerance"],
                                    "`capacity_monotone`",
                                ),
                            }
                        }
                        if param.is_empty() || values.len() < 2 {
                            self.err(
                                v.pos,
                                "`capacity_monotone` needs `param` and at least two `values`",
                            );
                        }
                        for m in &metrics {
                            if !crate::catalog::METRICS.contains(&m.as_str()) {
                                self.err(v.pos, format!("unknown metric `{m}`"));
                            }
                        }
                        Some(PretrainCheckDecl::Capacity {
                            param,
                            values,
                            metrics,
                            on_test,
                            tolerance,
                        })
                    }
                    "no_train_test_leakage" => {
                        let (mut key, mut ignore) = (Vec::new(), Vec::new());
                        for (ak, av) in args {
                            match ak.name.as_str() {
                                "key" => key = self.strings(av, "`key`").unwrap_or_default(),
                                "ignore" => {
                                    ignore = self.strings(av, "`ignore`").unwrap_or_default()
                                }
                                _ => self.unknown_key(
                                    ak,
                                    &["key", "ignore"],
                                    "`no_train_test_leakage`",
                                ),
                            }
                        }
                        Some(PretrainCheckDecl::Leakage { key, ignore })
                    }
                    "training_time" => {
                        let (mut runs, mut p95_s) = (5, None);
                        for (ak, av) in args {
                            match (ak.name.as_str(), &av.kind) {
                                ("runs", NodeKind::Int(n)) if (1..=1000).contains(n) => {
                                    runs = *n as usize
                                }
                                ("runs", _) => {
                                    self.err(av.pos, "`runs` must be an integer from 1 to 1000")
                                }
                                ("p95_s", _) => p95_s = self.number(av, "`p95_s`"),
                                _ => self.unknown_key(ak, &["runs", "p95_s"], "`training_time`"),
                            }
                        }
                        Some(PretrainCheckDecl::TrainingTime { runs, p95_s })
                    }
                    "metrics" => {
                        let mut bounds = Vec::new();
                        for (ak, av) in args {
                            if ak.name == "on" {
                                on_test = self.on_split(av);
                                continue;
                            }
                            if !crate::catalog::METRICS.contains(&ak.name.as_str()) {
                                self.err(ak.pos, format!("unknown metric `{}`", ak.name));
                                continue;
                            }
                            let (lo, hi) = self.bounds(av, &format!("`{}`", ak.name));
                            bounds.push((ak.name.clone(), lo, hi));
                        }
                        Some(PretrainCheckDecl::Metrics { bounds, on_test })
                    }
                    other => {
                        self.unknown_pretrain_check(other, k.pos);
                        None
                    }
                }
            }
            _ => {
                self.err(
                    item.pos,
                    "a pre-train check is a name or `{ name: { ... } }`",
                );
                None
            }
        }
    }

    fn unknown_pretrain_check(&mut self, name: &str, pos: Pos) {
        let mut diag = Diagnostic::new(pos, format!("unknown pre-train check `{name}`"));
        diag = match suggest(name, PRETRAIN_CHECKS.iter().copied()) {
            Some(s) => diag.with_help(format!("did you mean `{s}`?")),
            None => diag.with_help(format!("pre-train checks: {}", PRETRAIN_CHECKS.join(", "))),
        };
        self.diags.push(diag);
    }

    /// `on: train | test`; true for test.
    fn on_split(&mut self, node: &Node) -> bool {
        match self.string(node, "`on`").as_deref() {
            Some("train") => false,
            Some("test") => true,
            _ => {
                self.err(node.pos, "`on` is `train` or `test`");
                false
            }
        }
    }

    fn behaviour(&mut self, key: &Key, node: &Node) -> Option<BehaviourDecl> {
        let what = format!("behaviour `{}`", key.name);
        let entries = self.map(node, &what)?;
        const KEYS: &[&str] = &[
            "model",
            "source",
            "where",
            "perturb",
            "expect",
            "tolerance",
            "min_delta",
            "strict",
            "cases",
            "threshold",
            "mostly",
            "seed",
            "rows",
            "severity",
        ];
        let mut d = BehaviourDecl {
            name: key.name.clone(),
            pos: key.pos,
            model: String::new(),
            source: String::new(),
            where_sql: None,
            perturb: Vec::new(),
            expect: None,
            cases: Vec::new(),
            threshold: 0.5,
            mostly: 1.0,
            seed: 0,
            rows: None,
            severity: Severity::Error,
        };
        let (mut expect, mut tolerance, mut min_delta, mut strict) = (None, None, None, None);
        let mut expect_pos = key.pos;
        for (k, v) in entries {
            match k.name.as_str() {
                "model" => d.model = self.string(v, "`model`").unwrap_or_default(),
                "source" => d.source = self.string(v, "`source`").unwrap_or_default(),
                "where" => d.where_sql = self.string(v, "`where` (a SQL condition)"),
                "perturb" => {
                    let Some(items) = self.map(v, "`perturb`") else {
                        continue;
                    };
                    for (pk, pv) in items {
                        if PERTURBATIONS.contains(&pk.name.as_str()) {
                            d.perturb.push((pk.name.clone(), node_to_json(pv), pk.pos));
                        } else {
                            let mut diag = Diagnostic::new(
                                pk.pos,
                                format!("unknown perturbation `{}`", pk.name),
                            );
                            diag = match suggest(&pk.name, PERTURBATIONS.iter().copied()) {
                                Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                                None => diag.with_help(format!(
                                    "perturbations: {}",
                                    PERTURBATIONS.join(", ")
                                )),
                            };
                            self.diags.push(diag);
                        }
                    }
                }
                "expect" => {
                    expect_pos = v.pos;
                    match self.string(v, "`expect`").as_deref() {
                        Some(e @ ("unchanged" | "increase" | "decrease")) => {
                            expect = Some(e.to_string())
                        }
                        Some(e) => self.err(
                            v.pos,
                            format!("`expect` is `unchanged`, `increase` or `decrease`, not `{e}`"),
                        ),
                        None => {}
                    }
                }
                "tolerance" => tolerance = self.number(v, "`tolerance`"),
                "min_delta" => min_delta = self.number(v, "`min_delta`"),
                "strict" => strict = self.boolean(v, "`strict`"),
                "threshold" => d.threshold = self.fraction(v, "`threshold`").unwrap_or(0.5),
                "mostly" => d.mostly = self.fraction(v, "`mostly`").unwrap_or(1.0),
                "seed" => match v.kind {
                    NodeKind::Int(n) if n >= 0 => d.seed = n as u64,
                    _ => self.err(v.pos, "`seed` must be a non-negative integer"),
                },
                "rows" => match v.kind {
                    NodeKind::Int(n) if n >= 1 => d.rows = Some(n as usize),
                    _ => self.err(v.pos, "`rows` must be a positive integer"),
                },
                "severity" => d.severity = self.severity(v).unwrap_or(Severity::Error),
                "cases" => {
                    let NodeKind::Seq(items) = &v.kind else {
                        self.err(
                            v.pos,
                            "`cases` is a list of `{ row: {...}, expect: { label: 1 } }`",
                        );
                        continue;
                    };
                    for item in items {
                        if let Some(c) = self.case(item) {
                            d.cases.push(c);
                        }
                    }
                }
                _ => self.unknown_key(k, KEYS, &what),
            }
        }
        match expect.as_deref() {
            Some("unchanged") => {
                d.expect = Some(ExpectDecl::Unchanged {
                    tolerance: tolerance.unwrap_or(1e-6),
                })
            }
            Some(dir) => {
                d.expect = Some(ExpectDecl::Direction {
                    up: dir == "increase",
                    min_delta: min_delta.unwrap_or(0.0),
                    strict: strict.unwrap_or(true),
                })
            }
            None => {}
        }
        if d.perturb.is_empty() == d.expect.is_some() && d.cases.is_empty() {
            self.err(
                if d.expect.is_some() {
                    expect_pos
                } else {
                    key.pos
                },
                format!("{what} needs `perturb` with `expect`, or `cases`"),
            );
        }
        if !d.cases.is_empty() && !d.perturb.is_empty() {
            self.err(
                key.pos,
                format!("{what} has both `perturb` and `cases`; write two tests"),
            );
        }
        if d.model.is_empty() {
            self.err(key.pos, format!("{what} needs a `model`"));
        }
        if d.source.is_empty() {
            self.err(key.pos, format!("{what} needs a `source`"));
        }
        Some(d)
    }

    fn case(&mut self, node: &Node) -> Option<CaseDecl> {
        let entries = self.map(node, "a case")?;
        let mut c = CaseDecl {
            pos: node.pos,
            row: serde_json::Map::new(),
            label: None,
            score: None,
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "row" => match node_to_json(v) {
                    serde_json::Value::Object(m) => c.row = m,
                    _ => self.err(v.pos, "`row` is a map of column to value"),
                },
                "expect" => {
                    let Some(e) = self.map(v, "`expect`") else {
                        continue;
                    };
                    for (ek, ev) in e {
                        match ek.name.as_str() {
                            "label" => c.label = self.number(ev, "`label`"),
                            "score" => {
                                let (lo, hi) = self.bounds(ev, "`score`");
                                c.score = Some((lo, hi));
                            }
                            _ => self.unknown_key(ek, &["label", "score"], "a case's `expect`"),
                        }
                    }
                }
                _ => self.unknown_key(k, &["row", "expect"], "a case"),
            }
        }
        if c.label.is_none() && c.score.is_none() {
            self.err(
                node.pos,
                "a case needs `expect: { label: ... }` or `expect: { score: { at_least: ... } }`",
            );
        }
        Some(c)
    }

    /// `{ at_least: a, at_most: b }` or `{ between: [a, b] }`.
    fn bounds(&mut self, node: &Node, what: &str) -> (Option<f64>, Option<f64>) {
        let Some(entries) = self.map(node, what) else {
            return (None, None);
        };
        let (mut lo, mut hi) = (None, None);
        for (k, v) in entries {
            match k.name.as_str() {
                "at_least" => lo = self.number(v, "`at_least`"),
                "at_most" => hi = self.number(v, "`at_most`"),
                "between" => match &v.kind {
                    NodeKind::Seq(xs) if xs.len() == 2 => {
                        lo = self.number(&xs[0], "`between`");
                        hi = self.number(&xs[1], "`between`");
                    }
                    _ => self.err(v.pos, "`between` is `[low, high]`"),
                },
                _ => self.unknown_key(k, &["at_least", "at_most", "between"], what),
            }
        }
        (lo, hi)
    }

    fn model_check(&mut self, key: &Key, node: &Node) -> Option<ModelCheckDecl> {
        let entries = self.map(node, &format!("model check `{}`", key.name))?;
        let mut d = ModelCheckDecl {
            name: key.name.clone(),
            pos: key.pos,
            model: String::new(),
            source: String::new(),
            checks: Vec::new(),
            rows: None,
            severity: Severity::Error,
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "model" => d.model = self.string(v, "`model`").unwrap_or_default(),
                "source" => d.source = self.string(v, "`source`").unwrap_or_default(),
                "rows" => match v.kind {
                    NodeKind::Int(n) if n >= 1 => d.rows = Some(n as usize),
                    _ => self.err(v.pos, "`rows` must be a positive integer"),
                },
                "severity" => d.severity = self.severity(v).unwrap_or(Severity::Error),
                "checks" => {
                    let NodeKind::Seq(items) = &v.kind else {
                        self.err(v.pos, "`checks` is a list");
                        continue;
                    };
                    for item in items {
                        match &item.kind {
                            NodeKind::Str(n) if MODEL_CHECKS.contains(&n.as_str()) => {
                                d.checks.push(ModelCheckSpec::Named(n.clone()))
                            }
                            NodeKind::Map(m) if m.len() == 1 && m[0].0.name == "latency" => {
                                let (mut p50, mut p95, mut p99, mut rate) =
                                    (None, None, None, None);
                                if let Some(bs) = self.map(&m[0].1, "`latency`") {
                                    for (bk, bv) in bs {
                                        let x = self.number(bv, "a budget");
                                        match bk.name.as_str() {
                                            "p50_ms" => p50 = x,
                                            "p95_ms" => p95 = x,
                                            "p99_ms" => p99 = x,
                                            "min_rows_per_s" => rate = x,
                                            _ => self.unknown_key(
                                                bk,
                                                &["p50_ms", "p95_ms", "p99_ms", "min_rows_per_s"],
                                                "`latency`",
                                            ),
                                        }
                                    }
                                }
                                d.checks.push(ModelCheckSpec::Latency {
                                    p50_ms: p50,
                                    p95_ms: p95,
                                    p99_ms: p99,
                                    min_rows_per_s: rate,
                                });
                            }
                            NodeKind::Str(n) => {
                                let mut diag =
                                    Diagnostic::new(item.pos, format!("unknown model check `{n}`"));
                                diag = match suggest(n, MODEL_CHECKS.iter().copied()) {
                                    Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                                    None => diag.with_help(format!(
                                        "model checks: {}",
                                        MODEL_CHECKS.join(", ")
                                    )),
                                };
                                self.diags.push(diag);
                            }
                            _ => self.err(
                                item.pos,
                                "a model check is a name, or `{ latency: { p99_ms: ... } }`",
                            ),
                        }
                    }
                }
                _ => self.unknown_key(
                    k,
                    &["model", "source", "checks", "rows", "severity"],
                    &format!("model check `{}`", key.name),
                ),
            }
        }
        if d.model.is_empty() || d.source.is_empty() {
            self.err(
                key.pos,
                format!("model check `{}` needs `model` and `source`", key.name),
            );
            return None;
        }
        Some(d)
    }

    fn predictions(&mut self, node: &Node) -> Option<PredictionsDecl> {
        let entries = self.map(node, "`predictions`")?;
        let mut p = PredictionsDecl::default();
        for (k, v) in entries {
            match k.name.as_str() {
                "source" => p.source = self.string(v, "`source`")?,
                "score" => p.score = self.string(v, "`score`"),
                "predicted" => p.predicted = self.string(v, "`predicted`"),
                "probabilities" => {
                    p.probabilities = self.strings(v, "`probabilities`").unwrap_or_default()
                }
                _ => self.unknown_key(
                    k,
                    &["source", "score", "predicted", "probabilities"],
                    "`predictions`",
                ),
            }
        }
        if p.source.is_empty() {
            self.err(node.pos, "`predictions` needs `source`");
            return None;
        }
        if p.score.is_none() && p.predicted.is_none() && p.probabilities.is_empty() {
            self.err(
                node.pos,
                "`predictions` needs `score`, `predicted` or `probabilities`",
            );
            return None;
        }
        Some(p)
    }

    fn evaluation(&mut self, key: &Key, node: &Node) -> Option<EvaluationDecl> {
        let entries = self.map(node, &format!("evaluation `{}`", key.name))?;
        const KEYS: &[&str] = &[
            "predictions",
            "model",
            "source",
            "label",
            "task",
            "threshold",
            "metrics",
            "slices",
            "min_support",
            "confidence",
            "baseline",
            "severity",
        ];
        let mut e = EvaluationDecl {
            name: key.name.clone(),
            pos: key.pos,
            predictions: PredictionsDecl::default(),
            model: None,
            label: String::new(),
            task: None,
            threshold: 0.5,
            metrics: Vec::new(),
            slices: Vec::new(),
            min_support: 30,
            confidence: None,
            baseline: None,
            severity: Severity::Error,
        };
        let mut have_predictions = false;
        let mut have_source = false;
        for (k, v) in entries {
            match k.name.as_str() {
                "predictions" => {
                    if let Some(p) = self.predictions(v) {
                        e.predictions = p;
                        have_predictions = true;
                    }
                }
                "model" => e.model = self.string(v, "`model`"),
                "source" => {
                    e.predictions.source = self.string(v, "`source`").unwrap_or_default();
                    have_source = true;
                }
                "label" => e.label = self.string(v, "`label`").unwrap_or_default(),
                "task" => {
                    let t = self.string(v, "`task`").unwrap_or_default();
                    if !matches!(t.as_str(), "binary" | "multiclass" | "regression") {
                        self.err(
                            v.pos,
                            format!(
                                "unknown task `{t}`: expected binary, multiclass or regression"
                            ),
                        );
                    }
                    e.task = Some(t);
                }
                "threshold" => e.threshold = self.fraction(v, "`threshold`").unwrap_or(0.5),
                "metrics" => {
                    let Some(ms) = self.map(v, "`metrics`") else {
                        continue;
                    };
                    for (mk, mv) in ms {
                        if !crate::catalog::METRICS.contains(&mk.name.as_str()) {
                            self.unknown_key(mk, crate::catalog::METRICS, "`metrics`");
                            continue;
                        }
                        let bound = match &mv.kind {
                            NodeKind::Null => None,
                            NodeKind::Map(m) if m.is_empty() => None,
                            _ => {
                                let mut decl = new_decl(mk, Severity::Error);
                                decl.check = "metric";
                                let b = self.bound(mv, &mut decl, false);
                                let numeric = |x: &Option<Scalar>| {
                                    x.as_ref()
                                        .is_none_or(|x| x.as_f64().is_some_and(f64::is_finite))
                                };
                                if b.as_ref()
                                    .is_some_and(|b| !numeric(&b.min) || !numeric(&b.max))
                                {
                                    self.err(
                                        mv.pos,
                                        format!(
                                            "the bounds of `{}` must be finite numbers",
                                            mk.name
                                        ),
                                    );
                                }
                                b
                            }
                        };
                        e.metrics.push((mk.name.clone(), bound));
                    }
                }
                "slices" => match &v.kind {
                    NodeKind::Seq(_) => e.slices = self.strings(v, "`slices`").unwrap_or_default(),
                    _ => self.err(v.pos, "`slices` is a list of column names"),
                },
                "min_support" => match v.kind {
                    NodeKind::Int(n) if n >= 1 => e.min_support = n as usize,
                    _ => self.err(v.pos, "`min_support` must be a positive integer"),
                },
                "confidence" => {
                    let Some(cs) = self.map(v, "`confidence`") else {
                        continue;
                    };
                    let mut c = ConfidenceDecl {
                        level: 0.95,
                        resamples: 1000,
                        seed: 0,
                        gate_on_bound: false,
                    };
                    for (ck, cv) in cs {
                        match ck.name.as_str() {
                            "level" => c.level = self.fraction(cv, "`level`").unwrap_or(0.95),
                            "resamples" => match cv.kind {
                                NodeKind::Int(n) if (10..=100_000).contains(&n) => c.resamples = n as usize,
                                _ => self.err(cv.pos, "`resamples` must be an integer from 10 to 100000"),
                            },
                            "seed" => match cv.kind {
                                NodeKind::Int(n) if n >= 0 => c.seed = n as u64,
                                _ => self.err(cv.pos, "`seed` must be a non-negative integer"),
                            },
                            "gate" => match cv.scalar_text().as_deref() {
                                Some("bound") | Some("lower") => c.gate_on_bound = true,
                                Some("estimate") | Some("point") => c.gate_on_bound = false,
                                _ => self.err(cv.pos, "`gate` is `estimate` (default) or `bound` (the pessimistic end of the interval)"),
                            },
                            _ => self.unknown_key(ck, &["level", "resamples", "seed", "gate"], "`confidence`"),
                        }
                    }
                    e.confidence = Some(c);
                }
                "baseline" => {
                    let Some(bs) = self.map(v, "`baseline`") else {
                        continue;
                    };
                    let mut preds = None;
                    let mut max_drop = Vec::new();
                    for (bk, bv) in bs {
                        match bk.name.as_str() {
                            "predictions" => preds = self.predictions(bv),
                            "max_drop" => {
                                let Some(ds) = self.map(bv, "`max_drop`") else {
                                    continue;
                                };
                                for (dk, dv) in ds {
                                    if !crate::catalog::METRICS.contains(&dk.name.as_str()) {
                                        self.unknown_key(dk, crate::catalog::METRICS, "`max_drop`");
                                    } else if let Some(x) = self.number(dv, "a drop") {
                                        if x.is_finite() {
                                            max_drop.push((dk.name.clone(), x));
                                        } else {
                                            self.err(dv.pos, "a drop must be a finite number");
                                        }
                                    }
                                }
                            }
                            "model" => self.err(
                                bk.pos,
                                "a baseline `model` is not yet supported; give its `predictions`",
                            ),
                            _ => self.unknown_key(bk, &["predictions", "max_drop"], "`baseline`"),
                        }
                    }
                    match preds {
                        Some(p) => {
                            e.baseline = Some(BaselineDecl {
                                predictions: p,
                                max_drop,
                            })
                        }
                        None => self.err(v.pos, "`baseline` needs `predictions`"),
                    }
                }
                "severity" => e.severity = self.severity(v).unwrap_or(Severity::Error),
                _ => self.unknown_key(k, KEYS, &format!("evaluation `{}`", key.name)),
            }
        }
        if e.label.is_empty() {
            self.err(key.pos, format!("evaluation `{}` needs `label`", key.name));
        }
        match (e.model.is_some(), have_source, have_predictions) {
            (true, true, false) => {
                e.predictions.score = Some("__model".into());
                Some(e)
            }
            (false, false, true) => Some(e),
            (true, false, _) => {
                self.err(
                    key.pos,
                    format!(
                        "evaluation `{}` names a `model`: give the `source` it predicts on",
                        key.name
                    ),
                );
                None
            }
            _ => {
                self.err(
                    key.pos,
                    format!(
                        "evaluation `{}` needs `predictions`, or `model` with `source`",
                        key.name
                    ),
                );
                None
            }
        }
    }

    fn source(&mut self, key: &Key, node: &Node) -> Option<SourceDecl> {
        let mut src = SourceDecl {
            name: key.name.clone(),
            pos: key.pos,
            path: String::new(),
            format: None,
            csv: CsvOptions::default(),
            postgres: None,
        };
        if let NodeKind::Str(path) = &node.kind {
            src.path = path.clone();
            return Some(src);
        }
        let entries = self.map(node, &format!("source `{}`", key.name))?;
        const KEYS: &[&str] = &["path", "format", "csv", "postgres", "s3"];
        let mut have_path = false;
        for (k, v) in entries {
            match k.name.as_str() {
                "path" => {
                    src.path = self.string(v, "`path`")?;
                    have_path = true;
                }
                "format" => {
                    let name = self.string(v, "`format`")?;
                    src.format = Format::parse(&name);
                    if src.format.is_none() {
                        self.err(
                            v.pos,
                            format!(
                                "unknown format `{name}`: expected csv, parquet, json or arrow"
                            ),
                        );
                    }
                }
                "csv" => src.csv = self.csv_options(v)?,
                "postgres" => {
                    let pg = self.pg_source(v)?;
                    src.path = pg.table.clone();
                    src.postgres = Some(pg);
                    have_path = true;
                }
                "s3" => {
                    self.err(
                        k.pos,
                        format!(
                            "`{}` sources are not yet supported by this version of tollgate",
                            k.name
                        ),
                    );
                    return None;
                }
                _ => self.unknown_key(k, KEYS, &format!("source `{}`", key.name)),
            }
        }
        if !have_path {
            self.err(key.pos, format!("source `{}` has no `path`", key.name));
            return None;
        }
        Some(src)
    }

    fn pg_source(&mut self, node: &Node) -> Option<PgSourceDecl> {
        let entries = self.map(node, "`postgres`")?;
        const KEYS: &[&str] = &["url_env", "table"];
        let (mut url_env, mut table) = (None, None);
        for (k, v) in entries {
            match k.name.as_str() {
                "url_env" => url_env = self.string(v, "`url_env`"),
                "table" => table = self.string(v, "`table`"),
                _ => self.unknown_key(k, KEYS, "`postgres`"),
            }
        }
        let (Some(url_env), Some(table)) = (url_env, table) else {
            self.err(
                node.pos,
                "`postgres` needs `url_env` (the environment variable holding the URL) and `table` (`schema.table`)",
            );
            return None;
        };
        Some(PgSourceDecl { url_env, table })
    }

    fn csv_options(&mut self, node: &Node) -> Option<CsvOptions> {
        let entries = self.map(node, "`csv`")?;
        const KEYS: &[&str] = &[
            "delimiter",
            "header",
            "quote",
            "escape",
            "null_value",
            "newlines_in_values",
        ];
        let mut o = CsvOptions::default();
        for (k, v) in entries {
            let byte = |d: &mut Self, v: &Node| -> Option<u8> {
                let s = d.string(v, &format!("`{}`", k.name))?;
                let s = if s == "\\t" { "\t".to_string() } else { s };
                if s.len() == 1 {
                    Some(s.as_bytes()[0])
                } else {
                    d.err(v.pos, format!("`{}` must be one ASCII character", k.name));
                    None
                }
            };
            match k.name.as_str() {
                "delimiter" => o.delimiter = byte(self, v),
                "quote" => o.quote = byte(self, v),
                "escape" => o.escape = byte(self, v),
                "header" => o.header = self.boolean(v, "`header`"),
                "null_value" => o.null_value = self.string(v, "`null_value`"),
                "newlines_in_values" => {
                    o.newlines_in_values = self.boolean(v, "`newlines_in_values`")
                }
                _ => self.unknown_key(k, KEYS, "`csv`"),
            }
        }
        Some(o)
    }

    fn suite(&mut self, name: &str, node: &Node, in_plan: bool) -> SuiteDecl {
        let mut suite = SuiteDecl {
            name: name.to_string(),
            pos: node.pos,
            source: None,
            id_columns: Vec::new(),
            sample_size: 5,
            severity: Severity::Error,
            checks: Vec::new(),
        };
        let Some(entries) = self.map(node, &format!("suite `{name}`")) else {
            return suite;
        };
        const KEYS: &[&str] = &[
            "source",
            "id_columns",
            "sample_size",
            "severity",
            "table",
            "columns",
            "rows",
            "aggregates",
            "expectations",
            "description",
        ];
        // Severity first: it is the default of every check in the suite.
        if let Some((_, v)) = entries.iter().find(|(k, _)| k.name == "severity")
            && let Some(s) = self.severity(v)
        {
            suite.severity = s;
        }
        for (k, v) in entries {
            match k.name.as_str() {
                "source" => {
                    if !in_plan {
                        self.err(k.pos, "`source` belongs in a plan's suite; with `tollgate validate` the data is given on the command line");
                    }
                    suite.source = self.string(v, "`source`");
                }
                "id_columns" => {
                    suite.id_columns = self.strings(v, "`id_columns`").unwrap_or_default()
                }
                "sample_size" => match v.kind {
                    NodeKind::Int(n) if (0..=1000).contains(&n) => suite.sample_size = n as usize,
                    _ => self.err(v.pos, "`sample_size` must be an integer from 0 to 1000"),
                },
                "severity" | "description" => {}
                "table" => self.table(v, &mut suite),
                "columns" => {
                    let Some(cols) = self.map(v, "`columns`") else {
                        continue;
                    };
                    for (col, checks) in cols {
                        self.column(col, checks, &mut suite);
                    }
                }
                "rows" => self.rows(v, &mut suite),
                "aggregates" => self.aggregates(v, &mut suite),
                "expectations" => self.expectations(v, &mut suite),
                _ => self.unknown_key(k, KEYS, &format!("suite `{name}`")),
            }
        }
        suite
    }

    /// Split a check's argument into its main value and the common options of the long form.
    /// Returns the parameter entries that are left for the check itself.
    fn common<'a>(
        &mut self,
        node: &'a Node,
        allow_mostly: bool,
        decl: &mut CheckDecl,
    ) -> Vec<&'a (Key, Node)> {
        let NodeKind::Map(entries) = &node.kind else {
            return Vec::new();
        };
        let mut rest = Vec::new();
        for e in entries {
            match e.0.name.as_str() {
                "severity" => {
                    if let Some(s) = self.severity(&e.1) {
                        decl.severity = s;
                    }
                }
                "mostly" if allow_mostly => decl.mostly = self.fraction(&e.1, "`mostly`"),
                "mostly" => self.err(
                    e.0.pos,
                    format!(
                        "`{}` is computed over the whole column; `mostly` does not apply",
                        decl.check
                    ),
                ),
                _ => rest.push(e),
            }
        }
        rest
    }

    fn bound_from_entries(
        &mut self,
        entries: &[&(Key, Node)],
        check: &str,
        pos: Pos,
    ) -> Option<Bound> {
        const KEYS: &[&str] = &[
            "between",
            "at_least",
            "at_most",
            "equals",
            "greater_than",
            "less_than",
            "severity",
        ];
        let mut b = Bound::default();
        let mut any = false;
        for (k, v) in entries.iter().map(|e| (&e.0, &e.1)) {
            any = true;
            match k.name.as_str() {
                "between" => {
                    let NodeKind::Seq(items) = &v.kind else {
                        self.err(v.pos, "`between` must be a list of two values: [lo, hi]");
                        continue;
                    };
                    if items.len() != 2 {
                        self.err(v.pos, "`between` must be a list of two values: [lo, hi]");
                        continue;
                    }
                    if !matches!(items[0].kind, NodeKind::Null) {
                        b.min = self.scalar(&items[0], "a bound");
                    }
                    if !matches!(items[1].kind, NodeKind::Null) {
                        b.max = self.scalar(&items[1], "a bound");
                    }
                }
                "at_least" => b.min = self.scalar(v, "`at_least`"),
                "at_most" => b.max = self.scalar(v, "`at_most`"),
                "greater_than" => {
                    b.min = self.scalar(v, "`greater_than`");
                    b.strict_min = true;
                }
                "less_than" => {
                    b.max = self.scalar(v, "`less_than`");
                    b.strict_max = true;
                }
                "equals" => {
                    b.min = self.scalar(v, "`equals`");
                    b.max = b.min.clone();
                }
                _ => self.unknown_key(k, KEYS, &format!("the bounds of `{check}`")),
            }
        }
        if !any {
            self.err(
                pos,
                format!("`{check}` needs bounds: between, at_least, at_most or equals"),
            );
            return None;
        }
        Some(b)
    }

    /// A number-bound check: `check: 5` or `check: {between: [a, b], ...}`.
    fn bound(&mut self, node: &Node, decl: &mut CheckDecl, allow_mostly: bool) -> Option<Bound> {
        match &node.kind {
            NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Str(_) => {
                let v = self.scalar(node, "a bound")?;
                Some(Bound {
                    min: Some(v.clone()),
                    max: Some(v),
                    ..Bound::default()
                })
            }
            NodeKind::Seq(_) => {
                self.err(
                    node.pos,
                    format!(
                        "`{}` takes bounds as a map, e.g. `{{ between: [lo, hi] }}`",
                        decl.check
                    ),
                );
                None
            }
            NodeKind::Map(_) => {
                let rest = self.common(node, allow_mostly, decl);
                self.bound_from_entries(&rest, decl.check, node.pos)
            }
            _ => {
                self.err(
                    node.pos,
                    format!("`{}` needs bounds, found {}", decl.check, node.shape()),
                );
                None
            }
        }
    }

    /// Long form `{KEY: value, mostly, severity}` or short form `value`: returns the main value node.
    fn main_value<'a>(
        &mut self,
        node: &'a Node,
        key: &str,
        decl: &mut CheckDecl,
        allow_mostly: bool,
        extra: &[&str],
    ) -> (Option<&'a Node>, Vec<&'a (Key, Node)>) {
        if !matches!(node.kind, NodeKind::Map(_)) {
            return (Some(node), Vec::new());
        }
        let rest = self.common(node, allow_mostly, decl);
        let mut main = None;
        let mut others = Vec::new();
        for e in rest {
            if e.0.name == key {
                main = Some(&e.1);
            } else if extra.contains(&e.0.name.as_str()) {
                others.push(e);
            } else {
                let mut allowed = vec![key, "severity"];
                if allow_mostly {
                    allowed.push("mostly");
                }
                allowed.extend_from_slice(extra);
                self.unknown_key(&e.0, &allowed, &format!("`{}`", decl.check));
            }
        }
        if main.is_none() && key != "-" {
            self.err(node.pos, format!("`{}` needs `{key}`", decl.check));
        }
        (main, others)
    }

    fn table(&mut self, node: &Node, suite: &mut SuiteDecl) {
        let Some(entries) = self.map(node, "`table`") else {
            return;
        };
        let allowed: Vec<&str> = catalog::names(Scope::Table).collect();
        for (k, v) in entries {
            let mut decl = new_decl(k, suite.severity);
            let kind = match k.name.as_str() {
                "row_count" => {
                    decl.check = "row_count";
                    self.bound(v, &mut decl, false).map(CheckKind::RowCount)
                }
                "column_count" => {
                    decl.check = "column_count";
                    self.bound(v, &mut decl, false).map(CheckKind::ColumnCount)
                }
                "columns" => {
                    decl.check = "columns";
                    self.columns_check(v, &mut decl)
                }
                "unique" => {
                    decl.check = "unique";
                    let (main, _) = self.main_value(v, "columns", &mut decl, true, &[]);
                    main.and_then(|m| self.strings(m, "`unique` columns"))
                        .map(|cols| {
                            decl.columns_hint(&cols);
                            CheckKind::CompoundUnique(cols)
                        })
                }
                _ => {
                    let mut d = Diagnostic::new(k.pos, format!("unknown table check `{}`", k.name));
                    if let Some(s) = suggest(&k.name, allowed.iter().copied()) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    } else if catalog::names(Scope::Column).any(|c| c == k.name) {
                        d = d.with_help(format!(
                            "`{}` is a column check: write it under `columns: {{NAME: ...}}`",
                            k.name
                        ));
                    } else {
                        d = d.with_help(format!("table checks: {}", allowed.join(", ")));
                    }
                    self.diags.push(d);
                    None
                }
            };
            if let Some(kind) = kind {
                decl.kind = kind;
                suite.checks.push(decl);
            }
        }
    }

    fn columns_check(&mut self, node: &Node, decl: &mut CheckDecl) -> Option<CheckKind> {
        if let NodeKind::Seq(_) = node.kind {
            let cols = self.strings(node, "`columns`")?;
            return Some(CheckKind::Columns {
                exact: Some(cols),
                include: vec![],
                exclude: vec![],
                ordered: false,
            });
        }
        let rest = self.common(node, false, decl);
        let (mut exact, mut include, mut exclude, mut ordered) = (None, vec![], vec![], false);
        for (k, v) in rest.iter().map(|e| (&e.0, &e.1)) {
            match k.name.as_str() {
                "exact" => exact = self.strings(v, "`exact`"),
                "include" => include = self.strings(v, "`include`").unwrap_or_default(),
                "exclude" => exclude = self.strings(v, "`exclude`").unwrap_or_default(),
                "ordered" => ordered = self.boolean(v, "`ordered`").unwrap_or(false),
                _ => self.unknown_key(
                    k,
                    &["exact", "include", "exclude", "ordered", "severity"],
                    "`columns`",
                ),
            }
        }
        if ordered && exact.is_none() {
            self.err(node.pos, "`ordered: true` needs the `exact` list");
        }
        Some(CheckKind::Columns {
            exact,
            include,
            exclude,
            ordered,
        })
    }

    fn column(&mut self, col: &Key, node: &Node, suite: &mut SuiteDecl) {
        let Some(entries) = self.map(node, &format!("the checks of column `{}`", col.name)) else {
            return;
        };
        let allowed: Vec<&str> = catalog::names(Scope::Column).collect();
        for (k, v) in entries {
            let Some(&name) = allowed.iter().find(|n| **n == k.name) else {
                let mut d = Diagnostic::new(k.pos, format!("unknown column check `{}`", k.name));
                if let Some(s) = suggest(&k.name, allowed.iter().copied()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else {
                    d = d.with_help(format!("column checks: {}", allowed.join(", ")));
                }
                self.diags.push(d);
                continue;
            };
            let mut decl = new_decl(k, suite.severity);
            decl.check = name;
            decl.column = Some(col.name.clone());
            if let Some(kind) = self.column_check(name, v, &mut decl) {
                decl.kind = kind;
                suite.checks.push(decl);
            }
        }
    }

    fn flag(
        &mut self,
        v: &Node,
        decl: &mut CheckDecl,
        extra: &[&str],
    ) -> Option<Vec<(String, Node)>> {
        match &v.kind {
            NodeKind::Bool(true) => Some(Vec::new()),
            NodeKind::Bool(false) => None,
            NodeKind::Map(_) => {
                let (_, others) = self.main_value(v, "-", decl, true, extra);
                Some(
                    others
                        .into_iter()
                        .map(|(k, n)| (k.name.clone(), n.clone()))
                        .collect(),
                )
            }
            _ => {
                self.err(
                    v.pos,
                    format!(
                        "`{}` takes `true` or a map of options, found {}",
                        decl.check,
                        v.shape()
                    ),
                );
                None
            }
        }
    }

    fn column_check(
        &mut self,
        name: &'static str,
        v: &Node,
        decl: &mut CheckDecl,
    ) -> Option<CheckKind> {
        Some(match name {
            "type" => {
                let (main, _) = self.main_value(v, "name", decl, false, &[]);
                CheckKind::Type(self.string(main?, "`type`")?)
            }
            "not_null" => {
                self.flag(v, decl, &[])?;
                CheckKind::NotNull
            }
            "unique" => {
                self.flag(v, decl, &[])?;
                CheckKind::Unique
            }
            "null_fraction" => CheckKind::NullFraction(self.bound(v, decl, false)?),
            "between" => match &v.kind {
                NodeKind::Seq(items) if items.len() == 2 => {
                    let mut b = Bound::default();
                    if !matches!(items[0].kind, NodeKind::Null) {
                        b.min = Some(self.scalar(&items[0], "a bound")?);
                    }
                    if !matches!(items[1].kind, NodeKind::Null) {
                        b.max = Some(self.scalar(&items[1], "a bound")?);
                    }
                    CheckKind::Between(b)
                }
                NodeKind::Map(_) => {
                    let rest = self.common(v, true, decl);
                    let mut b = Bound::default();
                    for (k, n) in rest.iter().map(|e| (&e.0, &e.1)) {
                        match k.name.as_str() {
                            "min" if matches!(n.kind, NodeKind::Null) => {}
                            "max" if matches!(n.kind, NodeKind::Null) => {}
                            "min" => b.min = self.scalar(n, "`min`"),
                            "max" => b.max = self.scalar(n, "`max`"),
                            "strict_min" => {
                                b.strict_min = self.boolean(n, "`strict_min`").unwrap_or(false)
                            }
                            "strict_max" => {
                                b.strict_max = self.boolean(n, "`strict_max`").unwrap_or(false)
                            }
                            _ => self.unknown_key(
                                k,
                                &[
                                    "min",
                                    "max",
                                    "strict_min",
                                    "strict_max",
                                    "mostly",
                                    "severity",
                                ],
                                "`between`",
                            ),
                        }
                    }
                    if b.min.is_none() && b.max.is_none() {
                        self.err(v.pos, "`between` needs `min`, `max` or both");
                    }
                    if let (Some(lo), Some(hi)) = (
                        b.min.as_ref().and_then(Scalar::as_f64),
                        b.max.as_ref().and_then(Scalar::as_f64),
                    ) && lo > hi
                    {
                        self.err(v.pos, format!("`between` has min {lo} above max {hi}"));
                    }
                    CheckKind::Between(b)
                }
                _ => {
                    self.err(v.pos, "`between` takes [min, max] or { min, max, strict_min, strict_max, mostly }");
                    return None;
                }
            },
            "in_set" | "not_in_set" => {
                let (main, _) = self.main_value(v, "values", decl, true, &[]);
                let values = self.scalars(main?, &format!("`{name}`"))?;
                if name == "in_set" {
                    CheckKind::InSet(values)
                } else {
                    CheckKind::NotInSet(values)
                }
            }
            "matches" | "not_matches" => {
                let (main, _) = self.main_value(v, "regex", decl, true, &[]);
                let main = main?;
                let re = self.string(main, "`regex`")?;
                if let Err(e) = regex_syntax_check(&re) {
                    self.diags.push(
                        Diagnostic::new(main.pos, format!("invalid regex `{re}`: {e}")).with_help(
                            "tollgate uses Rust regex syntax (no look-around or back-references)",
                        ),
                    );
                    return None;
                }
                if name == "matches" {
                    CheckKind::Matches(re)
                } else {
                    CheckKind::NotMatches(re)
                }
            }
            "length" => CheckKind::Length(self.bound(v, decl, true)?),
            "increasing" | "decreasing" => {
                let opts = self.flag(v, decl, &["strict"])?;
                let mut strict = false;
                for (_, n) in &opts {
                    strict = self.boolean(n, "`strict`").unwrap_or(false);
                }
                if name == "increasing" {
                    CheckKind::Increasing { strict }
                } else {
                    CheckKind::Decreasing { strict }
                }
            }
            "date_format" => {
                let (main, _) = self.main_value(v, "format", decl, true, &[]);
                CheckKind::DateFormat(self.string(main?, "`format`")?)
            }
            "null" => {
                self.flag(v, decl, &[])?;
                CheckKind::Null
            }
            "date_parseable" => {
                self.flag(v, decl, &[])?;
                CheckKind::DateParseable
            }
            "json_parseable" => {
                self.flag(v, decl, &[])?;
                CheckKind::JsonParseable
            }
            "non_null_fraction" => CheckKind::NonNullFraction(self.bound(v, decl, false)?),
            "z_score" => match &v.kind {
                NodeKind::Int(_) | NodeKind::Float(_) => CheckKind::ZScore {
                    threshold: self.number(v, "`z_score`")?,
                    double_sided: true,
                },
                _ => {
                    let (main, others) =
                        self.main_value(v, "threshold", decl, true, &["double_sided"]);
                    let threshold = self.number(main?, "`threshold`")?;
                    let mut double_sided = true;
                    for (_, n) in others.iter().map(|e| (&e.0, &e.1)) {
                        double_sided = self.boolean(n, "`double_sided`").unwrap_or(true);
                    }
                    CheckKind::ZScore {
                        threshold,
                        double_sided,
                    }
                }
            },
            "min" => CheckKind::Min(self.bound(v, decl, false)?),
            "max" => CheckKind::Max(self.bound(v, decl, false)?),
            "mean" => CheckKind::Mean(self.bound(v, decl, false)?),
            "median" => CheckKind::Median(self.bound(v, decl, false)?),
            "stdev" => CheckKind::Stdev(self.bound(v, decl, false)?),
            "sum" => CheckKind::Sum(self.bound(v, decl, false)?),
            "distinct_count" => CheckKind::DistinctCount(self.bound(v, decl, false)?),
            "unique_fraction" => CheckKind::UniqueFraction(self.bound(v, decl, false)?),
            "quantiles" => {
                let entries = self.map(v, "`quantiles`")?;
                let mut qs = Vec::new();
                for (k, n) in entries {
                    if k.name == "severity" {
                        if let Some(s) = self.severity(n) {
                            decl.severity = s;
                        }
                        continue;
                    }
                    let Some(q) = k
                        .name
                        .parse::<f64>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                    else {
                        self.err(
                            k.pos,
                            format!(
                                "`quantiles` keys are quantiles between 0 and 1, found `{}`",
                                k.name
                            ),
                        );
                        continue;
                    };
                    let mut sub = decl.clone();
                    if let Some(b) = self.bound(n, &mut sub, false) {
                        qs.push((q, b));
                    }
                }
                if qs.is_empty() {
                    self.err(
                        v.pos,
                        "`quantiles` needs at least one `QUANTILE: {bounds}` entry",
                    );
                    return None;
                }
                CheckKind::Quantiles(qs)
            }
            "most_common_in_set" => {
                let (main, others) = self.main_value(v, "values", decl, false, &["ties_okay"]);
                let values = self.scalars(main?, "`most_common_in_set`")?;
                let mut ties_okay = false;
                for (_, n) in others.iter().map(|e| (&e.0, &e.1)) {
                    ties_okay = self.boolean(n, "`ties_okay`").unwrap_or(false);
                }
                CheckKind::MostCommonInSet { values, ties_okay }
            }
            "distinct_values" => {
                let rest = self.common(v, false, decl);
                let mut found = None;
                for (k, n) in rest.iter().map(|e| (&e.0, &e.1)) {
                    let mode = match k.name.as_str() {
                        "in" => SetMode::In,
                        "contain" => SetMode::Contain,
                        "equals" => SetMode::Equals,
                        _ => {
                            self.unknown_key(
                                k,
                                &["in", "contain", "equals", "severity"],
                                "`distinct_values`",
                            );
                            continue;
                        }
                    };
                    if found.is_some() {
                        self.err(
                            k.pos,
                            "`distinct_values` takes one of `in`, `contain` or `equals`",
                        );
                        continue;
                    }
                    found = Some((mode, self.scalars(n, "`distinct_values`")?));
                }
                let Some((mode, values)) = found else {
                    self.err(
                        v.pos,
                        "`distinct_values` needs one of `in`, `contain` or `equals`",
                    );
                    return None;
                };
                CheckKind::DistinctValues { mode, values }
            }
            _ => {
                self.err(
                    decl.pos,
                    format!(
                        "check `{name}` is in the catalogue but has no decoder (a tollgate bug)"
                    ),
                );
                return None;
            }
        })
    }

    fn rows(&mut self, node: &Node, suite: &mut SuiteDecl) {
        let NodeKind::Seq(items) = &node.kind else {
            self.err(
                node.pos,
                format!("`rows` must be a list of checks, found {}", node.shape()),
            );
            return;
        };
        let kinds: Vec<&str> = catalog::names(Scope::Row).collect();
        for item in items {
            let Some(entries) = self.map(item, "a row check") else {
                continue;
            };
            let mut decl = CheckDecl {
                check: "condition",
                pos: item.pos,
                column: None,
                kind: CheckKind::Condition(String::new()),
                mostly: None,
                severity: suite.severity,
                name: None,
                gx_type: None,
                filter: None,
                ignore_row_if: None,
                result_format: None,
            };
            let mut kind = None;
            for (k, v) in entries {
                match k.name.as_str() {
                    "name" => decl.name = self.string(v, "`name`"),
                    "mostly" => decl.mostly = self.fraction(v, "`mostly`"),
                    "severity" => decl.severity = self.severity(v).unwrap_or(decl.severity),
                    "condition" | "compare" | "equal" | "sum_equals" => {
                        if kind.is_some() {
                            self.err(k.pos, "a row check has exactly one of `condition`, `compare`, `equal`, `sum_equals`");
                            continue;
                        }
                        decl.pos = k.pos;
                        kind = self.row_kind(&k.name, v, &mut decl);
                    }
                    _ => {
                        let mut allowed = kinds.clone();
                        allowed.extend(["name", "mostly", "severity"]);
                        self.unknown_key(k, &allowed, "a row check");
                    }
                }
            }
            match kind {
                Some(kind) => {
                    decl.kind = kind;
                    suite.checks.push(decl);
                }
                None if !entries
                    .iter()
                    .any(|(k, _)| kinds.contains(&k.name.as_str())) =>
                {
                    self.err(
                        item.pos,
                        "a row check needs one of `condition`, `compare`, `equal`, `sum_equals`",
                    )
                }
                None => {}
            }
        }
    }

    fn row_kind(&mut self, key: &str, v: &Node, decl: &mut CheckDecl) -> Option<CheckKind> {
        match key {
            "condition" => {
                decl.check = "condition";
                Some(CheckKind::Condition(self.string(v, "`condition`")?))
            }
            "compare" => {
                decl.check = "compare";
                let parts = self.strings(v, "`compare`")?;
                let [left, op, right] = parts.as_slice() else {
                    self.err(
                        v.pos,
                        "`compare` takes [left, op, right], e.g. [end, '>=', start]",
                    );
                    return None;
                };
                let op = match op.as_str() {
                    ">" => CompareOp::Gt,
                    ">=" => CompareOp::Ge,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    "=" | "==" => CompareOp::Eq,
                    "!=" | "<>" => CompareOp::Ne,
                    _ => {
                        self.err(
                            v.pos,
                            format!("unknown operator `{op}`: expected one of > >= < <= = !="),
                        );
                        return None;
                    }
                };
                Some(CheckKind::Compare {
                    left: left.clone(),
                    op,
                    right: right.clone(),
                })
            }
            "equal" => {
                decl.check = "equal";
                let parts = self.strings(v, "`equal`")?;
                let [left, right] = parts.as_slice() else {
                    self.err(v.pos, "`equal` takes two column names");
                    return None;
                };
                Some(CheckKind::Compare {
                    left: left.clone(),
                    op: CompareOp::Eq,
                    right: right.clone(),
                })
            }
            "sum_equals" => {
                decl.check = "sum_equals";
                let entries = self.map(v, "`sum_equals`")?;
                let (mut columns, mut total) = (None, None);
                for (k, n) in entries {
                    match k.name.as_str() {
                        "columns" => columns = self.strings(n, "`columns`"),
                        "total" => total = self.number(n, "`total`"),
                        _ => self.unknown_key(k, &["columns", "total"], "`sum_equals`"),
                    }
                }
                match (columns, total) {
                    (Some(columns), Some(total)) if !columns.is_empty() => {
                        Some(CheckKind::SumEquals { columns, total })
                    }
                    _ => {
                        self.err(v.pos, "`sum_equals` needs `columns` (a list) and `total`");
                        None
                    }
                }
            }
            _ => None,
        }
    }

    /// Great Expectations expectations written as GX writes them (`type` or `expectation_type`
    /// with `kwargs`), mapped to native checks that keep their `gx_type`.
    fn expectations(&mut self, node: &Node, suite: &mut SuiteDecl) {
        let NodeKind::Seq(items) = &node.kind else {
            self.err(
                node.pos,
                format!("`expectations` must be a list, found {}", node.shape()),
            );
            return;
        };
        for item in items {
            let json = node_to_json(item);
            match crate::gx::expectation_from_json(&json) {
                Ok(mut e) => {
                    e.pos = item.pos;
                    match crate::gx::to_check(&e) {
                        Ok(mut c) => {
                            if c.severity == Severity::Error {
                                c.severity = suite.severity;
                            }
                            suite.checks.push(c)
                        }
                        Err(msg) => self.err(item.pos, msg),
                    }
                }
                Err(msg) => self.err(item.pos, msg),
            }
        }
    }

    fn aggregates(&mut self, node: &Node, suite: &mut SuiteDecl) {
        let NodeKind::Seq(items) = &node.kind else {
            self.err(
                node.pos,
                format!("`aggregates` must be a list, found {}", node.shape()),
            );
            return;
        };
        for item in items {
            let mut decl = CheckDecl {
                check: "aggregate",
                pos: item.pos,
                column: None,
                kind: CheckKind::Condition(String::new()),
                mostly: None,
                severity: suite.severity,
                name: None,
                gx_type: None,
                filter: None,
                ignore_row_if: None,
                result_format: None,
            };
            let Some(entries) = self.map(item, "an aggregate check") else {
                continue;
            };
            let mut sql = None;
            let mut rest = Vec::new();
            for e in entries {
                match e.0.name.as_str() {
                    "name" => decl.name = self.string(&e.1, "`name`"),
                    "sql" => sql = self.string(&e.1, "`sql`"),
                    "severity" => decl.severity = self.severity(&e.1).unwrap_or(decl.severity),
                    _ => rest.push(e),
                }
            }
            let bound = self.bound_from_entries(&rest, "aggregate", item.pos);
            match (sql, bound) {
                (Some(sql), Some(bound)) => {
                    decl.kind = CheckKind::Aggregate { sql, bound };
                    suite.checks.push(decl);
                }
                (None, _) => self.err(item.pos, "an aggregate check needs `sql`"),
                _ => {}
            }
        }
    }
}

impl CheckDecl {
    fn columns_hint(&mut self, cols: &[String]) {
        if cols.len() == 1 {
            self.column = Some(cols[0].clone());
        }
    }
}

fn new_decl(k: &Key, severity: Severity) -> CheckDecl {
    CheckDecl {
        check: "",
        pos: k.pos,
        column: None,
        kind: CheckKind::NotNull,
        mostly: None,
        severity,
        name: None,
        gx_type: None,
        filter: None,
        ignore_row_if: None,
        result_format: None,
    }
}

/// Compile the regex now so that plan errors are found before any data is read; DataFusion's
/// regex functions use the same `regex` crate, so the syntax is the same.
fn regex_syntax_check(re: &str) -> Result<(), String> {
    regex::Regex::new(re).map(|_| ()).map_err(|e| {
        e.to_string()
            .lines()
            .last()
            .unwrap_or("invalid")
            .trim()
            .to_string()
    })
}

/// Quote a column name as a SQL identifier.
pub fn quote_ident(c: &str) -> String {
    format!("\"{}\"", c.replace('"', "\"\""))
}

/// A YAML node as JSON (for GX kwargs).
pub fn node_to_json(n: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &n.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => Value::from(*i),
        NodeKind::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        NodeKind::Str(s) => Value::String(s.clone()),
        NodeKind::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.name.clone(), node_to_json(v)))
                .collect(),
        ),
    }
}

/// Suites grouped by source name, in plan order (helper for runners).
pub fn suites_by_source(plan: &Plan) -> BTreeMap<&str, Vec<&SuiteDecl>> {
    let mut m: BTreeMap<&str, Vec<&SuiteDecl>> = BTreeMap::new();
    for s in &plan.suites {
        if let Some(src) = &s.source {
            m.entry(src.as_str()).or_default().push(s);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(text: &str) -> SuiteDecl {
        parse_suite(text, "s").unwrap_or_else(|d| panic!("{}", d.render(Some(text))))
    }

    fn errors(text: &str) -> Vec<String> {
        match parse_suite(text, "s") {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(d) => {
                d.0.iter()
                    .map(|d| {
                        format!(
                            "{}: {}{}",
                            d.pos,
                            d.message,
                            d.help
                                .as_deref()
                                .map(|h| format!(" ({h})"))
                                .unwrap_or_default()
                        )
                    })
                    .collect()
            }
        }
    }

    #[test]
    fn the_plan_names_where_suites_run() {
        let plan = |e: &str| parse_plan(&format!("version: 1\nengine: {e}\n"));
        for ok in ["local", "ballista:standalone", "ballista://sched:50050"] {
            let p = plan(ok).unwrap_or_else(|d| panic!("{ok}: {}", d.render(None)));
            assert_eq!(p.engine.as_deref(), Some(ok));
        }
        assert_eq!(parse_plan("version: 1\n").map(|p| p.engine), Ok(None));
        let d = plan("spark://x").map(|_| ()).expect_err("unknown engine");
        assert!(
            d.0[0].message.contains("unknown `engine` `spark://x`"),
            "{:?}",
            d.0
        );
        assert_eq!(d.0[0].pos.line, 2);
    }

    #[test]
    fn short_and_long_forms_mean_the_same() {
        let a = suite(
            "columns:\n  x: { between: [0, 10], in_set: [a, b], matches: '^x', not_null: true }\n",
        );
        let b = suite(
            "columns:\n  x:\n    between: { min: 0, max: 10 }\n    in_set: { values: [a, b] }\n    matches: { regex: '^x' }\n    not_null: { mostly: 1.0 }\n",
        );
        let kinds = |s: &SuiteDecl| s.checks.iter().map(|c| c.kind.clone()).collect::<Vec<_>>();
        assert_eq!(kinds(&a), kinds(&b));
        assert_eq!(b.checks[3].mostly, Some(1.0));
    }

    #[test]
    fn bounds_vocabulary() {
        let s = suite(
            "table:\n  row_count: { at_least: 5 }\ncolumns:\n  x: { mean: { greater_than: 1, at_most: 3 }, sum: 7 }\n",
        );
        assert_eq!(
            s.checks[0].kind,
            CheckKind::RowCount(Bound {
                min: Some(Scalar::Int(5)),
                ..Bound::default()
            })
        );
        assert_eq!(
            s.checks[1].kind,
            CheckKind::Mean(Bound {
                min: Some(Scalar::Int(1)),
                max: Some(Scalar::Int(3)),
                strict_min: true,
                strict_max: false
            })
        );
        assert_eq!(
            s.checks[2].kind,
            CheckKind::Sum(Bound {
                min: Some(Scalar::Int(7)),
                max: Some(Scalar::Int(7)),
                ..Bound::default()
            })
        );
    }

    #[test]
    fn severity_and_mostly() {
        let s = suite(
            "severity: warn\ncolumns:\n  x: { in_set: { values: [1], mostly: 0.9, severity: error }, not_null: true }\n",
        );
        assert_eq!(s.checks[0].severity, Severity::Error);
        assert_eq!(s.checks[0].mostly, Some(0.9));
        assert_eq!(
            s.checks[1].severity,
            Severity::Warn,
            "the suite's severity is the default"
        );
    }

    #[test]
    fn not_null_false_declares_nothing() {
        assert!(
            suite("columns:\n  x: { not_null: false }\n")
                .checks
                .is_empty()
        );
    }

    #[test]
    fn every_error_is_collected_with_its_position() {
        let e = errors(
            "columns:\n  x: { betwen: [0, 1], in_set: 3 }\n  y: { mean: { mostly: 0.5, at_least: 1 } }\nrows:\n  - { name: a }\n",
        );
        assert_eq!(
            e,
            vec![
                "2:8: unknown column check `betwen` (did you mean `between`?)",
                "2:32: `in_set` must be a list of values, found an integer",
                "3:16: `mean` is computed over the whole column; `mostly` does not apply",
                "5:5: a row check needs one of `condition`, `compare`, `equal`, `sum_equals`",
            ]
        );
    }

    #[test]
    fn bad_values_are_rejected() {
        let e = errors("columns:\n  x: { matches: '(unclosed', not_null: { mostly: 2 } }\n");
        assert!(e[0].starts_with("2:17: invalid regex `(unclosed`"), "{e:?}");
        assert_eq!(e[1], "2:50: `mostly` must be between 0 and 1, found 2");
        let e = errors("table: { not_null: true }\n");
        assert_eq!(
            e,
            vec![
                "1:10: unknown table check `not_null` (`not_null` is a column check: write it under `columns: {NAME: ...}`)"
            ]
        );
        let e = errors("columns: [a, b]\n");
        assert_eq!(e, vec!["1:10: `columns` must be a map, found a list"]);
        let e = errors("rows:\n  - { compare: [a, '=>', b] }\n");
        assert_eq!(
            e,
            vec!["2:16: unknown operator `=>`: expected one of > >= < <= = !="]
        );
    }

    #[test]
    fn yaml_syntax_errors_have_positions() {
        let e = errors("columns:\n  x: { between: [0, 1 }\n");
        assert!(
            e[0].starts_with("2:") && e[0].contains("YAML syntax error"),
            "{e:?}"
        );
    }

    #[test]
    fn plans_check_sources_and_sections() {
        let text = "version: 1\nsources:\n  a: { path: a.csv, format: csv, csv: { delimiter: ';' } }\nsuites:\n  s1: { source: b }\n  s2: { source: a, columns: { x: { not_null: true } } }\ndiffs:\n  d: { expected: a, actual: a.csv, key: id, added_columns: maybe }\n";
        let d = parse_plan(text).expect_err("errors");
        let msgs: Vec<String> =
            d.0.iter()
                .map(|d| format!("{}: {}", d.pos, d.message))
                .collect();
        assert_eq!(
            msgs,
            vec![
                "5:7: suite `s1` names source `b`, which is not declared under `sources`",
                "8:60: `added_columns` is `error` or `ignore`, not `maybe`",
            ]
        );
        let plan = parse_plan("version: 1\nsources:\n  a: data/a.parquet\nsuites:\n  s: { source: a, table: { row_count: 1 } }\n").expect("plan");
        assert_eq!(plan.sources[0].path, "data/a.parquet");
        assert_eq!(plan.suites[0].checks.len(), 1);
        assert!(parse_plan("version: 2\n").is_err());
    }

    #[test]
    fn formats_from_file_names() {
        assert_eq!(Format::from_path("x/part-0.csv.gz"), Some(Format::Csv));
        assert_eq!(Format::from_path("a.PARQUET"), Some(Format::Parquet));
        assert_eq!(Format::from_path("a.jsonl.zst"), Some(Format::Json));
        assert_eq!(Format::from_path("a.arrow"), Some(Format::Arrow));
        assert_eq!(Format::from_path("a.xlsx"), None);
    }
}
