"""Pruning of old run folders (``crm-analysis report --keep N``), no kernel."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crm_analysis.report import runner
from crm_analysis.report.cli import EXIT_NOTEBOOK_FAILED, EXIT_OK, main
from crm_analysis.report.publish import prune_runs


def _runs(reports: Path, n: int) -> list[str]:
    ids = []
    for k in range(n):
        rid = f"2024010{k + 1}T000000-aaaaaaaa"
        d = reports / "runs" / rid
        (d / "html").mkdir(parents=True)
        rec = {"run_id": rid, "status": "ok", "started": f"2024-01-0{k + 1}T00:00:00", "notebooks": []}
        (d / "run.json").write_text(json.dumps(rec))
        (d / "index.html").write_text("old")
        ids.append(rid)
    return ids  # oldest first


def _latest(reports: Path, rid: str) -> None:
    os.symlink(f"runs/{rid}", reports / "latest", target_is_directory=True)


def test_keeps_the_newest_and_never_latest(tmp_path: Path) -> None:
    ids = _runs(tmp_path, 5)
    _latest(tmp_path, ids[0])  # the oldest run is the published one
    removed = prune_runs(tmp_path, 2)
    left = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert left == sorted([ids[0], ids[4]])  # latest + the newest, 2 in all
    assert sorted(p.name for p in removed) == sorted(ids[1:4])
    page = (tmp_path / "index.html").read_text()  # re-rendered: no link to a deleted run
    assert all(rid not in page for rid in ids[1:4]) and ids[4] in page
    assert ids[1] not in (tmp_path / "runs" / ids[4] / "index.html").read_text()


def test_protected_run_counts_and_nothing_to_do(tmp_path: Path) -> None:
    ids = _runs(tmp_path, 3)
    assert [p.name for p in prune_runs(tmp_path, 1, protect=[ids[0]])] == [ids[2], ids[1]]
    assert prune_runs(tmp_path, 1) == []  # one run left, no latest: nothing removed
    assert not (tmp_path / "index.html").exists()  # nothing published, nothing rendered
    with pytest.raises(ValueError, match="keep"):
        prune_runs(tmp_path, 0)


def test_cli_keep_prunes_after_success_and_failure(project: Path, monkeypatch, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    ids = _runs(reports, 4)
    _latest(reports, ids[1])
    outcome = {"fail": False}

    def fake(config, **kwargs):
        if outcome["fail"]:
            raise runner.NotebookFailed("ok", ename="E", evalue="x", run_dir=reports / "runs" / ids[0])
        return runner.RunResult(ids[0], reports / "runs" / ids[0], reports.resolve(), status="ok",
                                index_path=reports / "index.html")

    monkeypatch.setattr(runner, "run_chain", fake)
    cfg = str(project / "config" / "report.yaml")
    assert main(["report", "--config", cfg, "--reports-dir", str(reports), "--keep", "3", "--quiet"]) == EXIT_OK
    # the run just made (oldest by start time here), latest, and the newest one
    assert sorted(p.name for p in (reports / "runs").iterdir()) == sorted([ids[0], ids[1], ids[3]])
    outcome["fail"] = True
    assert main(["report", "--config", cfg, "--reports-dir", str(reports), "--keep", "1", "--quiet"]) \
        == EXIT_NOTEBOOK_FAILED
    assert sorted(p.name for p in (reports / "runs").iterdir()) == sorted([ids[0], ids[1]])
