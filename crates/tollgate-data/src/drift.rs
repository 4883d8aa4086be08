//! The statistics of drift detection: pure functions over slices, checked against SciPy.
//!
//! | function | SciPy / reference |
//! |---|---|
//! | [`ks_2samp`] | `scipy.stats.ks_2samp(a, b)` (two-sided, `method='auto'`) |
//! | [`chi2_contingency`] | `scipy.stats.chi2_contingency([ref, cur])` (`correction=True`) |
//! | [`wasserstein`] | `scipy.stats.wasserstein_distance(a, b)` |
//! | [`wasserstein_normed`] | Evidently: that over `max(np.std(reference), 0.001)` |
//! | [`psi`], [`psi_categorical`] | population stability index (Evidently's formula and floor) |
//! | [`jensen_shannon`] | `scipy.spatial.distance.jensenshannon(p, q)` (base e) |
//! | [`l_infinity`] | max absolute difference of category proportions |
//! | [`bonferroni`], [`benjamini_hochberg`] | `min(1, p*m)`, `scipy.stats.false_discovery_control(p, method='bh')` |
//!
//! Rules shared by every function:
//!
//! - **NaN values are dropped** from numeric samples before anything is computed (SciPy would
//!   propagate them and return NaN). Infinite values are kept, except by [`histogram_pair`],
//!   which drops them too (NumPy refuses a non-finite histogram range).
//! - **Nothing left to compare gives NaN**, never a panic: an empty (or all-NaN) sample, count
//!   vectors that sum to zero, `bins == 0`. This is SciPy's answer for empty samples too
//!   (`ks_2samp([], [1.0])` is `(nan, nan)`). NaN compares false with every threshold, so a
//!   caller must test `is_nan()` itself and report "not evaluable" rather than "no drift".
//! - Count vectors (`ref_counts`, `cur_counts`, `p`, `q`) are aligned by index (category `i`
//!   is entry `i` of both); a shorter vector is read as if padded with zeros.

use std::collections::BTreeMap;

// ------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------

/// How [`ks_2samp`] computed its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsMethod {
    /// The exact null distribution of the two-sample statistic (both samples `<= 10000`).
    Exact,
    /// The one-sample Kolmogorov distribution `kstwo(round(n1*n2/(n1+n2)))`.
    Asymptotic,
    /// No p-value: a sample was empty after dropping NaN.
    NotComputed,
}

/// The result of [`ks_2samp`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ks {
    /// `max |F_a(x) - F_b(x)|` over the empirical CDFs (in exact mode rounded, as SciPy does,
    /// to the nearest multiple of `1/lcm(n1, n2)`).
    pub statistic: f64,
    /// Two-sided p-value.
    pub pvalue: f64,
    /// Which null distribution gave the p-value.
    pub method: KsMethod,
}

/// The result of [`chi2_contingency`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chi2 {
    /// Pearson's chi-squared statistic (Yates-corrected when `dof == 1`).
    pub statistic: f64,
    /// Upper tail of the chi-squared distribution with `dof` degrees of freedom.
    pub pvalue: f64,
    /// Degrees of freedom: the number of categories seen on either side, minus one.
    pub dof: usize,
}

/// Two-sided two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp(a, b)` with its
/// default `method='auto'`.
///
/// NaN values are dropped first; if either sample is then empty, everything is NaN.
///
/// The p-value, as SciPy 1.17 decides it: when `max(n1, n2) <= 10000` the **exact** null
/// distribution is used (the statistic is rounded to `h / lcm(n1, n2)` and the probability of
/// a lattice path leaving the band `|x/n1 - y/n2| < h/lcm` is computed: Hodges' "inside"
/// recursion in Viehmann's `1 - p` form, or the closed alternating sum when `n1 == n2`).
/// Otherwise the **asymptotic** p-value is `kstwo.sf(d, round(n1*n2/(n1+n2)))`, the one-sample
/// two-sided Kolmogorov distribution evaluated by Simard and L'Ecuyer's rules (Durbin matrix,
/// Pomeranz, Pelz–Good, or twice the one-sided Smirnov tail, depending on `n` and `n d^2`).
/// SciPy falls back from exact to asymptotic when the exact sum overflows; the two-sided
/// recursion stays in `[0, 1]` by construction, so that fallback is kept only as a guard.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Ks {
    let a = sorted_without_nan(a);
    let b = sorted_without_nan(b);
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return Ks {
            statistic: f64::NAN,
            pvalue: f64::NAN,
            method: KsMethod::NotComputed,
        };
    }
    let d = ks_statistic(&a, &b);
    let (n1, n2) = (n1 as u64, n2 as u64);
    if n1.max(n2) <= 10_000
        && let Some((d, p)) = ks_exact(n1, n2, d)
    {
        return Ks {
            statistic: d,
            pvalue: p.clamp(0.0, 1.0),
            method: KsMethod::Exact,
        };
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round_ties_even();
    Ks {
        statistic: d,
        pvalue: kstwo_sf(en as u64, d).clamp(0.0, 1.0),
        method: KsMethod::Asymptotic,
    }
}

