"""Index page, value formatting and the HTML table of contents (no kernel)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from crm_analysis.report.index import collect_runs, format_value, render_index
from crm_analysis.report.render import add_toc


def _run(reports: Path, run_id: str, status: str, started: str, title: str = "t") -> Path:
    d = reports / "runs" / run_id
    (d / "artifacts").mkdir(parents=True)
    (d / "html").mkdir()
    rec = {"run_id": run_id, "title": title, "status": status, "started": started, "finished": started,
           "seed": 1, "as_of": "2024-12-31", "package_version": "0.1.0", "python_version": "3.11.0",
           "data_sources": {"transactions": {"loader": "synthetic"}},
           "notebooks": [{"name": "first", "source": "/x/notebooks/00_first.ipynb", "status": status,
                          "html": "html/00_first.html", "output": "00_first.ipynb", "duration_s": 1.5,
                          "parameters": {"seed": 1, "alpha": 0.5}}]}
    (d / "run.json").write_text(json.dumps(rec))
    return d


def test_collect_runs_newest_first_and_tolerates_broken_records(tmp_path: Path) -> None:
    _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T00:00:00")
    _run(tmp_path, "20240102T000000-bbbb", "failed", "2024-01-02T00:00:00")
    broken = tmp_path / "runs" / "20240103T000000-cccc"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    runs = collect_runs(tmp_path)
    assert [r["run_id"] for r in runs][:2] == ["20240102T000000-bbbb", "20240101T000000-aaaa"]
    assert {r["run_id"]: r["status"] for r in runs}["20240103T000000-cccc"] == "unknown"
    assert collect_runs(tmp_path / "nowhere") == []


def test_index_shows_headlines_parameters_history_and_escapes(tmp_path: Path) -> None:
    ok = _run(tmp_path, "20240101T000000-aaaa", "ok", "2024-01-01T00:00:00", title="<b>Shop</b> & co")
    _run(tmp_path, "20240102T000000-bbbb", "failed", "2024-01-02T00:00:00")
    (ok / "artifacts" / "headlines.json").write_text(json.dumps(
        {"first": {"customers": {"value": 23570, "label": "Customers <all>"}, "share": {"value": 0.4567, "label": "Top share"}}}))
    page = render_index(ok, reports_dir=tmp_path)
    assert "&lt;b&gt;Shop&lt;/b&gt; &amp; co" in page and "<b>Shop</b>" not in page
    assert "Customers &lt;all&gt;" in page and format_value(23570) in page and format_value(0.4567) in page
    assert 'href="runs/20240101T000000-aaaa/html/00_first.html"' in page
    assert 'href="runs/20240102T000000-bbbb/"' in page and "alpha = 0.5" in page
    inner = render_index(ok)  # the copy inside the run folder links relative to it
    assert 'href="html/00_first.html"' in inner and 'href="../20240102T000000-bbbb/"' in inner


@given(st.integers(-10**12, 10**12))
def test_format_integers_round_trip(n: int) -> None:
    assert int(format_value(n).replace(",", "")) == n


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_format_floats_close(x: float) -> None:
    shown = float(format_value(x).replace(",", ""))
    assert abs(shown - x) <= max(0.5, 0.005 * abs(x))


def test_format_missing() -> None:
    assert format_value(None) == format_value(float("nan")) == "-"


def test_toc_links_every_heading() -> None:
    page = ('<html><body><main><h1 id="Data-quality">Data quality<a class="anchor-link" href="#Data-quality">¶</a></h1>'
            '<p>x</p><h2 id="Sources">Sources</h2><h3 id="A&amp;B">A &amp; B</h3></main></body></html>')
    out = add_toc(page)
    nav = out[out.index('<nav class="crm-toc">'):out.index("</nav>")]
    for anchor in ("#Data-quality", "#Sources", "#A&amp;B"):
        assert f'href="{anchor}"' in nav
    assert "¶" not in nav and out.index("<nav") > out.index("<body>")
    assert add_toc("<body><h1 id='x'>only</h1></body>") == "<body><h1 id='x'>only</h1></body>"
