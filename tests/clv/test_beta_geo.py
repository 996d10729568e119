"""Tests of the BG/NBD model (crm_analysis.clv.beta_geo)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from crm_analysis.clv import BetaGeoModel, simulate_bgnbd
from clv_likelihood_oracles import bgnbd_loglik_rows

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def cdnow_fit(cdnow) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow)


def _fixed(params: dict[str, float]) -> BetaGeoModel:
    return BetaGeoModel.from_params(params)


@pytest.mark.shared_data
def test_cdnow_published_estimates(cdnow_fit):
    """Fader, Hardie & Lee (2005), Marketing Science 24(2), sec. 5: r=0.243,
    alpha=4.414, a=0.793, b=2.426, LL=-9582.4 on the 2,357-customer CDNOW sample
    (39 weeks). Tolerance: 1e-3 absolute (published to 3 decimals), 0.05 for LL."""
    for name, value in PUBLISHED.items():
        assert cdnow_fit.params_[name] == pytest.approx(value, abs=1e-3), name
    assert cdnow_fit.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert cdnow_fit.converged_
    assert cdnow_fit.n_customers_ == 2357
    summary = cdnow_fit.summary()
    assert list(summary.columns) == ["estimate", "std_error", "ci_lower", "ci_upper"]
    assert (summary["ci_lower"] < summary["estimate"]).all() and (summary["estimate"] < summary["ci_upper"]).all()
    assert (cdnow_fit.standard_errors_ > 0).all()


@pytest.mark.shared_data
def test_cdnow_published_conditional_expectation(cdnow_fit):
    """Customer ID 1 of the CDNOW sample (x=2, t_x=30.43, T=38.86): expected
    purchases in the next 39 weeks = 1.226 (Fader, Hardie & Lee 2005; Fader &
    Hardie, "Implementing the BG/NBD Model for Customer Base Analysis in
    Excel", 2005). Tolerance 1e-3 absolute."""
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert cdnow_fit.expected_purchases(39, one)[0] == pytest.approx(1.226, abs=1e-3)


@pytest.mark.shared_data
def test_cdnow_fit_columns_and_weights(cdnow, cdnow_fit):
    """Renamed columns and collapsed data with counts give the same fit (rtol 1e-8)."""
    renamed = cdnow.rename(columns={"frequency": "x", "recency": "t_x", "T": "TT"})
    m2 = BetaGeoModel().fit(renamed, frequency_col="x", recency_col="t_x", T_col="TT")
    np.testing.assert_allclose(m2.params_, cdnow_fit.params_, rtol=1e-8)
    grouped = cdnow.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    m3 = BetaGeoModel().fit(grouped, weights="n")
    np.testing.assert_allclose(m3.params_, cdnow_fit.params_, rtol=1e-6)
    assert m3.n_customers_ == 2357
    # predictions use the fitted column names by default
    assert m2.probability_alive(renamed).shape == (len(cdnow),)


def test_duplicated_data_equals_weights():
    """Fitting data stacked twice gives the same parameters as the data once (rtol 1e-10)."""
    sim = simulate_bgnbd(0.5, 5.0, 0.8, 3.0, n_customers=800, T=30.0, seed=3)
    m1 = BetaGeoModel().fit(sim)
    m2 = BetaGeoModel().fit(pd.concat([sim, sim], ignore_index=True))
    m3 = BetaGeoModel().fit(sim, weights=np.full(len(sim), 2.0))
    np.testing.assert_allclose(m2.params_, m1.params_, rtol=1e-10)
    np.testing.assert_allclose(m3.params_, m1.params_, rtol=1e-10)
    assert m2.log_likelihood_ == pytest.approx(2 * m1.log_likelihood_, rel=1e-12)
    # twice the data: standard errors shrink by sqrt(2)
    np.testing.assert_allclose(m2.standard_errors_ * np.sqrt(2), m1.standard_errors_, rtol=1e-3)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_parameter_recovery_and_holdout(seed):
    """Simulate 6,000 customers from the model, fit, and check each true parameter
    lies within 3.5 standard errors; holdout purchases (39 weeks) match the
    conditional expectations within 4 Monte-Carlo standard errors."""
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 2.5}
    rng = np.random.default_rng(seed)
    T = rng.uniform(26, 52, 6000)
    sim = simulate_bgnbd(*truth.values(), n_customers=6000, T=T, holdout=39.0, seed=rng)
    m = BetaGeoModel().fit(sim)
    z = (m.params_ - pd.Series(truth)) / m.standard_errors_
    assert (z.abs() < 3.5).all(), z
    pred = m.expected_purchases(39.0, sim)
    resid = sim["frequency_holdout"].to_numpy() - pred
    assert abs(resid.mean()) < 4 * resid.std() / np.sqrt(len(sim))


