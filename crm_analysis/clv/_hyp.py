"""Numerically stable special functions for the Pareto/NBD model.

The Pareto/NBD likelihood (Fader & Hardie 2005, "A Note on Deriving the
Pareto/NBD Model and Related Expressions", eq. 22) needs the Gaussian
hypergeometric function :math:`{}_2F_1(r+s+x, \\cdot; r+s+x+1; z)` whose value
overflows double precision for large frequency ``x`` (this is why the
``lifetimes`` implementation returns ``inf``/``nan``). Here the same quantity is
computed as the logarithm of the defining integral

.. math::

    G(t) = \\int_t^\\infty (\\alpha+\\tau)^{-(r+x)} (\\beta+\\tau)^{-(s+1)}\\,d\\tau ,

which, anchored at :math:`m = \\max(\\alpha, \\beta)` with exponent :math:`P`
and :math:`n = \\min(\\alpha, \\beta)` with exponent :math:`Q`, equals (Euler's
transformation of the Fader-Hardie expression)

.. math::

    G(t) = \\frac{(m+t)^{-a} (1-z)^{1-Q}}{a}\\,{}_2F_1(1, P; P+Q; z),\\qquad
    a = P+Q-1,\\ z = \\frac{m-n}{m+t} \\in [0, 1).

The remaining hypergeometric function is bounded (between 1 and
:math:`1/(1-z)`), so it never overflows; it is evaluated with Gauss's
continued fraction (modified Lentz algorithm), which converges for every
:math:`z < 1` and much faster than the power series near :math:`z = 1`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special

from ..exceptions import ConvergenceWarning
from ._quadrature import unimodal_nodes

__all__ = ["hyp2f1_1b", "log_pnbd_tail", "log_pnbd_interval", "log_interval_from_tails"]

_TINY = 1e-300


def hyp2f1_1b(b: np.ndarray, c: np.ndarray, z: np.ndarray, *, rtol: float = 1e-15, max_iter: int = 20000) -> np.ndarray:
    """Evaluate :math:`{}_2F_1(1, b; c; z)` for ``0 <= z < 1`` and ``0 < b < c``.

    Gauss's continued fraction for the ratio
    :math:`{}_2F_1(a+1,b;c+1;z)/{}_2F_1(a,b;c;z)` with :math:`a = 0`, evaluated
    with the modified Lentz algorithm, vectorised over the inputs.

    Parameters
    ----------
    b, c, z : numpy.ndarray
        Parameters and argument (broadcast together). Requires ``0 < b < c``
        and ``0 <= z < 1``; then all terms are positive up to the index where
        the fraction has converged in practice.
    rtol : float
        Relative convergence tolerance.
    max_iter : int
        Maximum number of continued-fraction terms; a
        :class:`crm_analysis.exceptions.ConvergenceWarning` is issued for entries that have not converged.

    Returns
    -------
    numpy.ndarray
        The function values (finite, between 1 and ``1/(1-z)``).
    """
    b, c, z = np.broadcast_arrays(np.asarray(b, float), np.asarray(c, float), np.asarray(z, float))
    shape = b.shape
    b = b.ravel().copy()
    c0 = c.ravel() - 1.0  # Gauss CF written for 2F1(a+1,b;c0+1;z)/2F1(a,b;c0;z), a = 0
    z = z.ravel().copy()
    out = np.ones(b.shape)
    active = np.flatnonzero(z > 0)
    if active.size == 0:
        return out.reshape(shape)
    bb, cc, zz = b[active], c0[active], z[active]
    bb0, cc0, zz0 = bb, cc, zz
    # T = 1 + a1/(1 + a2/(1 + ...)) with a_n = e_n z; result = 1/T.
    # Entries that have converged are moved out of the working arrays (when a quarter of
    # them has, or every 16 terms), so the cost of each term is about proportional to the
    # entries still iterating; converged entries iterated a little longer only gain accuracy.
    res = np.ones(active.size)
    pos = np.arange(active.size)
    f = np.ones(active.size)
    C = f.copy()
    D = np.zeros(active.size)
    done = np.zeros(active.size, bool)
    for n in range(1, max_iter + 1):
        m = n // 2
        c2 = cc + 2 * m
        if n % 2 == 1:
            e = (cc + m) * (bb + m)
            e /= c2 * (c2 + 1.0)
            e *= -zz
        else:
            e = (bb - cc - m) * zz
            e *= m
            e /= (c2 - 1.0) * c2
        # modified Lentz; a zero denominator (possible only by accident) is caught after the loop
        D *= e
        D += 1.0
        np.divide(1.0, D, out=D)
        C = e / C
        C += 1.0
        delta = C * D
        f *= delta
        if n % 4 and n > 4:  # convergence checked every fourth term (a few extra terms cost less)
            continue
        done |= np.abs(delta - 1.0) < rtol
        n_done = int(np.count_nonzero(done))
        if n_done == done.size:
            res[pos] = f
            pos = pos[:0]
            break
        if n_done and (4 * n_done >= done.size or n % 16 == 0):
            res[pos[done]] = f[done]
            keep = ~done
            pos, bb, cc, zz, f, C, D = pos[keep], bb[keep], cc[keep], zz[keep], f[keep], C[keep], D[keep]
            done = np.zeros(pos.size, bool)
    if pos.size:
        res[pos] = f
        warnings.warn(
            f"hyp2f1_1b: continued fraction did not converge for {int(pos.size)} value(s) "
            f"within {max_iter} terms (z very close to 1)",
            ConvergenceWarning,
            stacklevel=2,
        )
    bad = ~np.isfinite(res) | (res <= 0)
    if bad.any():  # a vanishing Lentz denominator: redo those entries with the guarded recurrence
        res[bad] = 1.0 / _hyp2f1_1b_guarded(bb0[bad], cc0[bad], zz0[bad], rtol, max_iter)
    f = res
    out[active] = 1.0 / f
    return out.reshape(shape)


def _hyp2f1_1b_guarded(bb: np.ndarray, cc: np.ndarray, zz: np.ndarray, rtol: float, max_iter: int) -> np.ndarray:
    """The continued fraction of :func:`hyp2f1_1b` with Lentz's guard against zero denominators (returns 1/value)."""
    f = np.ones(bb.size)
    C = f.copy()
    D = np.zeros(bb.size)
    for n in range(1, max_iter + 1):
        m = n // 2
        if n % 2 == 1:
            e = -(cc + m) * (bb + m) / ((cc + 2 * m) * (cc + 2 * m + 1))
        else:
            e = m * (bb - cc - m) / ((cc + 2 * m - 1) * (cc + 2 * m))
        an = e * zz
        D = 1.0 + an * D
        D[np.abs(D) < _TINY] = _TINY
        C = 1.0 + an / C
        C[np.abs(C) < _TINY] = _TINY
        D = 1.0 / D
        delta = C * D
        f *= delta
        if np.all(np.abs(delta - 1.0) < rtol):
            break
    return f


