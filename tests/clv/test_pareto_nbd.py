"""Tests of the Pareto/NBD model and its stable likelihood (crm_analysis.clv.pareto_nbd, _hyp)."""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from clv_likelihood_oracles import distinct_rows
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special

from crm_analysis.clv import ParetoNBDModel, simulate_pareto_nbd, simulate_two_point_nbd
from crm_analysis.exceptions import BoundaryWarning
from crm_analysis.clv._hyp import hyp2f1_1b, log_pnbd_interval, log_pnbd_tail, log_pnbd_tail_grad

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def _brute_log_interval(p, q, alpha, beta, t0, t1):
    """log of int_{t0}^{t1} (alpha+tau)^-p (beta+tau)^-q dtau by adaptive quadrature,
    scaled by the integrand at t0 (its maximum) so nothing underflows."""
    lf = lambda tau: -p * np.log(alpha + tau) - q * np.log(beta + tau)
    c = lf(t0)
    scale = (alpha + t0) / p  # width of the integrand's decay for large p
    pts = [t0 + scale * k for k in (1, 5, 20, 100)]
    # and at decades of the other scale (beta ~ 1e-9 next to the two-point limit: a peak 1e-9 wide at t0 = 0)
    pts += [t0 + (beta + t0) * 10.0**j for j in range(12)]
    pts = sorted({v for v in pts if t0 < v < t1})
    val = integrate.quad(lambda tau: np.exp(lf(tau) - c), t0, t1, points=pts or None, limit=1000, epsabs=0, epsrel=1e-12)[0]
    return np.log(val) + c


@pytest.mark.shared_data
def test_cdnow_published_estimates(shared_data):
    """Fader, Hardie & Lee (2005), Marketing Science 24(2), sec. 5 (Pareto/NBD on the
    CDNOW sample, 39 weeks): r=0.553, alpha=10.578, s=0.606, beta=11.669, LL=-9595.0.
    Tolerance: 2e-3 absolute for r, s; 2e-3 relative for alpha, beta (beta is
    weakly identified, SE ~6); 0.05 for LL."""
    data = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv")
    m = ParetoNBDModel().fit(data)
    assert m.params_["r"] == pytest.approx(0.553, abs=2e-3)
    assert m.params_["s"] == pytest.approx(0.606, abs=2e-3)
    assert m.params_["alpha"] == pytest.approx(10.578, rel=2e-3)
    assert m.params_["beta"] == pytest.approx(11.669, rel=2e-3)
    assert m.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    assert m.converged_
    pa = m.probability_alive(data)
    assert np.all((pa >= 0) & (pa <= 1))


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [(0, 0.0, 39.0), (2, 30.43, 38.86), (50, 9999.0, 1e4), (1e4, 9000.0, 1e4), (1e4, 5.0, 1e4), (0, 0.0, 1e4), (300, 1.0, 2.0)],
)
@pytest.mark.parametrize(
    "params",
    [PUBLISHED, {"r": 0.5, "alpha": 20.0, "s": 0.3, "beta": 0.01}, {"r": 0.5, "alpha": 0.01, "s": 0.3, "beta": 20.0}, {"r": 2.0, "alpha": 5.0, "s": 4.0, "beta": 5.0},
     # where the binomial series of _hyp._log_near_series takes the near part: on the way to the no-dropout
     # limit (s -> 0, beta -> inf), next to the two-point limit (beta -> 0), and s + 1 = 2.5 <= _SERIES_P_MAX
     {"r": 0.5, "alpha": 10.0, "s": 1e-6, "beta": 3e7}, {"r": 0.27, "alpha": 7.6, "s": 0.0128, "beta": 2.7e-9},
     {"r": 1.0, "alpha": 10.0, "s": 1.5, "beta": 1e5}],
)
def test_stable_integral_against_quadrature(params, x, t_x, T):
    """The log of the likelihood's integral term (x up to 1e4, T up to 1e4, both
    alpha >= beta and alpha < beta) equals brute-force quadrature of the defining
    integral (mpmath is not installed). Tolerance: 1e-9 relative on the log."""
    r, alpha, s, beta = params.values()
    got = log_pnbd_interval(r + x, s + 1.0, alpha, beta, t_x, T)
    ref = _brute_log_interval(r + x, s + 1.0, alpha, beta, t_x, T)
    assert np.isfinite(got)
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-9)


