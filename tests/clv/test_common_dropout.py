"""Tests of the common-dropout limits (crm_analysis.clv.common_dropout) and of the ridge fits (issue #12 pt 1).

Independent references: mpmath quadrature over the purchase rate ``lambda`` (and the death time) at 30 digits
of the likelihood and of P(X(t) = x) written from the model's story (not from the package's formulas); the
full BG/NBD, MBG/NBD and Pareto/NBD at growing ``a + b`` / ``s`` with the mean dropout fixed, which must
converge to the limit at rate 1/N; parameter recovery on data simulated with one dropout probability/rate.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from crm_analysis.clv import (
    BetaGeoModel,
    BoundaryWarning,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    customer_lifetime_value,
    prediction_intervals,
    simulate_gamma_gamma,
)
from crm_analysis.clv.base import BaseLikelihoodModel
from crm_analysis.clv.common_dropout import ExponentialNBDModel, GeometricNBDModel, ModifiedGeometricNBDModel
from crm_analysis.clv.simulate import simulate_exponential_nbd, simulate_geometric_nbd

DATA = pd.DataFrame({"frequency": [0, 1, 3, 10, 2, 0, 25], "recency": [0, 5.0, 30, 38, 12, 0, 59.5],
                     "T": [40.0, 38, 39, 40, 60, 10, 60]})
PAIRS = [(BetaGeoModel, GeometricNBDModel), (ModifiedBetaGeoModel, ModifiedGeometricNBDModel),
         (ParetoNBDModel, ExponentialNBDModel)]


def _arrays():
    return tuple(DATA[c].to_numpy(float) for c in ("frequency", "recency", "T"))


def _row_loglik(model, params, x, t_x, T):
    """The model's fitting log-likelihood of one customer."""
    arrays = model._prepare(np.array([x]), np.array([t_x]), np.array([T]))
    return model._weighted_loglik(np.log(params), arrays, np.ones(1))[0]


def _mp_gamma_mix(r, alpha, cond, peaks=()):
    """E over lambda ~ Gamma(r, rate alpha) of cond(lambda), by mpmath quadrature in v = log(alpha lambda)
    (the density alpha^r lambda^r e^{-alpha lambda} / Gamma(r) dv is smooth there, also for small r)."""
    r, alpha = mp.mpf(r), mp.mpf(alpha)

    def f(v):
        lam = mp.exp(v) / alpha
        return mp.exp(r * v - mp.exp(v)) / mp.gamma(r) * cond(lam)

    # e^{r v} < e^-60 below v = -60/r and e^{-e^v} < e^-2900 above v = 8: finite limits keep mpmath fast;
    # breakpoints around the peaks of the integrand (lambda ~ (r+x)/(alpha+t): narrow for large x)
    lo, hi = -60 / r - 10, mp.mpf(8)
    points = {lo, hi, -10, -2, 0, 2, 4}
    for c in peaks:
        c = mp.log(alpha * c)
        points.update(c + d for d in (-4, -2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2, 4))
    return mp.quad(f, sorted(p for p in points if lo <= p <= hi))


def _mp_geometric_lik(r, alpha, p, x, t_x, T, first):
    """Story: buy at rate lambda; after each repeat purchase (and at the first one if ``first``) drop out w.p. p."""
    p = mp.mpf(p)
    n1 = x + first

    def cond(lam):
        alive = (1 - p) ** n1 * lam**x * mp.exp(-lam * T)
        died = (p * (1 - p) ** (n1 - 1) * lam**x * mp.exp(-lam * t_x)) if (x > 0 or first) else 0
        return alive + died

    return _mp_gamma_mix(r, alpha, cond, peaks=((r + x) / (alpha + T), (r + x) / (alpha + t_x)))


def _mp_exponential_lik(r, alpha, mu, x, t_x, T):
    """Story: buy at rate lambda while alive; lifetime exponential with rate mu (death time integrated by mpmath)."""
    mu = mp.mpf(mu)

    def cond(lam):
        alive = lam**x * mp.exp(-(lam + mu) * T)
        # int_{t_x}^T mu e^{-mu tau} lam^x e^{-lam tau} dtau (died at tau, after the x purchases by t_x)
        died = mu * lam**x / (lam + mu) * (mp.exp(-(lam + mu) * t_x) - mp.exp(-(lam + mu) * T))
        return alive + died

    return _mp_gamma_mix(r, alpha, cond, peaks=((r + x) / (alpha + T), (r + x) / (alpha + t_x)))


