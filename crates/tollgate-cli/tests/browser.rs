//! The HTML report in a real browser: `tollgate test -o report.html` on a plan with a suite, a
//! drift, a diff, an evaluation and a behavioural test, opened in headless Chromium. Checks the
//! DOM the browser built (numbers, charts), that the console stays clean, and keeps a
//! screenshot for people to look at.
//!
//! Needs `chromium` on PATH (Debian: `apt-get install chromium`); fails without it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> &'static str {
    let found = Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "chromium is not on PATH: the HTML report is tested in a real browser; install it with `apt-get install chromium`"
    );
    "chromium"
}

/// Run headless Chromium on a page with the given flags; returns (stdout, stderr).
fn browse(page: &Path, flags: &[&str], profile: &Path) -> (String, String) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(flags)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Console errors of the page (not Chromium's own complaints about D-Bus and the like).
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("Uncaught")
                || l.contains("ERROR:CONSOLE")
                || (l.contains(":CONSOLE(") && l.contains("ERROR"))
                || l.contains("Refused to")
                || l.contains("net::ERR_")
        })
        .collect()
}

/// The forest of examples/titanic, with its features computed in SQL.
const MODELS: &str = r#"models:
  forest:
    onnx: models/forest.onnx
    inputs:
      - { pclass: "CAST(Pclass AS DOUBLE)" }
      - { sex: "CASE WHEN Sex = 'female' THEN 1.0 ELSE 0.0 END" }
      - { age: "COALESCE(CAST(Age AS DOUBLE), 28.0)" }
      - { sibsp: "CAST(SibSp AS DOUBLE)" }
      - { parch: "CAST(Parch AS DOUBLE)" }
      - { fare: "COALESCE(CAST(Fare AS DOUBLE), 13.9313)" }
      - { embarked: "CASE Embarked WHEN 'C' THEN 1.0 WHEN 'Q' THEN 2.0 ELSE 0.0 END" }
      - { title: "CASE WHEN regexp_like(Name, ', [^.]*[.]') THEN CASE regexp_replace(Name, '(?s)^.*?, ([^.]*)[.].*$', '${1}') WHEN 'Mr' THEN 0.0 WHEN 'Mrs' THEN 1.0 WHEN 'Mme' THEN 1.0 WHEN 'Miss' THEN 2.0 WHEN 'Mlle' THEN 2.0 WHEN 'Ms' THEN 2.0 WHEN 'Master' THEN 3.0 ELSE 4.0 END ELSE 4.0 END" }
    output: { probability_of: 1 }
"#;

fn plan(dir: &Path) -> PathBuf {
    let data = repo().join("examples/titanic/data");
    let text = format!(
        r#"version: 1
sources:
  passengers: {{ path: '{titanic}' }}
  train: {{ path: '{train}' }}
  test: {{ path: '{test}' }}
  preds: {{ path: '{preds}' }}
{models}suites:
  passengers:
    source: passengers
    id_columns: [PassengerId]
    columns:
      PassengerId: {{ not_null: true, unique: true }}
      Age: {{ not_null: true, between: [1, 60] }}
      Cabin: {{ not_null: {{ mostly: 0.5, severity: warn }} }}
drift:
  split:
    reference: train
    current: test
    ignore: [PassengerId, Name, Ticket, Cabin]
    per_column: {{ Fare: {{ method: psi, threshold: 0.25 }} }}
diffs:
  train-vs-test: {{ expected: train, actual: test, key: [PassengerId] }}
evaluation:
  scores:
    predictions: {{ source: preds, score: p }}
    label: y
    metrics: {{ roc_auc: {{ at_least: 0.8 }}, accuracy: {{ at_least: 0.99 }} }}
    slices: [grp]
    min_support: 10
behaviour:
  higher-fare:
    model: forest
    source: test
    perturb: {{ scale: {{ Fare: 2.0 }} }}
    expect: increase
    mostly: 0.9
    severity: warn
"#,
        titanic = data.join("titanic.csv").display(),
        train = data.join("train.csv").display(),
        test = data.join("test.csv").display(),
        preds = repo()
            .join("crates/tollgate-cli/tests/fixtures/preds_500.csv")
            .display(),
        models = MODELS.replace(
            "models/forest.onnx",
            &repo()
                .join("examples/titanic/models/forest.onnx")
                .display()
                .to_string()
        ),
    );
    let path = dir.join("tollgate.yaml");
    std::fs::write(&path, text).expect("write plan");
    path
}

