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

__all__ = ["hyp2f1_1b", "log_pnbd_tail", "log_pnbd_tail_grad", "log_pnbd_interval", "log_interval_from_tails"]

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
    if active.size == z.size:  # (every entry: no selection copies)
        bb, cc, zz = b, c0, z
    else:
        bb, cc, zz = b[active], c0[active], z[active]
    bb0, cc0, zz0 = bb, cc, zz
    nzz = -zz
    # T = 1 + a1/(1 + a2/(1 + ...)) with a_n = e_n z; result = 1/T.
    # Entries that have converged are moved out of the working arrays (when a quarter of
    # them has, or every 16 terms), so the cost of each term is about proportional to the
    # entries still iterating; converged entries iterated a little longer only gain accuracy.
    # The terms are computed into preallocated buffers (the first ``pos.size`` entries of each): the
    # same operations in the same order as written out in the comments, without a new array per step.
    res = np.ones(active.size)
    pos = np.arange(active.size)
    f = np.ones(active.size)
    C = f.copy()
    D = np.zeros(active.size)
    done = np.zeros(active.size, bool)
    buffers = [np.empty(active.size) for _ in range(4)]
    e, t1, delta, c2 = buffers
    for n in range(1, max_iter + 1):
        m = n // 2
        np.add(cc, 2 * m, out=c2)  # c2 = cc + 2 m
        if n % 2 == 1:  # e = -(cc + m) (bb + m) / (c2 (c2 + 1)) z
            np.add(cc, m, out=e)
            np.add(bb, m, out=t1)
            e *= t1
            np.add(c2, 1.0, out=t1)
            np.multiply(c2, t1, out=t1)
            e /= t1
            e *= nzz
        else:  # e = (bb - cc - m) z m / ((c2 - 1) c2)
            np.subtract(bb, cc, out=e)
            e -= m
            e *= zz
            e *= m
            np.subtract(c2, 1.0, out=t1)
            t1 *= c2
            e /= t1
        # modified Lentz; a zero denominator (possible only by accident) is caught after the loop
        D *= e
        D += 1.0
        np.divide(1.0, D, out=D)
        np.divide(e, C, out=C)  # C = e / C + 1
        C += 1.0
        np.multiply(C, D, out=delta)
        f *= delta
        if n % 4 and n > 4:  # convergence checked every fourth term (a few extra terms cost less)
            continue
        np.subtract(delta, 1.0, out=t1)
        np.abs(t1, out=t1)
        done |= t1 < rtol
        n_done = int(np.count_nonzero(done))
        if n_done == done.size:
            res[pos] = f
            pos = pos[:0]
            break
        if n_done and (4 * n_done >= done.size or n % 16 == 0):
            res[pos[done]] = f[done]
            keep = ~done
            pos, bb, cc, zz, nzz, f, C, D = pos[keep], bb[keep], cc[keep], zz[keep], nzz[keep], f[keep], C[keep], D[keep]
            done = np.zeros(pos.size, bool)
            e, t1, delta, c2 = (buf[: pos.size] for buf in buffers)
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
    return _cf_value(a, Q, log_mt, log_nt, np.log(hyp2f1_1b(P, P + Q, z)))


def _cf_value(a: np.ndarray, Q: np.ndarray, log_mt: np.ndarray, log_nt: np.ndarray, log_s: np.ndarray) -> np.ndarray:
    """``-a log(m+t) + (1-Q) log((n+t)/(m+t)) + log S - log a``: the explicit terms of the tail, plus ``log S``."""
    return -a * log_mt + (1.0 - Q) * (log_nt - log_mt) + log_s - np.log(a)


