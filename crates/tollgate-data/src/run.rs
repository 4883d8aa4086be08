//! Running suites: plan every check, compile all metrics into one aggregate query (one scan),
//! judge, then fetch samples of failing rows with a second, bounded query per failing check.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::*;
use serde_json::Value as Json;
use tollgate_core::{
    CheckDecl, CheckKind, Finding, SampleRow, SourceDecl, Status, SuiteDecl, TestKind, TestResult,
};

use crate::check::{self, DUPS, Pin, Planned, ROW, Unfit};
use crate::error::{DataError, Result, engine_message};
use crate::metric::{Metric, dedup};
use crate::source::{self, OpenSource};
use crate::sql::{ident, type_rule};
use crate::value::V;

/// Engine settings. Results do not depend on them; speed does.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Rows per batch (DataFusion's default when `None`).
    pub batch_size: Option<usize>,
    /// Partitions per scan (the number of cores when `None`).
    pub partitions: Option<usize>,
    /// Split even small files into several partitions (tests use it to exercise the merging
    /// of partial aggregates; by default files under 10 MB are read whole).
    pub split_small_files: bool,
    /// A Ballista cluster that runs the suites (see [`Engine::connect`]); `None` runs them
    /// here. Profiles, drift, diffs and model tests always run here.
    pub cluster: Option<crate::ballista::Cluster>,
    /// At most this many bytes for the engine's working memory (`None`: no bound). Sorts and
    /// grouped aggregations spill to files in the system's temporary directory (`TMPDIR`);
    /// the metrics that would hold every value in memory (distinct counts, medians, quantiles)
    /// are computed by queries that spill instead (see `docs/memory.md`).
    pub memory_limit: Option<usize>,
}

/// The query engine (DataFusion) with tollgate's functions registered.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

/// A source ready to be checked: registered as `t` in a parallel session and an ordered
/// (single-partition) session used for file-order checks and row numbers.
pub struct Prepared {
    /// The opened source.
    pub source: OpenSource,
    ctx: SessionContext,
    ordered: SessionContext,
    /// The schema checks see (pinned columns converted).
    pub schema: Arc<Schema>,
    /// The sessions send their queries to a Ballista cluster.
    cluster: bool,
}

impl Prepared {
    /// The parallel session, with the source registered as `t`.
    pub(crate) fn context(&self) -> SessionContext {
        self.ctx.clone()
    }

    /// How many scans of the files have started (a suite with no failing checks costs one).
    pub fn scans(&self) -> usize {
        self.source.provider.scans()
    }
}

impl Engine {
    /// An engine with these options.
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// An engine whose suites run on `spec`: here, on an in-process Ballista cluster it
    /// starts, or on a running Ballista scheduler (checked to answer).
    pub async fn connect(
        mut opts: EngineOptions,
        spec: &crate::ballista::EngineSpec,
    ) -> Result<Self> {
        opts.cluster = None;
        let local = Engine::new(opts.clone());
        opts.cluster = crate::ballista::connect(spec, local.context(None).state()).await?;
        Ok(Engine { opts })
    }

    /// The cluster suites run on, if not here.
    pub fn cluster(&self) -> Option<&crate::ballista::Cluster> {
        self.opts.cluster.as_ref()
    }

    /// A session for suites: the local one, or the cluster's.
    fn suite_context(&self, partitions: Option<usize>) -> Result<SessionContext> {
        let ctx = self.context(partitions);
        match &self.opts.cluster {
            None => Ok(ctx),
            #[cfg(feature = "ballista")]
            Some(c) => crate::ballista::upgrade(ctx, c),
            #[cfg(not(feature = "ballista"))]
            Some(c) => Err(DataError::Source(format!(
                "engine `{}`: this tollgate was built without the `ballista` feature",
                c.display
            ))),
        }
    }

    pub(crate) fn context(&self, partitions: Option<usize>) -> SessionContext {
        let mut config = SessionConfig::new().with_information_schema(false);
        // Column names in SQL are case-sensitive, as they are in the suite's YAML.
        config.options_mut().sql_parser.enable_ident_normalization = false;
        if self.opts.split_small_files {
            config.options_mut().optimizer.repartition_file_min_size = 1;
        }
        if let Some(b) = self.opts.batch_size {
            config = config.with_batch_size(b.max(1));
        }
        if let Some(p) = partitions.or(self.opts.partitions) {
            config = config.with_target_partitions(p.max(1));
        }
        let ctx = match self.opts.memory_limit {
            None => SessionContext::new_with_config(config),
            Some(limit) => crate::memory::session(config, limit),
        };
        ctx.register_udf(crate::udf::parses_datetime());
        ctx.register_udf(crate::udf::json_schema());
        ctx.register_udaf(crate::sketch::hll_udaf());
        ctx.register_udaf(crate::sketch::tdigest_udaf());
        for f in crate::udf::text_tests() {
            ctx.register_udf(f);
        }
        ctx
    }

