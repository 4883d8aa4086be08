//! The `tollgate` binary: flags, plan discovery, output files and exit codes. Everything a
//! library user would also need lives in the library crates.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tollgate::{Engine, EngineOptions, EngineSpec, RunReport, Status};
use tollgate_report::{Format, TextOptions};

#[derive(Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Tests for data and machine-learning pipelines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every test of a plan (tollgate.yaml); FILTER keeps tests whose name contains it.
    Test {
        /// The plan file, or a directory holding tollgate.yaml (default: ./tollgate.yaml).
        plan: Option<String>,
        /// Run only tests whose name contains this text.
        filter: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Run one data suite (YAML) on one dataset.
    Validate {
        /// A file, a glob, a directory of part files, or a PostgreSQL table:
        /// postgres://user[:password]@host[:port]/database?table=schema.table (the password may
        /// come from PGPASSWORD).
        data: String,
        /// The suite file.
        #[arg(long)]
        suite: PathBuf,
        /// Data format when the file name does not tell (csv, parquet, json, arrow).
        #[arg(long = "data-format")]
        data_format: Option<String>,
        /// CSV field delimiter.
        #[arg(long)]
        delimiter: Option<char>,
        #[command(flatten)]
        common: Common,
    },
    /// Metrics and gates from a predictions file (label column + score or predicted columns).
    Eval {
        /// The predictions: a file, a glob or a directory.
        predictions: String,
        /// The label column.
        #[arg(long)]
        label: String,
        /// Probability of the positive class (binary).
        #[arg(long)]
        score: Option<String>,
        /// Predicted label or regression value.
        #[arg(long)]
        predicted: Option<String>,
        /// One probability column per class, comma separated, in class order (multiclass).
        #[arg(long, value_delimiter = ',')]
        probabilities: Vec<String>,
        /// Threshold of the score for predicted labels.
        #[arg(long, default_value_t = 0.5)]
        threshold: f64,
        /// binary, multiclass or regression (guessed from the columns when absent).
        #[arg(long)]
        task: Option<String>,
        /// A metric to report (repeatable; default: the usual ones for the task).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// A gate, e.g. `roc_auc>=0.84`, `log_loss<=0.5` (repeatable).
        #[arg(long = "gate")]
        gates: Vec<String>,
        /// Report every metric per value of this column (repeatable).
        #[arg(long = "slice")]
        slices: Vec<String>,
        /// Slices with fewer rows are reported but not gated.
        #[arg(long, default_value_t = 30)]
        min_support: usize,
        /// Bootstrap confidence intervals with this many resamples.
        #[arg(long)]
        bootstrap: Option<usize>,
        /// Seed of the bootstrap.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Drift between two datasets, column by column.
    Drift {
        /// The reference data: a file, a glob or a directory.
        reference: String,
        /// The current data.
        current: String,
        /// auto, ks, chi2, wasserstein, psi, js or linf.
        #[arg(long, default_value = "auto")]
        method: String,
        /// Drift threshold (a p-value for ks and chi2, a distance otherwise; default per method).
        #[arg(long)]
        threshold: Option<f64>,
        /// Compare only these columns (comma separated; default: all).
        #[arg(long, value_delimiter = ',')]
        columns: Vec<String>,
        /// Leave these columns out (comma separated).
        #[arg(long, value_delimiter = ',')]
        ignore: Vec<String>,
        /// The dataset drifts when at least this share of columns drift.
        #[arg(long, default_value_t = 0.5)]
        max_drifted_share: f64,
        /// Multiple-testing correction of p-values: none, bonferroni or bh.
        #[arg(long, default_value = "none")]
        correction: String,
        #[command(flatten)]
        common: Common,
    },
    /// What differs between two datasets, rows matched by key: schema, row counts, keys on one
    /// side only, duplicate keys, and values column by column (exit 1 when anything differs).
    Diff {
        /// The expected data: a file, a glob or a directory.
        expected: String,
        /// The actual data.
        actual: String,
        /// Key columns rows are matched on (comma separated).
        #[arg(long, value_delimiter = ',', required = true)]
        key: Vec<String>,
        /// Compare only these columns (comma separated; default: all).
        #[arg(long, value_delimiter = ',')]
        columns: Vec<String>,
        /// Leave these columns out (comma separated).
        #[arg(long, value_delimiter = ',')]
        ignore: Vec<String>,
        /// Numbers are equal when |expected - actual| <= abs-tol + rel-tol × |expected|.
        #[arg(long, default_value_t = 0.0)]
        abs_tol: f64,
        /// Relative tolerance of numbers.
        #[arg(long, default_value_t = 0.0)]
        rel_tol: f64,
        /// Columns only in the actual data: error (a difference) or ignore.
        #[arg(long, default_value = "error")]
        added_columns: String,
        /// Differing rows shown per kind of difference.
        #[arg(long, default_value_t = 5)]
        samples: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Profile a dataset: per column its type, counts, distinct values, extremes, mean,
    /// deviation, quantiles, histogram, top values, lengths and patterns.
    Profile {
        /// A file, a glob or a directory of part files; with `--merge`, profile documents.
        #[arg(required = true)]
        data: Vec<String>,
        /// Merge profiles (JSON documents written by `tollgate profile -o`) into the profile
        /// of all their data, instead of reading data.
        #[arg(long)]
        merge: bool,
        /// Also write a suite inferred from the profile (YAML) to this file.
        #[arg(long = "suite-out")]
        suite_out: Option<PathBuf>,
        /// Format of standard output: text, json (the profile document) or html (one
        /// self-contained page with a chart per column).
        #[arg(long, default_value = "text")]
        format: String,
        /// Also write the profile to this file: an HTML page for `.html`/`.htm`, else the JSON
        /// document.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Worker threads and scan partitions (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Progress on standard error: auto (on a terminal), always or never.
        #[arg(long, default_value = "auto")]
        progress: String,
    },
    /// Convert a suite from another tool (`tollgate import gx SUITE.json > suite.yaml`).
    Import {
        /// The tool the suite comes from: gx (Great Expectations, 0.x or 1.x JSON).
        tool: String,
        /// The suite file.
        suite: PathBuf,
    },
    /// Print the documentation of a check (or list all checks).
    Explain {
        /// A check name, e.g. not_null.
        check: Option<String>,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// Format of standard output: text, json, junit, html or markdown.
    #[arg(long, default_value = "text")]
    format: String,
    /// Also write results to FILE (repeatable; the format follows the extension: .json, .xml, .txt).
    #[arg(long, short)]
    output: Vec<PathBuf>,
    /// Print nothing on standard output (exit code and --output files only).
    #[arg(long, short)]
    quiet: bool,
    /// Worker threads and scan partitions (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Fail the run on warnings too.
    #[arg(long = "fail-on", default_value = "error")]
    fail_on: String,
    /// List passing checks too.
    #[arg(long, short)]
    verbose: bool,
    /// Rows per batch (for testing the engine; results do not change).
    #[arg(long, hide = true)]
    batch_size: Option<usize>,
    /// Progress of long scans on standard error: auto (on a terminal, not with --quiet),
    /// always or never.
    #[arg(long, default_value = "auto")]
    progress: String,
    /// Bound the engine's working memory: SIZE is bytes or a number with KB, MB, GB (powers of
    /// 1000) or KiB, MiB, GiB (powers of 1024), e.g. 512MiB. Sorts and groupings spill to the
    /// temporary directory (TMPDIR); docs/memory.md says which checks stay exact and how.
    #[arg(long = "memory-limit", value_name = "SIZE", value_parser = parse_size)]
    memory_limit: Option<usize>,
    /// Where suites run: `local` (default), `ballista://HOST[:PORT]` (a Ballista scheduler) or
    /// `ballista:standalone` (a cluster inside this process). Overrides `engine:` in the plan.
    #[arg(long, env = "TOLLGATE_ENGINE")]
    engine: Option<String>,
}

/// Run a future, showing the progress of its scans on standard error (rows, rows/s, elapsed,
/// ETA when the files say how many rows there are) when `--progress` asks for it.
fn block<F: std::future::Future>(
    rt: &tokio::runtime::Runtime,
    common: &Common,
    fut: F,
) -> F::Output {
    let show = match common.progress.as_str() {
        "always" => true,
        "never" => false,
        _ => !common.quiet && std::io::stderr().is_terminal(),
    };
    if !show {
        return rt.block_on(fut);
    }
    use tollgate::data::progress;
    progress::enable();
    let start = std::time::Instant::now();
    // Every 250 ms (TOLLGATE_PROGRESS_MS changes it; the tests use it).
    let every = std::env::var("TOLLGATE_PROGRESS_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(250)
        .max(1);
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let ticker = std::thread::spawn(move || {
        let mut shown = false;
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            stopped.recv_timeout(std::time::Duration::from_millis(every))
        {
            let p = &progress::PROGRESS;
            let line = progress::line(p.rows(), p.total(), start.elapsed());
            eprint!("\r\x1b[2K{line}");
            shown = true;
        }
        if shown {
            eprint!("\r\x1b[2K");
        }
    });
    let out = rt.block_on(fut);
    let _ = stop.send(());
    let _ = ticker.join();
    out
}

/// An error that stops the run: printed to stderr, exit code 2.
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

fn main() -> ExitCode {
    // A panic is a tollgate bug, but the run still could not be completed: exit 2, not 101.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error (a tollgate bug, please report it): {info}");
        std::process::exit(2);
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(Fatal(msg)) => {
            let mut err = std::io::stderr().lock();
            let msg = msg.trim_end();
            if msg.starts_with("error") {
                let _ = writeln!(err, "{msg}");
            } else {
                let _ = writeln!(err, "error: {msg}");
            }
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Fatal> {
    match cli.command {
        Command::Explain { check } => explain(check.as_deref()),
        Command::Eval {
            predictions,
            label,
            score,
            predicted,
            probabilities,
            threshold,
            task,
            metrics,
            gates,
            slices,
            min_support,
            bootstrap,
            seed,
            common,
        } => {
            use tollgate::core::plan::{ConfidenceDecl, EvaluationDecl, PredictionsDecl};
            if score.is_none() && predicted.is_none() && probabilities.is_empty() {
                return Err(Fatal("give the predictions: --score COLUMN, --predicted COLUMN or --probabilities A,B,...".into()));
            }
            if task
                .as_deref()
                .is_some_and(|t| !matches!(t, "binary" | "multiclass" | "regression"))
            {
                return Err(Fatal(
                    "--task must be binary, multiclass or regression".into(),
                ));
            }
            if !(0.0..=1.0).contains(&threshold) {
                return Err(Fatal("--threshold must be between 0 and 1".into()));
            }
            let mut wanted: Vec<(String, Option<tollgate::core::Bound>)> = Vec::new();
            for m in &metrics {
                check_metric(m)?;
                wanted.push((m.clone(), None));
            }
            for g in &gates {
                let (name, bound) = parse_gate(g)?;
                match wanted.iter_mut().find(|(n, _)| *n == name) {
                    Some(w) => w.1 = Some(bound),
                    None => wanted.push((name, Some(bound))),
                }
            }
            let source = tollgate::SourceDecl::file("predictions", &predictions);
            let decl = EvaluationDecl {
                name: std::path::Path::new(&predictions)
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_else(|| "eval".into()),
                pos: Default::default(),
                predictions: PredictionsDecl {
                    source: "predictions".into(),
                    score,
                    predicted,
                    probabilities,
                },
                model: None,
                label,
                task,
                threshold,
                metrics: wanted,
                slices,
                min_support,
                confidence: bootstrap.map(|n| ConfidenceDecl {
                    level: 0.95,
                    resamples: n.clamp(10, 100_000),
                    seed,
                    gate_on_bound: false,
                }),
                baseline: None,
                severity: tollgate::core::Severity::Error,
            };
            let plan = tollgate::Plan {
                sources: vec![source],
                evaluations: vec![decl],
                ..Default::default()
            };
            check_outputs(&common, &[PathBuf::from(&predictions)])?;
            let rt = runtime(&common)?;
            let engine = engine(&common, &rt, false, None)?;
            let report = block(
                &rt,
                &common,
                tollgate::run_plan(&engine, &plan, Path::new("."), None),
            );
            finish(&report, &common)
        }
        Command::Drift {
            reference,
            current,
            method,
            threshold,
            columns,
            ignore,
            max_drifted_share,
            correction,
            common,
        } => {
            use tollgate::core::plan::{DRIFT_METHODS, DriftDecl};
            if !DRIFT_METHODS.contains(&method.as_str()) {
                return Err(Fatal(format!(
                    "--method is one of {}, not `{method}`",
                    DRIFT_METHODS.join(", ")
                )));
            }
            if !matches!(correction.as_str(), "none" | "bonferroni" | "bh") {
                return Err(Fatal("--correction is none, bonferroni or bh".into()));
            }
            if !(0.0..=1.0).contains(&max_drifted_share) {
                return Err(Fatal("--max-drifted-share must be between 0 and 1".into()));
            }
            let source = tollgate::SourceDecl::file;
            let decl = DriftDecl {
                name: "drift".into(),
                pos: Default::default(),
                reference: "reference".into(),
                current: "current".into(),
                method,
                threshold,
                columns,
                ignore,
                per_column: Vec::new(),
                max_drifted_share,
                correction,
                severity: tollgate::core::Severity::Error,
            };
            let plan = tollgate::Plan {
                sources: vec![source("reference", &reference), source("current", &current)],
                drifts: vec![decl],
                ..Default::default()
            };
            check_outputs(
                &common,
                &[PathBuf::from(&reference), PathBuf::from(&current)],
            )?;
            let rt = runtime(&common)?;
            let engine = engine(&common, &rt, false, None)?;
            let report = block(
                &rt,
                &common,
                tollgate::run_plan(&engine, &plan, Path::new("."), None),
            );
            finish(&report, &common)
        }
        Command::Diff {
            expected,
            actual,
            key,
            columns,
            ignore,
            abs_tol,
            rel_tol,
            added_columns,
            samples,
            common,
        } => {
            if !(abs_tol >= 0.0 && abs_tol.is_finite() && rel_tol >= 0.0 && rel_tol.is_finite()) {
                return Err(Fatal(
                    "--abs-tol and --rel-tol must be finite numbers of at least 0".into(),
                ));
            }
            let added_columns_ignored = match added_columns.as_str() {
                "error" => false,
                "ignore" => true,
                other => {
                    return Err(Fatal(format!(
                        "--added-columns is error or ignore, not `{other}`"
                    )));
                }
            };
            let source = tollgate::SourceDecl::file;
            let decl = tollgate::core::plan::DiffDecl {
                name: format!("{expected} vs {actual}"),
                pos: Default::default(),
                expected: "expected".into(),
                actual: "actual".into(),
                key,
                columns,
                ignore,
                abs: abs_tol,
                rel: rel_tol,
                per_column: Vec::new(),
                added_columns_ignored,
                samples: samples.min(1000),
                severity: tollgate::core::Severity::Error,
            };
            let plan = tollgate::Plan {
                sources: vec![source("expected", &expected), source("actual", &actual)],
                diffs: vec![decl],
                ..Default::default()
            };
            check_outputs(&common, &[PathBuf::from(&expected), PathBuf::from(&actual)])?;
            let rt = runtime(&common)?;
            let engine = engine(&common, &rt, false, None)?;
            let report = block(
                &rt,
                &common,
                tollgate::run_plan(&engine, &plan, Path::new("."), None),
            );
            // Data that cannot be compared (a missing key, unreadable files) is bad input.
            if let Some(e) = report.tests.iter().find_map(|t| t.error.clone()) {
                return Err(Fatal(e));
            }
            finish(&report, &common)
        }
        Command::Profile {
            data,
            merge,
            suite_out,
            format,
            output,
            threads,
            progress,
        } => {
            if !matches!(format.as_str(), "text" | "json" | "html") {
                return Err(Fatal(format!(
                    "unknown --format `{format}`: expected text, json or html"
                )));
            }
            let inputs: Vec<_> = data
                .iter()
                .filter_map(|d| std::fs::canonicalize(d).ok())
                .collect();
            for out in output.iter().chain(suite_out.iter()) {
                if let Ok(out_path) = std::fs::canonicalize(out)
                    && inputs.contains(&out_path)
                {
                    return Err(Fatal(format!(
                        "{}: refusing to overwrite the data being profiled",
                        out.display()
                    )));
                }
            }
            if !merge && data.len() > 1 {
                return Err(Fatal(
                    "one DATA at a time (a glob or a directory reads several files as one); \
                     to combine profiles, use --merge A.json B.json"
                        .into(),
                ));
            }
            let common = Common {
                format: "text".into(),
                output: Vec::new(),
                quiet: false,
                threads,
                fail_on: "error".into(),
                verbose: false,
                batch_size: None,
                progress: progress.clone(),
                engine: None,
                memory_limit: None,
            };
            let rt = runtime(&common)?;
            let engine = engine(&common, &rt, false, None)?;
            let source =
                tollgate::SourceDecl::file("data", &data.first().cloned().unwrap_or_default());
            let profile = if merge {
                merge_profiles(&data)?
            } else {
                block(&rt, &common, engine.profile(&source, Path::new(".")))
                    .map_err(|e| Fatal(e.to_string()))?
            };
            let json = serde_json::to_string_pretty(&profile).map_err(|e| Fatal(e.to_string()))?;
            let page = || {
                serde_json::to_value(&profile)
                    .map(|v| tollgate_report::profile_html(&v))
                    .map_err(|e| Fatal(e.to_string()))
            };
            if let Some(out) = &output {
                let html = Format::from_extension(&out.to_string_lossy()) == Some(Format::Html);
                let body = if html { page()? } else { json.clone() + "\n" };
                write_atomically(out, &body)
                    .map_err(|e| Fatal(format!("{}: {e}", out.display())))?;
            }
            if let Some(out) = &suite_out {
                write_atomically(out, &tollgate::data::profile::infer_suite(&profile))
                    .map_err(|e| Fatal(format!("{}: {e}", out.display())))?;
            }
            let mut stdout = std::io::stdout().lock();
            let text = if format == "json" {
                json + "\n"
            } else if format == "html" {
                page()?
            } else {
                profile_text(&profile)
            };
            let _ = stdout.write_all(text.as_bytes());
            Ok(0)
        }
        Command::Import { tool, suite } => {
            if tool != "gx" {
                return Err(Fatal(format!(
                    "unknown tool `{tool}`: tollgate imports `gx` (Great Expectations) suites"
                )));
            }
            let text = std::fs::read_to_string(&suite)
                .map_err(|e| Fatal(format!("{}: cannot read the suite: {e}", suite.display())))?;
            let (name, expectations) = tollgate::core::gx::parse_suite_json(&text)
                .map_err(|e| Fatal(format!("{}: {e}", suite.display())))?;
            let yaml = tollgate::core::gx::to_yaml(
                &name,
                tollgate::core::gx::format_of(&text),
                &expectations,
            )
            .map_err(|errors| {
                Fatal(
                    errors
                        .iter()
                        .map(|e| format!("error: {}: {e}", suite.display()))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })?;
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(yaml.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Fatal(format!("cannot write to standard output: {e}")))
                }
                _ => Ok(0),
            }
        }
        Command::Test {
            plan,
            filter,
            common,
        } => {
            let (plan_path, filter) = locate_plan(plan, filter)?;
            let text = std::fs::read_to_string(&plan_path).map_err(|e| {
                Fatal(format!(
                    "{}: cannot read the plan: {e}",
                    plan_path.display()
                ))
            })?;
            let plan = tollgate::parse_plan(&text)
                .map_err(|d| Fatal(d.in_file(&plan_path).render(Some(&text))))?;
            let base = plan_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let mut protected = vec![plan_path.clone()];
            protected.extend(plan.sources.iter().map(|s| base.join(&s.path)));
            check_outputs(&common, &protected)?;
            let rt = runtime(&common)?;
            let engine = engine(&common, &rt, true, plan.engine.as_deref())?;
            let report = block(
                &rt,
                &common,
                tollgate::run_plan(&engine, &plan, &base, filter.as_deref()),
            );
            if report.tests.is_empty() {
                let what = match &filter {
                    Some(f) => format!("no test name contains `{f}`"),
                    None => "the plan has no tests".into(),
                };
                return Err(Fatal(format!("{}: {what}", plan_path.display())));
            }
            finish(&report, &common)
        }
        Command::Validate {
            data,
            suite,
            data_format,
            delimiter,
            common,
        } => {
            let text = std::fs::read_to_string(&suite)
                .map_err(|e| Fatal(format!("{}: cannot read the suite: {e}", suite.display())))?;
            let name = suite
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "suite".into());
            let decl = if suite.extension().is_some_and(|e| e == "json") {
                // A Great Expectations suite, run as it is.
                let (gx_name, expectations) = tollgate::core::gx::parse_suite_json(&text)
                    .map_err(|e| Fatal(format!("{}: {e}", suite.display())))?;
                tollgate::core::gx::to_suite(&gx_name, &expectations).map_err(|errors| {
                    Fatal(
                        errors
                            .iter()
                            .map(|e| format!("error: {}: {e}", suite.display()))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    )
                })?
            } else {
                tollgate::parse_suite(&text, &name)
                    .map_err(|d| Fatal(d.in_file(&suite).render(Some(&text))))?
            };
            if tollgate::is_postgres_url(&data) {
                // A PostgreSQL table: the suite runs inside the database.
                if data_format.is_some() || delimiter.is_some() {
                    return Err(Fatal(
                        "--data-format and --delimiter are for files; DATA is a PostgreSQL table"
                            .into(),
                    ));
                }
                check_outputs(&common, std::slice::from_ref(&suite))?;
                let rt = runtime(&common)?;
                let report = rt
                    .block_on(tollgate::run_suites_at_url(&data, &[decl]))
                    .map_err(Fatal)?;
                return finish(&report, &common);
            }
            let format = match data_format.as_deref() {
                None => None,
                Some(f) => Some(tollgate::core::plan::Format::parse(f).ok_or_else(|| {
                    Fatal(format!(
                        "unknown --data-format `{f}`: expected csv, parquet, json or arrow"
                    ))
                })?),
            };
            let mut source = tollgate::SourceDecl {
                name: "data".into(),
                pos: Default::default(),
                path: data.clone(),
                format,
                csv: Default::default(),
                postgres: None,
            };
            if let Some(d) = delimiter {
                if !d.is_ascii() {
                    return Err(Fatal("--delimiter must be one ASCII character".into()));
                }
                source.csv.delimiter = Some(d as u8);
            }
            check_outputs(&common, &[suite.clone(), PathBuf::from(&data)])?;
            let rt = runtime(&common)?;
            let engine = engine(&common, &rt, true, None)?;
            let report = block(
                &rt,
                &common,
                tollgate::run_suites(&engine, &source, &[decl], Path::new(".")),
            );
            finish(&report, &common)
        }
    }
}

/// `--memory-limit`: bytes, or a number with a unit (KB, MB, GB, TB: powers of 1000; KiB, MiB,
/// GiB, TiB: powers of 1024); `512MiB`, `2GiB`, `1.5GB`, `300MB`, `1000000`.
fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim();
    let not_a_size = || {
        format!("`{text}` is not a size: write bytes or a number with a unit (e.g. 512MiB, 2GiB)")
    };
    if number.is_empty() {
        return Err(not_a_size());
    }
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "unknown unit `{unit}`: write bytes or a number with KB, MB, GB, TB, KiB, MiB, GiB or TiB (e.g. 512MiB)"
            ));
        }
    };
    let n: f64 = number.parse().map_err(|_| not_a_size())?;
    let bytes = (n * scale).round();
    // Below 1 MiB not even one batch of one column fits; a limit above usize is no limit.
    if bytes < 1024.0 * 1024.0 {
        return Err(format!(
            "`{text}` is too small: the memory limit is at least 1MiB"
        ));
    }
    if bytes >= usize::MAX as f64 {
        return Err(format!("`{text}` is larger than this machine can address"));
    }
    Ok(bytes as usize)
}

