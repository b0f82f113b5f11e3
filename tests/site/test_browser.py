"""The built site as a reader sees it, in headless Chromium at 1280 px, with no network: every
request that leaves the local server is refused (and recorded), so what passes here reads offline.

On every page: the math is typeset (no raw TeX left visible), every image loads, no cell output
shows an error or a traceback, and nothing asks the network for anything. On every chapter: no
code block, printed output or display formula is wider than the text column (the site would cut
it or make it scroll). On the home page the table of contents lists every page in the order of
_toc.yml, and the search page finds "reparameterization" in chapter 7. A screenshot of each page
is saved to _build/screenshots/ for review.

Needs the site built (the README's build command), the Python package playwright and a Chromium
(Debian's `chromium`, or VICOURSE_CHROMIUM=/path/to/chrome). Without them these tests skip, unless
VICOURSE_REQUIRE_SITE=1 (as in .ci/run), where they fail.
"""

import functools
import http.server
import os
import re
import shutil
import threading

import pytest
from conftest import HTML, ROOT, chapter_pages, require, toc, toc_files

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # optional: only these tests need it
    sync_playwright = None
try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # optional: only the accessibility audit needs it
    Axe = None

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


SCREENSHOTS = ROOT / "_build" / "screenshots"

# What a reader would see that is wrong: TeX MathJax left alone, images that did not load, outputs
# that are errors. Text inside code blocks is exempt (it may show TeX on purpose).
INSPECT = r"""() => {
  const article = document.querySelector('article') || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .MathJax')
    .forEach(el => el.remove());
  const text = clone.textContent;
  const raw = ['$$', '\\(', '\\[', '\\begin{', '\\frac', '\\mathcal']
    .filter(tex => text.includes(tex))
    .map(tex => {
      const i = text.indexOf(tex);
      return text.slice(Math.max(0, i - 40), i + 40).replace(/\s+/g, ' ');
    });
  const images = [...document.querySelectorAll('img')]
    .filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.getAttribute('src'));
  const errors = [...document.querySelectorAll(
      '.cell_output .traceback, .cell_output .error, .cell_output .stderr')]
    .map(el => el.textContent.trim().slice(0, 120));
  const tracebacks = [...document.querySelectorAll('.cell_output')]
    .filter(el => el.textContent.includes('Traceback (most recent call last)'))
    .map(el => el.textContent.trim().slice(0, 120));
  return {raw, images, errors: [...errors, ...tracebacks],
          formulas: document.querySelectorAll('mjx-container').length,
          images_total: document.querySelectorAll('img').length};
}"""


def site_pages() -> list[str]:
    """Every page a reader reaches from the table of contents, relative to the site's root."""
    if not (HTML / "index.html").is_file():
        return []
    # index.html only redirects to the root page
    return [f"{toc()['root']}.html", *(f"{f}.html" for f in toc_files())]


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
        base = f"http://127.0.0.1:{server.server_address[1]}"
        context = chromium.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        refused = []

        def offline(route):
            if route.request.url.startswith(base):
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        context.route("**/*", offline)
        context.refused = refused
        yield context, base
        context.close()
        chromium.close()
    server.shutdown()
    server.server_close()


def by_page(paths: list[str]) -> list:
    """One parameter per page, each page's checks in one group, so that under pytest-xdist they
    run on one worker and share its one load of the page (visit)."""
    return [pytest.param(path, marks=pytest.mark.xdist_group(f"page {path}")) for path in paths]


VISITS: dict[str, dict] = {}


CHAPTER = re.compile(r"book/\d\d_")  # a chapter page: book/01_… to book/99_…


