//! The drift statistics against SciPy's own values (tests/fixtures/drift.json, written by
//! scripts/scipy_drift_fixtures.py). Statistics must agree within 1e-9 (relative once above 1),
//! p-values within 1e-6 absolute.

use serde_json::Value;
use tollgate_data::drift::{self, KsMethod};

const FIXTURES: &str = include_str!("fixtures/drift.json");

fn cases() -> Vec<Value> {
    let doc: Value = serde_json::from_str(FIXTURES).expect("drift.json parses");
    doc["cases"].as_array().expect("cases").clone()
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is a number"))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn counts(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_u64().expect("a count"))
        .collect()
}

/// The generator the fixture script documents: a 64-bit LCG, uniforms from its top 53 bits.
fn sample(spec: &Value) -> Vec<f64> {
    if spec.is_array() {
        return floats(spec);
    }
    let mut state = spec["seed"].as_u64().expect("seed");
    let n = spec["n"].as_u64().expect("n");
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 * 2f64.powi(-53)
    };
    let kind = spec["gen"].as_str().expect("gen");
    (0..n)
        .map(|_| match kind {
            "normal" => {
                let mut s = 0.0;
                for _ in 0..12 {
                    s += next();
                }
                f(spec, "mean") + f(spec, "sd") * (s - 6.0)
            }
            "integers" => (next() * f(spec, "k")).floor(),
            other => panic!("unknown generator {other}"),
        })
        .collect()
}

fn assert_stat(name: &str, what: &str, got: f64, want: f64) {
    let tol = 1e-9 * want.abs().max(1.0);
    assert!(
        (got - want).abs() <= tol,
        "{name}: {what} = {got}, SciPy says {want} (diff {:e})",
        (got - want).abs()
    );
}

fn assert_p(name: &str, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-6,
        "{name}: {what} = {got}, SciPy says {want} (diff {:e})",
        (got - want).abs()
    );
}

fn kind(kind: &str) -> Vec<Value> {
    let out: Vec<Value> = cases().into_iter().filter(|c| c["kind"] == kind).collect();
    assert!(!out.is_empty(), "no {kind} cases in drift.json");
    out
}

#[test]
fn fixture_is_small_and_complete() {
    assert!(FIXTURES.len() < 200_000);
    assert!(cases().len() >= 15);
}

#[test]
fn generator_reproduces_the_fixture_samples() {
    let doc: Value = serde_json::from_str(FIXTURES).expect("drift.json parses");
    let checks = doc["generator_check"].as_array().expect("generator_check");
    assert!(!checks.is_empty());
    for check in checks {
        let v = sample(&check["spec"]);
        let bits: Vec<u64> = v[..5].iter().map(|x| x.to_bits()).collect();
        assert_eq!(bits, counts(&check["first_bits"]), "{}", check["spec"]);
        let sum = v.iter().sum::<f64>().to_bits();
        assert_eq!(
            sum,
            check["sum_bits"].as_u64().expect("sum_bits"),
            "{}",
            check["spec"]
        );
    }
}

#[test]
fn ks_2samp_matches_scipy() {
    for c in kind("numeric") {
        let name = c["name"].as_str().expect("name");
        let (a, b) = (sample(&c["a"]), sample(&c["b"]));
        let e = &c["expected"];
        let ks = drift::ks_2samp(&a, &b);
        assert_stat(name, "ks statistic", ks.statistic, f(e, "ks_statistic"));
        assert_p(name, "ks p-value", ks.pvalue, f(e, "ks_pvalue"));
        let exact = e["ks_exact"].as_bool().expect("ks_exact");
        let want = if exact {
            KsMethod::Exact
        } else {
            KsMethod::Asymptotic
        };
        assert_eq!(ks.method, want, "{name}");
    }
}

#[test]
fn wasserstein_matches_scipy() {
    for c in kind("numeric") {
        let name = c["name"].as_str().expect("name");
        let (a, b) = (sample(&c["a"]), sample(&c["b"]));
        let e = &c["expected"];
        assert_stat(
            name,
            "wasserstein",
            drift::wasserstein(&a, &b),
            f(e, "wasserstein"),
        );
        assert_stat(
            name,
            "wasserstein_normed",
            drift::wasserstein_normed(&a, &b),
            f(e, "wasserstein_normed"),
        );
    }
}

