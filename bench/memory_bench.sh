#!/usr/bin/env bash
# Validating files larger than the memory given to tollgate: `tollgate validate` with the suite
# bench/memory_suite.yaml (unique, distinct_count, median, quantiles and ordinary checks) on
# ../shared/bench's transactions files of growing size, without a limit and with
# `--memory-limit LIMIT`. Wall time and peak RSS from /usr/bin/time (medians of REPS runs,
# interleaved); the findings of both runs must be identical. Data goes to $PEERS_DATA (never
# into the repository); missing sizes are generated with ../shared/bench/gen_data.py.
# usage: bench/memory_bench.sh [REPS] [LIMIT] [ROWS...]     (default: 3 256MiB 1m 4m 16m)
#        FORMATS="parquet csv" adds the CSV files.
set -u
here=$(cd "$(dirname "$0")" && pwd)
reps=${1:-3}
limit=${2:-256MiB}
shift 2 2>/dev/null || shift $#
sizes=${*:-1m 4m 16m}
formats=${FORMATS:-parquet}
data=${PEERS_DATA:-/tmp/tollgate-bench-data}
py=${PEERS_VENV:-/tmp/tollgate-peers-venv}/bin/python
bin=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-/var/tmp/tollgate-target}/release/tollgate}
out=${OUT:-/tmp/tollgate-memory-bench}
gen=${GEN:-$here/../../shared/bench/gen_data.py}
mkdir -p "$out" "$data"
rows() { case "$1" in *m) echo $(( ${1%m} * 1000000 )) ;; *) echo "$1" ;; esac; }
for s in $sizes; do
  if [ ! -f "$data/transactions_$s.parquet" ]; then
    echo "generating transactions_$s ($(rows "$s") rows)" >&2
    "$py" "$gen" --n "$(rows "$s")" --seed 42 --out "$data/transactions_$s" >&2 || exit 2
  fi
done
for r in $(seq 1 "$reps"); do
  for s in $sizes; do
    for f in $formats; do
      file=$data/transactions_$s.$f
      for mode in free limited; do
        extra=()
        [ "$mode" = limited ] && extra=(--memory-limit "$limit")
        cat "$file" > /dev/null
        /usr/bin/time -f '%e %M' -o "$out/${s}_${f}_${mode}_$r.time" \
          "$bin" validate "$file" --suite "$here/memory_suite.yaml" --format json --progress never \
          "${extra[@]}" > "$out/${s}_${f}_${mode}_$r.json" 2> "$out/${s}_${f}_${mode}_$r.err"
        rc=$?
        [ "$rc" -le 1 ] || { echo "tollgate exited $rc on $file ($mode):" >&2; cat "$out/${s}_${f}_${mode}_$r.err" >&2; }
      done
    done
  done
done
python3 - "$out" "$reps" "$limit" "$data" "$sizes" "$formats" <<'PY'
import json, os, statistics, sys
out, reps, limit, data, sizes, formats = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5].split(), sys.argv[6].split()
def run(s, f, mode, r):
    wall, kb = open(f"{out}/{s}_{f}_{mode}_{r}.time").read().split()[-2:]
    return float(wall), int(kb) / 1024
def findings(s, f, mode, r):
    try:
        doc = json.load(open(f"{out}/{s}_{f}_{mode}_{r}.json"))
    except ValueError:
        return None
    return [t["findings"] for t in doc["tests"]], [t.get("error") for t in doc["tests"]]
print(f"| file | rows | on disk MiB | no limit: wall s | no limit: peak RSS MiB | --memory-limit {limit}: wall s | peak RSS MiB | findings equal |")
print("|---|---|---|---|---|---|---|---|")
for s in sizes:
    for f in formats:
        path = f"{data}/transactions_{s}.{f}"
        row = [f"transactions_{s}.{f}", s.upper(), f"{os.path.getsize(path) / 2**20:.0f}"]
        for mode in ["free", "limited"]:
            runs = [run(s, f, mode, r) for r in range(1, reps + 1)]
            row += [f"{statistics.median(w for w, _ in runs):.2f}", f"{statistics.median(m for _, m in runs):.0f}"]
        same = all(findings(s, f, "free", r) is not None
                   and findings(s, f, "free", r) == findings(s, f, "limited", r) for r in range(1, reps + 1))
        errors = [e for r in range(1, reps + 1) for m in ["free", "limited"] for e in (findings(s, f, m, r) or ([], ["no JSON"]))[1] if e]
        row.append("yes" if same and not errors else f"NO {errors[:1]}")
        print("| " + " | ".join(row) + " |")
print()
print("runs (wall s / peak RSS MiB):")
for s in sizes:
    for f in formats:
        for mode in ["free", "limited"]:
            print(f"- {s} {f} {mode}: " + ", ".join(f"{w:.2f} / {m:.0f}" for w, m in (run(s, f, mode, r) for r in range(1, reps + 1))))
PY
