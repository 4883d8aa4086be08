"""ONNX model fixtures for tollgate-model: small scikit-learn models (Titanic and seeded generated
data) exported with skl2onnx, each with the exact rows fed to it and scikit-learn's own outputs on
those rows, so Rust tests can run the .onnx files and compare without Python. Classifiers are
exported without ZipMap (outputs `label` [N] and `probabilities` [N, C]); the regressor's output is
`variable` [N, 1]. Before writing anything out the script checks that onnxruntime reproduces
scikit-learn (probabilities within 1e-5 absolute, labels equal, regression within 1e-4 relative)
and fails loudly otherwise.
Run: python scripts/export_onnx_models.py (needs scikit-learn, skl2onnx, onnx, onnxruntime,
numpy, pandas; the pinned versions are listed in the fixture README).
Output: crates/tollgate-model/tests/fixtures/onnx/ -- <model>.onnx, <model>.inputs.csv,
<model>.expected.csv, manifest.json and README.md (committed; tests need no Python)."""
import csv
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

SEED = 42
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
PROBA_ATOL = 1e-5
REG_RTOL = 1e-4  # |onnx - sklearn| <= REG_RTOL * max(1, |sklearn|)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
OUT = os.path.join(ROOT, "crates", "tollgate-model", "tests", "fixtures", "onnx")
TITANIC = os.path.join(ROOT, "examples", "titanic", "data", "titanic.csv")

ELEM_NAMES = {onnx.TensorProto.FLOAT: "float", onnx.TensorProto.INT64: "int64", onnx.TensorProto.STRING: "string",
              onnx.TensorProto.DOUBLE: "double", onnx.TensorProto.INT32: "int32"}


