"""Benchmark of the synthetic city generator: fee lines per minute and peak memory (RSS incl. children).

Usage: .venv/bin/python bench/bench_synth.py [--persons N] [--seed S] [--fmt parquet|csv] [--rate R]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import psutil

from fundguard.synth import SynthConfig, generate_city


def _rss_tree(proc: psutil.Process) -> int:
    total = proc.memory_info().rss
    for ch in proc.children(recursive=True):
        try:
            total += ch.memory_info().rss
        except psutil.Error:
            pass
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description="合成城市生成基准测试")
    ap.add_argument("--persons", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--fmt", default="parquet")
    ap.add_argument("--rate", type=float, default=0.02)
    args = ap.parse_args()
    proc = psutil.Process()
    peak = [_rss_tree(proc)]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_tree(proc))
            time.sleep(0.2)
    th = threading.Thread(target=watch, daemon=True)
    th.start()
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        s = generate_city(SynthConfig(persons=args.persons, seed=args.seed, out_dir=Path(d) / "city", fmt=args.fmt,
                                      violation_rate=args.rate))
        secs = time.perf_counter() - t
        size = sum(p.stat().st_size for p in (Path(d) / "city").iterdir())
    stop.set()
    th.join()
    print(f"persons        {args.persons}")
    print(f"fee lines      {s.fee_lines}")
    print(f"encounters     {s.rows.get('mdtrt_d', 0)}")
    print(f"seconds        {secs:.1f}")
    print(f"lines/s        {s.fee_lines / secs:,.0f}")
    print(f"lines/min      {s.fee_lines / secs * 60:,.0f}")
    print(f"peak RSS (MB)  {peak[0] / 2**20:,.0f}")
    print(f"output (MB)    {size / 2**20:,.0f}")
    print(f"gt rows        {s.rows.get('ground_truth', 0)}")


if __name__ == "__main__":
    main()
