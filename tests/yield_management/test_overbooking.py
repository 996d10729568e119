"""Tests of crm_analysis.yield_management.overbooking: hand-computed binomial examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_analysis.yield_management import (
    overbooking_curve,
    overbooking_limit_cost,
    overbooking_limit_service,
    show_rates,
)


def test_service_limit_tiny_example_by_hand():
    # C = 2 rooms, q = 1/2. b = 3: P(S > 2) = P(S = 3) = 1/8.
    # b = 4: P(S > 2) = P(3) + P(4) = 4/16 + 1/16 = 5/16.
    assert overbooking_limit_service(2, 0.5, 0.2) == 3  # 1/8 <= 0.2 < 5/16
    assert overbooking_limit_service(2, 0.5, 5 / 16) == 4
    assert overbooking_limit_service(2, 0.5, 0.1) == 2  # even 3 bookings break 10%


def test_service_limit_hotel_example():
    # C = 100 rooms, show rate 0.9, at most 5% chance of walking a guest.
    # Independently with scipy.stats.binom: P(Bin(106, .9) > 100) = 0.0479 <= 0.05
    # and P(Bin(107, .9) > 100) = 0.0846 > 0.05, so the limit is 106.
    assert stats.binom.sf(100, 106, 0.9) <= 0.05 < stats.binom.sf(100, 107, 0.9)
    assert overbooking_limit_service(100, 0.9, 0.05) == 106


def test_service_limit_expected_per_booking():
    # C = 2, q = 1/2: E[(S-2)^+] is 1/8 at b = 3 (per booking 1/24 = 0.0417) and
    # at b = 4: 1 * 4/16 + 2 * 1/16 = 6/16 (per booking 6/64 = 0.09375).
    assert overbooking_limit_service(2, 0.5, 0.05, criterion="expected_per_booking") == 3
    assert overbooking_limit_service(2, 0.5, 0.1, criterion="expected_per_booking") == 4
    assert overbooking_limit_service(2, 0.5, 0.04, criterion="expected_per_booking") == 2


def test_cost_limit_tiny_example_by_hand():
    # C = 2, q = 1/2, denied_cost = spoilage_cost -> critical ratio 1/2.
    # P(S_b <= 1): b = 2: 3/4 (> 1/2, book more); b = 3: 4/8 = 1/2 (<= 1/2, stop).
    assert overbooking_limit_cost(2, 0.5, denied_cost=1.0, spoilage_cost=1.0) == 3
    # denied 3x as costly: ratio 3/4; b = 2: 3/4 <= 3/4 -> stop at capacity.
    assert overbooking_limit_cost(2, 0.5, denied_cost=3.0, spoilage_cost=1.0) == 2


def _cost_by_brute_force(C, q, d, s, b_max):
    costs = []
    for b in range(C, b_max + 1):
        k = np.arange(b + 1)
        pmf = stats.binom.pmf(k, b, q)
        costs.append(d * pmf @ np.maximum(k - C, 0) + s * pmf @ np.maximum(C - k, 0))
    return C + int(np.argmin(np.round(costs, 9))), costs


def test_cost_limit_hotel_example_by_brute_force():
    # C = 100, q = 0.9, walking a guest costs 300, an empty room 120:
    # minimise the expected cost over b directly with scipy.stats.binom.
    b_star, _ = _cost_by_brute_force(100, 0.9, 300.0, 120.0, 130)
    assert overbooking_limit_cost(100, 0.9, 300.0, 120.0) == b_star


@settings(max_examples=30, deadline=None)
@given(
    C=st.integers(1, 80),
    q=st.floats(0.5, 1.0),
    d=st.floats(1, 1000),
    s=st.floats(1, 1000),
)
def test_cost_limit_minimises_cost_and_matches_curve(C, q, d, s):
    b = overbooking_limit_cost(C, q, d, s)
    curve = overbooking_curve(C, q, fare=s, denied_cost=d, max_bookings=int(3 * C / q) + 20)
    rev = curve.table["expected_revenue"]
    # revenue = s*C - cost, so the cost optimum is a revenue optimum
    assert rev.loc[b] == pytest.approx(rev.max(), rel=1e-9, abs=1e-9)


def test_curve_columns_consistent():
    c = overbooking_curve(50, 0.85, fare=100.0, denied_cost=250.0)
    t = c.table
    # occupied + spoiled = C and occupied + denied = expected shows
    np.testing.assert_allclose(t["expected_occupied"] + t["expected_spoiled"], 50)
    np.testing.assert_allclose(t["expected_occupied"] + t["expected_denied"], t["expected_shows"])
    assert c.best_limit == overbooking_limit_cost(50, 0.85, 250.0, 100.0)
    fig = c.plot()
    assert fig.axes[0].get_xlabel()


def test_bad_inputs():
    with pytest.raises(ValueError, match="show_rate"):
        overbooking_limit_service(10, 1.5, 0.05)
    with pytest.raises(ValueError, match="capacity"):
        overbooking_limit_cost(0, 0.9, 1, 1)
    with pytest.raises(ValueError, match="criterion"):
        overbooking_limit_service(10, 0.9, 0.05, criterion="x")


def test_show_rates_by_hand():
    b = pd.DataFrame(
        {
            "segment": ["A"] * 5 + ["B"] * 4,
            "status": ["stayed", "stayed", "stayed", "cancelled", "no_show", "stayed", "cancelled", "cancelled", "stayed"],
        }
    )
    r = show_rates(b)
    # A: 3 stayed, 1 cancelled, 1 no-show of 5
    assert r.loc["A", "show_rate"] == pytest.approx(3 / 5)
    assert r.loc["A", "show_rate_held"] == pytest.approx(3 / 4)
    assert r.loc["A", "no_show_rate_held"] == pytest.approx(1 / 4)
    assert r.loc["B", "cancel_rate"] == pytest.approx(2 / 4)
    assert r.loc["B", "show_rate_held"] == pytest.approx(1.0)
    overall = show_rates(b, by=None)
    assert overall.loc["all", "bookings"] == 9
    # weighted by units where present
    b["units"] = [2, 1, 1, 1, 1, 1, 1, 1, 1]
    assert show_rates(b).loc["A", "show_rate"] == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="status"):
        show_rates(b.assign(status="checked_in"))
