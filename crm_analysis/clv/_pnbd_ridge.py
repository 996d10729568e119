"""The Pareto/NBD log-likelihood, its gradient and P(alive) in a scaled form: exact where the general form cancels.

The general form (:mod:`.pareto_nbd`) adds and subtracts terms of the size of the parameters in two places:

* the r side, for large ``r``: ``gammaln(r+x) - gammaln(r)``, ``r log(alpha)`` against ``-(r+x) log(alpha+T)``, and
  ``r - (r+x) alpha G(p+1)/G(p)`` (a ratio of two tail integrals whose logs are ~``r log alpha``) in the alpha
  derivative; at ``r ~ 3e6`` on the Poisson ridge (``r, alpha -> inf``, ``r / alpha`` fixed) the gradient is rounding
  noise of ~0.06 (findings_12u F5);
* the s side, for large ``s`` or ``beta``: ``s log(beta)`` against ``-s log(beta+T)`` and the tail integrals (at
  ``s ~ 1e13``, ``s log beta ~ 3e14`` has float spacing 0.06; issue #12: -40.0 instead of -40.1208 on four customers
  at ``(0.5, 10, 1e13, 1e13)``).

Here ``alpha^(r+x)`` and ``beta^s`` are taken out of every term analytically, for any ``r``, ``alpha``, ``s``,
``beta`` (``beta`` above or below ``alpha``): per customer, with ``u = log1p(tau/beta)`` (``tau = beta expm1(u)``,
``d tau (beta+tau)^-(s+1) beta^s = e^{-s u} du``),

.. math::

    \\ell = \\log\\frac{\\Gamma(r+x)}{\\Gamma(r)} - x\\log\\alpha + \\log\\Big[e^{A} + s\\,\\tilde I\\Big],\\quad
    A = -(r+x)\\,\\mathrm{log1p}(T/\\alpha) - s\\,\\mathrm{log1p}(T/\\beta),\\quad
    \\tilde I = \\int_{u(t_x)}^{u(T)} e^{-s u - (r+x)\\,\\mathrm{log1p}(\\tau/\\alpha)}du,

(``log Gamma(r+x) - log Gamma(r)`` by :func:`._special.log_rising`), and the derivatives in the log parameters are
sums of terms of size ``O(1)`` (``E`` the average under the integrand of ``I~``, ``w_2 = s I~ / (e^A + s I~)`` the
posterior weight of "died in ``(t_x, T]``", ``w_1 = 1 - w_2`` = P(alive)):

* ``log r``: ``r [psi(r+x) - psi(r)] - w_1 r log1p(T/alpha) - w_2 r E[log1p(tau/alpha)]``
  (:func:`._special.digamma_difference`);
* ``log alpha``: ``-x + w_1 (r+x) T/(alpha+T) + w_2 (r+x) E[tau/(alpha+tau)]`` (the non-cancelling form of
  ``r - (r+x) alpha G(p+1)/G(p)``: ``G(p) - alpha G(p+1) = int tau (alpha+tau)^-(p+1) (beta+tau)^-q``);
* ``log s``: ``-w_1 s log1p(T/beta) + w_2 (1 - s E[u])``;
* ``log beta``: ``w_1 s T/(beta+T) + w_2 (s E[tau/(beta+tau)] - E[beta/(beta+tau)])`` (``s (1 - w_1 - w_2) = 0``
  taken out).

``I~`` and its averages are computed by composite Gauss-Legendre quadrature (:mod:`._quadrature`) in ``z = u -
u(t_x)``, the log integrand taken relative to its value at ``t_x`` (its maximum: it decreases), so that neither the
integrand's scale near ``t_x`` nor ``log(w_1 / w_2)`` loses digits to the terms ``s u(t_x)``, ``(r+x) log1p(t_x /
alpha)`` that ``A`` and ``log(s I~)`` share. The panel coordinate is ``v/3`` (``v = log(beta+tau)``) plus, for the
factor ``(alpha+tau)^-(r+x)``, ``log(alpha+tau)`` and half the integral of ``sqrt(|L''|)``: ``sqrt(P) arctan(e^{v/2} /
sqrt(alpha-beta))`` for ``beta < alpha``, ``sqrt(P)/2 log((e^{v/2} - sqrt c)/(e^{v/2} + sqrt c))`` for ``c = beta -
alpha > 0`` (``_log_rate_coord``). :func:`pnbd_died_log_term` is the prediction ``P(X(t) = x)``'s "died before
``t``" term in the same variable.

:class:`~crm_analysis.clv.ParetoNBDModel` uses this form for ``r > e^10`` or, whatever ``r`` and ``alpha``, ``s >
e^10`` or ``beta > 1e3 max T`` (:func:`scaled_s_side`); below those thresholds the general form, unchanged.
Checked against mpmath at 30+ digits (``tests/clv/test_pareto_nbd_ridge_gradient.py``,
``tests/clv/test_pareto_nbd_large_s.py``: ``r`` from 0.05 to 1e12, ``s, beta`` up to 1e16).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from crm_analysis.exceptions import InputError

from ._quadrature import unimodal_nodes
from ._special import digamma_difference, log_rising

__all__ = ["pnbd_died_log_term", "pnbd_ridge_loglik_rows", "pnbd_scaled_alive_log_odds", "scaled_s_side"]

#: above this s, or beta above _BIG_BETA_T times the largest T, ParetoNBDModel takes its likelihood in this module's
#: scaled form whatever r and alpha (:func:`scaled_s_side`); below both, and for r <= e^10, its general form
_BIG_S = float(np.exp(10.0))
_BIG_BETA_T = 1e3


def scaled_s_side(s: float, beta: float, t_max: float) -> bool:
    """Whether ``s`` or ``beta`` is so large that ``s log(beta)`` must be taken out analytically.

    Parameters
    ----------
    s, beta : float
        Gamma shape and rate of the dropout rate.
    t_max : float
        The longest time involved (the largest ``T`` of the rows, or the prediction horizon).

    Returns
    -------
    bool
        ``s > e^10`` or ``beta > 1e3 t_max``: there the general form's ``s log(beta)`` against ``-s log(beta + T)``
        loses ``log10(s log beta)`` digits (issue #12), and the scaled variable ``u = log1p(tau / beta)`` is used.
    """
    return bool(s > _BIG_S or beta > _BIG_BETA_T * t_max)


def _log_rate_coord(P: np.ndarray, alpha: float, beta: float, v: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Panel coordinate for the factor ``(alpha + tau)^-P`` of an integrand in ``v = log(beta + tau)``.

    ``log(alpha + tau)`` (panels at most a factor ``e`` in ``alpha + tau`` wide: the branch point at ``tau = -alpha``
    stays outside each panel's Bernstein ellipse; needed for ``P < 1``, where the curvature is small but
    ``alpha << T``: 2e-6 off at ``r = 0.05, alpha = 0.1`` without it) plus ``int sqrt(|L''|) dv / 2`` for
    ``L(v) = -P log(alpha + tau)``: ``|L''| = P |c| e^v / (e^v - c)^2`` with ``c = beta - alpha``; with
    ``w = e^{v/2}`` the half integral is ``sqrt(P) arctan(w / sqrt(-c))`` for ``c < 0``,
    ``sqrt(P)/2 log((w - sqrt c)/(w + sqrt c))`` for ``c > 0`` (written ``log(alpha + tau) - 2 log(w + sqrt c)``:
    ``w^2 - c = alpha + tau``, no cancellation near ``tau = 0``) and 0 for ``c = 0``. ``P`` has shape ``(n, 1)``,
    ``v`` and ``tau`` ``(n, k)``.
    """
    sqp = np.sqrt(P)
    la = np.log(alpha + tau)
    if beta < alpha:
        return la + sqp * np.arctan(np.exp(0.5 * v) / np.sqrt(alpha - beta))
    if beta > alpha:
        # the coefficient capped at 1e3: over the range the quadrature keeps (L within 40 of its maximum) the term is
        # at most ~20 / sqrt(P) for large P; where that range is narrower than the bisection resolves (r = s = beta
        # = 1e13, alpha = 1e-13 in a fit's profile) the uncapped term asked for 2^34 panels
        return la + 0.5 * np.minimum(sqp, 1e3) * (la - 2.0 * np.log(np.exp(0.5 * v) + np.sqrt(beta - alpha)))
    return la + np.zeros(np.broadcast_shapes(np.shape(P), np.shape(v)))


def _scaled_parts(params, ux: np.ndarray, utx: np.ndarray, uT: np.ndarray) -> dict:
    """The per-row pieces of the scaled likelihood (module docstring), each relative to its value at ``t_x``.

    The integral runs over ``z = u - u_0 = log1p((tau - t_x)/(beta + t_x))`` (``u_0 = log1p(t_x/beta)``), with the
    log integrand relative to its value at ``t_x`` (its maximum: it decreases), ``-s z - P log1p((tau - t_x)/(alpha
    + t_x))``: the integrand's scale near ``t_x`` is resolved in ``z`` whatever ``t_x`` (in ``u`` the spacing at
    ``u_0`` is ``1e-16 u_0``), and ``D = A - log(s I~)`` is computed without the terms ``P log1p(t_x/alpha)``,
    ``s u_0`` that ``A`` and ``log(s I~)`` share (``~5e9`` at ``r = 1e9, alpha = 0.1, t_x = 900``: 1e-6 absolute).
    The averages ``E1 = E[log1p(tau/alpha)]`` and ``Eu = E[u]`` are returned relative to ``t_x`` (``E1 -
    log1p(t_x/alpha)``, ``Eu - u_0``), with ``c1 = log1p(t_x/alpha)`` and ``u0``.
    """
    r, alpha, s, beta = params
    p = r + ux
    l1T = np.log1p(uT / alpha)
    lbT = np.log1p(uT / beta)
    c1 = np.log1p(utx / alpha)
    u0 = np.log1p(utx / beta)
    at, bt = alpha + utx, beta + utx
    n = ux.size
    out = {"A": -p * l1T - s * lbT, "l1T": l1T, "lbT": lbT, "c1": c1, "u0": u0, "logI": np.full(n, -np.inf),
           "D": np.full(n, np.inf), "l1T_rel": np.log1p((uT - utx) / at), "lbT_rel": np.log1p((uT - utx) / bt)}
    for key in ("E1", "Et", "Eu", "Eb", "Em"):
        # E[log1p(tau/alpha)] - c1, E[tau/(alpha+tau)], E[u] - u0, E[beta/(beta+tau)] = E[e^-u], E[tau/(beta+tau)]
        out[key] = np.zeros(n)
    live = np.flatnonzero(uT > utx)
    if not live.size:
        return out
    P, at_l, bt_l, tx_l = p[live], at[live], bt[live], utx[live]
    lbt_l = np.log(bt_l)

    def log_f(z: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return -s * z - P[idx, None] * np.log1p(bt_l[idx, None] * np.expm1(z) / at_l[idx, None])

    def coord(z: np.ndarray, idx: np.ndarray) -> np.ndarray:
        # v / 3 + the r side's coordinate (v = log(beta + tau) = z + log(beta + t_x); the s side is linear in z)
        v = z + lbt_l[idx, None]
        return v / 3.0 + _log_rate_coord(P[idx, None], alpha, beta, v, tx_l[idx, None] + bt_l[idx, None] * np.expm1(z))

    zT = out["lbT_rel"][live]
    # the integrand is below e^-50 of its value at t_x where s z > 50 or P log1p((tau - t_x)/(alpha + t_x)) > 50:
    # the upper limit taken there keeps the bisection of the cut within its resolution (r = s = beta = 1e13,
    # alpha = 1e-13: the r side falls by 40 within 1e-39 of z = 0, far below zT / 2^50)
    z_r = np.log1p(at_l * np.expm1(np.minimum(50.0 / P, 600.0)) / bt_l)
    hi = np.minimum(zT, np.minimum(50.0 / s, z_r))
    lo = np.zeros(live.size)
    for idx, z, log_w in unimodal_nodes(log_f, coord, lo, hi, lo):
        li = special.logsumexp(log_w, axis=1)
        wn = np.exp(log_w - li[:, None])
        j = live[idx]
        dtau = bt_l[idx, None] * np.expm1(z)  # tau - t_x
        tau = tx_l[idx, None] + dtau
        u = u0[j, None] + z
        out["logI"][j] = li - s * u0[j] - P[idx] * c1[j]
        out["D"][j] = -P[idx] * out["l1T_rel"][j] - s * zT[idx] - np.log(s) - li
        out["E1"][j] = np.sum(wn * np.log1p(dtau / at_l[idx, None]), axis=1)
        out["Et"][j] = np.sum(wn * (tau / (alpha + tau)), axis=1)
        out["Eu"][j] = np.sum(wn * z, axis=1)
        out["Eb"][j] = np.sum(wn * np.exp(-u), axis=1)
        out["Em"][j] = np.sum(wn * -np.expm1(-u), axis=1)
    return out


def _check_rows(name: str, params, x, t_x, T):
    """Validated parameters, the distinct ``(x, t_x, T)`` rows (``ux, utx, uT``), the map back to the rows and ``T``.

    Raises :class:`~crm_analysis.exceptions.InputError` for a parameter that is not positive and finite or a
    non-integer ``x``.
    """
    r, alpha, s, beta = (float(v) for v in params)
    if not all(np.isfinite(v) and v > 0 for v in (r, alpha, s, beta)):
        raise InputError(f"{name}: r, alpha, s, beta must be positive and finite, got {r, alpha, s, beta}")
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    if not np.all(x == np.round(x)):
        raise InputError(f"{name}: frequency x must be integer counts")
    key = np.stack([x, t_x, T], axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    return (r, alpha, s, beta), uniq[:, 0], uniq[:, 1], uniq[:, 2], inv.ravel(), T


def pnbd_ridge_loglik_rows(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pareto/NBD log-likelihood per customer and its gradient in the log parameters, accurate for large ``r, alpha``
    and for large ``s, beta``.

    Parameters
    ----------
    params : numpy.ndarray, shape (4,)
        ``r, alpha, s, beta`` (positive, finite; any order of ``alpha`` and ``beta``).
    x, t_x, T : numpy.ndarray, shape (n,)
        Frequency (integer counts), recency and age, ``0 <= t_x <= T``.

    Returns
    -------
    ll : numpy.ndarray, shape (n,)
        Log-likelihood per customer (the same function as
        :meth:`crm_analysis.clv.ParetoNBDModel._loglik`).
    grad : numpy.ndarray, shape (n, 4)
        Its derivatives in ``log r, log alpha, log s, log beta``.

    Raises
    ------
    InputError
        If a parameter is not positive and finite, or ``x`` is not integer.
    """
    (r, alpha, s, beta), ux, utx, uT, inv, T = _check_rows("pnbd_ridge_loglik_rows", params, x, t_x, T)
    d = _scaled_parts((r, alpha, s, beta), ux, utx, uT)
    p = r + ux
    with np.errstate(divide="ignore"):
        lse = np.logaddexp(d["A"], np.log(s) + d["logI"])
    # posterior weights of "alive at T" and "died in (t_x, T]" from their log ratio D (no shared terms)
    w1, w2 = special.expit(d["D"]), special.expit(-d["D"])
    # log Gamma(r+x) - log Gamma(r) + r log(alpha) - (r+x) log(alpha+T) = log_rising - x log(alpha) - (r+x) l1T
    ll = log_rising(r, ux) - ux * np.log(alpha) + lse
    grad = np.empty((ux.size, 4))
    # E[log1p(tau/alpha)] and E[u] split at t_x: w1 + w2 = 1 times the common part, then the small remainders
    grad[:, 0] = r * digamma_difference(r, ux) - r * d["c1"] - r * (w1 * d["l1T_rel"] + w2 * d["E1"])
    grad[:, 1] = -ux + w1 * p * (uT / (alpha + uT)) + w2 * p * d["Et"]
    grad[:, 2] = -s * d["u0"] - s * (w1 * d["lbT_rel"] + w2 * d["Eu"]) + w2
    # s - w1 s beta/(beta+T) - w2 (s+1) E[beta/(beta+tau)] with s (1 - w1 - w2) = 0 taken out
    grad[:, 3] = w1 * s * (uT / (beta + uT)) + w2 * (s * d["Em"] - d["Eb"])
    return ll[inv], grad[inv]


def pnbd_scaled_alive_log_odds(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Log odds of alive at ``T`` from the scaled terms: ``D = A - log(s I~)``, P(alive) ``= 1 / (1 + e^-D)``
    (the likelihood's weight ``w_1``).

    The general form's ``expit(log F1 - log(s I))`` subtracts two numbers of size ``s log(beta + T)`` (or
    ``(r + x) log(alpha + T)``); here both are taken relative to ``alpha^(r+x) beta^s`` (module docstring).

    Parameters
    ----------
    params : numpy.ndarray, shape (4,)
        ``r, alpha, s, beta`` (positive, finite).
    x, t_x, T : numpy.ndarray, shape (n,)
        Frequency (integer counts), recency and age, ``0 <= t_x <= T``.

    Returns
    -------
    numpy.ndarray, shape (n,)
        The log odds ``D`` (``inf`` where ``t_x = T``).

    Raises
    ------
    InputError
        If a parameter is not positive and finite, or ``x`` is not integer.
    """
    (r, alpha, s, beta), ux, utx, uT, inv, T = _check_rows("pnbd_scaled_alive_log_odds", params, x, t_x, T)
    d = _scaled_parts((r, alpha, s, beta), ux, utx, uT)
    return d["D"][inv]


def pnbd_died_log_term(x: np.ndarray, t: np.ndarray, r: float, alpha: float, s: float, beta: float) -> np.ndarray:
    """``log int_0^t s beta^s (beta+tau)^-(s+1) NB(x; r, alpha/(alpha+tau)) dtau`` in the scaled variable ``u``.

    With ``u = log1p(tau / beta)`` the dropout density is ``s e^{-s u} du`` (``beta^s`` taken out analytically: the
    general form's ``(r + s) log(1 + tau/alpha)`` against ``(s + 1) log(1 + (alpha/beta - 1) w)`` cancels to
    ``s log1p(tau/beta)`` and loses ``log10(s)`` digits). The log integrand ``-s u - r log1p(tau/alpha)
    - x log1p(alpha/tau)`` is unimodal (its stationary point in ``tau`` is the positive root of ``-(r+s) tau^2 +
    (x alpha - r beta - s alpha) tau + x alpha beta``); composite Gauss-Legendre panels (:mod:`._quadrature`) whose
    coordinate bounds the curvature of ``x log expm1(u)`` and of ``-(r+x) log(alpha + tau)``.

    Parameters
    ----------
    x, t : numpy.ndarray, shape (n,)
        Counts and horizons, ``t > 0``.
    r, alpha, s, beta : float
        The Pareto/NBD parameters.

    Returns
    -------
    numpy.ndarray, shape (n,)
        The log of the "died before ``t`` after ``x`` purchases" probability.
    """
    x, t = np.asarray(x, float), np.asarray(t, float)
    lb = np.log(beta)
    hi = np.log1p(t / beta)
    # stationary point: tau^2 - 2 B tau - C = 0, B = (x alpha - r beta - s alpha) / (2 (r+s)), C = x alpha beta / (r+s)
    B = (x * alpha - r * beta - s * alpha) / (2.0 * (r + s))
    sqc = np.sqrt(x * alpha * beta / (r + s))
    root = np.hypot(B, sqc)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau_m = np.where(B > 0, B + root, np.where(sqc > 0, sqc * sqc / (root - B), 0.0))
    mode = np.log1p(tau_m / beta)
    pos = x > 0
    sqx = np.sqrt(x)
    P = r + x

    def log_f(u: np.ndarray, idx: np.ndarray) -> np.ndarray:
        tau = beta * np.expm1(u)
        xi = x[idx, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = np.where(pos[idx, None], xi * np.log1p(alpha / tau), 0.0)
        return -s * u - r * np.log1p(tau / alpha) - lx

    def coord(u: np.ndarray, idx: np.ndarray) -> np.ndarray:
        # u / 3 + int sqrt(|L''|) du / 2 for x log expm1(u) (sqrt(x)/2 log((y-1)/(y+1)), y = e^{u/2}) and for
        # -(r+x) log(alpha + tau)
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = np.where(pos[idx, None], 0.5 * sqx[idx, None] * (
                u + np.log(-np.expm1(-u)) - 2.0 * np.logaddexp(0.0, 0.5 * u)), 0.0)
        return u / 3.0 + lx + _log_rate_coord(P[idx, None], alpha, beta, u + lb, beta * np.expm1(u))

    out = np.full(x.shape, -np.inf)
    # upper limit where the integrand is below e^-50 of its value at the mode: for tau >= tau_m the log integrand
    # falls by at least s (u - u_m) - K and r log((alpha+tau)/(alpha+tau_m)) - K, K = x log1p(alpha/tau_m) (the
    # x term's largest rise); keeps the cut's bisection within its resolution (r = s = beta = 1e13, alpha = 1e-13:
    # a peak 1e-39 wide in u, while u(t) = 1e-12)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        K = 50.0 + np.where(pos, x * np.log1p(alpha / tau_m), 0.0)
        tau_cut = tau_m + (alpha + tau_m) * np.expm1(np.minimum(K / r, 600.0))
        hi = np.minimum(hi, np.minimum(mode + K / s, np.log1p(tau_cut / beta)))
    for idx, u, log_w in unimodal_nodes(log_f, coord, np.zeros(x.shape), hi, np.minimum(mode, hi)):
        out[idx] = special.logsumexp(log_w, axis=1)
    const = log_rising(r, x) - special.gammaln(x + 1.0) + np.log(s)
    return const + out
