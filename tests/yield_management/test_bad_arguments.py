"""Every yield-management function taking a capacity or a show rate refuses the same bad values.

Issue #11, point 11: a NaN capacity gave "cannot convert float NaN to integer"
(or an OverflowError for infinity), ``True`` was taken as 1 room, ``"100"``
and ``2.5`` rooms were read as 100 and 2 by ``demand_pmf``, and a show rate of
``1e-5`` made the overbooking functions allocate a matrix of about 47 GiB.
Each is now a ``ValueError`` naming the argument and the value, or (the tiny
show rate) the right answer, checked here against its definition with
``scipy.stats.binom`` and against direct sums over the binomial pmf.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_analysis import yield_management as ym
from crm_analysis.seasonality import night_closures
from crm_analysis.yield_management.overbooking import MAX_CURVE_ROWS

FARES = [200.0, 150.0, 100.0]
DEMAND = [(10, 4), (20, 6), (40, 10)]
FORECASTS = pd.DataFrame({
    "date": pd.to_datetime(["2025-01-01"] * 3), "fare_class": ["A", "B", "C"], "mean": [10.0, 20.0, 40.0],
    "std": [4.0, 6.0, 10.0], "lower": 0.0, "upper": 1.0, "model": "test",
})
BOOKINGS = pd.DataFrame({
    "booking_id": ["1", "2"], "booking_date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    "arrival_date": pd.to_datetime(["2024-01-05", "2024-01-05"]), "nights": [2, 1], "rate": [100.0, 90.0],
    "segment": ["A", "B"], "status": ["stayed", "stayed"], "units": [1, 1],
})

#: Every public function taking a capacity, called with it.
CAPACITY_CALLS = {
    "booking_limits": lambda c: ym.booking_limits([5, 10], c),
    "dp_protection_levels": lambda c: ym.dp_protection_levels(FARES, DEMAND, c),
    "expected_revenue": lambda c: ym.expected_revenue(FARES, DEMAND, c, [5, 10]),
    "policy_value_function": lambda c: ym.policy_value_function(FARES, DEMAND, c, [5, 10]),
    "demand_pmf": lambda c: ym.demand_pmf((10, 3), c),
    "simulate_policies": lambda c: ym.simulate_policies(FARES, DEMAND, c, n_simulations=10, seed=1),
    "default_policies": lambda c: ym.default_policies(FARES, DEMAND, c),
    "evaluate_nights": lambda c: ym.evaluate_nights(FORECASTS, pd.Series(FARES, index=["A", "B", "C"]), c),
    "compare_policies_by_season": lambda c: ym.compare_policies_by_season(
        pd.Series(FARES, index=["A", "B", "C"]),
        pd.DataFrame({"mean": [10.0, 20.0, 40.0], "std": [4.0, 6.0, 10.0]},
                     index=pd.MultiIndex.from_product([["peak"], ["A", "B", "C"]], names=["season", "fare_class"])),
        c),
    "evaluate_group_request": lambda c: ym.evaluate_group_request(5, 100.0, 2, c, FARES, DEMAND),
    "overbooking_limit_service": lambda c: ym.overbooking_limit_service(c, 0.9, 0.05),
    "overbooking_limit_cost": lambda c: ym.overbooking_limit_cost(c, 0.9, 300.0, 100.0),
    "overbooking_curve": lambda c: ym.overbooking_curve(c, 0.9, 100.0, 300.0),
    "night_closures": lambda c: night_closures(BOOKINGS, c, as_of="2024-01-10"),
}


@pytest.mark.parametrize("name", sorted(CAPACITY_CALLS))
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), -1, 2.5, True, "100", None],
                         ids=["nan", "inf", "-inf", "-1", "2.5", "True", "str", "None"])
def test_every_capacity_refuses_the_same_bad_values(name, bad):
    with pytest.raises(ValueError, match=r"capacity must be a whole number >= [01], got .*" + (
            "" if isinstance(bad, (bool, str)) or bad is None else repr(bad).replace("(", r"\(").replace("+", r"\+"))):
        CAPACITY_CALLS[name](bad)


@pytest.mark.parametrize("name", sorted(CAPACITY_CALLS))
def test_an_integral_float_capacity_is_the_integer(name):
    """``100.0`` rooms (e.g. from a CSV column) gives the same answer as ``100``."""
    a, b = CAPACITY_CALLS[name](100), CAPACITY_CALLS[name](100.0)
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, (int, float)):
        assert a == b
    else:
        assert type(a) is type(b)


@pytest.mark.parametrize("call", [
    lambda q: ym.overbooking_limit_service(100, q, 0.05),
    lambda q: ym.overbooking_limit_cost(100, q, 300.0, 100.0),
    lambda q: ym.overbooking_curve(100, q, 100.0, 300.0),
], ids=["service", "cost", "curve"])
@pytest.mark.parametrize(("bad", "extra"), [
    (float("nan"), "nan"), (0, "0"), (-0.1, r"-0\.1"), (1.5, r"1\.5"), (True, "bool"), ("0.9", "str"),
    (92, r"92 \(a percentage\? write 0\.92\)"),
])
def test_every_show_rate_refuses_the_same_bad_values(call, bad, extra):
    with pytest.raises(ValueError, match=r"show_rate must be a probability in \(0, 1\], got .*" + extra):
        call(bad)


def test_tiny_show_rate_limits_are_right_and_need_no_memory():
    """q = 1e-5 with 100 rooms: the limits are about ten million bookings, found by bisection.

    Checked against the definitions with scipy.stats.binom (independent of the
    bisection): the service limit b* is the largest b with P(S_b > C) <= 5 %, the
    cost limit the smallest b with P(S_b <= C - 1) <= d / (d + s). The old code
    built a (b x b) pmf matrix over ~1e7 bookings (about 47 GiB).
    """
    C, q = 100, 1e-5
    tracemalloc.start()
    try:
        b_service = ym.overbooking_limit_service(C, q, 0.05)
        b_cost = ym.overbooking_limit_cost(C, q, 300.0, 100.0)
        b_epb = ym.overbooking_limit_service(C, q, 1e-6, criterion="expected_per_booking")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20  # bytes; the limits are ~1e7, so a grid over them would not fit
    assert stats.binom.sf(C, b_service, q) <= 0.05 < stats.binom.sf(C, b_service + 1, q)
    ratio = 300.0 / 400.0
    assert stats.binom.cdf(C - 1, b_cost, q) <= ratio < stats.binom.cdf(C - 1, b_cost - 1, q)
    # Poisson check of the order of magnitude: S_b ~ Poisson(b q) for tiny q, so b* q is near the
    # 95 % point of C shows: the Poisson mean m with P(Poisson(m) > 100) = 5 % is about 84.
    m = b_service * q
    assert stats.poisson.sf(C, m) == pytest.approx(0.05, abs=1e-3)
    # expected denied guests per booking, E[(S - C)^+] / b, with the Poisson approximation
    # E[(S - C)^+] = m P(N >= C) - C P(N > C), N ~ Poisson(m = b q): it crosses 1e-6 within 0.1 % of b*
    def per_booking(b: float) -> float:
        m = b * q
        return (m * stats.poisson.sf(C - 1, m) - C * stats.poisson.sf(C, m)) / b

    assert per_booking(b_epb * (1 - 1e-3)) < 1e-6 < per_booking(b_epb * (1 + 1e-3))


def test_tiny_show_rate_curve_is_refused_by_size_unless_bounded():
    with pytest.raises(ValueError, match=r"would be 12,499,901 rows, more than MAX_CURVE_ROWS=1,000,000; pass a "
                                         r"smaller max_bookings, or check show_rate"):
        ym.overbooking_curve(100, 1e-5, 100.0, 300.0)
    with pytest.raises(ValueError, match=r"1,000,001 rows"):
        ym.overbooking_curve(100, 1e-5, 100.0, 300.0, max_bookings=100 + MAX_CURVE_ROWS)
    curve = ym.overbooking_curve(100, 1e-5, 100.0, 300.0, max_bookings=100_099)  # 100,000 rows
    assert len(curve.table) == 100_000
    # 100,099 bookings x 1e-5 = 1.00099 expected shows, never 100: E[(C - S)^+] = C - E[S]
    assert curve.table["expected_spoiled"].iloc[-1] == pytest.approx(100 - 100_099 * 1e-5, abs=1e-9)
    assert curve.table["expected_denied"].iloc[-1] < 1e-100


def test_expected_per_booking_level_at_or_above_the_show_rate_has_no_limit():
    with pytest.raises(ValueError, match=r"max_denied_prob=0\.5 with criterion='expected_per_booking' never binds"):
        ym.overbooking_limit_service(10, 0.3, 0.5, criterion="expected_per_booking")


def _brute_force(C: int, q: float, b_max: int) -> pd.DataFrame:
    """Expected outcomes by direct sums over the binomial pmf (the textbook definition)."""
    rows = []
    for b in range(C, b_max + 1):
        k = np.arange(b + 1)
        pmf = stats.binom.pmf(k, b, q)
        rows.append({"bookings": b, "denied": pmf @ np.maximum(k - C, 0), "spoiled": pmf @ np.maximum(C - k, 0),
                     "occupied": pmf @ np.minimum(k, C), "p_denied": pmf[k > C].sum()})
    return pd.DataFrame(rows).set_index("bookings")


@settings(max_examples=40, deadline=None)
@given(C=st.integers(1, 60), q=st.floats(0.2, 1.0), level=st.floats(0.0, 0.19), d=st.floats(1, 500),
       s=st.floats(1, 500))
def test_limits_and_curve_equal_direct_pmf_sums(C, q, level, d, s):
    b_max = int(np.ceil(1.25 * C / q)) + 5
    ref = _brute_force(C, q, b_max)
    curve = ym.overbooking_curve(C, q, fare=s, denied_cost=d, max_bookings=b_max)
    t = curve.table
    np.testing.assert_allclose(t["expected_denied"], ref["denied"], atol=1e-9)
    np.testing.assert_allclose(t["expected_spoiled"], ref["spoiled"], atol=1e-9)
    np.testing.assert_allclose(t["expected_occupied"], ref["occupied"], atol=1e-9)
    # service limit, by its definition: P(S_b > C) <= level < P(S_{b+1} > C) (scipy.stats.binom.sf)
    b = ym.overbooking_limit_service(C, q, level)
    assert stats.binom.sf(C, b, q) <= level < stats.binom.sf(C, b + 1, q)
    if level < q:  # expected denied guests per booking, from the direct pmf sums (ties within 1e-9 skipped)
        per = ref["denied"] / ref.index
        b2 = ym.overbooking_limit_service(C, q, level, criterion="expected_per_booking")
        if b2 < b_max and abs(per.loc[b2 + 1] - level) > 1e-9:
            assert per.loc[b2] <= level + 1e-9 and per.loc[b2 + 1] > level