    /// Run suites on a source. Pinned CSV columns are first read as their type (fast); if a
    /// value does not convert, the suites run again with those columns read as text and
    /// converted, so that the bad values are counted and shown instead of stopping the run.
    pub async fn run_suites(
        &self,
        decl: &SourceDecl,
        base: &Path,
        suites: &[&SuiteDecl],
    ) -> Result<Vec<TestResult>> {
        self.run_suites_at(decl, base, suites)
            .await
            .map_err(|e| e.at(&decl.path))
    }

    async fn run_suites_at(
        &self,
        decl: &SourceDecl,
        base: &Path,
        suites: &[&SuiteDecl],
    ) -> Result<Vec<TestResult>> {
        let prepared = self.prepare_in(decl, base, suites, false, true).await?;
        let mut results = Vec::new();
        for s in suites {
            results.push(self.run_suite(&prepared, s).await);
        }
        let failed_to_convert = results
            .iter()
            .any(|r| r.error.as_deref().is_some_and(|e| e.contains("parsing")));
        if failed_to_convert && !prepared.source.pins.is_empty() && !prepared.source.text_pins {
            let prepared = self.prepare_in(decl, base, suites, true, true).await?;
            results.clear();
            for s in suites {
                results.push(self.run_suite(&prepared, s).await);
            }
        }
        Ok(results)
    }

    /// Open a source for the given suites (their `type:` checks pin CSV columns).
    pub async fn prepare(
        &self,
        decl: &SourceDecl,
        base: &Path,
        suites: &[&SuiteDecl],
    ) -> Result<Prepared> {
        self.prepare_with(decl, base, suites, false).await
    }

    /// [`Engine::prepare`], choosing how pinned columns are read.
    pub async fn prepare_with(
        &self,
        decl: &SourceDecl,
        base: &Path,
        suites: &[&SuiteDecl],
        text_pins: bool,
    ) -> Result<Prepared> {
        self.prepare_in(decl, base, suites, text_pins, false).await
    }