def test_expected_purchases_new_matches_simulation():
    """E[X(t)] (eq. 7) equals the mean simulated frequency of customers observed for t
    (60,000 customers; within 4 Monte-Carlo standard errors)."""
    m = _fixed(PUBLISHED)
    sim = simulate_bgnbd(*PUBLISHED.values(), n_customers=60000, T=39.0, seed=5)
    mc_se = sim["frequency"].std() / np.sqrt(len(sim))
    assert abs(sim["frequency"].mean() - m.expected_purchases_new(39.0)) < 4 * mc_se


def test_expected_purchases_new_matches_integral():
    """E[X(t)] = E_p[(1 - (alpha/(alpha + p t))^r)/p] over p ~ Beta(a, b)
    (the model's definition), by quadrature; rtol 1e-7."""
    m = _fixed(PUBLISHED)
    r, alpha, a, b = PUBLISHED.values()
    for t in (1.0, 39.0, 78.0, 500.0):
        ref = integrate.quad(lambda p: -np.expm1(-r * np.log1p(p * t / alpha)) / p * stats.beta.pdf(p, a, b), 0, 1, limit=200)[0]
        assert m.expected_purchases_new(t) == pytest.approx(ref, rel=1e-7)
    arr = m.expected_purchases_new(np.array([1.0, 39.0]))
    assert arr.shape == (2,)


def test_probability_of_purchases_is_a_distribution():
    """P(X(t)=x) (eq. 8) sums to 1 and its mean is E[X(t)] (eq. 7); tolerance 1e-6."""
    m = _fixed(PUBLISHED)
    x = np.arange(0, 400)
    for t in (10.0, 39.0, 78.0):
        pmf = m.probability_of_purchases(x, t)
        assert np.all(pmf >= 0)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
        assert (x * pmf).sum() == pytest.approx(m.expected_purchases_new(t), rel=1e-6)


def test_conditional_expectation_large_frequency_matches_integral():
    """For large x the conditional expectation (eq. 10) stays finite and equals
    P(alive) E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x))/p] with p ~ Beta(a, b+x); rtol 1e-6."""
    m = _fixed(PUBLISHED)
    r, alpha, a, b = PUBLISHED.values()
    data = pd.DataFrame({"frequency": [0, 5, 300, 2000], "recency": [0, 30.0, 380.0, 990.0], "T": [39.0, 39.0, 400.0, 1000.0]})
    got = m.expected_purchases(39.0, data)
    pa = m.probability_alive(data)
    assert np.all(np.isfinite(got))
    for i, row in data.iterrows():
        x, T = row["frequency"], row["T"]
        f = lambda p: -np.expm1(-(r + x) * np.log1p(p * 39.0 / (alpha + T))) / p * stats.beta.pdf(p, a, b + x)
        ref = integrate.quad(f, 0, 1, limit=400, points=[1 / (b + x), 10 / (b + x)] if x > 20 else None)[0]
        assert got[i] == pytest.approx(pa[i] * ref, rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    x=st.integers(0, 300),
    frac=st.floats(0, 1),
    T=st.floats(0.5, 500),
    t1=st.floats(0.1, 100),
    dt=st.floats(0.1, 100),
)
def test_properties_alive_and_monotone(x, frac, T, t1, dt):
    """P(alive) in [0, 1] and equal to 1 for x = 0; conditional expectations increase in t."""
    m = _fixed(PUBLISHED)
    t_x = frac * T if x > 0 else 0.0
    data = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T]})
    pa = m.probability_alive(data)[0]
    assert 0.0 <= pa <= 1.0
    if x == 0:
        assert pa == 1.0
    e1 = m.expected_purchases(t1, data)[0]
    e2 = m.expected_purchases(t1 + dt, data)[0]
    assert np.isfinite(e1) and 0 <= e1 <= e2
    grid = m.expected_purchases_grid([t1, t1 + dt], data)
    np.testing.assert_allclose(grid[0], [e1, e2], rtol=1e-12)


def test_sample_shape_and_columns():
    m = _fixed(PUBLISHED)
    s = m.sample(100, T=39.0, seed=1)
    assert len(s) == 100 and {"frequency", "recency", "T"} <= set(s.columns)
    assert (s["recency"] <= s["T"]).all() and ((s["frequency"] > 0) | (s["recency"] == 0)).all()


@pytest.mark.slow
def test_million_customer_fit_is_fast():
    """A 1e6-customer BG/NBD fit (timing printed, not asserted); parameters within
    5 standard errors of the truth."""
    truth = dict(PUBLISHED)
    rng = np.random.default_rng(0)
    sim = simulate_bgnbd(*truth.values(), n_customers=1_000_000, T=np.round(rng.uniform(20, 52, 1_000_000), 1), seed=rng)
    start = time.perf_counter()
    m = BetaGeoModel().fit(sim)
    elapsed = time.perf_counter() - start
    print(f"\nBG/NBD fit on 1e6 customers ({m.n_distinct_} distinct rows): {elapsed:.2f} s, {m.n_iter_} iterations")
    z = (m.params_ - pd.Series(truth)) / m.standard_errors_
    assert (z.abs() < 5).all(), z


