"""HTML rendering of executed notebooks: offline-safe, titled, with contents and back link (no kernel)."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402

from crm_analysis.report.browser import check_links  # noqa: E402
from crm_analysis.report.render import notebook_to_html  # noqa: E402


def _png() -> str:
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    ax.set_title("t")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _executed_notebook(path: Path) -> Path:
    """A notebook as papermill leaves it: headings, a figure output, a table output, code."""
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_code_line = 1\nfig")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={
            "text/html": "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>",
            "text/plain": "a\n1"}),
    ]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Report title\n\nSome text with $x$ dollars."),
        code,
        nbformat.v4.new_markdown_cell("## Second part\n\n### Detail"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_report_html_is_offline_safe_titled_with_toc_and_back_link(tmp_path: Path) -> None:
    src = _executed_notebook(tmp_path / "nb.ipynb")
    (tmp_path / "index.html").write_text("<html><head><title>i</title></head><body>index</body></html>")
    out = notebook_to_html(src, tmp_path / "html" / "nb.html", title="My report: nb", index_href="../index.html")
    page = out.read_text()
    # no script, style sheet or image from the network (nbconvert's default loads require.js and MathJax)
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=\"(https?:)?//", page)
    assert "cdnjs" not in page and "mathjax" not in page.lower()
    assert "<title>My report: nb</title>" in page
    assert 'href="../index.html"' in page and "Back to index" in page
    toc = page[page.index('<nav class="crm-toc">'):]
    toc = toc[: toc.index("</nav>")]
    assert all(f'href="#{a}"' in toc for a in ("Report-title", "Second-part", "Detail"))
    assert page.index("crm-topbar") < page.index('<nav class="crm-toc">') < page.index('id="Report-title"')
    assert "secret_code_line" not in page  # inputs are left out
    imgs = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert len(imgs) == 1 and imgs[0].startswith("data:image/png;base64,")
    assert "<table>" in page or "<table " in page
    # every link, anchor and image of the page resolves
    (check,) = [c for c in check_links(out) if c.path == out.resolve()]
    assert check.ok, check.problems
