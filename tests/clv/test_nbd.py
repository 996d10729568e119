"""Tests of the NBD model (crm_analysis.clv.nbd)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_analysis.clv import NBDModel, simulate_nbd
from crm_analysis.clv.nbd import fit_nbd


@pytest.mark.parametrize("seed", [51, 52])
def test_parameter_recovery(seed):
    """Simulated NBD customers (5,000): truth within 3.5 standard errors; the mean simulated
    holdout count matches the conditional expectations at the true parameters within 4 MC
    standard errors."""
    truth = {"r": 0.8, "alpha": 10.0}
    rng = np.random.default_rng(seed)
    sim = simulate_nbd(*truth.values(), n_customers=5000, T=rng.uniform(20, 52, 5000), holdout=26.0, seed=rng)
    m = NBDModel().fit(sim)
    z = (m.params_ - pd.Series(truth)) / m.standard_errors_
    assert (z.abs() < 3.5).all(), z
    resid = sim["frequency_holdout"] - NBDModel.from_params(truth).expected_purchases(26.0, sim)
    assert abs(resid.mean()) < 4 * resid.std() / np.sqrt(len(sim))
    np.testing.assert_array_equal(m.probability_alive(sim), 1.0)


def test_newton_fit_matches_generic_optimiser():
    """fit_nbd (Newton on two parameters) reaches the maximum found by scipy's Nelder-Mead on the
    same log-likelihood, written independently from scipy.stats.nbinom (rtol 1e-6); its
    Hessian-based standard errors match a finite-difference Hessian (rtol 1e-4)."""
    from scipy import optimize

    sim = simulate_nbd(0.5, 4.0, n_customers=3000, T=np.round(np.random.default_rng(1).uniform(10, 40, 3000)), seed=2)
    x, T = sim["frequency"].to_numpy(), sim["T"].to_numpy()

    def nll(lp):
        r, alpha = np.exp(lp)
        return -stats.nbinom.logpmf(x, r, alpha / (alpha + T)).sum()

    ref = optimize.minimize(nll, np.log([1.0, 5.0]), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    lp, ll, H, n_iter, converged = fit_nbd(x, T, np.ones(len(x)))
    assert converged
    np.testing.assert_allclose(np.exp(lp), np.exp(ref.x), rtol=1e-6)
    h = 1e-4
    Hfd = np.array([[(nll(lp + h * (ei + ej)) - nll(lp + h * (ei - ej)) - nll(lp - h * (ei - ej)) + nll(lp - h * (ei + ej))) / (4 * h * h)
                     for ej in np.eye(2)] for ei in np.eye(2)])
    np.testing.assert_allclose(H, Hfd, rtol=1e-4)


@settings(max_examples=30, deadline=None)
@given(r=st.floats(1e-3, 1e3), alpha=st.floats(1e-3, 1e3), t=st.floats(0.0, 1e4), k=st.integers(0, 10_000))
def test_pmf_matches_scipy(r, alpha, t, k):
    """P(X(t) = k) equals scipy.stats.nbinom.pmf(k, r, alpha/(alpha+t)) (rtol 1e-9 above 1e-300)."""
    m = NBDModel.from_params([r, alpha])
    got = m.probability_of_purchases(k, t)
    ref = stats.nbinom.pmf(k, r, alpha / (alpha + t)) if t > 0 else float(k == 0)
    assert np.isfinite(got)
    if ref > 1e-300:
        assert got == pytest.approx(ref, rel=1e-9)


def test_bad_horizons_and_counts():
    m = NBDModel.from_params([0.5, 4.0])
    with pytest.raises(ValueError, match="finite and >= 0"):
        m.expected_purchases_new(-1.0)
    with pytest.raises(ValueError, match="finite and >= 0"):
        m.expected_purchases_new(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="single number"):
        m.expected_purchases(np.array([1.0, 2.0]), pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]}))
    with pytest.raises(ValueError, match="whole numbers"):
        m.probability_of_purchases(1.5, 10.0)
