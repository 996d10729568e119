"""Tests of crm_analysis.yield_management.seasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.yield_management.seasons import (
    allocation_inputs,
    assign_seasons,
    fares_from_bookings,
    season_demand,
)


def _forecasts():
    dates = pd.date_range("2025-01-01", "2025-03-31", freq="D")
    level = dates.month.map({1: 10.0, 2: 30.0, 3: 20.0})  # Jan low, Feb peak, Mar shoulder
    rows = []
    for d, l in zip(dates, level):
        rows.append((d, "BAR", l, 2.0))
        rows.append((d, "Corporate", l / 2, 1.0))
    return pd.DataFrame(rows, columns=["date", "fare_class", "mean", "std"])


def test_seasons_tercile_and_month():
    f = _forecasts()
    s = assign_seasons(f)
    assert s.value_counts().sort_index().tolist() == [30, 30, 30]  # equal-count terciles
    # 31 Jan days (10), 31 Mar days (20), 28 Feb days (30): equal counts of 30
    assert (s[s.index.month == 2] == "peak").all()
    assert (s[s.index.month == 1] == "low").sum() == 30
    assert s.value_counts()["shoulder"] == 30
    m = assign_seasons(f, method="month")
    assert (m[m.index.month == 3] == "shoulder").all()
    with pytest.raises(ValueError, match="method"):
        assign_seasons(f, method="week")


def test_season_demand_law_of_total_variance():
    # two dates, means 10 and 20, std 0 and 0: mixture mean 15, std 5
    f = pd.DataFrame(
        {"date": pd.to_datetime(["2025-01-01", "2025-01-02"]), "fare_class": "A", "mean": [10.0, 20.0], "std": [0.0, 0.0]}
    )
    seasons = pd.Series(["x", "x"], index=f["date"])
    out = season_demand(f, seasons)
    assert out.loc[("x", "A"), "mean"] == pytest.approx(15.0)
    assert out.loc[("x", "A"), "std"] == pytest.approx(5.0)
    f["std"] = [3.0, 4.0]  # + mean of variances (9 + 16) / 2
    assert season_demand(f, seasons).loc[("x", "A"), "std"] == pytest.approx(np.sqrt(25 + 12.5))


def test_fares_from_bookings_and_inputs():
    b = pd.DataFrame(
        {
            "fare_class": ["A", "A", "B", "B"],
            "rate": [100.0, 200.0, 50.0, 999.0],
            "nights": [1, 3, 2, 1],
            "status": ["stayed", "stayed", "stayed", "cancelled"],
        }
    )
    fares = fares_from_bookings(b)
    assert fares.loc["A", "fare"] == pytest.approx((100 + 600) / 4)
    assert fares.loc["B", "fare"] == pytest.approx(50.0)
    dem = pd.DataFrame({"mean": [3.0, 4.0], "std": [1.0, 2.0]}, index=["B", "A"])
    classes, f, specs = allocation_inputs(fares["fare"], dem)
    assert classes == ["A", "B"] and f.tolist() == [175.0, 50.0] and specs == [(4.0, 2.0), (3.0, 1.0)]


def test_compare_policies_by_season():
    from crm_analysis.yield_management import compare_policies_by_season, dp_protection_levels, expected_revenue

    idx = pd.MultiIndex.from_product([["low", "peak"], ["H", "L"]], names=["season", "fare_class"])
    sd = pd.DataFrame({"mean": [10.0, 30.0, 25.0, 60.0], "std": [4.0, 10.0, 8.0, 20.0], "n_dates": 5}, index=idx)
    fares = pd.Series({"L": 80.0, "H": 200.0})
    comp = compare_policies_by_season(fares, sd, 60)
    peak = comp.revenue.loc["peak"]
    dp = dp_protection_levels([200.0, 80.0], [(25.0, 8.0), (60.0, 20.0)], 60)
    assert peak["DP"] == pytest.approx(dp.expected_revenue)
    assert peak["FCFS"] == pytest.approx(expected_revenue([200.0, 80.0], [(25.0, 8.0), (60.0, 20.0)], 60, [0]))
    assert (comp.revenue["DP"] >= comp.revenue[["FCFS", "EMSR-b"]].max(axis=1) - 1e-8).all()
    assert comp.controls.loc[("peak", "H"), "dp_protection"] == dp.protection_levels[0]
    assert comp.controls.loc[("peak", "H"), "dp_limit"] == 60
