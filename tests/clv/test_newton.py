"""The analytic Hessians of the BG/NBD and MBG/NBD log-likelihoods and the Newton fit that uses them (issue 12 pt 2).

References, independent of the code under test:

* central differences of the models' analytic gradients (themselves checked
  against the per-row oracles of ``clv_likelihood_oracles.py`` in
  ``test_beta_geo.py`` / ``test_modified_beta_geo.py``), over random data and
  parameters (hypothesis);
* the Hessian of the per-row likelihoods written from the papers (BG/NBD:
  Fader, Hardie & Lee 2005, eq. 6; MBG/NBD: Batislam, Denizel & Filiztekin
  2007) by mpmath at 25 digits (``mpmath.diff``), on a small data set;
* the fit by the quasi-Newton path (L-BFGS-B with the Newton polish, used
  before and still the fallback): the Newton fit must end at the same
  estimates and log-likelihood.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crm_analysis.clv import BetaGeoModel, ModifiedBetaGeoModel, simulate_bgnbd, simulate_mbgnbd
from crm_analysis.clv import _fitting
from crm_analysis.clv._fitting import _trust_region_step
from crm_analysis.clv._validation import collapse_rows

MODELS = [BetaGeoModel, ModifiedBetaGeoModel]


def _arrays(model, data):
    (x, t_x, T), w = collapse_rows(
        [data["frequency"].to_numpy(float), data["recency"].to_numpy(float), data["T"].to_numpy(float)],
        np.ones(len(data)),
    )
    return model._prepare(x, t_x, T), w, (x, t_x, T)


def _fd_hessian(model, lp, arrays, w, h=1e-5):
    k = lp.size
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (model._weighted_loglik(lp + e, arrays, w)[1] - model._weighted_loglik(lp - e, arrays, w)[1]) / (2 * h)
    return 0.5 * (H + H.T)


@pytest.mark.parametrize("cls", MODELS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    lp=st.lists(st.floats(-4.0, 6.0), min_size=4, max_size=4),
)
def test_hessian_matches_differences_of_the_gradient(cls, seed, lp):
    """The analytic Hessian equals central differences of the analytic gradient (relative 1e-6 of its scale)."""
    data = simulate_bgnbd(0.5, 4.0, 0.6, 2.5, n_customers=150, T=np.linspace(10, 40, 150), seed=seed)
    model = cls()
    arrays, w, _ = _arrays(model, data)
    lp = np.asarray(lp, float)
    ll, g, H = model._weighted_loglik_hessian(lp, arrays, w)
    ll0, g0 = model._weighted_loglik(lp, arrays, w)
    assert ll == ll0 and np.array_equal(g, g0)  # the same value and gradient as the fit's objective
    H_fd = _fd_hessian(model, lp, arrays, w)
    scale = np.sqrt(np.outer(np.abs(np.diag(H_fd)), np.abs(np.diag(H_fd)))) + 1e-8 * np.max(np.abs(H_fd))
    assert np.max(np.abs(H - H_fd) / scale) < 1e-5
    np.testing.assert_array_equal(H, H.T)


def _mp_loglik(cls, x, t_x, T, w):
    """The total log-likelihood written from the papers, as an mpmath function of the four log parameters."""
    rows = [(mpmath.mpf(float(a)), mpmath.mpf(float(b)), mpmath.mpf(float(c)), int(k)) for a, b, c, k in zip(x, t_x, T, w)]
    modified = cls is ModifiedBetaGeoModel

    def f(lr, lalpha, la, lb):
        r, alpha, a, b = mpmath.exp(lr), mpmath.exp(lalpha), mpmath.exp(la), mpmath.exp(lb)
        total = mpmath.mpf(0)
        lB = mpmath.log(mpmath.beta(a, b))
        for xi, txi, Ti, k in rows:
            common = mpmath.loggamma(r + xi) - mpmath.loggamma(r) + r * mpmath.log(alpha)
            if modified:  # Batislam et al. (2007)
                t1 = mpmath.beta(a, b + xi + 1) * (alpha + Ti) ** (-(r + xi))
                t2 = mpmath.beta(a + 1, b + xi) * (alpha + txi) ** (-(r + xi))
                lik = mpmath.log(t1 + t2) - lB
            else:  # Fader, Hardie & Lee (2005), eq. 6
                t1 = mpmath.beta(a, b + xi) * (alpha + Ti) ** (-(r + xi))
                t2 = mpmath.beta(a + 1, b + xi - 1) * (alpha + txi) ** (-(r + xi)) if xi > 0 else 0
                lik = mpmath.log(t1 + t2) - lB
            total += k * (common + lik)
        return total

    return f


@pytest.mark.slow
@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("params", [(0.24, 4.4, 0.79, 2.4), (0.83, 69.0, 0.0034, 6.7), (2.0, 0.5, 30.0, 400.0)])
def test_hessian_matches_mpmath(cls, params):
    """The analytic Hessian equals the mpmath Hessian (25 digits) of the papers' likelihood, relative 1e-9.

    The parameters: near the CDNOW estimates (weeks), near the UCI Online
    Retail estimates in days (a small, flat ``a``), and large ``a, b``.
    """
    data = simulate_bgnbd(0.5, 4.0, 0.6, 2.5, n_customers=12, T=np.linspace(10, 40, 12), seed=3)
    assert (data["frequency"] > 0).sum() >= 4 and (data["frequency"] == 0).any()
    model = cls()
    arrays, w, (x, t_x, T) = _arrays(model, data)
    lp = np.log(params)
    _, g, H = model._weighted_loglik_hessian(lp, arrays, w)
    f = _mp_loglik(cls, x, t_x, T, w)
    with mpmath.workdps(25):
        point = [mpmath.mpf(float(v)) for v in lp]
        H_mp = np.empty((4, 4))
        g_mp = np.empty(4)
        for i in range(4):
            order = [0] * 4
            order[i] = 1
            g_mp[i] = float(mpmath.diff(f, point, tuple(order)))
            for j in range(i, 4):
                order = [0] * 4
                order[i] += 1
                order[j] += 1
                H_mp[i, j] = H_mp[j, i] = float(mpmath.diff(f, point, tuple(order)))
    np.testing.assert_allclose(g, g_mp, rtol=1e-9, atol=1e-9 * np.max(np.abs(g_mp)))
    np.testing.assert_allclose(H, H_mp, rtol=1e-9, atol=1e-9 * np.max(np.abs(H_mp)))


@pytest.mark.parametrize(
    "cls, sim, params",
    [
        (BetaGeoModel, simulate_bgnbd, (0.25, 4.0, 0.8, 2.5)),
        (BetaGeoModel, simulate_bgnbd, (0.8, 10.0, 0.3, 6.0)),
        (ModifiedBetaGeoModel, simulate_mbgnbd, (0.5, 6.0, 0.9, 1.6)),
        (ModifiedBetaGeoModel, simulate_mbgnbd, (1.5, 3.0, 2.0, 8.0)),
    ],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_newton_fit_equals_the_quasi_newton_fit(cls, sim, params, seed, monkeypatch):
    """The Newton fit ends where the quasi-Newton path (L-BFGS-B and the Newton polish) ends, in fewer iterations."""
    data = sim(*params, n_customers=2000, T=np.linspace(20, 60, 2000), seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        newton = cls().fit(data)
        monkeypatch.setattr(_fitting.LikelihoodFitter, "_newton_fit", lambda self, *args: None)
        quasi = cls().fit(data)
    assert newton.boundary_ is None and quasi.boundary_ is None
    np.testing.assert_allclose(newton.params_, quasi.params_, rtol=1e-7)
    assert newton.log_likelihood_ == pytest.approx(quasi.log_likelihood_, rel=1e-13, abs=1e-9)
    assert newton.log_likelihood_ >= quasi.log_likelihood_ - 1e-9  # never worse
    # standard errors: the analytic Hessian (checked against mpmath above) against the forward differences
    # (step 1e-6) of the quasi-Newton path, whose error the ill-conditioned (a, b) block amplifies to ~1e-4
    np.testing.assert_allclose(newton.standard_errors_, quasi.standard_errors_, rtol=2e-3)
    assert newton.converged_ and newton.n_iter_ < quasi.n_iter_


def test_newton_gives_way_to_the_quasi_newton_path_near_the_ridge():
    """Where a Newton iterate enters the common-dropout ridge region the fit runs the quasi-Newton path as before."""
    model = BetaGeoModel()
    data = simulate_bgnbd(0.5, 4.0, 0.6, 2.5, n_customers=300, T=30.0, seed=4)
    arrays, w, _ = _arrays(model, data)
    start = np.log([0.5, 4.0, 0.6, 2.5])
    assert model._newton_fit(start, arrays, w, None) is not None
    assert model._newton_fit(start, arrays, w, lambda lp: True) is None  # every point "on the ridge"
    assert model._newton_fit(np.array([0.0, 0.0, 13.0, 0.0]), arrays, w, None) is None  # outside |log p| <= 12


@settings(max_examples=150, deadline=None)
# near the hard case (g almost orthogonal to the negative eigenvector): the step was 1e-7 short of the sphere, its
# model value 1.7e-9 above the Cauchy point's (mu = lo + nu lost nu's precision; a flaky failure of this test)
@example(g=[1e-12, 0.0, 0.0], eig=[-2.0, 0.0, 0.0], angle=0.0, delta=0.1)
@example(g=[1e-7, 0.0, 0.0], eig=[-2.0, 0.0, 0.0], angle=0.0, delta=10.0)
@given(
    g=st.lists(st.floats(-10, 10), min_size=3, max_size=3),
    eig=st.lists(st.floats(-5, 5), min_size=3, max_size=3),
    angle=st.floats(0, 3.0),
    delta=st.floats(1e-3, 10.0),
)
def test_trust_region_step_solves_the_subproblem(g, eig, angle, delta):
    """The step stays in the ball and its model value is no worse than that of any of 500 random points in the ball
    or of the Cauchy point (Nocedal & Wright 2006, section 4.1)."""
    g = np.asarray(g, float)
    c, s = np.cos(angle), np.sin(angle)
    V = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    H = V @ np.diag(eig) @ V.T
    step, newton = _trust_region_step(g, H, delta)
    assert step is not None
    if not newton:
        assert np.linalg.norm(step) <= delta * (1 + 1e-8)

    def model(p):
        return float(g @ p + 0.5 * p @ H @ p)

    m = model(step)
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(500, 3))
    pts *= (delta * rng.uniform(0, 1, size=(500, 1)) ** (1 / 3)) / np.linalg.norm(pts, axis=1, keepdims=True)
    if newton:  # the unconstrained minimiser (H positive definite)
        assert np.min(np.linalg.eigvalsh(H)) > 0
        return
    values = pts @ g + 0.5 * np.einsum("ij,jk,ik->i", pts, H, pts)
    assert m <= values.min() + 1e-9 * (1 + abs(m))
    if np.linalg.norm(g) > 0:
        cauchy = -delta * g / np.linalg.norm(g)
        assert m <= model(cauchy) + 1e-9 * (1 + abs(m))
