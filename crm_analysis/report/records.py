"""Run records and the processes behind them: is a run that says ``running`` still running?

A run writes into its ``run.json`` the host name, process id and process
start time of the process running it (:func:`process_identity`). A process
killed outright (SIGKILL, power loss, a container stopped) cannot record its
end, so its record stays ``running``; :func:`run_is_alive` checks the
recorded process, and :func:`mark_abandoned` (called by every new run and by
pruning) marks the runs whose process is gone as ``abandoned``, saying why.
A record from another host counts as abandoned (a restarted container has a
new host name): two machines must not run into one reports folder at once.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from crm_analysis import _json as strict_json
import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crm_analysis.report.index import collect_runs, render_index, write_text_atomic

__all__ = ["process_identity", "run_is_alive", "mark_abandoned"]

log = logging.getLogger("crm_analysis.report")


def _now() -> str:
    # Wall-clock time, for the record only (not used in any analysis).
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _process_started(pid: int) -> float | None:
    """Start time (epoch seconds) of process ``pid``; ``None`` if there is no such process."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ValueError):
        return None


def process_identity() -> dict[str, Any]:
    """This process as a run record names it: ``host``, ``pid``, ``pid_started`` (epoch seconds)."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "pid_started": _process_started(pid)}


def run_is_alive(record: Mapping[str, Any]) -> bool | None:
    """Whether the process recorded in a run's ``run.json`` still runs.

    Parameters
    ----------
    record : mapping
        The ``run.json`` record (``host``, ``pid``, ``pid_started``).

    Returns
    -------
    bool or None
        ``True`` when a process with that pid and start time runs on this
        host; ``False`` when it does not, or the record is from another host;
        ``None`` when the record names no process (made by an older version).
    """
    host, pid = record.get("host"), record.get("pid")
    if host is None or pid is None:
        return None
    if host != socket.gethostname():
        return False
    try:
        started = _process_started(int(pid))
    except (TypeError, ValueError):
        return False
    if started is None:
        return False
    recorded = record.get("pid_started")
    if isinstance(recorded, (int, float)) and abs(started - float(recorded)) > 1.0:
        return False  # the pid now belongs to another process
    return True


def mark_abandoned(reports_dir: str | Path, *, by: str | None = None) -> list[str]:
    """Mark runs that say ``running`` but whose process is gone as ``abandoned``.

    Parameters
    ----------
    reports_dir : str or Path
        The reports folder (holds ``runs/``).
    by : str, optional
        Id of the run that found them, for the record.

    Returns
    -------
    list of str
        The ids of the runs marked (their ``run.json`` and own ``index.html``
        are rewritten; the published index is re-rendered when one exists).
    """
    reports = Path(reports_dir)
    runs_dir = reports / "runs"
    marked = []
    for rec in collect_runs(reports):
        if rec.get("status") != "running":
            continue
        alive = run_is_alive(rec)
        if alive:
            continue
        rid = str(rec["run_id"])
        path = runs_dir / rid / "run.json"
        if not path.is_file():
            continue
        if alive is None:
            why = "its run record names no process (made by an older version)"
        elif rec.get("host") != socket.gethostname():
            why = f"it ran on host {rec.get('host')!r}, not this one ({socket.gethostname()!r})"
        else:
            why = f"its process {rec.get('pid')} on {rec.get('host')} is gone (killed, or the machine stopped)"
        now = _now()
        rec = dict(rec)
        rec["status"] = "abandoned"
        rec["error"] = {
            "stage": "abandoned", "ename": "Abandoned", "evalue": why,
            "message": f"run abandoned: {why}; found by " + (f"run {by}" if by else "a later check") + f" at {now}",
        }
        for nb in rec.get("notebooks", []):
            if nb.get("status") in ("running", "pending"):
                nb["status"] = "abandoned" if nb["status"] == "running" else "skipped"
        write_text_atomic(path, strict_json.dumps(rec, indent=2))
        with contextlib.suppress(Exception):  # best effort: the record is what counts
            write_text_atomic(runs_dir / rid / "index.html", render_index(runs_dir / rid))
        marked.append(rid)
        log.warning("run %s was still marked running, but %s: marked abandoned", rid, why)
    return marked
