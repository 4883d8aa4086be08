#!/usr/bin/env bash
# Drift between transactions_1m and transactions_current_1m (the shared benchmark files), 8
# columns, tollgate against ../shared/bench/drift_evidently.py (Evidently's DataDriftPreset) and
# ../shared/bench/drift_scipy.py (KS / chi-square / PSI with SciPy and numpy), interleaved
# repetitions, medians, ratios, and the verdicts compared column by column.
#   tollgate-auto:  `tollgate drift` with method auto = Evidently's defaults at this size
#   tollgate-tests: one plan with the SciPy script's work: KS (numeric) / chi-square
#                   (categorical) and PSI (threshold 0.2) on every column
# usage: bench/drift_bench.sh [REPS]
set -u
here=$(cd "$(dirname "$0")" && pwd)
reps=${1:-3}
data=${PEERS_DATA:-/tmp/tollgate-bench-data}
py=${PEERS_VENV:-/tmp/tollgate-peers-venv}/bin/python
bin=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-/var/tmp/tollgate-target}/release/tollgate}
peers=$here/../../shared/bench
out=${OUT:-/tmp/tollgate-drift-bench}
mkdir -p "$out"
ref=$data/transactions_1m.parquet
cur=$data/transactions_current_1m.parquet
cols=amount,age,score,tenure_days,session_secs,country,device,label
cat > "$out/tests.yaml" <<YAML
version: 1
sources:
  ref: { path: '$ref' }
  cur: { path: '$cur' }
drift:
  tests:
    reference: ref
    current: cur
    columns: [amount, age, score, tenure_days, session_secs, country, device, label]
    per_column:
      amount: { method: ks }
      age: { method: ks }
      score: { method: ks }
      tenure_days: { method: ks }
      session_secs: { method: ks }
      country: { method: chi2 }
      device: { method: chi2 }
      label: { method: chi2 }
  psi:
    reference: ref
    current: cur
    method: psi
    threshold: 0.2
    columns: [amount, age, score, tenure_days, session_secs, country, device, label]
YAML
for r in $(seq 1 "$reps"); do
  cat "$ref" "$cur" > /dev/null
  (cd "$peers" && /usr/bin/time -v -o "$out/evidently_$r.time" "$py" drift_evidently.py "$ref" "$cur" > "$out/evidently_$r.out" 2>&1)
  (cd "$peers" && /usr/bin/time -v -o "$out/scipy_$r.time" "$py" drift_scipy.py "$ref" "$cur" > "$out/scipy_$r.out" 2>&1)
  /usr/bin/time -v -o "$out/auto_$r.time" "$bin" drift "$ref" "$cur" --columns "$cols" --format json > "$out/auto_$r.out" 2>&1
  /usr/bin/time -v -o "$out/tests_$r.time" "$bin" test "$out/tests.yaml" --format json > "$out/tests_$r.out" 2>&1
done
"$py" - "$out" "$reps" <<'PY'
import json, re, statistics, sys
out, reps = sys.argv[1], int(sys.argv[2])
def timing(p):
    t = open(p).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1).split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return secs, rss
med = {}
print("| tool | wall s (median) | runs | peak RSS MiB |\n|---|---|---|---|")
for tool in ["evidently", "scipy", "auto", "tests"]:
    ts = [timing(f"{out}/{tool}_{r}.time") for r in range(1, reps + 1)]
    med[tool] = (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
    name = {"auto": "tollgate drift (auto)", "tests": "tollgate (KS/chi2 + PSI plan)"}.get(tool, tool)
    print(f"| {name} | {med[tool][0]:.2f} | {[round(t[0], 2) for t in ts]} | {med[tool][1]:.0f} |")
print(f"\nEvidently / tollgate auto: {med['evidently'][0] / med['auto'][0]:.1f}x wall, {med['evidently'][1] / med['auto'][1]:.1f}x memory")
print(f"SciPy script / tollgate plan: {med['scipy'][0] / med['tests'][0]:.1f}x wall, {med['scipy'][1] / med['tests'][1]:.1f}x memory\n")
def rj(p):
    return json.loads([l for l in open(p) if l.startswith("RESULT_JSON ")][0][12:])
ev = rj(f"{out}/evidently_1.out")["columns"]
sp = rj(f"{out}/scipy_1.out")["columns"]
auto = {f["column"]: f for f in json.load(open(f"{out}/auto_1.out"))["tests"][0]["findings"] if f.get("column")}
tests = json.load(open(f"{out}/tests_1.out"))["tests"]
tt = {f["column"]: f for f in tests[0]["findings"] if f.get("column")}
tp = {f["column"]: f for f in tests[1]["findings"] if f.get("column")}
print("| column | Evidently score / drift | tollgate auto | SciPy test p / drift | tollgate test p | SciPy PSI | tollgate PSI |\n|---|---|---|---|---|---|---|")
agree = 0; total = 0
for c in ["amount", "age", "score", "tenure_days", "session_secs", "country", "device", "label"]:
    e, a = ev[c], auto[c]
    s = sp[c]
    t, p = tt[c], tp[c]
    a_d = a["status"] == "warned"; t_d = t["status"] == "warned"; p_d = p["status"] == "warned"
    sp_p, sp_drift = s["p_value"], s["drift_test"]
    for x, y in [(e["drift"], a_d), (sp_drift, t_d), (s["drift_psi"], p_d)]:
        total += 1; agree += int(x == y)
    print(f"| {c} | {e['score']:.6g} / {e['drift']} | {a['observed']:.6g} / {a_d} | {sp_p:.6g} / {sp_drift} | {t['observed']['p_value']:.6g} / {t_d} | {s['psi']:.6g} | {p['observed']:.6g} |")
print(f"\nverdicts agreeing: {agree} of {total}")
PY
