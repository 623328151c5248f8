"""Screening benchmark: big-data screening (indicators, screens, graph, scores) over a store.

    .venv/bin/python bench/bench_screen.py --store /tmp/fgbench/bench.duckdb [--truth DIR/ground_truth.parquet]
    .venv/bin/python bench/bench_screen.py --persons 50000 [--seed 7]            # synthesise, load, audit, screen

An existing store is never written: it is attached read-only to an in-memory database (results and the working set
live there, spilling to --workdir/tmp). Prints fee lines per second, seconds per stage and the process's peak RSS,
and, for a synthetic city, where the planted actors rank.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import gib

TABLES = ("mdtrt_d", "setl_d", "fee_list_d", "setl_list_diag_d", "setl_list_oprn_d", "medins_info", "medins_staff",
          "psn_info", "findings", "kb_relations", "load_batches")


def open_read_only(store: Path, work: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the store attached read-only and its tables visible as views."""
    con = duckdb.connect(":memory:")
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory='{(work / 'tmp').as_posix()}'")
    con.execute(f"SET memory_limit='{memory_limit}'")
    con.execute("SET preserve_insertion_order=false")
    con.execute(f"ATTACH '{store.as_posix()}' AS src (READ_ONLY)")
    have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()}
    for t in TABLES:
        if t in have:
            con.execute(f"CREATE VIEW main.{t} AS SELECT * FROM src.main.{t}")
    if "findings" not in have:
        from fundguard.engine.schema import init_engine_schema

        init_engine_schema(con)
    return con


def synth_store(persons: int, seed: int, work: Path) -> tuple[duckdb.DuckDBPyConnection, Path]:
    from fundguard.engine.runner import run_audit
    from fundguard.ingest.loader import load_dir
    from fundguard.kb.builtin import ensure_builtin
    from fundguard.store.db import connect
    from fundguard.synth import SynthConfig, generate_city

    city, db = work / f"city_{persons}_{seed}", work / f"store_{persons}_{seed}.duckdb"
    if not db.exists():
        t = time.perf_counter()
        generate_city(SynthConfig(persons=persons, seed=seed, out_dir=city))
        con = connect(db)
        load_dir(con, city)
        ensure_builtin(con)
        run_audit(con)
        print(f"prepared city ({persons:,} persons): synth + load + audit {time.perf_counter() - t:.1f} s", flush=True)
    else:
        con = connect(db)
    return con, city / "ground_truth.parquet"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, help="existing store (opened read-only)")
    ap.add_argument("--persons", type=int, default=20_000, help="synthesise a city of this many persons instead")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--truth", type=Path, help="ground_truth of the store's synthetic city (evaluates the ranking)")
    ap.add_argument("--period", default=None)
    ap.add_argument("--memory-limit", default="8GB")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fg-bench-screen")
    args, _ = ap.parse_known_args()       # bench/run.py passes every bench the same arguments
    args.workdir.mkdir(parents=True, exist_ok=True)
    truth = args.truth
    if args.store:
        con = open_read_only(args.store, args.workdir, args.memory_limit)
    else:
        con, truth = synth_store(args.persons, args.seed, args.workdir)
        truth = args.truth or truth
    lines = con.execute("SELECT count(*) FROM fee_list_d").fetchone()[0]
    proc, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.1)

    threading.Thread(target=sample, daemon=True).start()
    from fundguard.screening.runner import run_screening

    started = time.perf_counter()
    run = run_screening(con, args.period, progress=lambda stage, i, n: print(f"  [{i}/{n}] {stage}", flush=True))
    total = time.perf_counter() - started
    done.set()
    print(f"fee lines {lines:,} (screened {run.fee_lines:,}), encounters {run.encounters:,}")
    print(f"screening {total:.1f} s = {run.fee_lines / total:,.0f} fee lines/s; peak RSS {gib(peak[0])}")
    for stage, secs in run.stage_seconds.items():
        print(f"  {stage:<12} {secs:8.2f} s")
    print("scored:", run.scored)
    if truth is not None and truth.exists():
        from fundguard.screening.evaluate import evaluate_screening

        for stype, q in evaluate_screening(con, truth, run.run_id).items():
            ranks = sorted(r for r in q.ranks.values() if r)
            print(f"  {stype:<7} N={q.n_subjects:,} planted={q.k} precision@k={q.precision_at_k:.2f} "
                  f"in top 5% ({q.cut})={q.in_top}/{q.k} flagged={q.flagged} (normal {q.flagged_normal}) "
                  f"worst ranks={ranks[-5:]}")
    con.close()


if __name__ == "__main__":
    main()
