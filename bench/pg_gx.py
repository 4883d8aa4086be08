#!/usr/bin/env python3
"""The shared benchmark suite (../shared/bench/suite.py, C01..C23) in Great Expectations 1.x on
its SQL engine: a PostgreSQL data source, a table asset, ONE batch, the whole suite in ONE
batch.validate(suite) call, GX's default result_format. The types of C03 are PostgreSQL's.
usage: pg_gx.py POSTGRES_URL SCHEMA.TABLE ROWS
"""
import datetime
import json
import os
import sys
import time

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench"))
import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402

import suite as S  # noqa: E402

SQL_TYPES = {"integer": "BIGINT", "float": "DOUBLE PRECISION", "string": "TEXT", "category": "TEXT", "timestamp": "TIMESTAMP WITHOUT TIME ZONE"}


def build_suite(n):
    chk = S.by_id(n)
    suite = gx.ExpectationSuite(name="transactions")
    ts_min = datetime.datetime.fromisoformat(S.TS_MIN)
    ts_max = datetime.datetime.fromisoformat(S.TS_MAX)

    def add(cid, e):
        e.meta = {"check": cid}
        suite.add_expectation(e)

    add("C01", gxe.ExpectTableRowCountToBeBetween(min_value=chk["C01"]["min"], max_value=chk["C01"]["max"]))
    add("C02", gxe.ExpectTableColumnsToMatchSet(column_set=S.COLUMNS, exact_match=True))
    for col, lt in S.LOGICAL_TYPES.items():
        add("C03", gxe.ExpectColumnValuesToBeOfType(column=col, type_=SQL_TYPES[lt]))
    add("C04", gxe.ExpectColumnValuesToNotBeNull(column="id"))
    add("C05", gxe.ExpectColumnValuesToBeUnique(column="id"))
    add("C06", gxe.ExpectColumnValuesToNotBeNull(column="amount", mostly=chk["C06"]["mostly"]))
    add("C07", gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=chk["C07"]["min"], max_value=chk["C07"]["max"]))
    add("C08", gxe.ExpectColumnMeanToBeBetween(column="amount", min_value=chk["C08"]["min"], max_value=chk["C08"]["max"]))
    add("C09", gxe.ExpectColumnStdevToBeBetween(column="amount", min_value=chk["C09"]["min"], max_value=chk["C09"]["max"]))
    add("C10", gxe.ExpectColumnValuesToBeBetween(column="age", min_value=chk["C10"]["min"], max_value=chk["C10"]["max"], mostly=chk["C10"]["mostly"]))
    add("C11", gxe.ExpectColumnMedianToBeBetween(column="age", min_value=chk["C11"]["min"], max_value=chk["C11"]["max"]))
    add("C12", gxe.ExpectColumnValuesToNotBeNull(column="country"))
    add("C13", gxe.ExpectColumnValuesToBeInSet(column="country", value_set=S.COUNTRIES))
    add("C14", gxe.ExpectColumnValuesToNotBeNull(column="email"))
    add("C15", gxe.ExpectColumnValuesToMatchRegex(column="email", regex=S.EMAIL_RE, mostly=chk["C15"]["mostly"]))
    add("C16", gxe.ExpectColumnMinToBeBetween(column="ts", min_value=ts_min))
    add("C17", gxe.ExpectColumnMaxToBeBetween(column="ts", max_value=ts_max))
    add("C18", gxe.ExpectColumnValuesToBeInSet(column="device", value_set=S.DEVICES))
    add("C19", gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0.0, max_value=1.0))
    add("C20", gxe.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1]))
    add("C21", gxe.ExpectColumnUniqueValueCountToBeBetween(column="user_id", min_value=chk["C21"]["min"], max_value=chk["C21"]["max"]))
    add("C22", gxe.ExpectColumnValuesToBeBetween(column="tenure_days", min_value=chk["C22"]["min"], max_value=chk["C22"]["max"]))
    add("C23", gxe.ExpectColumnMeanToBeBetween(column="label", min_value=chk["C23"]["min"], max_value=chk["C23"]["max"]))
    return suite


def main(url, table, n):
    schema, name = table.split(".", 1)
    t0 = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    ds = context.data_sources.add_postgres("pg", connection_string=url)
    asset = ds.add_table_asset(name="transactions", table_name=name, schema_name=schema)
    batch = asset.add_batch_definition_whole_table("whole").get_batch()
    res = batch.validate(build_suite(n))
    total = time.perf_counter() - t0
    by = {}
    for r in res.results:
        by.setdefault((r.expectation_config.meta or {}).get("check", "?"), []).append(r)
    verdicts = {}
    for cid, rs in sorted(by.items()):
        for r in rs:
            if cid == "C03" and not r.success:
                print("C03", r.expectation_config.kwargs["column"], (r.result or {}).get("observed_value"))
            if r.exception_info and r.exception_info.get("raised_exception"):
                print(f"EXCEPTION {cid}: {r.exception_info.get('exception_message')}")
        verdicts[cid] = all(r.success for r in rs)
    print(json.dumps({"tool": "gx-sql", "total_s": total, "pass": verdicts}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
