"""The built site in headless Chromium: diagrams show, a node click lands on its class page,
search finds a method. Screenshots go to $DOCGEN_ARTIFACTS (default: the test's tmp dir)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from docgen.site.build import BuildRequest, build
from docgen.sources.locate import SourceSpec

pytestmark = [pytest.mark.browser, pytest.mark.wheels]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1400,1000")


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test needs {', '.join(missing)} in CI")
        pytest.skip(f"headless Chromium not available ({', '.join(missing)} missing)")
    pytest.importorskip("selenium")


@pytest.fixture(scope="module")
def site(real_wheels, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    _require_browser()
    project = tmp_path_factory.mktemp("browser-site")
    sources = tuple(SourceSpec(name, str(path)) for name, path in real_wheels.items())
    result = build(BuildRequest(root=project, strict=True,
                                overrides={"pages": "model", "sources": sources,
                                           "changes": [["torch==2.13.0", "torch==2.14.1"]]}))
    assert result.site_dir is not None
    return result.site_dir


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = os.environ.get("DOCGEN_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Iterator[object]:  # type: ignore[no-untyped-def]
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tmp_path_factory.mktemp("chromium-profile")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, condition, timeout: float = 15):  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_home_page_shows_the_alexnet_diagram(driver, base_url: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver.get(f"{base_url}/index.html")
    svg = driver.find_element(By.CSS_SELECTOR, "#diagram-composition svg")
    assert svg.is_displayed() and svg.size["width"] > 200 and svg.size["height"] > 300
    layer = driver.find_element(By.ID, "layer_features.0")
    assert "Conv2d" in layer.text and "kernel_size=11" in layer.text
    driver.save_screenshot(str(artifacts / "home.png"))


def test_clicking_conv2d_in_the_hierarchy_opens_its_page(driver, base_url: str,  # type: ignore[no-untyped-def]
                                                          artifacts: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(f"{base_url}/hierarchy/index.html")
    node = driver.find_element(By.CSS_SELECTOR,
                               '[id="ancestry_torch.nn.modules.conv.conv2d"] a')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})",
                          node)
    driver.save_screenshot(str(artifacts / "hierarchy.png"))
    node.click()
    _wait(driver, ec.url_contains("torch.nn.modules.conv.Conv2d.html"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Conv2d"
    assert driver.find_element(By.CSS_SELECTOR, '[id="uml_class"]').is_displayed()
    driver.save_screenshot(str(artifacts / "conv2d.png"))


def test_search_finds_register_buffer(driver, base_url: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(f"{base_url}/index.html")
    box = _wait(driver, ec.element_to_be_clickable((By.CSS_SELECTOR, "input.md-search__input")))
    box.click()
    box.send_keys("register_buffer")
    _wait(driver, lambda d: any("register_buffer" in e.text for e in d.find_elements(
        By.CSS_SELECTOR, ".md-search-result__item")))
    driver.save_screenshot(str(artifacts / "search.png"))
    first = driver.find_element(By.CSS_SELECTOR, ".md-search-result__item a")
    first.click()
    _wait(driver, ec.url_contains(".html"))
    assert "register_buffer" in driver.find_element(By.TAG_NAME, "article").text


PWNED = {
    "inj/__init__.py": "from inj.layers import Module, Evil\n",
    "inj/layers.py": '''
        class Module:
            """<script>window.__pwned = 'docstring'</script> | {{ 7 * 7 }} {% raw %}"""

            def __init__(self) -> None:
                self.training = True


        class Evil(Module):
            """<img src=x onerror="window.__pwned='img'"> -> } " ]; digraph"""

            def forward(self,
                        x: "<script>window.__pwned='annotation'</script>" = (
                            "</svg><script>window.__pwned='default'</script>"),
                        ) -> "dict[str, Any]":
                """<iframe src="javascript:window.parent.__pwned='iframe'"></iframe>"""
                return x

            def __init__(self) -> None:
                super().__init__()
                setattr(self, "<script>window.__pwned='member'</script>", 1)
                self.x = "{{ config }}"
    ''',
}


def _served_package_site(tmp_path_factory, name: str,  # type: ignore[no-untyped-def]
                         files: dict[str, str]) -> Iterator[str]:
    """A site built from package `name` (`files`, its module root `name.layers.Module`),
    served on a free port while the caller holds it."""
    import textwrap

    _require_browser()
    src = tmp_path_factory.mktemp(f"{name}-src")
    for rel, text in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(textwrap.dedent(text), encoding="utf-8")
    project = tmp_path_factory.mktemp(f"{name}-site")
    result = build(BuildRequest(root=project, overrides={
        "model": "", "packages": [name], "sources": (SourceSpec(name, str(src)),),
        "module_root": f"{name}.layers.Module"}))
    assert result.site_dir is not None
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(result.site_dir))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def injected_url(tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    yield from _served_package_site(tmp_path_factory, "inj", PWNED)


def test_injected_text_is_shown_and_never_runs(driver, injected_url: str,  # type: ignore[no-untyped-def]
                                               artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    for page in ("classes/inj.layers.Evil.html", "classes/inj.layers.Module.html",
                 "index.html", "hierarchy/index.html"):
        driver.get(f"{injected_url}/{page}")
        _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")
        assert driver.execute_script("return window.__pwned === undefined"), page
        driver.save_screenshot(str(artifacts / f"injection-{page.replace('/', '_')}.png"))
    driver.get(f"{injected_url}/classes/inj.layers.Evil.html")
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "window.__pwned='img'" in text  # shown as text
    assert "window.__pwned='annotation'" in text or "__pwned" in text


# ----------------------------------------------------------------------------------------------
# the study site as a guide: widths, heights, offline, facts (issue 14)

DESKTOP = (1440, 900)
PHONE = (390, 844)
GUIDE_PAGES = (
    "index.html", "module-anatomy.html", "hierarchy/index.html", "classes/index.html",
    "classes/torch.nn.modules.module.Module.html", "classes/torch.nn.modules.conv._ConvNd.html",
    "classes/torch.nn.modules.conv.Conv2d.html", "classes/torch.nn.modules.pooling.MaxPool2d.html",
    "walk/backends.html", "changes-torch-2.13.0-to-torch-2.14.1.html")


def _viewport(driver, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def _open(driver, url: str) -> None:  # type: ignore[no-untyped-def]
    driver.get(url)
    _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def _existing(site: Path, pages: tuple[str, ...]) -> list[str]:
    return [p for p in pages if (site / p).is_file()]


def _family_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in (site / "hierarchy").glob("*.html"))


def test_no_page_scrolls_sideways_at_1440(driver, site: Path, base_url: str,  # type: ignore[no-untyped-def]
                                          artifacts: Path) -> None:
    _viewport(driver, DESKTOP)
    sizes = {}
    for page in _existing(site, GUIDE_PAGES) + _family_pages(site):
        _open(driver, f"{base_url}/{page}")
        width, height, inner = driver.execute_script(
            "return [document.documentElement.scrollWidth,"
            " document.documentElement.scrollHeight, window.innerWidth]")
        sizes[page] = (width, height)
        assert width <= inner, f"{page} is {width} px wide in a {inner} px window"
        # no diagram box scrolls sideways either: diagrams fit the content width
        wide = driver.execute_script(
            "return Array.from(document.querySelectorAll('.docgen-diagram'))"
            ".filter(b => b.scrollWidth > b.clientWidth + 1).length")
        assert wide == 0, page
        if page in GUIDE_PAGES:
            driver.save_screenshot(str(artifacts / f"1440-{page.replace('/', '_')}.png"))
    (artifacts / "page-sizes-1440.txt").write_text(
        "".join(f"{p}\t{w}\t{h}\n" for p, (w, h) in sizes.items()), encoding="utf-8")
    # the Module class page: its UML box is capped, the member tables come within reach
    module_height = sizes["classes/torch.nn.modules.module.Module.html"][1]
    _open(driver, f"{base_url}/classes/torch.nn.modules.module.Module.html")
    box = driver.execute_script(
        "return document.querySelector('.docgen-diagram svg').getBoundingClientRect().height")
    assert box < 1000 and module_height > box


def test_phones_pan_diagrams_inside_their_box(driver, site: Path, base_url: str,  # type: ignore[no-untyped-def]
                                              artifacts: Path) -> None:
    _viewport(driver, PHONE)
    try:
        for page in _existing(site, GUIDE_PAGES):
            _open(driver, f"{base_url}/{page}")
            width = driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= PHONE[0], f"{page}: {width} px wide on a phone"
            driver.save_screenshot(str(artifacts / f"390-{page.replace('/', '_')}.png"))
        _open(driver, f"{base_url}/index.html")
        box = driver.execute_script(
            "const b = document.querySelector('.docgen-diagram');"
            "return [b.scrollWidth, b.clientWidth, getComputedStyle(b).overflowX]")
        assert box[2] == "auto"
        button = driver.execute_script(
            "return document.querySelector('.docgen-diagram .docgen-zoom') !== null")
        assert button
    finally:
        _viewport(driver, DESKTOP)


def test_no_request_leaves_the_site(driver, site: Path, base_url: str) -> None:  # type: ignore[no-untyped-def]
    import json

    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, html
    driver.get_log("performance")  # drop what earlier tests logged
    requested = []
    for page in _existing(site, GUIDE_PAGES):
        _open(driver, f"{base_url}/{page}")
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                requested.append(message["params"]["request"]["url"])
    assert requested, "the performance log recorded nothing"
    external = sorted({u for u in requested
                       if not u.startswith((base_url, "data:", "blob:", "about:"))})
    assert external == []


def _row_text(driver, member: str) -> str:  # type: ignore[no-untyped-def]
    return str(driver.execute_script(
        "const rows = Array.from(document.querySelectorAll('article tr'));"
        "const row = rows.find(r => r.cells[0] && r.cells[0].innerText.trim() === arguments[0]);"
        "return row ? row.innerText : ''", member))


def test_class_pages_show_each_assignment(driver, site: Path, base_url: str,  # type: ignore[no-untyped-def]
                                          artifacts: Path) -> None:
    _viewport(driver, DESKTOP)
    _open(driver, f"{base_url}/classes/torch.nn.modules.conv._ConvNd.html")
    weight = _row_text(driver, "weight")
    assert "(in_channels, out_channels // groups, *kernel_size)" in weight
    assert "(out_channels, in_channels // groups, *kernel_size)" in weight
    assert "if transposed" in weight and "if not transposed" in weight
    assert "conv.py:162" in weight and "conv.py:169" in weight
    _open(driver, f"{base_url}/classes/torch.nn.modules.module.Module.html")
    compiled = _row_text(driver, "_compiled_call_impl")
    assert "None" in compiled and "class-level default" in compiled
    assert "module.py:480" in compiled and "torch.compile(" in compiled
    parameters = _row_text(driver, "_parameters")
    assert "through super().__setattr__" in parameters
    _open(driver, f"{base_url}/module-anatomy.html")
    article = driver.find_element("tag name", "article").text
    assert "bypasses Module's registration" in article
    _open(driver, f"{base_url}/classes/torch.nn.modules.pooling.MaxPool2d.html")
    kernel = _row_text(driver, "kernel_size")
    assert "assigned in _MaxPoolNd.__init__" in kernel and "pooling.py:65" in kernel
    # Conv2d: weight and bias first, inherited from _ConvNd, linked
    _open(driver, f"{base_url}/classes/torch.nn.modules.conv.Conv2d.html")
    first = driver.execute_script(
        "return document.querySelector('article table tbody tr').innerText")
    assert first.startswith("weight") and "_ConvNd" in first
    link = driver.execute_script(
        "const rows = Array.from(document.querySelectorAll('article tr'));"
        "const row = rows.find(r => r.cells[0] && r.cells[0].innerText.trim() === 'weight');"
        "return row.querySelector('a[href*=\"_ConvNd\"]') !== null")
    assert link
    folded = driver.execute_script(
        "return Array.from(document.querySelectorAll('details.docgen-inherited'))"
        ".map(d => [d.open, d.querySelector('summary').innerText])")
    assert [t.split(" (")[0] for _, t in folded] == ["Inherited attributes", "Inherited methods"]
    assert not any(is_open for is_open, _ in folded)


def test_docstrings_are_whole_and_nothing_leaks(driver, base_url: str,  # type: ignore[no-untyped-def]
                                                artifacts: Path) -> None:
    _viewport(driver, DESKTOP)
    _open(driver, f"{base_url}/classes/torch.nn.modules.conv.Conv2d.html")
    article = driver.find_element("tag name", "article").text
    for section in ("Args", "Shape", "Examples"):
        assert section in article
    for leaked in ("\\text", "\\frac", ":math:", ":attr:", "``", ".. math", "Examples::"):
        assert leaked not in article, leaked
    maths = driver.execute_script(
        "return Array.from(document.querySelectorAll('article math'))"
        ".map(m => m.getBoundingClientRect().height)")
    assert len(maths) > 10 and all(h > 0 for h in maths)  # MathML drawn, no script needed
    shape = driver.execute_script(
        "const h = Array.from(document.querySelectorAll('article strong'))"
        ".find(e => e.innerText === 'Shape');"
        "h.scrollIntoView(); return h !== undefined")
    assert shape
    driver.save_screenshot(str(artifacts / "conv2d-shape.png"))


def test_changes_lists_are_lists(driver, site: Path, base_url: str) -> None:  # type: ignore[no-untyped-def]
    pages = sorted(p.name for p in site.glob("changes-*.html"))
    assert len(pages) == 1, pages  # the fixture configures one pair
    page = pages[0]
    _open(driver, f"{base_url}/{page}")
    paragraphs = driver.execute_script(
        "return Array.from(document.querySelectorAll('article p')).map(p => p.innerText)")
    assert not [p for p in paragraphs if p.lstrip().startswith("- ") or "\n- " in p]
    items = driver.execute_script("return document.querySelectorAll('article li').length")
    intro = driver.find_element("tag name", "article").text
    count = int(intro.split(" change", 1)[0].split()[-1])
    assert count > 0 and items == count


def test_home_labels_memory_in_mib_and_mb(driver, base_url: str) -> None:  # type: ignore[no-untyped-def]
    _open(driver, f"{base_url}/index.html")
    text = driver.find_element("tag name", "article").text
    assert "233.08 MiB" in text and "244.40 MB" in text


def test_search_puts_the_class_page_first(driver, base_url: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    _viewport(driver, DESKTOP)
    _open(driver, f"{base_url}/index.html")
    box = _wait(driver, ec.element_to_be_clickable((By.CSS_SELECTOR, "input.md-search__input")))
    box.click()
    # names that begin longer class names (ReLU6, LinearCrossEntropyLoss, ModuleWrapper,
    # Dropout3d) used to rank their own page below those
    for name, page in (("Conv2d", "conv.Conv2d"), ("Linear", "linear.Linear"),
                       ("ReLU", "activation.ReLU"), ("Module", "module.Module"),
                       ("Dropout", "dropout.Dropout")):
        box.clear()
        box.send_keys(name)
        _wait(driver, lambda d, name=name: d.find_elements(
            By.CSS_SELECTOR, ".md-search-result__item a") and name.lower() in d.find_element(
            By.CSS_SELECTOR, ".md-search-result__item a").get_attribute("href").lower())
        first = driver.find_element(By.CSS_SELECTOR, ".md-search-result__item a")
        href = first.get_attribute("href").split("?", 1)[0]
        assert href.endswith(f"classes/torch.nn.modules.{page}.html"), (name, href)
    box.clear()
    box.send_keys("register_buffer")
    _wait(driver, lambda d: "matching" in d.find_element(
        By.CSS_SELECTOR, ".md-search-result__meta").text)
    meta = driver.find_element(By.CSS_SELECTOR, ".md-search-result__meta").text
    driver.save_screenshot(str(artifacts / "search-register-buffer.png"))
    found = int(meta.split()[0]) if meta.split()[0].isdigit() else 0
    assert 0 < found <= 20, meta  # inherited lists are not indexed


def test_class_index_filters(driver, base_url: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _viewport(driver, DESKTOP)
    _open(driver, f"{base_url}/classes/index.html")
    headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "article h2")]
    assert headings[0].startswith("Used by")
    box = driver.find_element(By.ID, "docgen-class-filter")
    box.send_keys("pool")
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('.docgen-class-list li'))"
        ".filter(li => li.offsetParent !== null).map(li => (li.innerText + ' ' +"
        " li.closest('.docgen-class-list').previousElementSibling.innerText).toLowerCase())")
    hidden = driver.execute_script(
        "return Array.from(document.querySelectorAll('.docgen-class-list li'))"
        ".filter(li => li.offsetParent === null).length")
    assert shown and hidden and all("pool" in s for s in shown)
    driver.save_screenshot(str(artifacts / "class-index-filter.png"))


@pytest.fixture(scope="module")
def font_site(tmp_path_factory) -> Iterator[tuple[Path, str]]:  # type: ignore[no-untyped-def]
    """A site built from a user's mkdocs.yml that names a Google font, served."""
    import textwrap

    import yaml

    from tests.sitekit import PACKAGE, synthetic_options

    _require_browser()
    base = tmp_path_factory.mktemp("font-site")
    for rel, text in PACKAGE.items():
        path = base / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    project = base / "proj"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Notes\n\n[Model](generated/index.md)\n")
    (project / "mkdocs.yml").write_text(yaml.safe_dump({
        "site_name": "fonts", "use_directory_urls": False,
        "theme": {"name": "material", "font": {"text": "Roboto", "code": "Roboto Mono"}},
        "plugins": ["search", {"docgen": synthetic_options(base / "src")}],
        "markdown_extensions": ["admonition", "attr_list", "md_in_html", "tables"]}))
    result = build(BuildRequest(root=project))
    assert result.site_dir is not None
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(result.site_dir))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield result.site_dir, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_a_user_config_naming_a_google_font_requests_nothing_outside(  # type: ignore[no-untyped-def]
        driver, font_site: tuple[Path, str]) -> None:
    import json

    site, url = font_site
    pages = ["index.html", "generated/index.html", "generated/classes/pkg.layers.Conv.html",
             "generated/hierarchy/index.html", "generated/classes/index.html"]
    assert all((site / p).is_file() for p in pages)
    driver.get_log("performance")
    requested = []
    for page in pages:
        _open(driver, f"{url}/{page}")
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                requested.append(message["params"]["request"]["url"])
    assert any(u.endswith(".css") for u in requested), "no stylesheet was requested at all"
    external = sorted({u for u in requested
                       if not u.startswith((url, "data:", "blob:", "about:"))})
    assert external == []


MATHDOC = {
    "mathdoc/__init__.py": "from mathdoc.layers import Module, Norm\n",
    "mathdoc/layers.py": '''
        class Module:
            """Base."""

            def __init__(self) -> None:
                self.training = True


        class Norm(Module):
            r"""Applies the :math:`\\log(\\text{Softmax}(x))` function to a tensor.

            The distance, i.e.:

            .. math ::
                \\Vert x \\Vert _p = \\left( \\sum_{i=1}^n \\vert x_i \\vert ^ p \\right) ^ {1/p}.

            Args:
                shape (int or list): input shape from an expected input
                    of size

                    .. math::
                        [* \\times \\text{shape}[0]]

                    If a single integer is used, it is a singleton list.

            Note:
                If ``ceil`` is on and :math:`(L_{out} - 1) \\times \\text{stride} \\geq L_{in}
                + \\text{padding}`, the last window is skipped.
            """

            def __init__(self, shape: int) -> None:
                super().__init__()
                self.shape = shape
    ''',
}


@pytest.fixture(scope="module")
def mathdoc_url(tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    yield from _served_package_site(tmp_path_factory, "mathdoc", MATHDOC)


def test_math_in_summaries_arguments_and_wrapped_roles_is_drawn(  # type: ignore[no-untyped-def]
        driver, mathdoc_url: str, artifacts: Path) -> None:
    """torch's shapes of math that leaked as LaTeX: a summary line's `:math:` (LogSoftmax),
    `.. math ::` (PairwiseDistance), a `.. math::` block inside an Args entry (LayerNorm) and
    a `:math:` role wrapped over lines starting with `+` (AvgPool2d)."""
    from selenium.webdriver.common.by import By

    _viewport(driver, DESKTOP)
    for page in ("classes/mathdoc.layers.Norm.html", "classes/index.html"):
        _open(driver, f"{mathdoc_url}/{page}")
        article = driver.find_element(By.TAG_NAME, "article")
        for leaked in ("\\text", "\\log", "\\Vert", ".. math", ":math:", "``"):
            assert leaked not in article.text, (page, leaked)
        heights = driver.execute_script(
            "return Array.from(document.querySelectorAll('article math'))"
            ".map(m => m.getBoundingClientRect().height)")
        assert heights and all(h > 0 for h in heights), (page, heights)
    _open(driver, f"{mathdoc_url}/classes/mathdoc.layers.Norm.html")
    summary = driver.find_element(By.CSS_SELECTOR, "article blockquote")
    assert summary.find_elements(By.TAG_NAME, "math")  # the summary line draws its formula
    blocks = driver.find_elements(By.CSS_SELECTOR, "article math[display='block']")
    assert len(blocks) >= 2
    driver.save_screenshot(str(artifacts / "mathdoc-norm.png"))
