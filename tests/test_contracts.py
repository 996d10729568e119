"""The hand-over contracts (crm_analysis.contracts) and their checks in RunContext.

Each contract is exercised on a frame built from its own declaration (which
must pass) and on one change per column (which must fail naming the column);
the run context is checked to refuse what the contracts refuse, on write and
on read, and to keep the time unit of the tables that carry one.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_analysis.contracts import (
    ARTEFACTS,
    CLV,
    FORECASTS,
    HEADLINES,
    RFM_SUMMARY,
    SEGMENTS,
    TABLES,
    ContractError,
    TableContract,
    TimeUnit,
    architecture_section,
    architecture_tables,
    contract,
    headline_spec,
)
from crm_analysis.data.errors import DataValidationError
from crm_analysis.runtime.context import RunContext

ROOT = Path(__file__).resolve().parents[1]

_SAMPLE = {
    "string": lambda n: pd.array([f"v{i}" for i in range(n)], dtype="string"),
    "datetime64[ns]": lambda n: pd.date_range("2024-01-01", periods=n, freq="D").as_unit("ns"),
    "float64": lambda n: np.arange(n, dtype="float64") + 0.5,
    "int64": lambda n: np.arange(n, dtype="int64"),
    "bool": lambda n: np.zeros(n, dtype=bool),
}


def conforming(c: TableContract, n: int = 3, *, optional: bool = True) -> pd.DataFrame:
    """A frame built from the contract's own declaration."""
    cols = [col for col in c.schema if optional or col.required]
    df = pd.DataFrame({col.name: _SAMPLE[col.dtype](n) for col in cols})
    if c.time_unit:
        df.attrs.update(TimeUnit.parse("W").to_attrs())
    return df


# ------------------------------------------------------------------ time unit
@given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_time_unit_of_any_positive_number_of_days(days):
    tu = TimeUnit.parse(days)
    assert tu.days == days and TimeUnit.parse(tu.value) == tu
    assert tu.code == {1.0: "D", 7.0: "W"}.get(days)
    assert TimeUnit.from_attrs(tu.to_attrs()) == tu


@pytest.mark.parametrize(("text", "days", "label"), [("D", 1.0, "days"), ("w", 7.0, "weeks"), (" W ", 7.0, "weeks")])
def test_time_unit_codes(text, days, label):
    tu = TimeUnit.parse(text)
    assert tu.days == days and tu.label == label and tu.value == text.strip().upper()


@pytest.mark.parametrize("bad", ["week", "M", 0, -7, math.inf, math.nan, True, None, [7]])
def test_time_unit_refuses(bad):
    with pytest.raises(ValueError):
        TimeUnit.parse(bad)


def test_a_lost_time_unit_is_an_error_not_weeks():
    with pytest.raises(ContractError, match="does not carry its time unit"):
        TimeUnit.from_attrs({}, what="the RFM summary")
    with pytest.raises(ContractError, match="disagree"):
        TimeUnit.from_attrs({"time_unit": "W", "unit_days": 1.0})
    assert issubclass(ContractError, DataValidationError) and issubclass(ContractError, ValueError)


# ------------------------------------------------------------------ table contracts
@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_frame_built_from_the_contract_keeps_it(name):
    c = TABLES[name]
    assert c.problems(conforming(c)) == []
    assert c.problems(conforming(c, optional=False)) == []  # optional columns may be absent


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_column_change_is_refused_by_name(name):
    c = TABLES[name]
    good = conforming(c)
    for col in c.schema:
        if col.required:
            (msg,) = c.problems(good.drop(columns=col.name))
            assert "missing required column" in msg and repr(col.name) in msg
        wrong = "int64" if col.dtype != "int64" else "float64"
        msg = "; ".join(c.problems(good.assign(**{col.name: _SAMPLE[wrong](len(good))})))
        assert f"column {col.name!r} is" in msg and f"the contract says {col.dtype}" in msg
        if not col.nullable and col.dtype != "bool":  # a bool column cannot hold a missing value
            bad = good.copy()
            bad[col.name] = bad[col.name].astype(object).where(np.arange(len(bad)) != 1, None).astype(
                bad[col.name].dtype if col.dtype != "int64" else "float64")
            msg = "; ".join(c.problems(bad))
            assert repr(col.name) in msg, msg
    extra = c.problems(good.assign(not_declared=1))
    assert (extra == []) is c.extra_columns
    reordered = good[list(reversed(good.columns))]
    assert any("order" in m for m in c.problems(reordered)) is not c.extra_columns


