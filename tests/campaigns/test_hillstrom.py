"""Kevin Hillstrom's MineThatData e-mail test (2008): the published two-week outcomes, reproduced.

Published (MineThatData E-Mail Analytics And Data Mining Challenge, 2008;
also ../shared/data/README.md): visit 18.28% / 15.14% / 10.62%, conversion
1.25% / 0.88% / 0.57%, spend per customer $1.42 / $1.08 / $0.65 for the men's
e-mail / women's e-mail / no e-mail groups. These are plain means, so they
must match to the published rounding (0.01 percentage points, 1 cent).
"""

from __future__ import annotations

import pytest

from crm_analysis.campaigns import HILLSTROM_FEATURES, analyse_campaign, load_hillstrom, response_rates, uplift_by_segment

pytestmark = pytest.mark.shared_data

PUBLISHED = {
    ("Mens E-Mail", "visit"): 18.28, ("Womens E-Mail", "visit"): 15.14, ("No E-Mail", "visit"): 10.62,
    ("Mens E-Mail", "conversion"): 1.25, ("Womens E-Mail", "conversion"): 0.88, ("No E-Mail", "conversion"): 0.57,
    ("Mens E-Mail", "spend"): 1.42, ("Womens E-Mail", "spend"): 1.08, ("No E-Mail", "spend"): 0.65,
}


@pytest.fixture(scope="module")
def hillstrom(shared_data):
    return load_hillstrom(shared_data / "hillstrom" / "hillstrom.csv.gz")


def test_published_rates_are_reproduced_with_intervals(hillstrom):
    assert len(hillstrom.table) == 64_000
    assert hillstrom.control == "No E-Mail" and hillstrom.treatments == ("Mens E-Mail", "Womens E-Mail")
    r = response_rates(hillstrom).set_index(["group", "outcome"])
    for (group, outcome), published in PUBLISHED.items():
        row = r.loc[(group, outcome)]
        shown = round(row["rate"], 2) if outcome == "spend" else round(100 * row["rate"], 2)
        assert shown == published, (group, outcome, row["rate"])
        assert row["lower"] < row["rate"] < row["upper"]
        assert row["interval"] == ("normal" if outcome == "spend" else "wilson")
    # the e-mails work: both uplifts in visits, conversions and spend have intervals above 0
    for treatment in hillstrom.treatments:
        u = uplift_by_segment(hillstrom, treatment)
        assert (u["lower"] > 0).all(), treatment


def test_which_customers_the_mens_email_moves(hillstrom):
    """The men's e-mail moves buyers of men's and of women's merchandise alike; the women's one mainly women's buyers.

    Expected from the group means: men's e-mail visit uplift 8.2 points among
    last year's men's-merchandise buyers and 7.1 among the others; women's
    e-mail 7.3 points among women's-merchandise buyers and 1.1 among the others.
    """
    men = uplift_by_segment(hillstrom, "Mens E-Mail", by="mens")
    men = men[men["outcome"] == "visit"].set_index("segment")
    assert men.loc["1", "uplift"] == pytest.approx(0.0816, abs=5e-4) and men.loc["0", "uplift"] == pytest.approx(
        0.0706, abs=5e-4)
    assert men.loc["1", "significant"] and men.loc["0", "significant"]
    women = uplift_by_segment(hillstrom, "Womens E-Mail", by="womens")
    women = women[women["outcome"] == "visit"].set_index("segment")
    assert women.loc["1", "uplift"] > 5 * women.loc["0", "uplift"]
    # recent buyers are moved more than those who last bought long ago
    recent = hillstrom.table.assign(recent=(hillstrom.table["recency"] <= 4).map({True: "recent", False: "older"}))
    from crm_analysis.campaigns import CampaignData

    data = CampaignData(recent, hillstrom.control, hillstrom.treatments, hillstrom.outcomes, hillstrom.binary)
    u = uplift_by_segment(data, "Mens E-Mail", by="recent")
    u = u[u["outcome"] == "visit"].set_index("segment")
    assert u.loc["recent", "lower"] > u.loc["older", "uplift"]


@pytest.mark.slow
def test_uplift_models_run_on_the_mens_email(hillstrom):
    """The held-out analysis runs on 42,613 customers; the movers' profile says who responds."""
    a = analyse_campaign(hillstrom, "Mens E-Mail", features=list(HILLSTROM_FEATURES), outcome="visit",
                         contact_cost=0.1, margin=0.4, seed=1)
    assert len(a.test) == pytest.approx(0.3 * 42_613, abs=2)
    assert {c.label for c in a.curves} == {"two_model", "class_transformation"}
    m = a.movers.set_index(["feature", "value"])
    # the customers with the highest predicted uplift bought more recently than the rest
    assert m.loc[("recency", ""), "top"] < m.loc[("recency", ""), "rest"]
    h = a.headlines()
    assert h["campaign_uplift_lower"] < h["campaign_uplift"] < h["campaign_uplift_upper"]
