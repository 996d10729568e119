"""Reading an action rule's intent from its words, and keeping new-customer actions from lapsed customers.

findings_12u F2 (issue #12 point 7): custom rules worded "Welcome" / "10% welcome discount for first-time
buyers", "New customer discount", "Introductory offer" / "Intro offer: free shipping for new customers" without
a declared ``intent=`` were read as intent "other" and reached Lost / Hibernating one-time buyers (500 / 300 days
since their only purchase). The whole family is tested here: generated wordings (case, hyphens, underscores,
plurals, filler words, in the action or the offer) and generated rule sets and customers, with "lapsed"
recomputed from its definition (by segment name, days since the last purchase, P(alive)), not taken from the
code under test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.exceptions import ActionIntentWarning
from crm_analysis.segmentation import (
    LAPSED_SEGMENTS,
    NEW_CUSTOMER_INTENTS,
    ActionRule,
    LapsePolicy,
    assign_actions,
    customer_state,
    default_action_rules,
    validate_action_rules,
)

# Phrases that say "for new customers"; each is a family member, written in its base form.
_NEWCOMER_PHRASES = [
    ["welcome"], ["welcome", "discount"], ["welcome", "gift"], ["new", "customer"], ["new", "buyer"],
    ["new", "member"], ["new", "subscriber"], ["first", "time", "buyer"], ["first", "time", "customer"],
    ["first", "time", "shopper"], ["first", "timer"], ["introductory", "offer"], ["intro", "offer"], ["intro"],
    ["sign", "up", "bonus"], ["signup"], ["starter", "kit"], ["starter", "pack"], ["onboarding"], ["onboard"],
    ["acquisition"], ["acquire"], ["prospect"], ["lookalike"], ["look", "alike"], ["newcomer"],
    ["new", "to", "us"], ["getting", "started"], ["free", "trial"],
]
# Phrases that say it only when nothing else does (a win-back may mention the first purchase).
_WEAK_PHRASES = [["first", "order"], ["first", "purchase"], ["second", "purchase"], ["1st", "order"]]
# Filler: no marker of any intent.
_FILLER = ["10%", "off", "free", "shipping", "on", "your", "next", "voucher", "for", "our", "email", "today",
           "special", "discount", "!", ":", "5 EUR", "coupon", "only", "bundle", "sms", "the", "store"]


@st.composite
def _wording(draw, phrases):
    words = list(draw(st.sampled_from(phrases)))
    if draw(st.booleans()) and not words[-1].endswith("s") and words[-1] != "us":
        words[-1] += "s"  # plural
    case = draw(st.sampled_from([str.lower, str.upper, str.title, str.capitalize]))
    seps = draw(st.lists(st.sampled_from([" ", "-", "_", " - ", "/"]), min_size=len(words), max_size=len(words)))
    phrase = case(words[0]) + "".join(s + case(w) for s, w in zip(seps, words[1:]))
    before = draw(st.lists(st.sampled_from(_FILLER), max_size=3))
    after = draw(st.lists(st.sampled_from(_FILLER), max_size=3))
    return " ".join([*before, phrase, *after])


@st.composite
def _newcomer_rule_text(draw):
    """(action, offer) with a newcomer wording in the action, the offer or both."""
    where = draw(st.sampled_from(["action", "offer", "both"]))
    filler = " ".join(draw(st.lists(st.sampled_from(_FILLER), min_size=1, max_size=4)))
    action = draw(_wording(_NEWCOMER_PHRASES)) if where != "offer" else filler
    offer = draw(_wording(_NEWCOMER_PHRASES)) if where != "action" else filler
    return action, offer


def _letgo() -> ActionRule:
    return ActionRule("Let go", "newsletter", {}, intent="none")


@settings(max_examples=150, deadline=None)
@given(text=_newcomer_rule_text(), state=st.sampled_from([None, "lapsed"]))
def test_newcomer_wordings_are_read_as_new_customer_intents_and_refused_for_lapsed(text, state):
    action, offer = text
    with warnings.catch_warnings():
        warnings.simplefilter("error", ActionIntentWarning)  # a read intent warns about nothing
        rule = ActionRule(action, offer, {"frequency": (None, 1)}, state=state)
    assert rule.intent in NEW_CUSTOMER_INTENTS, (action, offer, rule.intent)
    with pytest.raises(ValueError, match=rf"action rule {rule.action!r} is an {rule.intent} action but can reach "
                                         r"lapsed customers.*give it state='active'"):
        validate_action_rules([rule, _letgo()])
    # active, but aimed at a lapsed segment by name: refused too
    active = ActionRule(action, offer, {}, state="active", segments=("New", "Lost"))
    with pytest.raises(ValueError, match=r"maps the lapsed segment\(s\) \['Lost'\]"):
        validate_action_rules([active, _letgo()], segment_names=["New", "Lost"])


@settings(max_examples=60, deadline=None)
@given(text=_wording(_WEAK_PHRASES))
def test_weak_wordings_alone_read_as_onboarding_and_with_a_winback_word_as_reactivation(text):
    assert ActionRule("Offer", text).intent == "onboarding"
    assert ActionRule("Offer", f"We miss you: {text}").intent == "reactivation"
    assert ActionRule("Offer", f"{text}, anniversary").intent == "reactivation"


@settings(max_examples=60, deadline=None)
@given(text=_newcomer_rule_text(), intent=st.sampled_from(["retention", "development", "none", "other"]))
def test_a_declared_intent_that_newcomer_words_contradict_is_refused(text, intent):
    action, offer = text
    with pytest.raises(ValueError, match=rf"declares intent='{intent}' but its text reads as (onboarding|acquisition)"):
        ActionRule(action, offer, {}, intent=intent)


@settings(max_examples=40, deadline=None)
@given(words=st.lists(st.sampled_from(_FILLER), min_size=1, max_size=6))
def test_an_undeclared_rule_whose_words_say_no_intent_warns_naming_it_and_the_fix(words):
    text = " ".join(words)
    with pytest.warns(ActionIntentWarning, match=rf"action rule 'Spring' \(offer {text!r}\) declares no intent.*"
                                                 r"declare intent='onboarding' or intent='acquisition' with "
                                                 r"state='active'.*'retention'"):
        rule = ActionRule("Spring", text)
    assert rule.intent == "other"
    with warnings.catch_warnings():  # a declared intent, even "other", is the user's word: no warning
        warnings.simplefilter("error", ActionIntentWarning)
        assert ActionRule("Spring", text, intent="other").intent == "other"


def test_the_default_rules_are_accepted_without_any_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rules = validate_action_rules(default_action_rules())
    assert [r.intent for r in rules] == ["retention", "reactivation", "onboarding", "development", "development",
                                         "none"]


_SEGMENTS = list(LAPSED_SEGMENTS) + ["Champions", "Loyal", "New", "Promising", "Need Attention"]
_OTHER_RULES = [
    ActionRule("Retain", "VIP service", {}, intent="retention"),
    ActionRule("Win back", "we miss you: 15% off", {}, intent="reactivation", state="lapsed"),
    ActionRule("Grow", "cross-sell", {"clv_index": (0.5, None)}, intent="development", state="active"),
    ActionRule("Quiet", "newsletter", {"revenue_index": (None, 0.5)}, intent="none"),
]


@settings(max_examples=40, deadline=None)
@given(
    customers=st.lists(
        st.tuples(st.floats(0, 900), st.floats(0, 900), st.floats(0, 1), st.floats(0.01, 500),
                  st.floats(0.01, 500), st.integers(0, 3), st.sampled_from(_SEGMENTS)),
        min_size=2, max_size=30,
    ),
    texts=st.lists(_newcomer_rule_text(), min_size=1, max_size=3),
    bounds=st.lists(st.sampled_from([{}, {"frequency": (None, 1)}, {"age_days": (None, 400)},
                                     {"days_since_last": (200, None)}]), min_size=3, max_size=3),
    others=st.lists(st.sampled_from(range(len(_OTHER_RULES))), max_size=4),
    positions=st.lists(st.integers(0, 10), min_size=3, max_size=3),
    lapsed_days=st.floats(30, 720),
    lapsed_p=st.floats(0, 1),
)
def test_property_read_new_customer_rules_never_reach_lapsed_customers(
    customers, texts, bounds, others, positions, lapsed_days, lapsed_p
):
    """Newcomer rules read from their words (state='active', as validation demands), mixed at random places
    with other rules: no customer lapsed by days, by P(alive), by segment name or by segment figures gets one."""
    days, extra_age, p, rev, clv, freq, seg = (np.array(c) for c in zip(*customers))
    table = pd.DataFrame({"segment": seg, "revenue": rev, "clv": clv, "p_alive": p, "days_since_last": days,
                          "age_days": days + extra_age})
    policy = LapsePolicy(lapsed_days=lapsed_days, lapsed_p_alive=lapsed_p)
    rules = [_OTHER_RULES[i] for i in others]
    for (action, offer), cond, pos in zip(texts, bounds, positions):
        rules.insert(min(pos, len(rules)), ActionRule(action, offer, cond, state="active"))
    rules.append(_letgo())
    state = customer_state(table, policy=policy)
    state["frequency"] = freq
    out = assign_actions(state, rules=rules, policy=policy)
    med = table.groupby("segment")["days_since_last"].median()
    mean_p = table.groupby("segment")["p_alive"].mean()
    seg_lapsed = table["segment"].map(lambda s: s in LAPSED_SEGMENTS or med[s] > lapsed_days or mean_p[s] < lapsed_p)
    lapsed = (table["days_since_last"] > lapsed_days) | (table["p_alive"] < lapsed_p) | seg_lapsed
    new_customer = out["intent"].isin(list(NEW_CUSTOMER_INTENTS))
    assert not (new_customer & lapsed).any()
    # the guard holds back only lapsed customers: a newcomer rule in first place catches every other customer
    # that matches its conditions
    if rules[0].new_customer:
        ok = np.ones(len(table), dtype=bool)
        for col, (lo, hi) in rules[0].conditions.items():
            v = state[col].to_numpy(dtype=float)
            ok &= (v >= lo if lo is not None else True) & (v < hi if hi is not None else True)
        caught = ok & ~lapsed.to_numpy()
        assert (out["action"].to_numpy()[caught] == rules[0].action).all()


def _f2_table() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5"],
        "segment": ["Lost", "Hibernating", "Champions", "At Risk", "New"],
        "p_alive": [1.0, 1.0, 0.95, 0.4, 1.0], "days_since_last": [500, 300, 10, 200, 20],
        "age_days": [500, 300, 500, 400, 20], "revenue": [10, 20, 300, 50, 15], "clv": [1, 2, 30, 5, 3],
        "frequency": [0, 0, 10, 2, 0],
    })


@pytest.mark.parametrize("action, offer", [
    ("Welcome", "10% welcome discount for first-time buyers"),
    ("New customer discount", "New customer discount on your next order"),
    ("Introductory offer", "Intro offer: free shipping for new customers"),
])
def test_findings_12u_f2_examples(action, offer):
    """The three wordings of findings_12u F2 (/tmp/n12h/rules2.py): refused without state='active'; with it,
    only the recent one-time buyer of "New" gets the offer, never the Lost (500 days) or Hibernating (300 days)."""
    tbl = _f2_table()
    rule = ActionRule(action, offer, conditions={"frequency": (None, 1)})
    assert rule.intent in NEW_CUSTOMER_INTENTS
    with pytest.raises(ValueError, match=rf"{action!r} is an (onboarding|acquisition) action but can reach lapsed"):
        validate_action_rules([rule, ActionRule("Let go", "none")])
    st_ = customer_state(tbl)
    st_["frequency"] = tbl["frequency"].to_numpy()
    active = ActionRule(action, offer, conditions={"frequency": (None, 1)}, state="active")
    out = assign_actions(st_, rules=[active, ActionRule("Let go", "none")])
    got = dict(zip(tbl["segment"], out["action"]))
    assert got == {"Lost": "Let go", "Hibernating": "Let go", "Champions": "Let go", "At Risk": "Let go",
                   "New": action}
    assert ActionRule("Let go", "none").intent == "none"  # read from the words, no warning


# ---- a welcome into a tier with a declared intent (issue #12 polish, point 2) ----------------------------------
# "Welcome to the VIP tier" with intent="retention" was refused ("reword"): "welcome" is a strong onboarding word.
# A declared retention or development intent now wins where the only new-customer word is "welcome" and the text
# names a status; the rule keeps its intent but is guarded as a new-customer rule (a lapsed customer reads a
# welcome as an onboarding offer). Wordings with any other onboarding or acquisition word stay refused.
_STATUS_PHRASES = [["vip", "tier"], ["gold", "status"], ["loyalty", "club"], ["platinum", "level"], ["premium"],
                   ["elite", "member", "tier"], ["inner", "circle"], ["upgraded"]]


@st.composite
def _status_welcome(draw):
    """(action, offer): "welcome" (any case, hyphen or plural) into a status, in the action, the offer or both."""
    status = draw(_wording(_STATUS_PHRASES))
    welcome = draw(st.sampled_from(["Welcome", "welcome", "WELCOME", "Welcome!", "welcome-"]))
    text = draw(st.sampled_from([f"{welcome} to the {status}", f"{status}: {welcome}", f"{welcome} {status}"]))
    return draw(st.sampled_from([("Upgrade", text), (text, "priority service"), (text, text)]))


@settings(max_examples=60, deadline=None)
@given(text=_status_welcome(), intent=st.sampled_from(["retention", "development"]))
def test_a_welcome_into_a_tier_keeps_a_declared_retention_intent_and_the_lapsed_guard(text, intent):
    action, offer = text
    rule = ActionRule(action, offer, {"clv_index": (1.5, None)}, intent=intent, state="active")
    assert rule.intent == intent and rule.kept_from_lapsed and rule.welcome_words
    assert validate_action_rules([rule, _letgo()])
    # without state='active', or naming a lapsed segment: refused as a new-customer rule is, saying why
    loose = ActionRule(action, offer, {}, intent=intent)
    with pytest.raises(ValueError, match=rf"is a {intent} action worded as a welcome .*reads as an onboarding offer, "
                                         r"but can reach lapsed customers.*give it state='active'"):
        validate_action_rules([loose, _letgo()])
    lost = ActionRule(action, offer, {}, intent=intent, state="active", segments=("Champions", "Lost"))
    with pytest.raises(ValueError, match=r"maps the lapsed segment\(s\) \['Lost'\].*nor a welcome"):
        validate_action_rules([lost, _letgo()])
    # without a declared intent the words read as onboarding (findings_12u F2 unchanged)
    assert ActionRule(action, offer, {}, state="active").intent == "onboarding"


@settings(max_examples=40, deadline=None)
@given(text=_status_welcome(), intent=st.sampled_from(["reactivation", "none", "other"]))
def test_a_welcome_into_a_tier_with_another_declared_intent_is_refused(text, intent):
    with pytest.raises(ValueError, match=rf"declares intent='{intent}' but its text reads as onboarding"):
        ActionRule(*text, {}, intent=intent)


@pytest.mark.parametrize("offer", [
    "Welcome! 10% off your first order",  # no status: an onboarding welcome
    "Welcome to the VIP tier: 10% off your first order",  # a weak onboarding word besides the welcome
    "Welcome to VIP, new customers",  # an acquisition word
    "VIP intro offer", "Gold tier sign-up bonus", "Loyalty club starter kit", "Welcome pack", "New customer discount",
])
@pytest.mark.parametrize("intent", ["retention", "development"])
def test_onboarding_wordings_stay_refused_with_a_retention_intent(offer, intent):
    with pytest.raises(ValueError, match=rf"declares intent='{intent}' but its text reads as (onboarding|acquisition)"):
        ActionRule("Offer", offer, {}, intent=intent, state="active")


def test_a_welcome_into_a_tier_never_reaches_a_lapsed_segment_at_assignment():
    """Active customers of a lapsed segment (by name: At Risk; by figures: a segment whose median days since the
    last purchase exceed 365) are held back from the welcome; active customers of other segments get it, with the
    declared intent; the lapsed customers fall through to the next rule."""
    table = pd.DataFrame({
        "segment": ["Champions", "Champions", "At Risk", "Lost", "Loyal", "Stale", "Stale", "Stale"],
        "p_alive": [0.9, 0.95, 0.9, 0.2, 0.8, 0.9, 0.9, 0.9],
        "days_since_last": [10, 40, 100, 700, 20, 100, 400, 500],
        "revenue": [500, 400, 450, 300, 50, 400, 10, 10], "clv": [300, 250, 200, 1, 20, 260, 1, 1],
    })
    table["age_days"] = table["days_since_last"] + 100
    rules = [ActionRule("Upgrade", "Welcome to the VIP tier", {"revenue_index": (1.0, None)}, intent="retention",
                        state="active"),
             ActionRule("Thank", "thank-you note", {}, intent="retention", state="active"), _letgo()]
    out = assign_actions(customer_state(table), rules=rules)
    got = out["action"].tolist()
    assert got[:2] == ["Upgrade", "Upgrade"] and set(out["intent"][out["action"] == "Upgrade"]) == {"retention"}
    assert got[2] == "Thank" and got[5] == "Thank"  # active, revenue above the mean, lapsed segment: held back
    assert got[3] == "Let go" and got[4] == "Thank"  # lapsed by days and P(alive); below the mean revenue
    assert out["held_back"].tolist()[2] == "1" and out["held_back"].tolist()[5] == "1"
