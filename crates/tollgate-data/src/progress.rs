//! Progress of long scans: rows read so far, and rows to read when the files say (Parquet
//! metadata), counted as record batches leave each scan.
//!
//! Counting is off until [`enable`] is called (the CLI does, when it shows progress); then
//! every scan of a source is wrapped in [`CountingExec`], which adds each batch's rows to the
//! process-wide [`PROGRESS`]. Reading the counters never blocks a scan.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use datafusion::common::Statistics;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Count the rows of every scan from now on.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether scans are counted.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Rows read and rows known to be coming, across every scan of the process.
#[derive(Debug, Default)]
pub struct Progress {
    rows: AtomicU64,
    total: AtomicU64,
    unknown: AtomicU64,
}

/// The process-wide counters.
pub static PROGRESS: Progress = Progress {
    rows: AtomicU64::new(0),
    total: AtomicU64::new(0),
    unknown: AtomicU64::new(0),
};

impl Progress {
    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Rows the started scans will read, when every one of them knows (else `None`).
    pub fn total(&self) -> Option<u64> {
        (self.unknown.load(Ordering::Relaxed) == 0)
            .then(|| self.total.load(Ordering::Relaxed))
            .filter(|t| *t > 0)
    }
}

/// One progress line: `1.2M rows · 850k rows/s · 0:03 · ETA 0:05` (no ETA without a total).
pub fn line(rows: u64, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { rows as f64 / secs } else { 0.0 };
    let clock = |s: f64| {
        let s = s.max(0.0).round() as u64;
        format!("{}:{:02}", s / 60, s % 60)
    };
    let mut out = match total {
        Some(t) => format!("{} of {} rows", count(rows as f64), count(t as f64)),
        None => format!("{} rows", count(rows as f64)),
    };
    out.push_str(&format!(" · {} rows/s · {}", count(rate), clock(secs)));
    if let Some(t) = total
        && rate > 0.0
        && t > rows
    {
        out.push_str(&format!(" · ETA {}", clock((t - rows) as f64 / rate)));
    }
    out
}

fn count(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.1}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// A scan whose batches are counted into [`PROGRESS`].
#[derive(Debug)]
pub struct CountingExec {
    inner: Arc<dyn ExecutionPlan>,
}

impl CountingExec {
    /// Wrap a scan, adding the rows it will read to the known total when it knows them.
    pub fn wrap(inner: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let stats = StatisticsContext::new().compute(inner.as_ref(), &StatisticsArgs::new());
        match stats.map(|s| s.num_rows) {
            Ok(Precision::Exact(n) | Precision::Inexact(n)) => {
                PROGRESS.total.fetch_add(n as u64, Ordering::Relaxed);
            }
            _ => {
                PROGRESS.unknown.fetch_add(1, Ordering::Relaxed);
            }
        }
        Arc::new(CountingExec { inner })
    }
}

impl DisplayAs for CountingExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CountingExec")
    }
}

impl ExecutionPlan for CountingExec {
    fn name(&self) -> &str {
        "CountingExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.inner]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match children.pop() {
            Some(inner) if children.is_empty() => Ok(Arc::new(CountingExec { inner })),
            _ => datafusion::common::internal_err!("CountingExec has one child"),
        }
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let stream = self.inner.execute(partition, context)?;
        let schema = stream.schema();
        let counted = stream.inspect(|b| {
            if let Ok(b) = b {
                PROGRESS
                    .rows
                    .fetch_add(b.num_rows() as u64, Ordering::Relaxed);
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, counted)))
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        // Counting changes nothing: the scan's statistics are this node's.
        Ok(input_stats
            .first()
            .cloned()
            .unwrap_or_else(|| Arc::new(Statistics::new_unknown(&self.inner.schema()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_rows_rate_elapsed_and_eta_when_the_total_is_known() {
        let l = line(2_000_000, Some(10_000_000), Duration::from_secs(4));
        assert_eq!(l, "2.0M of 10.0M rows · 500k rows/s · 0:04 · ETA 0:16");
        let l = line(1500, None, Duration::from_millis(1500));
        assert_eq!(l, "2k rows · 1k rows/s · 0:02");
    }
}
