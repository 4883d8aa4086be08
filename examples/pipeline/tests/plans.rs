//! The plans, run with the tollgate library on the pipeline's real output: the robust plan
//! (`tollgate.yaml`) passes on v1 and v2 and on generated logs; the brittle plans pass on their
//! own version and fail on the other one, with the findings the README's table lists.
//!
//! Each case lays the example out in a temporary directory (the plans, the golden files, and
//! the pipeline's output in `out/`), as it is laid out in the repository after the README's
//! commands, and runs a plan from there.

use std::path::{Path, PathBuf};

use tempfile::TempDir;
use tollgate::{RunReport, Status};
use tollgate_example_pipeline::generate::{GenerateOptions, generate_logs};
use tollgate_example_pipeline::{Version, run_to_dir};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy(from: &Path, to: &Path) {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}

/// Where the logs come from.
enum Logs {
    /// The article's five rows (data/logs_v1.csv or data/logs_v2.csv).
    Hand,
    /// 20 000 generated requests, seed 42.
    Generated,
}

/// The example laid out in a temporary directory, with the pipeline's output in `out/`.
struct Run {
    dir: TempDir,
}

impl Run {
    async fn new(version: Version, logs: Logs) -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for file in [
            "tollgate.yaml",
            "plans/brittle_v1.yaml",
            "plans/brittle_v2.yaml",
            "data/golden/v1/ctr.csv",
            "data/golden/v1/aggregates.csv",
            "data/golden/v2/ctr.csv",
            "data/golden/v2/aggregates.csv",
        ] {
            copy(&example().join(file), &root.join(file));
        }
        let (logs, items) = match logs {
            Logs::Hand => (
                example().join(format!("data/logs_{version}.csv")),
                Some(example().join("data/items.csv")),
            ),
            Logs::Generated => {
                let path = root.join("generated.csv");
                let mut file =
                    std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
                let opts = GenerateOptions {
                    rows: 20_000,
                    seed: 42,
                    version,
                    ..GenerateOptions::default()
                };
                generate_logs(&opts, &mut file).expect("generate");
                (path, None)
            }
        };
        run_to_dir(&logs, items.as_deref(), version, &root.join("out"))
            .await
            .expect("the pipeline runs");
        Run { dir }
    }

    /// Run a plan (a path relative to the example's root) the way `tollgate test` does.
    async fn plan(&self, plan: &str) -> RunReport {
        let path = self.dir.path().join(plan);
        let text = std::fs::read_to_string(&path).expect("plan");
        let plan_decl = tollgate::parse_plan(&text)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e:?}", path.display()));
        let base = path.parent().expect("a directory");
        tollgate::run_plan(&tollgate::Engine::default(), &plan_decl, base, None).await
    }
}

/// Each test of a report: (name, status, the failed findings as `check` or `check:name`).
fn outcomes(report: &RunReport) -> Vec<(String, Status, Vec<String>)> {
    report
        .tests
        .iter()
        .map(|t| {
            let failed = t
                .findings
                .iter()
                .filter(|f| f.status == Status::Failed)
                .map(|f| match (&f.name, &f.column) {
                    (Some(n), _) => format!("{}:{n}", f.check),
                    (None, Some(c)) => format!("{}:{c}", f.check),
                    (None, None) => f.check.clone(),
                })
                .collect();
            (t.name.clone(), t.status, failed)
        })
        .collect()
}