def test_key_and_time_unit_are_checked():
    good = conforming(CLV)
    dup = pd.concat([good, good.iloc[:1]], ignore_index=True)
    dup.attrs.update(good.attrs)
    assert any("key column 'customer_id' is not unique" in m for m in CLV.problems(dup))
    lost = good.copy()
    lost.attrs = {}
    assert any("does not carry its time unit" in m for m in CLV.problems(lost))
    with pytest.raises(ContractError, match=r"cannot write artefact clv.parquet \(written by the rfm_clv step\)"):
        CLV.validate(lost, action="write")


def test_contract_lookup():
    assert contract("clv") is contract("clv.parquet") is CLV
    assert contract("clv_params.json").step == "rfm_clv"
    with pytest.raises(KeyError, match="no contract for artefact 'clvs'"):
        contract("clvs")
    assert set(ARTEFACTS) >= {c.file for c in TABLES.values()} | {"headlines.json", "data_quality.json"}


# ------------------------------------------------------------------ the package's own tables keep them
@pytest.fixture(scope="module")
def summary():
    from crm_analysis.rfm import rfm_summary
    from crm_analysis.synthetic import generate_transactions

    tx = generate_transactions(n_customers=300, start="2023-01-01", end="2024-06-30",
                               acquisition_end="2023-06-30", seed=5).transactions
    return rfm_summary(tx, observation_end="2024-06-30", time_unit="D")


def test_rfm_summary_and_clv_table_keep_their_contracts(summary):
    from crm_analysis.clv import CLV_COLUMNS, fit_clv_models

    assert RFM_SUMMARY.problems(summary.reset_index()) == []
    table = fit_clv_models(summary, model="paretonbd").value_table(horizon=30)
    assert CLV.problems(table) == [] and list(table.columns) == CLV_COLUMNS == list(CLV.required)
    assert set(table["p_alive_model"]) == {"Pareto/NBD"}
    assert TimeUnit.from_attrs(table.attrs) == TimeUnit.parse("D")
    with_intervals = fit_clv_models(summary).value_table(horizon=30, intervals=True)
    assert CLV.problems(with_intervals) == []


def test_clv_interval_both_ends_or_neither_and_in_order(tmp_path, summary):
    """Newcomer finding G11: a clv table with clv_lower but no clv_upper kept its contract, and the order of the
    ends was not checked. Refused on write and on read, naming the columns and the number of rows."""
    from crm_analysis.clv import fit_clv_models

    table = fit_clv_models(summary).value_table(horizon=30)
    ok = table.assign(clv_lower=table["clv"] * 0.5, clv_upper=table["clv"] * 2.0)
    assert CLV.problems(ok) == []
    assert CLV.problems(ok.assign(clv_upper=ok["clv_lower"] * (1 + 1e-12))) == []  # ends equal up to rounding
    for one in ("clv_lower", "clv_upper"):
        other = "clv_upper" if one == "clv_lower" else "clv_lower"
        assert CLV.problems(ok.drop(columns=other)) == [
            f"column {one!r} without {other!r}: the CLV interval needs both ends (or neither)"]
    swapped = ok.copy()
    swapped.loc[swapped.index[:3], ["clv_lower", "clv_upper"]] = [[5.0, 1.0]] * 3
    (problem,) = CLV.problems(swapped)
    assert problem.startswith("clv_lower > clv_upper in 3 row(s)")
    negative = ok.assign(clv_lower=ok["clv_lower"] - ok["clv_lower"].max() - 1.0)
    assert CLV.problems(negative)[0].startswith(f"clv_lower < 0 in {len(ok):,} row(s)")
    # a point CLV above its interval is allowed: a prediction interval of the realised CLV need not contain the
    # expected value (a customer unlikely to buy again has clv_upper 0, clv > 0)
    assert CLV.problems(ok.assign(clv_lower=0.0, clv_upper=0.0)) == []
    ctx = RunContext(tmp_path, notebook="rfm_clv")
    with pytest.raises(ContractError, match=r"(?s)cannot write artefact clv.parquet.*'clv_lower' without 'clv_upper'"):
        ctx.write_table(ok.drop(columns="clv_upper"), "clv")
    ctx.write_table(ok, "clv")
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = ctx.path("clv")  # swap the ends in the file, keeping its metadata
    t = pq.read_table(path)
    lo, hi = t.schema.get_field_index("clv_lower"), t.schema.get_field_index("clv_upper")
    t = t.set_column(lo, "clv_lower", pc.add(t.column(hi), 1.0))
    pq.write_table(t, path)
    with pytest.raises(ContractError, match=rf"(?s)cannot read artefact clv.parquet.*clv_lower > clv_upper in {len(ok):,} row"):
        ctx.read_table("clv")


