//! Bounded memory (`EngineOptions::memory_limit`): the engine's operators share a pool of that
//! many bytes, sorts and grouped aggregations spill to disk, and the queries whose state would
//! grow with the data are replaced by ones that spill, with the same results.
//!
//! In DataFusion 55 an aggregate without `GROUP BY` cannot spill: `count(DISTINCT x)` keeps a
//! hash set of the values, `median` and `percentile_cont` keep every value, `array_agg(DISTINCT
//! x)` keeps the distinct values. Under a limit they fail with "Resources exhausted" as soon as
//! their state outgrows the pool. They leave the one-scan aggregate ([`aggregate`]):
//! - a distinct count is the number of groups of a `GROUP BY` (grouped hash aggregation spills
//!   sorted runs and merges them);
//! - a median or a quantile is read off the sorted distinct values with their counts (`GROUP BY`,
//!   a sort, which spills, and a running sum): the values at the wanted positions, combined
//!   exactly as DataFusion's `median` and `percentile_cont` combine them;
//! - the distinct values of a column are gathered from a `GROUP BY` (the answer itself stays in
//!   memory: one value per distinct value).
//!
//! Windows are not in the pool at all: a window over whole partitions gathers its input first.
//! Uniqueness samples count each value's rows over a bounded frame instead, and
//! `most_common_in_set` ranks the grouped counts by a sort ([`bounded_plan`]). Joins sort and
//! merge instead of hashing one side (diffs).
//!
//! Every other metric keeps its place in the one-scan aggregate (its state is a few numbers).
//! Each rewritten metric costs one more scan of the data; without a limit nothing changes.

use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::check::Planned;
use crate::error::{DataError, Result, engine_message};
use crate::metric::{Metric, tuple_key};
use crate::run::collect;
use crate::sql::ident;
use crate::value::V;

/// Spill files merged at once. DataFusion's default (no bound) lets one sort's merge reserve
/// as much of the pool as it can for its files, starving the other operators of the query; a
/// few at a time costs more merge passes and leaves the rest of the pool usable (with 8 at a
/// time a 1M-row diff needed 128 MiB, with 4 it runs in 64 MiB).
const MERGE_FAN_IN: usize = 4;

/// A session whose operators share a pool of `limit` bytes and spill to the system's
/// temporary directory (`TMPDIR`).
pub(crate) fn session(mut config: SessionConfig, limit: usize) -> SessionContext {
    let pool = TrackConsumersPool::new(
        FairSpillPool::new(limit),
        NonZeroUsize::new(3).unwrap_or(NonZeroUsize::MIN),
    );
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_max_spill_merge_fan_in(MERGE_FAN_IN);
    // Each sort of each partition reserves this much for merging its spill files, whether it
    // spills or not: a share of the pool (two sorts per partition, a join's, at most a quarter
    // of it), not DataFusion's fixed 10 MiB (more than a small pool holds).
    let partitions = config.target_partitions().max(1);
    let opts = config.options_mut();
    opts.execution.sort_spill_reservation_bytes = opts
        .execution
        .sort_spill_reservation_bytes
        .min(limit / (8 * partitions));
    // A hash join holds its whole build side and cannot spill; a sort-merge join sorts both
    // sides (the sorts spill) and holds only the rows of one key at a time (diffs).
    opts.optimizer.prefer_hash_join = false;
    match runtime.build_arc() {
        Ok(rt) => SessionContext::new_with_config_rt(config, rt),
        // Only a disk manager in chosen directories or a cache can fail to build; neither is
        // asked for here.
        Err(_) => SessionContext::new_with_config(config),
    }
}

/// Which order statistic of a column a metric asks for.
#[derive(Debug, Clone, Copy)]
enum Order {
    Median,
    Quantile(f64),
}

/// How one metric is computed under a memory limit.
enum Way {
    /// In the shared one-row aggregate, at this index.
    Scan(usize),
    /// By a query of its own returning one value.
    Own(String),
    /// An order statistic of the column group at this index.
    Order(usize, Order),
}

/// A column (over the rows a filter keeps) whose order statistics are wanted, and the index in
/// the shared aggregate of its count of non-null values.
struct OrderGroup {
    column: String,
    /// A float column: -0.0 and 0.0 are told apart.
    float: bool,
    filter: Option<String>,
    count: usize,
}

/// Whether a metric's one-row aggregate holds memory proportional to its input.
pub(crate) fn unbounded(m: &Metric) -> bool {
    match m {
        Metric::Filtered(inner, _) => unbounded(inner),
        Metric::Distinct(_)
        | Metric::DistinctTuple(..)
        | Metric::DistinctValues(_)
        | Metric::Median(_)
        | Metric::Quantile(..) => true,
        _ => false,
    }
}

