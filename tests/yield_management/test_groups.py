"""Tests of crm_analysis.yield_management.groups: displacement cost and the multi-night LP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_analysis.yield_management import dp_protection_levels, evaluate_group_request, multi_night_lp


def test_displacement_single_class_closed_form():
    # One class with Poisson(60) demand at fare 100, C = 80, group of 25:
    # V(x) = 100 E[min(D, x)], computed here directly from scipy.
    k = np.arange(0, 400)
    pmf = stats.poisson.pmf(k, 60.0)
    v = lambda x: 100.0 * np.sum(np.minimum(k, x) * pmf)  # noqa: E731
    expected = v(80) - v(55)
    dec = evaluate_group_request(25, 50.0, 2, 80, [100.0], [60.0])
    np.testing.assert_allclose(dec.displacement_per_night, [expected, expected], rtol=1e-10)
    assert dec.group_revenue == 25 * 50.0 * 2
    assert dec.net_benefit == pytest.approx(2500 - 2 * expected)
    assert dec.break_even_rate == pytest.approx(2 * expected / 50)


def test_break_even_and_future_value_flip_decision():
    fares = [1050.0, 567.0, 534.0, 520.0]
    demand = [(17.3, 5.8), (45.1, 15.0), (39.6, 13.2), (34.0, 11.3)]
    dec = evaluate_group_request(20, 300.0, 3, 100, fares, demand)
    be = dec.break_even_rate
    assert evaluate_group_request(20, be * 1.001, 3, 100, fares, demand).accept
    assert not evaluate_group_request(20, be * 0.999, 3, 100, fares, demand).accept
    # crediting the shortfall as future value makes the group worth taking
    shortfall = -dec.net_benefit
    assert not dec.accept and shortfall > 0
    assert evaluate_group_request(20, 300.0, 3, 100, fares, demand, future_value=shortfall + 1).accept
    text = dec.explain()
    assert "REJECT" in text and "break-even" in text


def test_per_night_demand_sums_nights():
    fares = [200.0, 100.0]
    low, high = [5.0, 10.0], [40.0, 80.0]
    dec = evaluate_group_request(10, 90.0, 2, 50, fares, [low, high], per_night=True)
    v_low = dp_protection_levels(fares, low, 50).value_function[-1]
    v_high = dp_protection_levels(fares, high, 50).value_function[-1]
    np.testing.assert_allclose(dec.displacement_per_night, [v_low[50] - v_low[40], v_high[50] - v_high[40]])
    # busier night displaces more
    assert dec.displacement_per_night[1] > dec.displacement_per_night[0]
    with pytest.raises(ValueError, match="per_night"):
        evaluate_group_request(10, 90.0, 3, 50, fares, [low, high], per_night=True)


def test_group_bad_input():
    with pytest.raises(ValueError, match="group_size"):
        evaluate_group_request(120, 90.0, 1, 100, [200.0, 100.0], [5.0, 10.0])
    with pytest.raises(ValueError, match="nights"):
        evaluate_group_request(10, 90.0, 0, 100, [200.0, 100.0], [5.0, 10.0])


def test_lp_one_night_by_hand():
    # 10 rooms; fare 100 (demand 6) and fare 60 (demand 8): sell 6 + 4,
    # the room's bid price is the marginal fare 60 (the 60 class is partly served).
    res = multi_night_lp([10], [(0, 1, "H", 100.0), (0, 1, "L", 60.0)], [6, 8])
    np.testing.assert_allclose(res.allocation["allocation"], [6, 4], atol=1e-9)
    assert res.bid_prices.iloc[0] == pytest.approx(60.0)
    assert res.revenue == pytest.approx(840.0)


def test_lp_two_nights_by_hand():
    # Night 0 has 5 rooms, night 1 has 10. Products: a 2-night stay at 150
    # (demand 4), a night-0 stay at 100 (demand 3), a night-1 stay at 70 (demand 20).
    # Night 1 is never full of higher value (70 fills it): pi_1 = 70; the
    # 2-night stay is then worth 150 - 70 = 80 on night 0 < 100, so night 0
    # goes to the 100 product first (3), then 2 of the 2-night stays: pi_0 = 80.
    res = multi_night_lp(
        [5, 10], [(0, 2, "T", 150.0), (0, 1, "A", 100.0), (1, 1, "B", 70.0)], [4, 3, 20]
    )
    np.testing.assert_allclose(res.allocation["allocation"], [2, 3, 8], atol=1e-9)
    np.testing.assert_allclose(res.bid_prices, [80.0, 70.0], atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_lp_complementary_slackness(data):
    N = data.draw(st.integers(1, 5))
    cap = data.draw(st.lists(st.integers(0, 30), min_size=N, max_size=N))
    m = data.draw(st.integers(1, 10))
    prods, means = [], []
    for i in range(m):
        a = data.draw(st.integers(0, N - 1))
        los = data.draw(st.integers(1, N - a))
        fare = data.draw(st.floats(10, 500))
        prods.append((a, los, f"c{i}", fare))
        means.append(data.draw(st.floats(0, 25)))
    res = multi_night_lp(cap, prods, means)
    a = res.allocation
    tol = 1e-6
    assert np.all(res.bid_prices >= -tol)
    over = a["fare"] > a["bid_price_sum"] + tol
    under = a["fare"] < a["bid_price_sum"] - tol
    # allocated iff fare >= sum of bid prices (up to ties at equality)
    np.testing.assert_allclose(a.loc[over, "allocation"], a.loc[over, "demand_mean"], atol=1e-6)
    np.testing.assert_allclose(a.loc[under, "allocation"], 0.0, atol=1e-6)
    assert np.all(a.loc[a["allocation"] > 1e-6, "reduced_revenue"] >= -tol)
    # strong duality: revenue = pi . c + sum_i d_i (f_i - sum pi)^+
    dual = float(res.bid_prices @ np.asarray(cap, float)) + float(
        (a["demand_mean"] * a["reduced_revenue"].clip(lower=0)).sum()
    )
    assert res.revenue == pytest.approx(dual, rel=1e-7, abs=1e-6)
    # positive bid price only on full nights
    used = np.zeros(N)
    for _, r in a.iterrows():
        used[int(r["arrival_night"]) : int(r["arrival_night"] + r["length_of_stay"])] += r["allocation"]
    full = np.isclose(used, cap, atol=1e-6)
    assert np.all(full | (res.bid_prices.to_numpy() < tol))


def test_lp_bad_input_and_plot():
    with pytest.raises(ValueError, match="outside"):
        multi_night_lp([5, 5], [(1, 2, "X", 10.0)], [1.0])
    with pytest.raises(ValueError, match="one demand mean"):
        multi_night_lp([5, 5], [(0, 1, "X", 10.0)], [1.0, 2.0])
    res = multi_night_lp([5, 10], [(0, 2, "T", 150.0), (1, 1, "B", 70.0)], [4, 20])
    assert res.plot().axes[0].get_title()


def test_group_future_value_repeat_share_times_booking_value():
    import pandas as pd

    from crm_analysis.yield_management import group_future_value

    b = pd.DataFrame({
        "customer_id": ["a", "b", "a", "c", "b"],
        "segment": ["Groups", "Groups", "Groups", "Direct", "Groups"],
        "booking_date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-02-01", "2024-01-01", "2024-03-01"]),
        "status": ["stayed", "stayed", "stayed", "stayed", "cancelled"],
        "nights": [2, 1, 3, 1, 2],
        "rate": [50.0, 60.0, 40.0, 100.0, 70.0],
        "units": [10, 5, 10, 1, 8],
    })
    fv = group_future_value(b)
    assert fv.bookings == 3 and fv.repeat_share == pytest.approx(1 / 3)
    assert fv.mean_booking_value == pytest.approx((1000 + 300 + 1200) / 3)
    assert fv.future_value == pytest.approx(fv.repeat_share * fv.mean_booking_value)
    with pytest.raises(ValueError, match="segment"):
        group_future_value(b, segment="Corporate")


def test_explain_writes_every_amount_with_the_given_currency():
    """Issue 17 (n17 F4): the group request in words had no currency ("at 64.23 per room-night: 3,854 in total")."""
    import re

    from crm_analysis.presentation import Units, format_money

    fares = [1050.0, 567.0, 534.0, 520.0]
    demand = [(17.3, 5.8), (45.1, 15.0), (39.6, 13.2), (34.0, 11.3)]
    dec = evaluate_group_request(20, 300.0, 3, 100, fares, demand, future_value=12.5)
    text = dec.explain(money=lambda x: format_money(x, units=Units("CHF")))
    amounts = re.findall(r"(?:CHF )?\d[\d,]*(?:\.\d+)?", text)
    money = [a for a in amounts if a.startswith("CHF ")]
    # group rate, group revenue, 3 nights' displacement, total displacement, future value, net benefit, break-even
    assert len(money) == 1 + 1 + 3 + 1 + 1 + 1 + 1, text
    assert f"at {format_money(300.0, units=Units('CHF'))} per room-night" in text
    assert dec.explain() == dec.explain(money=None) and "CHF" not in dec.explain()


def test_the_reason_for_no_future_value_is_said_in_words():
    """Issue 17 (n17, after F10) and #13 (findings_13d H13): the City Hotel has no customer ids. The reason reaches
    the reader in words, in the sentence and in the note notebook 40 shows as escaped text (it was the raw
    "bookings lack columns ['customer_id']", which the report check flags as a code name in the note)."""
    import pandas as pd

    from crm_analysis.presentation import relabel_text
    from crm_analysis.yield_management.step import _group_future_value

    value, note, problem = _group_future_value(pd.DataFrame({"segment": ["Groups"], "status": ["stayed"]}))
    assert value == 0.0 and note.startswith("No future value credited: the bookings carry no customer identifier")
    assert problem is not None and "customer identifier" in problem and "customer_id" not in problem
    assert "customer_id" not in note and relabel_text(note) == note
