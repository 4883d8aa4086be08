//! The pipeline of Eugene Yan's "Writing Robust Tests for Data & Machine Learning Pipelines"
//! (<https://eugeneyan.com/writing/testing-pipelines/>), on Apache DataFusion, in its two
//! versions.
//!
//! ```text
//! logs.csv             one row per request: the slate shown, and the item clicked, if any
//!   │ read_logs          (every field read as text; bad rows rejected, naming file and line)
//!   │ logs_to_events     v2 first keeps only the visible impressions (updated_impressions)
//!   ▼
//! events.csv           one row per impression and per click: request_id, item, position, event_type
//!   │ events_to_aggregates
//!   ▼
//! aggregates.csv       one row per item: item, click, impress
//!   │ aggregates_to_ctr  the naive model: clicks / impressions, -1 for an unknown item
//!   ▼
//! ctr.csv              one row per item asked for: item_id, ctr
//! ```
//!
//! Each step is a function from DataFrame to DataFrame, so that it can be tested alone; the
//! rules they apply to one value or one row are the pure functions of [`rows`], called through
//! the scalar functions of [`udf`]. [`run`] chains the steps and [`write_outputs`] writes the
//! CSV files that tollgate plans read. [`generate`] writes larger logs.
//!
//! Errors: [`PipelineError::Input`] and [`PipelineError::InvalidRows`] are the user's (a
//! missing file, a missing column, a malformed row; they name the file and the line);
//! [`PipelineError::Io`] is the machine's; [`PipelineError::Engine`] is a bug of this crate
//! (the steps only run on validated logs).
#![deny(missing_docs)]

pub mod generate;
pub mod rows;
pub mod udf;

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::JoinType;
use datafusion::common::cast::as_string_array;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::{cast, col, lit, when};
use datafusion::prelude::{CsvReadOptions, DataFrame, SessionConfig, SessionContext};

/// The pipeline's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// Counts every server-side impression.
    V1,
    /// Reads the client-side `impressions_visible` column and counts only the impressions that
    /// were visible (when the client logged them).
    V2,
}

impl Version {
    /// The columns of the logs this version reads.
    pub fn log_columns(self) -> &'static [&'static str] {
        match self {
            Version::V1 => &["request_id", "impressions", "event_item", "event_type"],
            Version::V2 => &[
                "request_id",
                "impressions",
                "impressions_visible",
                "event_item",
                "event_type",
            ],
        }
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "v1" | "1" => Ok(Version::V1),
            "v2" | "2" => Ok(Version::V2),
            other => Err(format!("unknown version `{other}` (expected v1 or v2)")),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        })
    }
}

/// One bad row of an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The line of the file (the header is line 1).
    pub line: usize,
    /// The request id, when the row has one.
    pub request_id: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request {id})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// At most this many bad rows are listed; the error still counts them all.
pub const MAX_LISTED_PROBLEMS: usize = 5;

/// Why the pipeline did not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// An input file cannot be used as a whole (missing, not CSV, a column missing).
    #[error("{}: {message}", file.display())]
    Input {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Rows of an input file break its contract.
    #[error("{}: {count} invalid row(s):\n{}", file.display(), list(problems, *count))]
    InvalidRows {
        /// The file.
        file: PathBuf,
        /// The first [`MAX_LISTED_PROBLEMS`] bad rows.
        problems: Vec<RowProblem>,
        /// How many rows are bad.
        count: usize,
    },
    /// An output could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// DataFusion failed on validated input: a bug of this crate.
    #[error("internal error (please report): {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
}

fn list(problems: &[RowProblem], count: usize) -> String {
    let mut s: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    if count > problems.len() {
        s.push(format!("  ... and {} more", count - problems.len()));
    }
    s.join("\n")
}

/// Shorthand for this crate's results.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// A session for the pipeline.
pub fn new_context() -> SessionContext {
    SessionContext::new()
}

