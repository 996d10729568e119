"""Overbooking by days out and the policy replay: accounting identities, hand cases, limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.yield_management import overbooking_limit_service
from crm_analysis.yield_management.dynamic import arrival_probabilities, dynamic_programme
from crm_analysis.yield_management.replay import (
    OUTCOMES,
    ReplayPolicy,
    overbooking_limits_by_days_out,
    replay_policies,
    show_rates_by_days_out,
)

D0 = pd.Timestamp("2024-03-01")


def _stream(rng, n, days=20, classes=("hi", "lo")):
    arr = rng.integers(0, days, n)
    lead = rng.integers(0, 30, n)
    st_ = rng.choice(["stayed", "cancelled", "no_show"], n, p=[0.6, 0.3, 0.1])
    cancel_before = (rng.random(n) * (lead + 1)).astype(int)
    df = pd.DataFrame({
        "booking_id": [f"r{i:04d}" for i in range(n)],
        "booking_date": D0 + pd.to_timedelta(arr - lead, unit="D"),
        "arrival_date": D0 + pd.to_timedelta(arr, unit="D"),
        "nights": rng.integers(1, 4, n),
        "units": rng.choice([1, 1, 1, 2], n),
        "rate": np.round(rng.uniform(50, 200, n), 2),
        "status": st_,
        "fare_class": rng.choice(list(classes), n),
    })
    df["cancellation_date"] = (df["arrival_date"] - pd.to_timedelta(cancel_before, unit="D")).where(
        df["status"] == "cancelled")
    return df


def _policies():
    return [ReplayPolicy(c, ob) for c in ("fcfs", "emsr_b", "dp") for ob in (False, True)]


def _inputs(C, days):
    fares = {"hi": 150.0, "lo": 80.0}
    demand = {"hi": (np.full(days, 3.0), np.full(days, 2.0)), "lo": (np.full(days, 8.0), np.full(days, 3.0))}
    lam, k = arrival_probabilities(np.column_stack([np.full(30, 0.1), np.full(30, 0.3)]))
    dp = [dynamic_programme([150.0, 80.0], lam, C + 5, periods_per_day=k)]
    limits = np.minimum(C + np.arange(31) // 6, C + 5)
    return dict(limits=limits, class_fares=fares, class_demand=demand, dp=dp, dp_group=np.zeros(days, int))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(1, 120), C=st.integers(1, 8), walk=st.floats(0, 300))
def test_accounting_identity(seed, n, C, walk):
    rng = np.random.default_rng(seed)
    req = _stream(rng, n)
    days = 20
    res = replay_policies(req, _policies(), capacity=C, start=D0, end=D0 + pd.Timedelta(days=days - 1),
                          walk_cost=walk, **_inputs(C, days))
    for pol, g in res.outcomes.groupby("policy"):
        # every request exactly once, in one of the outcome states
        assert sorted(g["booking_id"]) == sorted(req["booking_id"])
        assert set(g["outcome"]) <= set(OUTCOMES)
        o = g.set_index("booking_id")["outcome"].reindex(req["booking_id"]).to_numpy()
        # refused / cancelled / no_show / shown or walked match the real outcomes
        acc = o != "refused"
        assert np.all((o[acc] == "cancelled") == (req["status"].to_numpy()[acc] == "cancelled"))
        assert np.all((o[acc] == "no_show") == (req["status"].to_numpy()[acc] == "no_show"))
        # revenue adds up: the nights' revenue = rate x rooms x nights of the shown bookings on scored nights
        shown = req[o == "shown"]
        n_rev = sum(r.rate * r.units for r in shown.itertuples()
                    for k in range(r.nights) if (r.arrival_date + pd.Timedelta(days=k)) <= D0 + pd.Timedelta(days=days - 1))
        s = res.summary.loc[pol]
        assert s["revenue"] == pytest.approx(n_rev)
        assert s["net_revenue"] == pytest.approx(n_rev - walk * s["walked"])
        night = res.nightly[res.nightly["policy"] == pol]
        assert (night["occupied"] <= C).all()
        assert (night["occupied"] + night["empty"] == C).all()
        assert s[[f"requests_{k}" for k in OUTCOMES]].sum() == len(req)
        if not pol.endswith("overbooking"):
            assert s["walked"] == 0  # without overbooking nobody is ever walked


def test_hand_case_fcfs_and_walk():
    # 2 rooms, one night; three 1-room requests on days -5, -4, -3, all stay
    req = pd.DataFrame({
        "booking_id": ["a", "b", "c"], "booking_date": D0 - pd.to_timedelta([5, 4, 3], unit="D"),
        "arrival_date": [D0] * 3, "nights": 1, "units": 1, "rate": [100.0, 90.0, 80.0],
        "status": "stayed", "cancellation_date": pd.NaT, "fare_class": "x",
    })
    res = replay_policies(req, [ReplayPolicy("fcfs"), ReplayPolicy("fcfs", True)], capacity=2, start=D0, end=D0,
                          limits=np.array([2, 3, 3, 3, 3, 3]), walk_cost=50.0)
    o = res.outcomes.pivot(index="booking_id", columns="policy", values="outcome")
    assert o["FCFS"].tolist() == ["shown", "shown", "refused"]
    # with the limit of 3 all are accepted; the lowest rate (c) is walked
    assert o["FCFS + overbooking"].tolist() == ["shown", "shown", "walked"]
    s = res.summary
    assert s.loc["FCFS + overbooking", "net_revenue"] == 190.0 - 50.0
    assert s.loc["FCFS", "revpar"] == 95.0 and s.loc["FCFS", "occupancy"] == 1.0
    # a cancellation frees the room for a later request
    req2 = req.assign(status=["cancelled", "stayed", "stayed"], cancellation_date=[D0 - pd.Timedelta(days=4), pd.NaT, pd.NaT])
    res2 = replay_policies(req2, [ReplayPolicy("fcfs")], capacity=2, start=D0, end=D0)
    assert res2.outcomes["outcome"].tolist() == ["cancelled", "shown", "shown"]


def test_show_rates_and_limits_by_days_out():
    rng = np.random.default_rng(2)
    req = _stream(rng, 3000, days=60)
    q = show_rates_by_days_out(req, start=D0 + pd.Timedelta(days=5), end=D0 + pd.Timedelta(days=59), max_lead=30)
    # by hand at d = 0: stayed room-nights / room-nights held on the night
    assert q["show_rate"].iloc[0] < 1
    # show rate rises towards arrival (cancellations still to come fall)
    assert q["show_rate"].iloc[0] >= q["show_rate"].iloc[20]
    lim = overbooking_limits_by_days_out(q["show_rate"], 100, max_denied_prob=0.05, walk_cost=300, empty_room_cost=100)
    assert lim.loc[0, "limit_service"] == overbooking_limit_service(100, q["show_rate"].iloc[0], 0.05)
    # a lower show rate never gives a lower limit
    qs = lim["show_rate"].to_numpy()
    ls = lim["limit_service"].to_numpy()
    for i in range(len(qs)):
        for j in range(len(qs)):
            if qs[i] <= qs[j]:
                assert ls[i] >= ls[j]
    assert (lim["limit_service"] >= 100).all() and "limit_cost" in lim


def test_bad_inputs():
    rng = np.random.default_rng(0)
    req = _stream(rng, 10)
    with pytest.raises(ValueError, match="needs `limits`"):
        replay_policies(req, [ReplayPolicy("fcfs", True)], capacity=2, start=D0, end=D0)
    with pytest.raises(ValueError, match="unknown control"):
        replay_policies(req, [ReplayPolicy("lp")], capacity=2, start=D0, end=D0)
    with pytest.raises(ValueError, match="without a fare"):
        replay_policies(req, [ReplayPolicy("emsr_b")], capacity=2, start=D0, end=D0, class_fares={"hi": 1.0},
                        class_demand={"hi": (np.ones(1), np.ones(1))})


def test_request_stream_and_replications():
    from crm_analysis.synthetic import DEFAULT_HOTEL, generate_bookings, request_stream
    from crm_analysis.yield_management.replay import replay_replications

    cfg = DEFAULT_HOTEL.with_capacity(30)
    full = generate_bookings(cfg, start="2024-01-01", end="2024-03-31", seed=4)
    stream = request_stream(cfg, start="2024-01-01", end="2024-03-31", seed=4)
    # the same requests the capacity-controlled generator saw, none refused
    assert len(stream) == int(full.denied["requests"].sum())
    assert len(stream) > len(full.bookings)
    streams = [request_stream(cfg, start="2024-01-01", end="2024-03-31", seed=s) for s in (1, 2, 3)]
    pols = [ReplayPolicy("fcfs"), ReplayPolicy("fcfs", True)]
    out = replay_replications(streams, pols, capacity=30, start="2024-02-01", end="2024-03-31",
                              limits=np.full(400, 33), walk_cost=200.0)
    assert list(out.index) == ["FCFS", "FCFS + overbooking"]
    assert out.loc["FCFS", "net_revpar_diff_vs_first"] == 0
    assert (out["streams"] == 3).all() and (out["net_revpar_ci"] > 0).all()
    with pytest.raises(ValueError, match="two streams"):
        replay_replications(streams[:1], pols, capacity=30, start="2024-02-01", end="2024-03-31", limits=np.full(3, 33))


def test_dp_rooms_left_net_of_cancellations_to_come():
    # hand case (issue 14 point 6): C = 2, 10 periods of a high-fare request with probability 0.15 each:
    # bid price of the last room ~ 200 * P(>= 1 high) = 160 > 100, of the 2nd-last ~ 200 * P(>= 2) ~ 92 < 100.
    res = dynamic_programme(np.array([200.0, 100.0]), np.tile([0.15, 0.0], (10, 1)), 2)
    bp = res.bid_prices[9]
    assert bp[0] > 100 > bp[1]
    day = D0 + pd.Timedelta(days=10)
    req = pd.DataFrame({
        "booking_id": ["a", "b"], "booking_date": [D0, D0], "arrival_date": [day, day], "nights": [1, 1],
        "units": [1, 1], "rate": [200.0, 50.0], "status": ["cancelled", "stayed"], "fare_class": ["hi", "lo"],
        "cancellation_date": [D0 + pd.Timedelta(days=5), pd.NaT]})
    kw = dict(capacity=2, start=day, end=day, class_fares={"hi": 200.0, "lo": 100.0}, dp=[res],
              dp_group=np.array([0]))
    # gross: "a" (which will cancel) counts as a sold room -> 1 left, bid 160 > 100: "b" refused
    gross = replay_policies(req, [ReplayPolicy("dp")], **kw).outcomes.set_index("booking_id")["outcome"]
    assert gross.to_dict() == {"a": "cancelled", "b": "refused"}
    # net: 30 % of the rooms held 10 days out stay -> round(0.3 * 1) = 0 rooms used, 2 left, bid 92 <= 100
    # (the class fare, not the booking's own rate of 50, is compared: bid prices are in the DP's money)
    net = replay_policies(req, [ReplayPolicy("dp")], dp_show_rate=np.full(11, 0.3), **kw)
    assert net.outcomes.set_index("booking_id")["outcome"].to_dict() == {"a": "cancelled", "b": "shown"}
    with pytest.raises(ValueError, match="dp_show_rate"):
        replay_policies(req, [ReplayPolicy("dp")], dp_show_rate=np.zeros(11), **kw)


def test_limits_per_night():
    # a 2-D limits array: one row per scored night; the night with limit 1 refuses the second request
    day = D0 + pd.Timedelta(days=3)
    req = pd.DataFrame({
        "booking_id": ["a", "b", "c", "d"], "booking_date": [D0] * 4,
        "arrival_date": [day, day, day + pd.Timedelta(days=1), day + pd.Timedelta(days=1)], "nights": [1] * 4,
        "units": [1] * 4, "rate": [100.0] * 4, "status": ["stayed"] * 4, "cancellation_date": [pd.NaT] * 4})
    lim = np.array([[1, 1, 1, 1], [3, 3, 3, 3]])
    r = replay_policies(req, [ReplayPolicy("fcfs", True)], capacity=2, start=day, end=day + pd.Timedelta(days=1),
                        limits=lim)
    assert r.outcomes.set_index("booking_id")["outcome"].to_dict() == {"a": "shown", "b": "refused",
                                                                     "c": "shown", "d": "shown"}
    with pytest.raises(ValueError, match="one row per scored night"):
        replay_policies(req, [ReplayPolicy("fcfs", True)], capacity=2, start=day, end=day, limits=lim)


def test_limits_by_days_out_refuse_rates_that_give_no_limit():
    """Finding F2/F3: every booking cancelled gave show rate 0 (d >= 2) and NaN (d < 2), shown as 1.0 with limit
    = capacity at every d; walk_cost without empty_room_cost dropped the cost column silently, and a negative
    walk_cost was reported as 'denied_cost and spoilage_cost'."""
    with pytest.raises(ValueError, match="no days out has a positive show rate"):
        overbooking_limits_by_days_out(np.array([np.nan, np.nan, 0.0, 0.0]), 120)
    with pytest.raises(ValueError, match="needs both walk_cost and empty_room_cost.*empty_room_cost=None"):
        overbooking_limits_by_days_out(np.array([0.9, 0.8]), 120, walk_cost=100.0)
    with pytest.raises(ValueError, match="walk_cost must be a cost > 0, got -100"):
        overbooking_limits_by_days_out(np.array([0.9, 0.8]), 120, walk_cost=-100.0, empty_room_cost=50.0)
    # a missing rate on the night itself is not taken as 1.0: the nearest farther rate
    out = overbooking_limits_by_days_out(np.array([np.nan, 0.9, 0.8]), 120)
    assert out["show_rate"].tolist() == [0.9, 0.9, 0.8]
    assert out.loc[0, "limit_service"] == out.loc[1, "limit_service"] > 120


def test_show_rates_of_nights_without_bookings_are_refused():
    """Nights outside the data gave a table of NaN rates without a word."""
    from crm_analysis.synthetic import generate_bookings

    b = generate_bookings(start="2023-01-01", end="2023-03-31", seed=2).bookings
    with pytest.raises(ValueError, match=r"no room is on the books for the nights 2030-01-01 to 2030-02-01; the "
                                         r"bookings arrive from 2023-01-01"):
        show_rates_by_days_out(b, start="2030-01-01", end="2030-02-01", max_lead=10)
