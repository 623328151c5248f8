"""Load benchmark: synthesise a city (default ~20 M fee lines) and load it into a fresh store.

    .venv/bin/python bench/bench_load.py [--persons 250000] [--format parquet|csv] [--memory-limit 4GB]

Prints the load time, fee lines per second and the peak RSS of the loading process, and the ratio of
the load time to a plain DuckDB scan of the same fee file (the floor for any loader).
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    ap.add_argument("--memory-limit", default="4GB")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the city here (default: a temp dir)")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="fg-bench-load-"))
    city = work / "city"
    if not (city / f"fee_list_d.{args.format}").exists():
        secs, peak, _ = run_measured(FUNDGUARD + ["synth", "--persons", str(args.persons), "--seed", str(args.seed),
                                                  "--out", str(city), "--format", args.format])
        print(f"synth: {secs:.1f} s, peak RSS {gib(peak)}")
    fee_file = city / f"fee_list_d.{args.format}"
    con = duckdb.connect()
    reader = "read_parquet" if args.format == "parquet" else "read_csv_auto"
    lines = con.execute(f"SELECT count(*) FROM {reader}('{fee_file}')").fetchone()[0]
    t = time.perf_counter()
    con.execute(f"SELECT max(bkkp_sn), max(mdtrt_id), max(fee_ocur_time), sum(det_item_fee_sumamt) "
                f"FROM {reader}('{fee_file}')").fetchall()
    scan = time.perf_counter() - t
    db = work / "bench.duckdb"
    for p in (db, db.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    env = dict(os.environ, FUNDGUARD_MEMORY_LIMIT=args.memory_limit)
    secs, peak, out = run_measured(FUNDGUARD + ["load", str(city), "--db", str(db)], env=env)
    print(f"city: {city} ({args.format}), fee lines {lines:,}")
    print(f"load (all tables): {secs:.1f} s, {lines / secs:,.0f} fee lines/s, peak RSS {gib(peak)} "
          f"(memory_limit {args.memory_limit})")
    print(f"plain scan of fee_list_d: {scan:.2f} s → load/scan ratio {secs / scan:.1f}×")
    print(f"store size: {db.stat().st_size / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
