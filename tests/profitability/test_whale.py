"""Whale curve and profit deciles (crm_analysis.profitability.whale).

The whale curve of Kaplan & Cooper (1998, Cost and Effect, ch. 10): cumulative
profit of customers ranked from the most to the least profitable, as a share
of the total profit. Expected values below come from sorting by hand or with
plain numpy, independently of the package's code path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.profitability import ProfitabilityInputError, profit_deciles, whale_curve


def test_hand_computed_whale():
    # ten customers: two whales (+150 each), six break even (+5 each), two losers (-100 each); total 130
    profit = pd.Series([150, 150, 5, 5, 5, 5, 5, 5, -100, -100], index=list("abcdefghij"), dtype=float)
    w = whale_curve(profit)
    assert w.total == 130.0
    assert w.share_of_top(0.2) == pytest.approx(300 / 130)  # 231 % of the profit from the top 20 %
    assert w.peak_share == pytest.approx(330 / 130) and w.peak_customers == pytest.approx(0.8)
    assert w.loss_of_bottom(0.2) == pytest.approx(-200 / 130)
    s = w.summary()
    assert s["unprofitable_customers"] == 2 and s["loss_of_unprofitable"] == -200.0
    assert s["loss_share_of_total"] == pytest.approx(-200 / 130)
    assert w.cumulative_share[-1] == pytest.approx(1.0) and w.cumulative_share[0] == 0.0


def test_nonpositive_total_gives_money_and_nan_shares():
    w = whale_curve(pd.Series([10.0, -30.0], index=["a", "b"]))
    assert w.total == -20.0 and np.isnan(w.share_of_top(0.5)) and np.isnan(w.peak_share)
    assert "undefined" in w.notes[0]
    assert w.plot().axes[0].get_ylabel() == "Cumulative profit"


def test_ties_are_broken_by_customer_id_not_row_order():
    a = whale_curve(pd.Series([1.0, 1.0, -1.0], index=["x", "y", "z"]))
    b = whale_curve(pd.Series([-1.0, 1.0, 1.0], index=["z", "y", "x"]))
    np.testing.assert_array_equal(a.cumulative_profit, b.cumulative_profit)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=60))
def test_property_curve_is_concave_and_ends_at_the_total(values):
    p = pd.Series(values, index=[f"c{i:03d}" for i in range(len(values))])
    w = whale_curve(p)
    steps = np.diff(w.cumulative_profit)
    assert (np.diff(steps) <= 1e-9).all()  # ranked from the most profitable: increments fall
    assert w.cumulative_profit[-1] == pytest.approx(p.sum(), abs=1e-6)
    assert w.cumulative_profit.max() == pytest.approx(p[p > 0].sum() if (p > 0).any() else 0.0, abs=1e-6)
    if p.sum() > 0:
        k = max(1, len(p) // 5)
        assert w.share_of_top(k / len(p)) == pytest.approx(np.sort(p.to_numpy())[::-1][:k].sum() / p.sum(),
                                                           rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=10, max_size=80), st.integers(1, 10))
def test_property_deciles(values, n_groups):
    t = pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(len(values))], "profit": values})
    d = profit_deciles(t, n_groups=n_groups)
    assert d["customers"].sum() == len(t) and d["customers"].max() - d["customers"].min() <= 1
    assert d["profit"].sum() == pytest.approx(t["profit"].sum(), abs=1e-6)
    assert (d["min_profit"].to_numpy()[:-1] >= d["max_profit"].to_numpy()[1:] - 1e-12).all()  # 1 = most profitable


def test_deciles_sum_the_profit_table_columns():
    t = pd.DataFrame({"customer_id": list("abcdefghij"), "profit": np.arange(10.0),
                      "gross_revenue": np.full(10, 10.0), "returned_revenue": np.arange(10.0) / 10})
    d = profit_deciles(t)
    assert d.loc[1, "profit"] == 9.0 and d.loc[10, "profit"] == 0.0
    assert d.loc[1, "return_rate"] == pytest.approx(0.09)
    assert d["cumulative_profit_share"].iloc[-1] == pytest.approx(1.0)


def test_bad_inputs():
    with pytest.raises(ProfitabilityInputError, match="no customers"):
        whale_curve(pd.Series([], dtype=float))
    with pytest.raises(ProfitabilityInputError, match="missing or infinite"):
        whale_curve(pd.Series([1.0, np.nan]))
    with pytest.raises(ProfitabilityInputError, match="cannot fill 10 groups"):
        profit_deciles(pd.DataFrame({"customer_id": ["a"], "profit": [1.0]}))
    with pytest.raises(ProfitabilityInputError, match="columns 'customer_id' and 'profit'"):
        profit_deciles(pd.DataFrame({"x": [1.0]}))


def test_plot_has_title_and_labels():
    fig = whale_curve(pd.Series([5.0, 3.0, -1.0], index=list("abc"))).plot()
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
