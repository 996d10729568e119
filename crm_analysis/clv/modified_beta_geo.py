"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation
and comparison of models for customer base analysis. *International Journal
of Research in Marketing* 24(3), 201-209.

The BG/NBD model lets a customer drop out only right after a *repeat*
purchase, so a customer without repeat purchases is alive for sure. The
modified model lets him drop out after the first purchase too: with
``p ~ Beta(a, b)`` tested at time 0 and after every repeat purchase.

Per customer (``x`` repeat purchases, the last at ``t_x``, observed for ``T``)

.. math::

    L = \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)}\\left[
        \\frac{B(a, b+x+1)}{B(a, b)}(\\alpha+T)^{-(r+x)}
        + \\frac{B(a+1, b+x)}{B(a, b)}(\\alpha+t_x)^{-(r+x)}\\right],

``P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))``,
``E[X(t)] = b/(a+b) E_{Beta(a, b+1)}[(1 - (alpha/(alpha+p t))^r)/p]`` and
``E[Y(t) | alive, x, T]`` is the BG/NBD expression with ``p ~ Beta(a, b+x+1)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ._beta_mix import beta_geometric_expectation
from ._special import CountSums, log1pexp, log1pexp_and_expit
from ._validation import distinct_values
from .base import wdot, predicts_from_common_limit
from .beta_geo import BetaGeoModel, _dropout_hessian, _log_scale_hessian
from .common_dropout import ModifiedGeometricNBDModel
from .two_point_dropout import ZeroInflatedNBDModel
from .nbd import nbd_pmf, nbd_sf
from .simulate import simulate_mbgnbd, simulate_nbd

__all__ = ["ModifiedBetaGeoModel"]


