#!/usr/bin/env bash
# Profiling 10M rows: `tollgate profile` against pandas (`read_parquet` + `describe(include="all")`)
# and polars (`read_parquet` + `describe()`), on transactions_10m.parquet of ../shared/bench.
# tollgate computes more (exact distinct counts, top values, histograms, lengths, patterns);
# the peers' describe() is what their users run. Interleaved repetitions, medians, peak RSS.
# usage: bench/profile_bench.sh [REPS]
set -u
reps=${1:-3}
data=${PEERS_DATA:-/tmp/tollgate-bench-data}/transactions_10m.parquet
py=${PEERS_VENV:-/tmp/tollgate-peers-venv}/bin/python
bin=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-/var/tmp/tollgate-target}/release/tollgate}
out=${OUT:-/tmp/tollgate-profile-bench}
mkdir -p "$out"
for r in $(seq 1 "$reps"); do
  cat "$data" > /dev/null
  /usr/bin/time -v -o "$out/tollgate_$r.time" "$bin" profile "$data" --format json > "$out/tollgate_$r.out" 2>&1
  /usr/bin/time -v -o "$out/pandas_$r.time" "$py" -c "import pandas as pd, sys; print(pd.read_parquet(sys.argv[1]).describe(include='all').to_string())" "$data" > "$out/pandas_$r.out" 2>&1
  /usr/bin/time -v -o "$out/polars_$r.time" "$py" -c "import polars as pl, sys; pl.Config.set_tbl_cols(-1); print(pl.read_parquet(sys.argv[1]).describe())" "$data" > "$out/polars_$r.out" 2>&1
done
"$py" - "$out" "$reps" <<'PY'
import re, statistics, sys
out, reps = sys.argv[1], int(sys.argv[2])
def timing(p):
    t = open(p).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1).split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return secs, rss
med = {}
print("| 10M rows, 12 columns | wall s (median) | runs | peak RSS MiB |\n|---|---|---|---|")
for tool in ["tollgate", "pandas", "polars"]:
    ts = [timing(f"{out}/{tool}_{r}.time") for r in range(1, reps + 1)]
    med[tool] = (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
    print(f"| {tool} | {med[tool][0]:.2f} | {[round(t[0], 2) for t in ts]} | {med[tool][1]:.0f} |")
for peer in ["pandas", "polars"]:
    print(f"\n{peer} / tollgate: {med[peer][0] / med['tollgate'][0]:.2f}x wall, {med[peer][1] / med['tollgate'][1]:.2f}x memory")
PY
