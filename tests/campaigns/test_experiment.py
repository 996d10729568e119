"""Campaign tables, response rates and uplift intervals (crm_analysis.campaigns.experiment).

Intervals are checked against the closed forms written out here: Wilson (1927)
score interval, Newcombe (1998) hybrid score interval for a difference of
proportions (method 10), Welch normal interval for a difference of means.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_analysis.campaigns import CampaignInputError, campaign_data, response_rates, uplift_by_segment

Z = stats.norm.ppf(0.975)


def wilson(k: float, n: int, z: float = Z) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def newcombe(k1: float, n1: int, k0: float, n0: int) -> tuple[float, float]:
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson(k1, n1)
    l0, u0 = wilson(k0, n0)
    d = p1 - p0
    return d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)


def _campaign(rows):
    return campaign_data(pd.DataFrame(rows, columns=["customer_id", "group", "seg", "visit", "spend"]),
                         outcomes=("visit", "spend"))


def test_rates_and_intervals_match_the_closed_forms():
    rng = np.random.default_rng(0)
    n = 400
    rows = [(f"c{i}", "mail" if i % 2 else "control", "A" if i % 3 else "B", int(rng.random() < (0.3 if i % 2 else 0.2)),
             float(rng.gamma(2, 10)) if rng.random() < 0.3 else 0.0) for i in range(n)]
    data = _campaign(rows)
    r = response_rates(data).set_index(["group", "outcome"])
    t = data.table
    for g in ("mail", "control"):
        part = t[t["group"] == g]
        k, m = part["visit"].sum(), len(part)
        lo, hi = wilson(k, m)
        assert r.loc[(g, "visit"), "rate"] == pytest.approx(k / m)
        assert (r.loc[(g, "visit"), "lower"], r.loc[(g, "visit"), "upper"]) == pytest.approx((lo, hi), abs=1e-12)
        s = part["spend"]
        se = s.std(ddof=1) / math.sqrt(m)
        assert r.loc[(g, "spend"), "lower"] == pytest.approx(s.mean() - Z * se)
    u = uplift_by_segment(data, "mail", by="seg")
    row = u[(u["segment"] == "all") & (u["outcome"] == "visit")].iloc[0]
    tr, co = t[t["group"] == "mail"], t[t["group"] == "control"]
    assert (row["lower"], row["upper"]) == pytest.approx(
        newcombe(tr["visit"].sum(), len(tr), co["visit"].sum(), len(co)), abs=1e-12)
    row = u[(u["segment"] == "all") & (u["outcome"] == "spend")].iloc[0]
    se = math.sqrt(tr["spend"].var(ddof=1) / len(tr) + co["spend"].var(ddof=1) / len(co))
    d = tr["spend"].mean() - co["spend"].mean()
    assert (row["uplift"], row["lower"], row["upper"]) == pytest.approx((d, d - Z * se, d + Z * se))
    assert set(u["segment"]) == {"all", "A", "B"}


@settings(max_examples=50, deadline=None)
@given(k1=st.integers(0, 60), n1=st.integers(60, 200), k0=st.integers(0, 60), n0=st.integers(60, 200))
def test_property_newcombe_interval(k1, n1, k0, n0):
    rows = [(f"t{i}", "mail", "x", int(i < k1), 0.0) for i in range(n1)] + [
        (f"c{i}", "control", "x", int(i < k0), 0.0) for i in range(n0)]
    u = uplift_by_segment(_campaign(rows), "mail")
    row = u[u["outcome"] == "visit"].iloc[0]
    lo, hi = newcombe(k1, n1, k0, n0)
    assert row["lower"] == pytest.approx(lo, abs=1e-10) and row["upper"] == pytest.approx(hi, abs=1e-10)
    assert row["lower"] <= row["uplift"] <= row["upper"]


def test_small_segments_get_no_interval():
    rows = [(f"t{i}", "mail", "big" if i < 50 else "tiny", 1, 0.0) for i in range(55)] + [
        (f"c{i}", "control", "big" if i < 50 else "tiny", 0, 0.0) for i in range(55)]
    u = uplift_by_segment(_campaign(rows), "mail", by="seg", min_customers=30)
    tiny = u[(u["segment"] == "tiny") & (u["outcome"] == "visit")].iloc[0]
    assert tiny["small"] and np.isnan(tiny["lower"])


@pytest.mark.parametrize(
    "frame, kwargs, match",
    [
        (pd.DataFrame({"customer_id": ["a"], "group": ["x"], "visit": [1]}), {"outcomes": ["visit", "spend"]},
         "missing column\\(s\\) \\['spend'\\]"),
        (pd.DataFrame({"customer_id": ["a", "b"], "group": ["x", "y"], "visit": [1, 0]}), {"outcomes": ["visit"]},
         "control label 'control' not found"),
        (pd.DataFrame({"customer_id": ["a", "b"], "group": ["control"] * 2, "visit": [1, 0]}), {"outcomes": ["visit"]},
         "nothing to compare"),
        (pd.DataFrame({"customer_id": ["a", "a"], "group": ["x", "control"], "visit": [1, 0]}),
         {"outcomes": ["visit"]}, "duplicated 'customer_id'"),
        (pd.DataFrame({"customer_id": ["a", "b"], "group": ["x", "control"], "visit": [1, np.nan]}),
         {"outcomes": ["visit"]}, "outcome 'visit' has 1 missing"),
        (pd.DataFrame({"customer_id": ["a", "b"], "group": ["x", "control"], "visit": [1, -2]}),
         {"outcomes": ["visit"]}, "negative"),
    ],
)
def test_bad_campaign_tables_are_refused(frame, kwargs, match):
    with pytest.raises(CampaignInputError, match=match):
        campaign_data(frame, **kwargs)


def test_unknown_treatment_and_bad_level():
    data = _campaign([("a", "mail", "x", 1, 0.0), ("b", "control", "x", 0, 0.0)])
    with pytest.raises(CampaignInputError, match="unknown treatment 'sms'"):
        uplift_by_segment(data, "sms")
    with pytest.raises(CampaignInputError, match="confidence level"):
        response_rates(data, level=95)


# --- found by a newcomer's try-out (issue 16) -------------------------------------------------------------------

@pytest.mark.parametrize("labels, control", [([0, 1], 0), ([0, 1], "0"), ([False, True], False), ([1.0, 2.0], 1.0),
                                             (["ctl", "mail"], "ctl")])
def test_control_label_of_any_type_matches_its_column(labels, control):
    df = pd.DataFrame({"customer_id": list("abcd"), "group": labels * 2, "visit": [0, 1, 1, 0]})
    d = campaign_data(df, control=control, outcomes=("visit",))
    assert d.control == str(labels[0]) and d.treatments == (str(labels[1]),)
    assert (d.table["group"] == d.control).sum() == 2


def test_one_outcome_name_is_one_outcome():
    df = pd.DataFrame({"customer_id": list("abcd"), "group": ["control", "t"] * 2, "visit": [0, 1, 1, 0]})
    assert campaign_data(df, outcomes="visit").outcomes == ("visit",)


@given(st.lists(st.tuples(st.sampled_from(["mail", "control"]), st.sampled_from(["A", "B", None]),
                          st.integers(0, 1)), min_size=4, max_size=60))
@settings(max_examples=40, deadline=None)
def test_customers_without_a_segment_are_kept_and_counted(rows):
    """Every customer is in exactly one segment row: those without a segment in NO_SEGMENT."""
    from crm_analysis.campaigns import NO_SEGMENT

    groups = {g for g, _, _ in rows}
    if groups != {"mail", "control"}:
        return
    df = pd.DataFrame([(f"c{i}", g, s, v) for i, (g, s, v) in enumerate(rows)],
                      columns=["customer_id", "group", "seg", "visit"])
    d = campaign_data(df, outcomes=("visit",))
    r = response_rates(d, by="seg")
    assert r["customers"].sum() == len(df)
    assert (r["seg"] == NO_SEGMENT).any() == df["seg"].isna().any()
    u = uplift_by_segment(d, "mail", by="seg", min_customers=1)
    per_seg = u[u["segment"] != "all"]
    assert (per_seg["treated"] + per_seg["control"]).sum() == len(df)
    n_missing = int(df["seg"].isna().sum())
    if n_missing:
        row = per_seg[per_seg["segment"] == NO_SEGMENT].iloc[0]
        assert row["treated"] + row["control"] == n_missing


@pytest.mark.parametrize("spend", [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
def test_spend_stays_money_whatever_its_values(spend):
    """No conversions (spend all 0) or a spend of 0/1 only: still money (mean, normal interval), not a rate."""
    df = pd.DataFrame({"customer_id": list("abcd"), "group": ["control", "t"] * 2, "visit": [0, 1, 1, 0],
                       "spend": spend})
    d = campaign_data(df, outcomes=("visit", "spend"))
    assert d.binary == {"visit": True, "spend": False}
    r = response_rates(d)
    assert set(r.loc[r["outcome"] == "spend", "interval"]) == {"normal"}
    own = campaign_data(df.rename(columns={"spend": "revenue"}), outcomes=("visit", "revenue"), money="revenue")
    assert own.binary["revenue"] is False
    with pytest.raises(CampaignInputError, match="money outcome\\(s\\) \\['nope'\\]"):
        campaign_data(df, outcomes=("visit", "spend"), money=["nope"])
