"""Static overbooking with a binomial show-up model.

Model (Talluri & van Ryzin 2004, sec. 4.2.1, the static model): ``b``
bookings are held at the decision time; each shows up independently with
probability ``q`` (the *show rate*), so the number of shows is
``S_b ~ Binomial(b, q)``. With capacity ``C`` the hotel

* denies service to ``(S_b - C)^+`` guests (each costs ``denied_cost``: walk
  cost, compensation, goodwill), and
* leaves ``(C - S_b)^+`` rooms empty (*spoilage*; each costs
  ``spoilage_cost``, usually the fare the room could have earned).

Revenue is taken to be earned only from guests who stay:
``fare * min(S_b, C) - denied_cost * (S_b - C)^+`` (no-show fees ignored).

Computation: the limits are found by bisection on the booking count (the
service measures increase and ``P(S_b < C)`` decreases with ``b``), and the
expectations come in closed form from binomial tail probabilities
(``E[(S_b - C)^+] = b q P(S'_{b-1} >= C) - C P(S_b > C)`` with
``S'_{b-1} ~ Binomial(b - 1, q)``, and ``E[(C - S_b)^+]`` likewise), so
memory does not grow with the booking limit: a show rate of ``1e-5`` gives a
limit of about ten million bookings for 100 rooms, computed in
milliseconds. :func:`overbooking_curve` tabulates one row per limit and
refuses more than :data:`MAX_CURVE_ROWS` rows.

Which show rate? The probability that a booking **held at the decision time**
is eventually a stay. For a limit applied close to arrival (cancellations are
over) that is ``stayed / (stayed + no_show)`` (:func:`show_rates`, column
``show_rate_held``); for a limit on all bookings accepted early in the horizon,
with cancelled rooms not resold, it is ``stayed / (stayed + no_show + cancelled)``
(column ``show_rate``).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

from crm_analysis._validate import check_count, check_probability

__all__ = [
    "MAX_CURVE_ROWS",
    "overbooking_limit_service",
    "overbooking_limit_cost",
    "overbooking_curve",
    "OverbookingCurve",
    "show_rates",
]


#: Most rows :func:`overbooking_curve` tabulates (one row per booking limit).
MAX_CURVE_ROWS = 1_000_000
# Largest booking count searched: beyond 2**53 integers are not exact in floating point.
_MAX_SEARCH = 2**53


def _check(capacity: int, show_rate: float) -> tuple[int, float]:
    return check_count(capacity, "capacity", minimum=1), check_probability(show_rate, "show_rate")


def _max_bookings(capacity: int, show_rate: float) -> int:
    """A booking count beyond any sensible limit (mean shows 20 sd above capacity)."""
    m = capacity / show_rate
    upper = m + 20 * np.sqrt(m) / show_rate + 10
    if not upper < _MAX_SEARCH:
        raise InputError(
            f"show_rate={show_rate!r} with capacity={capacity} would need more than 2**53 bookings to fill the "
            "rooms; check show_rate (the probability that a held booking shows up, e.g. 0.95)"
        )
    return int(np.ceil(upper))


def _last_true(ok: "callable", lo: int, hi: int) -> int:
    """Largest ``b`` in ``lo..hi`` with ``ok(b)``, for ``ok`` true up to a point and false after; ``ok(lo)`` holds."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _expected_denied(C: int, q: float, b: np.ndarray | int) -> np.ndarray:
    """``E[(S_b - C)^+]`` for each ``b``, exactly from binomial tails.

    ``E[S_b 1{S_b > C}] = b q P(Binomial(b - 1, q) >= C)`` (the size-biased
    binomial), so ``E[(S_b - C)^+] = b q P(Binomial(b - 1, q) > C - 1) - C P(S_b > C)``.
    """
    b = np.atleast_1d(np.asarray(b, dtype=float))
    out = b * q * stats.binom.sf(C - 1, b - 1, q) - C * stats.binom.sf(C, b, q)
    return np.maximum(out, 0.0)


def _expected_spoiled(C: int, q: float, b: np.ndarray | int) -> np.ndarray:
    """``E[(C - S_b)^+] = C P(S_b <= C - 1) - b q P(Binomial(b - 1, q) <= C - 2)``."""
    b = np.atleast_1d(np.asarray(b, dtype=float))
    out = C * stats.binom.cdf(C - 1, b, q) - b * q * stats.binom.cdf(C - 2, b - 1, q)
    return np.maximum(out, 0.0)


