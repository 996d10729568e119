"""P(alive) and conditional expected purchases of the Pareto/NBD and the common-dropout models where P(alive) is tiny
(issue #12; the BG/NBD and MBG/NBD cases are in ``test_beta_geo_long_horizon.py``).

Requirement: relative error <= 1e-6 wherever the value is above 1e-300; never NaN, inf or a silent 0.

* ``E[Y(t) | x, t_x, T] = P(alive) E[Y(t) | alive]`` with ``P(alive) = 3e-309`` (below float's normal range: the
  logistic ``1 / (1 + e^d)`` is 0 there) and ``E[Y(t) | alive] ~ 1e9`` (1e4 repeat purchases in 0.01-0.05 time
  units, t = 1e4): the product is 3e-300 to 1.5e-299, and 0 was returned for every model.
* The two-point models' P(alive) was ``1 - P(certain dropout)``: 0 (and E[Y] 0) wherever P(alive) is below ~1e-16
  (e.g. 1.1e-177 below).

References: mpmath at 50 digits, from the papers' formulas, on the exact binary values of the inputs:
Pareto/NBD (Fader & Hardie 2005 note, eq. 18 and 21; the died term ``int_tx^T s beta^s (beta+tau)^-(s+1)
(alpha+tau)^-(r+x) dtau`` by quadrature), the BG/NBD and MBG/NBD limits ``a, b -> inf`` (Fader, Hardie & Lee 2005
eq. 10 / Batislam et al. 2007), the exponential-dropout limit (``I`` by quadrature), the two-point mixtures
(posterior of the certain-dropout type, ``pi B / ((1-pi) A + pi B)``). The customers' ``t_x`` (or ``T``) were solved
(mpmath, brentq) for P(alive) = 3e-309 (script /tmp/lim14/tiny.py of branch lim14).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from crm_analysis.clv import (
    ExponentialNBDModel, GeometricNBDModel, ModifiedGeometricNBDModel, ParetoNBDModel, TwoPointGeometricNBDModel,
    ZeroInflatedNBDModel,
)

_F = mp.mpf  # exact binary value of a float


def _quad(f, lo, hi, rate):
    """int_lo^hi f, split at multiples of the integrand's decay length 1 / rate from lo."""
    pts = [lo] + [lo + c / rate for c in (0.1, 0.3, 1, 3, 10, 30, 100, 1e3, 1e4, 1e5) if lo + c / rate < hi] + [hi]
    return mp.quad(f, pts)


def _mp_reference(cls, params, x, t_x, T, t):
    """(P(alive), E[Y(t) | alive]) in mpmath."""
    P = [_F(v) for v in params]
    x, t_x, T, t = _F(x), _F(t_x), _F(T), _F(t)
    if cls is ParetoNBDModel:
        r, al, s, be = P
        # died / alive = int_tx^T s/(beta+tau) ((beta+T)/(beta+tau))^s ((alpha+T)/(alpha+tau))^(r+x) dtau
        g = lambda tau: s / (be + tau) * mp.power((be + T) / (be + tau), s) * mp.power((al + T) / (al + tau), r + x)
        died = _quad(g, t_x, T, s / (be + t_x) + (r + x) / (al + t_x))
        if_alive = (r + x) * (be + T) / ((al + T) * (s - 1)) * (1 - mp.power((be + T) / (be + T + t), s - 1))
        return 1 / (1 + died), if_alive
    if cls in (GeometricNBDModel, ModifiedGeometricNBDModel):
        r, al, p = P
        pa = 1 / (1 + p / (1 - p) * mp.power((al + T) / (al + t_x), r + x))
        return pa, (1 - mp.power((al + T) / (al + T + p * t), r + x)) / p
    if cls is ExponentialNBDModel:
        r, al, mu = P
        k = r + x
        alive = mp.exp(-mu * T) * mp.power(al + T, -k)
        I = _quad(lambda tau: mp.exp(-mu * tau) * mp.power(al + tau, -k), t_x, T, mu + k / (al + t_x))
        return alive / (alive + mu * I), k / (al + T) * (1 - mp.exp(-mu * t)) / mu
    r, al, pi = P
    A = mp.power(al + T, -(r + x))
    # certain dropout: at once (ZINBD, x = 0 only: B = alpha^-r) or at the first repeat purchase (x = 1: at t_x)
    B = mp.power(al, -r) if cls is ZeroInflatedNBDModel else mp.power(al + t_x, -(r + x))
    return (1 - pi) * A / ((1 - pi) * A + pi * B), (r + x) / (al + T) * t