def _log_near_part(P: np.ndarray, Q: np.ndarray, d: np.ndarray, v0: np.ndarray, *,
                   with_moments: bool = False) -> np.ndarray | tuple[np.ndarray, ...]:
    """``log int_t^{t*} (m+tau)^-P (n+tau)^-Q dtau`` for ``z(t) > _Z_CUT`` and ``z(t*) = _Z_MID``.

    With ``v = (n+tau)/(m+tau)`` (``d = m - n``) the integral is
    ``d^(1-P-Q) int_{v0}^{1-_Z_MID} v^-Q (1-v)^(P+Q-2) dv``; it is integrated in
    ``log v`` by composite Gauss-Legendre panels (:mod:`._quadrature`): the
    log integrand ``(1-Q) y + (P+Q-2) log(1 - e^y)`` is concave when
    ``P + Q >= 2``; otherwise the bounded factor ``(1-e^y)^(P+Q-2)`` (between
    1 and 4) is applied at the nodes.

    With ``with_moments`` also the log of the integral in ``log v`` (the value less ``(1-P-Q) log d``) and the
    averages under the integrand, on the same nodes, of ``log(1-v)``, ``log v``, ``1-v = d/(m+tau)`` and
    ``(n+t)/(n+tau)``: the derivatives in ``P`` and ``Q`` are ``-log d + E[log(1-v)]`` and ``-log d + E[log(1-v)
    - log v]`` (differentiation under the integral), and the ratios ``G(P+1)/G = E[1/(m+tau)]``, ``G(Q+1)/G =
    E[1/(n+tau)]``.
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
    means = np.empty((4, v0.size))
    for idx, y, log_w in unimodal_nodes(log_f, coord, lo, hi, np.clip(mode, lo, hi)):
        l1m = np.log1p(-np.exp(y))
        lw = log_w + c_out[idx, None] * l1m
        out[idx] = special.logsumexp(lw, axis=1)
        if with_moments:  # normalised by their own sum: out (~(1-Q) log v0, 3e5 at s = 2e4) is rounded to ~6e-11
            w = np.exp(lw - np.max(lw, axis=1, keepdims=True))
            w /= np.sum(w, axis=1, keepdims=True)
            lo_i = lo[idx, None]
            # log(1-v), log v, d / (m+tau) = 1 - v, (n+t) / (n+tau) = (v0 / v) (1-v) / (1-v0) (at most 1)
            for k, g in enumerate((l1m, y, -np.expm1(y), np.exp(lo_i - y) * np.expm1(y) / np.expm1(lo_i))):
                means[k, idx] = np.sum(w * g, axis=1)
    value = (1.0 - P - Q) * np.log(d) + out
    return (value, out, *means) if with_moments else value


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


def _log_near_series(P: np.ndarray, Q: np.ndarray, d: np.ndarray, y0: np.ndarray, Y: np.ndarray, *,
                     with_rho: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
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

    With ``with_rho`` also ``rho = max(1-Q, 0) L + log(sum)``: the value is ``(1-P-Q) log d + (1-Q) log y0 + rho``,
    and ``rho = log int_0^L e^((1-Q) u) (1 + y0 e^u)^-P du`` (smooth in ``P``, ``Q``; at most ``L + log L``) is
    the part that :func:`log_pnbd_tail_grad` differentiates by differences.
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

    lift = np.maximum(e, 0.0) * L
    log_w0 = e * a + lift  # log W_0
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
        log_result = np.log(result)
        out = (1.0 - P - Q) * np.log(d) + log_w0 + log_result
    return (out, lift + log_result) if with_rho else out


def _tail_geometry(p: np.ndarray, q: np.ndarray, alpha: np.ndarray, beta: np.ndarray, t: np.ndarray) -> dict:
    """The branches of :func:`log_pnbd_tail` for flat arrays (shared with :func:`log_pnbd_tail_grad`).

    ``m = max(alpha, beta)`` carries the exponent ``P``, ``n = min`` the exponent ``Q``; the rows of ``far``
    (``z <= _Z_CUT``) and ``direct`` take the continued fraction alone, ``series`` (near part by the binomial
    series, split at ``z = 1 / (1 + Y)``) and ``quad`` (near part by quadrature, split at ``z = 1/2``) the sum of a
    tail and a near part.
    """
    swap = alpha < beta
    m = np.where(swap, beta, alpha)
    n = np.where(swap, alpha, beta)
    P = np.where(swap, q, p)
    Q = np.where(swap, p, q)
    g = dict(swap=swap, m=m, n=n, P=P, Q=Q, a=P + Q - 1.0, log_mt=np.log(m + t), log_nt=np.log(n + t), z=(m - n) / (m + t))
    near = g["z"] > _Z_CUT
    g["far"] = np.flatnonzero(~near)
    series = near & (P <= _SERIES_P_MAX)
    i = np.flatnonzero(series)
    d = m[i] - n[i]
    y0 = (n[i] + t[i]) / d
    Y = _series_bound(P[i])
    direct = y0 >= Y  # (P > 9 only) z(t) <= 1 / (1 + Y): the continued fraction alone
    g["direct"] = i[direct]
    keep = ~direct
    i, d, y0, Y = i[keep], d[keep], y0[keep], Y[keep]
    # G(t) = G(t_Y) + int_t^{t_Y}, with n + t_Y = Y d: z(t_Y) = 1 / (1 + Y)
    g["series"] = dict(i=i, d=d, y0=y0, Y=Y, lm=np.log(d) + np.log1p(Y), ln=np.log(d) + np.log(Y), z=1.0 / (1.0 + Y))
    i = np.flatnonzero(near & ~series)
    d = m[i] - n[i]
    t_star = m[i] - 2.0 * n[i]  # z(t*) = d / (m + t*) = 1/2
    g["quad"] = dict(i=i, d=d, lm=np.log(m[i] + t_star), ln=np.log(n[i] + t_star), z=np.full(i.size, _Z_MID),
                     v0=(n[i] + t[i]) / (m[i] + t[i]))
    return g


def _log_tail_one_scale_pair(p: np.ndarray, q: np.ndarray, alpha: float, beta: float, t: np.ndarray) -> np.ndarray | None:
    """:func:`log_pnbd_tail` for scalar ``alpha, beta`` where every entry has ``z <= _Z_CUT`` (else ``None``).

    The same operations on the same values as the general path (which broadcasts ``alpha, beta`` to arrays and
    selects the entries of each branch), without those copies and selections: bit-identical results.
    """
    p, q, t = np.broadcast_arrays(*(np.asarray(v, float) for v in (p, q, t)))
    shape = p.shape
    p, q, t = (v.ravel() for v in (p, q, t))
    m, n, P, Q = (beta, alpha, q, p) if alpha < beta else (alpha, beta, p, q)
    z = (m - n) / (m + t)
    if np.any(z > _Z_CUT):
        return None
    return _log_tail_cf(P + Q - 1.0, P, Q, np.log(m + t), np.log(n + t), z).reshape(shape)


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
    if np.ndim(alpha) == 0 and np.ndim(beta) == 0:  # one pair of scales (the likelihood's case)
        fast = _log_tail_one_scale_pair(p, q, float(alpha), float(beta), t)
        if fast is not None:
            return fast
    p, q, alpha, beta, t = np.broadcast_arrays(*(np.asarray(v, float) for v in (p, q, alpha, beta, t)))
    shape = p.shape
    g = _tail_geometry(*(v.ravel() for v in (p, q, alpha, beta, t)))
    P, Q, a = g["P"], g["Q"], g["a"]
    out = np.empty(P.shape)
    for j in (g["far"], g["direct"]):
        if j.size:
            out[j] = _log_tail_cf(a[j], P[j], Q[j], g["log_mt"][j], g["log_nt"][j], g["z"][j])
    for key, near in (("series", lambda i, b: _log_near_series(P[i], Q[i], b["d"], b["y0"], b["Y"])),
                      ("quad", lambda i, b: _log_near_part(P[i], Q[i], b["d"], b["v0"]))):
        b = g[key]
        i = b["i"]
        if i.size:
            tail = _log_tail_cf(a[i], P[i], Q[i], b["lm"], b["ln"], b["z"])
            out[i] = np.logaddexp(tail, near(i, b))
    return out.reshape(shape)


def log_pnbd_tail_grad(
    r: float, x: np.ndarray, s: float, alpha: float, beta: float, t: np.ndarray, *, step: float = 1e-5
) -> tuple[np.ndarray, np.ndarray]:
    """The Pareto/NBD tail ``log G(t)`` (``p = r + x``, ``q = s + 1``) and its derivatives in the log parameters.

    Each branch of :func:`log_pnbd_tail` writes ``log G`` as explicit terms in ``p`` and ``q`` (of size ``(p + q)
    log(max(alpha, beta) + t)``, 1e5 at ``s = 2e4``) plus a bounded remainder: ``log 2F1`` of the continued
    fraction, the series' log sum relative to its first term (``rho`` of :func:`_log_near_series`), or the
    quadrature's integral. The explicit terms are differentiated analytically; the remainders of the continued
    fraction and the series by central differences in ``log r`` and ``log s`` (step ``step``) and evaluated at
    ``p + 1`` and ``q + 1`` (``dG/dalpha = -p G(p+1, q)``, ``dG/dbeta = -q G(p, q+1)``: the ratios as the change of
    the remainder plus the explicit terms' change); the quadrature's derivatives and ratios are averages under the
    integrand on its own nodes. Where the integral is split (``G(t) = G(t*) + int_t^{t*}``) the two parts are
    weighted by ``expit(log(tail / near))``, that log ratio computed without the explicit terms. Differencing the
    whole ``log G`` (before, issue #12) lost ``eps |log G| / step``, and ``exp(log G(p+1) - log G(p))`` lost ``eps
    |log G|``: up to 8e-5 relative in ``d LL / d log r`` and 2e-6 in ``d LL / d log beta`` at ``s = 2e4``.

    The continued fraction is evaluated for the seven parameter sets (the point, ``r e^(+-step)``, ``s
    e^(+-step)``, ``p + 1``, ``q + 1``) in one vectorised call, on the branches of the point; where the continued
    fraction alone is used (``z <= 0.9``, as on CDNOW) the values are those of the former seven-set evaluation bit
    for bit.

    Parameters
    ----------
    r, s : float
        Shapes of the purchase and dropout rates (``p = r + x``, ``q = s + 1``).
    x : numpy.ndarray
        Frequencies, shape ``(n,)``.
    alpha, beta : float
        Scales of the purchase and dropout rates.
    t : numpy.ndarray
        Lower limits, ``t >= 0``, shape ``(n,)``.
    step : float, default 1e-5
        Step of the central differences in ``log r`` and ``log s``.

    Returns
    -------
    log_g : numpy.ndarray, shape (n,)
        :math:`\\log G(t)` (:func:`log_pnbd_tail`'s value up to its last bit: the continued fraction's converged
        entries are iterated a little longer or shorter in another batch).
    d_log : numpy.ndarray, shape (4, n)
        ``d log G / d log theta`` for ``theta = r, alpha, s, beta``.
    """
    x, t = np.asarray(x, float).ravel(), np.asarray(t, float).ravel()
    p, q = r + x, s + 1.0
    ones = np.ones_like(p)
    # the sets: point, r e^(+-h), s e^(+-h), p + 1, q + 1 (the same floats as the former seven-set call)
    pp = np.stack([p, r * np.exp(step) + x, r * np.exp(-step) + x, p, p, p + 1.0, p])
    qq = np.stack([ones * v for v in (q, q, q, s * np.exp(step) + 1.0, s * np.exp(-step) + 1.0, q, s + 2.0)])
    g = _tail_geometry(p, q, np.full(p.shape, float(alpha)), np.full(p.shape, float(beta)), t)
    swap = g["swap"]
    PP, QQ = np.where(swap, qq, pp), np.where(swap, pp, qq)
    P, Q, a = g["P"], g["Q"], g["a"]
    log_g = np.empty(p.shape)
    d_r, d_s, ratio_p, ratio_q = (np.empty(p.shape) for _ in range(4))

    def piece(i, dP, dQ, up_P, up_Q, rem=None) -> tuple[np.ndarray, ...]:
        """``d/d log r``, ``d/d log s`` and ``log(G(p+1)/G)``, ``log(G(q+1)/G)`` of one part of ``log G``: the explicit
        terms' ``d/dP``, ``d/dQ`` and change at ``P + 1``, ``Q + 1``, plus the remainder ``rem`` over the sets."""
        sw = swap[i]
        dp, dq = np.where(sw, dQ, dP), np.where(sw, dP, dQ)
        up_p, up_q = np.where(sw, up_Q, up_P), np.where(sw, up_P, up_Q)
        out = [r * dp, s * dq, up_p, up_q]
        if rem is not None:
            out[0] = out[0] + (rem[1] - rem[2]) / (2.0 * step)
            out[1] = out[1] + (rem[3] - rem[4]) / (2.0 * step)
            out[2], out[3] = up_p + (rem[5] - rem[0]), up_q + (rem[6] - rem[0])
        return tuple(out)

    def cf_piece(i: np.ndarray, lm: np.ndarray, ln: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, tuple]:
        """The continued-fraction tail at ``(lm, ln, z)`` for the seven sets: its value at the point and its piece."""
        log_s = np.log(hyp2f1_1b(PP[:, i].ravel(), (PP[:, i] + QQ[:, i]).ravel(), np.tile(z, 7))).reshape(7, i.size)
        ai = a[i]
        inv_a, l1a = 1.0 / ai, np.log1p(1.0 / ai)
        value = _cf_value(ai, Q[i], lm, ln, log_s[0])
        return value, piece(i, -lm - inv_a, -ln - inv_a, -lm - l1a, -ln - l1a, log_s), log_s[0]

    def put(i: np.ndarray, value: np.ndarray, parts: tuple) -> None:
        log_g[i] = value
        d_r[i], d_s[i] = parts[0], parts[1]
        ratio_p[i], ratio_q[i] = np.exp(parts[2]), np.exp(parts[3])

    def put_split(i: np.ndarray, tail: np.ndarray, near: np.ndarray, log_ratio: np.ndarray, pt: tuple, pn: tuple) -> None:
        log_g[i] = np.logaddexp(tail, near)
        w = special.expit(log_ratio)  # the tail's share of G
        d_r[i] = w * pt[0] + (1.0 - w) * pn[0]
        d_s[i] = w * pt[1] + (1.0 - w) * pn[1]
        ratio_p[i] = w * np.exp(pt[2]) + (1.0 - w) * np.exp(pn[2])
        ratio_q[i] = w * np.exp(pt[3]) + (1.0 - w) * np.exp(pn[3])

    for j in (g["far"], g["direct"]):
        if j.size:
            value, parts, _ = cf_piece(j, g["log_mt"][j], g["log_nt"][j], g["z"][j])
            put(j, value, parts)
    b = g["series"]
    i = b["i"]
    if i.size:
        d, y0, Y = b["d"], b["y0"], b["Y"]
        tail, p_tail, log_s = cf_piece(i, b["lm"], b["ln"], b["z"])
        near, rho = _log_near_series(PP[:, i].ravel(), QQ[:, i].ravel(), *(np.tile(v, 7) for v in (d, y0, Y)),
                                     with_rho=True)
        near, rho = near.reshape(7, i.size)[0], rho.reshape(7, i.size)
        # near = (1-P-Q) log d + (1-Q) log y0 + rho (d y0 = n + t)
        log_d, log_y0 = np.log(d), np.log(y0)
        p_near = piece(i, -log_d, -log_d - log_y0, -log_d, -log_d - log_y0, rho)
        # log(tail / near) = -P log1p(Y) + (1-Q) log(Y / y0) + log S - log a - rho
        log_ratio = -P[i] * np.log1p(Y) + (1.0 - Q[i]) * (np.log(Y) - log_y0) + log_s - np.log(a[i]) - rho[0]
        put_split(i, tail, near, log_ratio, p_tail, p_near)
    b = g["quad"]
    i = b["i"]
    if i.size:
        d = b["d"]
        tail, p_tail, log_s = cf_piece(i, b["lm"], b["ln"], b["z"])
        near, log_int, e_l1m, e_y, e_m, e_n = _log_near_part(P[i], Q[i], d, b["v0"], with_moments=True)
        log_d = np.log(d)
        # d/dP = -log d + E log(1-v), d/dQ = -log d + E[log(1-v) - log v]; G(P+1)/G = E[1/(m+tau)] = E[1-v] / d,
        # G(Q+1)/G = E[1/(n+tau)] = E[(n+t)/(n+tau)] / (n+t)
        p_near = piece(i, -log_d + e_l1m, -log_d + e_l1m - e_y, np.log(e_m) - log_d,
                       np.log(e_n) - np.log(g["n"][i] + t[i]))
        # log(tail / near) = -P log 2 + log S - log a - log_int (m + t* = 2 d, n + t* = d)
        put_split(i, tail, near, -P[i] * np.log(2.0) + log_s - np.log(a[i]) - log_int, p_tail, p_near)
    return log_g, np.stack([d_r, -alpha * p * ratio_p, d_s, -beta * q * ratio_q])


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
