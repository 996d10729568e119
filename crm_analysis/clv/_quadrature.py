"""Vectorised composite Gauss-Legendre quadrature of unimodal integrands, one integral per row.

The CLV models need integrals ``int_lo^hi exp(L(y)) g(y) dy`` whose log
integrand ``L`` is unimodal (log-concave in most cases) but whose scale varies
over many orders of magnitude with the parameters: the mass can sit in a
peak 1e-3 wide or spread over 40 units. One fixed rule cannot serve all
rows, and an adaptive scalar integrator per row is too slow. Here each row
gets its own panels:

1. the range is cut where ``L`` has fallen ``drop`` below its maximum on
   ``[lo, hi]`` (bisection; ``L`` is unimodal, so each side is monotone);
2. panel boundaries are equally spaced in a *panel coordinate*
   ``c(y) + TV_L(y) / w_tv`` supplied by the caller (``c`` bounds the width by
   the curvature scale of ``L`` and of ``g``) plus the total variation of ``L``
   (so that ``L`` changes by at most ``w_tv`` within a panel, which matters
   where ``L`` is steep but straight);
3. each panel gets a 12-point Gauss-Legendre rule; rows are grouped by
   their number of panels, rounded up to a power of two, and each group is
   evaluated in one vectorised pass.

The caller gets nodes and log weights (the rule's weights times
``exp(L)``), so several functions ``g`` can share them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["unimodal_nodes", "bisect_monotone"]

GL_X, GL_W = np.polynomial.legendre.leggauss(12)
DROP = 40.0  # e^-40 ~ 4e-18: beyond this drop from the maximum the integrand is cut
W_TV = 6.0  # largest change of L within a panel


def bisect_monotone(
    fun: Callable[[np.ndarray], np.ndarray], target: np.ndarray, lo: np.ndarray, hi: np.ndarray, increasing: bool, n_iter: int = 50
) -> np.ndarray:
    """Vectorised bisection for ``fun(y) = target`` on ``[lo, hi]``, ``fun`` monotone in ``y``.

    Parameters
    ----------
    fun : callable
        Elementwise function of an array shaped like ``target``.
    target, lo, hi : numpy.ndarray
        Same shape; ``lo <= hi``.
    increasing : bool
        Direction of monotonicity.
    n_iter : int, default 50
        Halvings (the bracket shrinks by ``2**-n_iter``).

    Returns
    -------
    numpy.ndarray
        The midpoint of the last bracket.
    """
    lo, hi = np.array(lo, dtype=float, copy=True), np.array(hi, dtype=float, copy=True)
    for _ in range(n_iter):
        mid = 0.5 * (lo + hi)
        above = fun(mid) >= target
        if not increasing:
            above = ~above
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


def _grid_brackets(
    fun: Callable[[np.ndarray], np.ndarray], targets: np.ndarray, a: np.ndarray, b: np.ndarray, n_grid: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Brackets ``[lo, hi]`` of ``fun(y) = targets`` from ``fun`` on ``n_grid`` equal steps of ``[a, b]`` per row.

    ``fun`` is increasing in ``y``; ``targets`` has shape ``(rows, k)``. One
    evaluation on the grid replaces the first ``log2(n_grid)`` halvings of a
    bisection of every target (the panel bounds of a row share the grid),
    which made the panel placement most of the time of the near-boundary
    Pareto/NBD likelihood. ``None`` where ``fun`` is not finite on the grid.
    """
    rows = a.size
    frac = np.arange(n_grid + 1) / n_grid
    grid = a[:, None] + frac[None, :] * (b - a)[:, None]
    vals = fun(grid)
    if not np.isfinite(vals).all():
        return None
    vals = np.maximum.accumulate(vals, axis=1)  # increasing; guards rounding
    # row-wise searchsorted on one flat array: shift each row above the previous one
    span = vals[:, -1] - vals[:, 0]
    shift = np.concatenate([[0.0], np.cumsum(span + 1.0)[:-1]]) - vals[:, 0]
    j = np.searchsorted((vals + shift[:, None]).ravel(), (targets + shift[:, None]).ravel(), side="right")
    j = j.reshape(targets.shape) - (np.arange(rows) * (n_grid + 1))[:, None] - 1
    j = np.clip(j, 0, n_grid - 1)
    return np.take_along_axis(grid, j, axis=1), np.take_along_axis(grid, j + 1, axis=1)