    /// [`Engine::prepare_with`], on the cluster when `for_suites` and one is set.
    async fn prepare_in(
        &self,
        decl: &SourceDecl,
        base: &Path,
        suites: &[&SuiteDecl],
        text_pins: bool,
        for_suites: bool,
    ) -> Result<Prepared> {
        let resolved = source::resolve(&decl.path, base, decl.format)?;
        let mut pins: Vec<(String, &'static str)> = Vec::new();
        for s in suites {
            for c in &s.checks {
                if let (CheckKind::Type(t), Some(col)) = (&c.kind, &c.column)
                    && let Some((_, sql_type)) = type_rule(t)
                {
                    match pins.iter().find(|(p, _)| p == col) {
                        Some((_, other)) if *other != sql_type => {
                            return Err(DataError::Plan(format!(
                                "column `{col}` of source `{}` is pinned to two types ({other} and {sql_type}) by different suites",
                                decl.name
                            )));
                        }
                        Some(_) => {}
                        None => pins.push((col.clone(), sql_type)),
                    }
                }
            }
        }
        let on_cluster = for_suites && self.opts.cluster.is_some();
        let (ctx, ordered) = if on_cluster {
            (self.suite_context(None)?, self.suite_context(Some(1))?)
        } else {
            (self.context(None), self.context(Some(1)))
        };
        let open = source::open(&ctx, resolved, &decl.csv, pins, text_pins).await?;
        let raw_schema = open.raw_schema();
        // A cluster is sent the plan: it must see the files' own table, which it can encode
        // (the counting wrapper exists only in this process).
        let provider: Arc<dyn datafusion::catalog::TableProvider> = if on_cluster {
            open.provider.inner()
        } else {
            open.provider.clone()
        };
        for c in [&ctx, &ordered] {
            if open.pins.is_empty() {
                c.register_table("t", provider.clone()).map_err(internal)?;
            } else {
                c.register_table("__tg_source", provider.clone())
                    .map_err(internal)?;
                let mut cols = Vec::new();
                for f in raw_schema.fields() {
                    match open.pins.iter().find(|(p, _)| p == f.name()) {
                        Some((_, t)) => cols.push(format!(
                            "try_cast({} AS {t}) AS {}",
                            ident(f.name()),
                            ident(f.name())
                        )),
                        None => cols.push(ident(f.name())),
                    }
                }
                for (p, _) in &open.pins {
                    cols.push(format!("{} AS {}", ident(p), ident(&check::raw_name(p))));
                }
                let view = format!(
                    "CREATE VIEW t AS SELECT {} FROM __tg_source",
                    cols.join(", ")
                );
                c.sql(&view).await.map_err(internal)?;
            }
        }
        let schema = Arc::new(
            ctx.table("t")
                .await
                .map_err(internal)?
                .schema()
                .as_arrow()
                .clone(),
        );
        Ok(Prepared {
            source: open,
            ctx,
            ordered,
            schema,
            cluster: on_cluster,
        })
    }

    /// Run one suite on a prepared source.
    pub async fn run_suite(&self, src: &Prepared, suite: &SuiteDecl) -> TestResult {
        let mut result = TestResult {
            kind: TestKind::Suite,
            name: suite.name.clone(),
            status: Status::Passed,
            source: Some(src.source.resolved.display.clone()),
            rows: None,
            error: None,
            findings: Vec::new(),
        };
        match self.run_checks(src, suite).await {
            Ok((findings, rows)) => {
                result.status = TestResult::status_of(&findings);
                result.findings = findings;
                result.rows = rows;
            }
            Err(e) => {
                result.status = Status::Error;
                result.error = Some(e.to_string());
            }
        }
        result
    }

    async fn run_checks(
        &self,
        src: &Prepared,
        suite: &SuiteDecl,
    ) -> Result<(Vec<Finding>, Option<u64>)> {
        let schema = src.schema.as_ref();
        // 1. Plan every check; a check that does not fit the data becomes an error finding.
        let mut planned: Vec<std::result::Result<Planned, String>> = Vec::new();
        for decl in &suite.checks {
            let pinned = pin_of(src, decl);
            let p = match check::plan(decl, schema, pinned) {
                // A cluster's sessions know DataFusion's built-in functions only: say so
                // before planning the check's SQL there.
                Ok(p) if src.cluster && cluster_cannot_run(&p).is_some() => {
                    Err(cluster_cannot_run(&p).unwrap_or_default())
                }
                Ok(p) if self.opts.memory_limit.is_some() => {
                    let p = crate::memory::bounded_plan(p);
                    self.validate(src, decl, with_filter(decl, p)).await
                }
                Ok(p) => self.validate(src, decl, with_filter(decl, p)).await,
                Err(Unfit(msg)) => Err(msg),
            };
            planned.push(p);
        }
        // 2. One aggregate query for every metric of every check (deduplicated).
        let mut wanted: Vec<Metric> = vec![Metric::RowCount];
        for p in planned.iter().flatten() {
            wanted.extend(p.metrics.iter().cloned());
        }
        let (metrics, mut index) = dedup(&wanted);
        let values = match self.aggregate(&src.ctx, &metrics).await {
            Ok(v) => v,
            Err(e) => {
                // Some check's SQL failed while running (a division by zero, a cast of bad
                // text...), or the data is unreadable. Find out which: each check alone.
                let msg = e.to_string();
                let unreadable = [
                    "parsing",
                    "Parser error",
                    "Csv error",
                    "Json error",
                    "Parquet error",
                    "IO error",
                    "Io error",
                ]
                .iter()
                .any(|m| msg.contains(m));
                match self.aggregate(&src.ctx, &[Metric::RowCount]).await {
                    // The data itself cannot be read (counting rows may not parse the values).
                    _ if unreadable => return Err(e),
                    Err(_) => return Err(e),
                    Ok(_) => {
                        for (p, decl) in planned.iter_mut().zip(&suite.checks) {
                            if let Ok(plan) = p {
                                let mut alone = vec![Metric::RowCount];
                                alone.extend(plan.metrics.iter().cloned());
                                if let Err(e) = self.aggregate(&src.ctx, &alone).await {
                                    *p = Err(format!("`{}` failed while running: {e}", decl.check));
                                }
                            }
                        }
                        let mut wanted: Vec<Metric> = vec![Metric::RowCount];
                        for p in planned.iter().flatten() {
                            wanted.extend(p.metrics.iter().cloned());
                        }
                        let (metrics, again) = dedup(&wanted);
                        index = again;
                        self.aggregate(&src.ctx, &metrics).await?
                    }
                }
            }
        };
        let rows = values.first().map(V::count);
        // 3. Judge.
        let mut cursor = 1; // index 0 is the row count
        let mut findings = Vec::new();
        for (decl, p) in suite.checks.iter().zip(&planned) {
            let pinned = pin_of(src, decl);
            let finding = match p {
                Err(msg) => error_finding(decl, msg.clone()),
                Ok(p) => {
                    let mut vals: Vec<V> = Vec::new();
                    for _ in &p.metrics {
                        vals.push(values[index[cursor]].clone());
                        cursor += 1;
                    }
                    if let Some(q) = &p.own_query {
                        let ctx = if p.ordered { &src.ordered } else { &src.ctx };
                        let q = if p.ordered {
                            format!("WITH numbered AS ({}) {q}", numbered(None, &p.show))
                        } else {
                            q.clone()
                        };
                        match self.one_row(ctx, &q).await {
                            Ok(v) => vals = v,
                            Err(e) => {
                                findings.push(error_finding(decl, e.to_string()));
                                continue;
                            }
                        }
                    }
                    let mut f = check::judge(decl, &vals, schema, pinned);
                    // Uniqueness judged from distinct counts knows only a lower bound of the
                    // unexpected rows: with `mostly` the exact count decides.
                    let needs_exact =
                        p.exact_count.is_some() && f.unexpected_count.unwrap_or(0) > 0;
                    // GX suites ask for unexpected values even when `mostly` lets them pass.
                    let gx_wants_values = decl.result_format.is_some_and(|r| r.sample_size() > 0)
                        && f.unexpected_count.unwrap_or(0) > 0;
                    if f.status == Status::Failed
                        || f.status == Status::Warned
                        || needs_exact
                        || gx_wants_values
                    {
                        self.explain_failure(src, suite, p, decl, &mut f).await;
                    }
                    f
                }
            };
            findings.push(finding);
        }
        Ok((findings, rows))
    }

    /// Plan the check's SQL alone, so that a bad condition or a type mismatch is reported on
    /// that check (with the position inside its SQL) instead of failing the whole suite.
    async fn validate(
        &self,
        src: &Prepared,
        decl: &CheckDecl,
        mut p: Planned,
    ) -> std::result::Result<Planned, String> {
        let df = src.ctx.table("t").await.map_err(|e| engine_message(&e))?;
        let user_sql = match &decl.kind {
            CheckKind::Condition(s) => Some(("condition", s)),
            CheckKind::Aggregate { sql, .. } => Some(("aggregate", sql)),
            _ => None,
        };
        if let Some((what, text)) = user_sql {
            match df.parse_sql_expr(text) {
                Ok(expr) => {
                    if what == "condition" {
                        let mut cols: Vec<String> =
                            expr.column_refs().iter().map(|c| c.name.clone()).collect();
                        cols.sort_by_key(|c| schema_pos(&src.schema, c));
                        p.show = cols;
                    }
                }
                Err(e) => {
                    return Err(format!(
                        "invalid SQL {what} `{text}`: {}",
                        engine_message(&e)
                    ));
                }
            }
        }
        if !p.metrics.is_empty() {
            // The same shape as the real query, so that a non-aggregate expression is caught.
            let select: Vec<String> = std::iter::once("count(*) AS m0".to_string())
                .chain(
                    p.metrics
                        .iter()
                        .enumerate()
                        .map(|(i, m)| format!("{} AS m{}", m.to_sql(), i + 1)),
                )
                .collect();
            let q = format!("SELECT {} FROM t", select.join(", "));
            if let Err(e) = src.ctx.sql(&q).await {
                return Err(match user_sql {
                    Some((what, text)) => {
                        format!("invalid SQL {what} `{text}`: {}", engine_message(&e))
                    }
                    None => engine_message(&e),
                });
            }
        }
        Ok(p)
    }

    async fn aggregate(&self, ctx: &SessionContext, metrics: &[Metric]) -> Result<Vec<V>> {
        if self.opts.memory_limit.is_some() && metrics.iter().any(crate::memory::unbounded) {
            // Distinct counts, medians and quantiles would hold every value: queries that spill.
            return crate::memory::aggregate(ctx, metrics).await;
        }
        let select: Vec<String> = metrics
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{} AS m{i}", m.to_sql()))
            .collect();
        self.one_row(ctx, &format!("SELECT {} FROM t", select.join(", ")))
            .await
    }

    async fn one_row(&self, ctx: &SessionContext, q: &str) -> Result<Vec<V>> {
        let batches = collect(ctx, q).await?;
        let batch = batches.iter().find(|b| b.num_rows() > 0);
        let Some(batch) = batch else {
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

    /// Exact counts and a sample of failing rows, for a failing check only.
    async fn explain_failure(
        &self,
        src: &Prepared,
        suite: &SuiteDecl,
        p: &Planned,
        decl: &CheckDecl,
        f: &mut Finding,
    ) {
        if let Some(q) = &p.exact_count
            && let Ok(v) = self.one_row(&src.ctx, q).await
        {
            let unexpected = v.first().map(V::count).unwrap_or(0);
            let element = f.element_count.unwrap_or(0);
            f.unexpected_count = Some(unexpected);
            let frac = if element == 0 {
                0.0
            } else {
                unexpected as f64 / element as f64
            };
            f.unexpected_fraction = Some(tollgate_core::finding::stable_f64(frac));
            f.observed = serde_json::json!(tollgate_core::finding::stable_f64(1.0 - frac));
            let m = decl.mostly.unwrap_or(1.0);
            let ok =
                element == 0 || (element - unexpected.min(element)) as f64 / element as f64 >= m;
            f.status = Finding::verdict(ok, decl.severity);
        }
        let Some(pred) = &p.failing else { return };
        let sample_size = decl
            .result_format
            .map(|r| r.sample_size())
            .unwrap_or(suite.sample_size);
        let wanted = f.status != Status::Passed
            || (decl.result_format.is_some() && f.unexpected_count.unwrap_or(0) > 0);
        if sample_size == 0 || !wanted {
            return;
        }
        let mut cols: Vec<String> = Vec::new();
        for c in suite.id_columns.iter().chain(&p.show) {
            if !cols.contains(c) && src.schema.field_with_name(c).is_ok() {
                cols.push(c.clone());
            }
        }
        if cols.is_empty() {
            cols = src
                .schema
                .fields()
                .iter()
                .map(|x| x.name().clone())
                .filter(|n| !n.starts_with("__tg_raw_"))
                .take(8)
                .collect();
        }
        let select: Vec<String> = std::iter::once(ROW.to_string())
            .chain(cols.iter().map(|c| ident(c)))
            .collect();
        // A filter may read any column: then the numbered rows carry them all.
        let mut read = if decl.filter.is_some() {
            Vec::new()
        } else {
            cols.clone()
        };
        for c in if p.needs.is_empty() {
            &p.show
        } else {
            &p.needs
        } {
            if decl.filter.is_none() && !read.contains(c) {
                read.push(c.clone());
            }
        }
        // In one partition the rows come in file order, so LIMIT stops the scan at the first
        // failing rows; a partitioned window (uniqueness) reorders them and needs the sort.
        let order = if src.cluster {
            // A cluster keeps no file order: row positions mean nothing there, and the
            // samples are the failing rows that sort first, the same on every run.
            let by: Vec<String> = cols.iter().map(|c| ident(c)).collect();
            format!("ORDER BY {} ", by.join(", "))
        } else if p.window.is_some() {
            format!("ORDER BY {ROW} ")
        } else {
            String::new()
        };
        let q = match &p.failing_from {
            Some(from) => format!(
                "WITH numbered AS ({}) SELECT {} FROM ({from}) WHERE {pred} {order}LIMIT {}",
                numbered(None, &read),
                select.join(", "),
                sample_size
            ),
            None => format!(
                "SELECT {} FROM ({}) WHERE {pred} {order}LIMIT {}",
                select.join(", "),
                numbered(p.window.as_deref(), &read),
                sample_size
            ),
        };
        match collect(&src.ordered, &q).await {
            Ok(batches) => {
                for b in batches {
                    for r in 0..b.num_rows() {
                        let row = V::from_array(b.column(0), r).count();
                        let mut values = serde_json::Map::new();
                        for (i, c) in cols.iter().enumerate() {
                            let name = c.strip_prefix("__tg_raw_").unwrap_or(c).to_string();
                            let v = V::from_array(b.column(i + 1), r);
                            values.insert(name, v.to_json());
                        }
                        f.sample.push(SampleRow {
                            row: (!src.cluster).then_some(row),
                            values,
                        });
                    }
                }
            }
            Err(e) => f.error = Some(format!("could not fetch failing rows: {e}")),
        }
    }
}

/// The row-numbered source (file order; only used on the single-partition session).
/// Only `cols` are read: a sample query scans the files once more, in one partition, and
/// parsing every column would cost more than the check's own scan.
/// Why a Ballista cluster cannot run this planned check, if it cannot.
fn cluster_cannot_run(p: &Planned) -> Option<String> {
    let metrics: Vec<String> = p.metrics.iter().map(Metric::to_sql).collect();
    let mut sql: Vec<&str> = metrics.iter().map(String::as_str).collect();
    for q in [
        &p.own_query,
        &p.failing,
        &p.window,
        &p.exact_count,
        &p.failing_from,
    ]
    .into_iter()
    .flatten()
    {
        sql.push(q);
    }
    crate::ballista::unsupported(p.ordered, &sql)
}

fn numbered(window: Option<&str>, cols: &[String]) -> String {
    let list = if cols.is_empty() {
        "*".to_string()
    } else {
        cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
    };
    let base = format!("SELECT row_number() OVER () - 1 AS {ROW}, {list} FROM t");
    match window {
        // Number the rows first: a partitioned window sorts its input.
        Some(w) => format!("SELECT *, {w} AS {DUPS} FROM ({base})"),
        None => base,
    }
}

/// Apply a check's `filter` (GX `row_condition`): every metric, own query and failing-row
/// predicate considers only the rows where it holds.
fn with_filter(decl: &CheckDecl, mut p: Planned) -> Planned {
    let from = match &decl.filter {
        Some(f) => format!("(SELECT * FROM t WHERE {f}\n) AS t"),
        None => "t".to_string(),
    };
    for q in [&mut p.own_query, &mut p.exact_count].into_iter().flatten() {
        *q = q.replace("{from}", &from);
    }
    if let Some(ff) = &mut p.failing_from {
        *ff = ff.replace("{from}", &from);
    }
    if let Some(f) = &decl.filter {
        p.metrics = p
            .metrics
            .into_iter()
            .map(|m| Metric::Filtered(Box::new(m), format!("({f}\n)")))
            .collect();
        p.failing = p.failing.map(|pred| format!("({f}\n) AND ({pred})"));
        // A value repeats when it repeats among the rows the filter keeps (the window numbers
        // every row, so count only those).
        if let Some(over) = p
            .window
            .as_deref()
            .and_then(|w| w.strip_prefix("count(*) OVER "))
        {
            p.window = Some(format!(
                "sum(CASE WHEN ({f}\n) THEN 1 ELSE 0 END) OVER {over}"
            ));
        }
    }
    p
}

fn pin_of<'a>(src: &'a Prepared, decl: &CheckDecl) -> Option<Pin<'a>> {
    match (&decl.kind, &decl.column) {
        (CheckKind::Type(_), Some(c)) => {
            src.source
                .pins
                .iter()
                .find(|(p, _)| p == c)
                .map(|(_, t)| Pin {
                    sql_type: t,
                    text: src.source.text_pins,
                })
        }
        _ => None,
    }
}

fn schema_pos(schema: &Schema, c: &str) -> usize {
    schema.index_of(c).unwrap_or(usize::MAX)
}

fn error_finding(decl: &CheckDecl, msg: String) -> Finding {
    let mut f = Finding::new(decl.check, Status::Error, decl.severity);
    f.column = decl.column.clone();
    f.name = decl.name.clone();
    f.gx_type = decl.gx_type.clone();
    f.observed = Json::Null;
    f.expected = String::new();
    f.error = Some(msg);
    f
}

fn internal(e: datafusion::error::DataFusionError) -> DataError {
    DataError::Internal(engine_message(&e))
}

pub(crate) async fn collect(ctx: &SessionContext, q: &str) -> Result<Vec<RecordBatch>> {
    let df = ctx
        .sql(q)
        .await
        .map_err(|e| DataError::Plan(engine_message(&e)))?;
    df.collect().await.map_err(|e| {
        let msg = crate::memory::explain(engine_message(&e));
        DataError::Source(format!("reading the data failed: {msg}"))
    })
}

/// One column read out of a source, as numbers or as text.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Numeric (booleans as 0/1), nulls as `None`.
    Num(Vec<Option<f64>>),
    /// Text, nulls as `None`.
    Text(Vec<Option<String>>),
}

