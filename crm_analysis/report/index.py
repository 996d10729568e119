"""The report index: an HTML page listing a run's reports and the run history.

Two copies are written for a successful run: ``<run>/index.html`` (links
relative to the run folder) and ``<reports>/index.html`` (links into
``runs/<id>/...``), so both keep working when the reports folder is moved.
The page uses no external assets.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

from crm_analysis import _json as strict_json
import math
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

from crm_analysis.presentation import Units, findings, glossary_html
from crm_analysis.runtime.figures import format_figure, infer_kind

__all__ = [
    "collect_runs",
    "read_run",
    "load_headlines",
    "segment_sizes",
    "KEY_FIGURES",
    "render_index",
    "write_index",
    "write_text_atomic",
    "report_findings",
    "write_glossary",
    "GLOSSARY_PAGE",
]

#: File name of the glossary page in a run folder.
GLOSSARY_PAGE = "glossary.html"

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
        rec = strict_json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        if not isinstance(rec, dict):
            raise InputError("not an object")
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


def _canonical(name: str) -> str:
    """Chain name of a headline group: ``"40_yield"`` (a notebook's file stem) -> ``"yield"``."""
    return re.sub(r"^\d+_", "", str(name))


def load_headlines(run_dir: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The headline figures of a run, ``{notebook: {key: {"value": v, "label": str}}}``.

    Groups recorded under a notebook's file stem (``"40_yield"``) are merged
    into the chain name (``"yield"``); bare values become ``{"value": v}``.
    A missing or unreadable ``headlines.json`` gives ``{}``.
    """
    path = Path(run_dir) / "artifacts" / "headlines.json"
    try:
        raw = strict_json.loads(path.read_text(encoding="utf-8"))  # older files: NaN -> null
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    # exact chain names first, so they win over the file-stem aliases
    for name in sorted(raw, key=lambda n: _canonical(n) != n):
        figs = raw[name]
        if not isinstance(figs, dict):
            continue
        group = out.setdefault(_canonical(name), {})
        for key, fig in figs.items():
            if key in group:
                continue
            if isinstance(fig, dict) and "value" in fig:
                group[key] = {"value": fig["value"], "label": fig.get("label") or key}
            else:
                group[key] = {"value": fig, "label": key}
    return {k: v for k, v in out.items() if v}


def _headlines(heads: dict[str, dict[str, dict[str, Any]]], order: list[str],
               units: Units | None = None) -> list[dict[str, Any]]:
    names = [n for n in order if n in heads] + sorted(n for n in heads if n not in order)
    groups = []
    for name in names:
        items = []
        for key, fig in heads[name].items():
            kind = infer_kind(key, fig["label"], fig["value"])
            # a text value (a sentence such as how the model was chosen) wraps; figures stay on one line
            items.append({"key": key, "label": fig["label"], "value": format_figure(fig["value"], kind, units=units),
                          "numeric": kind != "text"})
        groups.append({"notebook": name, "items": items})
    return groups


#: The executive-summary cards: (notebook, key, kind); the first present of each tuple list is shown.
KEY_FIGURES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("data_quality", "customers"), ("rfm_clv", "customers")),
    (("data_quality", "revenue"),),
    (("segmentation", "top20_revenue_share"),),
    (("rfm_clv", "total_clv"),),
    (("rfm_clv", "mean_clv"),),
    (("seasonality", "strongest_seasonal_cycle"),),
    (("yield", "revenue_uplift_vs_fcfs"),),
)
_KIND_OF = {"customers": "count", "revenue": "money", "top20_revenue_share": "share", "total_clv": "money",
            "mean_clv": "money", "strongest_seasonal_cycle": "text"}


def _key_figures(heads: dict[str, dict[str, dict[str, Any]]], links: dict[str, str],
                 units: Units | None = None) -> list[dict[str, Any]]:
    cards = []
    for candidates in KEY_FIGURES:
        for nb, key in candidates:
            fig = heads.get(nb, {}).get(key)
            if fig is None:
                continue
            kind = _KIND_OF.get(key) or infer_kind(key, fig["label"], fig["value"])
            cards.append({"notebook": nb, "key": key, "label": fig["label"],
                          "value": format_figure(fig["value"], kind, units=units), "link": links.get(nb)})
            break
    return cards


def report_findings(run_dir: str | Path, notebook: str) -> list[str]:
    """The plain-language findings of one report of a run (from its headline figures and the run's units).

    See :func:`crm_analysis.presentation.findings`; empty when the run has no
    headline figures of that notebook.
    """
    heads = load_headlines(run_dir).get(_canonical(notebook), {})
    return findings(notebook, heads, units=Units.from_run(run_dir)) if heads else []


def write_glossary(run_dir: str | Path) -> Path:
    """Write the glossary page (:data:`GLOSSARY_PAGE`) into a run folder, with the run's currency."""
    run_dir = Path(run_dir)
    return write_text_atomic(run_dir / GLOSSARY_PAGE, glossary_html(units=Units.from_run(run_dir),
                                                                     index_href="index.html"))


def segment_sizes(run_dir: str | Path) -> list[dict[str, Any]]:
    """Customers per segment from ``artifacts/segments.parquet``, largest first.

    Returns
    -------
    list of dict
        ``{"segment", "customers", "share", "count_text", "share_text"}``;
        empty when the file is missing or has no ``segment`` column.
    """
    path = Path(run_dir) / "artifacts" / "segments.parquet"
    if not path.is_file():
        return []
    try:
        import pandas as pd

        seg = pd.read_parquet(path, columns=["segment"])["segment"]
    except Exception:  # unreadable or no segment column: no segment card
        return []
    counts = seg.astype("string").fillna("(none)").value_counts()
    total = int(counts.sum())
    if total == 0:
        return []
    return [
        {"segment": str(name), "customers": int(n), "share": n / total,
         "count_text": format_figure(int(n), "count"), "share_text": format_figure(n / total, "share")}
        for name, n in counts.items()
    ]


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


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or math.isnan(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _when(stamp: Any) -> str:
    """``2024-01-02T03:04:05+00:00`` -> ``2024-01-02 03:04``."""
    if not stamp:
        return "-"
    text = str(stamp)
    m = re.match(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})", text)
    return f"{m.group(1)} {m.group(2)}" if m else text


def render_index(run_dir: str | Path, *, reports_dir: str | Path | None = None) -> str:
    """Render the index page of the run in ``run_dir``.

    The page is an executive summary: the run's key figures as cards (see
    :data:`KEY_FIGURES`, plus the segment sizes from
    ``artifacts/segments.parquet``), links to every report, all headline
    figures, the run parameters and the history of all runs.

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
        The HTML page (no external assets).
    """
    import jinja2

    run_dir = Path(run_dir).resolve()
    run = read_run(run_dir)
    if reports_dir is not None:
        reports = Path(reports_dir).resolve()
        base = os.path.relpath(run_dir, reports).replace(os.sep, "/") + "/"
        hist_base = os.path.relpath(run_dir.parent, reports).replace(os.sep, "/") + "/"
        home_href = None
    else:
        reports = run_dir.parent.parent
        base = ""
        hist_base = "../"
        published = reports / "index.html"
        home_href = "../../index.html" if published.is_file() or run.get("status") == "ok" else None
    history = []
    for rec in collect_runs(reports):
        rid = rec["run_id"]
        has_index = (run_dir.parent / rid / "index.html").is_file()
        history.append(
            {
                **{k: rec.get(k) for k in ("status", "seed", "as_of")},
                "run_id": rid,
                "started": _when(rec.get("started")),
                "duration": _duration(rec.get("duration_s")),
                "link": f"{hist_base}{rid}/",
                "html_index": f"{hist_base}{rid}/index.html" if has_index else None,
                "summary": _summary(rec),
            }
        )
    notebooks = []
    for nb in run.get("notebooks", []):
        nb = dict(nb)
        nb.setdefault("parameters", {})
        nb["duration"] = _duration(nb.get("duration_s"))
        nb["source_name"] = Path(str(nb.get("source", ""))).name
        notebooks.append(nb)
    run = {**run, "notebooks": notebooks, "duration": _duration(run.get("duration_s"))}
    run["started_text"], run["finished_text"] = _when(run.get("started")), _when(run.get("finished"))
    run.setdefault("data_sources", {})
    run.setdefault("error", None)
    heads = load_headlines(run_dir)
    units = Units.from_run(run_dir)
    for nb in notebooks:
        name = _canonical(str(nb.get("name", "")))
        nb["findings"] = findings(name, heads[name], units=units) if nb.get("status") == "ok" and name in heads else []
    links = {nb["name"]: f"{base}{nb['html']}" for nb in notebooks if nb.get("html") and nb.get("name")}
    cards = _key_figures(heads, links, units)
    segments = segment_sizes(run_dir)
    seg_heads = heads.get("segmentation", {})
    if not segments and "n_segments" in seg_heads:  # no segments.parquet: the segmentation headlines
        largest = seg_heads.get("largest_segment", {}).get("value")
        text = f"largest: {largest}" if largest is not None else None
        cards.append({"notebook": "segmentation", "key": "n_segments", "label": seg_heads["n_segments"]["label"],
                      "value": format_figure(seg_heads["n_segments"]["value"], "count"), "note": text,
                      "link": links.get("segmentation")})
    template_text = (resources.files("crm_analysis.report") / "templates" / _TEMPLATE).read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    tmpl = env.from_string(template_text)
    return tmpl.render(
        title=run.get("title") or "crm_analysis report",
        run=run,
        base=base,
        home_href=home_href,
        cards=cards,
        segments=segments,
        segments_link=links.get("segmentation"),
        headlines=_headlines(heads, [nb.get("name") for nb in notebooks], units),
        glossary_href=f"{base}{GLOSSARY_PAGE}" if (run_dir / GLOSSARY_PAGE).is_file() else None,
        currency=units.currency,
        history=history,
    )


def write_index(run_dir: str | Path, path: str | Path, *, reports_dir: str | Path | None = None) -> Path:
    """Render the index (see :func:`render_index`) and write it atomically to ``path``."""
    return write_text_atomic(path, render_index(run_dir, reports_dir=reports_dir))
