"""No database password in any file of a run folder or in the published index (issue #11, point 8).

A real PostgreSQL server on loopback (the throw-away server of
``tests/data/conftest.py``, with a random password) holds synthetic
transactions. The chain reads them through the ``sql`` loader with the
password supplied by ``password_env`` (a successful run), then through
``url_env`` from a table that does not exist (a failing run, whose error
message names the URL). Afterwards every file under the reports folder --
``config.yaml``, ``run.json``, ``run.log``, the executed notebook, its HTML,
the artefacts, both ``index.html`` -- is read as bytes and searched for the
password, raw and URL-encoded. The refusal of a password written into the
configuration itself is in ``tests/report/test_bad_inputs.py``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

from crm_analysis.report.cli import EXIT_NOTEBOOK_FAILED, EXIT_OK, main

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.notebook]


def _postgres_server():
    """The server context manager of tests/data/conftest.py (one implementation of the throw-away server)."""
    spec = importlib.util.spec_from_file_location("_crm_pg_server", ROOT / "tests" / "data" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module.postgres_server


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """URL (with password) of a database holding ``sales.orders``: the synthetic default transactions."""
    import sqlalchemy as sa

    from crm_analysis.synthetic import default_transactions

    with _postgres_server()() as url:
        eng = sa.create_engine(url)
        with eng.begin() as con:
            con.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS sales")
        default_transactions(seed=3).to_sql("orders", eng, schema="sales", index=False, chunksize=5000)
        eng.dispose()
        yield url


def _config(tmp_path: Path, source: dict) -> Path:
    raw = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
    raw["project_root"] = str(ROOT)
    raw["reports_dir"] = str(tmp_path / "reports")
    raw["data"] = {"transactions": source, "bookings": {"loader": "none"}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _files_with(folder: Path, secret: str) -> list[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    hits = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.relative_to(folder)}: {form!r}" for form in forms if form.encode() in data]
    return hits


def test_no_file_of_a_run_holds_the_password(database, tmp_path, monkeypatch, capsys):
    from sqlalchemy.engine import make_url

    url = make_url(database)
    secret = url.password
    assert secret and len(secret) >= 8
    monkeypatch.setenv("CRM_TEST_DB_PASSWORD", secret)
    monkeypatch.setenv("CRM_TEST_DB_URL", database)
    without = url._replace(password=None).render_as_string(hide_password=False)  # (.set(password=None) keeps it)
    assert secret not in without

    ok = _config(tmp_path, {"loader": "sql", "url": without, "password_env": "CRM_TEST_DB_PASSWORD",
                            "table": "sales.orders"})
    assert main(["report", "--config", str(ok), "--quiet", "--only", "data_quality"]) == EXIT_OK, \
        capsys.readouterr().err
    bad = _config(tmp_path, {"loader": "sql", "url_env": "CRM_TEST_DB_URL", "table": "sales.no_such_table"})
    assert main(["report", "--config", str(bad), "--quiet", "--only", "data_quality"]) == EXIT_NOTEBOOK_FAILED
    err = capsys.readouterr().err
    assert "table 'sales.no_such_table' not found in postgresql+psycopg://postgres:***@127.0.0.1" in err
    assert secret not in err

    reports = tmp_path / "reports"
    runs = sorted((reports / "runs").iterdir())
    assert len(runs) == 2 and (reports / "index.html").is_file()
    written = [p for p in reports.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    # the files the search covers, so that a new kind of file is noticed
    assert {"config.yaml", "run.json", "run.log", "00_data_quality.ipynb", "00_data_quality.html", "index.html",
            "transactions.parquet", "data_quality.json", "headlines.json"} <= names
    assert _files_with(reports, secret) == []
    # ... and the search does find the password where it is (the test can fail)
    (tmp_path / "probe.txt").write_text(f"x {database} y")
    assert _files_with(tmp_path, secret) == [f"probe.txt: {secret!r}"]
    assert os.environ["CRM_TEST_DB_PASSWORD"] == secret  # the password was there, in the environment only