fn check_metric(name: &str) -> Result<(), Fatal> {
    let known = tollgate::core::catalog::METRICS;
    if known.contains(&name) {
        return Ok(());
    }
    let mut msg = format!("unknown metric `{name}`");
    if let Some(s) = tollgate::core::diag::suggest(name, known.iter().copied()) {
        msg.push_str(&format!(" (did you mean `{s}`?)"));
    }
    msg.push_str(&format!("; metrics: {}", known.join(", ")));
    Err(Fatal(msg))
}

/// `roc_auc>=0.84`, `log_loss<0.5`, `accuracy=1`.
fn parse_gate(text: &str) -> Result<(String, tollgate::core::Bound), Fatal> {
    use tollgate::core::{Bound, Scalar};
    let ops = [">=", "<=", ">", "<", "="];
    let Some((i, op)) = ops
        .iter()
        .filter_map(|op| text.find(op).map(|i| (i, *op)))
        .min_by_key(|(i, op)| (*i, std::cmp::Reverse(op.len())))
    else {
        return Err(Fatal(format!(
            "--gate `{text}`: write METRIC>=VALUE (or <=, >, <, =)"
        )));
    };
    let name = text[..i].trim().to_string();
    check_metric(&name)?;
    let value: f64 = text[i + op.len()..].trim().parse().map_err(|_| {
        Fatal(format!(
            "--gate `{text}`: `{}` is not a number",
            text[i + op.len()..].trim()
        ))
    })?;
    let v = Some(Scalar::Float(value));
    let b = match op {
        ">=" => Bound {
            min: v,
            ..Bound::default()
        },
        ">" => Bound {
            min: v,
            strict_min: true,
            ..Bound::default()
        },
        "<=" => Bound {
            max: v,
            ..Bound::default()
        },
        "<" => Bound {
            max: v,
            strict_max: true,
            ..Bound::default()
        },
        _ => Bound {
            min: v.clone(),
            max: v,
            ..Bound::default()
        },
    };
    Ok((name, b))
}

