//! Great Expectations suites: read GX JSON (1.x `name` / `expectations[].type`, or 0.x
//! `expectation_suite_name` / `expectations[].expectation_type`) and map each expectation to a
//! native check. The mapping lives here, in one table-like function, so that `tollgate import
//! gx`, `validate --suite SUITE.json` and a native suite's `expectations:` list agree.

use serde_json::{Map, Value};

use crate::finding::Severity;
use crate::plan::{Bound, CheckDecl, CheckKind, CompareOp, Scalar, SetMode, SuiteDecl};
use crate::yaml::Pos;

/// One GX expectation as written.
#[derive(Debug, Clone, PartialEq)]
pub struct GxExpectation {
    /// The expectation type (`expect_column_values_to_be_between`).
    pub kind: String,
    /// Its arguments.
    pub kwargs: Map<String, Value>,
    /// GX 1.x severity (`critical`, `warning`, `info`), when given.
    pub severity: Option<String>,
    /// Where it was written (YAML suites) or its index (JSON suites, as line 0).
    pub pos: Pos,
}

/// Every expectation type tollgate runs, in GX's own names.
pub const SUPPORTED: &[&str] = &[
    "expect_table_row_count_to_be_between",
    "expect_table_row_count_to_equal",
    "expect_table_column_count_to_be_between",
    "expect_table_column_count_to_equal",
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_column_to_exist",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_null",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list",
    "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern",
    "expect_column_values_to_match_like_pattern_list",
    "expect_column_values_to_not_match_like_pattern_list",
    "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
    "expect_column_values_to_be_increasing",
    "expect_column_values_to_be_decreasing",
    "expect_column_values_to_match_strftime_format",
    "expect_column_values_to_be_dateutil_parseable",
    "expect_column_values_to_be_json_parseable",
    "expect_column_values_to_match_json_schema",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_be_in_type_list",
    "expect_column_value_z_scores_to_be_less_than",
    "expect_column_min_to_be_between",
    "expect_column_max_to_be_between",
    "expect_column_mean_to_be_between",
    "expect_column_median_to_be_between",
    "expect_column_stdev_to_be_between",
    "expect_column_sum_to_be_between",
    "expect_column_quantile_values_to_be_between",
    "expect_column_unique_value_count_to_be_between",
    "expect_column_proportion_of_unique_values_to_be_between",
    "expect_column_proportion_of_non_null_values_to_be_between",
    "expect_column_most_common_value_to_be_in_set",
    "expect_column_distinct_values_to_be_in_set",
    "expect_column_distinct_values_to_contain_set",
    "expect_column_distinct_values_to_equal_set",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
    "expect_column_pair_values_to_be_in_set",
    "expect_compound_columns_to_be_unique",
    "expect_multicolumn_sum_to_equal",
    "expect_select_column_values_to_be_unique_within_record",
    "expect_multicolumn_values_to_be_equal",
    "expect_column_kl_divergence_to_be_less_than",
];

/// GX 1.x class names (`ExpectColumnValuesToBeBetween`) to snake case.
pub fn snake(kind: &str) -> String {
    if kind.contains('_') || kind.chars().all(|c| c.is_lowercase()) {
        return kind.to_string();
    }
    let mut out = String::new();
    for (i, c) in kind.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out.replace("k_l_divergence", "kl_divergence")
}

/// Read a GX suite document. Returns the suite name and its expectations.
pub fn parse_suite_json(text: &str) -> Result<(String, Vec<GxExpectation>), String> {
    let text = &quote_non_finite(text);
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    let Value::Object(doc) = doc else {
        return Err("a Great Expectations suite is a JSON object".into());
    };
    let name = doc
        .get("name")
        .or_else(|| doc.get("expectation_suite_name"))
        .and_then(Value::as_str)
        .unwrap_or("gx-suite")
        .to_string();
    let Some(Value::Array(items)) = doc.get("expectations") else {
        return Err(
            "the suite has no `expectations` list (is this a Great Expectations suite?)".into(),
        );
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        out.push(expectation_from_json(item).map_err(|e| format!("expectations[{i}]: {e}"))?);
    }
    Ok((name, out))
}

