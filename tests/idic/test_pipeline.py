"""The IDIC step (crm_analysis.idic.run_idic) on the built-in data: artefacts match their schemas, parts agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.data import CleaningPolicy, clean_transactions, dropped_lines
from crm_analysis.idic import (
    CUSTOMER_ACTIONS_IDIC,
    CUSTOMER_PROFIT_SCHEMA,
    IDIC_HEADLINES,
    NEXT_BEST_PRODUCTS_SCHEMA,
    IdicParams,
    run_idic,
)
from crm_analysis.synthetic import generate_transactions


@pytest.fixture(scope="module")
def inputs():
    from crm_analysis.clv import customer_value_table, purchase_model_label
    from crm_analysis.segmentation import SegmentationParams, segment_customers

    raw = generate_transactions(n_customers=600, start="2023-01-01", end="2024-12-31", acquisition_end="2023-12-31", seed=4,
                                n_products=20, return_rate=0.1).transactions
    res = clean_transactions(raw, policy=CleaningPolicy(observation_end="2024-12-31"))
    clv = customer_value_table(res.data, observation_end="2024-12-31", model="bgnbd")
    clv = clv.assign(p_alive_model=purchase_model_label("bgnbd"))
    seg = segment_customers(clv, SegmentationParams(seed=1, n_clusters=3, cost_rate=0.0), n_stability=2)
    return res.data, dropped_lines(raw, res), clv, seg


@pytest.fixture(scope="module")
def result(inputs):
    tx, ret, clv, seg = inputs
    params = IdicParams(gross_margin=0.4, cost_per_order=2.0, cost_per_return=3.0, campaign={"loader": "synthetic"},
                        contact_cost=0.5, top_k=5, as_of="2024-12-31", seed=1)
    return run_idic(tx, clv, seg, params, returns=ret)


def _conforms(df: pd.DataFrame, schema) -> None:
    for col in schema:
        if col.required:
            assert col.name in df.columns, col.name


def test_artefacts_follow_their_schemas(result, inputs):
    from crm_analysis.contracts import TABLES

    _conforms(result.customer_profit, CUSTOMER_PROFIT_SCHEMA)
    _conforms(result.recommendations, NEXT_BEST_PRODUCTS_SCHEMA)
    # the full contracts (dtypes, missing values, keys) RunContext checks on writing them
    assert TABLES["customer_profit"].problems(result.customer_profit) == []
    assert TABLES["next_best_products"].problems(result.recommendations) == []
    _conforms(result.customer_actions, CUSTOMER_ACTIONS_IDIC)
    clv = inputs[2]
    assert set(result.customer_profit["customer_id"]) == set(clv["customer_id"])
    assert len(result.customer_actions) == len(clv) and result.customer_actions["customer_id"].is_unique
    assert set(result.headlines()) == set(IDIC_HEADLINES)


def test_profit_is_margin_less_costs_and_returns_are_counted(result, inputs):
    tx, ret = inputs[0], inputs[1]
    t = result.customer_profit
    assert t["returned_lines"].sum() == len(ret)
    assert t["gross_revenue"].sum() == pytest.approx(tx["amount"].sum())
    expected = 0.4 * (tx["amount"].sum() + ret["amount"].sum()) - 2.0 * tx["order_id"].nunique() - 3.0 * len(ret)
    assert t["profit"].sum() == pytest.approx(expected)
    assert result.whale.total == pytest.approx(expected)


def test_profit_replaces_revenue_in_the_grid_and_actions(result):
    a = result.customer_actions
    assert (a["value_basis"] == "profit").all()
    assert "profit_index" in result.summary.customers.columns
    winback = next(r for r in result.summary.rules if r.action == "Win back")
    assert "profit_index" in winback.conditions
    g = result.grid.table.set_index("customer_id")
    np.testing.assert_allclose(g["current"].to_numpy(),
                               result.customer_profit.set_index("customer_id").loc[g.index, "profit"].to_numpy())


def test_recommendations_exclude_what_was_bought(result, inputs):
    tx = inputs[0]
    bought = set(zip(tx["customer_id"].astype(str), tx["product"].astype(str)))
    recs = result.recommendations
    assert not any((c, p) in bought for c, p in zip(recs["customer_id"].astype(str), recs["product"].astype(str)))
    assert recs.groupby("customer_id").size().max() == 5


def test_campaign_eligibility_is_the_expected_profit_rule(result):
    a = result.customer_actions
    assert a["campaign_eligible"].notna().all()
    np.testing.assert_array_equal(a["campaign_eligible"].to_numpy(dtype=bool),
                                  (a["campaign_expected_profit"] > 0).to_numpy())


def test_without_costs_revenue_is_the_basis_and_without_products_no_recommendations(inputs):
    tx, ret, clv, seg = inputs
    r = run_idic(tx.drop(columns="product"), clv, seg, IdicParams(), returns=ret)
    assert (r.customer_actions["value_basis"] == "revenue").all()
    assert r.recommendations is None and r.customer_actions["next_best_products"].isna().all()
    assert r.campaign is None and r.headlines()["campaign_uplift"] is None


@pytest.mark.parametrize("kwargs, match", [
    ({"gross_margin": 2.0}, "gross_margin"),
    ({"top_k": 0}, "top_k"),
    ({"recommender": "magic"}, "recommender"),
    ({"campaign": {"loader": "csv"}}, "needs campaign.path"),
    ({"campaign": {"loader": "synthetic", "colour": 1}}, "unknown key"),
    ({"contact_cost": -1.0}, "contact_cost"),
])
def test_bad_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IdicParams(**kwargs)


def test_the_campaign_key_of_the_customer_column_is_customer_col_and_id_col_still_works(tmp_path):
    """findings_13e I8: the campaign spec said id_col for the role every function calls customer_col; id_col is
    taken with a FutureWarning (the same parameters, hence the same run), both keys disagreeing are refused."""
    spec = {"loader": "csv", "path": "campaign.csv", "group_col": "arm", "control": "none"}
    new = IdicParams(campaign={**spec, "customer_col": "cust"})
    assert new.campaign["customer_col"] == "cust"
    with pytest.warns(FutureWarning, match="campaign: the key 'id_col' is deprecated: use 'customer_col'"):
        old = IdicParams(campaign={**spec, "id_col": "cust"})
    assert old == new
    with pytest.warns(FutureWarning), pytest.raises(
            ValueError, match="campaign: customer_col='cust' and the deprecated id_col='other' disagree"):
        IdicParams(campaign={**spec, "customer_col": "cust", "id_col": "other"})
    with pytest.warns(FutureWarning):  # the same value under both keys: one warning, no error
        assert IdicParams(campaign={**spec, "customer_col": "cust", "id_col": "cust"}) == new
    with pytest.raises(ValueError, match=r"campaign.customer_col must be a column name"):
        IdicParams(campaign={**spec, "customer_col": 3})


# --- found by a newcomer's try-out (issue 16) -------------------------------------------------------------------

def test_return_lines_kept_in_the_transactions_are_left_out_of_the_recommendations_and_counted(inputs):
    """With returns kept by the cleaning policy the step still runs; the return lines are no purchases."""
    tx, ret, clv, seg = inputs
    with_returns = pd.concat([tx, ret], ignore_index=True)
    r = run_idic(with_returns, clv, seg, IdicParams(top_k=5, holdout_days=0))
    assert any(n.startswith(f"{len(ret):,} return line(s) in the transactions left out of the recommendations")
               for n in r.notes), r.notes
    base = run_idic(tx, clv, seg, IdicParams(top_k=5, holdout_days=0))
    pd.testing.assert_frame_equal(r.recommendations, base.recommendations)


def test_a_one_product_shop_gets_no_recommendations_with_a_note(inputs):
    tx, ret, clv, seg = inputs
    r = run_idic(tx.assign(product="P001"), clv, seg, IdicParams(top_k=3, holdout_days=0))
    assert r.recommendations.empty
    assert any(f"{len(clv):,} customer(s) got fewer than 3 next-best products" in n for n in r.notes), r.notes


def _campaign_file(tmp_path, n=1200, seed=0, **cols):
    """A campaign file with attributes of its own (customers not those of the run)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    treated = rng.random(n) < 0.5
    conv = (rng.random(n) < 0.05 + 0.05 * treated * (x > 0)).astype(int)
    df = pd.DataFrame({"cust": [f"K{i:05d}" for i in range(n)], "arm": np.where(treated, "mail", "none"), "x": x,
                       "visit": np.maximum(conv, (rng.random(n) < 0.2).astype(int)), "conversion": conv,
                       "spend": conv * rng.gamma(2.0, 20.0, n)})
    df = df.assign(**cols)
    path = tmp_path / "campaign.csv"
    df.to_csv(path, index=False)
    return path


