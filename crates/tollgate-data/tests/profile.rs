//! Profiles merge: the merge of two parts' profiles equals the profile of their union, exactly
//! for counts, extremes, lengths and patterns, to rounding for means and deviations, and
//! within the documented sketch bounds for distinct counts, quantiles and histograms.

use std::path::Path;

use tollgate_core::SourceDecl;
use tollgate_data::profile::{ColumnProfile, Profile, merge};
use tollgate_data::sketch::HLL_STD_ERROR;
use tollgate_data::{Engine, EngineOptions};

fn source(path: &Path) -> SourceDecl {
    SourceDecl::file("data", &path.display().to_string())
}

fn profile(path: &Path) -> Profile {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(Engine::new(EngineOptions::default()).profile(&source(path), Path::new(".")))
        .expect("profile")
}

/// A deterministic pseudo-random stream (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Part {
    ids: Vec<i64>,
    xs: Vec<Option<f64>>,
}

/// Write a part: `id` (unique), `x` (skewed numbers, some null), `cat` (5 categories of
/// unequal frequency), `user` (text, many repeats), `mail` (emails, some not).
fn write_part(path: &Path, rng: &mut Rng, first_id: i64, rows: usize, shift: f64) -> Part {
    let mut text = String::from("id,x,cat,user,mail\n");
    let mut part = Part {
        ids: Vec::new(),
        xs: Vec::new(),
    };
    for i in 0..rows {
        let id = first_id + i as i64;
        let x = if rng.unit() < 0.02 {
            None
        } else {
            Some(((-rng.unit().max(1e-12).ln()) * 10.0 + shift).round() / 100.0 * 100.0)
        };
        let cat = ["a", "b", "b", "c", "c", "c", "d", "e"][(rng.next() % 8) as usize];
        let user = format!("user-{}", rng.next() % 20_000);
        let mail = if rng.unit() < 0.9 {
            format!("{user}@example.org")
        } else {
            "n/a".to_string()
        };
        text.push_str(&format!(
            "{id},{},{cat},{user},{mail}\n",
            x.map(|v| format!("{v:?}")).unwrap_or_default()
        ));
        part.ids.push(id);
        part.xs.push(x);
    }
    std::fs::write(path, text).expect("write part");
    part
}

fn column<'a>(p: &'a Profile, name: &str) -> &'a ColumnProfile {
    p.columns
        .iter()
        .find(|c| c.name == name)
        .expect("column profiled")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// What merges exactly (or to rounding) must equal the union's profile.
fn assert_exact_parts_equal(merged: &Profile, union: &Profile) {
    assert_eq!(merged.rows, union.rows);
    for (m, u) in merged.columns.iter().zip(&union.columns) {
        let at = &u.name;
        assert_eq!(m.name, u.name);
        assert_eq!(m.dtype, u.dtype, "{at}");
        assert_eq!(m.count, u.count, "{at}");
        assert_eq!(m.nulls, u.nulls, "{at}");
        assert_eq!(m.min, u.min, "{at}");
        assert_eq!(m.max, u.max, "{at}");
        assert_eq!(m.mean.is_some(), u.mean.is_some(), "{at}");
        if let (Some(a), Some(b)) = (m.mean, u.mean) {
            assert!(close(a, b, 1e-9), "{at} mean {a} vs {b}");
        }
        if let (Some(a), Some(b)) = (m.std, u.std) {
            assert!(close(a, b, 1e-9), "{at} std {a} vs {b}");
        }
        assert_eq!(m.length.is_some(), u.length.is_some(), "{at}");
        if let (Some(a), Some(b)) = (&m.length, &u.length) {
            assert_eq!((a.min, a.max), (b.min, b.max), "{at}");
            assert!(close(a.mean, b.mean, 1e-9), "{at}");
        }
        assert_eq!(m.patterns.len(), u.patterns.len(), "{at}");
        for ((pa, sa), (pb, sb)) in m.patterns.iter().zip(&u.patterns) {
            assert_eq!(pa, pb, "{at}");
            assert!(close(*sa, *sb, 1e-12), "{at} {pa}");
        }
        // Distinct counts: the union of the HyperLogLogs, within 3 standard errors.
        assert!(
            (m.distinct as f64 - u.distinct as f64).abs()
                <= 3.0 * HLL_STD_ERROR * u.distinct as f64 + 1.0,
            "{at}: distinct {} vs {}",
            m.distinct,
            u.distinct
        );
        // Histograms keep every value.
        let total = |c: &ColumnProfile| c.histogram.iter().map(|b| b.count).sum::<u64>();
        assert_eq!(total(m), total(u), "{at}");
        assert_eq!(m.histogram.len(), u.histogram.len(), "{at}");
    }
}

/// The share of `sorted` below or at `v`, as the middle of its tie range.
fn rank(sorted: &[f64], v: f64) -> f64 {
    let below = sorted.partition_point(|x| *x < v);
    let upto = sorted.partition_point(|x| *x <= v);
    (below + upto) as f64 / 2.0 / sorted.len() as f64
}

