//! A proptest strategy for record batches that satisfy a suite, so that a transformation can
//! be property-tested against its input contract (as pandera's data synthesis does).
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//!
//! let suite = tollgate::parse_suite(
//!     "columns:\n  id: { type: int64, unique: true, not_null: true }\n  \
//!      kind: { in_set: [a, b] }\n  score: { type: float64, between: [0, 1] }\n",
//!     "contract",
//! )
//! .unwrap();
//! let strategy = tollgate::testing::strategy::batches_for(&suite, 1..=50).unwrap();
//! TestRunner::default()
//!     .run(&strategy, |batch| {
//!         prop_assert!(batch.num_rows() >= 1);
//!         Ok(())
//!     })
//!     .unwrap();
//! ```
//!
//! What is honoured, per column: `type` (int8–int64, uint8–uint64, float32, float64, string,
//! bool, date; without a type, the type the other checks imply, else string), `not_null`
//! (otherwise about 1 value in 10 is null), `unique`, `between` (and `min`/`max` bounds on
//! values), `in_set`, `matches` (a regex; `^`/`$` anchors are dropped, the generated text
//! matches the whole pattern), `length`; and for the table `row_count` (narrows the rows) and
//! `columns: { exact | include }` (those columns are generated). Any other check makes
//! [`batches_for`] return an error naming it: the strategy never claims a contract it does
//! not keep.

use std::ops::RangeInclusive;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, RecordBatch, StringArray, UInt8Array, UInt16Array, UInt32Array,
    UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use tollgate_core::plan::{Bound, CheckKind, Scalar, SuiteDecl};

/// A value as generated.
#[derive(Debug, Clone, PartialEq)]
enum V {
    I(i64),
    F(f64),
    S(String),
    B(bool),
}

/// What a suite asks of one column.
#[derive(Debug, Clone, Default)]
struct Spec {
    name: String,
    ty: Option<String>,
    not_null: bool,
    unique: bool,
    lo: Edge,
    hi: Edge,
    set: Option<Vec<Scalar>>,
    regex: Option<String>,
    length: Option<(usize, usize)>,
}

/// One side of a bound: the value and whether it is excluded.
type Edge = Option<(f64, bool)>;

fn bound_num(b: &Bound) -> (Edge, Edge) {
    (
        b.min
            .as_ref()
            .and_then(Scalar::as_f64)
            .map(|x| (x, b.strict_min)),
        b.max
            .as_ref()
            .and_then(Scalar::as_f64)
            .map(|x| (x, b.strict_max)),
    )
}

fn tighten(spec: &mut Spec, b: &Bound) {
    let (lo, hi) = bound_num(b);
    if let Some(l) = lo
        && spec.lo.is_none_or(|(x, _)| l.0 > x)
    {
        spec.lo = Some(l);
    }
    if let Some(h) = hi
        && spec.hi.is_none_or(|(x, _)| h.0 < x)
    {
        spec.hi = Some(h);
    }
}

fn arrow_type(ty: &str) -> Result<DataType, String> {
    Ok(match ty.to_ascii_lowercase().as_str() {
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" | "bigint" | "long" | "integer" | "int" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        "float32" | "float" | "real" => DataType::Float32,
        "float64" | "double" | "numeric" | "number" => DataType::Float64,
        "string" | "str" | "utf8" | "text" | "category" | "categorical" => DataType::Utf8,
        "bool" | "boolean" => DataType::Boolean,
        "date" => DataType::Date32,
        other => return Err(format!("cannot generate values of type `{other}`")),
    })
}

/// The integer range a type and the bounds allow.
fn int_range(t: &DataType, s: &Spec) -> Result<(i64, i64), String> {
    let (tmin, tmax): (i64, i64) = match t {
        DataType::Int8 => (i8::MIN as i64, i8::MAX as i64),
        DataType::Int16 => (i16::MIN as i64, i16::MAX as i64),
        DataType::Int32 => (i32::MIN as i64, i32::MAX as i64),
        DataType::UInt8 => (0, u8::MAX as i64),
        DataType::UInt16 => (0, u16::MAX as i64),
        DataType::UInt32 => (0, u32::MAX as i64),
        DataType::UInt64 => (0, i64::MAX),
        DataType::Date32 => (-20_000, 40_000),
        _ => (-1_000_000, 1_000_000),
    };
    let lo = s.lo.map_or(tmin, |(x, strict)| {
        let c = x.ceil() as i64;
        if strict && c as f64 == x { c + 1 } else { c }
    });
    let hi = s.hi.map_or(tmax, |(x, strict)| {
        let f = x.floor() as i64;
        if strict && f as f64 == x { f - 1 } else { f }
    });
    let (lo, hi) = (lo.max(tmin), hi.min(tmax));
    if lo > hi {
        return Err(format!(
            "column `{}`: no integer lies in its bounds",
            s.name
        ));
    }
    Ok((lo, hi))
}

