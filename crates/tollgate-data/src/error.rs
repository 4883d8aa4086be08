//! Errors of the data layer.
//!
//! The user's fault: [`DataError::Source`] (missing, unreadable or malformed data) and
//! [`DataError::Plan`] (a plan that does not fit the data). Ours: [`DataError::Internal`].
//! A check that fails or cannot be evaluated is not an error: it is a finding.

/// An error that stops a test from running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The data could not be found or read.
    #[error("{0}")]
    Source(String),
    /// The plan does not fit the data.
    #[error("{0}")]
    Plan(String),
    /// A bug in tollgate.
    #[error("internal error (a tollgate bug): {0}")]
    Internal(String),
}

impl DataError {
    /// Name the data a read error came from, when its message does not already.
    pub fn at(self, path: &str) -> DataError {
        match self {
            DataError::Source(m) if !m.contains(path) => DataError::Source(format!("{path}: {m}")),
            other => other,
        }
    }
}

/// Result alias.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Turn a DataFusion error into a message a user can act on (strip the engine's wrapping).
pub fn engine_message(e: &datafusion::error::DataFusionError) -> String {
    let text = e.to_string();
    let mut msg = text.as_str();
    for prefix in [
        "Error during planning: ",
        "External error: ",
        "Arrow error: ",
        "Execution error: ",
        "Parquet error: ",
        "Schema error: ",
        "Object Store error: ",
        "SQL error: ",
        "Context(\"",
    ] {
        while let Some(rest) = msg.strip_prefix(prefix) {
            msg = rest;
        }
    }
    // A Ballista job names itself and its stage (`Job 3Xq… failed: Job failed due to stage 0
    // failed: Task failed due to runtime execution error: …`): keep what went wrong.
    let on_cluster;
    let task_failed = "Task failed due to runtime execution error: ";
    if let Some(i) = msg.find(task_failed) {
        on_cluster = format!(
            "a task on the Ballista cluster failed: {}",
            &msg[i + task_failed.len()..]
        );
        msg = &on_cluster;
    }
    // sqlparser's errors arrive wrapped as `ParserError("...")`.
    let unwrapped;
    if let Some(inner) = msg
        .strip_prefix("ParserError(\"")
        .and_then(|m| m.strip_suffix("\")"))
    {
        unwrapped = format!("syntax error: {}", inner.replace("\\\"", "\""));
        msg = &unwrapped;
    }
    // tollgate's hidden helper columns are no business of the user's.
    let hidden = regex::Regex::new(r#",? ?(t\.)?"?__tg_raw_[^",\s]*"?"#).ok();
    let msg = match hidden {
        Some(re) => re.replace_all(msg, "").to_string(),
        None => msg.to_string(),
    };
    msg.trim().to_string()
}