impl Engine {
    /// Read whole columns of a source (evaluation inputs). `text[i]` asks for column `i` as
    /// text instead of numbers. `ordered` reads in file order (one partition), for rows that
    /// must line up with another read; otherwise the read is parallel (rows in any order, but
    /// the columns of one row stay together).
    pub async fn read_columns(
        &self,
        decl: &SourceDecl,
        base: &Path,
        cols: &[String],
        text: &[bool],
        ordered: bool,
    ) -> Result<Vec<ColumnData>> {
        use datafusion::arrow::datatypes::DataType;
        let prepared = self.prepare(decl, base, &[]).await?;
        for (c, as_text) in cols.iter().zip(text) {
            let Ok(field) = prepared.schema.field_with_name(c) else {
                let Unfit(msg) = check::missing_column(&prepared.schema, c);
                return Err(DataError::Plan(format!("{}: {msg}", decl.path)));
            };
            let dt = field.data_type();
            if !(*as_text || dt.is_numeric() || matches!(dt, DataType::Boolean | DataType::Null)) {
                return Err(DataError::Plan(format!(
                    "{}: column `{c}` is {}, a number is needed (labels are 0/1 or class indices)",
                    decl.path,
                    crate::sql::type_name(dt)
                )));
            }
        }
        let q = format!(
            "SELECT {} FROM t",
            cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
        );
        let batches = collect(
            if ordered {
                &prepared.ordered
            } else {
                &prepared.ctx
            },
            &q,
        )
        .await?;
        let mut out: Vec<ColumnData> = text
            .iter()
            .map(|t| {
                if *t {
                    ColumnData::Text(Vec::new())
                } else {
                    ColumnData::Num(Vec::new())
                }
            })
            .collect();
        for b in &batches {
            for (data, col) in out.iter_mut().zip(b.columns()) {
                append(data, col)?;
            }
        }
        Ok(out)
    }
}