#[test]
fn the_html_report_renders_in_chromium() {
    chromium();
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = plan(dir.path());
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&out_dir).expect("artifact dir");
    let page = out_dir.join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("test")
        .arg(&plan)
        .arg("-o")
        .arg(&page)
        .arg("-q")
        .output()
        .expect("run tollgate");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the plan fails on purpose: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).expect("report.html");
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    assert!(!html.contains("http://") && !html.contains("https://"));

    let (dom, stderr) = browse(&page, &["--dump-dom"], &dir.path().join("profile-dom"));
    assert!(
        console_errors(&stderr).is_empty(),
        "console errors: {:#?}",
        console_errors(&stderr)
    );
    // The browser parsed the page into the structure we wrote.
    assert!(dom.contains("<main>"), "{dom}");
    for want in [
        // The summary band: 5 tests, 1 passed (drift), 3 failed, 1 warned (behaviour).
        "5 tests",
        "id=\"count-passed\"><b>1</b>passed",
        "id=\"count-failed\"><b>3</b>failed",
        "id=\"count-warned\"><b>1</b>warned",
        "id=\"count-errors\"><b>0</b>errors",
        // Numbers of the findings.
        "177 of 891 (19.87%)",
        "29 of 714 (4.06%)",
        "0.8557",
        // Failing rows and the worst examples.
        "Failing rows of not_null Age",
        "Failing rows of keys_only_in_expected PassengerId",
        "Worst examples of increase",
        // One chart per kind, and the share bar.
        "aria-label=\"Shares of tests: 1 passed, 3 failed, 1 warned, 0 errors\"",
        "aria-label=\"Unexpected fraction per check of passengers\"",
        "aria-label=\"Drift scores per column of split\"",
        "aria-label=\"Mismatch counts of train-vs-test\"",
        "aria-label=\"Evaluation metrics of scores\"",
        // The findings' plots: reference and current distributions per drift column (numbers
        // as histograms, categories as bars), the ROC curve of roc_auc and the confusion
        // matrix of accuracy.
        "aria-label=\"Distribution of Fare in the reference and current data",
        "aria-label=\"Distribution of Age in the reference and current data",
        "aria-label=\"Shares of the categories of Sex in the reference and current data",
        "aria-label=\"ROC curve of scores",
        "aria-label=\"Confusion matrix of scores",
        // The slice table: the overall value and each slice's, with intervals.
        "<table class=\"slices\">",
        "<th>grp=a</th>",
    ] {
        assert!(dom.contains(want), "missing {want:?} in the DOM");
    }
    let charts: Vec<&str> = dom.split("<svg").skip(1).collect();
    assert!(
        charts.len() >= 5 + 4,
        "the share bar, four charts and the plots: {}",
        charts.len()
    );
    for c in charts {
        let body = &c[..c.find("</svg>").expect("svg closed")];
        assert!(body.contains("role=\"img\""), "{body}");
        assert!(body.contains("<rect") || body.contains("<path"), "{body}");
    }

    let shot = out_dir.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let (_, stderr) = browse(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
            "--hide-scrollbars",
        ],
        &dir.path().join("profile-shot"),
    );
    assert!(
        console_errors(&stderr).is_empty(),
        "console errors: {:#?}",
        console_errors(&stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real picture"
    );
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn the_html_profile_renders_in_chromium() {
    chromium();
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&out_dir).expect("artifact dir");
    let page = out_dir.join("profile.html");
    let data = repo().join("examples/titanic/data/titanic.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("profile")
        .arg(&data)
        .arg("-o")
        .arg(&page)
        .args(["--format", "html", "--progress", "never"])
        .output()
        .expect("run tollgate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).expect("profile.html");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        html,
        "--format html prints the page -o writes"
    );
    assert!(html.len() < 300_000, "{} bytes", html.len());
    assert!(!html.contains("http://") && !html.contains("https://"));

    let (dom, stderr) = browse(&page, &["--dump-dom"], &dir.path().join("profile-dom"));
    assert!(
        console_errors(&stderr).is_empty(),
        "console errors: {:#?}",
        console_errors(&stderr)
    );
    assert!(dom.contains("891 rows · 12 columns"), "{dom}");
    let cards: Vec<&str> = dom.split("<section class=\"card\"").skip(1).collect();
    assert_eq!(cards.len(), 12, "a card per column");
    let numeric = [
        "PassengerId",
        "Survived",
        "Pclass",
        "Age",
        "SibSp",
        "Parch",
        "Fare",
    ];
    let text = ["Name", "Sex", "Ticket", "Cabin", "Embarked"];
    for col in numeric.iter().chain(&text) {
        let card = cards
            .iter()
            .find(|c| c.contains(&format!("data-column=\"{col}\"")))
            .unwrap_or_else(|| panic!("no card for {col}"));
        let chart = if numeric.contains(col) {
            format!("aria-label=\"Histogram of {col}:")
        } else {
            format!("aria-label=\"Most frequent values of {col}:")
        };
        assert!(card.contains(&chart), "{col}: no {chart:?} in {card}");
        assert!(
            card.contains(&format!("aria-label=\"Null share of {col}:")),
            "{col}"
        );
        for svg in card.split("<svg").skip(1) {
            let body = &svg[..svg.find("</svg>").expect("svg closed")];
            assert!(
                body.contains("role=\"img\"") && body.contains("<rect"),
                "{body}"
            );
        }
    }
    assert!(dom.contains("aria-label=\"Null share of Age: 19.9%\""));
    assert!(dom.contains("aria-label=\"Most frequent values of Sex: male (577), female (314)\""));

    let shot = out_dir.join("profile.png");
    let _ = std::fs::remove_file(&shot);
    let (_, stderr) = browse(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
            "--hide-scrollbars",
        ],
        &dir.path().join("profile-shot"),
    );
    assert!(
        console_errors(&stderr).is_empty(),
        "console errors: {:#?}",
        console_errors(&stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real picture"
    );
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn console_errors_are_caught() {
    // The filter must see a script error, or a clean console would prove nothing.
    chromium();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>",
    )
    .expect("write");
    let (_, stderr) = browse(&page, &["--dump-dom"], &dir.path().join("profile"));
    assert!(!console_errors(&stderr).is_empty(), "{stderr}");
}
