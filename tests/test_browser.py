"""The built site as a reader sees it, in headless Chromium at 1280 px: no code block, printed
output or display formula is wider than the text column (the site would cut it or make it scroll).

Needs the site built (the README's build command), the Python package playwright and a Chromium
(Debian's `chromium`, or VICOURSE_CHROMIUM=/path/to/chrome). Without them these tests skip, unless
VICOURSE_REQUIRE_SITE=1 (as in .ci/run), where they fail.
"""

import functools
import http.server
import os
import shutil
import threading

import pytest
from conftest import HTML, chapter_pages, require

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # optional: only these tests need it
    sync_playwright = None

WIDTH, HEIGHT = 1280, 900
SLACK = 1  # px: sub-pixel rounding

# Everything a reader can open is measured: hidden cell sources are in <details>, opened first.
MEASURE = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const shown = el => el.getClientRects().length > 0;
  const text = el => el.textContent.trim().slice(0, 70);
  const code = [...document.querySelectorAll('div.highlight pre, div.cell_output pre')]
    .filter(shown)
    .filter(el => el.scrollWidth > el.clientWidth + SLACK)
    .map(el => ({what: 'code', overflow: el.scrollWidth - el.clientWidth, text: text(el)}));
  const math = [...document.querySelectorAll('mjx-container[display="true"]')]
    .filter(shown)
    .map(el => {
      const column = el.closest('div.math, div.cell_output, article') || el.parentElement;
      const width = el.querySelector('mjx-math').getBoundingClientRect().width;
      return {what: 'formula', overflow: width - column.clientWidth,
              text: el.querySelector('mjx-assistive-mml')?.textContent.slice(0, 70) || ''};
    })
    .filter(m => m.overflow > SLACK);
  const counts = {
    code: document.querySelectorAll('div.highlight pre').length,
    math: document.querySelectorAll('mjx-container[display="true"]').length,
  };
  return {wide: [...code, ...math], counts};
}""".replace("SLACK", str(SLACK))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def chromium_path() -> str | None:
    return os.environ.get("VICOURSE_CHROMIUM") or next(
        filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])), None
    )


@pytest.fixture(scope="module")
def browser():
    require((HTML / "index.html").is_file(), f"no built site at {HTML}; build it first")
    require(sync_playwright is not None, "the Python package playwright is not installed")
    executable = chromium_path()
    require(executable, "no Chromium found: install Debian's chromium or set VICOURSE_CHROMIUM")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        chromium = playwright.chromium.launch(executable_path=executable, args=flags)
        yield chromium, f"http://127.0.0.1:{server.server_address[1]}"
        chromium.close()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("page_name", [p.name for p in chapter_pages()] or ["(no site)"])
def test_nothing_on_a_chapter_page_is_wider_than_the_text_column(browser, page_name):
    chromium, base = browser
    page = chromium.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    page.goto(f"{base}/book/{page_name}")
    page.evaluate("() => MathJax.startup.promise")  # every formula typeset
    result = page.evaluate(MEASURE)
    page.close()
    assert result["counts"]["code"] >= 5 and result["counts"]["math"] >= 1, result["counts"]
    wide = "\n".join(
        f"  {w['what']} {w['overflow']:.0f} px too wide: {w['text']!r}" for w in result["wide"]
    )
    assert not result["wide"], f"{page_name} at {WIDTH} px:\n{wide}"
