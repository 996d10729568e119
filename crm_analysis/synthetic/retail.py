"""Synthetic retail transactions from a known buy-till-you-die (BTYD) process.

The generators draw customers from the BG/NBD model (Fader, Hardie & Lee 2005,
"Counting your customers the easy way: an alternative to the Pareto/NBD
model", Marketing Science 24(2):275-284) or from the Pareto/NBD model
(Schmittlein, Morrison & Colombo 1987), and the value of every transaction from
the gamma-gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: using
iso-value curves for customer base analysis", JMR 42(4):415-430; Fader & Hardie
2013, "The gamma-gamma model of monetary value"). All customer-level truths
(purchase rate, dropout, spend) are returned with the data, so the CLV part of
the package can test parameter recovery.

Time is measured in weeks (``time_unit="W"``), as in the published CDNOW
analyses, whose estimates are the defaults:

* BG/NBD: ``r=0.243, alpha=4.414, a=0.793, b=2.426`` (FHL 2005, CDNOW sample,
  39-week calibration);
* Pareto/NBD: ``r=0.553, alpha=10.578, s=0.606, beta=11.669`` (maximum
  likelihood on the same 2,357-customer CDNOW sample, log-likelihood -9595.0;
  Fader & Hardie's Pareto/NBD notes; re-fitted on the shared CDNOW summary
  when these defaults were set);
* gamma-gamma: ``p=6.25, q=3.74, v=15.44`` (FHL 2005 JMR, CDNOW; ``v`` is the
  parameter called gamma in the paper and the note).

Products and returns (``n_products``, ``return_rate``) are drawn from a random
stream of their own (seeded from ``seed``), after the purchases: the purchase
rows, their times, amounts and channels are exactly those drawn without them,
so the BTYD and spend truths do not change.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis._validate import renamed_names
from crm_analysis.synthetic._common import STRING, SeedLike, as_day, as_rng, normalise_profile

__all__ = [
    "BTYDSample",
    "SyntheticTransactions",
    "simulate_bgnbd_events",
    "simulate_pareto_nbd_events",
    "simulate_gamma_gamma_transactions",
    "generate_transactions",
    "default_transactions",
    "BGNBD_CDNOW",
    "PARETO_NBD_CDNOW",
    "GAMMA_GAMMA_CDNOW",
    "WEEKDAY_PROFILE",
    "MONTH_PROFILE",
    "CHANNEL_MIX",
    "PRODUCT_CATEGORIES",
    "DEFAULT_PRODUCTS",
    "DEFAULT_RETURN_RATE",
]

#: BG/NBD estimates on the CDNOW sample (Fader, Hardie & Lee 2005, Marketing Science).
BGNBD_CDNOW: dict[str, float] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

#: Pareto/NBD maximum-likelihood estimates on the CDNOW sample (weekly time unit).
PARETO_NBD_CDNOW: dict[str, float] = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}

#: Gamma-gamma spend estimates on CDNOW (Fader, Hardie & Lee 2005, JMR): ``v`` is
#: the paper's gamma (rate of the gamma mixing distribution of ``nu``).
GAMMA_GAMMA_CDNOW: dict[str, float] = {"p": 6.25, "q": 3.74, "v": 15.44}

#: Default weekday profile, Monday..Sunday (weekend peak); scaled to mean 1 when used.
WEEKDAY_PROFILE: tuple[float, ...] = (0.85, 0.85, 0.90, 0.95, 1.10, 1.30, 1.05)

#: Default month profile, January..December (November/December peak); mean-1 scaled.
MONTH_PROFILE: tuple[float, ...] = (0.85, 0.80, 0.90, 0.95, 1.00, 0.95, 0.90, 0.90, 1.00, 1.05, 1.30, 1.40)

#: Default channel mix of the customers' preferred channel.
CHANNEL_MIX: dict[str, float] = {"web": 0.5, "store": 0.3, "app": 0.2}

#: Catalogue size and mean return rate of :func:`default_transactions`.
DEFAULT_PRODUCTS: int = 40
DEFAULT_RETURN_RATE: float = 0.08

#: Product categories of the synthetic catalogue (products are spread over them in turn).
PRODUCT_CATEGORIES: tuple[str, ...] = ("Home", "Kitchen", "Garden", "Toys", "Books", "Beauty", "Sports", "Fashion")

_DAY_NS = np.int64(86_400 * 10**9)
_OPEN_HOURS = (8.0, 22.0)  # purchases happen between 08:00 and 22:00


# --------------------------------------------------------------------------- BTYD
@dataclass
class BTYDSample:
    """Customers and repeat purchases simulated from a BTYD model.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer (``customer`` = 0..n-1): ``T`` (length of the
        observation period after the first purchase, weeks), ``lambda_``
        (purchase rate per week while alive), the dropout truth (``p`` for
        BG/NBD, ``mu`` for Pareto/NBD), ``dropout_time`` (weeks after the first
        purchase at which the customer died, NaN when still alive or when the
        death falls after ``T``), ``alive`` (alive at ``T``), ``frequency``
        (number of repeat purchases in ``(0, T]``) and ``recency`` (time of the
        last repeat purchase, 0 without repeats).
    events : pandas.DataFrame
        One row per repeat purchase: ``customer`` and ``t`` (weeks after the
        first purchase), sorted by customer and time.
    model : str
        ``"bgnbd"`` or ``"pareto_nbd"``.
    params : dict
        The true population parameters.
    """

    customers: pd.DataFrame
    events: pd.DataFrame
    model: str
    params: dict[str, float]


def _check_positive(**kwargs: float) -> None:
    for name, value in kwargs.items():
        if not np.isfinite(value) or value <= 0:
            raise InputError(f"parameter {name} must be a positive finite number, got {shown(value)}")


def _as_T(T: float | Sequence[float] | np.ndarray, n_customers: int) -> np.ndarray:
    if int(n_customers) != n_customers or n_customers < 1:
        raise InputError(f"n_customers must be a positive integer, got {shown(n_customers)}")
    arr = np.asarray(T, dtype=float)
    if arr.ndim == 0:
        arr = np.full(int(n_customers), float(arr))
    if arr.shape != (int(n_customers),):
        raise InputError(f"T must be a scalar or have one entry per customer ({n_customers}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError("T must be finite and non-negative (weeks of observation after the first purchase)")
    return arr


def _poisson_event_times(
    rng: np.random.Generator, rate: np.ndarray, span: np.ndarray, keep: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event times of independent Poisson processes on ``(0, span_i]``.

    Returns owner index, times (sorted by owner, then time) and the number of
    events per owner, keeping at most ``keep_i`` first events when given.
    """
    n = rate.shape[0]
    counts = rng.poisson(rate * span)
    owner = np.repeat(np.arange(n), counts)
    times = rng.random(owner.shape[0]) * span[owner]
    times = span[owner] - times  # (0, span] rather than [0, span)
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    if keep is not None:
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        rank = np.arange(owner.shape[0]) - starts[owner]
        mask = rank < keep[owner]
        owner, times = owner[mask], times[mask]
        counts = np.minimum(counts, keep)
    return owner, times, counts


