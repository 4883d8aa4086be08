//! SQL text for DataFusion's dialect: identifier and literal quoting, and type names.

use datafusion::arrow::datatypes::DataType;
use tollgate_core::Scalar;

/// Quote an identifier so that any column name (spaces, quotes, dots, unicode) is safe.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quote a string literal.
pub fn string_lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A plan scalar as a literal for a column of type `dt`.
pub fn lit(v: &Scalar, dt: &DataType) -> String {
    match v {
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) if f.is_nan() => "CAST('NaN' AS DOUBLE)".into(),
        Scalar::Float(f) if f.is_infinite() => {
            format!(
                "CAST('{}' AS DOUBLE)",
                if *f > 0.0 { "Infinity" } else { "-Infinity" }
            )
        }
        Scalar::Float(f) => {
            let s = format!("{f:?}");
            if s.contains('e') || s.contains('E') {
                format!("CAST({s} AS DOUBLE)")
            } else {
                s
            }
        }
        Scalar::Bool(b) => b.to_string(),
        Scalar::Str(s) => match dt {
            DataType::Date32 | DataType::Date64 => format!("CAST({} AS DATE)", string_lit(s)),
            DataType::Timestamp(_, _) => format!("CAST({} AS TIMESTAMP)", string_lit(s)),
            _ => string_lit(s),
        },
    }
}

/// Is this a string type (including dictionaries of strings)?
pub fn is_string(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_string(v),
        _ => false,
    }
}

/// Is this a float type?
pub fn is_float(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Float16 | DataType::Float32 | DataType::Float64
    )
}

/// Is this a numeric type?
pub fn is_numeric(dt: &DataType) -> bool {
    dt.is_numeric() || matches!(dt, DataType::Dictionary(_, v) if v.is_numeric())
}

/// Is this a date or time type?
pub fn is_temporal(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
            | DataType::Time32(_)
            | DataType::Time64(_)
    )
}

/// Does an Arrow type satisfy a declared type?
pub type TypeTest = fn(&DataType) -> bool;

/// A declared type name (`int64`, `integer`, `string`, ...): does `dt` satisfy it, and what SQL
/// type does it pin a text column to? `None` for an unknown name.
pub fn type_rule(name: &str) -> Option<(TypeTest, &'static str)> {
    fn base(dt: &DataType) -> &DataType {
        match dt {
            DataType::Dictionary(_, v) => v,
            other => other,
        }
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "int8" => (|d| matches!(base(d), DataType::Int8), "TINYINT"),
        "int16" => (|d| matches!(base(d), DataType::Int16), "SMALLINT"),
        "int32" => (|d| matches!(base(d), DataType::Int32), "INT"),
        "int64" | "bigint" | "long" => (|d| matches!(base(d), DataType::Int64), "BIGINT"),
        "uint8" => (|d| matches!(base(d), DataType::UInt8), "TINYINT UNSIGNED"),
        "uint16" => (|d| matches!(base(d), DataType::UInt16), "SMALLINT UNSIGNED"),
        "uint32" => (|d| matches!(base(d), DataType::UInt32), "INT UNSIGNED"),
        "uint64" => (|d| matches!(base(d), DataType::UInt64), "BIGINT UNSIGNED"),
        "float32" | "float" | "real" => (
            |d| matches!(base(d), DataType::Float32 | DataType::Float64),
            "DOUBLE",
        ),
        "float64" | "double" => (|d| matches!(base(d), DataType::Float64), "DOUBLE"),
        "integer" | "int" => (|d| base(d).is_integer(), "BIGINT"),
        "numeric" | "number" => (|d| base(d).is_numeric(), "DOUBLE"),
        "string" | "str" | "utf8" | "text" | "category" | "categorical" => (is_string, "VARCHAR"),
        "bool" | "boolean" => (|d| matches!(base(d), DataType::Boolean), "BOOLEAN"),
        "date" => (
            |d| matches!(base(d), DataType::Date32 | DataType::Date64),
            "DATE",
        ),
        "timestamp" | "datetime" => (
            |d| matches!(base(d), DataType::Timestamp(_, _)),
            "TIMESTAMP",
        ),
        "temporal" => (is_temporal, "TIMESTAMP"),
        _ => return None,
    })
}