@pytest.mark.slow  # mpmath quadrature: ~1 s per parameter set
@pytest.mark.parametrize("cls, first", [(GeometricNBDModel, 0), (ModifiedGeometricNBDModel, 1)])
@pytest.mark.parametrize("params", [(0.6, 5.0, 0.3), (2.5, 0.7, 0.02), (0.05, 40.0, 0.9)])
def test_geometric_likelihood_matches_mpmath(cls, first, params):
    """Per-customer log-likelihood against mpmath quadrature over lambda of the model's story, rel 1e-10."""
    with mp.workdps(25):
        for x, t_x, T in zip(*_arrays()):
            ref = float(mp.log(_mp_geometric_lik(*params, int(x), t_x, T, first)))
            assert _row_loglik(cls(), params, x, t_x, T) == pytest.approx(ref, rel=1e-10, abs=1e-10)


@pytest.mark.slow  # mpmath quadrature: ~1 s per parameter set
@pytest.mark.parametrize("params", [(0.6, 5.0, 0.02), (2.5, 0.7, 0.3), (0.05, 40.0, 1e-4)])
def test_exponential_likelihood_matches_mpmath(params):
    """Per-customer log-likelihood (the tau integral by Gauss-Legendre panels) against mpmath over lambda and
    the death time, rel 1e-10."""
    with mp.workdps(25):
        for x, t_x, T in zip(*_arrays()):
            ref = float(mp.log(_mp_exponential_lik(*params, int(x), t_x, T)))
            assert _row_loglik(ExponentialNBDModel(), params, x, t_x, T) == pytest.approx(ref, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("cls", [GeometricNBDModel, ModifiedGeometricNBDModel, ExponentialNBDModel])
def test_gradient_matches_central_differences(cls):
    x, t_x, T = _arrays()
    w = np.linspace(0.5, 2.0, x.size)
    m = cls()
    arrays = m._prepare(x, t_x, T)
    lp = np.log([0.6, 5.0, 0.3 if cls is not ExponentialNBDModel else 0.02])
    _, g = m._weighted_loglik(lp, arrays, w)
    h = 1e-6
    fd = [(m._weighted_loglik(lp + h * e, arrays, w)[0] - m._weighted_loglik(lp - h * e, arrays, w)[0]) / (2 * h)
          for e in np.eye(3)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("full_cls, limit_cls", PAIRS)
def test_full_model_converges_to_the_limit(full_cls, limit_cls):
    """The full model at a + b = N (s = N) with the mean dropout fixed approaches the limit at rate 1/N: the
    log-likelihood, P(alive), E[Y(t)], E[X(t)] and P(X(t) = x) differ by ~c/N (each tenfold N cuts the
    difference 5-20 fold) and by less than 1e-4 relatively at N = 1e6."""
    r, alpha, p, mu = 0.6, 5.0, 0.3, 0.02
    pareto = full_cls is ParetoNBDModel
    limit = limit_cls.from_params([r, alpha, mu if pareto else p])
    x, t_x, T = _arrays()
    xs = np.arange(6)

    def gaps(N):
        full = full_cls.from_params([r, alpha, N, N / mu] if pareto else [r, alpha, p * N, (1 - p) * N])
        ll_f = full._weighted_loglik(np.log(full.params_.to_numpy()), full._prepare(x, t_x, T), np.ones(x.size))[0]
        ll_l = limit._weighted_loglik(np.log(limit.params_.to_numpy()), limit._prepare(x, t_x, T), np.ones(x.size))[0]
        rel = lambda a, b: float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1)))  # noqa: E731
        return np.array([
            rel(ll_f, ll_l),
            rel(full.probability_alive(DATA), limit.probability_alive(DATA)),
            rel(full.expected_purchases(10.0, DATA), limit.expected_purchases(10.0, DATA)),
            rel(full.expected_purchases_new(np.array([1.0, 20.0])), limit.expected_purchases_new(np.array([1.0, 20.0]))),
            rel(full.probability_of_purchases(xs, 20.0), limit.probability_of_purchases(xs, 20.0)),
        ])

    g4, g5, g6 = gaps(1e4), gaps(1e5), gaps(1e6)
    assert np.all(g6 < 1e-4), g6
    for a, b in ((g4, g5), (g5, g6)):
        ratio = a / b
        assert np.all((ratio > 5) & (ratio < 20)), ratio


