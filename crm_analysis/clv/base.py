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
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None

_LOG_BOUND = 30.0  # |log parameter| bound during optimisation (e^30 ~ 1e13)


def _single_threaded_blas() -> contextlib.AbstractContextManager:
    """Context in which BLAS uses one thread.

    The optimiser (L-BFGS-B) and the Hessian make many tiny BLAS calls; with
    a multithreaded OpenBLAS on a loaded 2-core machine each call waits for
    spinning threads (measured: a 3-parameter Gamma-Gamma fit spent 3 ms per
    L-BFGS-B iteration in BLAS, 75% of the fit). Falls back to doing nothing
    when ``threadpoolctl`` is not installed.
    """
    if _threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _threadpool_limits(limits=1, user_api="blas")


def wdot(a: np.ndarray, b: np.ndarray) -> float | np.ndarray:
    """Dot product of a weight vector with a vector (or the rows of a matrix), without BLAS.

    ``numpy.dot`` on long vectors calls the multithreaded BLAS ``ddot``; on a
    small or loaded machine its threads spin and the call can cost 40 times
    the arithmetic (measured on 2 cores: 8 ms instead of 0.15 ms for 260,000
    values). ``einsum`` sums in one thread with SIMD.
    """
    if np.ndim(b) == 1:
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
    try:
        arr = pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} column {col!r} is not numeric") from exc
    n_bad = int((~np.isfinite(arr)).sum())
    if n_bad:
        raise ValueError(f"{what} column {col!r} has {n_bad} missing or non-finite value(s)")
    return arr


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
        if fun(x0) >= 1e300:
            raise ModelFitError(f"{type(self).__name__}: log-likelihood is not finite at any starting value")
        k = len(self._param_names)
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * k
        res = optimize.minimize(
            fun_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20},
        )
        n_iter = int(res.nit)
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
            raise ModelFitError(f"{type(self).__name__}: optimiser failed ({res.message})")
        if not (res.success or grad_ok):
            raise ModelFitError(
                f"{type(self).__name__}: optimiser did not converge ({res.message}); "
                f"gradient at the last iterate {np.round(grad, 6).tolist()}. "
                "Try a small penalizer or check the data."
            )
        lp = np.asarray(res.x, float)
        at_bound = np.abs(lp) >= _LOG_BOUND - 1e-6
        if at_bound.any():
            names = [n for n, b in zip(self._param_names, at_bound) if b]
            warnings.warn(
                f"{type(self).__name__}: parameter(s) {names} ran to the bound exp(+-{_LOG_BOUND:g}); "
                "the model is probably not identified by these data (consider a penalizer)",
                UserWarning,
                stacklevel=4,
            )
        lp, H = self._newton_polish(lp, fun_grad, arrays, weights)
        self._set_fit_results(lp, arrays, weights, converged=bool(res.success or grad_ok), n_iter=n_iter, hessian=H)

    def _newton_polish(
        self, lp: np.ndarray, fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], arrays, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One Newton step from the optimiser's answer, with the Hessian needed for the standard errors anyway.

        Quasi-Newton methods stop when the objective no longer decreases by
        ``ftol``; near a flat optimum that leaves the parameters uncertain at
        about ``sqrt(ftol)`` (1e-7) relative, so data that differ only by
        rounding could give estimates differing at that level. The Newton step
        brings the gradient to rounding level; it is kept only if it lowers
        the gradient without raising the objective beyond rounding. Returns the parameters and
        the Hessian (at the optimiser's answer, within one tiny step of them).
        """
        H = self._hessian(lp, arrays, weights)
        total = float(weights.sum())
        if np.any(np.abs(lp) >= _LOG_BOUND - 1e-6) or not np.all(np.isfinite(H)):
            return lp, H
        f0, g0 = fun_grad(lp)
        try:
            np.linalg.cholesky(H)
            step = -np.linalg.solve(H / total, g0)
        except np.linalg.LinAlgError:
            return lp, H
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 0.1:
            return lp, H
        new = np.clip(lp + step, -_LOG_BOUND, _LOG_BOUND)
        f1, g1 = fun_grad(new)
        # the objective is flat to rounding level here: judge the step by the gradient,
        # allowing the objective to rise by no more than rounding noise
        if f1 <= f0 + 1e-12 * max(1.0, abs(f0)) and np.max(np.abs(g1)) < np.max(np.abs(g0)):
            return new, H
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
        if self._analytic_gradient:
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
    ) -> None:
        names = list(self._param_names)
        with np.errstate(all="ignore"):
            ll, _ = self._weighted_loglik(lp, arrays, weights)
        self.params_ = pd.Series(np.exp(lp), index=names, name="estimate")
        self.log_likelihood_ = float(ll)
        self.converged_ = converged
        self.n_iter_ = n_iter
        self.n_customers_ = float(weights.sum())
        self.n_distinct_ = int(len(weights))
        H = self._hessian(lp, arrays, weights) if hessian is None else hessian
        try:
            cov_log = np.linalg.inv(H)
            if not np.all(np.isfinite(cov_log)) or np.any(np.diag(cov_log) <= 0):
                raise np.linalg.LinAlgError("Hessian not positive definite")
        except np.linalg.LinAlgError:
            warnings.warn(
                f"{type(self).__name__}: Hessian at the optimum is singular or not positive definite; "
                "standard errors are NaN",
                UserWarning,
                stacklevel=4,
            )
            cov_log = np.full((len(lp), len(lp)), np.nan)
        J = np.diag(np.exp(lp))
        cov = J @ cov_log @ J
        self.log_covariance_ = pd.DataFrame(cov_log, index=names, columns=names)
        self.covariance_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="std_error")

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
        """
        self._check_fitted()
        rng = np.random.default_rng(seed)
        cov = self.log_covariance_.to_numpy()
        if not np.all(np.isfinite(cov)):
            raise RuntimeError(f"{type(self).__name__}: covariance is not available (singular Hessian)")
        lp = np.log(self.params_.to_numpy())
        return np.exp(rng.multivariate_normal(lp, cov, size=n_draws, method="eigh"))

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}({ps})"
        return f"{type(self).__name__}(penalizer={self.penalizer!r})"


class BaseTransactionModel(BaseLikelihoodModel):
    """Base class of the buy-till-you-die transaction models (BG/NBD, Pareto/NBD).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see :class:`BaseLikelihoodModel`).
    """

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
            Invalid data (see :func:`check_transaction_data`) or no repeat
            buyers (the model is then not identified).
        ModelFitError
            The optimiser failed.
        """
        if not isinstance(data, pd.DataFrame):
            data = pd.DataFrame(data)
        td = check_transaction_data(data, frequency_col=frequency_col, recency_col=recency_col, T_col=T_col)
        w = _as_weights(data, weights)
        if len(td) == 0 or w.sum() <= 0:
            raise ValueError("no customers to fit (empty data or all weights zero)")
        if not np.any((td.x > 0) & (w > 0)):
            raise ValueError("no repeat buyers (frequency > 0): the model cannot be identified from these data")
        (x, t_x, T), counts = collapse_rows([td.x, td.t_x, td.T], w)
        self.columns_ = {"frequency": frequency_col, "recency": recency_col, "T": T_col}
        self._fit_arrays(self._prepare(x, t_x, T), counts)
        return self

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
