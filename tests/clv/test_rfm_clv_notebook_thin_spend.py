"""The rfm_clv notebook on data without spend heterogeneity (issue #12 polish, point 6).

Rendered through the report runner (:func:`crm_analysis.report.runner.run_chain`, data_quality and rfm_clv) on
a small generated file (:mod:`clv_transactions`: 300 customers, every amount Gamma(3, scale 12), one spend scale
for everyone):

* only 3 repeat buyers (2 in the calibration period): the Gamma-Gamma spend model is not identified (q, v or p
  run off), every purchase model sits at a limit. The page must read right: no "nan", no raw reprs with ten or
  more digits, the correlation that cannot be computed said in words, the P(alive) handed on named with its
  limit, as ``clv.parquet`` names it;
* every order at the same price: the spend model cannot be fitted at all; the run stops at the rfm_clv step with
  the message naming the cause (a constant price), not a traceback deep in the optimiser.

About 90 s on two cores, hence ``slow``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from clv_transactions import btyd_transactions

from crm_analysis.report.config import parse_config

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.notebook]


def _run(tmp_path: Path, tx: pd.DataFrame):
    from crm_analysis.report.runner import run_chain

    tx.to_csv(tmp_path / "orders.csv", index=False)
    raw = yaml.safe_load((ROOT / "config" / "example_own_data.yaml").read_text())
    raw.pop("calendar", None)
    raw["data"]["transactions"] = {"loader": "csv", "path": str(tmp_path / "orders.csv"), "date_format": "%Y-%m-%d"}
    for nb in raw["notebooks"]:
        nb["enabled"] = nb["name"] in ("data_quality", "rfm_clv")
        if nb["name"] == "rfm_clv":
            nb["parameters"] = {"calibration_end": "2024-06-30", "time_unit": "W", "horizon": 52, "interval_draws": 50}
    return run_chain(parse_config(raw, project_root=ROOT), reports_dir=tmp_path / "reports", progress=False)


def _text(page: Path) -> str:
    """The visible text of an HTML page (styles, scripts and tags dropped)."""
    t = re.sub(r"<(style|script)\b.*?</\1>", "", page.read_text(), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", t))


@pytest.fixture(scope="module")
def few_repeat_buyers(tmp_path_factory) -> Path:
    tx = btyd_transactions(300, 5)
    first = tx.groupby("customer_id")["timestamp"].transform("min") == tx["timestamp"]
    keep = tx["customer_id"].isin(tx.loc[~first, "customer_id"].unique()[:3])  # 3 repeat buyers, the rest once
    result = _run(tmp_path_factory.mktemp("few"), tx[first | keep])
    assert result.status == "ok"
    return result.run_dir


def test_the_page_reads_right_with_three_repeat_buyers(few_repeat_buyers):
    text = _text(few_repeat_buyers / "html" / "10_rfm_clv.html")
    params = json.loads((few_repeat_buyers / "artifacts" / "clv_params.json").read_text())
    assert params["calibration"]["n_repeat_buyers"] == 2  # the data are what the test says
    assert re.findall(r"\bnan\b", text.replace("are NaN", ""), flags=re.I) == []
    assert "np." not in text
    assert re.findall(r"\d{10,}", text) == []  # e.g. q = 527455901248.8011: parameter tables in significant digits
    assert "cannot be computed here: 2 repeat buyer(s)" in text  # the correlation (was "nan")
    assert "not identified" in text  # the spend model's standard errors say why they are missing
    clv = pd.read_parquet(few_repeat_buyers / "artifacts" / "clv.parquet")
    label = params["p_alive_model"]
    chosen = params["purchase_model_choice"]["chosen"]
    assert params["whole_period"][chosen]["boundary"] == "no_dropout"  # every fit sits at a limit on these data
    assert label == params["purchase_model_choice"]["chosen_label"] + " at its no-dropout limit (NBD)"
    assert set(clv["p_alive_model"]) == {label}
    assert f"P(alive) handed to the segmentation: {label}" in text


def test_one_price_for_every_order_stops_with_the_cause(tmp_path):
    from crm_analysis.report.runner import NotebookFailed

    tx = btyd_transactions(300, 5).assign(amount=25.0)
    with pytest.raises(NotebookFailed, match=r"notebook 'rfm_clv' failed.*GammaGammaModel: all \d+ repeat buyers have "
                                             r"the same mean spend 25.*\(a constant price\?\)"):
        _run(tmp_path, tx)
