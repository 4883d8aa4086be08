"""Oracle fixtures for tollgate's drift statistics (crates/tollgate-data/src/drift.rs): SciPy's
own values for the two-sample Kolmogorov-Smirnov test (exact and asymptotic p-values, and the
`kstwo` distribution at points that reach each of its algorithms), the chi-squared contingency
test (with and without Yates' correction), the Wasserstein distance, the Jensen-Shannon
distance and the Benjamini-Hochberg correction; plus the PSI, L-infinity and normed Wasserstein
values computed here in NumPy by the rules drift.rs documents (edges at the reference's
percentiles, 1e-4 floor, np.std with ddof=0 floored at 0.001, shared np.histogram_bin_edges
bins for Jensen-Shannon).

Run:    python scripts/scipy_drift_fixtures.py      (needs numpy and scipy)
Output: crates/tollgate-data/tests/fixtures/drift.json (committed; the Rust tests need no
        Python).

Large samples are not stored: a sample is either a list of numbers or a generator spec
{"gen": "normal" | "integers", "seed", "n", ...} that crates/tollgate-data/tests/drift.rs
reproduces bit for bit, because it uses only integer arithmetic and IEEE +, -, *:

    state <- seed
    next():  state <- (6364136223846793005 * state + 1442695040888963407) mod 2**64
             u = (state >> 11) * 2**-53                       # uniform in [0, 1)
    "normal":   value = mean + sd * ((u1 + u2 + ... + u12) - 6)  # Irwin-Hall, summed in order
    "integers": value = float(floor(u * k))                        # ties on 0..k-1
"""
import json
import os
import struct

import numpy as np
from scipy import stats
from scipy.spatial import distance

MASK = (1 << 64) - 1
OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "tollgate-data", "tests",
                   "fixtures", "drift.json")


def uniforms(seed):
    state = seed
    while True:
        state = (6364136223846793005 * state + 1442695040888963407) & MASK
        yield (state >> 11) * 2.0 ** -53


def generate(spec):
    if isinstance(spec, list):
        return np.asarray(spec, dtype=float)
    u = uniforms(spec["seed"])
    out = []
    for _ in range(spec["n"]):
        if spec["gen"] == "normal":
            s = 0.0
            for _ in range(12):
                s += next(u)
            out.append(spec["mean"] + spec["sd"] * (s - 6.0))
        elif spec["gen"] == "integers":
            out.append(float(int(next(u) * spec["k"])))
        else:
            raise ValueError(spec)
    return np.asarray(out, dtype=float)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def normal(seed, n, mean=0.0, sd=1.0):
    return {"gen": "normal", "seed": seed, "n": n, "mean": mean, "sd": sd}


def integers(seed, n, k):
    return {"gen": "integers", "seed": seed, "n": n, "k": k}


# ---- the rules drift.rs documents, in NumPy --------------------------------------------------

PSI_FLOOR = 1e-4


def psi_from_counts(r, c):
    r = np.asarray(r, dtype=float) / np.sum(r)
    c = np.asarray(c, dtype=float) / np.sum(c)
    r = np.where(r == 0, PSI_FLOOR, r)
    c = np.where(c == 0, PSI_FLOOR, c)
    return float(np.sum((r - c) * np.log(r / c)))


def psi(ref, cur, bins):
    edges = np.percentile(ref, np.linspace(0, 100, bins + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    return psi_from_counts(np.histogram(ref, edges)[0], np.histogram(cur, edges)[0])


def shared_hist(a, b, bins):
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=bins)
    return edges, np.histogram(a, edges)[0], np.histogram(b, edges)[0]


def wasserstein_normed(ref, cur):
    return float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001))


def linf(r, c):
    r = np.asarray(r, dtype=float)
    c = np.asarray(c, dtype=float)
    return float(np.max(np.abs(r / r.sum() - c / c.sum())))


# ---- cases --------------------------------------------------------------------------------------

cases = []


def numeric(name, a_spec, b_spec, psi_bins=10, js_bins=30):
    a, b = generate(a_spec), generate(b_spec)
    ks = stats.ks_2samp(a, b)
    edges, hp, hq = shared_hist(a, b, js_bins)
    cases.append({
        "name": name, "kind": "numeric", "a": a_spec, "b": b_spec,
        "psi_bins": psi_bins, "js_bins": js_bins,
        "expected": {
            "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue),
            "ks_exact": bool(max(len(a), len(b)) <= 10000),
            "wasserstein": float(stats.wasserstein_distance(a, b)),
            "wasserstein_normed": wasserstein_normed(a, b),
            "psi": psi(a, b, psi_bins),
            "js_reference_counts": hp.tolist(), "js_current_counts": hq.tolist(),
            "js": float(distance.jensenshannon(hp, hq)),
        },
    })


def categorical(name, r, c):
    res = stats.chi2_contingency(np.array([r, c]))
    cases.append({
        "name": name, "kind": "categorical", "ref_counts": r, "cur_counts": c,
        "expected": {
            "chi2_statistic": float(res.statistic), "chi2_pvalue": float(res.pvalue),
            "chi2_dof": int(res.dof),
            "psi": psi_from_counts(r, c), "js": float(distance.jensenshannon(r, c)),
            "l_infinity": linf(r, c),
        },
    })


# Kolmogorov-Smirnov: exact p-values (max(n1, n2) <= 10000).
numeric("small_unequal_exact", [0.61, -1.3, 2.2, 0.05, 1.7, -0.4, 0.9, 3.1],
        [1.2, 2.8, 0.3, 3.3, 2.05, 1.95, 4.1, -0.2, 2.6, 1.1, 3.7])