def test_clv_of_a_summary_without_time_unit_is_refused(summary):
    from crm_analysis.clv import fit_clv_models

    bare = summary.copy()
    bare.attrs = {}
    with pytest.raises(ContractError, match="the RFM summary does not carry its time unit"):
        fit_clv_models(bare).value_table()


def test_segments_keep_their_contract(summary):
    from crm_analysis.clv import fit_clv_models
    from crm_analysis.segmentation import SegmentationParams, segment_customers

    table = fit_clv_models(summary).value_table(horizon=30)
    assert SEGMENTS.problems(segment_customers(table, SegmentationParams(n_clusters=3, seed=1, cost_rate=0.0))) == []


# ------------------------------------------------------------------ RunContext
def test_run_context_keeps_the_time_unit_in_the_file(tmp_path, summary):
    ctx = RunContext(tmp_path, notebook="rfm_clv")
    ctx.write_table(summary.reset_index(), "rfm_summary")
    back = ctx.read_table("rfm_summary")
    assert TimeUnit.from_attrs(back.attrs) == TimeUnit.parse("D")
    pd.testing.assert_frame_equal(back, summary.reset_index(), check_dtype=False)


def test_run_context_refuses_a_table_that_breaks_its_contract(tmp_path, summary):
    ctx = RunContext(tmp_path, notebook="rfm_clv")
    with pytest.raises(ContractError, match=r"(?s)rfm_summary.parquet.*missing required column\(s\) \['T'\]"):
        ctx.write_table(summary.reset_index().drop(columns="T"), "rfm_summary")
    assert not ctx.has("rfm_summary")
    lost = summary.reset_index()
    lost.attrs = {}
    with pytest.raises(ContractError, match="does not carry its time unit"):
        ctx.write_table(lost, "rfm_summary")
    # a file written around the context (no metadata, no attrs): refused on read, not read as weeks
    lost.to_parquet(ctx.path("rfm_summary"), index=False)
    with pytest.raises(ContractError, match="cannot read artefact rfm_summary.parquet: its metadata does not carry"):
        ctx.read_table("rfm_summary")
    # an artefact of no contract is written as it is
    ctx.write_table(pd.DataFrame({"a": [1]}), "my_table")
    assert ctx.read_table("my_table")["a"].tolist() == [1]


def test_run_context_checks_json_records_and_headline_keys(tmp_path):
    ctx = RunContext(tmp_path, notebook="seasonality")
    ctx.headline("seasonal_strength_365", 0.5, label="Seasonal strength, period 365 days")
    ctx.headline("trend_strength", 0.1)
    assert ctx.headlines()["seasonality"]["trend_strength"]["label"] == "Trend strength of room-nights"
    with pytest.raises(ContractError, match="headline 'trend' is not declared for the seasonality notebook"):
        ctx.headline("trend", 0.1)
    RunContext(tmp_path, notebook="my_own_notebook").headline("anything", 1)  # not a step of the chain
    with pytest.raises(ContractError, match=r"clv_params.json.*missing key\(s\)"):
        ctx.write_json({"as_of": "2024-12-31"}, "clv_params")


def test_headline_specs():
    assert headline_spec("seasonality", "retail_seasonal_strength_7").key == "retail_seasonal_strength_{period}"
    assert headline_spec("seasonality", "seasonal_strength_7").key == "seasonal_strength_{period}"
    assert headline_spec("own", "x") is None
    for nb, specs in HEADLINES.items():
        keys = [s.key for s in specs]
        assert len(keys) == len(set(keys)), nb


def test_every_step_of_the_chain_declares_its_headline_keys():
    """n13 F1: the booking_horizon step's keys lived only in yield_management, so RunContext.headline took any
    key for that notebook (headline_spec answered None, as for a notebook of one's own)."""
    from crm_analysis.steps import STEPS

    assert set(STEPS) <= set(HEADLINES)
    with pytest.raises(ContractError, match="headline 'anything' is not declared for the booking_horizon notebook"):
        headline_spec("booking_horizon", "anything")
    from crm_analysis.yield_management import HORIZON_HEADLINES

    assert HORIZON_HEADLINES == {s.key: s.label for s in HEADLINES["booking_horizon"]}