/// Read a CSV file with every column as text, in file order, so that a row's index gives its
/// line. The header must hold `required`.
async fn read_text_csv(path: &Path, required: &[&str]) -> Result<Vec<RecordBatch>> {
    let input = |message: String| PipelineError::Input {
        file: path.to_path_buf(),
        message,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(input("not a file".into())),
        Err(e) => return Err(input(format!("cannot be read: {e}"))),
    }
    // One partition: the batches come back in file order.
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
    let name = path.to_string_lossy();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let opts = || CsvReadOptions::new().file_extension(&ext);
    let inferred = ctx
        .read_csv(name.as_ref(), opts())
        .await
        .map_err(|e| input(format!("cannot be read as CSV: {e}")))?;
    let names: Vec<String> = inferred
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !names.iter().any(|n| n == c))
        .collect();
    if names.is_empty() {
        return Err(input("has no header".into()));
    }
    if !missing.is_empty() {
        return Err(input(format!(
            "missing column(s) {} (the header has: {})",
            missing.join(", "),
            names.join(", ")
        )));
    }
    let text = Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let batches = ctx
        .read_csv(name.as_ref(), opts().schema(&text))
        .await
        .map_err(|e| input(format!("cannot be read as CSV: {e}")))?
        .collect()
        .await
        .map_err(|e| input(format!("cannot be read as CSV: {e}")))?;
    // A header without rows: an empty frame that still has the columns.
    Ok(if batches.is_empty() {
        vec![RecordBatch::new_empty(std::sync::Arc::new(text))]
    } else {
        batches
    })
}

fn text_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<Option<&'a StringArray>> {
    match batch.column_by_name(name) {
        Some(c) => Ok(Some(as_string_array(c)?)),
        None => Ok(None),
    }
}

fn value(a: Option<&StringArray>, i: usize) -> Option<&str> {
    a.filter(|a| a.is_valid(i)).map(|a| a.value(i))
}

/// Check one log row; `None` when it is fine.
fn check_log_row(
    version: Version,
    request_id: Option<&str>,
    impressions: Option<&str>,
    visible: Option<&str>,
    event_item: Option<&str>,
    event_type: Option<&str>,
) -> Option<String> {
    if request_id.is_none_or(str::is_empty) {
        return Some("`request_id` is empty".into());
    }
    let Some(impressions) = impressions else {
        return Some("`impressions` is empty".into());
    };
    if let Err(e) = rows::parse_items(impressions) {
        return Some(format!("`impressions`: {e}"));
    }
    if version == Version::V2
        && let Some(Err(e)) = visible.map(rows::parse_items)
    {
        return Some(format!("`impressions_visible`: {e}"));
    }
    match event_type {
        Some("impress") => None,
        Some("click") if event_item.is_none_or(str::is_empty) => {
            Some("a click without `event_item`".into())
        }
        Some("click") => None,
        Some(other) => Some(format!(
            "`event_type` is {other:?} (expected impress or click)"
        )),
        None => Some("`event_type` is empty".into()),
    }
}

/// Read and validate a log file: a CSV whose header has the columns of `version`
/// ([`Version::log_columns`]; other columns are kept and ignored). Every column is text.
///
/// Each row must have a request id, a well-formed slate (`i1|i2|...`), an event type of
/// `impress` or `click`, and a clicked item when it is a click; in version 2, a present
/// `impressions_visible` must be a well-formed slate. Otherwise the error lists the bad rows
/// with their line numbers.
pub async fn read_logs(ctx: &SessionContext, path: &Path, version: Version) -> Result<DataFrame> {
    let batches = read_text_csv(path, version.log_columns()).await?;
    let mut problems = Vec::new();
    let mut count = 0;
    let mut line = 1;
    for b in &batches {
        let id = text_column(b, "request_id")?;
        let imp = text_column(b, "impressions")?;
        let vis = text_column(b, "impressions_visible")?;
        let item = text_column(b, "event_item")?;
        let kind = text_column(b, "event_type")?;
        for i in 0..b.num_rows() {
            line += 1;
            let request_id = value(id, i);
            if let Some(message) = check_log_row(
                version,
                request_id,
                value(imp, i),
                value(vis, i),
                value(item, i),
                value(kind, i),
            ) {
                count += 1;
                if problems.len() < MAX_LISTED_PROBLEMS {
                    problems.push(RowProblem {
                        line,
                        request_id: request_id.filter(|s| !s.is_empty()).map(String::from),
                        message,
                    });
                }
            }
        }
    }
    if count > 0 {
        return Err(PipelineError::InvalidRows {
            file: path.to_path_buf(),
            problems,
            count,
        });
    }
    Ok(ctx.read_batches(batches)?)
}

