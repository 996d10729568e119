"""Common machinery of the CLV models: data checks, collapsing, fitting.

Every model is fitted by maximum likelihood on the **distinct** rows of its
input (for the transaction models the distinct ``(x, t_x, T)`` triples, with
counts as weights), with the parameters on the log scale, by
:func:`scipy.optimize.minimize` (L-BFGS-B with analytic gradients, or central
differences for models without one), followed by one Newton step with the
Hessian, which makes the estimates reproducible to about 1e-10 (the
quasi-Newton stopping rule alone leaves them uncertain at about 1e-7).
Standard errors come from the inverse of that Hessian of the negative
log-likelihood on the log scale (central differences of the analytic
gradient), transformed to the natural scale by the delta method.

Performance notes: the models precompute everything that does not depend on
the parameters (``_prepare``) and evaluate special functions on distinct
values only; long weighted sums use :func:`wdot` (``einsum``), not the
multithreaded BLAS ``dot``, whose spinning threads made each sum up to 40
times slower on a loaded 2-core machine.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crm_analysis.exceptions import BoundaryWarning, HessianWarning, IdentificationWarning

__all__ = [
    "ModelFitError",
    "BaseLikelihoodModel",
    "BaseTransactionModel",
    "TransactionData",
    "collapse_rows",
    "check_transaction_data",
    "wdot",
]

try:  # installed with scikit-learn; optional here
    from threadpoolctl import ThreadpoolController as _ThreadpoolController
except ImportError:  # pragma: no cover
    _ThreadpoolController = None
_CONTROLLER: list = []  # the process's ThreadpoolController, made on first use (its library scan costs ~0.5-3 ms)

_LOG_BOUND = 30.0  # |log parameter| bound during optimisation (e^30 ~ 1e13)


def _single_threaded_blas() -> contextlib.AbstractContextManager:
    """Context in which BLAS uses one thread.

    The optimiser (L-BFGS-B) and the Hessian make many tiny BLAS calls; with
    a multithreaded OpenBLAS on a loaded 2-core machine each call waits for
    spinning threads (measured: a 3-parameter Gamma-Gamma fit spent 3 ms per
    L-BFGS-B iteration in BLAS, 75% of the fit). Falls back to doing nothing
    when ``threadpoolctl`` is not installed.
    """
    if _ThreadpoolController is None:  # pragma: no cover
        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(_ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


_SMALL_DOT = 8192


def wdot(a: np.ndarray, b: np.ndarray) -> float | np.ndarray:
    """Dot product of a weight vector with a vector (or the rows of a matrix), without BLAS.

    ``numpy.dot`` on long vectors calls the multithreaded BLAS ``ddot``; on a
    small or loaded machine its threads spin and the call can cost 40 times
    the arithmetic (measured on 2 cores: 8 ms instead of 0.15 ms for 260,000
    values). ``einsum`` sums in one thread with SIMD.
    """
    if np.ndim(b) == 1:
        if a.size <= _SMALL_DOT:  # below OpenBLAS's threading threshold: the plain dot is cheapest
            return float(np.dot(a, b))
        return float(np.einsum("i,i->", a, b))
    return np.einsum("i,ij->j", a, b)


class ModelFitError(RuntimeError):
    """Raised when the likelihood maximisation fails."""


def _as_weights(data: pd.DataFrame, weights: Any) -> np.ndarray:
    """Per-row weights from ``None``, a column name or an array-like."""
    if weights is None:
        return np.ones(len(data))
    if isinstance(weights, str):
        if weights not in data.columns:
            raise ValueError(f"weights column {weights!r} not in data")
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (len(data),):
        raise ValueError(f"weights must have one value per row ({len(data)}), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    return w


def _numeric_column(data: pd.DataFrame, col: str, what: str) -> np.ndarray:
    if col not in data.columns:
        raise ValueError(f"{what} column {col!r} not in data (columns: {list(data.columns)})")
    s = data[col]
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiub":  # plain numpy column: no conversion needed
        arr = s.to_numpy(dtype=float)
    else:
        arr = None
    try:
        if arr is None:
            arr = pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} column {col!r} is not numeric") from exc
    n_bad = int((~np.isfinite(arr)).sum())
    if n_bad:
        raise ValueError(f"{what} column {col!r} has {n_bad} missing or non-finite value(s)")
    return arr


def _check_times(t: Any, *, scalar: bool = False, keep_shape: bool = False, name: str = "t") -> Any:
    """Validate prediction horizons: finite and non-negative.

    Parameters
    ----------
    t : float or array-like
        Horizon(s).
    scalar : bool, default False
        Require a single number and return it as ``float``.
    keep_shape : bool, default False
        Return an array of the shape of ``t`` (otherwise 1-D).
    name : str
        Name used in error messages.

    Raises
    ------
    ValueError
        Non-numeric, NaN, infinite or negative values, or an array where a
        number is required.
    """
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number or an array of numbers (time units of the model), got {t!r}") from exc
    if scalar and arr.ndim != 0:
        raise ValueError(f"{name} must be a single number here, got an array of shape {arr.shape} (use expected_purchases_grid)")
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        raise ValueError(f"{name} must be finite and >= 0, got {arr[bad].ravel()[:3].tolist()}")
    if scalar:
        return float(arr)
    return arr if keep_shape else arr.ravel()


class TransactionData:
    """Validated ``(x, t_x, T)`` arrays of a customer summary.

    Parameters
    ----------
    x, t_x, T : numpy.ndarray
        Repeat purchases, time of last purchase, time since first purchase.
    """

    __slots__ = ("x", "t_x", "T")

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
        self.x = x
        self.t_x = t_x
        self.T = T

    def __len__(self) -> int:
        return len(self.x)


def check_transaction_data(
    data: pd.DataFrame,
    *,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
) -> TransactionData:
    """Validate a summary table in the Fader-Hardie conventions.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer.
    frequency_col, recency_col, T_col : str
        Column names of the number of repeat purchases ``x``, the time of the
        last repeat purchase ``t_x`` (0 when ``x = 0``) and the time since the
        first purchase ``T``.

    Returns
    -------
    TransactionData
        The validated arrays.

    Raises
    ------
    ValueError
        Missing columns, NaN or infinite values, negative values, non-integer
        frequencies, recency greater than ``T``, or positive recency with zero
        frequency.
    """
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    x = _numeric_column(data, frequency_col, "frequency")
    t_x = _numeric_column(data, recency_col, "recency")
    T = _numeric_column(data, T_col, "T")
    for arr, col in ((x, frequency_col), (t_x, recency_col), (T, T_col)):
        n_neg = int((arr < 0).sum())
        if n_neg:
            raise ValueError(f"column {col!r} has {n_neg} negative value(s)")
    n_frac = int((x != np.round(x)).sum())
    if n_frac:
        raise ValueError(f"frequency column {frequency_col!r} has {n_frac} non-integer value(s)")
    tol = 1e-9 * np.maximum(T, 1.0)
    n_late = int((t_x > T + tol).sum())
    if n_late:
        raise ValueError(f"{n_late} row(s) have recency ({recency_col!r}) greater than T ({T_col!r})")
    n_rec0 = int(((x == 0) & (t_x > 0)).sum())
    if n_rec0:
        raise ValueError(
            f"{n_rec0} row(s) have frequency 0 but positive recency; in the Fader-Hardie convention "
            "recency is 0 for customers without repeat purchases"
        )
    return TransactionData(x, np.minimum(t_x, T), T)


def collapse_rows(columns: Sequence[np.ndarray], weights: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Collapse rows to their distinct values, summing the weights.

    Rows with zero weight are dropped (they do not contribute to the
    likelihood). The distinct rows come out in lexicographic order of the
    columns, whatever the input order.

    Parameters
    ----------
    columns : sequence of numpy.ndarray
        Equal-length columns.
    weights : numpy.ndarray
        Row weights.

    Returns
    -------
    (list of numpy.ndarray, numpy.ndarray)
        The distinct rows (column-wise) and their summed weights.

    Notes
    -----
    Each column is factorised (hash based, codes in sorted order of the
    values) and the codes are combined into one integer key, which is
    factorised again: linear time, no multi-column groupby.
    """
    keep = weights > 0
    cols = [np.asarray(c, dtype=float) for c in columns]
    w = np.asarray(weights, dtype=float)
    if not keep.all():
        cols = [c[keep] for c in cols]
        w = w[keep]
    codes, uniques = [], []
    for c in cols:
        code, uniq = pd.factorize(c, sort=True)
        codes.append(code.astype(np.int64))
        uniques.append(np.asarray(uniq, dtype=float))
    sizes = [max(len(u), 1) for u in uniques]
    if float(np.prod(np.asarray(sizes, dtype=float))) >= 2.0**62:  # key would overflow: plain groupby
        frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)})
        frame["w"] = w
        grouped = frame.groupby([f"c{i}" for i in range(len(cols))], sort=True)["w"].sum().reset_index()
        return [grouped[f"c{i}"].to_numpy(dtype=float) for i in range(len(cols))], grouped["w"].to_numpy(dtype=float)
    key = np.zeros(len(w), dtype=np.int64)
    for code, size in zip(codes, sizes):
        key *= size
        key += code
    inv, ukey = pd.factorize(key, sort=True)
    ukey = np.asarray(ukey, dtype=np.int64)
    counts = np.bincount(inv, weights=w, minlength=len(ukey))
    out: list[np.ndarray] = [np.empty(0)] * len(cols)
    rest = ukey
    for i in range(len(cols) - 1, -1, -1):
        rest, code = np.divmod(rest, sizes[i])
        out[i] = uniques[i][code] if len(uniques[i]) else np.empty(0)
    return out, counts