def test_hyp2f1_1b_against_scipy():
    """Continued fraction for 2F1(1, b; c; z) equals scipy.special.hyp2f1 where the latter
    is reliable (moderate parameters); rtol 1e-12."""
    rng = np.random.default_rng(0)
    b = rng.uniform(0.1, 20, 300)
    c = b + rng.uniform(0.1, 20, 300)
    z = rng.uniform(0, 0.99, 300)
    np.testing.assert_allclose(hyp2f1_1b(b, c, z), special.hyp2f1(1.0, b, c, z), rtol=1e-12)


def test_likelihood_finite_for_extreme_data():
    """The log-likelihood stays finite for very heavy buyers and long histories,
    and a fit on such data converges."""
    m = ParetoNBDModel.from_params(PUBLISHED)
    x = np.array([0.0, 1.0, 1e3, 1e4, 1e4])
    t_x = np.array([0.0, 1.0, 5e3, 9999.0, 10.0])
    T = np.array([1e4, 1e4, 1e4, 1e4, 1e4])
    ll, _ = m._loglik(np.log(list(PUBLISHED.values())), m._prepare(x, t_x, T))
    assert np.all(np.isfinite(ll))
    sim = simulate_pareto_nbd(3.0, 1.0, 0.5, 2.0, n_customers=150, T=1000.0, seed=4)
    assert sim["frequency"].max() > 1000
    fit = ParetoNBDModel().fit(sim)
    assert fit.converged_ and np.isfinite(fit.log_likelihood_)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22])
