//! PostgreSQL push-down: a suite's checks run inside the database. Every check is planned and
//! judged by the same code as on DataFusion ([`check::plan`], [`check::judge`]); only the SQL
//! text differs. A suite costs one aggregate query, plus a bounded, ordered `LIMIT n` query per failing
//! row-level check for its sample: no other rows leave the database.
//!
//! Checks this dialect does not compile yet become `error` findings saying so; none is skipped.
//! The connection URL comes from an environment variable and is only ever shown with its
//! password masked.

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use serde_json::Value as Json;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls, Row};
use tollgate_core::plan::PgSourceDecl;
use tollgate_core::{
    Bound, CheckDecl, CheckKind, Finding, SampleRow, Scalar, SourceDecl, Status, SuiteDecl,
    TestKind, TestResult,
};

use crate::check::{self, Unfit};
use crate::error::{DataError, Result};
use crate::metric::{Metric, dedup};
use crate::sql::{self, ident};
use crate::value::V;

/// The message of a check this dialect cannot run.
pub const NOT_SUPPORTED: &str = "not supported on PostgreSQL yet";

/// A URL with its password replaced by `***` (`postgres://user:***@host/db`).
pub fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return "***".into();
    };
    let rest = &url[scheme_end + 3..];
    // The authority ends at the first `/`, `?` or `#`; the user info at its last `@`.
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    match authority.rfind('@') {
        Some(at) => {
            let user_info = &authority[..at];
            let user = user_info.split(':').next().unwrap_or("");
            let masked = if user_info.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!(
                "{}{masked}{}",
                &url[..scheme_end + 3],
                &url[scheme_end + 3 + at..]
            )
        }
        None => url.to_string(),
    }
}

/// The password of a URL, if it has one (to scrub it from any message).
fn password(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let user_info = &authority[..authority.rfind('@')?];
    let pw = user_info.split_once(':')?.1;
    (!pw.is_empty()).then(|| pw.to_string())
}

