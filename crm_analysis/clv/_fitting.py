"""Maximum-likelihood fitting shared by the CLV models: optimiser, boundary handling, Newton polish, Hessian.

Every model is fitted on the **distinct** rows of its input (counts as
weights), with the parameters on the log scale. Models with an analytic
Hessian (BG/NBD, MBG/NBD, Gamma-Gamma: ``_weighted_loglik_hessian``) are fitted by Newton's
method with a line search, and trust-region steps where the Hessian is not
positive definite (:meth:`LikelihoodFitter._newton_fit`, 5-15 iterations on
the real data sets instead of 14-40 quasi-Newton ones); where that does not
settle in the interior, and for the other models, by
:func:`scipy.optimize.minimize` (L-BFGS-B with analytic gradients, or central
differences for models without one), followed by Newton steps with the
Hessian, which make the estimates reproducible to about 1e-10 (the
quasi-Newton stopping rule alone leaves them uncertain at about 1e-7).
Standard errors come from the inverse of that Hessian of the negative
log-likelihood on the log scale, transformed to the natural scale by the
delta method; they are stored in a :class:`~crm_analysis.clv.results.FitResult`.

Performance notes: the models precompute everything that does not depend on
the parameters (``_prepare``) and evaluate special functions on distinct
values only; the sums over the purchase counts of the gamma and digamma
differences are dot products with precomputed tail counts
(:class:`~crm_analysis.clv._special.CountSums`); long weighted sums use
:func:`wdot` (``einsum``), not the multithreaded BLAS ``dot``, whose spinning
threads made each sum up to 40 times slower on a loaded 2-core machine. The
objective remembers its last ``k + 2`` points with their gradients, so the
chosen start, the Hessian's base point and the Newton steps are not evaluated
twice. A fit of a few thousand distinct rows takes 20-70 evaluations of about
0.05-0.1 ms each; the rest of its 4-15 ms is fixed cost (scipy's L-BFGS-B,
about 0.03 ms per iteration, the input checks and collapsing, the no-dropout
check with its NBD fit, the result tables), measured in
``benchmarks/README.md`` (``bench_clv_fits.py``).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from crm_analysis._validate import NotFittedAttributes
from crm_analysis.exceptions import (
    BoundaryWarning,
    ConvergenceWarning,
    CRMAnalysisError,
    HessianWarning,
    IdentificationWarning,
    InputError,
    shown,
)

from .results import FitResult

__all__ = ["LikelihoodFitter", "ModelFitError", "wdot"]  # _RidgeReached is internal (base)

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
    if (b.ndim if isinstance(b, np.ndarray) else np.ndim(b)) == 1:
        if a.size <= _SMALL_DOT:  # below OpenBLAS's threading threshold: the plain dot is cheapest
            return float(np.dot(a, b))
        return float(np.einsum("i,i->", a, b))
    return np.einsum("i,ij->j", a, b)


#: Shape and rate of a gamma mixing distribution that run off to infinity together when the
#: mixed quantity does not vary between customers (the gamma tends to a point mass at
#: shape / rate), with what that quantity is and the model it leaves (n12 finding F5).
_GAMMA_PAIRS = (
    ("r", "alpha", "purchase rate", "r / alpha", "the Poisson limit of the NBD"),
    ("q", "v", "spend scale nu of the Gamma-Gamma model", "q / v", "one mean spend for everyone, the customers' own transactions aside"),
)


def _params_text(names: Sequence[str], values: Sequence[float]) -> str:
    """``"r = 2.823e+06, beta = 1.96e-30"``: parameters as plain numbers for messages (4 significant digits, never a
    ``np.float64(...)`` repr, never a tiny value rounded to 0)."""
    return ", ".join(f"{n} = {float(v):.4g}" for n, v in zip(names, values))


def _why_not_identified(weak: list[str], values: dict[str, float]) -> str:
    """Why parameters are not identified, where the pattern tells (a gamma mixing distribution degenerating)."""
    for shape, rate, what, ratio, limit in _GAMMA_PAIRS:
        if shape in weak and rate in weak and values.get(shape, 0.0) > 100.0 and values.get(rate, 0.0) > 0:
            return (
                f"Why: {shape} and {rate} grow together ({ratio} = {values[shape] / values[rate]:.4g} stays put): the "
                f"{what} shows no variation between customers that these data can detect (it hardly varies, or "
                "there are too few customers to show it), so its gamma distribution tends to a single "
                f"value ({limit}); only {ratio} is estimated, and predictions that depend on it alone stay usable. "
            )
    return ""



#: The end of the HessianWarning of a converged fit where the model has no advice of its own
#: (:meth:`_singular_hessian_advice`).
_SINGULAR_HESSIAN_ADVICE = ("Check the predictions you use against a simpler model (e.g. the limit the estimates run "
                            "towards, or NBDModel when there is no sign of dropout) or fit on more customers.")


def _trust_region_step(g: np.ndarray, H: np.ndarray, delta: float) -> tuple[np.ndarray | None, bool]:
    """The minimiser of ``g.p + p.H.p / 2`` over ``|p| <= delta`` (Euclidean norm), and whether it is the Newton step.

    From the eigendecomposition ``H = V diag(lam) V^T``: the Newton step
    ``-H^{-1} g`` where ``H`` is positive definite and the step lies in the
    ball; otherwise ``p(mu) = -(H + mu I)^{-1} g`` on the sphere, with
    ``mu > max(0, -lam_min)`` found by bisection on ``|p(mu)| = delta``, and
    in the "hard case" (``g`` orthogonal to the lowest eigenvector) that step
    plus the lowest eigenvector up to the sphere (Nocedal & Wright 2006,
    section 4.3). ``(None, False)`` for a non-finite Hessian.
    """
    try:
        lam, V = np.linalg.eigh(H)
    except np.linalg.LinAlgError:
        return None, False
    if not np.isfinite(lam).all():
        return None, False
    c = V.T @ g
    scale = max(1.0, float(np.max(np.abs(lam))))
    if lam[0] > 1e-14 * scale:
        p = -V @ (c / lam)
        # (within an infinite ball unless the step is NaN: the norm is then NaN; p @ p is NaN exactly then)
        if (not math.isnan(float(p @ p))) if delta == math.inf else float(np.linalg.norm(p)) <= delta:
            return p, True
    lo = max(0.0, -float(lam[0]))
    norm_g = float(np.linalg.norm(g))
    # lam + mu as (lam + lo) + nu with nu = mu - lo: near the hard case nu is ~|c_0| / delta, far below the
    # resolution of lo + nu (mu = 2 + 1e-11 carries 4e-5 relative error in nu, a step 1e-7 short of the sphere,
    # test_trust_region_step_solves_the_subproblem); shifted this way nu keeps its full precision
    shifted = lam + lo
    if lo > 0.0:
        shifted[0] = 0.0

    def length(nu: float) -> float:
        return float(np.linalg.norm(c / (shifted + nu)))

    eps = 1e-12 * scale
    if length(eps) < delta:
        # hard case: mu = -lam_min; the step in the other eigendirections, and the lowest eigenvector (orthogonal
        # to them, pointing downhill) makes up the length
        rest = lam > lam[0] + eps
        coef = np.zeros_like(c)
        coef[rest] = -c[rest] / shifted[rest]
        tau = math.sqrt(max(delta**2 - float(coef @ coef), 0.0))
        coef[0] = -tau if c[0] > 0 else tau
        return V @ coef, False
    a, b = eps, norm_g / delta + eps  # nu = mu - lo; length(b) <= delta
    for _ in range(100):  # bisection on the log scale of nu (it spans many orders of magnitude)
        m = math.sqrt(a * b)
        if length(m) > delta:
            a = m
        else:
            b = m
        if b - a <= 1e-10 * b:
            break
    p = -V @ (c / (shifted + b))
    return p, False


class ModelFitError(CRMAnalysisError, RuntimeError):
    """Raised when the likelihood maximisation fails."""


class _RidgeReached(CRMAnalysisError):
    """Internal: the optimiser's iterate reached the region the ``stop`` watch of :meth:`LikelihoodFitter._fit_arrays` looks for; caught in base, never raised to users."""

    def __init__(self, log_params: np.ndarray) -> None:
        super().__init__("ridge reached")
        self.log_params = np.array(log_params, float)