_Z_CUT = 0.9  # beyond this the continued fraction needs hundreds of terms: split the integral
_Z_MID = 0.5


def _log_tail_cf(a: np.ndarray, P: np.ndarray, Q: np.ndarray, log_mt: np.ndarray, log_nt: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``log G`` by Euler's transformation and the continued fraction (fast for ``z <= _Z_CUT``)."""
    S = hyp2f1_1b(P, P + Q, z)
    return -a * log_mt + (1.0 - Q) * (log_nt - log_mt) + np.log(S) - np.log(a)


def _log_near_part(P: np.ndarray, Q: np.ndarray, d: np.ndarray, v0: np.ndarray) -> np.ndarray:
    """``log int_t^{t*} (m+tau)^-P (n+tau)^-Q dtau`` for ``z(t) > _Z_CUT`` and ``z(t*) = _Z_MID``.

    With ``v = (n+tau)/(m+tau)`` (``d = m - n``) the integral is
    ``d^(1-P-Q) int_{v0}^{1-_Z_MID} v^-Q (1-v)^(P+Q-2) dv``; it is integrated in
    ``log v`` by composite Gauss-Legendre panels (:mod:`._quadrature`): the
    log integrand ``(1-Q) y + (P+Q-2) log(1 - e^y)`` is concave when
    ``P + Q >= 2``; otherwise the bounded factor ``(1-e^y)^(P+Q-2)`` (between
    1 and 4) is applied at the nodes.
    """
    c = P + Q - 2.0
    concave = c >= 0
    c_in = np.where(concave, c, 0.0)
    c_out = np.where(concave, 0.0, c)
    lo = np.log(v0)
    hi = np.full(v0.shape, np.log(1.0 - _Z_MID))
    # mode of (1-Q) y + c_in log(1-e^y): e^y/(1-e^y) = (1-Q)/c_in
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (1.0 - Q) / c_in
        mode = np.where(1.0 - Q <= 0, -np.inf, np.where(c_in > 0, np.log(rho) - np.log1p(rho), np.inf))
    mode = np.where(np.isnan(mode), lo, mode)
    sq = np.sqrt(np.abs(c))

    def log_f(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return (1.0 - Q[idx, None]) * y + c_in[idx, None] * np.log1p(-np.exp(y))

    def coord(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        # y / 3 + int sqrt(|L''|) dy / 2 with |L''| = |c| e^y / (1 - e^y)^2
        return y / 3.0 + sq[idx, None] * np.arctanh(np.exp(0.5 * y))

    out = np.empty(v0.shape)
    for idx, y, log_w in unimodal_nodes(log_f, coord, lo, hi, np.clip(mode, lo, hi)):
        extra = c_out[idx, None] * np.log1p(-np.exp(y))
        out[idx] = special.logsumexp(log_w + extra, axis=1)
    return (1.0 - P - Q) * np.log(d) + out


#: the near part by the binomial series (:func:`_log_near_series`) where the exponent ``P`` of the far scale is at
#: most this (beyond, the continued fraction at z = 1 - 1/P loses digits: 5e-14 at P = 1e3, 1e-11 at 1e6): quadrature
_SERIES_P_MAX = 1000.0
#: the series covers ``y = (n + tau) / (m - n) <= min(_SERIES_Y, 1 / P)`` (so ``P y <= 1``: its alternating signs
#: cost at most a factor e^2), the continued fraction ``z = 1 / (1 + y)`` beyond (z <= 3/4 for P <= 3)
_SERIES_Y = 1.0 / 3.0
_SERIES_TERMS = 48


def _series_bound(P: np.ndarray) -> np.ndarray:
    """The upper end ``Y`` of the series' range per row (see ``_SERIES_Y``)."""
    return np.minimum(_SERIES_Y, 1.0 / P)


def _log_near_series(P: np.ndarray, Q: np.ndarray, d: np.ndarray, y0: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``log int_{y0 d - n}^{Y d - n} (m+tau)^-P (n+tau)^-Q dtau`` by the binomial series, ``y0 < Y <= 1/3``, ``P Y <= 1``.

    With ``y = (n + tau) / d`` (``d = m - n``) the integral is ``d^(1-P-Q) int_{y0}^{Y}
    y^-Q (1+y)^-P dy``; expanding ``(1+y)^-P = sum_k (-1)^k (P)_k / k! y^k`` (convergent for
    ``y < 1``) gives ``sum_k (-1)^k c_k D_k`` with ``c_k = (P)_k / k!`` and
    ``D_k = int_{y0}^{Y} y^(e-1) dy = W_k (1 - exp(-|e| L)) / |e| > 0``, ``e = k + 1 - Q``,
    ``L = log(Y / y0)``, ``W_k = max(Y^e, y0^e)`` (``expm1``; ``L`` itself where ``e = 0``).
    ``W_k / W_{k-1} = y0 (Y / y0)^clip(e, 0, 1) <= Y``, so the terms are summed relative to
    the first, in linear space, one vector operation per term over all rows. They fall at
    least like ``c_k Y^k``; for ``P <= _SERIES_P_MAX`` the sum is at least ``(1+Y)^-P`` times
    its first term (``e^-P Y >= e^-1`` for ``P > 3``, where ``Y = 1 / P``), so the alternating
    signs cost at most a digit; the sum stops once every row's term is below 1e-17 of its sum
    (at most ``_SERIES_TERMS`` terms: ``3^-48 C(50, 2) ~ 1e-20``; ``1 / k!`` for ``P Y = 1``).
    Used for ``y0 < min(1/9, Y)`` (``z > _Z_CUT``).
    """
    a = np.log(y0)
    L = np.log(Y) - a
    e = 1.0 - Q

    def h(e: np.ndarray, L: np.ndarray) -> np.ndarray:
        """``(1 - exp(-|e| L)) / |e|``, ``L`` at ``e = 0``."""
        ae = np.abs(e)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -np.expm1(-ae * L)
            out /= ae
        zero = ae == 0.0
        if zero.any():
            out[zero] = L[zero]
        return out

    log_w0 = e * a + np.maximum(e, 0.0) * L  # log W_0
    result = h(e, L)  # the sums, per row; rows whose terms have become negligible leave the working arrays
    rows = np.arange(a.size)
    total = result.copy()
    w = np.ones_like(a)  # W_k / W_0
    c = np.ones_like(a)
    PP = P
    for k in range(1, _SERIES_TERMS):
        e = e + 1.0
        w *= np.exp(a + np.clip(e, 0.0, 1.0) * L)
        c *= (PP + (k - 1.0)) / k
        term = c * w * h(e, L)
        if k % 2:
            total -= term
        else:
            total += term
        if k % 4 == 0:
            done = term <= 1e-17 * total
            n_done = int(np.count_nonzero(done))
            if n_done == done.size:
                break
            if 4 * n_done >= done.size:
                result[rows[done]] = total[done]
                keep = ~done
                rows, a, L, e, w, c, PP, total = rows[keep], a[keep], L[keep], e[keep], w[keep], c[keep], PP[keep], total[keep]
    result[rows] = total
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1.0 - P - Q) * np.log(d) + log_w0 + np.log(result)


def log_pnbd_tail(
    p: np.ndarray, q: np.ndarray, alpha: np.ndarray, beta: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Logarithm of :math:`G(t)=\\int_t^\\infty (\\alpha+\\tau)^{-p}(\\beta+\\tau)^{-q}d\\tau`.

    Parameters
    ----------
    p, q : numpy.ndarray
        Positive exponents with ``p + q > 1`` (in the Pareto/NBD likelihood
        ``p = r + x`` and ``q = s + 1``).
    alpha, beta : numpy.ndarray
        Positive scale parameters.
    t : numpy.ndarray
        Lower limit, ``t >= 0``.

    Returns
    -------
    numpy.ndarray
        :math:`\\log G(t)`, finite for all admissible inputs.

    Notes
    -----
    Where ``z = (m - n)/(m + t) <= 0.9`` the continued fraction converges in
    at most about 100 terms. Beyond (very different ``alpha`` and ``beta``
    and a small ``t``: the integrand has two scales, ``n + t`` and ``m``, and
    the fraction would need ``~1/sqrt(1-z)`` terms) the integral is split at
    ``t*`` with ``z(t*) = 0.5``: ``G(t) = G(t*) + int_t^{t*}``, the tail by the
    continued fraction and the finite part by quadrature.
    """
    p, q, alpha, beta, t = np.broadcast_arrays(*(np.asarray(v, float) for v in (p, q, alpha, beta, t)))
    shape = p.shape
    p, q, alpha, beta, t = (v.ravel() for v in (p, q, alpha, beta, t))
    swap = alpha < beta
    m = np.where(swap, beta, alpha)
    n = np.where(swap, alpha, beta)
    P = np.where(swap, q, p)
    Q = np.where(swap, p, q)
    a = P + Q - 1.0
    log_mt = np.log(m + t)
    log_nt = np.log(n + t)
    z = (m - n) / (m + t)
    out = np.empty(p.shape)
    near = z > _Z_CUT
    far = ~near
    if far.any():
        out[far] = _log_tail_cf(a[far], P[far], Q[far], log_mt[far], log_nt[far], z[far])
    series = near & (P <= _SERIES_P_MAX)
    if series.any():
        i = np.flatnonzero(series)
        d = m[i] - n[i]
        y0 = (n[i] + t[i]) / d
        Y = _series_bound(P[i])
        direct = y0 >= Y  # (P > 9 only) z(t) <= 1 / (1 + Y): the continued fraction alone
        if direct.any():
            j = i[direct]
            out[j] = _log_tail_cf(a[j], P[j], Q[j], log_mt[j], log_nt[j], z[j])
        keep = ~direct
        i, d, y0, Y = i[keep], d[keep], y0[keep], Y[keep]
        # G(t) = G(t_Y) + int_t^{t_Y}, with n + t_Y = Y d: z(t_Y) = 1 / (1 + Y)
        lm_s, ln_s = np.log(d) + np.log1p(Y), np.log(d) + np.log(Y)
        tail = _log_tail_cf(a[i], P[i], Q[i], lm_s, ln_s, 1.0 / (1.0 + Y))
        out[i] = np.logaddexp(tail, _log_near_series(P[i], Q[i], d, y0, Y))
        near &= ~series
    if near.any():
        i = np.flatnonzero(near)
        d = m[i] - n[i]
        t_star = m[i] - 2.0 * n[i]  # z(t*) = d / (m + t*) = 1/2
        lm_s, ln_s = np.log(m[i] + t_star), np.log(n[i] + t_star)
        tail = _log_tail_cf(a[i], P[i], Q[i], lm_s, ln_s, np.full(i.size, _Z_MID))
        v0 = (n[i] + t[i]) / (m[i] + t[i])
        out[i] = np.logaddexp(tail, _log_near_part(P[i], Q[i], d, v0))
    return out.reshape(shape)


def log_pnbd_interval(
    p: np.ndarray, q: np.ndarray, alpha: np.ndarray, beta: np.ndarray, t0: np.ndarray, t1: np.ndarray
) -> np.ndarray:
    """Logarithm of :math:`\\int_{t_0}^{t_1} (\\alpha+\\tau)^{-p}(\\beta+\\tau)^{-q}d\\tau`.

    Computed as :math:`\\log G(t_0) + \\log(1 - G(t_1)/G(t_0))` with
    ``log1p(-exp(.))``; ``-inf`` where ``t1 == t0``.

    Parameters
    ----------
    p, q, alpha, beta : numpy.ndarray
        As in :func:`log_pnbd_tail`.
    t0, t1 : numpy.ndarray
        Limits, ``0 <= t0 <= t1``.

    Returns
    -------
    numpy.ndarray
        Log of the integral.
    """
    g0 = log_pnbd_tail(p, q, alpha, beta, t0)
    g1 = log_pnbd_tail(p, q, alpha, beta, t1)
    return log_interval_from_tails(g0, g1, t0, t1)


def log_interval_from_tails(g0: np.ndarray, g1: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """``log(G(t0) - G(t1))`` from ``log G(t0)`` and ``log G(t1)`` (see :func:`log_pnbd_interval`).

    Parameters
    ----------
    g0, g1 : numpy.ndarray
        Logs of the tail integrals at ``t0`` and ``t1``.
    t0, t1 : numpy.ndarray
        The limits, ``0 <= t0 <= t1``.

    Returns
    -------
    numpy.ndarray
        Log of the integral over ``[t0, t1]``; ``-inf`` where ``t1 == t0``.
    """
    d = np.minimum(g1 - g0, 0.0)
    with np.errstate(divide="ignore"):
        # log(1 - e^d), accurate for d near 0 and very negative d
        l1m = np.where(d > -0.693, np.log(-np.expm1(d)), np.log1p(-np.exp(d)))
    return np.where(np.asarray(t1) > np.asarray(t0), g0 + l1m, -np.inf)
