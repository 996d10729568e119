"""Dynamic programme (Lee & Hersh 1993; Talluri & van Ryzin 2004, sec. 2.5)."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_analysis.yield_management import dp_protection_levels, littlewood
from crm_analysis.yield_management.dynamic import arrival_probabilities, dynamic_programme

TVR_FARES = [1050.0, 567.0, 534.0, 520.0]
TVR_MEANS = [17.3, 45.1, 39.6, 34.0]


def _low_before_high(means, periods, capacity):
    """Arrival probabilities of blocks of periods, class n first; static binomial pmfs of the same demand."""
    n = len(means)
    lam = np.zeros((periods * n, n))
    pmf = np.zeros((n, capacity + 1))
    for j in range(n):  # class j+1 arrives with t in (j*periods, (j+1)*periods] periods to go
        p = means[j] / periods
        lam[j * periods:(j + 1) * periods, j] = p
        d = stats.binom(periods, p).pmf(np.arange(capacity + 1))
        d[-1] += stats.binom(periods, p).sf(capacity)
        pmf[j] = d
    return lam, pmf


@pytest.mark.parametrize("fares", [TVR_FARES, [1050.0, 950.0, 699.0, 520.0]])
def test_equals_static_dp_when_low_before_high_tvr_example(fares):
    # T&vR sec. 2.2.3 example (means 17.3, 45.1, 39.6, 34.0, capacity 100) with binomial demand over
    # 200 periods per class: the dynamic programme is the static model (T&vR sec. 2.5 remark)
    C = 100
    lam, pmf = _low_before_high(TVR_MEANS, 200, C)
    dyn = dynamic_programme(fares, lam, C)
    sta = dp_protection_levels(fares, pmf, C)
    assert dyn.expected_revenue == pytest.approx(sta.expected_revenue, rel=1e-12)
    # value functions at the class boundaries equal V_j of the static DP
    for j in range(1, 5):
        np.testing.assert_allclose(dyn.value_function[j * 200], sta.value_function[j], rtol=1e-12, atol=1e-9)
    # protection level of classes 1..j while class j+1 books = static y_j
    y = dyn.protection_levels
    for j in range(1, 4):
        assert y[j * 200, j - 1] == sta.protection_levels[j - 1]


def test_two_classes_littlewood_level():
    # T&vR sec. 2.2.1: with two classes the optimal protection level is Littlewood's; here for binomial
    # high-fare demand (smallest y with P(D_1 > y) <= p_2 / p_1, computed by scipy)
    lam, _ = _low_before_high([17.3, 45.1], 150, 120)
    dyn = dynamic_programme([1050.0, 567.0], lam, 120)
    d1 = stats.binom(150, 17.3 / 150)
    y = 0
    while d1.sf(y) > 567 / 1050:
        y += 1
    assert dyn.protection_levels[150, 0] == y
    # and the Poisson rule of the package is within one unit of it
    assert abs(y - littlewood(1050, 567, 17.3, distribution="poisson")) <= 1


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), C=st.integers(0, 4), T=st.integers(1, 4))
def test_brute_force_small(seed, C, T):
    # the recursion equals the expected revenue of the best of all deterministic accept rules, found by
    # enumerating every decision tree on a tiny instance
    rng = np.random.default_rng(seed)
    fares = np.sort(rng.uniform(10, 100, 2))[::-1]
    if fares[0] == fares[1]:
        return
    lam = rng.dirichlet(np.ones(3), T)[:, :2]
    dyn = dynamic_programme(fares, lam, C)

    def best(t, x):
        if t == 0 or x == 0:
            return 0.0
        v = (1 - lam[t - 1].sum()) * best(t - 1, x)
        for j in range(2):
            v += lam[t - 1, j] * max(fares[j] + best(t - 1, x - 1), best(t - 1, x))
        return v

    assert dyn.expected_revenue == pytest.approx(best(T, C), rel=1e-12, abs=1e-12)


def test_bid_prices_monotone_and_protection_nested():
    rng = np.random.default_rng(1)
    daily = np.column_stack([rng.uniform(0, 0.3, 60), rng.uniform(0, 0.8, 60), rng.uniform(0, 1.5, 60)])
    daily[:20, 2] = 0  # the low fare stops 20 days out
    lam, k = arrival_probabilities(daily)
    assert lam.sum(axis=1).max() <= 0.2 + 1e-12
    np.testing.assert_allclose(lam.sum(axis=0), daily.sum(axis=0))
    r = dynamic_programme([200.0, 120.0, 80.0], lam, 30, periods_per_day=k)
    bp = r.bid_prices
    assert np.all(np.diff(bp, axis=1) <= 1e-9)  # concave in x
    assert np.all(np.diff(bp, axis=0) >= -1e-9)  # more time to go -> higher bid prices
    y = r.protection_levels
    assert np.all(np.diff(y, axis=1) >= 0)
    tab = r.protection_frame(days_before=[30, 7, 1])
    assert list(tab.index) == [30, 7, 1]
    assert r.plot().axes[0].get_xlabel() == "days before arrival"
    assert r.accept(5, 30, 1) and not r.accept(5, 0, 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="total arrival probability"):
        dynamic_programme([2.0, 1.0], [[0.7, 0.6]], 3)
    with pytest.raises(ValueError, match="shape"):
        dynamic_programme([2.0, 1.0], [[0.1, 0.1, 0.1]], 3)
    with pytest.raises(ValueError, match="strictly decreasing"):
        dynamic_programme([1.0, 2.0], [[0.1, 0.1]], 3)
    with pytest.raises(ValueError, match=">= 0"):
        arrival_probabilities(-np.ones((2, 2)))


def test_accept_and_protection_frame_refuse_arguments_outside_the_programme():
    """Finding F4: accept(0, 1, 1) and accept(-1, 1, 1) answered from the last row of the bid prices (T periods to
    go), fare_class 0 priced the lowest class, t > T or x > C gave a bare IndexError; protection_frame showed a
    12-period programme's first period under the label '180 days'."""
    r = dynamic_programme([200.0, 120.0, 70.0], np.full((12, 3), 0.2), 4)
    for args, words in [((0, 1, 1), "t (periods to go) must be a whole number >= 1, got 0"),
                        ((-1, 1, 1), "t (periods to go) must be a whole number >= 1, got -1"),
                        ((13, 1, 1), "t (periods to go) must be in 1..12"), ((1, 5, 1), "x (units left) must be in 0..4"),
                        ((1, -1, 1), "x (units left) must be a whole number >= 0"),
                        ((1, 1, 0), "fare_class must be a whole number >= 1"), ((1, 1, 4), "fare_class must be in 1..3"),
                        ((1.5, 1, 1), "t (periods to go) must be a whole number >= 1, got 1.5")]:
        with pytest.raises(ValueError) as e:
            r.accept(*args)
        assert words in str(e.value), (args, str(e.value))
    assert r.accept(12, 4, 1) and not r.accept(1, 0, 1)
    with pytest.raises(ValueError, match=r"days_before \[180\] outside the programme's horizon of 0..12 days"):
        r.protection_frame(days_before=[180, 7])
    assert list(r.protection_frame(days_before=[12, 7, 0]).index) == [12, 7, 0]