/// Remove the URL and its password from a message (a driver may echo either).
fn scrub(msg: &str, url: &str) -> String {
    let mut out = msg.replace(url, &mask_url(url));
    if let Some(pw) = password(url) {
        out = out.replace(&pw, "***");
        // A percent-encoded password may be echoed decoded.
        if let Some(decoded) = percent_decode(&pw) {
            out = out.replace(&decoded, "***");
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|d| !d.is_empty())
}

/// A PostgreSQL string literal, safe whatever `standard_conforming_strings` is.
fn pg_string(s: &str) -> String {
    format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// A plan scalar as a PostgreSQL literal for a column of type `dt`.
fn pg_lit(v: &Scalar, dt: &DataType) -> String {
    match v {
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) if f.is_nan() => "CAST('NaN' AS DOUBLE PRECISION)".into(),
        Scalar::Float(f) if f.is_infinite() => format!(
            "CAST('{}' AS DOUBLE PRECISION)",
            if *f > 0.0 { "Infinity" } else { "-Infinity" }
        ),
        Scalar::Float(f) => format!("CAST({f:?} AS DOUBLE PRECISION)"),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Str(s) => match dt {
            DataType::Date32 | DataType::Date64 => format!("CAST({} AS DATE)", pg_string(s)),
            DataType::Timestamp(_, _) => format!("CAST({} AS TIMESTAMP)", pg_string(s)),
            _ => pg_string(s),
        },
    }
}

/// TRUE when a non-null value is outside the bound (NaN counts as outside, as on DataFusion).
fn pg_outside(c: &str, b: &Bound, dt: &DataType) -> String {
    let mut parts = Vec::new();
    if let Some(min) = &b.min {
        let op = if b.strict_min { "<=" } else { "<" };
        parts.push(format!("{c} {op} {}", pg_lit(min, dt)));
    }
    if let Some(max) = &b.max {
        let op = if b.strict_max { ">=" } else { ">" };
        parts.push(format!("{c} {op} {}", pg_lit(max, dt)));
    }
    if sql::is_float(dt) {
        parts.push(format!("{c} = CAST('NaN' AS DOUBLE PRECISION)"));
    }
    if parts.is_empty() {
        return "FALSE".into();
    }
    format!("({})", parts.join(" OR "))
}

/// A column of the table: its name, its PostgreSQL type (`udt_name`) and the Arrow type the
/// checks see.
struct PgColumn {
    name: String,
    udt: String,
}

/// PostgreSQL type names (`udt_name`) to the types tollgate's checks know.
fn arrow_type(udt: &str) -> Option<DataType> {
    Some(match udt {
        "int2" => DataType::Int16,
        "int4" => DataType::Int32,
        "int8" => DataType::Int64,
        "float4" => DataType::Float32,
        "float8" => DataType::Float64,
        "text" | "varchar" | "bpchar" | "name" => DataType::Utf8,
        "bool" => DataType::Boolean,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "timestamptz" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => return None,
    })
}

/// The table, with its columns and their types.
struct Table {
    /// `"schema"."table"`, quoted.
    sql: String,
    columns: Vec<PgColumn>,
    schema: Schema,
}

impl Table {
    fn udt(&self, c: &str) -> &str {
        self.columns
            .iter()
            .find(|x| x.name == c)
            .map(|x| x.udt.as_str())
            .unwrap_or("")
    }
}

/// Split `schema.table` (schema `public` when absent).
fn split_table(t: &str) -> (String, String) {
    match t.split_once('.') {
        Some((s, n)) => (s.to_string(), n.to_string()),
        None => ("public".to_string(), t.to_string()),
    }
}

/// A connected client and the URL it came from (to scrub messages).
struct Conn {
    client: Client,
    url: String,
}

impl Conn {
    fn err(&self, what: &str, e: &tokio_postgres::Error) -> DataError {
        // The server's own message (with detail) is more useful than "db error".
        let text = match e.as_db_error() {
            Some(db) => match db.detail() {
                Some(d) => format!("{}: {d}", db.message()),
                None => db.message().to_string(),
            },
            None => e.to_string(),
        };
        DataError::Source(scrub(&format!("{what}: {text}"), &self.url))
    }

    async fn query(&self, what: &str, q: &str) -> Result<Vec<Row>> {
        self.client
            .query(q, &[])
            .await
            .map_err(|e| self.err(what, &e))
    }
}

async fn connect(decl: &SourceDecl, url: &str) -> Result<Conn> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(|e| {
        DataError::Source(scrub(
            &format!(
                "source `{}`: cannot connect to {}: {e}",
                decl.name,
                mask_url(url)
            ),
            url,
        ))
    })?;
    // The connection task ends when the client is dropped.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Conn {
        client,
        url: url.to_string(),
    })
}

async fn table(conn: &Conn, decl: &SourceDecl, pg: &PgSourceDecl) -> Result<Table> {
    let (schema, name) = split_table(&pg.table);
    let rows = conn
        .client
        .query(
            "SELECT column_name::text, udt_name::text FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            &[&schema, &name],
        )
        .await
        .map_err(|e| conn.err("reading the table's columns", &e))?;
    if rows.is_empty() {
        return Err(DataError::Source(format!(
            "source `{}`: table `{}` not found in {} (or it has no columns)",
            decl.name,
            pg.table,
            mask_url(&conn.url)
        )));
    }
    let mut columns = Vec::new();
    let mut fields = Vec::new();
    for r in rows {
        let (c, udt): (String, String) = (r.get(0), r.get(1));
        // A type the checks do not know yet is still a column (`columns`, `column_count`);
        // checks on it say they are not supported.
        let dt = arrow_type(&udt).unwrap_or(DataType::Binary);
        fields.push(Field::new(&c, dt, true));
        columns.push(PgColumn { name: c, udt });
    }
    Ok(Table {
        sql: format!("{}.{}", ident(&schema), ident(&name)),
        columns,
        schema: Schema::new(fields),
    })
}

/// How a check runs on PostgreSQL.
struct PgPlanned {
    metrics: Vec<Metric>,
    /// Predicate selecting failing rows (for samples).
    failing: Option<String>,
    /// Columns shown in samples after the id columns.
    show: Vec<String>,
    /// The column of a `unique` check (exact count and samples by group).
    unique: Option<String>,
}

fn unsupported(decl: &CheckDecl) -> Unfit {
    Unfit(format!("`{}` is {NOT_SUPPORTED}", decl.check))
}

