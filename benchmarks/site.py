"""The study site's build times against plain MkDocs on the same pages, in one run.

    python -m benchmarks.site [--runs 2] [--json results.json]

Rows (each a fresh process; wall seconds, CPU seconds of the whole process tree, and the
machine's load average when the row started, since this machine is shared):

- `docgen build` cold: an empty docgen cache holding only the wheels, a new project;
- `mkdocs build` of the same generated pages (the peer: what MkDocs alone costs for them,
  with docgen's built-in configuration and navigation, without docgen's hooks);
- `docgen build` with nothing changed, against `mkdocs build` of the same pages again;
- `docgen serve`, one docstring edited in a model read from a folder: seconds from the edit
  until the page served over HTTP shows it, against `mkdocs serve` of the same pages after
  one page's Markdown is edited.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ("torch==2.13.0", "torchvision==0.28.0", "torch==2.14.1")

# Runs a command and reports the CPU seconds of its whole process tree.
_WRAPPER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
r = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write("\\nCPU_S=%f\\n" % (r.ru_utime + r.ru_stime))
sys.exit(code)
"""

MODEL = '''"""A small model read from a folder, for the serve benchmark."""

from torch import nn


class Net(nn.Module):
    """{doc}"""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))
'''


@dataclass
class Row:
    name: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    def line(self) -> str:
        cpu = f"{statistics.median(self.cpu):.2f}" if self.cpu else "-"
        return (f"| {self.name} | {self.median:.2f} | {cpu} | "
                f"{min(self.load):.1f}-{max(self.load):.1f} | {len(self.wall)} |")


def _load() -> float:
    return os.getloadavg()[0]


def timed(argv: list[str], *, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree) of one command."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    cpu = next(float(x.split("=", 1)[1]) for x in proc.stderr.splitlines()
               if x.startswith("CPU_S="))
    return wall, cpu


def measure(row: Row, runs: int, once: Callable[[], tuple[float, float | None]]) -> Row:
    for _ in range(runs):
        row.load.append(_load())
        wall, cpu = once()
        row.wall.append(wall)
        if cpu is not None:
            row.cpu.append(cpu)
    print("  " + row.line(), flush=True)
    return row


def cache_with_wheels(wheels: list[Path]) -> dict[str, str]:
    """An empty docgen cache holding only (links to) the wheels."""
    folder = Path(tempfile.mkdtemp(prefix="docgen-bench-site-cache-"))
    (folder / "wheels").mkdir()
    for wheel in wheels:
        (folder / "wheels" / wheel.name).symlink_to(wheel)
    return {**os.environ, "DOCGEN_CACHE_DIR": str(folder), "PYTHONPATH": str(ROOT)}


