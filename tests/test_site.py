"""The built site reads offline: every page that uses MathJax loads it from a file inside the build.

Needs the site built first (the README's build command). .ci/run builds it and sets
VICOURSE_REQUIRE_SITE=1, so there a missing build fails instead of skipping.
"""

import json
import re

from conftest import EXECUTED, HTML, chapter_pages

SCRIPT = re.compile(r'<script[^>]*\bsrc="([^"]*mathjax[^"]*)"', re.IGNORECASE)


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


def test_printed_output_fits_the_code_column(pages):
    """Every line a chapter prints (text outputs of the executed notebooks) is at most 79
    characters, like the code; cells whose output is removed from the site are exempt."""
    executed = sorted(EXECUTED.glob("[0-9][0-9]_*.ipynb"))
    assert len(executed) == len(chapter_pages()) >= 4
    wide = []
    for path in executed:
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] != "code" or "remove-output" in cell["metadata"].get("tags", []):
                continue
            for output in cell["outputs"]:
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                if "data" in output and len(output["data"]) > 1:
                    continue  # a figure or HTML: its text/plain is not what the site shows
                for line in "".join(text).splitlines():
                    if len(line) > 79:
                        wide.append(f"{path.name} cell {i}: {len(line)} columns: {line[:60]}…")
    assert not wide, "\n".join(wide)
