"""Tests of the synthetic hotel bookings (crm_analysis.synthetic.hotel)."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.synthetic import DEFAULT_HOTEL, HotelConfig, SegmentProfile, default_bookings, generate_bookings

# docs/architecture.md, canonical bookings schema
CANONICAL = {
    "booking_id": "string",
    "booking_date": "datetime64[ns]",
    "arrival_date": "datetime64[ns]",
    "nights": "int64",
    "rate": "float64",
    "segment": "string",
    "status": "string",
    "units": "int64",
    "fare_class": "string",
    "customer_id": "string",
    "channel": "string",
    "property": "string",
    "cancellation_date": "datetime64[ns]",
}


def held_rooms_over_time(b: pd.DataFrame) -> np.ndarray:
    """Rooms held on every (decision day, night) by accepted bookings.

    A booking holds its rooms from its booking day through its cancellation
    day (cancellations are processed at the end of their day) or for ever when
    not cancelled. Returns the matrix of held rooms (decision days x nights).
    """
    day0 = min(b["booking_date"].min(), b["arrival_date"].min())
    bd = (b["booking_date"] - day0).dt.days.to_numpy()
    ad = (b["arrival_date"] - day0).dt.days.to_numpy()
    cd = (b["cancellation_date"] - day0).dt.days.to_numpy()
    cancelled = (b["status"] == "cancelled").to_numpy()
    n_days = int((ad + b["nights"].to_numpy()).max()) + 2
    grid = np.zeros((n_days + 1, n_days + 1))
    units = b["units"].to_numpy()
    nights = b["nights"].to_numpy()
    for i in range(len(b)):  # test helper, small data only
        stop = int(cd[i]) + 1 if cancelled[i] else n_days
        grid[bd[i], ad[i] : ad[i] + nights[i]] += units[i]
        grid[stop, ad[i] : ad[i] + nights[i]] -= units[i]
    return np.cumsum(grid, axis=0)


@pytest.fixture(scope="module")
def data():
    return generate_bookings(seed=1)


@pytest.fixture(scope="module")
def free():
    """The default segments at a hotel whose capacity never binds: realised = requested.

    Demand is set relative to capacity (``mean_load``), so the capacity is
    raised 10-fold and the load cut to a fifth: twice the default demand, in
    rooms, against ten times the rooms.
    """
    cfg = replace(DEFAULT_HOTEL, capacity=10 * DEFAULT_HOTEL.capacity, mean_load=DEFAULT_HOTEL.mean_load / 5)
    return generate_bookings(cfg, seed=2)


def test_canonical_schema(data):
    b = data.bookings
    assert list(b.columns) == list(CANONICAL)
    for col, dtype in CANONICAL.items():
        assert b[col].dtype == dtype, col
    assert b["booking_id"].is_unique
    assert set(b["status"].unique()) == {"stayed", "cancelled", "no_show"}
    assert (b["booking_date"] <= b["arrival_date"]).all()
    assert (b["nights"] >= 1).all() and (b["units"] >= 1).all() and (b["rate"] > 0).all()
    canc = b["status"] == "cancelled"
    assert b.loc[canc, "cancellation_date"].notna().all() and b.loc[~canc, "cancellation_date"].isna().all()
    assert (b.loc[canc, "cancellation_date"] >= b.loc[canc, "booking_date"]).all()
    assert (b.loc[canc, "cancellation_date"] <= b.loc[canc, "arrival_date"]).all()
    assert b["arrival_date"].min() >= pd.Timestamp("2023-01-01")
    assert b["arrival_date"].max() <= pd.Timestamp("2024-12-31")


def test_schema_matches_data_module_if_present(data):
    schema = pytest.importorskip("crm_analysis.data.schema")
    for name, dtype in schema.BOOKINGS.dtypes.items():
        if name in data.bookings:
            assert data.bookings[name].dtype == dtype, name
    assert set(schema.BOOKINGS.required) <= set(data.bookings.columns)
    assert set(data.bookings["status"].unique()) <= set(schema.BOOKING_STATUSES)


def test_same_seed_same_data_other_seed_differs():
    a = generate_bookings(seed=3, end="2023-03-31")
    b = generate_bookings(seed=3, end="2023-03-31")
    c = generate_bookings(seed=4, end="2023-03-31")
    pd.testing.assert_frame_equal(a.bookings, b.bookings)
    pd.testing.assert_frame_equal(a.unconstrained_demand, b.unconstrained_demand)
    assert len(a.bookings) != len(c.bookings) or not a.bookings["rate"].equals(c.bookings["rate"])


def test_capacity_never_exceeded(data):
    b = data.bookings
    held = b[b["status"] != "cancelled"]
    nights = held.loc[held.index.repeat(held["nights"])]
    night = nights["arrival_date"] + pd.to_timedelta(nights.groupby(level=0).cumcount(), unit="D")
    per_night = nights["units"].groupby(night.to_numpy()).sum()
    assert per_night.max() <= DEFAULT_HOTEL.capacity
    assert data.occupancy["rooms"].max() <= DEFAULT_HOTEL.capacity
    # the constraint binds: some requests are denied and some nights sell out
    assert data.denied["denied_requests"].sum() > 0
    assert per_night.max() >= DEFAULT_HOTEL.capacity - 5
    # occupancy table agrees with the bookings
    occ = data.occupancy.set_index("date")["rooms"]
    common = occ.index.intersection(per_night.index)
    assert (occ[common] == per_night[common]).all()


def test_unconstrained_demand_accounts_for_every_booking(data):
    u = data.unconstrained_demand
    assert u["accepted_bookings"].sum() == len(data.bookings)
    assert u["accepted_rooms"].sum() == data.bookings["units"].sum()
    assert (u["denied_rooms"] >= 0).all()
    assert data.denied["denied_requests"].sum() == u["denied_bookings"].sum()
    assert ((u["requested_rooms"] >= u["accepted_rooms"]) & (u["accepted_rooms"] >= 0)).all()


def test_segment_shares_and_behaviour_match_config(free):
    b = free.bookings
    assert free.denied["denied_requests"].sum() == 0
    cfg = DEFAULT_HOTEL
    shares = b.groupby("segment")["units"].sum() / b["units"].sum()
    lead = (b["arrival_date"] - b["booking_date"]).dt.days
    for s in cfg.segments:
        m = (b["segment"] == s.name).to_numpy()
        n = m.sum()
        assert shares[s.name] == pytest.approx(cfg.shares[s.name], abs=0.015), s.name
        canc = (b.loc[m, "status"] == "cancelled").mean()
        assert abs(canc - s.cancel_rate) < 4 * np.sqrt(s.cancel_rate * (1 - s.cancel_rate) / n), s.name
        nos = (b.loc[m, "status"] == "no_show").mean()
        assert abs(nos - s.no_show_rate) < 4 * np.sqrt(s.no_show_rate * (1 - s.no_show_rate) / n) + 1e-3, s.name
        assert lead[m].mean() == pytest.approx(s.lead_time_mean, rel=0.08), s.name
        assert b.loc[m, "nights"].mean() == pytest.approx(s.los_mean, rel=0.06), s.name
        stayed = m & (b["status"] == "stayed").to_numpy()
        assert b.loc[stayed, "rate"].mean() == pytest.approx(s.adr, rel=0.04), s.name
        assert set(b.loc[m, "fare_class"].unique()) == {s.fare}
    # groups book blocks of rooms, everybody else single rooms
    g = b[b["segment"] == "Groups"]
    assert (g["units"] >= 2).all()
    assert g["units"].mean() == pytest.approx(7.0, rel=0.1)
    assert (b.loc[b["segment"] != "Groups", "units"] == 1).all()


def test_constrained_data_stays_close_to_config(data):
    b = data.bookings
    assert data.denied["denial_rate"].max() < 0.2
    for s in DEFAULT_HOTEL.segments:
        x = b[b["segment"] == s.name]
        assert (x["status"] == "cancelled").mean() == pytest.approx(s.cancel_rate, abs=0.05)
        assert x.loc[x["status"] == "stayed", "rate"].mean() == pytest.approx(s.adr, rel=0.08)


def test_weekday_profile_visible(free):
    b = free.bookings
    wd = b["arrival_date"].dt.day_of_week
    rooms = b.assign(corp=b["units"].where(b["segment"] == "Corporate", 0))
    midweek = wd <= 3
    corp_share_mid = rooms.loc[midweek, "corp"].sum() / rooms.loc[midweek, "units"].sum()
    corp_share_wkend = rooms.loc[~midweek, "corp"].sum() / rooms.loc[~midweek, "units"].sum()
    assert corp_share_mid > 1.5 * corp_share_wkend


def test_month_profile_visible(free):
    u = free.unconstrained_demand
    monthly = u.groupby(u["arrival_date"].dt.month)["requested_rooms"].sum()
    monthly = monthly / u.groupby(u["arrival_date"].dt.month)["arrival_date"].nunique()
    cfg = DEFAULT_HOTEL
    expected = sum(
        cfg.shares[s.name] * np.asarray(s.month_profile) / np.mean(s.month_profile) for s in cfg.segments
    )
    assert np.corrcoef(monthly.to_numpy(), expected)[0, 1] > 0.8


def test_rates_higher_on_high_demand_dates(free):
    u = free.unconstrained_demand
    x = u[u["segment"] == "Online TA"]
    assert np.corrcoef(np.log(x["seasonal_index"]), np.log(x["rate"]))[0, 1] > 0.5


def test_price_elasticity_recoverable_and_naive_estimate_biased():
    sm = pytest.importorskip("statsmodels.api")
    smf = pytest.importorskip("statsmodels.formula.api")
    d = generate_bookings(DEFAULT_HOTEL, seed=5, demand_scale=3.0)  # unconstrained demand: capacity irrelevant
    u = d.unconstrained_demand
    x = u[u["segment"] == "Online TA"].assign(
        lr=lambda f: np.log(f["rate"]),
        li=lambda f: np.log(f["seasonal_index"]),
        month=lambda f: f["arrival_date"].dt.month,
        wd=lambda f: f["arrival_date"].dt.day_of_week,
    )
    truth = DEFAULT_HOTEL.segment("Online TA").price_elasticity
    fam = sm.families.Poisson()
    controlled = smf.glm("requested_bookings ~ lr + li + C(month) + C(wd)", data=x, family=fam).fit()
    naive = smf.glm("requested_bookings ~ lr", data=x, family=fam).fit()
    assert controlled.params["lr"] == pytest.approx(truth, abs=0.2)
    assert naive.params["lr"] > truth + 0.5  # biased towards zero by demand-dependent rates


def test_customer_ids_and_channels(data):
    b = data.bookings
    assert b["customer_id"].notna().all()
    corp = b[b["segment"] == "Corporate"]
    online = b[b["segment"] == "Online TA"]
    rep = lambda f: 1 - f["customer_id"].nunique() / len(f)  # noqa: E731
    assert rep(corp) > 0.15 and rep(online) < 0.05
    assert (corp["channel"] == "Corporate").mean() > 0.75
    assert (b.loc[b["segment"] == "Direct", "channel"] == "Direct").mean() > 0.95


def test_default_bookings_fast_and_deterministic():
    t0 = time.perf_counter()
    b = default_bookings()
    assert time.perf_counter() - t0 < 2.0
    pd.testing.assert_frame_equal(b, default_bookings(seed=42))
    assert DEFAULT_HOTEL.capacity == 120
    assert set(DEFAULT_HOTEL.rates) == set(b["fare_class"].unique())


def test_bad_input_raises():
    with pytest.raises(ValueError, match="capacity"):
        DEFAULT_HOTEL.with_capacity(0)
    with pytest.raises(ValueError, match="cancel_rate"):
        replace(DEFAULT_HOTEL.segments[0], cancel_rate=0.9, no_show_rate=0.2)
    with pytest.raises(ValueError, match="end"):
        generate_bookings(start="2024-01-02", end="2024-01-01")
    with pytest.raises(ValueError, match="demand_scale"):
        generate_bookings(demand_scale=-1)
    with pytest.raises(ValueError, match="unique"):
        HotelConfig(10, (DEFAULT_HOTEL.segments[0], DEFAULT_HOTEL.segments[0]))


def test_zero_demand_gives_empty_canonical_frame():
    d = generate_bookings(demand_scale=0.0, end="2023-01-31")
    assert len(d.bookings) == 0
    assert list(d.bookings.columns) == list(CANONICAL)


@settings(max_examples=20, deadline=None)
@given(
    capacity=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.2, 4.0),
    group=st.sampled_from([1.0, 2.0, 5.0, 30.0]),
)
def test_property_rooms_held_never_exceed_capacity(capacity, seed, scale, group):
    seg = SegmentProfile(
        name="Mixed", share=1.0, adr=100.0, rate_dispersion=0.2, lead_time_mean=20.0, lead_time_shape=1.0,
        los_mean=2.5, los_shape=1.0, cancel_rate=0.4, no_show_rate=0.05,
        weekday_profile=(1, 1, 1, 1, 1, 1, 1), month_profile=(1,) * 12, group_size_mean=group,
    )
    cfg = HotelConfig(capacity, (seg, replace(seg, name="Single", group_size_mean=1.0)))
    d = generate_bookings(cfg, start="2024-01-01", end="2024-02-29", seed=seed, demand_scale=scale)
    b = d.bookings
    if len(b) == 0:
        return
    held = held_rooms_over_time(b)
    assert held.max() <= capacity  # at every decision day, on every night
    assert d.occupancy["rooms"].max() <= capacity
