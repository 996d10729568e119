"""The report index: an HTML page listing a run's reports and the run history.

Two copies are written for a successful run: ``<run>/index.html`` (links
relative to the run folder) and ``<reports>/index.html`` (links into
``runs/<id>/...``), so both keep working when the reports folder is moved.
The page uses no external assets.
"""

from __future__ import annotations

import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["collect_runs", "read_run", "format_value", "render_index", "write_index", "write_text_atomic"]

_TEMPLATE = "index.html.j2"


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and :func:`os.replace`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """The ``run.json`` record of a run folder.

    A folder without a readable ``run.json`` gives ``{"run_id": <name>,
    "status": "unknown"}`` so it still shows in the history.
    """
    run_dir = Path(run_dir)
    try:
        rec = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        if not isinstance(rec, dict):
            raise ValueError("not an object")
    except (OSError, ValueError):
        return {"run_id": run_dir.name, "status": "unknown", "notebooks": []}
    rec.setdefault("run_id", run_dir.name)
    rec.setdefault("status", "unknown")
    rec.setdefault("notebooks", [])
    return rec


def collect_runs(reports_dir: str | Path) -> list[dict[str, Any]]:
    """All runs under ``<reports_dir>/runs``, newest first (by start time, then id)."""
    runs_dir = Path(reports_dir) / "runs"
    if not runs_dir.is_dir():
        return []
    recs = [read_run(p) for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(recs, key=lambda r: (str(r.get("started") or ""), str(r["run_id"])), reverse=True)


def format_value(value: Any) -> str:
    """Format a headline figure for display.

    Integers get thousands separators; floats with magnitude at least 100 are
    rounded to whole numbers, at least 1 to two decimals, smaller ones to three
    significant digits; ``None``/NaN show as ``-``; other values use ``str``.

    Examples
    --------
    >>> format_value(1234567)
    '1,234,567'
    >>> format_value(0.123456)
    '0.123'
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.3g}"
    return str(value)


def _headlines(run_dir: Path, order: list[str]) -> list[dict[str, Any]]:
    path = run_dir / "artifacts" / "headlines.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(raw, dict):
        return []
    names = [n for n in order if n in raw] + sorted(n for n in raw if n not in order)
    groups = []
    for name in names:
        figs = raw[name]
        if not isinstance(figs, dict):
            continue
        items = []
        for key, fig in figs.items():
            if isinstance(fig, dict) and "value" in fig:
                items.append({"label": fig.get("label") or key, "value": format_value(fig["value"])})
            else:
                items.append({"label": key, "value": format_value(fig)})
        if items:
            groups.append({"notebook": name, "items": items})
    return groups


def _summary(rec: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for nb in rec.get("notebooks", []):
        counts[nb.get("status", "unknown")] = counts.get(nb.get("status", "unknown"), 0) + 1
    parts = [f"{n} {s}" for s, n in counts.items()]
    failed = [nb.get("name") for nb in rec.get("notebooks", []) if nb.get("status") == "failed"]
    text = ", ".join(parts) or "-"
    if failed:
        text += f" (failed: {', '.join(map(str, failed))})"
    return text


def render_index(run_dir: str | Path, *, reports_dir: str | Path | None = None) -> str:
    """Render the index page of the run in ``run_dir``.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (holds ``run.json``, ``html/``, ``artifacts/``).
    reports_dir : str or Path, optional
        When given, the page is meant for ``<reports_dir>/index.html``: links
        point into ``runs/<id>/``. Otherwise the page is meant for
        ``<run_dir>/index.html``. The history lists the runs in
        ``<reports_dir>/runs`` (default: the parent of ``run_dir``'s folder).

    Returns
    -------
    str
        The HTML page.
    """
    import jinja2

    run_dir = Path(run_dir).resolve()
    run = read_run(run_dir)
    if reports_dir is not None:
        reports = Path(reports_dir).resolve()
        base = os.path.relpath(run_dir, reports).replace(os.sep, "/") + "/"
        hist_base = os.path.relpath(run_dir.parent, reports).replace(os.sep, "/") + "/"
    else:
        reports = run_dir.parent.parent
        base = ""
        hist_base = "../"
    history = []
    for rec in collect_runs(reports):
        rid = rec["run_id"]
        has_index = (run_dir.parent / rid / "index.html").is_file()
        history.append(
            {
                **{k: rec.get(k) for k in ("status", "started", "seed", "as_of")},
                "run_id": rid,
                "duration_s": rec.get("duration_s"),
                "link": f"{hist_base}{rid}/",
                "html_index": f"{hist_base}{rid}/index.html" if has_index else None,
                "summary": _summary(rec),
            }
        )
    notebooks = []
    for nb in run.get("notebooks", []):
        nb = dict(nb)
        nb.setdefault("parameters", {})
        nb.setdefault("duration_s", None)
        nb["source_name"] = Path(str(nb.get("source", ""))).name
        notebooks.append(nb)
    run = {**run, "notebooks": notebooks}
    run.setdefault("data_sources", {})
    run.setdefault("error", None)
    template_text = (resources.files("crm_analysis.report") / "templates" / _TEMPLATE).read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    tmpl = env.from_string(template_text)
    return tmpl.render(
        title=run.get("title") or "crm_analysis report",
        run=run,
        base=base,
        headlines=_headlines(run_dir, [nb.get("name") for nb in notebooks]),
        history=history,
    )


def write_index(run_dir: str | Path, path: str | Path, *, reports_dir: str | Path | None = None) -> Path:
    """Render the index (see :func:`render_index`) and write it atomically to ``path``."""
    return write_text_atomic(path, render_index(run_dir, reports_dir=reports_dir))
