//! Sources: formats, compression, globs, partitioned directories, type pinning, and bad input.

use std::path::Path;

use tollgate::{Engine, RunReport, SourceDecl, Status};

fn run(dir: &Path, path: &str, suite: &str) -> RunReport {
    let suite = tollgate::parse_suite(suite, "s").expect("suite parses");
    let source = SourceDecl {
        name: "data".into(),
        pos: Default::default(),
        path: path.into(),
        format: None,
        csv: Default::default(),
        postgres: None,
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(tollgate::run_suites(
        &Engine::default(),
        &source,
        &[suite],
        dir,
    ))
}

/// Write `sql`'s result with DataFusion's COPY (real Parquet / Arrow / JSON / compressed CSV files).
fn copy(dir: &Path, sql: &str, file: &str, options: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ctx = datafusion::prelude::SessionContext::new();
    let target = dir.join(file);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    let q = format!("COPY ({sql}) TO '{}' {options}", target.display());
    rt.block_on(async { ctx.sql(&q).await?.collect().await })
        .expect("copy");
}

const ROWS: &str =
    "SELECT * FROM (VALUES (1, 'a', 1.5), (2, 'b', NULL), (3, 'c', 3.5)) AS v(id, name, x)";
const SUITE: &str = "table: { row_count: 3, columns: [id, name, x] }\ncolumns:\n  id: { not_null: true, unique: true, between: [1, 3] }\n  x: { mean: 2.5 }\n";

fn assert_passes(report: &RunReport) {
    let t = &report.tests[0];
    assert_eq!(
        t.status,
        Status::Passed,
        "{} {:#?}",
        t.source.as_deref().unwrap_or(""),
        t
    );
    assert_eq!(t.rows, Some(3));
}

#[test]
fn every_format_reads_the_same_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    copy(d, ROWS, "t.parquet", "STORED AS PARQUET");
    copy(d, ROWS, "t.arrow", "STORED AS ARROW");
    copy(d, ROWS, "t.json", "STORED AS JSON");
    copy(d, ROWS, "t.csv", "STORED AS CSV");
    copy(
        d,
        ROWS,
        "t.csv.gz",
        "STORED AS CSV OPTIONS ('format.compression' 'gzip')",
    );
    copy(
        d,
        ROWS,
        "t.csv.zst",
        "STORED AS CSV OPTIONS ('format.compression' 'zstd')",
    );
    for f in [
        "t.parquet",
        "t.arrow",
        "t.json",
        "t.csv",
        "t.csv.gz",
        "t.csv.zst",
    ] {
        assert!(d.join(f).is_file(), "{f} was not written");
        assert_passes(&run(d, f, SUITE));
    }
}

#[test]
fn globs_and_partitioned_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    copy(
        d,
        "SELECT * FROM (VALUES (1, 'a', 1.5)) AS v(id, name, x)",
        "parts/year=2024/p0.parquet",
        "STORED AS PARQUET",
    );
    copy(
        d,
        "SELECT * FROM (VALUES (2, 'b', NULL), (3, 'c', 3.5)) AS v(id, name, x)",
        "parts/year=2025/p1.parquet",
        "STORED AS PARQUET",
    );
    std::fs::write(d.join("parts/_SUCCESS"), "").expect("write marker");
    let suite = "table: { row_count: 3 }\ncolumns:\n  year: { in_set: ['2024', '2025'], distinct_count: 2 }\n  id: { unique: true }\n";
    let r = run(d, "parts", suite);
    assert_eq!(r.tests[0].status, Status::Passed, "{:#?}", r.tests[0]);
    let r = run(d, "parts/*/*.parquet", "table: { row_count: 3 }\n");
    assert_eq!(r.tests[0].status, Status::Passed, "{:#?}", r.tests[0]);
}