def overbooking_limit_service(
    capacity: int,
    show_rate: float,
    max_denied_prob: float,
    *,
    criterion: str = "probability",
) -> int:
    """Largest booking limit meeting a service level on denied service.

    ``criterion="probability"``: the largest ``b >= C`` with
    ``P(S_b > C) <= max_denied_prob`` (``P(S_b > C)`` increases with ``b``).

    ``criterion="expected_per_booking"``: the largest ``b >= C`` such that
    every ``b' in C..b`` has ``E[(S_b' - C)^+] / b' <= max_denied_prob``
    (expected denied guests per booking; the limit stops at the first violation).

    Parameters
    ----------
    capacity : int
        Rooms ``C``.
    show_rate : float
        Probability ``q`` that a booking held at the decision time shows.
    max_denied_prob : float
        The service level, in ``[0, 1)``.
    criterion : {"probability", "expected_per_booking"}
        Which service measure.

    Returns
    -------
    int
        The booking limit (``C`` when even ``C + 1`` bookings break the level).

    Raises
    ------
    ValueError
        On a capacity that is not a whole number >= 1, a show rate outside
        ``(0, 1]`` (NaN included), a level outside ``[0, 1)``, or, with
        ``"expected_per_booking"``, a level at or above the show rate (no
        finite limit); each names the argument and the value. A tiny show
        rate is not an error: the limit is found by bisection without
        memory growing with it.

    Examples
    --------
    >>> overbooking_limit_service(100, 0.9, 0.05)
    106
    """
    C, q = _check(capacity, show_rate)
    max_denied_prob = check_probability(max_denied_prob, "max_denied_prob", zero=True, one=False)
    if criterion == "probability":
        def measure(b: int) -> float:
            return float(stats.binom.sf(C, b, q))
    elif criterion == "expected_per_booking":
        if max_denied_prob >= q:
            raise InputError(
                f"max_denied_prob={max_denied_prob!r} with criterion='expected_per_booking' never binds: expected "
                f"denied guests per booking stay below show_rate={shown(q)} however many bookings are taken, so there "
                "is no finite limit; choose max_denied_prob below the show rate"
            )

        def measure(b: int) -> float:
            return float(_expected_denied(C, q, b)[0] / b)
    else:
        raise InputError(f"criterion must be 'probability' or 'expected_per_booking', got {shown(criterion)}")
    hi = _max_bookings(C, q)
    while measure(hi) <= max_denied_prob:  # a level near its supremum: search further out
        hi *= 2
        if hi >= _MAX_SEARCH:  # pragma: no cover - needs a level within ~1e-16 of its supremum
            raise InputError(f"max_denied_prob={max_denied_prob!r} does not bind below 2**53 bookings")
    # both measures are 0 at b = C and non-decreasing in b (see the module docstring)
    return _last_true(lambda b: measure(b) <= max_denied_prob, C, hi)


