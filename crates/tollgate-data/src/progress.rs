//! Progress of long scans: rows read so far, and rows to read when the files say (Parquet
//! metadata), counted as record batches leave each scan into the counters of
//! [`tollgate_core::progress`].
//!
//! Counting is off until [`enable`] is called (the CLI does, when it shows progress); then
//! every scan of a source is wrapped in [`CountingExec`], which adds each batch's rows to the
//! process-wide [`PROGRESS`]. Reading the counters never blocks a scan.

use std::sync::Arc;

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

pub use tollgate_core::progress::{PROGRESS, Progress, enable, enabled, line};

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
            Ok(Precision::Exact(n) | Precision::Inexact(n)) => PROGRESS.expect(Some(n as u64)),
            _ => PROGRESS.expect(None),
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
                PROGRESS.add_rows(b.num_rows() as u64);
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
