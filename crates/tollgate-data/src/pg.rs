//! PostgreSQL push-down: a suite's checks run inside the database. Every check is planned and
//! judged by the same code as on DataFusion ([`check::plan`], [`check::judge`]); only the SQL
//! text differs. A suite costs one aggregate query, plus a bounded, ordered `LIMIT n` query per failing
//! row-level check for its sample: no other rows leave the database. Checks over groups or
//! table statistics (`most_common_in_set`, `z_score`, `kl_divergence`) cost one query each.
//!
//! SQL the user wrote (a `condition`, an `aggregate`, a check's `filter`) is passed to
//! PostgreSQL as it is: it is PostgreSQL SQL there. Checks this dialect does not compile become
//! `error` findings saying so; none is skipped. The session is read-only. The connection URL
//! comes from an environment variable (or the command line) and is only ever shown with its
//! password masked.

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use serde_json::Value as Json;
use tokio_postgres::types::{FromSql, Type};
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

/// The message of a check this dialect cannot run yet.
pub const NOT_SUPPORTED: &str = "not supported on PostgreSQL yet";

/// The environment variable read for the password when a URL has none (as `psql` does).
pub const PASSWORD_ENV: &str = "PGPASSWORD";

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

/// Percent-encode everything but RFC 3986's unreserved characters (a password in a URL).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A password (the value of `PGPASSWORD`) put into a URL that has a user but no password,
/// percent-encoded; any other URL is returned as it is.
pub fn with_password(url: &str, password: Option<&str>) -> String {
    let Some(pw) = password.filter(|p| !p.is_empty()) else {
        return url.to_string();
    };
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let user_info = &authority[..at];
    if user_info.is_empty() {
        return url.to_string();
    }
    let user = match user_info.split_once(':') {
        Some((user, "")) => user,
        Some(_) => return url.to_string(),
        None => user_info,
    };
    format!(
        "{}{user}:{}{}",
        &url[..scheme_end],
        percent_encode(pw),
        &url[scheme_end + at..]
    )
}

/// Is this text a PostgreSQL URL (`postgres://` or `postgresql://`)?
pub fn is_url(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// A table named by a URL, `postgres://user[:password]@host[:port]/db?table=schema.table`:
/// the `table` parameter names the table; the other parameters (`sslmode`, ...) are the
/// connection's. Its `Debug` masks the password.
#[derive(Clone, PartialEq)]
pub struct TableUrl {
    /// The URL to connect with (without `table`).
    pub url: String,
    /// The table, `schema.table` or `table` (schema `public`).
    pub table: String,
}

impl std::fmt::Debug for TableUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableUrl")
            .field("url", &mask_url(&self.url))
            .field("table", &self.table)
            .finish()
    }
}

/// The form a table URL takes, for messages.
pub const TABLE_URL_FORM: &str = "postgres://user[:password]@host[:port]/database?table=schema.table (the password may come from PGPASSWORD)";

impl TableUrl {
    /// Read a table URL; `password` (the value of `PGPASSWORD`) is used when the URL has a
    /// user but no password. The user's fault when the URL names no table.
    pub fn parse(text: &str, password: Option<&str>) -> Result<TableUrl> {
        let text = text.trim();
        if !is_url(text) {
            return Err(DataError::Source(format!(
                "`{}` is not a PostgreSQL URL; expected {TABLE_URL_FORM}",
                mask_url(text)
            )));
        }
        let (base, fragment) = match text.find('#') {
            Some(i) => (&text[..i], &text[i..]),
            None => (text, ""),
        };
        let (head, query) = match base.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (base, None),
        };
        let mut table = None;
        let mut kept = Vec::new();
        for param in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = param.split_once('=').unwrap_or((param, ""));
            if k == "table" {
                if table.is_some() {
                    return Err(DataError::Source(format!(
                        "{}: `table` is given twice; expected {TABLE_URL_FORM}",
                        mask_url(text)
                    )));
                }
                table = Some(percent_decode(v).unwrap_or_else(|| v.to_string()));
            } else {
                kept.push(param);
            }
        }
        let Some(table) = table.filter(|t| !t.trim().is_empty()) else {
            return Err(DataError::Source(format!(
                "{} names no table: add `?table=schema.table`; expected {TABLE_URL_FORM}",
                mask_url(text)
            )));
        };
        let mut url = head.to_string();
        if !kept.is_empty() {
            url.push('?');
            url.push_str(&kept.join("&"));
        }
        url.push_str(fragment);
        Ok(TableUrl {
            url: with_password(&url, password),
            table,
        })
    }

    /// A source for this table, named `name` (its `url_env` is empty: the URL is here).
    pub fn source(&self, name: &str) -> SourceDecl {
        let mut decl = SourceDecl::file(name, &self.table);
        decl.postgres = Some(PgSourceDecl {
            url_env: String::new(),
            table: self.table.clone(),
        });
        decl
    }
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

    fn data_type(&self, c: &str) -> DataType {
        self.schema
            .field_with_name(c)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null)
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
    /// The server's own message, scrubbed.
    fn message(&self, e: &tokio_postgres::Error) -> String {
        scrub(&server_message(e), &self.url)
    }

    fn err(&self, what: &str, e: &tokio_postgres::Error) -> DataError {
        DataError::Source(scrub(&format!("{what}: {}", self.message(e)), &self.url))
    }

    async fn query(&self, what: &str, q: &str) -> Result<Vec<Row>> {
        self.client
            .query(q, &[])
            .await
            .map_err(|e| self.err(what, &e))
    }
}

