"""The report chain on the real data sets (``config/cdnow.yaml``, ``online_retail.yaml``, ``hotels.yaml``).

Each configuration is run once per module through
:func:`crm_analysis.report.runner.run_chain` into a temporary reports folder;
the tests then check the headline figures (``artifacts/headlines.json``) and
artefacts against published numbers or against counts computed here
independently with pandas from the raw files. The data sets live in
``../shared/data`` (``shared_data`` fixture: skipped where absent). Each chain
takes about a minute on two cores, so these tests are marked ``slow``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crm_analysis.report.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def _run(name: str, shared_data: Path, tmp_path_factory) -> Path:
    """Run ``config/<name>.yaml`` with its data read from ``shared_data``; return the run folder."""
    from crm_analysis.report.runner import run_chain

    cfg = load_config(CONFIG / f"{name}.yaml")
    data = {}
    for kind, spec in cfg.data.items():
        if "path" in spec.options:  # point at the fixture's folder (CRM_SHARED_DATA may move it)
            rel = Path(spec.options["path"]).relative_to((ROOT.parent / "shared" / "data").resolve())
            spec = type(spec)(spec.loader, {**spec.options, "path": str(shared_data / rel)})
        data[kind] = spec
    cfg = cfg.replace(data=data)
    result = run_chain(cfg, reports_dir=tmp_path_factory.mktemp(f"reports_{name}"), progress=False)
    assert result.status == "ok" and result.published
    for nb in result.notebooks:
        if nb.status != "skipped":
            assert nb.html is not None and nb.html.is_file() and nb.html.stat().st_size > 1000, nb.name
    return result.run_dir


def _headlines(run_dir: Path) -> dict:
    raw = json.loads((run_dir / "artifacts" / "headlines.json").read_text())
    return {nb: {k: v["value"] for k, v in figs.items()} for nb, figs in raw.items()}


def _check_model_choice_and_actions(run_dir: Path, name: str) -> None:
    """Every available purchase model the config allows was compared, the chosen one reached the actions,
    and no customer of a lapsed segment (by name) or lapsed by days is sent to onboarding/acquisition."""
    from crm_analysis.clv import available_purchase_models
    from crm_analysis.segmentation import LAPSED_SEGMENTS, NEW_CUSTOMER_INTENTS

    cfg = load_config(CONFIG / f"{name}.yaml")
    fit_pnbd = cfg.notebook("rfm_clv").parameters.get("fit_paretonbd", True)
    expected = {m for m in available_purchase_models() if fit_pnbd or m != "paretonbd"}
    params = json.loads((run_dir / "artifacts" / "clv_params.json").read_text())
    choice = params["purchase_model_choice"]
    assert set(choice["table"]) == expected
    fitted = {k: v["holdout_rmse"] for k, v in choice["table"].items() if v["holdout_rmse"] is not None}
    assert fitted[choice["chosen"]] <= min(fitted.values()) * (1 + 1e-6)
    heads = _headlines(run_dir)
    # the P(alive) the actions name: the chosen model, and the limit its whole-period fit sits at if any; the
    # rfm_clv headline names it the same way (findings_12z: index.html said "MBG/NBD" and "MBG/NBD at its
    # common-dropout limit" for one model)
    boundary = params["whole_period"][choice["chosen"]].get("boundary")
    words = {None: "", "no_dropout": " at its no-dropout limit (NBD)", "common_dropout": " at its common-dropout limit",
             "two_point_dropout": " at its two-point-dropout limit"}[boundary]
    assert heads["segmentation"]["p_alive_model"] == params["p_alive_model"] == choice["chosen_label"] + words
    assert heads["rfm_clv"]["purchase_model"] == choice["chosen_label"] + words
    cust = pd.read_csv(run_dir / "artifacts" / "customer_actions.csv")
    onboard = cust["intent"].isin(list(NEW_CUSTOMER_INTENTS))
    assert not (onboard & cust["segment"].isin(LAPSED_SEGMENTS)).any()
    assert not (onboard & (cust["days_since_last"] > 365)).any()


# --------------------------------------------------------------------- CDNOW
@pytest.fixture(scope="module")
def cdnow_run(shared_data, tmp_path_factory) -> Path:
    return _run("cdnow", shared_data, tmp_path_factory)


def test_cdnow_chain_headlines(cdnow_run, shared_data):
    raw = pd.read_csv(shared_data / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None)
    heads = _headlines(cdnow_run)
    assert set(heads) == {"data_quality", "rfm_clv", "segmentation", "idic"}
    n_customers = raw[0].nunique()
    assert n_customers == 2357  # README: the 1/10 sample
    assert heads["data_quality"]["customers"] == n_customers
    assert heads["data_quality"]["transactions"] == len(raw)  # the policy keeps $0 and repeated records
    assert heads["data_quality"]["revenue"] == pytest.approx(raw[4].sum())
    assert "bookings" not in heads["data_quality"]
    assert heads["rfm_clv"]["customers"] == n_customers
    assert heads["segmentation"]["n_segments"] >= 2
    quality = json.loads((cdnow_run / "artifacts" / "data_quality.json").read_text())
    assert quality["bookings"] is None
    assert not (cdnow_run / "artifacts" / "bookings.parquet").exists()
    assert len(pd.read_parquet(cdnow_run / "artifacts" / "segments.parquet")) == n_customers
    _check_model_choice_and_actions(cdnow_run, "cdnow")


def test_cdnow_calibration_fit_reproduces_published_estimates(cdnow_run):
    """BG/NBD on the 39-week calibration period of the 2,357-customer sample.

    Fader, Hardie & Lee (2005), "Counting your customers the easy way",
    Marketing Science 24(2), sec. 5: r = 0.243, alpha = 4.414, a = 0.793,
    b = 2.426. Pareto/NBD: Fader, Hardie & Lee (2005), "A note on implementing
    the Pareto/NBD model in MATLAB": r = 0.553, alpha = 10.578, s = 0.606,
    beta = 11.669. Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV",
    JMR 42(4) / Fader & Hardie's note on the Gamma-Gamma spend model:
    p = 6.25, q = 3.74, gamma = 15.44. Published to 3 (2) decimals: tolerance
    1% relative.
    """
    params = json.loads((cdnow_run / "artifacts" / "clv_params.json").read_text())
    cal = params["calibration"]
    assert cal["n_customers"] == 2357
    assert cal["bgnbd"]["params"] == pytest.approx({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, rel=0.01)
    assert cal["paretonbd"]["params"] == pytest.approx(
        {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, rel=0.01
    )
    assert cal["gamma_gamma"]["params"] == pytest.approx({"p": 6.25, "q": 3.74, "v": 15.44}, rel=0.01)
    a, b = cal["bgnbd"]["params"]["a"], cal["bgnbd"]["params"]["b"]
    assert params["bgnbd_dropout_probability"]["calibration"] == pytest.approx(a / (a + b))
    # config/cdnow.yaml hands the same published figures to the report (reference_estimates): each estimate
    # shown beside its figure, and each rounds to it at the published decimals
    rows = params["reference_estimates"]["rows"]
    assert {(r["model"], r["parameter"]): r["reference"] for r in rows} == {
        ("BG/NBD", "r"): 0.243, ("BG/NBD", "alpha"): 4.414, ("BG/NBD", "a"): 0.793, ("BG/NBD", "b"): 2.426,
        ("Pareto/NBD", "r"): 0.553, ("Pareto/NBD", "alpha"): 10.578, ("Pareto/NBD", "s"): 0.606,
        ("Pareto/NBD", "beta"): 11.669, ("Gamma-Gamma", "p"): 6.25, ("Gamma-Gamma", "q"): 3.74,
        ("Gamma-Gamma", "v"): 15.44}
    assert all(r["rounds_to_reference"] for r in rows)
    assert all(r["estimate"] == cal[{"BG/NBD": "bgnbd", "Pareto/NBD": "paretonbd", "Gamma-Gamma": "gamma_gamma"}[
        r["model"]]]["params"][r["parameter"]] for r in rows)


# -------------------------------------------------------------- Online Retail
@pytest.fixture(scope="module")
def online_retail_run(shared_data, tmp_path_factory) -> Path:
    return _run("online_retail", shared_data, tmp_path_factory)


@pytest.fixture(scope="module")
def online_retail_clean(shared_data) -> dict:
    """The default cleaning of Online Retail redone with pandas on the raw file, counted by reason."""
    raw = pd.read_parquet(shared_data / "online_retail" / "online_retail.parquet")
    counts = {}
    rest = raw
    drop = rest["CustomerID"].isna()
    counts["missing_customer_id"], rest = int(drop.sum()), rest[~drop]
    amount = rest["Quantity"] * rest["UnitPrice"]
    drop = rest["InvoiceNo"].astype(str).str.startswith("C") | (rest["Quantity"] < 0) | (amount < 0)
    counts["return_or_cancellation"], rest = int(drop.sum()), rest[~drop]
    drop = rest["Quantity"] * rest["UnitPrice"] <= 0
    counts["nonpositive_amount"], rest = int(drop.sum()), rest[~drop]
    drop = rest.duplicated(keep="first")
    counts["exact_duplicate"], rest = int(drop.sum()), rest[~drop]
    assert pd.to_datetime(rest["InvoiceDate"]).max() < pd.Timestamp("2011-12-10")  # nothing after as_of to drop
    return {"counts": counts, "data": rest, "raw_rows": len(raw)}


def test_online_retail_cleaning_counts_match_pandas(online_retail_run, online_retail_clean):
    quality = json.loads((online_retail_run / "artifacts" / "data_quality.json").read_text())
    cleaning = quality["transactions"]["cleaning"]
    dropped = {s["reason"]: s["rows"] for s in cleaning["steps"] if s["action"] == "drop"}
    for reason, n in online_retail_clean["counts"].items():
        assert dropped[reason] == n, reason
    # and the README's figure for the lines without a customer id
    assert online_retail_clean["counts"]["missing_customer_id"] == 135_080
    assert sum(dropped.values()) == sum(online_retail_clean["counts"].values())
    assert cleaning["rows_in"] == online_retail_clean["raw_rows"]
    assert cleaning["rows_out"] == len(online_retail_clean["data"])
    assert quality["bookings"] is None


def test_online_retail_headlines(online_retail_run, online_retail_clean):
    tx = online_retail_clean["data"]
    heads = _headlines(online_retail_run)
    n_customers = tx["CustomerID"].nunique()
    assert heads["data_quality"]["customers"] == n_customers == 4338
    assert heads["data_quality"]["transactions"] == len(tx)
    assert heads["data_quality"]["revenue"] == pytest.approx((tx["Quantity"] * tx["UnitPrice"]).sum())
    assert heads["rfm_clv"]["customers"] == n_customers
    # Top-20% revenue share: concentration curve of revenue per customer, linear between whole customers.
    rev = np.sort((tx["Quantity"] * tx["UnitPrice"]).groupby(tx["CustomerID"]).sum().to_numpy())[::-1]
    curve = np.concatenate([[0.0], np.cumsum(rev) / rev.sum()])
    expected = float(np.interp(0.2, np.arange(len(rev) + 1) / len(rev), curve))
    assert heads["segmentation"]["top20_revenue_share"] == pytest.approx(expected, abs=1e-9)
    # One year of mostly wholesale buyers: the BG/NBD finds (almost) no dropout, and the
    # notebook reports it instead of presenting P(alive) ~ 1 as information.
    params = json.loads((online_retail_run / "artifacts" / "clv_params.json").read_text())
    rec = params["whole_period"]["bgnbd"]
    a, b = (float(rec["params"][k]) for k in ("a", "b"))  # strict JSON: an infinite limit is the string "Infinity"
    if rec["boundary"] in (None, "no_dropout"):
        assert heads["rfm_clv"]["bgnbd_dropout_probability"] == pytest.approx(0.0 if a == 0 else a / (a + b))
    clv = pd.read_parquet(online_retail_run / "artifacts" / "clv.parquet")
    assert heads["rfm_clv"]["mean_p_alive"] == pytest.approx(clv["p_alive"].mean())
    html = (online_retail_run / "html" / "10_rfm_clv.html").read_text()
    if heads["rfm_clv"]["bgnbd_dropout_probability"] < 0.01:
        assert "carries little information" in html
    _check_model_choice_and_actions(online_retail_run, "online_retail")


def test_online_retail_purchase_seasonality(online_retail_run, online_retail_clean):
    """Transactions only: the seasonality report shows the retail section, no forecasts."""
    tx = online_retail_clean["data"]
    heads = _headlines(online_retail_run)
    assert set(heads) == {"data_quality", "rfm_clv", "segmentation", "idic", "seasonality"}
    # share of revenue by weekday, from pandas on the raw file (the shop sells no Saturday)
    amount = tx["Quantity"] * tx["UnitPrice"]
    weekday = pd.to_datetime(tx["InvoiceDate"]).dt.day_of_week
    share = amount.groupby(weekday.to_numpy()).sum() / amount.sum()
    assert 5 not in share.index
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert heads["seasonality"]["retail_peak_weekday"] == names[int(share.idxmax())]
    assert heads["seasonality"]["retail_peak_weekday_share"] == pytest.approx(share.max(), abs=1e-4)
    # one year of data: only the weekly cycle fits, and the report says why in words
    assert heads["seasonality"]["retail_strongest_cycle"] == "7 days"
    assert "strongest_seasonal_cycle" not in heads["seasonality"]  # the room-night headline
    html = (online_retail_run / "html" / "30_seasonality.html").read_text()
    assert "The 365-day cycle of purchases is not estimated" in html
    assert "This data set has no bookings" in html and "Warning" not in html
    assert not (online_retail_run / "artifacts" / "forecasts.parquet").exists()


# --------------------------------------------------------------------- Hotels
@pytest.fixture(scope="module")
def hotels_run(shared_data, tmp_path_factory) -> Path:
    return _run("hotels", shared_data, tmp_path_factory)


def test_hotels_bookings_count_matches_pandas(hotels_run, shared_data):
    raw = pd.read_csv(shared_data / "hotels" / "hotels.csv.gz")
    city = raw[raw["hotel"] == "City Hotel"]
    nights = city["stays_in_weekend_nights"] + city["stays_in_week_nights"]
    stayed = city["reservation_status"] == "Check-Out"
    keep = (nights > 0) & ~((city["adr"] <= 0) & stayed)
    keep &= city[["adr", "market_segment", "lead_time"]].notna().all(axis=1)
    heads = _headlines(hotels_run)
    assert {"data_quality", "seasonality"} <= set(heads) and not {"rfm_clv", "segmentation"} & set(heads)
    assert heads["data_quality"]["bookings"] == int(keep.sum())
    assert "customers" not in heads["data_quality"]
    bk = pd.read_parquet(hotels_run / "artifacts" / "bookings.parquet")
    assert len(bk) == int(keep.sum()) and set(bk["property"]) == {"City Hotel"}
    assert not (hotels_run / "artifacts" / "transactions.parquet").exists()


def test_hotels_seasonality_and_forecasts(hotels_run):
    heads = _headlines(hotels_run)
    assert heads["seasonality"]["strongest_seasonal_cycle"] == "365 days"
    fc = pd.read_parquet(hotels_run / "artifacts" / "forecasts.parquet")
    assert {"date", "fare_class", "mean", "std", "lower", "upper", "model"} <= set(fc.columns)
    assert len(fc) > 0 and (pd.to_datetime(fc["date"]) > pd.Timestamp("2017-07-31")).all()
    assert ((fc["lower"] <= fc["mean"]) & (fc["mean"] <= fc["upper"])).all()
    assert np.isfinite(heads["seasonality"]["forecast_backtest_mape"])


def test_hotels_booking_horizon(hotels_run):
    """Issue 14 in the chain: cancellation AUC >= 0.85 on the 2017 bookings, limits and replay written."""
    heads = _headlines(hotels_run)["booking_horizon"]
    assert heads["cancel_auc"] >= 0.85
    assert heads["limit_service_0"] >= 226 and heads["limit_service_90"] > heads["limit_service_0"]
    rp = pd.read_parquet(hotels_run / "artifacts" / "policy_replay.parquet")
    assert {"FCFS", "FCFS + overbooking", "FCFS + no-show-only limit", "DP bid price + overbooking"} <= set(rp["policy"])
    pe = pd.read_parquet(hotels_run / "artifacts" / "pickup_errors.parquet")
    assert set(pe["days_before"]) == {60, 30, 14, 7, 1}
    assert "time_series (DemandForecaster)" in set(pe["method"])


def test_online_retail_idic_report(online_retail_run, online_retail_clean, shared_data):
    """Whale curve and profit deciles in the report; returns are the C invoices of known customers (pandas)."""
    raw = pd.read_parquet(shared_data / "online_retail" / "online_retail.parquet",
                          columns=["InvoiceNo", "CustomerID", "Quantity", "UnitPrice"])
    c_lines = raw[raw["InvoiceNo"].astype(str).str.startswith("C") & raw["CustomerID"].notna()]
    profit = pd.read_parquet(online_retail_run / "artifacts" / "customer_profit.parquet")
    assert profit["returned_lines"].sum() == len(c_lines)
    assert profit["returned_revenue"].sum() == pytest.approx(-(c_lines["Quantity"] * c_lines["UnitPrice"]).sum())
    heads = _headlines(online_retail_run)["idic"]
    assert heads["whale_peak_share"] > 1 and 0 < heads["unprofitable_customer_share"] < 1
    assert heads["recommendation_hit_rate"] > heads["popularity_hit_rate"]
    html = (online_retail_run / "html" / "25_idic.html").read_text()
    for title in ("Whale curve", "Profit deciles", "Who returns most", "Next-best products"):
        assert title in html, title
    cust = pd.read_csv(online_retail_run / "artifacts" / "customer_actions_idic.csv")
    assert {"profit", "next_best_products", "campaign_eligible"} <= set(cust.columns)
    # postage, carriage, manual lines are not next-best products (config: exclude_products)
    nb = pd.read_parquet(online_retail_run / "artifacts" / "next_best_products.parquet")
    assert not nb["product"].isin(["POST", "DOT", "C2", "M", "BANK CHARGES", "AMAZONFEE"]).any()