fn scalar_value(x: &Scalar) -> V {
    match x {
        Scalar::Int(i) => V::I(*i),
        Scalar::Float(f) => V::F(*f),
        Scalar::Str(s) => V::S(s.clone()),
        Scalar::Bool(b) => V::B(*b),
    }
}

/// One non-null value of a column.
fn value_strategy(t: &DataType, s: &Spec) -> Result<BoxedStrategy<V>, String> {
    if let Some(set) = &s.set {
        if set.is_empty() {
            return Err(format!("column `{}`: its set is empty", s.name));
        }
        let values: Vec<V> = set.iter().map(scalar_value).collect();
        return Ok(proptest::sample::select(values).boxed());
    }
    Ok(match t {
        DataType::Boolean => any::<bool>().prop_map(V::B).boxed(),
        DataType::Float32 | DataType::Float64 => {
            let lo = s.lo.map_or(-1e6, |(x, _)| x);
            let hi = s.hi.map_or(1e6, |(x, _)| x);
            if lo > hi {
                return Err(format!("column `{}`: no number lies in its bounds", s.name));
            }
            let (slo, shi) = (s.lo.is_some_and(|b| b.1), s.hi.is_some_and(|b| b.1));
            let f32_col = matches!(t, DataType::Float32);
            (lo..=hi)
                .prop_filter("inside strict bounds", move |x| {
                    (!slo || *x > lo) && (!shi || *x < hi)
                })
                .prop_map(move |x| {
                    // A float32 column keeps the value it can hold, inside the bounds.
                    let x = if f32_col { (x as f32) as f64 } else { x };
                    V::F(x.clamp(lo, hi))
                })
                .boxed()
        }
        DataType::Utf8 => {
            if let Some(re) = &s.regex {
                let core = re.trim_start_matches('^').trim_end_matches('$');
                let strat = proptest::string::string_regex(core).map_err(|e| {
                    format!("column `{}`: cannot generate text for `{re}`: {e}", s.name)
                })?;
                let length = s.length;
                strat
                    .prop_filter("inside the length bounds", move |v| {
                        length.is_none_or(|(lo, hi)| {
                            let n = v.chars().count();
                            n >= lo && n <= hi
                        })
                    })
                    .prop_map(V::S)
                    .boxed()
            } else {
                let (lo, hi) = s.length.unwrap_or((0, 12));
                proptest::collection::vec(
                    prop_oneof![
                        8 => proptest::char::range('a', 'z'),
                        1 => proptest::char::range('A', 'Z'),
                        1 => proptest::sample::select(vec!['é', 'ß', '中', ' ', '-', '7']),
                    ],
                    lo..=hi,
                )
                .prop_map(|cs| V::S(cs.into_iter().collect()))
                .boxed()
            }
        }
        _ => {
            let (lo, hi) = int_range(t, s)?;
            (lo..=hi).prop_map(V::I).boxed()
        }
    })
}

