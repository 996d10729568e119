"""Differences of log-gamma and digamma functions that stay accurate for large arguments.

The likelihoods of the beta-geometric models hold ``log Gamma(b + x) -
log Gamma(b)`` and ``psi(b + x) - psi(b)``. Computed as the difference of two
:func:`scipy.special.gammaln` values they lose about ``log10(b log b)`` digits:
at ``b = 7e9`` (where a BG/NBD fit on data without dropout runs) the first is
wrong by ~1e-5 absolute per customer, enough to make a point on the way to the
no-dropout limit look 0.01 log-likelihood units better than the limit itself.
For ``z >= 1000`` these functions use Stirling's series for the *difference*,
with the leading terms written so that nothing cancels (``log1p``), and
``x / (z (z + x))`` for the differences of the correction terms (Abramowitz &
Stegun 6.1.41 and 6.3.18); the truncation error is below ``1e-24``.
:func:`log_beta` builds ``log B(a, b)`` on the same series (the Gamma-Gamma
likelihood holds ``-log B(p x, q)``). Checked against mpmath at 50 digits in
``tests/clv/test_special.py``.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from scipy import special

__all__ = [
    "CountSums", "GammaPoissonScale", "log_beta", "log_rising", "digamma_difference", "trigamma_difference",
    "log1pexp",
    "log1pexp_and_expit", "LOG_TINY", "alive_product", "alive_product_from_log_odds",
]

_LARGE = 1e3
_FEW = 32  # counts up to this are summed term by term below _LARGE


def log_rising(z: np.ndarray | float, x: np.ndarray | float) -> np.ndarray:
    """``log Gamma(z + x) - log Gamma(z)`` (the log of the rising factorial), for ``z > 0`` and a count ``x >= 0``.

    Parameters
    ----------
    z, x : array-like
        Broadcast together.

    Returns
    -------
    numpy.ndarray
        Relative error about 1e-15 for every ``z`` (the plain difference of
        ``gammaln`` loses up to ~10 digits for ``z ~ 1e10``).
    """
    if np.ndim(z) == 0 and np.ndim(x) == 1:  # the likelihoods' case: one z, the distinct counts (same arithmetic)
        return _log_rising_scalar(float(z), np.asarray(x, float))
    z, x = np.broadcast_arrays(np.asarray(z, float), np.asarray(x, float))
    out = np.empty(z.shape)
    big = z >= _LARGE
    # a small count: the sum of log(z + k), k < x, with log1p where z + k is near 1 (the gammaln difference is
    # relatively wrong by ~1e-16 / |result| there: 5e-11 for z = 1 + 4.6e-11, x = 1)
    few = ~big & (x >= 1) & (x <= _FEW) & (x == np.floor(x))
    small = ~big & ~few
    with np.errstate(all="ignore"):
        out[small] = special.gammaln(z[small] + x[small]) - special.gammaln(z[small])
        if few.any():
            zf, xf = z[few], x[few]
            k = np.arange(_FEW, dtype=float)[None, :]
            terms = np.log(zf[:, None] + k)
            terms[:, 0] = np.where(np.abs(zf - 1.0) < 0.5, np.log1p(zf - 1.0), np.log(zf))  # z - 1 exact there
            terms[:, 1] = np.log1p(zf)
            out[few] = np.where(k < xf[:, None], terms, 0.0).sum(axis=1)
        zb, xb = z[big], x[big]
        zx = zb + xb
        # (z+x-1/2) log(z+x) - (z-1/2) log z - x  =  x log z + (z+x-1/2) log1p(x/z) - x
        main = xb * np.log(zb) + (zx - 0.5) * np.log1p(xb / zb) - xb
        # 1/(12u) - 1/(360u^3) + 1/(1260u^5), differenced between u = z+x and u = z
        d1 = -xb / (zb * zx)  # 1/(z+x) - 1/z
        d3 = (1.0 / zx) ** 3 - (1.0 / zb) ** 3
        d5 = (1.0 / zx) ** 5 - (1.0 / zb) ** 5
        out[big] = main + d1 / 12.0 - d3 / 360.0 + d5 / 1260.0
    return out


def _log_rising_scalar(z: float, x: np.ndarray) -> np.ndarray:
    """:func:`log_rising` for one ``z`` and a 1-d ``x``: the same formulas element by element, without broadcasting.

    The small counts (``1 <= x <= 32``) take the running sums of the terms
    ``log(z + k)``, computed once for ``k < max(x)`` (a cumulative sum instead
    of a ``(n, 32)`` masked table: the likelihoods call this with the distinct
    counts at every evaluation).
    """
    with np.errstate(all="ignore"):
        if z >= _LARGE:
            zx = z + x
            main = x * np.log(z) + (zx - 0.5) * np.log1p(x / z) - x
            d1 = -x / (z * zx)
            # powers by products, the same for the array and the scalar: exactly 0 at x = 0
            izx, iz = 1.0 / zx, 1.0 / z
            izx2, iz2 = izx * izx, iz * iz
            d3 = izx2 * izx - iz2 * iz
            d5 = izx2 * izx2 * izx - iz2 * iz2 * iz
            return main + d1 / 12.0 - d3 / 360.0 + d5 / 1260.0
        few = (x >= 1) & (x <= _FEW) & (x == np.floor(x))
        out = special.gammaln(z + x) - special.gammaln(z)
        if few.any():
            xf = x[few].astype(np.intp)
            terms = np.log(z + np.arange(int(xf.max()), dtype=float))
            terms[0] = np.log1p(z - 1.0) if abs(z - 1.0) < 0.5 else np.log(z)
            if terms.size > 1:
                terms[1] = np.log1p(z)
            out[few] = np.cumsum(terms)[xf - 1]
        return out


def log1pexp_and_expit(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(1 + e^d)`` and the logistic ``1 / (1 + e^-d)`` of the same array, from one exponential.

    The same formulas as :func:`numpy.logaddexp` ``(0, d)`` (``max(d, 0) +
    log1p(e^-|d|)``) and :func:`scipy.special.expit` (``1/(1 + e^-d)`` for
    ``d >= 0``, ``e^d/(1 + e^d)`` below), sharing ``e^-|d|``: the two calls
    cost about 5 times as much on the few thousand distinct rows a
    likelihood evaluation takes them on.

    Parameters
    ----------
    d : numpy.ndarray
        Any real values (``+-inf`` give ``(inf, 1)`` and ``(0, 0)``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``log(1 + e^d)`` and ``expit(d)``, the shape of ``d``.
    """
    softplus, e = _log1pexp_parts(d)
    q = 1.0 / (1.0 + e)
    return softplus, np.where(d >= 0.0, q, e * q)


