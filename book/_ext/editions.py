"""The site's two editions.

The full edition (the default) shows each exercise's solution behind a
toggle: code solutions are cells tagged `solution` (and `hide-input`), worked
derivations are `{dropdown}` blocks with the class `solution`.

The student edition (VICOURSE_EDITION=student, which
`bash .ci/build_site.sh --student` sets) removes every such node before
anything is written, so no solution reaches its HTML or its search index. It
also drops what would lead back to them: the copied notebook sources (the
download button) and the Colab buttons, which open the notebooks with their
solutions; students get the notebooks `.ci/assign.py` generates instead.
tests/site/test_site.py checks that no solution text is in the student HTML.
"""

import os

from docutils import nodes
from sphinx.errors import ConfigError

EDITIONS = ("full", "student")
SOLUTION_CLASSES = {"tag_solution", "solution"}


def edition() -> str:
    value = os.environ.get("VICOURSE_EDITION", "full") or "full"
    if value not in EDITIONS:
        raise ConfigError(
            f"VICOURSE_EDITION must be one of {EDITIONS}, got {value!r};"
            " unset it for the full edition"
        )
    return value


def configure(app, config):
    config.vicourse_edition = edition()
    if config.vicourse_edition != "student":
        return
    config.html_copy_source = False
    options = config.html_theme_options
    options["use_download_button"] = False
    options["launch_buttons"] = {}
    title = config.html_title or config.project
    config.html_title = f"{title} (student edition)"


def strip_solutions(app, doctree):
    if app.config.vicourse_edition != "student":
        return
    found = [
        node
        for node in doctree.findall(nodes.Element)
        # a tagged cell's classes; a dropdown keeps its :class-container: apart
        if SOLUTION_CLASSES
        & {*node.get("classes", []), *node.get("container_classes", [])}
    ]
    for node in found:
        if node.parent is not None:
            node.parent.remove(node)


def setup(app):
    app.add_config_value("vicourse_edition", "full", "env")
    app.connect("config-inited", configure)
    app.connect("doctree-read", strip_solutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
