"""Map tollgate's JSON findings of bench/transactions_*.yaml to the shared suite's ids C01..C23
and print the same lines as ../shared/bench/suite.py's emit()."""
import json
import os
import sys

doc = json.load(sys.stdin)
findings = doc["tests"][0]["findings"]


def find(check, column=None):
    for f in findings:
        if f["check"] == check and f.get("column") == column:
            return f
    raise SystemExit(f"no finding {check} {column}")


def res(cid, f, observed=None):
    if observed is None:
        observed = f.get("unexpected_count", f.get("observed"))
    return {"id": cid, "pass": f["status"] == "passed", "observed": observed}


types = [f for f in findings if f["check"] == "type"]
out = [
    res("C01", find("row_count")),
    res("C02", find("columns"), []),
    {"id": "C03", "pass": all(f["status"] == "passed" for f in types), "observed": "ok"},
    res("C04", find("not_null", "id")),
    res("C05", find("unique", "id")),
    res("C06", find("not_null", "amount")),
    res("C07", find("between", "amount")),
    res("C08", find("mean", "amount"), find("mean", "amount")["observed"]),
    res("C09", find("stdev", "amount"), find("stdev", "amount")["observed"]),
    res("C10", find("between", "age")),
    res("C11", find("median", "age"), find("median", "age")["observed"]),
    res("C12", find("not_null", "country")),
    res("C13", find("in_set", "country")),
    res("C14", find("not_null", "email")),
    res("C15", find("matches", "email")),
    res("C16", find("min", "ts"), find("min", "ts")["observed"]),
    res("C17", find("max", "ts"), find("max", "ts")["observed"]),
    res("C18", find("in_set", "device")),
    res("C19", find("between", "score")),
    res("C20", find("in_set", "label")),
    res("C21", find("distinct_count", "user_id"), find("distinct_count", "user_id")["observed"]),
    res("C22", find("between", "tenure_days")),
    res("C23", find("mean", "label"), find("mean", "label")["observed"]),
]
path = os.environ["FILE"]
for r in out:
    print(f"{r['id']} {'PASS' if r['pass'] else 'FAIL'}  observed={r.get('observed')}")
total = float(os.environ["END"]) - float(os.environ["START"])
print(f"SUMMARY tool=tollgate file={os.path.basename(path)} checks={len(out)} "
      f"failed={sum(1 for r in out if not r['pass'])} total_s={total:.3f}")
print("RESULT_JSON " + json.dumps({"tool": "tollgate", "file": os.path.basename(path),
                                   "timings": {"total_s": total, "import_s": 0.0}, "results": out}))
