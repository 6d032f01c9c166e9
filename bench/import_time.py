"""Cold-start cost of `import app` against a bare `import chalice, boto3`.

    python bench/import_time.py [--runs 15]

Each measurement is a fresh interpreter (as a Lambda cold start is); prints the median
of each and the difference. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def measure(statement: str, runs: int) -> float:
    timings = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE.format(stmt=statement)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        timings.append(float(out.stdout.strip()))
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    baseline = measure("import chalice, boto3", args.runs)
    app = measure("import app", args.runs)
    print(f"import chalice, boto3 : {baseline * 1000:7.1f} ms (median of {args.runs})")
    print(f"import app            : {app * 1000:7.1f} ms (median of {args.runs})")
    print(f"difference            : {(app - baseline) * 1000:+7.1f} ms")


if __name__ == "__main__":
    main()
