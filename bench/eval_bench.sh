#!/usr/bin/env bash
# tollgate eval against ../shared/bench/metrics_sklearn.py on the 10M (label, score) pairs of
# transactions_10m.parquet: the same eight metrics, interleaved repetitions, medians, the ratio,
# and the values compared (relative 1e-9). usage: bench/eval_bench.sh [REPS]
set -u
here=$(cd "$(dirname "$0")" && pwd)
reps=${1:-3}
data=${PEERS_DATA:-/tmp/tollgate-bench-data}/transactions_10m.parquet
py=${PEERS_VENV:-/tmp/tollgate-peers-venv}/bin/python
bin=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-/var/tmp/tollgate-target}/release/tollgate}
out=${OUT:-/tmp/tollgate-eval-bench}
mkdir -p "$out"
metrics="--metric accuracy --metric precision --metric recall --metric f1 --metric roc_auc --metric average_precision --metric log_loss --metric brier"
for r in $(seq 1 "$reps"); do
  cat "$data" > /dev/null
  /usr/bin/time -v -o "$out/sklearn_$r.time" "$py" "$here/../../shared/bench/metrics_sklearn.py" "$data" > "$out/sklearn_$r.out" 2>&1
  cat "$data" > /dev/null
  # shellcheck disable=SC2086
  /usr/bin/time -v -o "$out/tollgate_$r.time" "$bin" eval "$data" --label label --score score $metrics --format json > "$out/tollgate_$r.out" 2>&1
done
"$py" - "$out" "$reps" <<'PY'
import json, re, statistics, sys
out, reps = sys.argv[1], int(sys.argv[2])
def timing(path):
    t = open(path).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1).split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return secs, rss
rows = {}
for tool in ["sklearn", "tollgate"]:
    ts = [timing(f"{out}/{tool}_{r}.time") for r in range(1, reps + 1)]
    rows[tool] = (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts), [round(t[0], 2) for t in ts])
sk = json.loads([l for l in open(f"{out}/sklearn_1.out") if l.startswith("RESULT_JSON ")][0][12:])["metrics"]
tg = {f["check"]: f["observed"] for f in json.load(open(f"{out}/tollgate_1.out"))["tests"][0]["findings"]}
tg["pr_auc"] = tg.pop("average_precision")
print("| tool | wall s (median) | runs | peak RSS MiB |\n|---|---|---|---|")
for tool, (w, m, all_) in rows.items():
    print(f"| {tool} | {w:.2f} | {all_} | {m:.0f} |")
print(f"\nratio sklearn / tollgate: {rows['sklearn'][0] / rows['tollgate'][0]:.1f}x wall, {rows['sklearn'][1] / rows['tollgate'][1]:.1f}x memory\n")
print("| metric | scikit-learn | tollgate | rel. difference |\n|---|---|---|---|")
worst = 0.0
for k, v in sk.items():
    d = abs(tg[k] - v) / max(abs(v), 1e-300)
    worst = max(worst, d)
    print(f"| {k} | {v!r} | {tg[k]!r} | {d:.1e} |")
print(f"\nlargest relative difference: {worst:.1e} (tollgate reports 12 significant digits)")
PY
