"""Tests of crm_analysis.segmentation.value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from crm_analysis.segmentation import current_profit, default_cell_names, value_grid


def test_current_profit_explicit_costs():
    t = pd.DataFrame({"revenue": [100.0, 50.0], "frequency": [0.0, 4.0]})
    p = current_profit(t, cost_rate=0.6, cost_per_order=5.0)
    # 100*0.4 - 5*1 ; 50*0.4 - 5*5
    assert p.tolist() == pytest.approx([35.0, -5.0])
    assert current_profit(t).tolist() == [100.0, 50.0]
    with pytest.raises(ValueError, match="cost_rate"):
        current_profit(t, cost_rate=1.5)


@pytest.mark.parametrize("n", [2, 3])
def test_grid_cells_and_tiers(clv_table, n):
    t = clv_table.assign(profit=current_profit(clv_table, cost_rate=0.6))
    g = value_grid(t, "profit", "clv", n=n)
    assert len(g.table) == len(t)
    assert g.table["value_tier"].notna().all()
    assert set(g.table["value_tier"]) <= set(default_cell_names(n).values())
    assert int(g.counts.to_numpy().sum()) == len(t)
    # equal-size tiers on each axis
    for col in ("current_tier", "future_tier"):
        counts = g.table[col].value_counts()
        assert counts.max() - counts.min() <= 1
    # the top cell holds customers high on both axes
    top = g.table[g.table["value_tier"] == default_cell_names(n)[(n, n)]]
    rest = g.table.drop(top.index)
    assert top["current"].min() >= rest.loc[rest["current_tier"] < n, "current"].max()
    assert top["future"].min() >= rest.loc[rest["future_tier"] < n, "future"].max()
    assert isinstance(g.plot(), Figure)
    assert isinstance(g.plot(kind="scatter"), Figure)
    assert g.cell_summary()["share"].sum() == pytest.approx(1.0)


def test_referrals_uplift_future_tier():
    t = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(8)],
        "cur": np.arange(8.0),
        "fut": np.arange(8.0),
        "referrals": [0, 3, 0, 0, 0, 0, 0, 2],
    })
    g = value_grid(t, "cur", "fut", n=2, referral_col="referrals")
    tab = g.table.set_index("customer_id")
    assert tab.loc["c1", "advocate"] and tab.loc["c1", "future_tier"] == 2  # low -> high
    assert tab.loc["c7", "future_tier"] == 2  # already high: capped
    assert g.n_uplifted == 1
    g0 = value_grid(t, "cur", "fut", n=2, referral_col="referrals", advocacy_uplift=False)
    assert g0.table.set_index("customer_id").loc["c1", "future_tier"] == 1


def test_custom_names_must_cover_grid(clv_table):
    with pytest.raises(ValueError, match="cell names missing"):
        value_grid(clv_table, "revenue", "clv", n=2, names={(1, 1): "a"})