/// The server's own message (with detail), which says more than "db error".
fn server_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{}: {d}", db.message()),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    }
}

async fn connect(decl: &SourceDecl, url: &str) -> Result<Conn> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(|e| {
        DataError::Source(scrub(
            &format!(
                "source `{}`: cannot connect to {}: {}",
                decl.name,
                mask_url(url),
                server_message(&e)
            ),
            url,
        ))
    })?;
    // The connection task ends when the client is dropped.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let conn = Conn {
        client,
        url: url.to_string(),
    };
    // tollgate only reads: a condition or filter cannot change the data, whatever it calls.
    conn.client
        .batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        .await
        .map_err(|e| conn.err(&format!("source `{}`", decl.name), &e))?;
    Ok(conn)
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
    /// Metrics of the suite's one aggregate query (its filter applied).
    metrics: Vec<Metric>,
    /// A query of its own (one row of values) for checks over groups or table statistics.
    own_query: Option<String>,
    /// The exact unexpected count of a uniqueness check, run when it fails.
    exact_count: Option<String>,
    /// Predicate selecting failing rows (for samples).
    failing: Option<String>,
    /// The relation failing rows come from when it is not the table (already filtered).
    rows: Option<String>,
    /// Columns shown in samples after the id columns.
    show: Vec<String>,
}

fn unsupported(decl: &CheckDecl) -> Unfit {
    Unfit(format!("`{}` is {NOT_SUPPORTED}", decl.check))
}

/// The columns a check reads.
fn columns_read(decl: &CheckDecl) -> Vec<&str> {
    let mut cols: Vec<&str> = decl.column.iter().map(String::as_str).collect();
    match &decl.kind {
        CheckKind::CompoundUnique(cs)
        | CheckKind::UniqueWithinRecord(cs)
        | CheckKind::EqualWithinRecord(cs) => cols.extend(cs.iter().map(String::as_str)),
        CheckKind::SumEquals { columns, .. } => cols.extend(columns.iter().map(String::as_str)),
        CheckKind::Compare { left, right, .. } | CheckKind::PairInSet { left, right, .. } => {
            cols.push(left);
            cols.push(right);
        }
        _ => {}
    }
    cols
}

