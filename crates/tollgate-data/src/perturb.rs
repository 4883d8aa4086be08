//! Perturbations of raw input rows, for behavioural (CheckList-style) tests of models.
//!
//! A behavioural test changes the raw rows of a source (set a value, add noise, shuffle a
//! column, introduce a typo…), recomputes the model's features from the perturbed rows and
//! compares predictions. Every perturbation here is:
//!
//! * **pure**: the input [`RecordBatch`] is never modified; a new batch is returned (arrays
//!   that are not touched are shared, which is cheap and safe because arrow arrays are
//!   immutable);
//! * **seeded**: the same seed gives the identical output. Randomness comes from a small
//!   SplitMix64 generator; each (column, row) pair gets its own stream derived from the seed,
//!   so changing one row or one column does not shift the random draws of the others.
//!   [`Perturbation::Shuffle`] uses one stream per column (a permutation is one draw);
//! * **restricted to the selected rows**: `selected` (one `bool` per row, `None` = all rows,
//!   usually the result of a SQL `where` evaluated elsewhere) chooses the rows to change;
//!   unselected rows are never changed.
//!
//! Type rules: [`Perturbation::Set`], [`Perturbation::Replace`], [`Perturbation::SetNull`],
//! [`Perturbation::Shuffle`] and [`Perturbation::Swap`] work on any column type (values are
//! converted with arrow's `cast`, rows moved with `zip` / `interleave` / `take`). The numeric
//! ones ([`Perturbation::Shift`], [`Perturbation::Scale`], [`Perturbation::Noise`]) need a
//! numeric column, and the text ones ([`Perturbation::Map`], [`Perturbation::Case`],
//! [`Perturbation::Whitespace`], [`Perturbation::Typo`]) a string column (`Utf8`,
//! `LargeUtf8` or `Utf8View`; the output keeps the input's string type). A column that gets
//! nulls becomes nullable in the output schema.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, LargeStringArray,
    RecordBatch, RecordBatchOptions, Scalar, StringArray, StringViewArray, UInt64Array,
    make_comparator, new_null_array,
};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::compute::kernels::cast::{CastOptions, cast_with_options};
use datafusion::arrow::compute::kernels::interleave::interleave;
use datafusion::arrow::compute::kernels::take::take;
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use serde_json::Value;

/// Letter case targets of [`Perturbation::Case`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    /// Unicode upper case (`"Zoë"` → `"ZOË"`).
    Upper,
    /// Unicode lower case (`"Zoë"` → `"zoë"`).
    Lower,
    /// Title case: a letter or digit that follows a non-alphanumeric character (or starts the
    /// string) is upper-cased, every other one lower-cased (`"o'neil SMITH"` → `"O'Neil Smith"`).
    Title,
}

/// One change to the raw rows of a batch. Applied with [`apply`] / [`apply_all`].
#[derive(Debug, Clone, PartialEq)]
pub enum Perturbation {
    /// Every selected row gets `value`, cast to the column's type (JSON `null` → null).
    /// Numbers, booleans and strings are accepted and converted with arrow's cast, so
    /// `"2024-01-31"` can go into a `Date32` column and `"12"` into an integer column; a
    /// fractional number is never truncated into an integer column (it is an error).
    Set {
        /// The column to change.
        column: String,
        /// The new value.
        value: Value,
    },
    /// Each selected row gets a value drawn (seeded) from `values`, cast like in
    /// [`Perturbation::Set`]. When the list has more than one value, a value equal to the
    /// row's current one is never drawn if another choice exists (nulls count as equal).
    Replace {
        /// The column to change.
        column: String,
        /// The values to draw from (at least one).
        values: Vec<Value>,
    },
    /// Numeric columns: `x + by`; nulls stay null. See [`Perturbation::Noise`] for the
    /// output type.
    Shift {
        /// The numeric column to change.
        column: String,
        /// The (finite) amount added.
        by: f64,
    },
    /// Numeric columns: `x * by`; nulls stay null. See [`Perturbation::Noise`] for the
    /// output type.
    Scale {
        /// The numeric column to change.
        column: String,
        /// The (finite) factor.
        by: f64,
    },
    /// Numeric columns: `x + N(0, std²)` with a seeded Gaussian draw per row (Box–Muller);
    /// nulls stay null.
    ///
    /// Output type of the numeric perturbations: `Float32` and `Float16` columns keep their
    /// type, every other numeric column (integers, decimals, `Float64`) becomes `Float64`
    /// (all rows, values unchanged on unselected rows). A shifted or noisy integer is rarely
    /// an integer, and model inputs are computed with SQL from the perturbed rows anyway.
    Noise {
        /// The numeric column to change.
        column: String,
        /// The (finite, non-negative) standard deviation.
        std: f64,
    },
    /// Selected rows become null.
    SetNull {
        /// The column to change.
        column: String,
    },
    /// Permutes the column's values among the selected rows (seeded Fisher–Yates); the
    /// multiset of values is preserved. A permutation may leave some rows in place.
    Shuffle {
        /// The column to shuffle.
        column: String,
    },
    /// Exchanges the values of two columns on the selected rows; both must have the same type.
    Swap {
        /// The first column.
        a: String,
        /// The second column.
        b: String,
    },
    /// Category mapping on a string column: a value equal to a key gets the mapped value
    /// (a string, a number or boolean written as text, or JSON `null` → null); unmapped values
    /// and nulls are unchanged. With duplicate keys the first one wins.
    Map {
        /// The string column to change.
        column: String,
        /// `(from, to)` pairs.
        mapping: Vec<(String, Value)>,
    },
    /// Changes the letter case of a string column (see [`CaseKind`]).
    Case {
        /// The string column to change.
        column: String,
        /// The target case.
        to: CaseKind,
    },
    /// Whitespace noise on a string column: every ASCII space is doubled and one space is
    /// added before and after the value (`"new york"` → `" new  york "`, `""` → `"  "`).
    /// Nulls stay null.
    Whitespace {
        /// The string column to change.
        column: String,
    },
    /// One seeded typo per value of a string column, on characters (not bytes), so the
    /// result is valid UTF-8 and its length in characters differs by at most one. The typo
    /// is one of: swap two adjacent different characters, delete one character, duplicate
    /// one character. A one-character value gets its character duplicated; an empty value or
    /// a null is unchanged; every other value is changed.
    Typo {
        /// The string column to change.
        column: String,
    },
}

impl Perturbation {
    /// The perturbation's name as used in messages (`"set"`, `"noise"`, `"set_null"`…).
    pub fn name(&self) -> &'static str {
        match self {
            Perturbation::Set { .. } => "set",
            Perturbation::Replace { .. } => "replace",
            Perturbation::Shift { .. } => "shift",
            Perturbation::Scale { .. } => "scale",
            Perturbation::Noise { .. } => "noise",
            Perturbation::SetNull { .. } => "set_null",
            Perturbation::Shuffle { .. } => "shuffle",
            Perturbation::Swap { .. } => "swap",
            Perturbation::Map { .. } => "map",
            Perturbation::Case { .. } => "case",
            Perturbation::Whitespace { .. } => "whitespace",
            Perturbation::Typo { .. } => "typo",
        }
    }
}

