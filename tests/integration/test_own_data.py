"""The report chain on a user's own file: ``config/example_own_data.yaml``.

``data/example/orders.csv`` is a small committed example with the user's own
column names (``Client``, ``OrderDate`` day-first, ``Total``, ``OrderNo``,
``Channel``) mapped with ``columns:``; it has transactions only. The chain is
run through :func:`crm_analysis.report.runner.run_chain` into a temporary
reports folder and its headline figures are checked against figures computed
here from the CSV with pandas. The four notebooks take about a minute on two
cores, hence ``slow``; the bad-mapping test stops in the first notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crm_analysis.report.cli import main
from crm_analysis.report.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "example_own_data.yaml"
CSV = ROOT / "data" / "example" / "orders.csv"
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    """The example file read independently of the package (day-first dates)."""
    df = pd.read_csv(CSV)
    df["date"] = pd.to_datetime(df["OrderDate"], format="%d/%m/%Y")
    return df


@pytest.fixture(scope="module")
def own_run(tmp_path_factory) -> Path:
    from crm_analysis.report.runner import run_chain

    result = run_chain(load_config(CONFIG), reports_dir=tmp_path_factory.mktemp("reports_own"), progress=False)
    assert result.status == "ok" and result.published
    return result.run_dir


def _headlines(run_dir: Path) -> dict:
    raw = json.loads((run_dir / "artifacts" / "headlines.json").read_text())
    return {nb: {k: v["value"] for k, v in figs.items()} for nb, figs in raw.items()}


def test_example_file_is_small_and_user_shaped(orders):
    assert list(orders.columns[:5]) == ["OrderNo", "Client", "OrderDate", "Total", "Channel"]
    assert 100 <= len(orders) <= 1000 and CSV.stat().st_size < 50_000
    # day-first: some days are > 12, so a month-first reading would fail or differ
    assert (orders["date"].dt.day > 12).any()


def test_config_is_transactions_only_with_seasonality():
    cfg = load_config(CONFIG)
    assert cfg.data["bookings"].loader == "none"
    assert cfg.data["transactions"].options["columns"]["customer_id"] == "Client"
    assert [nb.name for nb in cfg.enabled] == ["data_quality", "rfm_clv", "segmentation", "idic", "seasonality"]


@pytest.mark.slow
def test_own_file_chain_headlines(own_run, orders):
    heads = _headlines(own_run)
    assert set(heads) == {"data_quality", "rfm_clv", "segmentation", "idic", "seasonality"}
    assert heads["data_quality"]["customers"] == orders["Client"].nunique()
    assert heads["data_quality"]["transactions"] == len(orders)
    assert heads["data_quality"]["revenue"] == pytest.approx(orders["Total"].sum())
    assert heads["rfm_clv"]["customers"] == orders["Client"].nunique()
    # purchase seasonality: the weekday with the largest revenue share, from pandas
    share = orders.groupby(orders["date"].dt.day_of_week)["Total"].sum() / orders["Total"].sum()
    assert heads["seasonality"]["retail_peak_weekday"] == WEEKDAYS[int(share.idxmax())]
    assert heads["seasonality"]["retail_peak_weekday_share"] == pytest.approx(share.max(), abs=1e-4)
    assert heads["seasonality"]["retail_strongest_cycle"] == "7 days"  # one year: no yearly cycle
    assert not (own_run / "artifacts" / "forecasts.parquet").exists()
    html = (own_run / "html" / "30_seasonality.html").read_text()
    assert "The 365-day cycle of purchases is not estimated" in html
    assert "This data set has no bookings" in html
    assert "Warning" not in html


@pytest.mark.slow
def test_wrong_column_name_fails_naming_the_column(tmp_path, capsys):
    raw = yaml.safe_load(CONFIG.read_text())
    raw["data"]["transactions"]["columns"]["customer_id"] = "Customer"  # the file says Client
    raw["project_root"] = str(ROOT)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    code = main(["report", "--config", str(cfg), "--reports-dir", str(tmp_path / "reports"), "--quiet"])
    assert code != 0
    err = capsys.readouterr().err
    assert "Customer" in err and "Client" in err, err
