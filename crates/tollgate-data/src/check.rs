//! Checks at run time: each declared check asks for metrics (and, when it fails, a predicate
//! that selects its failing rows), then judges the metric values. A check never reads data.

use datafusion::arrow::datatypes::{DataType, Schema};
use serde_json::{Value as Json, json};
use tollgate_core::diag::suggest;
use tollgate_core::plan::{CompareOp, SetMode};
use tollgate_core::{Bound, CheckDecl, CheckKind, Finding, Scalar, Status};

use crate::metric::Metric;
use crate::sql::{self, ident, lit};
use crate::value::{V, within};

/// Name of the row-number column in sample queries.
pub const ROW: &str = "__tg_row";
/// Name of the window count column used by uniqueness samples.
pub const DUPS: &str = "__tg_dups";

/// How a check gets its numbers and its failing rows.
#[derive(Debug, Clone, Default)]
pub struct Planned {
    /// Metrics from the shared one-scan aggregate.
    pub metrics: Vec<Metric>,
    /// A query of its own (one row of values) for checks that need order or grouping.
    pub own_query: Option<String>,
    /// The own query in a form whose memory stays bounded (sorts, which spill, instead of a
    /// window over every group), used by engines with a memory limit; `None` when the same.
    pub own_query_bounded: Option<String>,
    /// Predicate over the row-numbered source that selects failing rows.
    pub failing: Option<String>,
    /// Window expression the failing predicate needs (as `DUPS`).
    pub window: Option<String>,
    /// A query for the exact unexpected count, run only when the check fails.
    pub exact_count: Option<String>,
    /// Columns shown in samples (after the id columns).
    pub show: Vec<String>,
    /// Columns the failing predicate reads, when more than `show`.
    pub needs: Vec<String>,
    /// Own query runs on the ordered (single-partition) session.
    pub ordered: bool,
    /// The relation failing rows are selected from, when not the row-numbered source
    /// (it may refer to `numbered`).
    pub failing_from: Option<String>,
}

/// A column pinned by a `type:` check on a CSV source.
#[derive(Debug, Clone, Copy)]
pub struct Pin<'a> {
    /// The SQL type it is read as.
    pub sql_type: &'a str,
    /// Read as text and converted in a view (bad values counted), or read as the type.
    pub text: bool,
}

/// A check that cannot be evaluated on this data: becomes a finding with status `error`.
pub struct Unfit(pub String);

fn column<'a>(schema: &'a Schema, name: &str) -> Result<&'a DataType, Unfit> {
    match schema.field_with_name(name) {
        Ok(f) => Ok(f.data_type()),
        Err(_) => Err(missing_column(schema, name)),
    }
}

/// The message for a column the data lacks: the columns it has and the nearest name.
pub fn missing_column(schema: &Schema, name: &str) -> Unfit {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut msg = format!(
        "column `{name}` is not in the data; its columns are: {}",
        names.join(", ")
    );
    if let Some(s) = suggest(name, names.iter().copied()) {
        msg.push_str(&format!(" (did you mean `{s}`?)"));
    }
    Unfit(msg)
}

fn string_only(check: &str, name: &str, dt: &DataType) -> Result<(), Unfit> {
    if sql::is_string(dt) || dt.is_null() {
        Ok(())
    } else {
        Err(Unfit(format!(
            "`{check}` applies to string columns; `{name}` is {}",
            sql::type_name(dt)
        )))
    }
}

/// A string column as text for string functions: dictionaries and all-null columns are cast;
/// plain strings are used as they are (a cast would copy every value).
fn text(c: &str, dt: &DataType) -> String {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ident(c),
        _ => format!("CAST({} AS VARCHAR)", ident(c)),
    }
}

