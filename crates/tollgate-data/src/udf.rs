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
        match text {
            ColumnarValue::Scalar(ScalarValue::Utf8(s)) => Ok(ColumnarValue::Scalar(
                ScalarValue::Boolean(s.as_ref().map(|s| parses(s, &fmt))),
            )),
            ColumnarValue::Array(a) => {
                let Some(strings) = a.as_any().downcast_ref::<StringArray>() else {
                    return exec_err!("tg_parses_datetime: expected text, found {}", a.data_type());
                };
                let out: BooleanArray =
                    strings.iter().map(|s| s.map(|s| parses(s, &fmt))).collect();
                Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
            }
            other => exec_err!(
                "tg_parses_datetime: expected text, found {}",
                other.data_type()
            ),
        }
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