fn locate_plan(
    plan: Option<String>,
    filter: Option<String>,
) -> Result<(PathBuf, Option<String>), Fatal> {
    match plan {
        Some(p) => {
            let path = PathBuf::from(&p);
            if path.is_dir() {
                Ok((path.join("tollgate.yaml"), filter))
            } else if path.is_file() || p.ends_with(".yaml") || p.ends_with(".yml") {
                if !path.exists() {
                    return Err(Fatal(format!("{p}: no such plan file")));
                }
                Ok((path, filter))
            } else if filter.is_none() {
                // `tollgate test NAME`: a filter over ./tollgate.yaml.
                Ok((default_plan()?, Some(p)))
            } else {
                Err(Fatal(format!("{p}: no such plan file")))
            }
        }
        None => Ok((default_plan()?, filter)),
    }
}

fn default_plan() -> Result<PathBuf, Fatal> {
    for name in ["tollgate.yaml", "tollgate.yml"] {
        if Path::new(name).is_file() {
            return Ok(PathBuf::from(name));
        }
    }
    Err(Fatal(
        "no tollgate.yaml in this directory; pass the plan: `tollgate test PATH/tollgate.yaml`"
            .into(),
    ))
}

/// The engine: DataFusion here, or a Ballista cluster for suites (`--engine`).
fn engine(
    common: &Common,
    rt: &tokio::runtime::Runtime,
    suites: bool,
    from_plan: Option<&str>,
) -> Result<Engine, Fatal> {
    let opts = EngineOptions {
        batch_size: common.batch_size,
        partitions: common.threads,
        memory_limit: common.memory_limit,
        ..Default::default()
    };
    let spec = match (&common.engine, from_plan) {
        (None, None) => return Ok(Engine::new(opts)),
        (Some(text), _) => EngineSpec::parse(text).map_err(|e| Fatal(format!("--engine: {e}")))?,
        (None, Some(text)) => {
            EngineSpec::parse(text).map_err(|e| Fatal(format!("`engine:` in the plan: {e}")))?
        }
    };
    if spec == EngineSpec::Local {
        return Ok(Engine::new(opts));
    }
    if !suites {
        return Err(Fatal(format!(
            "--engine {}: only suites (`tollgate test`, `tollgate validate`) run on a cluster; drop --engine for this command",
            spec.display()
        )));
    }
    rt.block_on(Engine::connect(opts, &spec))
        .map_err(|e| Fatal(e.to_string()))
}

