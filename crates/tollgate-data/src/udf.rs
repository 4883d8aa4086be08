//! `tg_parses_datetime(text, format)`: TRUE when the whole text parses with the strftime format
//! as a timestamp, a date or a time (chrono syntax). NULL for NULL text.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Does `s` parse with `fmt` as a timestamp, a date or a time?
pub fn parses(s: &str, fmt: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(s, fmt).is_ok()
        || chrono::NaiveDate::parse_from_str(s, fmt).is_ok()
        || chrono::NaiveTime::parse_from_str(s, fmt).is_ok()
        || chrono::DateTime::parse_from_str(s, fmt).is_ok()
}

/// Reject formats chrono cannot use, before any data is read.
pub fn validate_format(fmt: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if fmt.is_empty() {
        return Err("the date format is empty".into());
    }
    if StrftimeItems::new(fmt).any(|i| matches!(i, Item::Error)) {
        return Err(format!(
            "invalid date format `{fmt}` (strftime syntax, e.g. %Y-%m-%d)"
        ));
    }
    Ok(())
}

/// Apply a text predicate to a text argument, scalar or column (NULL stays NULL).
fn text_test(
    name: &str,
    text: &ColumnarValue,
    test: impl Fn(&str) -> bool,
) -> datafusion::error::Result<ColumnarValue> {
    match text {
        ColumnarValue::Scalar(ScalarValue::Utf8(s)) => Ok(ColumnarValue::Scalar(
            ScalarValue::Boolean(s.as_deref().map(&test)),
        )),
        ColumnarValue::Array(a) => {
            let Some(strings) = a.as_any().downcast_ref::<StringArray>() else {
                return exec_err!("{name}: expected text, found {}", a.data_type());
            };
            let out: BooleanArray = strings.iter().map(|s| s.map(&test)).collect();
            Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
        }
        other => exec_err!("{name}: expected text, found {}", other.data_type()),
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ParsesDatetime {
    signature: Signature,
}

impl ScalarUDFImpl for ParsesDatetime {
    fn name(&self) -> &str {
        "tg_parses_datetime"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let [text, fmt] = args.args.as_slice() else {
            return exec_err!("tg_parses_datetime takes (text, format)");
        };
        let fmt = match fmt {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(f))) => f.clone(),
            _ => return exec_err!("tg_parses_datetime: the format must be a constant string"),
        };
        text_test("tg_parses_datetime", text, |s| parses(s, &fmt))
    }
}

/// The UDF, for registration in a session.
pub fn parses_datetime() -> ScalarUDF {
    ScalarUDF::from(ParsesDatetime {
        signature: Signature::exact(vec![DataType::Utf8, DataType::Utf8], Volatility::Immutable),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_text_only() {
        assert!(parses("2025-01-31", "%Y-%m-%d"));
        assert!(!parses("2025-02-30", "%Y-%m-%d"));
        assert!(!parses("2025-01-31x", "%Y-%m-%d"));
        assert!(parses("2025-01-31 10:11:12", "%Y-%m-%d %H:%M:%S"));
        assert!(parses("10:11", "%H:%M"));
        assert!(validate_format("%Y-%m-%d").is_ok());
        assert!(validate_format("%Q").is_err());
    }
}

/// Is the text a date or time in one of the formats people write (what GX calls "dateutil
/// parseable", within reason: ISO 8601, RFC 2822, US and European numeric dates, month names)?
pub fn parses_any(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() {
        return false;
    }
    if chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::DateTime::parse_from_rfc2822(s).is_ok()
    {
        return true;
    }
    const DATETIMES: &[&str] = &[
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%b %d %Y %H:%M:%S",
        "%Y%m%dT%H%M%S",
    ];
    const DATES: &[&str] = &[
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%m/%d/%Y",
        "%d/%m/%Y",
        "%m/%d/%y",
        "%d.%m.%Y",
        "%Y%m%d",
        "%b %d %Y",
        "%b %d, %Y",
        "%B %d %Y",
        "%B %d, %Y",
        "%d %b %Y",
        "%d %B %Y",
        "%a %b %d %Y",
        "%A, %B %d, %Y",
    ];
    const TIMES: &[&str] = &["%H:%M:%S%.f", "%H:%M", "%I:%M %p", "%I:%M:%S %p"];
    DATETIMES
        .iter()
        .any(|f| chrono::NaiveDateTime::parse_from_str(s, f).is_ok())
        || DATES
            .iter()
            .any(|f| chrono::NaiveDate::parse_from_str(s, f).is_ok())
        || TIMES
            .iter()
            .any(|f| chrono::NaiveTime::parse_from_str(s, f).is_ok())
}

/// `tg_json_schema(text, schema)`: TRUE when the text is JSON that satisfies the schema
/// (given as JSON text, a constant).
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonSchemaUdf {
    signature: Signature,
}

impl ScalarUDFImpl for JsonSchemaUdf {
    fn name(&self) -> &str {
        "tg_json_schema"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let [text, schema] = args.args.as_slice() else {
            return exec_err!("tg_json_schema takes (text, schema)");
        };
        let schema: serde_json::Value = match schema {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(s))) => match serde_json::from_str(s) {
                Ok(v) => v,
                Err(e) => return exec_err!("tg_json_schema: the schema is not JSON: {e}"),
            },
            _ => return exec_err!("tg_json_schema: the schema must be a constant string"),
        };
        let check = |s: &str| {
            serde_json::from_str::<serde_json::Value>(s)
                .is_ok_and(|v| crate::jsonschema::valid(&v, &schema))
        };
        text_test("tg_json_schema", text, check)
    }
}

/// The JSON Schema UDF, for registration in a session.
pub fn json_schema() -> ScalarUDF {
    ScalarUDF::from(JsonSchemaUdf {
        signature: Signature::exact(vec![DataType::Utf8, DataType::Utf8], Volatility::Immutable),
    })
}

/// Is the text one JSON document?
pub fn json_valid(s: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

#[derive(Debug)]
struct TextTest {
    name: &'static str,
    test: fn(&str) -> bool,
    signature: Signature,
}

// Identity is the name: two functions with one name are one function.
impl PartialEq for TextTest {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TextTest {}

impl std::hash::Hash for TextTest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for TextTest {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let [text] = args.args.as_slice() else {
            return exec_err!("{} takes one text argument", self.name);
        };
        text_test(self.name, text, self.test)
    }
}

/// `tg_parses_any_datetime(text)` and `tg_json_valid(text)`.
pub fn text_tests() -> Vec<ScalarUDF> {
    [
        ("tg_parses_any_datetime", parses_any as fn(&str) -> bool),
        ("tg_json_valid", json_valid),
    ]
    .into_iter()
    .map(|(name, test)| {
        ScalarUDF::from(TextTest {
            name,
            test,
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        })
    })
    .collect()
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn lenient_dates_and_json() {
        for ok in [
            "2019-04-01",
            "01/01/2010",
            "Jan 5, 2021",
            "2016-01-01T12:34:56Z",
            "12:30",
        ] {
            assert!(parses_any(ok), "{ok}");
        }
        for bad in ["abc", "cat", "", "2019-13-45"] {
            assert!(!parses_any(bad), "{bad}");
        }
        assert!(
            json_valid("{\"a\": 1}") && json_valid("3") && !json_valid("a") && !json_valid("{")
        );
    }
}
