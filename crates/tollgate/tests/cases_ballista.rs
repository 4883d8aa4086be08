//! The data-driven check cases (`tests/cases/*.case`) on a Ballista cluster started in this
//! process (a scheduler and an executor, `ballista:standalone`), compared with the local engine
//! finding by finding. A check the cluster cannot run must be an error finding that says so;
//! every other finding, and the whole JSON of a case whose checks all run, must be identical,
//! with two differences that are the cluster's nature, not bugs:
//! - samples: a cluster keeps no file order, so its samples have no row position and are the
//!   failing rows that sort first (the local engine shows the first in file order). Compared:
//!   the same failing values (every case's failing rows fit in one sample);
//! - a check that fails while running (a division by zero) is an error on both, but the message
//!   after "failed while running:" is the cluster's task error.
#![cfg(feature = "ballista")]

use std::collections::BTreeMap;

use tollgate::{Engine, EngineOptions, EngineSpec, Finding, RunReport, SourceDecl, Status};

#[path = "common/cases.rs"]
mod format;

#[test]
fn check_cases_on_a_ballista_cluster_equal_the_local_engine() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    // Two partitions and split files: the cluster merges partial aggregates across tasks.
    let opts = EngineOptions {
        partitions: Some(2),
        split_small_files: true,
        ..Default::default()
    };
    let local = Engine::new(opts.clone());
    let cluster = rt
        .block_on(Engine::connect(opts, &EngineSpec::BallistaStandalone))
        .expect("start an in-process Ballista cluster");
    assert!(cluster.cluster().is_some());

    let mut failures = Vec::new();
    let mut compared = 0usize;
    let mut identical_json = 0usize;
    let mut unsupported: BTreeMap<String, usize> = BTreeMap::new();
    let cases = format::all();
    for case in &cases {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(&case.data_name), &case.data).expect("write data");
        let Ok(suite) = tollgate::parse_suite(&case.suite, &case.name) else {
            // Suites that do not parse are the local runner's business (it checks the message).
            continue;
        };
        let source = SourceDecl::file("data", &case.data_name);
        let run = |engine: &Engine| {
            rt.block_on(tollgate::run_suites(
                engine,
                &source,
                std::slice::from_ref(&suite),
                dir.path(),
            ))
        };
        let here = comparable(run(&local));
        let there = comparable(run(&cluster));
        let id = format!("{} / {}", case.file, case.name);
        let (h, t) = (&here.tests[0], &there.tests[0]);
        if h.error != t.error {
            failures.push(format!(
                "{id}: test error differs\n  local:   {:?}\n  cluster: {:?}",
                h.error, t.error
            ));
            continue;
        }
        if h.findings.len() != t.findings.len() {
            failures.push(format!("{id}: finding counts differ"));
            continue;
        }
        let mut all_run = true;
        for (hf, tf) in h.findings.iter().zip(&t.findings) {
            let cannot = tf.status == Status::Error
                && tf
                    .error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("not supported on Ballista"));
            if cannot {
                all_run = false;
                *unsupported.entry(tf.check.clone()).or_default() += 1;
                continue;
            }
            compared += 1;
            let (hl, tl) = (format::line(hf), format::line(tf));
            if hl != tl {
                failures.push(format!("{id}\n  local:   {hl}\n  cluster: {tl}"));
            }
        }
        if all_run {
            let (hj, tj) = (
                tollgate::report::json(&here),
                tollgate::report::json(&there),
            );
            if hj == tj {
                identical_json += 1;
            } else {
                failures.push(format!(
                    "{id}: JSON differs\n--- local\n{hj}\n--- cluster\n{tj}"
                ));
            }
        }
    }
    eprintln!(
        "Ballista: {} cases, {compared} findings equal to the local engine's, {identical_json} cases with identical JSON; not supported: {unsupported:?}",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences between Ballista and the local engine:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // Not vacuous: most findings run on the cluster.
    assert!(compared >= 100, "only {compared} findings compared");
    let skipped: usize = unsupported.values().sum();
    assert!(skipped * 5 < compared, "{unsupported:?}");
}

/// A report as the cluster can reproduce it: samples without row positions, in value order;
/// runtime failures without the engine's own words.
fn comparable(mut report: RunReport) -> RunReport {
    for t in &mut report.tests {
        for f in &mut t.findings {
            normalize(f);
        }
    }
    report
}

fn normalize(f: &mut Finding) {
    for s in &mut f.sample {
        s.row = None;
    }
    f.sample
        .sort_by_key(|s| serde_json::Value::Object(s.values.clone()).to_string());
    let running = "failed while running: ";
    if let Some(e) = &mut f.error
        && let Some(i) = e.find(running)
    {
        e.truncate(i + running.len());
    }
}
