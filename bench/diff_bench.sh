#!/usr/bin/env bash
# Diff of 10M rows against 10M rows, keyed on `id`: `tollgate diff` against datacompy (the
# pandas-based dataset comparison many teams use) and a hand-written polars join, on
# transactions_10m.parquet of ../shared/bench and a copy with known changes (made once by
# this script): `amount` + 0.01 where id % 1000 == 0, `country` = 'XX' where id % 5000 == 1,
# rows with id % 100000 == 7 removed, 50 rows added. Interleaved repetitions, medians, peak
# RSS, and the counts of each tool compared.
# usage: bench/diff_bench.sh [REPS]
set -u
reps=${1:-3}
data=${PEERS_DATA:-/tmp/tollgate-bench-data}
py=${PEERS_VENV:-/tmp/tollgate-peers-venv}/bin/python
bin=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-/var/tmp/tollgate-target}/release/tollgate}
out=${OUT:-/tmp/tollgate-diff-bench}
mkdir -p "$out"
expected=$data/transactions_10m.parquet
actual=$data/transactions_10m_changed.parquet
if [ ! -f "$actual" ]; then
  "$py" - "$expected" "$actual" <<'PY'
import sys, polars as pl
df = pl.read_parquet(sys.argv[1])
df = df.with_columns(
    pl.when(pl.col("id") % 1000 == 0).then(pl.col("amount") + 0.01).otherwise(pl.col("amount")).alias("amount"),
    pl.when(pl.col("id") % 5000 == 1).then(pl.lit("XX")).otherwise(pl.col("country")).alias("country"),
).filter(pl.col("id") % 100000 != 7)
extra = df.head(50).with_columns((pl.col("id") + 1_000_000_000).alias("id"))
pl.concat([df, extra]).write_parquet(sys.argv[2])
PY
fi
cat > "$out/datacompy_run.py" <<'PY'
import json, sys, pandas as pd, datacompy
e, a = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
c = datacompy.PandasCompare(e, a, join_columns="id", abs_tol=0, rel_tol=0)
stats = {s["column"]: int(s["unequal_cnt"]) for s in c.column_stats}
print(json.dumps({"only_expected": len(c.df1_unq_rows), "only_actual": len(c.df2_unq_rows), "mismatches": stats}))
PY
cat > "$out/polars_run.py" <<'PY'
import json, sys, polars as pl
e, a = pl.scan_parquet(sys.argv[1]), pl.scan_parquet(sys.argv[2])
cols = [c for c in e.collect_schema().names() if c != "id"]
j = e.join(a, on="id", how="full", suffix="_a", coalesce=False)
exprs = [pl.col("id").is_null().sum().alias("__only_a"), pl.col("id_a").is_null().sum().alias("__only_e")]
both = pl.col("id").is_not_null() & pl.col("id_a").is_not_null()
for c in cols:
    x, y = pl.col(c), pl.col(c + "_a")
    if str(e.collect_schema()[c]) == "Categorical":
        x, y = x.cast(pl.String), y.cast(pl.String)
    differs = (x != y).fill_null(x.is_null() != y.is_null())
    exprs.append((both & differs).sum().alias(c))
r = j.select(exprs).collect().to_dicts()[0]
print(json.dumps({"only_expected": r.pop("__only_e"), "only_actual": r.pop("__only_a"), "mismatches": r}))
PY
for r in $(seq 1 "$reps"); do
  cat "$expected" "$actual" > /dev/null
  /usr/bin/time -v -o "$out/tollgate_$r.time" "$bin" diff "$expected" "$actual" --key id --format json > "$out/tollgate_$r.out" 2>&1
  /usr/bin/time -v -o "$out/polars_$r.time" "$py" "$out/polars_run.py" "$expected" "$actual" > "$out/polars_$r.out" 2>&1
  if [ "$r" -le "${DATACOMPY_REPS:-1}" ]; then
    /usr/bin/time -v -o "$out/datacompy_$r.time" "$py" "$out/datacompy_run.py" "$expected" "$actual" > "$out/datacompy_$r.out" 2>&1
  fi
done
"$py" - "$out" "$reps" "${DATACOMPY_REPS:-1}" <<'PY'
import json, re, statistics, sys
out, reps, dreps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def timing(p):
    t = open(p).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1).split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return secs, rss
med = {}
print("| 10M vs 10M rows, key id | wall s (median) | runs | peak RSS MiB |\n|---|---|---|---|")
for tool, n in [("tollgate", reps), ("polars", reps), ("datacompy", dreps)]:
    ts = [timing(f"{out}/{tool}_{r}.time") for r in range(1, n + 1)]
    med[tool] = (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
    print(f"| {tool} | {med[tool][0]:.2f} | {[round(t[0], 2) for t in ts]} | {med[tool][1]:.0f} |")
for peer in ["polars", "datacompy"]:
    print(f"\n{peer} / tollgate: {med[peer][0] / med['tollgate'][0]:.2f}x wall, {med[peer][1] / med['tollgate'][1]:.2f}x memory")
t = json.load(open(f"{out}/tollgate_1.out"))["tests"][0]["findings"]
mine = {"only_expected": 0, "only_actual": 0, "mismatches": {}}
for f in t:
    if f["check"] == "keys_only_in_expected": mine["only_expected"] = f["observed"]
    if f["check"] == "keys_only_in_actual": mine["only_actual"] = f["observed"]
    if f["check"] == "values_equal": mine["mismatches"][f["column"]] = f["observed"]
print("\n| counts | tollgate | polars | datacompy |\n|---|---|---|---|")
peers = {p: json.loads(open(f"{out}/{p}_1.out").read().strip().splitlines()[-1]) for p in ["polars", "datacompy"]}
agree = True
for k in ["only_expected", "only_actual"]:
    vals = [mine[k], peers["polars"][k], peers["datacompy"][k]]
    agree &= len(set(vals)) == 1
    print(f"| {k} | " + " | ".join(map(str, vals)) + " |")
for c in mine["mismatches"]:
    vals = [mine["mismatches"][c], peers["polars"]["mismatches"].get(c), peers["datacompy"]["mismatches"].get(c)]
    agree &= len(set(vals)) == 1
    print(f"| {c} | " + " | ".join(map(str, vals)) + " |")
print(f"\nall counts equal: {agree}")
PY
