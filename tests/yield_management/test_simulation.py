"""Tests of crm_analysis.yield_management.simulation: agreement with the exact recursion."""

from __future__ import annotations

import numpy as np
import pytest

from crm_analysis.yield_management import default_policies, expected_revenue, simulate_policies

FARES = [1050.0, 567.0, 534.0, 520.0]
DEMAND = [(17.3, 5.8), (45.1, 15.0), (39.6, 13.2), (34.0, 11.3)]  # Talluri & van Ryzin (2004) sec. 2.2.3


@pytest.fixture(scope="module")
def sim():
    return simulate_policies(FARES, DEMAND, 100, n_simulations=4000, seed=7)


def test_simulated_means_match_exact_expected_revenue(sim):
    # Static model: the simulation and the exact recursion are independent
    # computations of the same expectation; agree within 4 standard errors.
    for name, y in sim.protection_levels.items():
        exact = expected_revenue(FARES, DEMAND, 100, y)
        r = sim.revenue[name]
        assert abs(r.mean() - exact) < 4 * r.std() / np.sqrt(len(r)), name


def test_dp_beats_emsr_b_beats_fcfs_within_noise(sim):
    s = sim.summary(baseline="FCFS")
    d = sim.revenue["DP"] - sim.revenue["EMSR-b"]
    assert d.mean() > -3 * d.std() / np.sqrt(len(d))
    assert s.loc["EMSR-b", "uplift_ci_low"] > 0
    assert s.loc["DP", "ci_low"] < s.loc["DP", "mean_revenue"] < s.loc["DP", "ci_high"]


def test_accounting_and_common_random_numbers(sim):
    total = sim.demand.sum(axis=1)
    for p in range(len(sim.revenue.columns)):
        sold = sim.sold[p].sum(axis=1)
        np.testing.assert_array_equal(sold + sim.spilled[p] + sim.denied[p], total)
        assert np.all(sold <= 100)
        np.testing.assert_allclose(sim.sold[p] @ sim.fares, sim.revenue.iloc[:, p])
    fcfs = list(sim.revenue.columns).index("FCFS")
    np.testing.assert_array_equal(sim.sold[fcfs].sum(axis=1), np.minimum(total, 100))
    assert sim.denied[fcfs].sum() == 0


def test_seeded_and_random_arrivals():
    a = simulate_policies(FARES, DEMAND, 100, n_simulations=300, seed=3, arrival="random")
    b = simulate_policies(FARES, DEMAND, 100, n_simulations=300, seed=3, arrival="random")
    np.testing.assert_array_equal(a.revenue.to_numpy(), b.revenue.to_numpy())
    total = a.demand.sum(axis=1)
    for p in range(3):
        np.testing.assert_array_equal(a.sold[p].sum(axis=1) + a.spilled[p] + a.denied[p], total)
    # a nested policy never sells a class beyond its booking limit
    dp = list(a.revenue.columns).index("DP")
    y = a.protection_levels["DP"]
    lower_sales = np.cumsum(a.sold[dp][:, ::-1], axis=1)[:, ::-1]  # sales of class j and below
    for j in range(1, 4):
        assert np.all(lower_sales[:, j] <= 100 - y[j - 1])
    assert a.plot().axes[0].get_ylabel()


def test_policies_and_bad_input():
    pol = default_policies(FARES, DEMAND, 100)
    assert list(pol) == ["FCFS", "EMSR-b", "DP"]
    with pytest.raises(ValueError, match="protection levels"):
        simulate_policies(FARES, DEMAND, 100, n_simulations=10, policies={"x": [1, 2]})
    with pytest.raises(ValueError, match="arrival"):
        simulate_policies(FARES, DEMAND, 100, n_simulations=10, arrival="poisson")