def f32(a):
    """Round to float32 (the values actually fed) and keep them as float64 for sklearn and CSV."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def fmt(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v)


def write_csv(path, header, columns):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in zip(*columns):
            w.writerow([fmt(v) for v in row])


def shape_of(value_info):
    dims = []
    for d in value_info.type.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return dims


def describe(value_info):
    return {"name": value_info.name, "type": ELEM_NAMES.get(value_info.type.tensor_type.elem_type,
                                                            str(value_info.type.tensor_type.elem_type)),
            "shape": shape_of(value_info)}


def operators(model):
    ops = set()

    def walk(graph):
        for node in graph.node:
            ops.add((node.domain or "ai.onnx", node.op_type))
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)

    walk(model.graph)
    return [{"domain": d, "op_type": t} for d, t in sorted(ops)]


# ---------------------------------------------------------------- data
titanic = pd.read_csv(TITANIC)
y_titanic = titanic["Survived"].to_numpy(dtype=np.int64)
age_median = float(titanic["Age"].median())
TITANIC_FEATURES = ["Pclass", "is_female", "Age", "SibSp", "Parch", "Fare"]
X_titanic = f32(np.column_stack([
    titanic["Pclass"].to_numpy(dtype=np.float64),
    (titanic["Sex"] == "female").to_numpy(dtype=np.float64),
    titanic["Age"].fillna(age_median).to_numpy(dtype=np.float64),
    titanic["SibSp"].to_numpy(dtype=np.float64),
    titanic["Parch"].to_numpy(dtype=np.float64),
    titanic["Fare"].to_numpy(dtype=np.float64),
]))

rng = np.random.default_rng(SEED)
N_GEN = 300
X_bin = f32(rng.normal(size=(N_GEN, 4)))
y_bin = ((X_bin @ np.array([1.5, -2.0, 0.7, 0.0]) + rng.normal(0, 1.0, N_GEN)) > 0).astype(np.int64)
X_multi = f32(rng.normal(size=(N_GEN, 4)))
scores = X_multi @ np.array([[1.0, -1.0, 0.0], [0.0, 1.2, -1.2], [0.8, 0.0, -0.8], [0.3, 0.3, 0.3]])
y_multi = (scores + rng.normal(0, 0.7, (N_GEN, 3))).argmax(axis=1).astype(np.int64)
X_reg = f32(rng.normal(size=(N_GEN, 3)) * np.array([1.0, 3.0, 0.5]) + np.array([0.0, 2.0, -1.0]))
y_reg = X_reg @ np.array([2.5, -0.75, 4.0]) + 1.25 + rng.normal(0, 0.5, N_GEN)
GEN4 = [f"x{i}" for i in range(4)]
GEN3 = [f"x{i}" for i in range(3)]

# ---------------------------------------------------------------- models
specs = []  # dicts: name, model, initial_types, kind, feed (dict name->array), sk_input, columns, header, csv_cols


def matrix_spec(name, model, X, y, features, elem="float"):
    model.fit(X, y)
    if elem == "float":
        itype, feed = FloatTensorType([None, X.shape[1]]), X.astype(np.float32)
    else:
        itype, feed = Int64TensorType([None, X.shape[1]]), X.astype(np.int64)
    csv_cols = [X[:, j] if elem == "float" else X[:, j].astype(np.int64) for j in range(X.shape[1])]
    specs.append({"name": name, "model": model, "initial_types": [("X", itype)], "kind": "matrix",
                  "feed": {"X": feed}, "sk_input": X, "features": features, "csv_cols": csv_cols})


matrix_spec("titanic_lr", LogisticRegression(max_iter=2000, random_state=SEED), X_titanic, y_titanic, TITANIC_FEATURES)
matrix_spec("titanic_rf", RandomForestClassifier(n_estimators=20, max_depth=5, random_state=SEED),
            X_titanic, y_titanic, TITANIC_FEATURES)
matrix_spec("gb_binary", GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=SEED), X_bin, y_bin, GEN4)
matrix_spec("gb_multiclass", GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=SEED),
            X_multi, y_multi, GEN4)
matrix_spec("rf_multiclass", RandomForestClassifier(n_estimators=20, max_depth=5, random_state=SEED),
            X_multi, y_multi, GEN4)
matrix_spec("linreg", LinearRegression(), X_reg, y_reg, GEN3)
INT_FEATURES = ["Pclass", "SibSp", "Parch"]
X_int = titanic[INT_FEATURES].to_numpy(dtype=np.int64).astype(np.float64)
matrix_spec("titanic_int", DecisionTreeClassifier(max_depth=4, random_state=SEED), X_int, y_titanic, INT_FEATURES,
            elem="int64")

# Per-column pipeline: one ONNX input per DataFrame column, in Titanic CSV order.
PIPE_COLUMNS = ["Pclass", "Sex", "Age", "Fare", "Embarked"]
df = pd.DataFrame({
    "Pclass": titanic["Pclass"].to_numpy(dtype=np.int64),
    "Sex": titanic["Sex"].astype(str).to_numpy(dtype=object),
    "Age": f32(titanic["Age"].fillna(age_median)),
    "Fare": f32(titanic["Fare"]),
    "Embarked": titanic["Embarked"].fillna("S").astype(str).to_numpy(dtype=object),
})[PIPE_COLUMNS]
pipe = Pipeline([
    ("prep", ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), ["Age", "Fare"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["Sex", "Embarked"]),
        ("pclass", StandardScaler(), ["Pclass"]),
    ])),
    ("clf", LogisticRegression(max_iter=2000, random_state=SEED)),
])
pipe.fit(df, y_titanic)
pipe_types = {"Pclass": Int64TensorType([None, 1]), "Sex": StringTensorType([None, 1]), "Age": FloatTensorType([None, 1]),
              "Fare": FloatTensorType([None, 1]), "Embarked": StringTensorType([None, 1])}
pipe_feed = {"Pclass": df["Pclass"].to_numpy(dtype=np.int64).reshape(-1, 1),
             "Sex": df["Sex"].to_numpy(dtype=object).reshape(-1, 1),
             "Age": df["Age"].to_numpy(dtype=np.float32).reshape(-1, 1),
             "Fare": df["Fare"].to_numpy(dtype=np.float32).reshape(-1, 1),
             "Embarked": df["Embarked"].to_numpy(dtype=object).reshape(-1, 1)}
specs.append({"name": "titanic_pipeline", "model": pipe, "initial_types": [(c, pipe_types[c]) for c in PIPE_COLUMNS],
              "kind": "per_column", "feed": pipe_feed, "sk_input": df, "features": PIPE_COLUMNS,
              "csv_cols": [df[c].to_numpy() for c in PIPE_COLUMNS]})

# ---------------------------------------------------------------- export, check, write
os.makedirs(OUT, exist_ok=True)
manifest = {"generator": "scripts/export_onnx_models.py", "versions": {
    "sklearn": sklearn.__version__, "skl2onnx": skl2onnx.__version__, "onnx": onnx.__version__,
    "onnxruntime": ort.__version__, "numpy": np.__version__, "pandas": pd.__version__},
    "target_opset": TARGET_OPSET, "tolerances": {"probabilities_abs": PROBA_ATOL, "regression_rel": REG_RTOL},
    "models": []}
failures = []
for s in specs:
    name, model = s["name"], s["model"]
    is_clf = hasattr(model, "predict_proba")
    options = {id(model): {"zipmap": False}} if is_clf else None
    onx = convert_sklearn(model, initial_types=s["initial_types"], target_opset=TARGET_OPSET, options=options)
    # skl2onnx names the graph with a random uuid and lists opset imports in set order; pin both so
    # reruns are byte-identical.
    onx.graph.name = name
    imports = sorted(((o.domain, o.version) for o in onx.opset_import))
    del onx.opset_import[:]
    onx.opset_import.extend(onnx.helper.make_opsetid(d, v) for d, v in imports)
    onnx.checker.check_model(onx)
    data = onx.SerializeToString()
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    got = dict(zip(out_names, sess.run(None, s["feed"])))

    header, cols = s["features"], s["csv_cols"]
    if is_clf:
        sk_label = model.predict(s["sk_input"])
        sk_proba = model.predict_proba(s["sk_input"])
        n_classes = sk_proba.shape[1]
        ort_proba = np.asarray(got["probabilities"], dtype=np.float64)
        ort_label = np.asarray(got["label"]).reshape(-1)
        max_diff = float(np.max(np.abs(ort_proba - sk_proba)))
        label_mismatches = int(np.sum(ort_label != sk_label))
        ok = ort_proba.shape == sk_proba.shape and max_diff <= PROBA_ATOL and label_mismatches == 0
        detail = f"max |p_onnx - p_sklearn| = {max_diff:.3e}, label mismatches = {label_mismatches}"
        exp_header = ["label"] + [f"p{k}" for k in range(n_classes)]
        exp_cols = [sk_label.astype(np.int64)] + [sk_proba[:, k] for k in range(n_classes)]
    else:
        sk_value = model.predict(s["sk_input"]).reshape(-1)
        n_classes = None
        ort_value = np.asarray(got["variable"], dtype=np.float64).reshape(-1)
        diff = np.abs(ort_value - sk_value)
        max_diff = float(np.max(diff))
        max_rel = float(np.max(diff / np.maximum(1.0, np.abs(sk_value))))
        label_mismatches = None
        ok = max_rel <= REG_RTOL
        detail = f"max |y_onnx - y_sklearn| = {max_diff:.3e}, max relative = {max_rel:.3e}"
        exp_header, exp_cols = ["value"], [sk_value]
    print(f"{'OK  ' if ok else 'FAIL'} {name:18s} {detail}")
    if not ok:
        failures.append(name)
        continue

    with open(os.path.join(OUT, f"{name}.onnx"), "wb") as f:
        f.write(data)
    write_csv(os.path.join(OUT, f"{name}.inputs.csv"), header, cols)
    write_csv(os.path.join(OUT, f"{name}.expected.csv"), exp_header, exp_cols)
    entry = {"name": name, "file": f"{name}.onnx", "sklearn_estimator": type(model).__name__, "kind": s["kind"],
             "inputs": [describe(i) for i in onx.graph.input],
             "outputs": [describe(o) for o in onx.graph.output],
             "output_names": out_names,
             "feature_columns": header, "n_rows": len(cols[0]), "n_classes": n_classes,
             "inputs_csv": f"{name}.inputs.csv", "expected_csv": f"{name}.expected.csv",
             "expected_columns": exp_header,
             "max_abs_diff_onnxruntime_vs_sklearn": max_diff, "label_mismatches": label_mismatches,
             "opset_import": {(o.domain or "ai.onnx"): o.version for o in onx.opset_import},
             "operators": operators(onx)}
    if name == "titanic_pipeline":
        entry["notes"] = ("Embarked nulls filled with 'S' and Age nulls with the training median "
                          f"({age_median!r}) before fitting; Sex/Embarked one-hot (handle_unknown='ignore'), "
                          "Age/Fare median-imputed then standardised, Pclass standardised.")
    elif name.startswith("titanic"):
        entry["notes"] = (f"Age nulls filled with the training median ({age_median!r}); "
                          "is_female = 1.0 if Sex == 'female' else 0.0." if "is_female" in header else
                          "Integer columns fed as an int64 matrix.")
    manifest["models"].append(entry)

if failures:
    sys.exit(f"onnxruntime does not reproduce scikit-learn for: {', '.join(failures)}")
with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
    f.write("\n")
print(f"wrote {len(manifest['models'])} models to {os.path.relpath(OUT, ROOT)}")