def visit(browser, path: str) -> dict:
    """Load a page once, as a reader would (math typeset), and keep what the checks below read
    from it: INSPECT's findings, the requests refused, a full-page screenshot, its images, the
    accessibility audit, and last (it opens every <details>) a chapter's MEASURE."""
    if path not in VISITS:
        context, base = browser
        before = len(context.refused)
        page = context.new_page()
        page.goto(f"{base}/{path}", wait_until="load")
        page.evaluate("() => window.MathJax?.startup?.promise")  # every formula typeset
        found = {"inspect": page.evaluate(INSPECT), "images": page.evaluate(IMAGES)}
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{path.replace('/', '_')}.png", full_page=True)
        if Axe is not None:
            found["violations"] = Axe().run(page, options=AUDIT).response["violations"]
        if CHAPTER.match(path):
            found["measure"] = page.evaluate(MEASURE)
        page.close()
        found["refused"] = context.refused[before:]
        VISITS[path] = found
    return VISITS[path]


@pytest.mark.parametrize(
    "path", by_page([f"book/{p.name}" for p in chapter_pages()]) or ["(no site)"]
)
def test_nothing_on_a_chapter_page_is_wider_than_the_text_column(browser, path):
    result = visit(browser, path)["measure"]
    assert result["counts"]["code"] >= 5 and result["counts"]["math"] >= 1, result["counts"]
    wide = "\n".join(
        f"  {w['what']} {w['overflow']:.0f} px too wide: {w['text']!r}" for w in result["wide"]
    )
    assert not result["wide"], f"{path} at {WIDTH} px:\n{wide}"


@pytest.mark.parametrize("path", by_page(site_pages()) or ["(no site)"])
def test_every_page_reads_whole_and_offline(browser, path):
    found = visit(browser, path)
    result = found["inspect"]
    assert not result["raw"], f"{path}: TeX not typeset: {result['raw']}"
    assert not result["images"], f"{path}: images that did not load: {result['images']}"
    assert not result["errors"], f"{path}: outputs that show errors: {result['errors']}"
    asked = found["refused"]
    assert not asked, f"{path} asked the network (refused, so offline it would miss): {asked}"
    if CHAPTER.match(path):
        assert result["formulas"] >= 1 and result["images_total"] >= 1, result


def test_the_table_of_contents_lists_every_page_in_order(browser):
    require(site_pages(), f"no built site at {HTML}")
    context, base = browser
    page = context.new_page()
    page.goto(f"{base}/index.html")  # redirects to the root page
    page.wait_for_url("**/intro.html")
    links = page.evaluate(
        """() => [...document.querySelectorAll('nav.bd-docs-nav a.reference.internal')]
             .map(a => new URL(a.href).pathname)"""
    )
    page.close()
    expected = ["/" + p for p in site_pages()[1:]]
    listed = [link for link in links if link in expected]
    assert listed == expected, f"the sidebar lists {listed}, expected {expected}"


def test_search_finds_a_term_in_its_chapter(browser):
    require(site_pages(), f"no built site at {HTML}")
    context, base = browser
    page = context.new_page()
    page.goto(f"{base}/search.html?q=reparameterization")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    hits = page.evaluate(
        "() => [...document.querySelectorAll('#search-results ul.search li a')]"
        ".map(a => new URL(a.href).pathname)"
    )
    page.close()
    assert "/book/07_reparameterization.html" in hits, hits


# The audit: axe-core's WCAG 2.0 and 2.1 rules at levels A and AA, with the rule for WCAG 2.5.3
# (a control's name contains its visible label), which axe ships switched off, switched on.
AUDIT = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "rules": {"label-content-name-mismatch": {"enabled": True}},
    "resultTypes": ["violations"],
}
# An alt text that is a file name or a path says nothing.
PATH_LIKE = re.compile(r"[/\\]|\.(png|jpe?g|svg|gif)$|^_images|^[0-9a-f]{16,}", re.IGNORECASE)
IMAGES = """() => [...document.querySelectorAll('article img')].map(img => ({
  alt: img.getAttribute('alt'), src: (img.getAttribute('src') || '').slice(0, 60),
  decorative: img.getAttribute('role') === 'presentation'
    || img.getAttribute('aria-hidden') === 'true',
  scale: img.clientWidth / img.naturalWidth,
  caption: img.closest('figure')?.querySelector('figcaption')?.textContent.trim() || null,
}))"""


