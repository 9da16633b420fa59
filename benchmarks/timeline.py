"""A timeline of one cold `docgen build`: each process's start, end and CPU, and the build's
progress messages, with the load average; optionally `cProfile` of every process.

    python -m benchmarks.timeline [--profile DIR] [-- BUILD ARGS...]

The build runs in a new project with an empty docgen cache holding only (links to) the wheels,
like `benchmarks.site`'s cold row. Forked workers (analysis, study, the page-cache helper) are
followed through `multiprocessing`'s process bootstrap; `dot` runs count in the children's CPU.
With `--profile`, each process writes `DIR/<name>-<pid>.prof` (profiling about doubles CPU).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ("torch==2.13.0", "torchvision==0.28.0", "torch==2.14.1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR")
    parser.add_argument("build", nargs="*", help="more `docgen build` arguments")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks.site import cache_with_wheels
    from docgen.sources.locate import fetch_requirement

    env = cache_with_wheels([fetch_requirement(w) for w in WHEELS])
    os.environ["DOCGEN_CACHE_DIR"] = env["DOCGEN_CACHE_DIR"]
    os.chdir(tempfile.mkdtemp(prefix="docgen-bench-timeline-"))
    events = Path(tempfile.mkdtemp(prefix="docgen-timeline-")) / "events.jsonl"
    start, load = time.time(), os.getloadavg()[0]
    _follow_processes(events, start, args.profile)
    code = _build(args.build, events, start, args.profile)
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"load {load:.1f} -> {os.getloadavg()[0]:.1f}; wall {time.time() - start:.2f} s; CPU "
          f"{own.ru_utime + own.ru_stime:.2f} s here + {kids.ru_utime + kids.ru_stime:.2f} s "
          "in child processes")
    for line in events.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        print(f"{e['t']:8.2f}  pid {e['pid']:>7}  cpu {e['cpu']:6.2f}  {e['what'][:110]}")
    return code


def _event(events: Path, start: float, what: str) -> None:
    with events.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"t": round(time.time() - start, 3), "pid": os.getpid(),
                            "cpu": round(time.process_time(), 3), "what": what}) + "\n")


def _follow_processes(events: Path, start: float, profile: Path | None) -> None:
    """Each forked process notes its start and end (and CPU), profiled when asked."""
    import multiprocessing.process as mp

    original = mp.BaseProcess._bootstrap  # type: ignore[attr-defined]

    def bootstrap(self: Any, *args: Any, **kwargs: Any) -> Any:
        _event(events, start, f"start {self.name}")
        prof = cProfile.Profile() if profile is not None else None
        if prof is not None:
            prof.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            if prof is not None and profile is not None:
                prof.disable()
                prof.dump_stats(str(profile / f"{self.name}-{os.getpid()}.prof"))
            _event(events, start, f"end {self.name}")

    mp.BaseProcess._bootstrap = bootstrap  # type: ignore[attr-defined]


def _build(extra: list[str], events: Path, start: float, profile: Path | None) -> int:
    import logging

    from docgen.cli import site as cli_site
    from docgen.cli.main import main as docgen

    @contextmanager
    def progress(_args: Any) -> Any:
        yield lambda message: _event(events, start, message)

    cli_site._progress = progress  # type: ignore[assignment]

    class Noted(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            _event(events, start, "log " + record.getMessage())

    logging.getLogger().addHandler(Noted(logging.INFO))  # the CLI sets docgen's own up
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
    prof = cProfile.Profile() if profile is not None else None
    if prof is not None:
        prof.enable()
    try:
        return docgen(["build", *extra])
    finally:
        if prof is not None and profile is not None:
            prof.disable()
            prof.dump_stats(str(profile / "main.prof"))


if __name__ == "__main__":
    sys.exit(main())