/// GX writes `Infinity`, `-Infinity` and `NaN` bare (Python's json module does), which JSON
/// does not allow: quote them outside strings so that they parse, and read them back as floats.
pub fn quote_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if let Some(tok) = ["-Infinity", "Infinity", "NaN"]
            .iter()
            .find(|t| rest.starts_with(**t))
        {
            out.push('"');
            out.push_str(tok);
            out.push('"');
            rest = &rest[tok.len()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// One expectation object (`{type, kwargs}` or `{expectation_type, kwargs}`).
pub fn expectation_from_json(item: &Value) -> Result<GxExpectation, String> {
    let Value::Object(obj) = item else {
        return Err("an expectation is a JSON object".into());
    };
    let kind = obj
        .get("type")
        .or_else(|| obj.get("expectation_type"))
        .and_then(Value::as_str)
        .ok_or("an expectation needs `type` (GX 1.x) or `expectation_type` (GX 0.x)")?;
    let kwargs = match obj.get("kwargs") {
        Some(Value::Object(m)) => m.clone(),
        None => Map::new(),
        Some(_) => return Err("`kwargs` must be an object".into()),
    };
    let severity = obj
        .get("severity")
        .or_else(|| obj.get("meta").and_then(|m| m.get("severity")))
        .and_then(Value::as_str)
        .map(String::from);
    Ok(GxExpectation {
        kind: snake(kind),
        kwargs,
        severity,
        pos: Pos::default(),
    })
}

fn scalar(v: &Value) -> Option<Scalar> {
    match v {
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(Scalar::Int)
            .or_else(|| n.as_f64().map(Scalar::Float)),
        Value::String(s) if s == "Infinity" => Some(Scalar::Float(f64::INFINITY)),
        Value::String(s) if s == "-Infinity" => Some(Scalar::Float(f64::NEG_INFINITY)),
        Value::String(s) => Some(Scalar::Str(s.clone())),
        _ => None,
    }
}

struct Args<'a> {
    kind: &'a str,
    kw: &'a Map<String, Value>,
}

impl Args<'_> {
    /// Bounds of an aggregate expectation: GX requires at least one.
    fn agg_bound(&self) -> Result<Bound, String> {
        let b = self.bound("min_value", "max_value")?;
        if b.min.is_none() && b.max.is_none() {
            return Err(format!(
                "`{}` needs `min_value` or `max_value` (both are missing)",
                self.kind
            ));
        }
        Ok(b)
    }
    /// Bounds that GX rejects when `min_value` is above `max_value`.
    fn ordered_bound(&self) -> Result<Bound, String> {
        let b = self.bound("min_value", "max_value")?;
        if let (Some(lo), Some(hi)) = (
            b.min.as_ref().and_then(Scalar::as_f64),
            b.max.as_ref().and_then(Scalar::as_f64),
        ) && lo > hi
        {
            return Err(format!(
                "`min_value` ({lo}) is greater than `max_value` ({hi})"
            ));
        }
        Ok(b)
    }

    /// Bounds of mean, median and stdev: with both missing, GX passes (vacuously).
    fn vacuous_bound(&self) -> Result<Bound, String> {
        self.bound("min_value", "max_value")
    }

    fn required_set(&self, k: &str) -> Result<Vec<Scalar>, String> {
        if self.get(k).is_none() {
            return Err(format!("`{}` needs `{k}`", self.kind));
        }
        self.set(k)
    }
    fn get(&self, k: &str) -> Option<&Value> {
        self.kw.get(k).filter(|v| !v.is_null())
    }
    fn str(&self, k: &str) -> Result<String, String> {
        match self.get(k) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!("`{k}` must be a string, found {other}")),
            None => Err(format!("`{}` needs `{k}`", self.kind)),
        }
    }
    fn opt_str(&self, k: &str) -> Option<String> {
        self.get(k).and_then(Value::as_str).map(String::from)
    }
    fn num(&self, k: &str) -> Result<f64, String> {
        self.get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("`{}` needs a number `{k}`", self.kind))
    }
    fn flag(&self, k: &str) -> bool {
        self.get(k).and_then(Value::as_bool).unwrap_or(false)
    }
    fn strings(&self, k: &str) -> Result<Vec<String>, String> {
        match self.get(k) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| format!("`{k}` must be a list of strings"))
                })
                .collect(),
            _ => Err(format!("`{}` needs a list `{k}`", self.kind)),
        }
    }
    fn set(&self, k: &str) -> Result<Vec<Scalar>, String> {
        match self.get(k) {
            Some(Value::Array(items)) => Ok(items.iter().filter_map(scalar).collect()),
            None => Ok(Vec::new()),
            Some(other) => Err(format!("`{k}` must be a list, found {other}")),
        }
    }
    fn bound(&self, lo: &str, hi: &str) -> Result<Bound, String> {
        let min = self
            .get(lo)
            .map(|v| scalar(v).ok_or_else(|| format!("`{lo}` must be a value")))
            .transpose()?;
        let max = self
            .get(hi)
            .map(|v| scalar(v).ok_or_else(|| format!("`{hi}` must be a value")))
            .transpose()?;
        Ok(Bound {
            min,
            max,
            strict_min: self.flag("strict_min"),
            strict_max: self.flag("strict_max"),
        })
    }
    fn equals(&self, k: &str) -> Result<Bound, String> {
        let v = self
            .get(k)
            .and_then(scalar)
            .ok_or_else(|| format!("`{}` needs `{k}`", self.kind))?;
        Ok(Bound {
            min: Some(v.clone()),
            max: Some(v),
            ..Bound::default()
        })
    }
}

