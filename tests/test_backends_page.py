"""The Backends page for a porter, on the real torch 2.13.0 wheel: runtime key order with
Autograd above the backend, one row per dispatch key, ARM rows apart from x86 ones, the
layout-only kernels (`_indices`), and the model's coverage per backend."""

from __future__ import annotations

import re

import pytest

from docgen.core.records import Location
from docgen.sources.locate import SourceSet
from docgen.walk.backends import capability_arch, read_backends
from docgen.walk.records import BackendsReport, DispatchKeyDoc
from docgen.walk.render import render_walk_pages
from docgen.walk.upstream import load_shipped_edges
from docgen.walk.walker import open_context, walk_model

pytestmark = pytest.mark.wheels


@pytest.fixture(scope="module")
def page_and_report(real_sources: SourceSet) -> tuple[str, BackendsReport]:
    ctx = open_context(real_sources, load_shipped_edges())
    report = walk_model(ctx, "torchvision.models.alexnet:AlexNet")
    backends = read_backends(real_sources, ctx.table, report)
    return render_walk_pages(report, backends)["walk/backends.md"], backends


def test_runtime_order_puts_autograd_above_the_backend(page_and_report) -> None:  # type: ignore[no-untyped-def]
    _, backends = page_and_report
    order = [k.name for k in backends.runtime_order]
    assert order.index("AutogradFunctionality") < order.index("ADInplaceOrView") \
        < order.index("Dense")
    assert order.index("AutocastCPU") < order.index("AutogradFunctionality")
    assert "CompositeImplicitAutograd" not in order  # an alias, never in a tensor's key set


def test_each_dispatch_key_is_listed_once(page_and_report) -> None:  # type: ignore[no-untyped-def]
    page, backends = page_and_report
    names = [k.name for k in backends.keys]
    assert len(names) == len(set(names))
    groups = {k.name: k.group for k in backends.keys}
    assert groups["Sparse"] == groups["Dense"] == "per-backend functionality"
    assert groups["Autograd"] == groups["CompositeExplicitAutograd"] == "alias"
    assert groups["CPUTensorId"] == "synonym"
    assert groups["ADInplaceOrView"] == "functionality"
    table = page.split("## All dispatch keys", 1)[1]
    for name in ("Dense", "Quantized", "Sparse"):
        assert len(re.findall(rf"<code>{name}</code>", table)) == 1, name
    assert "<details" in table  # folded below the guide


def test_indices_has_its_sparse_kernels(page_and_report) -> None:  # type: ignore[no-untyped-def]
    page, backends = page_and_report
    rows = {r.operator: r for r in backends.coverage}
    if "aten::_indices" not in rows:
        pytest.skip("AlexNet's walk does not reach aten::_indices in this wheel")
    cells = {c.backend: c for c in rows["aten::_indices"].cells}
    assert (cells["CPU"].key, cells["CPU"].kernel) == ("SparseCPU", "_indices_sparse")
    assert cells["CUDA"].key == "SparseCUDA"
    full = page.split("<summary>Every operator", 1)[1]  # the whole table, folded
    line = next(x for x in full.splitlines() if x.startswith("| <code>aten::\\_indices"))
    assert "SparseCPU only" in line and "SparseCUDA only" in line


def test_coverage_counts_every_backend(page_and_report) -> None:  # type: ignore[no-untyped-def]
    _, backends = page_and_report
    assert backends.coverage_keys == ("CPU", "CUDA", "MPS", "XPU", "PrivateUse1")
    summary = {k: rest for k, *rest in backends.coverage_summary}
    routes = sum(1 for r in backends.coverage for c in r.cells
                 if c.backend == "CPU" and c.rule.startswith("not reached"))
    assert routes >= 4  # cudnn_convolution, miopen_convolution, _mps_convolution, ...
    assert sum(summary["CPU"]) == len(backends.coverage) - routes
    assert summary["CPU"][3] == 0  # every operator AlexNet needs on CPU has a kernel
    assert summary["PrivateUse1"][0] == 0 and summary["PrivateUse1"][3] > 0
    conv = {c.backend: c for r in backends.coverage if r.operator == "aten::convolution"
            for c in r.cells}
    assert conv["PrivateUse1"].key == "CompositeExplicitAutograd"


def test_the_arm_section_shows_only_arm(page_and_report) -> None:  # type: ignore[no-untyped-def]
    page, backends = page_and_report
    arm = page.split("## ARM CPUs", 1)[1].split("<details", 1)[0].replace("\\_", "_")
    assert "SVE256" in arm and "SVE128" in arm and "DEFAULT" in arm
    assert "AVX2" not in arm and "AVX512" not in arm and "VSX" not in arm
    assert "kleidiai" in arm.lower() and "AT_MKLDNN_ACL_ENABLED" in arm
    assert {c.name: c.group for c in backends.capabilities}["AVX512"] == "x86-64"
    folded = page.split("## ARM CPUs", 1)[1].split("## All dispatch keys", 1)[0]
    assert "AVX512" in folded.split("<details", 1)[1]  # x86 rows kept apart, folded


@pytest.mark.parametrize(("comment", "arch"), [
    ("", "all"), ("#elif defined(HAVE_SVE_CPU_DEFINITION)", "aarch64"),
    ("#if defined(HAVE_VSX_CPU_DEFINITION)", "ppc64le"), ("#else", "x86-64")])
def test_capability_arch(comment: str, arch: str) -> None:
    assert capability_arch(DispatchKeyDoc("X", "c", Location("s.h", 1), comment)) == arch


def test_the_page_leads_with_what_a_porter_must_register(page_and_report) -> None:  # type: ignore[no-untyped-def]
    page, backends = page_and_report
    sections = re.findall(r"^## (.*)$", page, flags=re.M)
    assert sections[0].startswith("What AlexNet needs from a backend")
    assert sections[1] == "Where a new backend plugs in"
    needs = page.split("## Where a new backend plugs in", 1)[0]
    todo = needs.split("must register", 1)[1].split("<details", 1)[0]
    rows = [x for x in todo.splitlines() if x.startswith("| <code>aten")]
    expected = [r for r in backends.coverage for c in r.cells if c.backend == "PrivateUse1"
                and c.kernel is None and not c.rule.startswith("not reached")]
    assert len(rows) == len(expected) > 0
    assert len(rows) == {k: rest for k, *rest in backends.coverage_summary}["PrivateUse1"][3]
    folded = needs.split("<details", 1)[1]
    assert len([x for x in folded.splitlines() if x.startswith("| <code>aten")]) \
        == len(backends.coverage)  # the whole table, folded
