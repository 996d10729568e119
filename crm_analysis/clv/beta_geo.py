"""The BG/NBD model (Fader, Hardie & Lee 2005).

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
the easy way: an alternative to the Pareto/NBD model. *Marketing Science*
24(2), 275-284. Equation numbers below refer to that paper.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from ._beta_mix import beta_geometric_expectation
from .common_dropout import GeometricNBDModel
from ._special import CountSums, alive_product, log1pexp, log1pexp_and_expit
from .two_point_dropout import TwoPointGeometricNBDModel
from ._validation import check_times as _check_times
from ._validation import distinct_values
from .base import BaseTransactionModel, collapse_rows, wdot, predicts_from_common_limit
from .nbd import NBDModel, _check_counts_and_times, nbd_pmf, nbd_sf
from .simulate import simulate_bgnbd, simulate_nbd

__all__ = ["BetaGeoModel"]


class BetaGeoModel(BaseTransactionModel):
    """Beta-geometric/NBD model of repeat purchasing.

    While alive a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``;
    after every repeat purchase he drops out with probability
    ``p ~ Beta(a, b)``.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`). With a positive
        penalty the boundary is never the optimum and is not checked.
    detect_boundary : bool, default True
        Check first whether the likelihood is maximised in the no-dropout
        limit (``a -> 0`` or ``b -> inf``, the NBD model) and fit that limit
        directly if so (see ``boundary_``). ``False`` runs the optimiser on
        the four parameters whatever the data.

    boundary_test_level : float or None, default None
        With a level (e.g. 0.05): keep the no-dropout limit (the NBD model)
        also when the full model is better, but not significantly: when the
        likelihood-ratio statistic ``2 (LL_full - LL_NBD)`` is below the
        critical value of the 50:50 mixture of chi-square(0) and
        chi-square(1), the null distribution for one parameter on the
        boundary (Self & Liang 1987, JASA 82, 605-610; 2.71 at 0.05).
        ``boundary_`` then gives the statistic and its p-value. ``None``
        (default): the no-dropout limit only where it is the maximum (or
        within 1e-3 of it in log-likelihood). The two-point-dropout limit
        (``a, b -> 0``: a share of customers drops out for certain, the rest
        never) is always tested against the no-dropout limit, in which it is
        nested at share 0, at this level, and at 0.05 when it is ``None``: on
        data without dropout it is better by chance in about half the
        samples. So with ``None`` the no-dropout limit is also kept where the
        two-point limit is better, but not significantly at 0.05
        (``boundary_`` gives the test).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``. After a boundary fit ``a, b`` hold the
        limit: ``a = 0, b = inf`` (no dropout), ``a = b = inf`` (common
        dropout) or ``a = b = 0`` (two-point dropout); the limit's own dropout
        parameter (``p``, ``pi``) is in ``limit_model_.params_``.
    boundary_ : str or None
        ``None`` (an interior fit), or which limit the fit is and why, with
        the other limits fitted and their log-likelihoods
        (:meth:`boundary_kind` names the limit).
    limit_model_ : NBDModel, GeometricNBDModel, TwoPointGeometricNBDModel or None
        The fitted limit after a boundary fit: the NBD model (no dropout),
        :class:`~crm_analysis.clv.GeometricNBDModel` (one
        dropout probability ``p = a/(a+b)`` for everyone) or
        :class:`~crm_analysis.clv.TwoPointGeometricNBDModel` (a share ``pi``
        drops out at the first repeat purchase, the rest never); its
        predictions are the model's.
    not_identified_ : list of str
        Parameters whose log-scale standard error exceeds 3.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Examples
    --------
    >>> model = BetaGeoModel().fit(summary)  # doctest: +SKIP
    >>> model.expected_purchases(52, summary)  # doctest: +SKIP
    """

    _limit_model_class = NBDModel
    _ridge_model_class = GeometricNBDModel
    _two_point_model_class = TwoPointGeometricNBDModel
    _excess_zeros_test = False  # MBG/NBD too (base: _excess_zeros_test)

    _param_names = ("r", "alpha", "a", "b")
    _analytic_gradient = True

    def __init__(
        self, *, penalizer: float = 0.0, detect_boundary: bool = True, boundary_test_level: float | None = None
    ) -> None:
        super().__init__(penalizer=penalizer)
        self.detect_boundary = detect_boundary
        self.boundary_test_level = boundary_test_level

    # ---- likelihood ------------------------------------------------------
    def _prepare(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple:
        """Index structure of the likelihood, computed once per fit.

        Everything that does not depend on the parameters is done here: the
        split into customers with and without repeat purchases and, for the
        repeat buyers, the distinct values of ``x``, ``t_x`` and ``T`` with
        the index of each row into them. The functions of ``alpha`` or ``b``
        that the likelihood needs (``log(alpha + T)``, ``log(b + x - 1)``, ...)
        are then evaluated on the few distinct values and gathered, so that
        per row only one ``log1p(exp(.))`` and one logistic remain.
        """
        ux, inv = distinct_values(x)
        idx0 = np.flatnonzero(x == 0)
        idx1 = np.flatnonzero(x > 0)
        x1, tx1, T1 = x[idx1], t_x[idx1], T[idx1]
        uT1, iT1 = distinct_values(T1)
        utx1, itx1 = distinct_values(tx1)
        ux1, ix1 = distinct_values(x1)
        cache: dict = {}
        # T - t_x per repeat buyer (the numerator of the log1p in every evaluation: uT1[iT1] - utx1[itx1], the same
        # numbers, gathered and subtracted once here)
        return (x, t_x, T, ux, inv, idx0, idx1, T[idx0], x1, tx1, T1, uT1, iT1, utx1, itx1, ux1, ix1, T1 - tx1, cache)

    @staticmethod
    def _weight_terms(arrays, weights: np.ndarray) -> dict:
        """Parameter-free weighted sums, cached per weight array."""
        cache = arrays[-1]
        if cache.get("weights") is not weights:
            inv, idx0, idx1, x1 = arrays[4], arrays[5], arrays[6], arrays[8]
            w1 = weights[idx1]
            cache.clear()
            cache.update(
                weights=weights,
                W=np.bincount(inv, weights=weights, minlength=arrays[3].size),
                w0=weights[idx0],
                w1=w1,
                w1x1=w1 * x1,
                Wtot=float(weights.sum()),
            )
            iT1, n_T = arrays[12], arrays[11].size
            cache["BT_w1"] = np.bincount(iT1, weights=w1, minlength=n_T)
            cache["sums"] = CountSums(arrays[3], cache["W"])
            cache["BT_w1x1"] = np.bincount(iT1, weights=cache["w1x1"], minlength=n_T)
        return cache

    def _weighted_loglik(
        self, log_params: np.ndarray, arrays, weights: np.ndarray, keep: dict | None = None, gradient: bool = True
    ) -> tuple[float, np.ndarray | None]:
        """Weighted log-likelihood (eq. 6) and gradient, summing x-only terms per distinct x.

        ``keep``: a dict that receives the per-row logistic ``sigma`` of the ``log(1 + e^d)`` terms,
        ``d``'s derivative in ``r`` (``diff``) and ``r + x`` (``rx``), and with the gradient the reciprocals
        ``1/(alpha + T)`` of the ``x = 0`` rows (``i0``), ``1/(alpha + T)``, ``1/(alpha + t_x)``, ``1/(b + x - 1)``
        on the repeat buyers' distinct values (``iTu``, ``itxu``, ``ibu``), for :meth:`_weighted_loglik_hessian`
        (the same arrays it needs: computed once).
        ``gradient=False``: the log-likelihood only (the same operations; the gradient ``None``).
        """
        (_, _, _, _, _, _, idx1, T0, x1, tx1, _, uT1, iT1, utx1, itx1, ux1, ix1, gap1, _) = arrays
        r, alpha, a, b = np.exp(log_params)
        wt = self._weight_terms(arrays, weights)
        w0, w1, w1x1, Wtot = wt["w0"], wt["w1"], wt["w1x1"], wt["Wtot"]
        # the weighted sums over x of the gammaln / digamma differences (exact for huge r, b, a + b)
        sums = wt["sums"]
        # r log(alpha) - r log(alpha + T) = -r log1p(T / alpha) on every row: written so, it does not cancel for
        # huge r and alpha (the Poisson limit r -> inf; findings_12n F4: 0.33 too high at r = 2.7e10 on 2,000 rows)
        l1p_T0 = np.log1p(T0 / alpha)
        ll = sums.log_rising(r) + sums.log_rising(b) - sums.log_rising(a + b) - r * wdot(w0, l1p_T0)
        if gradient:
            d_ab = sums.digamma_difference(a + b)
            g_r = sums.digamma_difference(r) - wdot(w0, l1p_T0)
            i0 = 1.0 / (alpha + T0)
            g_alpha = Wtot * r / alpha - r * wdot(w0, i0)
            if keep is not None:
                keep["i0"] = i0
            g_a = -d_ab
            g_b = sums.digamma_difference(b) - d_ab
        if idx1.size:
            # functions of the parameters on the distinct values, gathered per row; sums of terms
            # that depend on T only are taken per distinct T (BT_*)
            lT1u = np.log(alpha + uT1)
            l1p_T1u = np.log1p(uT1 / alpha)
            # log((alpha + T) / (alpha + t_x)), exact also for alpha >> T (no difference of two logarithms)
            diff = np.log1p(gap1 / (alpha + tx1))
            # log L = ... - (r+x) log(alpha+T) + log(1 + e^d),  d = log(a/(b+x-1)) + (r+x) diff
            rx1 = r + x1
            d = rx1 * diff
            d += (np.log(a) - np.log(b + (ux1 - 1.0)))[ix1]
            if gradient or keep is not None:
                softplus, w2 = log1pexp_and_expit(d)
            else:  # the value alone (the starts): the same softplus without the logistic
                softplus = log1pexp(d)
            s_lT = float(wt["BT_w1"] @ l1p_T1u)
            ll += -r * s_lT - float(wt["BT_w1x1"] @ lT1u) + wdot(w1, softplus)
            if keep is not None:
                keep.update(sigma=w2, diff=diff, rx=rx1)
            if not gradient:
                return ll, None
            ww2 = w1 * w2
            g_r -= s_lT - wdot(ww2, diff)
            # sum_i w_i (r+x_i) [(1-w2_i)/(alpha+T_i) + w2_i/(alpha+t_x_i)], summed per distinct T and t_x
            wrx2 = rx1 * ww2
            n_T, n_tx = uT1.size, utx1.size
            sT = r * wt["BT_w1"] + wt["BT_w1x1"] - np.bincount(iT1, weights=wrx2, minlength=n_T)
            stx = np.bincount(itx1, weights=wrx2, minlength=n_tx)
            iTu, itxu, ibu = 1.0 / (alpha + uT1), 1.0 / (alpha + utx1), 1.0 / (b + (ux1 - 1.0))
            g_alpha -= wdot(sT, iTu) + wdot(stx, itxu)
            s_x = np.bincount(ix1, weights=ww2, minlength=ux1.size)  # sum of w * P(dropped out | x) per distinct x
            g_a += float(s_x.sum()) / a
            g_b -= float(s_x @ ibu)
            if keep is not None:
                keep.update(iTu=iTu, itxu=itxu, ibu=ibu)
        if not gradient:
            return ll, None
        return ll, np.array([r * g_r, alpha * g_alpha, a * g_a, b * g_b])

    def _weighted_loglik_value(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> float:
        """Weighted log-likelihood without the gradient (:meth:`_weighted_loglik` with ``gradient=False``: the same
        value bit for bit, at about half the cost; the fit's starts are chosen by it)."""
        return self._weighted_loglik(log_params, arrays, weights, gradient=False)[0]

    _analytic_hessian = True

    def _weighted_loglik_hessian(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Weighted log-likelihood with its gradient and Hessian in the log parameters (eq. 6).

        The Hessian is analytic: the trigamma sums of the gamma-function ratios
        (:meth:`CountSums.trigamma_difference <crm_analysis.clv._special.CountSums.trigamma_difference>`),
        the terms in ``alpha`` and, for each repeat buyer's ``log(1 + e^d)``,
        ``sigma (1 - sigma) d' d'^T + sigma d''`` with ``sigma`` the logistic of ``d``
        (:func:`_dropout_hessian`). Checked against finite differences of the
        gradient and against mpmath in ``tests/clv/test_newton.py``.
        """
        (_, _, _, _, _, _, idx1, T0, _, _, _, uT1, iT1, utx1, itx1, ux1, ix1, _, _) = arrays
        keep: dict = {}
        ll, g_log = self._weighted_loglik(log_params, arrays, weights, keep=keep)
        p = np.exp(log_params)
        r, alpha, a, b = p
        wt = self._weight_terms(arrays, weights)
        sums, w0, Wtot = wt["sums"], wt["w0"], wt["Wtot"]
        H = np.zeros((4, 4))
        tri_ab = sums.trigamma_difference(a + b)
        H[0, 0] = sums.trigamma_difference(r)
        H[2, 2] = H[2, 3] = H[3, 2] = -tri_ab
        H[3, 3] = sums.trigamma_difference(b) - tri_ab
        # r log(alpha) - (r + x) log(alpha + T) over all rows (x = 0 rows and, per distinct T, the repeat buyers)
        i0 = keep["i0"]
        iTu = keep["iTu"] if idx1.size else 1.0 / (alpha + uT1)
        H[0, 1] = H[1, 0] = Wtot / alpha - wdot(w0, i0) - wdot(wt["BT_w1"], iTu)
        H[1, 1] = -Wtot * r / alpha**2 + r * wdot(w0, i0 * i0) + wdot(r * wt["BT_w1"] + wt["BT_w1x1"], iTu * iTu)
        if idx1.size:
            H += _dropout_hessian(keep, wt["w1"], a, iTu, iT1, keep["itxu"], itx1, keep["ibu"], ix1)
        return ll, g_log, _log_scale_hessian(H, g_log, p)

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        rate, _ = self._start_scales(arrays, weights)
        # a few spread-out starts; the best by likelihood is used (each costs one evaluation)
        starts = [np.log([r, r / rate, a, b]) for r, a, b in ((0.3, 0.5, 2.0), (1.0, 1.0, 1.0), (0.3, 2.0, 10.0))]
        starts.append(np.zeros(4))
        # small a, b (a U-shaped Beta: most customers drop out almost surely or almost never): the likelihood can
        # have a second maximum there, apart from the one near a ~ 1-2 or the common-dropout ridge (a, b -> inf)
        # (MBG/NBD: a = 0.06, b = 0.24 vs a = 1.8, b = 87, 2.9 apart; findings_12n F1, F2b)
        starts += [np.log([r, r / rate, a, b]) for r, a, b in self._SMALL_DROPOUT_STARTS]
        return starts

    #: (r, a, b) of the starts in the small-a,b basin (alpha = r / the mean purchase rate); the other starts are
    #: the large-a,b basin's. :meth:`_start_basin` tells them apart.
    _SMALL_DROPOUT_STARTS = ((1.0, 0.05, 0.3), (1.0, 0.1, 0.1))

    def _start_basin(self, log_params: np.ndarray) -> str:
        """``"small"`` for a start with ``a + b < 1`` (the U-shaped Beta basin), else ``"large"``."""
        a, b = np.exp(np.asarray(log_params, float)[2:4])
        return "small" if a + b < 1.0 else "large"

    #: ``a`` below which ``a`` or ``b`` not identified is the way to the no-dropout limit (``a -> 0``: little
    #: dropout, e.g. Online Retail a = 0.002-0.003), which the boundary check compares, not another basin
    _OTHER_BASIN_MIN_A = 0.1
    #: ``a`` below which an interior fit that started in the large-``a, b`` basin and ended there (``a + b >= 1``:
    #: a J-shaped Beta, most customers almost never drop out) is refitted from the small-``a, b`` basin too: a
    #: U-shaped maximum there can be the better one (MBG/NBD true (0.3, 3, 0.03, 0.4), 2,000 customers: seed 74
    #: a = 0.064, b = 10.1, 0.152 below a = 0.017, b = 0.079; seed 71 a = 0.075, b = 15.2, 0.71 below; seed 82
    #: a = 0.020, b = 2.9, 0.85 below; findings_12p F1; true (0.3, 3, 0.2, 2), 500 customers, seed 207: a = 0.35,
    #: b = 11.1, 0.32 below a = 0.073, b = 0.12). CDNOW (a = 0.79-0.89) stays above it; Online Retail (a =
    #: 0.002-0.003, b = 6.7-11.9) starts in the small basin, so neither pays for a refit.
    _SMALL_BASIN_CHECK_MAX_A = 0.5

    def _two_point_worth_comparing(self, x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> bool:
        """As the base model, but ``a`` or ``b`` not identified with ``a < _OTHER_BASIN_MIN_A`` is the way to the no-dropout limit.

        There the boundary check compares the no-dropout limit, and the two-point limit (``a, b -> 0``
        together) lies the other way (the rule of :meth:`_needs_other_basin`); on Online Retail (a = 0.002-0.003,
        b = 6.7-11.9, a and b not identified) the two-point fit took a third of the fit's time for nothing.
        MBG/NBD alike (on the 34 zero-inflated data sets of findings_12p the result is the same without it).
        """
        if float(self.params_.to_numpy(float)[2]) < self._OTHER_BASIN_MIN_A:  # a (a lookup by name costs ~30 us)
            return False
        return super()._two_point_worth_comparing(x, T, counts)

    def _needs_other_basin(self) -> bool:
        """Whether the fit may sit in the wrong basin (then it is fitted again from the other one).

        A boundary limit reached by a full fit, ``a`` or ``b`` not identified with ``a >=
        _OTHER_BASIN_MIN_A`` (findings_12n F2b: a = 1.8, b = 87), or ``a`` or ``b`` off on a ridge
        (``|log| > 12``), or a fit that started in the small-``a, b`` basin and ended there (``a + b <
        1``): that basin's maximum, however well identified, is not compared with the other basin's
        maximum or with the common-dropout limit it leads to otherwise (findings_12o A: a = 0.049,
        b = 0.27, 1.92 below the common-dropout limit); and its mirror image, a fit that started in the
        large basin and ended there with ``a < _SMALL_BASIN_CHECK_MAX_A`` (a J-shaped Beta), identified or
        not, that never saw the small basin's U-shaped maximum (findings_12p F1: a = 0.064, b = 10.1, 0.152
        below a = 0.017, b = 0.079, no warning). Not: the no-dropout limit kept by the derivative
        test without a full fit (data without dropout, e.g. Online Retail to 2011-09-09: the refit would
        double the cost), nor a small-basin start that ended with ``a + b >= 1`` (Online Retail: a = 0.002,
        b = 6.7-11.9, on the way to the no-dropout limit, which the first fit compares).
        """
        used = getattr(self, "_start_used", None)
        if getattr(self, "boundary_", None):
            return used is not None
        a, b = (float(v) for v in self.params_.to_numpy(float)[2:4])  # (a list lookup by name costs ~0.3 ms)
        if used is not None and self._start_basin(used) == "small" and a + b < 1.0:
            return True
        if (used is not None and self._start_basin(used) == "large" and a + b >= 1.0
                and a < self._SMALL_BASIN_CHECK_MAX_A):
            return True
        if {"a", "b"} & set(getattr(self, "not_identified_", []) or []) and a >= self._OTHER_BASIN_MIN_A:
            return True
        with np.errstate(divide="ignore"):
            lp = np.log(self.params_.to_numpy(float)[2:4])
        return bool(not np.all(np.isfinite(lp)) or np.any(np.abs(lp) > self._NEWTON_REGION))


    #: the other-basin screen (:meth:`_other_basin_start`) asks for a refit where its climb comes within this of
    #: the fit's log-likelihood (as the common-dropout screen, ``_RIDGE_SCREEN_MARGIN``)
    _OTHER_BASIN_SCREEN_MARGIN = 1.0

    def _other_basin_start(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
        """Screen an interior fit that :meth:`_needs_other_basin` passes against the basins it did not climb; the refit's start, or ``None``.

        :meth:`_needs_other_basin` refits where the fit started and ended in the small-``a, b``
        basin, or in the large one with ``a < _SMALL_BASIN_CHECK_MAX_A``; the other cases were left
        unchecked: a large-basin fit with ``a`` just above that (findings_12c, MBG/NBD pn 1792: ``a =
        0.504, b = 11.2``, 2.50 below ``a = 0.120, b = 0.034``; pnL 1799: ``a = 0.545``, 1.48 below),
        and a fit that started in the large basin and ended in the small one (BG/NBD pn 1794: ``a =
        0.027, b = 0.66``, 0.018 below ``a = 0.119, b = 10.5``). This screen covers them: from the
        best (by the first fit's values, :attr:`_start_values`) of the model's starts in the basin the
        fit did not end in (``_start_basin``, other than the start used), Newton steps on the full
        likelihood (:func:`_newton_screen`, the Hessian's eigenvalues taken by absolute value far from a
        maximum) climb while they stay in that basin. The refit (from the last iterate) is asked for
        where an iterate comes within ``_OTHER_BASIN_SCREEN_MARGIN`` of the fit's log-likelihood or the
        climb does not settle; not where a step leaves the basin (the climb from that basin's start runs
        to the fit's basin: CDNOW, sample and master, weeks and days, the first step from ``a = 0.05,
        b = 0.3`` goes to ``a + b > 1``, one Hessian evaluation), nor where the iterate plus its Newton
        decrement stays below that (:func:`_newton_screen`).

        A fit that left the basin it started in has climbed that basin (from its best start, the one
        used), but not the basin it ended in, which can hold a second, higher maximum (findings_12d,
        MBG/NBD pnL 1814: from a large start to ``a = 0.111, b = 0.818``, 5.81 below ``a = 0.091, b =
        0.010``, which both small starts reach). Where the first climb does not ask for a refit, the
        best start of the basin the fit ended in is climbed too, inside that basin; there the climb may
        run into the fit's own maximum, so it asks for the refit only where an iterate rises above the
        fit's log-likelihood by ``_LIMIT_LL_TOL`` (the refit's own threshold) or does not settle, and
        ends with "no" at convergence below or where the iterate plus its decrement stays below.

        Coverage (start basin x end basin, interior fits; each basin stands for its best start by
        value, the start used for its own basin: the other starts of a basin are not climbed, a
        heuristic; a second maximum that only a lesser start of the same basin reaches is missed):

        * small -> small, large -> large with ``a < _SMALL_BASIN_CHECK_MAX_A``: the other basin's
          best start refitted (:meth:`_needs_other_basin`), not screened here;
        * large -> large with ``a >= _SMALL_BASIN_CHECK_MAX_A``: the small basin screened;
        * large -> small: the next large start screened, then the best small start climbed;
        * small -> large with ``a >= _OTHER_BASIN_MIN_A``: the next small start screened, then the best
          large start climbed;
        * small -> large with ``a < _OTHER_BASIN_MIN_A`` (little dropout, on the way to the no-dropout
          limit; Online Retail ``a = 0.002-0.003``): not screened here (a climb to the fit's point
          costs a fit); the no-dropout limit is compared by the boundary check and the common-dropout
          limit screened (:meth:`_ridge_limit_may_be_higher`), a second J-shaped maximum in the large
          basin is not sought (a heuristic gap);
        * limits: the no-dropout limit by the boundary check of every fit, the two-point limit where
          ``a + b < _TWO_POINT_START``, the common-dropout limit compared for every interior fit in
          the small basin and screened for every one in the large basin (:meth:`_ridge_comparison`).

        Boundary limits and not converged fits (:meth:`_needs_other_basin` decides those), and
        penalised fits, are not screened.
        """
        used = getattr(self, "_start_used", None)
        if used is None or getattr(self, "boundary_", None) or self.penalizer != 0 or not self.converged_:
            return None
        a, b = (float(v) for v in self.params_.to_numpy(float)[2:4])
        if not (np.isfinite(a + b) and a > 0.0 and b > 0.0):
            return None
        ended = "small" if a + b < 1.0 else "large"
        if ended == "large" and a < self._OTHER_BASIN_MIN_A:
            return None
        prepared = self._rows_prepared(x, t_x, T)
        kept = getattr(self, "_start_values", None)
        starts, values = kept if kept is not None else (self._initial_log_params(prepared, counts), None)
        if values is None:
            fun, _ = self._objective_factory(prepared, counts)
            values = {i: fun(np.asarray(s0, float)) for i, s0 in enumerate(starts)}

        def terms(theta: np.ndarray, hessian: bool) -> tuple[float, np.ndarray | None, np.ndarray | None]:
            with np.errstate(all="ignore"):
                if hessian:
                    return self._weighted_loglik_hessian(theta, prepared, counts)
                return float(self._weighted_loglik(theta, prepared, counts)[0]), None, None

        def climb(basin: str, floor: float) -> np.ndarray | None:
            """Newton climb from the best start in ``basin`` (not the one used), kept inside it: the last iterate where it may reach above ``floor``."""
            pick = [i for i, s0 in enumerate(starts) if self._start_basin(s0) == basin and not np.array_equal(s0, used)]
            if not pick:
                return None
            best = min(pick, key=lambda i: values[i])
            if not values[best] < 1e300:
                return None
            higher, theta = _newton_screen(
                terms, np.asarray(starts[best], float), floor, self._NEWTON_STEP_MAX,
                inside=lambda lp: self._start_basin(lp) == basin,
            )
            return theta if higher else None

        other = "large" if ended == "small" else "small"
        theta = climb(other, self.log_likelihood_ - self._OTHER_BASIN_SCREEN_MARGIN)
        if theta is None and self._start_basin(used) != ended:
            # the fit left the basin it started in: the basin it ended in was never climbed from its own start and
            # can hold a second, higher maximum (findings_12d, MBG/NBD pnL 1814: from a large start to a = 0.111,
            # b = 0.818; the small starts reach a = 0.091, b = 0.010, 5.81 higher). The climb runs into the fit's
            # own maximum where that is the only one: it must rise above the fit's log-likelihood (by
            # _LIMIT_LL_TOL, the refit's own threshold) to ask for the refit
            theta = climb(ended, self.log_likelihood_ + self._LIMIT_LL_TOL)
        return theta


    # ---- no-dropout boundary ----------------------------------------------
    def _limit_params(self) -> dict[str, float]:
        return {"a": 0.0, "b": float("inf")}

    def _at_dropout_limit(self) -> bool:
        a, b = self.params_.to_numpy()[2:4]
        return bool((a == 0.0 and b != 0.0) or (np.isinf(b) and np.isfinite(a)))  # a = b = 0: the two-point limit

    # ---- two-point-dropout boundary (a, b -> 0, a / (a + b) = pi) --------------
    #: a + b below which the fit counts as near the two-point limit (Beta(a, b) then puts almost all its
    #: mass within 1e-3 of 0 and 1); the limit is fitted and kept only when it is at least as good
    _TWO_POINT_START = 0.1

    def _near_two_point(self, T: np.ndarray, counts: np.ndarray) -> bool:
        a, b = self.params_.to_numpy(float)[2:4]
        return bool(np.isfinite(a + b) and a + b < self._TWO_POINT_START)

    def _two_point_params(self) -> dict[str, float]:
        return {"a": 0.0, "b": 0.0}

    def _two_point_start(self) -> tuple[float, float, float]:
        r, alpha, a, b = self.params_.to_numpy(float)
        return float(r), float(alpha), float(np.clip(a / (a + b), 1e-6, 0.99))

    def _two_point_full_start(self, limit) -> np.ndarray:
        r, alpha, pi = limit.params_.to_numpy(float)
        eps = 1e-3  # a + b: Beta(a, b) then within 1e-3 of the two points
        return np.log([r, alpha, max(pi, 1e-6) * eps, max(1.0 - pi, 1e-6) * eps])

    # ---- common-dropout ridge (a, b -> inf, a / (a + b) = p) ------------------
    def _ridge_heterogeneity(self, log_params: np.ndarray) -> float:
        # math.exp: called at every optimiser iteration; min(., 700): no OverflowError (past the threshold anyway)
        return math.exp(min(float(log_params[2]), 700.0)) + math.exp(min(float(log_params[3]), 700.0))

    def _ridge_params(self) -> dict[str, float]:
        return {"a": float("inf"), "b": float("inf")}

    def _ridge_neighbour(self, r: float, alpha: float, dropout: float) -> np.ndarray:
        s = 0.5 * self._RIDGE_START  # a + b below the ridge watch: the full fit climbs from there
        return np.log([r, alpha, dropout * s, (1.0 - dropout) * s])

    def _needs_ridge_comparison(self) -> bool:
        """An interior fit in the small-``a, b`` basin (``a + b < 1``): compared with the common-dropout limit."""
        if getattr(self, "boundary_", None):
            return False
        a, b = (float(v) for v in self.params_.to_numpy(float)[2:4])  # (a list lookup by name costs ~0.3 ms)
        return bool(np.isfinite(a) and np.isfinite(b) and a + b < 1.0)

    #: ``a + b`` at which :meth:`_ridge_limit_may_be_higher` evaluates the model as its common-dropout limit (the
    #: log-likelihood there differs from the limit's by about ``n / (a + b)`` times the ridge score per customer)
    _RIDGE_SCREEN_HETEROGENEITY = 1e8
    #: the screen asks for the limit's full fit where the limit's maximum found by its Newton iteration is within
    #: this of the fit's log-likelihood (CDNOW: 21-273 below; findings_12s F3: 0.098 above)
    _RIDGE_SCREEN_MARGIN = 1.0

    def _ridge_limit_may_be_higher(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> bool:
        """Screen an interior fit with ``a + b >= 1`` against the common-dropout limit by a Newton maximisation of the limit.

        An identified interior maximum in the large-``a, b`` basin can lie below the common-dropout
        limit (``a, b -> inf``) and is then a local maximum only (findings_12s F3, MBG/NBD: ``a =
        1.006, b = 1.40``, converged, 0.098 below the limit; lifetimes 0.11.3 stops at the same point).
        The limit's full fit (:meth:`_fit_ridge_limit`, several starts, standard errors) costs about as
        much as the fit itself, so this screen maximises the limit's log-likelihood with Newton steps
        on the model's own analytic gradient and Hessian at ``a + b = _RIDGE_SCREEN_HETEROGENEITY``,
        ``a / (a + b) = p`` (the chain rule to ``(log r, log alpha, log p)``), from the fit's ``(r,
        alpha, a / (a + b))``, with Armijo backtracking. It answers ``True`` (the full comparison of
        :meth:`_ridge_comparison` runs) as soon as an iterate is within ``_RIDGE_SCREEN_MARGIN`` of the
        fit's log-likelihood, or where the iteration does not settle (a value not finite, a Hessian
        not negative definite, 30 iterations); ``False`` when an iterate plus its Newton decrement
        ``g' (-H)^-1 g`` (twice the rise the quadratic model predicts) stays below that, or at
        convergence (decrement below ``1e-8``) below it. The factor two is a heuristic safety
        factor, not a bound: on F3 the rise to the limit's maximum from the first three iterates
        was 1.01, 1.50 and 1.27 times the quadratic model's.

        Every interior fit with ``a + b >= 1`` is screened (those with ``a + b < 1`` are compared
        without a screen, :meth:`_needs_ridge_comparison`). Fits with ``a < _OTHER_BASIN_MIN_A`` (a
        J-shaped Beta, little dropout; Online Retail ``a = 0.002-0.003``) were once left out as "on the
        way to the no-dropout limit, which the boundary check compares"; but the common-dropout limit
        can be above such a fit where the no-dropout limit is not (findings_12d / 12c, MBG/NBD bgA 1806:
        ``a = 0.067, b = 1.23``, 0.374 below the limit at ``p = 0.0066``; BG/NBD mbgA 1809: ``a =
        0.0036``, 0.081 below; mbgA 1792: ``a = 0.031``, 0.012 below). For them the margin is 0 (with
        ``boundary_test_level`` ``_RIDGE_SCREEN_MARGIN``, as the comparison may keep a limit that is
        not significantly below): the limit matters only where it is above the fit, and on Online
        Retail the limit's maximum (at ``p ~ 1e-5``, where it runs to the no-dropout limit's
        log-likelihood) is only 0.12 (BG/NBD) or 0.018 (MBG/NBD) below the fit, within any margin, so
        a margin would send every such fit to the limit's full fit; with margin 0 the first iterate
        plus its decrement stays below the fit (one Hessian evaluation). A limit whose maximum runs to
        ``p -> 0`` and is within the decrement of the fit makes the Hessian singular there: the
        comparison then runs (undecided), correct but not cheap.
        CDNOW (sample, master; weeks, days): 1 (BG/NBD) or 2 (MBG/NBD) Hessian evaluations, no other, the
        limit 21-273 below; F3 goes on to the comparison, which keeps the limit.
        """
        if getattr(self, "boundary_", None) or self.penalizer != 0:
            return False
        r, alpha, a, b = (float(v) for v in self.params_.to_numpy(float))
        if not (np.isfinite(a + b) and a + b >= 1.0):
            return False
        prepared = self._rows_prepared(x, t_x, T)
        log_s = math.log(self._RIDGE_SCREEN_HETEROGENEITY)
        little_dropout = a < self._OTHER_BASIN_MIN_A and getattr(self, "boundary_test_level", None) is None
        floor = self.log_likelihood_ - (0.0 if little_dropout else self._RIDGE_SCREEN_MARGIN)

        def full(theta: np.ndarray) -> np.ndarray:
            return np.array([theta[0], theta[1], log_s + theta[2], log_s + math.log1p(-math.exp(theta[2]))])

        def terms(theta: np.ndarray, hessian: bool) -> tuple[float, np.ndarray | None, np.ndarray | None]:
            """Log-likelihood (and, with ``hessian``, gradient and Hessian in ``theta``) at ``a + b = S``."""
            if not theta[2] < -1e-12:
                return -math.inf, None, None
            with np.errstate(all="ignore"):
                if not hessian:
                    return float(self._weighted_loglik(full(theta), prepared, counts)[0]), None, None
                ll, g4, H4 = self._weighted_loglik_hessian(full(theta), prepared, counts)
            p = math.exp(theta[2])
            J = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -p / (1.0 - p)]])
            H = J.T @ H4 @ J
            H[2, 2] -= g4[3] * p / (1.0 - p) ** 2  # d2 log b / d (log p)2 = -p / (1 - p)^2
            return float(ll), J.T @ g4, H

        return _newton_screen(terms, np.log([r, alpha, a / (a + b)]), floor, self._NEWTON_STEP_MAX)[0]

    def _ridge_start(self, log_params: np.ndarray) -> tuple[float, float, float]:
        r, alpha, a, b = np.exp(log_params)
        return float(r), float(alpha), float(a / (a + b))

    def _extra_dropout(self) -> float:
        """1 for the MBG/NBD (a dropout chance at the first purchase too), 0 for the BG/NBD."""
        return 0.0

    def _dropout_score(self, r, alpha, x, t_x, T, w) -> tuple[float, str]:
        """Derivative of the log-likelihood in the mean dropout probability ``a/(a+b)``, at ``a = 0``.

        With ``rho = ((alpha+T)/(alpha+t_x))^(r+x)`` it is, per customer,
        ``b (psi(b) - psi(b+e+x)) + [x>0 or MBG] rho b/(b+e+x-1)`` (``e = 1`` for the
        MBG/NBD, 0 for the BG/NBD), and ``-x + rho`` (MBG/NBD: ``-(x+1) + rho``) in the
        limit ``b -> inf``. Returned: the largest value over ``b`` (per customer).
        """
        e = self._extra_dropout()
        W = float(w.sum())
        has_term = (x > 0) if e == 0 else np.ones(x.shape, bool)
        log_rho = (r + x) * np.log1p((T - t_x) / (alpha + t_x))
        rho_w = np.where(has_term, w * np.exp(np.minimum(log_rho, 700.0)), 0.0)
        limit = (float(rho_w.sum()) - wdot(w, x + e)) / W
        if limit > self._SCORE_TOL:
            return limit, "b -> inf"
        best, where = _max_over_log_grid(self._dropout_curve(r, alpha, x, t_x, T, w), -9.0, 20.0)
        if limit >= best:
            return limit, "b -> inf"
        return best, f"at b = {np.exp(where):.3g}"

    def _dropout_curve(self, r, alpha, x, t_x, T, w):
        """The derivative of :meth:`_dropout_score` as a function of ``log b`` (vectorised)."""
        e = self._extra_dropout()
        W = float(w.sum())
        has_term = (x > 0) if e == 0 else np.ones(x.shape, bool)
        log_rho = (r + x) * np.log1p((T - t_x) / (alpha + t_x))
        rho_w = np.where(has_term, w * np.exp(np.minimum(log_rho, 700.0)), 0.0)
        ux, ix = distinct_values(x)
        Wx = np.bincount(ix, weights=w, minlength=ux.size)
        Rx = np.bincount(ix, weights=rho_w, minlength=ux.size)

        ux_row = ux[None, :]
        rho_row = np.where(Rx > 0, Rx, 0.0)[None, :]  # (made once: the curve is evaluated on a 59-point grid and 9-29 times more)

        def score(log_b: np.ndarray) -> np.ndarray:
            b = np.exp(np.atleast_1d(log_b))[:, None]
            dig = b * (special.digamma(b) - special.digamma(b + e + ux_row))
            # b / (b + e + x - 1); for the BG/NBD the x = 0 rows carry no rho term (Rx = 0 there)
            frac = b / np.maximum(b + e + ux_row - 1.0, 1e-300)
            return (dig @ Wx + (frac * rho_row).sum(axis=1)) / W

        return score

    # ---- predictions -----------------------------------------------------
    def _alive_log_odds_inv(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """log of (1/P(alive) - 1); ``-inf`` for x = 0."""
        r, alpha, a, b = self.params_.to_numpy()
        rep = x > 0
        with np.errstate(divide="ignore"):
            val = np.log(a) - np.log(np.where(rep, b + (x - 1.0), 1.0)) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
        return np.where(rep, val, -np.inf)

    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        return np.exp(self._log_p_alive(x, t_x, T))

    def _log_p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``log P(alive) = -log(1 + e^z)`` with ``z`` :meth:`_alive_log_odds_inv`; 0 at the no-dropout limit.

        In log space: ``scipy.special.expit(-z)`` is 0 from ``z ~ 709`` on (it forms ``1 / (1 + e^z)``), where
        ``e^-z`` is still a (subnormal) number, and a product with a large expectation if alive can be far
        above 1e-300 (:meth:`expected_purchases_grid`).
        """
        if self._at_dropout_limit():
            return np.zeros(np.shape(x))
        return -log1pexp(self._alive_log_odds_inv(x, t_x, T))

    @predicts_from_common_limit
    def probability_alive(self, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Probability that each customer is still alive at ``T``.

        ``P(alive | x, t_x, T) = 1 / (1 + delta_{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
        (Fader, Hardie & Lee 2005; Fader & Hardie's note "Computing P(alive)
        using the BG/NBD model"), computed in log space; equal to 1 for
        ``x = 0`` and, after a boundary fit (no dropout), for everyone.

        Parameters
        ----------
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional ``frequency_col``, ``recency_col``, ``T_col`` overrides
            (default: the names used in ``fit``).

        Returns
        -------
        numpy.ndarray
            One probability per row.
        """
        d = self._data(data, **columns)
        return self._p_alive(d.x, d.t_x, d.T)

    def _posterior_b(self, x: np.ndarray) -> np.ndarray:
        """Second parameter of the beta posterior of ``p`` given alive with ``x`` repeat purchases."""
        return self.params_["b"] + x

    def _expected_if_alive(self, times: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``E[Y(t) | alive at T, x]`` for each row and horizon, shape ``(n, len(times))``.

        ``f(r+x, alpha+T, a, b+x; t)`` of :func:`._beta_mix.beta_geometric_expectation` (eq. 10
        without P(alive); the MBG/NBD uses ``b+x+1``), evaluated once per distinct ``(x, T)``;
        ``(r+x) t / (alpha+T)`` in the no-dropout limit.
        """
        r, alpha, a, _ = self.params_.to_numpy()
        x = np.asarray(x, float)
        T = np.asarray(T, float)
        if self._at_dropout_limit():
            return ((r + x) / (alpha + T))[:, None] * times[None, :]
        if x.size == 0:
            return np.zeros((0, times.size))
        (ux, uT), inv = _distinct_pairs(x, T)
        vals = beta_geometric_expectation(r + ux, alpha + uT, np.full(ux.size, a), self._posterior_b(ux), times)
        return vals[inv]

    @predicts_from_common_limit
    def expected_purchases(self, t: float, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected number of purchases in ``(T, T + t]`` (eq. 10).

        ``P(alive) E[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p]`` over the
        posterior ``p ~ Beta(a, b+x)``: the expectation is computed by
        quadrature of positive terms (:mod:`._beta_mix`), accurate to about
        1e-10 relative for all parameter values, including ``a = 1``,
        ``a + b < 1`` and very large ``a`` and ``b`` where eq. (10)'s
        hypergeometric form breaks down.

        Parameters
        ----------
        t : float
            Length of the future period (model time units), ``t >= 0``.
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional ``frequency_col``, ``recency_col``, ``T_col`` overrides.

        Returns
        -------
        numpy.ndarray
            One expectation per row of ``data``.
        """
        t = _check_times(t, scalar=True)
        return self.expected_purchases_grid([t], data, **columns)[:, 0]

    @predicts_from_common_limit
    def expected_purchases_grid(self, times, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected purchases at several horizons, shape ``(n, len(times))``.

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
        times = _check_times(times, name="times")
        d = self._data(data, **columns)
        log_p = self._log_p_alive(d.x, d.t_x, d.T)[:, None]
        # the product in log space where P(alive) is below 1e-300: P(alive) ~ 1e-309 with an expectation if alive of
        # 1e3 is a number, not the 0 of 0 * 1e3; elsewhere the plain product (bit for bit as before)
        return alive_product(np.exp(log_p), log_p, self._expected_if_alive(times, d.x, d.T))

    @predicts_from_common_limit
    def expected_purchases_new(self, t: float | np.ndarray) -> float | np.ndarray:
        """Expected purchases ``E[X(t)]`` of a just-acquired customer (eq. 7).

        ``E[(1 - (alpha/(alpha + p t))^r) / p]`` over ``p ~ Beta(a, b)``
        (:mod:`._beta_mix`); ``r t / alpha`` in the no-dropout limit.

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
        r, alpha, a, b = self.params_.to_numpy()
        if self._at_dropout_limit():
            out = r * t_arr / alpha
        else:
            out = self._new_customer_expectation(r, alpha, a, b, t_arr.ravel()).reshape(t_arr.shape)
        return float(out) if out.ndim == 0 else out

    @staticmethod
    def _new_customer_expectation(r: float, alpha: float, a: float, b: float, t: np.ndarray) -> np.ndarray:
        return beta_geometric_expectation(np.array([r]), np.array([alpha]), np.array([a]), np.array([b]), t)[0]

    @predicts_from_common_limit
    def probability_of_purchases(self, x: int | np.ndarray, t: float | np.ndarray) -> float | np.ndarray:
        """``P(X(t) = x)`` for a just-acquired customer (eq. 8).

        ``B(a, b+x)/B(a, b) NB(x) + [x > 0] B(a+1, b+x-1)/B(a, b) P(N >= x)``
        with ``N`` negative binomial (``r``, ``alpha/(alpha+t)``); beta
        function ratios in log space, the tail as a regularised incomplete
        beta function. The NBD probability in the no-dropout limit.

        Parameters
        ----------
        x : int or array-like of int
            Number of repeat purchases.
        t : float or array-like
            Length of the period since the first purchase (broadcast with ``x``).

        Returns
        -------
        float or numpy.ndarray
            Probabilities.
        """
        self._check_fitted()
        x_arr, t_arr = _check_counts_and_times(x, t)
        r, alpha, a, b = self.params_.to_numpy()
        if self._at_dropout_limit():
            out = nbd_pmf(x_arr, r, alpha, t_arr)
        else:
            out = self._pmf(x_arr, t_arr, r, alpha, a, b)
        return float(out) if out.ndim == 0 else out

    @staticmethod
    def _pmf(x: np.ndarray, t: np.ndarray, r: float, alpha: float, a: float, b: float) -> np.ndarray:
        lb = special.betaln(a, b)
        term1 = np.exp(special.betaln(a, b + x) - lb) * nbd_pmf(x, r, alpha, t)
        with np.errstate(invalid="ignore"):
            ratio2 = np.exp(special.betaln(a + 1.0, np.maximum(b + (x - 1.0), 1e-300)) - lb)
        term2 = np.where(x > 0, ratio2 * nbd_sf(x, r, alpha, t), 0.0)
        return term1 + term2

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
            See :func:`~crm_analysis.clv.simulate.simulate_bgnbd`.
        """
        self._check_fitted()
        r, alpha, a, b = self.params_.to_numpy()
        if self._at_dropout_limit():
            return simulate_nbd(r, alpha, n_customers=n_customers, T=T, seed=seed)
        return simulate_bgnbd(r, alpha, a, b, n_customers=n_customers, T=T, seed=seed)


def _newton_screen(
    terms, theta: np.ndarray, floor: float, step_max: float, inside=None
) -> tuple[bool, np.ndarray]:
    """Newton climb of a log-likelihood from ``theta``: may it reach above ``floor``? (the screens of :class:`BetaGeoModel`).

    Parameters
    ----------
    terms : callable
        ``terms(theta, hessian)``: the log-likelihood at ``theta`` and, with ``hessian``, its gradient and
        Hessian in ``theta`` (else ``None, None``); ``-inf`` outside the domain.
    theta : numpy.ndarray, shape (k,)
        The start.
    floor : float
        The log-likelihood to reach.
    step_max : float
        The largest step in any coordinate (the fit's ``_NEWTON_STEP_MAX``).
    inside : callable, optional
        ``inside(theta)``: whether ``theta`` is in the region screened. Where given, the climb ends with
        ``False`` as soon as a step (before its evaluation) or an accepted iterate leaves the region (the
        climb from the region's start runs to another region), and a Hessian that is not negative definite
        is made so by taking its eigenvalues' absolute values (a start far from the region's maximum);
        without it, such a Hessian ends the climb with ``True`` (undecided).

    Returns
    -------
    tuple of (bool, numpy.ndarray)
        ``True`` as soon as an iterate is above ``floor`` or where the climb does not settle (a value not
        finite, 30 iterations, a failed line search), ``False`` when an iterate plus its Newton decrement
        ``g' (-H)^-1 g`` (twice the rise the quadratic model predicts; a heuristic bound, not a proof) stays
        below ``floor``, or at convergence (decrement below ``1e-8``) below it; and the last iterate.
    """
    ll, g, H = terms(theta, True)
    for _ in range(30):
        if g is None or not (math.isfinite(ll) and np.isfinite(g).all() and np.isfinite(H).all()):
            return True, theta
        if ll > floor:
            return True, theta
        if inside is None:
            try:
                np.linalg.cholesky(-H)
            except np.linalg.LinAlgError:
                return True, theta
            step = np.linalg.solve(-H, g)
            definite = True
        else:
            lam, vec = np.linalg.eigh(-H)
            definite = bool(lam.min() > 0.0)
            lam = np.maximum(np.abs(lam), 1e-8 * max(1.0, float(np.abs(lam).max())))
            step = vec @ ((vec.T @ g) / lam)
        decrement = float(g @ step)
        # the quadratic model's rise is decrement / 2; a maximum more than twice that above the iterate is not
        # expected (findings_12s F3: the rise to the limit's maximum from the first three iterates was 1.01, 1.50
        # and 1.27 times the model's)
        if definite and (decrement < 1e-8 or ll + decrement < floor):
            return False, theta
        t = min(1.0, step_max / float(np.max(np.abs(step))))
        if inside is not None and not inside(theta + t * step):
            return False, theta
        # the first trial point gets the Hessian too (it is the next iterate when the step is taken whole)
        ll1, g1, H1 = terms(theta + t * step, True)
        for _ in range(30):
            if ll1 >= ll + 1e-4 * t * decrement:
                break
            t *= 0.5
            ll1, g1, H1 = terms(theta + t * step, False)
        else:
            return True, theta
        theta = theta + t * step
        if inside is not None and not inside(theta):
            return False, theta
        ll, g, H = (ll1, g1, H1) if g1 is not None else terms(theta, True)
    return True, theta


def _distinct_pairs(x: np.ndarray, T: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Distinct ``(x, T)`` pairs and the index of each row into them."""
    (ux, uT), _ = collapse_rows([x, T], np.ones(x.size))
    key_rows = pd.MultiIndex.from_arrays([x, T])
    key_uniq = pd.MultiIndex.from_arrays([ux, uT])
    return (ux, uT), key_uniq.get_indexer(key_rows)


def _dropout_hessian(
    keep: dict, w: np.ndarray, a: float, iTu: np.ndarray, iT: np.ndarray, itxu: np.ndarray, itx: np.ndarray,
    ibu: np.ndarray, ix: np.ndarray,
) -> np.ndarray:
    """Hessian in ``(r, alpha, a, b)`` of ``sum_i w_i log(1 + e^{d_i})``, ``d = log a - log(b + c) + (r + x) D``.

    ``D = log(alpha + T) - log(alpha + t_x)``, ``c = x - 1`` (BG/NBD) or ``x`` (MBG/NBD). With ``sigma``
    the logistic of ``d`` (from ``keep``, with ``D`` as ``diff`` and ``r + x`` as ``rx``), the Hessian is
    ``sum w [sigma (1 - sigma) d' d'^T + sigma d'']`` with ``d' = (D, (r + x) E, 1/a, -1/(b + c))``,
    ``E = 1/(alpha + T) - 1/(alpha + t_x)``, and ``d''`` nonzero at ``(r, alpha)``: ``E``, ``(alpha, alpha)``:
    ``(r + x) (1/(alpha + t_x)^2 - 1/(alpha + T)^2)``, ``(a, a)``: ``-1/a^2``, ``(b, b)``: ``1/(b + c)^2``.
    ``iTu``, ``itxu``, ``ibu``: ``1/(alpha + T)``, ``1/(alpha + t_x)``, ``1/(b + c)`` on the distinct values, gathered
    by ``iT``, ``itx``, ``ix``.
    """
    sig, D, rx = keep["sigma"], keep["diff"], keep["rx"]
    ws = w * sig
    wq = ws - ws * sig  # w sigma (1 - sigma)
    i_T, i_tx = iTu[iT], itxu[itx]
    E = i_T - i_tx
    u2 = rx * E  # d' in alpha
    u4 = ibu[ix]  # minus d' in b
    qD, q2, q4 = wq * D, wq * u2, wq * u4
    h_ra = float(np.dot(qD, u2)) + float(np.dot(ws, E))
    h_rb = -float(np.dot(qD, u4))
    # (r + x) (1/(alpha + t_x)^2 - 1/(alpha + T)^2) = -(r + x) E (1/(alpha + T) + 1/(alpha + t_x))
    h_aa = float(np.dot(q2, u2)) - float(np.dot(ws * u2, i_T + i_tx))
    h_ab = -float(np.dot(q2, u4))
    h_bb = float(np.dot(wq + ws, u4 * u4))
    m_r, m_al, m_b = float(qD.sum()) / a, float(q2.sum()) / a, -float(q4.sum()) / a
    h_a = (float(wq.sum()) - float(ws.sum())) / (a * a)
    # rows and columns in the order r, alpha, a, b
    return np.array([
        [float(np.dot(qD, D)), h_ra, m_r, h_rb],
        [h_ra, h_aa, m_al, h_ab],
        [m_r, m_al, h_a, m_b],
        [h_rb, h_ab, m_b, h_bb],
    ])


def _log_scale_hessian(H: np.ndarray, g_log: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Hessian in the log parameters from the (symmetric) one in the parameters ``p`` and the log-scale gradient.

    ``d2 f / d log p_i d log p_j = p_i p_j H_ij + [i = j] p_i df/dp_i`` (and ``p_i df/dp_i`` is the
    log-scale gradient).
    """
    out = H * (p[:, None] * p)
    out.flat[:: p.size + 1] += g_log
    return out


def _max_over_log_grid(fun, lo: float, hi: float, n: int = 59) -> tuple[float, float]:
    """Maximum of a smooth function of ``log b`` over ``[lo, hi]``: grid, then golden-section refinement.

    Returns the maximum and its argument.
    """
    grid = np.linspace(lo, hi, n)
    vals = fun(grid)
    k = int(np.nanargmax(vals))
    a_, b_ = grid[max(k - 1, 0)], grid[min(k + 1, n - 1)]
    x, f = _bounded_minimum(lambda v: -float(fun(np.array([v]))[0]), float(a_), float(b_), 1e-6)
    if -f > vals[k]:
        return float(-f), float(x)
    return float(vals[k]), float(grid[k])


def _bounded_minimum(func, lo: float, hi: float, xatol: float, maxiter: int = 500) -> tuple[float, float]:
    """Minimum of ``func`` on ``[lo, hi]``: scipy's ``minimize_scalar(method="bounded")`` (Brent's method), its
    ``(x, fun)``.

    A port of scipy's ``_minimize_scalar_bounded`` (``scipy/optimize/_optimize.py``, BSD licence) on Python
    floats: the same operations in the same order, so the same points are evaluated and the same answer is
    returned bit for bit (``tests/clv/test_beta_geo.py`` compares them); without scipy's wrapper and numpy scalars
    (``np.abs``, ``np.sign`` per iteration) it costs ~15 us instead of ~70-200 us (9-29 iterations in
    :func:`_max_over_log_grid`).
    """
    sqrt_eps = math.sqrt(2.2e-16)
    golden_mean = 0.5 * (3.0 - math.sqrt(5.0))
    a, b = lo, hi
    fulc = a + golden_mean * (b - a)
    nfc, xf = fulc, fulc
    rat = e = 0.0
    fx = func(xf)
    num = 1
    ffulc = fnfc = fx
    xm = 0.5 * (a + b)
    tol1 = sqrt_eps * abs(xf) + xatol / 3.0
    tol2 = 2.0 * tol1
    while abs(xf - xm) > (tol2 - 0.5 * (b - a)):
        golden = True
        if abs(e) > tol1:  # a parabolic step, where it falls inside and is short enough
            golden = False
            r = (xf - nfc) * (fx - ffulc)
            q = (xf - fulc) * (fx - fnfc)
            p = (xf - fulc) * q - (xf - nfc) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = abs(q)
            r = e
            e = rat
            if abs(p) < abs(0.5 * q * r) and p > q * (a - xf) and p < q * (b - xf):
                rat = (p + 0.0) / q
                x = xf + rat
                if (x - a) < tol2 or (b - x) < tol2:
                    rat = tol1 * (_sign(xm - xf) + (xm - xf == 0))
            else:
                golden = True
        if golden:  # a golden-section step
            e = (a - xf) if xf >= xm else (b - xf)
            rat = golden_mean * e
        x = xf + (_sign(rat) + (rat == 0)) * max(abs(rat), tol1)
        fu = func(x)
        num += 1
        if fu <= fx:
            if x >= xf:
                a = xf
            else:
                b = xf
            fulc, ffulc = nfc, fnfc
            nfc, fnfc = xf, fx
            xf, fx = x, fu
        else:
            if x < xf:
                a = x
            else:
                b = x
            if fu <= fnfc or nfc == xf:
                fulc, ffulc = nfc, fnfc
                nfc, fnfc = x, fu
            elif fu <= ffulc or fulc == xf or fulc == nfc:
                fulc, ffulc = x, fu
        xm = 0.5 * (a + b)
        tol1 = sqrt_eps * abs(xf) + xatol / 3.0
        tol2 = 2.0 * tol1
        if num >= maxiter:
            break
    return xf, fx


def _sign(v: float) -> float:
    """``np.sign`` of a Python float (NaN stays NaN)."""
    return float((v > 0) - (v < 0)) if v == v else v
