"""Tests of crm_analysis.yield_management.capacity: published numbers, brute force, properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_analysis.yield_management import (
    booking_limits,
    discretize_normal,
    dp_protection_levels,
    emsr_a,
    emsr_b,
    expected_revenue,
    littlewood,
)
from crm_analysis.yield_management.demand import demand_pmf

# Talluri & van Ryzin (2004), The Theory and Practice of Revenue Management,
# sec. 2.2.3, four-class example with fares 1050, 567, 534, 520. The demand
# standard deviations are (5.8, 15.0, 13.2, 11.3): 13.2 for class 3 in every
# independent reproduction of the example we could find (the 13.9 in our brief
# could not be confirmed, and with 13.2 the published EMSR values are met).
TVR_FARES = [1050.0, 567.0, 534.0, 520.0]
TVR_MEANS = [17.3, 45.1, 39.6, 34.0]
TVR_STDS = [5.8, 15.0, 13.2, 11.3]
# Same book, second fare structure of the EMSR tables (same demand).
TVR_FARES_2 = [1050.0, 950.0, 699.0, 520.0]


# ----------------------------------------------------------------- published values
def test_emsr_a_tvr_example():
    # Book: EMSR-a protection levels 16.7, 38.7, 55.6 (one decimal). Our
    # 55.68 differs from the printed 55.6 by < 0.1 (truncation in the book):
    # tolerance 0.1.
    y = emsr_a(TVR_FARES, TVR_MEANS, TVR_STDS)
    np.testing.assert_allclose(y, [16.7, 38.7, 55.6], atol=0.1)


def test_emsr_b_tvr_example():
    # Book: EMSR-b protection levels 16.7, 50.9, 83.1; tolerance 0.1.
    y = emsr_b(TVR_FARES, TVR_MEANS, TVR_STDS)
    np.testing.assert_allclose(y, [16.7, 50.9, 83.1], atol=0.1)


def test_emsr_tvr_second_fare_structure():
    # Book: EMSR-a 9.7, 50.4, 91.6 and EMSR-b 9.7, 53.2, 96.8 (one decimal;
    # the first level is printed 9.7 or 9.8 depending on the source: 9.707
    # here, so tolerance 0.1).
    np.testing.assert_allclose(emsr_a(TVR_FARES_2, TVR_MEANS, TVR_STDS), [9.7, 50.4, 91.6], atol=0.1)
    np.testing.assert_allclose(emsr_b(TVR_FARES_2, TVR_MEANS, TVR_STDS), [9.7, 53.2, 96.8], atol=0.1)


def test_dp_tvr_example_littlewood_level_and_order():
    # Our brief quotes DP levels (14, 54, 101) for this example. y_1 = 14 is not
    # compatible with Littlewood's rule for N(17.3, 5.8) demand (the DP's y_1
    # is exactly the discrete Littlewood level, T&vR eq. 2.8 with V_1(x) =
    # p_1 E min(D_1, x)), so those digits are NOT asserted. We assert the
    # theorem-based facts: y_1 is the discrete Littlewood level computed here
    # by hand from the discretised pmf, and the levels are nested.
    demand = list(zip(TVR_MEANS, TVR_STDS))
    for fares in (TVR_FARES, TVR_FARES_2):
        res = dp_protection_levels(fares, demand, 100)
        pmf = discretize_normal(17.3, 5.8, upper=100)
        sf = 1.0 - np.cumsum(pmf)  # P(D > y), y = 0..100
        y1 = int(np.nonzero(sf <= fares[1] / fares[0])[0][0])
        assert res.protection_levels[0] == y1
        assert np.all(np.diff(res.protection_levels) >= 0)
        # the continuous EMSR first level rounds to the same discrete level within 1
        assert abs(res.protection_levels[0] - emsr_b(fares, TVR_MEANS, TVR_STDS)[0]) < 1.0


def test_littlewood_normal_hand_computed():
    # p_h = 100, p_l = 60, D_h ~ N(50, 10^2): y = 50 + 10 * Phi^-1(0.4),
    # Phi^-1(0.4) = -0.2533471031 (standard normal table).
    assert littlewood(100, 60, 50, 10) == pytest.approx(50 - 2.533471031, abs=1e-8)


def test_littlewood_poisson_convention():
    # smallest y with P(D > y) <= p_l / p_h, by a plain loop over scipy's sf
    for mean, ratio in [(17.3, 567 / 1050), (5.0, 0.5), (40.0, 0.1), (3.0, 0.95)]:
        y = 0
        while stats.poisson.sf(y, mean) > ratio:
            y += 1
        assert littlewood(1.0, ratio, mean, distribution="poisson") == y


def test_dp_two_class_poisson_equals_littlewood():
    # Theorem (T&vR sec. 2.2.1-2.2.2): with two classes the optimal level is Littlewood's.
    for m1, m2, f2 in [(17.3, 30.0, 567.0), (5.0, 50.0, 900.0), (40.0, 10.0, 100.0)]:
        res = dp_protection_levels([1050.0, f2], [m1, m2], capacity=200)
        assert res.protection_levels[0] == littlewood(1050.0, f2, m1, distribution="poisson")


# ------------------------------------------------------------------ brute force
def test_dp_is_best_nested_policy_by_enumeration():
    # Independent check of optimality: evaluate every nested policy
    # y1 <= y2 <= C on a small instance and compare with the DP.
    fares = [300.0, 200.0, 120.0]
    demand = [4.0, (8.0, 3.0), 10.0]
    C = 16
    res = dp_protection_levels(fares, demand, C)
    best = max(
        expected_revenue(fares, demand, C, [a, b])
        for a, b in itertools.combinations_with_replacement(range(C + 1), 2)
    )
    assert res.expected_revenue == pytest.approx(best, rel=1e-12)
    assert expected_revenue(fares, demand, C, res.protection_levels) == pytest.approx(best, rel=1e-12)


def test_expected_revenue_single_class_closed_form():
    # One class, Poisson demand: E[p min(D, C)], computed from scipy directly.
    p, mean, C = 80.0, 12.0, 10
    k = np.arange(0, 200)
    exact = p * np.sum(np.minimum(k, C) * stats.poisson.pmf(k, mean))
    assert expected_revenue([p], [mean], C, []) == pytest.approx(exact, rel=1e-10)


def test_expected_revenue_two_class_closed_form():
    # Two classes, deterministic low demand large: low sells C - y, high sells min(D_h, y + unused)...
    # with D_l >= C always, low takes exactly C - y and high gets min(D_h, y).
    p1, p2, C, y = 100.0, 40.0, 20, 7
    k = np.arange(0, 200)
    pmf_h = stats.poisson.pmf(k, 6.0)
    exact = p2 * (C - y) + p1 * np.sum(np.minimum(k, y) * pmf_h)
    low = stats.poisson(500.0)  # P(D_l < 20) ~ 0
    assert expected_revenue([p1, p2], [6.0, low], C, [y]) == pytest.approx(exact, rel=1e-9)


# --------------------------------------------------------------- booking limits
def test_booking_limits_rounding():
    y = [16.7, 50.5, 83.1]
    assert booking_limits(y, 100).tolist() == [100, 83, 49, 17]
    assert booking_limits(y, 100, rounding="up").tolist() == [100, 83, 49, 16]
    assert booking_limits(y, 100, rounding="down").tolist() == [100, 84, 50, 17]
    assert booking_limits([120.0], 100).tolist() == [100, 0]
    with pytest.raises(ValueError, match="rounding"):
        booking_limits(y, 100, rounding="banker")
    with pytest.raises(ValueError, match=">= 0"):
        booking_limits([-1.0], 100)


# ----------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "fares, means, stds, match",
    [
        ([100, 100, 50], [1, 1, 1], [1, 1, 1], "strictly decreasing"),
        ([50, 100], [1, 1], [1, 1], "strictly decreasing"),
        ([100, 50], [1], [1, 1], "same length"),
        ([100, 50], [1, -1], [1, 1], "means"),
        ([100, 50], [1, 1], [1, -2], "stds"),
        ([100, -50], [1, 1], [1, 1], ">= 0"),
    ],
)
def test_emsr_bad_input(fares, means, stds, match):
    for fn in (emsr_a, emsr_b):
        with pytest.raises(ValueError, match=match):
            fn(fares, means, stds)


def test_dp_bad_input():
    with pytest.raises(ValueError, match="one demand spec per fare class"):
        dp_protection_levels([100, 50], [3.0], 10)
    with pytest.raises(ValueError, match="capacity"):
        dp_protection_levels([100, 50], [3.0, 4.0], -1)
    with pytest.raises(ValueError, match="discrete"):
        dp_protection_levels([100, 50], [stats.norm(3, 1), 4.0], 10)
    with pytest.raises(ValueError, match="littlewood|high_fare"):
        littlewood(50, 100, 10, 2)


def test_discretize_normal():
    pmf = discretize_normal(50.0, 5.0)
    k = np.arange(pmf.size)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    # rounding a normal far from 0 keeps its mean (error ~ exp(-2 pi^2 sd^2))
    assert k @ pmf == pytest.approx(50.0, abs=1e-6)
    # censoring at 0: P(D = 0) = P(X < 0.5)
    assert discretize_normal(2.0, 3.0)[0] == pytest.approx(stats.norm.cdf(0.5, 2.0, 3.0))
    lumped = discretize_normal(17.3, 5.8, upper=15)
    assert lumped.size == 16 and lumped[-1] == pytest.approx(stats.norm.sf(14.5, 17.3, 5.8))
    assert demand_pmf(stats.nbinom(3, 0.2), 30).sum() == pytest.approx(1.0)


# ------------------------------------------------------------------ properties
fare_lists = st.lists(st.floats(10, 1000), min_size=2, max_size=4, unique=True).map(
    lambda v: sorted(v, reverse=True)
).filter(lambda v: all(a - b > 1.0 for a, b in zip(v, v[1:])))


@settings(max_examples=40, deadline=None)
@given(
    p_h=st.floats(50, 1000),
    frac=st.floats(0.05, 0.95),
    mu=st.floats(0, 200),
    sd=st.floats(0.1, 60),
)
def test_two_class_emsr_a_equals_b_equals_littlewood(p_h, frac, mu, sd):
    p_l = p_h * frac
    lw = littlewood(p_h, p_l, mu, sd)
    assert emsr_a([p_h, p_l], [mu, 1.0], [sd, 1.0])[0] == pytest.approx(lw, abs=1e-9)
    assert emsr_b([p_h, p_l], [mu, 1.0], [sd, 1.0])[0] == pytest.approx(lw, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    fares=fare_lists,
    data=st.data(),
)
def test_emsr_monotone_is_running_max_of_raw(fares, data):
    n = len(fares)
    means = data.draw(st.lists(st.floats(0.5, 80), min_size=n, max_size=n))
    stds = data.draw(st.lists(st.floats(0.1, 30), min_size=n, max_size=n))
    for fn in (emsr_a, emsr_b):
        raw = fn(fares, means, stds, monotone=False)
        y = fn(fares, means, stds)
        assert np.all(np.diff(y) >= 0)
        np.testing.assert_allclose(y, np.maximum.accumulate(raw))
        assert np.all(raw >= 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fares=fare_lists, data=st.data(), C=st.integers(1, 60))
def test_dp_properties(fares, data, C):
    n = len(fares)
    means = data.draw(st.lists(st.floats(0.5, 40), min_size=n, max_size=n))
    stds = data.draw(st.lists(st.floats(0.5, 15), min_size=n, max_size=n))
    demand = list(zip(means, stds))
    res = dp_protection_levels(fares, demand, C)
    # nested protection levels (a theorem, not imposed by the code)
    assert np.all(np.diff(res.protection_levels) >= 0)
    # concavity of every V_j in x: marginal values non-increasing
    assert np.all(np.diff(res.marginal_values[1:], axis=1) <= 1e-7 * max(fares))
    assert np.all(np.diff(res.bid_prices) <= 1e-7 * max(fares))
    # the DP's policy, evaluated by the independent policy recursion, attains V_n(C)
    v_dp = expected_revenue(fares, demand, C, res.protection_levels)
    assert v_dp == pytest.approx(res.expected_revenue, rel=1e-10, abs=1e-8)
    # optimality against EMSR-b and FCFS
    v_b = expected_revenue(fares, demand, C, emsr_b(fares, means, stds))
    v_fcfs = expected_revenue(fares, demand, C, [0] * (n - 1))
    assert v_dp >= v_b - 1e-8
    assert v_dp >= v_fcfs - 1e-8
    # EMSR-b beating FCFS is not a theorem; it is an empirical fact of the
    # literature. We only require it not to lose more than 1% of the optimum.
    assert v_b >= v_fcfs - 0.01 * v_dp
