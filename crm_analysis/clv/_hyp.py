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
        Maximum number of continued-fraction terms; a ``RuntimeWarning`` is
        issued for entries that have not converged.

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
    # T = 1 + a1/(1 + a2/(1 + ...)) with a_n = e_n z; result = 1/T.
    # Entries that have converged are moved out of the working arrays, so the
    # cost of each term is proportional to the entries still iterating.
    res = np.ones(active.size)
    pos = np.arange(active.size)
    f = np.ones(active.size)
    C = f.copy()
    D = np.zeros(active.size)
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
        conv = np.abs(delta - 1.0) < rtol
        if conv.any():
            res[pos[conv]] = f[conv]
            keep = ~conv
            if not keep.any():
                pos = pos[:0]
                break
            pos, bb, cc, zz, f, C, D = pos[keep], bb[keep], cc[keep], zz[keep], f[keep], C[keep], D[keep]
    if pos.size:
        res[pos] = f
        warnings.warn(
            f"hyp2f1_1b: continued fraction did not converge for {int(pos.size)} value(s) "
            f"within {max_iter} terms (z very close to 1)",
            RuntimeWarning,
            stacklevel=2,
        )
    f = res
    out[active] = 1.0 / f
    return out.reshape(shape)


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
    """
    p, q, alpha, beta, t = np.broadcast_arrays(*(np.asarray(v, float) for v in (p, q, alpha, beta, t)))
    swap = alpha < beta
    m = np.where(swap, beta, alpha)
    n = np.where(swap, alpha, beta)
    P = np.where(swap, q, p)
    Q = np.where(swap, p, q)
    a = P + Q - 1.0
    log_mt = np.log(m + t)
    log_nt = np.log(n + t)
    z = (m - n) / (m + t)
    S = hyp2f1_1b(P, P + Q, z)
    return -a * log_mt + (1.0 - Q) * (log_nt - log_mt) + np.log(S) - np.log(a)


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