class BaseLikelihoodModel:
    """Maximum-likelihood estimation on the log-parameter scale.

    Subclasses define ``_param_names`` and implement
    ``_loglik(log_params, arrays)`` returning per-row log-likelihoods and,
    optionally, the per-row gradient with respect to the log parameters
    (shape ``(n_rows, n_params)``, or ``None`` for central differences), and
    ``_initial_log_params(arrays, weights)`` returning candidate starting
    points.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters, added to the *average* negative
        log-likelihood per customer: ``penalizer * sum(log(theta)**2)``.
        It shrinks every parameter towards 1; use a small value (e.g. 0.001
        to 0.1) when the unpenalised fit runs to extreme values.

    Attributes
    ----------
    params_ : pandas.Series
        Estimates on the natural scale, named by parameter.
    log_likelihood_ : float
        Maximised (weighted) log-likelihood, without the penalty.
    standard_errors_ : pandas.Series
        Asymptotic standard errors on the natural scale (delta method).
    covariance_ : pandas.DataFrame
        Asymptotic covariance matrix on the natural scale.
    log_covariance_ : pandas.DataFrame
        Asymptotic covariance of the log parameters (used for parameter
        draws).
    converged_ : bool
        Whether the optimiser reported convergence.
    n_iter_ : int
        Number of optimiser iterations.
    n_customers_ : float
        Number of customers (sum of the weights) used in the fit.
    n_distinct_ : int
        Number of distinct data rows the likelihood was evaluated on.
    """

    _param_names: tuple[str, ...] = ()

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    # ---- to implement -------------------------------------------------
    def _loglik(self, log_params: np.ndarray, arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def _initial_log_params(self, arrays: Sequence[np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        return [np.zeros(len(self._param_names))]

    # ---- optimisation -------------------------------------------------
    def _weighted_loglik(
        self, log_params: np.ndarray, arrays: Sequence[np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray | None]:
        """Weighted total log-likelihood and its gradient (``None``: not analytic).

        Subclasses may override this with a faster direct computation.
        """
        ll, g = self._loglik(log_params, arrays)
        return wdot(weights, ll), (None if g is None else wdot(weights, g))

    def _weighted_loglik_value(self, log_params: np.ndarray, arrays: Sequence[np.ndarray], weights: np.ndarray) -> float:
        """Weighted total log-likelihood only (override when the gradient is costly)."""
        return self._weighted_loglik(log_params, arrays, weights)[0]

    def _objective_factory(
        self, arrays: Sequence[np.ndarray], weights: np.ndarray
    ) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], tuple[float, np.ndarray]]]:
        total = float(weights.sum())
        pen = float(self.penalizer)
        k = len(self._param_names)

        last: dict[bytes, tuple[float, np.ndarray]] = {}  # the last point evaluated with its gradient

        def fun(lp: np.ndarray) -> float:
            hit = last.get(np.asarray(lp, float).tobytes())
            if hit is not None:
                return hit[0]
            with np.errstate(all="ignore"):
                ll = self._weighted_loglik_value(lp, arrays, weights)
                val = -ll / total + pen * float(np.dot(lp, lp))
            return val if np.isfinite(val) else 1e300

        def fun_grad(lp: np.ndarray) -> tuple[float, np.ndarray]:
            key = np.asarray(lp, float).tobytes()
            if key in last:
                val, grad = last[key]
                return val, grad.copy()
            out = _fun_grad(lp)
            last.clear()
            last[key] = (out[0], out[1].copy())
            return out

        def _fun_grad(lp: np.ndarray) -> tuple[float, np.ndarray]:
            with np.errstate(all="ignore"):
                ll, g = self._weighted_loglik(lp, arrays, weights)
                val = -ll / total + pen * float(np.dot(lp, lp))
            if g is None:
                grad = np.empty(k)
                h = 1e-6
                for j in range(k):
                    e = np.zeros(k)
                    e[j] = h
                    grad[j] = (fun(lp + e) - fun(lp - e)) / (2 * h)
            else:
                grad = -np.asarray(g) / total + 2 * pen * lp
            if not np.isfinite(val) or not np.all(np.isfinite(grad)):
                return 1e300, np.zeros(k)
            return val, grad

        return fun, fun_grad

    #: whether ``_loglik`` returns an analytic gradient
    _analytic_gradient: bool = False
    #: tolerances of the first L-BFGS-B run (the Newton polish finishes the job)
    _quick_gtol: float = 1e-5
    _quick_ftol: float = 1e-12
    _quick_maxcor: int = 10
    #: Hessian by central (2k gradients) rather than forward (k + 1) differences: for gradients
    #: that are themselves partly numerical
    _central_hessian: bool = False
    #: step of the forward-difference Hessian (log-parameter scale)
    _hessian_step: float = 1e-6

    def _fit_arrays(self, arrays: Sequence[np.ndarray], weights: np.ndarray) -> None:
        with _single_threaded_blas():
            self._fit_arrays_impl(arrays, weights)

    def _fit_arrays_impl(self, arrays: Sequence[np.ndarray], weights: np.ndarray) -> None:
        if self.penalizer < 0 or not np.isfinite(self.penalizer):
            raise ValueError(f"penalizer must be a finite non-negative number, got {self.penalizer!r}")
        fun, fun_grad = self._objective_factory(arrays, weights)
        starts = self._initial_log_params(arrays, weights)
        if len(weights) > 20000:  # choose the start on a subsample of the distinct rows
            idx = np.random.default_rng(0).choice(len(weights), 20000, replace=False)
            sub_arrays = self._subset(arrays, np.sort(idx))
            sub_fun, _ = self._objective_factory(sub_arrays, weights[np.sort(idx)])
        else:
            sub_fun = fun
        values = [sub_fun(np.asarray(s, float)) for s in starts]
        x0 = np.asarray(starts[int(np.argmin(values))], float)
        if (min(values) if sub_fun is fun else fun(x0)) >= 1e300:
            raise ModelFitError(
                f"{type(self).__name__}: log-likelihood is not finite at any starting value ({self._data_description()})"
            )
        k = len(self._param_names)
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * k
        # a moderate tolerance: the Newton steps of _newton_polish take the gradient to rounding
        # level from here (quadratic convergence), at a fraction of the quasi-Newton iterations
        res = optimize.minimize(
            fun_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": 2000, "ftol": self._quick_ftol, "gtol": self._quick_gtol, "maxcor": self._quick_maxcor},
        )
        n_iter = int(res.nit)
        if not res.success:  # continue with the strict settings (e.g. along a ridge towards a boundary)
            res_s = optimize.minimize(
                fun_grad, res.x, jac=True, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20},
            )
            n_iter += int(res_s.nit)
            if res_s.fun <= res.fun:
                res = res_s
        if not res.success and np.max(np.abs(fun_grad(res.x)[1])) > 1e-6:
            # L-BFGS-B often stops with a line-search complaint at an optimum
            # reached to machine precision (then the Newton step below is
            # enough); when the gradient is not yet small, continue with BFGS.
            res2 = optimize.minimize(fun_grad, res.x, jac=True, method="BFGS", options={"maxiter": 500, "gtol": 1e-8})
            n_iter += int(res2.nit)
            if res2.fun <= res.fun:
                res = res2
        _, grad = fun_grad(res.x)
        grad_ok = bool(np.all(np.abs(grad) < 1e-4))
        if not np.isfinite(res.fun) or res.fun >= 1e300:
            raise ModelFitError(f"{type(self).__name__}: optimiser failed ({res.message}); data: {self._data_description()}")
        lp_end = np.asarray(res.x, float)
        on_ridge = bool(np.any(np.abs(lp_end) > 12.0) and np.all(np.abs(grad) < 1e-2))
        if not (res.success or grad_ok) and on_ridge:
            names = [n for n, v in zip(self._param_names, lp_end) if abs(v) > 12.0]
            warnings.warn(
                f"{type(self).__name__}: the likelihood keeps rising along a ridge towards the boundary of the "
                f"parameter space: {dict(zip(names, np.exp(lp_end[np.abs(lp_end) > 12.0]).round(3)))} ran off towards "
                f"0 or infinity and the optimiser stopped there ({res.message}). The estimates are a point on that ridge, "
                f"not a maximum: the model degenerates to a simpler one for these data ({self._data_description()}).",
                BoundaryWarning,
                stacklevel=4,
            )
            grad_ok = True
        if not (res.success or grad_ok):
            raise ModelFitError(
                f"{type(self).__name__}: optimiser did not converge ({res.message}); gradient at the last iterate "
                f"{np.round(grad, 6).tolist()} at parameters {dict(zip(self._param_names, np.exp(res.x).round(6)))}. "
                f"Data: {self._data_description()}. A likelihood that keeps rising towards extreme parameter values "
                "means the data do not identify the model (too few customers, too little variation between them); "
                "a small penalizer (e.g. 0.01) keeps the parameters finite."
            )
        lp = np.asarray(res.x, float)
        self._warn_if_at_bound(lp)
        lp, H = self._newton_polish(lp, fun_grad, arrays, weights)
        f_final = fun_grad(lp)[0]  # cached: the last point evaluated
        loglik = -(f_final - float(self.penalizer) * float(lp @ lp)) * float(weights.sum()) if f_final < 1e300 else None
        self._set_fit_results(
            lp, arrays, weights, converged=bool(res.success or grad_ok), n_iter=n_iter, hessian=H, loglik=loglik
        )

    def _newton_polish(
        self, lp: np.ndarray, fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], arrays, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Newton steps from the optimiser's answer, with the Hessian needed for the standard errors anyway.

        Quasi-Newton methods stop when the objective no longer decreases by
        ``ftol``; near a flat optimum that leaves the parameters uncertain at
        about ``sqrt(ftol)`` relative, so data that differ only by rounding
        could give estimates differing at that level. Up to four Newton steps
        with the same Hessian bring the gradient to rounding level; a step is
        kept only if it lowers the gradient without raising the objective
        beyond rounding. Where the steps do not get the gradient below
        ``1e-8`` per customer, L-BFGS-B continues with a strict tolerance and
        the Hessian is recomputed. Returns the parameters and the Hessian (at
        the optimiser's answer, within tiny steps of the returned parameters).
        """
        H = self._hessian(lp, arrays, weights)
        total = float(weights.sum())
        if np.any(np.abs(lp) >= _LOG_BOUND - 1e-6) or not np.all(np.isfinite(H)):
            return lp, H
        f0, g0 = fun_grad(lp)
        try:
            np.linalg.cholesky(H)
            newton = 4
        except np.linalg.LinAlgError:  # not a (strict) local minimum yet, or a flat ridge: no Newton steps
            newton = 0
        for _ in range(newton):
            if np.max(np.abs(g0)) < 1e-12:
                break
            step = -np.linalg.solve(H / total, g0)
            if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 0.1:
                break
            new = np.clip(lp + step, -_LOG_BOUND, _LOG_BOUND)
            f1, g1 = fun_grad(new)
            # the objective is flat to rounding level here: judge the step by the gradient,
            # allowing the objective to rise by no more than rounding noise
            if not (f1 <= f0 + 1e-12 * max(1.0, abs(f0)) and np.max(np.abs(g1)) < np.max(np.abs(g0))):
                break
            lp, f0, g0 = new, f1, g1
        if np.max(np.abs(g0)) > 1e-8 or newton == 0:
            k = len(lp)
            res = optimize.minimize(
                fun_grad, lp, jac=True, method="L-BFGS-B", bounds=[(-_LOG_BOUND, _LOG_BOUND)] * k,
                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
            )
            if res.fun <= f0:
                lp = np.asarray(res.x, float)
                H = self._hessian(lp, arrays, weights)
        return lp, H

    def _subset(self, arrays: Sequence[np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """Arrays of a subset of the rows (for choosing starting values)."""
        return tuple(np.asarray(a)[idx] for a in arrays)

    def _hessian(self, lp: np.ndarray, arrays: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
        """Numerical Hessian of the total penalised negative log-likelihood (log scale)."""
        k = len(lp)
        total = float(weights.sum())
        fun, fun_grad = self._objective_factory(arrays, weights)
        H = np.empty((k, k))
        if self._analytic_gradient and not self._central_hessian:
            # forward differences of the analytic gradient (k + 1 evaluations): error ~1e-6 relative
            h = self._hessian_step
            g0 = fun_grad(lp)[1]
            for j in range(k):
                e = np.zeros(k)
                e[j] = h
                H[:, j] = (fun_grad(lp + e)[1] - g0) / h
        elif self._analytic_gradient:
            h = 1e-5
            for j in range(k):
                e = np.zeros(k)
                e[j] = h
                H[:, j] = (fun_grad(lp + e)[1] - fun_grad(lp - e)[1]) / (2 * h)
        else:
            h = 1e-4
            f0 = fun(lp)
            for i in range(k):
                ei = np.zeros(k)
                ei[i] = h
                H[i, i] = (fun(lp + ei) - 2 * f0 + fun(lp - ei)) / h**2
                for j in range(i + 1, k):
                    ej = np.zeros(k)
                    ej[j] = h
                    H[i, j] = (
                        fun(lp + ei + ej) - fun(lp + ei - ej) - fun(lp - ei + ej) + fun(lp - ei - ej)
                    ) / (4 * h**2)
                    H[j, i] = H[i, j]
        return 0.5 * (H + H.T) * total

    def _set_fit_results(
        self,
        lp: np.ndarray,
        arrays: Sequence[np.ndarray],
        weights: np.ndarray,
        *,
        converged: bool,
        n_iter: int,
        hessian: np.ndarray | None = None,
        loglik: float | None = None,
    ) -> None:
        if loglik is None:
            with np.errstate(all="ignore"):
                loglik, _ = self._weighted_loglik(lp, arrays, weights)
        ll = loglik
        H = self._hessian(lp, arrays, weights) if hessian is None else hessian
        self._store_results(
            lp, float(ll), H, converged=converged, n_iter=n_iter, n_customers=float(weights.sum()), n_distinct=int(len(weights))
        )

    #: log-scale standard error above which a parameter is reported as not identified
    #: (a 95% interval wider than a factor exp(2 * 1.96 * 3) ~ 1e5)
    _LOG_SE_LIMIT = 3.0

    def _store_results(
        self,
        lp: np.ndarray,
        ll: float,
        H: np.ndarray,
        *,
        converged: bool,
        n_iter: int,
        n_customers: float,
        n_distinct: int,
        fixed: dict[str, float] | None = None,
    ) -> None:
        """Set the fitted attributes from log parameters and the Hessian of the negative log-likelihood.

        ``fixed`` holds parameters not estimated (a boundary fit: their
        values are limits such as 0 or inf, their standard errors NaN); ``lp``
        and ``H`` then refer to the other parameters, in order.
        """
        names = list(self._param_names)
        index = self._names_index()
        fixed = fixed or {}
        free = [n for n in names if n not in fixed]
        lp = np.asarray(lp, float)
        self.log_likelihood_ = float(ll)
        self.converged_ = bool(converged)
        self.n_iter_ = int(n_iter)
        self.n_customers_ = float(n_customers)
        self.n_distinct_ = int(n_distinct)
        values = dict(zip(free, np.exp(lp)))
        values.update(fixed)
        self.params_ = pd.Series([float(values[n]) for n in names], index=index, name="estimate")
        try:
            cov_free = np.linalg.inv(H)
            if not np.all(np.isfinite(cov_free)) or np.any(np.diag(cov_free) <= 0):
                raise np.linalg.LinAlgError("Hessian not positive definite")
            np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            warnings.warn(
                f"{type(self).__name__}: the Hessian at the optimum is singular or not positive definite, so the "
                f"parameters are not (all) identified by these data and standard errors are NaN "
                f"({self._data_description()}).",
                HessianWarning,
                stacklevel=5,
            )
            cov_free = np.full((len(free), len(free)), np.nan)
        pos = [names.index(n) for n in free]
        cov_log = np.full((len(names), len(names)), np.nan)
        cov_log[np.ix_(pos, pos)] = cov_free
        J = np.diag(np.exp(lp))
        cov = np.full_like(cov_log, np.nan)
        cov[np.ix_(pos, pos)] = J @ cov_free @ J
        self.log_covariance_ = pd.DataFrame(cov_log, index=index, columns=index)
        self.covariance_ = pd.DataFrame(cov, index=index, columns=index)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=index, name="std_error")
        se_log = np.sqrt(np.diag(cov_free))
        weak = [n for n, se in zip(free, se_log) if np.isfinite(se) and se > self._LOG_SE_LIMIT]
        self.not_identified_ = weak
        if weak:
            detail = ", ".join(f"{n} = {values[n]:.4g} (log-scale standard error {se:.3g})" for n, se in zip(free, se_log) if n in weak)
            warnings.warn(
                f"{type(self).__name__}: parameter(s) {weak} are not identified by these data: {detail}, i.e. a 95% "
                f"interval spanning more than a factor {np.exp(2 * 1.96 * self._LOG_SE_LIMIT):.0e}. "
                f"Data: {self._data_description()}. Predictions that depend on these parameters are unreliable; "
                "use more customers or a simpler model (e.g. NBDModel when there is no sign of dropout).",
                IdentificationWarning,
                stacklevel=5,
            )

    @classmethod
    def _names_index(cls) -> pd.Index:
        """The parameter names as a pandas Index, made once per class (building one costs ~0.1 ms)."""
        cached = cls.__dict__.get("_names_index_cache")
        if cached is None:
            cached = pd.Index(list(cls._param_names))
            cls._names_index_cache = cached
        return cached

    def _data_description(self) -> str:
        """Counts of the data the model was fitted on, for messages."""
        info = getattr(self, "_fit_info", None)
        return info or "data not described"

    def _warn_if_at_bound(self, lp: np.ndarray) -> None:
        """BoundaryWarning for log parameters at the optimisation bound ``+-_LOG_BOUND``."""
        at_bound = np.abs(np.asarray(lp, float)) >= _LOG_BOUND - 1e-6
        if at_bound.any():
            names = [n for n, b in zip(self._param_names, at_bound) if b]
            warnings.warn(
                f"{type(self).__name__}: parameter(s) {names} ran to the bound exp(+-{_LOG_BOUND:g}): the likelihood "
                f"is maximised on the boundary of the parameter space, where the model degenerates "
                f"({self._data_description()}). Use the limiting model or a penalizer.",
                BoundaryWarning,
                stacklevel=5,
            )

    # ---- results --------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit() first")

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Parameter table.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the interval.

        Returns
        -------
        pandas.DataFrame
            One row per parameter with ``estimate``, ``std_error`` (natural
            scale, delta method), and ``ci_lower``/``ci_upper``: a Wald
            interval on the log scale, transformed back (so it stays
            positive).
        """
        self._check_fitted()
        zq = stats.norm.ppf(0.5 + level / 2)
        with np.errstate(divide="ignore"):  # a boundary fit holds limits 0 or inf (no interval)
            lp = np.log(self.params_.to_numpy())
        se_log = np.sqrt(np.diag(self.log_covariance_.to_numpy()))
        return pd.DataFrame(
            {
                "estimate": self.params_.to_numpy(),
                "std_error": self.standard_errors_.to_numpy(),
                "ci_lower": np.exp(lp - zq * se_log),
                "ci_upper": np.exp(lp + zq * se_log),
            },
            index=pd.Index(self.params_.index, name="parameter"),
        )

    def _with_params(self, params: Sequence[float] | np.ndarray) -> "BaseLikelihoodModel":
        """Shallow copy with ``params_`` replaced (for parameter draws)."""
        other = copy.copy(self)
        other.params_ = pd.Series(np.asarray(params, float), index=list(self._param_names), name="estimate")
        return other

    @classmethod
    def from_params(cls, params: Sequence[float] | dict[str, float] | pd.Series, **kwargs: Any) -> "BaseLikelihoodModel":
        """A model with given parameters, without fitting (for scenarios and simulation).

        Only ``params_`` is set: standard errors, covariance and
        log-likelihood stay undefined.

        Parameters
        ----------
        params : sequence, dict or pandas.Series
            Parameter values, in the order of the model's parameters or by name.
        **kwargs
            Constructor settings.

        Returns
        -------
        BaseLikelihoodModel
            The model.
        """
        if isinstance(params, (dict, pd.Series)):
            missing = [n for n in cls._param_names if n not in params]
            if missing:
                raise ValueError(f"missing parameter(s) {missing}")
            values = [float(params[n]) for n in cls._param_names]
        else:
            values = [float(v) for v in params]
        if len(values) != len(cls._param_names) or not all(np.isfinite(v) and v > 0 for v in values):
            raise ValueError(f"{cls.__name__} needs {len(cls._param_names)} positive parameters {cls._param_names}")
        return cls(**kwargs)._with_params(values)

    def sample_params(self, n_draws: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw parameter vectors from the asymptotic normal on the log scale.

        Parameters that were not estimated (the limits held by a boundary fit,
        see ``boundary_``) keep their values in every draw.

        Parameters
        ----------
        n_draws : int
            Number of draws.
        seed : int or numpy.random.Generator, optional
            Random seed.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_draws, n_params)``, natural scale.

        Raises
        ------
        RuntimeError
            The covariance of the estimated parameters is not available
            (singular Hessian).
        """
        self._check_fitted()
        rng = np.random.default_rng(seed)
        cov = self.log_covariance_.to_numpy()
        values = self.params_.to_numpy(dtype=float)
        free = np.isfinite(values) & (values > 0)
        sub = cov[np.ix_(free, free)]
        if not free.any() or not np.all(np.isfinite(sub)):
            raise RuntimeError(f"{type(self).__name__}: covariance is not available (singular Hessian)")
        out = np.tile(values, (n_draws, 1))
        out[:, free] = np.exp(rng.multivariate_normal(np.log(values[free]), sub, size=n_draws, method="eigh"))
        return out

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}({ps})"
        return f"{type(self).__name__}(penalizer={self.penalizer!r})"


class BaseTransactionModel(BaseLikelihoodModel):
    """Base class of the buy-till-you-die transaction models (BG/NBD, MBG/NBD, Pareto/NBD, NBD).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see :class:`BaseLikelihoodModel`).

    Notes
    -----
    Models with dropout (``_has_dropout``) implement ``_dropout_score`` and
    ``_limit_params``: before the full fit, the NBD model (their no-dropout
    limit) is fitted and the derivative of the log-likelihood in the
    direction of positive dropout is checked at that limit, over the whole
    nuisance range of the other dropout parameter. Where it is nowhere
    positive the maximum lies on the boundary: the model is set to its
    limit (the NBD estimates), ``boundary_`` says so and a
    :class:`~crm_analysis.exceptions.BoundaryWarning` is issued. Where the
    data show dropout the derivative is positive at the ``b -> inf`` /
    ``beta -> inf`` limit, a closed form checked first, so the check costs
    well under a millisecond there.
    """

    _has_dropout: bool = True
    #: the derivative (per customer) below which the no-dropout limit counts as the maximum
    _SCORE_TOL = 1e-9

    def fit(
        self,
        data: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        weights: Any = None,
    ) -> "BaseTransactionModel":
        """Fit by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer (or per group of identical customers, with
            ``weights``) in the Fader-Hardie conventions.
        frequency_col, recency_col, T_col : str
            Column names of ``x``, ``t_x`` and ``T``; remembered as the
            defaults of the prediction methods.
        weights : None, str or array-like, optional
            Number of customers each row stands for (a column name or one
            value per row). Default: 1 per row.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Invalid data (see :func:`check_transaction_data`), no repeat
            buyers, or data that cannot identify the model: all customers
            alike (one distinct ``(x, t_x, T)`` row, e.g. a single customer),
            or all repeat buyers alike with ``T`` the same for everyone.
        ModelFitError
            The optimiser failed.

        Warns
        -----
        BoundaryWarning
            The maximum is on the no-dropout boundary; the NBD limit was
            fitted (``boundary_``).
        IdentificationWarning
            Some parameters are not identified (``not_identified_``).
        HessianWarning
            The Hessian at the optimum is singular (standard errors NaN).
        """
        if not isinstance(data, pd.DataFrame):
            data = pd.DataFrame(data)
        td = check_transaction_data(data, frequency_col=frequency_col, recency_col=recency_col, T_col=T_col)
        w = _as_weights(data, weights)
        if len(td) == 0 or w.sum() <= 0:
            raise ValueError("no customers to fit (empty data or all weights zero)")
        if not np.any((td.x > 0) & (w > 0)):
            raise ValueError(
                f"no repeat buyers (all {w.sum():g} customers have frequency 0): the purchase rate and its "
                "heterogeneity cannot be identified from these data"
            )
        (x, t_x, T), counts = collapse_rows([td.x, td.t_x, td.T], w)
        self.columns_ = {"frequency": frequency_col, "recency": recency_col, "T": T_col}
        self.boundary_ = None
        self.limit_model_ = None
        self.not_identified_ = []
        self._check_identifiable(x, t_x, T, counts)
        self._fit_collapsed(x, t_x, T, counts)
        return self

    def _check_identifiable(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> None:
        """Errors for data that cannot identify the model, and the data description for messages."""
        n = float(counts.sum())
        rep = x > 0
        n_rep = float(counts[rep].sum())
        self._fit_info = (
            f"{n:g} customer(s), {n_rep:g} with repeat purchases, {len(counts)} distinct (frequency, recency, T) row(s)"
        )
        name = type(self).__name__
        if len(counts) == 1:
            raise ValueError(
                f"{name}: all {n:g} customer(s) have the same (frequency, recency, T) = "
                f"({x[0]:g}, {t_x[0]:g}, {T[0]:g}); the model describes how purchase rates "
                f"{'and dropout ' if self._has_dropout else ''}vary between customers, which identical customers "
                "cannot show. Fit on more (and different) customers."
            )
        if len(np.unique(T)) == 1 and len(np.unique(x[rep])) == 1 and len(np.unique(t_x[rep])) == 1 and self._has_dropout:
            raise ValueError(
                f"{name}: every repeat buyer has the same frequency {x[rep][0]:g} and recency {t_x[rep][0]:g}, and "
                f"everyone the same T = {T[0]:g}: the data hold two numbers (the share of repeat buyers and that "
                "one pattern), not enough for the model's four parameters. Fit on customers with varied histories "
                "(or NBDModel, with two parameters)."
            )

    def _fit_collapsed(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> None:
        """Fit on distinct rows with counts: the no-dropout boundary check, then the full likelihood.

        When the check does not settle the question (the derivative into the dropout region is
        positive somewhere), the full model is fitted; if its optimum is not better than the NBD
        limit, the limit is the maximum found and is kept instead, and the full fit's own
        warnings are dropped. A failing optimiser still raises ModelFitError.
        """
        self._nbd_hint = None
        self._nbd_limit = None
        check = self._has_dropout and getattr(self, "detect_boundary", False) and self.penalizer == 0
        if check and self._fit_boundary_if_maximum(x, t_x, T, counts):
            return
        if not check:
            self._fit_arrays(self._prepare(x, t_x, T), counts)
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self._fit_arrays(self._prepare(x, t_x, T), counts)  # a ModelFitError propagates
        ll_nbd = self._nbd_limit[1]
        if self.log_likelihood_ < ll_nbd + 1e-9 * abs(ll_nbd):
            self._set_boundary_fit(
                x, t_x, T, counts,
                f"the derivative into the dropout region is positive ({self._nbd_limit[2]:.3g} per customer, "
                f"{self._nbd_limit[3]}), but the best interior point the optimiser found has a lower log-likelihood "
                f"({self.log_likelihood_:.6g}), so the limit is the best fit found",
            )
            return
        for w in caught:  # the full fit stands: pass its warnings on
            warnings.warn(w.message, w.category, stacklevel=4)

    # ---- no-dropout boundary ---------------------------------------------
    def _limit_params(self) -> dict[str, float]:
        """Values of the dropout parameters in the no-dropout limit (e.g. ``{"a": 0, "b": inf}``)."""
        raise NotImplementedError

    def _dropout_score(
        self, r: float, alpha: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray
    ) -> tuple[float, str]:
        """Largest directional derivative (per customer) of the log-likelihood into the dropout region, at the NBD limit.

        Returns the value and a description of where it was found.
        """
        raise NotImplementedError

    def _fit_boundary_if_maximum(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> bool:
        """Fit the NBD limit and keep it when the likelihood cannot rise into the dropout region."""
        from .nbd import fit_nbd

        lp, ll, H, n_iter, converged = fit_nbd(x, T, counts)
        r, alpha = np.exp(lp)
        self._nbd_hint = (float(r), float(alpha))  # a starting point for the full fit
        with np.errstate(all="ignore"):
            score, where = self._dropout_score(float(r), float(alpha), x, t_x, T, counts)
        self._nbd_limit = ((lp, H, n_iter, converged), ll, score, where)
        if not score <= self._SCORE_TOL:
            return False
        self._set_boundary_fit(
            x, t_x, T, counts, f"the likelihood cannot increase into the dropout region (largest derivative per customer "
            f"{score:.3g}, {where})"
        )
        return True

    def _set_boundary_fit(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, reason: str) -> None:
        """Set the model to its no-dropout limit (the NBD fit of the check), with ``boundary_`` and a warning."""
        from .nbd import NBDModel

        (lp, H, n_iter, converged), ll, _, _ = self._nbd_limit
        r, alpha = np.exp(lp)
        limit = self._limit_params()
        desc = ", ".join(f"{k} = {v:g}" for k, v in limit.items())
        self.boundary_ = (
            f"no dropout ({desc}): the fit is the boundary of the parameter space where nobody drops out, "
            f"the NBD model (r = {r:.6g}, alpha = {alpha:.6g}, log-likelihood {ll:.6g}); {reason}"
        )
        limit_model = NBDModel()
        limit_model.columns_ = dict(self.columns_)
        limit_model._fit_info = self._fit_info
        limit_model._store_results(lp, ll, H, converged=converged, n_iter=n_iter, n_customers=float(counts.sum()), n_distinct=len(counts))
        self.limit_model_ = limit_model
        self.not_identified_ = []
        self._store_results(
            lp, ll, H, converged=converged, n_iter=n_iter, n_customers=float(counts.sum()), n_distinct=len(counts), fixed=limit
        )
        warnings.warn(
            f"{type(self).__name__}: {self.boundary_}. Fitted that limit directly: params_ holds {desc}, predictions "
            f"are the NBD model's (P(alive) = 1) and limit_model_ is the fitted NBDModel. Data: {self._fit_info}.",
            BoundaryWarning,
            stacklevel=5,
        )

    def _at_dropout_limit(self) -> bool:
        """Whether the parameters are the no-dropout limit (set by a boundary fit)."""
        return False

    def _prepare(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-data precomputation for the likelihood (override for speed)."""
        return (x, t_x, T)

    def _subset(self, arrays: Sequence[np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, ...]:
        return self._prepare(*(np.asarray(a)[idx] for a in arrays[:3]))

    def _data(
        self,
        data: pd.DataFrame,
        frequency_col: str | None = None,
        recency_col: str | None = None,
        T_col: str | None = None,
    ) -> TransactionData:
        """Validated arrays of prediction data (column names default to those of ``fit``)."""
        self._check_fitted()
        cols = getattr(self, "columns_", {"frequency": "frequency", "recency": "recency", "T": "T"})
        return check_transaction_data(
            data,
            frequency_col=frequency_col or cols["frequency"],
            recency_col=recency_col or cols["recency"],
            T_col=T_col or cols["T"],
        )

    def _start_scales(self, arrays: Sequence[np.ndarray], weights: np.ndarray) -> tuple[float, float]:
        """Rough purchase rate and time scale of the data, for starting values."""
        x, t_x, T = arrays[0], arrays[1], arrays[2]
        wT = wdot(weights, T)
        rate = wdot(weights, x) / max(wT, 1e-12)
        tscale = wT / float(weights.sum())
        return max(rate, 1e-8), max(tscale, 1e-8)

    # ---- prediction API (implemented by subclasses) ---------------------
    def expected_purchases(self, t: float, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected number of purchases in ``(T, T + t]`` per row of ``data``."""
        raise NotImplementedError

    def expected_purchases_grid(self, times: Sequence[float], data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected purchases at several horizons.

        Parameters
        ----------
        times : sequence of float
            Horizons ``t >= 0``.
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional ``frequency_col``, ``recency_col``, ``T_col`` overrides.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(data), len(times))``.
        """
        return np.column_stack([self.expected_purchases(float(t), data, **columns) for t in times])
