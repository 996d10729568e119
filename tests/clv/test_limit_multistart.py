"""The limit models fitted on their own reach their maximum on few-repeat-buyer data (issue #12, findings_12d claim 2).

With 2-10 repeat buyers (``x <= 2``) the limits' likelihoods are flat in ``r, alpha`` and their maximum often sits
at a tiny ``r``; one start led GeometricNBDModel, ModifiedGeometricNBDModel and TwoPointGeometricNBDModel 0.12-8.5
below it (main at 0e85dcc), silently or with a ConvergenceWarning / HessianWarning, and the BG/NBD reported its
common-dropout limit 2.16 below that limit's maximum. The fit now also runs a multistart where the data have few
repeat buyers or the first fit did not converge (``_CommonDropoutModel._few_data_multistart``).

References, independent of the package's fitting code:

* the table's maxima: findings_12d (/tmp/n12d/lim.py and v1.py: the limits' likelihoods written from the papers
  (/tmp/sweep12c/ref3.py), maximised by L-BFGS-B and Nelder-Mead from 9 ``(r, alpha)`` bases times dropout starts,
  confirmed in mpmath at 40 digits), as constants;
* the likelihoods of tests/clv/clv_likelihood_oracles.py at the returned point;
* for the sweep, this module's own float64 likelihoods of the six limits (``_oracle_ll``: the formulas of
  ``clv_likelihood_oracles.limit_model_loglik_mp``, the gamma-Poisson factor with ``alpha^(r+x)`` taken out and
  the ExponentialNBDModel's integral by 200-node Gauss-Legendre in ``log(alpha + tau)``), maximised by scipy from a
  grid of starts (``_reference_max``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from clv_likelihood_oracles import common_dropout_loglik_rows, distinct_rows
from crm_analysis.clv import (
    BetaGeoModel,
    ExponentialNBDModel,
    GeometricNBDModel,
    ModifiedGeometricNBDModel,
    NBDModel,
    TwoPointGeometricNBDModel,
    ZeroInflatedNBDModel,
)
from crm_analysis.exceptions import ConvergenceWarning, HessianWarning, IdentificationWarning


def few_repeat_buyers(seed: int) -> pd.DataFrame:
    """findings_12d's few-repeat-buyer data (/tmp/n12d/lim.py ``make``): 1,000-3,000 customers, ``T`` integers 1-52,
    2-10 repeat buyers with ``x = 1`` (odd seeds: up to 2 with ``x = 2``), recency uniform in ``(0, T]`` (seeds divisible
    by 3: early)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1000, 3001))
    T = rng.integers(1, 53, n).astype(float)
    k = int(rng.integers(2, 11))
    idx = rng.choice(n, k, replace=False)
    x = np.zeros(n)
    tx = np.zeros(n)
    n2 = int(rng.integers(0, 3)) if seed % 2 else 0
    x[idx] = 1
    x[idx[:n2]] = 2
    tx[idx] = np.round(T[idx] * rng.uniform(0.001, 1, k) ** (1 + 2 * (seed % 3 == 0)), 3)
    tx[idx] = np.maximum(tx[idx], 1e-3)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T})


#: findings_12c's pnM 1803 (2,500 customers, 2 repeat buyers): the customers without repeat purchases by T, and the two
#: repeat buyers (frequency, recency, T)
_PNM_1803_ZEROS = {2: 26, 3: 53, 4: 57, 5: 53, 6: 51, 7: 50, 8: 46, 9: 55, 10: 42, 11: 57, 12: 48, 13: 45, 14: 50, 15: 57,
                   16: 44, 17: 45, 18: 50, 19: 55, 20: 56, 21: 61, 22: 54, 23: 48, 24: 46, 25: 48, 26: 40, 27: 33, 28: 50,
                   29: 58, 30: 56, 31: 70, 32: 25, 33: 49, 34: 47, 35: 45, 36: 51, 37: 52, 38: 57, 39: 44, 40: 43, 41: 63,
                   42: 45, 43: 50, 44: 41, 45: 40, 46: 46, 47: 57, 48: 58, 49: 64, 50: 40, 51: 53, 52: 24}