def _recency(owner: np.ndarray, times: np.ndarray, n: int) -> np.ndarray:
    rec = np.zeros(n)
    if owner.size:
        np.maximum.at(rec, owner, times)
    return rec


def simulate_bgnbd_events(
    n_customers: int,
    T: float | Sequence[float] | np.ndarray,
    *,
    r: float = BGNBD_CDNOW["r"],
    alpha: float = BGNBD_CDNOW["alpha"],
    a: float = BGNBD_CDNOW["a"],
    b: float = BGNBD_CDNOW["b"],
    seed: SeedLike = None,
) -> BTYDSample:
    """Simulate repeat purchases from the BG/NBD model.

    Each customer has a purchase rate ``lambda ~ Gamma(shape=r, rate=alpha)``
    and a dropout probability ``p ~ Beta(a, b)``. While alive, repeat
    purchases follow a Poisson process with rate ``lambda``; immediately after
    each *repeat* purchase the customer becomes inactive with probability
    ``p`` (so a customer without repeat purchases is alive, as in the BG/NBD
    likelihood of Fader, Hardie & Lee 2005). Time 0 is the customer's first
    purchase, which is not counted.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    T : float or array-like of float
        Observation length after the first purchase, in weeks; one value per
        customer for customers with different birth times.
    r, alpha : float
        Shape and rate of the gamma distribution of ``lambda``.
    a, b : float
        Parameters of the beta distribution of ``p``.
    seed : int, numpy.random.Generator or None
        Randomness.

    Returns
    -------
    BTYDSample
        Customer truths (``lambda_``, ``p``, ``alive``, ...) and event times.

    See Also
    --------
    crm_analysis.clv.simulate_bgnbd : the same model simulated at the level of the
        RFM summary (frequency, recency, T, holdout purchases), as the CLV
        models' ``sample``; this one keeps the events and the customer truths.
        (This function was called ``simulate_bgnbd`` too until issue #13; the old
        name still works here with a ``FutureWarning``.)

    Raises
    ------
    ValueError
        On non-positive parameters or a bad ``T``.

    Examples
    --------
    >>> s = simulate_bgnbd_events(1000, T=39.0, seed=1)
    >>> s.customers.columns.tolist()[:4]
    ['customer', 'T', 'lambda_', 'p']
    """
    _check_positive(r=r, alpha=alpha, a=a, b=b)
    span = _as_T(T, n_customers)
    rng = as_rng(seed)
    n = span.shape[0]
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # number of the repeat purchase after which the customer drops out (1, 2, ...)
    dropout_after = rng.geometric(np.clip(p, 1e-300, 1.0))
    # Poisson purchases on (0, T]; keep the first min(N, J): dead after the J-th
    owner, times, freq = _poisson_event_times(rng, lam, span, keep=dropout_after)
    alive = freq < dropout_after
    rec = _recency(owner, times, n)
    dropout_time = np.where(alive, np.nan, rec)
    customers = pd.DataFrame(
        {
            "customer": np.arange(n),
            "T": span,
            "lambda_": lam,
            "p": p,
            "dropout_after": dropout_after.astype(np.int64),
            "dropout_time": dropout_time,
            "alive": alive,
            "frequency": freq.astype(np.int64),
            "recency": rec,
        }
    )
    events = pd.DataFrame({"customer": owner.astype(np.int64), "t": times})
    return BTYDSample(customers, events, "bgnbd", {"r": r, "alpha": alpha, "a": a, "b": b})


