"""Helpers shared by the benchmarks: run a command and sample the peak RSS of its process tree."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
FUNDGUARD = [sys.executable, "-m", "fundguard.cli.main"]


def run_measured(cmd: list[str], env: dict | None = None, ok_codes: tuple[int, ...] = (0,)) -> tuple[float, int, str]:
    """Run ``cmd``; return (seconds, peak RSS bytes of the whole process tree, combined output)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            try:
                procs = [root] + root.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    done.set()
    thread.join()
    if proc.returncode not in ok_codes:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-3000:]}")
    return time.perf_counter() - started, peak, out


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"