/// Chi-squared test of independence on the 2×k table `[ref_counts; cur_counts]`, as
/// `scipy.stats.chi2_contingency([ref_counts, cur_counts])` with `correction=True`: Yates'
/// continuity correction (each cell moved by at most 0.5 toward its expected count) only when
/// `dof == 1`.
///
/// Categories with a zero count on one side are ordinary columns. Columns that are zero on
/// **both** sides are dropped first (SciPy raises, as their expected count is zero). With one
/// category left, `dof == 0` and the answer is `(0, 1)` as in SciPy; with a side that has no
/// counts at all (SciPy raises) or no categories, statistic and p-value are NaN and `dof` 0.
pub fn chi2_contingency(ref_counts: &[u64], cur_counts: &[u64]) -> Chi2 {
    let k = ref_counts.len().max(cur_counts.len());
    let cols: Vec<(f64, f64)> = (0..k)
        .map(|i| (count_at(ref_counts, i), count_at(cur_counts, i)))
        .filter(|(r, c)| *r + *c > 0.0)
        .collect();
    let nan = Chi2 {
        statistic: f64::NAN,
        pvalue: f64::NAN,
        dof: 0,
    };
    let rows = [
        cols.iter().map(|c| c.0).sum::<f64>(),
        cols.iter().map(|c| c.1).sum::<f64>(),
    ];
    if cols.is_empty() || rows[0] == 0.0 || rows[1] == 0.0 {
        return nan;
    }
    let dof = cols.len() - 1;
    if dof == 0 {
        return Chi2 {
            statistic: 0.0,
            pvalue: 1.0,
            dof,
        };
    }
    let total = rows[0] + rows[1];
    let mut stat = 0.0;
    for (r, row_sum) in rows.iter().enumerate() {
        for col in &cols {
            let observed = if r == 0 { col.0 } else { col.1 };
            let expected = row_sum * (col.0 + col.1) / total;
            let mut observed = observed;
            if dof == 1 {
                let diff = expected - observed;
                observed += diff.signum() * diff.abs().min(0.5);
            }
            stat += (observed - expected).powi(2) / expected;
        }
    }
    Chi2 {
        statistic: stat,
        pvalue: chi2_sf(stat, dof as f64),
        dof,
    }
}

/// First Wasserstein distance between the empirical distributions of `a` and `b`, as
/// `scipy.stats.wasserstein_distance(a, b)` (1-D, unweighted): `∫ |F_a - F_b| dx`.
/// NaN values are dropped; an empty sample gives NaN.
pub fn wasserstein(a: &[f64], b: &[f64]) -> f64 {
    let a = sorted_without_nan(a);
    let b = sorted_without_nan(b);
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    // Both sorted: merge them.
    let mut all: Vec<f64> = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j == b.len() || (i < a.len() && a[i].total_cmp(&b[j]).is_le()) {
            all.push(a[i]);
            i += 1;
        } else {
            all.push(b[j]);
            j += 1;
        }
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut ia, mut ib) = (0usize, 0usize);
    let mut sum = 0.0;
    for w in all.windows(2) {
        let x = w[0];
        while ia < a.len() && a[ia] <= x {
            ia += 1;
        }
        while ib < b.len() && b[ib] <= x {
            ib += 1;
        }
        sum += (ia as f64 / na - ib as f64 / nb).abs() * (w[1] - w[0]);
    }
    sum
}

/// The smallest standard deviation [`wasserstein_normed`] divides by (Evidently's floor).
pub const WASSERSTEIN_STD_FLOOR: f64 = 0.001;

/// [`wasserstein`] divided by the reference's **population** standard deviation (`ddof = 0`,
/// NumPy's `np.std` default, as Evidently uses), floored at [`WASSERSTEIN_STD_FLOOR`] as
/// Evidently does so that a constant reference does not divide by zero.
pub fn wasserstein_normed(reference: &[f64], current: &[f64]) -> f64 {
    let r: Vec<f64> = reference.iter().copied().filter(|x| !x.is_nan()).collect();
    wasserstein(&r, current) / population_std(&r).max(WASSERSTEIN_STD_FLOOR)
}

/// The proportion used in place of an empty bin or category by [`psi`] and
/// [`psi_categorical`] (Evidently's value). Only zero proportions are replaced; the others are
/// not renormalised.
pub const PSI_FLOOR: f64 = 1e-4;

/// The number of quantile bins [`psi`] is usually called with.
pub const PSI_DEFAULT_BINS: usize = 10;

/// The bin edges [`psi`] uses: the reference's `0, 100/bins, ..., 100`th percentiles
/// (`np.percentile` with its default linear interpolation, at `np.linspace(0, 100, bins+1)`),
/// with the outer two replaced by `-inf` and `+inf`. Repeated edges (ties in the reference)
/// are kept: they make empty bins, which add nothing to the index. Empty reference (after
/// dropping NaN) or `bins == 0`: no edges.
pub fn psi_edges(reference: &[f64], bins: usize) -> Vec<f64> {
    let r = sorted_without_nan(reference);
    if r.is_empty() || bins == 0 {
        return Vec::new();
    }
    let step = 100.0 / bins as f64;
    let mut edges: Vec<f64> = (0..=bins)
        .map(|i| {
            let q = if i == bins { 100.0 } else { i as f64 * step };
            quantile_linear(&r, q / 100.0)
        })
        .collect();
    edges[0] = f64::NEG_INFINITY;
    edges[bins] = f64::INFINITY;
    edges
}

