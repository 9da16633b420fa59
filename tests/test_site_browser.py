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
                                overrides={"pages": "model", "sources": sources}))
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


@pytest.fixture(scope="module")
def injected_url(tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import textwrap

    _require_browser()
    src = tmp_path_factory.mktemp("inj-src")
    for rel, text in PWNED.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(textwrap.dedent(text), encoding="utf-8")
    project = tmp_path_factory.mktemp("inj-site")
    result = build(BuildRequest(root=project, overrides={
        "model": "", "packages": ["inj"], "sources": (SourceSpec("inj", str(src)),),
        "module_root": "inj.layers.Module"}))
    assert result.site_dir is not None
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(result.site_dir))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


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
