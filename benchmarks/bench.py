"""docgen against its peers, measured side by side in one run on the same sources.

    python -m benchmarks.bench [--runs 3] [--json results.json] [--no-peers] [--no-torch]

Peers: pyreverse (pylint) writing DOT for torch/nn, griffe loading torch.nn; floor: ast.parse of
the same files. docgen: cold analysis (empty cache), warm analysis (nothing changed), analysis
after one file changed, `docgen build` cold and with nothing changed, and all of torch cold and
warm. Every measurement runs in a fresh subprocess (as a user's command would); wall time is
measured around the work inside the child, peak memory (max RSS) from the child's rusage.
Prints a table of medians and the ratios docgen/pyreverse, docgen/griffe, docgen/floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCH = "torch==2.13.0"
TORCHVISION = "torchvision==0.28.0"


@dataclass
class Result:
    name: str
    seconds: list[float]
    peak_mb: list[float]
    note: str = ""
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peak_mb)


# Runs a command as its child and reports the largest resident set among its descendants.
_WRAPPER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write("\\nMAXRSS_KB=%d\\n" % usage.ru_maxrss)
sys.stderr.write("CPU_S=%f\\n" % (usage.ru_utime + usage.ru_stime))
sys.exit(code)
"""


# (wall seconds, peak MB, stdout, CPU seconds of the whole process tree)
Run = tuple[float, float, str, float]


def run_child(code: str, env: dict[str, str] | None = None, cwd: Path | None = None,
              argv: list[str] | None = None) -> Run:
    """Run python `code` (or `argv`) in a child; returns (seconds, peak MB, stdout, CPU s).

    Python children print `SECONDS=<float>` for the timed part; other commands are timed
    around the whole process. Peak memory is the largest process of the child's tree.
    """
    cmd = argv or [sys.executable, "-c", code]
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], capture_output=True,
                          env=full_env, cwd=cwd, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    seconds = wall
    for line in proc.stdout.splitlines():
        if line.startswith("SECONDS="):
            seconds = float(line.split("=", 1)[1])
    peak = cpu = 0.0
    for line in proc.stderr.splitlines():
        if line.startswith("MAXRSS_KB="):
            peak = int(line.split("=", 1)[1]) / 1024
        elif line.startswith("CPU_S="):
            cpu = float(line.split("=", 1)[1])
    return seconds, peak, proc.stdout, cpu


def measure(name: str, runs: int, make: Callable[[], Run], note: str = "") -> Result:
    seconds, peaks, cpus = [], [], []
    for _ in range(runs):
        s, p, _, c = make()
        seconds.append(s)
        peaks.append(p)
        cpus.append(c)
    res = Result(name, seconds, peaks, note, cpus)
    print(f"  {name:<38} median {res.median:8.3f} s   peak {res.peak:8.1f} MB   "
          f"CPU {statistics.median(cpus):8.3f} s   load {os.getloadavg()[0]:.1f}", flush=True)
    return res


def extract(wheel: Path, dest: Path, prefixes: tuple[str, ...]) -> None:
    marker = dest / f".done-{wheel.name}"
    if marker.exists():
        return
    with zipfile.ZipFile(wheel) as zf:
        for member in zf.namelist():
            if member.endswith(".py") and member.startswith(prefixes) and ".." not in member:
                target = dest / member
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(member))
    marker.write_text("ok")


PARSE_FLOOR = """
import ast, pathlib, sys, time
files = [p for root in sys.argv[1:] for p in sorted(pathlib.Path(root).rglob('*.py'))]
texts = [p.read_bytes() for p in files]
t = time.perf_counter()
for text in texts:
    try:
        ast.parse(text)
    except SyntaxError:
        pass
print(f"SECONDS={time.perf_counter() - t}")
"""

GRIFFE = """
import sys, time, griffe
t = time.perf_counter()
griffe.load("torch.nn", search_paths=[sys.argv[1]], resolve_aliases=False)
print(f"SECONDS={time.perf_counter() - t}")
"""

DOCGEN = """
import json, sys, time
t = time.perf_counter()
from docgen.classes.cache import AnalysisCache
from docgen.core.config import Config
from docgen.classes.project import load_project
from docgen.sources.locate import SourceSpec, cache_dir
args = json.loads(sys.argv[1])
cfg = Config(model=args["model"], packages=tuple(args["packages"]),
             sources=tuple(SourceSpec(k, v) for k, v in args["sources"].items()))
cache = AnalysisCache(cache_dir())
project = load_project(cfg, cache=cache)
print(f"SECONDS={time.perf_counter() - t}")
print("CLASSES=%d MISSES=%d HITS=%d DIAGNOSTICS=%d" % (
    len(project.views), cache.misses, cache.hits, len(project.diagnostics)))
"""