# ------------------------------------------------------------------ docs/architecture.md
def test_architecture_doc_shows_the_contracts():
    """The artefact tables of docs/architecture.md are the generated ones (the assertion shows the text)."""
    from crm_analysis.steps import producers

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert architecture_section(text) == architecture_tables(producers())


def test_headline_table_shows_each_figure_as_the_index_does(tmp_path):
    """Issue 17 (n17 F3): the notebooks' headline tables showed raw values (0.1848, 162.0, 87.62 without a
    currency, a value and a label column); now each row is the label and the index's formatted value."""
    (tmp_path / "config.yaml").write_text("units: {currency: GBP}\n")
    ctx = RunContext(tmp_path, notebook="seasonality")
    ctx.headline("retail_peak_weekday_share", 0.1848, label="Share of retail revenue on Sat (open days)")
    ctx.headline("forecast_backtest_coverage", 0.968, label="Backtest coverage of the 90% forecast intervals")
    ctx.headline("forecast_backtest_mape", 7.56, label="Forecast backtest MAPE of total room-nights (%)")
    RunContext(tmp_path, notebook="yield").headline("group_break_even_rate_peak", 87.62, label="Break-even rate")
    table = ctx.headline_table()
    assert table["value"].to_dict() == {"Share of retail revenue on Sat (open days)": "18.5%",
                                        "Backtest coverage of the 90% forecast intervals": "96.8%",
                                        "Forecast backtest MAPE of total room-nights (%)": "7.6%"}
    assert RunContext(tmp_path, notebook="yield").headline_table()["value"].tolist() == ["GBP 87.62"]


def test_a_csv_export_is_column_checked_on_write(tmp_path):
    """Fourth newcomer finding H8: customer_actions.csv had two writers and the CSV hand-overs were written
    unchecked. The idic step writes its own file, checked against its contract's columns."""
    from crm_analysis.idic import CUSTOMER_ACTIONS_IDIC

    c = contract("customer_actions_idic.csv")
    assert c.step == "idic" and contract("customer_actions.csv").step == "segmentation"
    assert set(CUSTOMER_ACTIONS_IDIC.names) <= set(c.columns)
    ctx = RunContext(tmp_path)
    good = pd.DataFrame({name: [1] for name in c.columns})
    path = ctx.write_csv(good, "customer_actions_idic.csv")
    assert list(pd.read_csv(path).columns) == list(c.columns)
    with pytest.raises(ContractError, match=r"missing column\(s\) \['profit'\] in artefact customer_actions_idic.csv"):
        ctx.write_csv(good.drop(columns="profit"), "customer_actions_idic")
    ctx.write_csv(good.drop(columns="profit"), "scratch.csv")  # an undeclared export is written as it is


def _forecasts(n=4):
    return pd.DataFrame({
        "date": pd.date_range("2025-01-01", periods=n), "fare_class": pd.array(["all"] * n, dtype="string"),
        "mean": np.full(n, 10.0), "std": np.full(n, 1.0), "lower": np.full(n, 8.0), "upper": np.full(n, 12.0),
        "model": pd.array(["ets"] * n, dtype="string"), "unconstrained": np.zeros(n, bool)})


