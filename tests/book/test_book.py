"""The book's guards: every chapter in _toc.yml is run by nbval, notebooks are committed without
outputs, and every chapter starts with the Colab setup cell and links the modules it uses.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, toc_files


def toc_chapters() -> list[Path]:
    """The numbered chapters (book/NN_…); the other pages (instructors, status…) are Markdown."""
    return [ROOT / f"{name}.ipynb" for name in toc_files() if re.match(r"book/\d\d_", name)]


def test_every_other_page_in_the_toc_exists():
    pages = [name for name in toc_files() if not re.match(r"book/\d\d_", name)]
    assert pages, "the teaching, troubleshooting and status pages are in _toc.yml"
    assert all(
        (ROOT / f"{name}.md").is_file() or (ROOT / f"{name}.ipynb").is_file() for name in pages
    ), pages


def test_every_toc_chapter_exists_and_is_collected_by_nbval():
    """The same pytest configuration as the test command (pyproject's addopts and testpaths) must
    collect every chapter (nbval leaves them out only where the site build's execution is
    reused, VICOURSE_REUSE_EXECUTED=1, unset here). book/ is one of the testpaths, and collecting it
    with those addopts (and nothing else, which would import every test module) finds them all.
    """
    chapters = toc_chapters()
    assert len(chapters) >= 4
    missing = [str(p) for p in chapters if not p.is_file()]
    assert not missing, f"chapters listed in _toc.yml but not found: {missing}"
    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    assert "book" in pytest_options["ini_options"]["testpaths"]
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "book"],
        cwd=ROOT,
        env={**os.environ, "VICOURSE_REUSE_EXECUTED": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    collected = {line.split("::")[0] for line in listing.stdout.splitlines() if ".ipynb::" in line}
    not_collected = [
        str(p.relative_to(ROOT)) for p in chapters if str(p.relative_to(ROOT)) not in collected
    ]
    assert not not_collected, (
        f"chapters in _toc.yml that the nbval run does not collect: {not_collected}\n"
        f"{listing.stdout[-2000:]}"
    )


def test_notebooks_are_committed_without_outputs():
    for path in toc_chapters():
        cells = json.loads(path.read_text())["cells"]
        dirty = [
            i
            for i, c in enumerate(cells)
            if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])
        ]
        assert not dirty, (
            f"{path.name}: cells {dirty} have stored outputs; clear them before committing"
        )


def test_chapters_start_with_the_guarded_colab_setup_and_link_their_modules():
    for path in toc_chapters():
        cells = json.loads(path.read_text())["cells"]
        first_code = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert 'if "google.colab" in sys.modules:' in first_code and "%pip install" in first_code, (
            path.name
        )
        assert "vicourse.describe(" in first_code, path.name
        text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        linked = set(re.findall(r"vicourse/(\w+)\.py", text))
        assert linked, f"{path.name} links no vicourse module"
        code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "import vicourse" in code, path.name
        for module in linked:
            assert (ROOT / "vicourse" / f"{module}.py").is_file(), (path.name, module)
            doc = (ROOT / "vicourse" / f"{module}.py").read_text()
            assert "Chapter" in doc


def test_every_claim_cell_is_hidden_but_executed():
    """Cells that assert the text's claims are tagged remove-cell: off the page, still run by the
    build and nbval.
    """
    for path in toc_chapters():
        cells = json.loads(path.read_text())["cells"]
        checks = [
            c
            for c in cells
            if c["cell_type"] == "code" and "remove-cell" in c.get("metadata", {}).get("tags", [])
        ]
        # a claim is asserted; an exercise's reference solution is checked by exercises.verify
        assert checks, path.name
        for c in checks:
            source = "".join(c["source"])
            assert "assert" in source or "exercises.verify" in source, (path.name, source[:80])
        assert not any(
            "skip-execution" in c.get("metadata", {}).get("tags", [])
            or "nbval-skip" in c.get("metadata", {}).get("tags", [])
            for c in cells
        ), path.name


def test_random_data_and_starting_values_are_drawn_on_the_cpu():
    """The same data on every device (the troubleshooting page says so): a random tensor in a
    chapter is drawn on the CPU (no device= beside its generator=) and moved after, and the data
    and starting values come from the CPU's data_g, not from the device's g. Chapter 2 passes a
    CPU generator of its own; chapter 1's g is on the CPU; chapter 8's images are fixed."""
    draw = re.compile(r"torch\.(randn|rand|randint)\((?:[^()]|\([^()]*\))*\)", re.S)
    for path in toc_chapters():
        cells = json.loads(path.read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        for source in code:
            for call in draw.finditer(source):
                text = call.group(0)
                assert not ("generator=" in text and "device=" in text), (path.name, text)
                assert "generator=g," not in text and "generator=g)" not in text, text
        setup = code[0]
        if "data_g" in "".join(code[1:]):
            assert "data_g = vicourse.make_generator(" in setup, path.name
        if path.name.startswith("01_"):
            assert "g = vicourse.seed_everything(0)  # on the CPU" in setup


def test_every_chapter_cites_and_every_citation_resolves():
    """book/references.bib holds every paper a chapter cites ({cite:t}`key`, {cite:p}`a,b`),
    every entry is cited somewhere, and every chapter cites at least one. The site build checks
    the same from the other side: an unknown key is a warning, and warnings fail it."""
    bib = (ROOT / "book" / "references.bib").read_text()
    entries = set(re.findall(r"^@\w+\{(\w+),", bib, flags=re.M))
    cited = set()
    for path in toc_chapters():
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        keys = {
            k.strip()
            for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", text)
            for k in group.split(",")
        }
        assert keys, f"{path.name} cites no paper"
        assert keys <= entries, (path.name, keys - entries)
        cited |= keys
    assert cited == entries, f"in references.bib but cited nowhere: {entries - cited}"
    assert "bibtex_bibfiles: [book/references.bib]" in (ROOT / "_config.yml").read_text()
    assert "book/references" in toc_files()


def test_every_page_with_a_colab_button_installs_vicourse_first():
    """Every notebook page gets a Colab launch button, so each one, the status page too, starts
    by installing vicourse in Colab (a notebook without it fails there on `import vicourse`)."""
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        first_code = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert 'if "google.colab" in sys.modules:' in first_code, path.name
        assert first_code.index("%pip install") < first_code.index("import vicourse"), path.name


def test_the_chapters_the_site_build_executed_ran_cleanly():
    """Execute once, reuse: where the site was just built from this tree
    (VICOURSE_REUSE_EXECUTED=1), tests/conftest.py leaves the chapters out of nbval, and the
    build's executions must show what nbval would have checked: every chapter there, with its
    code as it stands, every code cell run, no error."""
    from conftest import executed_chapters, reuse_the_site_build

    if not reuse_the_site_build():
        pytest.skip("nbval executes the chapters in this run")
    ran = executed_chapters()
    assert sorted(ran) == sorted(p.name for p in toc_chapters())
    for name, nb in ran.items():
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            assert cell.execution_count is not None, (name, cell.source[:60])
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, (name, errors[:1])
