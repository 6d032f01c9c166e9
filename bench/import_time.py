"""Cold-start cost of `import app` against a bare `import chalice, boto3`, and per domain.

    python bench/import_time.py [--runs 15] [--profile-runs 7]

Each measurement is a fresh interpreter (as a Lambda cold start is), the two statements
taking turns so that other load on the machine slows both alike; prints the median of each,
the median of the runs' ratios (the goal is <= 1.3, however many routes there are) and, from
`python -X importtime -c "import app"`, what each `chalicelib` package costs: its own modules'
time ("own") and that plus the libraries it was first to import ("with libraries"; a library
shared by several packages counts for the first that imports it), and what declaring a route
costs: the `routes` and `schemas` modules' own time over the number of operations (routes name
their models, so `import app` imports no schema module and that is the routes' alone), and the
`events` modules' over the event models they create at import. Not a test: numbers depend on
the machine.

Bytecode is cached (in a temporary PYTHONPYCACHEPREFIX, warmed by one run of each) for the
baseline's libraries and the app alike: a machine that sets PYTHONDONTWRITEBYTECODE would
otherwise compile every chalicelib module on every run while the libraries keep pip's .pyc.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
GOAL = 1.3
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def measure(statement: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE.format(stmt=statement)], cwd=ROOT, env=ENV,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _package(module: str) -> str | None:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "chalicelib" and len(parts) > 1 else None


def package_costs(importtime: str) -> dict[str, tuple[int, int]]:
    """Microseconds per chalicelib package: (own modules, own modules + libraries it loaded first).

    -X importtime prints a module after the modules it imported, indented one step deeper;
    a module's self time goes to the nearest chalicelib package among itself and its importers."""
    modules: list[tuple[str, int, int]] = []  # (name, self µs, depth) in the order printed
    for line in importtime.splitlines():
        match = _LINE.match(line)
        if match:
            modules.append((match[4], int(match[1]), len(match[3]) // 2))
    owner: list[str | None] = [None] * len(modules)
    # Walk from the end: a module's importer is the next line after it with a smaller depth.
    stack: list[tuple[int, str | None]] = []  # (depth, owning package) of the importers above
    for index in range(len(modules) - 1, -1, -1):
        name, _, depth = modules[index]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        inherited = stack[-1][1] if stack else None
        owner[index] = _package(name) or inherited
        stack.append((depth, owner[index]))
    own: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for (name, self_us, _), package in zip(modules, owner, strict=True):
        if package is None:
            continue
        total[package] += self_us
        if _package(name) == package:
            own[package] += self_us
    return {package: (own[package], total[package]) for package in total}


def modules_cost(importtime: str, kind: str) -> int:
    """Microseconds of the ``chalicelib.<package>.<kind>`` modules' own code."""
    return sum(int(match[1]) for match in map(_LINE.match, importtime.splitlines())
               if match and re.fullmatch(rf"chalicelib\.\w+\.{kind}", match[4]))


COUNTS = """
import app
from pydantic import BaseModel
def models(cls):
    return [m for sub in cls.__subclasses__() for m in (sub, *models(sub))]
print(sum(map(len, app.app.routes.values())),
      len({m for m in models(BaseModel) if m.__module__.startswith("chalicelib") and m.__module__.endswith("events")}))
"""


def counts() -> tuple[int, int]:
    """The app's operations, and the event models created by ``import app``."""
    out = subprocess.run([sys.executable, "-c", COUNTS], cwd=ROOT, env=ENV, capture_output=True, text=True,
                         check=True)
    operations, events = out.stdout.split()
    return int(operations), int(events)


def profile(runs: int) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Per package (own ms, with libraries ms), and the routes+schemas and events modules' own ms;
    medians."""
    samples: dict[str, list[tuple[int, int]]] = defaultdict(list)
    kinds: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=ROOT, env=ENV,
                             capture_output=True, text=True, check=True)
        for package, cost in package_costs(out.stderr).items():
            samples[package].append(cost)
        kinds["routes"].append(modules_cost(out.stderr, "routes") + modules_cost(out.stderr, "schemas"))
        kinds["events"].append(modules_cost(out.stderr, "events"))
    packages = {package: (statistics.median(c[0] for c in costs) / 1000,
                          statistics.median(c[1] for c in costs) / 1000)
                for package, costs in samples.items()}
    return packages, {kind: statistics.median(costs) / 1000 for kind, costs in kinds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--profile-runs", type=int, default=7)
    args = parser.parse_args()
    ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="agora-bench-pyc-")
    measure("import chalice, boto3")
    measure("import app")  # both compiled once, as on a machine that has run them before
    pairs = [(measure("import chalice, boto3"), measure("import app")) for _ in range(args.runs)]
    baseline = statistics.median(b for b, _ in pairs)
    app = statistics.median(a for _, a in pairs)
    ratio = statistics.median(a / b for b, a in pairs)
    print(f"import chalice, boto3 : {baseline * 1000:7.1f} ms (median of {args.runs})")
    print(f"import app            : {app * 1000:7.1f} ms (median of {args.runs})")
    print(f"difference            : {(app - baseline) * 1000:+7.1f} ms")
    verdict = "met" if ratio <= GOAL else "NOT met"
    print(f"ratio                 : {ratio:7.2f}   (median of the runs' ratios; goal <= {GOAL}: {verdict})")
    print()
    packages, kinds = profile(args.profile_runs)
    print(f"per package, median of {args.profile_runs} runs of -X importtime (ms):")
    print(f"  {'package':<24} {'own':>7} {'with libraries':>15}")
    for package, (own, total) in sorted(packages.items(), key=lambda item: -item[1][1]):
        print(f"  {package:<24} {own:7.1f} {total:15.1f}")
    operations, events = counts()
    print()
    print(f"routes + schemas      : {kinds['routes']:7.1f} ms own for {operations} operations "
          f"({kinds['routes'] / operations * 1000:.0f} µs a route)")
    print(f"events modules        : {kinds['events']:7.1f} ms own for {events} event models created at import "
          f"({kinds['events'] / events * 1000:.0f} µs an event)")


if __name__ == "__main__":
    main()
