"""The Pareto/NBD log-likelihood and its gradient near the Poisson ridge ``r, alpha -> inf`` (``r / alpha`` fixed).

There the general form (:mod:`.pareto_nbd`) adds and subtracts terms of size ``r``: ``r log(alpha)`` against
``-(r+x) log(alpha+T)`` in the value, and ``r - (r+x) alpha G(p+1)/G(p)`` (a ratio of two tail integrals whose
logs are ~``r log alpha``) in the alpha derivative; at ``r ~ 3e6`` the gradient is rounding noise of ~0.06
(findings_12u F5). Here ``alpha^(r+x)`` is taken out of every term analytically: per customer

.. math::

    \\ell = \\sum_{k<x}\\log(r+k) - x\\log\\alpha + s\\log\\beta
        + \\log\\Big[e^{A} + s\\,\\tilde I\\Big],\\quad
    A = -(r+x)\\,\\mathrm{log1p}(T/\\alpha) - s\\log(\\beta+T),\\quad
    \\tilde I = \\int_{t_x}^{T} e^{-(r+x)\\,\\mathrm{log1p}(\\tau/\\alpha)}(\\beta+\\tau)^{-(s+1)}d\\tau,

and the derivatives in the log parameters are sums of terms of size ``O(1)`` (``E`` the average under the
integrand of ``I~``, ``w_2 = s I~ / (e^A + s I~)``, ``w_1 = 1 - w_2``):

* ``log r``: ``sum_{k<x} r/(r+k) - w_1 r log1p(T/alpha) - w_2 r E[log1p(tau/alpha)]``;
* ``log alpha``: ``-x + w_1 (r+x) T/(alpha+T) + w_2 (r+x) E[tau/(alpha+tau)]`` (the non-cancelling form of
  ``r - (r+x) alpha G(p+1)/G(p)``: ``G(p) - alpha G(p+1) = int tau (alpha+tau)^-(p+1) (beta+tau)^-q``);
* ``log s``: ``s log(beta) - w_1 s log(beta+T) + w_2 (1 - s E[log(beta+tau)])``;
* ``log beta``: ``s - w_1 s beta/(beta+T) - w_2 (s+1) E[beta/(beta+tau)]``.

``I~`` and its averages are computed by composite Gauss-Legendre quadrature (:mod:`._quadrature`) in
``v = log(beta+tau)`` (``d tau (beta+tau)^-(s+1) = e^{-s v} dv``: no near-singularity at ``tau = 0`` for tiny
``beta``), where the log integrand ``-s v - (r+x) log1p((e^v - beta)/alpha)`` is decreasing and concave.
For large ``s`` (``s > e^10``) or ``beta`` (``beta > 1e3 max T``) the same cancellation sits on the s side:
``s log(beta)`` against ``-s log(beta+T)`` and ``-s v`` (at ``s ~ 1e13``, ``s log beta ~ 3e14`` has float spacing
0.06; issue #12, pnL 1730). There ``beta^s`` is taken out too: the variable is ``u = log1p(tau/beta) = v - log beta``
(``tau = beta expm1(u)``), ``A = -(r+x) log1p(T/alpha) - s log1p(T/beta)``, the log integrand
``-s u - (r+x) log1p(beta expm1(u)/alpha)``, and

* ``log s``: ``-w_1 s log1p(T/beta) + w_2 (1 - s E[u])``;
* ``log beta``: ``w_1 s T/(beta+T) + w_2 (s E[tau/(beta+tau)] - E[beta/(beta+tau)])`` (``s (1 - w_1 - w_2) = 0``
  taken out).

Below those thresholds the ``v`` form is used unchanged (bit for bit).
Checked against mpmath at 32+ digits (``tests/clv/test_pareto_nbd_ridge_gradient.py``, ``s, beta`` up to 1e13).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from crm_analysis.exceptions import InputError

from ._quadrature import unimodal_nodes

__all__ = ["pnbd_ridge_loglik_rows"]

#: above this s, or beta above _BIG_BETA_T times the largest T, the s side is taken in the scaled variable
#: u = log1p(tau/beta) (below it the v = log(beta+tau) form, unchanged bit for bit)
_BIG_S = float(np.exp(10.0))
_BIG_BETA_T = 1e3


def _sum_log_rising(r: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_{k<x} log(r+k)`` relative to ``x log r`` (i.e. ``sum log1p(k/r)``) and ``sum_{k<x} r/(r+k)``, integer ``x``."""
    xi = x.astype(np.int64)
    k = np.arange(int(xi.max(initial=0)) + 1, dtype=float)[:-1] if xi.size else np.zeros(0)
    c_log = np.concatenate([[0.0], np.cumsum(np.log1p(k / r))])
    c_dig = np.concatenate([[0.0], np.cumsum(r / (r + k))])
    return c_log[xi], c_dig[xi]


