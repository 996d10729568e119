"""Small vectorised simulators of the BG/NBD, MBG/NBD, NBD, Pareto/NBD and Gamma-Gamma models.

They draw customers from the models' own generative stories (used for
parameter-recovery tests and :meth:`sample`). All randomness comes from
``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import numpy as np
import pandas as pd

__all__ = [
    "simulate_bgnbd",
    "simulate_mbgnbd",
    "simulate_nbd",
    "simulate_pareto_nbd",
    "simulate_gamma_gamma",
    "simulate_geometric_nbd",
    "simulate_exponential_nbd",
    "simulate_two_point_nbd",
]


def _T_array(T: float | np.ndarray, n: int) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise InputError("T must be finite and non-negative")
    return arr


def _summarise(
    lam: np.ndarray,
    T: np.ndarray,
    holdout: float,
    rng: np.random.Generator,
    realised_rule,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw Poisson purchase times on ``[0, T + holdout]`` and summarise them."""
    n = len(lam)
    end = T + holdout
    K = rng.poisson(lam * end)
    cust = np.repeat(np.arange(n), K)
    times = rng.uniform(size=cust.size) * end[cust]
    order = np.lexsort((times, cust))
    times = times[order]
    start = np.cumsum(K) - K
    rank = np.arange(cust.size) - start[cust]
    realised = realised_rule(cust, times, rank)
    cal = realised & (times <= T[cust])
    freq = np.bincount(cust[cal], minlength=n)
    rec = np.zeros(n)
    np.maximum.at(rec, cust[cal], times[cal])
    hold = np.bincount(cust[realised & (times > T[cust])], minlength=n)
    return freq.astype(float), rec, hold.astype(float)


def _simulate_beta_geometric(
    r: float,
    alpha: float,
    a: float,
    b: float,
    n_customers: int,
    T: float | np.ndarray,
    holdout: float,
    seed: int | np.random.Generator | None,
    *,
    dropout_at_first: bool,
) -> pd.DataFrame:
    """BG/NBD (``dropout_at_first=False``) or MBG/NBD (``True``) customers; see :func:`simulate_bgnbd`.

    ``N``, the number of repeat purchases made before dropping out, is geometric on ``{1, 2, ...}``
    (BG/NBD: dropout tested after every repeat purchase) or on ``{0, 1, ...}`` (MBG/NBD: also at
    the first purchase).
    """
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    T_arr = _T_array(T, n)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    N = rng.geometric(np.clip(p, 1e-300, 1.0)) - (1 if dropout_at_first else 0)
    freq, rec, hold = _summarise(lam, T_arr, holdout, rng, lambda c, t, k: k < N[c])
    return pd.DataFrame(
        {"frequency": freq, "recency": rec, "T": T_arr, "frequency_holdout": hold, "lambda": lam, "p": p, "alive": freq < N}
    )


def simulate_bgnbd(
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    n_customers: int,
    T: float | np.ndarray,
    holdout: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate customers from the BG/NBD model (Fader, Hardie & Lee 2005).

    Each customer has a purchase rate ``lambda ~ Gamma(r, rate=alpha)`` and a
    dropout probability ``p ~ Beta(a, b)``; purchases follow a Poisson process
    and after every repeat purchase the customer drops out with probability
    ``p``.

    Parameters
    ----------
    r, alpha, a, b : float
        Model parameters.
    n_customers : int
        Number of customers.
    T : float or array-like
        Length of each customer's calibration period (time since the first
        purchase).
    holdout : float, default 0
        Length of a holdout period after ``T``; its purchases are counted in
        ``frequency_holdout``.
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, and the
        latent ``lambda``, ``p`` and ``alive`` (alive at ``T``).
    """
    return _simulate_beta_geometric(r, alpha, a, b, n_customers, T, holdout, seed, dropout_at_first=False)


def simulate_mbgnbd(
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    n_customers: int,
    T: float | np.ndarray,
    holdout: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate customers from the MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

    As :func:`simulate_bgnbd`, except that the customer can also drop out
    right after the first purchase (at time 0): with dropout probability
    ``p ~ Beta(a, b)`` tested at the first purchase and after every repeat
    purchase.

    Parameters
    ----------
    r, alpha, a, b : float
        Model parameters.
    n_customers : int
        Number of customers.
    T : float or array-like
        Length of each customer's calibration period.
    holdout : float, default 0
        Length of a holdout period after ``T``.
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, and the
        latent ``lambda``, ``p`` and ``alive`` (alive at ``T``).
    """
    return _simulate_beta_geometric(r, alpha, a, b, n_customers, T, holdout, seed, dropout_at_first=True)