fn show(report: &RunReport) -> String {
    report
        .tests
        .iter()
        .map(|t| {
            let mut s = format!("{:?} {}", t.status, t.name);
            if let Some(e) = &t.error {
                s.push_str(&format!(" error: {e}"));
            }
            for f in t.findings.iter().filter(|f| f.status != Status::Passed) {
                s.push_str(&format!(
                    "\n    {:?} {} {:?} {:?}: observed {} expected {}",
                    f.status, f.check, f.name, f.column, f.observed, f.expected
                ));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_passes(report: &RunReport, what: &str) {
    assert_eq!(
        tollgate::exit_code(report, true),
        0,
        "{what} should pass:\n{}",
        show(report)
    );
    assert!(!report.tests.is_empty(), "{what}: no test ran");
}

/// The robust plan's tests, by name: they must all run.
const ROBUST: &[&str] = &[
    "logs-contract",
    "events-schema",
    "events-positions",
    "aggregates-invariants",
    "ctr-properties",
];

/// The brittle plans' tests and, when run on the other version, the findings that fail
/// (`[]`: the test stays valid).
const BRITTLE_ON_THE_OTHER_VERSION: &[(&str, &[&str])] = &[
    ("logs-schema-exact", &["columns"]),
    ("events-schema-exact", &[]),
    ("events-count-exact", &["row_count"]),
    ("impress-positions-hand-crafted", &[]), // the failed aggregates differ per plan: below
    ("aggregates-hand-crafted", &["values_equal:impress"]),
    ("golden-ctr", &["values_equal:ctr"]),
];

async fn robust_passes(version: Version, logs: Logs) {
    let what = format!("tollgate.yaml on {version}");
    let report = Run::new(version, logs).await.plan("tollgate.yaml").await;
    assert_passes(&report, &what);
    let names: Vec<&str> = report.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ROBUST, "{what}");
}

#[tokio::test]
async fn robust_plan_passes_on_v1() {
    robust_passes(Version::V1, Logs::Hand).await;
}

#[tokio::test]
async fn robust_plan_passes_on_v2() {
    robust_passes(Version::V2, Logs::Hand).await;
}

#[tokio::test]
async fn robust_plan_passes_on_generated_v1() {
    robust_passes(Version::V1, Logs::Generated).await;
}

#[tokio::test]
async fn robust_plan_passes_on_generated_v2() {
    robust_passes(Version::V2, Logs::Generated).await;
}

/// The robust plan is not vacuous: an output where an item has more clicks than impressions
/// (a click counted on an item that was not shown) and a CTR above 1 fails it, on exactly
/// those two invariants.
#[tokio::test]
async fn robust_plan_catches_a_broken_output() {
    let run = Run::new(Version::V2, Logs::Hand).await;
    let out = run.dir.path().join("out");
    std::fs::write(
        out.join("aggregates.csv"),
        "item,click,impress\ni1,0,4\ni2,1,5\ni3,3,2\ni4,0,2\n",
    )
    .expect("write");
    std::fs::write(
        out.join("ctr.csv"),
        "item_id,ctr\ni1,0.0\ni2,0.2\ni3,1.5\ni4,0.0\ni5,-1.0\n",
    )
    .expect("write");
    let report = run.plan("tollgate.yaml").await;
    assert_eq!(tollgate::exit_code(&report, false), 1, "{}", show(&report));
    let failed: Vec<(String, Status, Vec<String>)> = outcomes(&report)
        .into_iter()
        .filter(|(_, s, _)| *s == Status::Failed)
        .collect();
    assert_eq!(
        failed,
        vec![
            (
                "aggregates-invariants".to_string(),
                Status::Failed,
                vec!["compare:clicks-at-most-impressions".to_string()]
            ),
            (
                "ctr-properties".to_string(),
                Status::Failed,
                vec!["condition:ctr-is-a-rate-or-cold-start".to_string()]
            ),
        ],
        "{}",
        show(&report)
    );
}

/// A brittle plan passes on its own version and fails on the other one, test by test as
/// [`BRITTLE_ON_THE_OTHER_VERSION`] says.
async fn brittle(plan: &str, own: Version, other: Version, positions_failing: &[&str]) {
    let report = Run::new(own, Logs::Hand).await.plan(plan).await;
    assert_passes(&report, &format!("{plan} on {own}"));
    let names: Vec<&str> = report.tests.iter().map(|t| t.name.as_str()).collect();
    let expected: Vec<&str> = BRITTLE_ON_THE_OTHER_VERSION
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(names, expected, "{plan}");

    let report = Run::new(other, Logs::Hand).await.plan(plan).await;
    assert_eq!(
        tollgate::exit_code(&report, false),
        1,
        "{plan} on {other} should fail:\n{}",
        show(&report)
    );
    for ((name, status, failed), (want_name, want_failed)) in outcomes(&report)
        .into_iter()
        .zip(BRITTLE_ON_THE_OTHER_VERSION)
    {
        assert_eq!(name, *want_name, "{plan}");
        let want: Vec<String> = if name == "impress-positions-hand-crafted" {
            positions_failing.iter().map(|s| s.to_string()).collect()
        } else {
            want_failed.iter().map(|s| s.to_string()).collect()
        };
        let want_status = if want.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        };
        assert_eq!(
            (status, &failed),
            (want_status, &want),
            "{plan} on {other}, test {name}:\n{}",
            show(&report)
        );
    }
}

#[tokio::test]
async fn brittle_v1_plan_passes_on_v1_and_fails_on_v2() {
    brittle(
        "plans/brittle_v1.yaml",
        Version::V1,
        Version::V2,
        &[
            "aggregate:twenty-impressions",
            "aggregate:five-of-each-position",
            "aggregate:positions-sum-to-50",
        ],
    )
    .await;
}

#[tokio::test]
async fn brittle_v2_plan_passes_on_v2_and_fails_on_v1() {
    brittle(
        "plans/brittle_v2.yaml",
        Version::V2,
        Version::V1,
        &[
            "aggregate:fifteen-impressions",
            "aggregate:two-fourth-positions",
            "aggregate:positions-sum-to-32",
        ],
    )
    .await;
}

/// The README's table names every test of the plans and of tests/pipeline.rs.
#[test]
fn the_readme_names_every_test() {
    let readme = std::fs::read_to_string(example().join("README.md")).expect("README.md");
    let rust_tests = std::fs::read_to_string(example().join("tests/pipeline.rs")).expect("tests");
    let mut names: Vec<String> = ROBUST.iter().map(|s| s.to_string()).collect();
    names.extend(
        BRITTLE_ON_THE_OTHER_VERSION
            .iter()
            .map(|(n, _)| n.to_string()),
    );
    for marker in ["\nasync fn ", "\nfn "] {
        names.extend(
            rust_tests
                .split(marker)
                .skip(1)
                .filter_map(|s| s.split('(').next())
                .filter(|n| {
                    n.ends_with("_robust") || n.contains("_brittle") || n.ends_with("_rewritten_v2")
                })
                .map(String::from),
        );
    }
    names.sort();
    names.dedup();
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !readme.contains(&format!("`{n}`")))
        .collect();
    assert!(missing.is_empty(), "README.md does not name {missing:?}");
}
