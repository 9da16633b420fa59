"""What to study: model, packages, sources; the embedded default and validation of options.

Options come from the CLI or from the MkDocs plugin's block in mkdocs.yml; both end up in one
frozen `Config`, validated as a whole so every problem is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.core.defaults import (
    DEFAULT_CHANGE_PAIRS,
    DEFAULT_MODEL,
    DEFAULT_MODULE_ROOT,
    DEFAULT_PACKAGES,
)
from docgen.core.errors import ConfigError

__all__ = ["DEFAULT_CHANGE_PAIRS", "DEFAULT_MODEL", "DEFAULT_MODULE_ROOT", "DEFAULT_PACKAGES",
           "Config", "SourceSpec", "config_from_options"]


@dataclass(frozen=True)
class SourceSpec:
    """Where one distribution (or plain package) comes from: env, requirement, wheel or folder."""

    name: str
    spec: str

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        name, sep, spec = text.partition("=")
        if not sep or not name.strip() or not spec.strip():
            raise ConfigError(f"--source expects NAME=SPEC (SPEC: env, a requirement, a wheel "
                              f"or a folder), got {text!r}")
        spec = spec.strip()
        # `torch==2.13.0` arrives as name `torch`, spec `=2.13.0`: put the requirement back.
        if spec.startswith("="):
            spec = name.strip() + "=" + spec
        return cls(name.strip(), spec)




@dataclass(frozen=True)
class Config:
    model: str = DEFAULT_MODEL
    packages: tuple[str, ...] = ()
    sources: tuple[SourceSpec, ...] = ()
    offline: bool = False
    pages: str = "all"  # "all": every class; "model": the model's classes and their bases
    show_inherited: bool = True
    output: str = "docs/generated"
    site_dir: str = "site"
    strict: bool = False
    module_root: str = DEFAULT_MODULE_ROOT
    summary: bool = True  # the model page's parameter/shape table
    walk: bool = True  # the Walk and Backends pages
    pytorch_src: str = ""  # a PyTorch checkout whose C++ the walk reads
    changes: tuple[tuple[str, str], ...] | None = None  # None: the default pairs
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Further models on the same site (`models:` in mkdocs.yml), after `model`, the first.
    more_models: tuple[str, ...] = ()

    @property
    def models(self) -> tuple[str, ...]:
        """Every model studied, the first (`model`) first."""
        return ((self.model,) if self.model else ()) + self.more_models

    @property
    def model_module(self) -> str:
        return self.model.split(":", 1)[0]

    @property
    def model_class(self) -> str:
        return self.model.split(":", 1)[1] if ":" in self.model else ""

    @property
    def selected_packages(self) -> tuple[str, ...]:
        """What is analysed: the packages asked for (default torch.nn) and the model's module."""
        packages = self.packages or DEFAULT_PACKAGES
        for model in self.models:
            module = model.split(":", 1)[0]
            if module not in packages:
                packages = (*packages, module)
        return packages

    @property
    def change_pairs(self) -> tuple[tuple[str, str], ...]:
        """Versions compared on Changes pages: as configured, else the default pair when
        torch.nn is studied."""
        if self.changes is not None:
            return self.changes
        return DEFAULT_CHANGE_PAIRS if "torch.nn" in self.selected_packages else ()

    def as_options(self) -> dict[str, Any]:
        """The options `config_from_options` turns back into this Config."""
        options: dict[str, Any] = {
            "model": self.model, "packages": list(self.packages), "sources": list(self.sources),
            "offline": self.offline, "pages": self.pages, "show_inherited": self.show_inherited,
            "output": self.output, "site_dir": self.site_dir, "strict": self.strict,
            "module_root": self.module_root, "summary": self.summary, "walk": self.walk,
            "pytorch_src": self.pytorch_src}
        if self.more_models:
            options["models"] = list(self.models)
            del options["model"]
        if self.changes is not None:
            options["changes"] = [list(pair) for pair in self.changes]
        return options

    @property
    def top_level_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.split(".")[0] for p in self.selected_packages))


_OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "models": list,
    "packages": (list, str),
    "sources": (dict, list, tuple),
    "offline": bool,
    "pages": str,
    "show_inherited": bool,
    "output": str,
    "site_dir": str,
    "strict": bool,
    "module_root": str,
    "summary": bool,
    "walk": bool,
    "pytorch_src": str,
    "changes": list,
}


