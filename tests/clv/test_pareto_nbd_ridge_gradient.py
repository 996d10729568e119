"""The Pareto/NBD log-likelihood and gradient on the Poisson ridge r, alpha -> inf (findings_12u F5; issue #12).

Reference: an independent mpmath computation at 32 digits of the same per-customer log-likelihood (the integral
over the dropout time by composite Gauss-Legendre in mpmath, 20 nodes on each of up to 44 panels, in
``v = log(beta + tau)``) and its gradient in the log parameters by central differences of that value (step 1e-12,
truncation error ~1e-24; more digits for huge ``s``). ``r`` from 1 to 1e12, ``s, beta`` up to 1e13, on the ridge (``r / alpha`` fixed, ``alpha`` large) and off it.
The package's general form (:meth:`ParetoNBDModel._weighted_loglik`) is checked against the same reference off the
ridge and shown to be rounding noise on it (the reason for the scaled form).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from crm_analysis.clv import ParetoNBDModel
from crm_analysis.clv._pnbd_ridge import pnbd_ridge_loglik_rows

_DPS = 32
_CUSTOMERS = [(0, 0.0, 30.0), (3, 12.0, 40.0), (1, 5.0, 5.0), (7, 0.5, 1.0)]  # (x, t_x, T); t_x = T: no interval term
# (r, alpha, s, beta): off the ridge, moderate, the few3 ridge point (findings_12u), far out on it, and a steep case
_POINTS = [
    (1.0, 10.0, 0.5, 5.0),
    (30.0, 400.0, 2.0, 0.01),
    (1e4, 2e3, 1.2, 7.0),
    (3e6, 3.6e7, 0.16, 3.4e-9),
    (1e9, 1.3e10, 0.05, 2e-30),
    (1e12, 1.2e13, 0.5, 1e-3),
    # large s and beta, mu = s / beta moderate (issue #12, pnL 1730: s log(beta) ~ 3e14 cancelled in the v form);
    # these take the u = log1p(tau / beta) form of the s side
    (3e6, 3.6e7, 5e5, 1e6),
    (1e8, 1e10, 3e11, 5e9),
    (1e12, 2.6e13, 1e13, 1.2e13),
]


def _mp_loglik(lp: list, x: int, t_x: float, T: float) -> mp.mpf:
    r, a, s, b = (mp.exp(v) for v in lp)
    p = r + x
    A = -p * mp.log1p(T / a) - s * mp.log(b + T)
    total = mp.exp(A)
    if T > t_x:
        v0, v1 = mp.log(b + t_x), mp.log(b + T)
        n = 16
        pts = sorted(set([v0 + (v1 - v0) * k / n for k in range(n + 1)]
                         + [mp.log(b + t_x + (T - t_x) * mp.mpf(k) / n) for k in range(1, n)]
                         # geometric points near t_x for steep integrands (mu (T - t_x) ~ 1800 at s = 3e11, beta = 5e9)
                         + [mp.log(b + t_x + (T - t_x) * mp.mpf(2) ** -k) for k in range(5, 17)]))
        X, W = mp.mp.gauss_quadrature(20, "legendre")
        I = mp.mpf(0)
        for lo, hi in zip(pts[:-1], pts[1:]):
            half, mid = (hi - lo) / 2, (hi + lo) / 2
            for xi, wi in zip(X, W):
                v = mid + half * xi
                I += half * wi * mp.exp(-p * mp.log1p((mp.exp(v) - b) / a) - s * v)
        total += s * I
    # log Gamma(r+x) - log Gamma(r) - x log(alpha) + s log(beta) + log(...), alpha^(r+x) taken out (the rising
    # factorial as a sum of logs: loggamma(1e12) ~ 3e13 would leave ~1e-19 at 32 digits, 1e-7 after the difference)
    return mp.fsum(mp.log(r + k) for k in range(x)) - x * mp.log(a) + s * mp.log(b) + mp.log(total)


def _mp_reference(params: tuple, x: int, t_x: float, T: float) -> tuple[float, np.ndarray]:
    # extra digits for huge s: the central difference of values ~ s log(beta) ~ 3e14 over a step 1e-12
    with mp.workdps(_DPS + max(0, int(math.log10(params[2] * abs(math.log(params[3])) + 1.0)))):
        lp = [mp.log(mp.mpf(v)) for v in params]
        h = mp.mpf("1e-12")
        val = _mp_loglik(lp, x, t_x, T)
        grad = []
        for k in range(4):
            up = [v + (h if j == k else 0) for j, v in enumerate(lp)]
            dn = [v - (h if j == k else 0) for j, v in enumerate(lp)]
            grad.append((_mp_loglik(up, x, t_x, T) - _mp_loglik(dn, x, t_x, T)) / (2 * h))
        return float(val), np.array([float(g) for g in grad])


pytestmark = pytest.mark.slow  # ~10 s: the mpmath reference (216 values at 32 digits)


@pytest.fixture(scope="module")
def reference() -> dict:
    return {(pt, c): _mp_reference(pt, *c) for pt in _POINTS for c in _CUSTOMERS}


@pytest.mark.parametrize("point", _POINTS)
def test_scaled_form_matches_mpmath(point, reference):
    """Value and gradient of the scaled form within 1e-10 (absolute; the gradients are O(1)) of mpmath at 32 digits,
    on and off the ridge, r = 1 to 1e12 (the general form's alpha derivative is off by 0.015 at r = 3e6, by 1e9 at 1e12)."""
    x, t_x, T = (np.array(v, float) for v in zip(*_CUSTOMERS))
    ll, grad = pnbd_ridge_loglik_rows(np.array(point), x, t_x, T)
    for i, c in enumerate(_CUSTOMERS):
        ref_ll, ref_g = reference[(point, c)]
        assert ll[i] == pytest.approx(ref_ll, rel=1e-12, abs=1e-10), (point, c)
        np.testing.assert_allclose(grad[i], ref_g, rtol=1e-10, atol=1e-10, err_msg=str((point, c)))


@pytest.mark.parametrize("point", _POINTS[:3])
def test_general_form_agrees_off_the_ridge(point, reference):
    """Off the ridge the general form (the fit's likelihood below ``e^_SCALED_LOG``) agrees with the same reference:
    the scaled form is a rewriting, not another model."""
    m = ParetoNBDModel()
    assert not m._use_scaled_form(np.log(point), 40.0)
    for c in _CUSTOMERS:
        x, t_x, T = (np.array([v], float) for v in c)
        ll, g = m._weighted_loglik(np.log(point), m._prepare(x, t_x, T), np.ones(1))
        ref_ll, ref_g = reference[(point, c)]
        assert ll == pytest.approx(ref_ll, rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(g, ref_g, rtol=1e-6, atol=1e-6)  # tail derivatives by central differences


def test_fit_uses_scaled_form_on_the_ridge():
    """Above ``e^_SCALED_LOG`` in r the model's likelihood and gradient are the scaled form's (weights applied)."""
    m = ParetoNBDModel()
    lp = np.log([3e6, 3.6e7, 0.16, 3.4e-9])
    assert m._use_scaled_form(lp, 40.0)
    x, t_x, T = np.array([0.0, 3.0, 1.0]), np.array([0.0, 12.0, 5.0]), np.array([30.0, 40.0, 5.0])
    w = np.array([97.0, 1.0, 2.0])
    ll, g = m._weighted_loglik(lp, m._prepare(x, t_x, T), w)
    ll_rows, g_rows = pnbd_ridge_loglik_rows(np.exp(lp), x, t_x, T)
    assert ll == pytest.approx(float(w @ ll_rows), rel=1e-14)
    np.testing.assert_allclose(g, w @ g_rows, rtol=1e-14)
    assert m._weighted_loglik_value(lp, m._prepare(x, t_x, T), w) == pytest.approx(ll, rel=1e-14)
    assert m._use_scaled_form(np.log([3e6, 3.6e7, 0.16, 1e8]), 40.0)  # beta >= alpha: the scaled form too (issue #12)
    assert m._use_scaled_form(np.log([3e6, 10.0, 0.16, 1.0]), 40.0)  # large r, small alpha
    assert not m._use_scaled_form(np.log([2e4, 3.6e7, 2e4, 4e4]), 40.0)  # below every threshold: the general form
    assert m._use_scaled_form(np.log([0.5, 10.0, 2.3e4, 1.0]), 40.0)  # s > e^10
    assert m._use_scaled_form(np.log([0.5, 10.0, 0.5, 4.1e4]), 40.0)  # beta > 1e3 max T


def test_scaled_form_refuses_bad_input():
    with pytest.raises(ValueError, match="positive and finite"):
        pnbd_ridge_loglik_rows(np.array([1e6, 10.0, 0.0, 20.0]), np.zeros(1), np.zeros(1), np.ones(1))
    with pytest.raises(ValueError, match="integer"):
        pnbd_ridge_loglik_rows(np.array([1e6, 1e7, 1.0, 2.0]), np.array([1.5]), np.zeros(1), np.ones(1))


def test_ridge_alpha_derivative_is_finite_sum():
    """The algebra behind the alpha derivative: r - (r+x) alpha G(p+1)/G(p) = -x + (r+x) H/G with
    H = int tau (alpha+tau)^-(p+1) (beta+tau)^-q, checked in mpmath (30 digits) at a moderate point."""
    with mp.workdps(30):
        r, a, s, b, x, t = mp.mpf(2), mp.mpf(3), mp.mpf("0.7"), mp.mpf("1.5"), 2, mp.mpf(4)
        p, q = r + x, s + 1
        G = lambda k: mp.quad(lambda u: (a + u) ** -(p + k) * (b + u) ** -q, [t, t + 10, mp.inf])  # noqa: E731
        H = mp.quad(lambda u: u * (a + u) ** -(p + 1) * (b + u) ** -q, [t, t + 10, mp.inf])
        assert abs((r - p * a * G(1) / G(0)) - (-x + p * H / G(0))) < mp.mpf("1e-25")
        assert math.isfinite(float(H))