fn in_list(values: &[Scalar], dt: &DataType) -> String {
    values
        .iter()
        .map(|v| lit(v, dt))
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQL predicate: TRUE when a non-null value is outside the bound.
fn outside(c: &str, b: &Bound, dt: &DataType) -> String {
    let mut parts = Vec::new();
    if let Some(min) = &b.min {
        parts.push(format!(
            "{c} {} {}",
            if b.strict_min { "<=" } else { "<" },
            lit(min, dt)
        ));
    }
    if let Some(max) = &b.max {
        parts.push(format!(
            "{c} {} {}",
            if b.strict_max { ">=" } else { ">" },
            lit(max, dt)
        ));
    }
    if sql::is_float(dt) {
        parts.push(format!("isnan({c})"));
    }
    if parts.is_empty() {
        return "FALSE".into();
    }
    format!("({})", parts.join(" OR "))
}

/// Plan a check against a schema.
pub fn plan(decl: &CheckDecl, schema: &Schema, pinned: Option<Pin<'_>>) -> Result<Planned, Unfit> {
    let mut p = Planned::default();
    let col = decl.column.as_deref();
    let value_check = |p: &mut Planned, name: &str, bad: String| {
        p.metrics = vec![
            Metric::NonNull(name.to_string()),
            Metric::CountWhere(bad.clone()),
        ];
        p.failing = Some(bad);
        p.show = vec![name.to_string()];
    };
    match &decl.kind {
        CheckKind::RowCount(_) => p.metrics = vec![Metric::RowCount],
        CheckKind::ColumnCount(_) | CheckKind::Columns { .. } => {}
        CheckKind::Type(name) => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            if sql::type_rule(name).is_none() {
                let mut msg = format!(
                    "unknown type `{name}`; types: {}",
                    sql::TYPE_NAMES.join(", ")
                );
                if let Some(s) = suggest(name, sql::TYPE_NAMES.iter().copied()) {
                    msg.push_str(&format!(" (did you mean `{s}`?)"));
                }
                return Err(Unfit(msg));
            }
            if pinned.is_some_and(|p| !p.text) {
                // Read as the pinned type: every non-null value converted, or the scan failed
                // (and the suite was rerun with text pins).
                p.metrics = vec![Metric::NonNull(c.to_string()), Metric::Nothing];
            } else if pinned.is_some() {
                let raw = raw_name(c);
                let bad = format!("{} IS NOT NULL AND {} IS NULL", ident(&raw), ident(c));
                p.metrics = vec![
                    Metric::NonNull(raw.clone()),
                    Metric::CountWhere(bad.clone()),
                ];
                p.failing = Some(bad);
                p.needs = vec![raw.clone(), c.to_string()];
                p.show = vec![raw];
            }
        }
        CheckKind::NotNull => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.metrics = vec![Metric::RowCount, Metric::NonNull(null_source(schema, c))];
            p.failing = Some(format!("{} IS NULL", ident(c)));
            p.show = vec![c.into()];
        }
        CheckKind::NullFraction(_) => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.metrics = vec![Metric::RowCount, Metric::NonNull(null_source(schema, c))];
        }
        CheckKind::Unique => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.metrics = vec![Metric::NonNull(c.into()), Metric::Distinct(c.into())];
            p.window = Some(format!("count(*) OVER (PARTITION BY {})", ident(c)));
            p.failing = Some(format!("{} IS NOT NULL AND {DUPS} > 1", ident(c)));
            p.exact_count = Some(format!(
                "SELECT sum(n) FROM (SELECT count(*) AS n FROM {{from}} WHERE {c} IS NOT NULL GROUP BY {c} HAVING count(*) > 1)",
                c = ident(c)
            ));
            p.show = vec![c.into()];
        }
        CheckKind::CompoundUnique(cols) => {
            for c in cols {
                column(schema, c)?;
            }
            let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            let element = considered(
                cols,
                decl.ignore_row_if
                    .as_deref()
                    .unwrap_or("all_values_are_missing"),
            )?;
            p.metrics = vec![
                Metric::CountWhere(element.clone()),
                Metric::DistinctTuple(cols.clone(), element.clone()),
            ];
            p.window = Some(format!("count(*) OVER (PARTITION BY {list})"));
            p.failing = Some(format!("{element} AND {DUPS} > 1"));
            p.exact_count = Some(format!(
                "SELECT sum(n) FROM (SELECT count(*) AS n FROM {{from}} WHERE {element} GROUP BY {list} HAVING count(*) > 1)"
            ));
            p.show = cols.clone();
        }
        CheckKind::Between(b) => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            for v in [&b.min, &b.max].into_iter().flatten() {
                check_literal(v, dt, c)?;
            }
            value_check(&mut p, c, outside(&ident(c), b, dt));
        }
        CheckKind::InSet(values) | CheckKind::NotInSet(values) => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            for v in values {
                check_literal(v, dt, c)?;
            }
            let negate = matches!(decl.kind, CheckKind::InSet(_));
            let bad = if values.is_empty() {
                if negate {
                    format!("{} IS NOT NULL", ident(c))
                } else {
                    "FALSE".to_string()
                }
            } else {
                format!(
                    "{} {}IN ({})",
                    ident(c),
                    if negate { "NOT " } else { "" },
                    in_list(values, dt)
                )
            };
            value_check(&mut p, c, bad);
        }
        CheckKind::Matches(re) | CheckKind::NotMatches(re) => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            string_only(decl.check, c, dt)?;
            let negate = if matches!(decl.kind, CheckKind::Matches(_)) {
                "NOT "
            } else {
                ""
            };
            value_check(
                &mut p,
                c,
                format!(
                    "{negate}regexp_like({}, {})",
                    text(c, dt),
                    sql::string_lit(re)
                ),
            );
        }
        CheckKind::Length(b) => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            string_only("length", c, dt)?;
            if let Some(v) = [&b.min, &b.max]
                .into_iter()
                .flatten()
                .find(|v| v.as_f64().is_none())
            {
                return Err(Unfit(format!(
                    "`length` bounds are numbers of characters, found {v}"
                )));
            }
            value_check(
                &mut p,
                c,
                outside(
                    &format!("character_length({})", text(c, dt)),
                    b,
                    &DataType::Int64,
                ),
            );
        }
        CheckKind::DateFormat(fmt) => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            string_only("date_format", c, dt)?;
            crate::udf::validate_format(fmt).map_err(Unfit)?;
            value_check(
                &mut p,
                c,
                format!(
                    "NOT tg_parses_datetime(CAST({} AS VARCHAR), {})",
                    ident(c),
                    sql::string_lit(fmt)
                ),
            );
        }
        CheckKind::Increasing { strict } | CheckKind::Decreasing { strict } => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            if !(sql::is_numeric(dt) || sql::is_temporal(dt) || sql::is_string(dt) || dt.is_null())
            {
                return Err(Unfit(format!(
                    "`{}` needs an ordered type; `{c}` is {}",
                    decl.check,
                    sql::type_name(dt)
                )));
            }
            let up = matches!(decl.kind, CheckKind::Increasing { .. });
            let op = match (up, strict) {
                (true, false) => "<",
                (true, true) => "<=",
                (false, false) => ">",
                (false, true) => ">=",
            };
            let bad = format!("__tg_prev IS NOT NULL AND {} {op} __tg_prev", ident(c));
            let inner = format!(
                "SELECT *, lag({c}) OVER (ORDER BY {ROW}) AS __tg_prev FROM numbered WHERE {c} IS NOT NULL",
                c = ident(c)
            );
            p.own_query = Some(format!(
                "SELECT count(*), sum(CASE WHEN {bad} THEN 1 ELSE 0 END) FROM ({inner})"
            ));
            p.failing = Some(bad);
            p.failing_from = Some(inner);
            p.ordered = true;
            p.show = vec![c.into()];
        }
        CheckKind::Min(_) | CheckKind::Max(_) => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            let m = match decl.kind {
                _ if dt.is_null() => Metric::Nothing,
                CheckKind::Min(_) => Metric::Min(c.into()),
                _ => Metric::Max(c.into()),
            };
            if let CheckKind::Min(b) | CheckKind::Max(b) = &decl.kind {
                for v in [&b.min, &b.max].into_iter().flatten() {
                    check_literal(v, dt, c)?;
                }
            }
            p.metrics = vec![m];
        }
        CheckKind::Mean(_)
        | CheckKind::Median(_)
        | CheckKind::Stdev(_)
        | CheckKind::Sum(_)
        | CheckKind::Quantiles(_) => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            if !sql::is_numeric(dt) && !matches!(dt, DataType::Boolean | DataType::Null) {
                return Err(Unfit(format!(
                    "`{}` needs a numeric column; `{c}` is {}",
                    decl.check,
                    sql::type_name(dt)
                )));
            }
            let cc = c.to_string();
            if dt.is_null() {
                let n = if let CheckKind::Quantiles(qs) = &decl.kind {
                    qs.len()
                } else {
                    1
                };
                p.metrics = vec![Metric::Nothing; n];
                return Ok(p);
            }
            p.metrics = match &decl.kind {
                CheckKind::Mean(_) => vec![Metric::Mean(cc)],
                CheckKind::Median(_) => vec![Metric::Median(cc)],
                CheckKind::Stdev(_) => vec![Metric::StdDev(cc)],
                CheckKind::Sum(_) if dt.is_integer() => vec![Metric::SumInt(cc)],
                CheckKind::Sum(_) => vec![Metric::Sum(cc)],
                CheckKind::Quantiles(qs) => qs
                    .iter()
                    .map(|(q, _)| Metric::Quantile(cc.clone(), q.to_bits()))
                    .collect(),
                _ => vec![],
            };
        }
        CheckKind::DistinctCount(_) | CheckKind::UniqueFraction(_) => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.metrics = vec![Metric::NonNull(c.into()), Metric::Distinct(c.into())];
        }
        CheckKind::DistinctValues { values, .. } => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            for v in values {
                check_literal(v, dt, c)?;
            }
            p.metrics = vec![Metric::DistinctValues(c.into())];
        }
        CheckKind::MostCommonInSet { .. } => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.own_query = Some(format!(
                "SELECT max(n), array_agg(v) FROM (SELECT v, n, max(n) OVER () AS m FROM \
                 (SELECT {c} AS v, count(*) AS n FROM {{from}} WHERE {c} IS NOT NULL GROUP BY {c})) WHERE n = m",
                c = ident(c)
            ));
            p.own_query_bounded = Some(format!(
                "SELECT max(n), array_agg(v) FROM (SELECT v, n, rank() OVER (ORDER BY n DESC) AS r FROM \
                 (SELECT {c} AS v, count(*) AS n FROM {{from}} WHERE {c} IS NOT NULL GROUP BY {c})) WHERE r = 1",
                c = ident(c)
            ));
        }
        CheckKind::Compare { left, op, right } => {
            column(schema, left)?;
            column(schema, right)?;
            let (l, r) = (ident(left), ident(right));
            // As Great Expectations (ignore_row_if = both_values_are_missing by default): a row
            // where one side is null is unexpected; rows where both are null are ignored.
            let cols = [left.clone(), right.clone()];
            let element = considered(
                &cols,
                decl.ignore_row_if
                    .as_deref()
                    .unwrap_or("both_values_are_missing"),
            )?;
            // Text against numbers (a mixed column read as text): text that is a number compares as
            // that number, other text is unequal (as Python compares 1 with "abc").
            let (ldt, rdt) = (column(schema, left)?, column(schema, right)?);
            let (l, r) = if sql::is_string(ldt) && sql::is_numeric(rdt) {
                (
                    format!("try_cast({l} AS DOUBLE)"),
                    format!("CAST({r} AS DOUBLE)"),
                )
            } else if sql::is_numeric(ldt) && sql::is_string(rdt) {
                (
                    format!("CAST({l} AS DOUBLE)"),
                    format!("try_cast({r} AS DOUBLE)"),
                )
            } else {
                (l, r)
            };
            let bad = format!("{element} AND NOT coalesce({l} {} {r}, FALSE)", op.sql());
            p.metrics = vec![Metric::CountWhere(element), Metric::CountWhere(bad.clone())];
            p.failing = Some(bad);
            p.show = vec![left.clone(), right.clone()];
        }
        CheckKind::SumEquals { columns, total } => {
            for c in columns {
                let dt = column(schema, c)?;
                if !sql::is_numeric(dt) {
                    return Err(Unfit(format!(
                        "`sum_equals` needs numeric columns; `{c}` is {}",
                        sql::type_name(dt)
                    )));
                }
            }
            let element = columns
                .iter()
                .map(|c| format!("{} IS NOT NULL", ident(c)))
                .collect::<Vec<_>>()
                .join(" AND ");
            let sum = columns
                .iter()
                .map(|c| format!("CAST({} AS DOUBLE)", ident(c)))
                .collect::<Vec<_>>()
                .join(" + ");
            let bad = format!(
                "{element} AND ({sum}) <> {}",
                lit(&Scalar::Float(*total), &DataType::Float64)
            );
            p.metrics = vec![Metric::CountWhere(element), Metric::CountWhere(bad.clone())];
            p.failing = Some(bad);
            p.show = columns.clone();
        }
        CheckKind::Condition(cond) => {
            let element = format!("({cond}\n) IS NOT NULL");
            let bad = format!("NOT ({cond}\n)");
            p.metrics = vec![Metric::CountWhere(element), Metric::CountWhere(bad.clone())];
            p.failing = Some(bad);
        }
        CheckKind::Aggregate { sql, .. } => p.metrics = vec![Metric::Sql(sql.clone())],
        CheckKind::ColumnExists { .. } => {}
        CheckKind::Null => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.metrics = vec![Metric::RowCount, Metric::NonNull(c.into())];
            p.failing = Some(format!("{} IS NOT NULL", ident(c)));
            p.show = vec![c.into()];
        }
        CheckKind::NonNullFraction(_) => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.metrics = vec![Metric::RowCount, Metric::NonNull(null_source(schema, c))];
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
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            string_only(decl.check, c, dt)?;
            let like = matches!(decl.kind, CheckKind::Like { .. });
            let tests: Vec<String> = patterns
                .iter()
                .map(|pat| {
                    if like {
                        format!("{} LIKE {}", text(c, dt), sql::string_lit(pat))
                    } else {
                        format!("regexp_like({}, {})", text(c, dt), sql::string_lit(pat))
                    }
                })
                .collect();
            if tests.is_empty() {
                return Err(Unfit(format!(
                    "`{}` needs at least one pattern",
                    decl.check
                )));
            }
            // `negate`: a value matching any of the patterns is unexpected.
            let joined = tests.join(if *all && !*negate { " AND " } else { " OR " });
            let bad = if *negate {
                format!("({joined})")
            } else {
                format!("NOT ({joined})")
            };
            value_check(&mut p, c, bad);
        }
        CheckKind::DateParseable | CheckKind::JsonParseable
            if !sql::is_string(column(schema, col.unwrap_or_default())?) =>
        {
            // Only text can be parsed: every non-null value of another type is unexpected.
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            if matches!(decl.kind, CheckKind::DateParseable) && !dt.is_null() {
                return Err(Unfit(format!(
                    "values passed to `date_parseable` must be strings; `{c}` is {}",
                    sql::type_name(dt)
                )));
            }
            value_check(&mut p, c, format!("{} IS NOT NULL", ident(c)));
        }
        CheckKind::DateParseable | CheckKind::JsonParseable => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            string_only(decl.check, c, dt)?;
            let f = if matches!(decl.kind, CheckKind::JsonParseable) {
                "tg_json_valid"
            } else {
                "tg_parses_any_datetime"
            };
            value_check(&mut p, c, format!("NOT {f}(CAST({} AS VARCHAR))", ident(c)));
        }
        CheckKind::JsonSchema(json_schema) => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            string_only("json_schema", c, dt)?;
            let text = serde_json::to_string(json_schema).map_err(|e| Unfit(e.to_string()))?;
            value_check(
                &mut p,
                c,
                format!(
                    "NOT tg_json_schema(CAST({} AS VARCHAR), {})",
                    ident(c),
                    sql::string_lit(&text)
                ),
            );
        }
        CheckKind::TypeList(_) => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.metrics = vec![Metric::NonNull(c.into())];
            p.failing = Some(format!("{} IS NOT NULL", ident(c)));
            p.show = vec![c.into()];
        }
        CheckKind::ZScore {
            threshold,
            double_sided,
        } => {
            let c = col.unwrap_or_default();
            let dt = column(schema, c)?;
            if !sql::is_numeric(dt) {
                return Err(Unfit(format!(
                    "`z_score` needs a numeric column; `{c}` is {}",
                    sql::type_name(dt)
                )));
            }
            let z = format!("(CAST({} AS DOUBLE) - __tg_m) / __tg_s", ident(c));
            let z = if *double_sided {
                format!("abs({z})")
            } else {
                z
            };
            let bad = format!("{} IS NOT NULL AND NOT ({z} < {threshold:?})", ident(c));
            let stats = format!(
                "(SELECT avg(CAST({c} AS DOUBLE)) AS __tg_m, stddev_samp(CAST({c} AS DOUBLE)) AS __tg_s FROM {{from}})",
                c = ident(c)
            );
            p.own_query = Some(format!(
                "SELECT count({}), sum(CASE WHEN {bad} THEN 1 ELSE 0 END) FROM {{from}} CROSS JOIN {stats}",
                ident(c)
            ));
            p.failing = Some(bad);
            p.failing_from = Some(format!("SELECT * FROM numbered CROSS JOIN {stats}"));
            p.show = vec![c.into()];
        }
        CheckKind::PairInSet { left, right, pairs } => {
            let ldt = column(schema, left)?;
            let rdt = column(schema, right)?;
            let (l, r) = (ident(left), ident(right));
            let one = |v: &Option<Scalar>, c: &str, dt: &DataType| match v {
                Some(v) => format!("{c} = {}", lit(v, dt)),
                None => format!("{c} IS NULL"),
            };
            let any: Vec<String> = pairs
                .iter()
                .map(|(a, b)| format!("({} AND {})", one(a, &l, ldt), one(b, &r, rdt)))
                .collect();
            let cols = [left.clone(), right.clone()];
            let element = considered(
                &cols,
                decl.ignore_row_if
                    .as_deref()
                    .unwrap_or("both_values_are_missing"),
            )?;
            let inside = if any.is_empty() {
                "FALSE".to_string()
            } else {
                any.join(" OR ")
            };
            let bad = format!("{element} AND NOT coalesce({inside}, FALSE)");
            p.metrics = vec![Metric::CountWhere(element), Metric::CountWhere(bad.clone())];
            p.failing = Some(bad);
            p.show = cols.to_vec();
        }
        CheckKind::UniqueWithinRecord(cols) | CheckKind::EqualWithinRecord(cols) => {
            for c in cols {
                column(schema, c)?;
            }
            let element = considered(
                cols,
                decl.ignore_row_if
                    .as_deref()
                    .unwrap_or("all_values_are_missing"),
            )?;
            let mut pairs = Vec::new();
            for (i, a) in cols.iter().enumerate() {
                for b in &cols[i + 1..] {
                    pairs.push((ident(a), ident(b)));
                }
            }
            let bad = if matches!(decl.kind, CheckKind::UniqueWithinRecord(_)) {
                // Two nulls count as equal values (pandas' nunique with dropna=False).
                let same: Vec<String> = pairs
                    .iter()
                    .map(|(a, b)| format!("{a} IS NOT DISTINCT FROM {b}"))
                    .collect();
                format!(
                    "{element} AND ({})",
                    if same.is_empty() {
                        "FALSE".into()
                    } else {
                        same.join(" OR ")
                    }
                )
            } else {
                let differ: Vec<String> = pairs
                    .iter()
                    .map(|(a, b)| format!("{a} IS DISTINCT FROM {b}"))
                    .collect();
                format!(
                    "{element} AND ({})",
                    if differ.is_empty() {
                        "FALSE".into()
                    } else {
                        differ.join(" OR ")
                    }
                )
            };
            p.metrics = vec![Metric::CountWhere(element), Metric::CountWhere(bad.clone())];
            p.failing = Some(bad);
            p.show = cols.clone();
        }
        CheckKind::KlDivergence { .. } => {
            let c = col.unwrap_or_default();
            column(schema, c)?;
            p.own_query = Some(format!(
                "SELECT array_agg(v), array_agg(n) FROM (SELECT {c} AS v, count(*) AS n FROM {{from}} WHERE {c} IS NOT NULL GROUP BY {c})",
                c = ident(c)
            ));
        }
        _ => {
            return Err(Unfit(format!(
                "check `{}` is not supported by this engine",
                decl.check
            )));
        }
    }
    Ok(p)
}