/// The table's columns a piece of PostgreSQL SQL names (unquoted names fold to lower case, as
/// PostgreSQL folds them), in table order: the columns a `condition`'s samples show.
fn columns_in(sql_text: &str, t: &Table) -> Vec<String> {
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql_text).tokenize() else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for token in tokens {
        if let Token::Word(w) = token {
            let name = if w.quote_style.is_some() {
                w.value
            } else {
                w.value.to_lowercase()
            };
            if t.schema.field_with_name(&name).is_ok() && !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found.sort_by_key(|c| t.schema.index_of(c).unwrap_or(usize::MAX));
    found
}

/// The predicate of the first metric (the rows a multi-column check considers, GX's
/// `ignore_row_if`): plain SQL, the same in both dialects.
fn element_of(metrics: &[Metric], decl: &CheckDecl) -> std::result::Result<String, Unfit> {
    match metrics.first() {
        Some(Metric::CountWhere(e)) => Ok(e.clone()),
        _ => Err(unsupported(decl)),
    }
}

/// Plan a check: the shared planner validates it (missing columns, literal types) and picks the
/// metrics; predicates that are not plain SQL are rewritten in PostgreSQL's dialect. A check's
/// `filter` is PostgreSQL SQL: each of its aggregates gets `FILTER (WHERE ...)`, its failing
/// rows and its own queries read only the rows where it holds.
fn plan(decl: &CheckDecl, t: &Table) -> std::result::Result<PgPlanned, Unfit> {
    match &decl.kind {
        CheckKind::Increasing { .. } | CheckKind::Decreasing { .. } => {
            return Err(Unfit(format!(
                "`{}` is not supported on PostgreSQL: the rows of a table have no order",
                decl.check
            )));
        }
        // tollgate's own parsers (formats, dates, JSON, JSON Schema) have no PostgreSQL twin.
        CheckKind::DateFormat(_)
        | CheckKind::DateParseable
        | CheckKind::JsonParseable
        | CheckKind::JsonSchema(_) => return Err(unsupported(decl)),
        _ => {}
    }
    if !matches!(decl.kind, CheckKind::Type(_) | CheckKind::TypeList(_)) {
        for c in columns_read(decl) {
            if t.schema.field_with_name(c).is_ok() && arrow_type(t.udt(c)).is_none() {
                return Err(Unfit(format!(
                    "`{}` on column `{c}` of PostgreSQL type {} is {NOT_SUPPORTED}",
                    decl.check,
                    t.udt(c)
                )));
            }
        }
    }
    let p = check::plan(decl, &t.schema, None)?;
    // The rows the check reads, for its own queries.
    let from = match &decl.filter {
        Some(f) => format!("(SELECT * FROM {} WHERE ({f}\n)) AS __tg_t", t.sql),
        None => t.sql.clone(),
    };
    let col = decl.column.clone().unwrap_or_default();
    let dt = t.data_type(&col);
    let c = ident(&col);
    let mut out = PgPlanned {
        metrics: p.metrics,
        own_query: None,
        exact_count: None,
        failing: None,
        rows: None,
        show: p.show,
    };
    let value_check = |out: &mut PgPlanned, bad: String| {
        out.metrics = vec![
            Metric::NonNull(col.clone()),
            Metric::CountWhere(bad.clone()),
        ];
        out.failing = Some(bad);
        out.show = vec![col.clone()];
    };
    let text = |c: &str| format!("CAST({} AS TEXT)", ident(c));
    match &decl.kind {
        // Metrics and predicates of plain SQL, the same in both dialects.
        CheckKind::RowCount(_)
        | CheckKind::ColumnCount(_)
        | CheckKind::Columns { .. }
        | CheckKind::ColumnExists { .. }
        | CheckKind::Type(_)
        | CheckKind::TypeList(_)
        | CheckKind::NullFraction(_)
        | CheckKind::NonNullFraction(_)
        | CheckKind::NotNull
        | CheckKind::Null
        | CheckKind::Min(_)
        | CheckKind::Max(_)
        | CheckKind::Mean(_)
        | CheckKind::Median(_)
        | CheckKind::Stdev(_)
        | CheckKind::Sum(_)
        | CheckKind::Quantiles(_)
        | CheckKind::DistinctCount(_)
        | CheckKind::UniqueFraction(_)
        | CheckKind::DistinctValues { .. }
        | CheckKind::UniqueWithinRecord(_)
        | CheckKind::EqualWithinRecord(_)
        | CheckKind::Aggregate { .. } => out.failing = p.failing,
        // The user's SQL, passed to PostgreSQL as it is.
        CheckKind::Condition(cond) => {
            out.failing = p.failing;
            out.show = columns_in(cond, t);
        }
        CheckKind::Compare { left, right, .. } => {
            let (l, r) = (t.data_type(left), t.data_type(right));
            if (sql::is_string(&l) && sql::is_numeric(&r))
                || (sql::is_numeric(&l) && sql::is_string(&r))
            {
                return Err(Unfit(format!(
                    "`{}` of a text column with a numeric one is {NOT_SUPPORTED}",
                    decl.check
                )));
            }
            out.failing = p.failing;
        }
        CheckKind::Unique => {
            let repeated = format!(
                "{c} IN (SELECT {c} FROM {from} WHERE {c} IS NOT NULL GROUP BY {c} HAVING count(*) > 1)"
            );
            out.exact_count = Some(format!("SELECT count(*) FROM {from} WHERE {repeated}"));
            out.failing = Some(repeated);
            out.rows = Some(from.clone());
        }
        CheckKind::CompoundUnique(cols) => {
            let element = element_of(&out.metrics, decl)?;
            let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            out.exact_count = Some(format!(
                "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM (SELECT count(*) AS n FROM {from} \
                 WHERE {element} GROUP BY {list} HAVING count(*) > 1) AS __tg_g"
            ));
            out.rows = Some(format!(
                "(SELECT *, count(*) OVER (PARTITION BY {list}) AS __tg_dups FROM {from} WHERE {element}) AS __tg_w"
            ));
            out.failing = Some("__tg_dups > 1".into());
        }
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
                format!("{negate}({} ~ {})", text(&col), pg_string(re)),
            );
        }
        CheckKind::RegexList {
            patterns,
            all,
            negate,
        }
        | CheckKind::Like {
            patterns,
            all,
            negate,
        } => {
            let op = if matches!(decl.kind, CheckKind::Like { .. }) {
                "LIKE"
            } else {
                "~"
            };
            let tests: Vec<String> = patterns
                .iter()
                .map(|pat| format!("{} {op} {}", text(&col), pg_string(pat)))
                .collect();
            // `negate`: a value matching any of the patterns is unexpected.
            let joined = tests.join(if *all && !*negate { " AND " } else { " OR " });
            let bad = if *negate {
                format!("({joined})")
            } else {
                format!("NOT ({joined})")
            };
            value_check(&mut out, bad);
        }
        CheckKind::SumEquals { columns, total } => {
            let element = element_of(&out.metrics, decl)?;
            let sum = columns
                .iter()
                .map(|c| format!("CAST({} AS DOUBLE PRECISION)", ident(c)))
                .collect::<Vec<_>>()
                .join(" + ");
            let bad = format!(
                "{element} AND ({sum}) <> {}",
                pg_lit(&Scalar::Float(*total), &DataType::Float64)
            );
            out.metrics = vec![Metric::CountWhere(element), Metric::CountWhere(bad.clone())];
            out.failing = Some(bad);
        }
        CheckKind::PairInSet { left, right, pairs } => {
            let element = element_of(&out.metrics, decl)?;
            let (ldt, rdt) = (t.data_type(left), t.data_type(right));
            let one = |v: &Option<Scalar>, c: &str, dt: &DataType| match v {
                Some(v) => format!("{} = {}", ident(c), pg_lit(v, dt)),
                None => format!("{} IS NULL", ident(c)),
            };
            let any: Vec<String> = pairs
                .iter()
                .map(|(a, b)| format!("({} AND {})", one(a, left, &ldt), one(b, right, &rdt)))
                .collect();
            let inside = if any.is_empty() {
                "FALSE".to_string()
            } else {
                any.join(" OR ")
            };
            let bad = format!("{element} AND NOT coalesce({inside}, FALSE)");
            out.metrics = vec![Metric::CountWhere(element), Metric::CountWhere(bad.clone())];
            out.failing = Some(bad);
        }
        CheckKind::MostCommonInSet { .. } => {
            out.own_query = Some(format!(
                "SELECT max(n), array_agg(v) FROM (SELECT v, n, max(n) OVER () AS m FROM \
                 (SELECT {c} AS v, count(*) AS n FROM {from} WHERE {c} IS NOT NULL GROUP BY {c}) AS __tg_g) AS __tg_w \
                 WHERE n = m"
            ));
        }
        CheckKind::KlDivergence { .. } => {
            out.own_query = Some(format!(
                "SELECT array_agg(v), array_agg(n) FROM (SELECT {c} AS v, count(*) AS n FROM {from} \
                 WHERE {c} IS NOT NULL GROUP BY {c}) AS __tg_g"
            ));
        }
        CheckKind::ZScore {
            threshold,
            double_sided,
        } => {
            let x = format!("CAST({c} AS DOUBLE PRECISION)");
            // As on DataFusion, where 0/0 is NaN (PostgreSQL raises an error): with no spread,
            // every value fails the bound.
            let z = format!(
                "CASE WHEN __tg_s = 0 THEN CAST('NaN' AS DOUBLE PRECISION) ELSE ({x} - __tg_m) / __tg_s END"
            );
            let z = if *double_sided {
                format!("abs({z})")
            } else {
                z
            };
            let bad = format!(
                "{c} IS NOT NULL AND NOT ({z} < {})",
                pg_lit(&Scalar::Float(*threshold), &DataType::Float64)
            );
            let stats = format!(
                "(SELECT avg({x}) AS __tg_m, stddev_samp({x}) AS __tg_s FROM {from}) AS __tg_z"
            );
            out.own_query = Some(format!(
                "SELECT count({c}), sum(CASE WHEN {bad} THEN 1 ELSE 0 END) FROM {from} CROSS JOIN {stats}"
            ));
            out.rows = Some(format!(
                "(SELECT * FROM {from} CROSS JOIN {stats}) AS __tg_w"
            ));
            out.failing = Some(bad);
        }
        _ => return Err(unsupported(decl)),
    }
    if let Some(f) = &decl.filter {
        let f = format!("({f}\n)");
        out.metrics = out
            .metrics
            .into_iter()
            .map(|m| Metric::Filtered(Box::new(m), f.clone()))
            .collect();
        if out.rows.is_none() {
            out.failing = out.failing.map(|pred| format!("{f} AND ({pred})"));
        }
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

/// The metric as a PostgreSQL aggregate (`None`: not compiled for PostgreSQL). Results are of
/// types [`value`] reads: integers, floats, numerics, text, booleans, dates, timestamps and
/// arrays of them.
fn metric_sql(m: &Metric, t: &Table) -> Option<String> {
    match m {
        // As on DataFusion: counts over the filtered rows are sums (NULL over no rows).
        Metric::Filtered(inner, f) => match inner.as_ref() {
            Metric::RowCount => Some(format!("sum(CASE WHEN {f} THEN 1 ELSE 0 END)")),
            Metric::NonNull(c) => Some(format!(
                "sum(CASE WHEN {f} AND {} IS NOT NULL THEN 1 ELSE 0 END)",
                ident(c)
            )),
            Metric::CountWhere(p) => {
                Some(format!("sum(CASE WHEN {f} AND ({p}) THEN 1 ELSE 0 END)"))
            }
            Metric::DistinctTuple(cols, p) => aggregate_of(
                &Metric::DistinctTuple(cols.clone(), format!("{f} AND ({p})")),
                t,
                None,
            ),
            Metric::Nothing => Some("NULL".into()),
            // A user's aggregate cannot be filtered from outside its SQL.
            Metric::Sql(_) | Metric::Filtered(..) => None,
            other => aggregate_of(other, t, Some(f)),
        },
        other => aggregate_of(other, t, None),
    }
}

/// One aggregate, over the rows where `filter` holds when given.
fn aggregate_of(m: &Metric, t: &Table, filter: Option<&str>) -> Option<String> {
    let fw = filter
        .map(|f| format!(" FILTER (WHERE {f})"))
        .unwrap_or_default();
    Some(match m {
        Metric::RowCount => format!("count(*){fw}"),
        Metric::NonNull(c) => format!("count({}){fw}", ident(c)),
        Metric::CountWhere(p) => format!("sum(CASE WHEN {p} THEN 1 ELSE 0 END){fw}"),
        Metric::Min(c) | Metric::Max(c) => {
            let min = matches!(m, Metric::Min(_));
            match t.udt(c) {
                "bool" => format!(
                    "{}({}){fw}",
                    if min { "bool_and" } else { "bool_or" },
                    ident(c)
                ),
                // Byte order, as on DataFusion (not the database's collation).
                "text" | "varchar" | "bpchar" | "name" => format!(
                    "{}(CAST({} AS TEXT) COLLATE \"C\"){fw}",
                    if min { "min" } else { "max" },
                    ident(c)
                ),
                _ => format!("{}({}){fw}", if min { "min" } else { "max" }, ident(c)),
            }
        }
        Metric::Mean(c) => format!("avg({}){fw}", as_double(c, t)),
        Metric::StdDev(c) => format!("stddev_samp({}){fw}", as_double(c, t)),
        Metric::Sum(c) => format!("sum({}){fw}", as_double(c, t)),
        // Exact: numeric, read back as text.
        Metric::SumInt(c) => format!("CAST(sum(CAST({} AS NUMERIC)){fw} AS TEXT)", ident(c)),
        Metric::Median(c) => format!(
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY {}){fw}",
            as_double(c, t)
        ),
        Metric::Quantile(c, bits) => format!(
            "percentile_cont(CAST({:?} AS DOUBLE PRECISION)) WITHIN GROUP (ORDER BY {}){fw}",
            f64::from_bits(*bits),
            as_double(c, t)
        ),
        Metric::Distinct(c) => format!("count(DISTINCT {}){fw}", ident(c)),
        Metric::DistinctTuple(cols, pred) => {
            // Each value as `length:text` (`N:` for null), joined: an unambiguous text key, as
            // on DataFusion.
            let fields = cols
                .iter()
                .map(|c| {
                    let v = format!("CAST({} AS TEXT)", ident(c));
                    format!(
                        "coalesce(CAST(character_length({v}) AS TEXT), 'N'), ':', coalesce({v}, '')"
                    )
                })
                .collect::<Vec<_>>()
                .join(", ',', ");
            format!("count(DISTINCT CASE WHEN {pred} THEN concat({fields}) END){fw}")
        }
        Metric::DistinctValues(c) => format!(
            "array_agg(DISTINCT {c}) FILTER (WHERE {c} IS NOT NULL{})",
            filter.map(|f| format!(" AND {f}")).unwrap_or_default(),
            c = ident(c)
        ),
        Metric::Sql(s) if filter.is_none() => format!("({s}\n)"),
        Metric::Nothing => "NULL".into(),
        Metric::Sql(_) | Metric::Filtered(..) => return None,
    })
}