numeric("small_equal_n_exact", [0.1 * i for i in range(12)], [0.1 * i + 0.45 for i in range(12)])
numeric("ties_small_integers", [1, 2, 2, 3, 3, 3, 4, 4, 5, 1, 2, 3],
        [2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 3, 4, 5, 2])
numeric("identical_samples", [0.5, 1.5, -2.0, 3.25, 0.0, 7.0], [0.5, 1.5, -2.0, 3.25, 0.0, 7.0])
numeric("disjoint_samples", [0.1, 0.4, 0.3, 0.2, 0.9], [10.5, 11.0, 10.25])
numeric("single_distinct_value_same", [3.0, 3.0, 3.0], [3.0, 3.0])
numeric("single_distinct_value_apart", [3.0, 3.0, 3.0], [4.0, 4.0])
numeric("medium_shifted_normals_exact", normal(11, 3000), normal(12, 2000, 0.1, 1.0))
numeric("medium_integer_ties_exact", integers(13, 1200, 8), integers(14, 900, 9))
numeric("equal_n_10000_exact", normal(15, 10000), normal(16, 10000, 0.03, 1.0))
# Asymptotic p-values (max(n1, n2) > 10000), kstwo(round(n1 n2 / (n1 + n2))).
numeric("large_shifted_normals_asymptotic", normal(1, 20000), normal(2, 15000, 0.05, 1.0))
numeric("large_same_distribution_asymptotic", normal(3, 20000), normal(4, 15000))
numeric("large_vs_small_asymptotic", normal(5, 12000), normal(6, 60, 0.1, 1.0))
numeric("large_vs_small_shifted_asymptotic", normal(7, 12000), normal(8, 60, 0.6, 1.2))
numeric("large_vs_small_far_asymptotic", normal(17, 12000), normal(18, 60, 1.0, 1.0))
numeric("large_vs_small_close_asymptotic", normal(19, 12000), normal(20, 60, 0.0, 0.9))
numeric("large_integer_ties_asymptotic", integers(9, 10001, 20), integers(10, 10001, 21))
# PSI / JS on shifted normals.
numeric("psi_js_shifted_normals", normal(21, 2000), normal(22, 1500, 0.3, 1.1), 10, 30)
numeric("psi_js_same_normals", normal(23, 2000), normal(24, 1500), 10, 30)
numeric("psi_reference_with_ties", integers(25, 500, 5), integers(26, 400, 6), 10, 7)

# Categorical: dof 1 (Yates), Yates smaller than 0.5, categories on one side only, many.
categorical("two_categories_yates", [30, 10], [20, 25])
categorical("two_categories_tiny_difference", [10, 10], [10, 11])
categorical("one_side_only_categories", [50, 30, 0, 20], [40, 35, 10, 0])
categorical("many_categories", [120, 80, 60, 40, 30, 20, 10, 5, 3, 1],
            [100, 90, 50, 45, 35, 10, 15, 2, 0, 4])
categorical("strong_shift", [900, 90, 10], [300, 400, 300])

# kstwo.sf at points reaching each of _kolmogn's branches, and chi2.sf.
for n, x in [(5, 0.15), (10, 0.95), (20, 0.6), (50, 0.1), (50, 0.2), (50, 0.35), (140, 0.05),
             (200, 0.004), (1000, 0.01), (1000, 0.02), (1000, 0.06), (8571, 0.0005),
             (8571, 0.012), (8571, 0.03), (100000, 0.003), (150000, 0.001)]:
    cases.append({"name": f"kstwo_sf_{n}_{x}", "kind": "kstwo_sf", "n": n, "x": x,
                  "expected": {"sf": float(stats.kstwo.sf(x, n))}})
for x, dof in [(3.84, 1), (0.5, 3), (100.0, 50), (1e-3, 2), (30.0, 4), (500.0, 400),
               (12.5, 9), (0.2, 1)]:
    cases.append({"name": f"chi2_sf_{x}_{dof}", "kind": "chi2_sf", "x": x, "dof": dof,
                  "expected": {"sf": float(stats.chi2.sf(x, dof))}})

# p-value corrections (SciPy's documentation example, unsorted, with ties).
for name, ps in [
    ("corrections_scipy_example", [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298,
                                   0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590,
                                   1.000]),
    ("corrections_unsorted_ties", [0.5, 0.6, 0.1, 0.001, 0.1, 0.04, 0.04, 0.9]),
]:
    ps_arr = np.asarray(ps)
    cases.append({"name": name, "kind": "corrections", "pvalues": ps, "expected": {
        "bh": stats.false_discovery_control(ps_arr, method="bh").tolist(),
        "bonferroni": np.minimum(1.0, ps_arr * len(ps)).tolist(),
    }})

doc = {
    "about": "SciPy oracle values for crates/tollgate-data/src/drift.rs; generated by "
             "scripts/scipy_drift_fixtures.py (see its docstring for the sample generator).",
    "scipy": __import__("scipy").__version__,
    "numpy": np.__version__,
    # The IEEE bit patterns (as integers, which JSON parsers read exactly) of the first values
    # and of the sequential sum of two generated samples, to check a port of the generator bit
    # for bit before any statistic is compared.
    "generator_check": [
        {"spec": spec, "first_bits": [bits(x) for x in generate(spec)[:5]],
         "sum_bits": bits(sum(generate(spec).tolist()))}
        for spec in (normal(1, 20000), integers(9, 10001, 20))
    ],
    "cases": cases,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")