def simulate_pareto_nbd_events(
    n_customers: int,
    T: float | Sequence[float] | np.ndarray,
    *,
    r: float = PARETO_NBD_CDNOW["r"],
    alpha: float = PARETO_NBD_CDNOW["alpha"],
    s: float = PARETO_NBD_CDNOW["s"],
    beta: float = PARETO_NBD_CDNOW["beta"],
    seed: SeedLike = None,
) -> BTYDSample:
    """Simulate repeat purchases from the Pareto/NBD model.

    Each customer has a purchase rate ``lambda ~ Gamma(shape=r, rate=alpha)``
    and a dropout rate ``mu ~ Gamma(shape=s, rate=beta)``; the lifetime after
    the first purchase is ``tau ~ Exponential(rate=mu)``, and repeat purchases
    follow a Poisson process with rate ``lambda`` on ``(0, min(tau, T)]``.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    T : float or array-like of float
        Observation length after the first purchase, in weeks (scalar or one
        per customer).
    r, alpha : float
        Shape and rate of the gamma distribution of ``lambda``.
    s, beta : float
        Shape and rate of the gamma distribution of ``mu``.
    seed : int, numpy.random.Generator or None
        Randomness.

    Returns
    -------
    BTYDSample
        Customer truths (``lambda_``, ``mu``, ``lifetime``, ``alive``, ...) and
        event times.

    See Also
    --------
    crm_analysis.clv.simulate_pareto_nbd : the same model simulated at the level of the
        RFM summary (frequency, recency, T, holdout purchases), as the CLV
        models' ``sample``; this one keeps the events and the customer truths.
        (This function was called ``simulate_pareto_nbd`` too until issue #13; the old
        name still works here with a ``FutureWarning``.)

    Raises
    ------
    ValueError
        On non-positive parameters or a bad ``T``.
    """
    _check_positive(r=r, alpha=alpha, s=s, beta=beta)
    span = _as_T(T, n_customers)
    rng = as_rng(seed)
    n = span.shape[0]
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    with np.errstate(divide="ignore"):
        lifetime = rng.exponential(1.0, n) / mu
    active = np.minimum(lifetime, span)
    owner, times, counts = _poisson_event_times(rng, lam, active)
    alive = lifetime > span
    customers = pd.DataFrame(
        {
            "customer": np.arange(n),
            "T": span,
            "lambda_": lam,
            "mu": mu,
            "lifetime": lifetime,
            "dropout_time": np.where(alive, np.nan, lifetime),
            "alive": alive,
            "frequency": counts.astype(np.int64),
            "recency": _recency(owner, times, n),
        }
    )
    events = pd.DataFrame({"customer": owner.astype(np.int64), "t": times})
    return BTYDSample(customers, events, "pareto_nbd", {"r": r, "alpha": alpha, "s": s, "beta": beta})