# model, params, x, t_x, T, t: P(alive) = 3e-309 (mpmath), E[Y(t) | alive] 1e9-5e9
TINY = [
    (GeometricNBDModel, [1000.0, 1e-3, 1e-9], 10000.0, 0.009292644406863705, 0.01, 1e4),
    (ModifiedGeometricNBDModel, [1000.0, 1e-3, 1e-9], 10000.0, 0.009292644406863705, 0.01, 1e4),
    (ExponentialNBDModel, [1000.0, 1e-3, 1e-6], 10000.0, 0.04669684514597267, 0.05, 1e4),
    (ParetoNBDModel, [1000.0, 1e-3, 0.5, 1e3], 10000.0, 0.04672380203332586, 0.05, 1e4),
    (TwoPointGeometricNBDModel, [1000.0, 1e-3, 0.5], 1.0, 0.0009671855573516134, 0.003, 1e4),
    (ZeroInflatedNBDModel, [1000.0, 1e-3, 0.5], 0.0, 0.0, 0.0010348053870994738, 1e4),
]


@pytest.mark.parametrize("cls, params, x, t_x, T, t", TINY, ids=[c[0].__name__ for c in TINY])
def test_expected_purchases_with_p_alive_below_float_range(cls, params, x, t_x, T, t):
    m = cls.from_params(params)
    cust = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T]})
    with mp.workdps(50):
        pa, if_alive = _mp_reference(cls, params, x, t_x, T, t)
        want = float(pa * if_alive)
    assert float(pa) == pytest.approx(3e-309, rel=1e-6, abs=0)  # the case is what it says
    assert want > 1e-300
    got = m.expected_purchases(t, cust)
    grid = m.expected_purchases_grid([1.0, t], cust)
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(grid))
    assert got[0] == pytest.approx(want, rel=1e-6, abs=0)
    assert grid[0, 1] == pytest.approx(want, rel=1e-6, abs=0)
    # P(alive) itself (3e-309) is below the 1e-300 of the requirement: a subnormal or 0, never NaN or negative
    p = m.probability_alive(cust)[0]
    assert 0.0 <= p <= 1e-300


# P(alive) far below 1e-16 but a normal number: 1 - P(certain dropout) returned 0 (parameters from a random grid)
CANCEL = [
    (TwoPointGeometricNBDModel, [98.51743606772376, 167.44557313096232, 0.23063695631073144], 1.0, 0.001, 10000.0, 4.59),
    (TwoPointGeometricNBDModel, [8.199654931124787, 0.001830846532415612, 0.9999998075635094], 1.0, 0.01799521065755676,
     17.99521065755676, 4129.4),
    (ZeroInflatedNBDModel, [22.738211396057917, 0.0012630393664550775, 0.0006717529927091549], 0.0, 0.0,
     6.256875696996842, 7.47),
    (ZeroInflatedNBDModel, [12.735037230055678, 0.6454636794108691, 0.34063916824297424], 0.0, 0.0, 428.2498097982105,
     376.75),
]


@pytest.mark.parametrize("cls, params, x, t_x, T, t", CANCEL)
def test_two_point_p_alive_does_not_cancel(cls, params, x, t_x, T, t):
    m = cls.from_params(params)
    cust = pd.DataFrame({"frequency": [x, 3.0], "recency": [t_x, T / 2], "T": [T, T]})
    with mp.workdps(50):
        pa, if_alive = _mp_reference(cls, params, x, t_x, T, t)
    assert 1e-300 < pa < 1e-16
    got = m.probability_alive(cust)
    assert got[0] == pytest.approx(float(pa), rel=1e-6, abs=0)
    assert got[1] == 1.0  # three repeat purchases: the never-dropout type
    assert m.expected_purchases(t, cust)[0] == pytest.approx(float(pa * if_alive), rel=1e-6, abs=0)


