"""Helpers for the report-chain tests: tiny projects with dummy notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

PARAMS = 'run_dir = None\nseed = 42\nas_of = "2024-12-31"\n'


def write_notebook(path: Path, body: str, extra_params: str = "", *, parameters_cell: bool = True) -> Path:
    """Write a small notebook: a heading, a ``parameters`` cell, then ``body``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_markdown_cell("# Dummy report\n\n## First part")]
    p = nbformat.v4.new_code_cell(PARAMS + extra_params)
    if parameters_cell:
        p.metadata["tags"] = ["parameters"]
    cells.append(p)
    cells.append(nbformat.v4.new_code_cell(body))
    cells.append(nbformat.v4.new_markdown_cell("## Second part"))
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def write_config(path: Path, notebooks: list[dict], **top) -> Path:
    """Write a YAML configuration with synthetic data and ``notebooks``."""
    raw = {
        "title": "test report",
        "seed": 7,
        "as_of": "2024-06-30",
        "data": {"transactions": {"loader": "synthetic"}, "bookings": {"loader": "synthetic"}},
        "notebooks": notebooks,
        **top,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root with ``notebooks/ok.ipynb`` (parameter ``n``) and ``config/report.yaml``."""
    write_notebook(tmp_path / "notebooks" / "ok.ipynb", "print('value', n * 2)", "n = 3  # a count\n")
    write_config(
        tmp_path / "config" / "report.yaml",
        [{"name": "ok", "path": "notebooks/ok.ipynb", "parameters": {"n": 5}}],
    )
    return tmp_path


@pytest.fixture(name="write_notebook")
def _write_notebook_fixture():
    """The :func:`write_notebook` helper."""
    return write_notebook


@pytest.fixture(name="write_config")
def _write_config_fixture():
    """The :func:`write_config` helper."""
    return write_config


@pytest.fixture(scope="session")
def notebook_helpers():
    """``(write_notebook, write_config)`` for module-scoped fixtures."""
    return write_notebook, write_config
