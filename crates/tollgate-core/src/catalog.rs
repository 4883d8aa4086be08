//! The check catalogue: every built-in check, registered once, with its documentation.
//!
//! `tollgate explain CHECK` prints an entry; the plan decoder uses the names to reject unknown
//! checks with a suggestion. A test below keeps the names unique.

/// Where a check is written in a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Under `table:`.
    Table,
    /// Under `columns: {NAME: ...}`.
    Column,
    /// An item of `rows:`.
    Row,
    /// An item of `aggregates:`.
    Aggregate,
    /// Written as a Great Expectations expectation under `expectations:`.
    Expectation,
}

impl Scope {
    /// Section name in a suite.
    pub fn section(self) -> &'static str {
        match self {
            Scope::Table => "table",
            Scope::Column => "columns",
            Scope::Row => "rows",
            Scope::Aggregate => "aggregates",
            Scope::Expectation => "expectations",
        }
    }
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct CheckDoc {
    /// Stable native name.
    pub name: &'static str,
    /// Where it is written.
    pub scope: Scope,
    /// The Great Expectations expectation(s) it corresponds to.
    pub gx: &'static str,
    /// What it checks and how it counts.
    pub summary: &'static str,
    /// A YAML example.
    pub example: &'static str,
}

const BOUND: &str = "Bounds: `between: [lo, hi]`, `at_least`, `at_most`, `equals`, `greater_than`, `less_than`; a bare number means `equals`.";