def log1pexp(d: np.ndarray) -> np.ndarray:
    """``log(1 + e^d)`` alone: the first array of :func:`log1pexp_and_expit`, bit for bit, without the logistic.

    For the likelihoods' value-only evaluations (the fits' starting values), where the logistic is not
    needed.
    """
    return _log1pexp_parts(d)[0]


#: ``log(1e-300)``: below it a probability is taken in log space in :func:`alive_product`
LOG_TINY = math.log(1e-300)


def alive_product(p_alive: np.ndarray, log_p_alive: np.ndarray, if_alive: np.ndarray) -> np.ndarray:
    """``P(alive) * E[Y | alive]``, taken in log space where ``P(alive)`` is below ``1e-300`` (issue #12).

    ``P(alive)`` of a customer with a long silence can be ``1e-309`` (subnormal, few digits) or flush to
    ``0`` (below ``~1e-308``, e.g. ``scipy.special.expit`` forms ``1 / (1 + e^z)``) while the product with a
    large expectation if alive is still a number above ``1e-300``; there ``exp(log P(alive) +
    log E[Y | alive])``. Elsewhere the plain product, bit for bit.

    Parameters
    ----------
    p_alive, log_p_alive : numpy.ndarray
        ``P(alive)`` and its log (the same quantity; ``log_p_alive`` need not be ``log(p_alive)`` bit for bit),
        broadcastable with ``if_alive``.
    if_alive : numpy.ndarray
        Expected purchases if alive (``>= 0``).

    Returns
    -------
    numpy.ndarray
        The products, shaped as the broadcast of the inputs.
    """
    tiny = log_p_alive < LOG_TINY
    if not np.any(tiny):
        return p_alive * if_alive
    with np.errstate(divide="ignore"):
        return np.where(tiny, np.exp(log_p_alive + np.log(if_alive)), p_alive * if_alive)


