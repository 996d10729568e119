"""Pareto/NBD at large ``s`` and ``beta`` (issue #12: the general form's ``s log(beta)`` cancellation).

Before this change the fit's likelihood used the general form (:meth:`ParetoNBDModel._weighted_loglik`) unless
``r`` and ``alpha`` both exceeded ``e^10``; there ``s log(beta)`` against ``-s log(beta + T)`` cancels: at
``(0.5, 10, 1e13, 1e13)`` it gave -40.0 where the likelihood of the four test customers is -40.1208 (pnsside).
P(alive) and ``P(X(t) = x)`` had the same fault (3.8e-2 and 6e-5 relative at ``s = beta = 1e13``). Now large ``s``
or ``beta`` (``s > e^10`` or ``beta > 1e3 max T``) and large ``r`` take the scaled form of :mod:`._pnbd_ridge`.

References (all independent of the package's code):

* likelihood and gradient: ``pareto_nbd_loglik_grad_mp`` (clv_likelihood_oracles.py): the integral form of
  Schmittlein, Morrison & Colombo (1987) / Fader & Hardie (2005 note, eq. 3) in mpmath at 30 digits, unscaled, the
  integral over the dropout time by Gauss-Legendre panels in ``tau``, the gradient analytic under the integral;
* predictions: the mpmath functions of ``tests/clv/make_reference.py`` (the generator of the 20-digit reference
  table; here at 40 digits): P(alive) by quadrature of the likelihood's integral, ``E[Y(t) | alive]`` and
  ``E[X(t)]`` by integrating the survival, ``P(X(t) = k)`` by quadrature over the death time.
"""

from __future__ import annotations

import importlib.util
import itertools
import warnings
from pathlib import Path

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from clv_likelihood_oracles import distinct_rows, pareto_nbd_loglik, pareto_nbd_loglik_grad_mp

from crm_analysis.clv import ParetoNBDModel

# (x, t_x, T): x up to 1e3, T up to 1e3, t_x = 0 and t_x = T rows
_X, _TX, _T = (np.array(v, float) for v in zip((0, 0.0, 30.0), (1000, 900.0, 1000.0), (5, 0.0, 100.0),
                                               (3, 20.0, 20.0), (1, 0.5, 1000.0)))
_R, _ALPHA, _S, _S_OVER_BETA = (0.05, 0.5, 5.0, 2e5, 1e9), (0.1, 10.0, 1e6), (1e4, 1e6, 1e9, 1e13), (1e-3, 0.1, 1.0, 10.0)
_GRID = [(r, a, s, s / q) for r, a, s, q in itertools.product(_R, _ALPHA, _S, _S_OVER_BETA)]
# every value of each factor, beta above and below alpha, on the quick run; the rest of the 240 points slow
_QUICK = set(_GRID[::7])


def _per_row(m: ParetoNBDModel, lp: np.ndarray, rows=None) -> tuple[np.ndarray, np.ndarray]:
    rows = range(_X.size) if rows is None else rows
    out = [m._weighted_loglik(lp, m._prepare(_X[i:i + 1], _TX[i:i + 1], _T[i:i + 1]), np.ones(1)) for i in rows]
    return np.array([o[0] for o in out]), np.array([o[1] for o in out])


@pytest.mark.parametrize("point", [p if p in _QUICK else pytest.param(p, marks=pytest.mark.slow) for p in _GRID])
def test_loglik_and_gradient_match_mpmath(point):
    """Per customer, the fit's likelihood within 1e-9 relative of mpmath (30 digits) on the grid r in {0.05 .. 1e9},
    alpha in {0.1, 10, 1e6}, s in {1e4 .. 1e13}, s / beta in {1e-3 .. 10}; the gradient in the log parameters within
    1e-9 of max(1, |reference|) where the scaled form is used, 1e-8 on the general form (s = 1e4: its tail
    derivatives' remainders are central differences; 1e-4 before issue #12's gradient fix). Measured: 4.5e-15
    (relative to max(1, |ll|)) and 3.6e-12 on the scaled form; before, the general form was 0.1 off in
    the value at s = 1e13 (and 3.8e-8 at r = 1e9, alpha = 10, whose gradient was off by 1.5e3)."""
    m = ParetoNBDModel()
    lp = np.log(point)
    ll, g = _per_row(m, lp)
    ref_ll, ref_g = pareto_nbd_loglik_grad_mp(point, _X, _TX, _T, dps=30)
    scaled = m._use_scaled_form(lp, float(_T.max()))
    assert scaled == (point[0] > np.exp(10.0) or point[2] > np.exp(10.0) or point[3] > 1e3 * _T.max())
    assert ll.sum() == pytest.approx(ref_ll.sum(), rel=1e-9)
    # per row also absolutely: the (0, 0, 30) row's log-likelihood is -5e-9 at some points
    np.testing.assert_allclose(ll, ref_ll, rtol=1e-9, atol=1e-12 if scaled else 1e-10)
    tol = 1e-9 if scaled else 1e-8
    assert np.all(np.abs(g - ref_g) <= tol * np.maximum(1.0, np.abs(ref_g))), (g, ref_g)