fn runtime(common: &Common) -> Result<tokio::runtime::Runtime, Fatal> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = common.threads {
        if n == 0 || n > 1024 {
            return Err(Fatal("--threads must be between 1 and 1024".into()));
        }
        b.worker_threads(n);
    }
    b.enable_all()
        .build()
        .map_err(|e| Fatal(format!("cannot start the runtime: {e}")))
}

/// Refuse output paths that would overwrite the plan, a suite or the data.
fn check_outputs(common: &Common, protected: &[PathBuf]) -> Result<(), Fatal> {
    if Format::parse(&common.format).is_none() {
        return Err(Fatal(format!(
            "unknown --format `{}`: expected text, json, junit, html or markdown",
            common.format
        )));
    }
    if !matches!(common.progress.as_str(), "auto" | "always" | "never") {
        return Err(Fatal(format!(
            "unknown --progress `{}`: expected auto, always or never",
            common.progress
        )));
    }
    if !matches!(common.fail_on.as_str(), "warn" | "error") {
        return Err(Fatal(format!(
            "unknown --fail-on `{}`: expected warn or error",
            common.fail_on
        )));
    }
    for out in &common.output {
        let name = out.to_string_lossy();
        if Format::from_extension(&name).is_none() {
            return Err(Fatal(format!(
                "{name}: cannot tell the output format from the extension (use .json, .xml, .txt, .html or .md)"
            )));
        }
        let canon = std::fs::canonicalize(out).ok();
        let out_dir = out.parent().and_then(|d| {
            std::fs::canonicalize(if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            })
            .ok()
        });
        for p in protected {
            let input = std::fs::canonicalize(p).ok();
            // Writing into a source's directory would change the data of the next run.
            let inside =
                matches!((&out_dir, &input), (Some(d), Some(i)) if i.is_dir() && d.starts_with(i));
            if inside {
                return Err(Fatal(format!(
                    "{name}: refusing to write inside the data directory {}",
                    p.display()
                )));
            }
            if canon.is_some() && canon == input {
                return Err(Fatal(format!(
                    "{name}: refusing to overwrite an input of this run"
                )));
            }
        }
    }
    Ok(())
}