/// Population stability index of `current` against `reference` over [`psi_edges`]`(reference,
/// bins)`: `Σ (r_i - c_i) ln(r_i / c_i)` over the bins' proportions, a zero proportion
/// replaced by [`PSI_FLOOR`]. Bins are `[e_i, e_{i+1})` (NumPy's `np.histogram` rule). NaN
/// values are dropped; an empty sample or `bins == 0` gives NaN.
pub fn psi(reference: &[f64], current: &[f64], bins: usize) -> f64 {
    let edges = psi_edges(reference, bins);
    if edges.is_empty() {
        return f64::NAN;
    }
    let r = bin_counts(reference, &edges);
    let c = bin_counts(current, &edges);
    psi_counts(&r, &c)
}

/// Population stability index over aligned category counts, zero proportions replaced by
/// [`PSI_FLOOR`]. NaN when either side has no counts.
pub fn psi_categorical(ref_counts: &[u64], cur_counts: &[u64]) -> f64 {
    let k = ref_counts.len().max(cur_counts.len());
    let r: Vec<f64> = (0..k).map(|i| count_at(ref_counts, i)).collect();
    let c: Vec<f64> = (0..k).map(|i| count_at(cur_counts, i)).collect();
    psi_counts(&r, &c)
}

/// Jensen–Shannon **distance** (the square root of the divergence, natural log), as
/// `scipy.spatial.distance.jensenshannon(p, q)`: both inputs are normalised to sum to 1 first,
/// so raw counts are fine. Between 0 and `sqrt(ln 2)`. NaN when either sums to zero or has a
/// negative or NaN entry.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let k = p.len().max(q.len());
    let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(0.0);
    if (0..k).any(|i| !(at(p, i) >= 0.0 && at(q, i) >= 0.0)) {
        return f64::NAN;
    }
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    if !(sp > 0.0 && sq > 0.0) {
        return f64::NAN;
    }
    let mut js = 0.0;
    for i in 0..k {
        let (pi, qi) = (at(p, i) / sp, at(q, i) / sq);
        let m = (pi + qi) / 2.0;
        js += rel_entr(pi, m) + rel_entr(qi, m);
    }
    (js / 2.0).sqrt()
}

/// The number of shared bins the Jensen–Shannon drift test uses by default (Evidently's).
pub const JS_DEFAULT_BINS: usize = 30;

/// Two histograms over shared bins, for [`jensen_shannon`] on a numeric column.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedHistogram {
    /// `bins + 1` edges.
    pub edges: Vec<f64>,
    /// Counts of the reference sample per bin.
    pub reference: Vec<f64>,
    /// Counts of the current sample per bin.
    pub current: Vec<f64>,
}

/// Histograms of `reference` and `current` over the same `bins` equal-width bins spanning
/// both samples: the edges are `np.histogram_bin_edges(np.concatenate([reference, current]),
/// bins=bins)` (`np.linspace(min, max, bins + 1)`, or `min - 0.5 .. max + 0.5` when all values
/// are equal), and each sample is counted as `np.histogram` does (`[e_i, e_{i+1})`, the last bin
/// closed). NaN and infinite values are dropped. `None` when nothing is left or `bins == 0`.
pub fn histogram_pair(reference: &[f64], current: &[f64], bins: usize) -> Option<SharedHistogram> {
    let finite = |v: &[f64]| -> Vec<f64> { v.iter().copied().filter(|x| x.is_finite()).collect() };
    let (r, c) = (finite(reference), finite(current));
    if bins == 0 || (r.is_empty() && c.is_empty()) {
        return None;
    }
    let lo = r.iter().chain(&c).copied().fold(f64::INFINITY, f64::min);
    let hi = r
        .iter()
        .chain(&c)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + lo).collect();
    edges[bins] = hi;
    Some(SharedHistogram {
        reference: bin_counts(&r, &edges),
        current: bin_counts(&c, &edges),
        edges,
    })
}

/// Category counts over the union of the categories of two samples.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryCounts<T> {
    /// Every category seen on either side, in ascending order.
    pub categories: Vec<T>,
    /// The reference's count of each category (zero when only the current has it).
    pub reference: Vec<u64>,
    /// The current's count of each category (zero when only the reference has it).
    pub current: Vec<u64>,
}

/// Count each category of `reference` and `current` over the union of their categories: the
/// aligned vectors [`chi2_contingency`], [`psi_categorical`], [`l_infinity`] and (as `f64`)
/// [`jensen_shannon`] take.
pub fn category_counts<T: Ord + Clone + std::hash::Hash>(
    reference: &[T],
    current: &[T],
) -> CategoryCounts<T> {
    // Count in a hash map (a few categories, many rows), then sort the categories.
    let mut counts: std::collections::HashMap<&T, (u64, u64), FastHash> =
        std::collections::HashMap::with_hasher(FastHash);
    for x in reference {
        counts.entry(x).or_default().0 += 1;
    }
    for x in current {
        counts.entry(x).or_default().1 += 1;
    }
    let map: BTreeMap<&T, (u64, u64)> = counts.into_iter().collect();
    let mut out = CategoryCounts {
        categories: Vec::with_capacity(map.len()),
        reference: Vec::with_capacity(map.len()),
        current: Vec::with_capacity(map.len()),
    };
    for (k, (r, c)) in map {
        out.categories.push(k.clone());
        out.reference.push(r);
        out.current.push(c);
    }
    out
}

