"""Two-point-dropout limits of the BG/NBD, MBG/NBD and Pareto/NBD models.

The third boundary of the models with dropout (after no dropout and common
dropout, :mod:`.common_dropout`): the dropout's mixing distribution splits
into two points, certain dropout for a share ``pi`` of the customers and
none for the rest.

- BG/NBD, ``a, b -> 0`` with ``a / (a + b) = pi``: ``Beta(a, b)`` tends to
  the Bernoulli distribution on ``{0, 1}`` with mean ``pi``; a customer with
  ``p = 1`` drops out at his first repeat purchase.
- MBG/NBD, the same limit; with its dropout chance at the first purchase a
  customer with ``p = 1`` drops out at once and never buys again.
- Pareto/NBD, ``s -> 0`` and ``beta -> 0`` with ``beta^s -> 1 - pi``: the
  lifetime survival ``(beta / (beta + t))^s = beta^s (beta + t)^{-s}`` tends
  to ``1 - pi`` for every ``t > 0``, i.e. a share ``pi`` dies at once (rate
  ``mu = inf``) and the rest never (``mu = 0``): the MBG/NBD's limit.

With ``A = (alpha + T)^{-(r+x)}`` the likelihood of one customer is

.. math::

    L = \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)}\\Big[(1-\\pi) A + \\pi B\\Big]

with ``B`` the likelihood of a certain dropout: :class:`ZeroInflatedNBDModel`
(MBG/NBD, Pareto/NBD) ``B = alpha^{-r}`` for ``x = 0`` (no repeat purchase,
probability 1) and 0 otherwise, the NBD with a spike at zero (Morrison 1969,
"hard-core non-buyers"; here: customers who never come back);
:class:`TwoPointGeometricNBDModel` (BG/NBD) ``B = (alpha + T)^{-r}`` for
``x = 0`` (not yet bought again, so still alive), ``B = (alpha + t_x)^{-(r+1)}``
for ``x = 1`` (dropped out at that purchase) and 0 for ``x >= 2``.

The full models fit this limit wherever a boundary could be chosen: when
the optimiser ends near it (``a + b < 0.1``; Pareto/NBD ``s < 1`` and
``beta`` below 1e-3 of the mean ``T``), when the full fit ends at the NBD
limit, before the NBD limit is accepted by its derivative test (which is
local: on zero-inflated data the two-point limit was 9-45 log-likelihood
units better) and before a common-dropout verdict. The limit is kept
(:meth:`crm_analysis.clv.base.BaseTransactionModel.boundary_kind`
``"two_point_dropout"``) when the full fit is not better than it (by
``_LIMIT_LL_TOL``) and it is significantly better than the NBD limit, which
it nests at ``pi = 0`` (likelihood-ratio test at ``boundary_test_level``,
else 0.05): on data without dropout it is better by chance in about half
the samples. Examples on no-dropout data: the BG/NBD ran to ``a = 9e-14, b =
2.5e-13`` (the optimiser's bound), 0.08 below this limit, which is 0.82
above the NBD limit (not significant): the NBD limit, saying why; the
Pareto/NBD fits ``s = 0.085, beta = 3e-10``, 1.0 above the limit: an
interior maximum, kept, its IdentificationWarning saying so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ._special import GammaPoissonScale, digamma_difference, log1pexp_and_expit, log_rising
from ._validation import check_times as _check_times
from ._validation import distinct_values
from .base import wdot
from .common_dropout import _LOG_P_MAX, _CommonDropoutModel
from .nbd import _check_counts_and_times, nbd_pmf
from .simulate import simulate_two_point_nbd

__all__ = ["TwoPointGeometricNBDModel", "ZeroInflatedNBDModel"]


class TwoPointGeometricNBDModel(_CommonDropoutModel):
    """BG/NBD whose dropout probability is 1 for a share ``pi`` of the customers and 0 for the rest.

    The BG/NBD's limit ``a, b -> 0`` with ``a / (a + b) = pi`` (the beta
    distribution of ``p`` tends to a Bernoulli one). Purchases at Poisson
    rate ``lambda ~ Gamma(r, alpha)``; a share ``pi`` of the customers drops
    out at the first repeat purchase, the rest never.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see
        :class:`~crm_analysis.clv.base.BaseLikelihoodModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``pi``.
    log_likelihood_, standard_errors_, covariance_, log_covariance_, converged_, n_iter_, n_customers_
        See :class:`~crm_analysis.clv.base.BaseLikelihoodModel`.

    Notes
    -----
    Likelihood and predictions are the BG/NBD's (Fader, Hardie & Lee 2005)
    with the beta mixing of ``p`` replaced by the two points (module
    docstring); ``tests/clv/test_two_point_dropout.py`` checks them against
    the BG/NBD at ``a + b = 1e-9``, against mpmath quadrature over ``lambda``
    and by parameter recovery.
    """

    _param_names = ("r", "alpha", "pi")
    #: 1: certain dropouts leave at the first purchase (MBG/NBD, Pareto/NBD limit); 0: at the first repeat purchase
    _first: float = 0.0

    def _log_upper_bounds(self) -> np.ndarray:
        # pi < 1 strictly in the zero-inflated NBD: at pi = 1 its likelihood is -inf (a repeat buyer cannot be a
        # certain dropout), and a trial point there stalled L-BFGS-B (common_dropout._P_MAX)
        return np.array([np.inf, np.inf, _LOG_P_MAX if self._first else 0.0])

    def _dropout_start(self, tscale: float, rate: float, f: float) -> float:
        return float(np.clip(f * 0.3, 1e-6, 0.9))

    def ridge_score(self, x, t_x, T, w) -> float:  # pragma: no cover - not a ridge limit
        raise NotImplementedError("the two-point limit has no ridge score")

    def _terms(self, log_params, x, t_x, T):
        """Per row: ``log A``, ``log B`` (``-inf`` where a certain dropout cannot give the row) and their pieces."""
        r, alpha, pi = np.exp(log_params)
        gp = GammaPoissonScale(r, alpha)  # l_T, l_b: log(alpha + t), or log1p(t / alpha) on the Poisson ridge
        k = r + x
        l_T = gp.z(T)
        if self._first:
            has_b = x == 0
            tau_b = np.zeros_like(T)  # t_x = 0 for x = 0
        else:
            has_b = x <= 1
            tau_b = np.where(x == 0, T, t_x)
        l_b = gp.z(tau_b)
        log_a = -k * l_T
        log_b = np.where(has_b, -k * l_b, -np.inf)
        return r, alpha, pi, k, l_T, l_b, tau_b, has_b, log_a, log_b

    def _certain_log_odds(self, log_params, x, t_x, T) -> np.ndarray:
        """``log(pi B / ((1-pi) A))`` per row (``-inf`` where a certain dropout cannot give the row): the log odds of
        the certain-dropout type's posterior share ``pi B / ((1-pi) A + pi B)``."""
        r, alpha, pi, k, l_T, l_b, tau_b, has_b, log_a, log_b = self._terms(log_params, x, t_x, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.log(pi) - np.log1p(-pi) + log_b - log_a if pi < 1.0 else np.where(has_b, np.inf, -np.inf)
        return np.where(has_b, d, -np.inf)

    def _prepare(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple:
        """Distinct counts, and the rows a certain dropout can give with their ``tau`` (``B = (alpha + tau)^{-(r+x)}``)."""
        ux, ix = distinct_values(x)
        if self._first:
            hb = np.flatnonzero(x == 0)
            tau_b = np.zeros(hb.size)  # t_x = 0 for x = 0
        else:
            hb = np.flatnonzero(x <= 1)
            tau_b = np.where(x[hb] == 0, T[hb], t_x[hb])
        return (x, t_x, T, ux, ix, hb, tau_b, {})

    def _weighted_loglik(self, log_params: np.ndarray, arrays, weights: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted log-likelihood and its gradient in the log parameters.

        Per row ``log[(1-pi) A + pi B] = log(1-pi) + log A + log(1 + e^d)`` with
        ``d = logit(pi) + (r+x) log((alpha+T)/(alpha+tau))`` where a certain dropout can give
        the row (else the last term is absent); the logistic of ``d`` is the posterior share of
        the certain-dropout type (:meth:`_certain_log_odds` gives ``d``).
        """
        x, _, T, ux, ix, hb, tau_b, cache = arrays
        r, alpha, pi = np.exp(log_params)
        # pi = 1 (BG/NBD limit only: ZeroInflatedNBDModel keeps pi < 1): finite where every customer can be a
        # certain dropout (x <= 1), the GeometricNBDModel's p = 1 edge (the same likelihood there)
        edge = pi == 1.0 and not self._first and hb.size == x.size
        if not (pi < 1.0 or edge):
            return -np.inf, np.zeros(3)
        if cache.get("weights") is not weights:
            cache.clear()
            cache.update(weights=weights, W=float(weights.sum()), Wx=np.bincount(ix, weights=weights, minlength=ux.size),
                         wx=weights * x, w_b=weights[hb], x_b=x[hb], T_b=T[hb])
        W, Wx, w_b = cache["W"], cache["Wx"], cache["w_b"]
        gp = GammaPoissonScale(r, alpha)  # on the Poisson ridge alpha^(r+x) is taken out (log1p forms)
        la = gp.log_alpha
        l_T = gp.z(T)
        k_b = r + cache["x_b"]
        lT_b = l_T[hb]
        D = lT_b - gp.z(tau_b)
        if edge:  # log(1 - pi) + log(1 + e^d) -> k D per row (all rows are in hb), its pi-share w1 -> 1
            l1m, softplus, w1 = 0.0, k_b * D, np.ones(D.shape)
        else:
            l1m = np.log1p(-pi)
            d = (np.log(pi) - l1m) + k_b * D
            softplus, w1 = log1pexp_and_expit(d)
        ww1 = w_b * w1
        if gp.scaled:
            ll = (wdot(Wx, log_rising(r, ux)) + wdot(Wx, gp.base(ux)) + W * l1m - r * wdot(weights, l_T)
                  - wdot(cache["wx"], l_T) + wdot(w_b, softplus))
            g_r = wdot(Wx, digamma_difference(r, ux)) - wdot(weights, l_T) + wdot(ww1, D)
            # alpha d/dalpha of r log(alpha) - (r+x) log(alpha+T) etc. in shares t / (alpha + t)
            s_T = gp.share(T)
            g_la = (r * wdot(weights, s_T) - wdot(cache["wx"], 1.0 - s_T)
                    + wdot(ww1 * k_b, gp.share(tau_b) - s_T[hb]))
        else:
            inv_T = 1.0 / (alpha + T)
            ll = (wdot(Wx, log_rising(r, ux)) + W * (r * la + l1m) - r * wdot(weights, l_T) - wdot(cache["wx"], l_T)
                  + wdot(w_b, softplus))
            g_r = wdot(Wx, digamma_difference(r, ux)) + W * la - wdot(weights, l_T) + wdot(ww1, D)
            # sum w k [(1 - w1)/(alpha + T) + w1/(alpha + tau)]
            g_la = alpha * (W * r / alpha - r * wdot(weights, inv_T) - wdot(cache["wx"], inv_T)
                            + wdot(ww1 * k_b, inv_T[hb] - 1.0 / (alpha + tau_b)))
        s1 = float(ww1.sum())
        # d/d log pi; at pi = 1 the limit sum w (1 - e^{-k D}) of -(1 - w1) pi / (1 - pi) + w1 per row
        g_pi = wdot(w_b, -np.expm1(-k_b * D)) if edge else -(W - s1) * pi / (1.0 - pi) + s1
        return float(ll), np.array([r * g_r, g_la, g_pi])

    # ---- predictions -----------------------------------------------------
    def _gone_log_odds(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``log(pi B / ((1-pi) A))`` where a certain-dropout customer has left (BG/NBD limit: ``x = 1``; else
        ``x = 0``), ``-inf`` elsewhere: P(alive) ``1/(1 + e^d)``, not ``1 - P(certain dropout)``, which is 0 where
        P(alive) is below ~1e-16 (issue #12)."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        d = self._certain_log_odds(np.log(self.params_.to_numpy(float)), x, t_x, T)
        gone = (x >= 1.0) if not self._first else np.ones(x.shape, bool)
        return np.where(gone, d, -np.inf)

    def _if_alive(self, times: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Purchases in ``(T, T+t]`` of a customer alive at ``T``, per row and horizon.

        Alive after a repeat purchase means the never-dropout type: ``(r+x) t / (alpha+T)``. In the
        BG/NBD limit a customer without repeat purchase is alive of either type (posterior = prior
        ``pi``); the certain-dropout type makes one more purchase, then leaves:
        ``(1-pi) r t/(alpha+T) + pi (1 - ((alpha+T)/(alpha+T+t))^r)``.
        """
        r, alpha, pi = self.params_.to_numpy(float)
        x, T = np.asarray(x, float), np.asarray(T, float)
        never = ((r + x) / (alpha + T))[:, None] * times[None, :]
        if self._first:
            return never
        one_more = -np.expm1(-r * np.log1p(times[None, :] / (alpha + T)[:, None]))
        zero = (x == 0.0)[:, None]
        return np.where(zero, (1.0 - pi) * never + pi * one_more, never)

    def expected_purchases_new(self, t: float | np.ndarray) -> float | np.ndarray:
        """``E[X(t)] = (1-pi) r t / alpha`` (+ ``pi (1 - (alpha/(alpha+t))^r)`` in the BG/NBD limit).

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
        r, alpha, pi = self.params_.to_numpy(float)
        out = (1.0 - pi) * r * t_arr / alpha
        if not self._first:
            out = out + pi * -np.expm1(-r * np.log1p(t_arr / alpha))
        return float(out) if np.ndim(out) == 0 else out

    def probability_of_purchases(self, x: int | np.ndarray, t: float | np.ndarray) -> float | np.ndarray:
        """``P(X(t) = x) = (1-pi) NB(x) + pi P_certain(x)``.

        ``NB`` is the negative binomial probability ``(r, alpha/(alpha+t))``;
        ``P_certain`` is ``[x = 0]`` for a customer who leaves at once
        (MBG/NBD, Pareto/NBD limit), and ``NB(0)`` at ``x = 0``, ``1 - NB(0)``
        at ``x = 1`` for one who leaves at his first repeat purchase (BG/NBD).

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
        r, alpha, pi = self.params_.to_numpy(float)
        if self._first:
            certain = (x_arr == 0).astype(float)
        else:
            # NB(0) = (alpha / (alpha + t))^r and 1 - NB(0) by expm1: the difference 1 - p0 cancels where r t / alpha
            # is small (t = 1e-12, r = 1e-3, alpha = 1e3: 0 instead of 1e-18; findings_n15)
            log_p0 = -r * np.log1p(np.asarray(t_arr, float) / alpha)
            certain = np.where(x_arr == 0, np.exp(log_p0), np.where(x_arr == 1, -np.expm1(log_p0), 0.0))
        out = (1.0 - pi) * nbd_pmf(x_arr, r, alpha, t_arr) + pi * certain
        return float(out) if np.ndim(out) == 0 else out

    def sample(self, n_customers: int, T: float | np.ndarray, *, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Simulate customers (see :func:`~crm_analysis.clv.simulate.simulate_two_point_nbd`)."""
        self._check_fitted()
        r, alpha, pi = self.params_.to_numpy(float)
        return simulate_two_point_nbd(r, alpha, pi, n_customers=n_customers, T=T, dropout_at_first=bool(self._first),
                                      seed=seed)


class ZeroInflatedNBDModel(TwoPointGeometricNBDModel):
    """NBD with a share ``pi`` of customers who never buy again: the MBG/NBD's and Pareto/NBD's two-point limit.

    The MBG/NBD's limit ``a, b -> 0`` with ``a / (a + b) = pi`` and the
    Pareto/NBD's limit ``s, beta -> 0`` with ``beta^s = 1 - pi``: a share
    ``pi`` drops out at once (after the first purchase), the rest never;
    the count of repeat purchases is negative binomial with an extra mass
    ``pi`` at zero (Morrison 1969's NBD with "hard-core non-buyers").

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``pi``.
    """

    _first = 1.0