def unimodal_nodes(
    log_f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    coord: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    mode: np.ndarray,
    *,
    drop: float = DROP,
    w_tv: float = W_TV,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Quadrature nodes and log weights of ``int_lo^hi exp(log_f(y)) dy`` for each row.

    Parameters
    ----------
    log_f : callable
        ``log_f(y, idx)``: the log integrand of rows ``idx`` at points ``y``
        (shape ``(len(idx), k)``); unimodal in ``y`` with its maximum at
        ``mode`` (it may lie outside ``[lo, hi]``).
    coord : callable
        ``coord(y, idx)``: increasing panel coordinate (panels are at most one
        unit of it wide), same calling convention.
    lo, hi : numpy.ndarray
        Finite limits per row, shape ``(n,)``, ``lo < hi``.
    mode : numpy.ndarray
        Location of the maximum of ``log_f`` per row.
    drop : float
        Cut the range where ``log_f`` is ``drop`` below its maximum.
    w_tv : float
        Largest change of ``log_f`` within one panel.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        ``(idx, y, log_w)`` per group of rows with the same number of panels:
        ``sum(exp(log_w) * g(y), axis=1)`` approximates ``int exp(log_f) g``.
    """
    n = lo.size
    all_rows = np.arange(n)
    m = np.clip(mode, lo, hi)
    col = lambda v: v[:, None]  # noqa: E731
    l_max = log_f(col(m), all_rows)[:, 0]
    target = l_max - drop
    a, b = lo.copy(), hi.copy()
    l_lo = log_f(col(lo), all_rows)[:, 0]
    cut = l_lo < target
    if cut.any():
        idx = np.flatnonzero(cut)
        a[idx] = bisect_monotone(lambda y: log_f(col(y), idx)[:, 0], target[idx], lo[idx], m[idx], increasing=True)
    l_hi = log_f(col(hi), all_rows)[:, 0]
    cut = l_hi < target
    if cut.any():
        idx = np.flatnonzero(cut)
        b[idx] = bisect_monotone(lambda y: log_f(col(y), idx)[:, 0], target[idx], m[idx], hi[idx], increasing=False)
    la = log_f(col(a), all_rows)[:, 0]

    def total_coord(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        if not np.isfinite(w_tv):
            return coord(y, idx)
        ly = log_f(y, idx)
        mm, lm, l0 = m[idx, None], l_max[idx, None], la[idx, None]
        tv = np.where(y <= mm, ly - l0, (lm - l0) + (lm - ly))
        return coord(y, idx) + tv / w_tv

    s_a = total_coord(col(a), all_rows)[:, 0]
    s_b = total_coord(col(b), all_rows)[:, 0]
    n_panels = np.maximum(1, np.ceil(s_b - s_a - 1e-9)).astype(np.int64)
    # rows are grouped by the number of panels rounded up to a power of two: few groups
    # (each costs a vectorised bisection), at most twice the panels needed
    n_panels = 2 ** np.ceil(np.log2(n_panels)).astype(np.int64)
    groups = []
    for k in np.unique(n_panels):
        idx = np.flatnonzero(n_panels == k)
        frac = np.arange(k + 1) / k
        targets = s_a[idx, None] + frac[None, :] * (s_b[idx] - s_a[idx])[:, None]
        brackets = _grid_brackets(lambda y, idx=idx: total_coord(y, idx), targets, a[idx], b[idx], 4 * int(k))
        if brackets is None:  # a coordinate that is not finite on the grid: bisect the whole range
            lo_b, hi_b, n_iter = np.broadcast_to(a[idx, None], targets.shape), np.broadcast_to(b[idx, None], targets.shape), 32
        else:
            (lo_b, hi_b), n_iter = brackets, 16
        bounds = bisect_monotone(lambda y, idx=idx: total_coord(y, idx), targets, lo_b, hi_b, increasing=True,
                                 n_iter=n_iter)
        bounds[:, 0], bounds[:, -1] = a[idx], b[idx]
        half = 0.5 * np.diff(bounds, axis=1)
        mid = 0.5 * (bounds[:, 1:] + bounds[:, :-1])
        y = (mid[:, :, None] + half[:, :, None] * GL_X[None, None, :]).reshape(idx.size, -1)
        with np.errstate(divide="ignore"):
            log_w = np.log((half[:, :, None] * GL_W[None, None, :]).reshape(idx.size, -1)) + log_f(y, idx)
        groups.append((idx, y, log_w))
    return groups