/// The largest absolute difference between the two sides' category proportions,
/// `max_i |r_i / Σr - c_i / Σc|`. NaN when either side has no counts.
pub fn l_infinity(ref_counts: &[u64], cur_counts: &[u64]) -> f64 {
    let k = ref_counts.len().max(cur_counts.len());
    let (sr, sc): (u64, u64) = (ref_counts.iter().sum(), cur_counts.iter().sum());
    if sr == 0 || sc == 0 || k == 0 {
        return f64::NAN;
    }
    (0..k)
        .map(|i| (count_at(ref_counts, i) / sr as f64 - count_at(cur_counts, i) / sc as f64).abs())
        .fold(0.0, f64::max)
}

/// Bonferroni-adjusted p-values: `min(1, p * m)`, `m` the number of non-NaN p-values (a NaN
/// stays NaN).
pub fn bonferroni(pvalues: &[f64]) -> Vec<f64> {
    let m = pvalues.iter().filter(|p| !p.is_nan()).count() as f64;
    pvalues
        .iter()
        .map(|p| {
            if p.is_nan() {
                f64::NAN
            } else {
                (p * m).min(1.0)
            }
        })
        .collect()
}

/// Benjamini–Hochberg adjusted p-values (false discovery rate), as
/// `scipy.stats.false_discovery_control(p, method='bh')`: sort ascending, multiply the `i`th
/// (1-based) by `m / i`, take the running minimum from the largest down, clip to `[0, 1]`,
/// restore the input order. NaN p-values stay NaN and are left out of `m` (SciPy raises).
pub fn benjamini_hochberg(pvalues: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..pvalues.len())
        .filter(|&i| !pvalues[i].is_nan())
        .collect();
    order.sort_by(|&i, &j| pvalues[i].total_cmp(&pvalues[j]));
    let m = order.len();
    let mut out = vec![f64::NAN; pvalues.len()];
    if m == 1 {
        out[order[0]] = pvalues[order[0]];
        return out;
    }
    let mut running = f64::INFINITY;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = pvalues[i] * (m as f64 / (rank + 1) as f64);
        running = running.min(adjusted);
        out[i] = running.clamp(0.0, 1.0);
    }
    out
}

/// Survival function of the chi-squared distribution, `scipy.stats.chi2.sf(x, dof)`: the
/// regularised upper incomplete gamma function `Q(dof/2, x/2)`.
pub fn chi2_sf(x: f64, dof: f64) -> f64 {
    if x.is_nan() || dof.is_nan() || dof <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    gamma_q(dof / 2.0, x / 2.0)
}

/// Survival function of the two-sided one-sample Kolmogorov–Smirnov statistic `D_n`,
/// `scipy.stats.kstwo.sf(x, n)`, following SciPy's `_kolmogn` (Simard & L'Ecuyer's choice of
/// method by `n` and `n x^2`).
pub fn kstwo_sf(n: u64, x: f64) -> f64 {
    if x.is_nan() || n == 0 {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        // Ruben–Gambino: 1/(2n) <= x <= 1/n.
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n).fold(1.0, |p, i| p * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0)))
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return clip01(1.0 - clip01(cdf));
    }
    if t >= nf - 1.0 {
        return clip01(2.0 * (1.0 - x).powf(nf));
    }
    if x >= 0.5 {
        return clip01(2.0 * smirnov_sf(n, x));
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754693 {
            return clip01(1.0 - dmtw_cdf(n, x));
        }
        if nxsquared <= 4.0 {
            return clip01(1.0 - pomeranz_cdf(n, x));
        }
        return clip01(2.0 * smirnov_sf(n, x));
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return clip01(2.0 * smirnov_sf(n, x));
    }
    let cdf = if nxsquared >= 18.0 {
        1.0
    } else if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        dmtw_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    clip01(1.0 - clip01(cdf))
}

// ------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------

/// A fast, unkeyed hasher for counting categories (a multiply-rotate per word, as FxHash):
/// the categories are the user's own data, so hash flooding is no concern.
#[derive(Clone, Copy, Default)]
struct FastHash;

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The values without NaN, in ascending order; borrowed when they already are (callers that
/// run several measures on one column sort it once, with [`sorted`]).
fn sorted_without_nan(v: &[f64]) -> std::borrow::Cow<'_, [f64]> {
    if v.is_sorted_by(|a, b| a.total_cmp(b).is_le()) && !v.iter().any(|x| x.is_nan()) {
        return std::borrow::Cow::Borrowed(v);
    }
    std::borrow::Cow::Owned(sorted(v.iter().copied().filter(|x| !x.is_nan()).collect()))
}

/// Values in `f64::total_cmp` order (a radix sort above 4096 values).
pub fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    if v.len() <= 4096 {
        v.sort_unstable_by(f64::total_cmp);
    } else {
        radix_sort(&mut v);
    }
    v
}

