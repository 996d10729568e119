"""The rfm_clv step's report additions (issue 15, point 6): cohorts, prediction intervals, covariate effects.

Data: transactions simulated here from the BG/NBD (Fader, Hardie & Lee 2005) with a known channel effect on
the purchase rate, in the Fader & Hardie (2007) covariate form alpha_i = alpha_0 exp(-g z_i): channel "web"
(60% of customers, the baseline) and "app" (z = 1, g = TRUE_G > 0: app customers buy exp(g) times as often).
Seed 7; 1,200 customers acquired over 18 months, observed to 2024-12-31.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from crm_analysis.clv import RfmClvParams, clv_prediction_intervals, customer_covariates, run_rfm_clv
from crm_analysis.contracts import CLV, COHORTS, HEADLINES, RFM_SUMMARY

R, ALPHA, A, B = 0.8, 6.0, 0.6, 3.0  # weekly purchase rate Gamma(r, alpha); dropout Beta(a, b)
TRUE_G = 0.7
AS_OF = "2024-12-31"


def _simulate(n: int = 1200, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(AS_OF)
    start = pd.Timestamp("2023-01-01")
    acq_days = rng.integers(0, 548, n)  # acquired over 18 months
    app = rng.random(n) < 0.4
    lam = rng.gamma(R, 1.0 / (ALPHA * np.exp(-TRUE_G * app)))  # per week
    p = rng.beta(A, B, n)
    rows = []
    for i in range(n):
        first = start + pd.Timedelta(days=int(acq_days[i]))
        horizon = (end - first).days / 7.0
        times, t = [0.0], 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > horizon:
                break
            times.append(t)
            if rng.random() < p[i]:  # drops out after this repeat purchase
                break
        for w in times:
            rows.append((f"C{i:05d}", first + pd.Timedelta(days=int(w * 7)), float(rng.gamma(4.0, 10.0)),
                         "app" if app[i] else "web"))
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "channel"])
    tx["customer_id"] = tx["customer_id"].astype("string")
    tx["channel"] = tx["channel"].astype("string")
    tx["timestamp"] = tx["timestamp"].astype("datetime64[ns]")
    return tx


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return _simulate()


@pytest.fixture(scope="module")
def params() -> RfmClvParams:
    return RfmClvParams(as_of=AS_OF, calibration_end="2024-06-30", purchase_model="bgnbd", fit_paretonbd=False,
                        interval_draws=100, seed=3)


@pytest.fixture(scope="module")
def plain(tx, params):
    return run_rfm_clv(tx, params)


@pytest.fixture(scope="module")
def with_cov(tx, params):
    return run_rfm_clv(tx, params.replace(covariates=["channel"]))


def test_artefacts_keep_their_contracts(plain):
    COHORTS.validate(plain.cohorts_table, action="write")
    CLV.validate(plain.clv, action="write")
    RFM_SUMMARY.validate(plain.rfm_summary_table, action="write")


def test_cohort_table_adds_up_to_the_transactions(tx, plain):
    """Independent sums: every customer in one cohort, every amount up to as_of in one cell."""
    t = plain.cohorts_table
    first = t[t["period"] == 0]
    assert first["cohort_size"].sum() == tx["customer_id"].nunique()
    assert (first["retention_rate"] == 1.0).all()
    assert t["revenue"].sum() == pytest.approx(tx.loc[tx["timestamp"] <= AS_OF, "amount"].sum(), rel=1e-12)
    # a cohort recounted by hand: January 2023 acquisitions active in their second month
    firsts = tx.groupby("customer_id")["timestamp"].min()
    jan = firsts[firsts.dt.to_period("M") == pd.Period("2023-01", "M")].index
    feb_active = tx[tx["customer_id"].isin(jan) & (tx["timestamp"].dt.to_period("M") == pd.Period("2023-02", "M"))]
    row = t[(t["cohort"] == pd.Timestamp("2023-01-01")) & (t["period"] == 1)].iloc[0]
    assert row["cohort_size"] == len(jan)
    assert row["active_customers"] == feb_active["customer_id"].nunique()


def test_quarterly_cohorts(tx, params):
    res = run_rfm_clv(tx, params.replace(cohort_frequency="Q", interval_draws=20))
    assert set(res.cohorts_table["cohort"].dt.month) <= {1, 4, 7, 10}


def test_intervals_contain_the_point_totals_and_agree_with_the_closed_form(plain):
    clv, iv = plain.clv, plain.intervals
    total_clv, total_purchases = clv["clv"].sum(), clv["expected_purchases"].sum()
    assert iv.total.loc["clv", "lower"] <= total_clv <= iv.total.loc["clv", "upper"]
    assert iv.total.loc["purchases", "lower"] <= total_purchases <= iv.total.loc["purchases", "upper"]
    # the simulation's mean against the closed-form expectation (conditional expectation, CLV sum):
    # Monte Carlo error of 100 draws over 1,200 customers is about 1%; the discounting differs by < 0.2%
    assert iv.total.loc["purchases", "mean"] == pytest.approx(total_purchases, rel=0.04)
    assert iv.total.loc["clv", "mean"] == pytest.approx(total_clv, rel=0.05)
    c = iv.customers
    assert (c["purchases_lower"] <= c["purchases_upper"]).all() and (c["clv_lower"] <= c["clv_upper"]).all()
    assert (c["purchases_lower"] >= 0).all() and (c["clv_lower"] >= 0).all()


def test_top_customers_carry_their_intervals(plain):
    top = plain.top_customers(n=20)
    assert len(top) == 20 and top["clv"].is_monotonic_decreasing
    assert list(top.columns[top.columns.get_loc("expected_purchases") + 1:][:2]) == ["purchases_lower",
                                                                                     "purchases_upper"]
    iv = plain.intervals.customers.set_axis(plain.intervals.customers.index.astype(str))
    assert np.array_equal(top["clv_upper"].to_numpy(), iv.loc[top.index, "clv_upper"].to_numpy())
    # the most valuable customers are likely alive: their point CLV lies in their interval
    assert ((top["clv_lower"] <= top["clv"]) & (top["clv"] <= top["clv_upper"])).mean() >= 0.9


def test_clv_table_carries_each_customers_interval(plain, tmp_path):
    """F5: clv.parquet had no clv_lower/clv_upper although the step computes them. They are the customers'
    prediction intervals (the same numbers as result.intervals), kept through a write and read, and the
    segmentation step still reads the table."""
    from crm_analysis.runtime.context import RunContext
    from crm_analysis.segmentation import SegmentationParams, run_segmentation

    clv = plain.clv
    assert list(clv.columns[-2:]) == ["clv_lower", "clv_upper"]
    iv = plain.intervals.customers.set_axis(plain.intervals.customers.index.astype(str))
    for end in ("clv_lower", "clv_upper"):
        assert np.array_equal(clv[end].to_numpy(), iv.loc[clv["customer_id"], end].to_numpy())
    assert plain.clv_above_interval == int((clv["clv"] > clv["clv_upper"]).sum())
    ctx = RunContext(tmp_path, notebook="rfm_clv")
    ctx.write_table(clv, "clv")
    back = ctx.read_table("clv")
    pd.testing.assert_frame_equal(back[["clv_lower", "clv_upper"]], clv[["clv_lower", "clv_upper"]])
    seg = run_segmentation(back, SegmentationParams(seed=1))
    assert len(seg.segments) == len(clv)


def test_one_interval_name_means_one_interval(plain, params):
    """Issue #13 interval naming: customer_lifetime_value(intervals=True) wrote clv_lower / clv_upper for the
    parameter-uncertainty interval of the *expected* CLV, and value_table(intervals=True) handed it on as clv.parquet's
    columns, which the contract declares the prediction interval of the *realised* CLV. Now value_table's
    clv_lower / clv_upper are the step's (same numbers, same seed), and the other interval has its own names."""
    from crm_analysis.clv import customer_lifetime_value

    a = plain.analysis
    table = a.value_table(horizon=params.horizon, margin=params.margin, discount_rate=params.discount_rate,
                          intervals=True, interval_level=params.interval_level, interval_draws=params.interval_draws,
                          seed=params.seed)
    assert CLV.problems(table) == []
    np.testing.assert_array_equal(table["clv_lower"].to_numpy(), plain.clv["clv_lower"].to_numpy())
    np.testing.assert_array_equal(table["clv_upper"].to_numpy(), plain.clv["clv_upper"].to_numpy())
    assert table.attrs["prediction_intervals"]["level"] == params.interval_level
    few = plain.summary.iloc[:40]
    conf = customer_lifetime_value(a.transaction_model, a.spend_model, few, horizon=params.horizon,
                                   time_unit="W", margin=params.margin, discount_rate=params.discount_rate,
                                   intervals=True, n_draws=40, seed=1)
    assert {"clv_param_lower", "clv_param_upper"} <= set(conf.columns)
    assert not {"clv_lower", "clv_upper"} & set(conf.columns)
    # the two intervals differ in kind: the realised CLV's is wider than the expected CLV's for most customers
    pred = table.set_index("customer_id").loc[few.index.astype(str)]
    wider = (pred["clv_upper"] - pred["clv_lower"]).to_numpy() > (conf["clv_param_upper"] - conf["clv_param_lower"]).to_numpy()
    assert wider.mean() > 0.5
    with pytest.raises(ValueError, match="interval_draws"):
        a.value_table(intervals=True, interval_draws=5)


