"""Expected shows and overbooking limits from the distribution of shows (issue 14, point 4).

Oracles: the Poisson-binomial pmf against a brute-force sum over all 2^n outcomes and against a
simulation; the limits with no booking on hand against the binomial limits of overbooking.py
(scipy.stats.binom, independent code); a hand-made case; monotonicity in costs and service level.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.yield_management import overbooking_limit_cost, overbooking_limit_service
from crm_analysis.yield_management.shows import (
    HeldCancellation,
    bookings_on_hand,
    limits_from_shows,
    net_pickup_by_days_out,
    poisson_binomial_pmf,
    shows_pmf,
)


def _brute(p, u):
    out = np.zeros(int(np.sum(u)) + 1)
    for xs in itertools.product([0, 1], repeat=len(p)):
        pr = np.prod([pi if x else 1 - pi for pi, x in zip(p, xs)])
        out[int(np.dot(xs, u))] += pr
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(1, 3)), min_size=0, max_size=8))
def test_poisson_binomial_equals_brute_force(items):
    p = [x[0] for x in items]
    u = [x[1] for x in items]
    np.testing.assert_allclose(poisson_binomial_pmf(p, u), _brute(p, u), atol=1e-12)


def test_poisson_binomial_and_pickup_against_simulation():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.2, 0.95, 60)
    pmf = shows_pmf(p, net_pickup=7.5)
    sims = (rng.random((200_000, 60)) < p).sum(axis=1) + rng.poisson(7.5, 200_000)
    emp = np.bincount(sims, minlength=pmf.size)[: pmf.size] / sims.size
    assert abs(pmf.sum() - 1) < 1e-12
    assert np.abs(np.cumsum(pmf) - np.cumsum(emp)).max() < 0.005  # KS distance, n = 200k
    assert np.dot(np.arange(pmf.size), pmf) == pytest.approx(p.sum() + 7.5, rel=1e-9)


def test_bad_probability_is_named():
    with pytest.raises(ValueError, match=r"entry 1 is 1\.5"):
        poisson_binomial_pmf([0.5, 1.5])
    with pytest.raises(ValueError, match="new_show_rate"):
        limits_from_shows(np.ones(1), 10, 0.0, max_denied_prob=0.05)
    with pytest.raises(ValueError, match="walk_cost"):
        limits_from_shows(np.ones(1), 10, 0.9, walk_cost=-1, empty_room_cost=100)


@pytest.mark.parametrize("C,q", [(10, 0.9), (100, 0.9), (226, 0.62), (50, 0.35)])
@pytest.mark.parametrize("eps", [0.01, 0.05, 0.2])
def test_no_booking_on_hand_gives_the_binomial_limits(C, q, eps):
    lim = limits_from_shows(np.ones(1), C, q, max_denied_prob=eps, walk_cost=300.0, empty_room_cost=100.0)
    assert lim["extra_service"] == overbooking_limit_service(C, q, eps)
    assert lim["extra_cost"] == overbooking_limit_cost(C, q, 300.0, 100.0)


def test_hand_made_case():
    # C = 2; two bookings on hand show with 0.5 each: P(on hand shows = 0, 1, 2) = 1/4, 1/2, 1/4.
    # One more room at q = 1: S_1 = on hand + 1 -> P(S_1 > 2) = 1/4. Two more: P(S_2 > 2) = 3/4.
    base = poisson_binomial_pmf([0.5, 0.5])
    np.testing.assert_allclose(base, [0.25, 0.5, 0.25])
    assert limits_from_shows(base, 2, 1.0, max_denied_prob=0.25)["extra_service"] == 1
    assert limits_from_shows(base, 2, 1.0, max_denied_prob=0.2)["extra_service"] == 0
    # cost rule: accept the 1st extra while r P(S_0 < 2) > w P(S_0 >= 2): 0.75 r > 0.25 w
    # with w = 2r: yes; the 2nd: r P(S_1 < 2) = 0.25 r > w P(S_1 >= 2) = 0.75 w: no -> 1 extra
    assert limits_from_shows(base, 2, 1.0, walk_cost=200.0, empty_room_cost=100.0)["extra_cost"] == 1
    # w = 4r: 0.75 r > 0.25 * 4 r is false -> none
    assert limits_from_shows(base, 2, 1.0, walk_cost=400.0, empty_room_cost=100.0)["extra_cost"] == 0
    # on hand already breaks the level: nothing more, flagged
    lim = limits_from_shows(poisson_binomial_pmf([1.0, 1.0, 1.0]), 2, 0.9, max_denied_prob=0.05)
    assert lim == {"extra_service": 0, "over_service": 1}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.05, 1.0), min_size=0, max_size=40), st.integers(5, 40), st.floats(0.3, 1.0),
       st.floats(0.005, 0.5), st.floats(0.005, 0.5), st.floats(1, 1000), st.floats(1, 1000), st.floats(1, 500))
def test_limits_monotone_in_level_and_costs(p, C, q, e1, e2, w1, w2, r):
    base = poisson_binomial_pmf(p)
    lo, hi = sorted([e1, e2])
    assert (limits_from_shows(base, C, q, max_denied_prob=lo)["extra_service"]
            <= limits_from_shows(base, C, q, max_denied_prob=hi)["extra_service"])
    wl, wh = sorted([w1, w2])
    # dearer walks: fewer rooms; dearer empty rooms: more rooms
    assert (limits_from_shows(base, C, q, walk_cost=wh, empty_room_cost=r)["extra_cost"]
            <= limits_from_shows(base, C, q, walk_cost=wl, empty_room_cost=r)["extra_cost"])
    assert (limits_from_shows(base, C, q, walk_cost=r, empty_room_cost=wl)["extra_cost"]
            <= limits_from_shows(base, C, q, walk_cost=r, empty_room_cost=wh)["extra_cost"])


def _table():
    d = pd.Timestamp("2024-03-10")
    return pd.DataFrame({
        "booking_id": [1, 2, 3, 4],
        "booking_date": [d - pd.Timedelta(days=x) for x in (40, 20, 5, 30)],
        "arrival_date": [d, d, d, d - pd.Timedelta(days=1)],
        "nights": [1, 2, 1, 2],
        "units": [1, 2, 1, 1],
        "rate": [100.0, 90.0, 120.0, 80.0],
        "status": ["stayed", "cancelled", "stayed", "no_show"],
        "cancellation_date": [pd.NaT, d - pd.Timedelta(days=10), pd.NaT, pd.NaT],
    })


def test_bookings_on_hand_hand_made():
    b = _table()
    night = pd.DatetimeIndex(["2024-03-10"])
    # 14 days out: booking 1 (booked 40 before), 2 (booked 20, cancelled 10 before), 4 (night 2 of its stay)
    oh = bookings_on_hand(b, night, 14).sort_values("row")
    assert oh["row"].tolist() == [0, 1, 3]
    assert oh["units"].tolist() == [1, 2, 1]
    assert oh["days_to_arrival"].tolist() == [14, 14, 13]
    # 7 days out: booking 2 is cancelled (10 days before), booking 3 not yet booked
    assert sorted(bookings_on_hand(b, night, 7)["row"]) == [0, 3]
    assert sorted(bookings_on_hand(b, night, 0)["row"]) == [0, 2, 3]


def test_net_pickup_hand_made():
    b = _table()
    pk = net_pickup_by_days_out(b, pd.DatetimeIndex(["2024-03-10"]), [0, 10, 25, 50])
    # room-nights on 2024-03-10 by lead: b1 40 (stayed), b2 20 (cancelled, 2 rooms), b3 5 (stayed), b4 31 (no-show)
    assert pk.loc[10, "gross_pickup"] == 1 and pk.loc[10, "net_pickup"] == 1
    assert pk.loc[25, "gross_pickup"] == 3 and pk.loc[25, "net_pickup"] == 1
    assert pk.loc[50, "gross_pickup"] == 5 and pk.loc[50, "net_pickup"] == 2
    assert pk.loc[25, "new_show_rate"] == pytest.approx(1 / 3)


def test_held_cancellation_recovers_survival():
    # bookings cancel uniformly over their lead time with probability c: held d days out the
    # later-cancel probability is c * (d / lead) / (1 - c + c * d / lead); the recalibration must
    # bring the mean closer to that than the booking-time c
    rng = np.random.default_rng(0)
    n = 20_000
    lead = rng.integers(1, 200, n)
    c = rng.uniform(0.05, 0.7, n)
    canc = rng.random(n) < c
    cdays = np.where(canc, rng.integers(0, lead + 1), -1)  # days before arrival of the cancellation
    arr = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    b = pd.DataFrame({"arrival_date": arr, "booking_date": arr - pd.to_timedelta(lead, unit="D"),
                      "status": np.where(canc, "cancelled", "stayed"),
                      "cancellation_date": pd.Series(arr - pd.to_timedelta(np.maximum(cdays, 0), unit="D")).where(canc)})
    h = HeldCancellation(days_out=(0, 7, 30, 90)).fit(b, c)
    for d in (7, 30, 90):
        held = (lead >= d) & (~canc | (cdays < d))
        pred = h.predict(c[held], d, lead[held]).mean()
        truth = canc[held].mean()
        assert abs(pred - truth) < 0.01 and abs(c[held].mean() - truth) > 0.05


def test_limits_meet_the_rule_when_the_bookings_on_hand_already_break_it():
    """Finding F8: with capacity 10 for ~95 rooms on hand the per-night limit was the rooms on hand (~95), and
    the replay 'FCFS + limits from bookings on hand' walked 4,919 guests (net RevPAR -479 against +91 for FCFS).
    The limit is now the binomial one at the on-hand mean show probability: a hold of ``limit`` rooms of that
    show probability meets the service level (checked with scipy's binomial), and it never exceeds the hold."""
    from scipy import stats

    from crm_analysis.synthetic import generate_bookings
    from crm_analysis.yield_management.shows import show_forecast

    b = generate_bookings(start="2023-01-01", end="2023-08-31", seed=5).bookings
    c = np.full(len(b), 0.3)  # a constant booking-time cancellation probability is enough here
    C, eps = 10, 0.05
    sf = show_forecast(b, c, nights=pd.date_range("2023-08-01", "2023-08-20"),
                       train_nights=pd.date_range("2023-03-01", "2023-07-31"), capacity=C, days_out=(0, 7, 30),
                       max_denied_prob=eps, walk_cost=200.0, empty_room_cost=100.0)
    n = sf.nightly
    assert (n["rooms_on_hand"] > 3 * C).all()  # the situation of the finding
    assert (n["limit_service"] <= n["rooms_on_hand"]).all() and (n["limit_cost"] <= n["rooms_on_hand"]).all()
    assert (n["limit_service"] >= C).all()
    pbar = (n["expected_shows_on_hand"] / n["rooms_on_hand"]).to_numpy()
    walk_risk = stats.binom.sf(C, n["limit_service"].to_numpy(), pbar)  # P(Bin(limit, pbar) > C)
    assert (walk_risk <= eps + 1e-12).all()
    assert (n["limit_service"] < 2 * C).all()
    assert any("already break the service level" in x for x in sf.notes)


def test_held_cancellation_of_a_hotel_without_cancellations_is_zero():
    """Finding F9: no held booking cancelling later was an error; the share 0 is the exact estimate."""
    b = _table()
    b = b.assign(status=b["status"].astype("object").replace({"cancelled": "stayed"}), cancellation_date=pd.NaT)
    h = HeldCancellation(days_out=(0, 7, 14)).fit(b, np.full(len(b), 0.2))
    assert h.constant_ == 0.0 and h.n_rows_ > 0
    np.testing.assert_array_equal(h.predict(np.array([0.1, 0.9]), 7, np.array([10, 40])), [0.0, 0.0])