fn column_array(t: &DataType, values: Vec<Option<V>>) -> ArrayRef {
    let int = |v: &Option<V>| match v {
        Some(V::I(i)) => Some(*i),
        Some(V::F(f)) => Some(*f as i64),
        _ => None,
    };
    let float = |v: &Option<V>| match v {
        Some(V::F(f)) => Some(*f),
        Some(V::I(i)) => Some(*i as f64),
        _ => None,
    };
    match t {
        DataType::Int8 => Arc::new(
            values
                .iter()
                .map(|v| int(v).map(|x| x as i8))
                .collect::<Int8Array>(),
        ),
        DataType::Int16 => Arc::new(
            values
                .iter()
                .map(|v| int(v).map(|x| x as i16))
                .collect::<Int16Array>(),
        ),
        DataType::Int32 => Arc::new(
            values
                .iter()
                .map(|v| int(v).map(|x| x as i32))
                .collect::<Int32Array>(),
        ),
        DataType::UInt8 => Arc::new(
            values
                .iter()
                .map(|v| int(v).map(|x| x as u8))
                .collect::<UInt8Array>(),
        ),
        DataType::UInt16 => Arc::new(
            values
                .iter()
                .map(|v| int(v).map(|x| x as u16))
                .collect::<UInt16Array>(),
        ),
        DataType::UInt32 => Arc::new(
            values
                .iter()
                .map(|v| int(v).map(|x| x as u32))
                .collect::<UInt32Array>(),
        ),
        DataType::UInt64 => Arc::new(
            values
                .iter()
                .map(|v| int(v).map(|x| x as u64))
                .collect::<UInt64Array>(),
        ),
        DataType::Date32 => Arc::new(
            values
                .iter()
                .map(|v| int(v).map(|x| x as i32))
                .collect::<Date32Array>(),
        ),
        DataType::Float32 => Arc::new(
            values
                .iter()
                .map(|v| float(v).map(|x| x as f32))
                .collect::<Float32Array>(),
        ),
        DataType::Float64 => Arc::new(values.iter().map(float).collect::<Float64Array>()),
        DataType::Boolean => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(V::B(b)) => Some(*b),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        ),
        DataType::Utf8 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(V::S(s)) => Some(s.clone()),
                    Some(V::I(i)) => Some(i.to_string()),
                    Some(V::F(f)) => Some(f.to_string()),
                    Some(V::B(b)) => Some(b.to_string()),
                    None => None,
                })
                .collect::<StringArray>(),
        ),
        _ => Arc::new(values.iter().map(int).collect::<Int64Array>()),
    }
}

/// The type a column gets: declared, or implied by its set or bounds, else text.
fn implied_type(s: &Spec) -> Result<DataType, String> {
    if let Some(t) = &s.ty {
        return arrow_type(t);
    }
    if let Some(set) = &s.set {
        return Ok(match set.first() {
            Some(Scalar::Int(_)) => DataType::Int64,
            Some(Scalar::Float(_)) => DataType::Float64,
            Some(Scalar::Bool(_)) => DataType::Boolean,
            _ => DataType::Utf8,
        });
    }
    if s.lo.is_some() || s.hi.is_some() {
        return Ok(DataType::Float64);
    }
    Ok(DataType::Utf8)
}

