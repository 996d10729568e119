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

Which show rate? The probability that a booking **held at the decision time**
is eventually a stay. For a limit applied close to arrival (cancellations are
over) that is ``stayed / (stayed + no_show)`` (:func:`show_rates`, column
``show_rate_held``); for a limit on all bookings accepted early in the horizon,
with cancelled rooms not resold, it is ``stayed / (stayed + no_show + cancelled)``
(column ``show_rate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "overbooking_limit_service",
    "overbooking_limit_cost",
    "overbooking_curve",
    "OverbookingCurve",
    "show_rates",
]


def _check(capacity: int, show_rate: float) -> tuple[int, float]:
    if int(capacity) != capacity or capacity < 1:
        raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
    if not 0 < show_rate <= 1:
        raise ValueError(f"show_rate must be in (0, 1], got {show_rate!r}")
    return int(capacity), float(show_rate)


def _max_bookings(capacity: int, show_rate: float) -> int:
    """A booking count beyond any sensible limit (mean shows 20 sd above capacity)."""
    m = capacity / show_rate
    return int(np.ceil(m + 20 * np.sqrt(m) / show_rate)) + 10


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

    Examples
    --------
    >>> overbooking_limit_service(100, 0.9, 0.05)
    106
    """
    C, q = _check(capacity, show_rate)
    if not 0 <= max_denied_prob < 1:
        raise ValueError(f"max_denied_prob must be in [0, 1), got {max_denied_prob!r}")
    b = np.arange(C, _max_bookings(C, q) + 1)
    if criterion == "probability":
        measure = stats.binom.sf(C, b, q)
    elif criterion == "expected_per_booking":
        measure = _expected_denied(C, q, b) / b
    else:
        raise ValueError(f"criterion must be 'probability' or 'expected_per_booking', got {criterion!r}")
    bad = np.nonzero(measure > max_denied_prob)[0]
    if bad.size == 0:  # pragma: no cover - q so low that the grid is not enough
        raise ValueError("service level never binds on the search grid; check show_rate")
    return int(b[bad[0]] - 1) if bad[0] > 0 else C


def _expected_denied(C: int, q: float, b: np.ndarray) -> np.ndarray:
    """``E[(S_b - C)^+]`` for each ``b`` (exact sums over the binomial pmf)."""
    b = np.atleast_1d(b)
    k = np.arange(0, int(b.max()) + 1)
    pmf = stats.binom.pmf(k[None, :], b[:, None], q)
    return (pmf * np.maximum(k - C, 0)[None, :]).sum(axis=1)


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

    Examples
    --------
    >>> overbooking_limit_cost(100, 1.0, denied_cost=300, spoilage_cost=100)
    100
    """
    C, q = _check(capacity, show_rate)
    if not denied_cost > 0 or not spoilage_cost > 0:
        raise ValueError(f"denied_cost and spoilage_cost must be > 0, got {denied_cost}, {spoilage_cost}")
    ratio = denied_cost / (denied_cost + spoilage_cost)
    b = np.arange(C, _max_bookings(C, q) + 1)
    ok = np.nonzero(stats.binom.cdf(C - 1, b, q) <= ratio)[0]
    if ok.size == 0:  # pragma: no cover
        raise ValueError("no optimum on the search grid; check the inputs")
    return int(b[ok[0]])


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
    """
    C, q = _check(capacity, show_rate)
    if not fare > 0 or not denied_cost > 0:
        raise ValueError(f"fare and denied_cost must be > 0, got {fare}, {denied_cost}")
    if max_bookings is None:
        max_bookings = int(np.ceil(1.25 * C / q))
    if max_bookings < C:
        raise ValueError(f"max_bookings must be >= capacity, got {max_bookings} < {C}")
    b = np.arange(C, max_bookings + 1)
    k = np.arange(0, max_bookings + 1)
    pmf = stats.binom.pmf(k[None, :], b[:, None], q)
    denied = pmf @ np.maximum(k - C, 0)
    spoiled = pmf @ np.maximum(C - k, 0)
    occupied = pmf @ np.minimum(k, C)
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


def show_rates(bookings: pd.DataFrame, by: str | None = "segment") -> pd.DataFrame:
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
        raise ValueError("bookings need a 'status' column (stayed / cancelled / no_show)")
    status = bookings["status"].astype("string")
    bad = ~status.isin(["stayed", "cancelled", "no_show"])
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} bookings have a status outside stayed/cancelled/no_show: "
            f"{sorted(status[bad].dropna().unique().tolist())[:5]}"
        )
    w = bookings["units"].astype(float) if "units" in bookings.columns else pd.Series(1.0, index=bookings.index)
    if by is None:
        key = pd.Series("all", index=bookings.index, name="group")
    else:
        if by not in bookings.columns:
            raise ValueError(f"bookings have no column {by!r}")
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