@pytest.mark.parametrize("path", by_page(site_pages()) or ["(no site)"])
def test_every_page_passes_the_accessibility_audit(browser, path):
    require(Axe is not None, "the Python package axe-playwright-python is not installed")
    violations = visit(browser, path)["violations"]
    found = [
        f"  {v['id']} ({v['impact']}): {len(v['nodes'])}× e.g. {v['nodes'][0]['html'][:100]}"
        for v in violations
    ]
    assert not found, f"{path}: WCAG 2.1 A/AA violations:\n" + "\n".join(found)


@pytest.mark.parametrize("path", by_page(site_pages()) or ["(no site)"])
def test_every_figure_says_what_it_shows(browser, path):
    """Alt text that describes (not empty, not a path, a sentence), a numbered caption for each
    chapter figure, and figures shown at (nearly) their natural size, so that their text is as
    legible as it was drawn (10 pt at 100 dpi: 14 px)."""
    for image in visit(browser, path)["images"]:
        if image["decorative"]:
            continue
        alt = image["alt"] or ""
        assert alt.strip() and not PATH_LIKE.search(alt.strip()), (path, image)
        assert len(alt.split()) >= 8, f"{path}: alt text too short to describe: {alt!r}"
        assert image["scale"] >= 0.85, f"{path}: figure shrunk to {image['scale']:.2f}: {alt[:50]}"
        if not alt.startswith("Animation"):
            assert image["caption"] and re.match(r"Fig\. \d+", image["caption"]), (path, image)


def test_alt_texts_in_order_tell_the_course():
    """Read in order, the figures' alt texts are a description of the argument: one per figure,
    no two alike."""
    require(site_pages(), f"no built site at {HTML}")
    alts = []
    for path in site_pages():
        alts += re.findall(r'<img[^>]* alt="([^"]*)"', (HTML / path).read_text(encoding="utf-8"))
    described = [a for a in alts if len(a.split()) >= 8]
    assert len(described) >= 20 and len(set(described)) == len(described)


# Each element that gets the focus, as it gets it (what is shown is measured then).
STOPS = """() => {
  window.stops = []; window.stopped = [];
  document.addEventListener('focusin', () => {
    const el = document.activeElement, box = el.getBoundingClientRect();
    window.stopped.push(el);
    window.stops.push({cls: String(el.className || ''), href: el.getAttribute('href'),
                       text: (el.textContent || '').trim().slice(0, 40),
                       shown: box.width > 0 && box.height > 0,
                       next: String(el.className || '').includes('right-next')});
  });
}"""
BATCH = 20


@pytest.mark.parametrize("index", range(max(len(site_pages()) - 1, 1)))
def test_every_page_can_be_read_with_the_keyboard_alone(browser, index):
    """From the top of a page, Tab reaches the link to the next page, every element it stops at
    is on screen when focused (nothing is focused while hidden), and Enter follows the link."""
    require(site_pages(), f"no built site at {HTML}")
    path, following = site_pages()[index], site_pages()[index + 1]
    context, base = browser
    page = context.new_page()
    page.goto(f"{base}/{path}")
    page.evaluate(STOPS)
    for _ in range(600 // BATCH):  # Tab, BATCH times between two looks
        for _ in range(BATCH):
            page.keyboard.press("Tab")
        stops = page.evaluate("() => window.stops")
        reached = [i for i, stop in enumerate(stops) if stop["next"]]
        if reached:
            break
    else:
        pytest.fail(f"{path}: 600 presses of Tab never reached the link to the next page")
    hidden = [stop for stop in stops[: reached[0]] if not stop["shown"]]
    # back on the link that Tab reached (the presses after it moved on), then Enter
    page.evaluate("() => window.stopped[window.stops.findIndex(s => s.next)].focus()")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{following}")
    page.close()
    assert not hidden, f"{path}: focus stopped on elements that are not shown: {hidden[:5]}"
