"""The real-data configurations validate, and the chain skips notebooks whose data is ``none``.

Fast: no notebook is run and the data files are not read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crm_analysis.data import load_source
from crm_analysis.report.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
SHARED = (ROOT.parent / "shared" / "data").resolve()

EXPECTED = {
    "cdnow": ({"data_quality", "rfm_clv", "segmentation", "idic"}, "cdnow", "none", "cdnow/CDNOW_sample.txt"),
    "online_retail": (
        {"data_quality", "rfm_clv", "segmentation", "idic", "seasonality"}, "online_retail", "none",
        "online_retail/online_retail.parquet"
    ),
    "hotels": ({"data_quality", "seasonality", "yield", "booking_horizon"}, "none", "hotels", "hotels/hotels.csv.gz"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_loads_with_paths_under_shared_data(name):
    enabled, tx_loader, bk_loader, rel = EXPECTED[name]
    cfg = load_config(ROOT / "config" / f"{name}.yaml")
    assert {nb.name for nb in cfg.enabled} == enabled
    assert cfg.data["transactions"].loader == tx_loader
    assert cfg.data["bookings"].loader == bk_loader
    spec = cfg.data["transactions" if tx_loader != "none" else "bookings"]
    assert Path(spec.options["path"]) == SHARED / rel  # ../shared/data relative to the project root


def test_hotels_filters_the_city_hotel():
    cfg = load_config(ROOT / "config" / "hotels.yaml")
    assert cfg.data["bookings"].options["filter"] == {"property": "City Hotel"}
    assert cfg.as_of == "2017-07-31"


@pytest.mark.parametrize(
    ("name", "notebook", "kind"),
    [("hotels", "rfm_clv", "transactions"), ("hotels", "segmentation", "transactions"),
     ("cdnow", "yield", "bookings"), ("online_retail", "yield", "bookings")],
)
def test_enabling_a_notebook_without_its_data_skips_it_with_the_reason(name, notebook, kind):
    raw = yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())
    for nb in raw["notebooks"]:
        if nb["name"] == notebook:
            nb["enabled"] = True
    cfg = parse_config(raw, project_root=ROOT)
    assert cfg.notebook(notebook).enabled
    assert cfg.data_skips()[notebook] == f"needs {kind}, but data.{kind} is none (this data set has no {kind})"
    assert notebook not in [nb.name for nb in cfg.runnable] and "data_quality" in [nb.name for nb in cfg.runnable]
    only = load_config(ROOT / "config" / f"{name}.yaml").with_overrides(only=["data_quality", notebook])
    assert set(only.data_skips()) == {notebook}


def test_none_source_loads_nothing_and_takes_no_options():
    assert load_source({"loader": "none"}, "transactions") is None
    assert load_source({"loader": "none"}, "bookings") is None
    with pytest.raises(ValueError, match="unknown key"):
        load_source({"loader": "none", "path": "x.csv"}, "bookings")
    raw = {"data": {"transactions": {"loader": "none", "path": "x"}, "bookings": {"loader": "synthetic"}},
           "notebooks": [{"name": "data_quality", "path": "notebooks/00_data_quality.ipynb"}]}
    with pytest.raises(ConfigError, match="data.transactions"):
        parse_config(raw, project_root=ROOT)


def test_seasonality_needs_transactions_or_bookings():
    raw = yaml.safe_load((ROOT / "config" / "cdnow.yaml").read_text())
    for nb in raw["notebooks"]:
        if nb["name"] == "seasonality":
            nb["enabled"] = True
    assert parse_config(raw, project_root=ROOT).notebook("seasonality").enabled  # transactions suffice
    assert parse_config(raw, project_root=ROOT).data_skips() == {}
    raw["data"]["transactions"] = {"loader": "none"}
    raw["notebooks"] = [nb for nb in raw["notebooks"] if nb["name"] in ("data_quality", "seasonality")]
    skips = parse_config(raw, project_root=ROOT).data_skips()
    assert skips == {"seasonality": "needs transactions or bookings, but data.transactions and data.bookings are none"}