_PNM_1803_REPEAT = [(2.0, 0.3018063099408318, 7.0), (1.0, 2.0191825874940745, 9.0)]


def pnm_1803() -> pd.DataFrame:
    """findings_12c's ``sweep3.make('pnM', 1803)`` (Pareto/NBD simulation), written out."""
    T0 = np.repeat(np.array(list(_PNM_1803_ZEROS), float), list(_PNM_1803_ZEROS.values()))
    rep = np.array(_PNM_1803_REPEAT)
    return pd.DataFrame({"frequency": np.r_[np.zeros(T0.size), rep[:, 0]], "recency": np.r_[np.zeros(T0.size), rep[:, 1]],
                         "T": np.r_[T0, rep[:, 2]]})


def _fit(cls, data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cls().fit(data)
    return model, caught


def _oracle_geometric(params, data, modified: bool) -> float:
    x, t_x, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    with np.errstate(all="ignore"):
        return float(common_dropout_loglik_rows(np.log(np.asarray(params, float)), (x, t_x, T), modified=modified).sum())


# (data, model, findings_12d's maximum (mpmath, 40 digits), main's log-likelihood)
_TABLE = [
    ("lim 1805", ModifiedGeometricNBDModel, -41.857089, -41.978677),
    ("lim 1808", ModifiedGeometricNBDModel, -42.255231, -42.983578),
    ("lim 1805", GeometricNBDModel, -41.856810, -42.103359),
    ("lim 1807", GeometricNBDModel, -94.913827, -95.070914),
    ("lim 1809", GeometricNBDModel, -86.406700, -94.918033),
    ("lim 1809", TwoPointGeometricNBDModel, -93.158129, -96.424103),
    ("pnM 1803", GeometricNBDModel, -20.294449, -22.935268),
]


def _table_data(name: str) -> pd.DataFrame:
    return pnm_1803() if name == "pnM 1803" else few_repeat_buyers(int(name.split()[1]))


@pytest.mark.parametrize("name, cls, best, main", _TABLE, ids=[f"{r[0]}-{r[1].__name__}" for r in _TABLE])
def test_limit_fit_reaches_findings_maximum(name, cls, best, main):
    """Each row of findings_12d's table: the fit reaches the mpmath maximum (to its 6 printed decimals), converged,
    with no ConvergenceWarning; main stopped ``best - main`` (0.12-8.5) below it."""
    data = _table_data(name)
    model, caught = _fit(cls, data)
    assert model.log_likelihood_ > best - 2e-6, (model.params_.to_dict(), model.log_likelihood_, best, main)
    assert model.converged_
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    if cls is not TwoPointGeometricNBDModel:  # the oracle at the reported point is the reported log-likelihood
        oracle = _oracle_geometric(model.params_.to_numpy(float), data, cls is ModifiedGeometricNBDModel)
        assert oracle == pytest.approx(model.log_likelihood_, abs=1e-8)


def test_bgnbd_common_dropout_limit_at_its_maximum_pnm_1803():
    """pnM 1803: BG/NBD reported its common-dropout limit at -22.452525 (main), 2.16 below that limit's maximum
    -20.294449 (findings_12d, mpmath; r 1.341677e-4, alpha 0.05543913, p 0.6260377). The no-dropout (-24.869) and
    two-point (-24.802) limits are lower, so the BG/NBD's supremum is that point."""
    data = pnm_1803()
    model, caught = _fit(BetaGeoModel, data)
    assert model.log_likelihood_ > -20.294449 - 2e-6
    r, alpha = model.params_["r"], model.params_["alpha"]
    assert r == pytest.approx(1.341677e-4, rel=1e-3) and alpha == pytest.approx(0.05543913, rel=1e-3)
    limit = model.limit_model_
    assert isinstance(limit, GeometricNBDModel) and limit.converged_
    assert limit.params_["p"] == pytest.approx(0.6260377, rel=1e-3)
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]