def _draw(rng, cls):
    lu = lambda lo, hi: float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    r, al = lu(1e-3, 1e3), lu(1e-3, 1e3)
    if cls is ParetoNBDModel:
        return [r, al, lu(1e-3, 1e6), lu(1e-3, 1e6)]
    if cls is ExponentialNBDModel:
        return [r, al, lu(1e-6, 10.0)]
    return [r, al, float(rng.choice([lu(1e-12, 1e-3), rng.uniform(0.001, 0.999), 1 - lu(1e-12, 1e-3)]))]


@pytest.mark.slow  # mpmath quadrature at 50 digits: the Pareto/NBD grid ~40-120 s
@pytest.mark.parametrize("cls", [GeometricNBDModel, ModifiedGeometricNBDModel, TwoPointGeometricNBDModel,
                                 ZeroInflatedNBDModel, ExponentialNBDModel, ParetoNBDModel])
def test_predictions_on_an_extreme_grid(cls):
    """r, alpha in [1e-3, 1e3]; s, beta in [1e-3, 1e6]; p, pi near 0, 1 or inside; x up to 1e4, T up to 1e4, recency
    from 1e-6 T to T, t from 1e-3 to 1e4: P(alive) and E[Y(t) | x, t_x, T] within 1e-6 of mpmath wherever above
    1e-300, finite and non-negative everywhere (on main, in a 60-draw version of this grid: 36 of 900 values wrong
    for the two-point model, 26 for the ZINBD, all silent zeros; here the two fail on main)."""
    for seed in range(3 if cls is ParetoNBDModel else 5 if cls is ExponentialNBDModel else 40):
        rng = np.random.default_rng(seed)
        params = _draw(rng, cls)
        m = cls.from_params(params)
        params = list(m.params_.to_numpy(float))
        n = 6
        T = np.exp(rng.uniform(np.log(0.1), np.log(1e4), n))
        x = np.floor(np.exp(rng.uniform(0, np.log(1e4), n)))
        x[1], x[2], x[3] = 0.0, 1e4, 1.0
        t_x = np.where(x > 0, T * rng.choice([1e-6, 1e-3, 0.5, 1.0], n), 0.0)
        t = float(np.exp(rng.uniform(np.log(1e-3), np.log(1e4))))
        cust = pd.DataFrame({"frequency": x, "recency": t_x, "T": T})
        pa, ey = m.probability_alive(cust), m.expected_purchases(t, cust)
        assert np.all(np.isfinite(pa)) and np.all(pa >= 0) and np.all(np.isfinite(ey)) and np.all(ey >= 0)
        with mp.workdps(50):
            for i in range(n):
                want_p, if_alive = _mp_reference(cls, params, x[i], t_x[i], T[i], t)
                if cls is TwoPointGeometricNBDModel and x[i] != 1 or cls is ZeroInflatedNBDModel and x[i] != 0:
                    want_p = mp.mpf(1)  # only x = 1 (x = 0) can be a certain dropout who has left
                if cls is GeometricNBDModel and x[i] == 0:
                    want_p = mp.mpf(1)
                if cls is TwoPointGeometricNBDModel and x[i] == 0:  # alive of either type: the prior mix
                    r, al, pi = (_F(v) for v in params)
                    if_alive = (1 - pi) * if_alive + pi * (1 - mp.power((al + _F(T[i])) / (al + _F(T[i]) + _F(t)), r))
                for got, want in ((pa[i], want_p), (ey[i], want_p * if_alive)):
                    if want > mp.mpf("1e-300"):
                        assert got > 0 and abs(mp.mpf(got) / want - 1) < 1e-6, (seed, params, i, got, want)
