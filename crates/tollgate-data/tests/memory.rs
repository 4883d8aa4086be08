//! Validating data larger than the memory given to the engine (`EngineOptions::memory_limit`):
//! on files whose one-scan aggregate does not fit the limit (DataFusion answers "Resources
//! exhausted"), a suite with uniqueness, distinct counts, medians and quantiles completes and
//! gives exactly the findings of a run without a limit. And every data-driven check case gives
//! the same findings with a limit as without.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::*;
use tollgate_core::plan::parse_suite;
use tollgate_core::{SourceDecl, TestResult};
use tollgate_data::{Engine, EngineOptions};

/// The limit of the tests: far below what the one-scan aggregate of the data needs.
const LIMIT: usize = 16 << 20;

const ROWS: u64 = 1_000_000;

/// `ROWS` rows written by DataFusion as Parquet or CSV: `id` unique, `user_id` 50 rows each,
/// `amount` with 1% nulls and many distinct values, `name` unique text, `country` three
/// values, `age` 73 values.
fn write_data(path: &Path, stored_as: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let q = format!(
            "COPY (SELECT value * 7919 % 10000019 AS id, value % {users} AS user_id, \
             CASE WHEN value % 100 = 0 THEN NULL \
                  ELSE CAST(value * 7919 % 100003 AS DOUBLE) / 100.0 END AS amount, \
             concat('user', CAST(value * 31 % 1000003 AS VARCHAR)) AS name, \
             CASE value % 3 WHEN 0 THEN 'US' WHEN 1 THEN 'DE' ELSE 'FR' END AS country, \
             value % 73 + 18 AS age \
             FROM generate_series(0, {last})) TO '{}' STORED AS {stored_as}",
            path.display(),
            users = ROWS / 50,
            last = ROWS - 1
        );
        SessionContext::new()
            .sql(&q)
            .await
            .expect("plan the data")
            .collect()
            .await
            .expect("write the data");
    });
}

const SUITE: &str = r#"
id_columns: [id]
table:
  row_count: { between: [999000, 1001000] }
  unique: [user_id, country]
columns:
  id: { not_null: true, unique: true, distinct_count: { at_least: 1000000 } }
  user_id: { unique: true, distinct_count: 20000, unique_fraction: { at_most: 0.05 } }
  amount:
    not_null: { mostly: 0.98 }
    between: [0, 1000.02]
    mean: { between: [400, 600] }
    median: { between: [400, 600] }
    quantiles: { 0.1: { between: [90, 110] }, 0.5: { between: [400, 600] }, 0.99: { at_most: 1000 } }
  name: { unique: true, matches: '^user[0-9]+$' }
  country:
    in_set: [US, DE, FR]
    distinct_values: { equals: [US, DE, FR] }
    most_common_in_set: [US]
  age:
    between: [18, 90]
    median: 54
    stdev: { between: [20, 22] }
    increasing: { mostly: 0.9 }
"#;

fn run(engine: &Engine, data: &Path) -> Vec<TestResult> {
    let suite = parse_suite(SUITE, "big").expect("the suite parses");
    let source = SourceDecl::file("data", &data.display().to_string());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(engine.run_suites(&source, Path::new("."), &[&suite]))
        .expect("the suite runs")
}

fn limited() -> Engine {
    Engine::new(EngineOptions {
        memory_limit: Some(LIMIT),
        ..Default::default()
    })
}

/// The one-scan aggregate of the suite's unbounded metrics, as tollgate builds it without a
/// limit, in a session limited as tollgate's are: the proof that the file is too big for it.
fn one_scan_fails(data: &Path, csv: bool) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let err = rt.block_on(async {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(LIMIT)))
            .build_arc()
            .expect("runtime env");
        let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime);
        let path = data.display().to_string();
        if csv {
            ctx.register_csv("t", &path, CsvReadOptions::new()).await
        } else {
            ctx.register_parquet("t", &path, ParquetReadOptions::new())
                .await
        }
        .expect("register");
        let q = "SELECT count(*), count(DISTINCT id), count(DISTINCT user_id), \
                 median(CAST(amount AS DOUBLE)), percentile_cont(CAST(amount AS DOUBLE), 0.1) FROM t";
        match ctx.sql(q).await.expect("plan").collect().await {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    });
    assert!(
        err.contains("Resources exhausted"),
        "the one-scan aggregate should not fit {LIMIT} bytes, got: {err:?}"
    );
}

fn findings_json(results: &[TestResult]) -> String {
    serde_json::to_string_pretty(results).expect("results serialize")
}