# ---- sweep: every limit class on few-repeat-buyer data vs an independent multistart -------------------------------

_GL_U, _GL_W = np.polynomial.legendre.leggauss(200)


def _log_g(r, alpha, x, t):
    """log of ``Gamma(r+x) alpha^r / Gamma(r) (alpha+t)^-(r+x)``, ``alpha^(r+x)`` taken out (no cancellation at huge r):
    ``sum_{j<x} log(r+j) - x log(alpha) - (r+x) log1p(t/alpha)``."""
    rising = np.where(x >= 1, np.log(r), 0.0) + np.where(x >= 2, np.log(r + 1.0), 0.0)
    return rising - x * np.log(alpha) - (r + x) * np.log1p(t / alpha)


def _oracle_ll(kind: str, params, rows) -> float:
    """Total log-likelihood of the limit ``kind`` (clv_likelihood_oracles.limit_model_loglik_mp's formulas) in float64."""
    x, t_x, T, w = rows
    r, alpha = params[0], params[1]
    gT, gt = _log_g(r, alpha, x, T), _log_g(r, alpha, x, t_x)
    with np.errstate(all="ignore"):
        if kind == "nbd":
            ll = gT
        elif kind in ("geometric", "modified_geometric"):
            p = params[2]
            n1 = x + (kind == "modified_geometric")
            second = np.log(p) + special.xlog1py(n1 - 1, -p) + gt  # xlog1py: 0 log 0 = 0 at p = 1
            ll = np.logaddexp(special.xlog1py(n1, -p) + gT, second if kind == "modified_geometric" else np.where(x > 0, second, -np.inf))
        elif kind == "two_point":
            pi = params[2]
            ll = np.logaddexp(np.log1p(-pi) + gT, np.log(pi) + np.where(x == 0, gT, np.where(x == 1, gt, -np.inf)))
        elif kind == "zero_inflated":
            pi = params[2]
            ll = np.logaddexp(np.log1p(-pi) + gT, np.where(x == 0, np.log(pi), -np.inf))
        else:  # exponential: e^{-mu T} G(T) + mu int_{t_x}^T e^{-mu tau} G(tau) dtau, in u = log1p(tau / alpha)
            mu = params[2]
            lo, hi = np.log1p(t_x / alpha), np.log1p(T / alpha)
            u = 0.5 * (hi - lo)[:, None] * _GL_U[None, :] + 0.5 * (hi + lo)[:, None]
            tau = alpha * np.expm1(u)  # d tau = alpha e^u du
            lf = -mu * tau + _log_g(r, alpha, x[:, None], tau) + np.log(alpha) + u
            integral = special.logsumexp(lf, b=0.5 * (hi - lo)[:, None] * _GL_W[None, :], axis=1)
            ll = np.logaddexp(-mu * T + gT, np.log(mu) + integral)
    return float(np.dot(w, ll))


_KINDS = {GeometricNBDModel: "geometric", ModifiedGeometricNBDModel: "modified_geometric", NBDModel: "nbd",
          TwoPointGeometricNBDModel: "two_point", ZeroInflatedNBDModel: "zero_inflated", ExponentialNBDModel: "exponential"}