/// Record batches (of `rows` rows, narrowed by the suite's `row_count`) that satisfy `suite`.
pub fn batches_for(
    suite: &SuiteDecl,
    rows: RangeInclusive<usize>,
) -> Result<BoxedStrategy<RecordBatch>, String> {
    let mut specs: Vec<Spec> = Vec::new();
    let (mut rmin, mut rmax) = (*rows.start(), *rows.end());
    let mut unsupported = Vec::new();
    fn spec<'a>(specs: &'a mut Vec<Spec>, name: &str) -> &'a mut Spec {
        if let Some(i) = specs.iter().position(|s| s.name == name) {
            return &mut specs[i];
        }
        specs.push(Spec {
            name: name.to_string(),
            ..Spec::default()
        });
        let last = specs.len() - 1;
        &mut specs[last]
    }
    for c in &suite.checks {
        // Conditional (`filter`) and partial (`mostly`) checks are honoured as if they held
        // for every row: then they hold as written too.
        match (&c.kind, &c.column) {
            (CheckKind::RowCount(b), None) => {
                let (lo, hi) = bound_num(b);
                if let Some((x, strict)) = lo {
                    let v = x.ceil().max(0.0) as usize + usize::from(strict && x.fract() == 0.0);
                    rmin = rmin.max(v);
                }
                if let Some((x, strict)) = hi {
                    let v = (x.floor().max(0.0) as usize)
                        .saturating_sub(usize::from(strict && x.fract() == 0.0));
                    rmax = rmax.min(v);
                }
            }
            (CheckKind::Columns { exact, include, .. }, None) => {
                for n in exact.iter().flatten().chain(include) {
                    spec(&mut specs, n);
                }
            }
            (CheckKind::Type(t), Some(col)) => spec(&mut specs, col).ty = Some(t.clone()),
            (CheckKind::NotNull, Some(col)) => spec(&mut specs, col).not_null = true,
            (CheckKind::Unique, Some(col)) => spec(&mut specs, col).unique = true,
            (CheckKind::Between(b) | CheckKind::Min(b) | CheckKind::Max(b), Some(col)) => {
                // Every value inside [min, max] keeps min, max and between.
                let s = spec(&mut specs, col);
                match &c.kind {
                    CheckKind::Min(b) => tighten(
                        s,
                        &Bound {
                            max: None,
                            ..b.clone()
                        },
                    ),
                    CheckKind::Max(b) => tighten(
                        s,
                        &Bound {
                            min: None,
                            ..b.clone()
                        },
                    ),
                    _ => tighten(s, b),
                }
            }
            (CheckKind::InSet(values), Some(col)) => {
                let s = spec(&mut specs, col);
                s.set = Some(match &s.set {
                    Some(have) => have
                        .iter()
                        .filter(|v| values.contains(v))
                        .cloned()
                        .collect(),
                    None => values.clone(),
                });
            }
            (CheckKind::Matches(re), Some(col)) => spec(&mut specs, col).regex = Some(re.clone()),
            (CheckKind::Length(b), Some(col)) => {
                let (lo, hi) = bound_num(b);
                let lo = lo.map_or(0, |(x, strict)| {
                    x.ceil().max(0.0) as usize + usize::from(strict)
                });
                let hi = hi.map_or(lo + 12, |(x, strict)| {
                    (x.floor().max(0.0) as usize).saturating_sub(usize::from(strict))
                });
                spec(&mut specs, col).length = Some((lo, hi));
            }
            _ => unsupported.push(format!(
                "`{}`{}",
                c.check,
                c.column
                    .as_ref()
                    .map(|col| format!(" on `{col}`"))
                    .unwrap_or_default()
            )),
        }
    }
    if !unsupported.is_empty() {
        return Err(format!(
            "suite `{}`: cannot generate data that surely satisfies {}",
            suite.name,
            unsupported.join(", ")
        ));
    }
    if rmin > rmax {
        return Err(format!(
            "suite `{}`: no row count lies in {rmin}..={rmax}",
            suite.name
        ));
    }
    let mut columns: Vec<(Field, BoxedStrategy<Option<V>>, bool)> = Vec::new();
    for s in &specs {
        let t = implied_type(s)?;
        let value = value_strategy(&t, s)?;
        let cell: BoxedStrategy<Option<V>> = if s.not_null || s.unique {
            value.prop_map(Some).boxed()
        } else {
            proptest::option::weighted(0.9, value).boxed()
        };
        columns.push((Field::new(&s.name, t, !s.not_null), cell, s.unique));
    }
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(f, _, _)| f.clone())
            .collect::<Vec<_>>(),
    ));
    let strategies: Vec<(BoxedStrategy<Option<V>>, bool)> =
        columns.into_iter().map(|(_, s, u)| (s, u)).collect();
    Ok((rmin..=rmax)
        .prop_flat_map(move |n| {
            let cols: Vec<BoxedStrategy<Vec<Option<V>>>> = strategies
                .iter()
                .map(|(cell, unique)| {
                    if *unique {
                        // Distinct values: draw more than needed, keep the first `n` distinct.
                        proptest::collection::vec(cell.clone(), n * 2 + 8)
                            .prop_filter_map("not enough distinct values", move |vs| {
                                let mut seen: Vec<String> = Vec::new();
                                let mut out = Vec::with_capacity(n);
                                for v in vs {
                                    let key = format!("{v:?}");
                                    if !seen.contains(&key) {
                                        seen.push(key);
                                        out.push(v);
                                        if out.len() == n {
                                            break;
                                        }
                                    }
                                }
                                (out.len() == n).then_some(out)
                            })
                            .boxed()
                    } else {
                        proptest::collection::vec(cell.clone(), n).boxed()
                    }
                })
                .collect();
            cols
        })
        .prop_filter_map("a batch", {
            let schema = schema.clone();
            move |cols| {
                let arrays: Vec<ArrayRef> = schema
                    .fields()
                    .iter()
                    .zip(cols)
                    .map(|(f, vs)| column_array(f.data_type(), vs))
                    .collect();
                RecordBatch::try_new(schema.clone(), arrays).ok()
            }
        })
        .boxed())
}
