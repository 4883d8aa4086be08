//! The metric IR: what a check needs computed. Metrics are deduplicated across checks and
//! compiled into one aggregate query per source (one scan). Compiled here to DataFusion SQL;
//! another dialect (PostgreSQL push-down) compiles the same IR its own way.

use crate::sql::ident;

/// One aggregate over a source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Metric {
    /// `count(*)`.
    RowCount,
    /// Non-null values of a column.
    NonNull(String),
    /// Rows where a SQL predicate is TRUE (NULL and FALSE do not count).
    CountWhere(String),
    /// Minimum of a column.
    Min(String),
    /// Maximum.
    Max(String),
    /// Mean.
    Mean(String),
    /// Sample standard deviation.
    StdDev(String),
    /// Sum.
    Sum(String),
    /// Sum of an integer column, exact (no wrapping on overflow).
    SumInt(String),
    /// Exact median.
    Median(String),
    /// Exact quantile with linear interpolation (the f64's bits, to keep `Eq`).
    Quantile(String, u64),
    /// Count of distinct non-null values.
    Distinct(String),
    /// Count of distinct combinations of several columns over the rows where a predicate holds.
    DistinctTuple(Vec<String>, String),
    /// The distinct non-null values, as a list.
    DistinctValues(String),
    /// A user's SQL aggregate expression.
    Sql(String),
    /// No value: the aggregate of a column whose type is `Null` (all null, or an empty CSV).
    Nothing,
    /// A metric over the rows where a SQL condition holds (GX `row_condition`).
    Filtered(Box<Metric>, String),
}

impl Metric {
    /// DataFusion SQL for the aggregate.
    pub fn to_sql(&self) -> String {
        match self {
            Metric::RowCount => "count(*)".into(),
            Metric::NonNull(c) => format!("count({})", ident(c)),
            Metric::CountWhere(p) => format!("sum(CASE WHEN {p} THEN 1 ELSE 0 END)"),
            Metric::Min(c) => format!("min({})", ident(c)),
            Metric::Max(c) => format!("max({})", ident(c)),
            // As doubles: booleans average as 0/1 (GX), integers do not overflow.
            Metric::Mean(c) => format!("avg(CAST({} AS DOUBLE))", ident(c)),
            Metric::StdDev(c) => format!("stddev_samp(CAST({} AS DOUBLE))", ident(c)),
            Metric::Sum(c) => format!("sum({})", ident(c)),
            Metric::SumInt(c) => format!("sum(CAST({} AS DECIMAL(38, 0)))", ident(c)),
            // As doubles: DataFusion's median of integers would truncate (2 for [1, 2, 3, 4]).
            Metric::Median(c) => format!("median(CAST({} AS DOUBLE))", ident(c)),
            Metric::Quantile(c, bits) => {
                format!(
                    "percentile_cont(CAST({} AS DOUBLE), {:?})",
                    ident(c),
                    f64::from_bits(*bits)
                )
            }
            Metric::Distinct(c) => format!("count(DISTINCT {})", ident(c)),
            Metric::DistinctTuple(cols, pred) => {
                format!(
                    "count(DISTINCT CASE WHEN {pred} THEN {} END)",
                    tuple_key(cols)
                )
            }
            Metric::Filtered(inner, f) => match inner.as_ref() {
                Metric::RowCount => format!("sum(CASE WHEN {f} THEN 1 ELSE 0 END)"),
                Metric::NonNull(c) => format!(
                    "sum(CASE WHEN ({f}) AND {} IS NOT NULL THEN 1 ELSE 0 END)",
                    ident(c)
                ),
                Metric::CountWhere(p) => {
                    format!("sum(CASE WHEN ({f}) AND ({p}) THEN 1 ELSE 0 END)")
                }
                Metric::DistinctTuple(cols, p) => {
                    Metric::DistinctTuple(cols.clone(), format!("({f}) AND ({p})")).to_sql()
                }
                // It has a FILTER of its own: one clause with both conditions.
                Metric::DistinctValues(c) => format!(
                    "array_agg(DISTINCT {c}) FILTER (WHERE {c} IS NOT NULL AND {f})",
                    c = ident(c)
                ),
                Metric::Nothing | Metric::Sql(_) => inner.to_sql(),
                other => format!("{} FILTER (WHERE {f})", other.to_sql()),
            },
            Metric::DistinctValues(c) => format!(
                "array_agg(DISTINCT {}) FILTER (WHERE {} IS NOT NULL)",
                ident(c),
                ident(c)
            ),
            Metric::Sql(s) => format!("({s}\n)"),
            Metric::Nothing => "NULL".into(),
        }
    }
}

/// The combination of several columns' values as one text key: each value as `length:text`
/// (`N:` for null), joined, so that no two combinations share a key. A distinct count of text
/// is many times faster than one of structs.
pub(crate) fn tuple_key(cols: &[String]) -> String {
    let fields = cols
        .iter()
        .map(|c| {
            let t = format!("CAST({} AS VARCHAR)", ident(c));
            format!("coalesce(CAST(character_length({t}) AS VARCHAR), 'N'), ':', coalesce({t}, '')")
        })
        .collect::<Vec<_>>()
        .join(", ',', ");
    format!("concat({fields})")
}

/// Deduplicate metrics, keeping first-seen order; returns the list and each input's index.
pub fn dedup(all: &[Metric]) -> (Vec<Metric>, Vec<usize>) {
    let mut unique: Vec<Metric> = Vec::new();
    let mut index = Vec::with_capacity(all.len());
    let mut seen = std::collections::HashMap::new();
    for m in all {
        let i = *seen.entry(m.clone()).or_insert_with(|| {
            unique.push(m.clone());
            unique.len() - 1
        });
        index.push(i);
    }
    (unique, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_shares_metrics_between_checks() {
        let ms = [
            Metric::RowCount,
            Metric::NonNull("a".into()),
            Metric::RowCount,
            Metric::NonNull("b".into()),
        ];
        let (u, idx) = dedup(&ms);
        assert_eq!(u.len(), 3);
        assert_eq!(idx, vec![0, 1, 0, 2]);
    }
}
