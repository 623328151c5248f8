"""Audit benchmark: the full rule library over a large synthetic city, against a plain scan.

    .venv/bin/python bench/bench_audit.py [--persons 250000] [--engine duckdb]

Loads the city into a store (reused between runs in --workdir), then times `fundguard audit --db`
and a plain scan of the fee-line columns the rules read. Prints fee lines per second and the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import FUNDGUARD, gib, run_measured  # noqa: E402

SCAN_COLUMNS = ("bkkp_sn, mdtrt_id, setl_id, psn_no, fixmedins_code, fee_ocur_time, hilist_code, med_chrgitm_type, "
                "cnt, pric, det_item_fee_sumamt, inscp_amt, bilg_dept_codg, bilg_dr_code")


VIEW_BASE = {"fg_fee": "fee_list_d"}  # working-set views: their columns are the base table's


def read_columns(con) -> dict[str, list[str]]:
    """Columns of stored tables that the working set or a rule reads, resolved through each query's scopes."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    from fundguard.engine import sqltools
    from fundguard.engine.workset import WORKSET
    from fundguard.rules.library import default_library

    stored: dict[str, set[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                     "WHERE table_schema = 'main'").fetchall():
        stored.setdefault(table, set()).add(column)
    texts = [sql for _, sql in WORKSET]
    for rule in default_library():
        texts.append(sqltools.render(rule.sql, rule.meta.param_values(None), amount=rule.meta.amount,
                                     dialect="duckdb")[0])
    read: dict[str, set[str]] = {}
    for text in texts:
        for scope in traverse_scope(sqlglot.parse_one(text, read="duckdb")):
            tables = {alias: VIEW_BASE.get(src.name, src.name) for alias, src in scope.sources.items()
                      if isinstance(src, exp.Table) and VIEW_BASE.get(src.name, src.name) in stored}
            for col in scope.columns:
                if col.table in tables:
                    owners = [tables[col.table]]
                else:
                    owners = [t for t in tables.values() if not col.table and col.name in stored[t]]
                for owner in owners:
                    if col.name in stored[owner]:
                        read.setdefault(owner, set()).add(col.name)
    return {t: sorted(c) for t, c in sorted(read.items())}


def scan_seconds(con, columns: dict[str, list[str]]) -> float:
    """A plain scan: every listed column of every table read once (max() keeps the result tiny)."""
    t = time.perf_counter()
    for table, cols in columns.items():
        con.execute(f"SELECT {', '.join(f'max({c})' for c in cols)} FROM {table}").fetchall()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--engine", default="duckdb")
    ap.add_argument("--memory-limit", default=None,
                    help="DuckDB memory limit for the audit (default: the configured FUNDGUARD_MEMORY_LIMIT)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fg-bench-audit")
    args = ap.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    city, db = work / "city", work / "bench.duckdb"
    if not db.exists():
        if not (city / "fee_list_d.parquet").exists():
            run_measured(FUNDGUARD + ["synth", "--persons", str(args.persons), "--seed", str(args.seed),
                                      "--out", str(city)])
        run_measured(FUNDGUARD + ["load", str(city), "--db", str(db)])
    con = duckdb.connect(str(db), read_only=True)
    lines = con.execute("SELECT count(*) FROM fee_list_d").fetchone()[0]
    fee_scan = min(scan_seconds(con, {"fee_list_d": SCAN_COLUMNS.split(", ")}) for _ in range(3))
    columns = read_columns(con)
    scan = min(scan_seconds(con, columns) for _ in range(3))
    con.close()
    out = work / "findings.parquet"
    env = dict(os.environ)
    if args.memory_limit:
        env["FUNDGUARD_MEMORY_LIMIT"] = args.memory_limit
    # exit code 3 = some rule failed (recorded in audit_run_rules); the figures are still worth printing
    secs, peak, text = run_measured(FUNDGUARD + ["audit", "--db", str(db), "--out", str(out), "--engine", args.engine],
                                    env=env, ok_codes=(0, 3))
    print(text[-2500:])
    print(f"memory limit {env.get('FUNDGUARD_MEMORY_LIMIT', '4GB (default)')}")
    print(f"fee lines {lines:,}; audit ({args.engine}) {secs:.1f} s = {lines / secs:,.0f} lines/s; peak RSS {gib(peak)}")
    n_cols = sum(len(c) for c in columns.values())
    print(f"plain scan of the {n_cols} columns the rules read ({len(columns)} tables, best of 3): {scan:.2f} s; "
          f"audit/scan ratio {secs / scan:.1f}×")
    print(f"(scan of the 14 main fee-line columns alone: {fee_scan:.2f} s; ratio {secs / fee_scan:.1f}×)")


if __name__ == "__main__":
    main()
