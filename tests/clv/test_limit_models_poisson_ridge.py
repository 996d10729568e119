"""The limit models' log-likelihoods and gradients on the Poisson ridge ``r, alpha -> inf`` (issue #12, finding C).

Reference: :func:`clv_likelihood_oracles.limit_model_loglik_mp`, each model's per-customer likelihood written from
the papers' formulas (Fader, Hardie & Lee 2005 eq. 6 and Batislam et al. 2007 with the beta mixing of the dropout
removed or split into two points; the Pareto/NBD of Fader & Hardie's 2005 note with one dropout rate, its integral
over the death time by ``mpmath.quad``; Morrison 1969's zero-inflated NBD) and evaluated by mpmath at 30-40 digits,
where ``r log(alpha) - (r+x) log(alpha+t)`` does not cancel; gradients against central differences of that value
(step 1e-6 in the log parameters, truncation error ~1e-11). ``r`` from 0.3 to 1e15 with ``r / alpha`` from 0.02
to 1.5. Before the fix (:class:`crm_analysis.clv._special.GammaPoissonScale`) the ExponentialNBDModel was 4.27 too
high on 1,500 customers at ``r = 1.1e9`` (pnL 1659) and the ZeroInflatedNBDModel lost whole units at ``r = 1e15``.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_likelihood_oracles import limit_model_loglik_mp, pareto_nbd_findings_set
from crm_analysis.clv import (
    ExponentialNBDModel,
    GeometricNBDModel,
    ModifiedGeometricNBDModel,
    NBDModel,
    ParetoNBDModel,
    TwoPointGeometricNBDModel,
    ZeroInflatedNBDModel,
)
from crm_analysis.clv.nbd import _nbd_loglik, _nbd_terms, nbd_pmf

_MODELS = {
    "geometric": (GeometricNBDModel, 0.2),
    "modified_geometric": (ModifiedGeometricNBDModel, 0.2),
    "exponential": (ExponentialNBDModel, 0.05),
    "two_point": (TwoPointGeometricNBDModel, 0.3),
    "zero_inflated": (ZeroInflatedNBDModel, 0.3),
    "nbd": (NBDModel, None),
}
# (x, t_x, T): no repeat purchase short and long, one early, a few, many, a purchase just before T
_ROWS = [(0, 0.0, 2.0), (0, 0.0, 52.0), (1, 0.5, 40.0), (3, 20.0, 25.0), (25, 30.0, 31.0), (2, 51.9, 52.0)]
_R = [0.3, 50.0, 2e4, 3e4, 5e6, 1.13e9, 1e12, 1e15]  # e^10 = 22026 between 2e4 and 3e4: both sides of the switch
_RATIO = [0.02, 0.16, 1.5]  # r / alpha: purchase rate per unit time


def _package_rows(name: str, lp: np.ndarray, rows) -> tuple[np.ndarray, np.ndarray]:
    """The package's log-likelihood and gradient (log parameters) of each row alone."""
    lls, grads = [], []
    for x, t_x, T in rows:
        xa, txa, Ta = np.array([x], float), np.array([t_x], float), np.array([T], float)
        if name == "nbd":
            ll, g, _ = _nbd_loglik(lp, _nbd_terms(xa, Ta, np.ones(1)))
        else:
            m = _MODELS[name][0]()
            ll, g = m._weighted_loglik(lp, m._prepare(xa, txa, Ta), np.ones(1))
        lls.append(ll)
        grads.append(g)
    return np.array(lls), np.array(grads)


def _log_params(name: str, r: float, ratio: float, third: float | None = None) -> np.ndarray:
    third = _MODELS[name][1] if third is None or name == "nbd" else third
    vals = [r, r / ratio] + ([] if third is None else [third])
    return np.log(vals)


def _oracle(name: str, lp, x, t_x, T, dps: int = 40) -> float:
    with mp.workdps(dps):
        params = [mp.exp(mp.mpf(v)) for v in lp]  # exactly the package's parameters: exp of the same log values
        return limit_model_loglik_mp(name, params, x, t_x, T, dps=dps)


def _oracle_grad(name: str, lp, x, t_x, T, dps: int = 40, h: float = 1e-6) -> np.ndarray:
    """Central differences of the oracle in the log parameters, at mpmath precision (step ``h``: truncation error
    ~``h^2 / 6`` times the third derivative, ~1e-11 here; rounding ~``1e-dps r log(alpha) / h``, 2e-8 at r = 1e15 and
    30 digits)."""
    out = []
    with mp.workdps(dps):
        for j in range(len(lp)):
            vals = []
            for sign in (1, -1):
                q = [mp.mpf(v) for v in lp]
                q[j] += sign * mp.mpf(h)
                vals.append(limit_model_loglik_mp(name, [mp.exp(v) for v in q], x, t_x, T, dps=dps, as_mpf=True))
            out.append(float((vals[0] - vals[1]) / (2 * h)))
    return np.array(out)