/// The values of `metrics` over table `t` of `ctx`, as the one-scan aggregate would give them,
/// with the unbounded ones computed by queries that spill.
pub(crate) async fn aggregate(ctx: &SessionContext, metrics: &[Metric]) -> Result<Vec<V>> {
    let table = ctx
        .table("t")
        .await
        .map_err(|e| DataError::Internal(engine_message(&e)))?;
    let float = |c: &str| {
        table
            .schema()
            .field_with_unqualified_name(c)
            .is_ok_and(|f| f.data_type().is_floating())
    };
    let mut scan: Vec<Metric> = Vec::new();
    let mut groups: Vec<OrderGroup> = Vec::new();
    let mut ways = Vec::with_capacity(metrics.len());
    let in_scan = |scan: &mut Vec<Metric>, m: Metric| match scan.iter().position(|x| *x == m) {
        Some(i) => i,
        None => {
            scan.push(m);
            scan.len() - 1
        }
    };
    for m in metrics {
        let (inner, filter) = match m {
            Metric::Filtered(inner, f) => (inner.as_ref(), Some(f.as_str())),
            other => (other, None),
        };
        let and = filter.map(|f| format!(" AND {f}")).unwrap_or_default();
        let way = match inner {
            Metric::Distinct(c) if float(c) => Way::Own(format!(
                "SELECT count(*) FROM (SELECT v, z FROM (SELECT {c} AS v, {z} AS z FROM t \
                 WHERE {c} IS NOT NULL{and}) GROUP BY v, z)",
                c = ident(c),
                z = negative_zero(&ident(c))
            )),
            Metric::Distinct(c) => Way::Own(format!(
                "SELECT count(*) FROM (SELECT {c} FROM t WHERE {c} IS NOT NULL{and} GROUP BY {c})",
                c = ident(c)
            )),
            Metric::DistinctTuple(cols, pred) => Way::Own(format!(
                "SELECT count(*) FROM (SELECT k FROM (SELECT {} AS k FROM t WHERE ({pred}){and}) GROUP BY k)",
                tuple_key(cols)
            )),
            Metric::DistinctValues(c) if float(c) => Way::Own(format!(
                "SELECT array_agg(CASE WHEN z THEN -v ELSE v END) FROM (SELECT v, z FROM \
                 (SELECT {c} AS v, {z} AS z FROM t WHERE {c} IS NOT NULL{and}) GROUP BY v, z)",
                c = ident(c),
                z = negative_zero(&ident(c))
            )),
            Metric::DistinctValues(c) => Way::Own(format!(
                "SELECT array_agg(v) FROM (SELECT {c} AS v FROM t WHERE {c} IS NOT NULL{and} GROUP BY {c})",
                c = ident(c)
            )),
            Metric::Median(c) | Metric::Quantile(c, _) => {
                let which = match inner {
                    Metric::Quantile(_, bits) => Order::Quantile(f64::from_bits(*bits)),
                    _ => Order::Median,
                };
                let filter = filter.map(str::to_string);
                let g = match groups
                    .iter()
                    .position(|g| g.column == *c && g.filter == filter)
                {
                    Some(g) => g,
                    None => {
                        let count = Metric::NonNull(c.clone());
                        let count = match &filter {
                            Some(f) => Metric::Filtered(Box::new(count), f.clone()),
                            None => count,
                        };
                        groups.push(OrderGroup {
                            column: c.clone(),
                            float: float(c),
                            filter,
                            count: in_scan(&mut scan, count),
                        });
                        groups.len() - 1
                    }
                };
                Way::Order(g, which)
            }
            _ => Way::Scan(in_scan(&mut scan, m.clone())),
        };
        ways.push(way);
    }
    let scanned = if scan.is_empty() {
        Vec::new()
    } else {
        let select: Vec<String> = scan
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{} AS m{i}", m.to_sql()))
            .collect();
        one_row(ctx, &format!("SELECT {} FROM t", select.join(", "))).await?
    };
    // Each column's order statistics from one query: the values at the positions wanted.
    let mut found: Vec<Vec<(u64, f64)>> = Vec::with_capacity(groups.len());
    for (i, g) in groups.iter().enumerate() {
        let n = scanned.get(g.count).map(V::count).unwrap_or(0);
        let mut positions: Vec<u64> = Vec::new();
        for way in &ways {
            if let Way::Order(j, which) = way
                && *j == i
            {
                positions.extend(order_positions(*which, n));
            }
        }
        positions.sort_unstable();
        positions.dedup();
        found.push(values_at(ctx, g, &positions, g.float).await?);
    }
    let mut out = Vec::with_capacity(metrics.len());
    for way in &ways {
        out.push(match way {
            Way::Scan(i) => scanned.get(*i).cloned().unwrap_or(V::Null),
            Way::Own(q) => one_row(ctx, q).await?.into_iter().next().unwrap_or(V::Null),
            Way::Order(g, which) => {
                let n = scanned.get(groups[*g].count).map(V::count).unwrap_or(0);
                order_value(*which, n, &found[*g])
            }
        });
    }
    Ok(out)
}