#[test]
fn csv_options_and_pinned_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The first 10,000 rows look like integers; inference would make `code` an integer and then
    // fail on row 10,001. Pinned as a string, the column reads as text.
    let mut csv = String::from("id;code\n");
    for i in 0..10_050 {
        if i == 10_020 {
            csv.push_str(&format!("{i};X-1\n"));
        } else {
            csv.push_str(&format!("{i};{}\n", i % 7));
        }
    }
    std::fs::write(d.join("codes.csv"), csv).expect("write");
    let suite = tollgate::parse_suite(
        "columns:\n  code: { type: string, not_null: true }\n  id: { type: int64 }\n",
        "s",
    )
    .expect("suite");
    let mut source = SourceDecl {
        name: "data".into(),
        pos: Default::default(),
        path: "codes.csv".into(),
        format: None,
        csv: Default::default(),
        postgres: None,
    };
    source.csv.delimiter = Some(b';');
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let r = rt.block_on(tollgate::run_suites(
        &Engine::default(),
        &source,
        &[suite],
        d,
    ));
    assert_eq!(r.tests[0].status, Status::Passed, "{:#?}", r.tests[0]);
    assert_eq!(r.tests[0].rows, Some(10_050));
    // Pinned to an integer, the one bad value is counted (not a crash), with its row.
    let suite = tollgate::parse_suite("columns:\n  code: { type: int64 }\n", "s").expect("suite");
    let r = rt.block_on(tollgate::run_suites(
        &Engine::default(),
        &source,
        &[suite],
        d,
    ));
    let f = &r.tests[0].findings[0];
    assert_eq!(f.status, Status::Failed, "{f:#?}");
    assert_eq!(f.unexpected_count, Some(1));
    assert_eq!(f.sample[0].row, Some(10_020));
    assert_eq!(f.sample[0].values["code"], serde_json::json!("X-1"));
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(dir.path(), "nope.csv", SUITE);
    assert_eq!(r.status, Status::Error);
    let e = r.tests[0].error.clone().unwrap_or_default();
    assert!(e.contains("nope.csv") && e.contains("no such file"), "{e}");
}

#[test]
fn corrupt_parquet_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.parquet"),
        b"PAR1 this is not parquet at all",
    )
    .expect("write");
    let r = run(dir.path(), "bad.parquet", SUITE);
    assert_eq!(r.status, Status::Error);
    let e = r.tests[0].error.clone().unwrap_or_default();
    assert!(e.contains("bad.parquet"), "{e}");
}

#[test]
fn ragged_csv_rows_name_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("r.csv"), "a,b\n1,2\n3,4,5\n6,7\n").expect("write");
    let r = run(dir.path(), "r.csv", "table: { row_count: 3 }\n");
    assert_eq!(r.status, Status::Error, "{:#?}", r.tests[0]);
    let e = r.tests[0].error.clone().unwrap_or_default();
    assert!(e.contains("line 3") || e.contains("line: 3"), "{e}");
}

#[test]
fn empty_data_and_odd_column_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("e.csv"), "a,b\n").expect("write");
    let r = run(
        d,
        "e.csv",
        "table: { row_count: 0 }\ncolumns:\n  a: { not_null: true, between: [0, 1] }\n",
    );
    assert_eq!(r.tests[0].status, Status::Passed, "{:#?}", r.tests[0]);
    std::fs::write(
        d.join("o.csv"),
        "\"my col\",\"it's\",\"a.b\",\"q\"\"uote\",ünï\n1,2,3,4,5\n",
    )
    .expect("write");
    let suite = "columns:\n  my col: { between: [1, 1] }\n  it's: { in_set: [2] }\n  a.b: { equals_never: 1 }\n";
    assert!(
        tollgate::parse_suite(suite, "s").is_err(),
        "unknown check must not parse"
    );
    let suite = "columns:\n  my col: { between: [1, 1] }\n  it's: { in_set: [2] }\n  a.b: { not_null: true }\n  'q\"uote': { max: 4 }\n  ünï: { min: 5 }\nrows:\n  - { condition: '\"my col\" + \"a.b\" = 4' }\n";
    let r = run(d, "o.csv", suite);
    assert_eq!(r.tests[0].status, Status::Passed, "{:#?}", r.tests[0]);
}
