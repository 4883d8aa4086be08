//! The HTTP runner against a real server on 127.0.0.1 (started here, answering each protocol,
//! and failing, stalling and returning garbage on demand).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tollgate_model::http::{HttpModel, Protocol};
use tollgate_model::runner::{FeatureColumn, Features, Model};

/// Serve `requests` requests with `answer(request_number, body) -> (status, body)`; None stalls.
fn serve(
    requests: usize,
    answer: impl Fn(usize, &Value) -> Option<(u16, String)> + Send + 'static,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().take(requests).enumerate() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            match answer(i, &doc) {
                Some((status, text)) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                }
                None => std::thread::sleep(Duration::from_secs(3)),
            }
        }
    });
    (url, seen)
}

fn features(n: usize) -> Features {
    Features {
        names: vec!["x".into(), "city".into()],
        columns: vec![
            FeatureColumn::Num((0..n).map(|i| Some(i as f64)).collect()),
            FeatureColumn::Text((0..n).map(|i| Some(format!("c{i}"))).collect()),
        ],
    }
}

fn model(url: &str, protocol: Protocol) -> HttpModel {
    HttpModel {
        url: url.into(),
        protocol,
        model_name: "m".into(),
        output: None,
        timeout: Duration::from_secs(2),
        batch_size: 4,
        max_in_flight: 2,
        retries: 2,
    }
}

/// A KServe v2 answer: probabilities [1 - x/10, x/10] per row, from the request's `x` input.
fn kserve(doc: &Value) -> String {
    let x: Vec<f64> = doc["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .find(|i| i["name"] == "x")
        .expect("x")["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|v| v.as_f64().unwrap_or(0.0))
        .collect();
    let data: Vec<f64> = x.iter().flat_map(|v| [1.0 - v / 10.0, v / 10.0]).collect();
    json!({ "outputs": [{ "name": "probabilities", "shape": [x.len(), 2], "datatype": "FP64", "data": data }] }).to_string()
}

#[test]
fn kserve_v2_in_batches_with_a_bound_on_requests_in_flight() {
    let (url, seen) = serve(3, |_, doc| Some((200, kserve(doc))));
    let preds = model(&url, Protocol::KServeV2)
        .predict(&features(10))
        .expect("predictions");
    assert_eq!(preds.len(), 10);
    assert_eq!(preds[7], vec![0.30000000000000004, 0.7]);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "10 rows in batches of 4: three requests"
    );
}

#[test]
fn mlflow_dataframe_split() {
    let (url, _) = serve(1, |_, doc| {
        let cols = &doc["dataframe_split"]["columns"];
        assert_eq!(cols, &json!(["x", "city"]));
        let n = doc["dataframe_split"]["data"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        Some((
            200,
            json!({ "predictions": (0..n).map(|i| i as f64 * 2.0).collect::<Vec<_>>() })
                .to_string(),
        ))
    });
    let mut m = model(&url, Protocol::Mlflow);
    m.batch_size = 100;
    assert_eq!(
        m.predict(&features(3)).expect("predictions"),
        vec![vec![0.0], vec![2.0], vec![4.0]]
    );
}

#[test]
fn a_5xx_is_retried_then_succeeds() {
    let (url, seen) = serve(2, |i, doc| {
        if i == 0 {
            Some((503, "busy".into()))
        } else {
            Some((200, kserve(doc)))
        }
    });
    let mut m = model(&url, Protocol::KServeV2);
    m.batch_size = 100;
    assert_eq!(m.predict(&features(2)).expect("predictions").len(), 2);
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[test]
fn every_failure_is_a_clear_error() {
    // Always 500: retried, then an error naming the status.
    let (url, _) = serve(3, |_, _| Some((500, "boom".into())));
    let e = model(&url, Protocol::KServeV2)
        .predict(&features(2))
        .expect_err("500")
        .to_string();
    assert!(
        e.contains("failed after 3 attempts") && e.contains("HTTP 500: boom"),
        "{e}"
    );
    // 4xx is not retried.
    let (url, seen) = serve(1, |_, _| Some((404, "no such model".into())));
    let e = model(&url, Protocol::KServeV2)
        .predict(&features(2))
        .expect_err("404")
        .to_string();
    assert!(e.contains("answered HTTP 404: no such model"), "{e}");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    // Garbage and wrong row counts.
    let (url, _) = serve(1, |_, _| Some((200, "<html>".into())));
    let e = model(&url, Protocol::KServeV2)
        .predict(&features(2))
        .expect_err("garbage")
        .to_string();
    assert!(
        e.contains("malformed answer") && e.contains("not JSON"),
        "{e}"
    );
    let (url, _) = serve(1, |_, _| {
        Some((200, json!({ "predictions": [1.0] }).to_string()))
    });
    let e = model(&url, Protocol::Mlflow)
        .predict(&features(2))
        .expect_err("short")
        .to_string();
    assert!(e.contains("1 predictions for 2 rows"), "{e}");
    // A stalled server times out.
    let (url, _) = serve(1, |_, _| None);
    let mut m = model(&url, Protocol::KServeV2);
    m.timeout = Duration::from_millis(300);
    let t = Instant::now();
    let e = m.predict(&features(2)).expect_err("stall").to_string();
    assert!(e.contains("no complete answer within"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
    // Nothing listening: refused, retried, then an error.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let e = model(&format!("http://127.0.0.1:{port}"), Protocol::KServeV2)
        .predict(&features(2))
        .expect_err("refused")
        .to_string();
    assert!(e.contains("cannot connect"), "{e}");
    let e = model("https://example.invalid", Protocol::KServeV2)
        .predict(&features(2))
        .expect_err("https")
        .to_string();
    assert!(e.contains("only http:// URLs"), "{e}");
}

#[test]
fn the_kserve_signature_is_compared_with_the_inputs() {
    use tollgate_core::{Severity, Status};
    use tollgate_model::checks::{ModelCheck, run};
    let metadata = json!({ "name": "m", "inputs": [{ "name": "x", "datatype": "FP64", "shape": [-1, 1] }, { "name": "city", "datatype": "BYTES", "shape": [-1, 1] }] }).to_string();
    let meta = metadata.clone();
    // Each check run asks for the metadata (GET) after one prediction (POST).
    let (url, _) = serve(4, move |_, doc| {
        if doc.is_null() {
            Some((200, meta.clone()))
        } else {
            Some((200, kserve(doc)))
        }
    });
    let m = model(&url, Protocol::KServeV2);
    let good = run(&m, &features(3), &[ModelCheck::Signature], Severity::Error);
    assert_eq!(good[0].status, Status::Passed, "{good:#?}");
    let mut wrong = features(3);
    wrong.names[1] = "town".into();
    let bad = run(&m, &wrong, &[ModelCheck::Signature], Severity::Error);
    assert_eq!(bad[0].status, Status::Failed);
    assert!(
        bad[0]
            .expected
            .contains("the model takes `city`, which it is not fed"),
        "{}",
        bad[0].expected
    );
    assert!(
        bad[0]
            .expected
            .contains("`town` is fed but the model does not declare it"),
        "{}",
        bad[0].expected
    );
}