/// Sort in `f64::total_cmp` order by an LSD radix sort on the bits (8 bits a pass; passes
/// where every value has the same byte are skipped): several times faster than comparing on
/// the million-value columns drift tests sort.
fn radix_sort(v: &mut Vec<f64>) {
    // The bits, mapped so that unsigned order is total_cmp order.
    let key = |x: f64| {
        let b = x.to_bits();
        if b >> 63 == 1 { !b } else { b | (1 << 63) }
    };
    let mut keys: Vec<u64> = v.iter().map(|&x| key(x)).collect();
    let mut tmp = vec![0u64; keys.len()];
    for shift in (0..64).step_by(8) {
        let mut counts = [0usize; 256];
        for k in &keys {
            counts[((k >> shift) & 0xff) as usize] += 1;
        }
        if counts.contains(&keys.len()) {
            continue;
        }
        let mut at = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
        for &k in &keys {
            let b = ((k >> shift) & 0xff) as usize;
            tmp[counts[b]] = k;
            counts[b] += 1;
        }
        std::mem::swap(&mut keys, &mut tmp);
    }
    v.clear();
    v.extend(keys.into_iter().map(|k| {
        let b = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
        f64::from_bits(b)
    }));
}

fn count_at(v: &[u64], i: usize) -> f64 {
    v.get(i).copied().unwrap_or(0) as f64
}

fn clip01(p: f64) -> f64 {
    p.clamp(0.0, 1.0)
}

/// `x * 2^e` without overflowing the scale factor.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

fn population_std(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt()
}

/// `np.quantile(sorted, q)` with the default linear method, on an ascending, NaN-free slice.
fn quantile_linear(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n as f64 - 1.0) * q;
    if virtual_index >= n as f64 - 1.0 {
        return sorted[n - 1];
    }
    if virtual_index < 0.0 {
        return sorted[0];
    }
    let prev = virtual_index.floor();
    let (a, b) = (sorted[prev as usize], sorted[prev as usize + 1]);
    let gamma = virtual_index - prev;
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// Counts of the non-NaN values of `v` in the bins `[e_i, e_{i+1})` (the last one closed), as
/// `np.histogram(v, bins=edges)`; values outside the edges are not counted.
fn bin_counts(v: &[f64], edges: &[f64]) -> Vec<f64> {
    let bins = edges.len().saturating_sub(1);
    let mut counts = vec![0.0; bins];
    if bins == 0 {
        return counts;
    }
    let (first, last) = (edges[0], edges[bins]);
    for &x in v {
        if x.is_nan() || x < first || x > last {
            continue;
        }
        // The number of edges <= x, minus one; the top edge belongs to the last bin.
        let i = edges
            .partition_point(|e| *e <= x)
            .saturating_sub(1)
            .min(bins - 1);
        counts[i] += 1.0;
    }
    counts
}

fn psi_counts(r: &[f64], c: &[f64]) -> f64 {
    let (sr, sc): (f64, f64) = (r.iter().sum(), c.iter().sum());
    if !(sr > 0.0 && sc > 0.0) {
        return f64::NAN;
    }
    r.iter()
        .zip(c)
        .map(|(ri, ci)| {
            let mut rp = ri / sr;
            let mut cp = ci / sc;
            if rp == 0.0 {
                rp = PSI_FLOOR;
            }
            if cp == 0.0 {
                cp = PSI_FLOOR;
            }
            (rp - cp) * (rp / cp).ln()
        })
        .sum()
}

/// `scipy.special.rel_entr(x, y)` for `x, y >= 0`.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

// ------------------------------------------------------------------------------------------
// Kolmogorov–Smirnov: the statistic and the exact two-sample distribution
// ------------------------------------------------------------------------------------------

/// `max |F_a - F_b|` evaluated at every sample value (SciPy's `searchsorted(side='right')`).
fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let (mut max_diff, mut min_diff) = (f64::NEG_INFINITY, f64::INFINITY);
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => break,
        };
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_diff = max_diff.max(diff);
        min_diff = min_diff.min(diff);
    }
    let min_s = (-min_diff).clamp(0.0, 1.0);
    if min_s > max_diff { min_s } else { max_diff }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// SciPy's `_attempt_exact_2kssamp` (two-sided): `Some((rounded d, p))`, or `None` when the
/// computation failed and the asymptotic distribution must be used.
fn ks_exact(n1: u64, n2: u64, d: f64) -> Option<(f64, f64)> {
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    let h = (d * lcm as f64).round_ties_even() as u64;
    let d = h as f64 / lcm as f64;
    if h == 0 {
        return Some((d, 1.0));
    }
    let p = if n1 == n2 {
        prob_outside_square(n1, h)
    } else {
        outer_prob_inside_method(n1, n2, g, h)
    };
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Some((d, p))
    } else {
        None
    }
}

/// `P(D_{n,n} >= h/n)` by the alternating sum `2 (A0 (1 - A1 (1 - A2 (...))))` (SciPy's
/// `_compute_prob_outside_square`).
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        let mut p1 = 1.0;
        let mut j = 0.0;
        while j < h {
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = p1 * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
}