/// A `numeric` value (PostgreSQL's binary form): integral ones as integers, others as floats.
struct Numeric(V);

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let word =
            |i: usize| -> std::result::Result<u16, Box<dyn std::error::Error + Sync + Send>> {
                raw.get(i..i + 2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
                    .ok_or_else(|| "a truncated numeric".into())
            };
        let ndigits = usize::from(word(0)?);
        // The weight is signed: the power of 10000 of the first digit group.
        let weight = i64::from(word(2)? as i16);
        let sign = word(4)?;
        let dscale = usize::from(word(6)?);
        match sign {
            0xC000 => return Ok(Numeric(V::Float(f64::NAN))),
            0xD000 => return Ok(Numeric(V::Float(f64::INFINITY))),
            0xF000 => return Ok(Numeric(V::Float(f64::NEG_INFINITY))),
            _ => {}
        }
        let digits = (0..ndigits)
            .map(|k| word(8 + 2 * k))
            .collect::<std::result::Result<Vec<u16>, _>>()?;
        let group = |k: i64| -> u16 {
            usize::try_from(k)
                .ok()
                .and_then(|k| digits.get(k).copied())
                .unwrap_or(0)
        };
        let mut int = String::new();
        for k in 0..=weight {
            if int.is_empty() {
                int = group(k).to_string();
            } else {
                int.push_str(&format!("{:04}", group(k)));
            }
        }
        if int.is_empty() {
            int.push('0');
        }
        let mut frac = String::new();
        let mut k = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", group(k)));
            k += 1;
        }
        frac.truncate(dscale);
        let minus = if sign == 0x4000 { "-" } else { "" };
        if frac.is_empty() {
            let text = format!("{minus}{int}");
            if let Ok(i) = text.parse::<i128>() {
                return Ok(Numeric(V::Int(i)));
            }
            return Ok(Numeric(V::Float(text.parse::<f64>()?)));
        }
        Ok(Numeric(V::Float(
            format!("{minus}{int}.{frac}").parse::<f64>()?,
        )))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// One value of type `T` (`None`: null, or not readable as `T`).