def _is_dotted(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def config_from_options(options: Mapping[str, Any]) -> Config:
    """A Config from a mapping (mkdocs.yml plugin block, CLI); every problem reported at once."""
    problems = []
    for key, value in options.items():
        expected = _OPTION_TYPES.get(key)
        if expected is None:
            known = ", ".join(sorted(_OPTION_TYPES))
            problems.append(f"unknown option {key!r} (known: {known})")
        elif not isinstance(value, expected):
            names = expected.__name__ if isinstance(expected, type) else " or ".join(
                t.__name__ for t in expected)
            problems.append(f"option {key!r} must be {names}, got {type(value).__name__}")
    if problems:
        raise ConfigError(problems)
    packages = options.get("packages", ())
    if isinstance(packages, str):
        packages = [p.strip() for p in packages.split(",") if p.strip()]
    sources = options.get("sources", {})
    specs = []
    if isinstance(sources, dict):
        specs = [SourceSpec(str(k), str(v)) for k, v in sources.items()]
    else:
        for item in sources:
            try:
                specs.append(item if isinstance(item, SourceSpec) else SourceSpec.parse(str(item)))
            except ConfigError as exc:
                problems.extend(exc.problems)
    models = _models(options, specs, problems)
    cfg = Config(
        model=models[0] if models else "",
        more_models=tuple(models[1:]),
        packages=tuple(packages),
        sources=tuple(specs),
        offline=options.get("offline", False),
        pages=options.get("pages", "all"),
        show_inherited=options.get("show_inherited", True),
        output=options.get("output", "docs/generated"),
        site_dir=options.get("site_dir", "site"),
        strict=options.get("strict", False),
        module_root=options.get("module_root", DEFAULT_MODULE_ROOT),
        summary=options.get("summary", True),
        walk=options.get("walk", True),
        pytorch_src=options.get("pytorch_src", ""),
        changes=_change_pairs(options["changes"], problems) if "changes" in options else None,
    )
    problems.extend(validate(cfg))
    if problems:
        raise ConfigError(problems)
    return cfg


def _models(options: Mapping[str, Any], specs: list[SourceSpec],
            problems: list[str]) -> list[str]:
    """`models: [a, b]` or `model: a` (not both); default: the embedded model alone."""
    if "models" in options and "model" in options:
        problems.append("give either 'model' or 'models', not both")
    given = options["models"] if "models" in options else [options.get("model", DEFAULT_MODEL)]
    if "models" in options and not given:
        problems.append("models: the list is empty")
    models = []
    for item in given:
        if not isinstance(item, str):
            problems.append(f"models: each entry is a string module:Class, got {item!r}")
            continue
        model = _model_file(item, specs, problems)
        if model in models:
            problems.append(f"models: {model!r} is listed twice")
        models.append(model)
    return models


def _model_file(model: Any, specs: list[SourceSpec], problems: list[str]) -> Any:
    """`path/to/mymodel.py:Net` (a file in no package): its folder becomes a source and the
    model `mymodel:Net`; any other model is returned as it is."""
    if not isinstance(model, str):
        return model
    module, sep, rest = model.partition(":")
    if not (sep and module.endswith(".py")):
        return model
    path = Path(module).expanduser()
    if not path.is_file():
        problems.append(f"model file {module} not found")
        return model
    specs.append(SourceSpec(path.stem, str(path.parent.resolve())))
    return f"{path.stem}:{rest}"


def _change_pairs(value: list[Any], problems: list[str]) -> tuple[tuple[str, str], ...]:
    """`changes: [[torch==2.13.0, torch==2.14.1], "a.json..b.json"]` -> pairs."""
    pairs = []
    for item in value:
        pair = item.split("..") if isinstance(item, str) else item
        if isinstance(pair, list | tuple) and len(pair) == 2 and all(
                isinstance(p, str) and p for p in pair):
            pairs.append((pair[0], pair[1]))
        else:
            problems.append(f"changes: each entry is [OLD, NEW] or 'OLD..NEW', got {item!r}")
    return tuple(pairs)


def validate(cfg: Config) -> list[str]:
    problems = []
    for model in cfg.models:
        module, sep, cls = model.partition(":")
        name, paren, arguments = cls.partition("(")
        if not sep or not _is_dotted(module) or not _is_dotted(name.strip()) or (
                paren and not arguments.rstrip().endswith(")")):
            problems.append(f"model must look like package.module:Class, got {model!r}")
    for pkg in cfg.packages:
        if not _is_dotted(pkg):
            problems.append(f"not a dotted package name: {pkg!r}")
    if cfg.pages not in ("all", "model"):
        problems.append(f"pages must be 'all' or 'model', got {cfg.pages!r}")
    return problems
