"""Tests of crm_analysis.segmentation.actions: actions from each customer's state."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from crm_analysis.segmentation import (
    LAPSED_SEGMENTS,
    NEW_CUSTOMER_INTENTS,
    ActionRule,
    LapsePolicy,
    SegmentationInputError,
    assign_actions,
    count_rules,
    customer_state,
    default_action_rules,
    export_action_table,
    segment_summary,
    validate_action_rules,
)


def _customers() -> pd.DataFrame:
    """Eight customers in days (unit_days = 1); expectations are worked out by hand in the tests.

    A: two active, most of the CLV. B: two lapsed (400+ days) with big past revenue. C: four small
    and lapsed by P(alive) or days. N: one new customer (first purchase 30 days ago). L: a new
    customer placed in the segment "Lost" (lapsed by name).
    """
    t = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(10)],
        "segment": ["A", "A", "B", "B", "C", "C", "C", "C", "N", "Lost"],
        "revenue": [100.0, 100.0, 150.0, 150.0, 10.0, 10.0, 10.0, 10.0, 20.0, 20.0],
        "clv": [500.0, 300.0, 50.0, 30.0, 5.0, 5.0, 5.0, 5.0, 10.0, 10.0],
        "p_alive": [0.9, 0.8, 1.0, 0.3, 0.1, 0.2, 1.0, 0.2, 1.0, 1.0],
        "recency": [300.0, 280.0, 10.0, 20.0, 5.0, 5.0, 0.0, 5.0, 0.0, 0.0],
        "T": [310.0, 300.0, 430.0, 450.0, 100.0, 100.0, 500.0, 100.0, 30.0, 30.0],
    })
    t.attrs["unit_days"] = 1.0
    return t


def test_figures_match_direct_computation():
    c = _customers()
    s = segment_summary(c).table
    assert s["share"].sum() == pytest.approx(1.0)
    assert s["revenue_share"].sum() == pytest.approx(1.0)
    assert s["clv_share"].sum() == pytest.approx(1.0)
    assert s["customers"].sum() == len(c)
    assert s.loc["A", "share"] == pytest.approx(2 / 10)
    assert s.loc["B", "revenue_share"] == pytest.approx(300 / 580)
    assert s.loc["A", "clv_share"] == pytest.approx(800 / 920)
    assert s.loc["A", "mean_p_alive"] == pytest.approx(0.85)
    assert s.loc["B", "median_days_since_last"] == pytest.approx((420 + 430) / 2)
    assert s.loc["C", "mean_clv"] == pytest.approx(5.0)
    assert s.loc["A", "clv_index"] == pytest.approx((800 / 920) / (2 / 10))
    assert s.index[0] == "A"  # sorted by CLV share


def test_customer_state_combines_days_and_p_alive():
    st_ = customer_state(_customers())
    # c2: P(alive) = 1 (a BG/NBD one-timer would have that) but 420 days since the last purchase: lapsed
    assert st_.loc[2, "p_alive"] == 1.0 and st_.loc[2, "days_since_last"] == 420.0
    assert st_.loc[2, "state"] == "lapsed" and st_.loc[2, "lapsed_by_days"] and not st_.loc[2, "lapsed_by_p_alive"]
    assert st_.loc[4, "state"] == "lapsed" and st_.loc[4, "lapsed_by_p_alive"]  # P(alive) 0.1, 95 days
    assert st_.loc[0, "state"] == "active"
    assert st_.loc[0, "clv_index"] == pytest.approx(500 / 92.0)
    assert st_.loc[2, "revenue_index"] == pytest.approx(150 / 58.0)
    seg = st_.groupby("segment")[["segment_lapsed", "segment_lapsed_reason"]].first()
    assert seg.loc["Lost", "segment_lapsed_reason"] == "name"
    assert seg.loc["B", "segment_lapsed"] and "median days" in seg.loc["B", "segment_lapsed_reason"]
    assert seg.loc["C", "segment_lapsed"] and "mean P(alive)" in seg.loc["C", "segment_lapsed_reason"]
    assert not seg.loc["A", "segment_lapsed"] and not seg.loc["N", "segment_lapsed"]
    # time unit in weeks: the same table with recency/T in weeks gives the same days
    weeks = _customers().assign(recency=lambda d: d["recency"] / 7, T=lambda d: d["T"] / 7)
    np.testing.assert_allclose(customer_state(weeks, unit_days=7)["days_since_last"], st_["days_since_last"])


def test_default_actions_follow_the_rules():
    s = segment_summary(_customers())
    c = s.customers.set_index("customer_id")
    assert c.loc["c0", "action"] == "Retain and reward"   # active, CLV index 5.4
    assert c.loc["c2", "action"] == "Win back"            # lapsed by days, revenue index 2.6
    assert c.loc["c4", "action"] == "Let go"              # lapsed, small
    assert c.loc["c8", "action"] == "Onboard"             # active, first purchase 30 days ago
    # c9 is just as new, but in "Lost": held back from onboarding, nurtured instead
    assert c.loc["c9", "action"] == "Nurture" and c.loc["c9", "held_back"] == "3"
    assert (c["p_alive_model"] == "not stated").all()
    rc = s.rule_counts
    assert rc["customers"].sum() == len(c)
    assert rc.loc[3, "action"] == "Onboard" and rc.loc[3, "customers"] == 1
    assert rc.loc[3, "held_back_lapsed_segment"] == 1
    t = s.table
    assert t.loc["B", "action"] == "Win back" and t.loc["B", "action_share"] == 1.0
    assert t.loc["A", "offer"] == default_action_rules()[0].offer


def test_changing_a_threshold_changes_the_action():
    c = _customers()
    # c1 has CLV index 300/92 = 3.26: asking 4 to retain moves it to Grow
    s = segment_summary(c, action_rules=default_action_rules(retain_clv_index=4.0)).customers
    assert s.set_index("customer_id").loc["c1", "action"] == "Grow"
    # c2's revenue index is 2.59: asking 3 for win-back lets it go
    s = segment_summary(c, action_rules=default_action_rules(winback_revenue_index=3.0)).customers
    assert s.set_index("customer_id").loc["c2", "action"] == "Let go"
    # with a 450-day lapse window c2 (420 days, P(alive) 1) is active again
    s = segment_summary(c, policy=LapsePolicy(lapsed_days=450)).customers
    assert s.set_index("customer_id").loc["c2", "state"] == "active"
    # onboarding window of 20 days: c8 (30 days) is nurtured
    s = segment_summary(c, action_rules=default_action_rules(new_customer_days=20)).customers
    assert s.set_index("customer_id").loc["c8", "action"] == "Nurture"


def test_rule_sets_that_could_onboard_lapsed_customers_are_refused():
    policy = LapsePolicy()
    with pytest.raises(ValueError, match=r"'Welcome' is an onboarding action but can reach lapsed customers.*state='active'"):
        validate_action_rules([ActionRule("Welcome", "welcome series", {"age_days": (None, 90)})], policy=policy)
    with pytest.raises(ValueError, match=r"maps the lapsed segment\(s\) \['Hibernating'\] to an acquisition"):
        validate_action_rules(
            [ActionRule("Reacquire", "lookalike prospects", intent="acquisition", state="active",
                        segments=("New", "Hibernating"))], policy=policy)
    # the intent is read from the words when not given; an explicit intent wins over the weak words
    assert ActionRule("Call", "second-purchase voucher").intent == "onboarding"
    assert ActionRule("Win back", "welcome back offer").intent == "reactivation"
    assert ActionRule("Call", "second-purchase voucher", intent="reactivation").intent == "reactivation"
    with pytest.raises(ValueError, match="unknown intent"):
        ActionRule("x", "y", intent="upsell")
    with pytest.raises(ValueError, match="state must be"):
        ActionRule("x", "y", intent="other", state="dormant")
    # and through segment_summary, the same refusal
    with pytest.raises(ValueError, match="can reach lapsed customers"):
        segment_summary(_customers(), action_rules=[ActionRule("Onboard", "Onboarding series", {})])


def test_custom_rules_and_errors():
    c = _customers()
    rules = [ActionRule("Call", "phone call", {"clv_index": (2.0, None)}, intent="retention")]
    with pytest.raises(ValueError, match="no action rule matches 8 customer"):
        segment_summary(c, action_rules=rules)
    rules.append(ActionRule("Mail", "email", {}, intent="development"))
    s = segment_summary(c, action_rules=rules).customers
    assert s.set_index("customer_id")["action"].value_counts().to_dict() == {"Mail": 8, "Call": 2}
    with pytest.raises(ValueError, match=r"missing column\(s\) \['nope'\] in the table action rule 'x' is applied to"):
        segment_summary(c, action_rules=[ActionRule("x", "y", {"nope": (0, 1)}, intent="other")])
    with pytest.raises(SegmentationInputError, match="no segment"):
        segment_summary(c.assign(segment=[None] + ["A"] * 9))
    bare = c.copy()
    bare.attrs = {}
    with pytest.raises(SegmentationInputError, match="pass unit_days"):
        segment_summary(bare)
    with pytest.raises(SegmentationInputError, match="outside \\[0, 1\\]"):
        segment_summary(c.assign(p_alive=1.5))
    with pytest.raises(ValueError, match="lapsed_days must be"):
        LapsePolicy(lapsed_days=0)


@pytest.mark.parametrize("name, close", [("lost", "Lost"), ("LOST", "Lost"), ("Hibernatng", "Hibernating"),
                                         ("at risk", "At Risk"), ("Cluster 7", None)])
def test_a_rule_naming_an_unknown_segment_is_refused_with_the_close_match(name, close):
    """n12 finding F11: ActionRule(segments=('lost',)) was accepted and caught nobody (names match exactly)."""
    c = _customers()
    rules = [ActionRule("Win back", "we miss you: 15% off", {}, intent="reactivation", segments=(name,)),
             ActionRule("Mail", "email", {}, intent="development")]
    with pytest.raises(ValueError, match=r"action rule 'Win back' names the segment .* not one of the segment set's "
                                         r"names \[") as err:
        segment_summary(c, action_rules=rules)
    assert repr(name) in str(err.value) and "'Champions'" in str(err.value)  # the known names are listed
    assert (f"did you mean {close!r}?" in str(err.value)) == (close is not None)
    # the same name spelled as the segment set spells it is accepted (a segment of the map, absent from the data)
    if close == "Hibernating":
        ok = [ActionRule("Win back", "we miss you", {}, intent="reactivation", segments=(close,)), rules[1]]
        assert segment_summary(c, action_rules=ok).customers["action"].eq("Mail").all()


def test_a_lapse_policy_naming_an_unknown_segment_is_refused():
    """A lapse policy with 'lost' for 'Lost' held nobody back from onboarding; now refused by name."""
    c = _customers()
    with pytest.raises(ValueError, match=r"the lapse policy names the segment 'lost' in its lapsed_segments.*did you "
                                         r"mean 'Lost'\?.*holds nobody back"):
        segment_summary(c, policy=LapsePolicy(lapsed_segments=("lost",)))
    validate_action_rules(default_action_rules(), policy=LapsePolicy(lapsed_segments=("Lost",)),
                          segment_names=["Lost", "A"])
    with pytest.raises(ValueError, match="not one of the segment set's names"):
        validate_action_rules([ActionRule("x", "y", {}, intent="other", segments=("B",))], segment_names=["A"])


def test_a_rule_on_a_misspelt_column_names_the_close_match():
    c = _customers()
    with pytest.raises(ValueError, match=r"missing column\(s\) \['clv_idx'\].*Did you mean 'clv_idx' -> 'clv_index'"):
        segment_summary(c, action_rules=[ActionRule("x", "y", {"clv_idx": (0, 1)}, intent="other")])


def test_p_alive_model_is_named():
    c = _customers()
    assert segment_summary(c.assign(p_alive_model="Pareto/NBD")).p_alive_model == "Pareto/NBD"
    c2 = c.copy()
    c2.attrs["model"] = "bgnbd"
    s = segment_summary(c2)
    assert s.p_alive_model == "BG/NBD" and (s.table["p_alive_model"] == "BG/NBD").all()
    assert segment_summary(c, p_alive_model="MBG/NBD").p_alive_model == "MBG/NBD"
    with pytest.raises(SegmentationInputError, match="several models"):
        segment_summary(c.assign(p_alive_model=["a"] * 5 + ["b"] * 5))


def test_export_and_plot(tmp_path):
    c = _customers()
    summ = segment_summary(c, p_alive_model="BG/NBD")
    back = pd.read_csv(summ.export_action_table(tmp_path / "seg.csv"))
    assert set(back["segment"]) == set(c["segment"])
    assert {"action", "offer", "actions", "customers", "p_alive_model"} <= set(back.columns)
    per = pd.read_csv(export_action_table(summ, tmp_path / "sub" / "customers.csv", segments=c[["customer_id", "segment"]]))
    assert len(per) == len(c)
    row = per.set_index("customer_id").loc["c2"]
    assert row["action"] == "Win back" and row["state"] == "lapsed" and row["p_alive_model"] == "BG/NBD"
    with pytest.raises(ValueError, match="not in the summary"):
        export_action_table(summ, tmp_path / "x.csv", segments=pd.DataFrame({"customer_id": ["zz"], "segment": ["A"]}))
    assert isinstance(summ.plot(), Figure)


_NAMES = list(LAPSED_SEGMENTS) + ["Champions", "Loyal", "New", "Promising", "Need Attention"]


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.floats(0, 900), st.floats(0, 900), st.floats(0, 1), st.floats(0.01, 500), st.floats(0.01, 500),
            st.sampled_from(_NAMES),
        ),
        min_size=2, max_size=40,
    ),
    lapsed_days=st.floats(30, 720),
    lapsed_p=st.floats(0, 1),
    new_days=st.floats(1, 720),
    extra_onboarding=st.booleans(),
)
def test_property_no_lapsed_customer_is_onboarded(data, lapsed_days, lapsed_p, new_days, extra_onboarding):
    """For any customers, thresholds and valid rule sets, no lapsed customer or customer of a lapsed
    segment (by name or by figures) gets an onboarding or acquisition action. Lapsed is recomputed
    here from the definition, not taken from the code under test."""
    days, extra_age, p, rev, clv, seg = (np.array(col) for col in zip(*data))
    table = pd.DataFrame({"customer_id": [f"k{i}" for i in range(len(days))], "segment": seg, "revenue": rev,
                          "clv": clv, "p_alive": p, "days_since_last": days, "age_days": days + extra_age})
    policy = LapsePolicy(lapsed_days=lapsed_days, lapsed_p_alive=lapsed_p)
    rules = default_action_rules(new_customer_days=new_days)
    if extra_onboarding:  # a user's extra acquisition rule early in the list, valid (state active)
        rules.insert(0, ActionRule("Refer a friend", "prospect lookalike campaign", {"clv_index": (0.5, None)},
                                   intent="acquisition", state="active"))
    out = segment_summary(table, action_rules=rules, policy=policy).customers.set_index("customer_id")
    t = table.set_index("customer_id")
    own = (t["days_since_last"] > lapsed_days) | (t["p_alive"] < lapsed_p)
    by_seg = t.groupby("segment").agg(d=("days_since_last", "median"), p=("p_alive", "mean"))
    seg_lapsed = by_seg.index.isin(LAPSED_SEGMENTS) | (by_seg["d"] > lapsed_days) | (by_seg["p"] < lapsed_p)
    lapsed = own | t["segment"].map(pd.Series(seg_lapsed, index=by_seg.index))
    onboarded = out["intent"].isin(list(NEW_CUSTOMER_INTENTS))
    assert not (onboarded & lapsed).any()
    assert out["action"].notna().all()
    assert count_rules(out, rules)["customers"].sum() == len(t)


def test_lapsed_customers_buy_far_less_in_the_next_year():
    """Validation on simulated BG/NBD customers: the lapse rule separates those who buy again.

    Customers acquired through 2024 (so some are new), observed to 2024-12-31, the purchases of
    2025 are the truth. Lapsed customers (the default policy, BG/NBD P(alive)) must buy on average
    less than a quarter as often in 2025 as active ones, and every onboarded customer is new and active.
    """
    from crm_analysis.clv import customer_value_table
    from crm_analysis.synthetic import generate_transactions

    tx = generate_transactions(n_customers=2000, start="2023-01-01", end="2025-12-31",
                               acquisition_end="2024-12-31", seed=9).transactions
    past = tx[tx["timestamp"] <= "2024-12-31"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clv = customer_value_table(past, observation_end="2024-12-31", horizon=4)
    future = tx[tx["timestamp"] > "2024-12-31"].assign(day=lambda d: d["timestamp"].dt.normalize())
    buys = future.drop_duplicates(["customer_id", "day"]).groupby("customer_id").size()
    clv["segment"] = "all"
    s = segment_summary(clv).customers.set_index("customer_id")
    n_future = buys.reindex(s.index, fill_value=0)
    lapsed, active = n_future[s["state"] == "lapsed"], n_future[s["state"] == "active"]
    assert len(lapsed) > 100 and len(active) > 100
    assert lapsed.mean() < 0.25 * active.mean()
    onboard = s[s["action"] == "Onboard"]
    assert len(onboard) > 0 and (onboard["state"] == "active").all() and (onboard["age_days"] < 90).all()


# Every onboarding / acquisition marker word; a declared non-onboarding intent with any of them is refused.
_NEW_CUSTOMER_TEXTS = [
    "Onboarding / welcome series and a second-purchase voucher", "Welcome pack", "welcome email", "Welcome journey",
    "Getting started guide", "Prospect lookalike campaign", "look-alike audience", "new-customer discount",
    "Acquire friends of our customers",
]
_WINBACK_TEXTS = [
    "Anniversary of your first purchase: 20% off", "We miss you: 15% off", "Win back call", "win-back mailing",
    "Come back for a gift", "Reactivation voucher", "Welcome back offer",
]


@pytest.mark.parametrize("intent", ["development", "retention", "reactivation", "none", "other"])
@pytest.mark.parametrize("text", _NEW_CUSTOMER_TEXTS)
def test_declared_intent_contradicted_by_onboarding_text_is_refused(intent, text):
    """Newcomer finding: intent="development" with "Onboarding / welcome series" and no state passed the guard
    (validate_action_rules checks only onboarding/acquisition intents) and could reach lapsed customers."""
    with pytest.raises(ValueError, match=rf"declares intent='{intent}' but its text reads as (onboarding|acquisition)"):
        ActionRule("Welcome", text, {}, "x", intent=intent)


@pytest.mark.parametrize("intent", ["onboarding", "acquisition"])
@pytest.mark.parametrize("text", _WINBACK_TEXTS)
def test_declared_onboarding_intent_contradicted_by_winback_text_is_refused(intent, text):
    with pytest.raises(ValueError, match=rf"declares intent='{intent}' but its text reads as a win-back"):
        ActionRule("Offer", text, {}, "x", intent=intent, state="active")


@pytest.mark.parametrize("text", _WINBACK_TEXTS)
def test_winback_offers_are_not_read_as_onboarding(text):
    """Newcomer finding: "Anniversary of your first purchase: 20% off" was read as onboarding and refused for
    state="lapsed". Win-back words make it a reactivation rule, accepted for lapsed customers."""
    rule = ActionRule("Win back", text, {}, "x", state="lapsed")
    assert rule.intent == "reactivation"
    assert validate_action_rules([rule, ActionRule("Let go", "newsletter", {}, "y", intent="none")])


def test_text_reading_both_ways_needs_a_declared_intent():
    with pytest.raises(ValueError, match="reads both as onboarding.*declare the intent"):
        ActionRule("Welcome back", "welcome series for returning customers", {})
    # "first purchase" alone is a weak onboarding word (findings_12u F2): a thank-you note after the first
    # purchase is for new customers; with a win-back word it is a win-back (test_winback_offers_...)
    assert ActionRule("Thanks", "Thank-you note after the first purchase").intent == "onboarding"


@pytest.mark.parametrize("segment", sorted(LAPSED_SEGMENTS))
def test_table_with_segments_but_without_segment_lapsed_is_refused(segment):
    """findings_12z F2: a hand-built table with ``segment`` and ``state`` but no ``segment_lapsed`` let an onboarding
    rule reach active customers of Lost / Hibernating / At Risk / Can't Lose Them (a missing column read as "not
    lapsed"). Now an InputError naming the column and the fix; built by customer_state the same customers are held
    back from the onboarding rule."""
    from crm_analysis.exceptions import InputError

    st_ = customer_state(_customers().assign(segment=lambda d: np.where(d["segment"] == "A", segment, d["segment"])))
    rules = [ActionRule(action="Welcome series", offer="first-order tips", intent="onboarding", state="active"),
             ActionRule(action="Keep in touch", offer="newsletter")]
    with pytest.raises(InputError, match="no 'segment_lapsed' column.*customer_state"):
        assign_actions(st_.drop(columns=["segment_lapsed", "segment_lapsed_reason"]), rules=rules)
    out = assign_actions(st_, rules=rules)
    mine = (st_["segment"] == segment).to_numpy()
    assert mine.any() and (out.loc[mine, "action"] != "Welcome series").all()
    assert (out.loc[mine & (st_["state"] == "active").to_numpy(), "held_back"] == "1").all()
