"""torch.nn families as data: rules, grouping, private bases kept as context."""

from __future__ import annotations

import pytest

from docgen.classes.families import FAMILY_RULES, MODULE_ROOT, group_families
from docgen.classes.families import family_of as family
from docgen.core.records import ClassView


@pytest.mark.parametrize(("qualname", "slug"), [
    ("torch.nn.modules.conv.Conv2d", "convolution"),
    ("torch.nn.modules.conv._ConvNd", "convolution"),
    ("torch.nn.modules.pooling._MaxPoolNd", "pooling"),
    ("torch.nn.modules.activation.MultiheadAttention", "transformer"),
    ("torch.nn.modules.activation.ReLU", "activation"),
    ("torch.nn.modules.adaptive.AdaptiveLogSoftmaxWithLoss", "loss"),
    ("torch.nn.modules.batchnorm.BatchNorm2d", "normalization"),
    ("torchvision.models.alexnet.AlexNet", "utility"),
])
def test_family_of(qualname: str, slug: str) -> None:
    assert family(qualname) == slug


def _view(name: str, *mro: str) -> ClassView:
    return ClassView(name, (name, *mro, "builtins.object"), None, (), (), (), ())


def test_group_families_keeps_private_bases_from_other_families() -> None:
    views = {
        MODULE_ROOT: _view(MODULE_ROOT),
        "torch.nn.modules.conv._ConvNd": _view("torch.nn.modules.conv._ConvNd", MODULE_ROOT),
        "x.modules.loss.Odd": _view("x.modules.loss.Odd", "torch.nn.modules.conv._ConvNd",
                                    MODULE_ROOT),
        "torch.nn.modules.conv.Plain": _view("torch.nn.modules.conv.Plain"),  # not a Module
    }
    families = {f.slug: f for f in group_families(views)}
    assert families["loss"].classes == ("x.modules.loss.Odd",)
    assert families["loss"].context == ("torch.nn.modules.conv._ConvNd", MODULE_ROOT)
    assert families["convolution"].classes == ("torch.nn.modules.conv._ConvNd",)
    assert len({r.slug for r in FAMILY_RULES}) == len(FAMILY_RULES)