def test_interval_headlines_are_declared_and_are_the_total_interval(plain):
    heads, labels = plain.headlines(), plain.headline_labels()
    declared = {s.key for s in HEADLINES["rfm_clv"]}
    assert {"total_clv_lower", "total_clv_upper"} <= declared & set(heads)
    assert heads["total_clv_lower"] == plain.intervals.total.loc["clv", "lower"]
    assert heads["total_clv_lower"] <= heads["total_clv"] <= heads["total_clv_upper"]
    assert "90% prediction interval" in labels["total_clv_upper"]


def test_one_seed_drives_the_intervals_and_levels_nest(plain):
    a, s = plain.analysis, plain.summary
    kw = dict(horizon=52, time_unit="W", margin=0.3, discount_rate=0.1, n_draws=40)
    x = clv_prediction_intervals(a.transaction_model, a.spend_model, s, level=0.9, seed=11, **kw)
    y = clv_prediction_intervals(a.transaction_model, a.spend_model, s, level=0.9, seed=11, **kw)
    z = clv_prediction_intervals(a.transaction_model, a.spend_model, s, level=0.9, seed=12, **kw)
    half = clv_prediction_intervals(a.transaction_model, a.spend_model, s, level=0.5, seed=11, **kw)
    pd.testing.assert_frame_equal(x.customers, y.customers)
    assert not x.total.equals(z.total)
    assert (half.customers["clv_lower"] >= x.customers["clv_lower"]).all()
    assert (half.customers["clv_upper"] <= x.customers["clv_upper"]).all()


