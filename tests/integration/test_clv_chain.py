"""The rfm_clv -> segmentation chain on the default data: model choice and actions.

Runs ``config/default.yaml`` (data_quality, rfm_clv, segmentation only) through
:func:`crm_analysis.report.runner.run_chain`, once with the purchase model
chosen automatically and once forced to Pareto/NBD, and checks the hand-over:
the P(alive) model chosen in rfm_clv is the one the actions name, the choice is
the lowest holdout RMSE of the comparison table, and no lapsed customer or
segment is sent to onboarding (days since the last purchase recomputed here
from the transactions artefact with pandas). About 30 s per chain on two cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import crm_analysis.clv as clv
from crm_analysis.report.config import parse_config
from crm_analysis.segmentation import LAPSED_SEGMENTS, NEW_CUSTOMER_INTENTS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.notebook]


def _run(tmp_path_factory, **rfm_clv_params) -> Path:
    from crm_analysis.report.runner import run_chain

    raw = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
    for nb in raw["notebooks"]:
        nb["enabled"] = nb["name"] in ("data_quality", "rfm_clv", "segmentation")
        if nb["name"] == "rfm_clv":
            nb["parameters"] = {**(nb.get("parameters") or {}), **rfm_clv_params}
    cfg = parse_config(raw, project_root=ROOT)
    result = run_chain(cfg, reports_dir=tmp_path_factory.mktemp("reports"), progress=False)
    assert result.status == "ok"
    return result.run_dir


def _heads(run_dir: Path) -> dict:
    raw = json.loads((run_dir / "artifacts" / "headlines.json").read_text())
    return {nb: {k: v["value"] for k, v in figs.items()} for nb, figs in raw.items()}


@pytest.fixture(scope="module")
def auto_run(tmp_path_factory) -> Path:
    return _run(tmp_path_factory)


def test_model_choice_is_the_lowest_holdout_rmse_and_reaches_the_actions(auto_run):
    params = json.loads((auto_run / "artifacts" / "clv_params.json").read_text())
    choice = params["purchase_model_choice"]
    table = pd.DataFrame.from_dict(choice["table"], orient="index")
    expected = {"bgnbd", "paretonbd"} | ({"mbgnbd"} if hasattr(clv, "ModifiedBetaGeoModel") else set())
    assert set(table.index) == expected
    assert choice["criterion"] == "holdout_rmse" and choice["chosen_by"] == "criterion"
    assert choice["chosen"] == table["holdout_rmse"].astype(float).idxmin()
    label = choice["chosen_label"]
    heads = _heads(auto_run)
    assert heads["rfm_clv"]["purchase_model"] == label
    assert params["whole_period"][choice["chosen"]]["boundary"] is None  # an interior fit: the plain label
    assert heads["segmentation"]["p_alive_model"] == label == params["p_alive_model"]
    table_clv = pd.read_parquet(auto_run / "artifacts" / "clv.parquet")
    assert set(table_clv["p_alive_model"]) == {label}
    assert heads["rfm_clv"]["mean_p_alive"] == pytest.approx(table_clv["p_alive"].mean())
    html = (auto_run / "html" / "10_rfm_clv.html").read_text()
    assert "Model used downstream" in html and f"P(alive) handed to the segmentation: {label}" in html


def test_no_lapsed_customer_or_segment_is_sent_to_onboarding(auto_run):
    art = auto_run / "artifacts"
    tx = pd.read_parquet(art / "transactions.parquet")
    last = tx.groupby("customer_id")["timestamp"].max().dt.normalize()
    days = (pd.Timestamp("2024-12-31") - last).dt.days
    cust = pd.read_csv(art / "customer_actions.csv", dtype={"customer_id": str}).set_index("customer_id")
    assert len(cust) == tx["customer_id"].nunique()
    pd.testing.assert_series_equal(cust["days_since_last"], days.reindex(cust.index).astype(float),
                                   check_names=False)
    onboarding = cust["intent"].isin(list(NEW_CUSTOMER_INTENTS))
    assert not (onboarding & cust["segment"].isin(LAPSED_SEGMENTS)).any()
    assert not (onboarding & (days.reindex(cust.index) > 365)).any()
    seg = pd.read_parquet(art / "segment_actions.parquet").set_index("segment")
    lapsed = seg.index.isin(LAPSED_SEGMENTS) | seg["segment_lapsed"].to_numpy(dtype=bool)
    onboard_actions = {"Onboard"}
    assert not seg.loc[lapsed, "action"].isin(onboard_actions).any()
    assert not seg.loc[lapsed, "actions"].str.contains("Onboard").any()
    html = (auto_run / "html" / "20_segmentation.html").read_text()
    assert "Customers caught by each rule" in html and "P(alive) used:" in html


def test_a_forced_purchase_model_is_used_downstream(tmp_path_factory):
    run = _run(tmp_path_factory, purchase_model="pareto_nbd")
    heads = _heads(run)
    assert heads["rfm_clv"]["purchase_model"] == "Pareto/NBD"
    assert heads["rfm_clv"]["purchase_model_chosen_by"] == "configuration"
    assert heads["segmentation"]["p_alive_model"] == "Pareto/NBD"
    params = json.loads((run / "artifacts" / "clv_params.json").read_text())
    assert params["clv_model"] == "paretonbd"
    cust = pd.read_csv(run / "artifacts" / "customer_actions.csv")
    assert set(cust["p_alive_model"]) == {"Pareto/NBD"}
