"""Titanic worked example: data split and the two ONNX models that tollgate tests.

The tests of this example follow Eugene Yan's "How to Test Machine Learning Code and Systems"
(companion code: eugeneyan/testing-ml); this script is the Python side of them, written for tollgate.

Subcommands (run from anywhere; paths default to this directory):

  python train.py split
      Stratified (on Survived) 80/20 split of data/titanic.csv into data/train.csv (712 rows) and
      data/test.csv (179 rows), raw columns and formatting kept. Prints the row counts and the
      training medians used as the fill constants of the features.

  python train.py fit --data CSV --out MODEL.onnx [--model tree|forest|logreg] [--seed N]
                      [--max-depth D] [--n-estimators N] [--min-samples-leaf N] [--rows N]
      Featurises a CSV of raw Titanic columns, trains one classifier and writes it as ONNX. This is
      the command tollgate's pre-train checks call. Exits 2, with a message on stderr, when the
      data cannot be trained on (e.g. a single class).

  python train.py models
      Trains the two shipped models on data/train.csv, writes models/tree.onnx and
      models/forest.onnx, and prints train/test accuracy and ROC AUC computed with scikit-learn,
      checked against onnxruntime on the written files.

The 8 features are computed from the raw columns exactly as the SQL in features.md computes them,
so that tollgate, which feeds the ONNX model with SQL over the raw CSV, gives the model the same
numbers. The age and fare fill values are fixed literals (AGE_FILL, FARE_FILL), not recomputed
from whatever file is being featurised.
"""
import argparse
import hashlib
import os
import re
import sys
import time

import numpy as np
import pandas as pd
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
MODELS = os.path.join(HERE, "models")
RAW_CSV = os.path.join(DATA, "titanic.csv")
TRAIN_CSV = os.path.join(DATA, "train.csv")
TEST_CSV = os.path.join(DATA, "test.csv")

RAW_COLUMNS = ["PassengerId", "Survived", "Pclass", "Name", "Sex", "Age", "SibSp", "Parch",
               "Ticket", "Fare", "Cabin", "Embarked"]
