//! Suites on an Apache DataFusion Ballista cluster.
//!
//! The same plan as on the local engine (one aggregate query per suite, bounded queries for
//! samples) is sent to a Ballista scheduler, which splits it into stages run by executors. The
//! session is the local one upgraded for Ballista, so the SQL, the checks and the findings are
//! the same. What a cluster cannot do is reported per check, never skipped:
//! - checks that need the rows in file order (`increasing`, `decreasing`, ...): a cluster reads
//!   files in parallel on several machines and keeps no order;
//! - checks that need one of tollgate's own SQL functions (`tg_*`, e.g. `matches_datetime_format`
//!   or `json_schema`): stock Ballista executors only know DataFusion's built-in functions.
//!
//! `ballista:standalone` starts a scheduler and an executor inside this process (for tests and
//! trials); `ballista://HOST:PORT` connects to a running scheduler.

use crate::error::{DataError, Result};

/// The port a Ballista scheduler listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 50050;

/// Where the suites of a run are executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineSpec {
    /// DataFusion in this process (the default).
    Local,
    /// A scheduler and an executor started in this process.
    BallistaStandalone,
    /// A running Ballista scheduler.
    Ballista {
        /// Host name or address.
        host: String,
        /// gRPC port of the scheduler.
        port: u16,
    },
}

impl EngineSpec {
    /// Parse `local`, `ballista:standalone` or `ballista://HOST[:PORT]`.
    pub fn parse(text: &str) -> std::result::Result<EngineSpec, String> {
        let t = text.trim();
        if t.is_empty() || t == "local" {
            return Ok(EngineSpec::Local);
        }
        if t == "ballista:standalone" || t == "ballista://standalone" {
            return Ok(EngineSpec::BallistaStandalone);
        }
        let expected = "expected `local`, `ballista:standalone` or `ballista://HOST[:PORT]` (port 50050 by default)";
        let Some(rest) = t
            .strip_prefix("ballista://")
            .or_else(|| t.strip_prefix("df://"))
        else {
            return Err(format!("unknown engine `{t}`: {expected}"));
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') || rest.contains('@') || rest.contains('?') {
            return Err(format!("bad Ballista address `{t}`: {expected}"));
        }
        // `[::1]:50050`, `host:50050`, `host`.
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && (h.starts_with('[') || !h.contains(':')) => {
                let port =
                    p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                        format!("bad port `{p}` in `{t}`: a number from 1 to 65535")
                    })?;
                (h.to_string(), port)
            }
            _ => (rest.to_string(), DEFAULT_PORT),
        };
        if host.is_empty() {
            return Err(format!("bad Ballista address `{t}`: no host"));
        }
        Ok(EngineSpec::Ballista { host, port })
    }

    /// As the user would write it.
    pub fn display(&self) -> String {
        match self {
            EngineSpec::Local => "local".into(),
            EngineSpec::BallistaStandalone => "ballista:standalone".into(),
            EngineSpec::Ballista { host, port } => format!("ballista://{host}:{port}"),
        }
    }
}

/// A Ballista scheduler the engine sends suites to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// The scheduler's gRPC endpoint (`http://host:port`).
    pub scheduler: String,
    /// As the user wrote it, for messages.
    pub display: String,
}

/// Why a planned check cannot run on a cluster, if it cannot.
pub(crate) fn unsupported(ordered: bool, sql: &[&str]) -> Option<String> {
    if ordered {
        return Some(
            "not supported on Ballista: the check needs the rows in file order, which a cluster does not keep"
                .into(),
        );
    }
    for s in sql {
        if let Some(name) = own_function_call(s) {
            return Some(format!(
                "not supported on Ballista: the check needs tollgate's own SQL function `{name}`, which Ballista executors do not have"
            ));
        }
    }
    None
}

/// The first call of one of tollgate's functions (`tg_…(`) in SQL text; tollgate's column
/// aliases (`__tg_row`, ...) are not calls.
fn own_function_call(sql: &str) -> Option<&str> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = sql[from..].find("tg_").map(|i| i + from) {
        let starts_word = sql[..i].chars().next_back().is_none_or(|c| !is_ident(c));
        let end = sql[i..]
            .find(|c: char| !is_ident(c))
            .map_or(sql.len(), |e| e + i);
        if starts_word && sql[end..].trim_start().starts_with('(') {
            return Some(&sql[i..end]);
        }
        from = end.max(i + 3);
    }
    None
}

#[cfg(not(feature = "ballista"))]
pub(crate) async fn connect(
    spec: &EngineSpec,
    _state: datafusion::execution::SessionState,
) -> Result<Option<Cluster>> {
    match spec {
        EngineSpec::Local => Ok(None),
        other => Err(DataError::Source(format!(
            "engine `{}`: this tollgate was built without the `ballista` feature (cargo build --features ballista)",
            other.display()
        ))),
    }
}

