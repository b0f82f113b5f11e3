"""The built site reads offline: every page that uses MathJax loads it from a file inside the build.
The student edition (`bash .ci/build_site.sh --student`) holds no solution.

Needs the site built first (the README's build command). .ci/run builds it and sets
VICOURSE_REQUIRE_SITE=1, so there a missing build fails instead of skipping.
"""

import html
import json
import re

from conftest import (
    HTML,
    ROOT,
    chapter_pages,
    executed_chapters,
    load_tool,
    require,
    solution_lines,
    visible_text,
)

import vicourse

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
    url, ref = load_tool("repoint").configured()
    chapters = [p for p in pages if p.parent.name == "book" and re.match(r"\d\d_", p.name)]
    assert len(chapters) >= 4
    for page in chapters:
        html = page.read_text(encoding="utf-8")
        assert SCRIPT.search(html), page.name
        repository = url.removeprefix("https://github.com/")
        colab = f"https://colab.research.google.com/github/{repository}/blob/{ref}/book/{page.stem}.ipynb"
        assert colab in html, f"{page.name} lacks the Colab launch link {colab}"


def test_mathjax_fonts_ship_with_the_site(pages):
    assert list(
        (HTML / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")
    )


def test_printed_output_fits_the_code_column(pages):
    """Every line a chapter prints (text outputs of the executed notebooks) is at most 79
    characters, like the code; cells whose output is removed from the site are exempt."""
    executed = executed_chapters()
    assert len(executed) == len(chapter_pages()) >= 4
    wide = []
    for name, nb in executed.items():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or "remove-output" in cell.metadata.get("tags", []):
                continue
            for output in cell.outputs:
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                if "data" in output and len(output["data"]) > 1:
                    continue  # a figure or HTML: its text/plain is not what the site shows
                for line in "".join(text).splitlines():
                    if len(line) > 79:
                        wide.append(f"{name} cell {i}: {len(line)} columns: {line[:60]}…")
    assert not wide, "\n".join(wide)


STUDENT = HTML.parent / "student" / "_build" / "html"


def squeezed(text: str) -> str:
    """Text without any whitespace: code is highlighted token by token, so spacing varies."""
    return "".join(text.split())


def page_text(path) -> str:
    """What a page says, without markup: tags stripped, entities decoded, no whitespace."""
    return squeezed(html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))))


def solution_snippets(notebook) -> list[str]:
    """Text that only a solution contains: the lines of each code solution, and a run of plain
    words from each worked derivation."""
    snippets = []
    cells = json.loads(notebook.read_text())["cells"]
    visible = visible_text(cells)
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            snippets += solution_lines(source, visible)
        elif cell["cell_type"] == "markdown" and ":class-container: solution" in source:
            prose = re.sub(r"\$\$.*?\$\$|\$.*?\$", "|", source, flags=re.S)
            runs = re.findall(r"(?:[A-Za-z]+[ ,]+){3,}[A-Za-z]+", prose)
            snippets.append(max(runs, key=len))
    return snippets


def test_the_student_edition_has_no_solution_text():
    """`bash .ci/build_site.sh --student` builds a site whose HTML holds no solution (while the
    full site shows every one, behind its toggle), and no way back to the notebooks that do."""
    require((STUDENT / "index.html").is_file(), f"no student edition at {STUDENT}; build it")
    chapters = chapter_pages()
    assert chapters
    for page in chapters:
        snippets = solution_snippets(ROOT / "book" / f"{page.stem}.ipynb")
        assert len(snippets) >= 3, page.name
        full, student = page_text(page), page_text(STUDENT / "book" / page.name)
        for snippet in map(squeezed, snippets):
            assert snippet in full, f"{page.name}: the full site lacks {snippet!r}"
            assert snippet not in student, f"student {page.name} shows {snippet!r}"
        assert "Exercise" in student and "Solution" not in student
        raw = (STUDENT / "book" / page.name).read_text(encoding="utf-8")
        assert "colab.research.google.com" not in raw and "_sources/" not in raw
    assert not (STUDENT / "_sources").exists()


def test_the_status_page_names_the_release():
    page = HTML / "book" / "status.html"
    require(page.is_file(), f"no built site at {HTML}; build it first")
    text = page.read_text(encoding="utf-8")
    assert f"v{vicourse.__version__}" in text or f"version {vicourse.__version__}," in text
    assert f"vicourse {vicourse.__version__}" in text
