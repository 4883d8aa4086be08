//! The one-scan proof: a suite's aggregate metrics cost one scan of the files, however many
//! checks it has; failing row-level checks add one bounded query each for their samples.

use std::path::Path;

use tollgate::{Engine, SourceDecl, Status};

fn source(path: &str) -> SourceDecl {
    SourceDecl {
        name: "data".into(),
        pos: Default::default(),
        path: path.into(),
        format: None,
        csv: Default::default(),
        postgres: None,
    }
}

fn write_data(dir: &Path) {
    let mut csv = String::from("id,amount,country,email\n");
    for i in 0..200 {
        csv.push_str(&format!(
            "{i},{}.5,{},user{i}@example.com\n",
            i % 50,
            ["US", "GB", "DE"][i % 3]
        ));
    }
    std::fs::write(dir.join("d.csv"), csv).expect("write");
}

const PASSING: &str = r#"
table:
  row_count: { between: [100, 300] }
  columns: { include: [id, amount] }
columns:
  id: { type: int64, not_null: true, unique: true, between: [0, 1000], distinct_count: { at_least: 100 } }
  amount: { not_null: { mostly: 0.9 }, between: [0, 100], mean: { between: [0, 100] }, stdev: { at_least: 0 }, median: { at_least: 0 }, min: { at_least: 0 }, max: { at_most: 100 }, sum: { at_least: 0 }, quantiles: { 0.9: { at_most: 100 } } }
  country: { in_set: [US, GB, DE], length: 2, distinct_values: { in: [US, GB, DE, FR] }, unique_fraction: { at_most: 0.5 } }
  email: { matches: '^[^@]+@[^@]+$', not_matches: '\s' }
rows:
  - { condition: "amount >= 0 AND id >= 0" }
  - { compare: [id, '>=', amount], mostly: 0.5 }
aggregates:
  - { sql: "count(DISTINCT country)", equals: 3 }
"#;

#[test]
fn a_passing_suite_costs_one_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_data(dir.path());
    let suite = tollgate::parse_suite(PASSING, "s").expect("suite parses");
    assert!(
        suite.checks.len() >= 20,
        "the suite should be large: {}",
        suite.checks.len()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let engine = Engine::default();
    let prepared = rt
        .block_on(engine.prepare(&source("d.csv"), dir.path(), &[&suite]))
        .expect("prepare");
    assert_eq!(prepared.scans(), 0, "opening a source reads no rows");
    let result = rt.block_on(engine.run_suite(&prepared, &suite));
    let bad: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.status != Status::Passed)
        .collect();
    assert!(bad.is_empty(), "every check should pass: {bad:#?}");
    assert_eq!(prepared.scans(), 1, "all metrics of the suite in one scan");
}

#[test]
fn failing_checks_add_one_bounded_query_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_data(dir.path());
    let suite = tollgate::parse_suite(
        "columns:\n  amount: { between: [0, 10], mean: { at_most: 1 } }\n  country: { in_set: [US] }\n",
        "s",
    )
    .expect("suite parses");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let engine = Engine::default();
    let prepared = rt
        .block_on(engine.prepare(&source("d.csv"), dir.path(), &[&suite]))
        .expect("prepare");
    let result = rt.block_on(engine.run_suite(&prepared, &suite));
    assert!(result.findings.iter().all(|f| f.status == Status::Failed));
    // One aggregate scan + one sample query per failing row-level check (the mean has none).
    assert_eq!(prepared.scans(), 3);
    assert_eq!(result.findings[0].sample.len(), 5);
    assert_eq!(
        result.findings[0].sample[0].row,
        Some(10),
        "first row with amount > 10 is row 10 (10.5)"
    );
}
