"""The built site reads offline: every page that uses MathJax loads it from a file inside the build.

Needs the site built first (the README's build command). .ci/run builds it and sets
VICOURSE_REQUIRE_SITE=1, so there a missing build fails instead of skipping.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCRIPT = re.compile(r'<script[^>]*\bsrc="([^"]*mathjax[^"]*)"', re.IGNORECASE)


@pytest.fixture(scope="module")
def pages():
    if not (HTML / "index.html").is_file():
        if os.environ.get("VICOURSE_REQUIRE_SITE") == "1":
            pytest.fail(f"no built site at {HTML}; the site build must run before these tests")
        pytest.skip("site not built; run the README's build command first")
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)


def test_every_mathjax_script_is_a_file_in_the_build(pages):
    with_math = 0
    for page in pages:
        for src in SCRIPT.findall(page.read_text(encoding="utf-8")):
            assert not src.startswith(("http:", "https:", "//")), (
                f"{page.name} loads MathJax from the network: {src}"
            )
            target = (page.parent / src.split("?")[0]).resolve()
            assert target.is_file(), (
                f"{page.relative_to(HTML)} points at {src}, which is not in the build"
            )
            with_math += 1
    assert with_math >= 4


def test_every_chapter_page_has_mathjax_and_the_colab_button(pages):
    chapters = [p for p in pages if p.parent.name == "book" and re.match(r"\d\d_", p.name)]
    assert len(chapters) >= 4
    for page in chapters:
        html = page.read_text(encoding="utf-8")
        assert SCRIPT.search(html), page.name
        colab = f"https://colab.research.google.com/github/vicourse/vicourse/blob/main/book/{page.stem}.ipynb"
        assert colab in html, f"{page.name} lacks the Colab launch link {colab}"


def test_mathjax_fonts_ship_with_the_site(pages):
    assert list(
        (HTML / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")
    )