/// The 0-based positions in the sorted values an order statistic of `n` values reads.
fn order_positions(which: Order, n: u64) -> Vec<u64> {
    if n == 0 {
        return Vec::new();
    }
    match which {
        Order::Median if n.is_multiple_of(2) => vec![n / 2 - 1, n / 2],
        Order::Median => vec![n / 2],
        Order::Quantile(q) => {
            let (lo, hi) = quantile_index(q, n);
            vec![lo, hi]
        }
    }
}

/// The lower and upper positions of quantile `q` of `n > 0` values (`percentile_cont`: index
/// `q × (n − 1)`, its minimum for 0 and its maximum for 1).
fn quantile_index(q: f64, n: u64) -> (u64, u64) {
    if n == 1 || q <= 0.0 {
        (0, 0)
    } else if q >= 1.0 {
        (n - 1, n - 1)
    } else {
        let index = q * ((n - 1) as f64);
        (index.floor() as u64, index.ceil() as u64)
    }
}

/// An order statistic from the values at its positions, computed as DataFusion 55's `median`
/// (the mean of the two middle values) and `percentile_cont` (linear interpolation with the
/// weight quantized to 10⁻⁶) compute it, so that the result is the same to the last bit.
fn order_value(which: Order, n: u64, at: &[(u64, f64)]) -> V {
    let value = |p: u64| at.iter().find(|(q, _)| *q == p).map(|(_, v)| *v);
    let v = match which {
        _ if n == 0 => None,
        Order::Median if n.is_multiple_of(2) => match (value(n / 2 - 1), value(n / 2)) {
            (Some(a), Some(b)) => Some((a + b) / 2.0),
            _ => None,
        },
        Order::Median => value(n / 2),
        Order::Quantile(q) => {
            let (lo, hi) = quantile_index(q, n);
            match (value(lo), value(hi)) {
                (Some(a), _) if lo == hi => Some(a),
                (Some(a), Some(b)) => {
                    const PRECISION: f64 = 1_000_000.0;
                    let index = q * ((n - 1) as f64);
                    let fraction = index - (lo as f64);
                    let weight = ((fraction * PRECISION) as usize) as f64 / PRECISION;
                    Some(a + (b - a) * weight)
                }
                _ => None,
            }
        }
    };
    v.map_or(V::Null, V::Float)
}

