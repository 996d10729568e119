"""Missing files raise the package's SourceNotFoundError (a CRMAnalysisError and a FileNotFoundError), naming the
source (fourth newcomer finding H9: seven places raised the built-in FileNotFoundError, outside the hierarchy)."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

import crm_analysis
from crm_analysis.data import load_source, load_transactions
from crm_analysis.exceptions import CRMAnalysisError, InputError, SourceNotFoundError
from crm_analysis.runtime.context import RunContext

PACKAGE = Path(crm_analysis.__file__).parent


def test_no_builtin_file_not_found_is_raised():
    """AST scan: every ``raise`` of a missing file uses the package class."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(call, ast.Name) and call.id in ("FileNotFoundError", "OSError", "IOError"):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []


def test_source_not_found_keeps_both_types():
    assert issubclass(SourceNotFoundError, CRMAnalysisError) and issubclass(SourceNotFoundError, FileNotFoundError)


@pytest.mark.parametrize("source", ["/nonexistent/x.csv", "/nonexistent/*.csv"])
def test_a_missing_file_or_pattern(source):
    with pytest.raises(SourceNotFoundError, match="nonexistent"):
        load_transactions(source)


def test_a_folder_without_parquet(tmp_path):
    with pytest.raises(SourceNotFoundError, match="holds no .parquet"):
        load_transactions(tmp_path)


def test_a_missing_duckdb_file():
    with pytest.raises(SourceNotFoundError, match="DuckDB database file not found"):
        load_transactions("tx", con="/nonexistent/db.duckdb")


@pytest.mark.parametrize("loader", ["csv", "parquet", "excel", "hotels"])
def test_a_spec_names_its_source(loader, tmp_path):
    kind = "bookings" if loader == "hotels" else "transactions"
    with pytest.raises(SourceNotFoundError, match=rf"{kind} source \(loader '{loader}'\): no such file: .*missing"):
        load_source({"loader": loader, "path": "missing.file"}, kind, base_dir=tmp_path)
    with pytest.raises(InputError, match=rf"the {kind} source \(loader '{loader}'\): data source spec needs 'path'"):
        load_source({"loader": loader}, kind, base_dir=tmp_path)


def test_a_missing_artefact_of_a_chained_run(tmp_path):
    ctx = RunContext(tmp_path)
    if ctx.standalone:
        pytest.skip("a run context without a run directory builds missing artefacts")
    with pytest.raises(SourceNotFoundError, match="artefact 'clv.parquet' is missing"):
        ctx.read_table("clv")


@pytest.mark.parametrize("name", ["clv", "forecasts.parquet", "synthetic_replay", "transactions"])
def test_a_missing_artefact_names_the_step_that_writes_it(tmp_path, name):
    """findings_13e I9: "the notebook that writes it must run earlier" named no notebook; now the producer."""
    from crm_analysis.steps import producer_of

    ctx = RunContext(tmp_path)
    if ctx.standalone:
        pytest.skip("a run context without a run directory builds missing artefacts")
    step = producer_of(name)
    with pytest.raises(SourceNotFoundError) as err:
        ctx.read_table(name)
    assert f"it is written by the {step.name} step ({step.notebook}, {step.function})" in str(err.value)


@pytest.mark.parametrize("run_dir", [True, False])
@pytest.mark.parametrize("name", ["nonexistent_table", "forecast", "Clv.parquet"])
def test_an_unknown_artefact_is_called_unknown_not_missing(tmp_path, monkeypatch, run_dir, name):
    """findings_13e I9: an unknown name was reported as a missing artefact an earlier notebook should write."""
    from crm_analysis.contracts import TABLES
    from crm_analysis.exceptions import NotFoundError

    monkeypatch.chdir(tmp_path)
    ctx = RunContext(tmp_path / "run" if run_dir else None)
    with pytest.raises(NotFoundError) as err:
        ctx.read_table(name)
    stem = name.removesuffix(".parquet")
    assert f"unknown artefact {stem!r}: no step of the chain writes" in str(err.value)
    assert f"known: {sorted(TABLES)}" in str(err.value) and "missing" not in str(err.value)
    ctx.path(name).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"a": [1]}).to_parquet(ctx.path(name))
    assert ctx.read_table(name)["a"].tolist() == [1]  # a table of one's own, once written, is read


@pytest.mark.parametrize("name", ["load_cdnow", "load_online_retail", "load_online_retail_ii", "load_hotels"])
@pytest.mark.parametrize("suffix", [".txt", ".xlsx", ".csv.gz"])
def test_the_real_data_loaders_raise_the_package_error(name, suffix):
    """Fifth newcomer finding I2 (H9's family): the data-set loaders read pandas / openpyxl directly and let the
    built-in FileNotFoundError through (the .xlsx route too)."""
    import crm_analysis.data as data

    with pytest.raises(SourceNotFoundError, match=r"no such file: /nonexistent/file"):
        getattr(data, name)(f"/nonexistent/file{suffix}")