def test_covariate_effect_recovers_the_simulated_sign(with_cov):
    eff = with_cov.covariate_effects
    assert eff.label == "BG/NBD" and eff.levels["channel"]["baseline"] == "web"
    row = eff.coefficients.loc["purchase:channel=app"]
    assert row["coefficient"] > 0  # app customers buy more often, as simulated
    assert row["ci_lower"] <= TRUE_G <= row["ci_upper"]
    assert row["std_error"] > 0
    for process in ("dropout_a", "dropout_b"):  # no dropout effect was simulated
        ci = eff.coefficients.loc[f"{process}:channel=app", ["ci_lower", "ci_upper"]]
        assert ci["ci_lower"] <= 0 <= ci["ci_upper"]
    assert eff.lr_test["df"] == 3 and eff.lr_test["p_value"] < 0.01


def test_clv_params_record_the_intervals_and_the_covariate_effects(plain, with_cov):
    import json

    rec = json.loads(json.dumps(with_cov.clv_params()))
    assert rec["prediction_intervals"]["total"]["clv"]["lower"] == plain.headlines()["total_clv_lower"]
    assert rec["covariate_effects"]["coefficients"]["purchase:channel=app"]["coefficient"] > 0
    assert plain.clv_params()["covariate_effects"] is None


def test_no_covariates_changes_nothing(plain, with_cov):
    assert plain.covariate_effects is None
    pd.testing.assert_frame_equal(plain.clv, with_cov.clv)
    assert plain.headlines() == with_cov.headlines()