impl Engine {
    /// Evaluate SQL expressions over every row of a source, in file order (model inputs).
    /// Numeric results come back as numbers, everything else as text.
    pub async fn read_exprs(
        &self,
        decl: &SourceDecl,
        base: &Path,
        exprs: &[(String, String)],
        limit: Option<usize>,
    ) -> Result<Vec<ColumnData>> {
        let prepared = self.prepare(decl, base, &[]).await?;
        exprs_in(&prepared.ordered, exprs, limit)
            .await
            .map_err(|e| e.at(&decl.path))
    }

    /// Every column of a source's rows, in file order, at most `limit` rows, as one batch
    /// (the rows behavioural tests perturb).
    pub async fn read_rows(
        &self,
        decl: &SourceDecl,
        base: &Path,
        limit: Option<usize>,
    ) -> Result<RecordBatch> {
        self.read_some_rows(decl, base, limit, None).await
    }

    /// As `read_rows`, reading only `columns` (those the source has; `None`: all).
    pub async fn read_some_rows(
        &self,
        decl: &SourceDecl,
        base: &Path,
        limit: Option<usize>,
        columns: Option<&[String]>,
    ) -> Result<RecordBatch> {
        self.read_some_rows_at(decl, base, limit, columns)
            .await
            .map_err(|e| e.at(&decl.path))
    }