def overbooking_limit_cost(capacity: int, show_rate: float, denied_cost: float, spoilage_cost: float) -> int:
    """Cost-minimising booking limit (marginal analysis, newsvendor form).

    The expected cost of holding ``b`` bookings is
    ``G(b) = denied_cost * E[(S_b - C)^+] + spoilage_cost * E[(C - S_b)^+]``.
    Adding booking ``b + 1`` changes it by
    ``G(b+1) - G(b) = q * (denied_cost * P(S_b >= C) - spoilage_cost * P(S_b < C))``:
    the extra booking shows with probability ``q``; it is denied if the ``b``
    others already fill the hotel, else it fills a room that would be empty.
    ``P(S_b < C)`` decreases in ``b``, so ``G`` is convex and the optimum is
    the smallest ``b`` at which one more booking no longer strictly lowers
    the cost:

    ``b* = min{ b >= 0 : P(S_b <= C - 1) <= denied_cost / (denied_cost + spoilage_cost) }``

    i.e. book one more while ``spoilage_cost * P(S_b < C) > denied_cost * P(S_b >= C)``
    (cf. Talluri & van Ryzin 2004, sec. 4.2.1).

    Parameters
    ----------
    capacity : int
        Rooms ``C``.
    show_rate : float
        Show probability ``q`` of a held booking.
    denied_cost : float
        Cost of one denied guest (``> 0``).
    spoilage_cost : float
        Cost of one empty room, usually the fare (``> 0``).

    Returns
    -------
    int
        The optimal booking limit ``b* >= C``.

    Raises
    ------
    ValueError
        On a capacity that is not a whole number >= 1, a show rate outside
        ``(0, 1]``, or costs that are not finite and positive.

    Examples
    --------
    >>> overbooking_limit_cost(100, 1.0, denied_cost=300, spoilage_cost=100)
    100
    """
    C, q = _check(capacity, show_rate)
    if not np.isfinite(denied_cost) or not np.isfinite(spoilage_cost) or not denied_cost > 0 or not spoilage_cost > 0:
        raise InputError(f"denied_cost and spoilage_cost must be finite and > 0, got {denied_cost}, {spoilage_cost}")
    ratio = denied_cost / (denied_cost + spoilage_cost)
    hi = _max_bookings(C, q)

    def more(b: int) -> bool:  # one more booking still lowers the expected cost
        return bool(stats.binom.cdf(C - 1, b, q) > ratio)

    while more(hi):  # a critical ratio near 0: search further out
        hi *= 2
        if hi >= _MAX_SEARCH:  # pragma: no cover - needs a ratio within ~1e-16 of 0
            raise InputError(f"no optimum below 2**53 bookings for denied_cost={denied_cost!r}, "
                             f"spoilage_cost={spoilage_cost!r}")
    if not more(C):
        return C
    return _last_true(more, C, hi) + 1


@dataclass
class OverbookingCurve:
    """Expected outcomes against the booking limit.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by ``bookings`` (the limit ``b``); columns ``expected_shows``,
        ``expected_occupied``, ``expected_denied``, ``expected_spoiled``,
        ``prob_denied`` (``P(S_b > C)``), ``expected_revenue`` (``fare *
        E[min(S_b, C)] - denied_cost * E[(S_b - C)^+]``).
    capacity, show_rate, fare, denied_cost
        The inputs.
    best_limit : int
        The booking limit with the highest expected revenue (equals
        :func:`overbooking_limit_cost` with ``spoilage_cost = fare``).
    """

    table: pd.DataFrame
    capacity: int
    show_rate: float
    fare: float
    denied_cost: float
    best_limit: int

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Expected revenue (left axis) and denied / spoiled rooms (right axis) per limit."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4))
        else:
            fig = ax.figure
        t = self.table
        ax.plot(t.index, t["expected_revenue"], color="C0", label="expected revenue")
        ax.axvline(self.best_limit, color="C0", ls="--", lw=0.8, label=f"best limit = {self.best_limit}")
        ax.set_xlabel("booking limit (bookings held)")
        ax.set_ylabel("expected revenue")
        ax2 = ax.twinx()
        ax2.plot(t.index, t["expected_denied"], color="C3", label="expected denied guests")
        ax2.plot(t.index, t["expected_spoiled"], color="C2", label="expected empty rooms")
        ax2.set_ylabel("rooms")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize="small", loc="lower left")
        ax.set_title(f"Overbooking curve (C = {self.capacity}, show rate = {self.show_rate:.3f})")
        return fig