#[test]
fn psi_matches_numpy_rules() {
    for c in kind("numeric") {
        let name = c["name"].as_str().expect("name");
        let (a, b) = (sample(&c["a"]), sample(&c["b"]));
        let bins = c["psi_bins"].as_u64().expect("psi_bins") as usize;
        assert_stat(
            name,
            "psi",
            drift::psi(&a, &b, bins),
            f(&c["expected"], "psi"),
        );
    }
}

#[test]
fn jensen_shannon_numeric_matches_scipy() {
    for c in kind("numeric") {
        let name = c["name"].as_str().expect("name");
        let (a, b) = (sample(&c["a"]), sample(&c["b"]));
        let e = &c["expected"];
        let bins = c["js_bins"].as_u64().expect("js_bins") as usize;
        let h = drift::histogram_pair(&a, &b, bins).expect("histograms");
        assert_eq!(
            h.reference,
            floats(&e["js_reference_counts"]),
            "{name}: reference bins"
        );
        assert_eq!(
            h.current,
            floats(&e["js_current_counts"]),
            "{name}: current bins"
        );
        let js = drift::jensen_shannon(&h.reference, &h.current);
        assert_stat(name, "jensen_shannon", js, f(e, "js"));
    }
}

#[test]
fn categorical_statistics_match_scipy() {
    for c in kind("categorical") {
        let name = c["name"].as_str().expect("name");
        let (r, k) = (counts(&c["ref_counts"]), counts(&c["cur_counts"]));
        let e = &c["expected"];
        let chi = drift::chi2_contingency(&r, &k);
        assert_stat(
            name,
            "chi2 statistic",
            chi.statistic,
            f(e, "chi2_statistic"),
        );
        assert_p(name, "chi2 p-value", chi.pvalue, f(e, "chi2_pvalue"));
        assert_eq!(
            chi.dof as u64,
            e["chi2_dof"].as_u64().expect("dof"),
            "{name}"
        );
        assert_stat(name, "psi", drift::psi_categorical(&r, &k), f(e, "psi"));
        assert_stat(
            name,
            "l_infinity",
            drift::l_infinity(&r, &k),
            f(e, "l_infinity"),
        );
        let p: Vec<f64> = r.iter().map(|x| *x as f64).collect();
        let q: Vec<f64> = k.iter().map(|x| *x as f64).collect();
        assert_stat(
            name,
            "jensen_shannon",
            drift::jensen_shannon(&p, &q),
            f(e, "js"),
        );
    }
}

#[test]
fn distributions_match_scipy() {
    for c in kind("kstwo_sf") {
        let name = c["name"].as_str().expect("name");
        let n = c["n"].as_u64().expect("n");
        let got = drift::kstwo_sf(n, f(&c, "x"));
        assert_p(name, "kstwo.sf", got, f(&c["expected"], "sf"));
    }
    for c in kind("chi2_sf") {
        let name = c["name"].as_str().expect("name");
        let got = drift::chi2_sf(f(&c, "x"), f(&c, "dof"));
        let want = f(&c["expected"], "sf");
        assert_p(name, "chi2.sf", got, want);
        // Small tails are checked relatively too.
        assert!(
            (got - want).abs() <= 1e-9 * want.max(1e-300) + 1e-15,
            "{name}: {got} vs {want}"
        );
    }
}

#[test]
fn corrections_match_scipy() {
    for c in kind("corrections") {
        let name = c["name"].as_str().expect("name");
        let p = floats(&c["pvalues"]);
        let e = &c["expected"];
        for (what, got, want) in [
            ("bh", drift::benjamini_hochberg(&p), floats(&e["bh"])),
            (
                "bonferroni",
                drift::bonferroni(&p),
                floats(&e["bonferroni"]),
            ),
        ] {
            assert_eq!(got.len(), want.len(), "{name}");
            for (g, w) in got.iter().zip(&want) {
                assert_p(name, what, *g, *w);
            }
        }
    }
}
