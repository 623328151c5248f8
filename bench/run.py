"""Run every benchmark in turn (`make bench`). Each prints its own figures."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["bench_synth.py", "bench_load.py", "bench_audit.py", "bench_screen.py", "bench_realtime.py"]

if __name__ == "__main__":
    for name in BENCHES:
        path = HERE / name
        if not path.exists():
            continue
        print(f"==== {name}", flush=True)
        subprocess.run([sys.executable, str(path), *sys.argv[1:]], check=True)