def test_exponential_pmf_matches_mpmath_and_sums_to_one():
    """P(X(t) = x) of the exponential limit against mpmath (alive at t with x purchases, or died at tau after x),
    rel 1e-9; and the probabilities over x = 0..400 sum to 1."""
    r, alpha, mu, t = 0.8, 4.0, 0.05, 30.0
    m = ExponentialNBDModel.from_params([r, alpha, mu])
    with mp.workdps(25):
        for x in (0, 1, 4, 12):
            def cond(lam, x=x):
                alive = mp.exp(-mu * t) * mp.exp(-lam * t) * (lam * t) ** x / mp.factorial(x)
                # int_0^t mu e^{-mu tau} Poisson(x; lam tau) dtau = mu lam^x / x! gamma(x+1, (lam+mu) t) / (lam+mu)^(x+1)
                died = mu * lam**x / mp.factorial(x) * mp.gammainc(x + 1, 0, (lam + mu) * t) / (lam + mu) ** (x + 1)
                return alive + died
            ref = float(_mp_gamma_mix(r, alpha, cond, peaks=((r + x) / (alpha + t), (r + x) / alpha)))
            assert m.probability_of_purchases(x, t) == pytest.approx(ref, rel=1e-9)
    assert float(np.sum(m.probability_of_purchases(np.arange(401), t))) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("full_cls, limit_cls", PAIRS)