def test_parameter_recovery_and_holdout(seed):
    """Simulate 5,000 customers, fit, truth within 3.5 standard errors; holdout
    purchases (39 weeks) match conditional expectations within 4 MC standard errors."""
    truth = {"r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 15.0}
    rng = np.random.default_rng(seed)
    sim = simulate_pareto_nbd(*truth.values(), n_customers=5000, T=rng.uniform(26, 52, 5000), holdout=39.0, seed=rng)
    m = ParetoNBDModel().fit(sim)
    z = (m.params_ - pd.Series(truth)) / m.standard_errors_
    assert (z.abs() < 3.5).all(), z
    resid = sim["frequency_holdout"].to_numpy() - m.expected_purchases(39.0, sim)
    assert abs(resid.mean()) < 4 * resid.std() / np.sqrt(len(sim))


def test_expected_purchases_new_and_pmf():
    """E[X(t)] matches the simulated mean (60,000 customers, 4 MC standard errors);
    P(X(t)=x) sums to 1 and has mean E[X(t)] (tolerance 1e-6); the s = 1 limit is continuous."""
    m = ParetoNBDModel.from_params(PUBLISHED)
    sim = simulate_pareto_nbd(*PUBLISHED.values(), n_customers=60000, T=39.0, seed=8)
    assert abs(sim["frequency"].mean() - m.expected_purchases_new(39.0)) < 4 * sim["frequency"].std() / np.sqrt(len(sim))
    x = np.arange(0, 300)
    pmf = m.probability_of_purchases(x, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
    assert (x * pmf).sum() == pytest.approx(m.expected_purchases_new(39.0), rel=1e-6)
    near = [ParetoNBDModel.from_params({**PUBLISHED, "s": s}).expected_purchases_new(39.0) for s in (1 - 1e-7, 1.0, 1 + 1e-7)]
    np.testing.assert_allclose(near, near[1], rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(x=st.integers(0, 2000), frac=st.floats(0, 1), T=st.floats(0.5, 5000), t=st.floats(0.1, 100), dt=st.floats(0.1, 100))
def test_properties(x, frac, T, t, dt):
    """P(alive) in [0, 1]; conditional expectations finite and increasing in t."""
    m = ParetoNBDModel.from_params(PUBLISHED)
    data = pd.DataFrame({"frequency": [x], "recency": [frac * T if x > 0 else 0.0], "T": [T]})
    pa = m.probability_alive(data)[0]
    assert 0.0 <= pa <= 1.0
    e1, e2 = m.expected_purchases_grid([t, t + dt], data)[0]
    assert np.isfinite(e1) and 0 <= e1 <= e2


def _mp_log_tail(p, q, alpha, beta, t):
    """log of int_t^inf (alpha+tau)^-p (beta+tau)^-q dtau at 40 digits by mpmath: with the larger scale first,
    ``(alpha+t)^(1-p-q) / (p+q-1) 2F1(q, p+q-1; p+q; (alpha-beta)/(alpha+t))`` (Fader & Hardie 2005 note, the
    integral's hypergeometric form, argument in [0, 1))."""
    mp.mp.dps = 40
    p, q, alpha, beta, t = (mp.mpf(float(v)) for v in (p, q, alpha, beta, t))
    if alpha < beta:
        p, q, alpha, beta = q, p, beta, alpha
    return float(mp.log((alpha + t) ** (1 - p - q) / (p + q - 1) * mp.hyp2f1(q, p + q - 1, p + q, (alpha - beta) / (alpha + t))))


@pytest.mark.parametrize(
    ("p", "q", "alpha", "beta", "t"),
    [
        (0.5, 1.0 + 1e-6, 10.0, 3e7, 0.0),  # no-dropout crawl: s = 1e-6, beta = 3e7, x = 0
        (0.5, 1.0 + 1e-6, 10.0, 3e7, 20.0),
        (1.0, 1.0 + 1e-9, 10.0, 1e9, 5.0),  # Q = p exactly 1: the k = 0 term's exponent vanishes
        (2.0 + 1e-10, 1.01, 10.0, 1e4, 5.0),  # Q one part in 1e10 above an integer
        (3.5, 1.01, 10.0, 1e4, 5.0),
        (373.8, 1.0054, 0.94, 6.04e6, 0.0),  # large frequency
        (7452.7, 1.00000002, 0.53, 8.0e6, 0.47),
        (1.0, 2.9, 10.0, 1e5, 3.0),  # P = q = 2.9, near _SERIES_P_MAX
        (2.5, 1.006, 12.0, 0.048, 0.0),  # next to the two-point limit: beta << alpha, P = p = r + x
        (1.2, 1.006, 12.0, 0.048, 1.0),
        (0.3, 1.5, 5.0, 1e-6, 0.5),
        # the far exponent above 3 (the common-dropout ridge, s = 10-99): the series up to y = 1/P
        (0.5, 11.0, 10.0, 3e5, 0.0),
        (0.3, 15.0, 10.0, 3.6e4, 1.0),
        (2.5, 51.0, 10.0, 3e6, 5.0),
        (30.5, 99.0, 10.0, 1e5, 5.0),
        (300.0, 60.0, 1.0, 1e7, 0.0),
        (3.0, 80.0, 1.0, 1e3, 0.0),
        (0.5, 417.0, 10.0, 2.2e5, 0.0),  # s = 416, beta = 2.2e5 (500 zero-inflated customers, seed 1)
        (12.5, 999.0, 3.0, 1e6, 2.0),
    ],
)
def test_log_tail_series_region_against_mpmath(p, q, alpha, beta, t):
    """log G(t) where the near part is summed as a binomial series (z > 0.9 and the far scale's exponent <= 1000:
    the region of the zero-inflated fits' no-dropout crawl, of the fits next to the two-point limit and on the
    common-dropout ridge, s up to 999) equals mpmath's hypergeometric form at 40 digits; tolerance 1e-12 relative to
    max(1, |log G|) (the quadrature it replaced was 6e-13 off at the frequency-7452 point, the series 3e-13)."""
    from crm_analysis.clv import _hyp

    m_, n_ = max(alpha, beta), min(alpha, beta)
    assert (m_ - n_) / (m_ + t) > _hyp._Z_CUT and (q if alpha < beta else p) <= _hyp._SERIES_P_MAX  # the series is used
    got = float(log_pnbd_tail(*(np.array([v], float) for v in (p, q, alpha, beta, t)))[0])
    ref = _mp_log_tail(p, q, alpha, beta, t)
    assert abs(got - ref) <= 1e-12 * max(1.0, abs(ref)), (got, ref)


@settings(max_examples=80, deadline=None)
@given(
    p=st.floats(1e-3, 1e4), s=st.floats(1e-9, 999.0), log_alpha=st.floats(-7.0, 9.0), log_ratio=st.floats(2.5, 40.0),
    t_frac=st.floats(0.0, 1.0), swap=st.booleans(),
)
def test_log_tail_series_equals_the_quadrature(p, s, log_alpha, log_ratio, t_frac, swap):
    """Property: in the series region the binomial series and the quadrature it replaced (forced by
    _SERIES_P_MAX = -1) give the same log G to 1e-11 relative to max(1, |log G|): two independent evaluations of
    the near part. Scales ``m / n = e^log_ratio`` (12 to 2e17), ``t`` up to where z = 0.9; ``swap``: the small
    scale is beta (then the far exponent is p, kept <= 1000)."""
    from crm_analysis.clv import _hyp

    alpha = float(np.exp(log_alpha))
    far = alpha * float(np.exp(log_ratio))
    if swap:  # beta << alpha: the far scale alpha carries p
        p = min(p, 1000.0)
        args = (p, 1.0 + s, far, alpha)
    else:
        args = (p, 1.0 + s, alpha, far)
    m_, n_ = far, alpha
    t = t_frac * max(((m_ - n_) / 0.9 - m_) * 0.999, 0.0)
    vals = [np.array([v], float) for v in (*args, t)]
    got = float(log_pnbd_tail(*vals)[0])
    keep = _hyp._SERIES_P_MAX
    _hyp._SERIES_P_MAX = -1.0
    try:
        quad = float(log_pnbd_tail(*vals)[0])
    finally:
        _hyp._SERIES_P_MAX = keep
    assert np.isfinite(got) and abs(got - quad) <= 1e-11 * max(1.0, abs(quad)), (got, quad)


@settings(max_examples=80, deadline=None)
@given(
    r=st.floats(0.01, 100.0), x=st.integers(0, 60), s=st.floats(0.01, 50.0), log_alpha=st.floats(-6.0, 6.0),
    log_beta=st.floats(-12.0, 6.0), t=st.floats(0.0, 60.0), quad=st.booleans(),
)
def test_log_tail_grad_equals_differences_of_the_tail(r, x, s, log_alpha, log_beta, t, quad):
    """Property: log_pnbd_tail_grad's value is log_pnbd_tail's (1e-14 relative: the continued fraction's entries
    are iterated a little longer or shorter in another batch) and its derivatives in log r, log alpha, log s, log beta equal central
    differences (fourth order, step 1e-3) of log_pnbd_tail wherever |log G| is moderate (< 300, so that
    differencing the whole log G loses < 1e-8): every branch (continued fraction; near part by the series or, with
    ``quad``, by quadrature as for far exponents above _SERIES_P_MAX; beta above and below alpha) against the plain
    definition of the derivative. Tolerance 1e-7 of max(1, |d|)."""
    from crm_analysis.clv import _hyp

    alpha, beta = float(np.exp(log_alpha)), float(np.exp(log_beta))
    xs, ts = np.array([float(x)]), np.array([t])
    keep = _hyp._SERIES_P_MAX
    if quad:
        _hyp._SERIES_P_MAX = -1.0
    try:
        g, dg = log_pnbd_tail_grad(r, xs, s, alpha, beta, ts)
        ref = log_pnbd_tail(r + xs, s + 1.0, alpha, beta, ts)
        assert abs(g[0] - ref[0]) <= 1e-14 * max(1.0, abs(ref[0]))
        if abs(ref[0]) >= 300.0:
            return
        h = 1e-3

        def tail(lp: np.ndarray) -> float:
            rr, aa, ss, bb = np.exp(lp)
            return float(log_pnbd_tail(rr + xs, ss + 1.0, aa, bb, ts)[0])

        lp0 = np.log([r, alpha, s, beta])
        for k in range(4):
            e = np.zeros(4)
            e[k] = h
            fd = (8 * (tail(lp0 + e) - tail(lp0 - e)) - (tail(lp0 + 2 * e) - tail(lp0 - 2 * e))) / (12 * h)
            assert abs(dg[k, 0] - fd) <= 1e-7 * max(1.0, abs(fd)), (k, dg[:, 0], fd)
    finally:
        _hyp._SERIES_P_MAX = keep


@pytest.mark.parametrize("params", [PUBLISHED, {"r": 2.0, "alpha": 5.0, "s": 4.0, "beta": 0.5},
                                    {"r": 0.5, "alpha": 10.0, "s": 1e-4, "beta": 3e5},  # the no-dropout crawl (series)
                                    {"r": 0.27, "alpha": 7.6, "s": 0.0128, "beta": 2.7e-9}])  # next to the two-point limit
def test_fast_likelihood_and_gradient(params):
    """The fitting likelihood (tail integrals per distinct (x, t) pair) equals the per-row
    likelihood computed directly with log_pnbd_interval (rtol 1e-12); its gradient (analytic
    chain rule, tail derivatives by differences on the pairs) matches central differences of
    the per-row likelihood (rtol 1e-5)."""
    rng = np.random.default_rng(6)
    sim = simulate_pareto_nbd(0.6, 8.0, 0.8, 15.0, n_customers=2000, T=np.round(rng.uniform(10, 40, 2000), 1), seed=rng)
    m = ParetoNBDModel()
    x, t_x, T = (sim[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    arrays = m._prepare(x, t_x, T)
    w = rng.uniform(0.5, 2.0, len(sim))
    lp = np.log(list(params.values()))
    ll, g = m._weighted_loglik(lp, arrays, w)

    def direct(lp_):
        return float(w @ m._loglik(lp_, arrays[:5])[0])  # per row, no pair structure

    assert ll == pytest.approx(direct(lp), rel=1e-12)
    h = 1e-6
    fd = [(direct(lp + h * e) - direct(lp - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * abs(ll))


# ---- zero-inflated data: the run towards the no-dropout limit is stopped (issue 12, pt 2 speed) ------------------

def _zero_inflated(n: int, pi: float, seed: int) -> pd.DataFrame:
    """A share ``pi`` of customers who never buy again, the rest NBD buyers (r = 0.5, alpha = 10), T ~ U(1, 39)."""
    rng = np.random.default_rng(1000 + seed)
    T = np.round(rng.uniform(1, 39, n))
    return simulate_two_point_nbd(0.5, 10.0, pi, n_customers=n, T=T, dropout_at_first=True, seed=seed)


def _oracle_max(loglik, starts) -> float:
    """Best log-likelihood of a few L-BFGS-B starts on an independently written likelihood."""
    best = -np.inf
    for x0 in starts:
        res = optimize.minimize(lambda v: -loglik(v), x0, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-10})
        res = optimize.minimize(lambda v: -loglik(v), res.x, method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
        best = max(best, -res.fun)
    return best


def _nbd_and_zero_inflated_oracles(d: pd.DataFrame) -> tuple[float, float]:
    """Maxima of the NBD and of the zero-inflated NBD log-likelihoods, written from their definitions (Morrison 1969;
    the Pareto/NBD's two-point limit, ``L = Gamma(r+x) alpha^r / Gamma(r) [(1-pi) (alpha+T)^-(r+x) + pi alpha^-r
    1{x=0}]``), without the package's code."""
    x, T, w = distinct_rows(d, ("frequency", "T"))

    def nbd_rows(r, alpha):
        return special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)

    def nbd(v):
        return float(w @ nbd_rows(*np.exp(v[:2])))

    def zi(v):
        pi = special.expit(v[2])
        rows = np.log1p(-pi) + nbd_rows(*np.exp(v[:2]))
        rows = np.where(x == 0, np.logaddexp(rows, np.log(pi)), rows)
        return float(w @ rows)

    starts = [np.log([0.5, 10.0]), np.log([0.2, 5.0]), np.log([1.0, 20.0])]
    return _oracle_max(nbd, starts), _oracle_max(zi, [np.append(s, v) for s in starts[:2] for v in (-1.0, 1.0)])


def test_zero_inflated_fit_stops_the_no_dropout_run_then_finds_the_maximum_next_to_the_two_point_limit(monkeypatch):
    """Zero-inflated data (2,000 customers, 70 % who never come back): the full fit runs towards the no-dropout
    limit (s -> 0, beta -> inf, below its log-likelihood) and is stopped there; the two-point limit (equal to the
    best of a multistart on an independently written zero-inflated NBD likelihood) is better than the NBD maximum
    (> 1.35, the 5 % level of the boundary likelihood-ratio test). Before findings_12r (Finding B2) that limit
    was returned; the full model fitted from next to it (s = 0.05 or 0.02, beta^s = 1 - pi) reaches an interior
    maximum 0.229 above it (s = 0.0135, beta = 1.4e-39), which is kept: it equals the unbounded Nelder-Mead maximum
    of the independent Pareto/NBD likelihood (clv_likelihood_oracles.pareto_nbd_loglik), started at that point."""
    from clv_likelihood_oracles import pareto_nbd_loglik, pareto_nbd_unbounded_max

    stops = []
    watch = ParetoNBDModel._heads_to_no_dropout

    def spy(self, log_params):
        stopped = watch(self, log_params)
        stops.append(stopped)
        return stopped

    monkeypatch.setattr(ParetoNBDModel, "_heads_to_no_dropout", spy)
    d = _zero_inflated(2000, 0.7, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = ParetoNBDModel().fit(d)
    assert any(stops)  # the run towards the no-dropout limit was cut
    assert m.boundary_kind() is None
    assert not [w for w in caught if issubclass(w.category, BoundaryWarning)]
    ll_nbd, ll_zi = _nbd_and_zero_inflated_oracles(d)
    assert ll_zi > ll_nbd + 1.35
    assert m.log_likelihood_ > ll_zi + 0.2
    x, t_x, T, w = distinct_rows(d)
    p = m.params_.to_numpy(float)
    assert pareto_nbd_loglik(p, x, t_x, T, w) == pytest.approx(m.log_likelihood_, rel=1e-10)
    best, _ = pareto_nbd_unbounded_max(p, x, t_x, T, w)
    assert m.log_likelihood_ >= best - 1e-7 * abs(best)


def test_zero_inflated_fit_stops_the_run_resumed_along_the_common_dropout_ridge(monkeypatch):
    """500 customers, 30 % who never come back (seed 1): the fit reaches the common-dropout ridge (s > 10), the
    two-point limit beats the ridge's limit and the NBD limit, and the full fit resumed from the ridge goes on
    along it (s from 15 to 900 in 30 iterations before); that run is stopped once s has grown 4-fold below the
    two-point limit's log-likelihood, and the result is that limit, equal to an independent zero-inflated NBD
    multistart (1e-6 relative)."""
    stops = []
    watch = ParetoNBDModel._resumed_run_on_ridge

    def spy(self, log_params, *armed):
        stopped = watch(self, log_params, *armed)
        stops.append(stopped)
        return stopped

    monkeypatch.setattr(ParetoNBDModel, "_resumed_run_on_ridge", spy)
    d = _zero_inflated(500, 0.3, 1)
    with pytest.warns(BoundaryWarning, match="two-point dropout"):
        m = ParetoNBDModel().fit(d)
    assert any(stops) and m.boundary_kind() == "two_point_dropout"
    _, ll_zi = _nbd_and_zero_inflated_oracles(d)
    assert m.log_likelihood_ == pytest.approx(ll_zi, rel=1e-6)


def _fit_as_before(d: pd.DataFrame, monkeypatch) -> ParetoNBDModel:
    """The fit without the no-dropout watch, without the watch of a run resumed on the ridge and with the quadrature
    near part (the code before this change)."""
    from crm_analysis.clv import _hyp

    with monkeypatch.context() as mp_:
        mp_.setattr(ParetoNBDModel, "_heads_to_no_dropout", lambda self, log_params: False)
        mp_.setattr(ParetoNBDModel, "_watch_resumed_ridge_run", lambda self, stopped: None)
        mp_.setattr(_hyp, "_SERIES_P_MAX", -1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ParetoNBDModel().fit(d)


@pytest.mark.slow  # the fits as before take 1-3 s each on a quiet machine
@pytest.mark.parametrize(("n", "pi", "seed"), [(2000, 0.5, 0), (2000, 0.7, 0), (2000, 0.5, 1), (500, 0.3, 1)])
def test_zero_inflated_fits_are_not_worse_than_before(n, pi, seed, monkeypatch):
    """Against the code before the watch and the series (the same fit, run to its end with the quadrature): the
    same kind of result, and a log-likelihood not below it by more than 1e-6 relative (equal for the limits).
    (2000, 0.5, 1): the full fit ends at an interior maximum s = 0.0128, beta = 2.7e-9, 0.27 above where the
    quadrature's run stopped (s = 0.0061, beta = 0.048, not a maximum: the profile likelihood in log beta still
    rises there, by 0.1 up to log beta = -15, measured with the quadrature)."""
    d = _zero_inflated(n, pi, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = ParetoNBDModel().fit(d)
    old = _fit_as_before(d, monkeypatch)
    assert new.boundary_kind() == old.boundary_kind()
    assert new.log_likelihood_ >= old.log_likelihood_ - 1e-6 * abs(old.log_likelihood_)
    if new.boundary_kind() is not None:
        assert new.log_likelihood_ == pytest.approx(old.log_likelihood_, rel=1e-9)
        np.testing.assert_allclose(new.params_.to_numpy(float), old.params_.to_numpy(float), rtol=1e-5)