/// The column whose nulls count for `c`: a pinned column read as text has its raw twin, where a
/// value that does not convert is still a value (the `type` check counts it), not a null.
fn null_source(schema: &Schema, c: &str) -> String {
    let raw = raw_name(c);
    if schema.field_with_name(&raw).is_ok() {
        raw
    } else {
        c.to_string()
    }
}

/// The rows a check over several columns considers, by GX's `ignore_row_if`.
fn considered(cols: &[String], ignore_row_if: &str) -> Result<String, Unfit> {
    let nulls: Vec<String> = cols
        .iter()
        .map(|c| format!("{} IS NULL", ident(c)))
        .collect();
    Ok(match ignore_row_if {
        "both_values_are_missing" | "all_values_are_missing" => {
            format!("NOT ({})", nulls.join(" AND "))
        }
        "either_value_is_missing" | "any_value_is_missing" => {
            format!("NOT ({})", nulls.join(" OR "))
        }
        "neither" | "never" => "TRUE".to_string(),
        other => {
            return Err(Unfit(format!(
                "unknown `ignore_row_if` `{other}`: expected both_values_are_missing, either_value_is_missing, neither (pairs) or all_values_are_missing, any_value_is_missing, never"
            )));
        }
    })
}

/// The hidden name of a pinned column's raw text.
pub fn raw_name(c: &str) -> String {
    format!("__tg_raw_{c}")
}

