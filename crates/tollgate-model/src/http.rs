//! HTTP model servers: the KServe v2 inference protocol (`POST /v2/models/{name}/infer`) and
//! MLflow's scoring server (`POST /invocations` with `dataframe_split`). A small HTTP/1.1
//! client over `std::net` (plain HTTP; put a local proxy in front of TLS endpoints): batches,
//! a bound on requests in flight, timeouts, and retries with backoff for refused connections and
//! 5xx answers. Every failure is a [`ModelError`] that says what the server did.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::{Value, json};

use crate::runner::{FeatureColumn, Features, Model, ModelError, Predictions};

/// The protocol a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// KServe / Triton open inference protocol v2.
    KServeV2,
    /// MLflow's `/invocations`.
    Mlflow,
}

/// A model behind an HTTP server.
#[derive(Debug, Clone)]
pub struct HttpModel {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// The protocol.
    pub protocol: Protocol,
    /// The model's name (KServe v2 path).
    pub model_name: String,
    /// Which output to read (KServe v2; the first when `None`).
    pub output: Option<String>,
    /// Time for one request.
    pub timeout: Duration,
    /// Rows per request.
    pub batch_size: usize,
    /// Requests in flight at once.
    pub max_in_flight: usize,
    /// Retries of a refused connection or a 5xx answer (with backoff 50 ms, 100 ms, ...).
    pub retries: usize,
}

struct Url {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Url, ModelError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        ModelError::Load(format!(
            "`{url}`: only http:// URLs are supported (put a local proxy in front of https)"
        ))
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| ModelError::Load(format!("`{url}`: bad port `{p}`")))?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err(ModelError::Load(format!("`{url}`: no host")));
    }
    Ok(Url {
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

/// One POST; returns (status, body). Transport failures are `Err(true)` when worth a retry.
fn request(
    method: &str,
    url: &Url,
    path: &str,
    body: &str,
    timeout: Duration,
) -> Result<(u16, String), (bool, String)> {
    let addr = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| (false, format!("cannot resolve {}: {e}", url.host)))?
        .next()
        .ok_or((false, format!("cannot resolve {}", url.host)))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| (true, format!("cannot connect to {addr}: {e}")))?;
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        url.host,
        url.port,
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| (true, format!("sending the request failed: {e}")))?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            return Err((false, format!("no complete answer within {timeout:?}")));
        }
        Err(e) => return Err((true, format!("reading the answer failed: {e}"))),
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or((false, "the answer is not HTTP (no header end)".to_string()))?;
    let status: u16 = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or((
            false,
            format!(
                "the answer is not HTTP: {:?}",
                head.lines().next().unwrap_or("")
            ),
        ))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or((false, "malformed chunked body".to_string()))?
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n")?;
        let n = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..n)?);
        s = rest.get(n + 2..)?;
    }
}

impl HttpModel {
    fn endpoint(&self) -> Result<(Url, String), ModelError> {
        let url = parse_url(&self.url)?;
        let path = match self.protocol {
            Protocol::KServeV2 => format!("{}/v2/models/{}/infer", url.path, self.model_name),
            Protocol::Mlflow => format!("{}/invocations", url.path),
        };
        Ok((url, path))
    }

    fn body(&self, x: &Features) -> String {
        let values = |c: &FeatureColumn| -> Vec<Value> {
            match c {
                FeatureColumn::Num(v) => v
                    .iter()
                    .map(|x| {
                        x.and_then(serde_json::Number::from_f64)
                            .map(Value::Number)
                            .unwrap_or(Value::Null)
                    })
                    .collect(),
                FeatureColumn::Text(v) => v
                    .iter()
                    .map(|x| x.clone().map(Value::String).unwrap_or(Value::Null))
                    .collect(),
            }
        };
        match self.protocol {
            Protocol::KServeV2 => {
                let inputs: Vec<Value> = x
                    .names
                    .iter()
                    .zip(&x.columns)
                    .map(|(n, c)| {
                        let datatype = if matches!(c, FeatureColumn::Num(_)) { "FP64" } else { "BYTES" };
                        json!({ "name": n, "shape": [x.rows(), 1], "datatype": datatype, "data": values(c) })
                    })
                    .collect();
                json!({ "inputs": inputs }).to_string()
            }
            Protocol::Mlflow => {
                let cols: Vec<Vec<Value>> = x.columns.iter().map(values).collect();
                let data: Vec<Vec<Value>> = (0..x.rows())
                    .map(|r| cols.iter().map(|c| c[r].clone()).collect())
                    .collect();
                json!({ "dataframe_split": { "columns": x.names, "data": data } }).to_string()
            }
        }
    }

