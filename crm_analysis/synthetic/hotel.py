"""Synthetic bookings of a capacity-constrained hotel with several market segments.

The default configuration :data:`DEFAULT_HOTEL` is calibrated on summary
statistics of the City Hotel (H2) of the Hotel booking demand data (Antonio, de
Almeida & Nunes 2019, "Hotel booking demand datasets", Data in Brief
22:41-49; 79,330 bookings due to arrive 2015-07-01 to 2017-08-31), restricted
to its five main market segments (Online TA, Offline TA/TO, Groups, Direct,
Corporate: 99.0 % of the rows; Complementary, Aviation and Undefined dropped).
The statistics were computed once from the real file and are hard-coded here,
so the generator runs without the data. Per segment:

* ``share``: share of the segment among booking rows (one row = one room);
* ``adr``: mean ADR over stayed bookings (status Check-Out) with ``adr > 0``;
* ``rate_dispersion``: standard deviation of ``log(adr)`` of those bookings
  within (segment, arrival year, arrival month) cells;
* ``cancel_rate`` / ``no_show_rate``: share of rows with reservation status
  Canceled / No-Show;
* ``lead_time_mean``, ``lead_time_shape``: mean lead time (days) and the
  negative-binomial shape ``m^2 / (var - m)`` of its moments;
* ``los_mean``, ``los_shape``: mean nights over rows with at least one night,
  and the negative-binomial shape of ``nights - 1`` (``None``: nights - 1 is
  under-dispersed in the data, a Poisson is used);
* ``weekday_profile``: arrivals by weekday (Monday first), mean 1;
* ``month_profile``: arrivals per day of each calendar month, averaged over
  the years in which the month is observed, mean 1;
* ``channel_mix``: distribution channels of the segment's rows;
* ``repeat_rate``: share of rows with ``is_repeated_guest``;
* ``group_size_mean`` (Groups): rows sharing arrival date, lead time, nights,
  agent and company form one block; the mean block has 12.95 rooms at a hotel
  whose busiest night had 226 occupied rooms, scaled to the default 120 rooms
  gives 7.

Cancellation timing: the time between cancellation and arrival, as a fraction
of the lead time, has mean 0.63 and standard deviation 0.33 in the data; the
generator draws it from the Beta(0.69, 0.40) with those moments.

Cancellations depend on the lead time (``cancel_lead_slope``, on by default
since issue 14): per segment, the slope of a logistic regression of
"cancelled" on ``log(1 + lead_time)`` (centred within the segment) over the
City Hotel rows of the five segments: Online TA 0.418, Offline TA/TO 0.423,
Groups 0.812, Direct 0.234, Corporate 0.828 (all segments pooled: 0.469,
standard error 0.007). The cancellation share by lead time in the data is
10.1 % (0-7 days), 29.7 % (8-30), 39.1 % (31-90), 46.9 % (91-180), 62.6 %
(181-365) and 71.4 % (over 365 days).

Tight nights (``mean_load = 0.9``, ``peak_pressure = 1.5``, on by default
since issue 14): in the data the rooms held by stayed bookings reach 95 % of
the 226-room capacity on 26.6 % of the nights from 2015-08-01 to 2017-08-31
and 90 % on 43.0 % (mean occupancy 76.8 %). With the previous defaults
(``mean_load = 0.85``, no peak pressure) the synthetic hotel (seed 42) had
13.0 % and 25.2 % (mean 79.8 %); with the new ones 20.7 % and 34.5 %
(mean 82.0 %), so it sells out on more nights, though still fewer than the
real hotel (more day-to-day variation, ``demand_shock_shape``, did not add
tight nights).

Not from the data (assumptions, documented here so tests can check them): the
capacity (120 rooms), the demand level (``mean_load``), the demand-dependent
rate component (``price_demand_elasticity = 0.5``, close to the log-log slope
of mean ADR on arrivals across months in the data), the exogenous rate noise,
the day-level demand shock and the per-segment price elasticities of demand.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, NotFoundError, shown

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from crm_analysis.synthetic._common import STRING, as_day, normalise_profile

__all__ = [
    "SegmentProfile",
    "HotelConfig",
    "SyntheticBookings",
    "DEFAULT_HOTEL",
    "generate_bookings",
    "default_bookings",
    "request_stream",
]


@dataclass(frozen=True)
class SegmentProfile:
    """Demand, price and behaviour of one market segment / fare class.

    Parameters
    ----------
    name : str
        Market segment (canonical ``segment`` value).
    share : float
        Share of the segment in the room requests (rooms, not bookings: a
        group block of 7 rooms counts 7). Shares are normalised over the
        segments of a :class:`HotelConfig`.
    adr : float
        Mean rate per room-night of the segment's requests (request-weighted
        over the period; realised bookings come out slightly lower because
        high-rate, high-demand dates are the ones that sell out).
    rate_dispersion : float
        Standard deviation of ``log(rate)`` between bookings of one date
        (lognormal, mean-preserving).
    lead_time_mean : float
        Mean lead time in days (negative binomial).
    lead_time_shape : float
        Negative-binomial shape of the lead time (variance ``m + m^2/shape``).
    los_mean : float
        Mean length of stay in nights (at least 1).
    los_shape : float or None
        Negative-binomial shape of ``nights - 1``; ``None`` = Poisson.
    cancel_rate : float
        Probability that a booking is cancelled.
    no_show_rate : float
        Probability that a booking is a no-show (unconditional, so
        ``cancel_rate + no_show_rate <= 1``).
    weekday_profile : sequence of 7 floats
        Relative arrivals by weekday, Monday first.
    month_profile : sequence of 12 floats
        Relative arrivals per day by calendar month, January first.
    price_elasticity : float
        Elasticity of requested rooms to the segment's rate: requests scale
        with ``(rate / adr) ** price_elasticity`` (a known truth for
        price-response estimates).
    group_size_mean : float, default 1
        Mean rooms per booking; above 1 the segment books blocks of
        ``units = 2 + NegBin`` rooms (capped at the capacity).
    group_size_shape : float, default 1.5
        Negative-binomial shape of ``units - 2`` for block segments.
    channel_mix : mapping, optional
        Distribution channels and their shares (default: the segment name).
    repeat_rate : float, default 0
        Share of bookings by a customer who booked before (customer ids are
        drawn from a segment pool sized to give this rate).
    fare_class : str, optional
        Fare class of the segment's bookings (default: the segment name).
    cancel_lead_slope : float, default 0
        Dependence of the cancellation probability on the lead time: the
        logit of a request's cancellation probability is
        ``a + cancel_lead_slope * (log(1 + lead) - mean log(1 + lead))``,
        with ``a`` solved so the segment's mean probability is
        ``cancel_rate``. 0: cancellations independent of the lead time.
    """

    name: str
    share: float
    adr: float
    rate_dispersion: float
    lead_time_mean: float
    lead_time_shape: float
    los_mean: float
    los_shape: float | None
    cancel_rate: float
    no_show_rate: float
    weekday_profile: tuple[float, ...]
    month_profile: tuple[float, ...]
    price_elasticity: float = -1.0
    group_size_mean: float = 1.0
    group_size_shape: float = 1.5
    channel_mix: Mapping[str, float] | None = None
    repeat_rate: float = 0.0
    fare_class: str | None = None
    cancel_lead_slope: float = 0.0

    def __post_init__(self) -> None:
        def bad(msg: str) -> ValueError:
            return ValueError(f"segment {self.name!r}: {msg}")

        if not self.name:
            raise InputError("segment name must not be empty")
        for attr in ("share", "adr", "lead_time_mean", "lead_time_shape"):
            v = getattr(self, attr)
            if not np.isfinite(v) or v < 0 or (attr != "share" and attr != "lead_time_mean" and v == 0):
                raise bad(f"{attr} must be a positive number, got {shown(v)}")
        if not np.isfinite(self.rate_dispersion) or self.rate_dispersion < 0:
            raise bad(f"rate_dispersion must be >= 0, got {shown(self.rate_dispersion)}")
        if not np.isfinite(self.los_mean) or self.los_mean < 1:
            raise bad(f"los_mean must be >= 1 night, got {shown(self.los_mean)}")
        if self.los_shape is not None and not self.los_shape > 0:
            raise bad(f"los_shape must be positive or None, got {shown(self.los_shape)}")
        if not (0 <= self.cancel_rate <= 1 and 0 <= self.no_show_rate <= 1):
            raise bad("cancel_rate and no_show_rate must lie in [0, 1]")
        if self.cancel_rate + self.no_show_rate > 1:
            raise bad("cancel_rate + no_show_rate must not exceed 1")
        if not np.isfinite(self.group_size_mean) or self.group_size_mean < 1:
            raise bad(f"group_size_mean must be >= 1, got {shown(self.group_size_mean)}")
        if 1 < self.group_size_mean < 2:
            raise bad("group_size_mean must be 1 (single rooms) or >= 2 (blocks)")
        if not self.group_size_shape > 0:
            raise bad("group_size_shape must be positive")
        if not 0 <= self.repeat_rate < 1:
            raise bad(f"repeat_rate must lie in [0, 1), got {shown(self.repeat_rate)}")
        if not np.isfinite(self.price_elasticity):
            raise bad("price_elasticity must be finite")
        if not np.isfinite(self.cancel_lead_slope):
            raise bad(f"cancel_lead_slope must be finite, got {shown(self.cancel_lead_slope)}")
        normalise_profile(self.weekday_profile, 7, f"segment {self.name!r} weekday_profile")
        normalise_profile(self.month_profile, 12, f"segment {self.name!r} month_profile")
        mix = self.channel_mix
        if mix is not None and (not mix or any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0):
            raise bad(f"channel_mix must map channels to non-negative shares, got {shown(mix)}")

    @property
    def fare(self) -> str:
        """Fare class of the segment (``fare_class`` or the segment name)."""
        return self.fare_class or self.name

    @property
    def mean_units(self) -> float:
        """Mean rooms per booking."""
        return float(self.group_size_mean)


#: The built-in hotel's (:data:`DEFAULT_HOTEL`) name and rooms: bookings whose every ``property`` is this
#: name are its own (:func:`crm_analysis.seasonality.is_builtin_hotel`), so a hotel of this name with other
#: rooms writes another name (:attr:`HotelConfig.property_name`).
BUILTIN_HOTEL_NAME = "Synthetic City Hotel"
BUILTIN_HOTEL_CAPACITY = 120


@dataclass(frozen=True)
class HotelConfig:
    """A hotel: capacity, segments and the demand and price process.

    Parameters
    ----------
    capacity : int
        Rooms. No overbooking: rooms held by non-cancelled bookings never
        exceed it on any night.
    segments : tuple of SegmentProfile
        The market segments / fare classes.
    mean_load : float, default 0.85
        Demand level: expected room-nights of non-cancelled *requests*
        (unconstrained) per night, as a share of capacity, at
        ``demand_scale=1``. Realised occupancy is lower (denials).
    price_demand_elasticity : float, default 0.5
        The demand-dependent rate component: ``log(rate)`` rises by this
        times the log of the hotel's forecastable seasonal demand index
        (month x weekday). This is what biases a naive price elasticity.
    price_noise : float, default 0.12
        Standard deviation of the exogenous day-by-segment log-rate variation
        (promotions, rate tests) that identifies the price response.
    demand_shock_shape : float, default 20
        Shape of the mean-1 gamma day-level demand shock common to all
        segments (events, weather): coefficient of variation
        ``1 / sqrt(shape)``. Not known to the hotel, not priced.
    cancel_timing : tuple of float, default (0.69, 0.40)
        Beta parameters of ``(arrival - cancellation) / lead time``.
    name : str
        Property name; its bookings' ``property`` column is :attr:`property_name` (the name, with the rooms
        appended when the name is the built-in hotel's and the capacity is not).
    peak_pressure : float, default 1
        Exponent on each segment's month x weekday demand profile (before
        the price response and the normalisation to the demand level): above
        1 the peaks rise and the troughs fall at the same mean demand (more
        sold-out nights); the price elasticities are unchanged.
    """

    capacity: int
    segments: tuple[SegmentProfile, ...]
    mean_load: float = 0.85
    price_demand_elasticity: float = 0.5
    price_noise: float = 0.12
    demand_shock_shape: float = 20.0
    cancel_timing: tuple[float, float] = (0.69, 0.40)
    name: str = BUILTIN_HOTEL_NAME
    peak_pressure: float = 1.0

    def __post_init__(self) -> None:
        if int(self.capacity) != self.capacity or self.capacity < 1:
            raise InputError(f"capacity must be a positive integer number of rooms, got {shown(self.capacity)}")
        if not self.segments:
            raise InputError("a hotel needs at least one segment")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise InputError(f"segment names must be unique, got {names}")
        if sum(s.share for s in self.segments) <= 0:
            raise InputError("segment shares must not all be zero")
        if not (np.isfinite(self.mean_load) and self.mean_load > 0):
            raise InputError(f"mean_load must be positive, got {shown(self.mean_load)}")
        if not (np.isfinite(self.price_noise) and self.price_noise >= 0):
            raise InputError(f"price_noise must be >= 0, got {shown(self.price_noise)}")
        if not (np.isfinite(self.price_demand_elasticity)):
            raise InputError("price_demand_elasticity must be finite")
        if not self.demand_shock_shape > 0:
            raise InputError("demand_shock_shape must be positive (use a large value for no shock)")
        if not (np.isfinite(self.peak_pressure) and self.peak_pressure > 0):
            raise InputError(f"peak_pressure must be positive, got {shown(self.peak_pressure)}")
        if len(self.cancel_timing) != 2 or min(self.cancel_timing) <= 0:
            raise InputError(f"cancel_timing must be two positive Beta parameters, got {shown(self.cancel_timing)}")

    @property
    def segment_names(self) -> list[str]:
        """Names of the segments, in order."""
        return [s.name for s in self.segments]

    @property
    def shares(self) -> dict[str, float]:
        """Normalised room-request shares by segment."""
        tot = sum(s.share for s in self.segments)
        return {s.name: s.share / tot for s in self.segments}

    @property
    def rates(self) -> dict[str, float]:
        """Mean rate (ADR) by fare class, e.g. for yield-management inputs."""
        return {s.fare: s.adr for s in self.segments}

    def segment(self, name: str) -> SegmentProfile:
        """The profile of segment ``name``."""
        for s in self.segments:
            if s.name == name:
                return s
        raise NotFoundError(f"no segment {name!r}; segments: {self.segment_names}")

    @property
    def property_name(self) -> str:
        """The ``property`` value of this hotel's bookings (:func:`generate_bookings`).

        ``name``, except for a hotel named like the built-in one (:data:`DEFAULT_HOTEL`) with another
        capacity: ``"Synthetic City Hotel (60 rooms)"``. ``capacity=None`` in the steps means the built-in
        hotel's rooms for its own bookings only (:func:`crm_analysis.seasonality.is_builtin_hotel`, which
        reads this column), so a 60-room variant must not carry the built-in name (findings_13d H2). The
        name travels with the bookings through Parquet and CSV, as the column does.
        """
        if self.name == BUILTIN_HOTEL_NAME and int(self.capacity) != BUILTIN_HOTEL_CAPACITY:
            return f"{self.name} ({int(self.capacity)} rooms)"
        return self.name

    def with_capacity(self, capacity: int) -> "HotelConfig":
        """A copy with another capacity (group sizes are kept)."""
        return replace(self, capacity=capacity)


# Default: City Hotel (H2) statistics, Antonio, de Almeida & Nunes (2019); see the module docstring.
DEFAULT_HOTEL = HotelConfig(
    capacity=BUILTIN_HOTEL_CAPACITY,
    mean_load=0.9,
    peak_pressure=1.5,
    segments=(
        SegmentProfile(
            name="Online TA",
            share=0.493,
            adr=118.2,
            rate_dispersion=0.28,
            lead_time_mean=82.9,
            lead_time_shape=1.19,
            los_mean=3.29,
            los_shape=2.54,
            cancel_rate=0.362,
            no_show_rate=0.012,
            weekday_profile=(1.08, 0.82, 0.86, 1.10, 1.19, 1.00, 0.95),
            month_profile=(0.63, 0.91, 1.17, 1.40, 1.36, 1.26, 1.00, 1.10, 0.88, 0.94, 0.65, 0.70),
            price_elasticity=-1.2,
            channel_mix={"TA/TO": 0.994, "GDS": 0.004, "Direct": 0.001, "Corporate": 0.001},
            repeat_rate=0.006,
            cancel_lead_slope=0.418,
        ),
        SegmentProfile(
            name="Offline TA/TO",
            share=0.213,
            adr=91.8,
            rate_dispersion=0.26,
            lead_time_mean=141.5,
            lead_time_shape=1.46,
            los_mean=2.92,
            los_shape=None,
            cancel_rate=0.417,
            no_show_rate=0.011,
            weekday_profile=(0.78, 0.93, 0.97, 1.03, 1.75, 0.80, 0.76),
            month_profile=(0.36, 0.65, 0.85, 1.14, 1.04, 1.74, 0.63, 0.65, 1.60, 1.89, 0.69, 0.76),
            price_elasticity=-0.8,
            channel_mix={"TA/TO": 0.985, "Corporate": 0.012, "GDS": 0.003},
            repeat_rate=0.013,
            cancel_lead_slope=0.423,
        ),
        SegmentProfile(
            name="Groups",
            share=0.178,
            adr=86.9,
            rate_dispersion=0.29,
            lead_time_mean=195.2,
            lead_time_shape=1.87,
            los_mean=2.55,
            los_shape=None,
            cancel_rate=0.684,
            no_show_rate=0.004,
            weekday_profile=(1.17, 0.41, 1.26, 1.49, 0.94, 1.23, 0.50),
            month_profile=(0.63, 0.76, 0.89, 1.06, 1.56, 0.98, 0.86, 0.93, 1.82, 1.33, 0.88, 0.30),
            price_elasticity=-0.6,
            group_size_mean=7.0,
            group_size_shape=1.5,
            channel_mix={"TA/TO": 0.970, "Corporate": 0.017, "Direct": 0.013},
            repeat_rate=0.014,
            cancel_lead_slope=0.812,
        ),
        SegmentProfile(
            name="Direct",
            share=0.078,
            adr=121.9,
            rate_dispersion=0.34,
            lead_time_mean=51.4,
            lead_time_shape=0.59,
            los_mean=2.91,
            los_shape=1.05,
            cancel_rate=0.148,
            no_show_rate=0.025,
            weekday_profile=(1.08, 0.93, 0.97, 1.14, 1.00, 0.96, 0.91),
            month_profile=(0.70, 1.15, 1.01, 1.16, 1.18, 1.16, 0.92, 1.31, 1.01, 0.91, 0.66, 0.83),
            price_elasticity=-1.0,
            channel_mix={"Direct": 0.993, "TA/TO": 0.006, "Corporate": 0.001},
            repeat_rate=0.031,
            cancel_lead_slope=0.234,
        ),
        SegmentProfile(
            name="Corporate",
            share=0.038,
            adr=82.8,
            rate_dispersion=0.29,
            lead_time_mean=25.6,
            lead_time_shape=0.44,
            los_mean=1.91,
            los_shape=0.35,
            cancel_rate=0.200,
            no_show_rate=0.015,
            weekday_profile=(1.33, 1.46, 1.54, 0.93, 0.75, 0.44, 0.55),
            month_profile=(1.20, 1.48, 1.08, 0.64, 1.36, 1.06, 0.53, 0.48, 1.18, 0.95, 1.13, 0.91),
            price_elasticity=-0.3,
            channel_mix={"Corporate": 0.883, "TA/TO": 0.098, "Direct": 0.019},
            repeat_rate=0.306,
            cancel_lead_slope=0.828,
        ),
    ),
)


@dataclass
class SyntheticBookings:
    """Synthetic hotel bookings with the demand behind them.

    Attributes
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``docs/architecture.md``): accepted bookings only,
        sorted by booking date.
    config : HotelConfig
        The hotel that generated them.
    unconstrained_demand : pandas.DataFrame
        One row per arrival date and segment: ``arrival_date``, ``segment``,
        ``fare_class``, ``seasonal_index`` (the hotel's forecastable
        month x weekday demand index, mean 1), ``demand_shock`` (day-level,
        unobserved), ``rate`` (the segment's rate level of the date),
        ``expected_rooms`` (mean rooms requested), ``requested_bookings``,
        ``requested_rooms``, ``accepted_bookings``, ``accepted_rooms``,
        ``denied_bookings``, ``denied_rooms``.
    denied : pandas.DataFrame
        Per segment: ``requests``, ``rooms_requested``, ``denied_requests``,
        ``denied_rooms``, ``denial_rate`` (share of requests refused for lack
        of capacity).
    occupancy : pandas.DataFrame
        Per night from ``start`` to ``end``: ``date``, ``rooms`` (held by
        stayed and no-show bookings), ``capacity``. Stays of guests arriving
        before ``start`` are not simulated, so the first nights are low.
    params : dict
        Period, seed, demand scale and the price-response truths.
    unconstrained_nights : pandas.DataFrame
        One row per stay night (``start`` to ``end``) and fare class, in the
        units a room-night demand forecast uses: ``date``, ``fare_class``,
        ``demand`` (room-nights requested on that night by requests that
        would not cancel: the unconstrained demand), ``sold`` (the same for
        accepted requests: what non-cancelled bookings show), ``denied``
        (``demand - sold``). The truth for unconstraining methods
        (:func:`crm_analysis.seasonality.unconstrain_history`). Stays running
        past ``end`` are cut, as in ``occupancy``.
    """

    bookings: pd.DataFrame
    config: HotelConfig
    unconstrained_demand: pd.DataFrame
    denied: pd.DataFrame
    occupancy: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    unconstrained_nights: pd.DataFrame | None = None


def _negbin(rng: np.random.Generator, mean: float, shape: float | None, size: int) -> np.ndarray:
    """Negative binomial counts with the given mean and shape (Poisson for None)."""
    if mean <= 0:
        return np.zeros(size, dtype=np.int64)
    if shape is None:
        return rng.poisson(mean, size).astype(np.int64)
    return rng.negative_binomial(shape, shape / (shape + mean), size).astype(np.int64)


def _pool_ratio(repeat_rate: float) -> float:
    """Pool size per booking that gives ``repeat_rate`` repeat bookings under uniform draws."""
    if repeat_rate <= 0:
        return np.inf
    f = lambda rho: 1.0 - rho * (1.0 - np.exp(-1.0 / rho)) - repeat_rate  # noqa: E731
    return float(brentq(f, 1e-3, 1e6))


def _allocate(
    order: list[int], a0: list[int], a1: list[int], units: list[int], n_nights: int, capacity: int, n: int
) -> np.ndarray:
    """Process request (``i >= 0``) and cancellation (``~i``) events in order.

    A request is accepted when every night of its stay has room for its
    units; an accepted booking's cancellation releases its rooms.
    """
    occ = [0] * n_nights
    accepted = bytearray(n)
    for e in order:
        if e >= 0:
            lo, hi, u = a0[e], a1[e], units[e]
            if max(occ[lo:hi]) + u <= capacity:
                for k in range(lo, hi):
                    occ[k] += u
                accepted[e] = 1
        else:
            i = ~e
            if accepted[i]:
                u = units[i]
                for k in range(a0[i], a1[i]):
                    occ[k] -= u
    return np.frombuffer(bytes(accepted), dtype=np.uint8).astype(bool)


def generate_bookings(
    config: HotelConfig | None = None,
    *,
    start: str | pd.Timestamp = "2023-01-01",
    end: str | pd.Timestamp = "2024-12-31",
    seed: int | None = 42,
    demand_scale: float = 1.0,
) -> SyntheticBookings:
    """Generate hotel bookings with capacity control from seasonal demand.

    The process, per arrival date ``d`` in ``[start, end]`` and segment ``s``:

    1. Forecastable seasonal index ``D_d`` = share-weighted mean over
       segments of ``month_s[m(d)] * weekday_s[w(d)]``, scaled to mean 1.
    2. Rate level ``rate_ds = c_s * adr_s * D_d ** g * exp(eta_ds)`` with
       ``g = config.price_demand_elasticity`` (higher rates on high-demand
       dates), ``eta_ds ~ N(0, price_noise^2)`` exogenous, and ``c_s`` such
       that the request-weighted mean rate of the segment is ``adr_s``.
    3. Expected rooms requested ``R * share_s * month_s * weekday_s *
       (rate_ds / adr_s) ** e_s * u_d`` (normalised over the period), with
       the segment's price elasticity ``e_s`` and a mean-1 gamma day shock
       ``u_d`` that the hotel does not price. ``R`` sets
       ``config.mean_load * demand_scale``. Bookings requested are Poisson
       with mean expected rooms / mean units.

    Because the rate moves with the seasonal index, a naive regression of
    log demand on log rate is biased towards zero (or positive); with
    segment x month x weekday controls, the rate variation left is the
    exogenous ``eta``, and the estimate recovers ``e_s`` on the
    unconstrained demand (realised bookings are also censored by capacity).

    Each request gets a lead time, nights, units, a rate
    (``rate_ds`` times mean-1 lognormal noise with ``rate_dispersion``), and
    a would-be cancellation or no-show. Requests are then processed in
    booking-date order (ties in random order; cancellations at the end of
    their day) with a capacity check on every night of the stay: rooms held
    by accepted, not-yet-cancelled bookings never exceed ``capacity``, and
    refused requests are counted as denied. No overbooking.

    Parameters
    ----------
    config : HotelConfig, optional
        Hotel; default :data:`DEFAULT_HOTEL`.
    start, end : str or Timestamp
        First and last arrival date (inclusive).
    seed : int, optional
        Seed of all randomness.
    demand_scale : float, default 1
        Multiplies the demand level (``> 1``: more denials).

    Returns
    -------
    SyntheticBookings
        Bookings, config, unconstrained demand, denials and occupancy.

    Raises
    ------
    ValueError
        On a bad period or demand scale.

    Examples
    --------
    >>> data = generate_bookings(seed=1)
    >>> int(data.occupancy["rooms"].max()) <= data.config.capacity
    True
    """
    cfg = DEFAULT_HOTEL if config is None else config
    if not isinstance(cfg, HotelConfig):
        raise InputError(f"config must be a HotelConfig, got {type(cfg).__name__}")
    start_d, end_d = as_day(start, "start"), as_day(end, "end")
    if end_d < start_d:
        raise InputError(f"end ({end_d.date()}) must not be before start ({start_d.date()})")
    if not (np.isfinite(demand_scale) and demand_scale >= 0):
        raise InputError(f"demand_scale must be a non-negative number, got {shown(demand_scale)}")
    rng = np.random.default_rng(seed)
    segs = cfg.segments
    S = len(segs)
    dates = pd.date_range(start_d, end_d, freq="D")
    n_days = len(dates)
    month = dates.month.to_numpy() - 1
    wday = dates.day_of_week.to_numpy()
    shares = np.array([s.share for s in segs], dtype=float)
    shares /= shares.sum()

    # ---- seasonal index, rates and expected requests (days x segments)
    season = np.column_stack(
        [
            normalise_profile(s.month_profile, 12, "month_profile")[month]
            * normalise_profile(s.weekday_profile, 7, "weekday_profile")[wday]
            for s in segs
        ]
    )
    if cfg.peak_pressure != 1.0:  # sharper peaks and troughs of the month x weekday profile
        season = season**cfg.peak_pressure
    index = season @ shares
    index = index / index.mean()
    shock = rng.gamma(cfg.demand_shock_shape, 1.0 / cfg.demand_shock_shape, n_days)
    eta = rng.normal(0.0, cfg.price_noise, (n_days, S))
    adr = np.array([s.adr for s in segs])
    elast = np.array([s.price_elasticity for s in segs])
    rate0 = adr * index[:, None] ** cfg.price_demand_elasticity * np.exp(eta)
    weight0 = season * (rate0 / adr) ** elast
    c = adr * weight0.sum(axis=0) / (weight0 * rate0).sum(axis=0)
    rate_level = c * rate0
    weight = season * (rate_level / adr) ** elast
    kept = np.array([(1 - s.cancel_rate) * s.los_mean for s in segs])
    total_rooms = cfg.mean_load * cfg.capacity * float(demand_scale) / float(shares @ kept)
    expected_rooms = total_rooms * shares * weight / weight.mean(axis=0) * shock[:, None]
    mean_units = np.array([s.mean_units for s in segs])
    n_req = rng.poisson(expected_rooms / mean_units)

    # ---- requests (cell order: day-major, then segment)
    cell = np.repeat(np.arange(n_days * S), n_req.ravel())
    n = cell.size
    day = cell // S
    seg = cell % S
    lead = np.empty(n, dtype=np.int64)
    nights = np.empty(n, dtype=np.int64)
    units = np.ones(n, dtype=np.int64)
    noise = np.empty(n)
    for j, s in enumerate(segs):  # loop over a handful of segments, vectorised within
        m = seg == j
        k = int(m.sum())
        lead[m] = _negbin(rng, s.lead_time_mean, s.lead_time_shape, k)
        nights[m] = 1 + _negbin(rng, s.los_mean - 1.0, s.los_shape, k)
        if s.group_size_mean > 1:
            units[m] = np.minimum(2 + _negbin(rng, s.group_size_mean - 2.0, s.group_size_shape, k), cfg.capacity)
        noise[m] = rng.normal(-0.5 * s.rate_dispersion**2, s.rate_dispersion, k)
    rate = np.round(rate_level[day, seg] * np.exp(noise), 2)
    cancel_p = np.array([s.cancel_rate for s in segs])[seg]
    for j, s in enumerate(segs):  # lead-time dependent cancellations (cancel_lead_slope != 0)
        m = seg == j
        if s.cancel_lead_slope == 0.0 or not m.any() or s.cancel_rate in (0.0, 1.0):
            continue
        z = np.log1p(lead[m]) - np.log1p(lead[m]).mean()
        beta = s.cancel_lead_slope
        a = brentq(lambda a_: float(np.mean(1.0 / (1.0 + np.exp(-(a_ + beta * z))))) - s.cancel_rate, -50, 50)
        cancel_p[m] = 1.0 / (1.0 + np.exp(-(a + beta * z)))
    noshow_p = np.array([s.no_show_rate / (1 - s.cancel_rate) if s.cancel_rate < 1 else 0.0 for s in segs])[seg]
    u_status = rng.random(n)
    will_cancel = u_status < cancel_p
    will_noshow = ~will_cancel & (rng.random(n) < noshow_p)
    before = np.round(rng.beta(*cfg.cancel_timing, n) * lead).astype(np.int64)  # days before arrival
    booking_day = day - lead
    cancel_day = day - before

    # ---- capacity control, in booking-date order
    perm = rng.permutation(n)
    ev_id = np.concatenate([perm, ~np.flatnonzero(will_cancel)])
    ev_day = np.concatenate([booking_day[perm], cancel_day[will_cancel]])
    ev_type = np.concatenate([np.zeros(n, dtype=np.int8), np.ones(int(will_cancel.sum()), dtype=np.int8)])
    order = np.lexsort((ev_type, ev_day))
    accepted = _allocate(
        ev_id[order].tolist(),
        day.tolist(),
        (day + nights).tolist(),
        units.tolist(),
        n_days + int(nights.max(initial=1)) + 1,
        int(cfg.capacity),
        n,
    )

    # ---- customers and channels
    cust_idx = np.zeros(n, dtype=np.int64)
    channel = np.empty(n, dtype=object)
    for j, s in enumerate(segs):
        m = seg == j
        k = int(m.sum())
        expected = max(1.0, float((expected_rooms[:, j] / mean_units[j]).sum()))
        pool = max(1, int(round(min(_pool_ratio(s.repeat_rate), 1e9) * expected)))
        cust_idx[m] = rng.integers(0, pool, k) if pool < 10**9 else np.arange(k)
        mix = dict(s.channel_mix or {s.name: 1.0})
        names = list(mix)
        p = np.array([mix[x] for x in names], dtype=float)
        channel[m] = np.asarray(names, dtype=object)[rng.choice(len(names), k, p=p / p.sum())]
    seg_code = np.array([f"H{j + 1}" for j in range(S)], dtype=object)
    customer_id = seg_code[seg] + pd.Series(cust_idx + 1).astype(str).str.zfill(6).to_numpy(dtype=object)

    # ---- canonical bookings
    day0 = np.datetime64(start_d.date(), "D")
    to_ts = lambda x: (day0 + x.astype("timedelta64[D]")).astype("datetime64[ns]")  # noqa: E731
    status = np.where(will_cancel, "cancelled", np.where(will_noshow, "no_show", "stayed"))
    seg_names = np.asarray([s.name for s in segs], dtype=object)
    fares = np.asarray([s.fare for s in segs], dtype=object)
    acc = np.flatnonzero(accepted)
    acc = acc[np.lexsort((day[acc], booking_day[acc]))]
    cancel_ts = pd.Series(to_ts(cancel_day[acc])).where(will_cancel[acc])
    bookings = pd.DataFrame(
        {
            "booking_id": pd.array(
                ("B" + pd.Series(np.arange(1, acc.size + 1)).astype(str).str.zfill(7)).to_numpy(dtype=object),
                dtype=STRING,
            ),
            "booking_date": to_ts(booking_day[acc]),
            "arrival_date": to_ts(day[acc]),
            "nights": nights[acc].astype(np.int64),
            "rate": rate[acc].astype(np.float64),
            "segment": pd.array(seg_names[seg[acc]], dtype=STRING),
            "status": pd.array(status[acc].astype(object), dtype=STRING),
            "units": units[acc].astype(np.int64),
            "fare_class": pd.array(fares[seg[acc]], dtype=STRING),
            "customer_id": pd.array(customer_id[acc], dtype=STRING),
            "channel": pd.array(channel[acc], dtype=STRING),
            "property": pd.array([cfg.property_name] * acc.size, dtype=STRING),
            "cancellation_date": cancel_ts.astype("datetime64[ns]").to_numpy(),
        }
    )

    # ---- unconstrained demand, denials, occupancy
    cellsz = n_days * S
    req_rooms = np.bincount(cell, weights=units, minlength=cellsz)
    acc_b = np.bincount(cell, weights=accepted, minlength=cellsz)
    acc_rooms = np.bincount(cell, weights=units * accepted, minlength=cellsz)
    demand = pd.DataFrame(
        {
            "arrival_date": np.repeat(dates.to_numpy().astype("datetime64[ns]"), S),
            "segment": pd.array(np.tile(seg_names, n_days), dtype=STRING),
            "fare_class": pd.array(np.tile(fares, n_days), dtype=STRING),
            "seasonal_index": np.repeat(index, S),
            "demand_shock": np.repeat(shock, S),
            "rate": rate_level.ravel(),
            "expected_rooms": expected_rooms.ravel(),
            "requested_bookings": n_req.ravel().astype(np.int64),
            "requested_rooms": req_rooms.astype(np.int64),
            "accepted_bookings": acc_b.astype(np.int64),
            "accepted_rooms": acc_rooms.astype(np.int64),
        }
    )
    demand["denied_bookings"] = demand["requested_bookings"] - demand["accepted_bookings"]
    demand["denied_rooms"] = demand["requested_rooms"] - demand["accepted_rooms"]
    by = demand.groupby("segment", sort=False)[["requested_bookings", "requested_rooms", "denied_bookings", "denied_rooms"]].sum()
    denied = pd.DataFrame(
        {
            "segment": pd.array(list(by.index), dtype=STRING),
            "requests": by["requested_bookings"].to_numpy(),
            "rooms_requested": by["requested_rooms"].to_numpy(),
            "denied_requests": by["denied_bookings"].to_numpy(),
            "denied_rooms": by["denied_rooms"].to_numpy(),
        }
    )
    denied["denial_rate"] = denied["denied_requests"] / denied["requests"].where(denied["requests"] > 0)
    held = accepted & ~will_cancel
    occ = np.zeros(n_days + int(nights.max(initial=1)) + 1)
    if held.any():
        lo, hi = day[held], day[held] + nights[held]
        np.add.at(occ, lo, units[held])
        np.add.at(occ, hi, -units[held])
    occ = np.cumsum(occ)[:n_days]  # nights start..end (stays running past `end` are cut)
    occupancy = pd.DataFrame(
        {
            "date": dates.to_numpy().astype("datetime64[ns]"),
            "rooms": occ.round().astype(np.int64),
            "capacity": np.full(n_days, int(cfg.capacity), dtype=np.int64),
        }
    )
    params = {
        "start": str(start_d.date()),
        "end": str(end_d.date()),
        "seed": seed,
        "demand_scale": float(demand_scale),
        "price_elasticity": {s.name: s.price_elasticity for s in segs},
        "price_demand_elasticity": cfg.price_demand_elasticity,
        "rate_scale": dict(zip([s.name for s in segs], c.tolist())),
        "requests": int(n),
    }
    # ---- unconstrained room-nights per stay night and fare class (non-cancelling requests)
    fare_names = list(dict.fromkeys(s.fare for s in segs))
    fare_code = np.array([fare_names.index(s.fare) for s in segs])[seg]
    n_f = len(fare_names)
    span = n_days + int(nights.max(initial=1)) + 1
    keep = ~will_cancel
    per_night = {}
    for name, mask in (("demand", keep), ("sold", keep & accepted)):
        diff = np.zeros((span + 1, n_f))
        np.add.at(diff, (day[mask], fare_code[mask]), units[mask])
        np.add.at(diff, (day[mask] + nights[mask], fare_code[mask]), -units[mask])
        per_night[name] = np.cumsum(diff, axis=0)[:n_days].round().astype(np.int64)
    nights_tab = pd.DataFrame(
        {
            "date": np.repeat(dates.to_numpy().astype("datetime64[ns]"), n_f),
            "fare_class": pd.array(np.tile(np.asarray(fare_names, dtype=object), n_days), dtype=STRING),
            "demand": per_night["demand"].ravel(),
            "sold": per_night["sold"].ravel(),
        }
    )
    nights_tab["denied"] = nights_tab["demand"] - nights_tab["sold"]
    return SyntheticBookings(bookings, cfg, demand, denied, occupancy, params, nights_tab)


def default_bookings(*, seed: int = 42) -> pd.DataFrame:
    """The built-in default bookings of the report chain.

    :data:`DEFAULT_HOTEL` (120 rooms, five segments calibrated on the City
    Hotel data), arrivals 2023-01-01 to 2024-12-31.

    Parameters
    ----------
    seed : int, default 42
        Seed of all randomness.

    Returns
    -------
    pandas.DataFrame
        Canonical bookings.
    """
    return generate_bookings(DEFAULT_HOTEL, start="2023-01-01", end="2024-12-31", seed=seed).bookings


def request_stream(config: HotelConfig | None = None, *, start: object, end: object, seed: int) -> pd.DataFrame:
    """Every room request of a synthetic hotel with its outcome, before any capacity control.

    :func:`generate_bookings` refuses requests beyond the rooms; here it runs
    with ten times the rooms and a tenth of ``mean_load``, which keeps the
    demand (``mean_load * capacity``) and turns nothing away, so every
    request and its would-be outcome (cancellation date, no-show, stay) is
    in the stream (group blocks keep the hotel's own cap on their size). For
    replaying capacity controls with common random numbers
    (:func:`crm_analysis.yield_management.replay.replay_replications`).

    Parameters
    ----------
    config : HotelConfig, optional
        Default :data:`DEFAULT_HOTEL`.
    start, end : date-like
        First and last arrival date.
    seed : int
        Seed of the stream.

    Returns
    -------
    pandas.DataFrame
        Canonical bookings (all requests).
    """
    cfg = DEFAULT_HOTEL if config is None else config
    big = replace(cfg, capacity=int(cfg.capacity) * 10, mean_load=float(cfg.mean_load) / 10)
    b = generate_bookings(big, start=start, end=end, seed=seed).bookings
    b["units"] = np.minimum(b["units"].to_numpy(), int(cfg.capacity)).astype(np.int64)
    return b
