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
    t = time.perf_counter()
    con.execute(f"SELECT {', '.join(f'count(DISTINCT {c})' if c in ('mdtrt_id',) else f'max({c})' for c in SCAN_COLUMNS.split(', '))} "
                "FROM fee_list_d").fetchall()
    scan = time.perf_counter() - t
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
    print(f"plain scan of the rule columns: {scan:.2f} s; audit/scan ratio {secs / scan:.1f}×")


if __name__ == "__main__":
    main()