/// Translate a GX `row_condition` to SQL: the pandas parser's syntax (`a > 5 & b == "x"`) and
/// the `great_expectations__experimental__` one (`col("a") > 5`).
pub fn row_condition_sql(cond: &str, parser: Option<&str>) -> Result<String, String> {
    match parser {
        None
        | Some("pandas" | "great_expectations__experimental__" | "great_expectations" | "sql") => {}
        Some(other) => {
            return Err(format!(
                "unknown `condition_parser` `{other}`: expected pandas or great_expectations"
            ));
        }
    }
    let chars: Vec<char> = cond.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().take(4).collect();
        if rest == "col(" {
            let close = chars[i..]
                .iter()
                .position(|&c| c == ')')
                .map(|p| p + i)
                .ok_or("unclosed `col(`")?;
            let name: String = chars[i + 4..close].iter().collect();
            let name = name.trim().trim_matches(|c| c == '"' || c == '\'');
            out.push('"');
            out.push_str(&name.replace('"', "\"\""));
            out.push('"');
            i = close + 1;
            continue;
        }
        match c {
            '"' | '\'' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&q| q == c)
                    .map(|p| p + i + 1)
                    .ok_or("unclosed string in `row_condition`")?;
                let text: String = chars[i + 1..close].iter().collect();
                out.push('\'');
                out.push_str(&text.replace('\'', "''"));
                out.push('\'');
                i = close;
            }
            '=' if chars.get(i + 1) == Some(&'=') => {
                out.push('=');
                i += 1;
            }
            '&' => out.push_str(" AND "),
            '|' => out.push_str(" OR "),
            '~' => out.push_str(" NOT "),
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// Map one GX expectation to a native check.
pub fn to_check(e: &GxExpectation) -> Result<CheckDecl, String> {
    let a = Args {
        kind: &e.kind,
        kw: &e.kwargs,
    };
    let column = a.opt_str("column");
    let mostly = match a.get("mostly") {
        None => None,
        Some(v) => Some(
            v.as_f64()
                .ok_or_else(|| format!("`mostly` must be a number, found {v}"))?,
        ),
    };
    if let Some(m) = mostly
        && !(0.0..=1.0).contains(&m)
    {
        return Err(format!("`mostly` must be between 0 and 1, found {m}"));
    }
    if SUPPORTED.contains(&e.kind.as_str())
        && e.kind.starts_with("expect_column_")
        && !e.kind.starts_with("expect_column_pair_")
        && column.is_none()
    {
        if let Some(other) = a.get("column") {
            return Err(format!("`column` must be a string, found {other}"));
        }
        return Err(format!("`{}` needs `column`", e.kind));
    }
    let col = || {
        column
            .clone()
            .ok_or_else(|| format!("`{}` needs `column`", e.kind))
    };
    let (check, kind): (&'static str, CheckKind) = match e.kind.as_str() {
        "expect_table_row_count_to_be_between" => {
            ("row_count", CheckKind::RowCount(a.ordered_bound()?))
        }
        "expect_table_row_count_to_equal" => ("row_count", CheckKind::RowCount(a.equals("value")?)),
        "expect_table_column_count_to_be_between" => {
            ("column_count", CheckKind::ColumnCount(a.ordered_bound()?))
        }
        "expect_table_column_count_to_equal" => {
            ("column_count", CheckKind::ColumnCount(a.equals("value")?))
        }
        "expect_table_columns_to_match_set" => {
            let set = if a.get("column_set").is_none() {
                Vec::new()
            } else {
                a.strings("column_set")?
            };
            let exact = a
                .get("exact_match")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if exact {
                (
                    "columns",
                    CheckKind::Columns {
                        exact: Some(set),
                        include: vec![],
                        exclude: vec![],
                        ordered: false,
                    },
                )
            } else {
                (
                    "columns",
                    CheckKind::Columns {
                        exact: None,
                        include: set,
                        exclude: vec![],
                        ordered: false,
                    },
                )
            }
        }
        "expect_table_columns_to_match_ordered_list" => (
            "columns",
            CheckKind::Columns {
                exact: if a.get("column_list").is_none() {
                    None
                } else {
                    Some(a.strings("column_list")?)
                },
                include: vec![],
                exclude: vec![],
                ordered: true,
            },
        ),
        "expect_column_to_exist" => {
            let index = a
                .get("column_index")
                .and_then(Value::as_u64)
                .map(|i| i as usize);
            (
                "column_exists",
                CheckKind::ColumnExists {
                    column: col()?,
                    index,
                },
            )
        }
        "expect_column_values_to_be_between" => {
            let b = a.ordered_bound()?;
            if b.min.is_none() && b.max.is_none() {
                return Err(
                    "`expect_column_values_to_be_between` needs `min_value` or `max_value`".into(),
                );
            }
            ("between", CheckKind::Between(b))
        }
        "expect_column_values_to_be_in_set" => {
            ("in_set", CheckKind::InSet(a.required_set("value_set")?))
        }
        "expect_column_values_to_not_be_in_set" => (
            "not_in_set",
            CheckKind::NotInSet(a.required_set("value_set")?),
        ),
        "expect_column_values_to_be_null" => ("null", CheckKind::Null),
        "expect_column_values_to_not_be_null" => ("not_null", CheckKind::NotNull),
        "expect_column_values_to_be_unique" => ("unique", CheckKind::Unique),
        "expect_column_values_to_match_regex" => ("matches", CheckKind::Matches(a.str("regex")?)),
        "expect_column_values_to_not_match_regex" => {
            ("not_matches", CheckKind::NotMatches(a.str("regex")?))
        }
        "expect_column_values_to_match_regex_list"
        | "expect_column_values_to_not_match_regex_list" => {
            let patterns = a.strings("regex_list")?;
            let all = a.opt_str("match_on").as_deref() == Some("all");
            let negate = e.kind.contains("not_match");
            (
                "regex_list",
                CheckKind::RegexList {
                    patterns,
                    all: all || negate,
                    negate,
                },
            )
        }
        "expect_column_values_to_match_like_pattern"
        | "expect_column_values_to_not_match_like_pattern" => {
            let negate = e.kind.contains("not_match");
            (
                "like",
                CheckKind::Like {
                    patterns: vec![a.str("like_pattern")?],
                    all: negate,
                    negate,
                },
            )
        }
        "expect_column_values_to_match_like_pattern_list"
        | "expect_column_values_to_not_match_like_pattern_list" => {
            let negate = e.kind.contains("not_match");
            let all = a.opt_str("match_on").as_deref() == Some("all");
            (
                "like",
                CheckKind::Like {
                    patterns: a.strings("like_pattern_list")?,
                    all: all || negate,
                    negate,
                },
            )
        }
        "expect_column_value_lengths_to_be_between" => {
            let b = a.bound("min_value", "max_value")?;
            if b.min.is_none() && b.max.is_none() {
                return Err(
                    "`expect_column_value_lengths_to_be_between` needs `min_value` or `max_value`"
                        .into(),
                );
            }
            ("length", CheckKind::Length(b))
        }
        "expect_column_value_lengths_to_equal" => ("length", CheckKind::Length(a.equals("value")?)),
        "expect_column_values_to_be_increasing" => (
            "increasing",
            CheckKind::Increasing {
                strict: a.flag("strictly"),
            },
        ),
        "expect_column_values_to_be_decreasing" => (
            "decreasing",
            CheckKind::Decreasing {
                strict: a.flag("strictly"),
            },
        ),
        "expect_column_values_to_match_strftime_format" => (
            "date_format",
            CheckKind::DateFormat(a.str("strftime_format")?),
        ),
        "expect_column_values_to_be_dateutil_parseable" => {
            ("date_parseable", CheckKind::DateParseable)
        }
        "expect_column_values_to_be_json_parseable" => ("json_parseable", CheckKind::JsonParseable),
        "expect_column_values_to_match_json_schema" => (
            "json_schema",
            CheckKind::JsonSchema(
                a.get("json_schema")
                    .cloned()
                    .ok_or("`expect_column_values_to_match_json_schema` needs `json_schema`")?,
            ),
        ),
        "expect_column_values_to_be_of_type" => {
            ("type", CheckKind::TypeList(vec![a.str("type_")?]))
        }
        "expect_column_values_to_be_in_type_list" => match a.get("type_list") {
            None => ("type", CheckKind::TypeList(Vec::new())),
            Some(_) => ("type", CheckKind::TypeList(a.strings("type_list")?)),
        },
        "expect_column_value_z_scores_to_be_less_than" => {
            let double_sided = a
                .get("double_sided")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            (
                "z_score",
                CheckKind::ZScore {
                    threshold: a.num("threshold")?,
                    double_sided,
                },
            )
        }
        "expect_column_min_to_be_between" => ("min", CheckKind::Min(a.agg_bound()?)),
        "expect_column_max_to_be_between" => ("max", CheckKind::Max(a.agg_bound()?)),
        "expect_column_mean_to_be_between" => ("mean", CheckKind::Mean(a.vacuous_bound()?)),
        "expect_column_median_to_be_between" => ("median", CheckKind::Median(a.vacuous_bound()?)),
        "expect_column_stdev_to_be_between" => ("stdev", CheckKind::Stdev(a.vacuous_bound()?)),
        "expect_column_sum_to_be_between" => ("sum", CheckKind::Sum(a.agg_bound()?)),
        "expect_column_unique_value_count_to_be_between" => (
            "distinct_count",
            CheckKind::DistinctCount(a.bound("min_value", "max_value")?),
        ),
        "expect_column_proportion_of_unique_values_to_be_between" => (
            "unique_fraction",
            CheckKind::UniqueFraction(a.bound("min_value", "max_value")?),
        ),
        "expect_column_proportion_of_non_null_values_to_be_between" => (
            "non_null_fraction",
            CheckKind::NonNullFraction(a.bound("min_value", "max_value")?),
        ),
        "expect_column_quantile_values_to_be_between" => {
            let qr = a
                .get("quantile_ranges")
                .ok_or("`expect_column_quantile_values_to_be_between` needs `quantile_ranges`")?;
            let qs = qr
                .get("quantiles")
                .and_then(Value::as_array)
                .ok_or("`quantile_ranges` needs `quantiles`")?;
            let rs = qr
                .get("value_ranges")
                .and_then(Value::as_array)
                .ok_or("`quantile_ranges` needs `value_ranges`")?;
            if qs.len() != rs.len() {
                return Err("`quantiles` and `value_ranges` must have the same length".into());
            }
            let mut out = Vec::new();
            for (q, r) in qs.iter().zip(rs) {
                let q = q
                    .as_f64()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .ok_or("quantiles must be numbers between 0 and 1")?;
                let r = r
                    .as_array()
                    .filter(|r| r.len() == 2)
                    .ok_or("each value range is [min, max]")?;
                let (lo, hi) = (scalar(&r[0]), scalar(&r[1]));
                if let (Some(l), Some(h)) = (
                    lo.as_ref().and_then(Scalar::as_f64),
                    hi.as_ref().and_then(Scalar::as_f64),
                ) && l > h
                {
                    return Err(format!(
                        "the value range [{l}, {h}] of quantile {q} is disordered"
                    ));
                }
                out.push((
                    q,
                    Bound {
                        min: lo,
                        max: hi,
                        ..Bound::default()
                    },
                ));
            }
            ("quantiles", CheckKind::Quantiles(out))
        }
        "expect_column_most_common_value_to_be_in_set" => (
            "most_common_in_set",
            CheckKind::MostCommonInSet {
                values: a.set("value_set")?,
                ties_okay: a.flag("ties_okay"),
            },
        ),
        // A null set is GX's "universal set": every value is in it.
        "expect_column_distinct_values_to_be_in_set" if a.get("value_set").is_none() => (
            "distinct_values",
            CheckKind::DistinctValues {
                mode: SetMode::Contain,
                values: Vec::new(),
            },
        ),
        "expect_column_distinct_values_to_be_in_set" => (
            "distinct_values",
            CheckKind::DistinctValues {
                mode: SetMode::In,
                values: a.set("value_set")?,
            },
        ),
        "expect_column_distinct_values_to_contain_set" => (
            "distinct_values",
            CheckKind::DistinctValues {
                mode: SetMode::Contain,
                values: a.set("value_set")?,
            },
        ),
        "expect_column_distinct_values_to_equal_set" => (
            "distinct_values",
            CheckKind::DistinctValues {
                mode: SetMode::Equals,
                values: a.set("value_set")?,
            },
        ),
        "expect_column_pair_values_a_to_be_greater_than_b" => {
            let op = if a.flag("or_equal") {
                CompareOp::Ge
            } else {
                CompareOp::Gt
            };
            (
                "compare",
                CheckKind::Compare {
                    left: a.str("column_A")?,
                    op,
                    right: a.str("column_B")?,
                },
            )
        }
        "expect_column_pair_values_to_be_equal" => (
            "equal",
            CheckKind::Compare {
                left: a.str("column_A")?,
                op: CompareOp::Eq,
                right: a.str("column_B")?,
            },
        ),
        "expect_column_pair_values_to_be_in_set" => {
            let pairs = match a.get("value_pairs_set") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|p| match p.as_array().map(Vec::as_slice) {
                        Some([x, y]) => Ok((scalar(x), scalar(y))),
                        _ => Err("`value_pairs_set` holds pairs [a, b]".to_string()),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => {
                    return Err(
                        "`expect_column_pair_values_to_be_in_set` needs `value_pairs_set`".into(),
                    );
                }
            };
            (
                "pair_in_set",
                CheckKind::PairInSet {
                    left: a.str("column_A")?,
                    right: a.str("column_B")?,
                    pairs,
                },
            )
        }
        "expect_compound_columns_to_be_unique" => (
            "unique",
            CheckKind::CompoundUnique(a.strings("column_list")?),
        ),
        "expect_multicolumn_sum_to_equal" => (
            "sum_equals",
            CheckKind::SumEquals {
                columns: a.strings("column_list")?,
                total: a.num("sum_total")?,
            },
        ),
        "expect_select_column_values_to_be_unique_within_record" => (
            "unique_within_record",
            CheckKind::UniqueWithinRecord(a.strings("column_list")?),
        ),
        "expect_multicolumn_values_to_be_equal" => (
            "equal_within_record",
            CheckKind::EqualWithinRecord(a.strings("column_list")?),
        ),
        "expect_column_kl_divergence_to_be_less_than" => {
            let po = a.get("partition_object").cloned().unwrap_or(Value::Null);
            (
                "kl_divergence",
                CheckKind::KlDivergence {
                    partition: po,
                    threshold: a.get("threshold").and_then(Value::as_f64),
                    internal_holdout: a
                        .get("internal_weight_holdout")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0),
                    tail_holdout: a
                        .get("tail_weight_holdout")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0),
                },
            )
        }
        other => {
            let mut msg = format!("unsupported Great Expectations expectation `{other}`");
            if let Some(s) = crate::diag::suggest(other, SUPPORTED.iter().copied()) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            msg.push_str(&format!("; supported: {}", SUPPORTED.join(", ")));
            return Err(msg);
        }
    };
    let severity = match e.severity.as_deref() {
        Some("warning" | "warn" | "info") => Severity::Warn,
        _ => Severity::Error,
    };
    let ignore = a.opt_str("ignore_row_if");
    let filter = match a.opt_str("row_condition") {
        Some(c) => Some(row_condition_sql(
            &c,
            a.opt_str("condition_parser").as_deref(),
        )?),
        None => None,
    };
    Ok(CheckDecl {
        check,
        pos: e.pos,
        column: if matches!(
            kind,
            CheckKind::Compare { .. } | CheckKind::CompoundUnique(_) | CheckKind::SumEquals { .. }
        ) {
            None
        } else {
            column
        },
        kind,
        mostly,
        severity,
        name: None,
        gx_type: Some(e.kind.clone()),
        filter,
        ignore_row_if: ignore,
        result_format: a.get("result_format").map(result_format),
    })
}