def docgen_args(sources: dict[str, str], packages: tuple[str, ...], model: str) -> str:
    return json.dumps({"sources": sources, "packages": list(packages), "model": model})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-torch", action="store_true", help="skip whole-torch runs")
    parser.add_argument("--no-build", action="store_true", help="skip docgen build runs")
    parser.add_argument("--no-startup", action="store_true", help="skip start-up runs")
    parser.add_argument("--no-summary", action="store_true", help="skip docgen summary runs")
    parser.add_argument("--scale", default=None, metavar="PACKAGE=WHEEL",
                        help="also snapshot a large package cold (transformers: "
                             "pip download --no-deps transformers)")
    parser.add_argument("--scale-only", action="store_true",
                        help="measure only the --scale rows and their peers")
    args = parser.parse_args(argv)
    if args.scale_only:
        if not args.scale:
            parser.error("--scale-only needs --scale PACKAGE=WHEEL")
        return scale_main(args)

    sys.path.insert(0, str(ROOT))
    from docgen.sources.locate import cache_dir, fetch_requirement

    torch_whl, vision_whl = fetch_requirement(TORCH), fetch_requirement(TORCHVISION)
    scratch = cache_dir() / "bench" / "src"
    extract(torch_whl, scratch, ("torch/",))
    extract(vision_whl, scratch, ("torchvision/",))
    wheels = {"torch": str(torch_whl), "torchvision": str(vision_whl)}
    nn_files = [str(scratch / "torch" / "nn"), str(scratch / "torchvision/models/alexnet.py")]
    runs = args.runs
    results: dict[str, Result] = {}

    def fresh_cache() -> dict[str, str]:
        d = tempfile.mkdtemp(prefix="docgen-bench-cache-")
        os.makedirs(f"{d}/wheels")
        return {"DOCGEN_CACHE_DIR": d}

    print(f"sources: {torch_whl.name}, {vision_whl.name}; {runs} runs each", flush=True)
    results["floor"] = measure("ast.parse floor (torch.nn+alexnet)", runs, lambda: run_child(
        "", argv=[sys.executable, "-c", PARSE_FLOOR, *nn_files]))
    if not args.no_peers:
        pyrev = shutil.which("pyreverse")
        if pyrev:
            out = Path(tempfile.mkdtemp(prefix="pyrev-"))
            results["pyreverse"] = measure("pyreverse -o dot torch/nn", runs, lambda: run_child(
                "", argv=[pyrev, "-o", "dot", "-p", "torchnn", "-d", str(out),
                          str(scratch / "torch" / "nn")], cwd=out))
        results["griffe"] = measure("griffe load torch.nn", runs, lambda: run_child(
            "", argv=[sys.executable, "-c", GRIFFE, str(scratch)]))

    default = docgen_args(wheels, ("torch.nn",), "torchvision.models.alexnet:AlexNet")
    results["cold"] = measure("docgen cold analysis", runs, lambda: run_child(
        "", env=fresh_cache(), argv=[sys.executable, "-c", DOCGEN, default]))
    warm_env = fresh_cache()
    run_child("", env=warm_env, argv=[sys.executable, "-c", DOCGEN, default])
    results["warm"] = measure("docgen warm analysis", runs, lambda: run_child(
        "", env=warm_env, argv=[sys.executable, "-c", DOCGEN, default]))
    results["touch"] = measure_touch(scratch, runs, fresh_cache)
    if not args.no_build:
        results.update(measure_build(runs, fresh_cache))
    if not args.no_summary:
        results.update(measure_summaries(runs, wheels))
    if not args.no_torch:
        whole = docgen_args({"torch": wheels["torch"]}, ("torch",), "")
        results["torch_cold"] = measure("docgen whole torch cold", max(1, runs - 1),
                                        lambda: run_child("", env=fresh_cache(), argv=[
                                            sys.executable, "-c", DOCGEN, whole]))
        torch_env = fresh_cache()
        run_child("", env=torch_env, argv=[sys.executable, "-c", DOCGEN, whole])
        results["torch_warm"] = measure("docgen whole torch warm", runs, lambda: run_child(
            "", env=torch_env, argv=[sys.executable, "-c", DOCGEN, whole]))
    if args.scale:
        results.update(measure_scale(args.scale, max(1, runs - 1), fresh_cache,
                                     peers=not args.no_peers))
    report(results, args.json)
    if not args.no_startup:
        from benchmarks.startup import measure_startup
        from benchmarks.startup import report as startup_report

        print("\n" + "\n".join(startup_report(measure_startup(max(10, runs * 5)))))
    return 0


