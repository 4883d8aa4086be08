//! The `pipeline` binary: what it writes, and how it refuses bad input (exit code 2, a message
//! naming the file and the line, never a panic).

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pipeline"))
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// (exit code, stderr).
fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run pipeline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_readme_commands_write_the_golden_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    for v in ["v1", "v2"] {
        let out = dir.path().join(v);
        let (code, err) = run(bin()
            .args(["--version", v, "--logs"])
            .arg(data(&format!("logs_{v}.csv")))
            .arg("--items")
            .arg(data("items.csv"))
            .arg("--out")
            .arg(&out));
        assert_eq!(code, 0, "{err}");
        for f in ["logs.csv", "events.csv", "aggregates.csv", "ctr.csv"] {
            assert!(out.join(f).is_file(), "{v}: no {f}");
        }
        // Byte for byte: the CSV writer's number format is part of the contract with plans.
        for f in ["ctr.csv", "aggregates.csv"] {
            let got = std::fs::read_to_string(out.join(f)).expect("output");
            let want = std::fs::read_to_string(data(&format!("golden/{v}/{f}"))).expect("golden");
            assert_eq!(got, want, "{v}/{f}");
        }
    }
}

#[test]
fn generate_is_deterministic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gen_to = |name: &str, seed: &str| {
        let path = dir.path().join(name);
        let (code, err) = run(bin()
            .args(["generate", "--rows", "5000", "--seed", seed, "--out"])
            .arg(&path));
        assert_eq!(code, 0, "{err}");
        std::fs::read(&path).expect("generated")
    };
    let a = gen_to("a.csv", "7");
    assert_eq!(a, gen_to("b.csv", "7"));
    assert_ne!(a, gen_to("c.csv", "8"));
    assert_eq!(a.iter().filter(|b| **b == b'\n').count(), 5001);
}

#[test]
fn bad_rows_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("bad_logs.csv");
    std::fs::write(
        &logs,
        "request_id,impressions,event_item,event_type\nr1,i1|i2,,impress\nr2,,,impress\n",
    )
    .expect("write");
    let (code, err) = run(bin()
        .args(["--version", "v1", "--logs"])
        .arg(&logs)
        .arg("--out")
        .arg(dir.path().join("out")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad_logs.csv: 1 invalid row(s)"), "{err}");
    assert!(
        err.contains("line 3 (request r2): `impressions` is empty"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unusable_inputs_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(
        &ragged,
        "request_id,impressions,event_item,event_type\nr1,i1,,impress,x\n",
    )
    .expect("write");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--version".into(),
                "v2".into(),
                "--logs".into(),
                data("logs_v1.csv").display().to_string(),
            ],
            "logs_v1.csv: missing column(s) impressions_visible",
        ),
        (
            vec![
                "--version".into(),
                "v1".into(),
                "--logs".into(),
                "no_such_file.csv".into(),
            ],
            "no_such_file.csv: cannot be read",
        ),
        (
            vec![
                "--version".into(),
                "v1".into(),
                "--logs".into(),
                ragged.display().to_string(),
            ],
            "ragged.csv: cannot be read as CSV",
        ),
        (
            vec![
                "--version".into(),
                "v3".into(),
                "--logs".into(),
                "x.csv".into(),
            ],
            "unknown version `v3`",
        ),
    ];
    for (args, message) in cases {
        let (code, err) = run(bin().args(&args).arg("--out").arg(&out));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
