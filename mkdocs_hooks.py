"""mkdocs hooks of the documentation site (``hooks:`` in mkdocs.yml).

The docstrings follow numpydoc and cross-reference with Sphinx roles (:func:`name`); mkdocstrings
renders those verbatim. This hook turns them into plain code spans so that no raw role reaches a
page: ``:func:`~sklearn_recsys.x.f``` becomes ``f`` and ``:class:`a.B``` becomes ``a.B``;
``:math:`` roles and ``.. math::`` blocks become formulas that MathJax renders.
"""

import re

_ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|ref|term|doc|const)"
    r":(<code>)(~?)([^<]*)</code>"
)
_MATH = re.compile(r":math:<code>([^<]*)</code>")
# a numpydoc ".. math::" directive: mkdocstrings renders it as a paragraph and a code block
_MATH_BLOCK = re.compile(r"<p>\.\. math::</p>\s*<pre><code>(.*?)</code></pre>", re.DOTALL)
# inside a code span (a parameter's type) the role keeps its backticks
_ROLE_IN_CODE = re.compile(
    r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|ref|term|doc|"
    r"const):`(~?)([^`<]*)`"
)


def _plain(match):
    text = match.group(3)
    if match.group(2):  # "~a.b.c" shows "c", as Sphinx does
        text = text.rsplit(".", 1)[-1]
    return f"<code>{text}</code>"


def _bare(match):
    text = match.group(2)
    return text.rsplit(".", 1)[-1] if match.group(1) else text


def on_page_content(html, **kwargs):
    """Replace the Sphinx roles left in the rendered HTML of a page."""
    html = _ROLE.sub(_plain, html)
    html = _ROLE_IN_CODE.sub(_bare, html)
    html = _MATH_BLOCK.sub(r'<div class="arithmatex">\\[\1\\]</div>', html)
    return _MATH.sub(r'<span class="arithmatex">\\(\1\\)</span>', html)
