//! `pipeline`: run the example pipeline, or generate a larger log for it.
//!
//! ```text
//! pipeline --version v1|v2 --logs FILE --out DIR [--items FILE]
//! pipeline generate --rows N --seed S --out FILE [--version v1|v2] [--items N]
//! ```
//!
//! Exit codes: 0 done, 2 the input could not be used (the message names the file and line).

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tollgate_example_pipeline::generate::{GenerateOptions, generate_logs};
use tollgate_example_pipeline::{OUTPUT_FILES, Version, run_to_dir};

/// The pipeline of "Writing Robust Tests for Data & Machine Learning Pipelines": behavioural
/// logs -> item events -> per-item aggregates -> click-through rates.
#[derive(Parser)]
#[command(
    name = "pipeline",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The pipeline's version: v1 counts every impression, v2 only the visible ones.
    #[arg(long, value_parser = parse_version, required = true)]
    version: Option<Version>,
    /// The logs: a CSV with request_id, impressions, event_item, event_type (and
    /// impressions_visible for v2).
    #[arg(long, required = true)]
    logs: Option<PathBuf>,
    /// The output directory: logs.csv, events.csv, aggregates.csv, ctr.csv.
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// The items to score (a CSV with an item_id column); default: every item of the logs.
    #[arg(long)]
    items: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Write a larger log, the same for the same seed.
    Generate {
        /// Requests to write.
        #[arg(long)]
        rows: usize,
        /// The random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// v1 (no impressions_visible) or v2.
        #[arg(long, value_parser = parse_version, default_value = "v2")]
        version: Version,
        /// Size of the item catalogue.
        #[arg(long, default_value_t = 40)]
        items: usize,
    },
}

fn parse_version(s: &str) -> Result<Version, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Generate {
            rows,
            seed,
            out,
            version,
            items,
        }) => generate(
            &GenerateOptions {
                rows,
                seed,
                version,
                items,
            },
            out,
        ),
        None => match (cli.version, cli.logs, cli.out) {
            (Some(version), Some(logs), Some(out)) => run(version, logs, cli.items, out),
            // clap requires all three when there is no subcommand.
            _ => Err("--version, --logs and --out are required".into()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pipeline: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn generate(opts: &GenerateOptions, out: PathBuf) -> Result<(), String> {
    let file = File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    generate_logs(opts, &mut BufWriter::new(file))
        .map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "wrote {} requests ({}, seed {}) to {}",
        opts.rows,
        opts.version,
        opts.seed,
        out.display()
    );
    Ok(())
}

fn run(
    version: Version,
    logs: PathBuf,
    items: Option<PathBuf>,
    out: PathBuf,
) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("no runtime: {e}"))?;
    runtime
        .block_on(run_to_dir(&logs, items.as_deref(), version, &out))
        .map_err(|e| e.to_string())?;
    eprintln!(
        "pipeline {version}: {} -> {} ({})",
        logs.display(),
        out.display(),
        OUTPUT_FILES.join(", ")
    );
    Ok(())
}
