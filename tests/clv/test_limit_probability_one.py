"""The BG/NBD's limits at dropout probability 1 (findings_12z F1): data where nobody made more than one repeat purchase.

On such data (every ``x <= 1``) the GeometricNBDModel's and the TwoPointGeometricNBDModel's likelihoods are the same
function (``p <-> pi``) and rise with ``p`` for any ``r, alpha``: a customer without repeat purchase does not depend
on ``p``, one with a single repeat purchase at ``t_x < T`` contributes ``(1-p) A + p B`` with ``B > A``. Their maximum
is on the edge ``p = pi = 1`` ("everyone who buys again leaves at that first repeat purchase"), where the likelihood
is that of a censored Lomax (Pareto II) time to the first repeat purchase: survival ``(alpha / (alpha + T))^r`` for
``x = 0``, density ``r alpha^r / (alpha + t_x)^(r+1)`` for ``x = 1``. Before the fix both fits stopped short
(GeometricNBDModel -12.343 at ``p = 0.52`` on ``three_same``, sup -11.579) because the likelihood code returned
``-inf`` at ``p = 1``, and the BG/NBD's BoundaryWarning quoted the two-point limit 0.244 below its maximum, an
optimiser stop, without saying so.

Independent reference: the Lomax likelihood above written in mpmath (30 digits) and maximised over ``(r, alpha)`` by
scipy's Nelder-Mead from several starts, then by mpmath's ``findroot`` on its gradient; and the model's story (buy at
rate ``lambda``, drop out with probability ``p`` after the repeat purchase) in the papers' closed forms at ``p = 1``
(``clv_likelihood_oracles.limit_model_loglik_mp``, FHL 2005 eq. 6 with ``a, b -> inf`` and ``-> 0``).
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from crm_analysis.clv import BetaGeoModel, BoundaryWarning, TwoPointGeometricNBDModel
from crm_analysis.clv.common_dropout import GeometricNBDModel
from crm_analysis.exceptions import ConvergenceWarning

from clv_likelihood_oracles import limit_model_loglik_mp

#: findings_12z's cases: three_same, one_repeat, and sweep2.py's gen(default_rng(102)), gen(default_rng(103))
CASES = {
    "three_same": ([1, 1, 1, 0, 0, 0, 0], [2.0, 4, 6, 0, 0, 0, 0], [10.0, 12, 14, 9, 11, 13, 8]),
    "one_repeat": ([1, 0, 0, 0, 0, 0], [3.0, 0, 0, 0, 0, 0], [10.0, 8, 12, 9, 11, 7]),
    "seed102": ([0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
                [0.0, 0, 13.6, 0, 0, 0, 0, 0, 14.45, 0, 0, 0, 0, 0, 0, 0],
                [32.54, 43.72, 18.97, 37.19, 26.8, 46.89, 31.55, 51.68, 16.4, 10.14, 21.24, 41.62, 30.36, 48.44,
                 51.74, 48.35]),
    "seed103": ([0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1],
                [0.0, 0, 0, 12.59, 0, 0, 0, 0, 11.42, 6.59, 0, 0, 0, 0, 0, 0, 0, 20.08],
                [15.54, 13.55, 45.43, 45.3, 9.87, 18.59, 36.09, 37.96, 25.62, 27.63, 39.78, 25.63, 50.11, 19.54,
                 10.25, 16.9, 7.63, 48.34]),
}
#: the supremum found by findings_12z (scipy Nelder-Mead, checked in mpmath) for the first two
PUBLISHED_SUP = {"three_same": -11.578951, "one_repeat": -4.822698}


def _data(name: str) -> pd.DataFrame:
    x, t_x, T = CASES[name]
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T})


def _mp_lomax_loglik(r, alpha, d: pd.DataFrame):
    """Censored Lomax log-likelihood of the time to the first repeat purchase (module docstring), mpmath."""
    r, alpha = mp.mpf(r), mp.mpf(alpha)
    total = mp.mpf(0)
    for x, t_x, T in zip(d["frequency"], d["recency"], d["T"]):
        if x == 0:
            total += r * (mp.log(alpha) - mp.log(alpha + mp.mpf(T)))
        else:
            total += mp.log(r) + r * mp.log(alpha) - (r + 1) * mp.log(alpha + mp.mpf(t_x))
    return total


def _reference_sup(d: pd.DataFrame) -> tuple[float, float, float]:
    """``(log-likelihood, r, alpha)`` at the maximum of :func:`_mp_lomax_loglik` (Nelder-Mead, then findroot)."""
    with mp.workdps(30):
        def neg(v):
            return -float(_mp_lomax_loglik(mp.exp(v[0]), mp.exp(v[1]), d))

        best = min((optimize.minimize(neg, s, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-13,
                                                                               "maxiter": 5000})
                    for s in ([0.0, 2.0], [-1.0, 1.0], [1.0, 4.0])), key=lambda res: res.fun)

        def grad(u, v):
            return [mp.diff(lambda uu: _mp_lomax_loglik(mp.exp(uu), mp.exp(v), d), u),
                    mp.diff(lambda vv: _mp_lomax_loglik(mp.exp(u), mp.exp(vv), d), v)]

        u, v = mp.findroot(grad, (mp.mpf(best.x[0]), mp.mpf(best.x[1])))
        return float(_mp_lomax_loglik(mp.exp(u), mp.exp(v), d)), float(mp.exp(u)), float(mp.exp(v))


def _fit(cls, d):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = cls().fit(d)
    return m, caught


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("cls", [GeometricNBDModel, TwoPointGeometricNBDModel])
def test_limit_fit_reaches_the_maximum_at_probability_one(cls, name):
    """The limit fit ends at p (pi) = 1 with the reference's maximum (1e-7), converged, p held at 1 (no standard
    error, not counted in AIC), and a BoundaryWarning saying why; before: -12.343 (three_same), -4.994 (one_repeat)."""
    d = _data(name)
    ll_ref, r_ref, alpha_ref = _reference_sup(d)
    if name in PUBLISHED_SUP:
        assert ll_ref == pytest.approx(PUBLISHED_SUP[name], abs=1e-6)
    m, caught = _fit(cls, d)
    dropout = m._param_names[2]
    assert m.params_[dropout] == 1.0 and m.converged_
    assert m.log_likelihood_ == pytest.approx(ll_ref, abs=1e-7)
    assert m.log_likelihood_ <= ll_ref + 1e-9  # not above the supremum
    np.testing.assert_allclose(m.params_[["r", "alpha"]].to_numpy(float), [r_ref, alpha_ref], rtol=1e-3)
    assert np.isnan(m.standard_errors_[dropout]) and m.fit_result_.fixed == {dropout: 1.0}
    assert m.fit_result_.n_params == 2
    assert not [c for c in caught if c.category is ConvergenceWarning]
    edge = [str(c.message) for c in caught if c.category is BoundaryWarning]
    assert len(edge) == 1 and edge[0].startswith(f"{cls.__name__}: {dropout} = 1, the edge of the parameter space")


@pytest.mark.parametrize("name", ["three_same", "one_repeat"])
def test_bg_nbd_quotes_both_limits_at_their_maximum(name):
    """The BG/NBD's BoundaryWarning quoted the two-point limit 0.244 (three_same) and 0.114 (one_repeat) below its
    maximum; now the kept limit and the two-point limit are both at the reference's maximum, quoted as "the same"."""
    d = _data(name)
    ll_ref = _reference_sup(d)[0]
    m, caught = _fit(BetaGeoModel, d)
    assert m.boundary_kind() in ("common_dropout", "two_point_dropout")
    assert m.log_likelihood_ == pytest.approx(ll_ref, abs=1e-7)
    assert m.limit_model_.params_.iloc[2] == 1.0
    text = [str(c.message) for c in caught if c.category is BoundaryWarning and "Fitted that limit" in str(c.message)]
    assert len(text) == 1 and "log-likelihood" in text[0]
    assert "TwoPointGeometricNBDModel (" in text[0] and "the same" in text[0]
    assert "did not converge" not in text[0]