/// Plan a check: the shared planner validates it (missing columns, literal types) and picks the
/// metrics; the predicates are rewritten in PostgreSQL's dialect.
fn plan(decl: &CheckDecl, t: &Table) -> std::result::Result<PgPlanned, Unfit> {
    if decl.filter.is_some() {
        return Err(Unfit(format!(
            "`filter` (row_condition) on `{}` is {NOT_SUPPORTED}",
            decl.check
        )));
    }
    if let Some(c) = &decl.column
        && !matches!(decl.kind, CheckKind::Type(_))
        && t.schema.field_with_name(c).is_ok()
        && arrow_type(t.udt(c)).is_none()
    {
        return Err(Unfit(format!(
            "`{}` on column `{c}` of PostgreSQL type {} is {NOT_SUPPORTED}",
            decl.check,
            t.udt(c)
        )));
    }
    let p = check::plan(decl, &t.schema, None)?;
    let col = decl.column.clone().unwrap_or_default();
    let dt = t
        .schema
        .field_with_name(&col)
        .map(|f| f.data_type().clone())
        .unwrap_or(DataType::Null);
    let c = ident(&col);
    let mut out = PgPlanned {
        metrics: p.metrics,
        failing: None,
        show: p.show,
        unique: None,
    };
    let value_check = |out: &mut PgPlanned, bad: String| {
        out.metrics = vec![
            Metric::NonNull(col.clone()),
            Metric::CountWhere(bad.clone()),
        ];
        out.failing = Some(bad);
        out.show = vec![col.clone()];
    };
    match &decl.kind {
        CheckKind::RowCount(_)
        | CheckKind::ColumnCount(_)
        | CheckKind::Columns { .. }
        | CheckKind::NullFraction(_)
        | CheckKind::Min(_)
        | CheckKind::Max(_)
        | CheckKind::Mean(_)
        | CheckKind::Median(_)
        | CheckKind::Stdev(_)
        | CheckKind::Sum(_)
        | CheckKind::Quantiles(_)
        | CheckKind::DistinctCount(_)
        | CheckKind::UniqueFraction(_) => {}
        CheckKind::Type(_) => {}
        CheckKind::NotNull => out.failing = Some(format!("{c} IS NULL")),
        CheckKind::Unique => out.unique = Some(col.clone()),
        CheckKind::Between(b) => value_check(&mut out, pg_outside(&c, b, &dt)),
        CheckKind::Length(b) => value_check(
            &mut out,
            pg_outside(&format!("character_length({c})"), b, &DataType::Int64),
        ),
        CheckKind::InSet(values) | CheckKind::NotInSet(values) => {
            let negate = matches!(decl.kind, CheckKind::InSet(_));
            let bad = if values.is_empty() {
                if negate {
                    format!("{c} IS NOT NULL")
                } else {
                    "FALSE".to_string()
                }
            } else {
                let list: Vec<String> = values.iter().map(|v| pg_lit(v, &dt)).collect();
                format!(
                    "{c} {}IN ({})",
                    if negate { "NOT " } else { "" },
                    list.join(", ")
                )
            };
            value_check(&mut out, bad);
        }
        CheckKind::Matches(re) | CheckKind::NotMatches(re) => {
            let negate = if matches!(decl.kind, CheckKind::Matches(_)) {
                "NOT "
            } else {
                ""
            };
            value_check(
                &mut out,
                format!("{negate}(CAST({c} AS TEXT) ~ {})", pg_string(re)),
            );
        }
        _ => return Err(unsupported(decl)),
    }
    // Every metric must compile; a check whose metrics do not is not supported.
    for m in &out.metrics {
        if metric_sql(m, t).is_none() {
            return Err(unsupported(decl));
        }
    }
    Ok(out)
}

/// A column as double precision (booleans as 0/1, as on DataFusion).
fn as_double(c: &str, t: &Table) -> String {
    if t.udt(c) == "bool" {
        format!("CAST(CAST({} AS INTEGER) AS DOUBLE PRECISION)", ident(c))
    } else {
        format!("CAST({} AS DOUBLE PRECISION)", ident(c))
    }
}