/// The values at sorted positions `positions` of a column's non-null values (as doubles, in
/// DataFusion's total order: NaN last), by a grouped aggregation, a sort of the distinct values
/// and a running count: every step spills. In one partition: with several, the aggregation, the
/// sorts and the merge of each partition compete for the pool, and DataFusion 55 fails (16
/// partitions, 32 MiB) or even hangs (2 partitions, 2 MiB) where one partition runs in 4 MiB.
async fn values_at(
    ctx: &SessionContext,
    g: &OrderGroup,
    positions: &[u64],
    float: bool,
) -> Result<Vec<(u64, f64)>> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let c = ident(&g.column);
    let and = g
        .filter
        .as_ref()
        .map(|f| format!(" AND {f}"))
        .unwrap_or_default();
    let wanted = positions
        .iter()
        .map(|p| format!("(below <= {p} AND below + n > {p})"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let values = format!("SELECT CAST({c} AS DOUBLE) AS v FROM t WHERE {c} IS NOT NULL{and}");
    // -0.0 sorts before 0.0 (z first), and comes back as -0.0.
    let grouped = if float {
        format!(
            "SELECT v, z, count(*) AS n FROM (SELECT v, {} AS z FROM ({values})) GROUP BY v, z",
            negative_zero("v")
        )
    } else {
        format!("SELECT v, FALSE AS z, count(*) AS n FROM ({values}) GROUP BY v")
    };
    let q = format!(
        "SELECT CASE WHEN z THEN -v ELSE v END, below, n FROM (\
           SELECT v, z, n, sum(n) OVER (ORDER BY v, z DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n AS below \
           FROM ({grouped})\
         ) WHERE {wanted}"
    );
    let mut out = Vec::new();
    for b in collect(&one_partition(ctx), &q).await? {
        for r in 0..b.num_rows() {
            let v = V::from_array(b.column(0), r);
            let below = V::from_array(b.column(1), r).count();
            let n = V::from_array(b.column(2), r).count();
            let V::Float(v) = v else {
                return Err(DataError::Internal(format!(
                    "an order statistic of `{}` is not a number: {v:?}",
                    g.column
                )));
            };
            for p in positions.iter().filter(|p| below <= **p && **p < below + n) {
                out.push((*p, v));
            }
        }
    }
    Ok(out)
}

/// A predicate: `v` is -0.0. Grouping folds -0.0 into 0.0; `count(DISTINCT)`, `array_agg
/// (DISTINCT)`, `median` and `percentile_cont` tell them apart, and so must their rewrites.
fn negative_zero(v: &str) -> String {
    format!("({v} = 0 AND atan2({v}, -1.0) < 0)")
}

/// A check's plan in its bounded-memory form: its own query's bounded variant, and the
/// streaming form of its samples' window.
pub(crate) fn bounded_plan(mut p: Planned) -> Planned {
    if let Some(q) = p.own_query_bounded.take() {
        p.own_query = Some(q);
    }
    p.window = p.window.map(|w| streaming_window(&w));
    p
}

/// The uniqueness samples' window, `count(*) OVER (PARTITION BY k)` (read only as `> 1`), in a
/// form DataFusion runs with bounded memory. Over whole partitions it gathers every row before
/// counting, outside the memory pool. Counted instead over a row and its neighbours in its
/// value's rows (sorted by the value: the sort spills), it is more than 1 exactly when the value
/// repeats, and the window holds three rows at a time.
pub(crate) fn streaming_window(w: &str) -> String {
    match w
        .strip_suffix(')')
        .and_then(|w| w.split_once(" OVER (PARTITION BY "))
    {
        Some((f, keys)) if !keys.contains(" ORDER BY ") => format!(
            "{f} OVER (PARTITION BY {keys} ORDER BY {keys} ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)"
        ),
        _ => w.to_string(),
    }
}

/// An engine message, with "Resources exhausted" (only a memory limit can exhaust the pool)
/// turned into what happened and where to read more; DataFusion's list of the largest memory
/// consumers is left out.
pub(crate) fn explain(msg: String) -> String {
    if !msg.contains("Resources exhausted") {
        return msg;
    }
    let detail = msg
        .rsplit_once("Error: ")
        .map(|(_, d)| d)
        .unwrap_or(&msg)
        .trim();
    format!(
        "the memory limit is too small for this query ({detail}); docs/memory.md says what each \
         check needs"
    )
}

/// The same session (tables, functions, memory pool) reading in one partition.
fn one_partition(ctx: &SessionContext) -> SessionContext {
    let mut state = ctx.state();
    state.config_mut().options_mut().execution.target_partitions = 1;
    SessionContext::new_with_state(state)
}

async fn one_row(ctx: &SessionContext, q: &str) -> Result<Vec<V>> {
    let batches = collect(ctx, q).await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Err(DataError::Internal(format!(
            "the query returned no row: {q}"
        )));
    };
    Ok(batch
        .columns()
        .iter()
        .map(|c| V::from_array(c, 0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_medians_and_quantiles() {
        assert_eq!(order_positions(Order::Median, 0), Vec::<u64>::new());
        assert_eq!(order_positions(Order::Median, 5), vec![2]);
        assert_eq!(order_positions(Order::Median, 4), vec![1, 2]);
        assert_eq!(order_positions(Order::Quantile(0.0), 9), vec![0, 0]);
        assert_eq!(order_positions(Order::Quantile(1.0), 9), vec![8, 8]);
        assert_eq!(order_positions(Order::Quantile(0.25), 10), vec![2, 3]);
        assert_eq!(order_positions(Order::Quantile(0.5), 1), vec![0, 0]);
    }

    #[test]
    fn whole_partition_windows_become_streaming_ones() {
        assert_eq!(
            streaming_window("count(*) OVER (PARTITION BY \"a\", \"b\")"),
            "count(*) OVER (PARTITION BY \"a\", \"b\" ORDER BY \"a\", \"b\" \
             ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)"
        );
        let ordered = "count(*) OVER (PARTITION BY a ORDER BY b)";
        assert_eq!(streaming_window(ordered), ordered);
    }

    #[test]
    fn values_combine_as_datafusion_does() {
        let at = [(1, 2.0), (2, 3.0)];
        assert_eq!(order_value(Order::Median, 4, &at), V::Float(2.5));
        assert_eq!(order_value(Order::Median, 0, &[]), V::Null);
        // 0.5 × 9 = 4.5: half way from position 4 to position 5.
        let at = [(4, 10.0), (5, 20.0)];
        assert_eq!(order_value(Order::Quantile(0.5), 10, &at), V::Float(15.0));
        // 0.3 × 9 = 2.6999999999999997: the weight is cut to 0.699999, as DataFusion cuts it.
        let at = [(2, 10.0), (3, 20.0)];
        assert_eq!(
            order_value(Order::Quantile(0.3), 10, &at),
            V::Float(16.99999)
        );
    }
}
