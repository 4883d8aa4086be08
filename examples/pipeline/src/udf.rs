//! The row-level rules of [`crate::rows`] as DataFusion scalar functions, so that the DataFrame
//! steps apply exactly the functions the row-level tests check.
//!
//! Each function is built with its `Expr` helper (`split_items(col("impressions"))`); none
//! needs registering in a session. A malformed slate here is an internal error: `read_logs`
//! has rejected it, naming its row, before any step runs.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, Int64Builder, ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_int64_array, as_string_array};
use datafusion::common::{exec_datafusion_err, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::rows;

/// The rules, one per function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rule {
    /// `pl_split_items(text) -> list<utf8>`: the items of a slate.
    SplitItems,
    /// `pl_item_positions(text) -> list<int64>`: 1..=n for a slate of n items.
    ItemPositions,
    /// `pl_click_position(impressions, item) -> int64`: [`rows::click_position`].
    ClickPosition,
    /// `pl_updated_impressions(impressions, visible) -> utf8`: [`rows::updated_impressions`].
    UpdatedImpressions,
    /// `pl_naive_ctr(click, impress) -> float64`: [`rows::naive_ctr`].
    NaiveCtr,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RuleUdf {
    rule: Rule,
    signature: Signature,
}

fn parse(text: &str) -> Result<Vec<&str>> {
    rows::parse_items(text).map_err(|e| exec_datafusion_err!("unvalidated slate: {e}"))
}

impl ScalarUDFImpl for RuleUdf {
    fn name(&self) -> &str {
        match self.rule {
            Rule::SplitItems => "pl_split_items",
            Rule::ItemPositions => "pl_item_positions",
            Rule::ClickPosition => "pl_click_position",
            Rule::UpdatedImpressions => "pl_updated_impressions",
            Rule::NaiveCtr => "pl_naive_ctr",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.rule {
            Rule::SplitItems => DataType::new_list(DataType::Utf8, true),
            Rule::ItemPositions => DataType::new_list(DataType::Int64, true),
            Rule::ClickPosition => DataType::Int64,
            Rule::UpdatedImpressions => DataType::Utf8,
            Rule::NaiveCtr => DataType::Float64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: ArrayRef = match (self.rule, arrays.as_slice()) {
            (Rule::SplitItems, [text]) => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for t in as_string_array(text)? {
                    match t {
                        Some(t) => {
                            for item in parse(t)? {
                                b.values().append_value(item);
                            }
                            b.append(true);
                        }
                        None => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
            (Rule::ItemPositions, [text]) => {
                let mut b = ListBuilder::new(Int64Builder::new());
                for t in as_string_array(text)? {
                    match t {
                        Some(t) => {
                            let n = parse(t)?.len() as i64;
                            b.values().extend((1..=n).map(Some));
                            b.append(true);
                        }
                        None => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
            (Rule::ClickPosition, [impressions, item]) => {
                let items = as_string_array(item)?;
                let out = as_string_array(impressions)?
                    .iter()
                    .zip(items)
                    .map(|(imp, item)| {
                        imp.map(|t| parse(t).map(|slate| rows::click_position(&slate, item)))
                            .transpose()
                    })
                    .collect::<Result<Int64Array>>()?;
                Arc::new(out)
            }
            (Rule::UpdatedImpressions, [impressions, visible]) => {
                let visible = as_string_array(visible)?;
                let out = as_string_array(impressions)?
                    .iter()
                    .zip(visible)
                    .map(|(imp, vis)| {
                        let Some(imp) = imp else { return Ok(None) };
                        let slate = parse(imp)?;
                        let vis = vis.map(parse).transpose()?;
                        let kept = rows::updated_impressions(&slate, vis.as_deref());
                        Ok(Some(kept.join(&rows::ITEM_SEPARATOR.to_string())))
                    })
                    .collect::<Result<StringArray>>()?;
                Arc::new(out)
            }
            (Rule::NaiveCtr, [click, impress]) => {
                let impress = as_int64_array(impress)?;
                let out: Float64Array = as_int64_array(click)?
                    .iter()
                    .zip(impress)
                    .map(|(c, n)| Some(rows::naive_ctr(c, n)))
                    .collect();
                Arc::new(out)
            }
            (rule, args) => {
                return exec_err!("{rule:?}: wrong number of arguments ({})", args.len());
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

fn udf(rule: Rule, args: Vec<DataType>) -> ScalarUDF {
    ScalarUDF::from(RuleUdf {
        rule,
        signature: Signature::exact(args, Volatility::Immutable),
    })
}

/// The items of a slate, as a list (`unnest` it to get one row per item).
pub fn split_items(text: Expr) -> Expr {
    udf(Rule::SplitItems, vec![DataType::Utf8]).call(vec![text])
}

/// The positions 1..=n of a slate's n items, as a list that lines up with [`split_items`].
pub fn item_positions(text: Expr) -> Expr {
    udf(Rule::ItemPositions, vec![DataType::Utf8]).call(vec![text])
}

/// [`rows::click_position`] of the item in the slate.
pub fn click_position(impressions: Expr, item: Expr) -> Expr {
    udf(Rule::ClickPosition, vec![DataType::Utf8, DataType::Utf8]).call(vec![impressions, item])
}

/// [`rows::updated_impressions`], as a slate text.
pub fn updated_impressions(impressions: Expr, visible: Expr) -> Expr {
    udf(
        Rule::UpdatedImpressions,
        vec![DataType::Utf8, DataType::Utf8],
    )
    .call(vec![impressions, visible])
}

/// [`rows::naive_ctr`] of the click and impression counts.
pub fn naive_ctr(click: Expr, impress: Expr) -> Expr {
    udf(Rule::NaiveCtr, vec![DataType::Int64, DataType::Int64]).call(vec![click, impress])
}