def scale_main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))

    def fresh_cache() -> dict[str, str]:
        d = tempfile.mkdtemp(prefix="docgen-bench-cache-")
        os.makedirs(f"{d}/wheels")
        return {"DOCGEN_CACHE_DIR": d}

    report(measure_scale(args.scale, args.runs, fresh_cache, peers=not args.no_peers),
           args.json)
    return 0


# `docgen summary` warm (the analysis cache filled by a first run), one model per family.
SUMMARY_MODELS = {
    "summary_resnet18": ("torchvision.models.resnet:resnet18", "torchvision"),
    "summary_vit_b_16": ("torchvision.models.vision_transformer:vit_b_16", "torchvision"),
    "summary_mobilenet_v3_large": ("torchvision.models.mobilenetv3:mobilenet_v3_large",
                                   "torchvision"),
    "summary_timm_resnet50": ("timm.models.resnet:resnet50", "timm"),
}
TIMM = "timm==1.0.31"


def measure_summaries(runs: int, wheels: dict[str, str]) -> dict[str, Result]:
    """`docgen summary MODEL` as a user runs it, warm; the ratio is against `python -c pass`."""
    from docgen.sources.locate import fetch_requirement

    out = {"python": measure("python -c pass", runs, lambda: run_child(
        "", argv=[sys.executable, "-c", "pass"]))}
    env = {"DOCGEN_CACHE_DIR": os.environ.get("DOCGEN_CACHE_DIR", "")} \
        if os.environ.get("DOCGEN_CACHE_DIR") else {}
    for key, (model, library) in SUMMARY_MODELS.items():
        sources = ["--source", f"torch={wheels['torch']}"]
        if library == "torchvision":
            sources += ["--source", f"torchvision={wheels['torchvision']}"]
        else:
            try:
                sources += ["--source", f"timm={fetch_requirement(TIMM)}"]
            except Exception as exc:  # no timm wheel here: say so, measure the rest
                print(f"  {key}: skipped ({exc})", flush=True)
                continue
        argv = [sys.executable, "-m", "docgen", "-q", "summary", model, "--json", *sources]
        run_child("", env=env, argv=argv)  # fill the analysis cache
        out[key] = measure(f"docgen summary {model.rsplit(':', 1)[-1]} warm", runs,
                           lambda argv=argv: run_child("", env=env, argv=argv))
    return out
def measure_scale(spec: str, runs: int, fresh_cache: Callable[[], dict[str, str]],
                  peers: bool = True) -> dict[str, Result]:
    """`docgen snapshot` of a whole large package from its wheel, with an empty cache, and
    beside it, on the same files extracted: the ast.parse floor and `griffe dump` (one
    process, no alias resolution, no docstring parsing: its fastest configuration)."""
    from docgen.sources.locate import cache_dir

    package, _, wheel = spec.partition("=")
    version = Path(wheel).name.split("-")[1]
    scratch = cache_dir() / "bench" / f"scale-{package}-{version}"
    extract(Path(wheel), scratch, (f"{package}/",))
    out_dir = Path(tempfile.mkdtemp(prefix="docgen-bench-scale-"))
    argv = [sys.executable, "-m", "docgen", "-q", "snapshot", "--source", spec, "--packages",
            package, "--model", "", "--no-cache", "--out", str(out_dir / "snapshot.json")]
    out = {"scale_floor": measure(f"ast.parse floor ({package} {version})", runs,
                                  lambda: run_child("", argv=[sys.executable, "-c", PARSE_FLOOR,
                                                              str(scratch / package)]))}
    griffe = shutil.which("griffe", path=str(Path(sys.executable).parent))
    if peers and griffe:
        out["scale_griffe"] = measure(
            f"griffe dump {package}", runs, lambda: run_child("", argv=[
                griffe, "dump", package, "-s", str(scratch), "-o", str(out_dir / "griffe.json")]))
    out["scale"] = measure(f"docgen snapshot {package} cold ({version})", runs,
                           lambda: run_child("", env=fresh_cache(), argv=argv))
    shutil.rmtree(out_dir, ignore_errors=True)
    return out