def simulate_gamma_gamma_transactions(
    n_transactions: Sequence[int] | np.ndarray,
    *,
    p: float = GAMMA_GAMMA_CDNOW["p"],
    q: float = GAMMA_GAMMA_CDNOW["q"],
    v: float = GAMMA_GAMMA_CDNOW["v"],
    seed: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate transaction values from the gamma-gamma spend model.

    Following Fader, Hardie & Lee (2005, JMR) and Fader & Hardie's note "The
    gamma-gamma model of monetary value": each customer has
    ``nu ~ Gamma(shape=q, rate=v)`` and each of their transaction values is
    ``z ~ Gamma(shape=p, rate=nu)``, so ``E[z | nu] = p / nu`` and the
    population mean is ``E[z] = p * v / (q - 1)`` (for ``q > 1``). The
    parameter ``v`` is the one called gamma in the paper and the note (the
    *rate* of the gamma distribution of ``nu``; the scale of the spend).

    Parameters
    ----------
    n_transactions : array-like of int
        Number of transactions of each customer.
    p, q, v : float
        Gamma-gamma parameters (defaults: CDNOW estimates).
    seed : int, numpy.random.Generator or None
        Randomness.

    Returns
    -------
    nu : numpy.ndarray
        Per-customer ``nu`` (length = number of customers).
    amounts : numpy.ndarray
        Transaction values, customer by customer (``np.repeat`` order of
        ``n_transactions``).

    See Also
    --------
    crm_analysis.clv.simulate_gamma_gamma : the same model simulated at the level of the
        RFM summary (frequency, recency, T, holdout purchases), as the CLV
        models' ``sample``; this one keeps the events and the customer truths.
        (This function was called ``simulate_gamma_gamma`` too until issue #13; the old
        name still works here with a ``FutureWarning``.)

    Raises
    ------
    ValueError
        On non-positive parameters or negative counts.
    """
    _check_positive(p=p, q=q, v=v)
    counts = np.asarray(n_transactions)
    if counts.ndim != 1 or np.any(counts < 0) or not np.all(counts == np.round(counts)):
        raise InputError("n_transactions must be a 1-d array of non-negative integers")
    rng = as_rng(seed)
    nu = rng.gamma(q, 1.0 / v, counts.shape[0])
    owner = np.repeat(np.arange(counts.shape[0]), counts.astype(np.int64))
    amounts = rng.gamma(p, 1.0, owner.shape[0]) / nu[owner]
    return nu, amounts


# ------------------------------------------------------------------ transactions
@dataclass
class SyntheticTransactions:
    """Synthetic transactions with their generating truth.

    Attributes
    ----------
    transactions : pandas.DataFrame
        Canonical transactions (``docs/architecture.md``): ``customer_id``,
        ``timestamp``, ``amount``, ``order_id``, ``channel``, and ``product``
        when a catalogue was asked for (``n_products > 0``); sorted by time.
        With ``return_rate > 0`` it also holds return lines: negative
        ``amount`` (the whole purchase line sent back), the product and
        channel of the purchase, ``order_id`` ``"R"`` + the purchase's
        number (``O000123`` -> ``R000123``).
    customers : pandas.DataFrame
        Customer-level truth: ``customer_id``, ``first_purchase``, ``T``
        (weeks from the first-purchase day to the end of the observation end
        day), ``lambda_``, ``p`` (BG/NBD) or ``mu`` (Pareto/NBD),
        ``dropout_time``, ``alive`` (at the observation end), ``frequency``
        (repeat purchases), ``recency`` (weeks, of the BTYD process),
        ``nu`` and ``mean_spend`` (``p / nu``, the expected transaction value
        before seasonal spend factors), ``channel`` (preferred channel), and
        with returns ``return_propensity`` (the customer's probability of
        sending a purchase back) and ``returns`` (return lines in the data).
    params : dict
        The true parameters: ``model``, ``btyd`` (``r, alpha, a, b`` or
        ``r, alpha, s, beta``), ``spend`` (``p, q, v``), the period and the
        seasonal profiles used.
    time_unit : str
        Time unit of ``T``, ``recency`` and the rates: ``"W"`` (weeks).
    notes : list of str
        Conventions of the data (rounding, what ``T`` counts, returns left out).
    products : pandas.DataFrame or None
        The catalogue (``n_products > 0``): ``product``, ``category``,
        ``popularity`` (share of purchases within its category) and
        ``gross_margin`` (fraction of the price); ``None`` without products.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    params: dict[str, Any]
    time_unit: str = "W"
    notes: list[str] = field(default_factory=list)
    products: pd.DataFrame | None = None


def _weekday_move(
    rng: np.random.Generator,
    owner: np.ndarray,
    offset: np.ndarray,
    birth_dow: np.ndarray,
    n_days: np.ndarray,
    weekday: np.ndarray,
) -> np.ndarray:
    """Move repeat purchases to profile weekdays within their 7-day window.

    The windows are the customer's own weeks ``[7k, 7k+6]`` days after the
    first purchase. The purchases of one customer-window get distinct days,
    drawn without replacement with probability proportional to the weekday
    profile (Gumbel top-k), in the original time order; day 0 (the first
    purchase day) and days after the observation end are excluded. Windows
    with more purchases than admissible days are left unchanged.
    """
    if offset.size == 0:
        return offset
    week = offset // 7
    key = owner.astype(np.int64) * (int(n_days.max()) // 7 + 2) + week
    new_group = np.concatenate(([True], key[1:] != key[:-1]))
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    rank = np.arange(offset.size) - starts[group]
    size = np.diff(np.append(starts, offset.size))
    g_owner, g_week = owner[starts], week[starts]
    d = np.arange(7)
    day = 7 * g_week[:, None] + d[None, :]
    valid = (day < n_days[g_owner][:, None]) & ~((g_week[:, None] == 0) & (d[None, :] == 0))
    with np.errstate(divide="ignore"):
        logw = np.log(weekday[(birth_dow[g_owner][:, None] + d[None, :]) % 7])
    keys = np.where(valid & np.isfinite(logw), logw + rng.gumbel(size=day.shape), -np.inf)
    top = np.argsort(-keys, axis=1)
    n_ok = np.isfinite(keys).sum(axis=1)
    usable = size <= n_ok
    # take the first `size` picks of every window, ordered by day
    picks = np.where(np.arange(7)[None, :] < size[:, None], top, 99)
    picks.sort(axis=1)
    move = usable[group] & (rank < 7)
    new = offset.copy()
    new[move] = 7 * week[move] + picks[group[move], np.minimum(rank[move], 6)]
    return new


def generate_transactions(
    *,
    n_customers: int = 2000,
    start: str | pd.Timestamp = "2023-01-01",
    end: str | pd.Timestamp = "2024-12-31",
    acquisition_end: str | pd.Timestamp | None = None,
    model: str = "bgnbd",
    params: Mapping[str, float] | None = None,
    spend_params: Mapping[str, float] | None = None,
    weekly_seasonality: Sequence[float] | None = WEEKDAY_PROFILE,
    yearly_seasonality: Sequence[float] | None = MONTH_PROFILE,
    spend_seasonality: float = 0.5,
    channel_mix: Mapping[str, float] | None = None,
    seed: int | None = 42,
    n_products: int = 0,
    category_concentration: float = 0.3,
    return_rate: float = 0.0,
    return_days: int = 30,
) -> SyntheticTransactions:
    """Generate retail transactions from a known BTYD and gamma-gamma process.

    Every customer's first purchase ("birth") falls on a day in
    ``[start, acquisition_end]``; after it, repeat purchases follow the BG/NBD
    (``model="bgnbd"``) or Pareto/NBD (``model="pareto_nbd"``) process in
    weeks, observed until the end of day ``end``. Every transaction (first and
    repeat) gets a value from the gamma-gamma model.

    How seasonality is added without changing the BTYD truth:

    * **Yearly** seasonality acts on the *acquisition dates* (a birth day is
      drawn with probability proportional to ``yearly[month] *
      weekly[weekday]``) and on *spend*: every amount is multiplied by
      ``yearly[month] ** spend_seasonality``, scaled to mean 1 over the twelve
      months. The repeat-purchase process itself is not thinned, so the BTYD
      counts are exact. The spend factor does distort the gamma-gamma truth
      a little (within-customer variance grows, the mean is unchanged on
      average over a year); use ``spend_seasonality=0`` for exact gamma-gamma
      data.
    * **Weekly** seasonality moves each repeat purchase, within the
      customer's own 7-day window ``[7k, 7k+6]`` days after the first
      purchase, to a day drawn from the weekday profile (distinct days for
      several purchases in one window, order kept). The number of purchases
      per customer-week is unchanged, so frequency in ``(0, T]`` is exact and
      recency moves by less than one week. The first-purchase day is never
      chosen for a repeat purchase.

    Calendar convention: a purchase at BTYD time ``t`` weeks falls on day
    ``floor(7 t)`` after the first-purchase day, at a uniform time of day
    between 08:00 and 22:00; ``T`` is the number of days from the
    first-purchase day up to and including ``end``, divided by 7 (one day more
    than ``(end - first day) / 7``).

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers (all make a first purchase in the acquisition
        period).
    start, end : str or Timestamp
        First and last day of the data (inclusive); ``end`` is the observation
        end.
    acquisition_end : str or Timestamp, optional
        Last day of first purchases; default: the middle of the period.
    model : {"bgnbd", "pareto_nbd"}
        The repeat-purchase process.
    params : mapping, optional
        Process parameters (``r, alpha, a, b`` or ``r, alpha, s, beta``);
        missing keys take the CDNOW defaults.
    spend_params : mapping, optional
        Gamma-gamma ``p, q, v``; missing keys take the CDNOW defaults.
    weekly_seasonality : sequence of 7 floats or None
        Weekday profile, Monday first; ``None`` = no weekday pattern.
    yearly_seasonality : sequence of 12 floats or None
        Month profile, January first; ``None`` = no yearly pattern.
    spend_seasonality : float, default 0.5
        Exponent of the month profile in the spend factor (0 = none).
    channel_mix : mapping, optional
        Shares of the preferred channels (default :data:`CHANNEL_MIX`). A
        transaction uses the customer's preferred channel with probability
        0.8, otherwise a channel drawn from the mix.
    seed : int, optional
        Seed of all randomness.
    n_products : int, default 0
        Size of the product catalogue; 0 = no ``product`` column. Products are
        spread over :data:`PRODUCT_CATEGORIES` in turn; within a category their
        popularity follows Zipf's law (weight ``1 / rank``). Every customer
        has category preferences ``~ Dirichlet(category_concentration)``
        (small values: customers keep to few categories, so what a customer
        bought says what they buy next), and every purchase line is one
        product: a category from the customer's preferences, then a product
        by popularity.
    category_concentration : float, default 0.3
        Dirichlet concentration of the customers' category preferences (> 0).
    return_rate : float, default 0.0
        Mean share of purchases sent back, in ``[0, 1)``. Each customer has a
        return propensity ``~ Beta(2 * return_rate / (1 - return_rate), 2)``
        (mean ``return_rate``; a few customers return much more than the
        rest); each purchase is returned with that probability, whole, on a
        day 1 to ``return_days`` after it. Returns that would fall after
        ``end`` are not in the data (counted in ``notes``).
    return_days : int, default 30
        Longest time from a purchase to its return, in days (>= 1).

    Returns
    -------
    SyntheticTransactions
        The canonical transactions, the customer truth and the parameters.

    Raises
    ------
    ValueError
        On a bad period, model, parameter, profile, catalogue size or return rate.

    Examples
    --------
    >>> data = generate_transactions(n_customers=500, seed=1)
    >>> data.transactions.columns.tolist()
    ['customer_id', 'timestamp', 'amount', 'order_id', 'channel']
    """
    start_d, end_d = as_day(start, "start"), as_day(end, "end")
    if end_d <= start_d:
        raise InputError(f"end ({end_d.date()}) must be after start ({start_d.date()})")
    if acquisition_end is None:
        acq_end = start_d + pd.Timedelta(days=(end_d - start_d).days // 2)
    else:
        acq_end = as_day(acquisition_end, "acquisition_end")
        if not start_d <= acq_end <= end_d:
            raise InputError(f"acquisition_end ({acq_end.date()}) must lie in [start, end]")
    if model not in ("bgnbd", "pareto_nbd"):
        raise InputError(f"model must be 'bgnbd' or 'pareto_nbd', got {shown(model)}")
    defaults = BGNBD_CDNOW if model == "bgnbd" else PARETO_NBD_CDNOW
    unknown = set(params or {}) - set(defaults)
    if unknown:
        raise InputError(f"unknown {model} parameters {sorted(unknown)}; expected {sorted(defaults)}")
    btyd = {**defaults, **{k: float(v) for k, v in (params or {}).items()}}
    unknown = set(spend_params or {}) - set(GAMMA_GAMMA_CDNOW)
    if unknown:
        raise InputError(f"unknown spend parameters {sorted(unknown)}; expected ['p', 'q', 'v']")
    spend = {**GAMMA_GAMMA_CDNOW, **{k: float(v) for k, v in (spend_params or {}).items()}}
    weekday = normalise_profile(weekly_seasonality, 7, "weekly_seasonality")
    month = normalise_profile(yearly_seasonality, 12, "yearly_seasonality")
    if not np.isfinite(spend_seasonality) or spend_seasonality < 0:
        raise InputError(f"spend_seasonality must be a non-negative number, got {shown(spend_seasonality)}")
    mix = dict(CHANNEL_MIX if channel_mix is None else channel_mix)
    if not mix or any((not np.isfinite(w)) or w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
        raise InputError(f"channel_mix must map channel names to non-negative shares, got {shown(mix)}")
    if isinstance(n_products, bool) or not isinstance(n_products, (int, np.integer)) or n_products < 0:
        raise InputError(f"n_products must be a non-negative integer (0: no products), got {shown(n_products)}")
    if not (np.isfinite(category_concentration) and category_concentration > 0):
        raise InputError(f"category_concentration must be a positive number, got {shown(category_concentration)}")
    if not (np.isfinite(return_rate) and 0.0 <= return_rate < 1.0):
        raise InputError(f"return_rate is the mean share of purchases returned, in [0, 1), got {shown(return_rate)}")
    if isinstance(return_days, bool) or not isinstance(return_days, (int, np.integer)) or return_days < 1:
        raise InputError(f"return_days must be a whole number of days >= 1, got {shown(return_days)}")
    rng = np.random.default_rng(seed)

    # ---- births: acquisition days with weekday x month profile
    acq_days = pd.date_range(start_d, acq_end, freq="D")
    w = month[acq_days.month.to_numpy() - 1] * weekday[acq_days.day_of_week.to_numpy()]
    if w.sum() <= 0:
        raise InputError("the seasonal profiles give zero weight to every acquisition day")
    birth_idx = np.sort(rng.choice(len(acq_days), size=int(n_customers), p=w / w.sum()))
    birth_day = acq_days.to_numpy().astype("datetime64[D]")[birth_idx]
    n_days = (np.datetime64(end_d.date(), "D") - birth_day).astype(np.int64) + 1
    T = n_days / 7.0

    # ---- BTYD process in weeks
    if model == "bgnbd":
        sample = simulate_bgnbd_events(int(n_customers), T, seed=rng, **btyd)
    else:
        sample = simulate_pareto_nbd_events(int(n_customers), T, seed=rng, **btyd)
    owner = sample.events["customer"].to_numpy()
    t = sample.events["t"].to_numpy()
    offset = np.minimum(np.floor(7.0 * t).astype(np.int64), n_days[owner] - 1)
    birth_dow = ((birth_day.astype(np.int64) + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    if weekly_seasonality is not None:
        offset = _weekday_move(rng, owner, offset, birth_dow, n_days, weekday)

    # ---- timestamps (time of day in opening hours; repeats on day 0 after the first)
    lo, hi = _OPEN_HOURS
    tod0 = lo + (hi - lo) * rng.random(int(n_customers))
    tod = lo + (hi - lo) * rng.random(owner.size)
    same = offset == 0
    # a repeat purchase on the first-purchase day comes at least one second after it
    tod[same] = tod0[owner[same]] + 1 / 3600 + (hi - tod0[owner[same]] - 1 / 3600) * rng.random(int(same.sum()))
    cust_all = np.concatenate([np.arange(int(n_customers)), owner])
    day_all = np.concatenate([birth_day, birth_day[owner] + offset.astype("timedelta64[D]")])
    secs = np.floor(np.concatenate([tod0, tod]) * 3600.0).astype(np.int64)  # whole seconds
    ts = day_all.astype("datetime64[ns]") + secs.astype("timedelta64[s]").astype("timedelta64[ns]")

    # ---- spend
    n_tx = np.bincount(cust_all, minlength=int(n_customers))
    order = np.argsort(cust_all, kind="stable")
    nu, amounts_sorted = simulate_gamma_gamma_transactions(n_tx, seed=rng, **spend)
    amounts = np.empty_like(amounts_sorted)
    amounts[order] = amounts_sorted
    months = pd.DatetimeIndex(ts).month.to_numpy() - 1
    if spend_seasonality > 0 and yearly_seasonality is not None:
        factor = month**spend_seasonality
        amounts = amounts * (factor / factor.mean())[months]
    amounts = np.maximum(np.round(amounts, 2), 0.01)

    # ---- channels
    names = list(mix)
    probs = np.array([mix[k] for k in names], dtype=float)
    probs /= probs.sum()
    preferred = rng.choice(len(names), size=int(n_customers), p=probs)
    other = rng.choice(len(names), size=cust_all.size, p=probs)
    channel_idx = np.where(rng.random(cust_all.size) < 0.8, preferred[cust_all], other)

    width = max(5, len(str(int(n_customers))))
    ids = pd.Series(np.arange(1, int(n_customers) + 1)).astype(str).str.zfill(width)
    cust_ids = ("C" + ids).to_numpy(dtype=object)
    tx = pd.DataFrame(
        {
            "customer_id": pd.array(cust_ids[cust_all], dtype=STRING),
            "timestamp": ts,
            "amount": amounts.astype(np.float64),
            "channel": pd.array(np.asarray(names, dtype=object)[channel_idx], dtype=STRING),
        }
    )
    tx = tx.sort_values(["timestamp", "customer_id"], kind="stable").reset_index(drop=True)
    owidth = max(6, len(str(len(tx))))
    tx.insert(
        3, "order_id", pd.array(("O" + pd.Series(np.arange(1, len(tx) + 1)).astype(str).str.zfill(owidth)).to_numpy(dtype=object), dtype=STRING)
    )
    tx["timestamp"] = tx["timestamp"].astype("datetime64[ns]")

    truth = sample.customers.drop(columns=["customer"]).copy()
    catalogue: pd.DataFrame | None = None
    notes_extra: list[str] = []
    if n_products or return_rate:
        # a stream of its own: the purchases above are exactly those drawn without products and returns
        rng_x = np.random.default_rng([0 if seed is None else int(seed), 0x5EED])
        cust_idx = pd.Series(np.arange(int(n_customers)), index=cust_ids).reindex(
            tx["customer_id"].to_numpy(dtype=object)).to_numpy()
        if n_products:
            catalogue, product = _draw_products(rng_x, int(n_products), cust_idx, int(n_customers),
                                                float(category_concentration))
            tx["product"] = pd.array(product, dtype=STRING)
        if return_rate:
            tx, propensity, n_late = _draw_returns(rng_x, tx, cust_idx, int(n_customers), float(return_rate),
                                                   int(return_days), end_d)
            truth["return_propensity"] = propensity
            notes_extra.append(f"{n_late} return(s) that would fall after the observation end are not in the data")
            is_ret = tx["amount"].to_numpy() < 0
            truth["returns"] = (
                pd.Series(is_ret, dtype="int64").groupby(tx["customer_id"].to_numpy(dtype=object)).sum()
                .reindex(cust_ids, fill_value=0).to_numpy()
            )
    truth.insert(0, "customer_id", pd.array(cust_ids, dtype=STRING))
    truth.insert(1, "first_purchase", ts[: int(n_customers)])
    truth["nu"] = nu
    truth["mean_spend"] = spend["p"] / nu
    truth["channel"] = pd.array(np.asarray(names, dtype=object)[preferred], dtype=STRING)

    all_params: dict[str, Any] = {
        "model": model,
        "btyd": btyd,
        "spend": spend,
        "start": str(start_d.date()),
        "end": str(end_d.date()),
        "acquisition_end": str(acq_end.date()),
        "n_customers": int(n_customers),
        "weekly_seasonality": weekday.tolist() if weekly_seasonality is not None else None,
        "yearly_seasonality": month.tolist() if yearly_seasonality is not None else None,
        "spend_seasonality": float(spend_seasonality) if yearly_seasonality is not None else 0.0,
        "channel_mix": {k: float(v) for k, v in zip(names, probs)},
        "seed": seed,
        "n_products": int(n_products),
        "category_concentration": float(category_concentration),
        "return_rate": float(return_rate),
        "return_days": int(return_days),
    }
    notes = [
        "amounts are rounded to cents (minimum 0.01)",
        "T counts the observation end day: T = ((end - first purchase day).days + 1) / 7",
    ] + notes_extra
    return SyntheticTransactions(tx, truth, all_params, "W", notes, catalogue)


def _draw_products(
    rng: np.random.Generator, n_products: int, cust_idx: np.ndarray, n_customers: int, concentration: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """The catalogue and one product per purchase line (see ``generate_transactions``)."""
    n_cat = min(len(PRODUCT_CATEGORIES), n_products)
    cat_of = np.arange(n_products) % n_cat
    rank = np.arange(n_products) // n_cat + 1  # rank of the product within its category
    weight = 1.0 / rank
    popularity = weight / np.bincount(cat_of, weights=weight)[cat_of]
    # gross margin by category (0.25 .. 0.6), a little noise per product
    cat_margin = np.linspace(0.25, 0.6, n_cat)[rng.permutation(n_cat)]
    margin = np.clip(np.round(cat_margin[cat_of] + rng.normal(0.0, 0.03, n_products), 3), 0.05, 0.9)
    width = max(3, len(str(n_products)))
    names = np.array([f"P{i + 1:0{width}d}" for i in range(n_products)], dtype=object)
    catalogue = pd.DataFrame({
        "product": pd.array(names, dtype=STRING),
        "category": pd.array(np.asarray(PRODUCT_CATEGORIES, dtype=object)[cat_of], dtype=STRING),
        "popularity": popularity,
        "gross_margin": margin,
    })
    pref = rng.dirichlet(np.full(n_cat, concentration), size=n_customers)
    cum = np.cumsum(pref, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(cust_idx.size)
    cat = (cum[cust_idx] < u[:, None]).sum(axis=1)
    # product within the category by popularity
    members = [np.flatnonzero(cat_of == c) for c in range(n_cat)]
    product = np.empty(cust_idx.size, dtype=np.int64)
    v = rng.random(cust_idx.size)
    for c in range(n_cat):
        rows = np.flatnonzero(cat == c)
        cw = np.cumsum(popularity[members[c]])
        cw[-1] = 1.0
        product[rows] = members[c][np.searchsorted(cw, v[rows], side="right").clip(0, len(members[c]) - 1)]
    return catalogue, names[product]


def _draw_returns(
    rng: np.random.Generator,
    tx: pd.DataFrame,
    cust_idx: np.ndarray,
    n_customers: int,
    return_rate: float,
    return_days: int,
    end_d: pd.Timestamp,
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Return lines for a random part of the purchases (see ``generate_transactions``)."""
    propensity = rng.beta(2.0 * return_rate / (1.0 - return_rate), 2.0, n_customers)
    returned = rng.random(len(tx)) < propensity[cust_idx]
    delay = rng.integers(1, return_days + 1, len(tx))
    lo, hi = _OPEN_HOURS
    secs = np.floor((lo + (hi - lo) * rng.random(len(tx))) * 3600.0).astype("timedelta64[s]")
    when = (tx["timestamp"].to_numpy().astype("datetime64[D]") + delay.astype("timedelta64[D]")).astype(
        "datetime64[ns]") + secs.astype("timedelta64[ns]")
    late = returned & (when >= np.datetime64((end_d + pd.Timedelta(days=1)).date(), "ns"))
    keep = returned & ~late
    ret = tx.loc[keep].copy()
    ret["timestamp"] = when[keep]
    ret["amount"] = -ret["amount"]
    ret["order_id"] = ret["order_id"].str.replace("O", "R", n=1)
    out = pd.concat([tx, ret], ignore_index=True)
    out = out.sort_values(["timestamp", "customer_id"], kind="stable").reset_index(drop=True)
    return out, propensity, int(late.sum())


def default_transactions(*, seed: int = 42) -> pd.DataFrame:
    """The built-in default transactions of the report chain.

    3,000 customers acquired 2023-01-01 to 2023-12-31 (weekend and
    November/December peaks), BG/NBD repeat purchases with the CDNOW
    estimates, gamma-gamma spend, observation end 2024-12-31
    (``crm_analysis.runtime.context.DEFAULT_AS_OF``); a catalogue of 40
    products in 8 categories (one product per purchase line) and returns of
    8 % of the purchases on average (negative amounts, dropped and counted by
    the default cleaning). The purchase lines are those drawn without
    products and returns, so the BTYD figures do not depend on them.

    Parameters
    ----------
    seed : int, default 42
        Seed of all randomness.

    Returns
    -------
    pandas.DataFrame
        Canonical transactions.
    """
    return generate_transactions(
        n_customers=3000, start="2023-01-01", end="2024-12-31", acquisition_end="2023-12-31", seed=seed,
        n_products=DEFAULT_PRODUCTS, return_rate=DEFAULT_RETURN_RATE,
    ).transactions


#: Old names of the simulators (issue #13 F12: crm_analysis.clv has functions of the same names with other
#: signatures); served with a FutureWarning.
_RENAMED = {'simulate_bgnbd': 'simulate_bgnbd_events', 'simulate_pareto_nbd': 'simulate_pareto_nbd_events', 'simulate_gamma_gamma': 'simulate_gamma_gamma_transactions'}
_WHY = ("crm_analysis.clv has simulators of the same models at the level of the RFM summary (simulate_bgnbd(r, alpha, a, b, *, n_customers, T, holdout)); these simulate the purchase events and transaction values")
__getattr__ = renamed_names(__name__, _RENAMED, globals(), why=_WHY)