/// A literal must be comparable with the column: text bounds on a numeric column are an error.
fn check_literal(v: &Scalar, dt: &DataType, c: &str) -> Result<(), Unfit> {
    if dt.is_null() {
        // An all-null column (or an empty CSV file): nothing to compare, every bound fits.
        return Ok(());
    }
    let ok = match v {
        Scalar::Int(_) | Scalar::Float(_) => sql::is_numeric(dt) || matches!(dt, DataType::Boolean),
        Scalar::Str(s) => {
            if sql::is_temporal(dt) {
                if crate::value::parse_time(s).is_none() {
                    return Err(Unfit(format!(
                        "`{s}` is not a date or timestamp (write ISO, e.g. 2025-01-31 or 2025-01-31 12:00:00), but `{c}` is {}",
                        sql::type_name(dt)
                    )));
                }
                true
            } else {
                sql::is_string(dt)
            }
        }
        Scalar::Bool(_) => matches!(dt, DataType::Boolean),
    };
    if ok {
        Ok(())
    } else {
        Err(Unfit(format!(
            "the value {v} cannot be compared with column `{c}` of type {}",
            sql::type_name(dt)
        )))
    }
}

fn pct(x: f64) -> String {
    let s = format!("{:.4}", x * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// The judged counts of a row-level check.
fn mostly(f: &mut Finding, decl: &CheckDecl, element: u64, unexpected: u64, what: &str) {
    let m = decl.mostly.unwrap_or(1.0);
    let unexpected = unexpected.min(element);
    let frac = if element == 0 {
        0.0
    } else {
        unexpected as f64 / element as f64
    };
    let ok = element == 0 || (element - unexpected) as f64 / element as f64 >= m;
    f.status = Finding::verdict(ok, decl.severity);
    f.element_count = Some(element);
    f.unexpected_count = Some(unexpected);
    f.unexpected_fraction = Some(tollgate_core::finding::stable_f64(frac));
    f.observed = json!(tollgate_core::finding::stable_f64(1.0 - frac));
    f.expected = if m >= 1.0 {
        format!("{what} for every non-null value")
    } else {
        format!("{what} for at least {} of non-null values", pct(m))
    };
}

fn bound_judge(f: &mut Finding, decl: &CheckDecl, v: V, b: &Bound, what: &str) {
    f.observed = v.clone().stable().to_json();
    f.expected = format!("{what} {}", b.describe());
    match v {
        V::Null => {
            f.status = Finding::verdict(false, decl.severity);
            f.expected
                .push_str(" (there are no non-null values to measure)");
        }
        v => match within(&v, b) {
            Ok(ok) => f.status = Finding::verdict(ok, decl.severity),
            Err(e) => {
                f.status = Status::Error;
                f.error = Some(e);
            }
        },
    }
}

/// Judge a check from its metric values (in the order of `Planned::metrics`, or the own query's
/// columns). `schema` answers table-level checks.
pub fn judge(decl: &CheckDecl, values: &[V], schema: &Schema, pinned: Option<Pin<'_>>) -> Finding {
    let mut f = Finding::new(decl.check, Status::Passed, decl.severity);
    f.column = decl.column.clone();
    f.name = decl.name.clone();
    f.gx_type = decl.gx_type.clone();
    let n = |i: usize| values.get(i).map(V::count).unwrap_or(0);
    let val = |i: usize| values.get(i).cloned().unwrap_or(V::Null);
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|x| x.name().clone())
        .filter(|n| !n.starts_with("__tg_raw_"))
        .collect();
    match &decl.kind {
        CheckKind::RowCount(b) => bound_judge(&mut f, decl, val(0), b, "row count"),
        CheckKind::ColumnCount(b) => {
            bound_judge(&mut f, decl, V::Int(names.len() as i128), b, "column count")
        }
        CheckKind::Columns {
            exact,
            include,
            exclude,
            ordered,
        } => {
            let mut problems = Vec::new();
            if let Some(exact) = exact {
                if *ordered {
                    if &names != exact {
                        problems.push(format!("columns in order {:?}", exact));
                    }
                } else {
                    let missing: Vec<_> = exact.iter().filter(|c| !names.contains(c)).collect();
                    let extra: Vec<_> = names.iter().filter(|c| !exact.contains(c)).collect();
                    if !missing.is_empty() {
                        problems.push(format!("missing {missing:?}"));
                    }
                    if !extra.is_empty() {
                        problems.push(format!("unexpected {extra:?}"));
                    }
                }
            }
            let missing: Vec<_> = include.iter().filter(|c| !names.contains(c)).collect();
            if !missing.is_empty() {
                problems.push(format!("missing {missing:?}"));
            }
            let present: Vec<_> = exclude.iter().filter(|c| names.contains(c)).collect();
            if !present.is_empty() {
                problems.push(format!("must not have {present:?}"));
            }
            f.observed = json!(names);
            let mut parts = Vec::new();
            if let Some(e) = exact {
                parts.push(format!(
                    "{} {e:?}",
                    if *ordered {
                        "exactly, in order,"
                    } else {
                        "exactly the set"
                    }
                ));
            }
            if !include.is_empty() {
                parts.push(format!("including {include:?}"));
            }
            if !exclude.is_empty() {
                parts.push(format!("excluding {exclude:?}"));
            }
            f.expected = format!("columns {}", parts.join("; "));
            if !problems.is_empty() {
                f.expected.push_str(&format!(" ({})", problems.join("; ")));
            }
            f.status = Finding::verdict(problems.is_empty(), decl.severity);
        }
        CheckKind::Type(name) => {
            let c = decl.column.clone().unwrap_or_default();
            let dt = schema
                .field_with_name(&c)
                .map(|x| x.data_type().clone())
                .unwrap_or(DataType::Null);
            if let Some(pin) = pinned {
                let how = if pin.text {
                    format!("read as text, cast to {}", pin.sql_type)
                } else {
                    format!("read as {}", pin.sql_type)
                };
                mostly(
                    &mut f,
                    decl,
                    n(0),
                    n(1),
                    &format!("converts to {name} (pinned: {how})"),
                );
            } else {
                let ok = sql::type_rule(name).is_some_and(|(rule, _)| rule(&dt));
                f.observed = json!(sql::type_name(&dt));
                f.expected = format!("type {name}");
                f.status = Finding::verdict(ok, decl.severity);
            }
        }
        CheckKind::NotNull => {
            let (rows, nn) = (n(0), n(1));
            mostly(&mut f, decl, rows, rows - nn.min(rows), "not null");
            f.expected = match decl.mostly {
                Some(m) if m < 1.0 => format!("non-null fraction >= {m}"),
                _ => "non-null fraction >= 1.0".into(),
            };
            f.missing_count = Some(rows - nn.min(rows));
        }
        CheckKind::NullFraction(b) => {
            let (rows, nn) = (n(0), n(1));
            let frac = if rows == 0 {
                V::Null
            } else {
                V::Float((rows - nn) as f64 / rows as f64)
            };
            bound_judge(&mut f, decl, frac, b, "null fraction");
            f.element_count = Some(rows);
            f.missing_count = Some(rows - nn.min(rows));
        }
        CheckKind::Unique | CheckKind::CompoundUnique(_) => {
            let (element, distinct) = (n(0), n(1));
            // Lower bound until the exact count (all rows of repeated values) is filled in.
            let dups = element.saturating_sub(distinct);
            mostly(&mut f, decl, element, dups, "unique");
            if let CheckKind::CompoundUnique(cols) = &decl.kind {
                f.columns = Some(cols.clone());
                f.expected = format!("unique combinations of {cols:?} for every row");
            }
        }
        CheckKind::Between(b) => {
            mostly(&mut f, decl, n(0), n(1), &format!("value {}", b.describe()));
        }
        CheckKind::InSet(vs) => mostly(
            &mut f,
            decl,
            n(0),
            n(1),
            &format!("value in {}", set_text(vs)),
        ),
        CheckKind::NotInSet(vs) => mostly(
            &mut f,
            decl,
            n(0),
            n(1),
            &format!("value not in {}", set_text(vs)),
        ),
        CheckKind::Matches(re) => mostly(&mut f, decl, n(0), n(1), &format!("matches /{re}/")),
        CheckKind::NotMatches(re) => {
            mostly(&mut f, decl, n(0), n(1), &format!("does not match /{re}/"))
        }
        CheckKind::Length(b) => mostly(
            &mut f,
            decl,
            n(0),
            n(1),
            &format!("length {}", b.describe()),
        ),
        CheckKind::DateFormat(fmt) => mostly(
            &mut f,
            decl,
            n(0),
            n(1),
            &format!("parses with format {fmt:?}"),
        ),
        CheckKind::Increasing { strict } => mostly(
            &mut f,
            decl,
            n(0),
            n(1),
            if *strict {
                "strictly increasing"
            } else {
                "increasing (ties allowed)"
            },
        ),
        CheckKind::Decreasing { strict } => mostly(
            &mut f,
            decl,
            n(0),
            n(1),
            if *strict {
                "strictly decreasing"
            } else {
                "decreasing (ties allowed)"
            },
        ),
        CheckKind::Min(b) => bound_judge(&mut f, decl, val(0), b, "min"),
        CheckKind::Max(b) => bound_judge(&mut f, decl, val(0), b, "max"),
        CheckKind::Mean(b) => bound_judge(&mut f, decl, val(0), b, "mean"),
        CheckKind::Median(b) => bound_judge(&mut f, decl, val(0), b, "median"),
        CheckKind::Stdev(b) => bound_judge(&mut f, decl, val(0), b, "sample stdev"),
        CheckKind::Sum(b) => bound_judge(&mut f, decl, val(0), b, "sum"),
        CheckKind::Quantiles(qs) => {
            let mut values = Vec::new();
            let mut expected = Vec::new();
            let mut ok = true;
            for (i, (q, b)) in qs.iter().enumerate() {
                let v = val(i);
                values.push(v.clone().stable().to_json());
                expected.push(format!("q{q} {}", b.describe()));
                match within(&v, b) {
                    Ok(x) => ok &= x && v != V::Null,
                    Err(e) => {
                        f.status = Status::Error;
                        f.error = Some(e);
                    }
                }
            }
            // GX's shape: {"quantiles": [...], "values": [...]}.
            f.observed = json!({ "quantiles": qs.iter().map(|(q, _)| *q).collect::<Vec<_>>(), "values": values });
            f.expected = expected.join(", ");
            if f.status != Status::Error {
                f.status = Finding::verdict(ok, decl.severity);
            }
        }
        CheckKind::DistinctCount(b) => bound_judge(&mut f, decl, val(1), b, "distinct count"),
        CheckKind::UniqueFraction(b) => {
            let (nn, d) = (n(0), n(1));
            let v = if nn == 0 {
                V::Null
            } else {
                V::Float(d as f64 / nn as f64)
            };
            bound_judge(&mut f, decl, v, b, "unique fraction");
        }
        CheckKind::DistinctValues {
            mode,
            values: expected,
        } => {
            let V::List(mut seen) = val(0) else {
                f.status = Finding::verdict(
                    matches!(mode, SetMode::In) || expected.is_empty(),
                    decl.severity,
                );
                f.observed = json!([]);
                f.expected = format!(
                    "distinct values {} {}",
                    mode_text(*mode),
                    set_text(expected)
                );
                return f;
            };
            seen.sort_by_key(|v| v.to_json().to_string());
            let in_expected = |v: &V| expected.iter().any(|e| v.eq_scalar(e));
            let extra: Vec<Json> = seen
                .iter()
                .filter(|v| !in_expected(v))
                .map(V::to_json)
                .collect();
            let missing: Vec<String> = expected
                .iter()
                .filter(|e| !seen.iter().any(|v| v.eq_scalar(e)))
                .map(|e| e.to_string())
                .collect();
            let ok = match mode {
                SetMode::In => extra.is_empty(),
                SetMode::Contain => missing.is_empty(),
                SetMode::Equals => extra.is_empty() && missing.is_empty(),
            };
            f.observed = Json::Array(seen.iter().map(V::to_json).collect());
            f.expected = format!(
                "distinct values {} {}",
                mode_text(*mode),
                set_text(expected)
            );
            if !ok {
                let mut why = Vec::new();
                if !extra.is_empty() && *mode != SetMode::Contain {
                    why.push(format!("unexpected {}", Json::Array(extra)));
                }
                if !missing.is_empty() && *mode != SetMode::In {
                    why.push(format!("missing [{}]", missing.join(", ")));
                }
                f.expected.push_str(&format!(" ({})", why.join("; ")));
            }
            f.status = Finding::verdict(ok, decl.severity);
        }
        CheckKind::MostCommonInSet {
            values: set,
            ties_okay,
        } => {
            let count = n(0);
            let V::List(mut modes) = val(1) else {
                f.status = Finding::verdict(false, decl.severity);
                f.expected = format!(
                    "most common value in {} (there are no non-null values)",
                    set_text(set)
                );
                return f;
            };
            modes.sort_by_key(|v| v.to_json().to_string());
            let inside = |v: &V| set.iter().any(|e| v.eq_scalar(e));
            // As GX: a tie fails unless `ties_okay` (then one tied value in the set is enough).
            let ok = if *ties_okay {
                modes.iter().any(inside)
            } else {
                modes.len() == 1 && inside(&modes[0])
            };
            f.observed = Json::Array(modes.iter().map(V::to_json).collect());
            f.expected = format!(
                "most common value in {} (observed {} times)",
                set_text(set),
                count
            );
            f.status = Finding::verdict(ok && !modes.is_empty(), decl.severity);
        }
        CheckKind::Compare { left, op, right } => {
            let what = match op {
                CompareOp::Eq => format!("{left} = {right}"),
                _ => format!("{left} {} {right}", op.sql()),
            };
            mostly(&mut f, decl, n(0), n(1), &what);
            f.expected = f
                .expected
                .replace("non-null value", "row where not both are null");
            f.columns = Some(vec![left.clone(), right.clone()]);
        }
        CheckKind::SumEquals { columns, total } => {
            mostly(
                &mut f,
                decl,
                n(0),
                n(1),
                &format!("{} = {total}", columns.join(" + ")),
            );
            f.expected = f.expected.replace("non-null value", "row without nulls");
            f.columns = Some(columns.clone());
        }
        CheckKind::Condition(cond) => {
            mostly(&mut f, decl, n(0), n(1), &format!("`{cond}` holds"));
            f.expected = f
                .expected
                .replace("non-null value", "row where it is not NULL");
        }
        CheckKind::Aggregate { sql, bound } => {
            bound_judge(&mut f, decl, val(0), bound, &format!("`{sql}`"))
        }
        CheckKind::ColumnExists { column, index } => {
            let at = names.iter().position(|n| n == column);
            let ok = match (at, index) {
                (Some(i), Some(want)) => i == *want,
                (Some(_), None) => true,
                (None, _) => false,
            };
            f.column = Some(column.clone());
            f.observed = match at {
                Some(i) => json!(i),
                None => Json::Null,
            };
            f.expected = match index {
                Some(i) => format!("column `{column}` at position {i}"),
                None => format!("column `{column}` exists"),
            };
            f.status = Finding::verdict(ok, decl.severity);
        }
        CheckKind::Null => {
            let (rows, nn) = (n(0), n(1));
            mostly(&mut f, decl, rows, nn.min(rows), "null");
            f.expected = match decl.mostly {
                Some(m) if m < 1.0 => format!("null fraction >= {m}"),
                _ => "every value null".into(),
            };
        }
        CheckKind::NonNullFraction(b) => {
            let (rows, nn) = (n(0), n(1));
            let frac = if rows == 0 {
                V::Null
            } else {
                V::Float(nn as f64 / rows as f64)
            };
            bound_judge(&mut f, decl, frac, b, "non-null fraction");
            f.element_count = Some(rows);
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
            let how = match (negate, all) {
                (true, _) => "matches none of",
                (false, true) => "matches all of",
                (false, false) => "matches any of",
            };
            mostly(&mut f, decl, n(0), n(1), &format!("{how} {patterns:?}"));
        }
        CheckKind::DateParseable => mostly(&mut f, decl, n(0), n(1), "parses as a date or time"),
        CheckKind::JsonParseable => mostly(&mut f, decl, n(0), n(1), "parses as JSON"),
        CheckKind::JsonSchema(_) => mostly(&mut f, decl, n(0), n(1), "JSON satisfying the schema"),
        CheckKind::TypeList(types) => {
            let c = decl.column.clone().unwrap_or_default();
            let dt = schema
                .field_with_name(&c)
                .map(|x| x.data_type().clone())
                .unwrap_or(DataType::Null);
            let matched = types.iter().find(|t| sql::gx_type_matches(t, &dt));
            let ok = types.is_empty() || matched.is_some();
            // In the vocabulary the user asked in, when it matches.
            // pandas' object dtype is reported by its numpy name, as GX does.
            let shown = match matched.map(String::as_str) {
                Some("object" | "O" | "object_") => "object_".to_string(),
                Some(m) => m.to_string(),
                None => sql::type_name(&dt),
            };
            f.observed = json!(shown);
            if !ok {
                // Every value is of the wrong type: all count as unexpected (GX's map semantics).
                f.element_count = Some(n(0));
                f.unexpected_count = Some(n(0));
                f.unexpected_fraction = Some(if n(0) > 0 { 1.0 } else { 0.0 });
            }
            f.expected = format!("type in {types:?}");
            f.status = Finding::verdict(ok, decl.severity);
        }
        CheckKind::ZScore {
            threshold,
            double_sided,
        } => {
            let what = if *double_sided {
                format!("|z-score| < {threshold}")
            } else {
                format!("z-score < {threshold}")
            };
            mostly(&mut f, decl, n(0), n(1), &what);
        }
        CheckKind::PairInSet { left, right, .. } => {
            mostly(
                &mut f,
                decl,
                n(0),
                n(1),
                &format!("({left}, {right}) in the set of pairs"),
            );
            f.columns = Some(vec![left.clone(), right.clone()]);
        }
        CheckKind::UniqueWithinRecord(cols) => {
            mostly(
                &mut f,
                decl,
                n(0),
                n(1),
                &format!("distinct values across {cols:?} in the row"),
            );
            f.columns = Some(cols.clone());
        }
        CheckKind::EqualWithinRecord(cols) => {
            mostly(
                &mut f,
                decl,
                n(0),
                n(1),
                &format!("equal values across {cols:?} in the row"),
            );
            f.columns = Some(cols.clone());
        }
        CheckKind::KlDivergence {
            partition,
            threshold,
            internal_holdout,
            tail_holdout,
        } => {
            let (V::List(vals), V::List(counts)) = (val(0), val(1)) else {
                f.status = Status::Error;
                f.error = Some("no values to compare with the partition".into());
                return f;
            };
            let observed: Vec<(V, f64)> = vals
                .into_iter()
                .zip(counts.iter().map(|c| c.count() as f64))
                .collect();
            match crate::kl::divergence(partition, &observed, *internal_holdout, *tail_holdout) {
                Ok(kl) => {
                    f.observed = if kl.is_finite() {
                        json!(tollgate_core::finding::stable_f64(kl))
                    } else {
                        json!("Infinity")
                    };
                    match threshold {
                        Some(t) => {
                            f.expected = format!("KL divergence <= {t}");
                            f.status = Finding::verdict(kl <= *t, decl.severity);
                        }
                        None => {
                            f.expected = "KL divergence (no threshold: reported only)".into();
                            f.status = Status::Passed;
                        }
                    }
                }
                Err(e) => {
                    f.status = Status::Error;
                    f.error = Some(e);
                }
            }
        }
        _ => {
            f.status = Status::Error;
            f.error = Some(format!(
                "check `{}` is not supported by this engine",
                decl.check
            ));
        }
    }
    f
}

fn mode_text(m: SetMode) -> &'static str {
    match m {
        SetMode::In => "within",
        SetMode::Contain => "containing",
        SetMode::Equals => "equal to",
    }
}

fn set_text(vs: &[Scalar]) -> String {
    let items: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
    if items.len() > 12 {
        format!("[{}, ... {} values]", items[..10].join(", "), items.len())
    } else {
        format!("[{}]", items.join(", "))
    }
}