def test_general_form_is_kept_below_the_thresholds():
    """Below every threshold the general form is used (CDNOW's point and a moderate large s), and across the s and
    beta thresholds the two forms agree: the dispatch is a choice of arithmetic, not of model."""
    m = ParetoNBDModel()
    assert not m._use_scaled_form(np.log([0.553, 10.578, 0.606, 11.669]), 77.86)
    assert not m._use_scaled_form(np.log([0.5, 10.0, 2.2e4, 1e6]), 1e3)
    for below, above in (((0.5, 10.0, 2.2e4, 2e3), (0.5, 10.0, 2.21e4, 2e3)), ((0.5, 10.0, 50.0, 1e6), (0.5, 10.0, 50.0, 1.01e6))):
        assert not m._use_scaled_form(np.log(below), 1e3) and m._use_scaled_form(np.log(above), 1e3)
        lo, hi = _per_row(m, np.log(below))[0], _per_row(m, np.log(above))[0]
        ref_lo, ref_hi = (pareto_nbd_loglik_grad_mp(p, _X, _TX, _T, dps=30)[0] for p in (below, above))
        np.testing.assert_allclose(lo, ref_lo, rtol=1e-10, atol=1e-10)  # the general form: 6e-12 at ll = -0.0045
        np.testing.assert_allclose(hi, ref_hi, rtol=1e-10, atol=1e-12)


# the general form below the switch (s <= e^10, beta <= 1e3 T): r from 0.01 to 1e4, alpha 0.1 to 1e4, s 0.01 to 2e4,
# beta 1e-3 to 1.5e4 (rows whose own T puts beta above 1e3 T take the scaled form and are left out)
_GEN_GRID = list(itertools.product((0.01, 2.0, 1e3, 1e4), (0.1, 5.0, 1e4), (0.01, 1.0, 1e3, 2e4), (1e-3, 30.0, 1.5e4)))
_GEN_QUICK = set(_GEN_GRID[::9])


@pytest.mark.parametrize("point", [p if p in _GEN_QUICK else pytest.param(p, marks=pytest.mark.slow) for p in _GEN_GRID])
def test_general_form_gradient_matches_mpmath(point):
    """Issue #12 (findings_12b): on the general form the gradient's tail derivatives were central differences of the
    whole log G, whose explicit terms are ~(r + x + s) log(max(alpha, beta) + t) (1e5 at s = 2e4): up to 6.5e-6 of
    max(1, |reference|) on this grid (and 8e-5 relative in d/d log r on findings_12b's data), and the alpha and beta
    derivatives took exp(log G(p+1) - log G(p)) (2e-6). Now (``_hyp.log_pnbd_tail_grad``) the explicit terms are
    differentiated analytically and only bounded remainders by differences: per customer within 1e-8 of max(1,
    |reference|) (measured 2.5e-9 on a 5,040-point grid). Reference: ``pareto_nbd_loglik_grad_mp`` at 30 digits
    (integral form, analytic gradient under the integral; independent of the package)."""
    m = ParetoNBDModel()
    lp = np.log(point)
    rows = [i for i in range(_X.size) if not m._use_scaled_form(lp, float(_T[i]))]
    assert len(rows) >= 4  # the general form (all five rows but, at beta = 1.5e4, the T = 20 one)
    ll, g = _per_row(m, lp, rows)
    ref_ll, ref_g = pareto_nbd_loglik_grad_mp(point, _X[rows], _TX[rows], _T[rows], dps=30)
    np.testing.assert_allclose(ll, ref_ll, rtol=1e-10, atol=1e-10)
    assert np.all(np.abs(g - ref_g) <= 1e-8 * np.maximum(1.0, np.abs(ref_g))), (g, ref_g)


