"""Common-dropout limits of the BG/NBD, MBG/NBD and Pareto/NBD models.

When every customer has the same dropout probability (BG/NBD, MBG/NBD) or
the same dropout rate (Pareto/NBD), the likelihood of the full model is
maximised on a ridge at infinity: ``a, b -> inf`` with ``p = a / (a + b)``
fixed, or ``s, beta -> inf`` with ``mu = s / beta`` fixed (the beta or gamma
mixing distribution of the dropout shrinks to a point). The full models then
fit the limiting model of this module directly (their ``boundary_`` and
``limit_model_``), as they fit :class:`~crm_analysis.clv.nbd.NBDModel` on the
no-dropout boundary.

- :class:`GeometricNBDModel` (BG/NBD limit): purchases at Poisson rate
  ``lambda ~ Gamma(r, alpha)``, dropout with probability ``p`` after every
  repeat purchase. Per customer (Fader, Hardie & Lee 2005, eq. 3 with the
  beta mixing of ``p`` removed)

  .. math::

      L = \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)}\\Big[(1-p)^x(\\alpha+T)^{-(r+x)}
          + \\delta_{x>0}\\,p(1-p)^{x-1}(\\alpha+t_x)^{-(r+x)}\\Big].

- :class:`ModifiedGeometricNBDModel` (MBG/NBD limit): also a dropout chance
  ``p`` at the first purchase: ``(1-p)^{x+1}`` and ``p (1-p)^x`` in the
  bracket, for every ``x``.
- :class:`ExponentialNBDModel` (Pareto/NBD limit): exponential lifetimes of
  one rate ``mu``:

  .. math::

      L = \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)}\\Big[e^{-\\mu T}(\\alpha+T)^{-(r+x)}
          + \\mu\\int_{t_x}^{T} e^{-\\mu\\tau}(\\alpha+\\tau)^{-(r+x)}\\,d\\tau\\Big];

  the integral is taken by Gauss-Legendre panels in ``y = log(alpha + tau)``,
  where its log integrand ``-mu (e^y - alpha) - (r + x - 1) y`` is concave
  (:mod:`._quadrature`).

On the Poisson ridge (``r, alpha -> inf`` with ``r / alpha`` fixed: the gamma
mixing of the purchase rate tends to a point) ``r log(alpha)`` and
``-(r + x) log(alpha + t)`` are huge and nearly cancel; above ``r = e^10``
(and, for the integral, where ``alpha`` exceeds ``1e3 / mu``) the likelihoods
and gradients take ``alpha^(r+x)`` out analytically and use ``log1p(t / alpha)``
(``y - log(alpha)``) instead: :class:`._special.GammaPoissonScale` (issue #12,
finding C: the ExponentialNBDModel was 4.27 too high at ``r = 1.1e9``).

Each class also gives the score that tells whether the full model can do
better: the derivative of the full model's log-likelihood, at the limit, in
the direction of heterogeneous dropout (``1/(a+b+1)`` or ``1/s`` from 0,
with the mean dropout held). For a dropout parameter ``theta`` with mixing
variance ``v(theta) phi`` it is ``sum_i v f_i''(theta) / (2 f_i(theta))``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from ._quadrature import unimodal_nodes
from ._special import GammaPoissonScale, alive_product_from_log_odds, digamma_difference, log_rising
from ._validation import check_times as _check_times
from ._fitting import _single_threaded_blas
from .base import BaseTransactionModel, ModelFitError, _RidgeReached, wdot
from .nbd import _check_counts_and_times, nbd_pmf, nbd_sf
from .simulate import simulate_exponential_nbd, simulate_geometric_nbd

__all__ = ["GeometricNBDModel", "ModifiedGeometricNBDModel", "ExponentialNBDModel"]


#: Largest dropout probability or share (``p``, ``pi``) the optimisers of the MBG/NBD's and Pareto/NBD's limits may
#: try, ``1 - 1e-10``: at 1 their likelihood is ``-inf`` wherever a customer bought again (a certain dropout leaves
#: at the first purchase). With the bound at 1 itself, L-BFGS-B's first projected step landed there; the objective's
#: stand-in for ``-inf`` (a huge value with a zero gradient) made its line search shrink the step to nothing, and it
#: reported convergence ("relative reduction of f") at a point that was not a maximum: ZeroInflatedNBDModel 116
#: log-likelihood units low after 2 iterations, 4.1 and 9.4 low inside the Pareto/NBD fit (findings_12p, Finding 4).
#: Just below 1 the likelihood is finite with a steep gradient, and the line search backs off as it should. The
#: BG/NBD's limits keep ``p <= 1``: there ``p = 1`` (dropout at the first repeat purchase) is a finite limit where
#: nobody bought twice (5 repeat buyers, each once: the common-dropout limit at ``p = 1``); where it is not, the
#: stationarity check of the fit (``LikelihoodFitter._stationary``) reports a stall.
_P_MAX = 1.0 - 1e-10
_LOG_P_MAX = float(np.log(_P_MAX))


class _CommonDropoutModel(BaseTransactionModel):
    """Shared parts: three parameters ``(r, alpha, <dropout>)``, fitted on distinct rows with analytic gradients."""

    _analytic_gradient = True
    _gamma_rate_first = True  # r, alpha first: _on_poisson_ridge applies (the warnings name the Poisson ridge)

    def _prepare(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple:
        ux, ix = np.unique(x, return_inverse=True)
        return (x, t_x, T, ux, ix)

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        rate, tscale = self._start_scales(arrays, weights)
        hint = getattr(self, "_start_hint", None)
        starts = [np.log([r, r / rate, self._dropout_start(tscale, rate, f)]) for r in (0.5, 1.0) for f in (0.2, 1.0)]
        # few repeat buyers, a flat likelihood: a start with strong purchase-rate heterogeneity (small r, alpha << T)
        # and the dropout from the share of customers who did not buy again (findings_12c pnM 1786, 5 repeat buyers
        # of 2,500, all x <= 1: ModifiedGeometricNBDModel from the other starts r 4.55, alpha 19457, p 0.683, 20.4
        # below its maximum r 0.0220, alpha 5.29e-5, p 0.992, which this start reaches)
        share = wdot(weights, arrays[0] == 0) / max(float(weights.sum()), 1e-300)
        starts.append(np.log([0.05, 1e-4 * tscale, self._share_dropout_start(float(np.clip(share, 0.01, 0.99)), tscale)]))
        if hint is not None:
            starts.insert(0, np.log(np.asarray(hint, float)))
        return starts

    #: weighted number of repeat buyers up to which every fit also runs the few-data multistart
    #: (:meth:`_few_data_multistart`). 30 (10 per parameter) was too few: ModifiedGeometricNBDModel on 43-46 repeat
    #: buyers stopped 2.9-10.0 below its maximum, converged and silent (findings_n13, seeds 1841-1855 of its own31
    #: generator); the real data sets have 800 (CDNOW sample) and more, where the multistart never runs
    _FEW_DATA_REPEAT_BUYERS = 200.0
    #: the multistart's grid: ``r``, ``alpha`` (in units of the mean ``T``) and the share of early dropouts
    _GRID_R = (1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 1e6)
    _GRID_ALPHA = (1e-5, 1e-3, 1e-1, 10.0)
    _GRID_SHARE = (0.1, 0.5, 0.9, 0.99)
    #: whether few repeat buyers alone call for the multistart (else only a first fit that did not converge)
    _MULTISTART_ON_FEW_DATA = True

    def _fit_arrays(
        self, arrays: Sequence[np.ndarray], weights: np.ndarray, *, start: np.ndarray | None = None,
        resume: np.ndarray | None = None, stop: Callable[[np.ndarray], bool] | None = None,
    ) -> None:
        """The fit of :meth:`LikelihoodFitter._fit_arrays`, then, on few data or where it did not converge, a multistart.

        With few repeat buyers the likelihood is flat in ``r`` and ``alpha`` and its maximum often sits at a tiny
        ``r`` (``r -> 0`` with ``alpha`` small: most customers buy at a rate near 0, the few repeat buyers at
        ``~1 / alpha``); one start, chosen by its value, led L-BFGS-B to a point 0.12-8.5 below the maximum or to
        a stall (findings_12d claim 2: GeometricNBDModel, ModifiedGeometricNBDModel, TwoPointGeometricNBDModel
        on 2-10 repeat buyers). Where the data have at most ``_FEW_DATA_REPEAT_BUYERS`` repeat buyers or the
        first fit did not converge, :meth:`_few_data_multistart` fits again from a grid of starts and the best
        fit is kept, with its own warnings. A refit from a given ``start`` is a single run (the callers' own
        refits). Each evaluation on such data is cheap (few distinct rows); on the real data sets (thousands of
        repeat buyers, converged first fits) nothing extra runs.
        """
        if start is not None:
            super()._fit_arrays(arrays, weights, start=start, resume=resume, stop=stop)
            return
        failure: ModelFitError | None = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                super()._fit_arrays(arrays, weights, resume=resume, stop=stop)
            except ModelFitError as err:
                failure = err
        few = self._MULTISTART_ON_FEW_DATA and wdot(weights, np.asarray(arrays[0]) > 0) <= self._FEW_DATA_REPEAT_BUYERS
        if few or failure is not None or not self.converged_:
            with _single_threaded_blas():
                best = self._few_data_multistart(arrays, weights, stop, None if failure is not None else self)
            if best is not None:
                fitted, caught = best
                self.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_") and not k.startswith("_")})
                failure = None
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=3)
        if failure is not None:
            raise failure

    def _few_data_multistart(
        self, arrays: Sequence[np.ndarray], weights: np.ndarray, stop: Callable[[np.ndarray], bool] | None,
        first: "_CommonDropoutModel | None",
    ) -> tuple["_CommonDropoutModel", list] | None:
        """Fits from a grid of starts: the best fit and its warnings where it is higher than ``first`` (a fit, or None
        where the first fit failed), else None.

        The grid: for each ``r`` in ``_GRID_R``, the best (by one evaluation) of ``alpha`` in ``_GRID_ALPHA``
        times the mean ``T`` or ``r`` over the data's purchase rate, and the dropout giving the shares
        ``_GRID_SHARE`` (:meth:`_share_dropout_start`), plus the first fit's end point where it did not converge
        (L-BFGS-B restarted with a fresh memory). From each, a quick L-BFGS-B run (no polish, no Hessian); an end
        in the caller's ``stop`` region is left out. The two best ends above ``first`` are fitted in full from
        there (a refit from that start: Newton polish, Hessian, warnings), and a fit is taken over only where its
        log-likelihood exceeds the first fit's by more than ``1e-9`` relative (ties keep the first fit and its
        warnings).
        """
        rate, tscale = self._start_scales(arrays, weights)
        fun, fun_grad = self._objective_factory(arrays, weights)
        lo_b, hi_b = np.array(self._log_bounds(), float).T
        starts: list[np.ndarray] = []
        for r in self._GRID_R:
            cands = [np.clip(np.log([r, a, self._share_dropout_start(s, tscale)]), lo_b, hi_b)
                     for a in (*(c * tscale for c in self._GRID_ALPHA), r / rate) for s in self._GRID_SHARE]
            values = [fun(c) for c in cands]
            if min(values) < 1e300:
                starts.append(cands[int(np.argmin(values))])
        if first is not None and not first.converged_:
            starts.append(np.log(first.params_.to_numpy(float)))
        total = float(weights.sum())
        ends = []
        with np.errstate(all="ignore"):
            for s in starts:  # a quick run from each (no polish, no Hessian): only the best end is fitted in full
                res = optimize.minimize(fun_grad, s, jac=True, method="L-BFGS-B", bounds=list(zip(lo_b, hi_b)),
                                        options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-7})
                if np.isfinite(res.fun) and res.fun < 1e300 and (stop is None or not stop(res.x)):
                    ends.append((float(res.fun), np.asarray(res.x, float)))
        best_ll = -np.inf if first is None else float(first.log_likelihood_)
        best = None
        for f_end, s in sorted(ends, key=lambda e: e[0])[:2]:
            if -f_end * total <= best_ll + 1e-9 * max(1.0, abs(best_ll)):
                break
            trial = type(self)(penalizer=self.penalizer)
            trial.__dict__.update({k: v for k, v in self.__dict__.items() if k in ("columns_", "_fit_info", "_n_repeat_buyers")})
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    with np.errstate(all="ignore"):
                        trial._fit_arrays(arrays, weights, start=s, stop=stop)
                except (ModelFitError, _RidgeReached):
                    continue
            ll = float(trial.log_likelihood_)
            if ll > best_ll + 1e-9 * max(1.0, abs(best_ll)):
                best_ll, best = ll, (trial, list(caught))
        return best

    def _dropout_start(self, tscale: float, rate: float, f: float) -> float:
        raise NotImplementedError

    def _share_dropout_start(self, share: float, tscale: float) -> float:
        """The dropout parameter that makes ``share`` (in (0, 1)) of the customers drop out early: the probability itself."""
        return share

    def _probability_one_meaning(self, names: list[str]) -> str:
        """``p = 1`` or ``pi = 1`` (BG/NBD limits only; the others keep it below 1), for the fit's BoundaryWarning."""
        return (": every customer who buys again drops out at that first repeat purchase. No customer made more "
                "than one repeat purchase, and on such data the likelihood rises with the dropout probability for "
                "any r and alpha, so GeometricNBDModel (p = 1) and TwoPointGeometricNBDModel (pi = 1) are the same "
                "model with the same fit")

    def ridge_score(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> float:
        """Derivative (per customer) of the full model's log-likelihood into heterogeneous dropout, at this fit.

        Parameters
        ----------
        x, t_x, T, w : numpy.ndarray
            Distinct rows and their counts.

        Returns
        -------
        float
            ``<= 0``: the common-dropout limit is a maximum of the full
            model's likelihood in that direction.
        """
        raise NotImplementedError

    def _if_alive(self, times: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def probability_alive(self, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """P(alive) at ``T`` of each customer (formula: the class's ``_p_alive``).

        Parameters
        ----------
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional ``frequency_col``, ``recency_col``, ``T_col`` overrides.

        Returns
        -------
        numpy.ndarray
            One probability per row.
        """
        d = self._data(data, **columns)
        return self._p_alive(d.x, d.t_x, d.T)

    def expected_purchases(self, t: float, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected purchases in ``(T, T + t]``: P(alive) times the purchases expected while alive.

        Parameters
        ----------
        t : float
            Length of the future period, ``t >= 0``.
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional column-name overrides.

        Returns
        -------
        numpy.ndarray
            One expectation per row.
        """
        t = _check_times(t, scalar=True)
        return self.expected_purchases_grid([t], data, **columns)[:, 0]

    def expected_purchases_grid(self, times, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected purchases at several horizons, shape ``(n, len(times))``."""
        times = _check_times(times, name="times")
        d = self._data(data, **columns)
        # in log space where P(alive) is below 1e-300: 0 * 1e9 was returned for a product of 3e-300 (issue #12)
        return alive_product_from_log_odds(self._gone_log_odds(d.x, d.t_x, d.T)[:, None], self._if_alive(times, d.x, d.T))


class GeometricNBDModel(_CommonDropoutModel):
    """BG/NBD with one dropout probability ``p`` for every customer (the BG/NBD's limit ``a, b -> inf``, ``a/(a+b) = p``).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``p``.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Notes
    -----
    Likelihood and predictions are those of the BG/NBD (Fader, Hardie & Lee
    2005, eqs. 3, 8, 10, and P(alive)) with the beta mixing of ``p``
    removed; ``tests/clv/test_common_dropout.py`` checks them against the
    BG/NBD at ``a + b = 1e9`` and against mpmath quadrature over ``lambda``.
    """

    _param_names = ("r", "alpha", "p")
    #: 1 for the MBG/NBD's dropout chance at the first purchase, 0 for the BG/NBD
    _first: float = 0.0

    def _log_upper_bounds(self) -> np.ndarray:
        return np.array([np.inf, np.inf, _LOG_P_MAX if self._first else 0.0])  # p < 1 for the MBG/NBD (_P_MAX)

    def _dropout_start(self, tscale: float, rate: float, f: float) -> float:
        return float(np.clip(f * 0.3, 1e-6, 0.9))

    def _terms(self, log_params, x, t_x, T):
        """Per row: ``d`` (log odds of the "dropped out after the last purchase" term), its indicator and pieces.

        ``l_T, l_tx`` are ``gp.z(T), gp.z(t_x)`` (:class:`._special.GammaPoissonScale` ``gp``, last): ``log(alpha + t)``,
        or on the Poisson ridge ``log1p(t / alpha)``, whose difference keeps its digits there.
        """
        r, alpha, p = np.exp(log_params)
        gp = GammaPoissonScale(r, alpha)
        k = r + x
        l_T, l_tx = gp.z(T), gp.z(t_x)
        has2 = (x > 0) if self._first == 0.0 else np.ones(x.shape, bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(has2, np.log(p) - np.log1p(-p) + k * (l_T - l_tx), -np.inf)
        return r, alpha, p, k, l_T, l_tx, has2, d, gp

    def _weighted_loglik(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted log-likelihood (module docstring) and its gradient in the log parameters (scaled form on the
        Poisson ridge, :class:`._special.GammaPoissonScale`)."""
        x, t_x, T, ux, ix = arrays
        r, alpha, p, k, l_T, l_tx, has2, d, gp = self._terms(log_params, x, t_x, T)
        n1 = x + self._first  # exponent of (1 - p) in the first term
        edge = p == 1.0 and not self._first and not np.any((n1 > 1) & (weights > 0))
        if not (p < 1.0 or edge):
            return -np.inf, np.zeros(3)
        Wx = np.bincount(ix, weights=weights, minlength=ux.size)
        if edge:  # p = 1 (module constant _P_MAX): n1 log(1-p) + log(1 + e^d) -> k (l_T - l_tx) where x = 1, 0 where x = 0
            D = np.where(has2, k * (l_T - l_tx), 0.0)
            l1p, sp, w2 = 0.0, D, has2.astype(float)
        else:
            l1p = np.log1p(-p)
            sp = np.logaddexp(0.0, d)
            w2 = special.expit(d)
        if gp.scaled:
            ll = wdot(Wx, log_rising(r, ux)) + wdot(Wx, gp.base(ux)) + wdot(weights, n1 * l1p - k * l_T + sp)
            g_r = wdot(Wx, digamma_difference(r, ux)) - wdot(weights, (1 - w2) * l_T + w2 * l_tx)
            g_la = wdot(weights, k * ((1 - w2) * gp.share(T) + w2 * gp.share(t_x))) - wdot(Wx, ux)
        else:
            la = gp.log_alpha
            ll = wdot(Wx, log_rising(r, ux)) + float(weights.sum()) * r * la + wdot(weights, n1 * l1p - k * l_T + sp)
            g_r = wdot(Wx, digamma_difference(r, ux)) + float(weights.sum()) * la - wdot(weights, (1 - w2) * l_T + w2 * l_tx)
            g_la = alpha * (float(weights.sum()) * r / alpha - wdot(weights, k * ((1 - w2) / (alpha + T) + w2 / (alpha + t_x))))
        # d/dp: -n1/(1-p) + w2/(p(1-p)); times p for log p (at p = 1: 1 - e^{-D} where x = 1, the limit of (w2 - p)/(1 - p))
        g_p = wdot(weights, -np.expm1(-D)) if edge else wdot(weights, -n1 * p / (1 - p) + w2 / (1 - p))
        return float(ll), np.array([r * g_r, g_la, g_p])

    def ridge_score(self, x, t_x, T, w) -> float:
        """See :meth:`_CommonDropoutModel.ridge_score`: ``v = p (1-p)``, ``phi = 1/(a+b+1)``.

        Per customer ``f(p) = (1-p)^{n1} A + p (1-p)^{n1-1} B`` (``n1 = x`` or
        ``x + 1``), so ``f''/f = (1-w2) n1 (n1-1)/(1-p)^2 + w2 [(1/p - (n1-1)/(1-p))^2
        - 1/p^2 - (n1-1)/(1-p)^2]`` with ``w2`` the share of the second term.
        """
        self._check_fitted()
        if float(self.params_["p"]) == 1.0:
            return 0.0  # v = p (1-p) = 0: a dropout distribution with mean 1 is the point 1, no heterogeneous direction
        lp = np.log(self.params_.to_numpy(float))
        x, t_x, T, w = (np.asarray(v, float) for v in (x, t_x, T, w))
        r, alpha, p, k, l_T, l_tx, has2, d, _ = self._terms(lp, x, t_x, T)
        n1 = x + self._first
        n2 = n1 - 1.0
        w2 = special.expit(d)
        q = 1.0 - p
        first = n1 * (n1 - 1.0) / q**2
        second = (1.0 / p - n2 / q) ** 2 - 1.0 / p**2 - n2 / q**2
        ratio = (1.0 - w2) * first + np.where(has2, w2 * second, 0.0)
        return float(0.5 * p * q * wdot(w, ratio) / w.sum())

    # ---- predictions -----------------------------------------------------
    def _gone_log_odds(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``log([x > 0] p/(1-p) ((alpha+T)/(alpha+t_x))^(r+x))`` (MBG limit: for every ``x``): P(alive) ``1/(1 + e^d)``."""
        lp = np.log(self.params_.to_numpy(float))
        return self._terms(lp, np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float))[7]

    def _if_alive(self, times: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p`` per row and horizon."""
        r, alpha, p = self.params_.to_numpy(float)
        k = (r + np.asarray(x, float))[:, None]
        L = np.log1p(p * times[None, :] / (alpha + np.asarray(T, float))[:, None])
        return -np.expm1(-k * L) / p

    def expected_purchases_new(self, t: float | np.ndarray) -> float | np.ndarray:
        """``E[X(t)] = (1-p)^e (1 - (alpha/(alpha + p t))^r) / p`` (``e = 1`` in the MBG/NBD limit, else 0).

        Parameters
        ----------
        t : float or array-like
            Time(s) since the first purchase, ``>= 0``.

        Returns
        -------
        float or numpy.ndarray
            Expected repeat purchases in ``(0, t]``, shaped like ``t``.
        """
        self._check_fitted()
        t_arr = _check_times(t, keep_shape=True)
        r, alpha, p = self.params_.to_numpy(float)
        out = (1.0 - p) ** self._first * -np.expm1(-r * np.log1p(p * t_arr / alpha)) / p
        return float(out) if np.ndim(out) == 0 else out

    def probability_of_purchases(self, x: int | np.ndarray, t: float | np.ndarray) -> float | np.ndarray:
        """``P(X(t) = x) = (1-p)^{n1} NB(x) + [x > 0 or MBG] p (1-p)^{n1-1} P(N >= x)`` (``n1 = x + e``).

        The limit of Fader, Hardie & Lee (2005) eq. 8 (Batislam et al. 2007 for
        the MBG/NBD) with ``N`` negative binomial ``(r, alpha/(alpha+t))``.

        Parameters
        ----------
        x : int or array-like of int
            Number of repeat purchases.
        t : float or array-like
            Period length (broadcast with ``x``).

        Returns
        -------
        float or numpy.ndarray
            Probabilities.
        """
        self._check_fitted()
        x_arr, t_arr = _check_counts_and_times(x, t)
        r, alpha, p = self.params_.to_numpy(float)
        n1 = x_arr + self._first
        with np.errstate(divide="ignore"):
            l1p = np.log1p(-p)

        def power(n: np.ndarray) -> np.ndarray:  # (1 - p)^n, with 0^0 = 1 at p = 1 (the BG/NBD limit's edge)
            with np.errstate(invalid="ignore"):
                return np.where(n == 0, 1.0, np.exp(n * l1p))

        term1 = power(n1) * nbd_pmf(x_arr, r, alpha, t_arr)
        has2 = (x_arr > 0) if self._first == 0.0 else np.ones(x_arr.shape, bool)
        term2 = np.where(has2, p * power(np.maximum(n1 - 1.0, 0.0)) * nbd_sf(x_arr, r, alpha, t_arr), 0.0)
        out = term1 + term2
        return float(out) if out.ndim == 0 else out

    def sample(self, n_customers: int, T: float | np.ndarray, *, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Simulate customers (see :func:`~crm_analysis.clv.simulate.simulate_geometric_nbd`)."""
        self._check_fitted()
        r, alpha, p = self.params_.to_numpy(float)
        return simulate_geometric_nbd(r, alpha, p, n_customers=n_customers, T=T, dropout_at_first=bool(self._first),
                                      seed=seed)


class ModifiedGeometricNBDModel(GeometricNBDModel):
    """MBG/NBD with one dropout probability ``p`` for every customer (the MBG/NBD's limit ``a, b -> inf``).

    As :class:`GeometricNBDModel`, with the extra dropout chance at the first
    purchase (Batislam, Denizel & Filiztekin 2007): ``(1-p)^{x+1}`` and
    ``p (1-p)^x`` in the likelihood, ``P(alive) < 1`` also for ``x = 0``,
    ``E[X(t)]`` times ``1 - p``.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters.
    """

    _first = 1.0


def _exp_nodes(k: np.ndarray, gp: GammaPoissonScale, mu: float, t0: np.ndarray, t1: np.ndarray):
    """Nodes of ``int_{t0}^{t1} e^{-mu tau} (alpha+tau)^{-k} dtau`` in ``z = gp.z(tau)`` (rows with t1 > t0).

    ``z = log(alpha + tau)``, or ``log1p(tau / alpha)`` in the scaled form of :class:`._special.GammaPoissonScale`
    (huge ``k``: the integrand is ``e^{-k z}`` over ``z ~ T / alpha``, which ``log(alpha + tau)`` resolves only to
    ~1e-16 ``log alpha`` absolute, i.e. ``k`` times that in the log integrand). The log integrand (with
    ``d tau = (alpha + tau) dz``, the factor ``alpha^(1-k)`` dropped in the scaled form) is ``-mu tau(z) - (k - 1) z``,
    concave in ``z``; ``tau(z) = e^z - alpha`` or ``alpha expm1(z)``.
    """
    alpha, shift = gp.alpha, (gp.log_alpha if gp.scaled else 0.0)
    lo, hi = gp.z(t0), gp.z(t1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mode = np.where(k < 1.0, np.log(np.maximum(1.0 - k, 1e-300) / mu) - shift, -np.inf)
    mode = np.where(np.isfinite(mode), mode, lo - 1.0)

    def tau_of(z: np.ndarray) -> np.ndarray:
        return alpha * np.expm1(z) if gp.scaled else np.exp(z) - alpha

    def log_f(z: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return -mu * tau_of(z) - (k[idx, None] - 1.0) * z

    def coord(z: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return z / 3.0 + 2.0 * np.sqrt(mu * np.exp(z + shift))

    return unimodal_nodes(log_f, coord, lo, hi, mode), tau_of


def _exp_interval(k: np.ndarray, gp: GammaPoissonScale, mu: float, t0: np.ndarray, t1: np.ndarray) -> dict[str, np.ndarray]:
    """log of ``I = int_{t0}^{t1} e^{-mu tau} (alpha+tau)^{-k} dtau`` and moments of ``z`` and ``tau`` under it.

    Returns ``log_I`` (``-inf`` where ``t1 == t0``; in the scaled form of ``gp`` the log of ``alpha^k I``), ``E_z``
    (mean of ``z = gp.z(tau)``), ``E_inv`` (of ``1/(alpha+tau)``; unscaled form only), ``E_share`` (of
    ``tau/(alpha+tau)``; scaled form only), ``E_tau`` and ``E_tau2`` (``tau``, ``tau^2``), per row.
    """
    n = k.size
    out = {name: np.zeros(n) for name in ("E_z", "E_inv", "E_share", "E_tau", "E_tau2")}
    out["log_I"] = np.full(n, -np.inf)
    rows = np.flatnonzero(t1 > t0)
    if rows.size == 0:
        return out
    groups, tau_of = _exp_nodes(k[rows], gp, mu, t0[rows], t1[rows])
    for idx, z, log_w in groups:
        lI = special.logsumexp(log_w, axis=1)
        pw = np.exp(log_w - lI[:, None])
        tau = tau_of(z)
        target = rows[idx]
        out["log_I"][target] = lI + gp.log_alpha if gp.scaled else lI
        out["E_z"][target] = (pw * z).sum(axis=1)
        if gp.scaled:
            out["E_share"][target] = (pw * -np.expm1(-z)).sum(axis=1)
        else:
            out["E_inv"][target] = (pw * np.exp(-z)).sum(axis=1)
        out["E_tau"][target] = (pw * tau).sum(axis=1)
        out["E_tau2"][target] = (pw * tau * tau).sum(axis=1)
    return out


class ExponentialNBDModel(_CommonDropoutModel):
    """Pareto/NBD with one dropout rate ``mu`` for every customer (the Pareto/NBD's limit ``s, beta -> inf``, ``s/beta = mu``).

    While alive a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``;
    every lifetime is exponential with the same rate ``mu``.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``mu``.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Notes
    -----
    The Pareto/NBD expressions (Fader & Hardie 2005 note, eqs. 17-22) with
    the gamma mixing of ``mu`` removed: ``E[X(t)] = r (1 - e^{-mu t}) /
    (alpha mu)``, ``E[Y(t) | alive] = (r+x)(1 - e^{-mu t}) / ((alpha+T) mu)``.
    Checked against the Pareto/NBD at ``s = 1e9`` and mpmath quadrature over
    ``lambda`` and ``tau`` in ``tests/clv/test_common_dropout.py``.
    """

    _param_names = ("r", "alpha", "mu")
    #: few repeat buyers alone do not call for the multistart here: the fit reached its maximum on all ten
    #: few-repeat-buyer data sets of findings_12d (gaps <= 7.5e-6) and tests/clv/test_limit_multistart.py's sweep,
    #: and each evaluation (Gauss-Legendre quadrature per row) costs 10-40 times the other limits' (the multistart
    #: took 1.4-2.0 s CPU instead of 0.07-0.24 s); a first fit that did not converge still gets it
    _MULTISTART_ON_FEW_DATA = False

    def _dropout_start(self, tscale: float, rate: float, f: float) -> float:
        return f / tscale

    def _share_dropout_start(self, share: float, tscale: float) -> float:
        """The rate ``mu`` at which ``share`` of the customers have dropped out within ``tscale``."""
        return -float(np.log1p(-share)) / tscale

    def _parts(self, log_params, x, t_x, T):
        """Per row ``f1 = log[e^{-mu T} (alpha+T)^{-k}]``, ``f2 = log[mu I]`` (``k = r + x``; in the scaled form of
        ``gp`` both plus ``k log alpha``), the interval's moments and ``z_T = gp.z(T)``."""
        r, alpha, mu = np.exp(log_params)
        gp = GammaPoissonScale(r, alpha, tau_scale=1.0 / mu)
        k = r + x
        iv = _exp_interval(k, gp, mu, t_x, T)
        z_T = gp.z(T)
        f1 = -mu * T - k * z_T
        f2 = np.log(mu) + iv["log_I"]
        return r, alpha, mu, k, iv, f1, f2, gp, z_T

    def _weighted_loglik(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted log-likelihood and its gradient in the log parameters (module docstring; ``alpha^(r+x)`` taken
        out analytically on the Poisson ridge, :class:`._special.GammaPoissonScale`)."""
        x, t_x, T, ux, ix = arrays
        r, alpha, mu, k, iv, f1, f2, gp, z_T = self._parts(log_params, x, t_x, T)
        W = float(weights.sum())
        Wx = np.bincount(ix, weights=weights, minlength=ux.size)
        lse = np.logaddexp(f1, f2)
        w2 = np.exp(f2 - lse)
        w1 = 1.0 - w2
        # dI/dr = -I E[z], dI/dalpha = -k I E[1/(alpha+tau)], dI/dmu = -I E[tau]
        if gp.scaled:
            ll = wdot(Wx, log_rising(r, ux)) + wdot(Wx, gp.base(ux)) + wdot(weights, lse)
            g_r = wdot(Wx, digamma_difference(r, ux)) - wdot(weights, w1 * z_T + w2 * iv["E_z"])
            g_la = wdot(weights, k * (w1 * gp.share(T) + w2 * iv["E_share"])) - wdot(Wx, ux)
        else:
            la = gp.log_alpha
            ll = wdot(Wx, log_rising(r, ux)) + W * r * la + wdot(weights, lse)
            g_r = wdot(Wx, digamma_difference(r, ux)) + W * la - wdot(weights, w1 * z_T + w2 * iv["E_z"])
            g_la = alpha * (W * r / alpha - wdot(weights, k * (w1 / (alpha + T) + w2 * iv["E_inv"])))
        g_m = wdot(weights, -w1 * T + w2 * (1.0 / mu - iv["E_tau"]))
        return float(ll), np.array([r * g_r, g_la, mu * g_m])

    def ridge_score(self, x, t_x, T, w) -> float:
        """See :meth:`_CommonDropoutModel.ridge_score`: ``v = mu^2``, ``phi = 1/s``.

        Per customer ``f(mu) = e^{-mu T} A + mu I(mu)``, so ``f''/f = (1-w2) T^2 +
        w2 (E[tau^2] - 2 E[tau] / mu)`` with ``w2 = mu I / f`` and the moments of
        ``tau`` under ``I``'s integrand.
        """
        self._check_fitted()
        lp = np.log(self.params_.to_numpy(float))
        x, t_x, T, w = (np.asarray(v, float) for v in (x, t_x, T, w))
        r, alpha, mu, k, iv, f1, f2, *_ = self._parts(lp, x, t_x, T)
        w2 = np.exp(f2 - np.logaddexp(f1, f2))
        ratio = (1.0 - w2) * T**2 + w2 * (iv["E_tau2"] - 2.0 * iv["E_tau"] / mu)
        return float(0.5 * mu**2 * wdot(w, ratio) / w.sum())

    # ---- predictions -----------------------------------------------------
    def _gone_log_odds(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``log(mu I) - log(e^{-mu T} (alpha+T)^{-(r+x)})`` (module docstring): P(alive) ``1/(1 + e^d)``."""
        lp = np.log(self.params_.to_numpy(float))
        f1, f2 = self._parts(lp, np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float))[5:7]
        return f2 - f1

    def _if_alive(self, times: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``(r+x)(1 - e^{-mu t}) / ((alpha+T) mu)`` per row and horizon."""
        r, alpha, mu = self.params_.to_numpy(float)
        return ((r + np.asarray(x, float)) / (alpha + np.asarray(T, float)))[:, None] * (-np.expm1(-mu * times) / mu)[None, :]

    def expected_purchases_new(self, t: float | np.ndarray) -> float | np.ndarray:
        """``E[X(t)] = r (1 - e^{-mu t}) / (alpha mu)`` of a just-acquired customer.

        Parameters
        ----------
        t : float or array-like
            Time(s) since the first purchase, ``>= 0``.

        Returns
        -------
        float or numpy.ndarray
            Expected repeat purchases in ``(0, t]``, shaped like ``t``.
        """
        self._check_fitted()
        t_arr = _check_times(t, keep_shape=True)
        r, alpha, mu = self.params_.to_numpy(float)
        out = r / alpha * -np.expm1(-mu * t_arr) / mu
        return float(out) if np.ndim(out) == 0 else out

    def probability_of_purchases(self, x: int | np.ndarray, t: float | np.ndarray) -> float | np.ndarray:
        """``P(X(t) = x) = e^{-mu t} NB(x; t) + int_0^t mu e^{-mu tau} NB(x; tau) dtau``.

        ``NB(x; tau)`` is the negative binomial probability with ``r`` and
        ``alpha/(alpha+tau)``; the integral ("died at ``tau`` after ``x``
        purchases") is taken in ``eta = log tau``, where its log integrand
        ``-mu e^eta + (x+1) eta - (r+x) log(alpha + e^eta)`` is concave, by
        Gauss-Legendre panels (:mod:`._quadrature`).

        Parameters
        ----------
        x : int or array-like of int
            Number of repeat purchases.
        t : float or array-like
            Period length (broadcast with ``x``).

        Returns
        -------
        float or numpy.ndarray
            Probabilities.
        """
        self._check_fitted()
        x_arr, t_arr = _check_counts_and_times(x, t)
        r, alpha, mu = self.params_.to_numpy(float)
        shape = x_arr.shape
        xf, tf = x_arr.ravel(), t_arr.ravel()
        out = nbd_pmf(xf, r, alpha, tf) * np.exp(-mu * tf)
        pos = np.flatnonzero(tf > 0)
        if pos.size:
            xp, tp = xf[pos], tf[pos]
            k = xp + 1.0

            # alpha^(r+x) taken out of (alpha + tau)^-(r+x) (log1p; GammaPoissonScale): no cancellation for huge r
            def log_f(eta: np.ndarray, idx: np.ndarray) -> np.ndarray:
                return -mu * np.exp(eta) + k[idx, None] * eta - (r + xp[idx, None]) * np.log1p(np.exp(eta) / alpha)

            def coord(eta: np.ndarray, idx: np.ndarray) -> np.ndarray:
                return eta / 3.0 + 2.0 * np.sqrt(mu * np.exp(eta)) + np.sqrt(r + xp[idx, None]) * np.arctan(np.exp(0.5 * eta) / np.sqrt(alpha))

            hi = np.log(tp)
            # derivative k - mu e^eta - (r+x) e^eta/(alpha+e^eta): positive as eta -> -inf, so the range starts
            # where the integrand is negligible: (x+1) eta < log(tiny)
            lo = np.minimum(hi, np.log(alpha)) - 60.0 / k - 10.0
            lo_b, hi_b = lo.copy(), np.maximum(hi, np.log(k / mu) + 1.0)
            for _ in range(100):
                mid = 0.5 * (lo_b + hi_b)
                up = k - mu * np.exp(mid) - (r + xp) * special.expit(mid - np.log(alpha)) > 0
                lo_b, hi_b = np.where(up, mid, lo_b), np.where(up, hi_b, mid)
            mode = 0.5 * (lo_b + hi_b)
            died = np.full(pos.size, -np.inf)
            for idx, eta, log_w in unimodal_nodes(log_f, coord, lo, hi, mode):
                died[idx] = special.logsumexp(log_w, axis=1)
            const = log_rising(r, xp) - special.gammaln(xp + 1.0) - xp * np.log(alpha) + np.log(mu)
            out[pos] += np.exp(const + died)
        out = out.reshape(shape)
        return float(out) if out.ndim == 0 else out

    def sample(self, n_customers: int, T: float | np.ndarray, *, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Simulate customers (see :func:`~crm_analysis.clv.simulate.simulate_exponential_nbd`)."""
        self._check_fitted()
        r, alpha, mu = self.params_.to_numpy(float)
        return simulate_exponential_nbd(r, alpha, mu, n_customers=n_customers, T=T, seed=seed)