    async fn read_some_rows_at(
        &self,
        decl: &SourceDecl,
        base: &Path,
        limit: Option<usize>,
        columns: Option<&[String]>,
    ) -> Result<RecordBatch> {
        let prepared = self.prepare(decl, base, &[]).await?;
        let select = match columns {
            None => "*".to_string(),
            Some(cols) => {
                let have: Vec<String> = cols
                    .iter()
                    .filter(|c| prepared.schema.field_with_name(c).is_ok())
                    .map(|c| ident(c))
                    .collect();
                if have.is_empty() {
                    "*".to_string()
                } else {
                    have.join(", ")
                }
            }
        };
        let mut q = format!("SELECT {select} FROM t");
        if let Some(n) = limit {
            q.push_str(&format!(" LIMIT {n}"));
        }
        let batches = collect(&prepared.ordered, &q).await?;
        let schema = batches
            .first()
            .map(|b| b.schema())
            .unwrap_or_else(|| prepared.schema.clone());
        datafusion::arrow::compute::concat_batches(&schema, &batches)
            .map_err(|e| DataError::Plan(e.to_string()))
    }

    /// A one-partition context over rows held in memory, as table `t`.
    fn memory(&self, rows: RecordBatch) -> Result<SessionContext> {
        let ctx = self.context(Some(1));
        let table = datafusion::datasource::MemTable::try_new(rows.schema(), vec![vec![rows]])
            .map_err(internal)?;
        ctx.register_table("t", std::sync::Arc::new(table))
            .map_err(internal)?;
        Ok(ctx)
    }