def test_edge_likelihood_and_gradient():
    """At p = 1 the weighted log-likelihood equals the papers' closed forms in mpmath (rel 1e-12), both classes
    agree, the gradient in (log r, log alpha) matches central differences and the one in log p a backward
    difference (p cannot exceed 1); with a customer of two repeat purchases the likelihood is -inf there."""
    d = _data("three_same")
    x, t_x, T = (d[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    w = np.linspace(0.5, 2.0, x.size)
    params = (0.8, 6.0, 1.0)
    lp = np.log(params)
    out = {}
    for cls in (GeometricNBDModel, TwoPointGeometricNBDModel):
        m = cls()
        arrays = m._prepare(x, t_x, T)
        ll, g = m._weighted_loglik(lp, arrays, w)
        out[cls] = (ll, g)
        h = 1e-6
        fd = [(m._weighted_loglik(lp + h * e, arrays, w)[0] - m._weighted_loglik(lp - h * e, arrays, w)[0]) / (2 * h)
              for e in np.eye(3)[:2]]
        e3 = np.eye(3)[2]
        fd.append((ll - m._weighted_loglik(lp - h * e3, arrays, w)[0]) / h)
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)
        x2 = np.append(x, 2.0)
        arrays2 = m._prepare(x2, np.append(t_x, 5.0), np.append(T, 10.0))
        assert m._weighted_loglik(lp, arrays2, np.append(w, 1.0))[0] == -np.inf
    np.testing.assert_allclose(out[GeometricNBDModel][0], out[TwoPointGeometricNBDModel][0], rtol=1e-13)
    np.testing.assert_allclose(out[GeometricNBDModel][1], out[TwoPointGeometricNBDModel][1], rtol=1e-12, atol=1e-14)
    for model, cls in (("geometric", GeometricNBDModel), ("two_point", TwoPointGeometricNBDModel)):
        ref = sum(wi * limit_model_loglik_mp(model, params, xi, ti, Ti) for wi, xi, ti, Ti in zip(w, x, t_x, T))
        assert out[cls][0] == pytest.approx(ref, rel=1e-12)


def test_predictions_at_probability_one():
    """At p = 1 both classes predict the same: P(alive) 0 after a repeat purchase, 1 without; P(X(t) = x) sums to 1
    and is 0 for x >= 2 (checked against the Lomax story: P(X(t) = 0) = (alpha / (alpha + t))^r); samples have
    x <= 1."""
    d = _data("three_same")
    geo, _ = _fit(GeometricNBDModel, d)
    tp, _ = _fit(TwoPointGeometricNBDModel, d)
    for m in (geo, tp):
        r, alpha = m.params_[["r", "alpha"]].to_numpy(float)
        np.testing.assert_array_equal(m.probability_alive(d), (d["frequency"] == 0).astype(float))
        pmf = m.probability_of_purchases(np.arange(5), 10.0)
        np.testing.assert_allclose(pmf, [(alpha / (alpha + 10.0)) ** r, 1 - (alpha / (alpha + 10.0)) ** r, 0, 0, 0],
                                   rtol=1e-12, atol=1e-300)
        assert m.sample(200, 30.0, seed=1)["frequency"].max() <= 1
    np.testing.assert_allclose(geo.expected_purchases(5.0, d), tp.expected_purchases(5.0, d), rtol=1e-9)
    draws = geo.sample_params(50, seed=0)  # p held at 1 in every draw (it raised: "covariance is not available")
    assert np.all(draws[:, 2] == 1.0) and np.all(np.isfinite(draws)) and draws[:, 0].std() > 0


def test_a_stalled_limit_is_flagged_where_it_is_quoted(monkeypatch):
    """findings_12z F1's second half: a limit whose optimiser stopped short is quoted in the BoundaryWarning with
    the note that its fit did not converge (forced here: a stationarity tolerance no fit meets)."""
    monkeypatch.setattr(TwoPointGeometricNBDModel, "_STATIONARY_GTOL", -1.0)
    m, caught = _fit(BetaGeoModel, _data("three_same"))
    text = [str(c.message) for c in caught if c.category is BoundaryWarning and "Fitted that limit" in str(c.message)]
    assert m.boundary_kind() == "common_dropout"
    assert len(text) == 1
    assert "the two-point-dropout limit" in text[0] and "(that fit did not converge" in text[0]