LABEL = "Survived"
USED_COLUMNS = [LABEL, "Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
FEATURES = ["pclass", "sex", "age", "sibsp", "parch", "fare", "embarked", "title"]

# The split: stratified on Survived, 80/20, this seed.
SPLIT_SEED = 40
TEST_SIZE = 179

# Medians of Age and Fare on the training split (data/train.csv), rounded to 1 and 4 decimals.
# `split` prints them; they are literals here and in the SQL of features.md.
AGE_FILL = 28.0
FARE_FILL = 13.9313

# The title: capture group 1 of the leftmost match of this pattern (re.search). The SQL in features.md
# computes the same string with regexp_like + regexp_replace over the same pattern.
TITLE_RE = re.compile(r", ([^.]*)[.]")
TITLE_CODES = {"Mr": 0.0, "Mrs": 1.0, "Mme": 1.0, "Miss": 2.0, "Mlle": 2.0, "Ms": 2.0, "Master": 3.0}
TITLE_OTHER = 4.0
EMBARKED_CODES = {"S": 0.0, "C": 1.0, "Q": 2.0}

# The shipped models' hyperparameters (also the defaults of `fit` for that model kind).
PARAMS = {
    "tree": {"max_depth": 6, "min_samples_leaf": 3, "seed": 42},
    "forest": {"max_depth": 8, "min_samples_leaf": 2, "n_estimators": 100, "seed": 42},
    "logreg": {"seed": 42},
}

# What the shipped models must reach (accuracy, ROC AUC), strictly above; `models` checks it.
TARGETS = {
    ("tree", "train"): (0.85, 0.90), ("tree", "test"): (0.82, 0.84),
    ("forest", "train"): (0.85, 0.90), ("forest", "test"): (0.84, 0.86),
}

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
PROBA_ATOL = 1e-5


class DataError(Exception):
    """The data cannot be featurised or trained on; reported on stderr, exit status 2."""


# ---------------------------------------------------------------------------------------- data


def read_raw(path):
    """The CSV as pandas reads it by default: numbers as numbers, empty fields as NaN."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    missing = [c for c in USED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    return df


def title_code(name):
    if not isinstance(name, str):
        return TITLE_OTHER
    m = TITLE_RE.search(name)
    if m is None:
        return TITLE_OTHER
    return TITLE_CODES.get(m.group(1), TITLE_OTHER)


def featurise(df):
    """The 8 features, float64, in FEATURES order (the model is fed them as float32)."""
    def num(col):
        return pd.to_numeric(df[col], errors="raise").astype("float64")

    sex = df["Sex"].map(lambda s: 1.0 if s == "female" else 0.0)
    embarked = df["Embarked"].map(lambda e: EMBARKED_CODES.get(e, 0.0) if isinstance(e, str) else 0.0)
    x = pd.DataFrame({
        "pclass": num("Pclass"),
        "sex": sex.astype("float64"),
        "age": num("Age").fillna(AGE_FILL),
        "sibsp": num("SibSp"),
        "parch": num("Parch"),
        "fare": num("Fare").fillna(FARE_FILL),
        "embarked": embarked.astype("float64"),
        "title": df["Name"].map(title_code).astype("float64"),
    })[FEATURES]
    if x.isna().any().any():
        bad = [c for c in FEATURES if x[c].isna().any()]
        raise DataError(f"null values left in feature(s) {', '.join(bad)} (nulls in Pclass, SibSp or Parch?)")
    return x.to_numpy(dtype=np.float64)


def labels(df):
    y = pd.to_numeric(df[LABEL], errors="raise")
    if y.isna().any():
        raise DataError(f"{LABEL} has {int(y.isna().sum())} null value(s)")
    if not (y == y.round()).all():
        raise DataError(f"{LABEL} has non-integer value(s)")
    return y.astype("int64").to_numpy()


def as_fed(x):
    """The values the ONNX model actually receives (float32), kept as float32 for both runtimes."""
    return np.asarray(x, dtype=np.float32)


# ------------------------------------------------------------------------------------- models


def make_classifier(kind, seed, max_depth=None, n_estimators=None, min_samples_leaf=None):
    p = PARAMS[kind]
    seed = p["seed"] if seed is None else seed
    leaf = p.get("min_samples_leaf") if min_samples_leaf is None else min_samples_leaf
    if kind == "tree":
        return DecisionTreeClassifier(
            max_depth=p["max_depth"] if max_depth is None else max_depth,
            min_samples_leaf=leaf, random_state=seed)
    if kind == "forest":
        return RandomForestClassifier(
            n_estimators=p["n_estimators"] if n_estimators is None else n_estimators,
            max_depth=p["max_depth"] if max_depth is None else max_depth,
            min_samples_leaf=leaf, random_state=seed, n_jobs=1)
    if kind == "logreg":
        return LogisticRegression(max_iter=5000, random_state=seed)
    raise ValueError(kind)


def train(kind, x, y, seed=None, max_depth=None, n_estimators=None, min_samples_leaf=None):
    classes = np.unique(y)
    if len(x) == 0:
        raise DataError("no rows to train on")
    if len(classes) < 2:
        raise DataError(f"only one class in {LABEL} ({classes[0] if len(classes) else 'none'}) "
                        f"over {len(y)} row(s): a classifier needs both 0 and 1")
    if not set(classes.tolist()) <= {0, 1}:
        raise DataError(f"{LABEL} must be 0 or 1, found {sorted(classes.tolist())}")
    if (max_depth is not None or min_samples_leaf is not None) and kind == "logreg":
        raise DataError("--max-depth and --min-samples-leaf apply to tree and forest only")
    if n_estimators is not None and kind != "forest":
        raise DataError("--n-estimators applies to forest only")
    if any(v is not None and v < 1 for v in (max_depth, n_estimators, min_samples_leaf)):
        raise DataError("--max-depth, --n-estimators and --min-samples-leaf must be at least 1")
    clf = make_classifier(kind, seed, max_depth, n_estimators, min_samples_leaf)
    clf.fit(as_fed(x), y)
    return clf


def to_onnx_bytes(clf, name):
    onx = convert_sklearn(
        clf, name=name, initial_types=[("X", FloatTensorType([None, len(FEATURES)]))],
        options={id(clf): {"zipmap": False}}, target_opset=TARGET_OPSET)
    onx.graph.name = name  # fixed, so that the file is byte-reproducible
    onx.doc_string = ""
    # skl2onnx lists the default domain twice (same version); keep one entry per domain.
    versions = {}
    for op in onx.opset_import:
        versions[op.domain] = max(op.version, versions.get(op.domain, 0))
    del onx.opset_import[:]
    for domain, version in versions.items():
        onx.opset_import.add(domain=domain, version=version)
    return onx.SerializeToString()


def write_model(clf, path, name):
    data = to_onnx_bytes(clf, name)
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return data


def onnx_proba(path, x):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    label, proba = sess.run(["label", "probabilities"], {"X": as_fed(x)})
    return np.asarray(label), np.asarray(proba, dtype=np.float64)


def metrics(y, proba1, label):
    return accuracy_score(y, label), roc_auc_score(y, proba1)


# --------------------------------------------------------------------------------- subcommands


def cmd_split(args):
    # Everything as text, nothing parsed: the two files keep the original's fields byte for byte.
    df = pd.read_csv(RAW_CSV, dtype=str, keep_default_na=False, na_filter=False)
    if list(df.columns) != RAW_COLUMNS:
        raise DataError(f"{RAW_CSV}: expected the columns {', '.join(RAW_COLUMNS)}")
    with open(RAW_CSV, "rb") as f:
        newline = "\r\n" if b"\r\n" in f.read(4096) else "\n"
    train_df, test_df = train_test_split(df, test_size=TEST_SIZE, stratify=df[LABEL],
                                         random_state=args.seed, shuffle=True)
    train_df = train_df.sort_values("PassengerId", key=lambda s: s.astype(int))
    test_df = test_df.sort_values("PassengerId", key=lambda s: s.astype(int))
    for part, path in ((train_df, TRAIN_CSV), (test_df, TEST_CSV)):
        with open(path, "w", newline="") as f:
            part.to_csv(f, index=False, lineterminator=newline)
        rate = part[LABEL].astype(int).mean()
        print(f"{os.path.relpath(path, HERE)}: {len(part)} rows, survival rate {rate:.4f}")

    tr = read_raw(TRAIN_CSV)
    age = round(float(tr["Age"].median()), 1)
    fare = round(float(tr["Fare"].median()), 4)
    print(f"split seed {args.seed}, stratified on {LABEL}")
    print(f"training median Age  -> AGE_FILL  = {age}")
    print(f"training median Fare -> FARE_FILL = {fare}")
    if (age, fare) != (AGE_FILL, FARE_FILL):
        print(f"warning: the script's constants are AGE_FILL = {AGE_FILL}, FARE_FILL = {FARE_FILL}; "
              f"update them (and features.md) for this split", file=sys.stderr)
        return 1
    return 0


def cmd_fit(args):
    t0 = time.perf_counter()
    df = read_raw(args.data)
    if args.rows is not None:
        if args.rows <= 0:
            raise DataError("--rows must be positive")
        df = df.head(args.rows)
    x, y = featurise(df), labels(df)
    clf = train(args.model, x, y, seed=args.seed, max_depth=args.max_depth,
                n_estimators=args.n_estimators, min_samples_leaf=args.min_samples_leaf)
    write_model(clf, args.out, f"titanic_{args.model}")
    proba = clf.predict_proba(as_fed(x))[:, 1]
    acc = float(np.mean(clf.predict(as_fed(x)) == y))
    print(f"{args.model}: {len(y)} rows ({int(y.sum())} survived), train accuracy {acc:.4f}, "
          f"mean p(survived) {proba.mean():.4f} -> {args.out} "
          f"(read, fit and export in {time.perf_counter() - t0:.2f} s)")
    return 0


def cmd_models(args):
    tr, te = read_raw(TRAIN_CSV), read_raw(TEST_CSV)
    xtr, ytr, xte, yte = featurise(tr), labels(tr), featurise(te), labels(te)
    rows, problems = [], []
    for kind in ("tree", "forest"):
        clf = train(kind, xtr, ytr)
        path = os.path.join(MODELS, f"{kind}.onnx")
        data = write_model(clf, path, f"titanic_{kind}")
        worst, labels_equal = 0.0, True
        for split, x, y in (("train", xtr, ytr), ("test", xte, yte)):
            sk_proba = clf.predict_proba(as_fed(x))
            sk_label = clf.predict(as_fed(x))
            ox_label, ox_proba = onnx_proba(path, x)
            worst = max(worst, float(np.max(np.abs(ox_proba - sk_proba))))
            labels_equal &= bool(np.array_equal(ox_label, sk_label))
            acc, auc = metrics(y, sk_proba[:, 1], sk_label)
            oacc, oauc = metrics(y, ox_proba[:, 1], ox_label)
            rows.append((kind, split, acc, auc, oacc, oauc))
            min_acc, min_auc = TARGETS[(kind, split)]
            if not (acc > min_acc and auc > min_auc):
                problems.append(f"{kind} on {split}: accuracy {acc:.4f}, ROC AUC {auc:.4f}, "
                                f"wanted > {min_acc} and > {min_auc}")
        if worst >= PROBA_ATOL or not labels_equal:
            problems.append(f"{kind}: onnxruntime does not reproduce scikit-learn")
        sha = hashlib.sha256(data).hexdigest()
        print(f"{kind}: {os.path.relpath(path, HERE)}  {len(data)} bytes  sha256 {sha}")
        print(f"  {type(clf).__name__} {PARAMS[kind]}")
        print(f"  onnxruntime vs scikit-learn predict_proba: max abs diff {worst:.3g} (limit {PROBA_ATOL:g}), "
              f"labels {'equal' if labels_equal else 'DIFFER'}")
    print()
    print("| model  | split | accuracy | ROC AUC | onnxruntime accuracy | onnxruntime ROC AUC |")
    print("|--------|-------|----------|---------|----------------------|---------------------|")
    for kind, split, acc, auc, oacc, oauc in rows:
        print(f"| {kind:6} | {split:5} | {acc:.4f}   | {auc:.4f}  | {oacc:.4f}               | {oauc:.4f}              |")
    for p in problems:
        print(f"train.py models: error: {p}", file=sys.stderr)
    return 1 if problems else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("split", help="write data/train.csv and data/test.csv")
    sp.add_argument("--seed", type=int, default=SPLIT_SEED, help=f"split seed (default {SPLIT_SEED})")
    sp.set_defaults(func=cmd_split)

    fp = sub.add_parser("fit", help="train one model on a CSV of raw columns, write ONNX")
    fp.add_argument("--data", required=True, help="CSV with the raw Titanic columns (and Survived)")
    fp.add_argument("--out", required=True, help="ONNX file to write")
    fp.add_argument("--model", choices=sorted(PARAMS), default="tree")
    fp.add_argument("--seed", type=int, default=None, help="random_state (default: the shipped model's)")
    fp.add_argument("--max-depth", type=int, default=None)
    fp.add_argument("--n-estimators", type=int, default=None)
    fp.add_argument("--min-samples-leaf", type=int, default=None,
                    help="1 lets a tree learn any small sample by heart (default: the shipped model's)")
    fp.add_argument("--rows", type=int, default=None, help="train on the first N rows only")
    fp.set_defaults(func=cmd_fit)

    mp = sub.add_parser("models", help="train and write models/tree.onnx and models/forest.onnx")
    mp.set_defaults(func=cmd_models)

    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except (DataError, ValueError) as e:  # ValueError: a value pandas cannot read as a number
        print(f"train.py {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