def overbooking_curve(
    capacity: int,
    show_rate: float,
    fare: float,
    denied_cost: float,
    *,
    max_bookings: int | None = None,
) -> OverbookingCurve:
    """Expected revenue, denied guests and empty rooms for booking limits ``C..max_bookings``.

    Parameters
    ----------
    capacity : int
        Rooms ``C``.
    show_rate : float
        Show probability ``q`` of a held booking.
    fare : float
        Revenue of one occupied room (``> 0``).
    denied_cost : float
        Cost of one denied guest (``> 0``).
    max_bookings : int, optional
        Largest limit shown; default ``ceil(1.25 * C / q)``.

    Returns
    -------
    OverbookingCurve

    Raises
    ------
    ValueError
        On a capacity, show rate, fare or cost out of range (named), or a
        curve of more than :data:`MAX_CURVE_ROWS` rows (a show rate near 0
        with the default ``max_bookings``): pass a smaller ``max_bookings``.
    """
    C, q = _check(capacity, show_rate)
    if not np.isfinite(fare) or not np.isfinite(denied_cost) or not fare > 0 or not denied_cost > 0:
        raise InputError(f"fare and denied_cost must be finite and > 0, got {fare}, {denied_cost}")
    default = max_bookings is None
    if default:
        top = np.ceil(1.25 * C / q)
        max_bookings = int(top) if top < _MAX_SEARCH else _MAX_SEARCH
    max_bookings = check_count(max_bookings, "max_bookings", minimum=1)
    if max_bookings < C:
        raise InputError(f"max_bookings must be >= capacity, got {max_bookings} < {C}")
    if max_bookings - C + 1 > MAX_CURVE_ROWS:
        how = f"the default ceil(1.25 * capacity / show_rate) with show_rate={shown(q)}" if default else "as given"
        raise InputError(
            f"overbooking_curve: limits {C:,}..{max_bookings:,} ({how}) would be "
            f"{max_bookings - C + 1:,} rows, more than MAX_CURVE_ROWS={MAX_CURVE_ROWS:,}; pass a smaller "
            "max_bookings, or check show_rate (the probability that a held booking shows up, e.g. 0.95)"
        )
    b = np.arange(C, max_bookings + 1)
    denied = _expected_denied(C, q, b)
    spoiled = _expected_spoiled(C, q, b)
    occupied = C - spoiled
    table = pd.DataFrame(
        {
            "expected_shows": b * q,
            "expected_occupied": occupied,
            "expected_denied": denied,
            "expected_spoiled": spoiled,
            "prob_denied": stats.binom.sf(C, b, q),
            "expected_revenue": fare * occupied - denied_cost * denied,
        },
        index=pd.Index(b, name="bookings"),
    )
    best = int(table["expected_revenue"].idxmax())
    return OverbookingCurve(table, C, q, float(fare), float(denied_cost), best)


def show_rates(bookings: pd.DataFrame, *, by: str | None = "segment") -> pd.DataFrame:
    """Show, cancellation and no-show rates from canonical bookings.

    Counts are weighted by ``units`` (rooms) when that column is present.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings with ``status`` in ``stayed``, ``cancelled``, ``no_show``.
    by : str or None, default "segment"
        Grouping column (e.g. ``"segment"``, ``"fare_class"``); ``None`` for
        one overall row (index ``"all"``).

    Returns
    -------
    pandas.DataFrame
        Per group: ``bookings``, ``stayed``, ``cancelled``, ``no_show``,
        ``show_rate = stayed / (stayed + no_show + cancelled)`` (of all
        bookings ever made), ``cancel_rate``, ``no_show_rate_held =
        no_show / (stayed + no_show)`` and ``show_rate_held = stayed /
        (stayed + no_show)`` (of bookings still held once cancellations are
        over). Overbooking uses the show rate of the bookings held at the
        decision time (see the module docstring).

    Raises
    ------
    ValueError
        When ``status`` (or ``by``) is missing or has values outside the schema.
    """
    if "status" not in bookings.columns:
        raise InputError("bookings need a 'status' column (stayed / cancelled / no_show)")
    status = bookings["status"].astype("string")
    bad = ~status.isin(["stayed", "cancelled", "no_show"])
    if bad.any():
        raise InputError(
            f"{int(bad.sum())} bookings have a status outside stayed/cancelled/no_show: "
            f"{sorted(status[bad].dropna().unique().tolist())[:5]}"
        )
    w = bookings["units"].astype(float) if "units" in bookings.columns else pd.Series(1.0, index=bookings.index)
    if by is None:
        key = pd.Series("all", index=bookings.index, name="group")
    else:
        if by not in bookings.columns:
            raise InputError(f"bookings have no column {by!r}")
        key = bookings[by]
    counts = (
        pd.DataFrame({"key": key.to_numpy(), "status": status.to_numpy(), "w": w.to_numpy()})
        .pivot_table(index="key", columns="status", values="w", aggfunc="sum", fill_value=0.0)
        .reindex(columns=["stayed", "cancelled", "no_show"], fill_value=0.0)
    )
    counts.index.name = by or "group"
    out = counts.copy()
    out.insert(0, "bookings", counts.sum(axis=1))
    held = counts["stayed"] + counts["no_show"]
    out["show_rate"] = counts["stayed"] / out["bookings"]
    out["cancel_rate"] = counts["cancelled"] / out["bookings"]
    out["no_show_rate_held"] = (counts["no_show"] / held).where(held > 0)
    out["show_rate_held"] = (counts["stayed"] / held).where(held > 0)
    out.columns.name = None
    return out