fn one<'a, T: FromSql<'a>>(row: &'a Row, i: usize, f: impl Fn(T) -> V) -> V {
    match row.try_get::<_, Option<T>>(i) {
        Ok(Some(x)) => f(x),
        _ => V::Null,
    }
}

/// An array of `T` as a list.
fn list<'a, T: FromSql<'a>>(row: &'a Row, i: usize, f: impl Fn(T) -> V) -> V {
    match row.try_get::<_, Option<Vec<Option<T>>>>(i) {
        Ok(Some(items)) => V::List(
            items
                .into_iter()
                .map(|x| x.map(&f).unwrap_or(V::Null))
                .collect(),
        ),
        _ => V::Null,
    }
}

/// Read one value of a result row as the engine-independent value.
fn value(row: &Row, i: usize, int_text: bool) -> V {
    let ty = row.columns()[i].type_().clone();
    let utc = |t: chrono::DateTime<chrono::Utc>| V::Time(t.naive_utc());
    match ty {
        Type::INT2 => one(row, i, |x: i16| V::Int(x.into())),
        Type::INT4 => one(row, i, |x: i32| V::Int(x.into())),
        Type::INT8 => one(row, i, |x: i64| V::Int(x.into())),
        Type::FLOAT4 => one(row, i, |x: f32| V::Float(x.into())),
        Type::FLOAT8 => one(row, i, V::Float),
        Type::NUMERIC => one(row, i, |x: Numeric| x.0),
        Type::BOOL => one(row, i, V::Bool),
        Type::DATE => one(row, i, V::Date),
        Type::TIMESTAMP => one(row, i, V::Time),
        Type::TIMESTAMPTZ => one(row, i, utc),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            one(row, i, |s: String| match s.parse::<i128>() {
                Ok(x) if int_text => V::Int(x),
                _ => V::Str(s),
            })
        }
        Type::INT2_ARRAY => list(row, i, |x: i16| V::Int(x.into())),
        Type::INT4_ARRAY => list(row, i, |x: i32| V::Int(x.into())),
        Type::INT8_ARRAY => list(row, i, |x: i64| V::Int(x.into())),
        Type::FLOAT4_ARRAY => list(row, i, |x: f32| V::Float(x.into())),
        Type::FLOAT8_ARRAY => list(row, i, V::Float),
        Type::BOOL_ARRAY => list(row, i, V::Bool),
        Type::DATE_ARRAY => list(row, i, V::Date),
        Type::TIMESTAMP_ARRAY => list(row, i, V::Time),
        Type::TIMESTAMPTZ_ARRAY => list(row, i, utc),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY | Type::NAME_ARRAY => {
            list(row, i, V::Str)
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

/// Run suites on a PostgreSQL source, connecting with the URL in its `url_env` (and the
/// password in `PGPASSWORD` when the URL has none).
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
    let url = with_password(&url, std::env::var(PASSWORD_ENV).ok().as_deref());
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

fn read_row(row: &Row, metrics: &[Metric]) -> Vec<V> {
    metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let int_text = match m {
                Metric::SumInt(_) => true,
                Metric::Filtered(inner, _) => matches!(inner.as_ref(), Metric::SumInt(_)),
                _ => false,
            };
            value(row, i, int_text)
        })
        .collect()
}