def simulate_nbd(
    r: float,
    alpha: float,
    *,
    n_customers: int,
    T: float | np.ndarray,
    holdout: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate customers from the NBD model (Poisson purchases, ``lambda ~ Gamma(r, alpha)``, no dropout).

    Parameters
    ----------
    r, alpha : float
        Model parameters.
    n_customers : int
        Number of customers.
    T : float or array-like
        Length of each customer's calibration period.
    holdout : float, default 0
        Length of a holdout period after ``T``.
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, the latent
        ``lambda`` and ``alive`` (always true).
    """
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    T_arr = _T_array(T, n)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    freq, rec, hold = _summarise(lam, T_arr, holdout, rng, lambda c, t, k: np.ones(c.size, bool))
    return pd.DataFrame(
        {"frequency": freq, "recency": rec, "T": T_arr, "frequency_holdout": hold, "lambda": lam, "alive": np.ones(n, bool)}
    )


def simulate_pareto_nbd(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    *,
    n_customers: int,
    T: float | np.ndarray,
    holdout: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate customers from the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

    Each customer has a purchase rate ``lambda ~ Gamma(r, rate=alpha)`` and a
    dropout rate ``mu ~ Gamma(s, rate=beta)``; the unobserved lifetime is
    exponential with rate ``mu``; purchases follow a Poisson process while
    alive.

    Parameters
    ----------
    r, alpha, s, beta : float
        Model parameters.
    n_customers : int
        Number of customers.
    T : float or array-like
        Length of each customer's calibration period.
    holdout : float, default 0
        Length of a holdout period after ``T``.
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, and the
        latent ``lambda``, ``mu``, ``lifetime`` and ``alive`` (at ``T``).
    """
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    T_arr = _T_array(T, n)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    life = rng.exponential(1.0 / np.maximum(mu, 1e-300))
    freq, rec, hold = _summarise(lam, T_arr, holdout, rng, lambda c, t, k: t < life[c])
    return pd.DataFrame(
        {
            "frequency": freq,
            "recency": rec,
            "T": T_arr,
            "frequency_holdout": hold,
            "lambda": lam,
            "mu": mu,
            "lifetime": life,
            "alive": life > T_arr,
        }
    )


def simulate_gamma_gamma(
    p: float,
    q: float,
    v: float,
    frequency: np.ndarray,
    *,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate mean transaction values from the Gamma-Gamma model.

    Transaction values are ``Gamma(p, rate=nu)`` with ``nu ~ Gamma(q, rate=v)``
    per customer (Fader, Hardie & Lee 2005 JMR; Fader & Hardie 2013); the mean
    of ``x`` values is ``Gamma(p x, rate=x nu)``.

    Parameters
    ----------
    p, q, v : float
        Model parameters.
    frequency : array-like of int
        Number of transactions ``x`` averaged per customer (0 gives 0).
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``monetary_value`` and the latent mean spend
        ``true_mean = p / nu``.
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / v, size=x.shape)
    xs = np.maximum(x, 1.0)
    z = rng.gamma(p * xs, 1.0 / (xs * nu))
    return pd.DataFrame({"frequency": x, "monetary_value": np.where(x > 0, z, 0.0), "true_mean": p / nu})


def simulate_geometric_nbd(
    r: float,
    alpha: float,
    p: float,
    *,
    n_customers: int,
    T: float | np.ndarray,
    holdout: float = 0.0,
    dropout_at_first: bool = False,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Customers of the BG/NBD (MBG/NBD) with one dropout probability ``p`` for everyone.

    The limit of :func:`simulate_bgnbd` (:func:`simulate_mbgnbd` with
    ``dropout_at_first=True``) when ``a, b -> inf`` with ``a / (a + b) = p``:
    purchase rates ``lambda ~ Gamma(r, rate=alpha)``, and after every repeat
    purchase (and, with ``dropout_at_first``, at the first purchase) the
    customer drops out with the same probability ``p``.

    Parameters
    ----------
    r, alpha : float
        Gamma shape and rate of the purchase rates.
    p : float
        Dropout probability, in ``(0, 1)``; ``1`` also without ``dropout_at_first`` (everyone who buys again drops
        out at that first repeat purchase: the fit of data where nobody bought more than once again).
    n_customers : int
        Number of customers.
    T : float or array-like
        Length of each customer's calibration period.
    holdout : float, default 0
        Length of a holdout period after ``T``.
    dropout_at_first : bool, default False
        ``True``: the MBG/NBD's extra dropout chance at the first purchase.
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, and the
        latent ``lambda`` and ``alive`` (at ``T``).

    Raises
    ------
    InputError
        ``p`` outside ``(0, 1)`` (``(0, 1]`` without ``dropout_at_first``).
    """
    if not (0.0 < float(p) < 1.0 or (float(p) == 1.0 and not dropout_at_first)):
        raise InputError(f"p must be a dropout probability in (0, 1) ((0, 1] without dropout_at_first), got {shown(p)}")
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    T_arr = _T_array(T, n)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    N = rng.geometric(float(p), size=n) - (1 if dropout_at_first else 0)
    freq, rec, hold = _summarise(lam, T_arr, holdout, rng, lambda c, t, k: k < N[c])
    return pd.DataFrame({"frequency": freq, "recency": rec, "T": T_arr, "frequency_holdout": hold, "lambda": lam,
                         "alive": freq < N})


def simulate_exponential_nbd(
    r: float,
    alpha: float,
    mu: float,
    *,
    n_customers: int,
    T: float | np.ndarray,
    holdout: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Customers of the Pareto/NBD with one dropout rate ``mu`` for everyone.

    The limit of :func:`simulate_pareto_nbd` when ``s, beta -> inf`` with
    ``s / beta = mu``: purchase rates ``lambda ~ Gamma(r, rate=alpha)``,
    lifetimes exponential with the same rate ``mu``.

    Parameters
    ----------
    r, alpha : float
        Gamma shape and rate of the purchase rates.
    mu : float
        Dropout rate (per time unit), positive.
    n_customers : int
        Number of customers.
    T : float or array-like
        Length of each customer's calibration period.
    holdout : float, default 0
        Length of a holdout period after ``T``.
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, and the
        latent ``lambda``, ``lifetime`` and ``alive`` (at ``T``).

    Raises
    ------
    InputError
        ``mu`` not positive and finite.
    """
    if not (np.isfinite(mu) and float(mu) > 0.0):
        raise InputError(f"mu must be a positive dropout rate, got {shown(mu)}")
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    T_arr = _T_array(T, n)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    life = rng.exponential(1.0 / float(mu), size=n)
    freq, rec, hold = _summarise(lam, T_arr, holdout, rng, lambda c, t, k: t < life[c])
    return pd.DataFrame({"frequency": freq, "recency": rec, "T": T_arr, "frequency_holdout": hold, "lambda": lam,
                         "lifetime": life, "alive": life > T_arr})


def simulate_two_point_nbd(
    r: float,
    alpha: float,
    pi: float,
    *,
    n_customers: int,
    T: float | np.ndarray,
    holdout: float = 0.0,
    dropout_at_first: bool = False,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Customers whose dropout is all or nothing: a share ``pi`` drops out for certain, the rest never.

    The limit of :func:`simulate_bgnbd` (:func:`simulate_mbgnbd` with
    ``dropout_at_first=True``, and of :func:`simulate_pareto_nbd`) when the
    dropout's mixing distribution splits into two points: ``a, b -> 0`` with
    ``a / (a + b) = pi`` (dropout probability 1 for a share ``pi``, 0 for the
    rest), or ``s, beta -> 0`` with ``beta^s = 1 - pi`` (dropout rate
    infinite or 0). Purchase rates ``lambda ~ Gamma(r, rate=alpha)``; a
    customer of the share ``pi`` drops out at his first repeat purchase
    (BG/NBD) or at once, after the first purchase (``dropout_at_first``:
    MBG/NBD, Pareto/NBD), so he makes at most one (no) repeat purchase.

    Parameters
    ----------
    r, alpha : float
        Gamma shape and rate of the purchase rates.
    pi : float
        Share of customers whose dropout is certain, in ``[0, 1]``.
    n_customers : int
        Number of customers.
    T : float or array-like
        Length of each customer's calibration period.
    holdout : float, default 0
        Length of a holdout period after ``T``.
    dropout_at_first : bool, default False
        ``True``: the certain dropouts leave at the first purchase (no repeat purchase).
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, and the
        latent ``lambda`` and ``alive`` (at ``T``).

    Raises
    ------
    InputError
        ``pi`` outside ``[0, 1]``.
    """
    if not (0.0 <= float(pi) <= 1.0):
        raise InputError(f"pi must be a share in [0, 1], got {shown(pi)}")
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    T_arr = _T_array(T, n)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    certain = rng.uniform(size=n) < float(pi)
    N = np.where(certain, 0.0 if dropout_at_first else 1.0, np.inf)
    freq, rec, hold = _summarise(lam, T_arr, holdout, rng, lambda c, t, k: k < N[c])
    return pd.DataFrame({"frequency": freq, "recency": rec, "T": T_arr, "frequency_holdout": hold, "lambda": lam,
                         "alive": freq < N})