    fn parse(&self, body: &str, rows: usize) -> Result<Predictions, ModelError> {
        let bad =
            |why: String| ModelError::Predict(format!("malformed answer from {}: {why}", self.url));
        let doc: Value = serde_json::from_str(body).map_err(|e| bad(format!("not JSON ({e})")))?;
        let num = |v: &Value| {
            v.as_f64()
                .ok_or_else(|| bad(format!("{v} is not a number")))
        };
        let preds: Predictions = match self.protocol {
            Protocol::KServeV2 => {
                let outputs = doc
                    .get("outputs")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad("no `outputs` list".into()))?;
                let out = match &self.output {
                    Some(name) => outputs
                        .iter()
                        .find(|o| o.get("name").and_then(Value::as_str) == Some(name))
                        .ok_or_else(|| bad(format!("no output named `{name}`")))?,
                    None => outputs
                        .first()
                        .ok_or_else(|| bad("`outputs` is empty".into()))?,
                };
                let data = out
                    .get("data")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad("the output has no `data`".into()))?;
                if rows == 0 || data.len() % rows != 0 {
                    return Err(ModelError::Predict(format!(
                        "{} numbers in the answer for {rows} rows",
                        data.len()
                    )));
                }
                let width = data.len() / rows;
                let flat: Vec<f64> = data.iter().map(num).collect::<Result<_, _>>()?;
                flat.chunks(width).map(<[f64]>::to_vec).collect()
            }
            Protocol::Mlflow => {
                let list = doc
                    .get("predictions")
                    .unwrap_or(&doc)
                    .as_array()
                    .ok_or_else(|| bad("no `predictions` list".into()))?;
                list.iter()
                    .map(|p| match p {
                        Value::Array(xs) => xs.iter().map(num).collect::<Result<Vec<f64>, _>>(),
                        other => Ok(vec![num(other)?]),
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        if preds.len() != rows {
            return Err(ModelError::Predict(format!(
                "{} predictions for {rows} rows",
                preds.len()
            )));
        }
        Ok(preds)
    }

    fn call(&self, x: &Features) -> Result<Predictions, ModelError> {
        let (url, path) = self.endpoint()?;
        let body = self.body(x);
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(50 << (attempt - 1).min(6)));
            }
            match request("POST", &url, &path, &body, self.timeout) {
                Ok((200, answer)) => return self.parse(&answer, x.rows()),
                Ok((status, answer)) if status >= 500 => {
                    last = format!(
                        "HTTP {status}: {}",
                        answer.chars().take(200).collect::<String>()
                    )
                }
                Ok((status, answer)) => {
                    return Err(ModelError::Predict(format!(
                        "{} answered HTTP {status}: {}",
                        self.url,
                        answer.chars().take(200).collect::<String>()
                    )));
                }
                Err((true, why)) => last = why,
                Err((false, why)) => {
                    return Err(ModelError::Predict(format!("{}: {why}", self.url)));
                }
            }
        }
        Err(ModelError::Predict(format!(
            "{} failed after {} attempts: {last}",
            self.url,
            self.retries + 1
        )))
    }
}

impl Model for HttpModel {
    fn predict(&self, x: &Features) -> Result<Predictions, ModelError> {
        let step = self.batch_size.max(1);
        let starts: Vec<usize> = (0..x.rows()).step_by(step).collect();
        let mut results: Vec<Option<Result<Predictions, ModelError>>> =
            (0..starts.len()).map(|_| None).collect();
        // At most `max_in_flight` requests at once, in waves.
        for wave in starts.chunks(self.max_in_flight.max(1)).enumerate() {
            let (w, chunk) = wave;
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|&s| {
                        let part = x.slice(s, (s + step).min(x.rows()));
                        scope.spawn(move || self.call(&part))
                    })
                    .collect();
                for (i, h) in handles.into_iter().enumerate() {
                    let r = h.join().unwrap_or_else(|_| {
                        Err(ModelError::Predict("a request thread panicked".into()))
                    });
                    results[w * self.max_in_flight.max(1) + i] = Some(r);
                }
            });
        }
        let mut out = Vec::with_capacity(x.rows());
        for r in results.into_iter().flatten() {
            out.extend(r?);
        }
        Ok(out)
    }

    fn signature(&self) -> Result<Option<Vec<(String, bool)>>, ModelError> {
        if self.protocol != Protocol::KServeV2 {
            return Ok(None);
        }
        let url = parse_url(&self.url)?;
        let path = format!("{}/v2/models/{}", url.path, self.model_name);
        let (status, body) = request("GET", &url, &path, "", self.timeout)
            .map_err(|(_, why)| ModelError::Load(format!("{}: {why}", self.url)))?;
        if status != 200 {
            return Err(ModelError::Load(format!(
                "{} answered HTTP {status} to the metadata request",
                self.url
            )));
        }
        let doc: Value = serde_json::from_str(&body)
            .map_err(|e| ModelError::Load(format!("malformed model metadata: {e}")))?;
        let inputs = doc
            .get("inputs")
            .and_then(Value::as_array)
            .ok_or_else(|| ModelError::Load("the model metadata has no `inputs`".into()))?;
        Ok(Some(
            inputs
                .iter()
                .map(|i| {
                    let name = i
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let text = i.get("datatype").and_then(Value::as_str) == Some("BYTES");
                    (name, text)
                })
                .collect(),
        ))
    }

    fn describe(&self) -> String {
        let p = match self.protocol {
            Protocol::KServeV2 => "KServe v2",
            Protocol::Mlflow => "MLflow",
        };
        format!("{p} server {}", self.url)
    }
}