async fn aggregate(conn: &Conn, metrics: &[Metric], t: &Table) -> Result<Vec<V>> {
    let rows = conn
        .query("the aggregate query failed", &aggregate_sql(metrics, t))
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| DataError::Internal("the aggregate query returned no row".into()))?;
    Ok(read_row(row, metrics))
}

/// Why a check's SQL failed, said on that check: its filter rejected, its user SQL invalid
/// (SQLSTATE class 42: syntax, unknown names, types), or a failure while running (class 22:
/// a division by zero, a bad cast...).
async fn check_error(
    conn: &Conn,
    t: &Table,
    decl: &CheckDecl,
    e: &tokio_postgres::Error,
) -> String {
    if let Some(f) = &decl.filter {
        let q = format!("SELECT count(*) FROM {} WHERE ({f}\n)", t.sql);
        if let Err(fe) = conn.client.query(&q, &[]).await {
            return format!(
                "`{}`: PostgreSQL rejects its filter `{f}`: {}",
                decl.check,
                conn.message(&fe)
            );
        }
    }
    let text = conn.message(e);
    let invalid = e.code().is_some_and(|c| c.code().starts_with("42"));
    match &decl.kind {
        CheckKind::Condition(s) if invalid => format!("invalid SQL condition `{s}`: {text}"),
        CheckKind::Aggregate { sql, .. } if invalid => {
            format!("invalid SQL aggregate `{sql}`: {text}")
        }
        _ => format!("`{}` failed while running: {text}", decl.check),
    }
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
            // Find the checks whose SQL fails (a bad regex, condition or filter...): each alone.
            aggregate(conn, &[Metric::RowCount], t).await?;
            for (p, decl) in planned.iter_mut().zip(&suite.checks) {
                if let Ok(plan) = p {
                    let mut alone = vec![Metric::RowCount];
                    alone.extend(plan.metrics.iter().cloned());
                    if let Err(err) = conn.client.query(&aggregate_sql(&alone, t), &[]).await {
                        *p = Err(check_error(conn, t, decl, &err).await);
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
        if let Some(q) = &p.own_query {
            match conn.client.query(q, &[]).await {
                Ok(rows) => {
                    vals = rows
                        .first()
                        .map(|r| (0..r.len()).map(|i| value(r, i, false)).collect())
                        .unwrap_or_default();
                }
                Err(e) => {
                    findings.push(error_finding(decl, check_error(conn, t, decl, &e).await));
                    continue;
                }
            }
        }
        let mut f = check::judge(decl, &vals, &t.schema, None);
        if let Some(q) = &p.exact_count
            && f.unexpected_count.unwrap_or(0) > 0
        {
            exact_count(conn, q, decl, &mut f).await;
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

/// Uniqueness judged from distinct counts knows a lower bound; count every repeated row.
async fn exact_count(conn: &Conn, q: &str, decl: &CheckDecl, f: &mut Finding) {
    let Ok(rows) = conn.query("counting repeated values", q).await else {
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
    let Some(pred) = &p.failing else { return };
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
        p.rows.as_deref().unwrap_or(&t.sql),
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
    fn a_table_url_names_its_table_and_keeps_other_parameters() {
        let u = TableUrl::parse(
            "postgres://u:pw@h:5432/db?sslmode=disable&table=sales.orders&application_name=x",
            None,
        )
        .map_err(|e| e.to_string());
        assert_eq!(
            u,
            Ok(TableUrl {
                url: "postgres://u:pw@h:5432/db?sslmode=disable&application_name=x".into(),
                table: "sales.orders".into(),
            })
        );
        let u = TableUrl::parse("postgresql://u@h/db?table=my%20schema.t", None)
            .map_err(|e| e.to_string());
        assert_eq!(
            u.map(|u| (u.url, u.table)),
            Ok(("postgresql://u@h/db".into(), "my schema.t".into()))
        );
    }

    #[test]
    fn a_table_url_without_a_table_says_the_form_and_masks_the_password() {
        for url in [
            "postgres://u:s3cret@h/db",
            "postgres://u:s3cret@h/db?sslmode=disable",
            "postgres://u:s3cret@h/db?table=",
        ] {
            let msg = TableUrl::parse(url, None)
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            assert!(msg.contains("?table=schema.table"), "{msg}");
            assert!(!msg.contains("s3cret") && msg.contains("u:***@h"), "{msg}");
        }
        let twice = TableUrl::parse("postgres://u@h/db?table=a&table=b", None);
        assert!(twice.is_err());
        let msg = format!(
            "{:?}",
            TableUrl::parse("postgres://u:s3cret@h/db?table=t", None)
        );
        assert!(!msg.contains("s3cret"), "{msg}");
    }

    #[test]
    fn the_password_comes_from_pgpassword_when_the_url_has_none() {
        let pw = Some("p@ss w:rd/");
        assert_eq!(
            with_password("postgres://u@h/db", pw),
            "postgres://u:p%40ss%20w%3Ard%2F@h/db"
        );
        assert_eq!(
            with_password("postgres://u:@h/db", pw),
            "postgres://u:p%40ss%20w%3Ard%2F@h/db"
        );
        // A password in the URL wins; without a user there is nothing to attach it to.
        assert_eq!(
            with_password("postgres://u:x@h/db", pw),
            "postgres://u:x@h/db"
        );
        assert_eq!(with_password("postgres://h/db", pw), "postgres://h/db");
        assert_eq!(
            with_password("postgres://u@h/db", None),
            "postgres://u@h/db"
        );
        let url = with_password("postgres://u@h/db", pw);
        let msg = scrub(
            &format!("cannot connect to {url} as u with p@ss w:rd/"),
            &url,
        );
        assert!(!msg.contains("p@ss") && !msg.contains("p%40ss"), "{msg}");
    }

    #[test]
    fn numerics_read_from_their_binary_form() {
        // ndigits, weight, sign, dscale, digits (base 10000).
        let num = |w: &[u16]| {
            let raw: Vec<u8> = w.iter().flat_map(|x| x.to_be_bytes()).collect();
            Numeric::from_sql(&Type::NUMERIC, &raw).map(|n| n.0).ok()
        };
        // 12345678 = 1234|5678, weight 1.
        assert_eq!(num(&[2, 1, 0, 0, 1234, 5678]), Some(V::Int(12_345_678)));
        // -0.05 = 0.0500, weight -1, dscale 2.
        assert_eq!(num(&[1, 0xFFFF, 0x4000, 2, 500]), Some(V::Float(-0.05)));
        // 12.34567, dscale 5.
        assert_eq!(num(&[3, 0, 0, 5, 12, 3456, 7000]), Some(V::Float(12.34567)));
        // 20000 (trailing zero groups are not stored).
        assert_eq!(num(&[1, 1, 0, 0, 2]), Some(V::Int(20_000)));
        assert_eq!(num(&[0, 0, 0, 0]), Some(V::Int(0)));
        assert!(matches!(num(&[0, 0, 0xC000, 0]), Some(V::Float(f)) if f.is_nan()));
        assert_eq!(num(&[2, 0]), None);
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
