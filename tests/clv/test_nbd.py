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
        assert got == pytest.approx(ref, rel=1e-9, abs=0)  # abs=0: ref reaches 1e-280


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


def _nbd_mle_scipy(x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, float]:
    """Independent NBD maximum: scipy Nelder-Mead on the NBD log-likelihood written out as sums of
    logs, sum_k<x log(r + k) - x log(alpha + T) - r log1p(T / alpha) (no gamma functions, exact also
    for very large r), over distinct (x, T) rows with counts; best of five starting values of r."""
    from scipy import optimize

    rows, counts = np.unique(np.column_stack([x, T]), axis=0, return_counts=True)
    ux, uT = rows[:, 0], rows[:, 1]
    ks = [np.arange(int(k)) for k in ux]

    def nll(lp):
        r, alpha = np.exp(lp)
        rising = np.array([np.log(r + k).sum() for k in ks])
        return -(counts @ (rising - ux * np.log(alpha + uT) - r * np.log1p(uT / alpha)))

    rate = x.sum() / T.sum()
    best = min(
        (optimize.minimize(nll, [np.log(r0), np.log(r0 / rate)], method="Nelder-Mead",
                           options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000}) for r0 in (1e-3, 1e-2, 0.1, 1.0, 10.0)),
        key=lambda res: res.fun,
    )
    return np.exp(best.x), -best.fun


@pytest.mark.parametrize(
    "r, alpha, n, seed",
    [(0.1, 100.0, 5000, 1), (0.02, 10.0, 500, 1), (0.05, 200.0, 2000, 3), (0.3, 1000.0, 3000, 4), (0.01, 5.0, 2000, 5)],
)
def test_fit_reaches_the_maximum_where_the_likelihood_is_not_concave(r, alpha, n, seed):
    """n12 finding F1: for small r and large alpha the NBD log-likelihood is not concave at the
    start (r = 1) and the old fallback (a gradient step, tiny per customer) stopped after 100
    iterations far from the maximum, e.g. simulate_nbd(0.1, 100, 5000, T=40, seed 1) gave
    r 0.82, alpha 889, log-likelihood 34 below the maximum (r 0.081, alpha 83.7), converged_
    False and no ConvergenceWarning. Now: converged, and the log-likelihood at least the
    independent scipy maximum's (1e-6) with the same parameters (rtol 1e-4)."""
    d = simulate_nbd(r, alpha, n_customers=n, T=40.0, seed=seed)
    x, T = d["frequency"].to_numpy(float), d["T"].to_numpy(float)
    ref_params, ref_ll = _nbd_mle_scipy(x, T)
    m = NBDModel().fit(d)
    assert m.converged_
    assert m.log_likelihood_ >= ref_ll - 1e-6
    np.testing.assert_allclose(m.params_.to_numpy(), ref_params, rtol=1e-4)