def test_the_eligible_share_headline_is_a_share_of_the_run_s_customers(inputs, result, tmp_path):
    """With a campaign file of other customers, 'x % of the customers' must not count the file's customers."""
    tx, ret, clv, seg = inputs
    h = result.headlines()
    a = result.customer_actions
    assert h["campaign_eligible_share"] == pytest.approx(a["campaign_eligible"].astype(bool).mean())
    spec = {"loader": "csv", "path": str(_campaign_file(tmp_path)), "group_col": "arm", "control": "none",
            "customer_col": "cust"}
    r = run_idic(tx, clv, seg, IdicParams(top_k=3, holdout_days=0, campaign=spec))
    assert r.targeting is not None and len(r.targeting) == 1200
    assert r.customer_actions["campaign_eligible"].isna().all()
    assert r.headlines()["campaign_eligible_share"] is None


def test_campaign_keys_of_a_file_with_its_own_outcome_names(inputs, tmp_path):
    """outcome / value_col / value_per_response / treatment of the campaign spec: used, or errors naming the key."""
    tx, ret, clv, seg = inputs
    path = _campaign_file(tmp_path)
    df = pd.read_csv(path).rename(columns={"visit": "opened", "conversion": "bought", "spend": "revenue"})
    df.to_csv(path, index=False)
    base = {"loader": "csv", "path": str(path), "group_col": "arm", "control": "none", "customer_col": "cust",
            "outcomes": ["opened", "bought", "revenue"]}

    def run(**spec):
        return run_idic(tx, clv, seg, IdicParams(top_k=3, holdout_days=0, campaign={**base, **spec}))

    with pytest.raises(ValueError, match=r"campaign.outcome 'conversion' \(the default\) is not a 0/1 outcome.*"
                                         r"\['opened', 'bought'\]"):
        run()
    with pytest.raises(ValueError, match="set campaign.value_col .* or campaign.value_per_response"):
        run(outcome="bought")
    with pytest.raises(ValueError, match="campaign.value_col 'amount' is not a money outcome"):
        run(outcome="bought", value_col="amount")
    with pytest.raises(ValueError, match="campaign.treatment 'email' is not a treatment"):
        run(outcome="bought", value_col="revenue", treatment="email")
    r = run(outcome="bought", value_col="revenue")
    assert r.campaign.outcome == "bought" and r.campaign.value_col == "revenue"
    assert any("treated responders" in n and "revenue" in n for n in r.campaign.notes)


