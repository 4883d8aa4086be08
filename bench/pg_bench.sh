#!/usr/bin/env bash
# The shared 23-check suite on a PostgreSQL table of 10M rows (transactions_10m of
# ../shared/bench, loaded once by this script into bench.transactions_10m):
#   tollgate-pushdown: `tollgate test bench/pg_10m.yaml`, one aggregate query inside PostgreSQL
#   pull-and-validate: `\copy (SELECT * ...) TO file.csv`, then `tollgate validate file.csv`
#   gx-sql:            Great Expectations 1.x on its SQL engine (bench/pg_gx.py)
# Interleaved repetitions, medians; the verdicts of each tool per check.
# usage: PG_URL=postgres://user:pass@host/db bench/pg_bench.sh [REPS]
set -u
here=$(cd "$(dirname "$0")" && pwd)
reps=${1:-3}
url=${PG_URL:-postgres://tollgate:tollgate@localhost:5432/tollgate}
data=${PEERS_DATA:-/tmp/tollgate-bench-data}
py=${PEERS_VENV:-/tmp/tollgate-peers-venv}/bin/python
bin=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-/var/tmp/tollgate-target}/release/tollgate}
out=${OUT:-/tmp/tollgate-pg-bench}
mkdir -p "$out"
if ! psql "$url" -tAc "SELECT count(*) FROM bench.transactions_10m" 2>/dev/null | grep -q '^10000000$'; then
  psql "$url" -qc "CREATE SCHEMA IF NOT EXISTS bench; DROP TABLE IF EXISTS bench.transactions_10m; CREATE TABLE bench.transactions_10m (id bigint, user_id bigint, amount double precision, age bigint, country text, email text, ts timestamp, device text, score double precision, label bigint, tenure_days bigint, session_secs double precision)"
  psql "$url" -qc "\\copy bench.transactions_10m FROM '$data/transactions_10m.csv' CSV HEADER"
  psql "$url" -qc "ANALYZE bench.transactions_10m"
fi
export TOLLGATE_BENCH_PG_URL=$url
sqla_url=${url/postgres:\/\//postgresql+psycopg2://}
t() { /usr/bin/time -f "%e %M" -o "$1" "${@:2}"; }
for r in $(seq 1 "$reps"); do
  t "$out/push_$r.time" "$bin" test "$here/pg_10m.yaml" --format json > "$out/push_$r.json"
  t "$out/pull_$r.time" bash -c "psql '$url' -qc \"\\copy (SELECT * FROM bench.transactions_10m) TO '$out/pulled.csv' CSV HEADER\" && '$bin' validate '$out/pulled.csv' --suite '$here/transactions_10m.yaml' --format json > '$out/pull_$r.json'"
  t "$out/gx_$r.time" "$py" "$here/pg_gx.py" "$sqla_url" bench.transactions_10m 10000000 > "$out/gx_$r.out" 2>&1
done
"$py" - "$out" "$reps" "$here" <<'PY'
import json, statistics, subprocess, sys, os
out, reps, here = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def wall(p):
    s, kb = open(p).read().split()[-2:]
    return float(s), int(kb) / 1024
med = {}
print("| 23 checks on a 10M-row PostgreSQL table | wall s (median) | runs | client peak RSS MiB |\n|---|---|---|---|")
for tool, name in [("push", "tollgate push-down"), ("pull", "pull rows (psql \\copy) + tollgate validate"), ("gx", "Great Expectations SQL engine")]:
    ts = [wall(f"{out}/{tool}_{r}.time") for r in range(1, reps + 1)]
    med[tool] = statistics.median(t[0] for t in ts)
    print(f"| {name} | {med[tool]:.2f} | {[round(t[0], 2) for t in ts]} | {statistics.median(t[1] for t in ts):.0f} |")
print(f"\npull / push-down: {med['pull'] / med['push']:.2f}x; GX / push-down: {med['gx'] / med['push']:.2f}x")
def verdicts(path):
    env = dict(os.environ, START="0", END="0", FILE=path)
    r = subprocess.run([sys.executable, f"{here}/map_results.py"], input=open(path).read(), capture_output=True, text=True, env=env)
    return {l.split()[0]: l.split()[1] == "PASS" for l in r.stdout.splitlines() if l.startswith("C")}
push, pull = verdicts(f"{out}/push_1.json"), verdicts(f"{out}/pull_1.json")
gx = json.loads([l for l in open(f"{out}/gx_1.out") if l.startswith("{")][-1])["pass"]
print("\n| check | push-down | pulled + local | GX SQL |\n|---|---|---|---|")
same = 0
for c in sorted(push):
    row = [push[c], pull.get(c), gx.get(c)]
    same += len(set(row)) == 1
    print(f"| {c} | " + " | ".join("pass" if v else "FAIL" for v in row) + " |")
print(f"\nchecks where all three agree: {same} of {len(push)}")
PY