@pytest.mark.slow
@settings(max_examples=6, deadline=None)
@given(
    log_r=st.floats(np.log(3e-3), np.log(3.0)),
    log_alpha=st.floats(np.log(0.1), np.log(1e3)),
    t_max=st.floats(5.0, 400.0),
    seed=st.integers(0, 10_000),
)
def test_fit_is_never_below_the_independent_maximum(log_r, log_alpha, t_max, seed):
    """Property over simulated NBD samples (400 customers, T ~ U(1, t_max)) with r in [3e-3, 3]
    and alpha in [0.1, 1e3]: the fit's log-likelihood is at least the independent maximum's
    minus 1e-6 (relative 1e-9). Skipped: samples with fewer than 3 repeat buyers, and samples
    whose maximum is the Poisson limit (reference r above 1e4, where the supremum is at r ->
    infinity and no finite fit attains it)."""
    rng = np.random.default_rng(seed)
    d = simulate_nbd(np.exp(log_r), np.exp(log_alpha), n_customers=400, T=rng.uniform(1.0, t_max, 400), seed=rng)
    x, T = d["frequency"].to_numpy(float), d["T"].to_numpy(float)
    if (x > 0).sum() < 3:
        return
    ref_params, ref_ll = _nbd_mle_scipy(x, T)
    if ref_params[0] > 1e4:
        return
    lp, ll, H, n_iter, converged = fit_nbd(x, T, np.ones(len(x)))
    assert ll >= ref_ll - max(1e-6, 1e-9 * abs(ref_ll)), (np.exp(lp), ll, ref_params, ref_ll, n_iter, converged)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_poisson_data_reach_the_poisson_limit_and_say_why(seed):
    """n12 finding F5: customers who all buy at one rate, counts less dispersed than Poisson
    (binomial(ceil(0.2 T), 0.5), mean 0.1 T, T ~ U(20, 52)): the NBD supremum is the Poisson limit r, alpha -> inf with r / alpha the rate: the fit's
    log-likelihood equals the Poisson log-likelihood sum(x log(rate) - rate T) at the rate
    sum(x) / sum(T) (abs 1e-6; the old formula W r log(alpha) - r sum(log(alpha + T)) lost about 3
    units to cancellation at r ~ 5e11), r / alpha that rate (rtol 1e-4), and the warning says why
    r and alpha are not identified."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(20, 52, 500)
    x = rng.binomial(np.ceil(0.2 * T).astype(int), 0.5)
    d = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, T * rng.uniform(0.5, 1.0, 500), 0.0), "T": T})
    rate = x.sum() / T.sum()
    ll_poisson = float(np.sum(x * np.log(rate)) - rate * T.sum())
    with pytest.warns(UserWarning, match=r"Why: r and alpha grow together .*purchase rate shows no variation between customers that these data can detect"):
        m = NBDModel().fit(d)
    assert m.log_likelihood_ == pytest.approx(ll_poisson, abs=1e-6)
    assert m.params_["r"] / m.params_["alpha"] == pytest.approx(rate, rel=1e-4)
    assert m.converged_


@pytest.mark.parametrize("model_name", ["NBDModel", "BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel"])
def test_counts_and_times_that_do_not_pair_name_x_and_t(model_name):
    """n12 finding F7: probability_of_purchases(x of length 3, t of length 2) raised numpy's 'shape
    mismatch: objects cannot be broadcast'; now an InputError naming x and t and the ways to pair them,
    for every transaction model. Shapes that broadcast still work."""
    import crm_analysis.clv as clv

    cls = getattr(clv, model_name)
    m = cls.from_params([0.5, 4.0] if cls is NBDModel else [0.5, 4.0, 0.8, 2.5])
    with pytest.raises(ValueError, match=r"x \(shape \(3,\)\) and t \(shape \(2,\)\) cannot be paired"):
        m.probability_of_purchases(np.array([0, 1, 2]), np.array([1.0, 10.0]))
    table = m.probability_of_purchases(np.arange(3)[:, None], np.array([1.0, 10.0])[None, :])
    assert table.shape == (3, 2) and np.all(np.isfinite(table))


@pytest.mark.parametrize("r", [0.01, 1.0, 1e3, 1e6, 1e8, 1e9, 2e9, 2147483000.0, 3e9, 1e10, 1e12, 1e15])
def test_nbd_sf_matches_mpmath_at_huge_r(r):
    """``nbd_sf`` (scipy's regularised incomplete beta with ``b = r``) against mpmath's ``betainc`` at 40 digits, near
    the bulk and in the tails, for purchase-rate shapes up to the Poisson ridge (r = 1e15). findings_12z F6: 1.4e-8
    relative at r = 1e9; the loss is Boost's path for an integer ``b`` below 2^31 (worst seen 5.4e-8 at r = 2.147e9,
    x = 5, t = 52, rate 0.1; non-integer r and r > 2^31 give ~1e-14), inside the issue's bar of 1e-6 (asserted:
    1e-7), so no other form is used."""
    import mpmath as mp

    from crm_analysis.clv.nbd import nbd_sf

    worst = 0.0
    with mp.workdps(40):
        for rate in (0.1, 0.3, 3.0):
            alpha = r / rate
            for t in (5.0, 52.0, 150.0):
                m = rate * t
                xs = np.unique(np.clip(np.round(m + np.sqrt(m + 1.0) * np.linspace(-3, 5, 9)), 1, None))
                got = nbd_sf(xs, r, alpha, np.full(xs.size, t))
                for x, g in zip(xs, got):
                    ref = float(mp.betainc(int(x), mp.mpf(r), 0, mp.mpf(t) / (mp.mpf(alpha) + t), regularized=True))
                    worst = max(worst, abs(g - ref) / ref)
    assert worst < 1e-7


@settings(max_examples=200, deadline=None)
@given(
    v=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 2.0, -2.0, 30.0])),
               min_size=1, max_size=4),
    bound=st.sampled_from([2.0, 30.0]),
)
def test_clip_is_numpy_clip(v, bound):
    """The Newton iteration's clip of :func:`fit_nbd` (``_clip``: the no-dropout limit of every BG/NBD, MBG/NBD and
    Pareto/NBD fit) gives ``np.clip(v, -bound, bound)`` byte for byte (reference: numpy itself), NaN, infinities and
    signed zeros included."""
    from crm_analysis.clv.nbd import _clip

    a = np.array(v, float)
    assert _clip(a, bound).tobytes() == np.clip(a, -bound, bound).tobytes()
