"""Execute once, reuse (.ci/executed.py): the tests reuse the site build's execution of the
chapters only while the tree is the one it executed; any change to a chapter, a module or the
book's configuration makes nbval execute them again."""

import shutil

import nbformat
import pytest
from conftest import ROOT, load_tool, toc_files
from jupyter_cache import get_cache

executed = load_tool("executed")


@pytest.fixture
def tree(tmp_path):
    for name in ["book/01_latent_variable_models.ipynb", "vicourse/gaussian.py", "_config.yml"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_a_stamp_holds_until_the_tree_changes(tree):
    assert not executed.current(tree)  # no site build yet
    executed.stamp(tree)
    assert executed.current(tree) and executed.fingerprint(tree) == executed.fingerprint(tree)
    for name in ["book/01_latent_variable_models.ipynb", "vicourse/gaussian.py", "_config.yml"]:
        executed.stamp(tree)
        path = tree / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert not executed.current(tree), name
        path.write_bytes(original)
        assert executed.current(tree), name


def test_a_new_module_or_chapter_changes_the_fingerprint(tree):
    executed.stamp(tree)
    (tree / "vicourse" / "new.py").write_text("x = 1\n")
    assert not executed.current(tree)
    executed.stamp(tree)
    shutil.copy(tree / "book" / "01_latent_variable_models.ipynb", tree / "book" / "09_x.ipynb")
    assert not executed.current(tree)


def test_a_damaged_stamp_is_not_current(tree):
    executed.stamp_path(tree).parent.mkdir()
    executed.stamp_path(tree).write_text("{not json")
    assert not executed.current(tree)
    executed.stamp_path(tree).write_text('{"fingerprint": 3}')
    assert not executed.current(tree)


def test_the_site_build_empties_the_cache_executes_into_it_then_builds_and_stamps():
    script = (ROOT / ".ci" / "build_site.sh").read_text()
    assert "rm -rf _build/.jupyter_cache _build/executed _build/executed.json" in script
    assert '"$PYTHON" .ci/executed.py --stamp' in script
    order = [
        "rm -rf _build/.jupyter_cache",
        '"$PYTHON" .ci/execute.py',
        "jupyter_book.cli",
        "--stamp",
    ]
    assert sorted(order, key=script.index) == order


# ----------------------------------------------------- executing into the cache (.ci/execute.py)

execute = load_tool("execute")


def test_the_site_build_executes_every_notebook_of_the_table_of_contents():
    toc = [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").is_file()]
    assert execute.notebooks() == toc and len(toc) >= 9


def test_what_it_caches_is_what_myst_nb_finds_and_a_failure_is_left_out(tmp_path):
    """MyST-NB matches a chapter to the cache by its code (jupyter-cache's hash): the executed
    copy that execute.py caches must be found for the notebook as read from the book, with its
    outputs; a notebook that fails is not cached, so that the build executes it and shows why."""
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]), good
    )
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), bad)
    for path in (good, bad):
        nb = nbformat.read(path, as_version=4)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, path)
    copies = tmp_path / "copies"
    cached = execute.execute_into_cache([good, bad], tmp_path / "cache", copies, 2, 60)
    assert set(cached) == {good} and [p.name for p in copies.iterdir()] == ["good.ipynb"]
    assert nbformat.read(copies / "good.ipynb", as_version=4).cells[0].outputs
    cache = get_cache(str(tmp_path / "cache"))
    _, merged = cache.merge_match_into_notebook(nbformat.read(good, as_version=4))
    assert merged.cells[0].outputs[0]["text"] == "42\n"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(bad, as_version=4))
