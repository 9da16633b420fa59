"""Start-up of the command line: `docgen --version` and a warm `docgen show`, each as a ratio
against `python -c pass` measured the same way in the same run.

    python -m benchmarks.startup --runs 20

Each run is one fresh process timed around the whole process (no wrapper), the median is
reported. The warm `show` first runs once to fill the cache, then reads it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Targets of issue 11 on the project's 2-core machine (seconds).
TARGETS = {"version": 0.06, "show": 0.25}


def wall(argv: list[str], runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_startup(runs: int) -> dict[str, float]:
    py = sys.executable
    docgen = [py, "-m", "docgen"]
    subprocess.run([*docgen, "-q", "show", "torch.nn.Conv2d"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return {
        "pass": wall([py, "-c", "pass"], runs),
        "version": wall([*docgen, "--version"], runs),
        "show": wall([*docgen, "show", "torch.nn.Conv2d"], runs),
    }


def report(results: dict[str, float]) -> list[str]:
    lines = ["| measurement | median s | / python -c pass | target s |", "|---|---:|---:|---:|"]
    names = {"pass": "python -c pass", "version": "docgen --version",
             "show": "docgen show torch.nn.Conv2d (warm)"}
    for key, seconds in results.items():
        target = TARGETS.get(key)
        lines.append(f"| {names[key]} | {seconds:.3f} | {seconds / results['pass']:.2f} | "
                     f"{'' if target is None else f'{target:.2f}'} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    print("\n".join(report(measure_startup(args.runs))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
