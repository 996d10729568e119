"""Run records survive signals, kills and failed publishing (issue #11, point 9).

The interrupting notebooks signal their own parent process (the
``crm-analysis`` command, run as a subprocess), so the signal arrives while a
notebook runs without any timing in the test. Pruning and the abandoned-run
logic are checked on hand-made run folders (no kernel).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from crm_analysis.report import runner
from crm_analysis.report.cli import EXIT_OTHER, main
from crm_analysis.report.index import read_run
from crm_analysis.report.records import mark_abandoned, run_is_alive
from crm_analysis.report.publish import prune_runs

ROOT = Path(__file__).resolve().parents[2]

KILL_PARENT = """\
import os, signal, time
from pathlib import Path
Path(run_dir, "kernel.pid").write_text(str(os.getpid()))
os.kill(os.getppid(), signal.{sig})
time.sleep(120)  # the runner must stop this kernel; it never finishes on its own in a test's time
"""


def _cli(project: Path, cfg: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "crm_analysis.report.cli", "report", "--config", str(cfg)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)


def _chain(root: Path, write_notebook, write_config, sig: str) -> Path:
    write_notebook(root / "notebooks" / "first.ipynb", "print('first ok')")
    write_notebook(root / "notebooks" / "stop.ipynb", KILL_PARENT.format(sig=sig))
    write_notebook(root / "notebooks" / "after.ipynb", "print('never runs')")
    return write_config(root / "config" / "chain.yaml", [
        {"name": "first", "path": "notebooks/first.ipynb"},
        {"name": "stop", "path": "notebooks/stop.ipynb"},
        {"name": "after", "path": "notebooks/after.ipynb"},
    ])


def _only_run(reports: Path) -> Path:
    (run,) = list((reports / "runs").iterdir())
    return run


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize(("sig", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_is_recorded_as_interrupted(tmp_path, write_notebook, write_config, sig, code):
    cfg = _chain(tmp_path, write_notebook, write_config, sig)
    proc = _cli(tmp_path, cfg)
    assert proc.returncode == code, proc.stderr
    assert f"stopped by {sig}; run recorded as interrupted" in proc.stderr
    run = _only_run(tmp_path / "reports")
    rec = json.loads((run / "run.json").read_text())
    assert rec["status"] == "interrupted" and rec["published"] is False
    assert rec["error"]["stage"] == "interrupted" and rec["error"]["evalue"] == f"stopped by {sig}"
    status = {nb["name"]: (nb["status"], nb["note"]) for nb in rec["notebooks"]}
    assert status["first"] == ("ok", None) and status["stop"][0] == "interrupted"
    assert status["after"] == ("skipped", f"not run: the run was stopped by {sig}")
    assert f"interrupted: stopped by {sig}" in (run / "run.log").read_text()
    assert "interrupted" in (run / "index.html").read_text()
    assert not (tmp_path / "reports" / "latest").exists()  # nothing published
    kernel = int((run / "kernel.pid").read_text())
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow
@pytest.mark.notebook
def test_a_killed_run_is_marked_abandoned_by_the_next_run(tmp_path, write_notebook, write_config):
    cfg = _chain(tmp_path, write_notebook, write_config, "SIGKILL")
    proc = _cli(tmp_path, cfg)
    assert proc.returncode == -signal.SIGKILL
    run = _only_run(tmp_path / "reports")
    rec = read_run(run)
    assert rec["status"] == "running" and run_is_alive(rec) is False  # nothing could record the kill
    write_notebook(tmp_path / "notebooks" / "first.ipynb", "print('first ok')")
    ok = write_config(tmp_path / "config" / "ok.yaml", [{"name": "first", "path": "notebooks/first.ipynb"}])
    result = runner.run_chain(ok, progress=False)
    assert result.status == "ok" and result.abandoned == [run.name]
    rec = read_run(run)
    assert rec["status"] == "abandoned"
    assert rec["error"]["message"].startswith(f"run abandoned: its process {rec['pid']} on {socket.gethostname()} is gone")
    assert f"found by run {result.run_id}" in rec["error"]["message"]
    assert [nb["status"] for nb in rec["notebooks"]] == ["ok", "abandoned", "skipped"]
    assert json.loads((result.run_dir / "run.json").read_text())["abandoned_runs_marked"] == [run.name]
    published = (tmp_path / "reports" / "index.html").read_text()
    row = published[published.index(f'href="runs/{run.name}/"'):]
    assert "abandoned" in row[: row.index("</tr>")]


@pytest.mark.slow
@pytest.mark.notebook
def test_a_failed_publish_is_recorded(tmp_path, project, capsys):
    reports = project / "reports"
    (reports / "latest").mkdir(parents=True)  # a folder where the symlink should go: publishing fails
    rc = main(["report", "--config", str(project / "config" / "report.yaml"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == EXIT_OTHER
    assert "PublishFailed" in err and "every notebook ran, but publishing failed" in err
    run = _only_run(reports)
    rec = json.loads((run / "run.json").read_text())
    assert rec["status"] == "failed" and rec["published"] is False
    assert rec["error"]["stage"] == "publish" and "is not a symlink" in rec["error"]["evalue"]
    assert [nb["status"] for nb in rec["notebooks"]] == ["ok"]  # the notebooks themselves were fine
    assert "publishing failed: OperationError" in (run / "run.log").read_text()
    assert not (reports / "index.html").exists()


# ------------------------------------------------------------------ no kernel
def _run_folder(reports: Path, rid: str, started: str, status: str, **process) -> Path:
    d = reports / "runs" / rid
    (d / "html").mkdir(parents=True)
    rec = {"run_id": rid, "status": status, "started": started, "notebooks": [], **process}
    (d / "run.json").write_text(json.dumps(rec))
    return d


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_keep_never_deletes_a_run_in_progress(tmp_path):
    me = psutil.Process()
    host = socket.gethostname()
    live = _run_folder(tmp_path, "20240101T000000-live", "2024-01-01T00:00:00", "running",
                       host=host, pid=me.pid, pid_started=me.create_time())
    dead = _run_folder(tmp_path, "20240102T000000-dead", "2024-01-02T00:00:00", "running",
                       host=host, pid=_dead_pid(), pid_started=1.0)
    reused = _run_folder(tmp_path, "20240103T000000-reused", "2024-01-03T00:00:00", "running",
                         host=host, pid=me.pid, pid_started=me.create_time() - 3600)  # same pid, other process
    other = _run_folder(tmp_path, "20240104T000000-other", "2024-01-04T00:00:00", "running",
                        host=host + "-elsewhere", pid=me.pid, pid_started=me.create_time())
    old = _run_folder(tmp_path, "20240105T000000-old", "2024-01-05T00:00:00", "running")  # older version
    newest = _run_folder(tmp_path, "20240106T000000-ok", "2024-01-06T00:00:00", "ok")
    assert run_is_alive(read_run(live)) is True
    assert [run_is_alive(read_run(d)) for d in (dead, reused, other)] == [False, False, False]
    assert run_is_alive(read_run(old)) is None
    removed = prune_runs(tmp_path, 1)
    assert live.is_dir() and newest.is_dir()  # the live run is kept and does not count towards --keep 1
    assert sorted(p.name for p in removed) == sorted(d.name for d in (dead, reused, other, old))


def test_mark_abandoned_says_why(tmp_path):
    host = socket.gethostname()
    dead = _run_folder(tmp_path, "a", "2024-01-01T00:00:00", "running", host=host, pid=_dead_pid(), pid_started=1.0)
    other = _run_folder(tmp_path, "b", "2024-01-02T00:00:00", "running", host="build-42", pid=1, pid_started=1.0)
    old = _run_folder(tmp_path, "c", "2024-01-03T00:00:00", "running")
    done = _run_folder(tmp_path, "d", "2024-01-04T00:00:00", "failed")
    assert sorted(mark_abandoned(tmp_path, by="x")) == ["a", "b", "c"]
    why = {d.name: read_run(d)["error"]["evalue"] for d in (dead, other, old)}
    assert why["a"].startswith("its process") and why["a"].endswith("is gone (killed, or the machine stopped)")
    assert why["b"] == f"it ran on host 'build-42', not this one ({host!r})"
    assert why["c"] == "its run record names no process (made by an older version)"
    assert read_run(done)["status"] == "failed" and mark_abandoned(tmp_path) == []


def _strict(text: str):
    """json.loads that refuses the bare NaN / Infinity tokens (not JSON, RFC 8259)."""
    def refuse(token: str):
        raise AssertionError(f"run.json is not strict JSON: bare {token}")

    return json.loads(text, parse_constant=refuse)


def test_abandoned_run_record_is_rewritten_as_strict_json(tmp_path):
    """An older run.json with bare NaN / Infinity (a NaN notebook parameter) is read and rewritten strictly."""
    d = tmp_path / "runs" / "old"
    (d / "html").mkdir(parents=True)
    rec = {"run_id": "old", "status": "running", "started": "2024-01-01T00:00:00",
           "notebooks": [{"name": "a", "status": "running", "parameters": {"x": float("nan"), "y": float("inf")}}]}
    (d / "run.json").write_text(json.dumps(rec))  # the former writer: allow_nan=True
    assert "NaN" in (d / "run.json").read_text()
    assert read_run(d)["notebooks"][0]["parameters"] == {"x": None, "y": "Infinity"}  # old file read as a new one
    assert mark_abandoned(tmp_path) == ["old"]
    back = _strict((d / "run.json").read_text())
    assert back["status"] == "abandoned"
    assert back["notebooks"][0]["parameters"] == {"x": None, "y": "Infinity"}


def test_run_json_is_strict_json(tmp_path):
    """The runner's run.json writes NaN as null and inf as "Infinity" (as clv_params.json)."""
    from types import SimpleNamespace

    cfg = SimpleNamespace(title="t", seed=1, as_of="2024-12-31", source=None, project_root=tmp_path, data={})
    result = runner.RunResult(run_id="r", run_dir=tmp_path, reports_dir=tmp_path, status="ok", notebooks=[],
                              published=False)
    runner._write_run_json(result, cfg, {"threshold": float("nan"), "limit": float("-inf")})
    back = _strict((tmp_path / "run.json").read_text())
    assert back["threshold"] is None and back["limit"] == "-Infinity"
    assert read_run(tmp_path)["limit"] == "-Infinity"
