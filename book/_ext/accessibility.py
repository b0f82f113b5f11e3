"""Fixes for screen readers in what MyST-NB writes.

MyST-NB's toggle for hidden code ("Show code cell source") is a <summary>
whose aria-label, "Toggle hidden content", replaces its visible text for a
screen reader, so its spoken name does not contain what sighted readers see
(WCAG 2.5.3, axe's label-content-name-mismatch). This writes the same HTML
without that aria-label: its name is then its visible text. The theme's two
buttons with the same problem are fixed in _templates/.
tests/site/test_browser.py audits every page.
"""

from html import escape

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput


def visit_hide_cell_input(self, node):
    show, hide = escape(node["prompt_show"]), escape(node["prompt_hide"])
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n')
    self.body.append("<summary>\n")
    self.body.append(f'<p class="collapsed admonition-title">{show}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{hide}</p>\n')
    self.body.append("</summary>\n")


def setup(app):
    app.setup_extension("myst_nb")
    app.add_node(
        HideCodeCellNode,
        override=True,
        html=(visit_hide_cell_input, depart_HideCellInput),
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