#[test]
fn merged_profiles_equal_the_profile_of_the_union_within_sketch_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let all = dir.path().join("all");
    std::fs::create_dir(&all).expect("dir");
    let mut rng = Rng(7);
    // Different sizes and shifted distributions, so that ranges and histograms differ.
    let a = write_part(&all.join("a.csv"), &mut rng, 0, 30_000, 0.0);
    let b = write_part(&all.join("b.csv"), &mut rng, 30_000, 20_000, 15.0);
    let pa = profile(&all.join("a.csv"));
    let pb = profile(&all.join("b.csv"));
    let union = profile(&all);
    // Round-trip through the JSON document, as `tollgate profile --merge` reads it.
    let read = |p: &Profile| -> Profile {
        serde_json::from_str(&serde_json::to_string(p).expect("json")).expect("reads back")
    };
    let merged = merge(&read(&pa), &read(&pb)).expect("merges");
    assert_exact_parts_equal(&merged, &union);

    // Quantiles: the merged t-digest's estimates sit within 1% of the rows of their rank.
    let mut xs: Vec<f64> = a.xs.iter().chain(&b.xs).flatten().copied().collect();
    xs.sort_by(f64::total_cmp);
    for (q, v) in &column(&merged, "x").quantiles {
        let r = rank(&xs, *v);
        assert!((r - q).abs() <= 0.01, "x q{q}: {v} has rank {r}");
    }
    let ids: Vec<f64> = a.ids.iter().chain(&b.ids).map(|v| *v as f64).collect();
    for (q, v) in &column(&merged, "id").quantiles {
        let r = rank(&ids, *v);
        assert!((r - q).abs() <= 0.01, "id q{q}: {v} has rank {r}");
    }
    // Distinct counts above the HyperLogLog's near-exact range: `id` 50 000 values.
    let id = column(&merged, "id");
    assert!(!id.distinct_exact);
    assert!(
        (id.distinct as f64 - 50_000.0).abs() <= 3.0 * HLL_STD_ERROR * 50_000.0,
        "{}",
        id.distinct
    );
    // Top values of a column with few distinct values are exact.
    assert_eq!(column(&merged, "cat").top, column(&union, "cat").top);
    // Beyond 100 distinct values per part, merged counts are lower bounds.
    let union_top = &column(&union, "user").top;
    for (v, k) in &column(&merged, "user").top {
        if let Some((_, n)) = union_top.iter().find(|(w, _)| w == v) {
            assert!(k <= n, "{v}: {k} > {n}");
        }
    }
    assert_eq!(column(&merged, "user").top[0], union_top[0]);
    // Histograms over different ranges are re-binned: at most 5% of the values move.
    let (hm, hu) = (
        &column(&merged, "x").histogram,
        &column(&union, "x").histogram,
    );
    let moved: u64 = hm
        .iter()
        .zip(hu.iter())
        .map(|(m, u)| m.count.abs_diff(u.count))
        .sum();
    let total: u64 = hu.iter().map(|b| b.count).sum();
    assert!(
        moved as f64 / 2.0 <= 0.05 * total as f64,
        "{moved} of {total}"
    );
    for (m, u) in hm.iter().zip(hu.iter()) {
        assert!(close(m.low, u.low, 1e-12) && close(m.high, u.high, 1e-12));
    }
    // Merging is associative in what it keeps: a profile merged with an empty part is itself.
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "id,x,cat,user,mail\n").expect("write");
    let pe = profile(&empty);
    assert_eq!(pe.rows, 0);
    let with_empty = merge(&pa, &pe).expect("merges with an empty part");
    assert_exact_parts_equal(&with_empty, &pa);
    assert_eq!(
        column(&with_empty, "x").quantiles,
        column(&pa, "x").quantiles
    );
}

#[test]
fn titanic_train_and_test_profiles_merge_into_the_whole_data_set() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/titanic/data");
    let merged = merge(
        &profile(&data.join("train.csv")),
        &profile(&data.join("test.csv")),
    )
    .expect("merges");
    let union = profile(&data.join("titanic.csv"));
    assert_exact_parts_equal(&merged, &union);
    // Columns with at most 100 distinct values per part have exact top values.
    for name in [
        "Survived", "Pclass", "Sex", "Age", "SibSp", "Parch", "Embarked",
    ] {
        assert_eq!(
            column(&merged, name).top,
            column(&union, name).top,
            "{name}"
        );
    }
}

#[test]
fn profiles_of_different_data_do_not_merge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = dir.path().join("one.csv");
    let other = dir.path().join("other.csv");
    let typed = dir.path().join("typed.csv");
    std::fs::write(&one, "a,b\n1,x\n2,y\n").expect("write");
    std::fs::write(&other, "a,c\n1,x\n").expect("write");
    std::fs::write(&typed, "a,b\nx,y\n").expect("write");
    let err = merge(&profile(&one), &profile(&other)).expect_err("columns differ");
    assert!(
        err.contains("only in") && err.contains("[b]") && err.contains("[c]"),
        "{err}"
    );
    let err = merge(&profile(&one), &profile(&typed)).expect_err("types differ");
    assert!(
        err.contains("column `a` is int64 in one profile and string"),
        "{err}"
    );
    let mut old = profile(&one);
    for c in &mut old.columns {
        c.sketch = None;
    }
    let err = merge(&profile(&one), &old).expect_err("no sketch");
    assert!(err.contains("has no sketch"), "{err}");
}
