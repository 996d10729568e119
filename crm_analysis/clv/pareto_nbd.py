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
from scipy import integrate, special, stats

from ._hyp import log_pnbd_interval
from .base import BaseTransactionModel
from .simulate import simulate_pareto_nbd

__all__ = ["ParetoNBDModel"]


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
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``s``, ``beta``.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Notes
    -----
    The gradient of the likelihood is taken by central differences (the
    hypergeometric term has no convenient analytic derivative), so fits are
    a few times slower than for :class:`~crm_analysis.clv.BetaGeoModel`.
    """

    _param_names = ("r", "alpha", "s", "beta")

    def _prepare(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, ...]:
        ux, inv = np.unique(x, return_inverse=True)
        return (x, t_x, T, ux, inv)

    @staticmethod
    def _log_terms(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log F1`` (alive at T) and ``log(s I)`` (died in (t_x, T]) without the common factor."""
        r, alpha, s, beta = params
        log_f1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_si = np.log(s) + log_pnbd_interval(r + x, s + 1.0, alpha, beta, t_x, T)
        return log_f1, log_si

    def _loglik(self, log_params: np.ndarray, arrays) -> tuple[np.ndarray, None]:
        x, t_x, T, ux, inv = arrays
        params = np.exp(log_params)
        r, alpha, s, beta = params
        C = special.gammaln(r + ux) - special.gammaln(r)
        log_f1, log_si = self._log_terms(params, x, t_x, T)
        ll = C[inv] + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(log_f1, log_si)
        return ll, None

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        rate, tscale = self._start_scales(arrays, weights)
        starts = []
        for r in (0.5, 1.0):
            for s in (0.5, 1.0):
                for life in (1.0, 5.0):
                    starts.append(np.log([r, r / rate, s, s * life * tscale]))
        starts.append(np.zeros(4))
        return starts

    # ---- predictions -----------------------------------------------------
    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        log_f1, log_si = self._log_terms(self.params_.to_numpy(), x, t_x, T)
        return special.expit(log_f1 - log_si)

    def probability_alive(self, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Probability that each customer is still alive at ``T``.

        ``P(alive) = F1 / (F1 + s I)`` in the notation of the module
        docstring (Fader & Hardie 2005 note, eq. 18), computed in log space.

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
        L = np.log1p(t / (beta + T))
        return (r + x) / (alpha + T) * (beta + T) * _h(s - 1.0, L)

    def expected_purchases(self, t: float, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected number of purchases in ``(T, T + t]``.

        Fader & Hardie (2005 note), eq. (21):
        ``P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]``.

        Parameters
        ----------
        t : float
            Length of the future period.
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional column-name overrides.

        Returns
        -------
        numpy.ndarray
            One expectation per row.
        """
        d = self._data(data, **columns)
        return self._p_alive(d.x, d.t_x, d.T) * self._expected_if_alive(float(t), d.x, d.T)

    def expected_purchases_grid(self, times, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected purchases at several horizons, shape ``(n, len(times))``."""
        d = self._data(data, **columns)
        pa = self._p_alive(d.x, d.t_x, d.T)
        cols = [self._expected_if_alive(float(t), d.x, d.T) for t in times]
        return pa[:, None] * (np.column_stack(cols) if cols else np.empty((len(pa), 0)))

    def expected_purchases_new(self, t: float | np.ndarray) -> float | np.ndarray:
        """Expected purchases ``E[X(t)]`` of a just-acquired customer.

        ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]`` (Fader & Hardie
        2005 note, eq. 17; its limit ``r beta/alpha log(1 + t/beta)`` at
        ``s = 1``).

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
        out = self._expected_if_alive(t_arr, 0.0, 0.0)
        return float(out) if out.ndim == 0 else out

    def probability_of_purchases(self, x: int | np.ndarray, t: float | np.ndarray) -> float | np.ndarray:
        """``P(X(t) = x)`` for a just-acquired customer.

        Sum of "alive at t with x purchases" (NBD probability times
        ``(beta/(beta+t))^s``) and "died at tau < t after x purchases":
        ``Gamma(r+x) alpha^r beta^s s / (Gamma(r) x!) * int_0^t tau^x
        (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau``, integrated numerically
        (equivalent to Fader & Hardie's closed form with hypergeometric
        functions, 2005 note eq. 19).

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
        r, alpha, s, beta = self.params_.to_numpy()
        x_arr, t_arr = np.broadcast_arrays(np.asarray(x, float), np.asarray(t, float))
        out = np.empty(x_arr.shape)
        for idx in np.ndindex(x_arr.shape):
            xi, ti = float(x_arr[idx]), float(t_arr[idx])
            alive = np.exp(stats.nbinom.logpmf(xi, r, alpha / (alpha + ti)) + s * (np.log(beta) - np.log(beta + ti)))
            if ti <= 0:
                out[idx] = alive
                continue

            def log_f(tau: np.ndarray, xi=xi) -> np.ndarray:
                with np.errstate(divide="ignore"):
                    return xi * np.log(tau) - (r + xi) * np.log(alpha + tau) - (s + 1.0) * np.log(beta + tau)

            grid = np.linspace(0.0, ti, 257)[1:]
            c = float(np.max(log_f(grid)))
            val, _ = integrate.quad(lambda u: np.exp(log_f(u) - c), 0.0, ti, limit=200, epsabs=0.0, epsrel=1e-10)
            log_const = special.gammaln(r + xi) - special.gammaln(r) - special.gammaln(xi + 1.0) + r * np.log(alpha) + s * np.log(beta) + np.log(s)
            out[idx] = alive + np.exp(log_const + c + np.log(val)) if val > 0 else alive
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
            See :func:`~crm_analysis.clv.simulate.simulate_pareto_nbd`.
        """
        self._check_fitted()
        r, alpha, s, beta = self.params_.to_numpy()
        return simulate_pareto_nbd(r, alpha, s, beta, n_customers=n_customers, T=T, seed=seed)
