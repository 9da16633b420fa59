"""The Walk pages in headless Chromium at 1440x900: the answer first, short pages with the
alternatives folded, no table wider than the content area, route diagrams that link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import test_site_browser as _site_browser

# the site's browser fixtures, shared (one built site, one Chromium per module)
site = _site_browser.site
base_url = _site_browser.base_url
driver = _site_browser.driver
artifacts = _site_browser.artifacts

pytestmark = [pytest.mark.browser, pytest.mark.wheels]

SCREEN = (1440, 900)
MAX_SCREENS = 10


def _open(driver, url: str) -> None:  # type: ignore[no-untyped-def]
    driver.set_window_size(*SCREEN)
    driver.get(url)


@pytest.mark.parametrize("page", ["conv2d", "linear", "dropout", "relu"])
def test_walk_page_is_short_and_answers_first(driver, base_url: str, artifacts: Path,  # type: ignore[no-untyped-def]
                                              page: str) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, f"{base_url}/walk/{page}.html")
    article = driver.find_element(By.TAG_NAME, "article")
    headings = [h.text for h in article.find_elements(By.TAG_NAME, "h2")]
    assert headings[:4] == ["CPU float32 train, oneDNN on", "CPU float32 train, oneDNN off",
                            "CUDA float32 train, cuDNN on", "CUDA float32 train, cuDNN off"]
    first_paragraph = article.find_elements(By.CSS_SELECTOR, "h2 + p")[0].text
    assert first_paragraph.startswith("On CPU float32 train, oneDNN on,") and " runs " in \
        first_paragraph
    height = driver.execute_script("return document.documentElement.scrollHeight")
    print(f"walk/{page}: {height} px tall at {SCREEN[0]}x{SCREEN[1]}")
    assert height < MAX_SCREENS * SCREEN[1], height
    details = article.find_elements(By.TAG_NAME, "details")
    assert details and all(d.get_attribute("open") is None for d in details)
    content = driver.execute_script(
        "return document.querySelector('.md-content__inner').clientWidth")
    for table in article.find_elements(By.TAG_NAME, "table"):
        if table.is_displayed():
            assert table.size["width"] <= content, (table.size, content)
    page_width = driver.execute_script("return document.documentElement.scrollWidth")
    assert page_width <= SCREEN[0]
    driver.save_screenshot(str(artifacts / f"walk-{page}.png"))


def test_conv2d_route_diagram_links_and_answers(driver, base_url: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _open(driver, f"{base_url}/walk/conv2d.html")
    article = driver.find_element(By.TAG_NAME, "article")
    answers = [p.text for p in article.find_elements(By.CSS_SELECTOR, "h2 + p")][:4]
    # CPU with oneDNN on runs oneDNN's kernel, off the slow one; CUDA runs cuDNN's
    assert "mkldnn_convolution" in answers[0] and "slow_conv2d" in answers[1]
    assert "cudnn_convolution" in answers[2] and "cudnn" not in answers[3]
    routes = article.find_elements(By.CSS_SELECTOR, ".docgen-route svg")
    assert len(routes) == 4 and all(r.is_displayed() for r in routes)
    links = article.find_elements(By.CSS_SELECTOR, ".docgen-route svg a")
    hrefs = [a.get_attribute("href") or a.get_attribute("xlink:href") or "" for a in links]
    assert any("torch.nn.modules.conv.Conv2d" in h for h in hrefs), hrefs[:5]
    assert any("native_functions.yaml#L" in h for h in hrefs), hrefs[:5]
    # opening the folded taken path shows linked hops
    summary = article.find_element(By.CSS_SELECTOR, "details.docgen-taken summary")
    summary.click()
    table = article.find_element(By.CSS_SELECTOR, "details.docgen-taken table")
    assert table.is_displayed()
    assert table.find_elements(By.CSS_SELECTOR, "a[href*='github.com']")


def test_backends_page_leads_with_what_to_register_and_folds_the_long_tables(  # type: ignore[no-untyped-def]
        driver, base_url: str, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, f"{base_url}/walk/backends.html")
    article = driver.find_element(By.TAG_NAME, "article")
    headings = [h.text for h in article.find_elements(By.TAG_NAME, "h2")]
    assert headings[0].startswith("What AlexNet needs") and \
        headings[1] == "Where a new backend plugs in"
    todo = article.find_element(By.XPATH, "//h3[contains(., 'must register')]/following::table[1]")
    assert todo.is_displayed() and "aten::" in todo.text
    height = driver.execute_script("return document.documentElement.scrollHeight")
    print(f"walk/backends: {height} px tall at {SCREEN[0]}x{SCREEN[1]}")
    assert height < MAX_SCREENS * SCREEN[1], height
    folded = article.find_elements(By.TAG_NAME, "details")
    assert len(folded) >= 3 and all(d.get_attribute("open") is None for d in folded)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= SCREEN[0]
    driver.save_screenshot(str(artifacts / "walk-backends.png"))


@pytest.mark.parametrize("page", ["conv2d", "linear"])
def test_every_branch_read_is_a_page_of_its_own_that_fits(  # type: ignore[no-untyped-def]
        driver, base_url: str, artifacts: Path, page: str) -> None:
    """Opened in full, the walk page stays a few screens and its tables fit; the full map
    is its own page: each operator once, every call a link to an entry there, hops linked
    to the yaml lines and to upstream C++ at repository@commit, nothing wider than 1440."""
    from selenium.webdriver.common.by import By

    _open(driver, f"{base_url}/walk/{page}.html")
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    content = driver.execute_script(
        "return document.querySelector('.md-content__inner').clientWidth")
    article = driver.find_element(By.TAG_NAME, "article")
    for table in article.find_elements(By.TAG_NAME, "table"):
        assert table.size["width"] <= content, (table.size, content)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    print(f"walk/{page} unfolded: {height} px")
    assert height < 40 * SCREEN[1], height  # 185,000 px (Conv2d), 536,000 px (Linear) before
    link = article.find_element(By.XPATH, "//h2[contains(., 'Every branch read')]"
                                          "/following::a[contains(@href, '-branches')][1]")
    assert link.get_attribute("href").endswith(f"/walk/{page}-branches.html")
    link.click()
    assert driver.current_url.endswith(f"/walk/{page}-branches.html")
    article = driver.find_element(By.TAG_NAME, "article")
    headings = [h.text.strip("¶ \n") for h in article.find_elements(By.TAG_NAME, "h3")]
    assert headings and len(headings) == len(set(headings)), headings
    missing = driver.execute_script(
        "return [...document.querySelectorAll('article a[href^=\"#\"]')]"
        ".map(a => a.getAttribute('href').slice(1))"
        ".filter(id => !document.getElementById(decodeURIComponent(id)))")
    assert not missing, missing[:5]
    hrefs = [a.get_attribute("href") or "" for a in article.find_elements(By.TAG_NAME, "a")]
    assert any("native_functions.yaml#L" in h for h in hrefs)
    assert any("derivatives.yaml#L" in h for h in hrefs)
    assert any(re.search(r"github\.com/[\w-]+/pytorch/blob/[0-9a-f]{12}/", h) for h in hrefs)
    assert any("/classes/" in h for h in hrefs)  # Python hops link their class pages
    content = driver.execute_script(
        "return document.querySelector('.md-content__inner').clientWidth")
    for table in article.find_elements(By.TAG_NAME, "table"):
        assert table.size["width"] <= content, (table.size, content)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= SCREEN[0]
    driver.save_screenshot(str(artifacts / f"walk-{page}-branches.png"))


# Line breaks inside the taken path's code: a break between two letters or digits that no
# `.`, `:` or `_` separates (`Module._wrapped_c / all_impl`) is a break inside a word.
_MID_WORD_BREAKS = """
const out = [];
for (const code of document.querySelectorAll(arguments[0])) {
  const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
  let prev = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      const ch = node.data[i];
      if (prev && rect.top > prev.top + 2 && /\\w/.test(ch) && /[A-Za-z0-9]/.test(prev.ch)
          && /[A-Za-z0-9]/.test(ch)) out.push(code.textContent);
      prev = {top: rect.top, ch: ch};
    }
  }
}
return out;
"""


def test_taken_path_names_wrap_between_their_parts(driver, base_url: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _open(driver, f"{base_url}/walk/conv2d.html")
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    codes = driver.find_elements(By.CSS_SELECTOR, "details.docgen-taken table code")
    assert len(codes) > 20
    broken = driver.execute_script(_MID_WORD_BREAKS, "details.docgen-taken table code")
    assert not broken, broken[:5]
    # the alternatives are grouped by why: one reason, given once, rules out several calls
    for folded in driver.find_elements(By.CSS_SELECTOR, "details.docgen-alternatives"):
        items = folded.find_elements(By.TAG_NAME, "li")
        reasons = [li.text.split(": ", 1)[-1] for li in items]
        assert len(reasons) == len(set(reasons))
    items = driver.find_elements(By.CSS_SELECTOR, "details.docgen-alternatives li")
    assert any(len(li.find_elements(By.TAG_NAME, "code")) > 3 for li in items)


def test_the_answer_starts_on_a_phones_first_screen(driver, base_url: str) -> None:  # type: ignore[no-untyped-def]
    """The page leads with the answer: the first setting's answer sentence is whole on the
    first screen at 390x844 (the list of commits the C++ edges were read at comes last)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        driver.get(f"{base_url}/walk/conv2d.html")
        bottom = driver.execute_script(
            "return document.querySelector('article h2 + p').getBoundingClientRect().bottom")
        assert bottom < 844, bottom  # 1,100 px with the commits first
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_search_ranks_the_walk_page_above_its_full_map(driver, base_url: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    _open(driver, f"{base_url}/index.html")
    box = WebDriverWait(driver, 30).until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, "input.md-search__input")))
    box.click()
    box.send_keys("Conv2d")
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, ".md-search-result__item > a")) >= 3)
    pages = [a.get_attribute("href").split("?", 1)[0].rsplit("/", 2)[-2:] for a in
             driver.find_elements(By.CSS_SELECTOR, ".md-search-result__item > a")]
    assert pages[0] == ["classes", "torch.nn.modules.conv.Conv2d.html"], pages[:3]
    assert pages.index(["walk", "conv2d.html"]) < pages.index(["walk", "conv2d-branches.html"])