def test_general_form_gradient_findings_12b():
    """findings_12b's six weighted customers just below s = e^10: the gradient in the log parameters within 1e-9 of
    max(1, |reference|) (``pareto_nbd_loglik_grad_mp``, 30 digits, weighted sum). Before: d/d log r 0.0986977 at
    (2, 5, 2e4, 1e3) where the reference is 0.0987055 (findings_12b's own mpmath differences agree), d/d log r
    6.1131672 for 6.1131595 at (0.3, 5, 2e4, 1e4)."""
    x, t_x, T = (np.array(v, float) for v in zip((0, 0, 30), (1, 5, 30), (3, 28, 30), (10, 2, 40), (50, 39.9, 40), (2, 30, 30)))
    w = np.array([3.0, 1.0, 2.0, 1.0, 1.0, 1.0])
    m = ParetoNBDModel()
    prepared = m._prepare(x, t_x, T)
    for point in ((2.0, 5.0, 2e4, 1e3), (0.3, 5.0, 2e4, 1e4), (0.3, 5.0, 2e4, 1e3)):
        lp = np.log(point)
        assert not m._use_scaled_form(lp, 40.0)
        ll, g = m._weighted_loglik(lp, prepared, w)
        ref_ll, ref_g = pareto_nbd_loglik_grad_mp(point, x, t_x, T, dps=30)
        assert ll == pytest.approx(w @ ref_ll, rel=1e-11)  # the general form's s log(beta) terms: 1e-12 measured
        assert np.all(np.abs(g - w @ ref_g) <= 1e-9 * np.maximum(1.0, np.abs(w @ ref_g))), (g, w @ ref_g)


@pytest.mark.parametrize("kind", ["s", "beta"])
def test_value_and_gradient_continuous_across_the_switch(kind):
    """At the switch to the scaled form (s = e^10 exactly: general form; the next float: scaled; the same for beta =
    1e3 max T) the weighted value agrees within 1e-12 and the gradient within 1e-9 of max(1, |g|) (measured 7.9e-13
    and 8.2e-11 on 252 such pairs; before the gradient fix 3e-6, at r = alpha = 1e4, beta = 9e5). The two forms are
    independent computations of the same function, so this checks each against the other."""
    m = ParetoNBDModel()
    w = np.arange(1.0, _X.size + 1.0)
    prepared = m._prepare(_X, _TX, _T)
    b_max = 1e3 * float(_T.max())
    l_b = float(np.log(b_max))  # the largest log beta whose beta is not above the switch
    while np.exp(l_b) > b_max:
        l_b = np.nextafter(l_b, -np.inf)
    while np.exp(np.nextafter(l_b, np.inf)) <= b_max:
        l_b = np.nextafter(l_b, np.inf)
    for r, alpha, other in itertools.product((0.3, 1e4), (5.0, 1e4), (30.0, 9e5) if kind == "s" else (1.0, 2e4)):
        k, at = (2, 10.0) if kind == "s" else (3, l_b)
        lo = np.log([r, alpha, other, other])
        lo[k] = at
        hi = lo.copy()
        hi[k] = np.nextafter(at, np.inf)
        assert not m._use_scaled_form(lo, float(_T.max())) and m._use_scaled_form(hi, float(_T.max()))
        (l1, g1), (l2, g2) = m._weighted_loglik(lo, prepared, w), m._weighted_loglik(hi, prepared, w)
        assert abs(l1 - l2) <= 1e-12 * max(1.0, abs(l2))
        assert np.all(np.abs(g1 - g2) <= 1e-9 * np.maximum(1.0, np.abs(g2))), (g1, g2)