def _reference_max(kind: str, rows) -> float:
    """scipy's L-BFGS-B then Nelder-Mead on ``_oracle_ll`` in ``(log r, log alpha, logit dropout or log mu)`` from
    4 ``r`` x 2 ``alpha`` x 3 dropout starts (2-parameter NBD: 8), Nelder-Mead from the three best ends."""
    two = kind == "nbd"

    def params(z):
        r, alpha = np.exp(z[0]), np.exp(z[1])
        if two:
            return (r, alpha)
        return (r, alpha, np.exp(z[2]) if kind == "exponential" else special.expit(z[2]))

    def f(z):
        v = _oracle_ll(kind, params(z), rows)
        return -v if np.isfinite(v) else 1e300

    ends = []
    for r0 in (1e-4, 0.01, 1.0, 1e5):
        for a0 in (1e-2, 10.0):
            for d0 in ((None,) if two else (0.1, 0.5, 0.99)):
                z = [np.log(r0), np.log(a0 if r0 < 1e4 else r0 / 0.01)]
                if not two:
                    z.append(np.log(d0 * 0.05) if kind == "exponential" else special.logit(d0))
                res = optimize.minimize(f, np.array(z), method="L-BFGS-B", bounds=[(-25, 28), (-25, 35)] + ([] if two else [(-25, 25)]))
                ends.append((res.fun, res.x))
    best = -np.inf
    for _, z in sorted(ends, key=lambda e: e[0])[:3]:  # Nelder-Mead from the three best ends
        res = optimize.minimize(f, z, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 3000})
        best = max(best, -res.fun, -f(z))
    return best


def _warns_better_point(caught) -> bool:
    """A warning that says the estimates may not be the maximum (not converged, or a singular Hessian)."""
    return any(issubclass(w.category, ConvergenceWarning)
               or (issubclass(w.category, HessianWarning) and "another start may find a higher point" in str(w.message))
               for w in caught)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1811, 1812, 1814, 1823])
def test_limit_fits_at_independent_maximum_few_repeat_buyers(seed):
    """Every limit class on few-repeat-buyer data: the reported log-likelihood is the oracle's at the reported point,
    and within 1e-3 of the independent multistart's maximum, or a warning says a better point may exist. One known
    exception, allowed up to 0.01: the Poisson ridge (``r, alpha -> inf`` flagged not identified by the
    IdentificationWarning, whose likelihood is flat to ~1e-3 there, findings_12d 1801 ModifiedGeometricNBDModel 1.4e-3)."""
    data = few_repeat_buyers(seed)
    rows = distinct_rows(data)
    for cls, kind in _KINDS.items():
        model, caught = _fit(cls, data)
        p = model.params_.to_numpy(float)
        assert _oracle_ll(kind, p, rows) == pytest.approx(model.log_likelihood_, abs=1e-6)
        best = _reference_max(kind, rows)
        gap = best - model.log_likelihood_
        ridge = any(issubclass(w.category, IdentificationWarning) and "grow together" in str(w.message) for w in caught)
        assert gap <= 1e-3 or _warns_better_point(caught) or (ridge and gap <= 1e-2), (
            seed, cls.__name__, p, model.log_likelihood_, best, [str(w.message)[:200] for w in caught])


def _own31(seed: int) -> pd.DataFrame:
    """findings_n13's generator of 31-60 repeat buyers (x 1 or 2, early recency on odd seeds), copied verbatim."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1000, 3001))
    T = np.maximum(rng.uniform(0.5, 52, n).round(0), 1.0)
    k = int(rng.integers(31, 61))
    idx = rng.choice(n, k, replace=False)
    x = np.zeros(n)
    tx = np.zeros(n)
    x[idx] = rng.choice([1, 2], k, p=[0.8, 0.2])
    u = rng.uniform(0.001, 0.1, k) if seed % 2 else rng.uniform(0.01, 1, k)
    tx[idx] = np.maximum(np.round(T[idx] * u, 3), 1e-3)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T})


@pytest.mark.parametrize(("seed", "best"), [(1841, -294.018), (1845, -278.717)])
def test_modified_geometric_reaches_its_maximum_on_31_to_60_repeat_buyers(seed, best):
    """findings_n13: with 43-46 repeat buyers (above the multistart's old threshold of 30) ModifiedGeometricNBDModel
    reported -300.698 (seed 1841) and -281.637 (1845), converged and without a warning; the maxima (the newcomer's
    multistart confirmed in mpmath at 40 digits, findings_n13 claim 2) are -294.018 (on the Poisson ridge, r large)
    and -278.717."""
    m = ModifiedGeometricNBDModel().fit(_own31(seed))
    assert m.log_likelihood_ >= best - 1e-3