def test_the_interval_rule_is_applied_to_every_hand_over_with_an_interval(tmp_path):
    """Fourth newcomer finding H6: forecasts with lower > upper or std < 0 were accepted; the interval rule is
    declared once (IntervalRule) and used by every table with an interval."""
    from crm_analysis.contracts import CLV_INTERVAL, FORECAST_INTERVAL, IntervalRule

    assert CLV_INTERVAL in CLV.row_checks and FORECAST_INTERVAL in FORECASTS.row_checks
    # every table with a lower/upper pair of columns has an IntervalRule for it
    for c in TABLES.values():
        names = set(c.names)
        for lo in [n for n in names if n == "lower" or n.endswith("_lower")]:
            up = lo[: -len("lower")] + "upper"
            assert any(isinstance(r, IntervalRule) and (r.lower, r.upper) == (lo, up) for r in c.row_checks), c.name
    ok = _forecasts()
    assert FORECASTS.problems(ok) == []
    swapped = ok.assign(lower=[8.0, 12.0, 8.0, 8.0], upper=[12.0, 9.0, 12.0, 12.0])
    assert FORECASTS.problems(swapped) == [
        "lower > upper in 1 row(s) (e.g. date Timestamp('2025-01-02 00:00:00'): 12 > 9); the interval's ends are "
        "swapped or wrong"]
    assert FORECASTS.problems(ok.assign(std=[1.0, -1.0, -1.0, 1.0]))[0].startswith("std < 0 in 2 row(s)")
    # forecasts' ends are not nullable (a column check); the rule itself refuses one end missing in a row
    assert FORECAST_INTERVAL(ok.assign(upper=[12.0, np.nan, 12.0, 12.0]))[0].startswith(
        "lower / upper: one end missing in 1 row(s) (e.g. date Timestamp('2025-01-02")
    assert FORECAST_INTERVAL(ok.assign(lower=np.nan, upper=np.nan)) == []  # neither end: no interval
    ctx = RunContext(tmp_path, notebook="seasonality")
    with pytest.raises(ContractError, match=r"(?s)cannot write artefact forecasts.parquet.*lower > upper in 1 row"):
        ctx.write_table(swapped, "forecasts")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mean": [10.0, -1.0, 10.0, 10.0]}, "mean < 0 in 1 row(s) (e.g. date Timestamp('2025-01-02 00:00:00')): "
                                             "demand (room-nights or arrivals) cannot be negative"),
        ({"lower": [8.0, -5.0, -5.0, 8.0]}, "lower < 0 in 2 row(s)"),
        ({"lower": [8.0, -np.inf, 8.0, 8.0]}, "lower is infinite in 1 row(s)"),
        ({"upper": [12.0, 12.0, np.inf, 12.0]}, "upper is infinite in 1 row(s)"),
        ({"mean": [np.inf, 10.0, 10.0, 10.0]}, "mean is infinite in 1 row(s)"),
        ({"std": [1.0, np.inf, 1.0, 1.0]}, "std is infinite in 1 row(s)"),
        ({"lower": [-3.0] * 4, "upper": [-1.0] * 4, "mean": [-2.0] * 4}, "upper < 0 in 4 row(s)"),
    ],
)
def test_forecasts_are_finite_and_not_negative_as_the_forecaster_writes_them(tmp_path, change, message):
    """Fifth newcomer finding I7: negative or infinite forecasts (mean, lower, upper, std) were written; the
    forecaster clips demand at 0, so the contract says so (as CLV_INTERVAL's minimum 0)."""
    bad = _forecasts().assign(**change)
    assert any(p.startswith(message) for p in FORECASTS.problems(bad)), FORECASTS.problems(bad)
    with pytest.raises(ContractError, match="cannot write artefact forecasts.parquet"):
        RunContext(tmp_path, notebook="seasonality").write_table(bad, "forecasts")
    # the mean need not lie within [lower, upper] (empirical, possibly asymmetric intervals): not a problem
    assert FORECASTS.problems(_forecasts().assign(mean=[20.0, 0.0, 10.0, 10.0])) == []


def _replay():
    from crm_analysis.contracts import SYNTHETIC_REPLAY

    row = {c.name: (pd.array(["fcfs"], dtype="string") if c.dtype == "string" else
                    np.array([3], dtype="int64") if c.dtype == "int64" else np.array([1.5]))
           for c in SYNTHETIC_REPLAY.schema}
    return pd.DataFrame(row).assign(revpar_ci=[0.5])  # an extra half-width, as the producer writes them


@pytest.mark.parametrize("column", ["net_revpar_ci", "net_revpar_diff_vs_first_ci", "revpar_ci"])
@pytest.mark.parametrize(("value", "message"), [(-5.0, "< 0 in 1 row(s) (e.g. policy 'fcfs'): a half-width of an "
                                                       "interval cannot be negative"),
                                                (np.inf, "is infinite in 1 row(s) (e.g. policy 'fcfs'): a half-width "
                                                         "of an interval must be a finite number")])