/// Why a perturbation could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum PerturbError {
    /// The column is not in the batch.
    #[error("unknown column `{column}`; the batch has columns: {available}")]
    UnknownColumn {
        /// The requested column.
        column: String,
        /// The batch's columns, comma-separated.
        available: String,
    },
    /// A numeric perturbation on a non-numeric column.
    #[error("`{perturbation}` needs a numeric column, but column `{column}` has type {data_type}")]
    NotNumeric {
        /// The perturbation's name.
        perturbation: &'static str,
        /// The column.
        column: String,
        /// The column's type.
        data_type: DataType,
    },
    /// A text perturbation on a non-string column.
    #[error(
        "`{perturbation}` needs a string column (Utf8, LargeUtf8 or Utf8View), but column `{column}` has type {data_type}"
    )]
    NotString {
        /// The perturbation's name.
        perturbation: &'static str,
        /// The column.
        column: String,
        /// The column's type.
        data_type: DataType,
    },
    /// A value that cannot be converted to the column's type.
    #[error("cannot put value {value} into column `{column}` of type {data_type}: {reason}")]
    CannotCast {
        /// The value, as JSON.
        value: String,
        /// The column.
        column: String,
        /// The column's type.
        data_type: DataType,
        /// Why.
        reason: String,
    },
    /// [`Perturbation::Swap`] of columns with different types.
    #[error("cannot swap column `{a}` ({a_type}) with column `{b}` ({b_type}): the types differ")]
    SwapTypes {
        /// The first column.
        a: String,
        /// Its type.
        a_type: DataType,
        /// The second column.
        b: String,
        /// Its type.
        b_type: DataType,
    },
    /// `selected` does not have one entry per row.
    #[error("the row selection has {actual} entries, but the batch has {expected} rows")]
    SelectionLength {
        /// The batch's row count.
        expected: usize,
        /// The selection's length.
        actual: usize,
    },
    /// A parameter out of range (empty `values`, negative `std`, non-finite amount…).
    #[error("`{perturbation}` on column `{column}`: {message}")]
    InvalidParameter {
        /// The perturbation's name.
        perturbation: &'static str,
        /// The column.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// An arrow kernel failed.
    #[error("arrow error while perturbing rows: {0}")]
    Arrow(#[from] ArrowError),
}

type Result<T> = std::result::Result<T, PerturbError>;

/// Applies one perturbation to the selected rows (`None` = all rows) and returns a new batch;
/// `batch` is not modified. The same `seed` gives the same output.
pub fn apply(
    batch: &RecordBatch,
    p: &Perturbation,
    selected: Option<&[bool]>,
    seed: u64,
) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let mask: Vec<bool> = match selected {
        Some(s) if s.len() != n => {
            return Err(PerturbError::SelectionLength {
                expected: n,
                actual: s.len(),
            });
        }
        Some(s) => s.to_vec(),
        None => vec![true; n],
    };
    let name = p.name();
    match p {
        Perturbation::Set { column, value } => {
            let (idx, col) = column_of(batch, column)?;
            let new = values_array(std::slice::from_ref(value), column, col.data_type())?;
            let out = zip(&BooleanArray::from(mask), &Scalar::new(new), col)?;
            with_column(batch, idx, out)
        }
        Perturbation::Replace { column, values } => {
            let (idx, col) = column_of(batch, column)?;
            if values.is_empty() {
                return Err(invalid(name, column, "the list of values is empty"));
            }
            let candidates = values_array(values, column, col.data_type())?;
            let cmp = make_comparator(col.as_ref(), candidates.as_ref(), SortOptions::default())?;
            let stream = column_seed(seed, column);
            let mut choices = Vec::with_capacity(values.len());
            let mut indices = Vec::with_capacity(n);
            for (row, &sel) in mask.iter().enumerate() {
                if !sel {
                    indices.push((0, row));
                    continue;
                }
                choices.clear();
                choices.extend((0..values.len()).filter(|&j| cmp(row, j).is_ne()));
                if choices.is_empty() {
                    // Every candidate equals the current value: any choice keeps it.
                    choices.extend(0..values.len());
                }
                let mut rng = Rng::new(derive(stream, row as u64));
                indices.push((1, choices[rng.below(choices.len())]));
            }
            let out = interleave(&[col.as_ref(), candidates.as_ref()], &indices)?;
            with_column(batch, idx, out)
        }
        Perturbation::Shift { column, by } => {
            check_finite(name, column, "the amount", *by)?;
            numeric(batch, name, column, &mask, |_, x| x + by)
        }
        Perturbation::Scale { column, by } => {
            check_finite(name, column, "the factor", *by)?;
            numeric(batch, name, column, &mask, |_, x| x * by)
        }
        Perturbation::Noise { column, std } => {
            if !std.is_finite() || *std < 0.0 {
                return Err(invalid(
                    name,
                    column,
                    &format!("the standard deviation must be finite and >= 0, got {std}"),
                ));
            }
            let stream = column_seed(seed, column);
            numeric(batch, name, column, &mask, |row, x| {
                x + std * Rng::new(derive(stream, row as u64)).gaussian()
            })
        }
        Perturbation::SetNull { column } => {
            let (idx, col) = column_of(batch, column)?;
            let nulls = new_null_array(col.data_type(), 1);
            let out = zip(&BooleanArray::from(mask), &Scalar::new(nulls), col)?;
            with_column(batch, idx, out)
        }
        Perturbation::Shuffle { column } => {
            let (idx, col) = column_of(batch, column)?;
            let rows: Vec<u64> = (0..n as u64).filter(|&r| mask[r as usize]).collect();
            let mut perm = rows.clone();
            let mut rng = Rng::new(derive(column_seed(seed, column), u64::MAX));
            for i in (1..perm.len()).rev() {
                perm.swap(i, rng.below(i + 1));
            }
            let mut indices: Vec<u64> = (0..n as u64).collect();
            for (&row, &from) in rows.iter().zip(&perm) {
                indices[row as usize] = from;
            }
            let out = take(col.as_ref(), &UInt64Array::from(indices), None)?;
            with_column(batch, idx, out)
        }
        Perturbation::Swap { a, b } => {
            let (ia, ca) = column_of(batch, a)?;
            let (ib, cb) = column_of(batch, b)?;
            if ca.data_type() != cb.data_type() {
                return Err(PerturbError::SwapTypes {
                    a: a.clone(),
                    a_type: ca.data_type().clone(),
                    b: b.clone(),
                    b_type: cb.data_type().clone(),
                });
            }
            let mask = BooleanArray::from(mask);
            let new_a = zip(&mask, cb, ca)?;
            let new_b = zip(&mask, ca, cb)?;
            let batch = with_column(batch, ia, new_a)?;
            with_column(&batch, ib, new_b)
        }
        Perturbation::Map { column, mapping } => {
            let mut table: HashMap<&str, Option<String>> = HashMap::with_capacity(mapping.len());
            for (from, to) in mapping {
                let to = match to {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    Value::Bool(_) | Value::Number(_) => Some(to.to_string()),
                    Value::Array(_) | Value::Object(_) => {
                        return Err(PerturbError::CannotCast {
                            value: to.to_string(),
                            column: column.clone(),
                            data_type: DataType::Utf8,
                            reason: "a mapped value must be a string, number, boolean or null"
                                .into(),
                        });
                    }
                };
                table.entry(from.as_str()).or_insert(to);
            }
            strings(batch, name, column, &mask, |_, s| match table.get(s) {
                Some(to) => to.clone(),
                None => Some(s.to_owned()),
            })
        }
        Perturbation::Case { column, to } => strings(batch, name, column, &mask, |_, s| {
            Some(match to {
                CaseKind::Upper => s.to_uppercase(),
                CaseKind::Lower => s.to_lowercase(),
                CaseKind::Title => title_case(s),
            })
        }),
        Perturbation::Whitespace { column } => strings(batch, name, column, &mask, |_, s| {
            Some(format!(" {} ", s.replace(' ', "  ")))
        }),
        Perturbation::Typo { column } => {
            let stream = column_seed(seed, column);
            strings(batch, name, column, &mask, |row, s| {
                Some(typo(s, &mut Rng::new(derive(stream, row as u64))))
            })
        }
    }
}