def test_float_oracle_is_right_at_large_s():
    """The double-precision oracle ``pareto_nbd_loglik`` (``beta^s`` taken out in ``log1p(tau/beta)``, panels toward
    ``t_x``) agrees with mpmath at large s (it was 0.1 off at (0.5, 10, 1e13, 1e13): -40.0 against -40.1208)."""
    for point in ((0.5, 10.0, 1e13, 1e13), (0.5, 10.0, 1e9, 1e10), (5.0, 0.1, 1e6, 1e5), (0.05, 1e6, 1e13, 1e16)):
        ref = pareto_nbd_loglik_grad_mp(point, _X, _TX, _T, dps=30)[0].sum()
        assert pareto_nbd_loglik(point, _X, _TX, _T) == pytest.approx(ref, rel=1e-11)


def _make_reference():
    spec = importlib.util.spec_from_file_location("make_reference", Path(__file__).resolve().parent / "make_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_PRED_POINTS = [(0.5, 10.0, 1e6, 1e7), (0.5, 10.0, 1e13, 1e13), (2e5, 1e6, 1e13, 1e13), (0.5, 0.1, 1e13, 1e15),
                (5.0, 1e6, 1e9, 1e8), (1e9, 3e9, 2.0, 0.5)]
_PRED_CUSTOMERS = pd.DataFrame({"frequency": [0, 3, 7, 50], "recency": [0.0, 12.0, 0.5, 100.0], "T": [30.0, 40.0, 1.0, 1000.0]})


@pytest.mark.slow  # ~15 s: mpmath quadratures at 40 digits
@pytest.mark.parametrize("point", _PRED_POINTS)
def test_predictions_match_mpmath(point):
    """probability_alive, expected_purchases, expected_purchases_new and probability_of_purchases within 1e-12
    relative of make_reference.py's mpmath functions at 40 digits, s and beta up to 1e13 - 1e15 (s / beta from 0.01
    to 10, beta >> s), and at a large r (1e9, the r side scaled). Before: P(alive) 3.8e-2 and P(X = k) 6e-5 off at
    (0.5, 10, 1e13, 1e13), 2.9e-3 at (0.5, 0.1, 1e13, 1e15); at (1e9, 3e9, 2, 0.5) 2.3e-6 and 7.6e-7."""
    mr = _make_reference()
    m = ParetoNBDModel.from_params(list(point))
    c = _PRED_CUSTOMERS
    with mp.workdps(40):
        pa = [mr.pnbd_p_alive(*point, x, tx, T) for x, tx, T in c.itertuples(index=False)]
        ep = [pa[i] * (mp.mpf(point[0]) + x) / (point[1] + T) * mr.pnbd_survival_integral(point[2], point[3], T, 10.0)
              for i, (x, _, T) in enumerate(c.itertuples(index=False))]
        epn = [mp.mpf(point[0]) / point[1] * mr.pnbd_survival_integral(point[2], point[3], 0, t) for t in (1.0, 10.0)]
        pp = [mr.pnbd_pmf(*point, 10.0, k) for k in (0, 1, 5)]
    tiny = 1e-250  # P(alive) of the last customer underflows in places (1e-87 .. 0)
    np.testing.assert_allclose(m.probability_alive(c), [float(v) for v in pa], rtol=1e-12, atol=tiny)
    np.testing.assert_allclose(m.expected_purchases(10.0, c), [float(v) for v in ep], rtol=1e-12, atol=tiny)
    np.testing.assert_allclose(m.expected_purchases_new(np.array([1.0, 10.0])), [float(v) for v in epn], rtol=1e-12)
    np.testing.assert_allclose(m.probability_of_purchases(np.array([0, 1, 5]), np.full(3, 10.0)), [float(v) for v in pp],
                               rtol=1e-12)


def _common_dropout_data(seed: int, n: int = 300, mu: float = 0.05) -> pd.DataFrame:
    """Every customer the same exponential dropout rate ``mu`` (a point mass: the Pareto/NBD maximum runs to ``s,
    beta -> inf`` with ``s / beta = mu``), purchases gamma-Poisson (r = 2, alpha = 4), T U(20, 52) weeks."""
    rng = np.random.default_rng(seed)
    T = np.round(rng.uniform(20, 52, n))
    lam = rng.gamma(2.0, 1 / 4.0, n)
    end = np.minimum(rng.exponential(1 / mu, n), T)
    x = rng.poisson(lam * end)
    tx = np.array([np.max(rng.uniform(0, e, k)) if k else 0.0 for e, k in zip(end, x)])
    return pd.DataFrame({"frequency": x.astype(float), "recency": np.round(tx, 2), "T": T})


