"""Tests of crm_analysis.clv.diagnostics (holdout and in-sample checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from crm_analysis.clv.diagnostics import (
    conditional_expectations,
    frequency_histogram,
    p_alive_matrix,
    tracking,
)
from crm_analysis.exceptions import InputError
from crm_analysis.rfm import calibration_and_holdout

CAL_END = pd.Timestamp("2023-04-30")
OBS_END = pd.Timestamp("2023-07-31")


class PoissonStub:
    """A transparent 'model' whose predictions are easy to compute independently.

    Purchases of a new customer are Poisson with ``rate`` per time unit; the
    conditional expectation scales with the customer's observed rate.
    """

    def __init__(self, rate: float = 0.3) -> None:
        self.rate = rate

    def expected_purchases(self, t, data):
        return t * (data["frequency"].to_numpy() + 1.0) / (data["T"].to_numpy() + 1.0)

    def expected_purchases_new(self, t):
        return self.rate * np.asarray(t, dtype=float)

    def probability_of_purchases(self, x, t):
        return stats.poisson.pmf(x, self.rate * np.asarray(t, dtype=float))

    def probability_alive(self, data):
        return 1.0 / (1.0 + data["T"].to_numpy() - data["recency"].to_numpy()) ** (1.0 / (1.0 + data["frequency"].to_numpy()))


def _transactions(seed: int = 1, n_customers: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_customers):
        first = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 90)))
        n_rep = rng.poisson(rng.gamma(1.0, 4.0))
        days = [first] + [first + pd.Timedelta(days=int(d)) for d in rng.integers(0, 220, n_rep)]
        for d in days:
            rows.append((f"c{i:03d}", d + pd.Timedelta(hours=int(rng.integers(0, 24))), float(rng.gamma(2, 10)) + 1))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return _transactions()


@pytest.fixture(scope="module")
def cal_hold(tx) -> pd.DataFrame:
    return calibration_and_holdout(tx, calibration_end=CAL_END, observation_end=OBS_END, time_unit="W")


def test_conditional_expectations_against_direct_calculation(cal_hold):
    model = PoissonStub()
    res = conditional_expectations(model, cal_hold, max_frequency=4)
    duration = (OBS_END - CAL_END).days / 7
    actual, predicted = {}, {}
    for cid, row in cal_hold.iterrows():
        b = min(int(row["frequency"]), 4)
        actual.setdefault(b, []).append(row["frequency_holdout"])
        predicted.setdefault(b, []).append(duration * (row["frequency"] + 1) / (row["T"] + 1))
    bins = sorted(actual)
    a = np.array([np.mean(actual[b]) for b in bins])
    p = np.array([np.mean(predicted[b]) for b in bins])
    assert list(res.table.index) == [str(b) if b < 4 else "4+" for b in bins]
    np.testing.assert_allclose(res.table["actual"], a)
    np.testing.assert_allclose(res.table["predicted"], p)
    assert res.table["n_customers"].sum() == len(cal_hold)
    assert res.mae == pytest.approx(np.mean(np.abs(a - p)))
    assert res.rmse == pytest.approx(np.sqrt(np.mean((a - p) ** 2)))
    assert isinstance(res.plot(), Figure)


def test_frequency_histogram_against_direct_calculation(cal_hold):
    model = PoissonStub(rate=0.25)
    res = frequency_histogram(model, cal_hold, max_frequency=3)
    lam = 0.25 * cal_hold["T"].to_numpy()
    expected = [stats.poisson.pmf(x, lam).sum() for x in range(3)]
    expected.append(stats.poisson.sf(2, lam).sum())  # P(X >= 3), summed over customers
    actual = [np.sum(cal_hold["frequency"] == x) for x in range(3)] + [np.sum(cal_hold["frequency"] >= 3)]
    np.testing.assert_allclose(res.table["expected"], expected, rtol=1e-9)
    np.testing.assert_array_equal(res.table["actual"], actual)
    assert res.mae == pytest.approx(np.mean(np.abs(np.array(actual) - np.array(expected))))
    assert res.table["expected"].sum() == pytest.approx(len(cal_hold))
    assert isinstance(res.plot(), Figure)


def test_tracking_against_direct_calculation(tx, cal_hold):
    rate = 0.2
    res = tracking(PoissonStub(rate), tx, cal_hold)
    # independent: loop over customers and weeks
    t = tx.assign(day=tx["timestamp"].dt.normalize())
    t = t[t["day"] <= OBS_END]
    first = t.groupby("customer_id")["day"].min()
    cohort = first[first <= CAL_END]
    origin = cohort.min()
    days = t[t["customer_id"].isin(cohort.index)].drop_duplicates(["customer_id", "day"])
    repeat = days[days["day"] > days["customer_id"].map(cohort)]
    n_weeks = (OBS_END - origin).days // 7 + 1
    assert len(res.table) == n_weeks
    for j in [0, 5, n_weeks // 2, n_weeks - 1]:
        end = min(origin + pd.Timedelta(days=7 * (j + 1) - 1), OBS_END)
        start = origin + pd.Timedelta(days=7 * j)
        assert res.table["period_end"].iloc[j] == end
        assert res.table["actual"].iloc[j] == ((repeat["day"] >= start) & (repeat["day"] <= end)).sum()
        exp_cum = sum(rate * max(0.0, (end - s).days / 7) for s in cohort)
        assert res.table["expected_cumulative"].iloc[j] == pytest.approx(exp_cum)
    assert res.table["actual_cumulative"].iloc[-1] == len(repeat)
    hold = res.table[res.table["period_end"] > CAL_END]
    assert res.mae == pytest.approx(np.mean(np.abs(hold["actual"] - hold["expected"])))
    assert res.cumulative_rmse == pytest.approx(
        np.sqrt(np.mean((hold["actual_cumulative"] - hold["expected_cumulative"]) ** 2))
    )
    assert isinstance(res.plot(), Figure)


def test_tracking_rejects_mismatched_summary(tx, cal_hold):
    with pytest.raises(ValueError, match="summary"):
        tracking(PoissonStub(), tx, cal_hold.iloc[:10])


def test_p_alive_matrix_grid_and_masking():
    model = PoissonStub()
    res = p_alive_matrix(model, max_frequency=5, max_recency=12, T=10.5)
    m = res.matrix
    assert m.shape == (6, 13)
    assert m.loc[0, 0.0] == pytest.approx(1.0 / 11.5)
    assert m.loc[0, 1.0:].isna().all()  # x = 0 with recency > 0 is impossible
    assert m[[11.0, 12.0]].isna().all().all()  # recency > T
    assert m.loc[3, 4.0] == pytest.approx(1.0 / (1.0 + 10.5 - 4.0) ** 0.25)
    assert isinstance(res.plot(), Figure)


def test_bad_arguments(cal_hold):
    with pytest.raises(ValueError, match="max_frequency"):
        conditional_expectations(PoissonStub(), cal_hold, max_frequency=0)
    with pytest.raises(ValueError, match="frequency_holdout"):
        conditional_expectations(PoissonStub(), cal_hold.drop(columns="frequency_holdout"))
    with pytest.raises(ValueError, match="T must be positive"):
        p_alive_matrix(PoissonStub(), 3, 3, 0.0)


@pytest.mark.shared_data
def test_bgnbd_on_cdnow_tracks_holdout(shared_data):
    """BG/NBD on the CDNOW sample (FHL 2005): calibration 39 weeks, holdout 39 weeks.

    FHL 2005 (Figure 2) show the model tracking cumulative repeat purchases
    closely; we require the end-of-holdout cumulative error within 10% and the
    expected customer counts of Figure 1 within 25 customers per bin.
    """
    clv = pytest.importorskip("crm_analysis.clv")
    raw = pd.read_csv(
        shared_data / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
    raw["timestamp"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    ch = calibration_and_holdout(raw, calibration_end="1997-09-30", observation_end="1998-06-30")
    model = clv.BetaGeoModel().fit(ch[["frequency", "recency", "T"]])
    tr = tracking(model, raw, ch)
    assert tr.table["actual_cumulative"].iloc[-1] == ch["frequency"].sum() + ch["frequency_holdout"].sum()
    assert abs(tr.cumulative_error_pct) < 10
    fh = frequency_histogram(model, ch)
    assert (fh.table["actual"] - fh.table["expected"]).abs().max() < 25
    ce = conditional_expectations(model, ch)
    assert ce.mae < 0.5


def test_frequency_bins_take_float_whole_numbers_and_refuse_others(cal_hold):
    """A float frequency column of whole numbers (simulate_bgnbd's) is binned as the integer one (it raised a bare
    TypeError in np.bincount, report_mend14); negative or fractional frequencies are refused naming the rows."""
    model = PoissonStub(rate=0.25)
    as_int = frequency_histogram(model, cal_hold, max_frequency=3)
    as_float = frequency_histogram(model, cal_hold.assign(frequency=cal_hold["frequency"].astype(float)), max_frequency=3)
    pd.testing.assert_frame_equal(as_int.table, as_float.table)
    ce_int = conditional_expectations(model, cal_hold, max_frequency=3)
    ce_float = conditional_expectations(model, cal_hold.assign(frequency=cal_hold["frequency"].astype(float)), max_frequency=3)
    pd.testing.assert_frame_equal(ce_int.table, ce_float.table)
    for bad in (-1.0, 1.5):
        broken = cal_hold.assign(frequency=cal_hold["frequency"].astype(float))
        broken.iloc[2, broken.columns.get_loc("frequency")] = bad
        with pytest.raises(InputError, match=rf"frequency column 'frequency' has 1 (negative|non-integer) value.*rows {broken.index[2]!r}"):
            frequency_histogram(model, broken)
