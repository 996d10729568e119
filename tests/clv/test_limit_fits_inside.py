"""The limits fitted inside the full fits reach the limit model's own maximum (issue #12, findings_12v F4).

The BG/NBD, MBG/NBD and Pareto/NBD fits fit their two-point-dropout and common-dropout limits from the full fit's
point (``_fit_limit_model``). Where that point leads to a lower maximum of the limit's likelihood than the limit's
own starts, the limit inside the fit was below ``ZeroInflatedNBDModel().fit(d)`` etc., and the warnings quoted the
wrong gaps. Data: findings_12v's ``pnL`` generator (``pareto_nbd_findings_set``, regenerated from its seeds).
References: an independent zero-inflated NBD log-likelihood written here from its formula with scipy's ``gammaln``
(not the package's code), maximised by Nelder-Mead from a grid of starts; and its Poisson limit ``r, alpha -> inf``
(the zero-inflated Poisson), which bounds the ridge where the F4 limit ends.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from clv_likelihood_oracles import pareto_nbd_findings_set
from scipy import optimize, special

from crm_analysis.clv import ModifiedBetaGeoModel, ParetoNBDModel, ZeroInflatedNBDModel


def _pnl(seed: int):
    rng = np.random.default_rng(seed)
    return pareto_nbd_findings_set(rng, int(rng.choice([500, 800, 1500, 2500])), seed, (0.05, 0.3), (1e-12, 1e-3))[0]


def _zinbd_loglik(r: float, alpha: float, pi: float, x: np.ndarray, T: np.ndarray) -> float:
    """NBD with an extra share ``pi`` of certain dropouts at once (Morrison 1969), from the formula:
    ``Gamma(r+x) alpha^r / Gamma(r) [(1-pi) (alpha+T)^-(r+x) + pi alpha^-r [x = 0]]``."""
    log_nb = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)
    return float(np.sum(np.where(x == 0, np.logaddexp(np.log1p(-pi) + log_nb, np.log(pi)), np.log1p(-pi) + log_nb)))


def _zip_max(x: np.ndarray, T: np.ndarray) -> float:
    """Maximum of the zero-inflated Poisson ``(1-pi) lambda^x e^(-lambda T) + pi [x = 0]`` (the ridge r, alpha -> inf)."""
    def nll(th: np.ndarray) -> float:
        lam, pi = np.exp(th[0]), special.expit(th[1])
        la = np.log1p(-pi) + x * np.log(lam) - lam * T
        return -float(np.sum(np.where(x == 0, np.logaddexp(la, np.log(pi)), la)))
    rate = max(x.sum() / T.sum(), 1e-6)
    return -min(optimize.minimize(nll, [np.log(rate * f), special.logit(p)], method="Nelder-Mead",
                                  options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000}).fun
                for f in (0.5, 1.0, 3.0) for p in (0.1, 0.5, 0.9, 0.99))


def _zinbd_many_start_max(x: np.ndarray, T: np.ndarray) -> float:
    """Maximum of :func:`_zinbd_loglik` from a grid of 27 starts (r up to 30: below the Poisson ridge)."""
    def nll(th: np.ndarray) -> float:
        r, alpha, pi = np.exp(th[0]), np.exp(th[1]), special.expit(th[2])
        v = _zinbd_loglik(r, alpha, pi, x, T)
        return -v if np.isfinite(v) else 1e300
    rate = max(x.sum() / T.sum(), 1e-6)
    best = -np.inf
    for r in (0.01, 0.5, 30.0):
        for f in (0.3, 1.0, 3.0):
            for p in (0.1, 0.5, 0.95):
                res = optimize.minimize(nll, [np.log(r), np.log(r / (rate * f)), special.logit(p)], method="Nelder-Mead",
                                        options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 4000})
                best = max(best, -res.fun)
    return best


def _fit(model_cls, d):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = model_cls().fit(d)
    return m, " ".join(str(w.message) for w in caught)


def test_f4_two_point_limit_inside_the_pareto_nbd_fit_reaches_its_own_maximum():
    """findings_12v F4 (pnL 1503, 500 customers, 2 repeat buyers): the two-point limit fitted inside the Pareto/NBD
    fit stopped at r = 0.0089, pi = 0.52 (-27.9157), from the NBD limit's r = 0.0043; its own fit and the maximum of
    the independent zero-inflated Poisson (the ridge r, alpha -> inf where that maximum lies) are -27.5413."""
    d = _pnl(1503)
    x, T = d["frequency"].to_numpy(float), d["T"].to_numpy(float)
    m, text = _fit(ParetoNBDModel, d)
    inner = m._two_point_fit
    own, _ = _fit(ZeroInflatedNBDModel, d)
    ridge = _zip_max(x, T)
    assert ridge == pytest.approx(-27.5413, abs=1e-4)
    assert inner.log_likelihood_ >= own.log_likelihood_ - 1e-9
    assert inner.log_likelihood_ == pytest.approx(ridge, abs=1e-4)  # not the local maximum at -27.9157
    # the decision stands (NBD limit, the two-point limit not significantly better), with the right gap in words
    assert m.boundary_kind() == "no_dropout"
    gap = inner.log_likelihood_ - m.log_likelihood_
    assert gap == pytest.approx(ridge - (-27.91706), abs=1e-3)
    assert f"({inner.log_likelihood_:.6g}, {gap:.3g} above this limit)" in text
    assert f"likelihood-ratio statistic against the NBD limit {2 * gap:.3g}" in text


@pytest.mark.parametrize("model_cls", [ModifiedBetaGeoModel, ParetoNBDModel])
def test_two_point_limit_inside_from_a_poisson_ridge_fit(model_cls):
    """pnL 1704 (500 customers, 36 repeat buyers): the full fits end on the Poisson ridge (r ~ 1e7); from there the
    two-point limit stayed on the ridge at -488.696, below even the NBD limit (-487.801) that it nests. Its maximum
    (independent zero-inflated NBD likelihood, 27 Nelder-Mead starts) is -484.5249 at r = 2.09, pi = 0.90."""
    d = _pnl(1704)
    x, T = d["frequency"].to_numpy(float), d["T"].to_numpy(float)
    m, _ = _fit(model_cls, d)
    inner = m._two_point_fit
    reference = _zinbd_many_start_max(x, T)
    assert reference == pytest.approx(-484.5249, abs=1e-3)
    assert inner.log_likelihood_ == pytest.approx(reference, abs=1e-5)
    r, alpha, pi = inner.params_.to_numpy(float)
    assert _zinbd_loglik(r, alpha, pi, x, T) == pytest.approx(inner.log_likelihood_, abs=1e-8)
    assert inner.log_likelihood_ >= _fit(ZeroInflatedNBDModel, d)[0].log_likelihood_ - 1e-9
