//! Metric values read back from the engine, and their comparison with plan bounds.

use std::cmp::Ordering;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::TimeUnit;
use datafusion::arrow::temporal_conversions::{
    date32_to_datetime, timestamp_ms_to_datetime, timestamp_ns_to_datetime,
    timestamp_s_to_datetime, timestamp_us_to_datetime,
};
use datafusion::common::ScalarValue;
use serde_json::Value as Json;
use tollgate_core::finding::stable_f64;
use tollgate_core::{Bound, Scalar};

/// One metric value.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    /// No value (empty input, all nulls).
    Null,
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// Text.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// A date (rendered `YYYY-MM-DD`).
    Date(chrono::NaiveDate),
    /// A timestamp without time zone (UTC).
    Time(chrono::NaiveDateTime),
    /// A list (distinct values).
    List(Vec<V>),
}

impl V {
    /// Read row `i` of an array.
    pub fn from_array(a: &ArrayRef, i: usize) -> V {
        if a.is_null(i) {
            return V::Null;
        }
        match ScalarValue::try_from_array(a, i) {
            Ok(s) => V::from_scalar(&s),
            Err(_) => V::Null,
        }
    }

    /// Convert an engine scalar.
    pub fn from_scalar(s: &ScalarValue) -> V {
        use ScalarValue as S;
        if s.is_null() {
            return V::Null;
        }
        match s {
            S::Boolean(Some(b)) => V::Bool(*b),
            S::Int8(Some(x)) => V::Int(*x as i128),
            S::Int16(Some(x)) => V::Int(*x as i128),
            S::Int32(Some(x)) => V::Int(*x as i128),
            S::Int64(Some(x)) => V::Int(*x as i128),
            S::UInt8(Some(x)) => V::Int(*x as i128),
            S::UInt16(Some(x)) => V::Int(*x as i128),
            S::UInt32(Some(x)) => V::Int(*x as i128),
            S::UInt64(Some(x)) => V::Int(*x as i128),
            S::Float16(Some(x)) => V::Float(f64::from(*x)),
            S::Float32(Some(x)) => V::Float(*x as f64),
            S::Float64(Some(x)) => V::Float(*x),
            S::Decimal128(Some(x), _, 0) => V::Int(*x),
            S::Decimal128(Some(x), _, scale) => V::Float(*x as f64 / 10f64.powi(*scale as i32)),
            S::Utf8(Some(x)) | S::LargeUtf8(Some(x)) | S::Utf8View(Some(x)) => V::Str(x.clone()),
            S::Date32(Some(d)) => date32_to_datetime(*d)
                .map(|t| V::Date(t.date()))
                .unwrap_or(V::Null),
            S::Date64(Some(ms)) => timestamp_ms_to_datetime(*ms)
                .map(|t| V::Date(t.date()))
                .unwrap_or(V::Null),
            S::TimestampSecond(Some(x), _) => {
                timestamp_s_to_datetime(*x).map(V::Time).unwrap_or(V::Null)
            }
            S::TimestampMillisecond(Some(x), _) => {
                timestamp_ms_to_datetime(*x).map(V::Time).unwrap_or(V::Null)
            }
            S::TimestampMicrosecond(Some(x), _) => {
                timestamp_us_to_datetime(*x).map(V::Time).unwrap_or(V::Null)
            }
            S::TimestampNanosecond(Some(x), _) => {
                timestamp_ns_to_datetime(*x).map(V::Time).unwrap_or(V::Null)
            }
            S::Dictionary(_, inner) => V::from_scalar(inner),
            S::List(arr) => {
                let mut out = Vec::new();
                if arr.len() == 1 && !arr.is_null(0) {
                    let values = arr.value(0);
                    for i in 0..values.len() {
                        out.push(V::from_array(&values, i));
                    }
                }
                V::List(out)
            }
            other => V::Str(other.to_string()),
        }
    }

    /// As a count (0 for null).
    pub fn count(&self) -> u64 {
        match self {
            V::Int(i) => (*i).max(0) as u64,
            V::Float(f) if *f >= 0.0 => *f as u64,
            _ => 0,
        }
    }

    /// As a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            V::Int(i) => Some(*i as f64),
            V::Float(f) => Some(*f),
            V::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    /// The value as JSON (floats rounded to 12 significant digits for stable output).
    pub fn to_json(&self) -> Json {
        match self {
            V::Null => Json::Null,
            V::Int(i) => i64::try_from(*i)
                .map(Json::from)
                .unwrap_or_else(|_| Json::String(i.to_string())),
            V::Float(f) if f.is_finite() => serde_json::Number::from_f64(stable_f64(*f))
                .map(Json::Number)
                .unwrap_or(Json::Null),
            V::Float(f) => Json::String(if f.is_nan() {
                "NaN".into()
            } else if *f > 0.0 {
                "Infinity".into()
            } else {
                "-Infinity".into()
            }),
            V::Str(s) => Json::String(s.clone()),
            V::Bool(b) => Json::Bool(*b),
            V::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            V::Time(t) => Json::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
            V::List(items) => Json::Array(items.iter().map(V::to_json).collect()),
        }
    }