/// Every built-in check, in catalogue order.
pub const CHECKS: &[CheckDoc] = &[
    CheckDoc {
        name: "row_count",
        scope: Scope::Table,
        gx: "expect_table_row_count_to_be_between, expect_table_row_count_to_equal",
        summary: "The number of rows of the source is within the bounds.",
        example: "table:\n  row_count: { between: [800, 1000] }",
    },
    CheckDoc {
        name: "column_count",
        scope: Scope::Table,
        gx: "expect_table_column_count_to_be_between, expect_table_column_count_to_equal",
        summary: "The number of columns is within the bounds.",
        example: "table:\n  column_count: { equals: 12 }",
    },
    CheckDoc {
        name: "columns",
        scope: Scope::Table,
        gx: "expect_table_columns_to_match_set, expect_table_columns_to_match_ordered_list, expect_column_to_exist",
        summary: "The column names: `exact` (the set, or the list when `ordered: true`), `include` (these must exist; others may be added), `exclude` (these must not exist). A bare list means `exact`.",
        example: "table:\n  columns: { include: [PassengerId, Survived] }",
    },
    CheckDoc {
        name: "unique",
        scope: Scope::Table,
        gx: "expect_compound_columns_to_be_unique, expect_select_column_values_to_be_unique_within_record",
        summary: "The combination of the listed columns is unique over rows. Rows where every listed column is null are ignored. Unexpected rows are all rows whose combination occurs more than once.",
        example: "table:\n  unique: [order_id, line]",
    },
    CheckDoc {
        name: "type",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_of_type, expect_column_values_to_be_in_type_list",
        summary: "The column has this type: int8..int64, uint8..uint64, float32, float64, string, bool, date, timestamp, or a family (integer, float, numeric, string, temporal). On CSV sources the type is pinned: the column is read as text and converted, so inference cannot change it, and values that do not convert are counted as unexpected.",
        example: "columns:\n  PassengerId: { type: int64 }",
    },
    CheckDoc {
        name: "not_null",
        scope: Scope::Column,
        gx: "expect_column_values_to_not_be_null",
        summary: "Values are not null. `mostly` is the fraction of all rows that must be non-null. NaN is not null.",
        example: "columns:\n  Age: { not_null: { mostly: 0.8 } }",
    },
    CheckDoc {
        name: "null_fraction",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_null (with mostly)",
        summary: "The fraction of null values is within the bounds.",
        example: "columns:\n  Cabin: { null_fraction: { at_most: 0.8 } }",
    },
    CheckDoc {
        name: "unique",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_unique",
        summary: "No non-null value occurs twice. Unexpected values are all occurrences of a repeated value; nulls are ignored.",
        example: "columns:\n  PassengerId: { unique: true }",
    },
    CheckDoc {
        name: "between",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_between",
        summary: "Every non-null value lies in [min, max] (inclusive unless `strict_min` / `strict_max`). Works on numbers, dates, timestamps (bounds as ISO text) and strings (lexicographic). NaN fails every range; infinities compare as numbers.",
        example: "columns:\n  Age: { between: { min: 0, max: 100, mostly: 0.99 } }",
    },
    CheckDoc {
        name: "in_set",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_in_set",
        summary: "Every non-null value is one of the listed values.",
        example: "columns:\n  Sex: { in_set: [male, female] }",
    },
    CheckDoc {
        name: "not_in_set",
        scope: Scope::Column,
        gx: "expect_column_values_to_not_be_in_set",
        summary: "No non-null value is one of the listed values.",
        example: "columns:\n  Embarked: { not_in_set: ['', '?'] }",
    },
    CheckDoc {
        name: "matches",
        scope: Scope::Column,
        gx: "expect_column_values_to_match_regex",
        summary: "Every non-null string contains a match of the regex (use ^...$ for a full match). Rust regex syntax; only string columns.",
        example: "columns:\n  Name: { matches: { regex: '^[^,]+, ', mostly: 0.99 } }",
    },
    CheckDoc {
        name: "not_matches",
        scope: Scope::Column,
        gx: "expect_column_values_to_not_match_regex",
        summary: "No non-null string contains a match of the regex.",
        example: "columns:\n  Ticket: { not_matches: '\\s$' }",
    },
    CheckDoc {
        name: "length",
        scope: Scope::Column,
        gx: "expect_column_value_lengths_to_be_between, expect_column_value_lengths_to_equal",
        summary: "The length in characters of every non-null string is within the bounds. A bare number means `equals`.",
        example: "columns:\n  Embarked: { length: 1 }",
    },
    CheckDoc {
        name: "increasing",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_increasing",
        summary: "Each non-null value is >= the previous non-null value in file order (`strict: true` for >). Unexpected values are those smaller than their predecessor. Needs an ordered read, so it costs one extra scan.",
        example: "columns:\n  ts: { increasing: { strict: true } }",
    },
    CheckDoc {
        name: "decreasing",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_decreasing",
        summary: "Each non-null value is <= the previous non-null value in file order (`strict: true` for <). Costs one extra scan.",
        example: "columns:\n  rank: { decreasing: true }",
    },
    CheckDoc {
        name: "date_format",
        scope: Scope::Column,
        gx: "expect_column_values_to_match_strftime_format, expect_column_values_to_be_dateutil_parseable",
        summary: "Every non-null string parses as a date, time or timestamp with the strftime format (chrono syntax, whole string).",
        example: "columns:\n  day: { date_format: '%Y-%m-%d' }",
    },
    CheckDoc {
        name: "min",
        scope: Scope::Column,
        gx: "expect_column_min_to_be_between",
        summary: BOUND,
        example: "columns:\n  Fare: { min: { at_least: 0 } }",
    },
    CheckDoc {
        name: "max",
        scope: Scope::Column,
        gx: "expect_column_max_to_be_between",
        summary: BOUND,
        example: "columns:\n  Fare: { max: { at_most: 600 } }",
    },
    CheckDoc {
        name: "mean",
        scope: Scope::Column,
        gx: "expect_column_mean_to_be_between",
        summary: BOUND,
        example: "columns:\n  Fare: { mean: { between: [20, 50] } }",
    },
    CheckDoc {
        name: "median",
        scope: Scope::Column,
        gx: "expect_column_median_to_be_between",
        summary: "Exact median of the non-null values (mean of the two middle values for an even count).",
        example: "columns:\n  Age: { median: { between: [25, 32] } }",
    },
    CheckDoc {
        name: "stdev",
        scope: Scope::Column,
        gx: "expect_column_stdev_to_be_between",
        summary: "Sample standard deviation (ddof = 1) of the non-null values.",
        example: "columns:\n  Fare: { stdev: { at_most: 60 } }",
    },
    CheckDoc {
        name: "sum",
        scope: Scope::Column,
        gx: "expect_column_sum_to_be_between",
        summary: BOUND,
        example: "columns:\n  Survived: { sum: { between: [300, 400] } }",
    },
    CheckDoc {
        name: "quantiles",
        scope: Scope::Column,
        gx: "expect_column_quantile_values_to_be_between",
        summary: "Exact quantiles (linear interpolation) of the non-null values, each with its bounds.",
        example: "columns:\n  Age:\n    quantiles:\n      0.25: { between: [18, 22] }\n      0.75: { between: [35, 40] }",
    },
    CheckDoc {
        name: "distinct_count",
        scope: Scope::Column,
        gx: "expect_column_unique_value_count_to_be_between",
        summary: "The number of distinct non-null values is within the bounds.",
        example: "columns:\n  Pclass: { distinct_count: { equals: 3 } }",
    },
    CheckDoc {
        name: "unique_fraction",
        scope: Scope::Column,
        gx: "expect_column_proportion_of_unique_values_to_be_between",
        summary: "Distinct non-null values divided by non-null values.",
        example: "columns:\n  Ticket: { unique_fraction: { at_least: 0.7 } }",
    },
    CheckDoc {
        name: "most_common_in_set",
        scope: Scope::Column,
        gx: "expect_column_most_common_value_to_be_in_set",
        summary: "The most frequent non-null value is in the set; with ties, every tied value must be (unless `ties_okay: true`, then one is enough).",
        example: "columns:\n  Embarked: { most_common_in_set: [S] }",
    },
    CheckDoc {
        name: "distinct_values",
        scope: Scope::Column,
        gx: "expect_column_distinct_values_to_be_in_set, expect_column_distinct_values_to_contain_set, expect_column_distinct_values_to_equal_set",
        summary: "The set of distinct non-null values is within (`in`), contains (`contain`) or equals (`equals`) the given set.",
        example: "columns:\n  Pclass: { distinct_values: { equals: [1, 2, 3] } }",
    },
    CheckDoc {
        name: "null",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_null",
        summary: "Values are null; `mostly` is the fraction of all rows that must be null.",
        example: "columns:\n  legacy_code: { null: true }",
    },
    CheckDoc {
        name: "non_null_fraction",
        scope: Scope::Column,
        gx: "expect_column_proportion_of_non_null_values_to_be_between",
        summary: "The fraction of non-null values is within the bounds.",
        example: "columns:\n  Age: { non_null_fraction: { at_least: 0.75 } }",
    },
    CheckDoc {
        name: "date_parseable",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_dateutil_parseable",
        summary: "Every non-null string is a date or time in a common format (ISO 8601, RFC 2822, 01/31/2025, 31.01.2025, Jan 31, 2025, 12:30 ...). Narrower than Python's dateutil, which accepts almost anything.",
        example: "columns:\n  signup: { date_parseable: true }",
    },
    CheckDoc {
        name: "json_parseable",
        scope: Scope::Column,
        gx: "expect_column_values_to_be_json_parseable",
        summary: "Every non-null string is one JSON document.",
        example: "columns:\n  payload: { json_parseable: true }",
    },
    CheckDoc {
        name: "z_score",
        scope: Scope::Column,
        gx: "expect_column_value_z_scores_to_be_less_than",
        summary: "|value - mean| / stdev (sample stdev) of every non-null value is below `threshold` (`double_sided: false` compares the signed z-score). Costs one extra query.",
        example: "columns:\n  amount: { z_score: { threshold: 4, mostly: 0.999 } }",
    },
    CheckDoc {
        name: "column_exists",
        scope: Scope::Expectation,
        gx: "expect_column_to_exist",
        summary: "The column exists (at `column_index`, when given). Natively: `table: { columns: { include: [...] } }`.",
        example: "expectations:\n  - { type: expect_column_to_exist, kwargs: { column: id } }",
    },
    CheckDoc {
        name: "regex_list",
        scope: Scope::Expectation,
        gx: "expect_column_values_to_match_regex_list, expect_column_values_to_not_match_regex_list",
        summary: "Every non-null string matches any (`match_on: any`) or all of the regexes; the `not` form: none of them.",
        example: "expectations:\n  - { type: expect_column_values_to_match_regex_list, kwargs: { column: code, regex_list: ['^A', '^B'] } }",
    },
    CheckDoc {
        name: "like",
        scope: Scope::Expectation,
        gx: "expect_column_values_to_match_like_pattern(_list), expect_column_values_to_not_match_like_pattern(_list)",
        summary: "SQL LIKE patterns, as `regex_list`.",
        example: "expectations:\n  - { type: expect_column_values_to_match_like_pattern, kwargs: { column: code, like_pattern: 'A%' } }",
    },
    CheckDoc {
        name: "json_schema",
        scope: Scope::Expectation,
        gx: "expect_column_values_to_match_json_schema",
        summary: "Every non-null string is JSON satisfying the JSON Schema (type, enum, const, properties, required, additionalProperties, items, bounds, lengths, pattern, allOf/anyOf/oneOf/not).",
        example: "expectations:\n  - { type: expect_column_values_to_match_json_schema, kwargs: { column: payload, json_schema: { required: [id] } } }",
    },
    CheckDoc {
        name: "type_list",
        scope: Scope::Expectation,
        gx: "expect_column_values_to_be_of_type, expect_column_values_to_be_in_type_list",
        summary: "The column's type is one of the listed types, in pandas, SQL or Spark names (int, int64, float, str, object, bool, datetime64, INTEGER, VARCHAR, StringType ...).",
        example: "expectations:\n  - { type: expect_column_values_to_be_in_type_list, kwargs: { column: id, type_list: [int, int64] } }",
    },
    CheckDoc {
        name: "pair_in_set",
        scope: Scope::Expectation,
        gx: "expect_column_pair_values_to_be_in_set",
        summary: "Each row's pair of values of two columns is one of the listed pairs.",
        example: "expectations:\n  - { type: expect_column_pair_values_to_be_in_set, kwargs: { column_A: a, column_B: b, value_pairs_set: [[1, x], [2, y]] } }",
    },
    CheckDoc {
        name: "unique_within_record",
        scope: Scope::Expectation,
        gx: "expect_select_column_values_to_be_unique_within_record",
        summary: "Within each row the listed columns hold distinct values (two nulls count as equal).",
        example: "expectations:\n  - { type: expect_select_column_values_to_be_unique_within_record, kwargs: { column_list: [a, b, c] } }",
    },
    CheckDoc {
        name: "equal_within_record",
        scope: Scope::Expectation,
        gx: "expect_multicolumn_values_to_be_equal",
        summary: "Within each row the listed columns hold equal values.",
        example: "expectations:\n  - { type: expect_multicolumn_values_to_be_equal, kwargs: { column_list: [a, b] } }",
    },
    CheckDoc {
        name: "kl_divergence",
        scope: Scope::Expectation,
        gx: "expect_column_kl_divergence_to_be_less_than",
        summary: "KL divergence of the column's distribution from a GX partition object (`bins` + `weights`, or `values` + `weights`), with `tail_weight_holdout` and `internal_weight_holdout` as GX defines them.",
        example: "expectations:\n  - { type: expect_column_kl_divergence_to_be_less_than, kwargs: { column: c, partition_object: { values: [a, b], weights: [0.6, 0.4] }, threshold: 0.1 } }",
    },
    CheckDoc {
        name: "condition",
        scope: Scope::Row,
        gx: "expect_column_values_to_... with row_condition; query expectations",
        summary: "A SQL boolean expression over a row's columns holds. Rows where it is NULL are neither expected nor unexpected; `mostly` is over the others.",
        example: "rows:\n  - { name: fare-not-negative, condition: \"Fare >= 0\" }",
    },
    CheckDoc {
        name: "compare",
        scope: Scope::Row,
        gx: "expect_column_pair_values_A_to_be_greater_than_B",
        summary: "`[a, op, b]` with op one of > >= < <= = !=: compares two columns row by row; rows where either is null are ignored.",
        example: "rows:\n  - { compare: [end_ts, '>=', start_ts] }",
    },
    CheckDoc {
        name: "equal",
        scope: Scope::Row,
        gx: "expect_column_pair_values_to_be_equal",
        summary: "Two columns hold equal values row by row; rows where either is null are ignored.",
        example: "rows:\n  - { equal: [billing_country, shipping_country], mostly: 0.9 }",
    },
    CheckDoc {
        name: "sum_equals",
        scope: Scope::Row,
        gx: "expect_multicolumn_sum_to_equal",
        summary: "The sum of the listed columns equals `total` in every row; rows with a null in any listed column are ignored.",
        example: "rows:\n  - { sum_equals: { columns: [a, b, c], total: 100 } }",
    },
    CheckDoc {
        name: "aggregate",
        scope: Scope::Aggregate,
        gx: "(custom query expectations)",
        summary: "A SQL aggregate expression over the source (computed in the same scan) is within the bounds.",
        example: "aggregates:\n  - { name: share-survived, sql: \"avg(Survived)\", between: [0.3, 0.45] }",
    },
];