def test_a_campaign_with_several_treatments_says_which_one_is_analysed(inputs, tmp_path):
    tx, ret, clv, seg = inputs
    path = _campaign_file(tmp_path)
    df = pd.read_csv(path)
    df.loc[df.index % 3 == 0, "arm"] = "sms"
    df.to_csv(path, index=False)
    spec = {"loader": "csv", "path": str(path), "group_col": "arm", "control": "none", "customer_col": "cust",
            "value_per_response": 40.0}
    r = run_idic(tx, clv, seg, IdicParams(top_k=3, holdout_days=0, campaign=spec))
    assert any("the campaign has 2 treatments" in n and "campaign.treatment picks another" in n for n in r.notes)
    assert r.campaign.value_per_response == 40.0


def test_excluded_products_are_neither_recommended_nor_evidence(inputs):
    """Non-merchandise codes (Online Retail's POST, DOT, ...) must not be next-best products (issue 16 try-out:
    'DOT', postage, was a next-best product of three customers)."""
    tx, ret, clv, seg = inputs
    post = tx.iloc[: len(tx) // 3].assign(product="POST")  # postage on a third of the orders
    with_post = pd.concat([tx, post], ignore_index=True)
    plain = run_idic(with_post, clv, seg, IdicParams(top_k=5, holdout_days=0))
    assert (plain.recommendations["product"] == "POST").any()  # the kind of fault: postage is popular
    r = run_idic(with_post, clv, seg, IdicParams(top_k=5, holdout_days=0, exclude_products=["POST", "DOT"]))
    assert not (r.recommendations["product"] == "POST").any()
    assert any(n.startswith(f"{len(post):,} line(s) of 1 non-merchandise product code(s) ['POST']") for n in r.notes)
    base = run_idic(tx, clv, seg, IdicParams(top_k=5, holdout_days=0))
    pd.testing.assert_frame_equal(r.recommendations, base.recommendations)
    with pytest.raises(ValueError, match="exclude_products must be a list"):
        IdicParams(exclude_products="POST")


def test_the_old_call_with_as_of_and_seed_keywords_still_works(inputs):
    """n13 finding F6: as_of and seed moved into IdicParams (run_idic(inputs..., params), as every step); the
    keywords still work, with a DeprecationWarning, and replace the parameters' values."""
    tx, ret, clv, seg = inputs
    params = IdicParams(top_k=3, holdout_days=0, campaign={"loader": "synthetic"})
    with pytest.warns(DeprecationWarning) as caught:
        old = run_idic(tx, clv, seg, params, as_of="2024-12-31", seed=3)
    assert sorted(str(w.message).split(" is deprecated")[0] for w in caught
                  if issubclass(w.category, DeprecationWarning)) == ["run_idic(as_of=...)", "run_idic(seed=...)"]
    new = run_idic(tx, clv, seg, IdicParams(top_k=3, holdout_days=0, campaign={"loader": "synthetic"},
                                            as_of="2024-12-31", seed=3))
    pd.testing.assert_frame_equal(old.targeting, new.targeting)
    pd.testing.assert_frame_equal(old.customer_profit, new.customer_profit)
    with pytest.raises(ValueError, match="as_of"):
        IdicParams(as_of="31/12/2024")
