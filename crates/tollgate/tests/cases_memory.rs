//! The data-driven check cases (`tests/cases/*.case`) with a memory limit, compared with the
//! same engine without one: under a limit the distinct counts, medians, quantiles and distinct
//! values are computed by other queries (grouped, sorted: they spill), and uniqueness samples by
//! another window; the JSON of every case must be byte-identical. See `docs/memory.md`.

use tollgate::{Engine, EngineOptions, SourceDecl};

#[path = "common/cases.rs"]
mod format;

#[test]
fn check_cases_under_a_memory_limit_equal_the_unlimited_engine() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut failures = Vec::new();
    let cases = format::all();
    for case in &cases {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(&case.data_name), &case.data).expect("write data");
        let Ok(suite) = tollgate::parse_suite(&case.suite, &case.name) else {
            // Suites that do not parse are the local runner's business (it checks the message).
            continue;
        };
        let source = SourceDecl::file("data", &case.data_name);
        // Several partitions and small batches: partial aggregates are merged, spilled runs too.
        for (batch, partitions) in [(3usize, 4usize), (8192, 1)] {
            let run = |memory_limit: Option<usize>| {
                let engine = Engine::new(EngineOptions {
                    batch_size: Some(batch),
                    partitions: Some(partitions),
                    split_small_files: true,
                    memory_limit,
                    ..Default::default()
                });
                let report = rt.block_on(tollgate::run_suites(
                    &engine,
                    &source,
                    std::slice::from_ref(&suite),
                    dir.path(),
                ));
                tollgate::report::json(&report)
            };
            let free = run(None);
            let bounded = run(Some(32 << 20));
            if free != bounded {
                failures.push(format!(
                    "{} / {} (batch {batch}, {partitions} partitions):\nwithout a limit:\n{free}\nwith one:\n{bounded}",
                    case.file, case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ under a memory limit:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
