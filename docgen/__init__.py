"""docgen: static documentation and UML of PyTorch internals, read without importing torch.

A small API for scripts; the command line is built on the same functions. Each one imports
its feature only when called, so `import docgen` stays cheap::

    import docgen

    cfg = docgen.make_config(model="torchvision.models.alexnet:AlexNet", packages="torch.nn")
    project = docgen.load_project(cfg)              # the class model (MRO, members, methods)
    view = docgen.find_class(project, "torch.nn.Conv2d")
    summary = docgen.summarize(cfg, (1, 3, 224, 224))   # layers, shapes, parameters, MACs
    diff = docgen.diff("torch==2.13.0", "torch==2.14.1")  # typed changes between versions
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docgen.core.version import __version__

if TYPE_CHECKING:
    from docgen.changes.diff import Diff
    from docgen.core.config import Config
    from docgen.core.records import ClassView, ModelSummary, Project

__all__ = ["__version__", "diff", "find_class", "load_project", "make_config", "summarize"]


def make_config(**options: Any) -> Config:
    """A validated Config from the options mkdocs.yml's `docgen` block takes."""
    from docgen.core.config import config_from_options

    return config_from_options(options)


def load_project(cfg: Config | None = None, *, use_cache: bool = True, jobs: int = 0) -> Project:
    """The class model of what `cfg` selects (default: the embedded AlexNet + torch.nn)."""
    from docgen.classes.cache import AnalysisCache
    from docgen.classes.project import load_project as load
    from docgen.sources.locate import cache_dir

    cache = AnalysisCache(cache_dir()) if use_cache else None
    return load(cfg or make_config(), cache=cache, jobs=jobs)


def find_class(project: Project, name: str) -> ClassView:
    """One class by qualified or public path; LookupFailed (with close names) otherwise."""
    from docgen.classes.project import find_view

    return find_view(project, name)


def summarize(cfg: Config | None = None,
              input_shape: tuple[int, ...] = (1, 3, 224, 224)) -> ModelSummary:
    """The static model summary of `cfg.model` for an input of `input_shape`."""
    from docgen.summary.summarize import summarize_config

    return summarize_config(cfg or make_config(), input_shape)


def diff(old: str, new: str) -> Diff:
    """What changed in the class model between two snapshots or source specs."""
    from docgen.changes.compare import diff_versions

    return diff_versions(old, new)