def peer_config(project: Path) -> Path:
    """A plain mkdocs.yml for the generated pages: docgen's built-in site, the same nav."""
    import yaml

    from docgen.site.write import builtin_site_config

    docs = project / "docs" / "generated"
    nav = [{"Home": "index.md"}, {"Hierarchy": ["hierarchy/index.md", *sorted(
        p.relative_to(docs).as_posix() for p in (docs / "hierarchy").glob("*.md")
        if p.name != "index.md")]}, {"Classes": "classes/index.md"}]
    nav += [p for p in ("module-anatomy.md", "walk/index.md", "walk/backends.md")
            if (docs / p).is_file()]
    config = builtin_site_config(docs, nav)
    config["site_dir"] = str(project / "peer-site")
    path = project / "peer-mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def poll(url: str, token: str, timeout: float) -> float:
    """Seconds until `url` answers with a body holding `token`."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if token in response.read().decode("utf-8", "replace"):
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} never showed {token!r} within {timeout:.0f} s")


def serve_edit(argv: list[str], *, env: dict[str, str], cwd: Path, url: str,
               edit: Callable[[str], None], first: str, timeout: float = 600) -> float:
    """Start a server, wait for its first build, edit, return seconds until the edit shows."""
    server = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        poll(url, first, timeout)
        time.sleep(1.0)  # let the watcher settle after the first build
        token = f"edited{time.time_ns()}"
        edit(token)
        return poll(url, token, timeout)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-serve", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from docgen.sources.locate import fetch_requirement

    wheels = [fetch_requirement(w) for w in WHEELS]
    exe = [sys.executable, "-m", "docgen"]
    mkdocs = [sys.executable, "-m", "mkdocs"]
    rows: dict[str, Row] = {}
    print(f"wheels: {', '.join(w.name for w in wheels)}; {args.runs} runs; "
          f"{os.cpu_count()} cores", flush=True)

    made: list[tuple[Path, dict[str, str]]] = []

    def cold() -> tuple[float, float]:
        project = Path(tempfile.mkdtemp(prefix="docgen-bench-site-"))
        made.append((project, cache_with_wheels(wheels)))
        return timed([*exe, "-q", "build"], env=made[-1][1], cwd=project)

    rows["cold"] = measure(Row("docgen build cold"), args.runs, cold)
    project, env = made[-1]  # the last cold build's project and its (now warm) cache
    config = peer_config(project)
    rows["peer"] = measure(Row("mkdocs build, same pages (peer)"), args.runs, lambda: timed(
        [*mkdocs, "build", "-q", "-f", str(config)], env=env, cwd=project))
    rows["warm"] = measure(Row("docgen build, nothing changed"), max(3, args.runs),
                           lambda: timed([*exe, "-q", "build"], env=env, cwd=project))
    if not args.no_serve:
        rows.update(measure_serve(args.runs, wheels, exe, mkdocs, project, config, env))
    report(rows, args.json)
    return 0


def measure_serve(runs: int, wheels: list[Path], exe: list[str], mkdocs: list[str],
                  project: Path, config: Path, env: dict[str, str]) -> dict[str, Row]:
    folder = Path(tempfile.mkdtemp(prefix="docgen-bench-serve-"))
    model = folder / "src" / "benchnet" / "net.py"
    model.parent.mkdir(parents=True)
    (model.parent / "__init__.py").write_text("")
    model.write_text(MODEL.format(doc="A small network."))
    served = folder / "proj"
    served.mkdir()
    torch, vision = wheels[0], wheels[1]

    def edit_docstring(token: str) -> None:
        model.write_text(MODEL.format(doc=f"A small network, {token}."))

    def docgen_serve() -> tuple[float, None]:
        port = free_port()
        argv = [*exe, "-q", "serve", "--addr", f"127.0.0.1:{port}", "--source",
                f"torch={torch}", "--source", f"torchvision={vision}", "--source",
                f"benchnet={model.parent.parent}", "--model", "benchnet.net:Net"]
        url = f"http://127.0.0.1:{port}/classes/benchnet.net.Net.html"
        return serve_edit(argv, env=env, cwd=served, url=url, edit=edit_docstring,
                          first="A small network"), None

    page = project / "docs" / "generated" / "classes" / "torch.nn.modules.conv.Conv2d.md"
    original = page.read_text(encoding="utf-8")

    def edit_page(token: str) -> None:
        page.write_text(original.replace("# Conv2d", f"# Conv2d {token}", 1),
                        encoding="utf-8")

    def mkdocs_serve() -> tuple[float, None]:
        port = free_port()
        argv = [*mkdocs, "serve", "-q", "-f", str(config), "-a", f"127.0.0.1:{port}"]
        url = f"http://127.0.0.1:{port}/classes/torch.nn.modules.conv.Conv2d.html"
        try:
            return serve_edit(argv, env=env, cwd=project, url=url, edit=edit_page,
                              first="Conv2d"), None
        finally:
            page.write_text(original, encoding="utf-8")

    out = {"serve": measure(Row("docgen serve: docstring edit shown"), runs, docgen_serve),
           "serve_peer": measure(Row("mkdocs serve, same pages: page edit shown (peer)"),
                                 runs, mkdocs_serve)}
    shutil.rmtree(folder, ignore_errors=True)
    return out


def report(rows: dict[str, Row], json_path: Path | None) -> None:
    print("\n| measurement | median wall s | median CPU s | load average | runs |")
    print("|---|---:|---:|---|---:|")
    for row in rows.values():
        print(row.line())

    def ratio(a: str, b: str) -> str:
        return f"{rows[a].median / rows[b].median:.2f}" if a in rows and b in rows else "n/a"

    ratios = {"cold/mkdocs": ratio("cold", "peer"), "no-change/mkdocs": ratio("warm", "peer"),
              "serve/mkdocs-serve": ratio("serve", "serve_peer")}
    print("\nratios: " + ", ".join(f"{k} = {v}" for k, v in ratios.items()))
    if json_path is not None:
        data = {"rows": {k: {**asdict(v), "median": v.median} for k, v in rows.items()},
                "ratios": ratios}
        json_path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