    /// Evaluate SQL expressions over rows held in memory (as `read_exprs` does over a source).
    pub async fn exprs_over(
        &self,
        rows: RecordBatch,
        exprs: &[(String, String)],
    ) -> Result<Vec<ColumnData>> {
        let ctx = self.memory(rows)?;
        exprs_in(&ctx, exprs, None).await
    }

    /// Which rows held in memory meet a SQL condition (null counts as not met).
    pub async fn mask_over(&self, rows: RecordBatch, condition: &str) -> Result<Vec<bool>> {
        let ctx = self.memory(rows)?;
        let df = ctx.table("t").await.map_err(internal)?;
        if let Err(e) = df.parse_sql_expr(condition) {
            return Err(DataError::Plan(format!(
                "`where: {condition}`: {}",
                engine_message(&e)
            )));
        }
        let q = format!("SELECT COALESCE(CAST(({condition}\n) AS BOOLEAN), false) AS m FROM t");
        let batches = collect(&ctx, &q).await?;
        let mut out = Vec::new();
        for b in &batches {
            let col = b
                .column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::BooleanArray>()
                .ok_or_else(|| {
                    DataError::Plan(format!("`where: {condition}` is not a condition"))
                })?;
            out.extend(col.iter().map(|v| v.unwrap_or(false)));
        }
        Ok(out)
    }
}