fn finish(report: &RunReport, common: &Common) -> Result<u8, Fatal> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let opts = TextOptions {
        color,
        verbose: common.verbose,
        fail_on_warn: common.fail_on == "warn",
    };
    for out in &common.output {
        let name = out.to_string_lossy().to_string();
        let format = Format::from_extension(&name).unwrap_or(Format::Text);
        let body = tollgate_report::render(
            report,
            format,
            &TextOptions {
                color: false,
                verbose: common.verbose,
                fail_on_warn: common.fail_on == "warn",
            },
        );
        write_atomically(out, &body).map_err(|e| Fatal(format!("{name}: cannot write: {e}")))?;
    }
    if !common.quiet {
        let format = Format::parse(&common.format).unwrap_or(Format::Text);
        let body = tollgate_report::render(report, format, &opts);
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout
            .write_all(body.as_bytes())
            .and_then(|_| stdout.flush())
        {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(0); // `tollgate ... | head`: the reader has what it wanted
            }
            return Err(Fatal(format!("cannot write to standard output: {e}")));
        }
    }
    let text_on_stdout = !common.quiet && Format::parse(&common.format) == Some(Format::Text);
    if report.status == Status::Error && !text_on_stdout {
        // Say why on stderr too, so that a JSON or quiet run still explains its exit code.
        for t in report.tests.iter().filter(|t| t.status == Status::Error) {
            let mut err = std::io::stderr().lock();
            if let Some(e) = &t.error {
                let _ = writeln!(err, "error: {}: {e}", t.name);
            }
            for f in t.findings.iter().filter(|f| f.status == Status::Error) {
                let col = f
                    .column
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    err,
                    "error: {}: {}{col}: {}",
                    t.name,
                    f.check,
                    f.error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(tollgate::exit_code(report, common.fail_on == "warn"))
}

fn write_atomically(path: &Path, body: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tollgate-tmp", std::process::id()));
    let written = std::fs::write(&tmp, body).and_then(|_| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Read profile documents and merge them, in order.
fn merge_profiles(paths: &[String]) -> Result<tollgate::data::profile::Profile, Fatal> {
    let mut merged: Option<tollgate::data::profile::Profile> = None;
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| Fatal(format!("{path}: {e}")))?;
        let p: tollgate::data::profile::Profile = serde_json::from_str(&text).map_err(|e| {
            Fatal(format!(
                "{path}:{}:{}: not a tollgate profile document: {e}",
                e.line(),
                e.column()
            ))
        })?;
        merged = Some(match merged {
            None => {
                if p.schema != tollgate::data::profile::SCHEMA {
                    return Err(Fatal(format!(
                        "{path}: a `{}` document, expected `{}`",
                        p.schema,
                        tollgate::data::profile::SCHEMA
                    )));
                }
                p
            }
            Some(m) => {
                tollgate::data::profile::merge(&m, &p).map_err(|e| Fatal(format!("{path}: {e}")))?
            }
        });
    }
    merged.ok_or_else(|| Fatal("--merge needs at least one profile".into()))
}

/// The profile as a table for people.
fn profile_text(p: &tollgate::data::profile::Profile) -> String {
    let short = |v: &serde_json::Value| {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "-".into(),
            other => other.to_string(),
        };
        if s.chars().count() > 18 {
            format!("{}…", s.chars().take(17).collect::<String>())
        } else {
            s
        }
    };
    let num = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
    let mut out = format!(
        "{}: {} rows, {} columns\n",
        p.source,
        p.rows,
        p.columns.len()
    );
    out.push_str(&format!(
        "{:<20} {:<10} {:>9} {:>9} {:>18} {:>18} {:>12} {:>12}  top\n",
        "column", "type", "nulls", "distinct", "min", "max", "mean", "std"
    ));
    for c in &p.columns {
        // All values seen once: no value is frequent.
        let frequent = c.top.first().is_some_and(|(_, n)| *n > 1);
        let top: Vec<String> = c
            .top
            .iter()
            .filter(|_| frequent)
            .take(3)
            .map(|(v, n)| format!("{} ({n})", short(v)))
            .collect();
        out.push_str(&format!(
            "{:<20} {:<10} {:>9} {:>9} {:>18} {:>18} {:>12} {:>12}  {}\n",
            c.name,
            c.dtype,
            c.nulls,
            c.distinct,
            short(&c.min),
            short(&c.max),
            num(c.mean),
            num(c.std),
            top.join(", ")
        ));
    }
    out
}

fn explain(check: Option<&str>) -> Result<u8, Fatal> {
    use tollgate::core::catalog;
    let mut out = String::new();
    match check {
        None => {
            out.push_str("Checks (tollgate explain NAME for one; evaluation metrics and model checks too):\n");
            for c in catalog::CHECKS {
                out.push_str(&format!(
                    "  {:<20} {:<10} {}\n",
                    c.name,
                    c.scope.section(),
                    c.gx
                ));
            }
            out.push_str(&format!(
                "\nEvaluation metrics: {}\n",
                catalog::METRICS.join(", ")
            ));
            out.push_str(&format!(
                "Model checks: {}\n",
                tollgate::core::plan::MODEL_CHECKS.join(", ")
            ));
        }
        Some(name) if catalog::METRICS.contains(&name) => {
            let lower = catalog::LOWER_IS_BETTER.contains(&name);
            out.push_str(&format!(
                "{name} (evaluation metric)\n\nComputed as scikit-learn computes it (equal to 1e-9 on committed fixtures); {} is better.\n{}\nExample:\n    evaluation:\n      my-model:\n        predictions: {{ source: scored, score: p }}\n        label: y\n        metrics: {{ {name}: {{ {} }} }}\n\n    tollgate eval scored.parquet --label y --score p --gate '{name}{}'\n",
                if lower { "lower" } else { "higher" },
                match name {
                    n if catalog::BINARY_METRICS.contains(&n) => {
                        "A binary metric: labels 0 and 1, with a `score` (probability of class 1) or predicted labels.\n"
                    }
                    n if n.contains("ovr") => "Multiclass: labels 0..k-1 and one probability column per class (`probabilities`).\n",
                    "mae" | "mse" | "rmse" | "r2" | "mape" | "median_absolute_error" | "max_error" => {
                        "A regression metric: a numeric label and a `predicted` value.\n"
                    }
                    _ => "From predicted labels (given, or a thresholded `score`).\n",
                },
                if lower { "at_most: 0.5" } else { "at_least: 0.8" },
                if lower { "<=0.5" } else { ">=0.8" },
            ));
        }
        Some(name) if tollgate::core::plan::MODEL_CHECKS.contains(&name) => {
            out.push_str(&format!(
                "{name} (model check)\n\nOne of the smoke checks of `model_checks:`: loads, signature, output_shape, probabilities_valid, finite, deterministic, batch_invariant, latency.\n\nExample:\n    model_checks:\n      smoke:\n        model: my-model\n        source: sample\n        checks: [{name}]\n"
            ));
        }
        Some(name) => {
            let found = catalog::lookup(name);
            if found.is_empty() {
                let mut msg = format!("unknown check `{name}`");
                if let Some(s) =
                    tollgate::core::diag::suggest(name, catalog::CHECKS.iter().map(|c| c.name))
                {
                    msg.push_str(&format!("; did you mean `{s}`?"));
                }
                msg.push_str(" (`tollgate explain` lists the checks; metrics and model checks are explained by name too)");
                return Err(Fatal(msg));
            }
            for c in found {
                out.push_str(&format!(
                    "{} ({} check)\n\n{}\n\nGreat Expectations: {}\n\nExample:\n",
                    c.name,
                    c.scope.section(),
                    c.summary,
                    c.gx
                ));
                for l in c.example.lines() {
                    out.push_str(&format!("    {l}\n"));
                }
                if !["row_count", "column_count", "columns", "aggregate"].contains(&c.name) {
                    out.push_str("\nEvery check also takes `severity: error | warn`; value checks take `mostly`.\n");
                }
                out.push('\n');
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn memory_sizes_in_decimal_and_binary_units() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("2 gib"), Ok(2 << 30));
        assert_eq!(parse_size("300MB"), Ok(300_000_000));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("2000000"), Ok(2_000_000));
        assert_eq!(parse_size("4194304B"), Ok(4 << 20));
        for bad in [
            "",
            "MiB",
            "12XB",
            "1.2.3MB",
            "-5MiB",
            "100KB",
            "99999999TiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad} should not parse");
        }
    }
}
