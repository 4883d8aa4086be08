#!/usr/bin/env bash
# ONNX batch inference: tollgate (ONNX Runtime through `ort`, and tract) against Python
# onnxruntime on the same models and the same rows. Two models of the committed fixtures:
# the 3-class random forest (one float matrix input) on generated blobs, and the scikit-learn
# pipeline (int64, float and string inputs, one per column) on resampled Titanic rows.
# Interleaved repetitions, medians, ratios; the scores must agree.
# usage: bench/onnx_bench.sh [REPS] [ROWS]      (ONNX_VENV: a venv with onnxruntime, pandas,
# pyarrow, scikit-learn; default /tmp/tollgate-onnx-venv)
set -u
here=$(cd "$(dirname "$0")" && pwd)
reps=${1:-5}
rows=${2:-1000000}
venv=${ONNX_VENV:-/tmp/tollgate-onnx-venv}
py=$venv/bin/python
data=${PEERS_DATA:-/tmp/tollgate-bench-data}/onnx-$rows
bin=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-/var/tmp/tollgate-target}/release/tollgate}
out=${OUT:-/tmp/tollgate-onnx-bench}
fixtures=$here/../crates/tollgate-model/tests/fixtures/onnx
mkdir -p "$out"
[ -f "$data/titanic.parquet" ] || "$py" "$here/onnx_bench.py" gen "$data" "$rows"
export VIRTUAL_ENV=$venv

plan() { # name data model runner inputs-yaml label metric [output-yaml]
  cat > "$out/$1.yaml" <<YAML
version: 1
sources:
  rows: { path: '$data/$2.parquet' }
models:
  m:
    onnx: '$fixtures/$3.onnx'
    runner: $4
    inputs: $5
    ${8:-}
model_checks:
  speed: { model: m, source: rows, checks: [latency] }
  speed-100k: { model: m, source: rows, rows: 100000, checks: [latency] }
evaluation:
  score: { model: m, source: rows, label: $6, metrics: { $7: { at_least: 0 } } }
YAML
}
for runner in onnxruntime tract; do
  plan "blobs-$runner" blobs rf_multiclass "$runner" "[x0, x1, x2, x3]" label accuracy
done
plan "titanic-onnxruntime" titanic titanic_pipeline onnxruntime "[Pclass, Sex, Age, Fare, Embarked]" Survived roc_auc "output: { probability_of: 1 }"

for r in $(seq 1 "$reps"); do
  for m in blobs:rf_multiclass titanic:titanic_pipeline; do
    d=${m%%:*}; model=${m##*:}
    "$py" "$here/onnx_bench.py" run "$fixtures/$model.onnx" "$data/$d.parquet" > "$out/py-$d-$r.json"
  done
  for p in blobs-onnxruntime titanic-onnxruntime; do
    s=$(date +%s.%N)
    "$bin" test "$out/$p.yaml" score --format json > "$out/tg-$p-$r.json"
    e=$(date +%s.%N)
    echo "$s $e" > "$out/tg-$p-$r.wall"
    "$bin" test "$out/$p.yaml" speed --format json > "$out/tg-$p-speed-$r.json"
  done
  # tract is far slower on tree ensembles: its rate on the first 100k rows only.
  "$bin" test "$out/blobs-tract.yaml" speed-100k --format json > "$out/tg-blobs-tract-speed-$r.json"
  "$bin" test "$out/blobs-onnxruntime.yaml" speed-100k --format json > "$out/tg-blobs-onnxruntime-speed100k-$r.json"
done

"$py" - "$out" "$reps" "$rows" <<'PY'
import json, statistics, sys
out, reps, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
med = statistics.median
def rate100k(p):
    return med(json.load(open(f"{out}/tg-{p}-{r}.json"))["tests"][0]["findings"][0]["observed"]["rows_per_s"] for r in range(1, reps + 1))
def tg(p):
    wall, rate, score = [], [], None
    for r in range(1, reps + 1):
        s, e = map(float, open(f"{out}/tg-{p}-{r}.wall").read().split())
        wall.append(e - s)
        doc = json.load(open(f"{out}/tg-{p}-{r}.json"))
        score = doc["tests"][0]["findings"][0]["observed"]
        speed = json.load(open(f"{out}/tg-{p}-speed-{r}.json"))
        rate.append(speed["tests"][0]["findings"][0]["observed"]["rows_per_s"])
    return med(wall), med(rate), score
def py(d):
    runs = [json.load(open(f"{out}/py-{d}-{r}.json")) for r in range(1, reps + 1)]
    score = runs[0].get("accuracy", runs[0].get("roc_auc"))
    return med(x["total_s"] for x in runs), med(x["rows_per_s"] for x in runs), score
print(f"{rows} rows, {reps} runs each, medians\n")
print("| model | runner | inference rows/s | whole run s | score |\n|---|---|---|---|---|")
rows_out = []
for d, name, ps in [("blobs", "random forest, 3 classes, X float[N,4]", ["blobs-onnxruntime"]),
                    ("titanic", "pipeline: scaler + one-hot (strings) + LR", ["titanic-onnxruntime"])]:
    pw, pr, ps_ = py(d)
    print(f"| {name} | Python onnxruntime | {pr:,.0f} | {pw:.2f} | {ps_:.12g} |")
    for p in ps:
        w, r, s = tg(p)
        print(f"| {name} | tollgate {p.split('-')[1]} | {r:,.0f} | {w:.2f} | {s:.12g} |")
        rows_out.append((name, p, r / pr, pw / w, abs(s - ps_)))
print(f"\nOn the first 100k rows (latency check, batch rate): ONNX Runtime {rate100k('blobs-onnxruntime-speed100k'):,.0f} rows/s, tract {rate100k('blobs-tract-speed'):,.0f} rows/s")
print("\n| model | tollgate runner | rows/s ratio (tollgate / Python) | whole-run ratio (Python / tollgate) | score difference |\n|---|---|---|---|---|")
for name, p, a, b, d in rows_out:
    print(f"| {name} | {p.split('-')[1]} | {a:.2f}x | {b:.2f}x | {d:.1e} |")
PY
