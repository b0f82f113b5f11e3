"""Fixes for screen readers in what MyST-NB writes.

MyST-NB's toggle for hidden code ("Show code cell source") is a <summary>
whose aria-label, "Toggle hidden content", replaces its visible text for a
screen reader, so its spoken name does not contain what sighted readers see
(WCAG 2.5.3, axe's label-content-name-mismatch). This writes the same HTML
without that aria-label: its name is then its visible text. The theme's two
buttons with the same problem are fixed in _templates/.

The References page (sphinxcontrib-bibtex) is a list of citations, which
docutils writes as <div role="list"> holding <div role="doc-biblioentry">:
a role ARIA 1.2 deprecates, and not the listitem a list must hold (axe's
aria-deprecated-role and aria-required-children). Each entry is written with
role="listitem" instead.
tests/site/test_browser.py audits every page.
"""

from html import escape

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput
from sphinx.writers.html5 import HTML5Translator


def visit_citation(self, node):
    HTML5Translator.visit_citation(self, node)
    self.body[-1] = self.body[-1].replace(
        'role="doc-biblioentry"', 'role="listitem"'
    )


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
    app.add_node(
        nodes.citation,
        override=True,
        html=(visit_citation, HTML5Translator.depart_citation),
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