@pytest.mark.parametrize("name", [n for n in _MODELS if n != "exponential"])
def test_loglik_matches_mpmath_over_r_up_to_1e15(name):
    """Every row, every ``(r, r / alpha)``: within 1e-9 relative (absolute where ``|ll| < 1``) of mpmath at 40 digits."""
    worst = 0.0
    for r in _R:
        for ratio in _RATIO:
            lp = _log_params(name, r, ratio)
            ll, _ = _package_rows(name, lp, _ROWS)
            ref = np.array([_oracle(name, lp, *row) for row in _ROWS])
            err = np.abs(ll - ref) / np.maximum(1.0, np.abs(ref))
            worst = max(worst, float(err.max()))
            assert np.all(err < 1e-9), (name, r, ratio, ll, ref)
    assert worst < 1e-9


@pytest.mark.parametrize("mu", [0.05, 234.0])
def test_exponential_nbd_loglik_matches_mpmath_over_r_up_to_1e15(mu):
    """ExponentialNBDModel, also at the pnL 1659 dropout rate mu = 234 (1 / mu far below alpha: the log(alpha + tau)
    coordinate of the interval lost 4e-8 relatively at alpha = 6.5e4); mpmath at 30 digits (mp.quad)."""
    rows = [_ROWS[i] for i in (0, 2, 3, 5)]
    for r in (0.3, 2e4, 3e4, 5e6, 1.13e9, 1e15):
        for ratio in (0.02, 1.5):
            lp = _log_params("exponential", r, ratio, mu)
            ll, _ = _package_rows("exponential", lp, rows)
            ref = np.array([_oracle("exponential", lp, *row, dps=30) for row in rows])
            err = np.abs(ll - ref) / np.maximum(1.0, np.abs(ref))
            assert np.all(err < 1e-9), (r, ratio, ll, ref)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_MODELS))
def test_gradient_matches_mpmath_differences(name):
    """Analytic gradients (log parameters) against central differences of the mpmath value, on and off the ridge.

    Tolerance 1e-7 relative to the size of the terms (``1 + |g|``): the general form's ``r - (r+x) alpha/(alpha+T)``
    alone is wrong by ~1e-16 r, i.e. by 0.1 at r = 1e15, so this fails without the scaled form."""
    rows = [_ROWS[i] for i in (1, 2, 4)]
    for r in (0.3, 3e4, 1.13e9, 1e15):
        lp = _log_params(name, r, 0.16)
        _, g = _package_rows(name, lp, rows)
        dps = 30 if name == "exponential" else 40
        ref = np.array([_oracle_grad(name, lp, *row, dps=dps) for row in rows])
        assert np.allclose(g, ref, rtol=1e-7, atol=1e-7), (name, r, g, ref)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from([n for n in _MODELS if n != "exponential"]),
    log_r=st.floats(np.log(0.05), np.log(1e15)),
    log_ratio=st.floats(np.log(0.005), np.log(5.0)),
    third=st.floats(0.001, 0.999),
    x=st.integers(0, 60),
    tx_frac=st.floats(0.0, 1.0),
    T=st.floats(0.5, 200.0),
)
def test_loglik_matches_mpmath_hypothesis(name, log_r, log_ratio, third, x, tx_frac, T):
    """Random parameters and customers (``t_x = 0`` where ``x = 0``): within 1e-9 of mpmath (relative above 1)."""
    t_x = 0.0 if x == 0 else tx_frac * T
    r = float(np.exp(log_r))
    lp = _log_params(name, r, float(np.exp(log_ratio)), third)
    ll, _ = _package_rows(name, lp, [(x, t_x, T)])
    ref = _oracle(name, lp, x, t_x, T)
    assert abs(ll[0] - ref) <= 1e-9 * max(1.0, abs(ref)), (ll[0], ref)


def _pnl_set(seed: int):
    """The newcomer's pnL data set (findings_12v; /tmp/c1659.py): n from {500, 800, 1500, 2500}, then the draws."""
    rng = np.random.default_rng(seed)
    return pareto_nbd_findings_set(rng, int(rng.choice([500, 800, 1500, 2500])), seed, (0.05, 0.3), (1e-12, 1e-3))


