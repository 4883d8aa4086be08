//! Every metric equals scikit-learn's value on the committed fixtures to 1e-9
//! (`scripts/sklearn_metrics_fixtures.py` wrote them).

use serde_json::Value;
use tollgate_model::{Outcomes, metric};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

#[test]
fn metrics_match_scikit_learn() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/metrics.json"
    ))
    .expect("fixtures");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in doc["cases"].as_array().expect("cases") {
        let kind = case["kind"].as_str().unwrap_or_default();
        let mut o = Outcomes {
            y: floats(&case["y"]),
            threshold: case["threshold"].as_f64().unwrap_or(0.5),
            ..Outcomes::default()
        };
        match kind {
            "binary" => o.score = Some(floats(&case["score"])),
            "multiclass" => {
                o.probs = Some(
                    case["probs"]
                        .as_array()
                        .expect("probs")
                        .iter()
                        .map(floats)
                        .collect(),
                )
            }
            _ => o.pred = Some(floats(&case["pred"])),
        }
        for (name, want) in case["expected"].as_object().expect("expected") {
            let name = name.replace("_binary", "");
            let want = want.as_f64().expect("number");
            match metric(&name, &o) {
                Ok(got) if (got - want).abs() <= 1e-9 * want.abs().max(1.0) => checked += 1,
                Ok(got) => {
                    failures.push(format!("{} {name}: {got} vs sklearn {want}", case["name"]))
                }
                Err(e) => failures.push(format!("{} {name}: error {e}", case["name"])),
            }
        }
    }
    assert!(checked > 150, "only {checked} values checked");
    assert!(
        failures.is_empty(),
        "{} differ from scikit-learn:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn undefined_metrics_are_errors() {
    let o = Outcomes {
        y: vec![0.0, 0.0],
        score: Some(vec![0.2, 0.7]),
        threshold: 0.5,
        ..Outcomes::default()
    };
    assert!(metric("roc_auc", &o).unwrap_err().contains("one class"));
    assert!(
        metric("rocauc", &o)
            .unwrap_err()
            .contains("did you mean `roc_auc`")
    );
    let empty = Outcomes::default();
    assert!(metric("accuracy", &empty).is_err());
}