fn same_findings_under_a_limit(data: PathBuf, csv: bool) {
    one_scan_fails(&data, csv);
    let bounded = run(&limited(), &data);
    for r in &bounded {
        assert!(r.error.is_none(), "the suite failed to run: {:?}", r.error);
        for f in &r.findings {
            assert!(
                f.error.is_none(),
                "{} failed to run: {:?}",
                f.check,
                f.error
            );
        }
    }
    let unbounded = run(&Engine::new(EngineOptions::default()), &data);
    assert_eq!(findings_json(&bounded), findings_json(&unbounded));
    // The suite has failing uniqueness checks (exact counts and samples under the limit too).
    let failed: Vec<String> = bounded[0]
        .findings
        .iter()
        .filter(|f| f.status == tollgate_core::Status::Failed)
        .map(|f| format!("{} {:?}", f.check, f.column))
        .collect();
    assert_eq!(
        failed,
        ["unique None", "unique Some(\"user_id\")"],
        "{}",
        findings_json(&bounded)
    );
    for f in bounded[0]
        .findings
        .iter()
        .filter(|f| f.status == tollgate_core::Status::Failed)
    {
        assert_eq!(f.sample.len(), 5, "a sample of failing rows: {f:?}");
    }
}

#[test]
fn parquet_larger_than_the_limit_gives_the_same_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("big.parquet");
    write_data(&data, "PARQUET");
    same_findings_under_a_limit(data, false);
}

#[test]
fn csv_larger_than_the_limit_gives_the_same_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("big.csv");
    write_data(&data, "CSV");
    same_findings_under_a_limit(data, true);
}

/// Regression: with several partitions each sort, merge and aggregation of the order-statistics
/// query competed for the pool; DataFusion failed, and with 2 partitions and 2 MiB it hung.
/// That query now reads in one partition, whatever the engine's partitions.
#[test]
fn medians_and_quantiles_in_a_tiny_pool_with_many_partitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("big.parquet");
    write_data(&data, "PARQUET");
    let suite = "columns:\n  amount: { median: { between: [400, 600] }, quantiles: { 0.1: { between: [90, 110] }, 0.75: { at_least: 0 } } }\n  age: { median: 54 }\n";
    let run_with = move |memory_limit: Option<usize>, data: PathBuf| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let suite = parse_suite(suite, "order").expect("the suite parses");
            let source = SourceDecl::file("data", &data.display().to_string());
            let engine = Engine::new(EngineOptions {
                partitions: Some(8),
                memory_limit,
                ..Default::default()
            });
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            let r = rt.block_on(engine.run_suites(&source, Path::new("."), &[&suite]));
            let _ = tx.send(r.map(|r| findings_json(&r)).map_err(|e| e.to_string()));
        });
        rx.recv_timeout(std::time::Duration::from_secs(120))
            .expect("the suite finishes (no hang)")
            .expect("the suite runs")
    };
    let bounded = run_with(Some(4 << 20), data.clone());
    assert!(!bounded.contains("\"status\": \"error\""), "{bounded}");
    assert_eq!(bounded, run_with(None, data));
}

/// Grouping folds -0.0 into 0.0, where `count(DISTINCT)`, `array_agg(DISTINCT)`, `median` and
/// `percentile_cont` tell them apart (and NaN from -NaN): the rewrites must too.
#[test]
fn signed_zeros_and_nans_count_and_sort_as_without_a_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("floats.parquet");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let nan = "CAST('NaN' AS DOUBLE)";
        let q = format!(
            "COPY (SELECT column1 AS x FROM (VALUES (0.0), (-0.0), (1.5), ({nan}), (-{nan}), \
             (CAST(NULL AS DOUBLE)), (1.5), (-0.0), (CAST('inf' AS DOUBLE)), (-2.0))) TO '{}' \
             STORED AS PARQUET",
            data.display()
        );
        SessionContext::new()
            .sql(&q)
            .await
            .expect("plan the data")
            .collect()
            .await
            .expect("write the data");
    });
    let suite = parse_suite(
        "columns:\n  x:\n    distinct_count: 1\n    distinct_values: { equals: [1] }\n    median: 0\n    \
         quantiles: { 0.05: 0, 0.2: 0, 0.3: 0, 0.5: 0, 0.95: 0 }\n    unique: true\n",
        "floats",
    )
    .expect("the suite parses");
    let source = SourceDecl::file("data", &data.display().to_string());
    let json = |memory_limit| {
        let engine = Engine::new(EngineOptions {
            memory_limit,
            ..Default::default()
        });
        let r = rt
            .block_on(engine.run_suites(&source, Path::new("."), &[&suite]))
            .expect("the suite runs");
        findings_json(&r)
    };
    let free = json(None);
    assert!(free.contains("-0.0"), "{free}");
    assert_eq!(json(Some(LIMIT)), free);
}