/// Applies the perturbations in order, each to the output of the previous one and each with
/// its own seed derived from `seed` and its position. `selected` is the same row selection
/// for all of them (it was computed on the original rows).
pub fn apply_all(
    batch: &RecordBatch,
    ps: &[Perturbation],
    selected: Option<&[bool]>,
    seed: u64,
) -> Result<RecordBatch> {
    let mut out = batch.clone();
    for (i, p) in ps.iter().enumerate() {
        out = apply(&out, p, selected, derive(seed, i as u64))?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Randomness: SplitMix64 (Steele, Lea & Flood 2014). Tiny, fast, statistically good enough
// for test perturbations, and fully determined by its 64-bit state.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-and-shift (bias about n / 2⁶⁴: negligible).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal draw (Box–Muller).
    fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]: ln is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// The SplitMix64 output function: a bijective 64-bit mixer.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for an independent stream, from a parent seed and a tag (row, position…).
fn derive(seed: u64, tag: u64) -> u64 {
    mix64(seed ^ mix64(tag.wrapping_add(0x9E37_79B9_7F4A_7C15)))
}

/// The stream of one column: the seed mixed with the FNV-1a hash of the column's name
/// (stable across runs and platforms, unlike std's hasher).
fn column_seed(seed: u64, column: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in column.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    derive(seed, h)
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn invalid(perturbation: &'static str, column: &str, message: &str) -> PerturbError {
    PerturbError::InvalidParameter {
        perturbation,
        column: column.to_owned(),
        message: message.to_owned(),
    }
}

fn check_finite(perturbation: &'static str, column: &str, what: &str, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(invalid(
            perturbation,
            column,
            &format!("{what} must be finite, got {x}"),
        ))
    }
}

