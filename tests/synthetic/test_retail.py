"""Tests of the synthetic retail transactions (crm_analysis.synthetic.retail).

Closed forms: Fader, Hardie & Lee (2005), "Counting your customers the easy
way: an alternative to the Pareto/NBD model", Marketing Science 24(2), eq. (7)
for E[X(t)] and eq. (8) for P(X(t) = x); Schmittlein, Morrison & Colombo
(1987) / Fader, Hardie & Lee (2005) for the Pareto/NBD E[X(t)]; Fader, Hardie
& Lee (2005, JMR) / Fader & Hardie, "The gamma-gamma model of monetary value",
for E[Z] = p v / (q - 1). Tolerances are in Monte-Carlo standard errors.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln, gammaln, hyp2f1

from crm_analysis.synthetic import (
    BGNBD_CDNOW,
    GAMMA_GAMMA_CDNOW,
    PARETO_NBD_CDNOW,
    default_transactions,
    generate_transactions,
    simulate_bgnbd_events,
    simulate_gamma_gamma_transactions,
    simulate_pareto_nbd_events,
)

# docs/architecture.md, canonical transactions schema
CANONICAL = {
    "customer_id": "string",
    "timestamp": "datetime64[ns]",
    "amount": "float64",
    "order_id": "string",
    "channel": "string",
}


def bgnbd_pmf(x: int, t: float, r: float, alpha: float, a: float, b: float) -> float:
    """P(X(t) = x) of the BG/NBD, Fader, Hardie & Lee (2005) eq. (8)."""
    t_ = t / (alpha + t)
    a_ = alpha / (alpha + t)
    first = np.exp(
        betaln(a, b + x) - betaln(a, b) + gammaln(r + x) - gammaln(r) - gammaln(x + 1) + r * np.log(a_) + x * np.log(t_)
    )
    if x == 0:
        return float(first)
    j = np.arange(x)
    s = np.sum(np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + j * np.log(t_)))
    second = np.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * (1 - a_**r * s)
    return float(first + second)


def bgnbd_mean(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """E[X(t)] of the BG/NBD, Fader, Hardie & Lee (2005) eq. (7)."""
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def pareto_nbd_mean(t: float, r: float, alpha: float, s: float, beta: float) -> float:
    """E[X(t)] of the Pareto/NBD (Schmittlein, Morrison & Colombo 1987)."""
    return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


# ------------------------------------------------------------------ BTYD truths
@pytest.fixture(scope="module")
def bg_sample():
    return simulate_bgnbd_events(40_000, T=52.0, seed=7, **BGNBD_CDNOW)


def test_closed_forms_are_consistent():
    # the test's own closed forms: eq. (8) sums to one and its mean is eq. (7)
    pmf = np.array([bgnbd_pmf(x, 52.0, **BGNBD_CDNOW) for x in range(600)])
    assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
    assert (pmf * np.arange(600)).sum() == pytest.approx(bgnbd_mean(52.0, **BGNBD_CDNOW), rel=1e-6)


def test_bgnbd_lambda_and_p_moments(bg_sample):
    c = bg_sample.customers
    r, alpha, a, b = (BGNBD_CDNOW[k] for k in ("r", "alpha", "a", "b"))
    n = len(c)
    se_lam = np.sqrt(r) / alpha / np.sqrt(n)
    assert abs(c["lambda_"].mean() - r / alpha) < 4 * se_lam
    var_p = a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(c["p"].mean() - a / (a + b)) < 4 * np.sqrt(var_p / n)


def test_bgnbd_zero_repeat_share_matches_closed_form(bg_sample):
    x = bg_sample.customers["frequency"].to_numpy()
    for k in range(4):
        p_k = bgnbd_pmf(k, 52.0, **BGNBD_CDNOW)
        se = np.sqrt(p_k * (1 - p_k) / x.size)
        assert abs(np.mean(x == k) - p_k) < 4 * se, k


def test_bgnbd_expected_repeats_match_eq7(bg_sample):
    x = bg_sample.customers["frequency"].to_numpy()
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert abs(x.mean() - bgnbd_mean(52.0, **BGNBD_CDNOW)) < 4 * se


def test_bgnbd_expected_repeats_with_varying_T():
    T = np.tile([13.0, 39.0, 78.0], 10_000)
    s = simulate_bgnbd_events(T.size, T, seed=3, **BGNBD_CDNOW)
    x = s.customers["frequency"].to_numpy()
    for t in (13.0, 39.0, 78.0):
        xt = x[T == t]
        assert abs(xt.mean() - bgnbd_mean(t, **BGNBD_CDNOW)) < 4 * xt.std(ddof=1) / np.sqrt(xt.size)


def test_bgnbd_consistency(bg_sample):
    c, e = bg_sample.customers, bg_sample.events
    assert (e.groupby("customer").size().reindex(c["customer"], fill_value=0).to_numpy() == c["frequency"]).all()
    assert (e["t"] > 0).all() and (e["t"] <= 52.0).all()
    # dead customers died right after their J-th repeat purchase
    dead = ~c["alive"]
    assert (c.loc[dead, "frequency"] == c.loc[dead, "dropout_after"]).all()
    assert (c.loc[~dead, "frequency"] < c.loc[~dead, "dropout_after"]).all()
    assert (c.loc[c["frequency"] == 0, "alive"]).all()  # no death without a repeat purchase
    np.testing.assert_allclose(c.loc[dead, "dropout_time"], c.loc[dead, "recency"])


def test_pareto_nbd_expected_repeats():
    s = simulate_pareto_nbd_events(40_000, T=52.0, seed=11, **PARETO_NBD_CDNOW)
    c = s.customers
    x = c["frequency"].to_numpy()
    assert abs(x.mean() - pareto_nbd_mean(52.0, **PARETO_NBD_CDNOW)) < 4 * x.std(ddof=1) / np.sqrt(x.size)
    # P(alive at T) = E[exp(-mu T)] = (beta / (beta + T))^s
    p_alive = (PARETO_NBD_CDNOW["beta"] / (PARETO_NBD_CDNOW["beta"] + 52.0)) ** PARETO_NBD_CDNOW["s"]
    assert abs(c["alive"].mean() - p_alive) < 4 * np.sqrt(p_alive * (1 - p_alive) / len(c))
    assert (c.loc[~c["alive"], "recency"] <= c.loc[~c["alive"], "lifetime"]).all()


def test_gamma_gamma_spend_mean():
    p, q, v = (GAMMA_GAMMA_CDNOW[k] for k in ("p", "q", "v"))
    nu, z = simulate_gamma_gamma_transactions(np.ones(50_000, dtype=int), seed=5, **GAMMA_GAMMA_CDNOW)
    assert abs(nu.mean() - q / v) < 4 * np.sqrt(q) / v / np.sqrt(nu.size)
    # Var(Z) = p (p + 1) v^2 / ((q - 1)(q - 2)) - E[Z]^2 (finite for q > 2)
    mean = p * v / (q - 1)
    sd = np.sqrt(p * (p + 1) * v**2 / ((q - 1) * (q - 2)) - mean**2)
    assert abs(z.mean() - mean) < 4 * sd / np.sqrt(z.size)
    # within a customer, E[z | nu] = p / nu
    nu2, z2 = simulate_gamma_gamma_transactions(np.full(200, 400), seed=6, **GAMMA_GAMMA_CDNOW)
    means = z2.reshape(200, 400).mean(axis=1)
    np.testing.assert_allclose(means, p / nu2, rtol=4 / np.sqrt(p * 400))


@pytest.mark.parametrize(
    "kwargs",
    [dict(r=-1.0), dict(alpha=0.0), dict(a=np.nan)],
)
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ValueError, match="parameter"):
        simulate_bgnbd_events(10, 10.0, **{**BGNBD_CDNOW, **kwargs})


def test_bad_T_raises():
    with pytest.raises(ValueError, match="T must"):
        simulate_bgnbd_events(3, [1.0, 2.0], seed=1)
    with pytest.raises(ValueError, match="n_customers"):
        simulate_pareto_nbd_events(0, 1.0, seed=1)


# ------------------------------------------------------------ transaction table
@pytest.fixture(scope="module")
def data():
    return generate_transactions(n_customers=4000, acquisition_end="2023-12-31", seed=1)


def test_canonical_schema(data):
    tx = data.transactions
    assert list(tx.columns) == list(CANONICAL)
    for col, dtype in CANONICAL.items():
        assert tx[col].dtype == dtype, col
    assert isinstance(tx["customer_id"].dtype, pd.StringDtype) and tx["customer_id"].dtype.na_value is pd.NA
    assert tx["order_id"].is_unique
    assert tx["timestamp"].is_monotonic_increasing
    assert (tx["amount"] > 0).all()
    assert set(tx["channel"].unique()) <= {"web", "store", "app"}
    assert data.time_unit == "W"


def test_schema_matches_data_module_if_present(data):
    schema = pytest.importorskip("crm_analysis.data.schema")
    for name, dtype in schema.TRANSACTIONS.dtypes.items():
        if name in data.transactions:
            assert data.transactions[name].dtype == dtype, name
    assert set(schema.TRANSACTIONS.required) <= set(data.transactions.columns)


def test_same_seed_same_data_other_seed_differs():
    a = generate_transactions(n_customers=300, seed=5)
    b = generate_transactions(n_customers=300, seed=5)
    c = generate_transactions(n_customers=300, seed=6)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    assert not a.transactions["amount"].equals(c.transactions["amount"])


def test_transactions_carry_the_btyd_counts(data):
    tx, cust = data.transactions, data.customers.set_index("customer_id")
    n_tx = tx.groupby("customer_id").size()
    assert (n_tx.reindex(cust.index).to_numpy() - 1 == cust["frequency"].to_numpy()).all()
    # first purchases are in the acquisition period, everything by the end day
    first = tx.groupby("customer_id")["timestamp"].min()
    assert first.min() >= pd.Timestamp("2023-01-01") and first.max() < pd.Timestamp("2024-01-01")
    assert tx["timestamp"].max() < pd.Timestamp("2025-01-01")
    # weekday moves keep distinct purchase days and move recency by < 1 week
    days = tx.assign(day=tx["timestamp"].dt.floor("D")).groupby("customer_id")["day"]
    assert (days.nunique().reindex(cust.index) - 1 == cust["frequency"]).mean() > 0.999
    rec_days = (days.max() - days.min()).dt.days.reindex(cust.index) / 7
    assert (np.abs(rec_days - cust["recency"]) < 1.0 + 1e-9).all()
    # T counts the end day
    T_days = (pd.Timestamp("2024-12-31") - first.dt.floor("D")).dt.days + 1
    np.testing.assert_allclose(T_days.reindex(cust.index) / 7, cust["T"])


def test_lambda_truth_in_customer_table(data):
    lam = data.customers["lambda_"]
    r, alpha = BGNBD_CDNOW["r"], BGNBD_CDNOW["alpha"]
    assert abs(lam.mean() - r / alpha) < 4 * np.sqrt(r) / alpha / np.sqrt(len(lam))
    assert data.params["btyd"] == BGNBD_CDNOW and data.params["spend"] == GAMMA_GAMMA_CDNOW


def test_weekly_and_yearly_seasonality_visible(data):
    tx = data.transactions
    dow = tx["timestamp"].dt.day_of_week.value_counts(normalize=True)
    assert dow[5] > 1.25 * dow[1]  # Saturday peak vs Tuesday (profile 1.30 vs 0.85)
    rev = tx.groupby(tx["timestamp"].dt.month)["amount"].sum()
    assert rev[[11, 12]].mean() > 1.3 * rev[[1, 2]].mean()
    # no weekday pattern without the profile
    flat = generate_transactions(n_customers=4000, weekly_seasonality=None, yearly_seasonality=None, seed=1).transactions
    share = flat["timestamp"].dt.day_of_week.value_counts(normalize=True)
    assert share.max() - share.min() < 0.02


def test_spend_mean_without_seasonal_factor():
    d = generate_transactions(n_customers=6000, spend_seasonality=0.0, seed=2)
    p, q, v = (GAMMA_GAMMA_CDNOW[k] for k in ("p", "q", "v"))
    # per-customer mean spend E[p / nu] = p v / (q - 1); the table's truth column
    ms = d.customers["mean_spend"]
    assert abs(ms.mean() - p * v / (q - 1)) < 4 * ms.std(ddof=1) / np.sqrt(len(ms))
    # amounts per customer track the truth p / nu
    obs = d.transactions.groupby("customer_id")["amount"].mean().reindex(d.customers["customer_id"])
    assert np.corrcoef(obs.to_numpy(), ms.to_numpy())[0, 1] > 0.8


def test_pareto_model_and_params_override():
    d = generate_transactions(n_customers=500, model="pareto_nbd", params={"r": 1.0}, seed=3)
    assert "mu" in d.customers and d.params["btyd"]["r"] == 1.0
    with pytest.raises(ValueError, match="unknown"):
        generate_transactions(n_customers=10, params={"s": 1.0})
    with pytest.raises(ValueError, match="model"):
        generate_transactions(n_customers=10, model="bg")
    with pytest.raises(ValueError, match="end"):
        generate_transactions(n_customers=10, start="2024-01-01", end="2023-01-01")
    with pytest.raises(ValueError, match="weekly_seasonality"):
        generate_transactions(n_customers=10, weekly_seasonality=[1, 2, 3])


def test_default_transactions_fast_and_canonical():
    t0 = time.perf_counter()
    tx = default_transactions()
    assert time.perf_counter() - t0 < 1.0
    assert tx["customer_id"].nunique() == 3000
    assert tx["timestamp"].max() <= pd.Timestamp("2024-12-31 23:59:59")
    from crm_analysis.runtime.context import DEFAULT_AS_OF

    assert tx["timestamp"].max().normalize() <= pd.Timestamp(DEFAULT_AS_OF)
    pd.testing.assert_frame_equal(tx, default_transactions(seed=42))


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    r=st.floats(0.05, 5.0),
    alpha=st.floats(0.5, 20.0),
    weekly=st.booleans(),
)
def test_property_counts_and_window(n, seed, r, alpha, weekly):
    d = generate_transactions(
        n_customers=n, start="2024-01-01", end="2024-03-31", params={"r": r, "alpha": alpha},
        weekly_seasonality=None if not weekly else (1, 1, 1, 1, 2, 3, 2), seed=seed,
    )
    tx, c = d.transactions, d.customers
    assert len(tx) == n + c["frequency"].sum()
    assert tx["timestamp"].min() >= pd.Timestamp("2024-01-01")
    assert tx["timestamp"].max() < pd.Timestamp("2024-04-01")
    # every customer's first transaction is the birth recorded in the truth
    first = tx.groupby("customer_id")["timestamp"].min().reindex(c["customer_id"])
    assert (first.to_numpy() == c["first_purchase"].to_numpy()).all()


# ------------------------------------------------------------ products and returns
@pytest.fixture(scope="module")
def shop():
    return generate_transactions(
        n_customers=4000, start="2023-01-01", end="2024-12-31", acquisition_end="2023-12-31", seed=11,
        n_products=30, return_rate=0.1, return_days=20,
    )


def test_products_and_returns_leave_the_purchases_unchanged(shop):
    """The purchase lines are those drawn without products and returns (own random stream)."""
    plain = generate_transactions(n_customers=4000, start="2023-01-01", end="2024-12-31", acquisition_end="2023-12-31", seed=11)
    tx = shop.transactions
    bought = tx[tx["amount"] > 0].drop(columns="product").reset_index(drop=True)
    pd.testing.assert_frame_equal(bought, plain.transactions)
    pd.testing.assert_frame_equal(shop.customers[plain.customers.columns], plain.customers)


def test_every_return_is_a_whole_earlier_purchase_of_the_same_customer(shop):
    tx = shop.transactions
    ret = tx[tx["amount"] < 0]
    assert len(ret) > 0
    bought = tx[tx["amount"] > 0].set_index("order_id")
    src = bought.loc[ret["order_id"].str.replace("R", "O", n=1).to_numpy()]
    assert (src["customer_id"].to_numpy() == ret["customer_id"].to_numpy()).all()
    assert (src["product"].to_numpy() == ret["product"].to_numpy()).all()
    np.testing.assert_array_equal(src["amount"].to_numpy(), -ret["amount"].to_numpy())
    days = (ret["timestamp"].dt.floor("D").to_numpy() - src["timestamp"].dt.floor("D").to_numpy()) / np.timedelta64(1, "D")
    assert days.min() >= 1 and days.max() <= 20
    assert ret["timestamp"].max() < pd.Timestamp("2025-01-01")
    assert ret["order_id"].is_unique and tx["timestamp"].is_monotonic_increasing
    n_ret = ret.groupby("customer_id").size().reindex(shop.customers["customer_id"], fill_value=0)
    assert (n_ret.to_numpy() == shop.customers["returns"].to_numpy()).all()


def test_return_rate_is_recovered(shop):
    """Purchases old enough to be returned in the data are returned at the customers' propensities.

    Expected count sum(p_i) and binomial variance sum(p_i (1 - p_i)) given the
    propensities; tolerance 4 standard deviations. The propensities have mean
    ``return_rate`` (Beta(2 r / (1 - r), 2)): 4 standard errors.
    """
    tx, cust = shop.transactions, shop.customers.set_index("customer_id")
    bought = tx[(tx["amount"] > 0) & (tx["timestamp"] < pd.Timestamp("2024-12-01"))]
    p = cust["return_propensity"].reindex(bought["customer_id"]).to_numpy()
    returned = bought["order_id"].str.replace("O", "R", n=1).isin(set(tx.loc[tx["amount"] < 0, "order_id"]))
    assert abs(returned.sum() - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum())
    a, b = 2 * 0.1 / 0.9, 2.0
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert abs(cust["return_propensity"].mean() - 0.1) < 4 * sd / np.sqrt(len(cust))


def test_catalogue_popularity_and_category_preferences(shop):
    tx, cat = shop.transactions, shop.products.set_index("product")
    bought = tx[tx["amount"] > 0]
    assert set(bought["product"]) <= set(cat.index) and len(cat) == 30
    np.testing.assert_allclose(cat.groupby("category")["popularity"].sum(), 1.0)
    # within a category the purchases follow the popularity (Zipf): top product ~ 1 / H_n of the category
    c0 = bought.assign(category=cat["category"].reindex(bought["product"]).to_numpy())
    share = c0.groupby("category")["product"].value_counts(normalize=True)
    for (category, product), s in share.items():
        n = int((c0["category"] == category).sum())
        p = cat.loc[product, "popularity"]
        assert abs(s - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-9
    # customers keep to their categories: two purchases of one customer share a category far more often than chance
    rep = c0[c0.duplicated("customer_id", keep=False)]
    same = rep.groupby("customer_id")["category"].agg(lambda s: s.iloc[0] == s.iloc[1]).mean()
    chance = (c0["category"].value_counts(normalize=True) ** 2).sum()
    assert same > chance + 0.25


def test_bad_product_and_return_settings():
    with pytest.raises(ValueError, match="n_products"):
        generate_transactions(n_customers=10, n_products=-1)
    with pytest.raises(ValueError, match="return_rate"):
        generate_transactions(n_customers=10, return_rate=1.0)
    with pytest.raises(ValueError, match="return_days"):
        generate_transactions(n_customers=10, return_rate=0.1, return_days=0)
    with pytest.raises(ValueError, match="category_concentration"):
        generate_transactions(n_customers=10, n_products=5, category_concentration=0)


def test_default_transactions_have_products_and_returns_the_cleaning_drops():
    from crm_analysis.data import CleaningPolicy, clean_transactions

    tx = default_transactions()
    assert tx["product"].notna().all() and tx["product"].nunique() == 40
    n_ret = int((tx["amount"] < 0).sum())
    assert n_ret > 0
    res = clean_transactions(tx, policy=CleaningPolicy(observation_end="2024-12-31"))
    dropped = {k: v for k, v in res.report.dropped.items() if v}
    assert dropped == {"return_or_cancellation": n_ret}
    assert res.report.rows_out == len(tx) - n_ret


@pytest.mark.parametrize(("old", "new"), [("simulate_bgnbd", "simulate_bgnbd_events"),
                                          ("simulate_pareto_nbd", "simulate_pareto_nbd_events"),
                                          ("simulate_gamma_gamma", "simulate_gamma_gamma_transactions")])
def test_old_names_of_the_event_simulators_warn(old, new):
    """F12: crm_analysis.clv.simulate_bgnbd and crm_analysis.synthetic.simulate_bgnbd had one name and two
    signatures (same for the Pareto/NBD and Gamma-Gamma simulators); the synthetic ones are renamed, the old
    names are deprecated aliases of the new ones, in the package and in its retail module."""
    import crm_analysis.clv
    import crm_analysis.synthetic
    import crm_analysis.synthetic.retail

    for module in (crm_analysis.synthetic, crm_analysis.synthetic.retail):
        with pytest.warns(FutureWarning, match=rf"{module.__name__}\.{old} is renamed {new}.*crm_analysis\.clv"):
            assert getattr(module, old) is getattr(module, new)
        assert old not in module.__all__ and new in module.__all__
    assert getattr(crm_analysis.clv, old) is not getattr(crm_analysis.synthetic, new)
    with pytest.raises(AttributeError, match="no attribute 'simulate_nothing'"):
        crm_analysis.synthetic.simulate_nothing  # noqa: B018
