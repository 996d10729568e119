"""Tests of crm_analysis.segmentation.actions."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from crm_analysis.segmentation import ActionRule, default_action_rules, export_action_table, segment_summary


def _customers() -> pd.DataFrame:
    # segment A: 2 customers, active, most of the CLV; B: lapsed but big past revenue; C: small, lapsed
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(8)],
        "segment": ["A", "A", "B", "B", "C", "C", "C", "C"],
        "revenue": [100.0, 100.0, 150.0, 150.0, 10.0, 10.0, 10.0, 10.0],
        "clv": [500.0, 300.0, 50.0, 30.0, 5.0, 5.0, 5.0, 5.0],
        "p_alive": [0.9, 0.8, 0.2, 0.3, 0.1, 0.2, 0.1, 0.2],
    })


def test_figures_match_direct_computation():
    c = _customers()
    s = segment_summary(c).table
    assert s["share"].sum() == pytest.approx(1.0)
    assert s["revenue_share"].sum() == pytest.approx(1.0)
    assert s["clv_share"].sum() == pytest.approx(1.0)
    assert s["customers"].sum() == len(c)
    assert s.loc["A", "share"] == pytest.approx(2 / 8)
    assert s.loc["B", "revenue_share"] == pytest.approx(300 / 540)
    assert s.loc["A", "clv_share"] == pytest.approx(800 / 900)
    assert s.loc["A", "mean_p_alive"] == pytest.approx(0.85)
    assert s.loc["C", "mean_clv"] == pytest.approx(5.0)
    assert s.loc["A", "clv_index"] == pytest.approx((800 / 900) / (2 / 8))
    # rows sorted by CLV share
    assert s.index.tolist() == ["A", "B", "C"]


def test_default_actions_follow_rules():
    s = segment_summary(_customers()).table
    assert s.loc["A", "action"] == "Retain and reward"
    assert s.loc["B", "action"] == "Win back"
    assert s.loc["C", "action"] == "Let go"
    assert s["offer"].notna().all()
    assert s.loc["A", "offer"] == default_action_rules()[0].offer


def test_changing_a_threshold_changes_the_action():
    c = _customers()
    # A has mean P(alive) 0.85: demanding 0.9 to retain moves it to the next rule that matches (Grow)
    s = segment_summary(c, action_rules=default_action_rules(retain_p_alive=0.9)).table
    assert s.loc["A", "action"] == "Grow"
    # B's revenue index is 300/540 / (2/8) = 2.22: asking 2.5 for win-back lets it go
    s = segment_summary(c, action_rules=default_action_rules(winback_revenue_index=2.5)).table
    assert s.loc["B", "action"] == "Let go"
    # C (mean P(alive) 0.15) is nurtured once the nurture threshold is below it
    s = segment_summary(c, action_rules=default_action_rules(nurture_p_alive=0.1)).table
    assert s.loc["C", "action"] == "Nurture"


def test_custom_rules_and_errors():
    c = _customers()
    rules = [ActionRule("Call", "phone call", {"mean_clv": (100.0, None)})]
    with pytest.raises(ValueError, match="no action rule matches"):
        segment_summary(c, action_rules=rules)
    rules.append(ActionRule("Mail", "email", {}))
    s = segment_summary(c, action_rules=rules).table
    assert s["action"].to_dict() == {"A": "Call", "B": "Mail", "C": "Mail"}
    with pytest.raises(ValueError, match="unknown column"):
        segment_summary(c, action_rules=[ActionRule("x", "y", {"nope": (0, 1)})])
    with pytest.raises(ValueError, match="no segment"):
        segment_summary(c.assign(segment=[None] + ["A"] * 7))


def test_export_and_plot(tmp_path):
    c = _customers()
    summ = segment_summary(c)
    p = summ.export_action_table(tmp_path / "seg.csv")
    back = pd.read_csv(p)
    assert back["segment"].tolist() == ["A", "B", "C"]
    assert {"action", "offer", "customers"} <= set(back.columns)
    p2 = export_action_table(summ, tmp_path / "sub" / "customers.csv", segments=c[["customer_id", "segment"]])
    per = pd.read_csv(p2)
    assert len(per) == len(c)
    assert per.set_index("customer_id").loc["c3", "action"] == "Win back"
    assert isinstance(summ.plot(), Figure)