/// How many unexpected values and rows a GX `result_format` asks for.
fn result_format(v: &Value) -> crate::plan::ResultFormat {
    let (name, count) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(o) => (
            o.get("result_format")
                .and_then(Value::as_str)
                .unwrap_or("SUMMARY"),
            o.get("partial_unexpected_count").and_then(Value::as_u64),
        ),
        _ => ("SUMMARY", None),
    };
    use crate::plan::ResultFormat as R;
    match name {
        "BOOLEAN_ONLY" => R::BooleanOnly,
        "BASIC" => R::Basic(count.unwrap_or(20) as usize),
        "COMPLETE" => R::Complete,
        _ => R::Summary(count.unwrap_or(20) as usize),
    }
}

/// A GX suite as a native suite (checks keep their `gx_type`).
pub fn to_suite(name: &str, expectations: &[GxExpectation]) -> Result<SuiteDecl, Vec<String>> {
    let mut checks = Vec::new();
    let mut errors = Vec::new();
    for (i, e) in expectations.iter().enumerate() {
        match to_check(e) {
            Ok(c) => checks.push(c),
            Err(msg) => errors.push(format!("expectations[{i}] ({}): {msg}", e.kind)),
        }
    }
    if errors.is_empty() {
        Ok(SuiteDecl {
            name: name.to_string(),
            pos: Pos::default(),
            source: None,
            id_columns: vec![],
            sample_size: 20,
            severity: Severity::Error,
            checks,
        })
    } else {
        Err(errors)
    }
}