/// The Arrow type a pinned CSV column is read as.
pub fn arrow_type(sql_type: &str) -> DataType {
    use datafusion::arrow::datatypes::TimeUnit;
    match sql_type {
        "TINYINT" => DataType::Int8,
        "SMALLINT" => DataType::Int16,
        "INT" => DataType::Int32,
        "BIGINT" => DataType::Int64,
        "TINYINT UNSIGNED" => DataType::UInt8,
        "SMALLINT UNSIGNED" => DataType::UInt16,
        "INT UNSIGNED" => DataType::UInt32,
        "BIGINT UNSIGNED" => DataType::UInt64,
        "DOUBLE" => DataType::Float64,
        "BOOLEAN" => DataType::Boolean,
        "DATE" => DataType::Date32,
        "TIMESTAMP" => DataType::Timestamp(TimeUnit::Nanosecond, None),
        _ => DataType::Utf8,
    }
}

/// The rule of the canonical type a SQL type pins to (to keep an inferred type that already fits).
pub fn type_rule_of_sql(sql_type: &str) -> Option<TypeTest> {
    let name = match sql_type {
        "TINYINT" => "int8",
        "SMALLINT" => "int16",
        "INT" => "int32",
        "BIGINT" => "int64",
        "TINYINT UNSIGNED" => "uint8",
        "SMALLINT UNSIGNED" => "uint16",
        "INT UNSIGNED" => "uint32",
        "BIGINT UNSIGNED" => "uint64",
        "DOUBLE" => "float64",
        "BOOLEAN" => "bool",
        "DATE" => "date",
        "TIMESTAMP" => "timestamp",
        _ => "string",
    };
    type_rule(name).map(|(rule, _)| rule)
}

/// Does an Arrow type satisfy a Great Expectations type name (pandas dtype, SQL type or Spark
/// type, as GX suites write them)?
pub fn gx_type_matches(name: &str, dt: &DataType) -> bool {
    let family = match name.trim_end_matches("Type") {
        "int" | "int8" | "int16" | "int32" | "int64" | "integer" | "INTEGER" | "INT" | "BIGINT"
        | "SMALLINT" | "TINYINT" | "long" | "Long" | "Integer" | "Short" | "Byte" | "uint8"
        | "uint16" | "uint32" | "uint64" => "integer",
        "float" | "float16" | "float32" | "float64" | "double" | "FLOAT" | "DOUBLE" | "REAL"
        | "Double" | "Float" | "NUMERIC" | "DECIMAL" | "Decimal" => "float",
        "str" | "string" | "object" | "object_" | "O" | "VARCHAR" | "TEXT" | "CHAR" | "String"
        | "STRING" => "string",
        "bool" | "bool_" | "boolean" | "BOOLEAN" | "Boolean" => "bool",
        "datetime64" | "datetime64[ns]" | "datetime" | "timestamp" | "TIMESTAMP" | "Timestamp"
        | "DATETIME" => "timestamp",
        "date" | "DATE" | "Date" => "date",
        other => other,
    };
    type_rule(family).is_some_and(|(rule, _)| rule(dt))
}

/// The type names `type:` accepts.
pub const TYPE_NAMES: &[&str] = &[
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "integer",
    "float",
    "numeric",
    "string",
    "category",
    "bool",
    "date",
    "timestamp",
    "temporal",
];

/// A readable name of an Arrow type.
pub fn type_name(dt: &DataType) -> String {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Dictionary(_, v) => format!("category<{}>", type_name(v)),
        DataType::Timestamp(unit, None) => format!("timestamp[{}]", unit_name(unit)),
        DataType::Timestamp(unit, Some(tz)) => format!("timestamp[{}, {tz}]", unit_name(unit)),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Boolean => "bool".into(),
        other => other.to_string().to_lowercase(),
    }
}

fn unit_name(u: &datafusion::arrow::datatypes::TimeUnit) -> &'static str {
    use datafusion::arrow::datatypes::TimeUnit;
    match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_with_quotes_are_escaped() {
        assert_eq!(ident("a \"b\".c"), "\"a \"\"b\"\".c\"");
        assert_eq!(string_lit("O'Brien"), "'O''Brien'");
    }

    #[test]
    fn every_listed_type_name_has_a_rule() {
        for n in TYPE_NAMES {
            assert!(type_rule(n).is_some(), "{n}");
        }
    }
}
