"""analyse_campaign and targeting_table refuse bad inputs before producing any figure (crm_analysis.campaigns.targeting).

Found by a newcomer's try-out (issue 16): a negative margin or contact cost gave
a profit curve and a "best contact share" (contacting the customers with a
negative uplift) and failed only later in ``targeting()``; outcomes used as
features ran; ``value_col=None`` crashed with a bare StopIteration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.campaigns import CampaignInputError, analyse_campaign, campaign_data, targeting_table
from crm_analysis.synthetic import simulate_campaign

FEATURES = ["recency", "history", "newbie"]


def _fast(**kw):
    """A cheap base classifier: these tests check bookkeeping, not the trees."""
    from sklearn.linear_model import LogisticRegression

    return {"estimator": LogisticRegression(max_iter=200), **kw}


@pytest.fixture(scope="module")
def data():
    return campaign_data(simulate_campaign(n_customers=3_000, seed=11).table, control="control")


@pytest.mark.parametrize("kwargs, name", [
    ({"margin": -0.1}, "margin"), ({"margin": 35.0}, "margin"), ({"margin": float("nan")}, "margin"),
    ({"contact_cost": -1.0}, "contact_cost"), ({"contact_cost": float("inf")}, "contact_cost"),
    ({"value_per_response": -5.0}, "value_per_response"), ({"margin": "0.3"}, "margin"),
])
def test_money_and_margin_are_checked_before_any_figure(data, kwargs, name):
    with pytest.raises(CampaignInputError, match=name):
        analyse_campaign(data, "email", features=FEATURES, outcome="visit", **kwargs)


@pytest.mark.parametrize("bad", ["spend", "visit", "conversion", "group", "treated", "customer_id"])
def test_outcomes_and_the_assignment_are_no_features(data, bad):
    with pytest.raises(CampaignInputError, match=f"feature\\(s\\) \\['{bad}'\\]"):
        analyse_campaign(data, "email", features=["recency", bad], outcome="visit")


def test_no_money_outcome_needs_a_value_per_response(data):
    with pytest.raises(CampaignInputError, match="value_per_response"):
        analyse_campaign(data, "email", features=FEATURES, outcome="visit", value_col=None)
    a = analyse_campaign(data, "email", features=FEATURES, outcome="visit", value_col=None, value_per_response=20.0,
                         margin=0.5, contact_cost=0.3, **_fast())
    pc = a.profit_curve()
    # incremental revenue = incremental visits (the uplift curve of the outcome) x value per response
    best = next(c for c in a.curves if c.label == a.best_model)
    np.testing.assert_allclose(pc["incremental_spend"], 20.0 * best.uplift)
    np.testing.assert_allclose(pc["profit"], 0.5 * 20.0 * best.uplift - 0.3 * best.n)
    h = a.headlines()
    assert 0 <= h["best_contact_share"] <= 1
    assert a.plot() is not None
    with pytest.raises(CampaignInputError, match="unknown model 'nope'"):
        a.profit_curve(model="nope")


def test_spend_without_a_response_is_counted(data):
    t = data.table.copy()
    # three customers who did not convert get a spend
    idx = t.index[(t["conversion"] == 0)][:3]
    t.loc[idx, "spend"] = 12.0
    d = campaign_data(t, control="control")
    a = analyse_campaign(d, "email", features=FEATURES, outcome="conversion", **_fast())
    assert any(n.startswith("3 customer(s) have spend > 0 but conversion = 0") for n in a.notes), a.notes
    clean = analyse_campaign(data, "email", features=FEATURES, outcome="conversion", **_fast())
    assert not any("but conversion = 0" in n for n in clean.notes)


def test_targeting_table_refuses_missing_uplifts():
    with pytest.raises(CampaignInputError, match="uplift has 1 missing or infinite value"):
        targeting_table(["a", "b"], np.array([np.nan, 0.2]), contact_cost=1.0, margin=0.3, value_per_response=10.0)
    with pytest.raises(CampaignInputError, match="uplift has 1 missing"):
        targeting_table(pd.Series(["a", "b"]), np.array([np.inf, 0.2]), contact_cost=1.0, margin=0.3,
                        value_per_response=10.0)