@pytest.mark.parametrize("params", [PUBLISHED, {"r": 2.0, "alpha": 0.5, "a": 3.0, "b": 0.4}])
def test_fast_likelihood_equals_per_row_likelihood(params):
    """The fitting likelihood (terms grouped per distinct x, T and t_x) equals the weighted sum
    of the per-row eq. (6) likelihood, rtol 1e-12; its gradient equals the per-row analytic
    gradient (rtol 1e-10) and central differences of the likelihood (rtol 1e-6)."""
    rng = np.random.default_rng(4)
    sim = simulate_bgnbd(0.5, 5.0, 0.8, 3.0, n_customers=3000, T=np.round(rng.uniform(10, 40, 3000), 1), seed=rng)
    m = BetaGeoModel()
    arrays = m._prepare(*(sim[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    w = rng.uniform(0.5, 2.0, len(sim))
    lp = np.log(list(params.values()))
    ll, g = m._weighted_loglik(lp, arrays, w)
    ll_rows, g_rows = bgnbd_loglik_rows(lp, arrays)
    assert ll == pytest.approx(float(w @ ll_rows), rel=1e-12)
    np.testing.assert_allclose(g, w @ g_rows, rtol=1e-10)
    h = 1e-6
    fd = [(m._weighted_loglik(lp + h * e, arrays, w)[0] - m._weighted_loglik(lp - h * e, arrays, w)[0]) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * abs(ll))


@settings(max_examples=300, deadline=None)
@given(
    c=st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=4),
    kind=st.sampled_from(["wavy", "bump", "flat", "kink", "nan"]),
    lo=st.floats(-10.0, 5.0),
    width=st.floats(0.01, 3.0),
    xatol=st.sampled_from([1e-6, 1e-5, 1e-8]),
)
def test_bounded_minimum_is_scipys_bounded_brent(c, kind, lo, width, xatol):
    """``_bounded_minimum`` (the refinement of :func:`_max_over_log_grid`, the no-dropout check's derivative over
    ``log b``) is scipy's ``minimize_scalar(method="bounded")`` ported to Python floats: the same point and value bit
    for bit (the reference: scipy itself) on smooth, flat, kinked and partly-NaN functions."""
    import math

    from scipy import optimize

    from crm_analysis.clv.beta_geo import _bounded_minimum

    def f(v: float) -> float:
        if kind == "wavy":
            return c[0] * (v - c[1]) ** 2 + c[2] * math.sin(3.0 * v) + c[3]
        if kind == "bump":
            return -c[0] * math.exp(-((v - c[1]) ** 2)) + 1e-9 * v
        if kind == "flat":
            return c[0]
        if kind == "kink":
            return abs(v - c[1]) + c[2] * v**3
        return float("nan") if v > c[1] else (v - c[2]) ** 2

    hi = lo + width
    ref = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": xatol})
    x, fx = _bounded_minimum(f, lo, hi, xatol)
    assert np.array([x, fx]).tobytes() == np.array([float(ref.x), float(ref.fun)]).tobytes()


def test_max_over_log_grid_on_the_dropout_curve_is_unchanged():
    """On the no-dropout check's curve of data with little dropout (simulated BG/NBD, a = 0.02), the maximum over
    ``log b`` by :func:`_max_over_log_grid` is the one its former scipy refinement gave (computed here: the grid, then
    ``minimize_scalar(method="bounded")`` between the neighbours of the best grid point), bit for bit."""
    from scipy import optimize

    from crm_analysis.clv import ModifiedBetaGeoModel, beta_geo
    from crm_analysis.clv.nbd import fit_nbd

    data = simulate_bgnbd(0.8, 8.0, 0.02, 3.0, n_customers=3000, T=40.0, seed=3)
    x, t_x, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    w = np.ones(x.size)
    for model in (BetaGeoModel(), ModifiedBetaGeoModel()):
        lp, *_ = fit_nbd(x, T, w)
        r, alpha = np.exp(lp)
        curve = model._dropout_curve(r, alpha, x, t_x, T, w)
        grid = np.linspace(-9.0, 20.0, 59)
        vals = curve(grid)
        k = int(np.nanargmax(vals))
        res = optimize.minimize_scalar(lambda v: -float(curve(np.array([v]))[0]), bounds=(grid[max(k - 1, 0)], grid[min(k + 1, 58)]),
                                       method="bounded", options={"xatol": 1e-6})
        ref = (float(-res.fun), float(res.x)) if -res.fun > vals[k] else (float(vals[k]), float(grid[k]))
        assert beta_geo._max_over_log_grid(curve, -9.0, 20.0) == ref