    /// Rounded for judging, so verdicts agree with the reported value.
    pub fn stable(self) -> V {
        match self {
            V::Float(f) => V::Float(stable_f64(f)),
            other => other,
        }
    }

    /// Compare with a plan literal. `None` when the two cannot be compared.
    pub fn cmp_scalar(&self, s: &Scalar) -> Option<Ordering> {
        match (self, s) {
            (V::Int(a), Scalar::Int(b)) => Some(a.cmp(&(*b as i128))),
            (V::Int(_) | V::Float(_) | V::Bool(_), _) => {
                let (a, b) = (self.as_f64()?, s.as_f64()?);
                // A computed float equal to a bound but for the last bits is equal: the result
                // must not depend on the order in which partial sums were added.
                if (a - b).abs() <= 1e-12 * a.abs().max(b.abs()) {
                    Some(Ordering::Equal)
                } else {
                    a.partial_cmp(&b)
                }
            }
            (V::Str(a), Scalar::Str(b)) => Some(a.as_str().cmp(b.as_str())),
            (V::Date(a), Scalar::Str(b)) => {
                if let Ok(d) = chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d") {
                    Some(a.cmp(&d))
                } else {
                    Some(a.and_hms_opt(0, 0, 0)?.cmp(&parse_time(b)?))
                }
            }
            (V::Time(a), Scalar::Str(b)) => Some(a.cmp(&parse_time(b)?)),
            _ => None,
        }
    }

    /// Equality with a plan literal (numbers compare by value).
    pub fn eq_scalar(&self, s: &Scalar) -> bool {
        match (self, s) {
            (V::Str(a), Scalar::Str(b)) => a == b,
            (V::Bool(a), Scalar::Bool(b)) => a == b,
            _ => self.cmp_scalar(s) == Some(Ordering::Equal),
        }
    }
}

/// Parse an ISO date or timestamp written in a plan.
pub fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    let s = s.trim_end_matches('Z');
    for f in ["%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
}

/// Is `v` within the bound? `Err` when a bound cannot be compared with the value.
pub fn within(v: &V, b: &Bound) -> Result<bool, String> {
    if let V::Float(f) = v
        && f.is_nan()
    {
        return Ok(false);
    }
    if let Some(min) = &b.min {
        let o = v
            .cmp_scalar(min)
            .ok_or_else(|| format!("cannot compare {} with the bound {min}", describe(v)))?;
        if o == Ordering::Less || (b.strict_min && o == Ordering::Equal) {
            return Ok(false);
        }
    }
    if let Some(max) = &b.max {
        let o = v
            .cmp_scalar(max)
            .ok_or_else(|| format!("cannot compare {} with the bound {max}", describe(v)))?;
        if o == Ordering::Greater || (b.strict_max && o == Ordering::Equal) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn describe(v: &V) -> String {
    match v {
        V::Date(_) => "a date".into(),
        V::Time(_) => "a timestamp".into(),
        V::Str(_) => "a string".into(),
        _ => "a number".into(),
    }
}

/// TimeUnit helper for messages.
pub fn unit(u: TimeUnit) -> &'static str {
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

    fn b(min: Option<Scalar>, max: Option<Scalar>) -> Bound {
        Bound {
            min,
            max,
            ..Bound::default()
        }
    }

    #[test]
    fn bounds_compare_numbers_dates_and_text() {
        assert_eq!(
            within(
                &V::Int(5),
                &b(Some(Scalar::Int(5)), Some(Scalar::Float(5.0)))
            ),
            Ok(true)
        );
        let strict = Bound {
            strict_max: true,
            ..b(None, Some(Scalar::Int(5)))
        };
        assert_eq!(within(&V::Float(5.0), &strict), Ok(false));
        let t = parse_time("2025-06-01 12:00:00").unwrap();
        assert_eq!(
            within(
                &V::Time(t),
                &b(Some(Scalar::Str("2025-01-01".into())), None)
            ),
            Ok(true)
        );
        assert_eq!(
            within(&V::Str("b".into()), &b(Some(Scalar::Str("a".into())), None)),
            Ok(true)
        );
        assert!(within(&V::Time(t), &b(Some(Scalar::Str("June".into())), None)).is_err());
        assert_eq!(within(&V::Float(f64::NAN), &b(None, None)), Ok(false));
    }
}