def _mp_total(name: str, params, d) -> float:
    g = d.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    return float(sum(n * limit_model_loglik_mp(name, params, x, t_x, T, dps=30)
                     for x, t_x, T, n in g.itertuples(index=False)))


def test_pnl_1659_common_dropout_limit_right_log_likelihood():
    """pnL 1659 (1,500 customers, 1 repeat buyer): the Pareto/NBD keeps the common-dropout limit on the Poisson ridge.

    Before: ExponentialNBDModel at r = 1.13e9 with log_likelihood_ = +0.414 (mpmath at those parameters: -3.857),
    every gap in the BoundaryWarning 4.27 off, and "stopped at a point that is not a maximum". Now the reported
    log-likelihood is within 1e-6 of mpmath (30 digits) at the reported parameters, within 1e-6 of the supremum
    along the ridge (mpmath at r, alpha 1e6 times larger), the fit converged, and the BoundaryWarning and the
    limit's IdentificationWarning both name the Poisson ridge with the same r / alpha."""
    d, _ = _pnl_set(1659)
    assert len(d) == 1500 and int((d.frequency > 0).sum()) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = ParetoNBDModel().fit(d)
    lim = m.limit_model_
    assert isinstance(lim, ExponentialNBDModel) and m.boundary_.startswith("common dropout")
    p = lim.params_.to_numpy(float)
    ref = _mp_total("exponential", p, d)
    assert lim.log_likelihood_ == pytest.approx(ref, abs=1e-6)
    assert m.log_likelihood_ == pytest.approx(ref, abs=1e-6)
    assert ref == pytest.approx(-3.8573, abs=1e-3)
    far = _mp_total("exponential", [p[0] * 1e6, p[1] * 1e6, p[2]], d)
    assert far - 1e-6 < ref <= far + 1e-6  # flat: the reported point is as good as any further along the ridge
    assert lim.converged_
    texts = {type(w.message).__name__: str(w.message) for w in caught}
    assert "not a maximum" not in " ".join(texts.values())
    ratio = f"r / alpha = {p[0] / p[1]:.4g}"
    assert "on the ridge r, alpha -> infinity with " + ratio in texts["BoundaryWarning"]
    assert f"log-likelihood {ref:.6g}" in texts["BoundaryWarning"]
    assert "Poisson limit" in texts["IdentificationWarning"]


def _mp_nb(r, alpha, x: int, t) -> mp.mpf:
    """Negative binomial ``P(X(t) = x)`` with ``r`` and ``alpha / (alpha + t)`` (Ehrenberg 1959), in mpmath."""
    return mp.exp(mp.loggamma(r + x) - mp.loggamma(r) - mp.loggamma(x + 1) + r * mp.log(alpha / (alpha + t))
                  + x * mp.log(t / (alpha + t)))


@pytest.mark.parametrize("r", [0.5, 1e3, 1e9, 1e13])
def test_exponential_nbd_probability_of_purchases_on_the_ridge(r):
    """``P(X(t) = x) = e^{-mu t} NB(x; t) + int_0^t mu e^{-mu tau} NB(x; tau) dtau`` (Fader & Hardie 2005 note with
    one dropout rate) by mpmath at 40 digits; the package had ``gammaln(r+x) - gammaln(r) + r log(alpha)`` (1e-6 off
    at r = 1e9). Also the NBD pmf the limit models' predictions share (``nbd_pmf``)."""
    alpha, mu, t = r / 0.16, 0.05, 10.0
    m = ExponentialNBDModel()
    m.params_ = pd.Series({"r": r, "alpha": alpha, "mu": mu})
    xs = np.array([0, 1, 3, 8])
    got = m.probability_of_purchases(xs, t)
    with mp.workdps(40):
        R, A, M, tt = mp.mpf(r), mp.mpf(alpha), mp.mpf(mu), mp.mpf(t)
        ref = [float(mp.exp(-M * tt) * _mp_nb(R, A, int(x), tt)
                     + mp.quad(lambda tau, x=int(x): M * mp.exp(-M * tau) * _mp_nb(R, A, x, tau), [0, tt / 10, tt]))
               for x in xs]
        ref_nb = [float(_mp_nb(R, A, int(x), tt)) for x in xs]
    assert np.allclose(got, ref, rtol=1e-9, atol=1e-13), (got, ref)
    assert np.allclose(nbd_pmf(xs, r, alpha, np.full(xs.shape, t)), ref_nb, rtol=1e-10, atol=1e-14)
