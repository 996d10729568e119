"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your
customers: who are they and what will they do next? *Management Science*
33(1), 1-24. Likelihood and expressions as in Fader, P. S. & Hardie, B. G. S.
(2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions"
(http://brucehardie.com/notes/009/).

The likelihood is written as

.. math::

    L = \\frac{\\Gamma(r+x)\\alpha^r\\beta^s}{\\Gamma(r)}\\Big[
        (\\alpha+T)^{-(r+x)}(\\beta+T)^{-s}
        + s\\int_{t_x}^{T}(\\alpha+\\tau)^{-(r+x)}(\\beta+\\tau)^{-(s+1)}d\\tau\\Big],

which equals the Fader-Hardie expression with :math:`A_0`; the integral is
evaluated in log space (:mod:`crm_analysis.clv._hyp`), so the likelihood stays
finite for any frequency and calibration length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special
from scipy.optimize import minimize, minimize_scalar

from ._fitting import _LOG_BOUND, _RidgeReached
from ._hyp import log_interval_from_tails, log_pnbd_interval, log_pnbd_tail, log_pnbd_tail_grad
from ._pnbd_ridge import pnbd_died_log_term, pnbd_ridge_loglik_rows, pnbd_scaled_alive_log_odds, scaled_s_side
from ._quadrature import unimodal_nodes
from ._special import alive_product_from_log_odds
from ._validation import check_times as _check_times
from ._validation import distinct_values
from .base import BaseTransactionModel, wdot, predicts_from_common_limit
from .beta_geo import _max_over_log_grid
from .common_dropout import ExponentialNBDModel
from .two_point_dropout import ZeroInflatedNBDModel
from .nbd import NBDModel, _check_counts_and_times, nbd_pmf
from .simulate import simulate_nbd, simulate_pareto_nbd

__all__ = ["ParetoNBDModel"]

_LOG_BETA_MIN = -9.0  # smallest beta at which the boundary derivative is checked (e^-9)


def _h(k: float, L: np.ndarray) -> np.ndarray:
    """``(1 - exp(-k L)) / k``, continuous at ``k = 0`` (value ``L``)."""
    if abs(k) < 1e-10:
        return L * (1.0 - k * L / 2.0)
    return -np.expm1(-k * L) / k


class ParetoNBDModel(BaseTransactionModel):
    """Pareto/NBD model of repeat purchasing.

    While alive a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``;
    his lifetime is exponential with rate ``mu ~ Gamma(s, beta)``.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`). With a positive
        penalty the boundary is never the optimum and is not checked.
    detect_boundary : bool, default True
        Check first whether the likelihood is maximised in the no-dropout
        limit (``s -> 0`` or ``beta -> inf``, the NBD model) and fit that
        limit directly if so (see ``boundary_``).

    boundary_test_level : float or None, default None
        With a level (e.g. 0.05): keep the no-dropout limit (the NBD model)
        also when the full model is better, but not significantly: when the
        likelihood-ratio statistic ``2 (LL_full - LL_NBD)`` is below the
        critical value of the 50:50 mixture of chi-square(0) and
        chi-square(1), the null distribution for one parameter on the
        boundary (Self & Liang 1987, JASA 82, 605-610; 2.71 at 0.05).
        ``boundary_`` then gives the statistic and its p-value. ``None``
        (default): the no-dropout limit where it is the maximum (or within
        1e-3 of it in log-likelihood), and also where only the two-point
        limit is higher: that limit (``s, beta -> 0``) must be significantly
        better than the no-dropout limit, in which it is nested at ``pi = 0``
        (the test above at this level, at 0.05 when it is ``None``), else the
        no-dropout limit is kept below it and ``boundary_`` says so with the
        statistic and p (on data without dropout the two-point limit is
        better by chance in about half the samples). Where the common-dropout
        limit beats the no-dropout limit, the higher of it and the two-point
        limit is kept, without a test.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``s``, ``beta``. After a boundary fit ``s, beta``
        hold the limit: ``s = 0, beta = inf`` (no dropout), ``s = beta = inf``
        (common dropout) or ``s = beta = 0`` (two-point dropout); the limit's
        own dropout parameter (``mu``, ``pi``) is in ``limit_model_.params_``.
    boundary_ : str or None
        ``None`` (an interior fit), or which limit the fit is and why, with
        the other limits fitted and their log-likelihoods
        (:meth:`boundary_kind` names the limit).
    limit_model_ : NBDModel, ExponentialNBDModel, ZeroInflatedNBDModel or None
        The fitted limit after a boundary fit: the NBD model (no dropout),
        :class:`~crm_analysis.clv.ExponentialNBDModel` (one
        dropout rate ``mu = s/beta`` for everyone) or
        :class:`~crm_analysis.clv.ZeroInflatedNBDModel` (a share ``pi = 1 -
        beta^s`` never buys again, the rest never drops out); its predictions
        are the model's.
    not_identified_ : list of str
        Parameters whose log-scale standard error exceeds 3.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Notes
    -----
    The gradient of the log-likelihood is analytic except for the bounded
    remainders of the log tail integrals ``log G(t)`` (:func:`._hyp.log_pnbd_tail_grad`:
    their large explicit terms are differentiated analytically, the remainders
    by central differences or under the quadrature's integral), taken on the
    distinct ``(x, t)`` pairs only (a few thousand, whatever the number of
    customers) and combined per row by the chain rule.

    On zero-inflated data the full fit can run towards the no-dropout limit
    (``s -> 0``, ``beta -> inf``) or, resumed after a ridge stop, on along
    the common-dropout ridge; both runs are stopped where their end point can
    no longer change which limit is the result (:meth:`_heads_to_no_dropout`,
    :meth:`_watch_resumed_ridge_run`; ``docs/clv_models.md``).
    """

    _limit_model_class = NBDModel
    _ridge_model_class = ExponentialNBDModel
    _two_point_model_class = ZeroInflatedNBDModel
    _RIDGE_HETEROGENEITY_NAME = "s"
    #: s above which the ridge check runs (coefficient of variation of mu below 1/sqrt(10) = 0.32): the
    #: likelihood's tail integrals cost ~30x more per evaluation at large s, so the walk is cut early
    _RIDGE_START = 10.0

    _param_names = ("r", "alpha", "s", "beta")
    _analytic_gradient = True
    _TAIL_STEP = 1e-5  # step in log r, log s of the tail remainders' central differences (:func:`._hyp.log_pnbd_tail_grad`)
    # Hessian by forward differences of the gradient, step 1e-5 in the log parameters: on CDNOW the standard errors
    # of s and beta are within 5.5e-4 of an mpmath Hessian's, r and alpha 8e-5 (the s-beta correlation amplifies the
    # step's O(h) error; central differences: 3e-5, at four more gradient evaluations per fit)
    _hessian_step = 1e-5
    #: the base class's per-fit state (:attr:`~crm_analysis.clv.base.BaseTransactionModel._FIT_STATE`) and this model's:
    #: the beta of the no-dropout derivative test's maximum, the resumed-run watch and the log-likelihoods remembered
    #: for the optimiser's watches (a cache, dropped when the fit ends)
    _FIT_STATE = (*BaseTransactionModel._FIT_STATE, "_dropout_score_beta", "_resume_watch", "_ll_memo")
    _FIT_SCRATCH = (*BaseTransactionModel._FIT_SCRATCH, "_ll_memo")

    def __init__(
        self, *, penalizer: float = 0.0, detect_boundary: bool = True, boundary_test_level: float | None = None
    ) -> None:
        super().__init__(penalizer=penalizer)
        self.detect_boundary = detect_boundary
        self.boundary_test_level = boundary_test_level

    #: lower bound of log beta for the optimiser (e^-600 = 2.6e-261; the other parameters: -_LOG_BOUND = -30).
    #: With ``s`` small the likelihood depends on ``beta`` mainly through ``beta^s`` (the share surviving the first
    #: instant; the survival ``(1 + t/beta)^-s`` is ``beta^s t^-s`` for ``t >> beta``), so a maximum with moderate
    #: ``beta^s`` lies at ``log beta = log(beta^s) / s``: -54 on 500 zero-inflated customers (``s = 0.013``,
    #: findings_12p Finding 3b), beyond the general bound e^-30. Down to e^-600 ``1/beta``, ``alpha/beta`` and
    #: ``t/beta`` stay finite in double precision for ``alpha <= e^30`` and ``t <= e^100``, and the likelihood's tail
    #: integrals and the predictions are exact there (``tests/clv/test_reference.py``, rows with beta = 1e-250).
    _LOG_BETA_FLOOR = -600.0

    _gamma_rate_first = True  # r, alpha first: _on_poisson_ridge applies

    def _log_lower_bounds(self) -> np.ndarray:
        """Lower bounds of the log parameters: ``-_LOG_BOUND``, and ``_LOG_BETA_FLOOR`` for ``log beta``."""
        return np.array([-_LOG_BOUND, -_LOG_BOUND, -_LOG_BOUND, self._LOG_BETA_FLOOR])

    def _prepare(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, ...]:
        """Index structure of the likelihood, computed once per fit.

        The tail integrals ``G(t)`` of the likelihood (:mod:`._hyp`) depend on
        a row only through ``(x, t)`` with ``t`` = ``t_x`` or ``T``; they are
        evaluated once per distinct ``(x, t)`` pair (far fewer than rows:
        frequencies and times on a daily grid repeat) and gathered.
        """
        self.__dict__.pop("_ll_memo", None)  # log-likelihoods remembered for the watch are per fit (and data)
        ux, inv = distinct_values(x)
        n = x.size
        ix = np.tile(inv, 2).astype(np.int64)
        it, ut = pd.factorize(np.concatenate([t_x, T]))
        ut = np.asarray(ut, dtype=float)
        codes, ukey = pd.factorize(ix * max(ut.size, 1) + it)
        ukey = np.asarray(ukey, dtype=np.int64)
        px, pt = ux[ukey // max(ut.size, 1)], ut[ukey % max(ut.size, 1)]
        uT, iT = distinct_values(T)
        return (x, t_x, T, ux, inv, px, pt, codes[:n], codes[n:], uT, iT, T > t_x, {})

    @staticmethod
    def _weight_terms(arrays, weights: np.ndarray) -> dict:
        """Parameter-free weighted sums, cached per weight array."""
        cache = arrays[-1]
        if cache.get("weights") is not weights:
            ux, inv = arrays[3], arrays[4]
            cache.clear()
            cache.update(
                weights=weights,
                W=np.bincount(inv, weights=weights, minlength=ux.size),
                Wtot=float(weights.sum()),
            )
        return cache

    #: log r above which the likelihood and gradient are taken in the scaled form of
    #: :mod:`._pnbd_ridge` (the general form adds and subtracts terms of size r there: gradient noise ~r * 1e-8)
    _SCALED_LOG = 10.0

    def _use_scaled_form(self, log_params: np.ndarray, t_max: float) -> bool:
        """Whether the likelihood is taken in the scaled form of :mod:`._pnbd_ridge` instead of the general one.

        Yes where the general form cancels: for large ``r`` (above ``e^_SCALED_LOG``, whatever ``alpha`` and
        ``beta``: ``gammaln(r+x) - gammaln(r)``, ``r log(alpha)`` against ``-(r+x) log(alpha+T)``; the Poisson
        ridge) and, whatever ``r`` and ``alpha``, for large ``s`` or ``beta`` (:func:`._pnbd_ridge.scaled_s_side`:
        ``s > e^10`` or ``beta > 1e3 t_max``; ``s log(beta)`` against ``-s log(beta+T)``, issue #12: the general
        form was 0.1 off at ``s = beta = 1e13``). Everywhere else the general form, unchanged (bit for bit).

        Parameters
        ----------
        log_params : numpy.ndarray, shape (4,)
            ``log r, log alpha, log s, log beta``.
        t_max : float
            The largest ``T`` of the rows.

        Returns
        -------
        bool
        """
        lp = np.asarray(log_params, float)
        return bool(lp[0] > self._SCALED_LOG) or scaled_s_side(np.exp(lp[2]), np.exp(lp[3]), t_max)

    def _weighted_loglik_value(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> float:
        """Weighted log-likelihood without the gradient (tails evaluated once per distinct pair)."""
        ll, _ = self._loglik(log_params, arrays)
        return wdot(weights, ll)

    def _weighted_loglik(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted log-likelihood and its gradient with respect to the log parameters.

        Per row ``ll = C(x) + r log(alpha) + s log(beta) + log(e^{f1} + e^{lsi})`` with
        ``f1 = -(r+x) log(alpha+T) - s log(beta+T)`` and
        ``lsi = log s + log(G(t_x) - G(T))``. ``log G`` and its derivatives
        (:func:`._hyp.log_pnbd_tail_grad`: the large explicit terms analytic, bounded remainders by
        central differences or under the quadrature's integral) are computed per distinct ``(x, t)``
        pair; the per-row chain-rule sums are
        accumulated per pair and per distinct ``T`` with ``bincount``.
        """
        x, t_x, T, ux, _, px, pt, i0, i1, uT, iT, valid, _ = arrays
        if self._use_scaled_form(log_params, float(uT[-1]) if uT.size else 0.0):
            ll_rows, g_rows = pnbd_ridge_loglik_rows(np.exp(log_params), x, t_x, T)
            ll_s = wdot(weights, ll_rows)
            self._remember_ll(log_params, float(ll_s), float(weights.sum()))
            return float(ll_s), weights @ g_rows
        params = np.exp(log_params)
        r, alpha, s, beta = params
        c = self._weight_terms(arrays, weights)
        W, Wtot = c["W"], c["Wtot"]
        # log G per distinct (x, t) pair and its derivatives (log_pnbd_tail_grad: the large explicit terms analytic,
        # only bounded remainders by differences; in alpha and beta through dG/dalpha = -p G(p+1, q))
        g, dg = log_pnbd_tail_grad(r, px, s, alpha, beta, pt, step=self._TAIL_STEP)  # dg: d log G / d log theta_k
        n_p = px.size
        g0, g1 = g[i0], g[i1]
        ls = np.log(s)
        lsi = ls + log_interval_from_tails(g0, g1, t_x, T)
        lTu, lbTu = np.log(alpha + uT), np.log(beta + uT)
        f1 = -(r + x) * lTu[iT] - s * lbTu[iT]
        lse = np.logaddexp(f1, lsi)
        la, lb = np.log(alpha), np.log(beta)
        C = special.gammaln(r + ux) - special.gammaln(r)
        ll = wdot(W, C) + Wtot * (r * la + s * lb) + wdot(weights, lse)
        # posterior weight of the "died in (t_x, T]" term
        w2 = np.exp(lsi - lse)
        ww2 = weights * w2
        ww1 = weights - ww2
        # d lsi = (1 + q) dG0 - q dG1 with q = e^d / (1 - e^d), d = log G(T) - log G(t_x) < 0
        with np.errstate(divide="ignore", invalid="ignore"):
            qd = np.where(valid & (ww2 > 0), 1.0 / np.expm1(np.minimum(g0 - g1, 700.0)), 0.0)
        a0 = np.bincount(i0, weights=ww2 * (1.0 + qd), minlength=n_p)
        a1 = np.bincount(i1, weights=ww2 * qd, minlength=n_p)
        tail = np.einsum("kp,p->k", dg, a0 - a1)
        nT = uT.size
        BT = np.bincount(iT, weights=ww1, minlength=nT)
        BTx = np.bincount(iT, weights=ww1 * x, minlength=nT)
        grad = np.array(
            [
                r * wdot(W, special.digamma(r + ux) - special.digamma(r)) + Wtot * r * la - r * wdot(BT, lTu),
                Wtot * r - alpha * wdot(r * BT + BTx, 1.0 / (alpha + uT)),
                Wtot * s * lb - s * wdot(BT, lbTu) + float(ww2.sum()),
                Wtot * s - s * beta * wdot(BT, 1.0 / (beta + uT)),
            ]
        ) + tail
        self._remember_ll(log_params, float(ll), Wtot)
        return float(ll), grad

    def _remember_ll(self, log_params: np.ndarray, ll: float, wtot: float) -> None:
        """Keep the last few log-likelihoods by point, for the no-dropout watch (:meth:`_heads_to_no_dropout`)."""
        memo = self.__dict__.setdefault("_ll_memo", {})
        if len(memo) >= 4:
            del memo[next(iter(memo))]
        memo[np.asarray(log_params, float).tobytes()] = (ll, wtot)

    def _subset(self, arrays, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        return self._prepare(*(np.asarray(a)[idx] for a in arrays[:3]))

    @staticmethod
    def _log_terms(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log F1`` (alive at T) and ``log(s I)`` (died in (t_x, T]) without the common factor."""
        r, alpha, s, beta = params
        log_f1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_si = np.log(s) + log_pnbd_interval(r + x, s + 1.0, alpha, beta, t_x, T)
        return log_f1, log_si

    def _loglik(self, log_params: np.ndarray, arrays) -> tuple[np.ndarray, None]:
        x, t_x, T, ux, inv = arrays[:5]
        if self._use_scaled_form(log_params, float(T.max(initial=0.0))):
            return pnbd_ridge_loglik_rows(np.exp(log_params), x, t_x, T)[0], None
        params = np.exp(log_params)
        r, alpha, s, beta = params
        C = special.gammaln(r + ux) - special.gammaln(r)
        log_f1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        if len(arrays) > 5:  # tails on the distinct (x, t) pairs
            px, pt, i0, i1 = arrays[5:9]
            g = log_pnbd_tail(r + px, s + 1.0, alpha, beta, pt)
            log_si = np.log(s) + log_interval_from_tails(g[i0], g[i1], t_x, T)
        else:
            log_si = np.log(s) + log_pnbd_interval(r + x, s + 1.0, alpha, beta, t_x, T)
        ll = C[inv] + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(log_f1, log_si)
        return ll, None

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        rate, tscale = self._start_scales(arrays, weights)
        # a few spread-out starts (mean lifetime beta/s of 1 and 5 times the mean T); the best is used
        starts = [np.log([r, r / rate, s, s * life * tscale]) for r, s, life in ((0.5, 0.5, 1.0), (1.0, 1.0, 5.0), (0.5, 1.0, 5.0))]
        starts.append(np.zeros(4))
        hint = getattr(self, "_nbd_hint", None)
        if hint is not None:  # the NBD fit of the boundary check: r and alpha are usually close
            starts += [np.log([hint[0], hint[1], s, s * life * tscale]) for s, life in ((0.5, 1.0), (1.0, 3.0))]
        return starts

    # ---- no-dropout boundary ----------------------------------------------
    def _limit_params(self) -> dict[str, float]:
        return {"s": 0.0, "beta": float("inf")}

    def _at_dropout_limit(self) -> bool:
        s, beta = self.params_.to_numpy()[2:4]
        return bool((s == 0.0 and beta != 0.0) or (np.isinf(beta) and np.isfinite(s)))  # s = beta = 0: two-point

    # ---- two-point-dropout boundary (s, beta -> 0, beta^s = 1 - pi) ------------
    #: beta (relative to the mean T) below which the fit counts as near the two-point limit: the lifetime
    #: survival (beta/(beta+t))^s is then nearly flat in t over the data; the limit is fitted and kept only
    #: when it is at least as good
    _TWO_POINT_START = 1e-3

    def _near_two_point(self, T: np.ndarray, counts: np.ndarray) -> bool:
        s, beta = self.params_.to_numpy(float)[2:4]
        t_mean = wdot(counts, T) / float(counts.sum())
        return bool(np.isfinite(s) and s < 1.0 and beta < self._TWO_POINT_START * t_mean)

    def _two_point_params(self) -> dict[str, float]:
        return {"s": 0.0, "beta": 0.0}

    def _two_point_start(self) -> tuple[float, float, float]:
        r, alpha, s, beta = self.params_.to_numpy(float)
        survival = np.exp(-s * np.log1p(1.0 / max(beta, 1e-300)))  # (beta / (beta + 1))^s
        return float(r), float(alpha), float(np.clip(1.0 - survival, 1e-6, 0.99))

    def _two_point_full_start(self, limit) -> np.ndarray:
        return self._two_point_neighbours(limit)[0]

    #: ``s`` of the full model's starts next to the two-point limit (:meth:`_two_point_neighbours`): the maxima
    #: between the interior and that limit lie at ``s`` ~ 0.008-0.03 (findings_12r Finding B, B2)
    _TWO_POINT_NEIGHBOUR_S = (0.05, 0.02)

    def _two_point_neighbours(self, limit) -> list[np.ndarray]:
        """Log parameters next to the two-point limit ``(r, alpha, pi)``: ``s`` in ``_TWO_POINT_NEIGHBOUR_S``, ``beta^s = 1 - pi``.

        ``log beta = log(1 - pi) / s`` (e.g. -32 for ``pi = 0.8, s = 0.05``), kept 1 above the
        floor ``_LOG_BETA_FLOOR``; the limit's ``r`` and ``alpha``.
        """
        r, alpha, pi = limit.params_.to_numpy(float)
        log_surv = float(np.log1p(-min(max(pi, 1e-6), 1.0 - 1e-12)))
        return [np.array([np.log(r), np.log(alpha), np.log(s), max(log_surv / s, self._LOG_BETA_FLOOR + 1.0)])
                for s in self._TWO_POINT_NEIGHBOUR_S]

    def _refit_heads_to_two_point(self, log_params: np.ndarray, ll_current: float) -> bool:
        """Whether an iterate of the refit next to the two-point limit has ``log beta`` at the floor and a log-likelihood below ``ll_current``.

        Where no maximum lies between the interior and the limit, the refit from ``s = 0.05`` runs
        back towards the limit: ``log beta`` reaches the floor ``_LOG_BETA_FLOOR`` and the run goes on
        along it with ``s`` falling to ~1e-3 (60-90 L-BFGS-B iterations and a Hessian at the floor: 0.3-0.5
        s on 5,000 customers, ``benchmarks/bench_pnbd_zero_inflated.py``), below the limit's
        log-likelihood all the way. Such a run is stopped at the first accepted iterate on the floor
        below ``ll_current``: the limit stands. (A point on the floor above the limit, y_115: 0.0047, is
        then not reached; it is not a maximum either: the maximum lies beyond the floor.)
        """
        lp = np.asarray(log_params, float)
        if not lp[3] <= self._LOG_BETA_FLOOR + 1e-6:
            return False
        hit = self.__dict__.get("_ll_memo", {}).get(lp.tobytes())
        return hit is not None and hit[0] < ll_current

    # ---- common-dropout ridge (s, beta -> inf, s / beta = mu) ----------------
    def _ridge_heterogeneity(self, log_params: np.ndarray) -> float:
        return float(np.exp(log_params[2]))

    def _ridge_params(self) -> dict[str, float]:
        return {"s": float("inf"), "beta": float("inf")}

    def _ridge_start(self, log_params: np.ndarray) -> tuple[float, float, float]:
        r, alpha, s, beta = np.exp(log_params)
        return float(r), float(alpha), float(s / beta)

    def _dropout_score(self, r, alpha, x, t_x, T, w) -> tuple[float, str]:
        """Derivative of the log-likelihood in the mean dropout rate ``s / beta``, at ``s = 0``.

        Per customer ``beta [log(beta/(beta+T)) + (alpha+T)^(r+x) int_{t_x}^T
        (alpha+tau)^-(r+x) (beta+tau)^-1 dtau]`` (the derivative in ``s`` at
        ``s = 0``, times ``beta``), and ``-T + (alpha+T) ((rho^k - 1)/k)`` with
        ``rho = (alpha+T)/(alpha+t_x)``, ``k = r+x-1`` in the limit ``beta ->
        inf``. Returned: the largest value over ``beta`` (per customer).
        """
        self._dropout_score_beta = None
        W = float(w.sum())
        k = r + x - 1.0
        L = np.log1p((T - t_x) / (alpha + t_x))
        kL = np.minimum(k * L, 700.0)
        small = np.abs(k) < 1e-8
        growth = np.where(small, L, np.expm1(kL) / np.where(small, 1.0, k))
        limit = wdot(w, (alpha + T) * growth - T) / W
        if limit > self._SCORE_TOL:
            return limit, "beta -> inf"
        best, where = _max_over_log_grid(self._dropout_curve(r, alpha, x, t_x, T, w), _LOG_BETA_MIN, 20.0)
        if limit >= best:
            return limit, "beta -> inf"
        self._dropout_score_beta = float(np.exp(where))  # for _dropout_direction_starts
        return best, f"at beta = {np.exp(where):.3g}"

    #: ``s`` of the start in the direction where the NBD limit's derivative into the dropout region is largest
    #: (:meth:`_dropout_direction_starts`)
    _DROPOUT_DIRECTION_S = 0.01
    #: ``s`` below which a converged interior fit is also refitted from the tiny-``beta`` direction
    #: (:meth:`_dropout_direction_starts`): at ``beta <= e^-10`` (far below any time unit) a share ``1 - beta^s``
    #: drops out at once, and a point there can keep ``beta^s >= 0.2`` only with ``s <= log(5) / 10 = 0.16``
    _TINY_BETA_S_MAX = float(np.log(5.0) / 10.0)
    #: ``s`` of the tiny-``beta`` starts at most (the fit's ``s`` where smaller): the tiny-``beta`` maxima found lie at
    #: ``s`` = 0.006-0.05 (findings_12t Finding 1)
    _TINY_BETA_START_S = 0.02
    #: ``beta^s`` (the share surviving the first instant) of the tiny-``beta`` starts; the better by value is used
    _TINY_BETA_SURVIVAL = (0.5, 0.8)
    #: ``s`` below which a converged interior fit with ``s >= _TINY_BETA_S_MAX`` is screened for the tiny-``beta``
    #: refit (:meth:`_tiny_beta_starts`): the maximum's ``s`` can be smaller than the fit's (findings_12v Finding 1:
    #: fits at ``s = 0.22-0.32``, maxima at ``s = 0.11-0.15``, ``beta = 1e-6``-``4e-5``, 0.14-4.36 higher)
    _TINY_BETA_WIDE_S_MAX = 1.0
    #: ``s`` (at most the fit's) and ``beta^s`` of the screened tiny-``beta`` starts (3 points, ``log beta`` from -5 to
    #: -14: with ``beta^s = 0.8`` at ``s = 0.1-0.14``, ``log beta = -1.6`` to ``-2.2``, the run went back to the fit;
    #: ``beta^s = 0.15-0.3`` started lower than 0.5 on every case measured and reached the same maximum)
    _TINY_BETA_WIDE_S = (0.05, 0.1, 0.14)
    _TINY_BETA_WIDE_SURVIVAL = (0.5,)
    #: the screen's margin: the refit runs only where the best screened start (after a 1-D search in a common
    #: factor of ``r, alpha``, made only where the start is within twice the margin: it gained 0.017-0.05 per
    #: customer on the sets measured) is at most ``max(a, b * customers)`` below the fit's log-likelihood. Measured per
    #: customer: findings_12v F1's three cases 0.006-0.013 below (pnL 1546, 1542, pnS 1521); CDNOW (sample and
    #: master, weeks and days, ``s = 0.52-0.61``) 0.071-0.093 below
    _TINY_BETA_SCREEN_MARGIN = (3.0, 0.03)
    #: the screen tries the closed-form bound (:func:`_pnbd_upper_bound_rows`) before evaluating its starts where the fit's
    #: distinct rows are at most this many times the distinct ``(x, t)`` pairs of the likelihood's tails (its cost vs theirs)
    _BOUND_MAX_ROWS_PER_PAIR = 2.0
    #: ``s`` and ``beta^s`` of the small-``beta`` starts after a kept common-dropout limit (:meth:`_common_dropout_starts`,
    #: findings_12v Finding 3: the maxima above the kept limit at ``s = 0.026, beta^s = 0.96`` and ``s = 0.063,
    #: beta^s = 0.86``)
    _COMMON_DROPOUT_REFIT_S = (0.02, 0.05)
    _COMMON_DROPOUT_REFIT_SURVIVAL = (0.5, 0.8, 0.95)

    def _dropout_direction_starts(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray
    ) -> list[np.ndarray]:
        """Starts of the full fit in a dropout direction the fit did not take (for :meth:`_refit_next_to_two_point`).

        ``x, t_x, T, counts``: the fit's distinct rows and their counts (the screen and the standard starts
        below are evaluated on them). Two cases, exclusive:

        * Where the NBD limit is kept (``boundary_kind() == "no_dropout"``) although its derivative
          into the dropout region is positive at a finite ``beta`` (:meth:`_dropout_score`), the
          likelihood rises from the limit towards ``s > 0`` at that ``beta``, but the full fit ran
          elsewhere (findings_12s F5: towards ``s -> 0, beta -> inf``, stopped 9.8e-5 below the limit,
          while the maximum at ``s = 0.0020, beta = 0.0042`` is 0.029 above it). The start is the NBD
          limit's ``r, alpha`` with ``s = _DROPOUT_DIRECTION_S`` at that ``beta``.
        * Where the result is a converged interior fit with ``s < _TINY_BETA_S_MAX``, ``beta`` not
          already tiny (``beta >= e^-10``) and no two-point limit fitted (else the refit starts next to
          that limit, at ``beta^s = 1 - pi``, the same direction): with ``s`` small the likelihood depends on ``beta`` mainly
          through ``beta^s``, and a second maximum can lie at tiny ``beta``, ``log beta = log(beta^s) /
          s``, with a share ``1 - beta^s`` dropping out at once (findings_12t Finding 1: ``s = 0.0068,
          beta = 0.12`` kept 0.65 below the maximum ``s = 0.0059, beta = 6.7e-18``, with no two-point
          limit fitted, 65 lower). The starts are the fit's ``r, alpha`` with ``s = min(s, _TINY_BETA_START_S)``
          and ``beta^s`` in ``_TINY_BETA_SURVIVAL`` (``log beta`` kept 1 above the floor).

          A converged interior fit with ``_TINY_BETA_S_MAX <= s < _TINY_BETA_WIDE_S_MAX`` is screened first
          (the maximum's ``s`` can be smaller than the fit's, findings_12v Finding 1): the log-likelihood
          at a grid of tiny-``beta`` points (``s`` in ``_TINY_BETA_WIDE_S``, at most the fit's, ``beta^s``
          in ``_TINY_BETA_WIDE_SURVIVAL``, the fit's ``r, alpha``) is evaluated, and the best is the start
          only where it is within ``_TINY_BETA_SCREEN_MARGIN`` of the fit's log-likelihood.
        * Where the common-dropout limit is kept (``boundary_kind() == "common_dropout"``): the likelihood
          cannot rise from the limit into heterogeneous dropout near it, but an interior maximum can lie
          at a small ``s`` (findings_12v Finding 3: 0.208 above the kept limit at ``s = 0.026, beta =
          0.24``). The starts (:meth:`_common_dropout_starts`) are the model's standard starts and the
          limit's ``r, alpha`` at ``s`` in ``_COMMON_DROPOUT_REFIT_S``, ``beta^s`` in
          ``_COMMON_DROPOUT_REFIT_SURVIVAL``.

        None elsewhere (the derivative not positive, or largest at ``beta -> inf``, the direction the
        full fit takes anyway; another limit; a larger ``s``; a penalised fit).
        """
        if self.penalizer != 0 or getattr(self, "params_", None) is None:
            return []
        if self.boundary_kind() is None:
            return self._tiny_beta_starts(x, t_x, T, counts)
        if self.boundary_kind() == "common_dropout":
            return self._common_dropout_starts(x, t_x, T, counts)
        nbd = getattr(self, "_nbd_limit", None)
        beta = self.__dict__.get("_dropout_score_beta")
        if nbd is None or beta is None or self.boundary_kind() != "no_dropout" or not nbd[2] > self._SCORE_TOL:
            return []
        lr, la = (float(v) for v in nbd[0][0])
        return [np.array([lr, la, np.log(self._DROPOUT_DIRECTION_S), np.log(beta)])]

    def _tiny_beta_starts(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
        """The tiny-``beta`` starts of :meth:`_dropout_direction_starts` for a converged interior fit (else none); the fit's rows ``x, t_x, T, counts``."""
        if not getattr(self, "converged_", False) or getattr(self, "_two_point_fit", None):
            return []  # with the two-point limit fitted, its neighbours (beta^s = 1 - pi) start in this direction
        r, alpha, s, beta = self.params_.to_numpy(float)
        if not (np.isfinite(s) and 0.0 < s < self._TINY_BETA_WIDE_S_MAX and beta >= np.exp(-10.0)):
            return []
        if s < self._TINY_BETA_S_MAX:
            s0 = min(float(s), self._TINY_BETA_START_S)
            return [self._small_beta_point(r, alpha, s0, surv) for surv in self._TINY_BETA_SURVIVAL]
        grid = sorted({min(float(s), s0) for s0 in self._TINY_BETA_WIDE_S})
        starts = [self._small_beta_point(r, alpha, s0, surv) for s0 in grid for surv in self._TINY_BETA_WIDE_SURVIVAL]
        return self._screened(starts, float(self.log_likelihood_), x, t_x, T, counts)

    def _small_beta_point(self, r: float, alpha: float, s: float, survival: float) -> np.ndarray:
        """Log parameters ``(r, alpha, s, beta)`` with ``beta^s = survival`` (``log beta`` kept 1 above the floor)."""
        return np.array([np.log(r), np.log(alpha), np.log(s), max(np.log(survival) / s, self._LOG_BETA_FLOOR + 1.0)])

    def _screened(
        self, starts: list[np.ndarray], ll_fit: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray
    ) -> list[np.ndarray]:
        """The best of ``starts`` by log-likelihood where it is within ``_TINY_BETA_SCREEN_MARGIN`` of ``ll_fit`` (else none).

        Evaluated on ``x, t_x, T, counts``, the fit's distinct rows and their counts; the fit asks once
        (:meth:`~crm_analysis.clv.base.BaseTransactionModel._refit_start_groups`). Where the upper bound
        :func:`_pnbd_upper_bound_rows` of every start's log-likelihood is more than twice the margin below
        ``ll_fit``, no start is evaluated: the values, below their bounds, would give the same answer (none). The
        bound is tried where it is the cheaper (``_BOUND_MAX_ROWS_PER_PAIR``).
        """
        a, b = self._TINY_BETA_SCREEN_MARGIN
        margin = max(a, b * float(np.sum(counts)))
        prepared = self._rows_prepared(x, t_x, T)
        # an upper bound of each start's log-likelihood first (no evaluation): where every start's bound is far below,
        # so is every value, and the answer is the one the values give (CDNOW sample: the bounds 7-12 above the
        # values, 210-400 below the fit; the 3 evaluations at tiny beta were ~15% of its fit's time). The bound costs
        # about the distinct rows times its nodes, an evaluation the distinct (x, t) pairs of its tails: it is taken
        # where the rows are at most _BOUND_MAX_ROWS_PER_PAIR times the pairs (CDNOW sample 1,016 rows, 943 pairs;
        # master 8,685 rows, 2,149 pairs: there the bound took twice the evaluations' time)
        lp = np.asarray(starts, float)
        if x.size <= self._BOUND_MAX_ROWS_PER_PAIR * prepared[5].size and np.all(lp[:, :2] == lp[0, :2]):
            bounds = wdot(counts, _pnbd_upper_bound_rows(x, t_x, T, *np.exp(lp[0, :2]), np.exp(lp[:, 2]), lp[:, 3]).T)
            if np.all(bounds < ll_fit - 2.0 * margin):
                return []
        with np.errstate(all="ignore"):
            values = np.array([self._weighted_loglik_value(s0, prepared, counts) for s0 in starts], float)
        values[~np.isfinite(values)] = -np.inf
        # far below: no 1-D search (it gained 0.017-0.05 per customer where measured)
        if float(np.max(values)) < ll_fit - 2.0 * margin:
            return []
        best = starts[int(np.argmax(values))]
        # (r, alpha) of the fit can be far from the tiny-beta maximum's (pnL 1546: r = 0.055 vs 0.70): a 1-D search in
        # a common factor of r and alpha (the mean purchase rate r / alpha kept), ~8 evaluations
        shift = np.array([1.0, 1.0, 0.0, 0.0])

        def neg(d: float) -> float:
            with np.errstate(all="ignore"):
                v = self._weighted_loglik_value(best + d * shift, prepared, counts)
            return -v if np.isfinite(v) else np.inf

        found = minimize_scalar(neg, bounds=(-5.0, 5.0), method="bounded", options={"xatol": 0.05})
        value = max(float(np.max(values)), -float(found.fun))
        if -float(found.fun) > float(np.max(values)):
            best = best + float(found.x) * shift
        return [best] if value >= ll_fit - margin else []

    #: the Poisson-ridge screen of :meth:`_survival_profile_starts` (issue #12): ``beta^s`` of the bound
    #: (:func:`_poisson_ridge_bound`, ``s`` the fit's) and the margin per customer. Measured (bound minus the fit's
    #: log-likelihood, per customer): the 7 missed maxima of tests/clv/test_pareto_nbd_ridge_basin.py -0.021 to -0.487;
    #: CDNOW sample and master, weeks and days, -1.45 to -2.02 (the likelihood itself there: -1.57 to -2.13, when the
    #: screen was one evaluation at r = 1e6); Online Retail far below. An empirical margin, not a bound.
    _RIDGE_SCREEN_SURVIVAL = 0.05
    _RIDGE_SCREEN_MARGIN = 1.0
    #: the profile's grids of ``beta^s`` (each profiled and polished; the higher polished point is the start): the
    #: better grid differs from case to case (pnprof's study: pnL 1682 only the first, pn 1569 only the second)
    _SURVIVAL_PROFILE_GRIDS = ((0.02, 0.1, 0.3, 0.6, 0.9), (1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99))
    _SURVIVAL_PROFILE_START = (0.5, 0.1)  # r and s of the profile's starts (alpha = r / lambda)

    def _survival_profile_starts(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray
    ) -> list[np.ndarray]:
        """Start of the full fit from a profile over ``c = log beta^s`` where the Poisson-ridge screen triggers (else none).

        A second basin of the Pareto/NBD likelihood lies on a ridge in ``(log r, c)``: ``r`` large (near the
        Poisson limit of the purchase rates) and ``beta^s`` small (a share ``1 - beta^s`` drops out at once). The
        fit can stop in the other basin 0.03-1.9 below it (issue #12; the cases of
        tests/clv/test_pareto_nbd_ridge_basin.py). The screen costs no likelihood evaluation: an upper bound
        (:func:`_poisson_ridge_bound`) of the log-likelihood at the ridge's end ``r -> inf``, ``r / alpha = lambda``
        (``lambda`` the weighted purchase rate ``sum x / sum T``), with the fit's ``s`` (0.3 where not finite and
        positive) and ``beta^s = _RIDGE_SCREEN_SURVIVAL``; the profile runs only where that bound is at most
        ``_RIDGE_SCREEN_MARGIN`` per customer below the fit. The profile: for each ``c`` of each grid of
        ``_SURVIVAL_PROFILE_GRIDS``, an L-BFGS-B run in ``(log r, log alpha, log s)`` from ``r = 0.5, alpha = r /
        lambda, s = 0.1``; the best point of each grid is polished in the four coordinates ``(log r, log alpha,
        log s, c)`` (the package's gradient, by the chain rule). The higher polished point, in log parameters, is
        the start; the refit from it (:meth:`_refit_from_starts`) is adopted by that method's rules only (so the
        result is never lower than the fit). Evaluated on ``x, t_x, T, counts``, the fit's distinct rows and their
        counts; the fit asks once (:meth:`~crm_analysis.clv.base.BaseTransactionModel._refit_start_groups`).
        """
        if self.penalizer != 0 or getattr(self, "params_", None) is None:
            return []
        ll_fit = float(self.log_likelihood_)
        lam = float(wdot(counts, x)) / float(wdot(counts, T))
        s_fit = float(self.params_["s"])
        if not (np.isfinite(lam) and lam > 0 and np.isfinite(ll_fit)):
            return []
        s0 = s_fit if np.isfinite(s_fit) and s_fit > 0 else 0.3
        bound = _poisson_ridge_bound(x, t_x, counts, lam, s0, float(np.log(self._RIDGE_SCREEN_SURVIVAL)))
        if not bound > ll_fit - self._RIDGE_SCREEN_MARGIN * float(np.sum(counts)):
            return []
        prepared = self._prepare(x, t_x, T)
        best = None
        for grid in self._SURVIVAL_PROFILE_GRIDS:
            found = self._survival_profile(prepared, counts, lam, grid)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return [best[1]] if best is not None else []

    def _survival_profile(self, prepared, counts: np.ndarray, lam: float, grid) -> tuple[float, np.ndarray] | None:
        """The profile of :meth:`_survival_profile_starts` over one grid of ``beta^s``: (log-likelihood, log parameters) of its polished best point, or ``None``."""

        def in_c(u: np.ndarray) -> tuple[float, np.ndarray]:
            # u = (log r, log alpha, log s, c = s log beta); log parameters (log r, log alpha, log s, c / s)
            s = float(np.exp(u[2]))
            lp = np.array([u[0], u[1], u[2], u[3] / s])
            with np.errstate(all="ignore"):
                try:
                    ll, g = self._weighted_loglik(lp, prepared, counts)
                except (ArithmeticError, ValueError):
                    return np.inf, np.zeros(4)
            if not (np.isfinite(ll) and np.all(np.isfinite(g))):
                return np.inf, np.zeros(4)
            return -ll, -np.array([g[0], g[1], g[2] - g[3] * lp[3], g[3] / s])

        r0, s0 = self._SURVIVAL_PROFILE_START
        z0 = np.array([np.log(r0), np.log(r0 / lam), np.log(s0)])
        b = _LOG_BOUND
        points = []
        for survival in grid:
            c = float(np.log(survival))
            lo_s = np.log(max(-c / (-self._LOG_BETA_FLOOR - 10.0), 1e-6))  # keeps log beta = c / s above the floor

            def h(z: np.ndarray, c: float = c) -> tuple[float, np.ndarray]:
                f, g = in_c(np.array([z[0], z[1], z[2], c]))
                return f, g[:3]

            res = minimize(h, z0, jac=True, method="L-BFGS-B", bounds=[(-b, b), (-b, b), (lo_s, 5.0)],
                           options={"maxiter": 30})
            if np.isfinite(res.fun):
                points.append((float(res.fun), np.array([*res.x, c])))
        if not points:
            return None
        u0 = min(points, key=lambda p: p[0])[1]
        res = minimize(in_c, u0, jac=True, method="L-BFGS-B",
                       bounds=[(-b, b), (-b, b), (-b, 8.0), (-400.0, 400.0)],
                       options={"maxiter": 500, "gtol": 1e-8, "ftol": 1e-14})
        if not np.isfinite(res.fun):
            return None
        u = res.x
        lp = np.array([u[0], u[1], u[2], max(u[3] / np.exp(u[2]), self._LOG_BETA_FLOOR)])
        return -float(res.fun), lp

    def _common_dropout_starts(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
        """Starts of the refit after a kept common-dropout limit (:meth:`_dropout_direction_starts`) on the fit's rows ``x, t_x, T, counts``.

        The model's standard starts (:meth:`_initial_log_params`) and the limit's ``r, alpha`` at ``s``
        in ``_COMMON_DROPOUT_REFIT_S`` with ``beta^s`` in ``_COMMON_DROPOUT_REFIT_SURVIVAL``; the refit
        runs from the best by value.
        """
        limit = getattr(self, "limit_model_", None)
        if limit is None:
            return []
        r, alpha = (float(v) for v in limit.params_.to_numpy(float)[:2])
        if not (np.isfinite(r) and np.isfinite(alpha) and r > 0 and alpha > 0):
            return []
        starts = [np.asarray(s0, float) for s0 in self._initial_log_params(self._prepare(x, t_x, T), counts)]
        return starts + [self._small_beta_point(r, alpha, s0, surv) for s0 in self._COMMON_DROPOUT_REFIT_S
                         for surv in self._COMMON_DROPOUT_REFIT_SURVIVAL]

    @staticmethod
    def _dropout_curve(r, alpha, x, t_x, T, w):
        """The derivative of :meth:`_dropout_score` as a function of ``log beta`` (vectorised).

        ``beta * S(beta) = sum_i w_i [int_{t_x}^{T} rho_i(tau) beta/(beta+tau) dtau - beta log(1 + T/beta)]``
        with ``rho_i = ((alpha+T)/(alpha+tau))^(r+x)``. The integrals are taken by quadrature in
        ``log tau`` on nodes that do not depend on ``beta`` (``rho`` is the weight, ``tau/(beta+tau)``
        a smooth factor in ``log tau``); the nodes of all customers are pooled on a grid of step
        0.01 in ``log tau`` (linear, moment-preserving assignment), so each ``beta`` costs a few
        thousand operations.
        """
        W = float(w.sum())
        log_beta_min = _LOG_BETA_MIN
        rows = np.flatnonzero(T > t_x)
        k = r + x[rows]
        lT = np.log(alpha + T[rows])
        lo = np.where(t_x[rows] > 0, np.log(np.maximum(t_x[rows], 1e-300)), log_beta_min - 40.0)
        lo = np.maximum(lo, log_beta_min - 40.0)
        hi = np.log(T[rows])

        def log_f(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return k[idx, None] * (lT[idx, None] - np.log(alpha + np.exp(y)))

        def coord(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return y / 3.0

        grid_step = 0.01
        g0 = float(lo.min()) if rows.size else 0.0
        n_bins = int(np.ceil((float(hi.max()) - g0) / grid_step)) + 2 if rows.size else 1
        mass = np.zeros(n_bins)
        for idx, y, log_w in unimodal_nodes(log_f, coord, lo, hi, lo, w_tv=6.0):
            wy = (w[rows][idx, None] * np.exp(log_w + y)).ravel()  # d tau = tau d(log tau)
            pos = (y.ravel() - g0) / grid_step
            left = np.floor(pos).astype(np.int64)
            frac = pos - left
            mass += np.bincount(left, weights=wy * (1.0 - frac), minlength=n_bins)[:n_bins]
            mass += np.bincount(left + 1, weights=wy * frac, minlength=n_bins + 1)[:n_bins]
        taus = np.exp(g0 + grid_step * np.arange(n_bins))
        keep = mass > 0
        taus, mass = taus[keep], mass[keep]
        # sum_i w_i int rho/(beta+tau) dtau = sum_bins mass / (beta + tau) (mass holds rho * tau * weight)

        def score(log_b: np.ndarray) -> np.ndarray:
            beta = np.exp(np.atleast_1d(log_b))[:, None]
            integral = (mass[None, :] / (beta + taus[None, :])).sum(axis=1) * beta[:, 0]
            return (integral - beta[:, 0] * (np.log1p(T[None, :] / beta) @ w)) / W

        return score

    # ---- the crawl to the no-dropout limit ------------------------------------
    #: share of the customers dead by the mean ``T``, ``1 - (beta / (beta + T))^s``, below which an iterate of
    #: the full fit counts as next to the no-dropout limit (the NBD model)
    _NO_DROPOUT_SHARE = 1e-3
    #: how far (log-likelihood, absolute) below the NBD limit's log-likelihood such an iterate may be; a tenth of
    #: ``_LIMIT_LL_TOL``, the margin by which a full fit must beat that limit to be kept
    _NO_DROPOUT_LL_GAP = 1e-4

    def _heads_to_no_dropout(self, log_params: np.ndarray) -> bool:
        """Whether an iterate of the full fit is on its way to the no-dropout limit (``s -> 0``, ``beta -> inf``).

        On zero-inflated data the optimiser, started next to the NBD fit, can run towards the
        no-dropout limit along ``s beta ~ const`` (``s`` from 1e-2 to 1e-6 and ``beta`` from 2e3
        to 4e7 in 40-45 L-BFGS-B iterations, each one a costly likelihood evaluation there,
        80 % of the fit; ``benchmarks/bench_pnbd_zero_inflated.py``), gaining less than 1e-3
        in log-likelihood on the way: it climbs towards the NBD limit's log-likelihood from
        below. Such a run ends below the NBD limit plus ``_LIMIT_LL_TOL``, so the limits decide
        the result (:meth:`_ridge_is_maximum`); the run is stopped once an iterate has
        almost no dropout (a share below ``_NO_DROPOUT_SHARE`` dead by the mean ``T``) and a
        log-likelihood within ``_NO_DROPOUT_LL_GAP`` below the NBD limit's and not above it.
        """
        nbd = getattr(self, "_nbd_limit", None)
        moments = getattr(self, "_data_moments", None)
        if nbd is None or moments is None:
            return False
        lp = np.asarray(log_params, float)
        s, beta = np.exp(lp[2:4])
        t_mean = float(moments[3] / moments[0])
        with np.errstate(all="ignore"):
            share = -np.expm1(-s * np.log1p(t_mean / beta))
        if not share < self._NO_DROPOUT_SHARE:
            return False
        hit = self.__dict__.get("_ll_memo", {}).get(lp.tobytes())
        if hit is None or hit[1] != float(moments[0]):
            return False  # not evaluated on these data (the watch looks at the optimiser's accepted points)
        ll_nbd = float(nbd[1])
        return bool(ll_nbd - self._NO_DROPOUT_LL_GAP <= hit[0] <= ll_nbd + 1e-12 * abs(ll_nbd))

    def _on_ridge(self, log_params: np.ndarray) -> bool:
        return super()._on_ridge(log_params) or self._heads_to_no_dropout(log_params)

    def _ridge_is_maximum(self, x, t_x, T, counts, prepared, stopped: np.ndarray) -> tuple[str, str] | None:
        """As the base class on the common-dropout ridge; for a run stopped on its way to the no-dropout limit, that limit or the two-point limit.

        A run stopped by :meth:`_heads_to_no_dropout` would have ended below the NBD limit
        plus ``_LIMIT_LL_TOL``; the fit's result is then what the base class makes of such an
        end: the two-point-dropout limit where it is better than the NBD limit by that margin
        and significantly (:meth:`_two_point_beats`), else the NBD limit.
        """
        if super()._on_ridge(stopped) or not self._heads_to_no_dropout(stopped):
            verdict = super()._ridge_is_maximum(x, t_x, T, counts, prepared, stopped)
            if verdict is None:
                self._watch_resumed_ridge_run(stopped)
            return verdict
        ll_nbd = float(self._nbd_limit[1])
        r, alpha, s, beta = np.exp(np.asarray(stopped, float))
        ll_stop = self._ll_memo[np.asarray(stopped, float).tobytes()][0]
        where = (f"the full fit ran towards it (s = {s:.3g}, beta = {beta:.3g}, log-likelihood {ll_stop:.6g}, "
                 f"{ll_nbd - ll_stop:.2g} below the limit; stopped there)")
        survival = np.exp(-s * np.log1p(1.0 / beta))
        if self._two_point_beats(x, t_x, T, counts, ll_nbd, hint=(float(r), float(alpha), float(np.clip(1.0 - survival, 1e-6, 0.99)))):
            self._ridge_limit = self._two_point_fit
            return "ridge", (f"the derivative test at the no-dropout limit failed ({self._nbd_limit[2]:.3g} per customer, "
                             f"{self._nbd_limit[3]}), {where}, and this limit is better than the no-dropout limit")
        return "nbd", (f"the derivative into the dropout region is positive ({self._nbd_limit[2]:.3g} per customer, "
                       f"{self._nbd_limit[3]}), but {where}, so the limit is the best fit found")

    #: how far (factor in ``s``) a resumed run must have gone on along the common-dropout ridge before it is stopped
    _RIDGE_RESUME_FACTOR = 4.0

    def _watch_resumed_ridge_run(self, stopped: np.ndarray) -> None:
        """Arm the watch of the full fit that the base class resumes from a ridge stop (:meth:`_fit_arrays`).

        Only where the ridge check found the common-dropout limit a maximum along the ridge
        (derivative into heterogeneous dropout not positive) and the two-point limit better than
        it and than the NBD limit by ``_LIMIT_LL_TOL`` (significantly): the resumed run then goes
        on along the ridge (zero-inflated data: ``s`` from 15 to 900 in 30 iterations), where its
        log-likelihood stays below the common-dropout limit's, so the two-point limit is the
        result whatever point it ends at.
        """
        limit, info = getattr(self, "_ridge_limit", None), getattr(self, "_ridge_info", None)
        two_point = getattr(self, "_two_point_fit", None)
        if limit is None or info is None or not two_point or not info[0] <= self._SCORE_TOL:
            return
        ll_lim = float(two_point.log_likelihood_)
        best_other = max(float(limit.log_likelihood_), float(self._nbd_limit[1]))
        if ll_lim > best_other + max(1e-9 * abs(best_other), self._LIMIT_LL_TOL):
            self._resume_watch = (float(np.exp(stopped[2])), ll_lim - max(1e-9 * abs(ll_lim), self._LIMIT_LL_TOL))

    def _resumed_run_on_ridge(self, log_params: np.ndarray, watch: tuple[float, float]) -> bool:
        """Whether the resumed run has gone on along the ridge: ``s`` grown by ``_RIDGE_RESUME_FACTOR``, log-likelihood below the two-point limit's by its margin (``watch``: ``s`` at the stop and that log-likelihood)."""
        s_stop, ll_cap = watch
        lp = np.asarray(log_params, float)
        if not np.exp(lp[2]) >= self._RIDGE_RESUME_FACTOR * s_stop:
            return False
        hit = self.__dict__.get("_ll_memo", {}).get(lp.tobytes())
        return hit is not None and hit[0] < ll_cap

    def _fit_arrays(
        self, arrays, weights: np.ndarray, *, start: np.ndarray | None = None, resume: np.ndarray | None = None,
        stop=None,
    ) -> None:
        """As the base class; a run resumed from a ridge stop under :meth:`_watch_resumed_ridge_run` is stopped once it goes on along the ridge.

        The watch armed by :meth:`_watch_resumed_ridge_run` (``_resume_watch``) is taken off the
        model here and replaces ``stop`` for this run. The stopped run's point is stored as the full
        fit (its log-likelihood, no Hessian: the two-point limit replaces it in
        :meth:`~crm_analysis.clv.base.BaseTransactionModel._fit_collapsed_once`).
        """
        watch = self.__dict__.pop("_resume_watch", None)
        if watch is None:
            return super()._fit_arrays(arrays, weights, start=start, resume=resume, stop=stop)
        try:
            super()._fit_arrays(arrays, weights, start=start, resume=resume,
                                stop=lambda lp: self._resumed_run_on_ridge(lp, watch))
        except _RidgeReached as reached:
            lp = reached.log_params
            ll = self._ll_memo[lp.tobytes()][0]
            self._store_results(lp, ll, np.full((4, 4), np.nan), converged=False, n_iter=0,
                                n_customers=float(weights.sum()), n_distinct=int(len(weights)))

    # ---- predictions -----------------------------------------------------
    def _gone_log_odds(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``log(s I) - log F1`` per row (``-inf`` after a boundary fit): P(alive) ``= 1 / (1 + e^d)``."""
        if self._at_dropout_limit():
            return np.full(np.shape(x), -np.inf)
        params = self.params_.to_numpy()
        T_arr = np.asarray(T, float)
        if T_arr.size and self._use_scaled_form(np.log(params), float(T_arr.max())):
            # the general form's log F1 - log(s I) subtracts two terms of size s log(beta + T) (issue #12)
            xs, txs, Ts = np.broadcast_arrays(np.asarray(x, float), np.asarray(t_x, float), T_arr)
            return -pnbd_scaled_alive_log_odds(params, xs, txs, Ts)
        log_f1, log_si = self._log_terms(params, x, t_x, T)
        return log_si - log_f1

    @predicts_from_common_limit
    def probability_alive(self, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Probability that each customer is still alive at ``T``.

        ``P(alive) = F1 / (F1 + s I)`` in the notation of the module
        docstring (Fader & Hardie 2005 note, eq. 18), computed in log space;
        1 after a boundary fit (no dropout).

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

    def _expected_if_alive(self, t: float | np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[Y(t) | alive at T] = (r+x)/(alpha+T) * (beta+T)/(s-1) [1 - ((beta+T)/(beta+T+t))^(s-1)]."""
        r, alpha, s, beta = self.params_.to_numpy()
        if self._at_dropout_limit():
            return (r + x) / (alpha + T) * t
        L = np.log1p(t / (beta + T))
        return (r + x) / (alpha + T) * (beta + T) * _h(s - 1.0, L)

    @predicts_from_common_limit
    def expected_purchases(self, t: float, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected number of purchases in ``(T, T + t]``.

        Fader & Hardie (2005 note), eq. (21):
        ``P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]``,
        continuous at ``s = 1``; ``(r+x) t / (alpha+T)`` after a boundary fit.

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
        d = self._data(data, **columns)
        # in log space where P(alive) is below 1e-300 (issue #12)
        return alive_product_from_log_odds(self._gone_log_odds(d.x, d.t_x, d.T), self._expected_if_alive(t, d.x, d.T))

    @predicts_from_common_limit
    def expected_purchases_grid(self, times, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected purchases at several horizons, shape ``(n, len(times))``."""
        times = _check_times(times, name="times")
        d = self._data(data, **columns)
        cols = [self._expected_if_alive(float(t), d.x, d.T) for t in times]
        return alive_product_from_log_odds(self._gone_log_odds(d.x, d.t_x, d.T)[:, None],
                                           np.column_stack(cols) if cols else np.empty((len(d.x), 0)))

    @predicts_from_common_limit
    def expected_purchases_new(self, t: float | np.ndarray) -> float | np.ndarray:
        """Expected purchases ``E[X(t)]`` of a just-acquired customer.

        ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]`` (Fader & Hardie
        2005 note, eq. 17; its limit ``r beta/alpha log(1 + t/beta)`` at
        ``s = 1``); ``r t / alpha`` after a boundary fit.

        Parameters
        ----------
        t : float or array-like
            Time(s) since the first purchase, ``>= 0``.

        Returns
        -------
        float or numpy.ndarray
            Expected number of repeat purchases in ``(0, t]``, shaped like ``t``.
        """
        self._check_fitted()
        t_arr = _check_times(t, keep_shape=True)
        out = np.asarray(self._expected_if_alive(t_arr, 0.0, 0.0), dtype=float)
        return float(out) if out.ndim == 0 else out

    @predicts_from_common_limit
    def probability_of_purchases(self, x: int | np.ndarray, t: float | np.ndarray) -> float | np.ndarray:
        """``P(X(t) = x)`` for a just-acquired customer.

        Sum of "alive at ``t`` with ``x`` purchases", ``(beta/(beta+t))^s
        NB(x; r, alpha/(alpha+t))``, and "died at ``tau < t`` after ``x``
        purchases", ``int_0^t s beta^s (beta+tau)^-(s+1) NB(x; r,
        alpha/(alpha+tau)) dtau`` (equivalent to Fader & Hardie's closed form
        with hypergeometric functions, 2005 note eq. 19, whose terms cancel).
        With ``w = tau/(alpha+tau)`` the integral is ``Gamma(r+x)/(Gamma(r) x!)
        s (alpha/beta) int_0^{t/(alpha+t)} w^x (1-w)^(r+s-1) (1 + (alpha/beta - 1)
        w)^-(s+1) dw``, whose log integrand is concave in ``log(w/(1-w))``; it
        is integrated there by composite Gauss-Legendre panels
        (:mod:`._quadrature`), vectorised over all ``(x, t)``. The NBD
        probability after a boundary fit.

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
        r, alpha, s, beta = self.params_.to_numpy()
        if self._at_dropout_limit():
            out = nbd_pmf(x_arr, r, alpha, t_arr)
            return float(out) if out.ndim == 0 else out
        shape = x_arr.shape
        xf, tf = x_arr.ravel(), t_arr.ravel()
        alive = nbd_pmf(xf, r, alpha, tf) * np.exp(-s * np.log1p(tf / beta))
        out = alive.copy()
        pos = np.flatnonzero(tf > 0)
        if pos.size:
            # where the likelihood takes the scaled form (large r, s or beta), the died term is taken in
            # u = log1p(tau/beta) too (the w form cancels terms s log(1 + tau/alpha); issue #12)
            scaled = self._use_scaled_form(np.log([r, alpha, s, beta]), float(tf.max()))
            died = pnbd_died_log_term if scaled else _log_died_term
            out[pos] += np.exp(died(xf[pos], tf[pos], r, alpha, s, beta))
        out = out.reshape(shape)
        return float(out) if out.ndim == 0 else out

    @predicts_from_common_limit
    def sample(self, n_customers: int, T: float | np.ndarray, *, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Simulate customers from the fitted model.

        Parameters
        ----------
        n_customers : int
            Number of customers.
        T : float or array-like
            Calibration period length(s).
        seed : int or numpy.random.Generator, optional
            Random seed.

        Returns
        -------
        pandas.DataFrame
            See :func:`~crm_analysis.clv.simulate.simulate_pareto_nbd`.
        """
        self._check_fitted()
        r, alpha, s, beta = self.params_.to_numpy()
        if self._at_dropout_limit():
            return simulate_nbd(r, alpha, n_customers=n_customers, T=T, seed=seed)
        return simulate_pareto_nbd(r, alpha, s, beta, n_customers=n_customers, T=T, seed=seed)


def _poisson_ridge_bound(x: np.ndarray, t_x: np.ndarray, counts: np.ndarray, lam: float, s: float, c: float) -> float:
    """Upper bound of the Pareto/NBD log-likelihood at its Poisson limit with ``beta^s = e^c``: the ridge screen's test.

    At ``r -> inf`` with ``r / alpha = lam`` the purchase rate is ``lam`` for every customer and a customer's
    likelihood is ``lam^x [e^{-lam T} S(T) + int_{t_x}^T e^{-lam tau} f(tau) dtau]`` with the Pareto (Lomax)
    survival ``S(tau) = (beta / (beta + tau))^s`` and density ``f = -S'``. As ``e^{-lam tau} <= e^{-lam t_x}`` on
    ``[t_x, T]``, it is at most ``lam^x e^{-lam t_x} S(t_x)``; so, summed with weights,

    ``sum_i w_i [x_i log(lam) - lam t_x,i - s log1p(t_x,i / beta)]``, ``log beta = c / s``

    bounds the log-likelihood from above (in log space: no underflow of ``beta = e^{c/s}`` at tiny ``s``, the crash
    of findings_12a pnS 1750). Tight where customers drop out early or buy up to ``T``: 0.004-0.12 per customer
    above the likelihood on the cases of tests/clv/test_pareto_nbd_ridge_basin.py and CDNOW.

    Parameters
    ----------
    x, t_x, counts : numpy.ndarray, shape (n,)
        Distinct rows' frequency, recency (time units) and customer counts.
    lam : float
        Purchase rate per time unit (``> 0``).
    s : float
        Pareto shape ``s > 0``.
    c : float
        ``log beta^s`` (``< 0``).

    Returns
    -------
    float
        The bound (same constant convention as :meth:`ParetoNBDModel._loglik`).
    """
    log_beta = c / s
    with np.errstate(divide="ignore"):
        log_bt = np.logaddexp(log_beta, np.log(t_x))
    return float(wdot(counts, x * np.log(lam) - lam * t_x - s * (log_bt - log_beta)))


#: where :func:`_pnbd_upper_bound_rows` splits ``[t_x, T]``, as fractions of ``T - t_x`` from ``t_x``: finer next to
#: ``t_x``, where the purchase factor ``N`` falls fastest (on CDNOW's tiny-``beta`` screen points the bound is 7-12
#: above the log-likelihood on the sample, 52-101 on the master, with these 4 pieces; 68-119 and 600-1,100 with one)
_BOUND_NODES = np.array([0.0, 0.125, 0.25, 0.5, 1.0])


def _pnbd_upper_bound_rows(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, r: float, alpha: float, s: np.ndarray, log_beta: np.ndarray
) -> np.ndarray:
    """Upper bound of each row's Pareto/NBD log-likelihood in closed form (no tail integral): the tiny-``beta`` screen's test.

    A customer's likelihood (module docstring) is ``L = N(T) S(T) + int_{t_x}^T f(tau) N(tau) dtau`` with the
    purchase factor ``N(u) = Gamma(r+x) / Gamma(r) alpha^r (alpha+u)^-(r+x)`` (``E[lambda^x e^(-lambda u)]``,
    ``lambda ~ Gamma(r, alpha)``), the survival ``S(u) = (beta / (beta+u))^s`` and the dropout density ``f = -S'``.
    ``N`` is convex in ``u``, so on each piece ``[a, b]`` of a partition of ``[t_x, T]`` it lies below its chord,
    and as ``f >= 0``::

        int_a^b f N <= N(a) int_a^b f (b - tau) / (b - a) + N(b) int_a^b f (tau - a) / (b - a)
                     = N(a) (S(a) - Sm) + N(b) (Sm - S(b)),

    with ``Sm`` the mean of ``S`` over ``[a, b]`` (by parts: ``int_a^b f (tau - a) = int_a^b S - (b - a) S(b)``),
    ``Sm = beta^s ((beta+b)^(1-s) - (beta+a)^(1-s)) / ((1-s) (b-a))``. The pieces end at
    ``t_x + (T - t_x) _BOUND_NODES``. Exact where ``t_x = T``; the gap is second order in the fall of ``N`` over a
    piece. All in log space (``log beta`` down to the optimiser's floor -600).

    Parameters
    ----------
    x, t_x, T : numpy.ndarray, shape (n,)
        Frequency, recency and age of the rows (time units), ``0 <= t_x <= T``, ``T > 0``.
    r, alpha : float
        Positive parameters, shared by the points.
    s, log_beta : numpy.ndarray, shape (m,)
        ``s > 0`` and ``log beta`` of ``m`` points.

    Returns
    -------
    numpy.ndarray, shape (m, n)
        Per point and row, at least the log-likelihood of :meth:`ParetoNBDModel._loglik` (same constant
        convention); ``tests/clv/test_pareto_nbd_wide_refit.py`` checks it against the package's likelihood.
    """
    s = np.asarray(s, float)[:, None, None]
    log_beta = np.asarray(log_beta, float)[:, None, None]
    tau = t_x[:, None] + (T - t_x)[:, None] * _BOUND_NODES[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_tau, log_width = np.log(tau), np.log(np.diff(tau, axis=1))
        log_n = (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha))[:, None] - (r + x)[:, None] * np.log(alpha + tau)
        log_bt = np.logaddexp(log_beta, log_tau)  # log(beta + tau), per point
        log_s = s * (log_beta - log_bt)
        # log of the mean of S over each piece: log int_a^b (beta+tau)^-s = (1-s) log(beta+b) + log h(1-s, L) with
        # L = log((beta+b) / (beta+a)), written as log1p(width / (beta+a)) (no difference of two logarithms)
        L = np.log1p(np.exp(log_width - log_bt[..., :-1]))
        # log h(1-s, L), h(k, L) = (1 - e^(-k L)) / k (see _h), in a form that does not overflow for s > 1
        k = 1.0 - s
        log_h = np.where(np.abs(k) < 1e-10, np.log(L),
                         np.maximum(-k * L, 0.0) + np.log(-np.expm1(-np.abs(k) * L)) - np.log(np.abs(k)))
        log_mean = s * log_beta + (1.0 - s) * log_bt[..., 1:] + log_h - log_width
        log_mean = np.clip(log_mean, log_s[..., 1:], log_s[..., :-1])  # S(b) <= Sm <= S(a), also after rounding
        upper = log_s[..., :-1] + np.log(-np.expm1(log_mean - log_s[..., :-1]))  # log(S(a) - Sm)
        lower = log_mean + np.log(-np.expm1(log_s[..., 1:] - log_mean))  # log(Sm - S(b))
        pieces = np.logaddexp(log_n[:, :-1] + upper, log_n[:, 1:] + lower)
        pieces = np.where(np.isfinite(log_width), pieces, -np.inf)  # a piece of width 0 (t_x = T): none
        terms = np.concatenate([(log_n[:, -1] + log_s[..., -1])[..., None], pieces], axis=-1)  # alive at T first
        top = terms.max(axis=-1)  # finite (the alive term is): the sum relative to the largest term
        return top + np.log(np.exp(terms - top[..., None]).sum(axis=-1))

def _log_died_term(x: np.ndarray, t: np.ndarray, r: float, alpha: float, s: float, beta: float) -> np.ndarray:
    """log of ``int_0^t s beta^s (beta+tau)^-(s+1) NB(x; r, alpha/(alpha+tau)) dtau`` (see probability_of_purchases)."""
    k = alpha / beta - 1.0
    eta_t = np.log(t) - np.log(alpha)  # logit of t / (alpha + t)
    xp1 = x + 1.0
    shift = np.log(alpha) - np.log(beta)  # q(eta) = expit(eta + shift)

    def dlog(eta: np.ndarray, idx=None) -> np.ndarray:
        sig = special.expit(eta)
        q = special.expit(eta + shift)
        xi = xp1 if idx is None else xp1[idx, None]
        return xi * (1.0 - sig) - (r - 1.0) * sig - (s + 1.0) * q

    def log_f(eta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        sig = special.expit(eta)
        return (
            -xp1[idx, None] * np.logaddexp(0.0, -eta) - (r + s) * np.logaddexp(0.0, eta)
            - (s + 1.0) * np.log1p(k * sig)
        )

    sq1 = np.sqrt(x + r)
    sq2 = np.sqrt(s + 1.0)

    def coord(eta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return (
            eta / 3.0
            + sq1[idx, None] * np.arctan(np.exp(0.5 * eta))
            + sq2 * np.arctan(np.exp(0.5 * (eta + shift)))
        )

    # the log integrand is concave (second derivative -(x+r) sig(1-sig) - (s+1) q(1-q)): its
    # derivative falls from x+1 (eta -> -inf) to -(r+s); the mode is found by bisection
    lo = np.minimum(eta_t, min(0.0, -shift)) - np.log(x + r + s + 2.0) - 60.0 / xp1 - 10.0
    hi_b = np.maximum(eta_t, 0.0) + np.log(x + r + s + 2.0) + 60.0 / min(r + s, 1.0) + 10.0
    lo_b = lo.copy()
    for _ in range(100):
        mid = 0.5 * (lo_b + hi_b)
        up = dlog(mid) > 0
        lo_b = np.where(up, mid, lo_b)
        hi_b = np.where(up, hi_b, mid)
    mode = 0.5 * (lo_b + hi_b)
    lo = np.minimum(lo, mode - 1.0)
    hi = np.maximum(eta_t, lo + 1e-12)
    out = np.full(x.shape, -np.inf)
    for idx, eta, log_w in unimodal_nodes(log_f, coord, lo, hi, mode):
        out[idx] = special.logsumexp(log_w, axis=1)
    const = special.gammaln(r + x) - special.gammaln(r) - special.gammaln(x + 1.0) + np.log(s) + np.log(alpha) - np.log(beta)
    return const + out
