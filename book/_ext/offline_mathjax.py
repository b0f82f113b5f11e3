"""Serve MathJax 3 from the site itself, so formulas render with no network.

The files come from the PyPI package django-static-mathjax, which ships MathJax
3's es5 build. They are copied to _static/mathjax/ when the HTML build
finishes; _config.yml points Sphinx's mathjax_path at
_static/mathjax/tex-chtml.js. tests/site/test_site.py checks that every built
page's MathJax script exists.
"""

import shutil
from pathlib import Path

SKIP = shutil.ignore_patterns(
    "sre", "*svg*", "*-full*", "node-main.js", "mml-*"
)
PACKAGE = "django-static-mathjax>=3.2,<4"


def mathjax_source() -> Path:
    try:
        import mathjax  # the django-static-mathjax package
    except ImportError as error:
        raise ImportError(
            f"the site build needs MathJax's files: pip install '{PACKAGE}'"
        ) from error
    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (source / "tex-chtml.js").is_file():
        raise FileNotFoundError(
            f"no MathJax 3 build at {source}; reinstall {PACKAGE}"
        )
    return source


def copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        shutil.copytree(
            mathjax_source(), target, ignore=SKIP, dirs_exist_ok=True
        )


def setup(app):
    # Fail at the start of the build, not after executing every chapter.
    mathjax_source()
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