#[cfg(feature = "ballista")]
pub(crate) async fn connect(
    spec: &EngineSpec,
    state: datafusion::execution::SessionState,
) -> Result<Option<Cluster>> {
    use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
    match spec {
        EngineSpec::Local => Ok(None),
        EngineSpec::BallistaStandalone => {
            let fail = |what: &str, e: String| {
                DataError::Source(format!("cannot start the in-process Ballista {what}: {e}"))
            };
            // The scheduler and the executor get tollgate's session: its settings and its
            // functions, so that a standalone cluster plans exactly as the local engine.
            let addr = ballista_scheduler::standalone::new_standalone_scheduler_from_state(&state)
                .await
                .map_err(|e| fail("scheduler", e.to_string()))?;
            let scheduler = format!("http://localhost:{}", addr.port());
            // The scheduler serves from a spawned task: wait until it answers.
            let mut tries = 0;
            let client = loop {
                match SchedulerGrpcClient::connect(scheduler.clone()).await {
                    Ok(c) => break c,
                    Err(e) if tries >= 50 => {
                        return Err(fail(
                            "scheduler",
                            format!("it does not answer at {scheduler}: {e}"),
                        ));
                    }
                    Err(_) => {
                        tries += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            };
            let vcores = state.config().target_partitions().max(1);
            ballista_executor::new_standalone_executor_from_state(client, vcores, &state)
                .await
                .map_err(|e| fail("executor", e.to_string()))?;
            Ok(Some(Cluster {
                scheduler,
                display: spec.display(),
            }))
        }
        EngineSpec::Ballista { host, port } => {
            let scheduler = format!("http://{host}:{port}");
            SchedulerGrpcClient::connect(scheduler.clone()).await.map_err(|e| {
                DataError::Source(format!(
                    "cannot reach the Ballista scheduler at {host}:{port}: {e} (is `ballista-scheduler` running, and its executors?)"
                ))
            })?;
            Ok(Some(Cluster {
                scheduler,
                display: spec.display(),
            }))
        }
    }
}

/// A session that sends its queries to the cluster: the local session (settings and
/// functions) upgraded for Ballista.
#[cfg(feature = "ballista")]
pub(crate) fn upgrade(
    ctx: datafusion::prelude::SessionContext,
    cluster: &Cluster,
) -> Result<datafusion::prelude::SessionContext> {
    use ballista_core::extension::SessionStateExt;
    let state = ctx
        .state()
        .upgrade_for_ballista(cluster.scheduler.clone())
        .map_err(|e| {
            DataError::Source(format!(
                "cannot set up a session on {}: {e}",
                cluster.display
            ))
        })?;
    Ok(datafusion::prelude::SessionContext::new_with_state(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_addresses_parse() {
        assert_eq!(EngineSpec::parse("local"), Ok(EngineSpec::Local));
        assert_eq!(
            EngineSpec::parse("ballista:standalone"),
            Ok(EngineSpec::BallistaStandalone)
        );
        assert_eq!(
            EngineSpec::parse("ballista://sched.example:50051"),
            Ok(EngineSpec::Ballista {
                host: "sched.example".into(),
                port: 50051
            })
        );
        assert_eq!(
            EngineSpec::parse("ballista://10.0.0.5"),
            Ok(EngineSpec::Ballista {
                host: "10.0.0.5".into(),
                port: DEFAULT_PORT
            })
        );
        assert_eq!(
            EngineSpec::parse("df://[::1]:7000/"),
            Ok(EngineSpec::Ballista {
                host: "[::1]".into(),
                port: 7000
            })
        );
        for bad in [
            "spark://x",
            "ballista://",
            "ballista://h:0",
            "ballista://h:99999",
            "ballista://h:x",
            "ballista://u@h",
            "ballista://h/db",
        ] {
            assert!(EngineSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checks_a_cluster_cannot_run_are_named() {
        assert!(unsupported(true, &[]).is_some_and(|m| m.contains("file order")));
        let m = unsupported(
            false,
            &["sum(CASE WHEN tg_parses_datetime(x, '%Y') THEN 1 END)"],
        );
        assert!(m.is_some_and(|m| m.contains("`tg_parses_datetime`")));
        assert_eq!(unsupported(false, &["count(x)", "min(x)"]), None);
        // tollgate's column aliases are not functions.
        assert_eq!(
            unsupported(
                false,
                &["SELECT * FROM n WHERE __tg_dups > 1 AND __tg_row < 5"]
            ),
            None
        );
        assert_eq!(
            own_function_call("x AND tg_json_valid (s)"),
            Some("tg_json_valid")
        );
    }
}
