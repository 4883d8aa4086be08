//! Row-level rules: pure functions of one value or one row, with no DataFrame in sight.
//!
//! These are the pipeline's smallest units. The DataFusion steps in the crate root call them
//! through the UDFs of [`crate::udf`], so a test of a function here is a test of the rule the
//! pipeline really applies. They stay valid when data or logic is added (the article's finding):
//! a new column cannot change what `click_position` answers for a given slate and click.

/// Separates the items of a slate in a log's `impressions` and `impressions_visible` fields
/// (`i1|i2|i3`).
pub const ITEM_SEPARATOR: char = '|';

/// The position given to a click whose item is not in the slate (or that has no item).
pub const NOT_IN_SLATE: i64 = -1;

/// The CTR the naive model answers for an item it has never seen impressed (a cold start).
pub const COLD_START_CTR: f64 = -1.0;

/// The items of a slate, in order: `"i1|i2|i3"` is `["i1", "i2", "i3"]`.
///
/// An empty text or an empty item (`"i1||i3"`, a trailing `|`) is an error, which says where.
pub fn parse_items(text: &str) -> Result<Vec<&str>, String> {
    if text.is_empty() {
        return Err("the slate is empty".into());
    }
    let items: Vec<&str> = text.split(ITEM_SEPARATOR).collect();
    if let Some(i) = items.iter().position(|s| s.trim().is_empty()) {
        return Err(format!(
            "item {} of {:?} is empty (items are separated by `{ITEM_SEPARATOR}`)",
            i + 1,
            text
        ));
    }
    Ok(items)
}

/// The 1-based position of the clicked item in the slate; [`NOT_IN_SLATE`] when there is no
/// click or the item is not in the slate.
pub fn click_position(impressions: &[&str], click: Option<&str>) -> i64 {
    click
        .and_then(|c| impressions.iter().position(|i| *i == c))
        .map_or(NOT_IN_SLATE, |p| p as i64 + 1)
}

/// The impressions to count (version 2): the client-side visible impressions when they were
/// logged and are no longer than the server-side slate, else the server-side slate.
///
/// Client-side logging is imperfect: a missing list (`None`) keeps the slate as the server
/// logged it, and a visible list longer than the slate cannot be right, so it is not trusted.
pub fn updated_impressions<'a>(
    impressions: &[&'a str],
    visible: Option<&[&'a str]>,
) -> Vec<&'a str> {
    match visible {
        Some(v) if v.len() <= impressions.len() => v.to_vec(),
        _ => impressions.to_vec(),
    }
}

/// The naive model's estimate for one item: clicks over impressions, or [`COLD_START_CTR`] when
/// the item has no impressions (never seen, or never visibly impressed).
pub fn naive_ctr(clicks: Option<i64>, impressions: Option<i64>) -> f64 {
    match (clicks, impressions) {
        (_, None) | (_, Some(0)) => COLD_START_CTR,
        (c, Some(n)) => c.unwrap_or(0) as f64 / n as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_items_rejects_holes() {
        assert_eq!(parse_items("i1|i2"), Ok(vec!["i1", "i2"]));
        assert!(parse_items("").is_err());
        assert!(
            parse_items("i1||i3")
                .err()
                .is_some_and(|e| e.contains("item 2"))
        );
        assert!(parse_items("i1|").is_err());
    }
}