/// A plan scalar in YAML: plain when that reads back as the same string, else single-quoted.
fn yaml_scalar(v: &Scalar) -> String {
    match v {
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) if f.is_nan() => ".nan".into(),
        Scalar::Float(f) if f.is_infinite() => {
            if *f > 0.0 {
                ".inf".into()
            } else {
                "-.inf".into()
            }
        }
        Scalar::Float(f) => format!("{f:?}"),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Str(s) => yaml_str(s),
    }
}

fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
        && !s.ends_with(' ')
        && !matches!(
            s.to_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        );
    if plain {
        s.to_string()
    } else if s.chars().any(char::is_control) {
        // Line breaks and control characters need YAML's escaped (double-quoted) form, which
        // JSON's string syntax is.
        serde_json::to_string(s).unwrap_or_else(|_| format!("'{}'", s.replace('\'', "''")))
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn yaml_list(vs: &[Scalar]) -> String {
    format!(
        "[{}]",
        vs.iter().map(yaml_scalar).collect::<Vec<_>>().join(", ")
    )
}

fn yaml_names(vs: &[String]) -> String {
    format!(
        "[{}]",
        vs.iter()
            .map(|s| yaml_str(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A JSON value in YAML flow style (for kwargs kept in GX form).
fn yaml_json(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(yaml_json).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", yaml_str(k), yaml_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn bound_yaml(b: &Bound) -> String {
    let mut parts = Vec::new();
    match (&b.min, &b.max) {
        (Some(a), Some(c)) if a == c && !b.strict_min && !b.strict_max => {
            parts.push(format!("equals: {}", yaml_scalar(a)))
        }
        (Some(a), Some(c)) if !b.strict_min && !b.strict_max => {
            parts.push(format!("between: [{}, {}]", yaml_scalar(a), yaml_scalar(c)))
        }
        _ => {
            if let Some(a) = &b.min {
                parts.push(format!(
                    "{}: {}",
                    if b.strict_min {
                        "greater_than"
                    } else {
                        "at_least"
                    },
                    yaml_scalar(a)
                ));
            }
            if let Some(c) = &b.max {
                parts.push(format!(
                    "{}: {}",
                    if b.strict_max { "less_than" } else { "at_most" },
                    yaml_scalar(c)
                ));
            }
        }
    }
    parts.join(", ")
}

/// The long-form extras every check may carry.
fn extras(c: &CheckDecl, mostly_ok: bool) -> Vec<String> {
    let mut out = Vec::new();
    if mostly_ok && let Some(m) = c.mostly {
        out.push(format!("mostly: {m:?}"));
    }
    if c.severity == Severity::Warn {
        out.push("severity: warn".into());
    }
    out
}

fn flow(main: Vec<String>, extra: Vec<String>) -> String {
    let all: Vec<String> = main.into_iter().chain(extra).collect();
    format!("{{ {} }}", all.join(", "))
}

/// Where a native rendering of a check goes.
enum Native {
    Table(&'static str, String),
    Column(String, &'static str, String),
    Row(String),
}

fn native(c: &CheckDecl) -> Option<Native> {
    if c.filter.is_some() || c.ignore_row_if.is_some() {
        return None;
    }
    let col = c.column.clone();
    let ex = |m: bool| extras(c, m);
    let with = |short: String, long_key: &str, m: bool| {
        let e = ex(m);
        if e.is_empty() {
            short
        } else {
            flow(vec![format!("{long_key}: {short}")], e)
        }
    };
    let bound = |b: &Bound| flow(vec![bound_yaml(b)], ex(false));
    let empty = |b: &Bound| b.min.is_none() && b.max.is_none();
    let any_empty = match &c.kind {
        CheckKind::RowCount(b)
        | CheckKind::ColumnCount(b)
        | CheckKind::Min(b)
        | CheckKind::Max(b)
        | CheckKind::Sum(b)
        | CheckKind::Length(b) => empty(b),
        CheckKind::DistinctCount(b)
        | CheckKind::UniqueFraction(b)
        | CheckKind::NonNullFraction(b) => empty(b),
        CheckKind::Quantiles(qs) => {
            qs.is_empty()
                || qs.iter().any(|(_, b)| empty(b))
                || qs.windows(2).any(|w| w[0].0 == w[1].0)
        }
        _ => false,
    };
    if any_empty {
        // No native way to write "any value" bounds: keep the GX form.
        return None;
    }
    Some(match &c.kind {
        CheckKind::RowCount(b) => Native::Table("row_count", bound(b)),
        CheckKind::ColumnCount(b) => Native::Table("column_count", bound(b)),
        CheckKind::Columns {
            exact,
            include,
            exclude,
            ordered,
        } => {
            let mut parts = Vec::new();
            if let Some(e) = exact {
                parts.push(format!("exact: {}", yaml_names(e)));
            }
            if !include.is_empty() {
                parts.push(format!("include: {}", yaml_names(include)));
            }
            if !exclude.is_empty() {
                parts.push(format!("exclude: {}", yaml_names(exclude)));
            }
            if *ordered {
                parts.push("ordered: true".into());
            }
            Native::Table("columns", flow(parts, ex(false)))
        }
        CheckKind::CompoundUnique(cols) => {
            Native::Table("unique", with(yaml_names(cols), "columns", true))
        }
        CheckKind::NotNull => Native::Column(
            col?,
            "not_null",
            if ex(true).is_empty() {
                "true".into()
            } else {
                flow(vec![], ex(true))
            },
        ),
        CheckKind::Null => Native::Column(
            col?,
            "null",
            if ex(true).is_empty() {
                "true".into()
            } else {
                flow(vec![], ex(true))
            },
        ),
        CheckKind::Unique => Native::Column(
            col?,
            "unique",
            if ex(true).is_empty() {
                "true".into()
            } else {
                flow(vec![], ex(true))
            },
        ),
        CheckKind::JsonParseable => Native::Column(
            col?,
            "json_parseable",
            if ex(true).is_empty() {
                "true".into()
            } else {
                flow(vec![], ex(true))
            },
        ),
        CheckKind::DateParseable => Native::Column(
            col?,
            "date_parseable",
            if ex(true).is_empty() {
                "true".into()
            } else {
                flow(vec![], ex(true))
            },
        ),
        CheckKind::Between(b) => {
            let mut parts = Vec::new();
            if let Some(v) = &b.min {
                parts.push(format!("min: {}", yaml_scalar(v)));
            }
            if let Some(v) = &b.max {
                parts.push(format!("max: {}", yaml_scalar(v)));
            }
            if b.strict_min {
                parts.push("strict_min: true".into());
            }
            if b.strict_max {
                parts.push("strict_max: true".into());
            }
            Native::Column(col?, "between", flow(parts, ex(true)))
        }
        CheckKind::InSet(vs) => Native::Column(col?, "in_set", with(yaml_list(vs), "values", true)),
        CheckKind::NotInSet(vs) => {
            Native::Column(col?, "not_in_set", with(yaml_list(vs), "values", true))
        }
        CheckKind::Matches(re) => {
            Native::Column(col?, "matches", with(yaml_str(re), "regex", true))
        }
        CheckKind::NotMatches(re) => {
            Native::Column(col?, "not_matches", with(yaml_str(re), "regex", true))
        }
        CheckKind::Length(b) => Native::Column(col?, "length", flow(vec![bound_yaml(b)], ex(true))),
        CheckKind::Increasing { strict } | CheckKind::Decreasing { strict } => {
            let name = if matches!(c.kind, CheckKind::Increasing { .. }) {
                "increasing"
            } else {
                "decreasing"
            };
            let mut parts = Vec::new();
            if *strict {
                parts.push("strict: true".to_string());
            }
            let e = ex(true);
            Native::Column(
                col?,
                name,
                if parts.is_empty() && e.is_empty() {
                    "true".into()
                } else {
                    flow(parts, e)
                },
            )
        }
        CheckKind::DateFormat(f) => {
            Native::Column(col?, "date_format", with(yaml_str(f), "format", true))
        }
        CheckKind::Min(b) => Native::Column(col?, "min", bound(b)),
        CheckKind::Max(b) => Native::Column(col?, "max", bound(b)),
        CheckKind::Mean(b) if b.min.is_some() || b.max.is_some() => {
            Native::Column(col?, "mean", bound(b))
        }
        CheckKind::Median(b) if b.min.is_some() || b.max.is_some() => {
            Native::Column(col?, "median", bound(b))
        }
        CheckKind::Stdev(b) if b.min.is_some() || b.max.is_some() => {
            Native::Column(col?, "stdev", bound(b))
        }
        CheckKind::Sum(b) => Native::Column(col?, "sum", bound(b)),
        CheckKind::DistinctCount(b) => Native::Column(col?, "distinct_count", bound(b)),
        CheckKind::UniqueFraction(b) => Native::Column(col?, "unique_fraction", bound(b)),
        CheckKind::NonNullFraction(b) => Native::Column(col?, "non_null_fraction", bound(b)),
        CheckKind::Quantiles(qs) => {
            let parts: Vec<String> = qs
                .iter()
                .map(|(q, b)| format!("{q:?}: {{ {} }}", bound_yaml(b)))
                .collect();
            Native::Column(col?, "quantiles", flow(parts, ex(false)))
        }
        CheckKind::MostCommonInSet { values, ties_okay } => {
            let mut parts = vec![format!("values: {}", yaml_list(values))];
            if *ties_okay {
                parts.push("ties_okay: true".into());
            }
            Native::Column(col?, "most_common_in_set", flow(parts, ex(false)))
        }
        CheckKind::DistinctValues { mode, values }
            if !values.is_empty() || *mode != SetMode::Contain =>
        {
            let key = match mode {
                SetMode::In => "in",
                SetMode::Contain => "contain",
                SetMode::Equals => "equals",
            };
            Native::Column(
                col?,
                "distinct_values",
                flow(vec![format!("{key}: {}", yaml_list(values))], ex(false)),
            )
        }
        CheckKind::ZScore {
            threshold,
            double_sided,
        } => {
            let mut parts = vec![format!("threshold: {threshold:?}")];
            if !double_sided {
                parts.push("double_sided: false".into());
            }
            Native::Column(col?, "z_score", flow(parts, ex(true)))
        }
        CheckKind::Compare { left, op, right } => {
            let body = if *op == CompareOp::Eq {
                format!("equal: {}", yaml_names(&[left.clone(), right.clone()]))
            } else {
                format!(
                    "compare: [{}, '{}', {}]",
                    yaml_str(left),
                    op.sql().replace("<>", "!="),
                    yaml_str(right)
                )
            };
            Native::Row(flow(vec![body], ex(true)))
        }
        CheckKind::SumEquals { columns, total } => Native::Row(flow(
            vec![format!(
                "sum_equals: {{ columns: {}, total: {total:?} }}",
                yaml_names(columns)
            )],
            ex(true),
        )),
        _ => return None,
    })
}

/// Convert a GX suite to a native YAML suite: native checks where one exists, the GX form under
/// `expectations:` where none does, and comments for what is not carried over.
pub fn to_yaml(
    name: &str,
    format: &str,
    expectations: &[GxExpectation],
) -> Result<String, Vec<String>> {
    let suite = to_suite(name, expectations)?;
    let mut table: Vec<(String, String)> = Vec::new();
    let mut columns: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut rows: Vec<String> = Vec::new();
    let mut kept: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for (e, c) in expectations.iter().zip(&suite.checks) {
        for k in e.kwargs.keys() {
            if matches!(
                k.as_str(),
                "result_format"
                    | "catch_exceptions"
                    | "include_config"
                    | "meta"
                    | "notes"
                    | "id"
                    | "description"
            ) {
                notes.push(format!("{}: `{k}` is not carried over (tollgate always reports counts and a sample of failing rows)", e.kind));
            }
        }
        let placed = match native(c) {
            Some(Native::Table(key, v)) if !table.iter().any(|(k, _)| k == key) => {
                table.push((key.to_string(), v));
                true
            }
            Some(Native::Column(col, key, v)) => {
                let entry = match columns.iter_mut().position(|(c, _)| *c == col) {
                    Some(i) => &mut columns[i].1,
                    None => {
                        columns.push((col.clone(), Vec::new()));
                        &mut columns.last_mut().expect("just pushed").1
                    }
                };
                if entry.iter().any(|(k, _)| k == key) {
                    false
                } else {
                    entry.push((key.to_string(), v));
                    true
                }
            }
            Some(Native::Row(v)) => {
                rows.push(v);
                true
            }
            _ => false,
        };
        if !placed {
            let kwargs: serde_json::Map<String, Value> = e
                .kwargs
                .iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "result_format" | "catch_exceptions" | "include_config"
                    )
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut item = format!(
                "  - {{ type: {}, kwargs: {}",
                e.kind,
                yaml_json(&Value::Object(kwargs))
            );
            if let Some(sev) = &e.severity {
                item.push_str(&format!(", severity: {}", yaml_str(sev)));
            }
            item.push_str(" }");
            kept.push(item);
        }
    }
    let native_count = expectations.len() - kept.len();
    let mut out = format!(
        "# Imported by `tollgate import gx` from the Great Expectations suite `{name}` ({format} format).\n# {} expectations: {native_count} written as native checks, {} kept in GX form under `expectations:`.\n",
        expectations.len(),
        kept.len()
    );
    notes.sort();
    notes.dedup();
    for n in &notes {
        out.push_str(&format!("# Not carried over: {n}\n"));
    }
    if !table.is_empty() {
        out.push_str("table:\n");
        for (k, v) in &table {
            out.push_str(&format!("  {k}: {v}\n"));
        }
    }
    if !columns.is_empty() {
        out.push_str("columns:\n");
        for (col, checks) in &columns {
            let body: Vec<String> = checks.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let line = format!("  {}: {{ {} }}\n", yaml_str(col), body.join(", "));
            if line.len() <= 110 {
                out.push_str(&line);
            } else {
                out.push_str(&format!("  {}:\n", yaml_str(col)));
                for b in body {
                    out.push_str(&format!("    {b}\n"));
                }
            }
        }
    }
    if !rows.is_empty() {
        out.push_str("rows:\n");
        for r in &rows {
            out.push_str(&format!("  - {r}\n"));
        }
    }
    if !kept.is_empty() {
        out.push_str("expectations:\n");
        for k in &kept {
            out.push_str(k);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Which format a GX suite document is in ("1.x" or "0.x").
pub fn format_of(text: &str) -> &'static str {
    if text.contains("\"expectation_suite_name\"") || text.contains("\"expectation_type\"") {
        "0.x"
    } else {
        "1.x"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITE_1X: &str = r#"{
      "name": "orders",
      "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 100}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0, "max_value": 120, "mostly": 0.95}, "severity": "warning"},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "country", "value_set": ["US", "GB"], "result_format": "COMPLETE"}},
        {"type": "expect_column_values_to_match_regex_list", "kwargs": {"column": "email", "regex_list": ["@", "\\."], "match_on": "all"}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b", "kwargs": {"column_A": "end", "column_B": "start", "or_equal": true}}
      ]
    }"#;

    #[test]
    fn both_formats_parse() {
        let (name, es) = parse_suite_json(SUITE_1X).unwrap();
        assert_eq!(name, "orders");
        assert_eq!(es.len(), 6);
        let old = r#"{"expectation_suite_name": "s", "expectations": [{"expectation_type": "expect_column_to_exist", "kwargs": {"column": "a"}}]}"#;
        let (name, es) = parse_suite_json(old).unwrap();
        assert_eq!(
            (name.as_str(), es[0].kind.as_str()),
            ("s", "expect_column_to_exist")
        );
        assert_eq!(format_of(old), "0.x");
        assert_eq!(
            snake("ExpectColumnValuesToBeBetween"),
            "expect_column_values_to_be_between"
        );
        assert_eq!(
            snake("ExpectColumnKLDivergenceToBeLessThan"),
            "expect_column_kl_divergence_to_be_less_than"
        );
    }

    #[test]
    fn import_writes_a_native_suite_that_parses_back() {
        let (name, es) = parse_suite_json(SUITE_1X).unwrap();
        let yaml = to_yaml(&name, "1.x", &es).unwrap();
        assert!(yaml.contains("row_count: { between: [1, 100] }"), "{yaml}");
        assert!(
            yaml.contains("age: { between: { min: 0, max: 120, mostly: 0.95, severity: warn } }"),
            "{yaml}"
        );
        assert!(yaml.contains("compare: [end, '>=', start]"), "{yaml}");
        assert!(
            yaml.contains("type: expect_column_values_to_match_regex_list"),
            "{yaml}"
        );
        assert!(
            yaml.contains("Not carried over: expect_column_values_to_be_in_set: `result_format`"),
            "{yaml}"
        );
        let suite = crate::plan::parse_suite(&yaml, "orders")
            .unwrap_or_else(|d| panic!("{}\n{yaml}", d.render(Some(&yaml))));
        assert_eq!(suite.checks.len(), 6);
        let direct = to_suite(&name, &es).unwrap();
        let kinds = |s: &SuiteDecl| {
            let mut k: Vec<String> = s.checks.iter().map(|c| format!("{:?}", c.kind)).collect();
            k.sort();
            k
        };
        assert_eq!(
            kinds(&suite),
            kinds(&direct),
            "the imported YAML means what the GX suite means"
        );
    }

    #[test]
    fn awkward_values_survive_the_round_trip() {
        let doc = r#"{"name": "x", "expectations": [
            {"type": "expect_table_row_count_to_be_between", "kwargs": {}, "severity": "warning"},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "c", "value_set": ["a\nb", "it's", "yes", "\\d+"]}},
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "c", "regex": "^\\d{3}-'x'$"}}
        ]}"#;
        let (name, es) = parse_suite_json(doc).unwrap();
        let yaml = to_yaml(&name, "1.x", &es).unwrap();
        let suite = crate::plan::parse_suite(&yaml, "x")
            .unwrap_or_else(|d| panic!("{}\n{yaml}", d.render(Some(&yaml))));
        let direct = to_suite(&name, &es).unwrap();
        let kinds = |s: &SuiteDecl| {
            s.checks
                .iter()
                .map(|c| format!("{:?}", c.kind))
                .collect::<Vec<_>>()
        };
        let (mut a, mut b) = (kinds(&suite), kinds(&direct));
        a.sort();
        b.sort();
        assert_eq!(a, b, "{yaml}");
    }

    #[test]
    fn bad_documents_are_clear_errors() {
        let e = parse_suite_json("{\"name\": \"x\",\n \"expectations\": [ {\"type\": 1,} ]}")
            .unwrap_err();
        assert!(e.starts_with("invalid JSON at line 2, column"), "{e}");
        let e = parse_suite_json(r#"{"name": "x"}"#).unwrap_err();
        assert!(e.contains("no `expectations` list"), "{e}");
        let (_, es) = parse_suite_json(r#"{"name": "x", "expectations": [{"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": -Infinity, "max_value": 5}}]}"#).unwrap();
        let c = to_check(&es[0]).unwrap();
        assert_eq!(
            c.kind,
            CheckKind::Between(Bound {
                min: Some(Scalar::Float(f64::NEG_INFINITY)),
                max: Some(Scalar::Int(5)),
                ..Bound::default()
            })
        );
        let wrong = |kw: &str| {
            let (_, es) = parse_suite_json(&format!(r#"{{"expectations": [{{"type": "expect_column_values_to_be_in_set", "kwargs": {kw}}}]}}"#)).unwrap();
            to_check(&es[0]).unwrap_err()
        };
        assert!(wrong(r#"{"column": "a"}"#).contains("needs `value_set`"));
        assert!(
            wrong(r#"{"column": "a", "value_set": "US"}"#).contains("`value_set` must be a list")
        );
        assert!(
            wrong(r#"{"column": "a", "value_set": [1], "mostly": "most"}"#)
                .contains("`mostly` must be a number")
        );
        assert!(wrong(r#"{"value_set": [1]}"#).contains("needs `column`"));
    }

    #[test]
    fn unsupported_expectations_are_named_with_the_supported_list() {
        let e = GxExpectation {
            kind: "expect_column_values_to_be_awesome".into(),
            kwargs: Map::new(),
            severity: None,
            pos: Pos::default(),
        };
        let msg = to_check(&e).unwrap_err();
        assert!(
            msg.contains(
                "unsupported Great Expectations expectation `expect_column_values_to_be_awesome`"
            ),
            "{msg}"
        );
        assert!(msg.contains("expect_column_values_to_be_between"), "{msg}");
    }

    #[test]
    fn row_conditions_become_sql() {
        assert_eq!(
            row_condition_sql(r#"a > 5 & b == "x""#, Some("pandas")).unwrap(),
            "a > 5  AND  b = 'x'"
        );
        assert_eq!(
            row_condition_sql(
                r#"col("a") > 5"#,
                Some("great_expectations__experimental__")
            )
            .unwrap(),
            r#""a" > 5"#
        );
        assert!(row_condition_sql("a > 1", Some("bad_parser")).is_err());
    }
}
