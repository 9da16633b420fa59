"""Several models on one site: `models:` in the plugin block, one page per model, shared class
pages, the home page listing them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from docgen.cli.main import main
from docgen.core.config import DEFAULT_MODEL, config_from_options
from docgen.core.errors import ConfigError
from docgen.site.build import generate_docs
from docgen.site.pages import ModelPage
from tests.sitekit import (
    MODULE_ROOT,
    PACKAGE,
    broken_links,
    synthetic_config,
    synthetic_options,
    with_diagrams,
)

SECOND = {"pkg/tiny.py": '''
    from pkg import layers as nn


    class Tiny(nn.Base):
        """A second, smaller network."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv(3, 4)
            self.only_here = nn.Sequential(nn.Conv(4, 4))

        def forward(self, x):
            return self.only_here(self.conv(x))
'''}


def test_models_option_and_its_default() -> None:
    assert config_from_options({}).models == (DEFAULT_MODEL,)
    cfg = config_from_options({"models": ["a.b:C", "d.e:F"]})
    assert cfg.model == "a.b:C" and cfg.models == ("a.b:C", "d.e:F")
    assert {"a.b", "d.e"} <= set(cfg.selected_packages)
    assert config_from_options(cfg.as_options()) == cfg
    assert config_from_options({"model": "a.b:C"}).models == ("a.b:C",)


@pytest.mark.parametrize("options", [
    {"models": ["a.b:C"], "model": "a.b:C"},
    {"models": []},
    {"models": ["a.b:C", "a.b:C"]},
    {"models": ["a.b:C", "not a model"]},
    {"models": ["a.b:C", 3]},
])
def test_bad_models_options_are_config_errors(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        config_from_options(options)


def test_each_model_has_its_page_and_the_home_page_lists_them(write_package) -> None:  # type: ignore[no-untyped-def]
    root = write_package({**PACKAGE, **SECOND})
    cfg = synthetic_config(root, pages="model", more_models=("pkg.tiny:Tiny",))
    docs = generate_docs(cfg, jobs=1)
    page = ModelPage.page_for("pkg.tiny:Tiny")
    assert page in docs.files and not broken_links(docs.files)
    home, tiny = docs.files["index.md"], with_diagrams(docs.files, page)
    assert "## Models on this site" in home and "(models/pkg.tiny-Tiny.md)" in home
    assert "**Tiny** (this page)" in tiny and "[Net](../index.md)" in tiny
    assert r"<code>only\_here</code>" in tiny and "only" not in home
    assert "<title>cluster_only_here</title>" in tiny  # its own composition diagram
    # class pages are shared: one page per class, for the classes of both models
    assert "classes/pkg.tiny.Tiny.md" in docs.files and "classes/pkg.net.Net.md" in docs.files
    assert "classes/pkg.layers.Sequential.md" in docs.files
    assert ("Tiny", page) in docs.model_pages
    assert {"Models": [{"Tiny": page}]} in docs.nav()


def test_one_model_site_lists_no_models(write_package) -> None:  # type: ignore[no-untyped-def]
    docs = generate_docs(synthetic_config(write_package(PACKAGE)), jobs=1)
    assert "Models on this site" not in docs.files["index.md"]
    assert not any(p.startswith("models/") for p in docs.files)


def test_build_reads_models_from_mkdocs_yml(write_package, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = write_package({**PACKAGE, **SECOND})
    project = tmp_path / "proj"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Hand-written\n", encoding="utf-8")
    options = synthetic_options(root)
    options["models"] = [options.pop("model"), "pkg.tiny:Tiny"]
    config = {"site_name": "t", "nav": [{"Home": "index.md"}], "theme": {"name": "material"},
              "plugins": ["search", {"docgen": options}]}
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["-q", "build", "--project", str(project), "--no-mkdocs"]) == 0
    generated = project / "docs" / "generated"
    assert (generated / ModelPage.page_for("pkg.tiny:Tiny")).is_file()
    assert "Models on this site" in (generated / "index.md").read_text(encoding="utf-8")
    # --model studies one model, whatever `models:` lists
    assert main(["-q", "build", "--project", str(project), "--no-mkdocs",
                 "--model", "pkg.tiny:Tiny", "--module-root", MODULE_ROOT]) == 0


@pytest.mark.wheels
def test_alexnet_and_resnet18_on_one_site_from_the_wheels(real_wheels: dict[str, Path],
                                                          tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Study\n", encoding="utf-8")
    options = {"models": [DEFAULT_MODEL, "torchvision.models.resnet:resnet18"],
               "pages": "model", "changes": []}
    config = {"site_name": "t", "nav": [{"Home": "index.md"}], "theme": {"name": "material"},
              "plugins": ["search", {"docgen": options}]}
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["-q", "build", "--project", str(project), "--no-mkdocs",
                 "--source", f"torch={real_wheels['torch']}",
                 "--source", f"torchvision={real_wheels['torchvision']}"]) == 0
    generated = project / "docs" / "generated"
    files = {p.relative_to(generated).as_posix(): p.read_text(encoding="utf-8")
             for p in generated.rglob("*.md")}
    page = ModelPage.page_for("torchvision.models.resnet:resnet18")
    resnet, home = files[page], files["index.md"]
    assert f"[ResNet]({page})" in home
    assert "**ResNet** (this page)" in resnet and "## Parameters, shapes and MACs" in resnet
    assert "11,689,512" in resnet  # resnet18's parameters, as torchvision's weights meta says
    assert "layer1.0.bn1" in resnet.replace("\\_", "_")
    assert "## From each layer to the kernels" in resnet and "walk/batchnorm2d.md" in resnet
    assert "walk/batchnorm2d.md" in files
    assert "classes/torchvision.models.resnet.BasicBlock.md" in files
    assert "classes/torchvision.models.alexnet.AlexNet.md" in files
    assert not broken_links(files, directory_urls=True)  # MkDocs' default
    # a layer class both models use: its walk page shows each model's layers, by model
    conv = files["walk/conv2d.md"].replace("\\_", "_")
    by_model = conv.split("## In each model")[1].split("## Every branch read")[0]
    alexnet, resnet = by_model.split("### [ResNet]")
    assert "### [AlexNet](../index.md)" in alexnet and f"(../{page})" in resnet
    assert "<code>features.0</code>" in alexnet and "<code>features.3</code>" in alexnet
    assert "<code>conv1</code>" not in alexnet and "<code>layer1.0.conv1</code>" in resnet
    assert "<code>conv1</code>" in resnet and "<code>features.0</code>" not in resnet
    assert "aten::" in resnet
    # a class only the second model uses has its page, listed in the walk index
    assert "batchnorm2d.md" in files["walk/index.md"] and "conv2d.md" in files["walk/index.md"]
    assert "the site's models (AlexNet, ResNet)" in files["walk/index.md"]