fn column_of<'a>(batch: &'a RecordBatch, column: &str) -> Result<(usize, &'a ArrayRef)> {
    match batch.schema_ref().index_of(column) {
        Ok(i) => Ok((i, batch.column(i))),
        Err(_) => Err(PerturbError::UnknownColumn {
            column: column.to_owned(),
            available: batch
                .schema_ref()
                .fields()
                .iter()
                .map(|f| format!("`{}`", f.name()))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// A copy of `batch` with column `idx` replaced; the field takes the array's type and becomes
/// nullable if the array has nulls. Field and schema metadata are kept.
fn with_column(batch: &RecordBatch, idx: usize, array: ArrayRef) -> Result<RecordBatch> {
    let schema = batch.schema_ref();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let field = fields[idx].clone();
    let nullable = field.is_nullable() || array.null_count() > 0;
    fields[idx] = field
        .with_data_type(array.data_type().clone())
        .with_nullable(nullable);
    let mut columns = batch.columns().to_vec();
    columns[idx] = array;
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(schema),
        columns,
        &options,
    )?)
}

/// The JSON values as an array of `data_type` (one element per value).
fn values_array(values: &[Value], column: &str, data_type: &DataType) -> Result<ArrayRef> {
    let mut parts = Vec::with_capacity(values.len());
    for value in values {
        let cannot = |reason: String| PerturbError::CannotCast {
            value: value.to_string(),
            column: column.to_owned(),
            data_type: data_type.clone(),
            reason,
        };
        let source: ArrayRef = match value {
            Value::Null => new_null_array(data_type, 1),
            Value::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
            Value::String(s) => Arc::new(StringArray::from(vec![s.as_str()])),
            Value::Number(num) => {
                if let Some(i) = num.as_i64() {
                    Arc::new(Int64Array::from(vec![i]))
                } else if let Some(u) = num.as_u64() {
                    Arc::new(UInt64Array::from(vec![u]))
                } else {
                    let f = num
                        .as_f64()
                        .ok_or_else(|| cannot("not a representable number".into()))?;
                    if data_type.is_integer() && f.fract() != 0.0 {
                        return Err(cannot(
                            "a fractional number would be truncated in an integer column".into(),
                        ));
                    }
                    Arc::new(Float64Array::from(vec![f]))
                }
            }
            Value::Array(_) | Value::Object(_) => {
                return Err(cannot(
                    "only strings, numbers, booleans and null are supported".into(),
                ));
            }
        };
        let options = CastOptions {
            safe: false,
            ..Default::default()
        };
        let cast =
            cast_with_options(&source, data_type, &options).map_err(|e| cannot(e.to_string()))?;
        if cast.null_count() > 0 && !value.is_null() {
            return Err(cannot("the conversion gives null".into()));
        }
        parts.push(cast);
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    let indices: Vec<(usize, usize)> = (0..parts.len()).map(|i| (i, 0)).collect();
    Ok(interleave(&refs, &indices)?)
}

/// Applies `f(row, x)` to the non-null selected values of a numeric column, computed in f64.
fn numeric(
    batch: &RecordBatch,
    name: &'static str,
    column: &str,
    mask: &[bool],
    f: impl Fn(usize, f64) -> f64,
) -> Result<RecordBatch> {
    let (idx, col) = column_of(batch, column)?;
    let data_type = col.data_type();
    if !data_type.is_numeric() {
        return Err(PerturbError::NotNumeric {
            perturbation: name,
            column: column.to_owned(),
            data_type: data_type.clone(),
        });
    }
    let as_f64 = cast_with_options(col, &DataType::Float64, &CastOptions::default())?;
    let values = as_f64.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    let out: Float64Array = values
        .iter()
        .enumerate()
        .map(|(row, x)| match x {
            Some(x) if mask[row] => Some(f(row, x)),
            other => other,
        })
        .collect();
    let out: ArrayRef = Arc::new(out);
    let out = match data_type {
        DataType::Float32 | DataType::Float16 => {
            cast_with_options(&out, data_type, &CastOptions::default())?
        }
        _ => out,
    };
    with_column(batch, idx, out)
}

/// Applies `f(row, s)` to the non-null selected values of a string column; the output keeps
/// the column's string type.
fn strings(
    batch: &RecordBatch,
    name: &'static str,
    column: &str,
    mask: &[bool],
    f: impl Fn(usize, &str) -> Option<String>,
) -> Result<RecordBatch> {
    let (idx, col) = column_of(batch, column)?;
    let input: Vec<Option<&str>> = match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => col.as_string::<i64>().iter().collect(),
        DataType::Utf8View => col.as_string_view().iter().collect(),
        other => {
            return Err(PerturbError::NotString {
                perturbation: name,
                column: column.to_owned(),
                data_type: other.clone(),
            });
        }
    };
    let output: Vec<Option<String>> = input
        .iter()
        .enumerate()
        .map(|(row, s)| match s {
            Some(s) if mask[row] => f(row, s),
            other => other.map(str::to_owned),
        })
        .collect();
    let out: ArrayRef = match col.data_type() {
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from(output)),
        DataType::Utf8View => Arc::new(StringViewArray::from(output)),
        _ => Arc::new(StringArray::from(output)),
    };
    with_column(batch, idx, out)
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alnum = false;
    for c in s.chars() {
        if prev_alnum {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_alnum = c.is_alphanumeric();
    }
    out
}

/// One typo on characters; see [`Perturbation::Typo`].
fn typo(s: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    match chars.len() {
        0 => return String::new(),
        1 => {
            chars.push(chars[0]);
            return chars.into_iter().collect();
        }
        _ => {}
    }
    let swappable: Vec<usize> = (0..chars.len() - 1)
        .filter(|&i| chars[i] != chars[i + 1])
        .collect();
    let ops = if swappable.is_empty() { 2 } else { 3 };
    match rng.below(ops) {
        0 => {
            chars.remove(rng.below(chars.len()));
        }
        1 => {
            let i = rng.below(chars.len());
            chars.insert(i, chars[i]);
        }
        _ => {
            let i = swappable[rng.below(swappable.len())];
            chars.swap(i, i + 1);
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Date32Array, Float32Array, Int8Array};
    use datafusion::arrow::datatypes::{Float32Type, Float64Type, Int64Type};
    use serde_json::json;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("x", DataType::Float64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("city", DataType::Utf8View, true),
            Field::new("flag", DataType::Boolean, true),
            Field::new("small", DataType::Int8, false),
            Field::new("other", DataType::Int64, false),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4)])),
            Arc::new(Float64Array::from(vec![
                Some(1.5),
                Some(2.5),
                None,
                Some(-1.0),
            ])),
            Arc::new(StringArray::from(vec![
                Some("Zoë"),
                Some("bob"),
                None,
                Some(""),
            ])),
            Arc::new(StringViewArray::from(vec![
                Some("são paulo"),
                Some("NEW york"),
                Some("a"),
                None,
            ])),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
            ])),
            Arc::new(Int8Array::from(vec![1, 2, 3, 4])),
            Arc::new(Int64Array::from(vec![10, 20, 30, 40])),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).expect("batch")
    }

    /// A batch with `n` rows: `v` Int64 0..n, `s` Utf8 and `w` Utf8View words.
    fn big(n: usize) -> RecordBatch {
        let words = [
            "Zoë",
            "bob",
            "a",
            "",
            "naïve café",
            "aa",
            "日本語",
            "xyz",
            "Ω",
        ];
        let strs: Vec<&str> = (0..n).map(|i| words[i % words.len()]).collect();
        let schema = Schema::new(vec![
            Field::new("v", DataType::Int64, false),
            Field::new("s", DataType::Utf8, false),
            Field::new("w", DataType::Utf8View, false),
            Field::new("f", DataType::Float64, false),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(0..n as i64)),
            Arc::new(StringArray::from(strs.clone())),
            Arc::new(StringViewArray::from(strs)),
            Arc::new(Float64Array::from(vec![0.0; n])),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).expect("batch")
    }

    fn run(b: &RecordBatch, p: Perturbation, sel: Option<&[bool]>, seed: u64) -> RecordBatch {
        let before = b.clone();
        let out = apply(b, &p, sel, seed).expect("apply");
        assert_eq!(b, &before, "input batch changed by {p:?}");
        out
    }

    fn err(b: &RecordBatch, p: Perturbation, sel: Option<&[bool]>) -> String {
        apply(b, &p, sel, 1)
            .expect_err("expected an error")
            .to_string()
    }

    fn ints(b: &RecordBatch, c: &str) -> Vec<Option<i64>> {
        b.column_by_name(c)
            .expect("column")
            .as_primitive::<Int64Type>()
            .iter()
            .collect()
    }

    fn floats(b: &RecordBatch, c: &str) -> Vec<Option<f64>> {
        b.column_by_name(c)
            .expect("column")
            .as_primitive::<Float64Type>()
            .iter()
            .collect()
    }

    fn texts(b: &RecordBatch, c: &str) -> Vec<Option<String>> {
        let col = b.column_by_name(c).expect("column");
        let v: Vec<Option<&str>> = match col.data_type() {
            DataType::Utf8 => col.as_string::<i32>().iter().collect(),
            DataType::LargeUtf8 => col.as_string::<i64>().iter().collect(),
            DataType::Utf8View => col.as_string_view().iter().collect(),
            other => panic!("not a string column: {other}"),
        };
        v.into_iter().map(|s| s.map(str::to_owned)).collect()
    }

    fn bools(b: &RecordBatch, c: &str) -> Vec<Option<bool>> {
        b.column_by_name(c)
            .expect("column")
            .as_boolean()
            .iter()
            .collect()
    }

    fn s(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|s| s.map(str::to_owned)).collect()
    }

    fn col(c: &str) -> String {
        c.to_owned()
    }

    const SEL: &[bool] = &[true, false, true, false];

    // ---- Set ------------------------------------------------------------------------

    #[test]
    fn set_int_on_selected_rows() {
        let out = run(
            &batch(),
            Perturbation::Set {
                column: col("id"),
                value: json!(7),
            },
            Some(SEL),
            1,
        );
        assert_eq!(ints(&out, "id"), vec![Some(7), None, Some(7), Some(4)]);
        assert_eq!(
            out.schema().field_with_name("id").expect("id").data_type(),
            &DataType::Int64
        );
    }

    #[test]
    fn set_casts_strings_numbers_bools_and_null() {
        let b = batch();
        let out = run(
            &b,
            Perturbation::Set {
                column: col("city"),
                value: json!("Zoë"),
            },
            None,
            1,
        );
        assert_eq!(
            out.column_by_name("city").expect("city").data_type(),
            &DataType::Utf8View
        );
        assert_eq!(texts(&out, "city"), vec![Some("Zoë".to_owned()); 4]);
        let out = run(
            &b,
            Perturbation::Set {
                column: col("name"),
                value: json!(12),
            },
            Some(SEL),
            1,
        );
        assert_eq!(
            texts(&out, "name"),
            s(&[Some("12"), Some("bob"), Some("12"), Some("")])
        );
        let out = run(
            &b,
            Perturbation::Set {
                column: col("id"),
                value: json!("12"),
            },
            None,
            1,
        );
        assert_eq!(ints(&out, "id"), vec![Some(12); 4]);
        let out = run(
            &b,
            Perturbation::Set {
                column: col("x"),
                value: json!(2),
            },
            None,
            1,
        );
        assert_eq!(floats(&out, "x"), vec![Some(2.0); 4]);
        let out = run(
            &b,
            Perturbation::Set {
                column: col("flag"),
                value: json!(false),
            },
            Some(SEL),
            1,
        );
        assert_eq!(
            bools(&out, "flag"),
            vec![Some(false), Some(false), Some(false), Some(true)]
        );
        let out = run(
            &b,
            Perturbation::Set {
                column: col("x"),
                value: json!(null),
            },
            Some(SEL),
            1,
        );
        assert_eq!(floats(&out, "x"), vec![None, Some(2.5), None, Some(-1.0)]);
    }

    #[test]
    fn set_null_value_makes_non_nullable_field_nullable() {
        let out = run(
            &batch(),
            Perturbation::Set {
                column: col("small"),
                value: json!(null),
            },
            Some(SEL),
            1,
        );
        let field = out
            .schema()
            .field_with_name("small")
            .expect("small")
            .clone();
        assert!(field.is_nullable());
        assert_eq!(out.column_by_name("small").expect("small").null_count(), 2);
    }

    #[test]
    fn set_any_type_via_cast() {
        let schema = Schema::new(vec![Field::new("d", DataType::Date32, true)]);
        let b = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(Date32Array::from(vec![Some(0), None]))],
        )
        .expect("batch");
        let out = run(
            &b,
            Perturbation::Set {
                column: col("d"),
                value: json!("1970-01-11"),
            },
            None,
            1,
        );
        let d: Vec<Option<i32>> = out
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Date32Type>()
            .iter()
            .collect();
        assert_eq!(d, vec![Some(10), Some(10)]);
    }

    #[test]
    fn set_errors_name_value_column_and_type() {
        let b = batch();
        let m = err(
            &b,
            Perturbation::Set {
                column: col("id"),
                value: json!("abc"),
            },
            None,
        );
        assert!(
            m.contains("\"abc\"") && m.contains("`id`") && m.contains("Int64"),
            "{m}"
        );
        let m = err(
            &b,
            Perturbation::Set {
                column: col("id"),
                value: json!(1.5),
            },
            None,
        );
        assert!(
            m.contains("1.5") && m.contains("`id`") && m.contains("Int64"),
            "{m}"
        );
        let m = err(
            &b,
            Perturbation::Set {
                column: col("small"),
                value: json!(300),
            },
            None,
        );
        assert!(
            m.contains("300") && m.contains("`small`") && m.contains("Int8"),
            "{m}"
        );
        let m = err(
            &b,
            Perturbation::Set {
                column: col("flag"),
                value: json!({"a": 1}),
            },
            None,
        );
        assert!(
            m.contains("{\"a\":1}") && m.contains("`flag`") && m.contains("Boolean"),
            "{m}"
        );
    }

    // ---- Replace --------------------------------------------------------------------

    #[test]
    fn replace_never_keeps_the_current_value_and_is_seeded() {
        let b = big(300);
        let values = vec![json!("Zoë"), json!("bob"), json!("a")];
        let p = Perturbation::Replace {
            column: col("s"),
            values: values.clone(),
        };
        let sel: Vec<bool> = (0..300).map(|i| i % 3 != 0).collect();
        let out = run(&b, p.clone(), Some(&sel), 7);
        let before = texts(&b, "s");
        let after = texts(&out, "s");
        let allowed = ["Zoë", "bob", "a"];
        for row in 0..300 {
            if sel[row] {
                let v = after[row].as_deref().expect("value");
                assert!(allowed.contains(&v), "row {row}: {v}");
                assert_ne!(after[row], before[row], "row {row} kept its value");
            } else {
                assert_eq!(after[row], before[row], "unselected row {row} changed");
            }
        }
        assert_eq!(run(&b, p.clone(), Some(&sel), 7), out);
        assert_ne!(run(&b, p, Some(&sel), 8), out);
        // Utf8View column gets Utf8View values.
        let out = run(
            &b,
            Perturbation::Replace {
                column: col("w"),
                values,
            },
            None,
            7,
        );
        assert_eq!(
            out.column_by_name("w").expect("w").data_type(),
            &DataType::Utf8View
        );
    }

    #[test]
    fn replace_on_ints_with_null_and_single_value() {
        let b = batch();
        // Two candidates: a row holding one of them always gets the other.
        let p = Perturbation::Replace {
            column: col("id"),
            values: vec![json!(1), json!(null)],
        };
        let out = run(&b, p, None, 3);
        assert_eq!(ints(&out, "id")[0], None);
        assert_eq!(ints(&out, "id")[1], Some(1));
        // One candidate: like Set.
        let p = Perturbation::Replace {
            column: col("flag"),
            values: vec![json!(true)],
        };
        let out = run(&b, p, Some(SEL), 3);
        assert_eq!(
            bools(&out, "flag"),
            vec![Some(true), Some(false), Some(true), Some(true)]
        );
    }

    #[test]
    fn replace_errors() {
        let b = batch();
        let m = err(
            &b,
            Perturbation::Replace {
                column: col("id"),
                values: vec![],
            },
            None,
        );
        assert!(
            m.contains("replace") && m.contains("`id`") && m.contains("empty"),
            "{m}"
        );
        let m = err(
            &b,
            Perturbation::Replace {
                column: col("small"),
                values: vec![json!(1), json!("x")],
            },
            None,
        );
        assert!(
            m.contains("\"x\"") && m.contains("`small`") && m.contains("Int8"),
            "{m}"
        );
    }

    // ---- Shift / Scale / Noise ------------------------------------------------------

    #[test]
    fn shift_and_scale_exact() {
        let b = batch();
        let out = run(
            &b,
            Perturbation::Shift {
                column: col("x"),
                by: 1.0,
            },
            Some(SEL),
            1,
        );
        assert_eq!(
            floats(&out, "x"),
            vec![Some(2.5), Some(2.5), None, Some(-1.0)]
        );
        let out = run(
            &b,
            Perturbation::Scale {
                column: col("x"),
                by: -2.0,
            },
            None,
            1,
        );
        assert_eq!(
            floats(&out, "x"),
            vec![Some(-3.0), Some(-5.0), None, Some(2.0)]
        );
    }

    #[test]
    fn numeric_on_integers_gives_float64() {
        let b = batch();
        let out = run(
            &b,
            Perturbation::Shift {
                column: col("id"),
                by: 0.5,
            },
            Some(&[true, true, false, true]),
            1,
        );
        assert_eq!(
            out.schema().field_with_name("id").expect("id").data_type(),
            &DataType::Float64
        );
        assert_eq!(
            floats(&out, "id"),
            vec![Some(1.5), None, Some(3.0), Some(4.5)]
        );
        let out = run(
            &b,
            Perturbation::Scale {
                column: col("small"),
                by: 2.0,
            },
            None,
            1,
        );
        assert_eq!(
            floats(&out, "small"),
            vec![Some(2.0), Some(4.0), Some(6.0), Some(8.0)]
        );
        assert!(
            !out.schema()
                .field_with_name("small")
                .expect("small")
                .is_nullable()
        );
    }

    #[test]
    fn numeric_on_float32_keeps_float32() {
        let schema = Schema::new(vec![Field::new("f", DataType::Float32, true)]);
        let b = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(Float32Array::from(vec![Some(1.0), None]))],
        )
        .expect("batch");
        let out = run(
            &b,
            Perturbation::Scale {
                column: col("f"),
                by: 3.0,
            },
            None,
            1,
        );
        let v: Vec<Option<f32>> = out.column(0).as_primitive::<Float32Type>().iter().collect();
        assert_eq!(v, vec![Some(3.0), None]);
    }

    #[test]
    fn noise_is_seeded_with_the_right_std() {
        let n = 10_000;
        let b = big(n);
        let sel: Vec<bool> = (0..n).map(|i| i % 10 != 0).collect();
        let p = Perturbation::Noise {
            column: col("f"),
            std: 2.0,
        };
        let out = run(&b, p.clone(), Some(&sel), 42);
        let v: Vec<f64> = floats(&out, "f")
            .into_iter()
            .map(|x| x.expect("value"))
            .collect();
        let noisy: Vec<f64> = (0..n).filter(|&i| sel[i]).map(|i| v[i]).collect();
        assert!((0..n).filter(|&i| !sel[i]).all(|i| v[i] == 0.0));
        let mean = noisy.iter().sum::<f64>() / noisy.len() as f64;
        let var = noisy.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (noisy.len() - 1) as f64;
        assert!((var.sqrt() - 2.0).abs() < 0.1, "std {}", var.sqrt());
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert_eq!(run(&b, p.clone(), Some(&sel), 42), out);
        assert_ne!(run(&b, p, Some(&sel), 43), out);
        // Nulls stay null.
        let out = run(
            &batch(),
            Perturbation::Noise {
                column: col("x"),
                std: 1.0,
            },
            None,
            1,
        );
        assert_eq!(floats(&out, "x")[2], None);
        assert!(floats(&out, "x")[0].is_some_and(|x| x != 1.5));
    }

    #[test]
    fn numeric_errors() {
        let b = batch();
        let m = err(
            &b,
            Perturbation::Shift {
                column: col("name"),
                by: 1.0,
            },
            None,
        );
        assert!(
            m.contains("shift") && m.contains("`name`") && m.contains("Utf8"),
            "{m}"
        );
        let m = err(
            &b,
            Perturbation::Scale {
                column: col("flag"),
                by: 1.0,
            },
            None,
        );
        assert!(
            m.contains("scale") && m.contains("`flag`") && m.contains("Boolean"),
            "{m}"
        );
        let m = err(
            &b,
            Perturbation::Noise {
                column: col("city"),
                std: 1.0,
            },
            None,
        );
        assert!(
            m.contains("noise") && m.contains("`city`") && m.contains("Utf8View"),
            "{m}"
        );
        let m = err(
            &b,
            Perturbation::Noise {
                column: col("x"),
                std: -1.0,
            },
            None,
        );
        assert!(m.contains("`x`") && m.contains("-1"), "{m}");
        let m = err(
            &b,
            Perturbation::Shift {
                column: col("x"),
                by: f64::NAN,
            },
            None,
        );
        assert!(m.contains("`x`") && m.contains("finite"), "{m}");
    }

    // ---- SetNull / Shuffle / Swap ---------------------------------------------------

    #[test]
    fn set_null_on_selected_rows() {
        let b = batch();
        let out = run(
            &b,
            Perturbation::SetNull {
                column: col("city"),
            },
            Some(SEL),
            1,
        );
        assert_eq!(
            texts(&out, "city"),
            s(&[None, Some("NEW york"), None, None])
        );
        let out = run(
            &b,
            Perturbation::SetNull {
                column: col("other"),
            },
            Some(SEL),
            1,
        );
        assert_eq!(ints(&out, "other"), vec![None, Some(20), None, Some(40)]);
        assert!(
            out.schema()
                .field_with_name("other")
                .expect("other")
                .is_nullable()
        );
        let out = run(
            &b,
            Perturbation::SetNull {
                column: col("flag"),
            },
            None,
            1,
        );
        assert_eq!(out.column_by_name("flag").expect("flag").null_count(), 4);
    }

    #[test]
    fn shuffle_permutes_selected_rows_only() {
        let n = 100;
        let b = big(n);
        let sel: Vec<bool> = (0..n).map(|i| i % 4 != 1).collect();
        let p = Perturbation::Shuffle { column: col("v") };
        let out = run(&b, p.clone(), Some(&sel), 5);
        let after = ints(&out, "v");
        let mut moved: Vec<i64> = (0..n)
            .filter(|&i| sel[i])
            .map(|i| after[i].expect("v"))
            .collect();
        let mut orig: Vec<i64> = (0..n as i64).filter(|&i| sel[i as usize]).collect();
        assert_ne!(moved, orig, "nothing moved");
        moved.sort_unstable();
        orig.sort_unstable();
        assert_eq!(moved, orig, "multiset changed");
        assert!(
            (0..n)
                .filter(|&i| !sel[i])
                .all(|i| after[i] == Some(i as i64))
        );
        assert_eq!(run(&b, p.clone(), Some(&sel), 5), out);
        assert_ne!(run(&b, p, Some(&sel), 6), out);
        // Strings, with nulls, all rows: same multiset.
        let out = run(
            &batch(),
            Perturbation::Shuffle {
                column: col("name"),
            },
            None,
            9,
        );
        let mut a = texts(&out, "name");
        let mut e = texts(&batch(), "name");
        a.sort();
        e.sort();
        assert_eq!(a, e);
    }

    #[test]
    fn swap_exchanges_selected_rows() {
        let out = run(
            &batch(),
            Perturbation::Swap {
                a: col("id"),
                b: col("other"),
            },
            Some(&[true, true, false, false]),
            1,
        );
        assert_eq!(ints(&out, "id"), vec![Some(10), Some(20), Some(3), Some(4)]);
        assert_eq!(ints(&out, "other"), vec![Some(1), None, Some(30), Some(40)]);
        assert!(
            out.schema()
                .field_with_name("other")
                .expect("other")
                .is_nullable()
        );
    }

    #[test]
    fn swap_type_mismatch() {
        let m = err(
            &batch(),
            Perturbation::Swap {
                a: col("name"),
                b: col("city"),
            },
            None,
        );
        assert!(
            m.contains("`name`")
                && m.contains("Utf8")
                && m.contains("`city`")
                && m.contains("Utf8View"),
            "{m}"
        );
    }

    // ---- Map / Case / Whitespace / Typo ---------------------------------------------

    #[test]
    fn map_categories() {
        let mapping = vec![
            (col("Zoë"), json!("Zoe")),
            (col("bob"), json!(null)),
            (col("Zoë"), json!("ignored")),
            (col("a"), json!(1)),
        ];
        let b = batch();
        let out = run(
            &b,
            Perturbation::Map {
                column: col("name"),
                mapping: mapping.clone(),
            },
            None,
            1,
        );
        assert_eq!(texts(&out, "name"), s(&[Some("Zoe"), None, None, Some("")]));
        let out = run(
            &b,
            Perturbation::Map {
                column: col("city"),
                mapping: mapping.clone(),
            },
            Some(&[true, true, false, true]),
            1,
        );
        assert_eq!(
            texts(&out, "city"),
            s(&[Some("são paulo"), Some("NEW york"), Some("a"), None])
        );
        let out = run(
            &b,
            Perturbation::Map {
                column: col("city"),
                mapping,
            },
            None,
            1,
        );
        assert_eq!(
            texts(&out, "city"),
            s(&[Some("são paulo"), Some("NEW york"), Some("1"), None])
        );
        assert_eq!(
            out.column_by_name("city").expect("city").data_type(),
            &DataType::Utf8View
        );
    }

    #[test]
    fn map_errors() {
        let b = batch();
        let m = err(
            &b,
            Perturbation::Map {
                column: col("id"),
                mapping: vec![],
            },
            None,
        );
        assert!(
            m.contains("map") && m.contains("`id`") && m.contains("Int64"),
            "{m}"
        );
        let m = err(
            &b,
            Perturbation::Map {
                column: col("name"),
                mapping: vec![(col("a"), json!([1]))],
            },
            None,
        );
        assert!(m.contains("[1]") && m.contains("`name`"), "{m}");
    }

    #[test]
    fn case_upper_lower_title() {
        let b = batch();
        let out = run(
            &b,
            Perturbation::Case {
                column: col("name"),
                to: CaseKind::Upper,
            },
            None,
            1,
        );
        assert_eq!(
            texts(&out, "name"),
            s(&[Some("ZOË"), Some("BOB"), None, Some("")])
        );
        let out = run(
            &b,
            Perturbation::Case {
                column: col("name"),
                to: CaseKind::Lower,
            },
            Some(SEL),
            1,
        );
        assert_eq!(
            texts(&out, "name"),
            s(&[Some("zoë"), Some("bob"), None, Some("")])
        );
        let out = run(
            &b,
            Perturbation::Case {
                column: col("city"),
                to: CaseKind::Title,
            },
            None,
            1,
        );
        assert_eq!(
            texts(&out, "city"),
            s(&[Some("São Paulo"), Some("New York"), Some("A"), None])
        );
        assert_eq!(
            title_case("o'neil SMITH-jones 2nd"),
            "O'Neil Smith-Jones 2nd"
        );
        let m = err(
            &b,
            Perturbation::Case {
                column: col("flag"),
                to: CaseKind::Upper,
            },
            None,
        );
        assert!(
            m.contains("case") && m.contains("`flag`") && m.contains("Boolean"),
            "{m}"
        );
    }

    #[test]
    fn case_on_large_utf8_keeps_type() {
        let schema = Schema::new(vec![Field::new("l", DataType::LargeUtf8, true)]);
        let b = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(LargeStringArray::from(vec![Some("straße"), None]))],
        )
        .expect("batch");
        let out = run(
            &b,
            Perturbation::Case {
                column: col("l"),
                to: CaseKind::Upper,
            },
            None,
            1,
        );
        assert_eq!(out.column(0).data_type(), &DataType::LargeUtf8);
        assert_eq!(texts(&out, "l"), s(&[Some("STRASSE"), None]));
    }

    #[test]
    fn whitespace_exact() {
        let out = run(
            &batch(),
            Perturbation::Whitespace {
                column: col("city"),
            },
            Some(&[true, true, false, true]),
            1,
        );
        assert_eq!(
            texts(&out, "city"),
            s(&[Some(" são  paulo "), Some(" NEW  york "), Some("a"), None])
        );
        let out = run(
            &batch(),
            Perturbation::Whitespace {
                column: col("name"),
            },
            None,
            1,
        );
        assert_eq!(
            texts(&out, "name"),
            s(&[Some(" Zoë "), Some(" bob "), None, Some("  ")])
        );
        let m = err(
            &batch(),
            Perturbation::Whitespace { column: col("x") },
            None,
        );
        assert!(m.contains("`x`") && m.contains("Float64"), "{m}");
    }

    #[test]
    fn typo_changes_every_non_empty_value() {
        let n = 900;
        let b = big(n);
        for c in ["s", "w"] {
            let p = Perturbation::Typo { column: col(c) };
            let out = run(&b, p.clone(), None, 11);
            let before = texts(&b, c);
            let after = texts(&out, c);
            for (x, y) in before.iter().zip(&after) {
                let (x, y) = (x.as_deref().expect("x"), y.as_deref().expect("y"));
                if x.is_empty() {
                    assert_eq!(y, "");
                    continue;
                }
                assert_ne!(x, y, "typo left {x:?} unchanged");
                let (lx, ly) = (x.chars().count(), y.chars().count());
                assert!(lx.abs_diff(ly) <= 1, "{x:?} -> {y:?}");
                if lx == 1 {
                    assert_eq!(y, format!("{x}{x}"));
                }
                // Same multiset of characters for a swap; otherwise one char more or less.
                if lx == ly {
                    let mut a: Vec<char> = x.chars().collect();
                    let mut b: Vec<char> = y.chars().collect();
                    a.sort_unstable();
                    b.sort_unstable();
                    assert_eq!(a, b);
                }
            }
            assert_eq!(run(&b, p.clone(), None, 11), out);
            assert_ne!(run(&b, p, None, 12), out);
        }
        // Each kind of typo happens.
        let mut rng = Rng::new(3);
        let mut kinds = [false; 3];
        for _ in 0..200 {
            let t = typo("abcd", &mut rng);
            kinds[match t.chars().count() {
                3 => 0,
                5 => 1,
                _ => 2,
            }] = true;
        }
        assert_eq!(kinds, [true; 3]);
        // Only equal characters: no swap possible, still changed.
        let t = typo("zz", &mut Rng::new(1));
        assert!(t == "z" || t == "zzz", "{t}");
    }

    #[test]
    fn typo_respects_selection_and_type() {
        let out = run(
            &batch(),
            Perturbation::Typo {
                column: col("name"),
            },
            Some(&[false, true, true, true]),
            1,
        );
        let v = texts(&out, "name");
        assert_eq!(v[0].as_deref(), Some("Zoë"));
        assert_ne!(v[1].as_deref(), Some("bob"));
        assert_eq!(v[2], None);
        assert_eq!(v[3].as_deref(), Some(""));
        let m = err(
            &batch(),
            Perturbation::Typo {
                column: col("small"),
            },
            None,
        );
        assert!(
            m.contains("typo") && m.contains("`small`") && m.contains("Int8"),
            "{m}"
        );
    }

    // ---- Common ---------------------------------------------------------------------

    fn all_kinds() -> Vec<Perturbation> {
        vec![
            Perturbation::Set {
                column: col("id"),
                value: json!(5),
            },
            Perturbation::Replace {
                column: col("name"),
                values: vec![json!("p"), json!("q")],
            },
            Perturbation::Shift {
                column: col("x"),
                by: 1.0,
            },
            Perturbation::Scale {
                column: col("id"),
                by: 2.0,
            },
            Perturbation::Noise {
                column: col("x"),
                std: 1.0,
            },
            Perturbation::SetNull {
                column: col("flag"),
            },
            Perturbation::Shuffle {
                column: col("city"),
            },
            Perturbation::Swap {
                a: col("id"),
                b: col("other"),
            },
            Perturbation::Map {
                column: col("name"),
                mapping: vec![(col("bob"), json!("rob"))],
            },
            Perturbation::Case {
                column: col("city"),
                to: CaseKind::Upper,
            },
            Perturbation::Whitespace {
                column: col("name"),
            },
            Perturbation::Typo {
                column: col("city"),
            },
        ]
    }

    #[test]
    fn every_perturbation_is_pure_and_leaves_unselected_rows() {
        let b = batch();
        let none = [false; 4];
        for p in all_kinds() {
            run(&b, p.clone(), None, 1); // `run` asserts purity
            let out = run(&b, p.clone(), Some(&none), 1);
            for (i, f) in b.schema().fields().iter().enumerate() {
                let (x, y) = (b.column(i), out.column(i));
                let y = cast_with_options(y, x.data_type(), &CastOptions::default()).expect("cast");
                assert_eq!(
                    x.as_ref(),
                    y.as_ref(),
                    "{p:?} changed `{}` on unselected rows",
                    f.name()
                );
            }
        }
    }

    #[test]
    fn unknown_column_lists_columns() {
        let b = batch();
        let mut kinds = all_kinds();
        kinds.push(Perturbation::Swap {
            a: col("id"),
            b: col("nope"),
        });
        for mut p in kinds {
            match &mut p {
                Perturbation::Swap { b, .. } => *b = col("nope"),
                Perturbation::Set { column, .. }
                | Perturbation::Replace { column, .. }
                | Perturbation::Shift { column, .. }
                | Perturbation::Scale { column, .. }
                | Perturbation::Noise { column, .. }
                | Perturbation::SetNull { column }
                | Perturbation::Shuffle { column }
                | Perturbation::Map { column, .. }
                | Perturbation::Case { column, .. }
                | Perturbation::Whitespace { column }
                | Perturbation::Typo { column } => *column = col("nope"),
            }
            let m = err(&b, p, None);
            assert!(
                m.contains("`nope`") && m.contains("`id`, `x`, `name`, `city`, `flag`"),
                "{m}"
            );
        }
    }

    #[test]
    fn selection_of_wrong_length() {
        let m = err(
            &batch(),
            Perturbation::SetNull { column: col("id") },
            Some(&[true, false]),
        );
        assert!(m.contains('2') && m.contains('4'), "{m}");
    }

    #[test]
    fn apply_all_in_order_with_derived_seeds() {
        let b = batch();
        let ps = [
            Perturbation::Shift {
                column: col("x"),
                by: 1.0,
            },
            Perturbation::Scale {
                column: col("x"),
                by: 2.0,
            },
            Perturbation::Typo {
                column: col("city"),
            },
            Perturbation::Typo {
                column: col("city"),
            },
        ];
        let before = b.clone();
        let out = apply_all(&b, &ps, Some(&[true, true, true, false]), 9).expect("apply_all");
        assert_eq!(b, before);
        assert_eq!(
            floats(&out, "x"),
            vec![Some(5.0), Some(7.0), None, Some(-1.0)]
        );
        // Two typos with different seeds: the same as applying them one by one.
        let mut manual = b.clone();
        for (i, p) in ps.iter().enumerate() {
            manual = apply(
                &manual,
                p,
                Some(&[true, true, true, false]),
                derive(9, i as u64),
            )
            .expect("apply");
        }
        assert_eq!(manual, out);
        assert_eq!(
            apply_all(&b, &ps, None, 9).expect("a"),
            apply_all(&b, &ps, None, 9).expect("b")
        );
        // An error in the middle is reported.
        let bad = [ps[0].clone(), Perturbation::Typo { column: col("x") }];
        assert!(apply_all(&b, &bad, None, 9).is_err());
    }

    #[test]
    fn streams_are_independent_per_row() {
        // Selecting fewer rows does not change the draws of the rows still selected.
        let b = big(50);
        let p = Perturbation::Noise {
            column: col("f"),
            std: 1.0,
        };
        let all = floats(&run(&b, p.clone(), None, 4), "f");
        let sel: Vec<bool> = (0..50).map(|i| i % 2 == 0).collect();
        let some = floats(&run(&b, p, Some(&sel), 4), "f");
        for i in (0..50).step_by(2) {
            assert_eq!(all[i], some[i]);
        }
    }
}