def alive_product_from_log_odds(gone_log_odds: np.ndarray, if_alive: np.ndarray) -> np.ndarray:
    """:func:`alive_product` with ``P(alive) = 1 / (1 + e^d)``, ``d = log(P(gone) / P(alive))``.

    Parameters
    ----------
    gone_log_odds : numpy.ndarray
        ``d`` (``-inf``: alive for sure; ``inf``: gone for sure), broadcastable with ``if_alive``.
    if_alive : numpy.ndarray
        Expected purchases if alive (``>= 0``).

    Returns
    -------
    numpy.ndarray
        ``P(alive) * if_alive``; the plain product ``expit(-d) * if_alive`` where ``P(alive) >= 1e-300``.
    """
    return alive_product(special.expit(-gone_log_odds), -log1pexp(gone_log_odds), if_alive)


def _log1pexp_parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(1 + e^d)`` as ``max(d, 0) + log1p(e^-|d|)``, and ``e^-|d|`` (for the logistic)."""
    e = np.exp(-np.abs(d))  # in (0, 1] (0 at +-inf; nan stays nan): no floating-point warning to silence
    softplus = np.log1p(e)
    softplus += np.maximum(d, 0.0)
    return softplus, e


def _digamma_difference_scalar(z: float, x: np.ndarray) -> np.ndarray:
    """:func:`digamma_difference` for one ``z`` and a 1-d ``x`` (same formulas, no broadcasting)."""
    with np.errstate(all="ignore"):
        if z < _LARGE:
            return special.digamma(z + x) - special.digamma(z)
        zx = z + x
        inv1 = x / (z * zx)
        inv2 = x * (2.0 * z + x) / (z * z * zx * zx)
        # squares by products of the same float64 values: exactly 0 at x = 0 (Python's float ** 2 and numpy's
        # array ** 2 may round differently: -7.5e-46 instead of 0 at z = e^15.61, found by test_special)
        izx, iz = 1.0 / zx, np.float64(1.0) / np.float64(z)
        izx2, iz2 = izx * izx, iz * iz
        d4 = izx2 * izx2 - iz2 * iz2
        d6 = izx2 * izx2 * izx2 - iz2 * iz2 * iz2
        return np.log1p(x / z) + inv1 / 2.0 + inv2 / 12.0 + d4 / 120.0 - d6 / 252.0


def digamma_difference(z: np.ndarray | float, x: np.ndarray | float) -> np.ndarray:
    """``psi(z + x) - psi(z)`` for ``z > 0`` and a count ``x`` (0, 1, 2, ...), accurate also for huge ``z``.

    (For a fractional ``x`` far below 1 and ``z < 1000`` the plain difference
    of digamma values used there loses digits; the models never need it.)

    Parameters
    ----------
    z, x : array-like
        Broadcast together.

    Returns
    -------
    numpy.ndarray
        Relative error about 1e-14 (the plain difference of ``digamma``
        values is wrong by ~1e-16 ``log z`` absolute, i.e. relatively by
        ``z log z * 1e-16 / x``: 1e-5 at ``z = 7e9``).
    """
    if np.ndim(z) == 0 and np.ndim(x) == 1:
        return _digamma_difference_scalar(float(z), np.asarray(x, float))
    z, x = np.asarray(z, float), np.asarray(x, float)
    if z.size and np.max(z) < _LARGE:  # all in the plain range (the same arithmetic, without masks)
        with np.errstate(all="ignore"):
            return special.digamma(z + x) - special.digamma(z) + np.zeros(np.broadcast_shapes(z.shape, x.shape))
    z, x = np.broadcast_arrays(z, x)
    out = np.empty(z.shape)
    big = z >= _LARGE
    small = ~big
    with np.errstate(all="ignore"):
        out[small] = special.digamma(z[small] + x[small]) - special.digamma(z[small])
        zb, xb = z[big], x[big]
        zx = zb + xb
        # psi(u) ~ log u - 1/(2u) - 1/(12u^2) + 1/(120u^4) - 1/(252u^6)
        inv1 = xb / (zb * zx)  # 1/z - 1/(z+x)
        inv2 = xb * (2.0 * zb + xb) / (zb * zb * zx * zx)  # 1/z^2 - 1/(z+x)^2
        izx2, iz2 = (1.0 / zx) * (1.0 / zx), (1.0 / zb) * (1.0 / zb)  # products: exactly 0 at x = 0
        d4 = izx2 * izx2 - iz2 * iz2
        d6 = izx2 * izx2 * izx2 - iz2 * iz2 * iz2
        out[big] = np.log1p(xb / zb) + inv1 / 2.0 + inv2 / 12.0 + d4 / 120.0 - d6 / 252.0
    return out


def trigamma_difference(z: np.ndarray | float, x: np.ndarray | float) -> np.ndarray:
    """``psi'(z + x) - psi'(z)`` for ``z > 0``, ``x >= 0``, accurate also for huge ``z``.

    The plain difference of trigamma values (``scipy.special.zeta(2, .)``)
    loses ``log10(z / x)`` digits where ``z`` is large (both terms ~ ``1/z``,
    the difference ~ ``-x / z^2``); for ``z >= 1000`` the asymptotic series
    ``psi'(u) ~ 1/u + 1/(2u^2) + 1/(6u^3) - 1/(30u^5) + 1/(42u^7)``
    (Abramowitz & Stegun 6.4.12) is differenced term by term, the first three
    differences written without cancellation. (The Gamma-Gamma model's
    Hessian: ``z = p x`` or ``q``, up to 1e12.)

    Parameters
    ----------
    z, x : array-like
        Broadcast together.

    Returns
    -------
    numpy.ndarray
        Relative error about 1e-14 for ``z >= 1000`` (checked against mpmath
        in ``tests/clv/test_special.py``); below, that of the plain
        difference, ``1e-16 z / x`` relative.
    """
    z, x = np.broadcast_arrays(np.asarray(z, float), np.asarray(x, float))
    if z.size and np.max(z) < _LARGE:  # all in the plain range (the same arithmetic, without masks)
        with np.errstate(all="ignore"):
            return special.zeta(2.0, z + x) - special.zeta(2.0, z)
    out = np.empty(z.shape)
    big = z >= _LARGE
    small = ~big
    with np.errstate(all="ignore"):
        out[small] = special.zeta(2.0, z[small] + x[small]) - special.zeta(2.0, z[small])
        zb, xb = z[big], x[big]
        zx = zb + xb
        iz, izx = 1.0 / zb, 1.0 / zx
        d1 = -xb * iz * izx  # 1/(z+x) - 1/z
        d2 = -xb * (2.0 * zb + xb) * (iz * iz) * (izx * izx)  # 1/(z+x)^2 - 1/z^2
        d3 = -xb * (zb * zb + zb * zx + zx * zx) * (iz * iz * iz) * (izx * izx * izx)
        iz2, izx2 = iz * iz, izx * izx
        d5 = izx2 * izx2 * izx - iz2 * iz2 * iz  # tiny: the plain difference is accurate enough
        d7 = izx2 * izx2 * izx2 * izx - iz2 * iz2 * iz2 * iz
        out[big] = d1 + d2 / 2.0 + d3 / 6.0 - d5 / 30.0 + d7 / 42.0
    return out


def _stirling_correction(u: np.ndarray) -> np.ndarray:
    """``log Gamma(u) - [(u - 1/2) log u - u + log(2 pi)/2]`` for ``u >= 1000`` (A&S 6.1.41, error < 1e-24)."""
    inv = 1.0 / u
    inv2 = inv * inv
    return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))


def log_beta(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """``log B(a, b) = log Gamma(a) + log Gamma(b) - log Gamma(a + b)`` for ``a, b > 0``, accurate for large arguments.

    The plain sum of three :func:`scipy.special.gammaln` values cancels:
    at ``a = 1, b = 1e12`` it is wrong by 6e-5 relatively;
    :func:`scipy.special.betaln` is exact only where one argument exceeds
    the other a million-fold (5e-11 relative at ``a = 50, b = 1e7``).

    Parameters
    ----------
    a, b : array-like
        Positive, broadcast together.

    Returns
    -------
    numpy.ndarray
        Relative error about 1e-14 everywhere (checked against mpmath in
        ``tests/clv/test_special.py``).

    Notes
    -----
    With ``lo = min(a, b)``, ``hi = max(a, b)``: for ``lo >= 1000`` Stirling's
    series for all three terms, grouped as
    ``(lo - 1/2) log(lo/(lo+hi)) + (hi - 1/2) log(hi/(lo+hi)) + log(2 pi)/2 - log(lo+hi)/2``
    (logs by ``log1p``, all terms of one sign) plus the differenced
    corrections; for ``lo < 1000 <= hi``
    ``log Gamma(lo) - [log Gamma(hi + lo) - log Gamma(hi)]`` with the bracket
    by :func:`log_rising` (Stirling's series for the difference); for
    ``hi < 1000`` :func:`scipy.special.betaln`.
    """
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    if a.size and max(np.max(a), np.max(b)) < _LARGE:  # all in scipy's range (the same values, without masks)
        return special.betaln(a, b)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    out = np.empty(lo.shape)
    both = lo >= _LARGE
    one = ~both & (hi >= _LARGE)
    small = hi < _LARGE
    with np.errstate(all="ignore"):
        out[small] = special.betaln(lo[small], hi[small])
        if one.any():
            out[one] = special.gammaln(lo[one]) - log_rising(hi[one], lo[one])
        if both.any():
            lb, hb = lo[both], hi[both]
            s = lb + hb
            out[both] = (
                -(lb - 0.5) * np.log1p(hb / lb) - (hb - 0.5) * np.log1p(lb / hb)
                + 0.5 * np.log(2.0 * np.pi) - 0.5 * np.log(s)
                + _stirling_correction(lb) + _stirling_correction(hb) - _stirling_correction(s)
            )
    return out


def _quiet(z: float) -> contextlib.AbstractContextManager:
    """``np.errstate(all="ignore")`` outside ``0 < z < inf`` (where the count tables could warn), else nothing."""
    return _NO_CONTEXT if 0.0 < z < math.inf else np.errstate(all="ignore")


_NO_CONTEXT = contextlib.nullcontext()


class CountSums:
    """Weighted sums over fixed counts of ``log_rising(z, x_i)``, ``digamma_difference(z, x_i)`` and trigamma differences.

    The likelihoods of the beta-geometric models need these sums (over the
    distinct counts, weighted by the customers) for three values of ``z`` at
    every evaluation. For an integer count ``x``, ``log Gamma(z + x) - log
    Gamma(z) = sum_{k < x} log(z + k)`` and ``psi(z + x) - psi(z) = sum_{k < x}
    1 / (z + k)``, so the weighted sums are ``sum_k N_k log(z + k)`` and ``sum_k
    N_k / (z + k)`` with ``N_k`` the weight of the counts above ``k``, made once
    here: two short dot products per ``z`` instead of special functions on
    every distinct count. The sums of the logarithms are exact to rounding for
    every ``z > 0`` (no cancellation: ``log(z)`` by ``log1p(z - 1)`` next to 1,
    ``log1p(z)`` for ``k = 1``, as in :func:`log_rising`). Counts above
    ``max_terms`` add :func:`log_rising` / :func:`digamma_difference` from
    ``z + max_terms`` on; non-integer counts take those functions directly.

    Parameters
    ----------
    x : numpy.ndarray
        Counts ``>= 0`` (1-d).
    w : numpy.ndarray
        Their weights (customers), the shape of ``x``.
    max_terms : int, default 512
        Length of the table of terms ``k``.
    """

    __slots__ = ("_k", "_tail", "_K", "_big_x", "_big_w", "_frac_x", "_frac_w")

    def __init__(self, x: np.ndarray, w: np.ndarray, *, max_terms: int = 512) -> None:
        x = np.asarray(x, float)
        w = np.asarray(w, float)
        integer = (x >= 0) & (x == np.floor(x))
        xi = x[integer]
        K = int(min(xi.max(initial=0.0), max_terms))
        self._K = K
        self._k = np.arange(K, dtype=float)
        cnt = np.bincount(np.minimum(xi, K).astype(np.intp), weights=w[integer], minlength=K + 1)
        self._tail = np.cumsum(cnt[::-1])[::-1][1:]  # weight of the counts above k, k = 0 .. K-1
        big = integer & (x > K)  # log_rising(z, x) = sum_{k < K} log(z + k) + log_rising(z + K, x - K)
        self._big_x, self._big_w = x[big] - K, w[big]
        self._frac_x, self._frac_w = x[~integer], w[~integer]

    def _log_terms(self, z: float) -> np.ndarray:
        t = np.log(z + self._k)
        if z > 0.0 and z < math.inf:  # the two leading terms as Python floats (cheaper than numpy scalars)
            t[0] = math.log1p(z - 1.0) if abs(z - 1.0) < 0.5 else math.log(z)
            if self._K > 1:
                t[1] = math.log1p(z)
        return t

    # The likelihoods call these at every evaluation: for 0 < z < inf (the fits' range, exp of a bounded
    # log parameter) the table terms raise no floating-point warning, so no errstate there (~1 us each).
    def log_rising(self, z: float) -> float:
        """``sum_i w_i [log Gamma(z + x_i) - log Gamma(z)]``."""
        z = float(z)
        with _quiet(z):
            out = float(np.dot(self._tail, self._log_terms(z))) if self._K else 0.0
            if self._big_x.size:
                out += float(np.dot(self._big_w, log_rising(z + self._K, self._big_x)))
            if self._frac_x.size:
                out += float(np.dot(self._frac_w, log_rising(z, self._frac_x)))
        return out

    def digamma_difference(self, z: float) -> float:
        """``sum_i w_i [psi(z + x_i) - psi(z)]``."""
        z = float(z)
        with _quiet(z):
            out = float(np.dot(self._tail, 1.0 / (z + self._k))) if self._K else 0.0
            if self._big_x.size:
                out += float(np.dot(self._big_w, digamma_difference(z + self._K, self._big_x)))
            if self._frac_x.size:
                out += float(np.dot(self._frac_w, digamma_difference(z, self._frac_x)))
        return out

    def trigamma_difference(self, z: float) -> float:
        """``sum_i w_i [psi'(z + x_i) - psi'(z)]`` (``= -sum_k N_k / (z + k)^2`` for the integer counts)."""
        z = float(z)
        with _quiet(z):
            out = -float(np.dot(self._tail, (1.0 / (z + self._k)) ** 2)) if self._K else 0.0
            if self._big_x.size:
                zK = z + self._K
                out += float(np.dot(self._big_w, special.polygamma(1, zK + self._big_x) - special.polygamma(1, zK)))
            if self._frac_x.size:
                out += float(np.dot(self._frac_w, special.polygamma(1, z + self._frac_x) - special.polygamma(1, z)))
        return out


class GammaPoissonScale:
    """The gamma-Poisson factor ``alpha^r (alpha + t)^-(r+x)`` of the NBD-type likelihoods, written without cancellation.

    Every model with purchases at a Poisson rate ``lambda ~ Gamma(r, alpha)`` has per customer terms
    ``r log(alpha) - (r + x) log(alpha + t)``. On the Poisson ridge (``r, alpha -> inf`` with ``r / alpha``
    fixed, where the gamma distribution tends to a point) the two parts are of size ``r log(alpha)`` and their
    sum is ``O(x)``: at ``r = 1.1e9`` the ExponentialNBDModel's log-likelihood came out 4.27 units too high
    (issue #12, finding C; already ~2.6e-5 at ``r = 5e6``). Above ``r = e^SCALED_LOG`` the models take
    ``alpha^(r+x)`` out analytically, as :mod:`._pnbd_ridge` does for the Pareto/NBD:

    .. math::

        r\\log\\alpha - (r+x)\\log(\\alpha+t) = b - (r+x)\\,z(t),\\qquad
        b = -x\\log\\alpha,\\quad z(t) = \\mathrm{log1p}(t/\\alpha),

    and the derivative in ``log alpha`` is ``-x + (r+x)\\,t/(\\alpha+t)`` (:meth:`share`) instead of the
    difference ``r - (r+x)\\alpha/(\\alpha+t)`` of two terms of size ``r``. Below the threshold
    (``scaled = False``) ``b = r log(alpha)`` and ``z(t) = log(alpha + t)``: the models' general form, which is
    accurate there (error ~``1e-16 r |log alpha|`` per customer: < 1e-10 at ``r = e^10``) and unchanged, so
    that fits away from the ridge (CDNOW) give the same numbers to the last bit.

    A model that integrates over ``tau`` in the coordinate ``z(tau)`` (:class:`.ExponentialNBDModel`) passes the
    smallest time scale of its integrand, ``tau_scale``: ``log(alpha + tau)`` resolves ``tau`` only to ~1e-16
    ``alpha``, so with ``alpha / tau_scale`` above ``ALPHA_OVER_TAU`` the scaled form is used as well (at ``alpha =
    6.5e4``, ``1 / mu = 0.004`` the quadrature's panels were relatively off by ~4e-8: LL 2e-8 per customer).

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of the purchase rate (positive).
    tau_scale : float, optional
        Smallest time scale of an integrand in ``z`` (e.g. ``1 / mu``).

    Attributes
    ----------
    scaled : bool
        Whether ``log r > SCALED_LOG`` (or ``alpha > ALPHA_OVER_TAU tau_scale``).
    log_alpha : float
        ``log(alpha)``.
    """

    #: log r above which the scaled form is used (the threshold of the Pareto/NBD's :mod:`._pnbd_ridge`)
    SCALED_LOG = 10.0

    #: ``alpha / tau_scale`` above which an integral in ``z`` is taken in the scaled form (relative error ~1e-13 below)
    ALPHA_OVER_TAU = 1e3

    def __init__(self, r: float, alpha: float, tau_scale: float | None = None) -> None:
        self.r, self.alpha = float(r), float(alpha)
        self.scaled = bool(self.r > math.exp(self.SCALED_LOG)
                           or (tau_scale is not None and self.alpha > self.ALPHA_OVER_TAU * float(tau_scale)))
        self.log_alpha = float(np.log(self.alpha))

    def z(self, t: np.ndarray | float) -> np.ndarray:
        """``log(alpha + t)``, or ``log1p(t / alpha)`` in the scaled form (``log(alpha + t)`` minus ``log alpha``)."""
        t = np.asarray(t, float)
        return np.log1p(t / self.alpha) if self.scaled else np.log(self.alpha + t)

    def base(self, x: np.ndarray | float) -> np.ndarray:
        """``r log(alpha)``, or ``-x log(alpha)`` in the scaled form: ``r log(alpha) - (r+x) log(alpha+t) = base - (r+x) z(t)``."""
        x = np.asarray(x, float)
        return (-self.log_alpha * x) if self.scaled else np.full(x.shape, self.r * self.log_alpha)

    def share(self, t: np.ndarray | float) -> np.ndarray:
        """``t / (alpha + t)``: ``d[base - (r+x) z(t)] / d log(alpha) = -x + (r+x) share(t)`` (in either form)."""
        t = np.asarray(t, float)
        return t / (self.alpha + t)