/// The metric as a PostgreSQL aggregate (`None`: not compiled for PostgreSQL yet). Results are
/// of types [`value`] reads: integers, floats, text, booleans, dates, timestamps.
fn metric_sql(m: &Metric, t: &Table) -> Option<String> {
    Some(match m {
        Metric::RowCount => "count(*)".into(),
        Metric::NonNull(c) => format!("count({})", ident(c)),
        Metric::CountWhere(p) => format!("sum(CASE WHEN {p} THEN 1 ELSE 0 END)"),
        Metric::Min(c) | Metric::Max(c) => {
            let min = matches!(m, Metric::Min(_));
            match t.udt(c) {
                "bool" => format!("{}({})", if min { "bool_and" } else { "bool_or" }, ident(c)),
                // Byte order, as on DataFusion (not the database's collation).
                "text" | "varchar" | "bpchar" | "name" => format!(
                    "{}(CAST({} AS TEXT) COLLATE \"C\")",
                    if min { "min" } else { "max" },
                    ident(c)
                ),
                _ => format!("{}({})", if min { "min" } else { "max" }, ident(c)),
            }
        }
        Metric::Mean(c) => format!("avg({})", as_double(c, t)),
        Metric::StdDev(c) => format!("stddev_samp({})", as_double(c, t)),
        Metric::Sum(c) => format!("sum({})", as_double(c, t)),
        // Exact: numeric, read back as text.
        Metric::SumInt(c) => format!("CAST(sum(CAST({} AS NUMERIC)) AS TEXT)", ident(c)),
        Metric::Median(c) => format!(
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY {})",
            as_double(c, t)
        ),
        Metric::Quantile(c, bits) => format!(
            "percentile_cont(CAST({:?} AS DOUBLE PRECISION)) WITHIN GROUP (ORDER BY {})",
            f64::from_bits(*bits),
            as_double(c, t)
        ),
        Metric::Distinct(c) => format!("count(DISTINCT {})", ident(c)),
        Metric::Nothing => "NULL".into(),
        Metric::DistinctTuple(..)
        | Metric::DistinctValues(_)
        | Metric::Sql(_)
        | Metric::Filtered(..) => return None,
    })
}

/// Read one value of a result row as the engine-independent value.
fn value(row: &Row, i: usize, int_text: bool) -> V {
    let ty = row.columns()[i].type_().clone();
    let got = |ok: Option<V>| ok.unwrap_or(V::Null);
    match ty {
        Type::INT2 => got(row.get::<_, Option<i16>>(i).map(|x| V::Int(x.into()))),
        Type::INT4 => got(row.get::<_, Option<i32>>(i).map(|x| V::Int(x.into()))),
        Type::INT8 => got(row.get::<_, Option<i64>>(i).map(|x| V::Int(x.into()))),
        Type::FLOAT4 => got(row.get::<_, Option<f32>>(i).map(|x| V::Float(x.into()))),
        Type::FLOAT8 => got(row.get::<_, Option<f64>>(i).map(V::Float)),
        Type::BOOL => got(row.get::<_, Option<bool>>(i).map(V::Bool)),
        Type::DATE => got(row.get::<_, Option<chrono::NaiveDate>>(i).map(V::Date)),
        Type::TIMESTAMP => got(row.get::<_, Option<chrono::NaiveDateTime>>(i).map(V::Time)),
        Type::TIMESTAMPTZ => got(row
            .get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)
            .map(|t| V::Time(t.naive_utc()))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            match row.get::<_, Option<String>>(i) {
                Some(s) if int_text => s.parse::<i128>().map(V::Int).unwrap_or(V::Str(s)),
                Some(s) => V::Str(s),
                None => V::Null,
            }
        }
        // Columns of other types are only selected as text (see `sample_expr`).
        _ => V::Null,
    }
}

/// A column for a sample row: known types as they are, others as text.
fn sample_expr(c: &str, t: &Table) -> String {
    if arrow_type(t.udt(c)).is_some() {
        ident(c)
    } else {
        format!("CAST({} AS TEXT)", ident(c))
    }
}

/// Run suites on a PostgreSQL source.
pub async fn run_suites(decl: &SourceDecl, suites: &[&SuiteDecl]) -> Result<Vec<TestResult>> {
    let Some(pg) = &decl.postgres else {
        return Err(DataError::Internal(format!(
            "source `{}` is not a PostgreSQL source",
            decl.name
        )));
    };
    let url = std::env::var(&pg.url_env).map_err(|_| {
        DataError::Source(format!(
            "source `{}`: the environment variable `{}` (its `url_env`) is not set; set it to postgres://user:password@host/db",
            decl.name, pg.url_env
        ))
    })?;
    run_suites_with_url(&url, decl, suites).await
}