def test_common_dropout_fit_and_the_likelihood_along_its_ridge():
    """A fit whose maximum runs to large s (common-dropout data): it reports the common-dropout limit; the Pareto/NBD
    likelihood at (r, alpha, s, s / mu) of the limit's parameters tends to the reported log_likelihood_ as s grows
    (difference O(n (mu T)^2 / s)): within 1e-9 relative at s = 1e9 and 1e13 and equal to mpmath (30 digits) on
    distinct rows there. Before, at s = 1e13 the general form was off by ~0.03 per customer."""
    d = _common_dropout_data(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ParetoNBDModel().fit(d)
    assert m.boundary_kind() == "common_dropout"
    lim = m.limit_model_.params_
    r, alpha, mu = float(lim["r"]), float(lim["alpha"]), float(lim["mu"])
    x, t_x, T, w = distinct_rows(d)
    prepared = m._prepare(x, t_x, T)
    for s in (1e9, 1e13):
        lp = np.log([r, alpha, s, s / mu])
        ll = m._weighted_loglik(lp, prepared, w)[0]
        assert ll == pytest.approx(m.log_likelihood_, rel=1e-9)
        assert m._weighted_loglik_value(lp, prepared, w) == pytest.approx(ll, rel=1e-13)
        pick = np.random.default_rng(0).choice(x.size, 12, replace=False)
        rows = m._loglik(lp, m._prepare(x[pick], t_x[pick], T[pick]))[0]
        ref = pareto_nbd_loglik_grad_mp((r, alpha, s, s / mu), x[pick], t_x[pick], T[pick], dps=30)[0]
        np.testing.assert_allclose(rows, ref, rtol=1e-10)


@pytest.mark.parametrize("point", [(0.5, 1e6, 1e6, 1e6), (0.5, 1e6, 1e6, 1e6 * (1 + 1e-12)), (0.5, 1e6, 1e6, 1e6 * (1 - 1e-12)),
                                   (1e12, 1e12, 1e13, 1e13), (0.5, 1e-3, 3e4, 1e-2), (1e13, 1e-13, 1e13, 1e13)])
def test_scaled_form_at_the_coordinate_branches_and_extreme_rates(point):
    """The panel coordinate's three branches (beta = alpha, just above, just below) and extreme purchase rates
    (r / alpha up to 1e26, reached by a fit's profile: the bisection of the quadrature's cut could not resolve the
    integrand's width there and asked for 2^34 panels): value and gradient within 1e-12 of max(1, |mpmath|)."""
    from crm_analysis.clv._pnbd_ridge import pnbd_ridge_loglik_rows

    ll, g = pnbd_ridge_loglik_rows(np.array(point), _X, _TX, _T)
    ref_ll, ref_g = pareto_nbd_loglik_grad_mp(point, _X, _TX, _T, dps=40)
    assert np.all(np.abs(ll - ref_ll) <= 1e-13 * np.maximum(1.0, np.abs(ref_ll)))
    assert np.all(np.abs(g - ref_g) <= 1e-12 * np.maximum(1.0, np.abs(ref_g))), (g, ref_g)


def test_probability_of_purchases_at_an_extreme_rate():
    """r = s = beta = 1e13, alpha = 1e-13: purchases at rate lambda = 1e26 (gamma CV 3e-7), dropout at rate mu = 1
    (CV 3e-7); whoever has made exactly x purchases by t died while at x: P(X(t) = x) = int_0^t mu e^(-mu tau)
    Poisson(x; lambda tau) dtau = mu / lambda (1 + O(1e-6)) for x >= 1. Before: 9.4e-27 (the w form), and the first
    version of the scaled died term ran out of memory (its cut's bisection)."""
    m = ParetoNBDModel.from_params([1e13, 1e-13, 1e13, 1e13])
    p = m.probability_of_purchases(np.array([1, 5, 1000]), np.array([1.0, 10.0, 100.0]))
    np.testing.assert_allclose(p, 1e-26, rtol=1e-5)
