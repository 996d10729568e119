"""The papermill runner on tiny dummy notebooks (two kernel starts in all)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from crm_analysis.report.browser import check_links
from crm_analysis.report.cli import main
from crm_analysis.report.config import load_config
from crm_analysis.report.index import render_index
from crm_analysis.runtime.figures import format_value
from crm_analysis.report.runner import NotebookFailed, run_chain

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

GOOD = """\
from crm_analysis.runtime.context import RunContext
ctx = RunContext(run_dir, seed=seed, as_of=as_of, notebook="good")
ctx.headline("big_number", 1234.5678, label="A big number")
print("value", n * 2, "seed", seed)
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([1, 2, 3], [3, 1, 2])
ax.set(title="A figure", xlabel="x", ylabel="y")
plt.show()"""

BAD = """\
x = 1
raise ValueError("boom " + str(x))"""


@pytest.fixture(scope="module")
def chain(tmp_path_factory, notebook_helpers):
    """One successful run through the CLI, then a failing run through run_chain."""
    write_notebook, write_config = notebook_helpers

    root = tmp_path_factory.mktemp("project")
    write_notebook(root / "notebooks" / "good.ipynb", GOOD, "n = 3\n")
    write_notebook(root / "notebooks" / "bad.ipynb", BAD)
    ok_cfg = write_config(root / "config" / "ok.yaml",
                          [{"name": "good", "path": "notebooks/good.ipynb", "parameters": {"n": 21}}])
    # a data file next to the configuration, named relative: found in the config's folder (recorded)
    (root / "config" / "orders.csv").write_text("customer_id,timestamp,amount\na,2024-01-05,1\n")
    raw = yaml.safe_load(ok_cfg.read_text())
    raw["data"]["transactions"] = {"loader": "csv", "path": "orders.csv"}
    ok_cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    bad_cfg = write_config(root / "config" / "bad.yaml", [{"name": "bad", "path": "notebooks/bad.ipynb"}])
    reports = root / "reports"

    rc = main(["report", "--config", str(ok_cfg), "--seed", "5", "--quiet"])
    before = {"index": (reports / "index.html").read_bytes(), "latest": os.readlink(reports / "latest")}
    with pytest.raises(NotebookFailed) as err:
        run_chain(load_config(bad_cfg), progress=False)
    after = {"index": (reports / "index.html").read_bytes(), "latest": os.readlink(reports / "latest")}
    return {"root": root, "reports": reports, "rc": rc, "before": before, "after": after, "error": err.value}


def _ok_run(chain) -> Path:
    return (chain["reports"] / "latest").resolve()


def test_success_publishes_index_and_latest(chain) -> None:
    assert chain["rc"] == 0
    reports = chain["reports"]
    latest = reports / "latest"
    assert latest.is_symlink() and not os.path.isabs(os.readlink(latest))
    run = _ok_run(chain)
    assert run.parent == (reports / "runs").resolve()
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{8}(-\d+)?", run.name)
    for name in ("config.yaml", "run.json", "run.log", "good.ipynb", "html/good.html", "index.html",
                 "artifacts/headlines.json"):
        assert (run / name).is_file(), name


def test_run_record(chain) -> None:
    rec = json.loads((_ok_run(chain) / "run.json").read_text())
    assert rec["status"] == "ok"
    assert rec["seed"] == 5 and rec["as_of"] == "2024-06-30"
    assert rec["package_version"] and rec["python_version"].count(".") == 2
    orders = str((chain["root"] / "config" / "orders.csv").resolve())
    assert rec["data_sources"] == {"transactions": {"loader": "csv", "path": orders}, "bookings": {"loader": "synthetic"}}
    info = rec["data_paths"]["transactions.path"]
    assert (info["given"], info["path"], info["against"]) == ("orders.csv", orders, "the configuration file's folder")
    assert [w for w, _ in info["tried"]][-1] == "the configuration file's folder"
    assert f"data.transactions.path 'orders.csv' resolved against the configuration file's folder: {orders}" in (
        _ok_run(chain) / "run.log").read_text()
    (nb,) = rec["notebooks"]
    assert nb["status"] == "ok" and nb["started"] <= nb["finished"] and nb["duration_s"] > 0
    assert nb["parameters"]["n"] == 21 and nb["parameters"]["seed"] == 5
    assert Path(nb["parameters"]["run_dir"]).resolve() == _ok_run(chain)
    assert "[1/1] good ... done in" in (_ok_run(chain) / "run.log").read_text()


def test_html_has_outputs_but_no_code(chain) -> None:
    page = (_ok_run(chain) / "html" / "good.html").read_text()
    assert "value 42 seed 5" in page  # parameters were injected and the output rendered
    assert "RunContext(run_dir" not in page and "ctx.headline" not in page
    assert 'class="crm-toc"' in page and "Second part" in page


def test_index_content_and_links(chain) -> None:
    reports = chain["reports"]
    page = (reports / "index.html").read_text()
    run = _ok_run(chain)
    assert f"runs/{run.name}/html/good.html" in page
    assert "A big number" in page and format_value(1234.5678) in page
    for href in re.findall(r'href="([^"#]+)"', page):
        assert not href.startswith(("http:", "https:", "//")), href
        assert (reports / href).exists(), href
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?:', page)


def test_failure_names_notebook_and_cell(chain) -> None:
    err: NotebookFailed = chain["error"]
    assert err.notebook == "bad"
    assert err.ename == "ValueError" and err.evalue == "boom 1"
    assert err.cell_source == "x = 1"  # the first line of the cell, kept for reference
    # the message quotes the failing statement (from the traceback), not the first line of the cell
    assert (err.line, err.statement) == (2, 'raise ValueError("boom " + str(x))')
    assert 'line 2 `raise ValueError("boom " + str(x))`' in str(err) and "`x = 1`" not in str(err)
    assert "'bad'" in str(err) and f"cell {err.cell_index}" in str(err) and "ValueError: boom 1" in str(err)
    executed = nbformat.read(str(err.output_path), as_version=4)
    assert executed.cells[err.cell_index].source.startswith("x = 1")
    assert err.html_path is not None and err.html_path.is_file()
    rec = json.loads((err.run_dir / "run.json").read_text())
    assert rec["status"] == "failed"
    assert rec["notebooks"][0]["status"] == "failed" and rec["error"]["ename"] == "ValueError"
    assert rec["error"]["statement"] == 'raise ValueError("boom " + str(x))' and rec["error"]["line"] == 2
    assert 'raise ValueError(&#34;boom &#34; + str(x))' in (err.run_dir / "index.html").read_text()
    assert err.result is not None and not err.result.published


def test_failure_leaves_published_report_untouched(chain) -> None:
    assert chain["after"]["index"] == chain["before"]["index"]
    assert chain["after"]["latest"] == chain["before"]["latest"]
    assert chain["error"].run_dir.resolve() != _ok_run(chain)


def test_history_lists_failed_runs(chain) -> None:
    page = render_index(_ok_run(chain), reports_dir=chain["reports"])
    failed = chain["error"].run_dir.name
    assert f'href="runs/{failed}/"' in page
    row = page[page.index(f'href="runs/{failed}/"'):]
    assert "failed" in row[: row.index("</tr>")]


def test_reports_links_and_images_resolve(chain) -> None:
    """Pure-Python check of everything reachable from the index (both runs, all pages)."""
    checks = check_links(chain["reports"])
    assert all(c.ok for c in checks), [(c.path, c.problems) for c in checks]
    assert {"index.html", "good.html"} <= {c.path.name for c in checks}
    failed = check_links(chain["error"].run_dir)  # the failed run's own index and its report
    assert all(c.ok for c in failed), [(c.path, c.problems) for c in failed]
    assert "bad.html" in {c.path.name for c in failed}
    good = next(c for c in checks if c.path.name == "good.html")
    assert good.images == 1  # the figure, embedded as a data URI
    assert 'src="data:image/png;base64,' in (_ok_run(chain) / "html" / "good.html").read_text()


def test_check_report_in_headless_chromium(chain, tmp_path: Path, capsys, chromium: Path) -> None:
    shot = tmp_path / "index.png"
    assert main(["check-report", str(chain["reports"]), "--screenshot", str(shot)]) == 0
    out = capsys.readouterr().out
    assert "OK: no problem found" in out and "browser check: " in out and "skipped" not in out
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerender_rebuilds_pages_from_executed_notebooks(chain, tmp_path: Path) -> None:
    import shutil

    from crm_analysis.report.publish import rerender_runs

    reports = tmp_path / "reports"
    shutil.copytree(chain["reports"], reports, symlinks=True)
    page = reports / "latest" / "html" / "good.html"
    page.write_text('<html><head><script src="https://cdn.example.invalid/x.js"></script></head></html>')
    written = rerender_runs(reports)
    assert page.resolve() in [p.resolve() for p in written] and (reports / "index.html") in written
    assert "cdn.example.invalid" not in page.read_text() and "value 42 seed 5" in page.read_text()
    assert all(c.ok for c in check_links(reports))