/// Read the items to score: a CSV with an `item_id` column; every row needs an id, and an item
/// listed twice is scored once.
pub async fn read_items(ctx: &SessionContext, path: &Path) -> Result<DataFrame> {
    let batches = read_text_csv(path, &["item_id"]).await?;
    let mut problems = Vec::new();
    let mut count = 0;
    let mut line = 1;
    for b in &batches {
        let id = text_column(b, "item_id")?;
        for i in 0..b.num_rows() {
            line += 1;
            if value(id, i).is_none_or(str::is_empty) {
                count += 1;
                if problems.len() < MAX_LISTED_PROBLEMS {
                    problems.push(RowProblem {
                        line,
                        request_id: None,
                        message: "`item_id` is empty".into(),
                    });
                }
            }
        }
    }
    if count > 0 {
        return Err(PipelineError::InvalidRows {
            file: path.to_path_buf(),
            problems,
            count,
        });
    }
    Ok(ctx
        .read_batches(batches)?
        .select(vec![col("item_id")])?
        .distinct()?)
}

/// Version 2's first step: replace each request's `impressions` by the impressions to count
/// ([`rows::updated_impressions`]) and drop `impressions_visible`.
pub fn apply_visible_impressions(logs: DataFrame) -> Result<DataFrame> {
    Ok(logs
        .with_column(
            "impressions",
            udf::updated_impressions(col("impressions"), col("impressions_visible")),
        )?
        .drop_columns(&["impressions_visible"])?)
}

/// One impression event per item of each slate: `request_id, item, position, event_type`
/// (`impress`), the position counted from 1 in each slate. The column-level step: it turns
/// the `impressions` column into the `item` and `position` columns.
pub fn impress_events(logs: DataFrame) -> Result<DataFrame> {
    Ok(logs
        .select(vec![
            col("request_id"),
            udf::split_items(col("impressions")).alias("item"),
            udf::item_positions(col("impressions")).alias("position"),
        ])?
        .unnest_columns(&["item", "position"])?
        .with_column("event_type", lit("impress"))?)
}

/// One click event per click log: `request_id, item, position, event_type` (`click`), the
/// position being [`rows::click_position`] of the item in the slate.
pub fn click_events(logs: DataFrame) -> Result<DataFrame> {
    Ok(logs
        .filter(col("event_type").eq(lit("click")))?
        .select(vec![
            col("request_id"),
            col("event_item").alias("item"),
            udf::click_position(col("impressions"), col("event_item")).alias("position"),
            col("event_type"),
        ])?)
}

/// Request-level logs to item-level events: `request_id, item, position, event_type`, sorted by
/// request, impressions before clicks, then position.
pub fn logs_to_events(logs: DataFrame, version: Version) -> Result<DataFrame> {
    let logs = match version {
        Version::V1 => logs,
        Version::V2 => apply_visible_impressions(logs)?,
    };
    let impressions = impress_events(logs.clone())?;
    let clicks = click_events(logs)?;
    Ok(impressions.union(clicks)?.sort(vec![
        col("request_id").sort(true, false),
        col("event_type").sort(false, false),
        col("position").sort(true, false),
    ])?)
}

/// Events to one row per item: `item, click, impress` (the counts of each event type), sorted
/// by item.
pub fn events_to_aggregates(events: DataFrame) -> Result<DataFrame> {
    let count_of = |kind: &str| -> Result<_> {
        let one_if = when(col("event_type").eq(lit(kind)), lit(1i64)).otherwise(lit(0i64))?;
        Ok(sum(one_if).alias(kind))
    };
    Ok(events
        .aggregate(
            vec![col("item")],
            vec![count_of("click")?, count_of("impress")?],
        )?
        .sort(vec![col("item").sort(true, false)])?)
}

