"""Oracle fixtures for tollgate's evaluation metrics: scikit-learn's own values on small,
awkward prediction sets (ties, one class, perfect scores, multiclass), written as JSON that the
Rust tests read. Run: python scripts/sklearn_metrics_fixtures.py (needs scikit-learn, numpy).
Output: crates/tollgate-model/tests/fixtures/metrics.json (committed; tests need no Python)."""
import json
import os

import numpy as np
from sklearn import metrics as M

rng = np.random.default_rng(7)
cases = []


def binary(name, y, p, threshold=0.5):
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    pred = (p >= threshold).astype(float)
    out = {
        "accuracy": M.accuracy_score(y, pred),
        "balanced_accuracy": M.balanced_accuracy_score(y, pred),
        "brier": M.brier_score_loss(y, p),
        "log_loss": M.log_loss(y, p, labels=[0, 1]),
        "mae": M.mean_absolute_error(y, p),
    }
    for avg in ["binary", "micro", "macro", "weighted"]:
        out[f"precision_{avg}"] = M.precision_score(y, pred, average=avg, zero_division=0)
        out[f"recall_{avg}"] = M.recall_score(y, pred, average=avg, zero_division=0)
        out[f"f1_{avg}"] = M.f1_score(y, pred, average=avg, zero_division=0)
    if len(set(y)) == 2:
        out["roc_auc"] = M.roc_auc_score(y, p)
        out["average_precision"] = M.average_precision_score(y, p)
    cases.append({"name": name, "kind": "binary", "y": y.tolist(), "score": p.tolist(), "threshold": threshold, "expected": out})


def multiclass(name, y, probs):
    y = np.asarray(y, dtype=float)
    probs = np.asarray(probs, dtype=float)
    pred = probs.argmax(axis=1).astype(float)
    out = {"accuracy": M.accuracy_score(y, pred), "balanced_accuracy": M.balanced_accuracy_score(y, pred)}
    for avg in ["micro", "macro", "weighted"]:
        out[f"precision_{avg}"] = M.precision_score(y, pred, average=avg, zero_division=0)
        out[f"recall_{avg}"] = M.recall_score(y, pred, average=avg, zero_division=0)
        out[f"f1_{avg}"] = M.f1_score(y, pred, average=avg, zero_division=0)
    out["roc_auc_ovr_macro"] = M.roc_auc_score(y, probs, multi_class="ovr", average="macro")
    out["roc_auc_ovr_weighted"] = M.roc_auc_score(y, probs, multi_class="ovr", average="weighted")
    cases.append({"name": name, "kind": "multiclass", "y": y.tolist(), "probs": probs.T.tolist(), "expected": out})


def regression(name, y, p):
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    out = {
        "mae": M.mean_absolute_error(y, p),
        "mse": M.mean_squared_error(y, p),
        "rmse": float(np.sqrt(M.mean_squared_error(y, p))),
        "r2": M.r2_score(y, p),
        "mape": M.mean_absolute_percentage_error(y, p),
        "median_absolute_error": M.median_absolute_error(y, p),
        "max_error": M.max_error(y, p),
    }
    cases.append({"name": name, "kind": "regression", "y": y.tolist(), "pred": p.tolist(), "expected": out})


binary("simple", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
binary("ties", [0, 1, 0, 1, 1, 0, 1, 0], [0.5, 0.5, 0.5, 0.9, 0.2, 0.2, 0.7, 0.7])
binary("perfect", [0, 0, 1, 1, 1], [0.0, 0.1, 0.9, 1.0, 1.0])
binary("inverted", [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])
binary("one_class_all_negative", [0, 0, 0, 0], [0.1, 0.6, 0.3, 0.2])
binary("extreme_probabilities", [0, 1, 1, 0], [0.0, 1.0, 0.0, 1.0])
binary("threshold_0_3", [0, 1, 1, 0, 1], [0.2, 0.35, 0.31, 0.3, 0.9], threshold=0.3)
n = 500
y = rng.integers(0, 2, n)
p = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1).round(2)  # rounded: many ties
binary("random_500_rounded", y, p)
multiclass("three_classes", [0, 1, 2, 2, 1, 0, 2], [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
yk = rng.integers(0, 4, 300)
logits = rng.normal(size=(300, 4)) + np.eye(4)[yk] * 1.5
probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
multiclass("four_classes_300", yk, probs)
regression("simple", [3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
regression("perfect", [1, 2, 3], [1, 2, 3])
regression("constant_target", [2, 2, 2], [1, 2, 3])
yr = rng.normal(10, 3, 400)
regression("random_400", yr, yr + rng.normal(0, 1, 400))

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "crates", "tollgate-model", "tests", "fixtures", "metrics.json")
with open(out, "w") as f:
    json.dump({"generator": "scripts/sklearn_metrics_fixtures.py", "sklearn": __import__("sklearn").__version__, "cases": cases}, f, indent=1)
print(f"wrote {len(cases)} cases to {os.path.normpath(out)}")
