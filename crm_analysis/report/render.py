"""Render an executed notebook to a stand-alone HTML report without code cells."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["notebook_to_html", "add_toc", "findings_html", "REMOVE_CELL_TAGS", "REMOVE_OUTPUT_TAGS", "TEMPLATE_FILE"]

#: Cell tags whose cells are left out of the HTML report entirely.
REMOVE_CELL_TAGS = {"remove_cell", "remove-cell"}
#: Cell tags whose outputs are left out of the HTML report.
REMOVE_OUTPUT_TAGS = {"remove_output", "remove-output"}

#: nbconvert template of the reports (extends ``lab``; no CDN scripts, back link, table CSS).
TEMPLATE_FILE = Path(__file__).with_name("templates") / "notebook.html.j2"
#: Where :func:`add_toc` puts the table of contents when the page has this marker.
TOC_MARKER = "<!-- crm-toc -->"

_HEADING_RE = re.compile(r"<h([1-3])(?P<attrs>[^>]*)\bid=\"(?P<id>[^\"]+)\"[^>]*>(?P<body>.*?)</h\1>", re.S)
_TAG_RE = re.compile(r"<[^>]+>")

_TOC_CSS = """
<style>
nav.crm-toc { max-width: 1100px; margin: 1.5em auto 0 auto; padding: 0.8em 1.2em;
  border: 1px solid #d8dee4; border-radius: 6px; background: #f6f8fa;
  font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 0.95em; }
nav.crm-toc strong { display: block; margin-bottom: 0.3em; }
nav.crm-toc ul { margin: 0; padding-left: 1.2em; }
nav.crm-toc li.lvl2 { margin-left: 1.2em; } nav.crm-toc li.lvl3 { margin-left: 2.4em; }
nav.crm-toc a { color: #0b5cad; text-decoration: none; } nav.crm-toc a:hover { text-decoration: underline; }
</style>
"""


def add_toc(page: str, *, min_headings: int = 2) -> str:
    """Insert a table of contents of the ``h1``-``h3`` headings.

    The contents go where the page has the marker ``<!-- crm-toc -->`` (the
    report template puts it below the top bar), else right after ``<body>``.

    Parameters
    ----------
    page : str
        HTML produced by nbconvert (headings carry ``id`` anchors).
    min_headings : int, default 2
        Pages with fewer headings are returned unchanged.

    Returns
    -------
    str
        The page with a ``<nav class="crm-toc">`` block.
    """
    items = []
    for m in _HEADING_RE.finditer(page):
        text = html.unescape(_TAG_RE.sub("", m.group("body"))).replace("\u00b6", "").strip()
        if text:
            items.append((int(m.group(1)), m.group("id"), text))
    if len(items) < min_headings:
        return page
    top = min(level for level, _, _ in items)
    lis = "\n".join(
        f'<li class="lvl{level - top + 1}"><a href="#{anchor}">{html.escape(text)}</a></li>'
        for level, anchor, text in items
    )
    nav = f'{_TOC_CSS}<nav class="crm-toc"><strong>Contents</strong><ul>\n{lis}\n</ul></nav>\n'
    if TOC_MARKER in page:
        return page.replace(TOC_MARKER, nav, 1)
    m = re.search(r"<body[^>]*>", page)
    if m is None:
        return nav + page
    return page[: m.end()] + "\n" + nav + page[m.end() :]


_FINDINGS_CSS = """
<style>
section.crm-findings { max-width: 1100px; margin: 1.2em auto 0 auto; padding: 0.7em 1.2em 0.6em;
  border-left: 4px solid #2f6fb3; background: #f3f8fe; border-radius: 4px;
  font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 1em; }
section.crm-findings strong { display: block; margin-bottom: 0.2em; }
section.crm-findings ul { margin: 0; padding-left: 1.2em; } section.crm-findings li { margin: 0.15em 0; }
</style>
"""


def findings_html(findings: Sequence[str]) -> str:
    """The block of findings a report opens with (``""`` for none); every sentence HTML-escaped."""
    if not findings:
        return ""
    items = "\n".join(f"<li>{html.escape(f)}</li>" for f in findings)
    return f'{_FINDINGS_CSS}<section class="crm-findings"><strong>Findings</strong><ul>\n{items}\n</ul></section>\n'


def notebook_to_html(
    notebook: str | Path,
    output: str | Path,
    *,
    title: str | None = None,
    toc: bool = True,
    index_href: str | None = None,
    findings: Sequence[str] = (),
) -> Path:
    """Render an executed notebook to HTML without code cells.

    Inputs and prompts are excluded (``HTMLExporter`` with ``exclude_input``,
    ``exclude_input_prompt``, ``exclude_output_prompt``); cells tagged
    ``remove-cell`` and outputs of cells tagged ``remove-output`` are left out.
    The page is offline-safe: it uses :data:`TEMPLATE_FILE` (nbconvert's
    ``lab`` look without require.js, MathJax, Mermaid or widget scripts from a
    CDN) and embeds every image as a data URI. The file is written atomically.

    Parameters
    ----------
    notebook : str or Path
        The executed ``.ipynb``.
    output : str or Path
        The ``.html`` file to write.
    title : str, optional
        Page title (default: the notebook's file name).
    toc : bool, default True
        Add a table of contents of the markdown headings.
    index_href : str, optional
        Target of the "Back to index" link in the top bar (relative to the
        page); no link when ``None``.
    findings : sequence of str, optional
        Plain-language findings the page opens with (above the table of
        contents), e.g. from :func:`crm_analysis.presentation.findings`.

    Returns
    -------
    Path
        ``output``.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    c.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    c.HTMLExporter.embed_images = True
    for url in ("mathjax_url", "require_js_url", "mermaid_js_url", "jupyter_widgets_base_url", "widget_renderer_url"):
        setattr(c.HTMLExporter, url, "")
    exporter = HTMLExporter(config=c, template_name="lab", template_file=str(TEMPLATE_FILE))
    nb = nbformat.read(str(notebook), as_version=4)
    name = title or Path(notebook).stem
    resources = {"metadata": {"name": name}, "crm": {"title": name, "index_href": index_href}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    block = findings_html(findings)
    if block:
        body = body.replace(TOC_MARKER, block + TOC_MARKER, 1) if TOC_MARKER in body else body
    if toc:
        body = add_toc(body)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, output)
    return output
