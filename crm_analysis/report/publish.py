"""Publishing the runs of the report chain: the ``latest`` link and index, pruning, re-rendering.

:func:`publish` makes a finished run the published one atomically;
:func:`prune_runs` deletes old run folders (never the published one, nor a run
in progress); :func:`rerender_runs` renders the HTML of every run again from
the executed notebooks. :func:`crm_analysis.report.runner.run_chain` calls
:func:`publish`; the CLI calls the others.
"""

from __future__ import annotations

from crm_analysis.exceptions import OperationError

import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from crm_analysis.report.config import _check_int
from crm_analysis.report.index import (
    collect_runs,
    read_run,
    render_index,
    report_findings,
    write_glossary,
    write_text_atomic,
)
from crm_analysis.report.records import mark_abandoned
from crm_analysis.report.render import notebook_to_html

__all__ = ["publish", "prune_runs", "rerender_runs"]

log = logging.getLogger("crm_analysis.report")


def publish(run_dir: str | Path, reports_dir: str | Path) -> Path:
    """Make the run in ``run_dir`` the published one, atomically.

    Renders ``<reports_dir>/index.html`` first (in memory), then replaces the
    ``latest`` symlink by a new one (relative target ``runs/<id>``) through a
    temporary link and :func:`os.replace`, then replaces ``index.html``
    through a temporary file.

    Returns
    -------
    Path
        ``<reports_dir>/index.html``.

    Raises
    ------
    RuntimeError
        When ``<reports_dir>/latest`` exists and is not a symlink.
    """
    run_dir = Path(run_dir).resolve()
    reports = Path(reports_dir).resolve()
    page = render_index(run_dir, reports_dir=reports)
    latest = reports / "latest"
    if latest.exists() and not latest.is_symlink():
        raise OperationError(f"{latest} exists and is not a symlink; remove it to publish")
    tmp = reports / f".latest.{os.getpid()}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(run_dir, reports), tmp, target_is_directory=True)
    os.replace(tmp, latest)
    return write_text_atomic(reports / "index.html", page)


def prune_runs(reports_dir: str | Path, keep: int, *, protect: Iterable[str | Path] = ()) -> list[Path]:
    """Delete all but the ``keep`` newest run folders; never the one ``latest`` points to, nor a run in progress.

    Runs are ordered by their start time (``run.json``), then by name. The
    run ``latest`` points to and the runs in ``protect`` (ids or folders) are
    kept in any case and count towards ``keep``. Runs in progress (status
    ``running`` with a live process, see
    :func:`~crm_analysis.report.records.run_is_alive`) are kept in any case
    and do not count; a ``running`` run whose process is gone is first
    marked ``abandoned`` (:func:`~crm_analysis.report.records.mark_abandoned`)
    and is then pruned
    like any other. When a run was deleted and a
    run is published, ``<reports_dir>/index.html`` and the published run's
    own index are re-rendered so the history lists no deleted run.

    Parameters
    ----------
    reports_dir : str or Path
        The reports folder (holds ``runs/``).
    keep : int
        How many runs to keep, at least 1.
    protect : iterable of str or Path, optional
        Further runs never to delete (e.g. the run just made).

    Returns
    -------
    list of Path
        The deleted run folders.

    Raises
    ------
    crm_analysis.report.config.ConfigError
        A ``ValueError``, when ``keep`` is not an integer >= 1.
    """
    keep = _check_int(keep, "keep", 1)
    reports = Path(reports_dir).resolve()
    runs_dir = reports / "runs"
    latest = reports / "latest"
    keep_ids = {Path(p).name for p in protect}
    if latest.is_symlink():
        keep_ids.add(Path(os.readlink(latest)).name)
    mark_abandoned(reports)
    records = collect_runs(reports)  # newest first
    in_progress = {str(r["run_id"]) for r in records if r.get("status") == "running"}
    ordered = [str(r["run_id"]) for r in records if str(r["run_id"]) not in in_progress]
    kept = [rid for rid in ordered if rid in keep_ids]
    for rid in ordered:
        if len(kept) >= keep:
            break
        if rid not in kept:
            kept.append(rid)
    removed = []
    for rid in ordered:
        path = runs_dir / rid
        if rid in kept or path.is_symlink() or not path.is_dir():
            continue
        if read_run(path).get("status") == "running":  # started since we looked: leave it alone
            continue
        shutil.rmtree(path)
        removed.append(path)
        log.info("pruned old run %s", rid)
    kept += sorted(in_progress)
    if removed:
        for rid in kept:  # history tables of the kept runs' own pages
            if (runs_dir / rid / "index.html").is_file():
                write_text_atomic(runs_dir / rid / "index.html", render_index(runs_dir / rid))
        if latest.is_symlink() and latest.resolve().is_dir():
            write_text_atomic(reports / "index.html", render_index(latest.resolve(), reports_dir=reports))
    return removed


def rerender_runs(reports_dir: str | Path) -> list[Path]:
    """Render the HTML reports and indexes of every run again from the executed notebooks.

    For runs made by an older version (e.g. pages that still loaded scripts
    from a CDN). Nothing is executed; ``latest`` is not moved; the published
    ``index.html`` is re-rendered for the run ``latest`` points to.

    Returns
    -------
    list of Path
        The HTML files written.
    """
    reports = Path(reports_dir).resolve()
    written: list[Path] = []
    for rec in collect_runs(reports):
        run_dir = reports / "runs" / rec["run_id"]
        title = rec.get("title") or "crm_analysis report"
        for nb in rec.get("notebooks", []):
            if not nb.get("output") or not nb.get("html") or not (run_dir / nb["output"]).is_file():
                continue
            html = run_dir / nb["html"]
            notebook_to_html(run_dir / nb["output"], html, title=f"{title}: {nb.get('name')}",
                             index_href=os.path.relpath(run_dir / "index.html", html.parent).replace(os.sep, "/"),
                             findings=report_findings(run_dir, str(nb.get("name"))) if nb.get("status") == "ok"
                             else ())
            written.append(html)
        written.append(write_glossary(run_dir))
        written.append(write_text_atomic(run_dir / "index.html", render_index(run_dir)))
    latest = reports / "latest"
    if latest.is_symlink() and latest.resolve().is_dir():
        written.append(write_text_atomic(reports / "index.html", render_index(latest.resolve(), reports_dir=reports)))
    return written