def pnbd_ridge_loglik_rows(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pareto/NBD log-likelihood per customer and its gradient in the log parameters, accurate for large ``r, alpha``.

    Parameters
    ----------
    params : numpy.ndarray, shape (4,)
        ``r, alpha, s, beta`` (positive, finite; ``beta < alpha``).
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
        If ``beta >= alpha`` (the quadrature's panel coordinate assumes ``alpha > beta``) or ``x`` is not integer.
    """
    r, alpha, s, beta = (float(v) for v in params)
    if not beta < alpha:
        raise InputError(f"pnbd_ridge_loglik_rows: needs beta < alpha, got beta = {beta:.4g}, alpha = {alpha:.4g}")
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    if not np.all(x == np.round(x)):
        raise InputError("pnbd_ridge_loglik_rows: frequency x must be integer counts")
    key = np.stack([x, t_x, T], axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.ravel()
    ux, utx, uT = uniq[:, 0], uniq[:, 1], uniq[:, 2]
    p = r + ux
    amb = alpha - beta
    c_log, c_dig = _sum_log_rising(r, ux)
    la, lb = np.log(alpha), np.log(beta)
    l1T = np.log1p(uT / alpha)
    # large s or beta: the integration variable u = log1p(tau/beta) = v - log(beta), so that s log(beta) is taken out
    # analytically (in v it cancels in float: s log(beta) ~ 3e14 at s ~ 1e13, spacing 0.06; issue #12)
    big_s = bool(s > _BIG_S or beta > _BIG_BETA_T * float(T.max(initial=0.0)))
    if big_s:
        off = 0.0
        lbT = np.log1p(uT / beta)
        lo_all = np.log1p(utx / beta)

        def tau_of(v: np.ndarray) -> np.ndarray:
            return beta * np.expm1(v)

        def half_exp_v(v: np.ndarray) -> np.ndarray:
            return np.exp(0.5 * (v + lb))

    else:
        off = lb
        lbT = np.log(beta + uT)
        lo_all = np.log(beta + utx)

        def tau_of(v: np.ndarray) -> np.ndarray:
            return np.maximum(np.exp(v) - beta, 0.0)

        def half_exp_v(v: np.ndarray) -> np.ndarray:
            return np.exp(0.5 * v)

    A = -p * l1T - s * lbT
    n = ux.size
    logI = np.full(n, -np.inf)
    E1 = np.zeros(n)  # E[log1p(tau/alpha)]
    Et = np.zeros(n)  # E[tau/(alpha+tau)]
    Ev = np.zeros(n)  # E[v] (v = log(beta+tau), or u = log1p(tau/beta) if big_s)
    Eb = np.zeros(n)  # E[beta/(beta+tau)]
    Em = np.zeros(n)  # E[tau/(beta+tau)] (big_s only)
    live = np.flatnonzero(uT > utx)
    if live.size:
        P = p[live]
        lo = lo_all[live]
        hi = lbT[live]
        sqp = np.sqrt(P)

        def log_f(v: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return -s * v - P[idx, None] * np.log1p(tau_of(v) / alpha)

        def coord(v: np.ndarray, idx: np.ndarray) -> np.ndarray:
            # v / 3 + int sqrt(|L''|) dv / 2, |L''| = P e^v (alpha-beta) / (alpha-beta+e^v)^2 (v = u + log(beta))
            return v / 3.0 + sqp[idx, None] * np.arctan(half_exp_v(v) / np.sqrt(amb))

        for idx, v, log_w in unimodal_nodes(log_f, coord, lo, hi, lo):
            li = special.logsumexp(log_w, axis=1)
            wn = np.exp(log_w - li[:, None])
            tau = tau_of(v)
            j = live[idx]
            logI[j] = li
            E1[j] = np.sum(wn * np.log1p(tau / alpha), axis=1)
            Et[j] = np.sum(wn * (tau / (alpha + tau)), axis=1)
            Ev[j] = np.sum(wn * v, axis=1)
            if big_s:
                Eb[j] = np.sum(wn * np.exp(-v), axis=1)
                Em[j] = np.sum(wn * -np.expm1(-v), axis=1)
            else:
                Eb[j] = np.sum(wn * (beta * np.exp(-v)), axis=1)
    with np.errstate(divide="ignore"):
        B = np.log(s) + logI
    lse = np.logaddexp(A, B)
    w2 = np.exp(B - lse)
    w1 = -np.expm1(B - lse)
    ll = ux * (np.log(r) - la) + c_log + s * off + lse
    grad = np.empty((n, 4))
    grad[:, 0] = c_dig - w1 * r * l1T - w2 * r * E1
    grad[:, 1] = -ux + w1 * p * (uT / (alpha + uT)) + w2 * p * Et
    grad[:, 2] = s * off - w1 * s * lbT + w2 * (1.0 - s * Ev)
    if big_s:
        # s - w1 s beta/(beta+T) - w2 (s+1) E[beta/(beta+tau)] with s (1 - w1 - w2) = 0 taken out
        grad[:, 3] = w1 * s * (uT / (beta + uT)) + w2 * (s * Em - Eb)
    else:
        grad[:, 3] = s - w1 * s * beta / (beta + uT) - w2 * (s + 1.0) * Eb
    return ll[inv], grad[inv]