/// SQL expressions over table `t` of a context, in row order; numbers as numbers, the rest as
/// text.
async fn exprs_in(
    ctx: &SessionContext,
    exprs: &[(String, String)],
    limit: Option<usize>,
) -> Result<Vec<ColumnData>> {
    use datafusion::arrow::datatypes::DataType;
    let df = ctx.table("t").await.map_err(internal)?;
    for (name, sql) in exprs {
        if let Err(e) = df.parse_sql_expr(sql) {
            return Err(DataError::Plan(format!(
                "input `{name}` = `{sql}`: {}",
                engine_message(&e)
            )));
        }
    }
    let select: Vec<String> = exprs
        .iter()
        .map(|(n, sql)| format!("({sql}\n) AS {}", ident(n)))
        .collect();
    let mut q = format!("SELECT {} FROM t", select.join(", "));
    if let Some(n) = limit {
        q.push_str(&format!(" LIMIT {n}"));
    }
    let batches = collect(ctx, &q).await?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => return Ok(exprs.iter().map(|_| ColumnData::Num(Vec::new())).collect()),
    };
    let mut out: Vec<ColumnData> = schema
        .fields()
        .iter()
        .map(|f| {
            if f.data_type().is_numeric()
                || matches!(f.data_type(), DataType::Boolean | DataType::Null)
            {
                ColumnData::Num(Vec::new())
            } else {
                ColumnData::Text(Vec::new())
            }
        })
        .collect();
    for b in &batches {
        for (data, col) in out.iter_mut().zip(b.columns()) {
            append(data, col)?;
        }
    }
    Ok(out)
}

/// Append the values of an engine column to a `ColumnData` (numbers as f64, text as String).
fn append(data: &mut ColumnData, col: &datafusion::arrow::array::ArrayRef) -> Result<()> {
    use datafusion::arrow::array::{Array, Float64Array, StringArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    match data {
        ColumnData::Num(v) => {
            let f = cast(col, &DataType::Float64).map_err(|e| DataError::Plan(e.to_string()))?;
            let f = f
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| DataError::Internal("cast to f64".into()))?;
            v.extend((0..f.len()).map(|r| (!f.is_null(r)).then(|| f.value(r))));
        }
        ColumnData::Text(v) => {
            let s = cast(col, &DataType::Utf8).map_err(|e| DataError::Plan(e.to_string()))?;
            let s = s
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataError::Internal("cast to text".into()))?;
            v.extend((0..s.len()).map(|r| (!s.is_null(r)).then(|| s.value(r).to_string())));
        }
    }
    Ok(())
}