class ModifiedBetaGeoModel(BetaGeoModel):
    """Modified beta-geometric/NBD model (MBG/NBD): dropout possible at the first purchase too.

    Same interface as :class:`~crm_analysis.clv.BetaGeoModel`.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`).
    detect_boundary : bool, default True
        Fit the no-dropout limit (NBD) directly when the likelihood is
        maximised there (``a -> 0`` or ``b -> inf``); see ``boundary_``.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``; after a boundary fit the limit, as in
        :class:`~crm_analysis.clv.BetaGeoModel`.
    limit_model_ : NBDModel, ModifiedGeometricNBDModel, ZeroInflatedNBDModel or None
        The fitted limit after a boundary fit: no dropout (NBD), common
        dropout (:class:`~crm_analysis.clv.ModifiedGeometricNBDModel`,
        one ``p`` for everyone, also at the first purchase) or two-point
        dropout (:class:`~crm_analysis.clv.ZeroInflatedNBDModel`, a share
        ``pi`` never buys again).
    boundary_, not_identified_
        See :class:`~crm_analysis.clv.BetaGeoModel`.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Notes
    -----
    Checked against lifetimes 0.11.3's ``ModifiedBetaGeoFitter`` (an
    independent implementation) on the CDNOW sample, and by parameter
    recovery on data simulated with
    :func:`~crm_analysis.clv.simulate.simulate_mbgnbd`
    (``tests/clv/test_modified_beta_geo.py``).
    """

    _param_names = ("r", "alpha", "a", "b")
    _analytic_gradient = True
    _ridge_model_class = ModifiedGeometricNBDModel
    #: a tighter first L-BFGS-B run than the default (1e-5, 1e-12): on data with little dropout the
    #: likelihood is flat along a -> 0 (UCI Online Retail: a = 0.0019), the default run stops where the
    #: Hessian is not yet positive definite and a strict run starts again from scratch (64 evaluations);
    #: this one ends near the maximum (54 evaluations, 12 % less time); on CDNOW the same time within 4 %
    #: and the same estimates to 1e-11 (the Newton polish)
    _quick_gtol = 1e-7
    _quick_ftol = 1e-14
    _two_point_model_class = ZeroInflatedNBDModel

    # ---- likelihood ------------------------------------------------------
    def _prepare(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple:
        """Distinct ``x``, ``T`` and ``t_x`` with each row's index into them (computed once per fit)."""
        ux, ix = distinct_values(x)
        uT, iT = distinct_values(T)
        utx, itx = distinct_values(t_x)
        # T - t_x per row (uT[iT] - utx[itx] of every evaluation: the same numbers, once)
        return (x, t_x, T, ux, ix, uT, iT, utx, itx, T - t_x, {})

    @staticmethod
    def _weight_terms(arrays, weights: np.ndarray) -> dict:
        cache = arrays[-1]
        if cache.get("weights") is not weights:
            x, ux, ix, uT, iT = arrays[0], arrays[3], arrays[4], arrays[5], arrays[6]
            cache.clear()
            wx = weights * x
            cache.update(
                weights=weights,
                Wx=np.bincount(ix, weights=weights, minlength=ux.size),
                WT=np.bincount(iT, weights=weights, minlength=uT.size),
                XT=np.bincount(iT, weights=wx, minlength=uT.size),
                Wtot=float(weights.sum()),
            )
            cache["sums"] = CountSums(ux, cache["Wx"])  # over x (r)
            cache["sums1"] = CountSums(ux + 1.0, cache["Wx"])  # over x + 1 (b, a + b)
        return cache

    def _weighted_loglik(
        self, log_params: np.ndarray, arrays, weights: np.ndarray, keep: dict | None = None, gradient: bool = True
    ) -> tuple[float, np.ndarray | None]:
        """Weighted log-likelihood and its gradient with respect to the log parameters.

        ``keep``, ``gradient``: as for :meth:`BetaGeoModel._weighted_loglik <crm_analysis.clv.BetaGeoModel>` (every row).
        """
        x, t_x, _, ux, ix, uT, iT, utx, itx, gap, _ = arrays
        r, alpha, a, b = np.exp(log_params)
        c = self._weight_terms(arrays, weights)
        Wx, WT, XT, W = c["Wx"], c["WT"], c["XT"], c["Wtot"]
        sums, sums1 = c["sums"], c["sums1"]  # the weighted sums over x of gammaln / digamma differences
        lTu = np.log(alpha + uT)
        # r log(alpha) - r log(alpha + T) as -r log1p(T / alpha) and log((alpha + T) / (alpha + t_x)) by log1p: no
        # cancellation for huge r and alpha (the Poisson limit; findings_12n F4: 0.33 too high at r = 2.7e10)
        l1p_Tu = np.log1p(uT / alpha)
        diff = np.log1p(gap / (alpha + t_x))
        rx = r + x
        d = rx * diff
        d += (np.log(a) - np.log(b + ux))[ix]
        if gradient or keep is not None:
            softplus, w2 = log1pexp_and_expit(d)
        else:  # the value alone (the starts): the same softplus without the logistic
            softplus = log1pexp(d)
        if keep is not None:
            keep.update(sigma=w2.copy(), diff=diff, rx=rx)
        ll = (sums.log_rising(r) + sums1.log_rising(b) - sums1.log_rising(a + b)
              - r * wdot(WT, l1p_Tu) - wdot(XT, lTu) + wdot(weights, softplus))
        if not gradient:
            return float(ll), None
        w2 *= weights
        g_r = sums.digamma_difference(r) - wdot(WT, l1p_Tu) + wdot(w2, diff)
        wrx2 = w2 * rx
        invT = 1.0 / (alpha + uT)
        invtx = 1.0 / (alpha + utx)
        inv_b = 1.0 / (b + ux)
        if keep is not None:  # (the Hessian's reciprocals: the same arrays, computed once)
            keep.update(iTu=invT, itxu=invtx, ibu=inv_b)
        g_alpha = (
            W * r / alpha - r * wdot(WT, invT) - wdot(XT, invT)
            + wdot(np.bincount(iT, weights=wrx2, minlength=uT.size), invT)
            - wdot(np.bincount(itx, weights=wrx2, minlength=utx.size), invtx)
        )
        s_x = np.bincount(ix, weights=w2, minlength=ux.size)  # sum of w * P(dropped out | x) per distinct x
        d_ab = sums1.digamma_difference(a + b)
        g_a = float(s_x.sum()) / a - d_ab
        g_b = sums1.digamma_difference(b) - d_ab - float(s_x @ inv_b)
        return float(ll), np.array([r * g_r, alpha * g_alpha, a * g_a, b * g_b])

    def _weighted_loglik_hessian(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Weighted log-likelihood with its gradient and analytic Hessian in the log parameters.

        As :meth:`BetaGeoModel._weighted_loglik_hessian <crm_analysis.clv.BetaGeoModel>`, with the
        ``log(1 + e^d)`` term on every row, ``b + x`` in ``d`` and the sums in ``b`` and ``a + b`` over
        ``x + 1``.
        """
        _, _, _, ux, ix, uT, iT, utx, itx, _, _ = arrays
        keep: dict = {}
        ll, g_log = self._weighted_loglik(log_params, arrays, weights, keep=keep)
        p = np.exp(log_params)
        r, alpha, a, b = p
        c = self._weight_terms(arrays, weights)
        sums, sums1, W = c["sums"], c["sums1"], c["Wtot"]
        H = np.zeros((4, 4))
        tri_ab = sums1.trigamma_difference(a + b)
        H[0, 0] = sums.trigamma_difference(r)
        H[2, 2] = H[2, 3] = H[3, 2] = -tri_ab
        H[3, 3] = sums1.trigamma_difference(b) - tri_ab
        iTu = keep["iTu"]
        H[0, 1] = H[1, 0] = W / alpha - wdot(c["WT"], iTu)
        H[1, 1] = -W * r / alpha**2 + wdot(r * c["WT"] + c["XT"], iTu * iTu)
        H += _dropout_hessian(keep, weights, a, iTu, iT, keep["itxu"], itx, keep["ibu"], ix)
        return ll, g_log, _log_scale_hessian(H, g_log, p)

    # ---- no-dropout boundary: as BetaGeoModel, with the extra chance at time 0
    def _extra_dropout(self) -> float:
        return 1.0

    # ---- predictions -----------------------------------------------------
    def _alive_log_odds_inv(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """log of (1/P(alive) - 1) = log(a/(b+x)) + (r+x) log((alpha+T)/(alpha+t_x)), for every x."""
        r, alpha, a, b = self.params_.to_numpy()
        return np.log(a) - np.log(b + x) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))

    def probability_alive(self, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Probability that each customer is still alive at ``T``.

        ``1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))`` (Batislam et al.
        2007), below 1 also for customers without repeat purchases; 1 after a
        boundary fit (no dropout).

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
        return super().probability_alive(data, **columns)

    def _posterior_b(self, x: np.ndarray) -> np.ndarray:
        return self.params_["b"] + x + 1.0

    @staticmethod
    def _new_customer_expectation(r: float, alpha: float, a: float, b: float, t: np.ndarray) -> np.ndarray:
        # E[(1-p)/p (1 - e^{-lambda p t})] = b/(a+b) E_{Beta(a, b+1)}[(1 - e^{-lambda p t})/p]
        f = beta_geometric_expectation(np.array([r]), np.array([alpha]), np.array([a]), np.array([b + 1.0]), t)[0]
        return b / (a + b) * f

    @staticmethod
    def _pmf(x: np.ndarray, t: np.ndarray, r: float, alpha: float, a: float, b: float) -> np.ndarray:
        """``B(a, b+x+1)/B(a,b) NB(x) + B(a+1, b+x)/B(a,b) P(N >= x)`` (Batislam et al. 2007)."""
        lb = special.betaln(a, b)
        term1 = np.exp(special.betaln(a, b + x + 1.0) - lb) * nbd_pmf(x, r, alpha, t)
        term2 = np.exp(special.betaln(a + 1.0, b + x) - lb) * nbd_sf(x, r, alpha, t)
        return term1 + term2

    @predicts_from_common_limit
    def sample(self, n_customers: int, T: float | np.ndarray, *, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Simulate customers from the fitted model (see :func:`~crm_analysis.clv.simulate.simulate_mbgnbd`)."""
        self._check_fitted()
        r, alpha, a, b = self.params_.to_numpy()
        if self._at_dropout_limit():
            return simulate_nbd(r, alpha, n_customers=n_customers, T=T, seed=seed)
        return simulate_mbgnbd(r, alpha, a, b, n_customers=n_customers, T=T, seed=seed)
