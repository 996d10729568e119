"""The BG/NBD model (Fader, Hardie & Lee 2005).

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
the easy way: an alternative to the Pareto/NBD model. *Marketing Science*
24(2), 275-284. Equation numbers below refer to that paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import integrate, special, stats

from .base import BaseTransactionModel, wdot
from .simulate import simulate_bgnbd

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
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Examples
    --------
    >>> model = BetaGeoModel().fit(summary)  # doctest: +SKIP
    >>> model.expected_purchases(52, summary)  # doctest: +SKIP
    """

    _param_names = ("r", "alpha", "a", "b")
    _analytic_gradient = True

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
        ux, inv = np.unique(x, return_inverse=True)
        idx0 = np.flatnonzero(x == 0)
        idx1 = np.flatnonzero(x > 0)
        x1, tx1, T1 = x[idx1], t_x[idx1], T[idx1]
        uT1, iT1 = np.unique(T1, return_inverse=True)
        utx1, itx1 = np.unique(tx1, return_inverse=True)
        ux1, ix1 = np.unique(x1, return_inverse=True)
        cache: dict = {}
        return (x, t_x, T, ux, inv, idx0, idx1, T[idx0], x1, tx1, T1, uT1, iT1, utx1, itx1, ux1, ix1, cache)

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
            cache["BT_w1x1"] = np.bincount(iT1, weights=cache["w1x1"], minlength=n_T)
        return cache

    def _weighted_loglik(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted log-likelihood (eq. 6) and gradient, summing x-only terms per distinct x."""
        (_, _, _, ux, _, _, idx1, T0, x1, _, _, uT1, iT1, utx1, itx1, ux1, ix1, _) = arrays
        r, alpha, a, b = np.exp(log_params)
        wt = self._weight_terms(arrays, weights)
        W, w0, w1, w1x1, Wtot = wt["W"], wt["w0"], wt["w1"], wt["w1x1"], wt["Wtot"]
        C = (
            special.gammaln(r + ux) - special.gammaln(r)
            + special.gammaln(b + ux) - special.gammaln(b)
            + special.gammaln(a + b) - special.gammaln(a + b + ux)
        )
        dr_x = special.digamma(r + ux) - special.digamma(r)
        dab_x = special.digamma(a + b) - special.digamma(a + b + ux)
        db_x = special.digamma(b + ux) - special.digamma(b) + dab_x
        l_alpha = np.log(alpha)
        # customers without repeat purchases: log L = r log(alpha) - r log(alpha + T)
        l_T0 = np.log(alpha + T0)
        ll = wdot(W, C) + Wtot * r * l_alpha - r * wdot(w0, l_T0)
        g_r = wdot(W, dr_x) + Wtot * l_alpha - wdot(w0, l_T0)
        g_alpha = Wtot * r / alpha - r * wdot(w0, (1.0 / (alpha + T0)))
        g_a = wdot(W, dab_x)
        g_b = wdot(W, db_x)
        if idx1.size:
            # functions of the parameters on the distinct values, gathered per row
            l_T1 = np.log(alpha + uT1)[iT1]
            l_tx1 = np.log(alpha + utx1)[itx1]
            l_bx = np.log(b + ux1 - 1.0)
            diff = l_T1 - l_tx1
            # log L = ... - (r+x) log(alpha+T) + log(1 + e^d),  d = log(a/(b+x-1)) + (r+x) diff
            d = (r + x1) * diff
            d += np.log(a) - l_bx[ix1]
            w2 = special.expit(d)
            s_lT = wdot(w1, l_T1)
            ll += -r * s_lT - wdot(w1x1, l_T1) + wdot(w1, np.logaddexp(0.0, d))
            ww2 = w1 * w2
            g_r -= s_lT - wdot(ww2, diff)
            # sum_i w_i (r+x_i) [(1-w2_i)/(alpha+T_i) + w2_i/(alpha+t_x_i)], summed per distinct T and t_x
            wrx2 = r * ww2 + w1x1 * w2
            n_T, n_tx = uT1.size, utx1.size
            sT = r * wt["BT_w1"] + wt["BT_w1x1"] - np.bincount(iT1, weights=wrx2, minlength=n_T)
            stx = np.bincount(itx1, weights=wrx2, minlength=n_tx)
            g_alpha -= wdot(sT, (1.0 / (alpha + uT1))) + wdot(stx, (1.0 / (alpha + utx1)))
            g_a += float(ww2.sum()) / a
            g_b -= float(np.bincount(ix1, weights=ww2, minlength=ux1.size) @ (1.0 / (b + ux1 - 1.0)))
        return ll, np.array([r * g_r, alpha * g_alpha, a * g_a, b * g_b])

    def _loglik(self, log_params: np.ndarray, arrays) -> tuple[np.ndarray, np.ndarray]:
        """Log-likelihood per row (eq. 6) and its gradient w.r.t. the log parameters."""
        x, t_x, T, ux, inv = arrays[:5]
        r, alpha, a, b = np.exp(log_params)
        # terms that depend on x only (few distinct values)
        C = (
            special.gammaln(r + ux) - special.gammaln(r)
            + special.gammaln(b + ux) - special.gammaln(b)
            + special.gammaln(a + b) - special.gammaln(a + b + ux)
        )
        dr_x = special.digamma(r + ux) - special.digamma(r)
        dab_x = special.digamma(a + b) - special.digamma(a + b + ux)
        db_x = special.digamma(b + ux) - special.digamma(b) + dab_x
        rep = x > 0
        l_T = np.log(alpha + T)
        l_tx = np.log(alpha + t_x)
        u1 = -(r + x) * l_T
        with np.errstate(divide="ignore", invalid="ignore"):
            u2 = np.where(rep, np.log(a) - np.log(np.where(rep, b + x - 1.0, 1.0)) - (r + x) * l_tx, -np.inf)
        lse = np.logaddexp(u1, u2)
        ll = C[inv] + r * np.log(alpha) + lse
        w2 = np.exp(u2 - lse)
        w1 = 1.0 - w2
        g = np.empty((x.size, 4))
        g[:, 0] = r * (dr_x[inv] + np.log(alpha) - w1 * l_T - w2 * l_tx)
        g[:, 1] = alpha * (r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x)))
        g[:, 2] = a * (dab_x[inv] + w2 / a)
        g[:, 3] = b * (db_x[inv] - np.where(rep, w2 / np.where(rep, b + x - 1.0, 1.0), 0.0))
        return ll, g

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        rate, _ = self._start_scales(arrays, weights)
        starts = []
        for r in (0.3, 1.0):
            for a, b in ((0.5, 2.0), (1.0, 1.0), (2.0, 10.0)):
                starts.append(np.log([r, r / rate, a, b]))
        starts.append(np.zeros(4))
        return starts

    # ---- predictions -----------------------------------------------------
    def _alive_log_odds_inv(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """log of (1/P(alive) - 1); ``-inf`` for x = 0."""
        r, alpha, a, b = self.params_.to_numpy()
        rep = x > 0
        with np.errstate(divide="ignore"):
            val = np.log(a) - np.log(np.where(rep, b + x - 1.0, 1.0)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(rep, val, -np.inf)

    def probability_alive(self, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Probability that each customer is still alive at ``T``.

        ``P(alive | x, t_x, T) = 1 / (1 + delta_{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
        (Fader, Hardie & Lee 2005; Fader & Hardie's note "Computing P(alive)
        using the BG/NBD model"); equal to 1 for ``x = 0``.

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
        return special.expit(-self._alive_log_odds_inv(d.x, d.t_x, d.T))

    def _expected_if_alive(self, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[Y(t) | alive at T, x] via Euler's transformation of eq. (10).

        ``(a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)]``,
        ``z = t / (alpha + T + t)``, which avoids the overflow of
        ``2F1(r+x, b+x; a+b+x-1; z)`` for large ``x``. Falls back to numerical
        integration over the posterior of ``p`` where the closed form is not
        usable (``a`` close to 1, ``a + b + x <= 1``).
        """
        r, alpha, a, b = self.params_.to_numpy()
        x = np.asarray(x, float)
        T = np.asarray(T, float)
        if t <= 0:
            return np.zeros(np.broadcast(x, T).shape)
        z = t / (alpha + T + t)
        c = a + b + x - 1.0
        with np.errstate(all="ignore"):
            hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
            val = c / (a - 1.0) * (1.0 - np.exp((a - 1.0) * np.log1p(-z)) * hyp)
        bad = ~np.isfinite(val) | (c <= 0) | (abs(a - 1.0) < 1e-6) | (val < 0)
        if np.any(bad):
            val = np.array(val, dtype=float, copy=True)
            xb, Tb = np.broadcast_arrays(x, T)
            for idx in zip(*np.nonzero(np.broadcast_to(bad, val.shape))):
                xi, Ti = float(xb[idx]), float(Tb[idx])

                def f(p: float, xi=xi, Ti=Ti) -> float:
                    # (1 - E[exp(-lambda p t)]) / p with lambda | alive ~ Gamma(r+x, alpha+T)
                    return -np.expm1(-(r + xi) * np.log1p(p * t / (alpha + Ti))) / p * stats.beta.pdf(p, a, b + xi)

                val[idx] = integrate.quad(f, 0.0, 1.0, limit=200)[0]
        return val

    def expected_purchases(self, t: float, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected number of purchases in ``(T, T + t]`` (eq. 10).

        Parameters
        ----------
        t : float
            Length of the future period (model time units).
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional ``frequency_col``, ``recency_col``, ``T_col`` overrides.

        Returns
        -------
        numpy.ndarray
            One expectation per row of ``data``.
        """
        d = self._data(data, **columns)
        p_alive = special.expit(-self._alive_log_odds_inv(d.x, d.t_x, d.T))
        return p_alive * self._expected_if_alive(float(t), d.x, d.T)

    def expected_purchases_grid(self, times, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected purchases at several horizons, shape ``(n, len(times))``."""
        d = self._data(data, **columns)
        p_alive = special.expit(-self._alive_log_odds_inv(d.x, d.t_x, d.T))
        # evaluate on distinct (x, T) only
        key = pd.DataFrame({"x": d.x, "T": d.T})
        uniq = key.drop_duplicates()
        pos = pd.MultiIndex.from_frame(uniq).get_indexer(pd.MultiIndex.from_frame(key))
        ux, uT = uniq["x"].to_numpy(), uniq["T"].to_numpy()
        out = np.column_stack([self._expected_if_alive(float(t), ux, uT) for t in times]) if len(times) else np.empty((len(ux), 0))
        return p_alive[:, None] * out[pos]

    def expected_purchases_new(self, t: float | np.ndarray) -> float | np.ndarray:
        """Expected purchases ``E[X(t)]`` of a just-acquired customer (eq. 7).

        Parameters
        ----------
        t : float or array-like
            Time(s) since the first purchase.

        Returns
        -------
        float or numpy.ndarray
            Expected number of repeat purchases in ``(0, t]``.
        """
        self._check_fitted()
        t_arr = np.asarray(t, dtype=float)
        out = np.array([self._expected_if_alive(float(ti), np.array(0.0), np.array(0.0)) for ti in t_arr.ravel()], float)
        out = out.reshape(t_arr.shape)
        return float(out) if out.ndim == 0 else out

    def probability_of_purchases(self, x: int | np.ndarray, t: float | np.ndarray) -> float | np.ndarray:
        """``P(X(t) = x)`` for a just-acquired customer (eq. 8).

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
        r, alpha, a, b = self.params_.to_numpy()
        x_arr, t_arr = np.broadcast_arrays(np.asarray(x, float), np.asarray(t, float))
        pr = alpha / (alpha + t_arr)
        log_b1 = special.betaln(a, b + x_arr) - special.betaln(a, b)
        term1 = np.exp(log_b1 + stats.nbinom.logpmf(x_arr, r, pr))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_b2 = special.betaln(a + 1.0, b + x_arr - 1.0) - special.betaln(a, b)
            term2 = np.where(x_arr > 0, np.exp(log_b2) * stats.nbinom.sf(x_arr - 1.0, r, pr), 0.0)
        out = term1 + term2
        return float(out) if out.ndim == 0 else out

    def sample(self, n_customers: int, T: float | np.ndarray, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
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
        return simulate_bgnbd(r, alpha, a, b, n_customers=n_customers, T=T, seed=seed)
