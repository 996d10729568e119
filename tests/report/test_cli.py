"""Exit codes and listings of the ``crm-analysis`` command (in-process, no kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_analysis.report import runner
from crm_analysis.report.cli import EXIT_CONFIG, EXIT_NOTEBOOK_FAILED, EXIT_OK, EXIT_OTHER, main


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["report", "--bogus"],
        ["report", "--seed", "seven"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    assert main(argv) == EXIT_CONFIG


def test_config_errors_exit_2(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(project / "config" / "report.yaml")
    assert main(["report", "--config", str(tmp_path / "missing.yaml")]) == EXIT_CONFIG
    assert main(["report", "--config", cfg, "--seed", "-1"]) == EXIT_CONFIG
    assert main(["report", "--config", cfg, "--as-of", "2024-13-01"]) == EXIT_CONFIG
    assert main(["report", "--config", cfg, "--only", "nope"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "missing.yaml" in err and "--seed" in err and "--as-of" in err and "nope" in err
    assert not (project / "reports").exists()  # nothing was run


def test_undeclared_parameter_exits_2_before_running(project: Path, capsys) -> None:
    cfg = project / "config" / "report.yaml"
    cfg.write_text(cfg.read_text().replace("n: 5", "nn: 5"))
    assert main(["report", "--config", str(cfg)]) == EXIT_CONFIG
    assert "parameters.nn" in capsys.readouterr().err
    assert not (project / "reports" / "runs").exists() or not any((project / "reports" / "runs").iterdir())


def test_notebook_failure_exits_1(project: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def failing(config, **kwargs):
        exc = runner.NotebookFailed("ok", ename="KeyError", evalue="'x'", cell_index=3, cell_source="d['x']")
        runner.log.error("%s", exc.message)  # as run_chain does
        raise exc

    monkeypatch.setattr(runner, "run_chain", failing)
    assert main(["report", "--config", str(project / "config" / "report.yaml")]) == EXIT_NOTEBOOK_FAILED
    err = capsys.readouterr().err
    assert "'ok'" in err and "cell 3" in err and "KeyError" in err


def test_report_passes_overrides(project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = {}

    def fake(config, **kwargs):
        seen["config"], seen["kwargs"] = config, kwargs
        return runner.RunResult("r", tmp_path, tmp_path, status="ok", index_path=tmp_path / "index.html")

    monkeypatch.setattr(runner, "run_chain", fake)
    rc = main(["report", "--config", str(project / "config" / "report.yaml"), "--seed", "9",
               "--as-of", "2023-03-31", "--reports-dir", str(tmp_path / "out"), "--only", "ok", "--quiet", "--jobs", "3"])
    assert rc == EXIT_OK
    cfg = seen["config"]
    assert (cfg.seed, cfg.as_of, cfg.reports_dir) == (9, "2023-03-31", (tmp_path / "out").resolve())
    assert seen["kwargs"] == {"progress": False, "jobs": 3}


def test_params_lists_types_defaults_and_chain_values(project: Path, capsys) -> None:
    assert main(["params", "--config", str(project / "config" / "report.yaml")]) == EXIT_OK
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert set(lines) == {"run_dir", "seed", "as_of", "n"}
    assert "int" in lines["n"] and "default 3" in lines["n"] and "<- 5" in lines["n"] and "a count" in lines["n"]
    assert "str" in lines["as_of"] and "<- '2024-06-30'" in lines["as_of"]
    assert main(["params", "ok", "--config", str(project / "config" / "report.yaml")]) == EXIT_OK
    assert main(["params", str(project / "notebooks" / "ok.ipynb")]) == EXIT_OK
    assert "default 3" in capsys.readouterr().out
    assert main(["params", "nope", "--config", str(project / "config" / "report.yaml")]) == EXIT_CONFIG


def test_notebooks_lists_the_chain(project: Path, capsys, write_notebook, write_config) -> None:
    write_notebook(project / "notebooks" / "two.ipynb", "pass")
    cfg = write_config(project / "config" / "two.yaml", [
        {"name": "ok", "path": "notebooks/ok.ipynb"},
        {"name": "two", "path": "notebooks/two.ipynb", "enabled": False},
    ])
    assert main(["notebooks", "--config", str(cfg)]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:3] == ["1.", "ok", "notebooks/ok.ipynb"]
    assert out[2].split()[:2] == ["2.", "two"] and "[disabled]" in out[2]


def test_other_errors_exit_3(project: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def broken(config, **kwargs):
        raise PermissionError("reports folder is read-only")

    monkeypatch.setattr(runner, "run_chain", broken)
    assert main(["report", "--config", str(project / "config" / "report.yaml")]) == EXIT_OTHER
    assert "PermissionError" in capsys.readouterr().err


@pytest.mark.parametrize("keep", ["0", "-2", "many"])
def test_bad_keep_exits_2(project: Path, keep: str) -> None:
    assert main(["report", "--config", str(project / "config" / "report.yaml"), "--keep", keep]) == EXIT_CONFIG
    assert not (project / "reports").exists()


def test_check_report_exit_codes(tmp_path: Path, capsys) -> None:
    assert main(["check-report", str(tmp_path), "--no-browser"]) == EXIT_NOTEBOOK_FAILED  # no index.html
    (tmp_path / "index.html").write_text("<html><head><title>t</title></head><body>ok</body></html>")
    assert main(["check-report", str(tmp_path), "--no-browser"]) == EXIT_OK
    assert "OK: no problem found" in capsys.readouterr().out
    assert main(["check-report", str(tmp_path), "--chromium", str(tmp_path / "no-such-browser")]) == EXIT_OTHER