/// [`run_suites`] with the URL given (not read from the source's `url_env`).
pub async fn run_suites_with_url(
    url: &str,
    decl: &SourceDecl,
    suites: &[&SuiteDecl],
) -> Result<Vec<TestResult>> {
    let Some(pg) = &decl.postgres else {
        return Err(DataError::Internal(format!(
            "source `{}` is not a PostgreSQL source",
            decl.name
        )));
    };
    let conn = connect(decl, url).await?;
    let table = table(&conn, decl, pg).await?;
    let shown = format!("{} table {}", mask_url(&conn.url), pg.table);
    let mut results = Vec::new();
    for s in suites {
        let mut result = TestResult {
            kind: TestKind::Suite,
            name: s.name.clone(),
            status: Status::Passed,
            source: Some(shown.clone()),
            rows: None,
            error: None,
            findings: Vec::new(),
        };
        match run_suite(&conn, &table, s).await {
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
        results.push(result);
    }
    Ok(results)
}

/// The one aggregate query over the table for these metrics.
fn aggregate_sql(metrics: &[Metric], t: &Table) -> String {
    let select: Vec<String> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{} AS m{i}", metric_sql(m, t).unwrap_or("NULL".into())))
        .collect();
    format!("SELECT {} FROM {}", select.join(", "), t.sql)
}

async fn aggregate(conn: &Conn, metrics: &[Metric], t: &Table) -> Result<Vec<V>> {
    let rows = conn
        .query("the aggregate query failed", &aggregate_sql(metrics, t))
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| DataError::Internal("the aggregate query returned no row".into()))?;
    Ok(metrics
        .iter()
        .enumerate()
        .map(|(i, m)| value(row, i, matches!(m, Metric::SumInt(_))))
        .collect())
}

async fn run_suite(
    conn: &Conn,
    t: &Table,
    suite: &SuiteDecl,
) -> Result<(Vec<Finding>, Option<u64>)> {
    let mut planned: Vec<std::result::Result<PgPlanned, String>> = suite
        .checks
        .iter()
        .map(|d| plan(d, t).map_err(|Unfit(m)| m))
        .collect();
    let wanted = |planned: &[std::result::Result<PgPlanned, String>]| {
        let mut w = vec![Metric::RowCount];
        for p in planned.iter().flatten() {
            w.extend(p.metrics.iter().cloned());
        }
        w
    };
    let (metrics, mut index) = dedup(&wanted(&planned));
    let values = match aggregate(conn, &metrics, t).await {
        Ok(v) => v,
        Err(e) => {
            // Find the checks whose SQL fails (a bad regex...): each alone.
            aggregate(conn, &[Metric::RowCount], t).await?;
            for (p, decl) in planned.iter_mut().zip(&suite.checks) {
                if let Ok(plan) = p {
                    let mut alone = vec![Metric::RowCount];
                    alone.extend(plan.metrics.iter().cloned());
                    if let Err(e) = aggregate(conn, &alone, t).await {
                        *p = Err(format!("`{}` failed while running: {e}", decl.check));
                    }
                }
            }
            let (metrics, again) = dedup(&wanted(&planned));
            index = again;
            aggregate(conn, &metrics, t).await.map_err(|_| e)?
        }
    };
    let rows = values.first().map(V::count);
    let mut cursor = 1;
    let mut findings = Vec::new();
    for (decl, p) in suite.checks.iter().zip(&planned) {
        let p = match p {
            Err(msg) => {
                findings.push(error_finding(decl, msg.clone()));
                continue;
            }
            Ok(p) => p,
        };
        let mut vals = Vec::new();
        for _ in &p.metrics {
            vals.push(values[index[cursor]].clone());
            cursor += 1;
        }
        let mut f = check::judge(decl, &vals, &t.schema, None);
        if let Some(c) = &p.unique
            && f.unexpected_count.unwrap_or(0) > 0
        {
            exact_unique(conn, t, c, decl, &mut f).await;
        }
        let gx_wants_values = decl.result_format.is_some_and(|r| r.sample_size() > 0)
            && f.unexpected_count.unwrap_or(0) > 0;
        if f.status == Status::Failed || f.status == Status::Warned || gx_wants_values {
            sample(conn, t, suite, p, decl, &mut f).await;
        }
        findings.push(f);
    }
    Ok((findings, rows))
}