def test_first_purchase_covariates_are_coded_against_the_commonest_level(tx):
    customers = pd.Index(sorted(tx["customer_id"].unique()), dtype="string")
    tx2 = tx.copy()
    tx2.loc[tx2.index[:3], "channel"] = pd.NA  # first purchases of the first customer(s) without a channel
    design, levels = customer_covariates(tx2, customers, ["channel", "first_purchase_quarter"], as_of=AS_OF)
    assert len(design) == len(customers)
    assert "channel=app" in design and "channel=(missing)" in design and "channel=web" not in design
    assert levels["channel"]["missing"] == int(design["channel=(missing)"].sum()) >= 1
    q = levels["first_purchase_quarter"]
    assert sum(q["levels"].values()) == len(customers) and q["baseline"] not in design.columns


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"cohort_frequency": "W"}, "cohort_frequency"),
        ({"interval_level": 1.0}, "interval_level"),
        ({"interval_level": 0}, "interval_level"),
        ({"interval_draws": 10}, "interval_draws"),
        ({"interval_draws": 100.0}, "interval_draws"),
        ({"covariates": "channel"}, "list of column names"),
        ({"covariates": ["channel", "channel"]}, "more than once"),
        ({"covariates": [""]}, "not column names"),
        ({"reference_estimates": {"bgnbd": {"r": 0.2}}}, "reference_source"),
        ({"reference_estimates": {"bgnbd": {"s": 0.2}}, "reference_source": "x"}, r"'s'.*\['r', 'alpha', 'a', 'b'\]"),
        ({"reference_estimates": {"bgnbd": {"r": -1.0}}, "reference_source": "x"}, "positive finite"),
        ({"reference_estimates": {"bgnbd": {"r": float("nan")}}, "reference_source": "x"}, "positive finite"),
        ({"reference_estimates": {"bgnbd": {"r": True}}, "reference_source": "x"}, "positive finite"),
        ({"reference_estimates": {"lifetimes": {"r": 0.2}}, "reference_source": "x"}, "'lifetimes'.*gamma_gamma"),
        ({"reference_estimates": {"bgnbd": {}}, "reference_source": "x"}, "non-empty mapping"),
        ({"reference_estimates": [0.243, 4.414], "reference_source": "x"}, "mapping model"),
        # findings_n13: two spellings of one model were merged, the first one's values lost
        ({"reference_estimates": {"bgnbd": {"r": 0.243}, "BG/NBD": {"alpha": 4.4}}, "reference_source": "x"},
         "names the 'bgnbd' model twice"),
        # findings_n13: a model the run does not fit was accepted (a row "not fitted in this run" at the end)
        ({"reference_estimates": {"paretonbd": {"s": 0.6}}, "reference_source": "x", "fit_paretonbd": False},
         "'paretonbd' model, which this run does not fit.*fit_paretonbd: true"),
        ({"reference_estimates": {"nbd": {"r": 0.6}}, "reference_source": "x"}, "only when purchase_model forces"),
        # findings_n13: YAML reads `beta: 1e3` as the text '1e3'
        ({"reference_estimates": {"paretonbd": {"beta": "1e3"}}, "reference_source": "x"}, "write it as a number"),
    ],
)
def test_params_refuse_bad_values(changes, message):
    with pytest.raises(ValueError, match=message):
        RfmClvParams(**changes)


def test_unknown_covariate_is_named_with_the_available_ones(tx, params):
    with pytest.raises(ValueError, match=r"\['country'\].*available.*'channel'.*'first_purchase_month'"):
        run_rfm_clv(tx, params.replace(covariates=["country"], interval_draws=20))
    assert RfmClvParams(covariates=["channel"]).covariates == ("channel",)


def test_too_many_levels_is_an_error(tx):
    tx2 = tx.assign(product=tx["customer_id"])  # one level per customer
    with pytest.raises(ValueError, match="'product' has .* levels"):
        customer_covariates(tx2, pd.Index(tx["customer_id"].unique()), ["product"], as_of=AS_OF)


def test_constant_covariate_and_fit_warnings_reach_the_report(tx):
    """Findings F10 and F4 (n15): a covariate with one value for every customer stopped the step with 'the full
    model must have more estimated parameters (df = 0)'; now the error names it. Every warning of the covariate fit
    (here a level held by 3 customers) is a note of the report, where only 'constant' ones were kept before."""
    from crm_analysis.clv import fit_covariate_effects
    from crm_analysis.rfm import rfm_summary

    summary = rfm_summary(tx, observation_end=AS_OF)
    for const in ("a", 5.0):
        with pytest.raises(ValueError, match=r"covariates \['const'\] take a single value for every customer"):
            fit_covariate_effects(summary, tx.assign(const=const), ["const"], model="bgnbd", as_of=AS_OF)
    rare_ids = summary.sort_values("frequency").index[-3:]
    tx2 = tx.assign(region=np.where(tx["customer_id"].isin(rare_ids), "north", "south"))
    eff = fit_covariate_effects(summary, tx2, ["channel", "region"], model="bgnbd", as_of=AS_OF)
    assert any("'region=north' takes the value 1 for only 3 customer" in n for n in eff.notes), eff.notes


def test_the_chain_runs_with_a_forced_boundary_limit(tx, params):
    """Issue #12: a boundary limit forced by the configuration is fitted beside the candidates, used for P(alive)
    and CLV, and recorded in clv_params.json, which stays strict JSON."""
    import json

    from crm_analysis.runtime.context import _jsonable

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_rfm_clv(tx, params.replace(purchase_model="exponentialnbd", interval_draws=20))
    assert res.comparison.chosen == "exponentialnbd" and res.analysis.model == "exponentialnbd"
    CLV.validate(res.clv, action="write")
    rec = res.clv_params()
    assert rec["whole_period"]["exponentialnbd"]["params"].keys() == {"r", "alpha", "mu"}

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    back = json.loads(json.dumps(_jsonable(rec), allow_nan=False), parse_constant=refuse)
    assert back["p_alive_model"] == res.analysis.model_label


