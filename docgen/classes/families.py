"""The torch.nn Module families (convolutions, pooling, ...) as data, and sorting classes into them.

A rule names a family and the defining modules (fnmatch on the module's last parts) or class
names that belong to it; the first matching rule wins, so specific rules come first. Policy
lives here once; diagrams and pages only draw what `group_families` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from docgen.core.config import DEFAULT_MODULE_ROOT as MODULE_ROOT
from docgen.core.records import ClassView


@dataclass(frozen=True)
class FamilyRule:
    slug: str
    title: str
    modules: tuple[str, ...] = ()  # patterns on the defining module, e.g. "*.conv"
    names: tuple[str, ...] = ()  # patterns on the class name, e.g. "*Loss"


FAMILY_RULES: tuple[FamilyRule, ...] = (
    FamilyRule("convolution", "Convolutions", ("*.modules.conv", "*.modules.fold")),
    FamilyRule("pooling", "Pooling", ("*.modules.pooling",)),
    FamilyRule("padding", "Padding", ("*.modules.padding",)),
    FamilyRule("dropout", "Dropout", ("*.modules.dropout",)),
    FamilyRule("normalization", "Normalization", (
        "*.modules.batchnorm", "*.modules.instancenorm", "*.modules.normalization")),
    FamilyRule("transformer", "Attention and transformers", ("*.modules.transformer",),
               ("MultiheadAttention",)),
    FamilyRule("activation", "Activations", ("*.modules.activation",)),
    FamilyRule("recurrent", "Recurrent", ("*.modules.rnn",)),
    FamilyRule("loss", "Losses", ("*.modules.loss", "*.modules.adaptive"), ("*Loss",)),
    FamilyRule("linear", "Linear, embedding and distance", (
        "*.modules.linear", "*.modules.sparse", "*.modules.distance")),
    FamilyRule("container", "Containers", ("*.modules.container",)),
    FamilyRule("shape", "Reshaping and resampling", (
        "*.modules.flatten", "*.modules.pixelshuffle", "*.modules.channelshuffle",
        "*.modules.upsampling")),
    FamilyRule("parallel", "Parallel and distributed", ("*.nn.parallel*",)),
    FamilyRule("utility", "Parametrizations, wrappers and models", ("*",)),
)


@dataclass(frozen=True)
class Family:
    """A family's members and the bases drawn with them (private intermediates kept)."""

    slug: str
    title: str
    classes: tuple[str, ...]  # the family's own Module subclasses
    context: tuple[str, ...]  # bases from outside the family needed to reach Module


def family_of(qualname: str, rules: Iterable[FamilyRule] = FAMILY_RULES) -> str:
    module, _, name = qualname.rpartition(".")
    for rule in rules:
        if any(fnmatchcase(name, p) for p in rule.names):
            return rule.slug
        if any(fnmatchcase(module, p) for p in rule.modules):
            return rule.slug
    return FAMILY_RULES[-1].slug


def module_family(views: Mapping[str, ClassView]) -> list[str]:
    """Every class whose MRO reaches torch.nn's Module (Module itself excluded), sorted."""
    return sorted(q for q, v in views.items()
                  if q != MODULE_ROOT and MODULE_ROOT in v.resolution_order)


def group_families(views: Mapping[str, ClassView],
                   rules: tuple[FamilyRule, ...] = FAMILY_RULES) -> tuple[Family, ...]:
    """The Module family split by `rules`, in rule order; empty families left out."""
    members: dict[str, list[str]] = {rule.slug: [] for rule in rules}
    for qualname in module_family(views):
        members[family_of(qualname, rules)].append(qualname)
    out = []
    for rule in rules:
        own = members[rule.slug]
        if not own:
            continue
        context: set[str] = set()
        for q in own:
            for base in views[q].resolution_order[1:]:
                if base not in own and base in views and MODULE_ROOT in \
                        views[base].resolution_order:
                    context.add(base)
        out.append(Family(rule.slug, rule.title, tuple(own), tuple(sorted(context))))
    return tuple(out)