/// The proportion of lattice paths from `(0, 0)` to `(m, n)` that leave the band
/// `|x/m - y/n| < h/lcm(m, n)` (SciPy's `_compute_outer_prob_inside_method`: Hodges' inside
/// method, rewritten by Viehmann to compute `1 - p` directly).
fn outer_prob_inside_method(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let (mg, ng) = (m / g, n / g);
    let fdiv = |a: i64, b: i64| a as f64 / b as f64;
    let mut minj: i64 = 0;
    let mut maxj: i64 = (fdiv(h, mg).ceil() as i64).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for x in a.iter_mut().take(maxj as usize).skip(minj as usize) {
        *x = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((fdiv(ng * i - h, mg).floor() as i64) + 1).max(0).min(n);
        maxj = (fdiv(ng * i + h, mg).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let fi = i as f64;
        for jj in 0..(maxj - minj) {
            let j = (jj + minj) as f64;
            let prev = a
                .get((jj + minj - lastminj) as usize)
                .copied()
                .unwrap_or(1.0);
            val = (prev * fi + val * j) / (fi + j);
            if let Some(slot) = a.get_mut(jj as usize) {
                *slot = val;
            }
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            let end = (start + (lastlen - curlen) as usize).min(a.len());
            for x in a.iter_mut().take(end).skip(start) {
                *x = 1.0;
            }
        }
    }
    a.get((maxj - minj - 1) as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

// ------------------------------------------------------------------------------------------
// The one-sample Kolmogorov distribution (SciPy's scipy/stats/_ksstats.py)
// ------------------------------------------------------------------------------------------

const E128: f64 = 3.402_823_669_209_385e38; // 2^128
const EM128: f64 = 2.938_735_877_055_719e-39; // 2^-128

/// `log(n! / n^n)` by Stirling's series, the `n ln n` removed up front.
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    // B_2j / (2j (2j - 1)) for j = 8, ..., 1.
    const STIRLING: [f64; 8] = [
        -3617.0 / 122_400.0,
        1.0 / 156.0,
        -691.0 / 360_360.0,
        1.0 / 1188.0,
        -1.0 / 1680.0,
        1.0 / 1260.0,
        -1.0 / 360.0,
        1.0 / 12.0,
    ];
    let rn = 1.0 / n;
    let x = rn / n;
    let poly = STIRLING.iter().fold(0.0, |acc, c| acc * x + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + rn * poly
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                out[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    out
}

/// `P(D_n <= d)` by Durbin's matrix method as Marsaglia, Tsang and Wang evaluate it.
fn dmtw_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powf(j as f64)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powf(m as f64) - 2.0 * h.powf(m as f64);
    v[m - 1] = (1.0 + tt) * fac;

    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }

    let mut pwr = vec![0.0; m * m];
    for i in 0..m {
        pwr[i * m + i] = 1.0;
    }
    let (mut nn, mut expnt, mut h_expnt) = (n, 0i64, 0i64);
    while nn > 0 {
        if nn % 2 == 1 {
            pwr = matmul(&pwr, &hm, m);
            expnt += h_expnt;
        }
        hm = matmul(&hm, &hm, m);
        h_expnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > E128 {
            for x in hm.iter_mut() {
                *x /= E128;
            }
            h_expnt += 128;
        }
        nn /= 2;
    }
    let mut p = pwr[(k - 1) * m + (k - 1)];
    let nf = n as f64;
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < EM128 {
            p *= E128;
            expnt -= 128;
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    clip01(p)
}

fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (half, odd) = ((i + 1) / 2, (i + 1) % 2);
        if odd == 0 {
            if half == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1)
            }
        } else {
            (half - 1 - ll - 1, half + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// `P(D_n <= x)` by Pomeranz's recursion.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let n = n as i64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let mut gpower = vec![1.0; npwrs];
    let mut twogpower = vec![1.0; npwrs];
    let mut onem2gpower = vec![1.0; npwrs];
    let (g_n, two_g_n, one_m2g_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        let mf = m as f64;
        gpower[m] = gpower[m - 1] * g_n / mf;
        twogpower[m] = twogpower[m - 1] * two_g_n / mf;
        onem2gpower[m] = onem2gpower[m - 1] * one_m2g_n / mf;
    }
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut expnt = 0i64;
    let (mut j1, mut _j2) = pomeranz_j1j2(0, n, ll, ceilf, roundf);
    for i in 1..(2 * n + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|x| *x = 0.0);
        let (a, b) = pomeranz_j1j2(i, n, ll, ceilf, roundf);
        j1 = a;
        _j2 = b;
        let pwrs = if i == 1 || i == 2 * n + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = _j2 - k1 + 1;
        if ln2 > 0 {
            let start = (k1 - v0s).max(0) as usize;
            let end = (start + ln2 as usize).min(npwrs);
            let seg = &v0[start.min(end)..end];
            let pw = &pwrs[..(ln2 as usize).min(npwrs)];
            let conv_start = (j1 - k1).max(0) as usize;
            let conv_len = (_j2 - j1 + 1).max(0) as usize;
            for (idx, slot) in v1.iter_mut().enumerate().take(conv_len) {
                // Entry `conv_start + idx` of the full convolution of `seg` and `pw`.
                let kk = conv_start + idx;
                let mut s = 0.0;
                let lo = kk.saturating_sub(pw.len().saturating_sub(1));
                for (ii, sv) in seg.iter().enumerate().take(kk + 1).skip(lo) {
                    s += sv * pw[kk - ii];
                }
                *slot = s;
            }
            let vmax = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if vmax > 0.0 && vmax < EM128 {
                v1.iter_mut().for_each(|x| *x *= E128);
                expnt -= 128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1.get((n - v1s).max(0) as usize).copied().unwrap_or(0.0);
    for m in 1..=n {
        if ans.abs() > E128 {
            ans *= EM128;
            expnt += 128;
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    clip01(ans)
}

/// The Pelz–Good approximation to `P(D_n <= x)`.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -PI * PI / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for k in (1..=maxk).rev() {
        let m = (2 * k - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf(8.0 * k as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (s, c) in kk.iter_mut().zip(coeffs) {
            *s = *s * qpower + c;
        }
    }
    let sqrt2pi = (2.0 * PI).sqrt();
    let denominators = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (s, den) in kk.iter_mut().zip(denominators) {
        *s = *s * q * sqrt2pi / den;
    }
    let q2 = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for k in (1..=maxk).rev() {
        let kf = k as f64;
        let ksq = kf * kf;
        let qp = q2.powf(ksq);
        let kspi = PI * kf;
        k2extra += ksq * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
    }
    kk[2] += k2extra * pi2 * sqrt2pi / (-36.0 * z3);
    kk[3] += k3extra * pi2 * sqrt2pi / (216.0 * z6);
    for (i, s) in kk.iter_mut().enumerate() {
        *s /= nf.powf(i as f64 / 2.0);
    }
    kk.iter().sum()
}

/// `P(D_n^+ >= x)`, the one-sided Smirnov tail (`scipy.special.smirnov(n, x)`), by the
/// Birnbaum–Tingey sum of positive terms evaluated in logarithms.
fn smirnov_sf(n: u64, x: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) || n == 0 {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let nx = nf * x;
    if nx <= 1.0 {
        return 1.0 - x * (1.0 + x).powf(nf - 1.0);
    }
    if -2.0 * nf * x * x < -708.396_418_532_264_1 {
        return 0.0;
    }
    if nx >= nf - 1.0 {
        return (1.0 - x).powf(nf);
    }
    if n > 1_000_000 {
        return (-(6.0 * nx + 1.0).powi(2) / 18.0 / nf).exp();
    }
    let lg_n1 = ln_gamma(nf + 1.0);
    let last = (nf * (1.0 - x)).floor() as u64;
    let mut sum = 0.0;
    for v in 0..=last.min(n) {
        let vf = v as f64;
        let lower = x + vf / nf;
        let upper = (nf - vf) / nf - x;
        if upper <= 0.0 {
            continue;
        }
        let log_term = lg_n1 - ln_gamma(vf + 1.0) - ln_gamma(nf - vf + 1.0)
            + (vf - 1.0) * lower.ln()
            + (nf - vf) * upper.ln();
        if log_term > -745.0 {
            sum += log_term.exp();
        }
    }
    clip01(x * sum)
}

// ------------------------------------------------------------------------------------------
// Gamma functions
// ------------------------------------------------------------------------------------------

/// `ln Γ(x)` for `x > 0`: Stirling's series from 10 up, the recurrence below.
fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut shift = 0.0;
    let mut y = x;
    let mut prod = 1.0;
    while y < 10.0 {
        prod *= y;
        y += 1.0;
    }
    if prod != 1.0 {
        shift = prod.ln();
    }
    let r = 1.0 / y;
    let r2 = r * r;
    let series = r
        * (1.0 / 12.0
            + r2 * (-1.0 / 360.0
                + r2 * (1.0 / 1260.0
                    + r2 * (-1.0 / 1680.0 + r2 * (1.0 / 1188.0 + r2 * (-691.0 / 360360.0))))));
    (y - 0.5) * y.ln() - y + 0.5 * (2.0 * std::f64::consts::PI).ln() + series - shift
}

/// The regularised upper incomplete gamma function `Q(a, x)`, `a > 0`, `x > 0`: the power
/// series of `P` when `x < a + 1`, Lentz's continued fraction otherwise.
fn gamma_q(a: f64, x: f64) -> f64 {
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut ap = a;
        for _ in 0..100_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        clip01(1.0 - sum * log_prefix.exp())
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..100_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        clip01(h * log_prefix.exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_samples_give_nan() {
        let ks = ks_2samp(&[], &[1.0, 2.0]);
        assert!(ks.statistic.is_nan() && ks.pvalue.is_nan());
        assert_eq!(ks.method, KsMethod::NotComputed);
        assert!(ks_2samp(&[1.0], &[]).pvalue.is_nan());
        assert!(wasserstein(&[], &[1.0]).is_nan());
        assert!(wasserstein_normed(&[1.0], &[]).is_nan());
        assert!(psi(&[], &[1.0], 10).is_nan());
        assert!(psi(&[1.0], &[], 10).is_nan());
        assert!(psi(&[1.0], &[1.0], 0).is_nan());
        assert!(histogram_pair(&[], &[], 10).is_none());
        assert!(jensen_shannon(&[], &[]).is_nan());
        assert!(jensen_shannon(&[0.0, 0.0], &[1.0, 1.0]).is_nan());
        assert!(l_infinity(&[], &[]).is_nan());
        assert!(psi_categorical(&[0, 0], &[1, 2]).is_nan());
        let c = chi2_contingency(&[], &[]);
        assert!(c.statistic.is_nan() && c.pvalue.is_nan());
        assert!(chi2_contingency(&[0, 0], &[3, 4]).pvalue.is_nan());
        assert!(bonferroni(&[]).is_empty());
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn all_nan_samples_are_empty_samples() {
        let nan = [f64::NAN, f64::NAN];
        assert!(ks_2samp(&nan, &[1.0, 2.0]).pvalue.is_nan());
        assert!(wasserstein(&[1.0], &nan).is_nan());
        assert!(psi(&nan, &[1.0], 10).is_nan());
        assert!(histogram_pair(&nan, &nan, 5).is_none());
    }

    #[test]
    fn nan_values_are_dropped() {
        let a = [1.0, f64::NAN, 2.0, 3.0];
        let b = [1.5, 2.5, f64::NAN];
        assert_eq!(ks_2samp(&a, &b), ks_2samp(&[1.0, 2.0, 3.0], &[1.5, 2.5]));
        assert_eq!(
            wasserstein(&a, &b),
            wasserstein(&[1.0, 2.0, 3.0], &[1.5, 2.5])
        );
        assert_eq!(psi(&a, &b, 2), psi(&[1.0, 2.0, 3.0], &[1.5, 2.5], 2));
    }

    #[test]
    fn one_value() {
        let ks = ks_2samp(&[1.0], &[1.0]);
        assert_eq!((ks.statistic, ks.pvalue), (0.0, 1.0));
        let ks = ks_2samp(&[1.0], &[2.0]);
        assert_eq!((ks.statistic, ks.pvalue), (1.0, 1.0));
        assert_eq!(wasserstein(&[1.0], &[3.5]), 2.5);
        // A constant reference: the standard deviation floor keeps the ratio finite.
        assert_eq!(
            wasserstein_normed(&[1.0], &[1.5]),
            0.5 / WASSERSTEIN_STD_FLOOR
        );
        assert_eq!(psi(&[1.0], &[1.0], 10), 0.0);
        let h = histogram_pair(&[2.0], &[2.0], 4).expect("values");
        assert_eq!(h.edges, vec![1.5, 1.75, 2.0, 2.25, 2.5]);
        assert_eq!(h.reference, vec![0.0, 0.0, 1.0, 0.0]);
        assert_eq!(jensen_shannon(&h.reference, &h.current), 0.0);
        let c = chi2_contingency(&[5], &[7]);
        assert_eq!((c.statistic, c.pvalue, c.dof), (0.0, 1.0, 0));
        assert_eq!(bonferroni(&[0.3]), vec![0.3]);
        assert_eq!(benjamini_hochberg(&[0.3]), vec![0.3]);
    }

    #[test]
    fn nan_pvalues_stay_nan_and_are_not_counted() {
        let bh = benjamini_hochberg(&[0.01, f64::NAN, 0.04]);
        assert!(bh[1].is_nan());
        assert_eq!(bh[0], 0.02);
        assert_eq!(bh[2], 0.04);
        let b = bonferroni(&[0.01, f64::NAN, 0.6]);
        assert_eq!(b[0], 0.02);
        assert!(b[1].is_nan());
        assert_eq!(b[2], 1.0);
    }

    #[test]
    fn counts_are_padded_and_columns_empty_on_both_sides_dropped() {
        assert_eq!(
            chi2_contingency(&[10, 0, 5], &[4, 0, 9]),
            chi2_contingency(&[10, 5], &[4, 9])
        );
        assert_eq!(l_infinity(&[1, 1], &[1, 1, 2]), 0.5);
        assert_eq!(psi_categorical(&[3, 1], &[3, 1, 0]), 0.0);
    }

    #[test]
    fn category_counts_take_the_union() {
        let c = category_counts(&["a", "b", "a"], &["c", "a"]);
        assert_eq!(c.categories, vec!["a", "b", "c"]);
        assert_eq!(c.reference, vec![2, 1, 0]);
        assert_eq!(c.current, vec![1, 0, 1]);
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut f = 1.0f64;
        for n in 1..30u32 {
            f *= f64::from(n);
            let got = ln_gamma(f64::from(n) + 1.0);
            assert!((got - f.ln()).abs() < 1e-13 * f.ln().max(1.0), "{n}: {got}");
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
    }
}

#[cfg(test)]
mod radix_tests {
    use super::*;

    #[test]
    fn radix_sort_orders_as_total_cmp() {
        let mut seed = 3u64;
        let mut v: Vec<f64> = (0..10_000)
            .map(|i| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                match i % 7 {
                    0 => -0.0,
                    1 => 0.0,
                    2 => f64::INFINITY,
                    3 => f64::NEG_INFINITY,
                    4 => -((seed >> 11) as f64) / 1e6,
                    _ => (seed >> 11) as f64 / 1e9,
                }
            })
            .collect();
        let mut expected = v.clone();
        expected.sort_by(f64::total_cmp);
        radix_sort(&mut v);
        let bits = |x: &[f64]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&v), bits(&expected));
    }
}
