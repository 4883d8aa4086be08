"""The Python side of the ONNX benchmark (bench/onnx_bench.sh).

  python bench/onnx_bench.py gen DIR ROWS      write the benchmark data to DIR
  python bench/onnx_bench.py run MODEL DATA    onnxruntime on DATA, timed; prints one JSON line

`gen` writes two Parquet files: `blobs.parquet` (four float features x0..x3 and a 3-class label
drawn as for the multiclass random forest's training data) and `titanic.parquet` (Titanic rows resampled with a fixed
seed, with the columns the scikit-learn pipeline takes: Pclass, Sex, Age, Fare, Embarked, and
Survived). `run` does what a Python user would: read the file with pandas, build the inputs,
run an InferenceSession over batches of 65536 rows, then score with scikit-learn. It reports
the inference time alone (session.run) and the whole run.
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd

BATCH = 65536


def gen(out, rows):
    os.makedirs(out, exist_ok=True)
    # The distribution rf_multiclass was trained on (scripts/export_onnx_models.py).
    rng = np.random.default_rng(11)
    x = rng.normal(size=(rows, 4)).astype(np.float32).astype(float)
    w = np.array([[1.0, -1.0, 0.0], [0.0, 1.2, -1.2], [0.8, 0.0, -0.8], [0.3, 0.3, 0.3]])
    y = (x @ w + rng.normal(0, 0.7, (rows, 3))).argmax(axis=1)
    df = pd.DataFrame({f"x{i}": x[:, i].astype(np.float32).astype(float) for i in range(4)})
    df["label"] = y
    df.to_parquet(os.path.join(out, "blobs.parquet"), index=False)
    here = os.path.dirname(os.path.abspath(__file__))
    t = pd.read_csv(os.path.join(here, "..", "examples", "titanic", "data", "titanic.csv"))
    t = t.sample(n=rows, replace=True, random_state=11).reset_index(drop=True)
    t["Age"] = t["Age"].fillna(28.0)
    t["Embarked"] = t["Embarked"].fillna("S")
    t[["Pclass", "Sex", "Age", "Fare", "Embarked", "Survived"]].to_parquet(
        os.path.join(out, "titanic.parquet"), index=False
    )


def run(model, data):
    import onnxruntime as ort
    from sklearn.metrics import accuracy_score, roc_auc_score

    t0 = time.perf_counter()
    df = pd.read_parquet(data)
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    if names == ["X"]:
        feeds = {"X": df[["x0", "x1", "x2", "x3"]].to_numpy(dtype=np.float32)}
        label = df["label"].to_numpy()
    else:
        feeds = {
            "Pclass": df[["Pclass"]].to_numpy(dtype=np.int64),
            "Sex": df[["Sex"]].to_numpy(dtype=object),
            "Age": df[["Age"]].to_numpy(dtype=np.float32),
            "Fare": df[["Fare"]].to_numpy(dtype=np.float32),
            "Embarked": df[["Embarked"]].to_numpy(dtype=object),
        }
        label = df["Survived"].to_numpy()
    n = len(df)
    infer = 0.0
    probs = []
    for start in range(0, n, BATCH):
        part = {k: v[start : start + BATCH] for k, v in feeds.items()}
        t1 = time.perf_counter()
        out = sess.run(["probabilities"], part)[0]
        infer += time.perf_counter() - t1
        probs.append(out)
    p = np.concatenate(probs)
    if p.shape[1] == 2:
        score = {"roc_auc": roc_auc_score(label, p[:, 1])}
    else:
        score = {"accuracy": accuracy_score(label, p.argmax(axis=1))}
    total = time.perf_counter() - t0
    print(json.dumps({"rows": n, "infer_s": infer, "rows_per_s": n / infer, "total_s": total, **score}))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[2], sys.argv[3])
