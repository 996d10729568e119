"""Tests of the night-by-night policy comparison (evaluate_nights)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.yield_management import evaluate_group_request, evaluate_nights

FARES = pd.Series({"A": 120.0, "B": 90.0, "C": 60.0})


def _forecasts(means: np.ndarray, stds: np.ndarray, start: str = "2025-01-01") -> pd.DataFrame:
    """Forecast table for len(means) nights x 3 classes (means/stds of shape (nights, 3))."""
    dates = pd.date_range(start, periods=means.shape[0], freq="D")
    rows = [
        {"date": d, "fare_class": c, "mean": float(means[i, j]), "std": float(stds[i, j])}
        for i, d in enumerate(dates) for j, c in enumerate(FARES.index)
    ]
    return pd.DataFrame(rows)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 40), st.floats(0, 40), st.floats(0, 60), st.floats(0.5, 10)), min_size=1, max_size=4),
    st.integers(5, 60),
)
def test_dp_never_below_fcfs_or_emsr_b(nights, capacity):
    """DP is the optimum of the static model: uplift over FCFS and over EMSR-b is >= 0 on every night."""
    a = np.array(nights)
    fc = _forecasts(a[:, :3], np.repeat(a[:, 3:4], 3, axis=1))
    res = evaluate_nights(fc, FARES, capacity)
    n = res.nights
    assert (n["DP_uplift"] >= -1e-7).all()
    assert (n["DP"] >= n["EMSR-b"] - 1e-7).all()
    assert (n["bid_price"] >= -1e-9).all() and (n["bid_price"] <= FARES.max() + 1e-9).all()


def test_no_uplift_when_demand_far_below_capacity():
    means = np.array([[8.0, 10.0, 15.0], [10.0, 12.0, 9.0]])
    res = evaluate_nights(_forecasts(means, np.full_like(means, 2.0)), FARES, capacity=100)
    n = res.nights
    np.testing.assert_allclose(n["DP_uplift"], 0.0, atol=1e-6)
    np.testing.assert_allclose(n["EMSR-b_uplift"], 0.0, atol=1e-6)
    # everybody is served: expected revenue = sum of fare x expected demand (demand ~ never truncated at 0 here)
    np.testing.assert_allclose(n["FCFS"], means @ FARES.to_numpy(), rtol=1e-3)
    assert not n["over_capacity"].any()
    np.testing.assert_allclose(n["bid_price"], 0.0, atol=1e-6)


def test_uplift_positive_when_low_fare_demand_floods_capacity():
    # low class alone fills the hotel and books first: FCFS leaves no room for A and B
    means = np.array([[20.0, 20.0, 100.0]])
    res = evaluate_nights(_forecasts(means, np.full_like(means, 3.0)), FARES, capacity=50)
    n = res.nights.iloc[0]
    assert n["over_capacity"]
    # protecting ~40 rooms for A and B gains roughly 20 x (120 - 60) + 20 x (90 - 60) = 1,800
    assert 1500 < n["DP_uplift"] < 1900
    assert n["dp_protection_A"] == pytest.approx(20, abs=5)


def test_summary_sums_nights_and_groups():
    rng = np.random.default_rng(0)
    means = rng.uniform(5, 30, (40, 3))
    res = evaluate_nights(_forecasts(means, np.full_like(means, 4.0), start="2025-01-15"), FARES, capacity=50)
    month = res.summary(by="month")
    year = res.summary(by="year")
    assert list(month.index) == ["2025-01", "2025-02"]
    assert month["nights"].sum() == 40 == year["nights"].iloc[0]
    for c in ("FCFS", "EMSR-b", "DP", "DP_uplift", "DP_uplift_over_capacity"):
        assert month[c].sum() == pytest.approx(year[c].iloc[0])
        assert year[c].iloc[0] == pytest.approx(res.nights[c].sum() if c in res.nights else year[c].iloc[0])
    labels = pd.Series(np.where(res.nights["load"] > res.nights["load"].median(), "high", "low"), index=res.nights.index)
    by = res.summary(by=labels)
    assert by["nights"].sum() == 40
    with pytest.raises(ValueError, match="by must be"):
        res.summary(by="week")


def test_group_decision_uses_each_nights_own_demand():
    means = np.array([[30.0, 30.0, 40.0], [30.0, 30.0, 40.0], [2.0, 3.0, 5.0], [2.0, 3.0, 5.0]])
    stds = np.full_like(means, 4.0)
    res = evaluate_nights(_forecasts(means, stds), FARES, capacity=80)
    busy = res.group_decision("2025-01-01", 20, 50.0, 2)
    quiet = res.group_decision("2025-01-03", 20, 50.0, 2)
    assert busy.displacement_cost > 20 * 50.0 * 2 > quiet.displacement_cost
    assert busy.decision == "reject" and quiet.decision == "accept"
    direct = evaluate_group_request(20, 50.0, 2, 80, FARES.to_numpy(), [list(zip(means[i], stds[i])) for i in (1, 2)],
                                    per_night=True)
    assert res.group_decision("2025-01-02", 20, 50.0, 2).displacement_cost == pytest.approx(direct.displacement_cost)
    with pytest.raises(ValueError, match="without a forecast"):
        res.group_decision("2025-01-04", 20, 50.0, 2)


def test_guards():
    means = np.array([[5.0, 10.0, 15.0]])
    fc = _forecasts(means, np.ones_like(means))
    with pytest.raises(ValueError, match="capacity"):
        evaluate_nights(fc, FARES, capacity=0)
    with pytest.raises(ValueError, match="classes"):
        evaluate_nights(pd.concat([fc, _forecasts(means, np.ones_like(means), "2025-01-02").query("fare_class != 'B'")]),
                        FARES, capacity=10)
    fig = evaluate_nights(fc, FARES, capacity=10).plot()
    assert fig.axes[0].get_title()