def test_ridge_score_is_the_derivative_along_the_ridge(full_cls, limit_cls):
    """ridge_score = d LL_full / d phi / n at phi = 0 (phi = 1/(a+b+1), 1/s; mean dropout fixed), checked by a
    one-sided difference of the full model's likelihood at phi = 1e-5 (error O(phi), rel 1e-2)."""
    rng = np.random.default_rng(3)
    if full_cls is ParetoNBDModel:
        d = simulate_exponential_nbd(0.6, 5.0, 0.03, n_customers=300, T=rng.uniform(20, 60, 300), seed=4)
    else:
        d = simulate_geometric_nbd(0.6, 5.0, 0.3, n_customers=300, T=rng.uniform(20, 60, 300), seed=4,
                                   dropout_at_first=full_cls is ModifiedBetaGeoModel)
    x, t_x, T = (d[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    w = np.ones(x.size)
    params = [0.5, 4.0, 0.04 if full_cls is ParetoNBDModel else 0.25]  # any point, not the optimum
    limit = limit_cls.from_params(params)
    score = limit.ridge_score(x, t_x, T, w)
    phi = 1e-5
    if full_cls is ParetoNBDModel:
        s = 1.0 / phi
        full_params = [params[0], params[1], s, s / params[2]]
    else:
        nu = 1.0 / phi - 1.0
        full_params = [params[0], params[1], params[2] * nu, (1 - params[2]) * nu]
    full = full_cls()
    ll_f = full._weighted_loglik(np.log(full_params), full._prepare(x, t_x, T), w)[0]
    ll_l = limit._weighted_loglik(np.log(params), limit._prepare(x, t_x, T), w)[0]
    assert abs(score) > 1e-4  # a point off the optimum: a derivative to compare
    assert (ll_f - ll_l) / phi / w.sum() == pytest.approx(score, rel=1e-2)


@pytest.mark.parametrize("cls, truth, kw", [
    (GeometricNBDModel, (0.6, 5.0, 0.25), {}),
    (ModifiedGeometricNBDModel, (0.6, 5.0, 0.25), {"dropout_at_first": True}),
    (ExponentialNBDModel, (0.6, 5.0, 0.03), None),
])
def test_parameter_recovery(cls, truth, kw):
    """4,000 simulated customers with one dropout probability / rate: the truth within 3.5 standard errors."""
    rng = np.random.default_rng(8)
    T = rng.uniform(20, 80, 4000)
    if kw is None:
        d = simulate_exponential_nbd(*truth, n_customers=4000, T=T, seed=9)
    else:
        d = simulate_geometric_nbd(*truth, n_customers=4000, T=T, seed=9, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = cls().fit(d)
    z = (m.params_.to_numpy() - np.array(truth)) / m.standard_errors_.to_numpy()
    assert np.all(np.abs(z) < 3.5), z


def _ridge_data():
    """Homogeneous exponential dropout (2,000 customers): the Pareto/NBD runs along the ridge s, beta -> inf."""
    rng = np.random.default_rng(1)
    return simulate_exponential_nbd(0.5, 5, 0.02, n_customers=2000, T=rng.uniform(20, 80, 2000), seed=4)


def test_pareto_nbd_on_common_dropout_fits_the_limit():
    """Issue #12 pt 1: the ridge is detected, said (BoundaryWarning naming the limit), boundary_ / boundary_kind(),
    params_ s = beta = inf, the limit fitted directly (its log-likelihood, 3 parameters in AIC), predictions and
    intervals from it, and all of this survives to_dict / from_dict."""
    d = _ridge_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = ParetoNBDModel().fit(d)
    msgs = [str(w.message) for w in caught if issubclass(w.category, BoundaryWarning)]
    assert any("common dropout" in t and "ExponentialNBDModel" in t for t in msgs), msgs
    assert m.boundary_kind() == "common_dropout" and "common dropout" in m.boundary_
    assert np.isinf(m.params_["s"]) and np.isinf(m.params_["beta"])
    limit = m.limit_model_
    assert isinstance(limit, ExponentialNBDModel)
    direct = ExponentialNBDModel().fit(d)
    np.testing.assert_allclose(limit.params_.to_numpy(), direct.params_.to_numpy(), rtol=1e-6)
    assert m.log_likelihood_ == pytest.approx(direct.log_likelihood_, rel=1e-10)
    assert m.fit_result_.n_params == 3 and m.aic_ == pytest.approx(direct.aic_, rel=1e-10)
    # a point of the full model on the ridge (s = 1000, the same mu) is below the limit
    arrays = ParetoNBDModel()._prepare(*(d[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    r, alpha, mu = limit.params_.to_numpy()
    assert ParetoNBDModel()._weighted_loglik(np.log([r, alpha, 1e3, 1e3 / mu]), arrays, np.ones(len(d)))[0] < m.log_likelihood_
    np.testing.assert_allclose(m.probability_alive(d), limit.probability_alive(d))
    np.testing.assert_allclose(m.expected_purchases(10.0, d), limit.expected_purchases(10.0, d))
    assert m.expected_purchases_new(10.0) == limit.expected_purchases_new(10.0)
    assert np.all(m.probability_alive(d) < 1.0)  # dropout: not the NBD's P(alive) = 1
    again = BaseLikelihoodModel.from_dict(m.to_dict())
    assert again.boundary_kind() == "common_dropout"
    np.testing.assert_allclose(again.expected_purchases(10.0, d), m.expected_purchases(10.0, d), rtol=1e-12)
    # CLV with parameter-uncertainty intervals: the draws are the limit's (r, alpha, mu), not r, alpha alone
    sim = simulate_gamma_gamma(4.0, 5.0, 20.0, d["frequency"].to_numpy(), seed=2)
    dd = d.assign(monetary_value=np.where(d["frequency"] > 0, sim["monetary_value"], 0.0)).head(300)
    gg = GammaGammaModel().fit(dd[dd["frequency"] > 0])
    clv_full = customer_lifetime_value(m, gg, dd, time_unit="W", horizon=52, intervals=True, interval_draws=100, seed=3)
    clv_lim = customer_lifetime_value(limit, gg, dd, time_unit="W", horizon=52, intervals=True, interval_draws=100, seed=3)
    pd.testing.assert_frame_equal(clv_full, clv_lim)
    pi = prediction_intervals(m, d.head(200), horizon=10.0, n_draws=200, seed=1)
    # the simulated futures are the limit's: their mean tracks its expectation (200 x 200 draws: within 10%)
    mean_sim = pi.customers["purchases_mean"].to_numpy()
    assert abs(mean_sim.mean() / limit.expected_purchases(10.0, d.head(200)).mean() - 1) < 0.1


def test_bg_models_on_a_handful_fit_the_common_dropout_limit():
    """The MBG/NBD on 45 customers (5 repeat buyers) ran to a = 7592, b = 6906 with a singular Hessian: now the
    common-dropout limit, whose predictions equal the limit's own."""
    rng = np.random.default_rng(0)
    d = simulate_geometric_nbd(0.3, 4.0, 0.5, n_customers=45, T=rng.uniform(20, 40, 45), dropout_at_first=True,
                               seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ModifiedBetaGeoModel().fit(d)
    if m.boundary_kind() == "common_dropout":
        np.testing.assert_allclose(m.probability_alive(d), m.limit_model_.probability_alive(d))
        assert np.isinf(m.params_["a"]) and np.isinf(m.params_["b"])
    else:  # a finite maximum: it must be better than the limit
        lim = ModifiedGeometricNBDModel().fit(d)
        assert m.log_likelihood_ > lim.log_likelihood_