/// Every evaluation metric, by name (computed as scikit-learn computes it).
pub const METRICS: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "precision_micro",
    "recall_micro",
    "f1_micro",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "roc_auc_ovr_macro",
    "roc_auc_ovr_weighted",
    "average_precision",
    "log_loss",
    "brier",
    "ece",
    "mae",
    "mse",
    "rmse",
    "r2",
    "mape",
    "median_absolute_error",
    "max_error",
];

/// Metrics defined for binary labels (0 and 1) only.
pub const BINARY_METRICS: &[&str] = &[
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier",
    "ece",
];

/// Metrics where lower is better (a "drop" is an increase).
pub const LOWER_IS_BETTER: &[&str] = &[
    "log_loss",
    "brier",
    "ece",
    "mae",
    "mse",
    "rmse",
    "mape",
    "median_absolute_error",
    "max_error",
];

/// Look up every catalogue entry with a name (a name may appear at two scopes, e.g. `unique`).
pub fn lookup(name: &str) -> Vec<&'static CheckDoc> {
    CHECKS.iter().filter(|c| c.name == name).collect()
}

/// Names of the checks written at a scope.
pub fn names(scope: Scope) -> impl Iterator<Item = &'static str> {
    CHECKS
        .iter()
        .filter(move |c| c.scope == scope)
        .map(|c| c.name)
}

