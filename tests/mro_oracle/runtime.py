"""Run by the oracle venv's python (not by docgen's): Python's own MROs of one package.

    python runtime.py IMPORT_NAME DIST VERSION OUT.json

Imports every submodule (import errors are tolerated and recorded by module name and
exception type), collects every class whose `__module__` is the module it is found in, under
its qualname (nested classes included), and writes {qualname: [mro qualnames]} as sorted JSON.
Standard library only: this file must not import docgen.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import pkgutil
import sys
import warnings
from contextlib import redirect_stderr, redirect_stdout
from types import ModuleType

SCHEMA = 1


def _prepare_django() -> None:
    """Models need configured settings and their apps installed to be importable."""
    import django
    from django.conf import settings

    apps = ["django.contrib.admin", "django.contrib.admindocs", "django.contrib.auth",
            "django.contrib.contenttypes", "django.contrib.flatpages",
            "django.contrib.humanize", "django.contrib.messages",
            "django.contrib.redirects", "django.contrib.sessions", "django.contrib.sitemaps",
            "django.contrib.sites", "django.contrib.staticfiles", "django.contrib.syndication"]
    settings.configure(INSTALLED_APPS=apps, USE_TZ=True,
                       DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                                              "NAME": ":memory:"}})
    django.setup()


# Per package setup that makes more of it importable; nothing here changes any class.
_PREPARE = {"django": _prepare_django}


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_all(package: str) -> tuple[dict[str, ModuleType], dict[str, str]]:
    failed: dict[str, str] = {}
    top = importlib.import_module(package)
    modules = {package: top}

    def onerror(name: str) -> None:
        failed[name] = type(sys.exc_info()[1]).__name__

    for info in pkgutil.walk_packages(top.__path__, f"{package}.", onerror=onerror):
        if info.name.rsplit(".", 1)[-1] == "__main__" or info.name in modules:
            continue  # running a __main__ would run a program
        try:
            modules[info.name] = importlib.import_module(info.name)
        except BaseException as exc:  # SystemExit and friends included: record, go on
            failed[info.name] = type(exc).__name__
    return modules, failed


def _classes_of(module: ModuleType) -> dict[str, type]:
    """Classes defined in `module` and bound there, nested classes under their qualname."""
    found: dict[str, type] = {}
    stack: list[tuple[str, object]] = [("", module)]
    while stack:
        prefix, owner = stack.pop()
        for attr, value in sorted(vars(owner).items()):
            # type(value), not isinstance: a lazy object (django's admin.site) would evaluate
            if not issubclass(type(value), type) or value.__module__ != module.__name__:
                continue
            qualname = f"{prefix}{attr}"
            if value.__qualname__ != qualname or qualname in found:
                continue
            found[qualname] = value
            stack.append((f"{qualname}.", value))
    return {f"{module.__name__}.{q}": c for q, c in found.items()}


def collect(package: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    warnings.simplefilter("ignore")
    prepare = _PREPARE.get(package)
    if prepare is not None:
        prepare()
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        modules, failed = _import_all(package)
    mros: dict[str, list[str]] = {}
    for name in sorted(modules):
        for qualname, cls in _classes_of(modules[name]).items():
            mros[qualname] = [_name(c) for c in cls.__mro__]
    return mros, failed


def main(argv: list[str]) -> int:
    package, dist, version, out = argv
    os.environ.setdefault("PYTHONHASHSEED", "0")
    mros, failed = collect(package)
    data = {"schema": SCHEMA, "distribution": dist, "version": version, "package": package,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "failed_modules": failed, "mro": mros}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