def measure_touch(scratch: Path, runs: int, fresh_cache: Callable[[], dict[str, str]]) -> Result:
    """Analysis after one file of torch.nn changed: only that file is analysed again."""
    seconds, peaks, notes = [], [], []
    for i in range(runs):
        work = Path(tempfile.mkdtemp(prefix="docgen-bench-touch-"))
        shutil.copytree(scratch / "torch" / "nn", work / "torch" / "nn")
        (work / "torch" / "__init__.py").write_text("")
        env = fresh_cache()
        spec = docgen_args({"torch": str(work)}, ("torch.nn",), "")
        run_child("", env=env, argv=[sys.executable, "-c", DOCGEN, spec])
        conv = work / "torch" / "nn" / "modules" / "conv.py"
        conv.write_text(conv.read_text() + f"\n# touched {i}\n")
        s, p, out, _ = run_child("", env=env, argv=[sys.executable, "-c", DOCGEN, spec])
        seconds.append(s)
        peaks.append(p)
        notes.append(next(x for x in out.split() if x.startswith("MISSES=")))
        shutil.rmtree(work, ignore_errors=True)
    res = Result("docgen after touching conv.py", seconds, peaks, " ".join(sorted(set(notes))))
    print(f"  {res.name:<38} median {res.median:8.3f} s   peak {res.peak:8.1f} MB   "
          f"({res.note} files re-analysed)", flush=True)
    return res


def measure_build(runs: int, fresh_cache: Callable[[], dict[str, str]]) -> dict[str, Result]:
    """`docgen build` of the default site in a scratch project, cold and with nothing changed."""
    exe = shutil.which("docgen", path=str(Path(sys.executable).parent)) or shutil.which("docgen")
    if exe is None:
        print("  (docgen build skipped: the docgen command is not installed)")
        return {}
    project = Path(tempfile.mkdtemp(prefix="docgen-bench-build-"))

    def build(env: dict[str, str]) -> Run:
        return run_child("", env=env, cwd=project, argv=[exe, "-q", "build"])

    out = {"build_cold": measure("docgen build cold", max(1, runs - 1),
                                 lambda: build(fresh_cache()))}
    env = fresh_cache()
    build(env)
    out["build_warm"] = measure("docgen build, nothing changed", runs, lambda: build(env))
    return out


def report(results: dict[str, Result], json_path: Path | None) -> None:
    def ratio(a: str, b: str) -> str:
        if a in results and b in results:
            return f"{results[a].median / results[b].median:.2f}"
        return "n/a"

    print("\n| measurement | median s | median CPU s | peak MB | runs |")
    print("|---|---:|---:|---:|---:|")
    for r in results.values():
        cpu = f"{statistics.median(r.cpu_seconds):.3f}" if r.cpu_seconds else "n/a"
        print(f"| {r.name} | {r.median:.3f} | {cpu} | {r.peak:.0f} | {len(r.seconds)} |")
    def cpu_ratio(a: str, b: str) -> str:
        if a in results and b in results and results[a].cpu_seconds and results[b].cpu_seconds:
            value = statistics.median(results[a].cpu_seconds) / \
                statistics.median(results[b].cpu_seconds)
            return f"{value:.2f}"
        return "n/a"

    ratios = {
        "docgen_cold/pyreverse": ratio("cold", "pyreverse"),
        "docgen_cold/griffe": ratio("cold", "griffe"),
        "docgen_cold/floor": ratio("cold", "floor"),
        "docgen_warm/floor": ratio("warm", "floor"),
        **{f"{key}/python": ratio(key, "python") for key in SUMMARY_MODELS},
        "docgen_scale/griffe": ratio("scale", "scale_griffe"),
        "docgen_scale_cpu/griffe_cpu": cpu_ratio("scale", "scale_griffe"),
        "docgen_scale/floor": ratio("scale", "scale_floor"),
    }
    print("\nratios: " + ", ".join(f"{k} = {v}" for k, v in ratios.items()))
    if json_path is not None:
        data = {"results": {k: {**asdict(v), "median": v.median, "peak": v.peak}
                            for k, v in results.items()}, "ratios": ratios}
        json_path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