/// Batch inference of the naive model fitted on the aggregates: `item_id, ctr` for every item
/// of `items` (a frame with an `item_id` column), or of the aggregates when `items` is `None`;
/// [`rows::naive_ctr`] gives [`rows::COLD_START_CTR`] to items without impressions. Sorted by
/// item.
pub fn aggregates_to_ctr(aggregates: DataFrame, items: Option<DataFrame>) -> Result<DataFrame> {
    let items = match items {
        Some(items) => items.select(vec![cast(col("item_id"), DataType::Utf8).alias("item_id")])?,
        None => aggregates
            .clone()
            .select(vec![col("item").alias("item_id")])?,
    };
    Ok(items
        .join(aggregates, JoinType::Left, &["item_id"], &["item"], None)?
        .select(vec![
            col("item_id"),
            udf::naive_ctr(col("click"), col("impress")).alias("ctr"),
        ])?
        .sort(vec![col("item_id").sort(true, false)])?)
}

/// The frames of one run.
#[derive(Debug)]
pub struct Outputs {
    /// The logs as read (every column as text).
    pub logs: DataFrame,
    /// [`logs_to_events`].
    pub events: DataFrame,
    /// [`events_to_aggregates`].
    pub aggregates: DataFrame,
    /// [`aggregates_to_ctr`].
    pub ctr: DataFrame,
}

/// Read the logs (and the items, when given) and chain the steps. Nothing is computed until the
/// frames are collected or written.
pub async fn run(
    ctx: &SessionContext,
    logs: &Path,
    items: Option<&Path>,
    version: Version,
) -> Result<Outputs> {
    let logs = read_logs(ctx, logs, version).await?;
    let items = match items {
        Some(p) => Some(read_items(ctx, p).await?),
        None => None,
    };
    let events = logs_to_events(logs.clone(), version)?;
    let aggregates = events_to_aggregates(events.clone())?;
    let ctr = aggregates_to_ctr(aggregates.clone(), items)?;
    Ok(Outputs {
        logs,
        events,
        aggregates,
        ctr,
    })
}

/// The files [`write_outputs`] writes, in order.
pub const OUTPUT_FILES: &[&str] = &["logs.csv", "events.csv", "aggregates.csv", "ctr.csv"];

/// Write a frame as one CSV file with a header (also when it has no rows).
pub async fn write_csv(df: DataFrame, path: &Path) -> Result<()> {
    let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    let mut batches = df.collect().await?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        batches = vec![RecordBatch::new_empty(schema)];
    }
    let io = |source| PipelineError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = datafusion::arrow::csv::WriterBuilder::new()
        .with_header(true)
        .build(std::io::BufWriter::new(file));
    for b in &batches {
        w.write(b).map_err(|e| io(std::io::Error::other(e)))?;
    }
    w.into_inner().flush().map_err(io)
}

/// Write `logs.csv`, `events.csv`, `aggregates.csv` and `ctr.csv` into `dir` (created if
/// needed).
pub async fn write_outputs(outputs: &Outputs, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| PipelineError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let frames = [
        &outputs.logs,
        &outputs.events,
        &outputs.aggregates,
        &outputs.ctr,
    ];
    for (df, name) in frames.into_iter().zip(OUTPUT_FILES) {
        write_csv(df.clone(), &dir.join(name)).await?;
    }
    Ok(())
}

/// [`run`] then [`write_outputs`]: the whole pipeline, as the `pipeline` binary runs it.
pub async fn run_to_dir(
    logs: &Path,
    items: Option<&Path>,
    version: Version,
    out: &Path,
) -> Result<Outputs> {
    let ctx = new_context();
    let outputs = run(&ctx, logs, items, version).await?;
    write_outputs(&outputs, out).await?;
    Ok(outputs)
}