/// The catalogue as Markdown (`docs/checks.md` is generated from it and a test keeps it fresh).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Check catalogue\n\nGenerated from `crates/tollgate-core/src/catalog.rs` (`UPDATE_DOCS=1 cargo test -p tollgate-core` rewrites it).\n\n\
         Every check takes `severity: error | warn`; checks on values take `mostly` (the fraction of non-null values that must pass).\n",
    );
    for scope in [
        Scope::Table,
        Scope::Column,
        Scope::Row,
        Scope::Aggregate,
        Scope::Expectation,
    ] {
        out.push_str(&format!("\n## `{}`\n", scope.section()));
        for c in CHECKS.iter().filter(|c| c.scope == scope) {
            out.push_str(&format!(
                "\n### `{}`\n\n{}\n\nGreat Expectations: {}\n\n```yaml\n{}\n```\n",
                c.name, c.summary, c.gx, c.example
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_within_a_scope() {
        let mut seen = HashSet::new();
        for c in CHECKS {
            assert!(
                seen.insert((c.name, c.scope.section())),
                "duplicate check {}",
                c.name
            );
        }
    }

    #[test]
    fn docs_checks_md_is_fresh() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/checks.md");
        let want = markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &want).expect("write docs/checks.md");
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/checks.md is stale: run `UPDATE_DOCS=1 cargo test -p tollgate-core`"
        );
    }

    #[test]
    fn every_check_names_its_gx_equivalent() {
        for c in CHECKS {
            assert!(!c.gx.is_empty(), "{} has no GX equivalent", c.name);
            assert!(
                c.example.contains(c.name)
                    || matches!(c.scope, Scope::Aggregate | Scope::Expectation),
                "{} example",
                c.name
            );
        }
    }
}