class LikelihoodFitter(NotFittedAttributes):
    """Mixin: maximum likelihood on the log-parameter scale for the models of :mod:`crm_analysis.clv`.

    A model defines ``_param_names``, ``penalizer`` and
    ``_weighted_loglik(log_params, arrays, weights)`` returning the weighted
    total log-likelihood and its gradient with respect to the log
    parameters (``None``: central differences), and
    ``_initial_log_params(arrays, weights)`` returning candidate starting
    points. :meth:`_fit_arrays` runs the optimiser and stores the
    :class:`~crm_analysis.clv.results.FitResult` (``fit_result_``) and the
    fitted attributes.
    """

    _param_names: tuple[str, ...] = ()
    penalizer: float = 0.0

    def _weighted_loglik(
        self, log_params: np.ndarray, arrays: Sequence[np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray | None]:
        """Weighted total log-likelihood and its gradient w.r.t. the log parameters (``None``: not analytic).

        Default: the weighted sum of :meth:`_loglik`, for models that write
        their likelihood per row. Each model writes its likelihood once,
        either here (a direct weighted form) or in ``_loglik``.
        """
        ll, g = self._loglik(log_params, arrays)
        return wdot(weights, ll), (None if g is None else wdot(weights, g))

    def _loglik(self, log_params: np.ndarray, arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-row log-likelihood and its gradient w.r.t. the log parameters (``None``: not analytic)."""
        raise NotImplementedError

    def _initial_log_params(self, arrays: Sequence[np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        return [np.zeros(len(self._param_names))]

    def _weighted_loglik_value(self, log_params: np.ndarray, arrays: Sequence[np.ndarray], weights: np.ndarray) -> float:
        """Weighted total log-likelihood only (override when the gradient is costly)."""
        return self._weighted_loglik(log_params, arrays, weights)[0]

    def _objective_factory(
        self, arrays: Sequence[np.ndarray], weights: np.ndarray
    ) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], tuple[float, np.ndarray]]]:
        total = float(weights.sum())
        pen = float(self.penalizer)
        k = len(self._param_names)

        # the last points evaluated with their gradients: the optimiser, the Hessian's k + 1 points and the
        # Newton steps come back to them (each hit saves a likelihood evaluation)
        last: dict[bytes, tuple[float, np.ndarray]] = {}
        keep = k + 2
        # a value-only evaluation costs a full one unless the model has a cheaper _weighted_loglik_value:
        # then it is kept too (with its gradient) for the optimiser's first call at the chosen start
        value_is_full = self._analytic_gradient and (
            type(self)._weighted_loglik_value is LikelihoodFitter._weighted_loglik_value
        )

        def penalty(lp: np.ndarray) -> float:
            return pen * float(np.dot(lp, lp)) if pen else 0.0

        def remember(key: bytes, val: float, grad: np.ndarray) -> None:
            if len(last) >= keep:
                del last[next(iter(last))]
            last[key] = (val, grad.copy())

        def fun(lp: np.ndarray) -> float:
            key = np.asarray(lp, float).tobytes()
            hit = last.get(key)
            if hit is not None:
                return hit[0]
            if value_is_full:
                val, grad = _raw(lp)
                if math.isfinite(val) and np.isfinite(grad).all():
                    remember(key, val, grad)
                return val if math.isfinite(val) else 1e300
            with np.errstate(all="ignore"):
                ll = self._weighted_loglik_value(lp, arrays, weights)
                val = -ll / total + penalty(lp)
            return val if math.isfinite(val) else 1e300

        def fun_grad(lp: np.ndarray) -> tuple[float, np.ndarray]:
            key = np.asarray(lp, float).tobytes()
            hit = last.get(key)
            if hit is not None:
                return hit[0], hit[1].copy()
            val, grad = _raw(lp)
            if not math.isfinite(val) or not np.isfinite(grad).all():
                val, grad = 1e300, np.zeros(k)
            remember(key, val, grad)
            return val, grad

        def _raw(lp: np.ndarray) -> tuple[float, np.ndarray]:
            with np.errstate(all="ignore"):
                ll, g = self._weighted_loglik(lp, arrays, weights)
                val = -ll / total + penalty(lp)
            if g is None:
                grad = np.empty(k)
                h = 1e-6
                for j in range(k):
                    e = np.zeros(k)
                    e[j] = h
                    grad[j] = (fun(lp + e) - fun(lp - e)) / (2 * h)
            else:
                grad = np.asarray(g) / -total
                if pen:
                    grad += 2 * pen * lp
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

    def _fit_arrays(
        self, arrays: Sequence[np.ndarray], weights: np.ndarray, *, start: np.ndarray | None = None,
        resume: np.ndarray | None = None, stop: Callable[[np.ndarray], bool] | None = None,
    ) -> None:
        """Fit on ``arrays`` with ``weights``: the best start by value, L-BFGS-B, the Newton polish; store the results.

        Parameters
        ----------
        arrays : sequence of numpy.ndarray
            The model's prepared data (``_prepare``).
        weights : numpy.ndarray
            Weight per row of ``arrays``.
        start : numpy.ndarray, optional
            Log parameters: the only start, instead of the model's starts (a refit from a chosen point;
            base: :meth:`~crm_analysis.clv.base.BaseTransactionModel._other_basin_refit`).
        resume : numpy.ndarray, optional
            Where a stopped run of the same fit ended: tried before the model's own starts, or, with
            ``start``, the only start in its place.
        stop : callable, optional
            Called with each accepted iterate (log parameters); where it returns True the run stops with
            ``_RidgeReached`` (the caller's watch, e.g. the common-dropout ridge).

        Raises
        ------
        InputError
            A negative or non-finite ``penalizer``.
        ModelFitError
            No finite start, or the optimiser failed.
        """
        with _single_threaded_blas():
            self._fit_arrays_impl(arrays, weights, start, resume, stop)

    def _fit_arrays_impl(
        self, arrays: Sequence[np.ndarray], weights: np.ndarray, forced: np.ndarray | None,
        resume: np.ndarray | None, stop: Callable[[np.ndarray], bool] | None,
    ) -> None:
        if self.penalizer < 0 or not np.isfinite(self.penalizer):
            raise InputError(f"penalizer must be a finite non-negative number, got {shown(self.penalizer)}")
        fun, fun_grad = self._objective_factory(arrays, weights)
        starts = self._initial_log_params(arrays, weights)
        if forced is not None:  # the other-basin refit (base: _other_basin_refit)
            starts = [np.asarray(forced, float)]
        if resume is not None:  # where a stopped run of the same fit ended (base: ridge check)
            starts = [np.asarray(resume, float)] if forced is not None else [np.asarray(resume, float), *starts]
        if len(weights) > 20000:  # choose the start on a subsample of the distinct rows
            idx = np.random.default_rng(0).choice(len(weights), 20000, replace=False)
            sub_arrays = self._subset(arrays, np.sort(idx))
            sub_fun, _ = self._objective_factory(sub_arrays, weights[np.sort(idx)])
        else:
            sub_fun = fun
        values = [sub_fun(np.asarray(s, float)) for s in starts]
        chosen = int(np.argmin(values))
        x0 = np.asarray(starts[chosen], float)
        if forced is None:
            self._start_used = x0  # the basin the fit started in (base: _other_basin_refit)
            # the starts and their objective values, for a screen of the other starts after the fit (BG/NBD)
            self._start_values = (starts, values) if sub_fun is fun else None
        if (min(values) if sub_fun is fun else fun(x0)) >= 1e300:
            raise ModelFitError(
                f"{type(self).__name__}: log-likelihood is not finite at any starting value ({self._data_description()})"
            )
        bounds = self._log_bounds()
        if self._has_analytic_hessian():
            newton = self._newton_fit(x0, arrays, weights, stop)
            if newton is not None:
                lp, f_final, H, n_iter = newton
                total = float(weights.sum())
                loglik = -(f_final - float(self.penalizer) * float(lp @ lp)) * total
                self._set_fit_results(lp, arrays, weights, converged=True, n_iter=n_iter, hessian=H, loglik=loglik)
                return

        def watch(xk: np.ndarray) -> None:
            if stop(xk):
                raise _RidgeReached(xk)

        callback = None if stop is None else watch
        # a moderate tolerance: the Newton steps of _newton_polish take the gradient to rounding
        # level from here (quadratic convergence), at a fraction of the quasi-Newton iterations
        res = optimize.minimize(
            fun_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds, callback=callback,
            options={"maxiter": 2000, "ftol": self._quick_ftol, "gtol": self._quick_gtol, "maxcor": self._quick_maxcor},
        )
        n_iter = int(res.nit)
        if not res.success:  # continue with the strict settings (e.g. along a ridge towards a boundary)
            res_s = optimize.minimize(
                fun_grad, res.x, jac=True, method="L-BFGS-B", bounds=bounds, callback=callback,
                options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20},
            )
            n_iter += int(res_s.nit)
            if res_s.fun <= res.fun:
                res = res_s
        if not res.success and np.max(np.abs(fun_grad(res.x)[1])) > 1e-6:
            # L-BFGS-B often stops with a line-search complaint at an optimum
            # reached to machine precision (then the Newton step below is
            # enough); when the gradient is not yet small, continue with BFGS.
            res2 = optimize.minimize(fun_grad, res.x, jac=True, method="BFGS", callback=callback,
                                     options={"maxiter": 500, "gtol": 1e-8})
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
            if self._on_poisson_ridge(lp_end):  # one story with the Hessian / identification warnings (findings_12u F4)
                others = [n for n in names if n not in self._param_names[:2]]
                far = (f"; {_params_text(others, np.exp(lp_end[[self._param_names.index(n) for n in others]]))} "
                       "far out as well" if others else "")
                text = (f"the likelihood is flat along the ridge r, alpha -> infinity with r / alpha = "
                        f"{math.exp(lp_end[0] - lp_end[1]):.4g} fixed (r = {math.exp(lp_end[0]):.4g}: the Poisson limit of "
                        f"the purchase rate, the same for every customer){far}; the optimiser stopped on that ridge "
                        f"({res.message}). The estimates are a point on it, not a unique maximum: of r and alpha only "
                        f"r / alpha is estimated ({self._data_description()}).")
            else:
                text = (f"the likelihood keeps rising along a ridge towards the boundary of the parameter space: "
                        f"{_params_text(names, np.exp(lp_end[np.abs(lp_end) > 12.0]))} ran off towards 0 or infinity and "
                        f"the optimiser stopped there ({res.message}). The estimates are a point on that ridge, not a "
                        f"maximum: the model degenerates to a simpler one for these data ({self._data_description()}).")
            warnings.warn(f"{type(self).__name__}: {text}", BoundaryWarning, stacklevel=4)
            grad_ok = True
        if not (res.success or grad_ok):
            raise ModelFitError(
                f"{type(self).__name__}: optimiser did not converge ({res.message}); gradient at the last iterate "
                f"({_params_text(self._param_names, grad)}) at parameters ({_params_text(self._param_names, np.exp(res.x))}). "
                f"Data: {self._data_description()}. {self._few_data_note()}A likelihood that keeps rising towards extreme parameter values "
                "means the data do not identify the model (too few customers, too little variation between them); "
                "a small penalizer (e.g. 0.01) keeps the parameters finite."
            )
        lp = np.asarray(res.x, float)
        lp, H = self._newton_polish(lp, fun_grad, arrays, weights, stop)
        # after the polish: its strict L-BFGS-B run can end at the bound where the first run did not (findings_12p
        # Finding 3b, y_140: beta = e^-30 with no BoundaryWarning)
        self._warn_if_at_bound(lp)
        f_final, g_final = fun_grad(lp)  # cached: the last point evaluated
        converged = bool(res.success or grad_ok)
        if converged and not on_ridge:
            # the optimiser's own "success" is not enough: L-BFGS-B also reports it when a line search shrank its
            # step to nothing ("relative reduction of f"), e.g. after a trial point where the likelihood was not
            # finite (findings_12p Finding 4: converged after 2 iterations, 116 log-likelihood units low)
            converged = self._stationary(lp, g_final)
        loglik = -(f_final - float(self.penalizer) * float(lp @ lp)) * float(weights.sum()) if f_final < 1e300 else None
        self._set_fit_results(
            lp, arrays, weights, converged=converged, n_iter=n_iter, hessian=H, loglik=loglik
        )

    #: largest projected gradient of the objective (mean negative log-likelihood per customer, log parameters)
    #: at which a fit counts as converged; the Newton polish takes it to ~1e-10 at a maximum
    _STATIONARY_GTOL = 1e-4

    def _stationary(self, lp: np.ndarray, grad: np.ndarray) -> bool:
        """Whether ``lp`` is a stationary point: the projected gradient at most ``_STATIONARY_GTOL``, else a ConvergenceWarning.

        Components at a bound whose gradient points out of the box are left out (a maximum on the
        bound). The warning names the model, the gradient and the parameters; ``converged_`` is then False.
        """
        g = np.array(grad, float)
        lo_b, hi_b = np.array(self._log_bounds(), float).T
        g[(lp <= lo_b + 1e-9) & (g > 0)] = 0.0  # the objective falls towards the lower bound: a maximum there
        g[(lp >= hi_b - 1e-9) & (g < 0)] = 0.0
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        if math.isfinite(gmax) and gmax <= self._STATIONARY_GTOL:
            return True
        warnings.warn(
            f"{type(self).__name__}: the optimiser stopped at a point that is not a maximum of the likelihood: the "
            f"gradient of the mean log-likelihood per customer (log parameters) is "
            f"({_params_text(self._param_names, -g)}) at parameters "
            f"({_params_text(self._param_names, np.exp(lp))}) (tolerance {self._STATIONARY_GTOL:g}); "
            f"converged_ is False and the estimates are not reliable ({self._data_description()}). Try other "
            "starting values or a small penalizer.",
            ConvergenceWarning,
            stacklevel=4,
        )
        return False

    #: whether the model has ``_weighted_loglik_hessian`` (log-likelihood, gradient and Hessian in the log
    #: parameters): the fit then tries :meth:`_newton_fit` first
    _analytic_hessian: bool = False
    #: |log parameter| beyond which the Newton iteration gives up (the boundary region, where the models'
    #: limits are handled by the quasi-Newton path and its checks)
    _NEWTON_REGION = 12.0
    #: largest step (log scale, each parameter) of an iteration of :meth:`_newton_fit`
    _NEWTON_STEP_MAX = 2.0

    def _weighted_loglik_hessian(
        self, log_params: np.ndarray, arrays: Sequence[np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Weighted log-likelihood, its gradient and its Hessian in the log parameters (models with ``_analytic_hessian``)."""
        raise NotImplementedError

    @classmethod
    def _has_analytic_hessian(cls) -> bool:
        """Whether ``_weighted_loglik_hessian`` is the Hessian of this class's likelihood.

        ``_analytic_hessian`` set, and the Hessian defined by the class that defines
        ``_weighted_loglik`` or a subclass of it (a subclass that writes its own likelihood
        does not inherit a Hessian of another one).
        """
        if not cls._analytic_hessian:
            return False
        owner = {name: next(c for c in cls.__mro__ if name in c.__dict__) for name in ("_weighted_loglik", "_weighted_loglik_hessian")}
        return issubclass(owner["_weighted_loglik_hessian"], owner["_weighted_loglik"])

    def _penalised_newton_terms(
        self, lp: np.ndarray, arrays: Sequence[np.ndarray], weights: np.ndarray, total: float | None = None
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """The fit's objective (penalised negative log-likelihood per customer), its gradient and Hessian at ``lp``.

        ``total``: ``weights.sum()`` where the caller has it (the Newton iteration: one sum per fit).
        """
        if total is None:
            total = float(weights.sum())
        with np.errstate(all="ignore"):
            ll, g, H = self._weighted_loglik_hessian(lp, arrays, weights)
        f = -ll / total
        g = np.asarray(g, float) / -total
        H = np.asarray(H, float) / -total
        pen = float(self.penalizer)
        if pen:
            f += pen * float(lp @ lp)
            g = g + 2.0 * pen * lp
            H = H + 2.0 * pen * np.eye(lp.size)
        return f, g, H

    def _newton_fit(
        self, x0: np.ndarray, arrays: Sequence[np.ndarray], weights: np.ndarray, stop: Callable[[np.ndarray], bool] | None
    ) -> tuple[np.ndarray, float, np.ndarray, int] | None:
        """Newton iteration with the analytic Hessian from ``x0``; ``None`` where it does not settle.

        The objective is the penalised negative log-likelihood per customer in
        the log parameters. Where its Hessian is positive definite an
        iteration takes the Newton step (capped at ``_NEWTON_STEP_MAX`` on the
        log scale) and halves it until the objective decreases enough
        (Armijo's rule); where it is not, the step minimises the quadratic
        model within a ball of radius ``delta`` exactly
        (:func:`_trust_region_step`), and ``delta`` adapts to how well the model
        predicted the change (Nocedal & Wright 2006, *Numerical Optimization*,
        sections 3.1 and 3.5, algorithm 4.1 with the exact subproblem of section
        4.3). It stops after a full Newton step below ``1e-5`` (quadratic
        convergence: the error after it is of the order of its square, ~1e-10) or at a gradient
        at rounding level, and returns ``(log parameters, objective, Hessian of
        the total penalised negative log-likelihood in the log parameters,
        iterations)``.

        ``None`` (the caller then runs the quasi-Newton path from the same
        start, as without a Hessian) when a value is not finite, a trial point
        leaves the model's bounds or ``|log p| <= _NEWTON_REGION`` (towards a boundary, whose limits
        the quasi-Newton path and its checks handle) or lies in the region
        ``stop`` watches (the common-dropout ridge), 60 iterations do not
        suffice or the Hessian at the end is not positive definite.
        """
        region = self._NEWTON_REGION
        bounds = self._log_bounds()  # a model's own bounds (e.g. log p <= 0) as well

        def outside(point: np.ndarray) -> bool:
            # (on Python floats: the same comparisons as numpy's, at a fifth of the cost for k = 3-4 parameters)
            return (any(abs(v) > region or v > hi or v < lo for v, (lo, hi) in zip(point.tolist(), bounds))
                    or (stop is not None and bool(stop(point))))

        lp = np.asarray(x0, float)
        if outside(lp):
            return None
        total = float(weights.sum())
        f, g, H = self._penalised_newton_terms(lp, arrays, weights, total)
        delta = 1.0
        for it in range(1, 61):
            if not (math.isfinite(f) and np.isfinite(g).all() and np.isfinite(H).all()):
                return None
            gmax = float(np.max(np.abs(g)))
            if gmax < 1e-14:
                break
            step, newton = _trust_region_step(g, H, math.inf)
            if step is None:
                return None
            if newton:
                big = float(np.max(np.abs(step)))
                if big < 1e-10:
                    break
                t = min(1.0, self._NEWTON_STEP_MAX / big)
                slope = float(g @ step)
                for _ in range(40):
                    new = lp + t * step
                    if outside(new):
                        return None
                    f1, g1, H1 = self._penalised_newton_terms(new, arrays, weights, total)
                    # at the optimum the objective is flat to rounding: a full step that lowers the gradient is taken
                    if math.isfinite(f1) and (
                        f1 <= f + 1e-4 * t * slope
                        or (t == 1.0 and f1 <= f + 1e-13 * max(1.0, abs(f)) and np.max(np.abs(g1)) < gmax)
                    ):
                        break
                    t *= 0.5
                else:
                    return None
                lp, f, g, H = new, f1, g1, H1
                if t == 1.0 and big < 1e-5:
                    break
                continue
            step, _ = _trust_region_step(g, H, delta)
            if step is None:
                return None
            new = lp + step
            if outside(new):
                return None
            f1, g1, H1 = self._penalised_newton_terms(new, arrays, weights, total)
            predicted = -float(g @ step + 0.5 * step @ H @ step)
            rho = (f - f1) / predicted if math.isfinite(f1) and predicted > 0 else -math.inf
            if rho < 0.25:
                delta = 0.25 * float(np.linalg.norm(step))
            elif rho > 0.75:
                delta = min(2.0 * delta, self._NEWTON_STEP_MAX)
            if rho > 1e-4:
                lp, f, g, H = new, f1, g1, H1
            elif delta < 1e-12:
                return None
        else:
            return None
        if not (math.isfinite(f) and np.isfinite(H).all()):
            return None
        try:
            np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            return None
        return lp, f, 0.5 * (H + H.T) * total, it

    def _newton_polish(
        self, lp: np.ndarray, fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], arrays, weights: np.ndarray,
        stop: Callable[[np.ndarray], bool] | None = None,
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
        f0, g0 = fun_grad(lp)  # (the optimiser's last point: usually remembered)
        H = self._hessian(lp, arrays, weights, fun_grad=fun_grad)
        total = float(weights.sum())
        if self._at_optimiser_bound(lp).any() or not np.all(np.isfinite(H)):
            return lp, H
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
            lo_b, hi_b = np.array(self._log_bounds()).T
            new = np.clip(lp + step, lo_b, hi_b)
            f1, g1 = fun_grad(new)
            # the objective is flat to rounding level here: judge the step by the gradient,
            # allowing the objective to rise by no more than rounding noise
            if not (f1 <= f0 + 1e-12 * max(1.0, abs(f0)) and np.max(np.abs(g1)) < np.max(np.abs(g0))):
                break
            lp, f0, g0 = new, f1, g1
        if np.max(np.abs(g0)) > 1e-8 or newton == 0:

            def watch(xk: np.ndarray) -> None:
                if stop(xk):
                    raise _RidgeReached(xk)

            callback = None if stop is None else watch
            res = optimize.minimize(
                fun_grad, lp, jac=True, method="L-BFGS-B", bounds=self._log_bounds(), callback=callback,
                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
            )
            if res.fun <= f0:
                lp = np.asarray(res.x, float)
                H = self._hessian(lp, arrays, weights, fun_grad=fun_grad)
        return lp, H

    #: log r and log alpha above which :meth:`_on_poisson_ridge` holds (r = e^12 = 1.6e5: the purchase rate's gamma
    #: distribution has a coefficient of variation 1 / sqrt(r) below 0.0025)
    _POISSON_RIDGE_LOG = 12.0
    #: whether the first two parameters are ``r`` and ``alpha`` of the purchase rate's gamma distribution and
    #: :meth:`_on_poisson_ridge` applies (Pareto/NBD and its limits, the common-dropout and two-point models)
    _gamma_rate_first = False

    def _on_poisson_ridge(self, lp: np.ndarray) -> bool:
        """Whether ``lp`` lies on the ridge ``r, alpha -> inf`` (``r / alpha`` fixed: the Poisson limit of the purchase process).

        ``False`` unless the model sets ``_gamma_rate_first`` (its first two parameters are ``r`` and ``alpha`` of
        the purchase rate's gamma distribution); then whether both exceed ``e^_POISSON_RIDGE_LOG``. There the
        likelihood is flat along ``r, alpha``; the warnings name that ridge (findings_12u F4) rather than a
        run-off of every large parameter or "an interior maximum".
        """
        lp = np.asarray(lp, float)
        return bool(self._gamma_rate_first and lp[0] > self._POISSON_RIDGE_LOG and lp[1] > self._POISSON_RIDGE_LOG)

    def _probability_params(self) -> tuple[str, ...]:
        """Names of the parameters bounded by 1 (``_log_upper_bounds() <= 0``: probabilities, e.g. ``p``, ``pi``)."""
        upper = getattr(self, "_log_upper_bounds", None)
        if upper is None:
            return ()
        return tuple(n for n, u in zip(self._param_names, np.asarray(upper(), float)) if u <= 0.0)

    def _log_bounds(self) -> list[tuple[float, float]]:
        """Bounds of the log parameters: ``+-_LOG_BOUND``, or a model's own ``_log_lower_bounds()``, ``_log_upper_bounds()``.

        The upper bounds are at most ``_LOG_BOUND`` (e.g. ``log p <= log(1 - 1e-10)``); a model's lower bounds
        replace ``-_LOG_BOUND`` (Pareto/NBD: ``log beta >= -600``, ``ParetoNBDModel._LOG_BETA_FLOOR``).
        """
        k = len(self._param_names)
        upper = getattr(self, "_log_upper_bounds", None)
        lower = getattr(self, "_log_lower_bounds", None)
        ub = np.full(k, _LOG_BOUND) if upper is None else np.minimum(upper(), _LOG_BOUND)
        lb = np.full(k, -_LOG_BOUND) if lower is None else np.asarray(lower(), float)
        return [(float(lo), float(u)) for lo, u in zip(lb, ub)]

    def _at_optimiser_bound(self, lp: np.ndarray) -> np.ndarray:
        """Which log parameters are at the optimiser's bound: the lower bound of :meth:`_log_bounds`, or ``+_LOG_BOUND``.

        A model's own upper bounds below ``_LOG_BOUND`` (``log p <= log(1 - 1e-10)``, where the
        likelihood is -inf at 1) are not counted: they bound the parameter space, not the optimiser.
        """
        lp = np.asarray(lp, float)
        lo_b = np.array([b[0] for b in self._log_bounds()], float)
        return (lp <= lo_b + 1e-6) | (lp >= _LOG_BOUND - 1e-6)

    def _subset(self, arrays: Sequence[np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """Arrays of a subset of the rows (for choosing starting values)."""
        return tuple(np.asarray(a)[idx] for a in arrays)

    def _hessian(
        self,
        lp: np.ndarray,
        arrays: Sequence[np.ndarray],
        weights: np.ndarray,
        fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
    ) -> np.ndarray:
        """Hessian of the total penalised negative log-likelihood (log scale): analytic where the model has one, else numerical.

        ``fun_grad``: the fit's objective (of :meth:`_objective_factory` on the same data), whose
        remembered points (the gradient at ``lp``) save evaluations; by default a new one.
        """
        k = len(lp)
        total = float(weights.sum())
        if self._has_analytic_hessian():  # exact (a forward difference is wrong by ~1e-6 relative)
            H = self._penalised_newton_terms(np.asarray(lp, float), arrays, weights)[2]
            if np.all(np.isfinite(H)):
                return 0.5 * (H + H.T) * total
        fun, own_fun_grad = self._objective_factory(arrays, weights)
        if fun_grad is None or not self._analytic_gradient:
            fun_grad = own_fun_grad
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
        lp = np.asarray(lp, float)
        flat = self._flat_gamma_pairs(lp, float(ll), arrays, weights)
        # a probability at 1 (its log on the model's own bound 0): the edge of the parameter space, held there like
        # the limits of a boundary fit (no standard error; its Hessian column came from a step beyond 1)
        one = np.array([hi == 0.0 for _, hi in self._log_bounds()]) & (lp >= 0.0)
        if one.any():
            fixed = {n: 1.0 for n, at in zip(self._param_names, one) if at}
            self._warn_probability_one(list(fixed))
            lp, H = lp[~one], np.asarray(H, float)[np.ix_(~one, ~one)]
        else:
            fixed = None
        self._store_results(
            lp, float(ll), H, converged=converged, n_iter=n_iter, n_customers=float(weights.sum()), n_distinct=int(len(weights)),
            flat=flat, fixed=fixed,
        )

    def _probability_one_meaning(self, names: list[str]) -> str:
        """What probabilities ``names`` at 1 mean for the customers, for :meth:`_warn_probability_one` (model hook)."""
        return ""

    def _warn_probability_one(self, names: list[str]) -> None:
        """BoundaryWarning: the probabilities ``names`` were estimated at 1, the edge of the parameter space."""
        warnings.warn(
            f"{type(self).__name__}: {' and '.join(names)} = 1, the edge of the parameter space, where the likelihood "
            f"is highest{self._probability_one_meaning(names)}. {', '.join(names)} is held at 1 (no standard error; "
            f"fit_result_ counts it as fixed) and the other parameters are fitted there ({self._data_description()}).",
            BoundaryWarning,
            stacklevel=5,
        )

    def _flat_gamma_pairs(self, lp: np.ndarray, ll: float, arrays: Sequence[np.ndarray], weights: np.ndarray) -> list[str]:
        """Shape and rate of a gamma mixing distribution (``_GAMMA_PAIRS``) on their ridge to infinity, not identified.

        Where the shape is above 100 and the log-likelihood falls by less than 1.92 (the 95 % chi-square(1)
        half-quantile) when shape and rate are both multiplied by ``exp(1.96 * _LOG_SE_LIMIT)`` (~360), a 95 %
        interval spans more than the factor that defines "not identified"; the Hessian there is dominated by
        rounding and can pass as positive definite (MBG/NBD common-dropout limit with 5 repeat buyers: r = 1.4e5,
        alpha = 4.7e6, log-likelihood unchanged to 1e-4 along r, alpha x 1000, log-SEs ~1).
        """
        names = list(self._param_names)
        out: list[str] = []
        for shape, rate, *_ in _GAMMA_PAIRS:
            if shape not in names or rate not in names:
                continue
            i, j = names.index(shape), names.index(rate)
            if not np.exp(lp[i]) > 100.0:
                continue
            far = np.array(lp, float)
            far[[i, j]] += 1.96 * self._LOG_SE_LIMIT
            if np.any(far[[i, j]] > _LOG_BOUND):  # (only shape and rate moved; Pareto/NBD's log beta may be below -30)
                continue
            with np.errstate(all="ignore"):
                ll_far = self._weighted_loglik(far, arrays, weights)[0]
            if math.isfinite(ll_far) and ll - ll_far < 1.92:
                out += [shape, rate]
        return out

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
        flat: Sequence[str] = (),
    ) -> None:
        """Set the fitted attributes from log parameters and the Hessian of the negative log-likelihood.

        ``fixed`` holds parameters not estimated (a boundary fit: their
        values are limits such as 0 or inf, their standard errors NaN); ``lp``
        and ``H`` then refer to the other parameters, in order. ``flat``: parameters found not identified
        by :meth:`_flat_gamma_pairs`, whatever their standard errors.
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
        # (pandas objects from fresh arrays without another copy: the constructors' copies and checks were about a
        # tenth of a BG/NBD fit on the CDNOW sample)
        self.params_ = pd.Series(np.array([float(values[n]) for n in names]), index=index, name="estimate", copy=False)
        singular = False
        try:
            cov_free = np.linalg.inv(H)
            if not np.all(np.isfinite(cov_free)) or np.any(np.diag(cov_free) <= 0):
                raise np.linalg.LinAlgError("Hessian not positive definite")
            np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            warnings.warn(
                (f"{type(self).__name__}: these data do not identify (all) the parameters (the Hessian at the "
                 f"optimum is singular or not positive definite): no standard errors, and the parameter values are "
                 f"not to be read as measured. For you: "
                 f"standard_errors_ and covariance_ are NaN ('not identified' in the report tables), not_identified_ "
                 f"lists every parameter and prediction intervals hold process uncertainty only; the estimates "
                 f"are the highest point the optimiser found, not known to be a maximum (the likelihood is flat or "
                 f"curves upwards in some direction there, so another start may find a higher point); predictions "
                 f"that depend only on what the data determine may be usable. "
                 f"{_why_not_identified(free, values)}{self._few_data_note()}Data: {self._data_description()}. "
                 f"{self._singular_hessian_advice(free, values) or _SINGULAR_HESSIAN_ADVICE}"
                 if converged else
                 f"{type(self).__name__}: the Hessian at the point the optimiser stopped is singular or not positive "
                 f"definite, and that point is not a maximum (see the ConvergenceWarning) ({self._data_description()})."
                 f" For you: standard_errors_ and covariance_ are NaN and not_identified_ lists all parameters, which "
                 f"says nothing about whether the data identify them; the estimates are not a maximum of the likelihood: do "
                 f"not rely on them. "
                 f"Refit (another start or a penalizer) or use a simpler model.").rstrip(),
                HessianWarning,
                stacklevel=5,
            )
            cov_free = np.full((len(free), len(free)), np.nan)
            singular = True
        J = np.diag(np.exp(lp))
        if fixed:
            pos = [names.index(n) for n in free]
            cov_log = np.full((len(names), len(names)), np.nan)
            cov_log[np.ix_(pos, pos)] = cov_free
            cov = np.full_like(cov_log, np.nan)
            cov[np.ix_(pos, pos)] = J @ cov_free @ J
        else:  # every parameter estimated (the same arrays, without the index assignments)
            cov_log = np.array(cov_free, dtype=float)
            cov = J @ cov_free @ J
        # Fortran order: the layout pandas' copying constructor gives (to_numpy() F-contiguous), so that every later
        # computation on these matrices runs as before
        self.log_covariance_ = pd.DataFrame(np.asfortranarray(cov_log), index=index, columns=index, copy=False)
        self.covariance_ = pd.DataFrame(np.asfortranarray(cov), index=index, columns=index, copy=False)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=index, name="std_error", copy=False)
        self.fit_result_ = FitResult(
            model=type(self).__name__,
            params=self.params_,
            log_covariance=self.log_covariance_,
            log_likelihood=self.log_likelihood_,
            n_obs=self.n_customers_,
            n_distinct=self.n_distinct_,
            converged=self.converged_,
            n_iter=self.n_iter_,
            fixed=dict(fixed),
            penalizer=float(getattr(self, "penalizer", 0.0)),
            probabilities=self._probability_params(),
        )
        se_log = np.sqrt(np.diag(cov_free))
        weak = [n for n, se in zip(free, se_log) if (np.isfinite(se) and se > self._LOG_SE_LIMIT) or n in flat]
        # a singular Hessian (HessianWarning above): no estimated parameter has a standard error
        self.not_identified_ = list(free) if singular else weak
        if weak:
            detail = ", ".join(
                f"{n} = {values[n]:.4g} ("
                + ("log-likelihood within 1.92 of the maximum with shape and rate both 360 times larger" if n in flat
                   else f"log-scale standard error {se:.3g}") + ")"
                for n, se in zip(free, se_log) if n in weak)
            # first what happened and what it means (findings_12y: 700-1,500 characters, the point in the middle)
            warnings.warn(
                f"{type(self).__name__}: parameter(s) {weak} are not identified by these data (a 95% interval "
                f"spanning more than a factor {np.exp(2 * 1.96 * self._LOG_SE_LIMIT):.0e}): their values are not to "
                f"be read as measured. {self._not_identified_advice(weak, values)} Estimates: {detail}. "
                f"{_why_not_identified(weak, values)}{self._few_data_note()}"
                f"Data: {self._data_description()}.",
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

    #: data units per parameter below which a not-identified warning names their number as the likely reason
    _FEW_REPEAT_PER_PARAM = 10

    def _few_data_count(self) -> tuple[float, str, str, str] | None:
        """For :meth:`_few_data_note`: ``(count, what is counted, the model's name, what the count identifies)``,
        or ``None`` where the model does not say (base)."""
        return None

    def _few_data_note(self) -> str:
        """Few data as the likely reason of an identification warning (issue 12 pt 3, findings_12n F6, 12u F6),
        where fewer than ``_FEW_REPEAT_PER_PARAM`` per parameter (:meth:`_few_data_count`), else ``""``."""
        counted = self._few_data_count()
        limit = self._FEW_REPEAT_PER_PARAM * len(self._param_names)
        if counted is None or counted[0] >= limit:
            return ""
        n, who, model, why = counted
        return (f"Likely reason: only {n:g} {who}, too few for the {model}'s {len(self._param_names)} parameters "
                f"({why}; fewer than {limit} here). ")

    def _not_identified_advice(self, weak: list[str], values: dict[str, float]) -> str:
        """What follows from parameters ``weak`` not being identified, and what to do (the end of the warning).

        The purchase models' text by default; the Gamma-Gamma spend model has its own (findings_12u F3).
        """
        return ("Predictions that depend on these parameters are unreliable; use more customers or a simpler model "
                "(e.g. NBDModel when there is no sign of dropout).")

    def _singular_hessian_advice(self, free: list[str], values: dict[str, float]) -> str:
        """What follows from a singular Hessian at a converged optimum, and what to do (base: nothing more)."""
        return ""

    def _data_description(self) -> str:
        """Counts of the data the model was fitted on, for messages."""
        info = getattr(self, "_fit_info", None)
        return info or "data not described"

    def _warn_if_at_bound(self, lp: np.ndarray) -> None:
        """BoundaryWarning for log parameters at the optimiser's bound (:meth:`_at_optimiser_bound`), naming each bound."""
        lp = np.asarray(lp, float)
        at_bound = self._at_optimiser_bound(lp)
        if at_bound.any():
            names = [n for n, b in zip(self._param_names, at_bound) if b]
            where = ", ".join(f"{n} = exp({v:+.0f})" for n, v, b in zip(self._param_names, lp, at_bound) if b)
            warnings.warn(
                f"{type(self).__name__}: parameter(s) {names} ran to the bound of the optimiser ({where}), where "
                f"the likelihood still rises outwards: its maximum lies at or beyond that bound, "
                f"towards the boundary of the parameter space where the model degenerates, and the estimates are the "
                f"point at the bound, possibly a little below that maximum ({self._data_description()}). Use the "
                f"limiting model or a penalizer.",
                BoundaryWarning,
                stacklevel=5,
            )

