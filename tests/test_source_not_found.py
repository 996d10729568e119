"""Missing files raise the package's SourceNotFoundError (a CRMAnalysisError and a FileNotFoundError), naming the
source (fourth newcomer finding H9: seven places raised the built-in FileNotFoundError, outside the hierarchy)."""

from __future__ import annotations

import ast
from pathlib import Path

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


@pytest.mark.parametrize("name", ["load_cdnow", "load_online_retail", "load_online_retail_ii", "load_hotels"])
@pytest.mark.parametrize("suffix", [".txt", ".xlsx", ".csv.gz"])
def test_the_real_data_loaders_raise_the_package_error(name, suffix):
    """Fifth newcomer finding I2 (H9's family): the data-set loaders read pandas / openpyxl directly and let the
    built-in FileNotFoundError through (the .xlsx route too)."""
    import crm_analysis.data as data

    with pytest.raises(SourceNotFoundError, match=r"no such file: /nonexistent/file"):
        getattr(data, name)(f"/nonexistent/file{suffix}")