def test_transactions_after_as_of_are_counted():
    """Fifth newcomer finding I4: run_rfm_clv on transactions that run past as_of leaves them out of the summary
    (rfm_summary's observation end) and now counts them (n_after_as_of; notebook 10 shows it)."""
    from crm_analysis.clv.step import _lines_after

    tx = pd.DataFrame({"timestamp": pd.to_datetime(["2024-06-29 00:00", "2024-06-30 23:59", "2024-07-01 00:00", "2024-08-01 00:00"])})
    assert _lines_after(tx, "2024-06-30") == 2
    assert _lines_after(tx.assign(timestamp=tx["timestamp"].dt.tz_localize("UTC")), "2024-06-30") == 2
    assert _lines_after(tx, "2024-12-31") == 0


def test_reference_estimates_sit_beside_the_calibration_fits(tx, params):
    """``reference_estimates``: each configured parameter beside the calibration estimate, in the report's table,
    its sentence and clv_params.json. The references here are the fit's own estimates rounded to 3 decimals
    (so they must round back), one deliberately 10% off (so it must not), and a forced limit (NBD)."""
    bg = run_rfm_clv(tx, params.replace(interval_draws=20)).comparison.models["bgnbd"].params_
    ref = {"BG/NBD": {k: float(f"{v:.3f}") for k, v in bg.items()}, "gamma_gamma": {"p": 1.0}, "nbd": {"r": 0.5}}
    ref["BG/NBD"]["b"] = round(float(bg["b"]) * 1.1, 3)
    res = run_rfm_clv(tx, params.replace(interval_draws=20, reference_estimates=ref, reference_source="a test",
                                         purchase_model="nbd"))
    assert res.params.reference_estimates["bgnbd"] == ref["BG/NBD"]  # the model name read as the registry's
    table = res.reference_table().set_index(["model", "parameter"])
    assert table.loc[("BG/NBD", "r"), "estimate"] == float(bg["r"])
    assert table.loc[("BG/NBD", "b"), "relative_difference"] == pytest.approx(float(bg["b"]) / ref["BG/NBD"]["b"] - 1)
    assert table.loc[("NBD (no dropout)", "r"), "estimate"] == float(res.comparison.models["nbd"].params_["r"])
    assert table["rounds_to_reference"].to_dict() == {
        ("BG/NBD", "r"): True, ("BG/NBD", "alpha"): True, ("BG/NBD", "a"): True, ("BG/NBD", "b"): False,
        ("Gamma-Gamma", "p"): abs(float(res.gamma_gamma.params_["p"]) - 1.0) <= 0.5,
        ("NBD (no dropout)", "r"): abs(float(res.comparison.models["nbd"].params_["r"]) - 0.5) <= 0.05}
    text = res.reference_text()
    assert "against a test" in text and "(BG/NBD b" in text and "not fitted" not in text
    record = res.clv_params()["reference_estimates"]
    assert record["source"] == "a test" and len(record["rows"]) == 6
    assert run_rfm_clv(tx, params.replace(interval_draws=20)).clv_params()["reference_estimates"] is None
    # a model whose fit failed in the run: its rows stay, without an estimate, and the sentence says so
    failed = dataclasses.replace(res, comparison=dataclasses.replace(
        res.comparison, models={k: m for k, m in res.comparison.models.items() if k != "nbd"}))
    row = failed.reference_table().set_index(["model", "parameter"]).loc[("NBD (no dropout)", "r")]
    assert np.isnan(row["estimate"]) and row["note"] == "not fitted in this run" and not row["rounds_to_reference"]
    assert "not fitted in this run: NBD (no dropout)" in failed.reference_text()
    assert [r["estimate"] for r in failed.clv_params()["reference_estimates"]["rows"] if r["model"] == "NBD (no dropout)"] == [None]


@pytest.mark.parametrize("estimate, reference, expected", [
    (0.2426, 0.243, True), (0.2424, 0.243, False), (3.7442, 3.74, True), (3.7451, 3.74, False),
    (6.2496, 6.25, True), (15.4435, 15.44, True), (1.2e-5, 1e-05, True), (1.6e-5, 1e-05, False),
    (float("nan"), 1.0, False),
])
def test_rounds_to_reference_uses_the_references_decimals(estimate, reference, expected):
    from crm_analysis.clv.step import _rounds_to

    assert _rounds_to(estimate, reference) is expected