def test_every_half_width_of_the_synthetic_replay_is_finite_and_not_negative(tmp_path, column, value, message):
    """Fifth newcomer finding I7: synthetic_replay.parquet with net_revpar_ci = -5 was written. Every *_ci column
    (declared or one of the producer's further half-widths) is held to >= 0 and finite; missing is allowed (one
    replication has no spread)."""
    from crm_analysis.contracts import SYNTHETIC_REPLAY

    ok = _replay()
    assert SYNTHETIC_REPLAY.problems(ok) == []
    assert SYNTHETIC_REPLAY.problems(ok.assign(**{column: np.nan})) == []
    assert SYNTHETIC_REPLAY.problems(ok.assign(**{column: value})) == [f"{column} {message}"]
    with pytest.raises(ContractError, match="cannot write artefact synthetic_replay.parquet"):
        RunContext(tmp_path, notebook="booking_horizon").write_table(ok.assign(**{column: value}), "synthetic_replay")


def test_the_policy_replays_bootstrap_interval_keeps_the_interval_rule():
    """I7's family: policy_replay.parquet carries an undeclared interval (net_revpar_low / net_revpar_high, a
    bootstrap over weeks) that no rule checked. In order and finite; missing (fewer than two weeks) and negative
    (walk costs) allowed."""
    from crm_analysis.contracts import POLICY_REPLAY

    row = {c.name: (pd.array(["fcfs", "dp"], dtype="string") if c.dtype == "string" else
                    np.array([3, 4], dtype="int64") if c.dtype == "int64" else np.array([1.5, 2.5]))
           for c in POLICY_REPLAY.schema}
    ok = pd.DataFrame(row).assign(net_revpar_low=[-2.0, np.nan], net_revpar_high=[3.0, np.nan])
    assert POLICY_REPLAY.problems(ok) == []
    assert POLICY_REPLAY.problems(ok.assign(net_revpar_low=[5.0, np.nan]))[0].startswith(
        "net_revpar_low > net_revpar_high in 1 row(s) (e.g. policy 'fcfs'")
    assert POLICY_REPLAY.problems(ok.assign(net_revpar_high=[np.inf, np.nan]))[0].startswith(
        "net_revpar_high is infinite in 1 row(s)")
    assert POLICY_REPLAY.problems(ok.drop(columns="net_revpar_high"))[0].startswith(
        "column 'net_revpar_low' without 'net_revpar_high'")


@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(0, 10)), min_size=1, max_size=20))
def test_the_minimum_flags_exactly_the_rows_below_it(pairs):
    """Property: with minimum 0, a row is reported iff its lower end, upper end or point estimate is below 0."""
    from crm_analysis.contracts import IntervalRule

    df = pd.DataFrame([(lo, lo + w, lo + w / 2) for lo, w in pairs], columns=["lo", "hi", "pt"])
    problems = IntervalRule("lo", "hi", point="pt", minimum=0.0)(df)
    n = {c: int((df[c] < -1e-9).sum()) for c in ("lo", "hi", "pt")}
    assert problems == [f"{c} < 0 in {k:,} row(s) (e.g. row {int(np.argmax(df[c].to_numpy() < -1e-9))})"
                        for c, k in n.items() if k]


@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=20))
def test_the_interval_rule_flags_exactly_the_swapped_rows(pairs):
    from crm_analysis.contracts import IntervalRule

    df = pd.DataFrame(pairs, columns=["lo", "hi"])
    rule = IntervalRule("lo", "hi")
    n = sum(lo > hi + 1e-9 * (1 + abs(hi)) for lo, hi in pairs)
    problems = rule(df)
    assert (problems != []) == (n > 0)
    if n:
        assert problems[0].startswith(f"lo > hi in {n:,} row(s)")


def test_the_segmentation_csv_exports_keep_their_declared_columns(tmp_path):
    """Fifth newcomer finding I5 (H8's rest): segment_actions.csv and customer_actions.csv declare their columns and
    export_action_table checks them on write, as RunContext.write_csv does for customer_actions_idic.csv."""
    from crm_analysis.contracts import ARTEFACTS, ContractError
    from crm_analysis.segmentation.actions import export_action_table

    for name in ("segment_actions.csv", "customer_actions.csv"):
        assert {"action", "p_alive_model"} <= set(ARTEFACTS[name].columns)
    table = pd.DataFrame({"segment": ["Champions"], "customers": [3], "share": [1.0]}).set_index("segment")
    with pytest.raises(ContractError, match=r"segment_actions.csv .*action"):
        export_action_table(table, tmp_path / "segment_actions.csv")
    assert not (tmp_path / "segment_actions.csv").exists()
    export_action_table(table, tmp_path / "my_table.csv")  # not a hand-over of the chain: written as it is