/// The rows of a repeated value: `c` is in a group of more than one.
fn repeated(c: &str, t: &Table) -> String {
    format!(
        "{c} IN (SELECT {c} FROM {} WHERE {c} IS NOT NULL GROUP BY {c} HAVING count(*) > 1)",
        t.sql,
        c = ident(c)
    )
}

/// Uniqueness judged from distinct counts knows a lower bound; count every repeated row.
async fn exact_unique(conn: &Conn, t: &Table, c: &str, decl: &CheckDecl, f: &mut Finding) {
    let q = format!("SELECT count(*) FROM {} WHERE {}", t.sql, repeated(c, t));
    let Ok(rows) = conn.query("counting repeated values", &q).await else {
        return;
    };
    let Some(row) = rows.first() else { return };
    let unexpected = value(row, 0, false).count();
    let element = f.element_count.unwrap_or(0);
    let frac = if element == 0 {
        0.0
    } else {
        unexpected as f64 / element as f64
    };
    f.unexpected_count = Some(unexpected);
    f.unexpected_fraction = Some(tollgate_core::finding::stable_f64(frac));
    f.observed = serde_json::json!(tollgate_core::finding::stable_f64(1.0 - frac));
    let m = decl.mostly.unwrap_or(1.0);
    let ok = element == 0 || (element - unexpected.min(element)) as f64 / element as f64 >= m;
    f.status = Finding::verdict(ok, decl.severity);
}

/// A bounded sample of failing rows. A table has no row order, so rows carry no position.
async fn sample(
    conn: &Conn,
    t: &Table,
    suite: &SuiteDecl,
    p: &PgPlanned,
    decl: &CheckDecl,
    f: &mut Finding,
) {
    let pred = match (&p.failing, &p.unique) {
        (Some(pred), _) => pred.clone(),
        (None, Some(c)) => repeated(c, t),
        (None, None) => return,
    };
    let size = decl
        .result_format
        .map(|r| r.sample_size())
        .unwrap_or(suite.sample_size);
    if size == 0 {
        return;
    }
    let mut cols: Vec<String> = Vec::new();
    for c in suite.id_columns.iter().chain(&p.show) {
        if !cols.contains(c) && t.schema.field_with_name(c).is_ok() {
            cols.push(c.clone());
        }
    }
    if cols.is_empty() {
        cols = t.columns.iter().take(8).map(|c| c.name.clone()).collect();
    }
    let select: Vec<String> = cols.iter().map(|c| sample_expr(c, t)).collect();
    // Ordered by the columns shown: the same samples on every run, whatever order the
    // server reads the table in (a top-n sort, not a sort of the table).
    let order: Vec<String> = (1..=cols.len()).map(|i| i.to_string()).collect();
    let q = format!(
        "SELECT {} FROM {} WHERE {pred} ORDER BY {} LIMIT {size}",
        select.join(", "),
        t.sql,
        order.join(", ")
    );
    match conn.query("fetching failing rows", &q).await {
        Ok(rows) => {
            for r in rows {
                let mut values = serde_json::Map::new();
                for (i, c) in cols.iter().enumerate() {
                    values.insert(c.clone(), value(&r, i, false).to_json());
                }
                f.sample.push(SampleRow { row: None, values });
            }
        }
        Err(e) => f.error = Some(format!("could not fetch failing rows: {e}")),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_masked() {
        assert_eq!(
            mask_url("postgres://u:s3cret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_url("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            mask_url("postgresql://u:p@ss@h/db?x=1"),
            "postgresql://u:***@h/db?x=1"
        );
        assert_eq!(mask_url("host=h password=x"), "***");
    }

    #[test]
    fn passwords_are_scrubbed() {
        let url = "postgres://u:p%40ss@h/db";
        let msg = scrub(&format!("failed for {url}, password p@ss"), url);
        assert!(!msg.contains("p%40ss") && !msg.contains("p@ss"), "{msg}");
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(pg_string("a'b\\c"), "E'a''b\\\\c'");
        assert_eq!(
            pg_lit(&Scalar::Float(1e300), &DataType::Float64),
            "CAST(1e300 AS DOUBLE PRECISION)"
        );
    }
}
