"""Overbooking over the booking horizon and the replay of capacity-control policies on a booking stream.

Show rates by days out
----------------------
:func:`show_rates_by_days_out`: of the rooms on the books for a night ``d``
days before it (:func:`crm_analysis.seasonality.on_the_books`: booked by then,
not cancelled by then), the share that is finally a stay (status
``stayed``): ``q(d) = sum_t stayed_OTB(t, d) / sum_t OTB(t, d)``. Far from
arrival it is low (most cancellations are still to come); at ``d = 0`` it is
the no-show-only show rate of the static rule
(:func:`~crm_analysis.yield_management.show_rates`, ``show_rate_held``).

Limits by days out
------------------
:func:`overbooking_limits_by_days_out`: for each ``d`` the binomial limits of
:mod:`~crm_analysis.yield_management.overbooking` with the show rate
``q(d)``: a service level (``P(shows > C) <= max_denied_prob``) and a cost
rule (walk cost against the revenue of an empty room). The limit applies to
the rooms held for the night ``d`` days before it (T&vR 2004, sec. 4.2:
the static model applied at each point of the horizon with the show rate of
the bookings held then).

Replay
------
:func:`replay_policies` runs a booking stream (every request with its real
outcome: stayed, cancelled on its cancellation date, no-show) through
capacity controls, in booking-date order (cancellations at the end of their
day). A request is accepted only if every night of its stay accepts it:

* ``"fcfs"``: rooms held + rooms asked <= the night's limit;
* ``"emsr_b"``: nested booking limits per fare class (EMSR-b from the night's
  class demand forecast, Belobaba 1989), with the limit of the class and all
  lower classes;
* ``"dp"``: bid-price control from the dynamic programme
  (:mod:`~crm_analysis.yield_management.dynamic`): the fare of the
  request's class (the fare the programme is solved with: bid prices are in
  the programme's money, not in the booking's own seasonal rate) times the
  rooms and priced nights must be at least the sum of the nights' bid prices
  at the rooms left.

"With overbooking" the night's limit is the days-out limit ``b(d)`` instead of
the rooms ``C`` (for EMSR-b every class limit is raised by ``b(d) - C``; for
the DP the rooms left are ``b(d) - held``, or with ``dp_show_rate`` the net
rooms left ``C - round(q(d) * held)`` under the hold limit ``b(d)``). At each night the accepted
bookings that stay are housed, in-house guests first; if arrivals exceed the
free rooms the lowest-rate arrivals are *walked* (no revenue, a walk cost
each). Every request ends in exactly one state: ``refused``, ``cancelled``,
``no_show``, ``shown`` or ``walked`` (:attr:`ReplayResult.outcomes`);
revenue is the rate times rooms times nights of the shown bookings
(:func:`replay_policies` checks both identities on every run).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crm_analysis.seasonality.pickup import _on_the_books
from crm_analysis.data.booking_records import check_booking_records
from crm_analysis.yield_management.capacity import booking_limits, emsr_b
from crm_analysis.yield_management.dynamic import DynamicDPResult
from crm_analysis.yield_management.overbooking import overbooking_limit_cost, overbooking_limit_service

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "OUTCOMES",
    "show_rates_by_days_out",
    "overbooking_limits_by_days_out",
    "ReplayPolicy",
    "ReplayResult",
    "replay_policies",
    "replay_replications",
]

#: The states a request of the replay ends in (each request exactly one).
OUTCOMES: tuple[str, ...] = ("refused", "cancelled", "no_show", "shown", "walked")


def show_rates_by_days_out(
    bookings: pd.DataFrame, *, start: object, end: object, max_lead: int = 365
) -> pd.DataFrame:
    """Share of the rooms on the books ``d`` days before a night that are finally stays.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings with ``status`` and ``cancellation_date``.
    start, end : date-like
        Nights whose final outcome is known (e.g. the training period).
    max_lead : int, default 365

    Returns
    -------
    pandas.DataFrame
        Index ``days_before`` (0..max_lead): ``on_books`` (room-nights held
        ``d`` days before, summed over the nights), ``stayed``, ``show_rate``
        (``stayed / on_books``) and ``cancel_to_come`` (share of those
        cancelled later); NaN where nothing was on the books that far out.

    Raises
    ------
    ValueError
        On booking records that cannot be placed on the horizon, or when no
        room is on the books for any of the nights (naming the data's dates).
    """
    check_booking_records(bookings, what="show_rates_by_days_out")
    # checked above under this function's name: the unchecked on_the_books, so each record is checked once
    otb = _on_the_books(bookings, start=start, end=end, max_lead=max_lead).total().sum(axis=0)
    if not (otb > 0).any():  # every rate would be NaN (and read as "no data" downstream)
        b0, b1 = bookings["arrival_date"].min(), bookings["arrival_date"].max()
        raise InputError(f"show_rates_by_days_out: no room is on the books for the nights {pd.Timestamp(start):%Y-%m-%d} "
                         f"to {pd.Timestamp(end):%Y-%m-%d}; the bookings arrive from {b0:%Y-%m-%d} to {b1:%Y-%m-%d}")
    stayed = bookings[bookings["status"].astype("object") == "stayed"]
    st = _on_the_books(stayed, start=start, end=end, max_lead=max_lead).total().sum(axis=0)
    canc = bookings[bookings["status"].astype("object") == "cancelled"]
    ca = _on_the_books(canc, start=start, end=end, max_lead=max_lead).total().sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({"on_books": otb, "stayed": st, "show_rate": np.where(otb > 0, st / otb, np.nan),
                            "cancel_to_come": np.where(otb > 0, ca / otb, np.nan)},
                           index=pd.Index(np.arange(max_lead + 1), name="days_before"))
    return out


def overbooking_limits_by_days_out(
    show_rate: pd.Series | np.ndarray,
    capacity: int,
    *,
    max_denied_prob: float = 0.05,
    walk_cost: float | None = None,
    empty_room_cost: float | None = None,
) -> pd.DataFrame:
    """Booking limits for each number of days before the night.

    Parameters
    ----------
    show_rate : pandas.Series or array
        ``q(d)``, ``d = 0..D`` (e.g. :func:`show_rates_by_days_out` ``["show_rate"]``);
        a missing or zero rate (no bookings that far out) takes the rate of
        the nearest ``d`` closer to arrival (at ``d = 0``, of the nearest
        farther one); at least one rate must be positive.
    capacity : int
        Rooms ``C``.
    max_denied_prob : float, default 0.05
        Service level: ``P(shows > C)``.
    walk_cost, empty_room_cost : float, optional
        Cost rule (both needed for the ``limit_cost`` column).

    Returns
    -------
    pandas.DataFrame
        Index ``days_before``: ``show_rate``, ``limit_service`` and (with
        costs) ``limit_cost``.

    Raises
    ------
    ValueError
        When no ``d`` has a positive show rate (every booking held cancelled:
        no limit is finite), on a rate above 1, or when only one of
        ``walk_cost`` / ``empty_room_cost`` is given (naming the other).
    """
    q = pd.Series(np.asarray(show_rate, dtype=float))
    if not (q > 0).any():
        raise InputError(f"no days out has a positive show rate (got {q.head(5).tolist()}...): no booking held "
                         "finally stayed (every one cancelled, or none on the books), so no booking limit is "
                         "finite; check the bookings' statuses and the nights of show_rates_by_days_out")
    if (walk_cost is None) != (empty_room_cost is None):
        raise InputError(f"the cost rule needs both walk_cost and empty_room_cost; got walk_cost={walk_cost!r}, "
                         f"empty_room_cost={empty_room_cost!r} (give both, or neither for the service level only)")
    for name, v in (("walk_cost", walk_cost), ("empty_room_cost", empty_room_cost)):
        if v is not None and not (np.isfinite(float(v)) and float(v) > 0):
            raise InputError(f"{name} must be a cost > 0, got {shown(v)}")
    # a missing or zero rate takes the nearest d closer to arrival; d = 0 (and any d before the first rate)
    # the nearest farther one
    q = q.where(q > 0).ffill().bfill()
    lim_s = [overbooking_limit_service(capacity, float(v), max_denied_prob) for v in q]
    out = pd.DataFrame({"show_rate": q.to_numpy(), "limit_service": lim_s},
                       index=pd.Index(np.arange(len(q)), name="days_before"))
    if walk_cost is not None and empty_room_cost is not None:
        out["limit_cost"] = [overbooking_limit_cost(capacity, float(v), walk_cost, empty_room_cost) for v in q]
    return out


@dataclass(frozen=True)
class ReplayPolicy:
    """A capacity control of the replay.

    Parameters
    ----------
    control : {"fcfs", "emsr_b", "dp"}
    overbooking : bool
        Use the days-out limits instead of the rooms.
    name : str, optional
        Label (default ``"<control>"`` or ``"<control> + overbooking"``).
    """

    control: str
    overbooking: bool = False
    name: str | None = None

    @property
    def label(self) -> str:
        """The policy's label."""
        base = {"fcfs": "FCFS", "emsr_b": "EMSR-b", "dp": "DP bid price"}.get(self.control, self.control)
        return self.name or (base + (" + overbooking" if self.overbooking else ""))


@dataclass
class ReplayResult:
    """Outcome of :func:`replay_policies`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per policy: ``revenue``, ``walk_cost``, ``net_revenue``,
        ``revpar`` (revenue per available room-night), ``occupancy``,
        ``adr``, ``walked`` (rooms walked on the scored nights), ``empty_rooms``
        (room-nights), ``requests_<outcome>`` (requests in each state of
        :data:`OUTCOMES`, all nights), ``net_revpar_low`` / ``_high`` (95 %
        bootstrap interval over weeks).
    nightly : pandas.DataFrame
        ``policy``, ``night``, ``occupied``, ``walked``, ``empty``, ``revenue``.
    outcomes : pandas.DataFrame
        ``policy``, ``booking_id``, ``outcome`` (one of :data:`OUTCOMES`) per request.
    capacity : int
    notes : list of str
    """

    summary: pd.DataFrame
    nightly: pd.DataFrame
    outcomes: pd.DataFrame
    capacity: int
    notes: list[str] = field(default_factory=list)

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Net revenue per available room-night (RevPAR after walk costs) by policy."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 3.5))
        else:
            fig = ax.figure
        s = self.summary
        y = np.arange(len(s))
        ax.barh(y, s["net_revpar"])
        if {"net_revpar_low", "net_revpar_high"} <= set(s.columns):
            ax.errorbar(s["net_revpar"], y, xerr=[s["net_revpar"] - s["net_revpar_low"],
                                                   s["net_revpar_high"] - s["net_revpar"]], fmt="none", color="k")
        ax.set_yticks(y, s.index)
        ax.set_xlabel("net RevPAR (revenue minus walk costs per available room-night)")
        ax.set_title("Policy replay on the booking stream")
        return fig


def _prep_stream(requests: pd.DataFrame, day0: pd.Timestamp, classes: Sequence[str] | None, class_col: str):
    r = requests.sort_values(["booking_date", "booking_id"], kind="stable").reset_index(drop=True)
    bday = ((r["booking_date"] - day0).dt.days).to_numpy(np.int64)
    arr = ((r["arrival_date"] - day0).dt.days).to_numpy(np.int64)
    nights = r["nights"].to_numpy(np.int64)
    units = (r["units"] if "units" in r.columns else pd.Series(1, index=r.index)).to_numpy(np.int64)
    rate = r["rate"].to_numpy(float)
    status = r["status"].astype("object").to_numpy()
    cd = r["cancellation_date"] if "cancellation_date" in r.columns else pd.Series(pd.NaT, index=r.index)
    cday = np.where(cd.notna(), (cd - day0).dt.days.fillna(0).to_numpy(np.int64), arr)  # undated: at arrival
    cday = np.minimum(np.maximum(cday, bday), arr)
    if classes is None:
        cls = np.zeros(len(r), dtype=np.int64)
    else:
        lookup = {c: i for i, c in enumerate(classes)}
        vals = r[class_col].astype("object")
        miss = ~vals.isin(list(lookup))
        if miss.any():
            raise InputError(f"{int(miss.sum())} request(s) have a {class_col} without a fare "
                             f"(e.g. {vals[miss].iloc[0]!r}); known classes: {list(classes)}")
        cls = vals.map(lookup).to_numpy(np.int64)
    return r, bday, arr, nights, units, rate, status, cday, cls


def replay_policies(
    requests: pd.DataFrame,
    policies: Sequence[ReplayPolicy],
    *,
    capacity: int,
    start: object,
    end: object,
    limits: np.ndarray | None = None,
    class_fares: Mapping[str, float] | None = None,
    class_demand: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    dp: Mapping[int, DynamicDPResult] | Sequence[DynamicDPResult] | None = None,
    dp_group: np.ndarray | None = None,
    class_column: str = "fare_class",
    walk_cost: float = 0.0,
    dp_show_rate: np.ndarray | None = None,
) -> ReplayResult:
    """Replay a booking stream under capacity-control policies (see the module docstring).

    Parameters
    ----------
    requests : pandas.DataFrame
        Canonical bookings: every request with its real outcome (``status``,
        ``cancellation_date``), ``rate`` per room-night, ``units``.
    policies : sequence of ReplayPolicy
    capacity : int
        Rooms ``C``.
    start, end : date-like
        Nights scored (RevPAR, occupancy, walks, empty rooms). Requests for
        other nights are replayed too (they hold rooms), but not scored.
    limits : numpy.ndarray, optional
        Booking limit by days before the night, ``limits[d]`` for
        ``d = 0..D`` (later days use ``limits[D]``); needed by policies with
        overbooking. A 2-D array ``(scored nights, D + 1)`` gives a limit per
        scored night and days before (e.g. from the expected shows of the
        bookings on hand, :func:`~crm_analysis.yield_management.shows.show_forecast`);
        the nights not scored then keep the rooms ``C``.
    class_fares : mapping, optional
        Fare class -> fare; needed by ``emsr_b`` and ``dp``. The classes are
        ranked by fare (highest first).
    class_demand : mapping, optional
        Fare class -> ``(mean, std)`` arrays of the class's rooms per scored
        night (``start..end``); needed by ``emsr_b``.
    dp : mapping or sequence of DynamicDPResult, optional
        Solved dynamic programmes (fares ranked as ``class_fares``);
        ``dp_group[i]`` names the one of scored night ``i``. Needed by
        ``dp``. The rooms left are ``limit - held`` (``C - held`` without
        overbooking), capped at the programme's capacity (beyond it the
        bid prices of the programme's last unit apply).
    dp_group : numpy.ndarray of int, optional
    class_column : str, default "fare_class"
    walk_cost : float, default 0
        Cost per walked room (the guest is walked for the whole stay).
    dp_show_rate : numpy.ndarray, optional
        ``q(d)``, the share of the rooms held ``d`` days out that finally
        stay (:func:`show_rates_by_days_out`; later days use the last). With
        it the DP counts its rooms left *net*: ``C - round(q(d) * held)``,
        consistent with arrival rates of the requests that finally stay (the
        rates of :func:`~crm_analysis.yield_management.booking_horizon.run_booking_horizon`);
        the rooms held stay capped at the night's limit (``C`` without
        overbooking). Without it the rooms left are ``limit - held`` (gross),
        which with net arrival rates over-protects: the DP then sees the
        rooms of bookings that will still cancel as sold.

    Returns
    -------
    ReplayResult

    Raises
    ------
    ValueError
        On a policy missing its inputs, an unknown control, a request's class
        without a fare, or a failed accounting identity.
    """
    check_booking_records(requests, what="replay_policies", rate=True, unique_ids=True)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    if t1 < t0:
        raise InputError(f"end ({t1.date()}) is before start ({t0.date()})")
    C = int(capacity)
    notes: list[str] = []
    classes = None
    if class_fares is not None:
        classes = sorted(class_fares, key=lambda c: -float(class_fares[c]))
    day0 = min(t0, requests["booking_date"].min().normalize())
    r, bday, arr, nights, units, rate, status, cday, cls = _prep_stream(requests, day0, classes, class_column)
    n = len(r)
    span = int(max(arr.max() + nights.max(), (t1 - day0).days + 1)) + 2
    s0, s1 = (t0 - day0).days, (t1 - day0).days
    n_scored = s1 - s0 + 1
    lim = None if limits is None else np.asarray(limits, dtype=np.int64)
    if lim is not None and lim.ndim == 2 and lim.shape[0] != n_scored:
        raise InputError(f"limits has {lim.shape[0]} rows; a 2-D limits array needs one row per scored night "
                         f"({n_scored}, {t0.date()} to {t1.date()})")
    qn = None if dp_show_rate is None else np.asarray(dp_show_rate, dtype=float)
    if qn is not None and not ((qn > 0) & (qn <= 1)).all():
        raise InputError("dp_show_rate must hold show rates in (0, 1] (fill the days out without data first)")
    n_cls = 1 if classes is None else len(classes)
    # events: requests (type 0) then cancellations at the end of their day (type 1)
    will_cancel = status == "cancelled"
    ev_day = np.concatenate([bday, cday[will_cancel]])
    ev_type = np.concatenate([np.zeros(n, np.int8), np.ones(int(will_cancel.sum()), np.int8)])
    ev_id = np.concatenate([np.arange(n), np.flatnonzero(will_cancel)])
    order = np.lexsort((ev_id, ev_type, ev_day))
    ev_day, ev_type, ev_id = ev_day[order].tolist(), ev_type[order].tolist(), ev_id[order].tolist()

    arr_l, nights_l, units_l = arr.tolist(), nights.tolist(), units.tolist()  # fast scalar access in the loop
    summaries, nightly_rows, outcome_rows = {}, [], []
    for pol in policies:
        if pol.control not in ("fcfs", "emsr_b", "dp"):
            raise InputError(f"unknown control {pol.control!r}; use 'fcfs', 'emsr_b' or 'dp'")
        if pol.overbooking and lim is None:
            raise InputError(f"policy {pol.label!r} needs `limits` (booking limits by days out)")
        if pol.control in ("emsr_b", "dp") and classes is None:
            raise InputError(f"policy {pol.label!r} needs `class_fares`")
        blim = None
        if pol.control == "emsr_b":
            if class_demand is None:
                raise InputError(f"policy {pol.label!r} needs `class_demand` (mean, std per class and night)")
            f = np.array([class_fares[c] for c in classes], dtype=float)
            mu = np.column_stack([np.asarray(class_demand[c][0], float) for c in classes])
            sd = np.column_stack([np.asarray(class_demand[c][1], float) for c in classes])
            blim = np.full((span, n_cls), C, dtype=np.int64)  # unscored nights: FCFS
            for i in range(n_scored):
                y = emsr_b(f, mu[i], sd[i])
                blim[s0 + i] = booking_limits(y, C)
        if pol.control == "dp" and (dp is None or dp_group is None):
            raise InputError(f"policy {pol.label!r} needs `dp` and `dp_group`")
        dp_fares = np.array([class_fares[c] for c in classes], dtype=float) if classes is not None else None
        held = np.zeros((span, n_cls), dtype=np.int64)
        held_all = np.zeros(span, dtype=np.int64)  # held.sum(axis=1), kept up to date (the loop's hot spot)
        accepted = np.zeros(n, dtype=bool)
        for day, typ, i in zip(ev_day, ev_type, ev_id):
            a, m, u = arr_l[i], nights_l[i], units_l[i]
            if typ == 1:
                if accepted[i]:
                    held[a:a + m, cls[i]] -= u
                    held_all[a:a + m] -= u
                continue
            ok = True
            bid, bid_nights = 0.0, 0
            for t in range(a, a + m):
                d = t - day
                if not pol.overbooking:
                    cap = C
                elif lim.ndim == 1:
                    cap = int(lim[min(d, len(lim) - 1)])
                else:
                    cap = int(lim[t - s0, min(d, lim.shape[1] - 1)]) if s0 <= t <= s1 else C
                tot = int(held_all[t])
                if pol.control == "fcfs" or not (s0 <= t <= s1):
                    if tot + u > cap:
                        ok = False
                        break
                elif pol.control == "emsr_b":
                    k = cls[i]
                    extra = cap - C
                    if tot + u > cap or int(held[t, k:].sum()) + u > blim[t, k] + extra:
                        ok = False
                        break
                else:  # dp: bid price of the u rooms at the rooms left
                    res = dp[int(dp_group[t - s0])]
                    if tot + u > cap:
                        ok = False
                        break
                    net = cap - tot if qn is None else C - int(round(qn[min(d, qn.size - 1)] * tot))
                    left = min(net, res.capacity)
                    if left < u:
                        ok = False
                        break
                    tt = min(max(d, 1) * res.periods_per_day, res.bid_prices.shape[0])
                    bp = res.bid_prices
                    bid += float(bp[tt - 1, left - 1]) if u == 1 else float(bp[tt - 1, left - u:left].sum())
                    bid_nights += 1
            # bid-price control in the programme's money: the class fare (the fare the DP is solved with)
            # of each of the stay's priced nights against the sum of their bid prices
            if ok and pol.control == "dp" and dp_fares[cls[i]] * u * bid_nights < bid:
                ok = False
            if ok:
                accepted[i] = True
                held[a:a + m, cls[i]] += u
                held_all[a:a + m] += u
        # arrival nights: house in-house guests first, walk the lowest-rate arrivals beyond the rooms
        outcome = np.where(~accepted, "refused", np.where(will_cancel, "cancelled",
                           np.where(status == "no_show", "no_show", "shown"))).astype(object)
        shows = np.flatnonzero(outcome == "shown")
        occ = np.zeros(span, dtype=np.int64)
        by_arrival = pd.Series(shows).groupby(arr[shows]).agg(list) if shows.size else pd.Series(dtype=object)
        walked_n = np.zeros(span, dtype=np.int64)
        for t in range(span):
            if t not in by_arrival.index:
                continue
            ids = sorted(by_arrival[t], key=lambda j: (rate[j], -bday[j], j))  # lowest rate, latest booked first
            need = int(units[ids].sum())
            free = C - occ[t]
            for j in ids:
                if need <= free:
                    break
                outcome[j] = "walked"
                need -= units[j]
                walked_n[t] += units[j]
            for j in ids:
                if outcome[j] == "shown":
                    occ[t:t + nights[j]] += units[j]
        rev_n = np.zeros(span)
        sh = np.flatnonzero(outcome == "shown")
        for j in sh:
            rev_n[arr[j]:arr[j] + nights[j]] += rate[j] * units[j]
        # accounting identities
        counts = pd.Series(outcome).value_counts().reindex(list(OUTCOMES), fill_value=0)
        if int(counts.sum()) != n:
            raise InputError("replay accounting: outcomes do not cover every request once")
        total_rev = float((rate[sh] * units[sh] * nights[sh]).sum())
        if not np.isclose(rev_n.sum(), total_rev, rtol=1e-9, atol=1e-6):
            raise InputError("replay accounting: nightly revenue does not add up to the bookings' revenue")
        if (occ > C).any():
            raise InputError("replay: more rooms occupied than the capacity")
        sl = slice(s0, s1 + 1)
        avail = C * n_scored
        rev = float(rev_n[sl].sum())
        wcost = float(walk_cost) * float(walked_n[sl].sum())
        occupied = float(occ[sl].sum())
        summaries[pol.label] = {
            "revenue": rev, "walk_cost": wcost, "net_revenue": rev - wcost, "revpar": rev / avail,
            "net_revpar": (rev - wcost) / avail, "occupancy": occupied / avail,
            "adr": rev / occupied if occupied else np.nan, "walked": int(walked_n[sl].sum()),
            "empty_rooms": int(avail - occupied), **{f"requests_{k}": int(v) for k, v in counts.items()},
        }
        nights_idx = pd.date_range(t0, t1, freq="D")
        nightly_rows.append(pd.DataFrame({"policy": pol.label, "night": nights_idx, "occupied": occ[sl],
                                          "walked": walked_n[sl], "empty": C - occ[sl], "revenue": rev_n[sl]}))
        outcome_rows.append(pd.DataFrame({"policy": pol.label, "booking_id": r["booking_id"].to_numpy(),
                                          "outcome": outcome}))
    summary = pd.DataFrame.from_dict(summaries, orient="index").rename_axis("policy")
    nightly = pd.concat(nightly_rows, ignore_index=True)
    # 95 % confidence intervals of RevPAR by a bootstrap over weeks (nights are dependent within a week)
    rng = np.random.default_rng(0)
    wk = ((nightly["night"] - t0).dt.days // 7).to_numpy()
    for name in summary.index:
        g = nightly[nightly["policy"] == name]
        w = pd.DataFrame({"wk": wk[nightly["policy"].to_numpy() == name], "net": g["revenue"].to_numpy()
                          - float(walk_cost) * g["walked"].to_numpy()}).groupby("wk")["net"].agg(["sum", "size"])
        if len(w) >= 2:
            idx = rng.integers(0, len(w), (500, len(w)))
            boot = w["sum"].to_numpy()[idx].sum(axis=1) / (C * w["size"].to_numpy()[idx].sum(axis=1))
            summary.loc[name, "net_revpar_low"], summary.loc[name, "net_revpar_high"] = np.quantile(boot, [0.025, 0.975])
    notes.append(f"{n:,} requests replayed; nights {t0.date()} to {t1.date()} scored ({n_scored} nights x {C} rooms)")
    return ReplayResult(summary, nightly, pd.concat(outcome_rows, ignore_index=True), C, notes)


def replay_replications(
    streams: Sequence[pd.DataFrame], policies: Sequence[ReplayPolicy], **kwargs: object
) -> pd.DataFrame:
    """Replay several request streams (common random numbers: every policy sees the same stream).

    Parameters
    ----------
    streams : sequence of pandas.DataFrame
        Request streams (e.g. :func:`crm_analysis.synthetic.request_stream` with seeds ``seed, seed + 1, ...``).
    policies : sequence of ReplayPolicy
    **kwargs
        Passed to :func:`replay_policies`.

    Returns
    -------
    pandas.DataFrame
        One row per policy: mean over the streams of ``net_revpar``,
        ``revpar``, ``occupancy``, ``adr``, ``walked``, ``empty_rooms``, with
        ``<figure>_ci`` the half-width of a 95 % normal interval of the mean,
        and ``net_revpar_diff_vs_first`` / ``_ci``: the paired difference to
        the first policy (paired on the stream, which the common random
        numbers make precise).

    Raises
    ------
    ValueError
        With fewer than two streams (no interval).
    """
    if len(streams) < 2:
        raise InputError(f"need at least two streams for an interval, got {len(streams)}")
    figs = ["net_revpar", "revpar", "occupancy", "adr", "walked", "empty_rooms"]
    runs = [replay_policies(s, policies, **kwargs).summary[figs] for s in streams]
    arr = np.stack([r.to_numpy(float) for r in runs])  # (R, policies, figs)
    R = arr.shape[0]
    mean = arr.mean(axis=0)
    half = 1.96 * arr.std(axis=0, ddof=1) / np.sqrt(R)
    out = pd.DataFrame(mean, index=runs[0].index, columns=figs)
    for k, f in enumerate(figs):
        out[f + "_ci"] = half[:, k]
    diff = arr[:, :, 0] - arr[:, :1, 0]
    out["net_revpar_diff_vs_first"] = diff.mean(axis=0)
    out["net_revpar_diff_vs_first_ci"] = 1.96 * diff.std(axis=0, ddof=1) / np.sqrt(R)
    out["streams"] = R
    return out
