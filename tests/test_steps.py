"""The steps of the chain (crm_analysis.steps): one parameters object and one pipeline function per step.

Checked: every step names a parameters class and a function that exist; the
parameters objects' defaults are the notebooks' parameters cells (read from the
notebooks, so the two cannot drift apart); every declared hand-over table has
exactly one producing step, the one its contract names; the parameters objects
refuse bad values naming the parameter; a notebook run on its own gets its
missing input from the same pipeline function the chain runs.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pandas as pd
import pytest

from crm_analysis.contracts import CLV, RFM_SUMMARY, TABLES
from crm_analysis.report.params import notebook_parameters
from crm_analysis.steps import STEPS, build_artefacts, producer_of, producers

ROOT = Path(__file__).resolve().parents[1]


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_step_has_its_parameters_and_function(step):
    s = STEPS[step]
    params, function = _resolve(s.params), _resolve(s.function)
    assert dataclasses.is_dataclass(params) and callable(function)
    assert (ROOT / "notebooks" / s.notebook).exists()
    params()  # the defaults are valid


@pytest.mark.parametrize("step", sorted(STEPS))
def test_every_pipeline_function_is_called_inputs_then_params(step):
    """n13 finding F6: one calling pattern, run_X(inputs..., params); every other argument is keyword-only
    (was run_segmentation(clv, **params.kwargs()) and run_idic(..., params, as_of=..., seed=...))."""
    import inspect

    s = STEPS[step]
    args = list(inspect.signature(_resolve(s.function)).parameters.values())
    positional = [a for a in args if a.kind is a.POSITIONAL_OR_KEYWORD]
    assert positional and positional[-1].name == "params", [a.name for a in args]
    assert all(a.default is a.empty for a in positional[:-1])  # the inputs: no option among them
    assert all(a.kind in (a.KEYWORD_ONLY, a.VAR_KEYWORD) for a in args[len(positional):])
    assert all(a.default is not a.empty for a in args if a.kind is a.KEYWORD_ONLY)  # nothing the step needs


@pytest.mark.parametrize("step", sorted(STEPS))
def test_parameter_defaults_are_the_notebooks(step):
    """The fields of the parameters object are the notebook's parameters, with the same defaults."""
    s = STEPS[step]
    cell = notebook_parameters(ROOT / "notebooks" / s.notebook)
    fields = {f.name: f for f in dataclasses.fields(_resolve(s.params))}
    defaults = _resolve(s.params)()
    shared = [name for name in fields if name in cell]  # a field the notebook does not set keeps its default
    assert len(shared) >= len(fields) - 1, f"{s.params} has fields the notebook does not set: {set(fields) - set(cell)}"
    for name in shared:
        notebook_default = ast.literal_eval(cell[name].default)
        # the object built from the notebook's literal equals the default object, field by field: a value the
        # object resolves (calibration_end None -> six months before as_of, a None source -> the synthetic one)
        # must be the same literal in both, so no field needs a special case (findings_13c G1)
        from_notebook = getattr(dataclasses.replace(defaults, **{name: notebook_default}), name)
        assert from_notebook == getattr(defaults, name), \
            f"{s.params}.{name} = {getattr(defaults, name)!r}, {s.notebook} has {notebook_default!r}"
        # and the field's own default is the notebook's literal (not only an equivalent of it)
        declared = next(f for f in dataclasses.fields(defaults) if f.name == name)
        own = declared.default if declared.default is not dataclasses.MISSING else declared.default_factory()
        if isinstance(own, tuple):
            own = list(own)
        assert own == notebook_default, f"{s.params}.{name} defaults to {own!r}, {s.notebook} has {notebook_default!r}"


@pytest.mark.parametrize("step", sorted(STEPS))
def test_every_notebook_parameter_is_a_field_of_the_parameters_object(step):
    """The other direction (n13 F2: the IDIC notebook's lapsed_days, lapsed_p_alive and new_customer_days
    were not fields of IdicParams, so the pre-flight could not check them and a bad value failed the notebook).
    run_dir, and seed and as_of where the pipeline function takes them itself, are the run's, not the step's."""
    s = STEPS[step]
    cell = notebook_parameters(ROOT / "notebooks" / s.notebook)
    fields = {f.name for f in dataclasses.fields(_resolve(s.params))}
    assert set(cell) - fields - {"run_dir", "seed", "as_of"} == set()


def test_every_table_has_one_producer_the_contract_names():
    for name, c in TABLES.items():
        assert producer_of(name).name == c.step, name
        assert producer_of(c.file) is producer_of(name)
    assert set(producers()) == set(STEPS)
    with pytest.raises(KeyError, match="no step of the chain writes 'clvs'"):
        producer_of("clvs")


def test_every_hand_over_file_has_exactly_one_producer_the_contract_names():
    """Second newcomer finding G9: producer_of answered for Parquet tables only and said that no step
    writes clv_params.json, data_quality.json, segment_actions.csv, customer_actions.csv, headlines.json."""
    from crm_analysis.contracts import ARTEFACTS, architecture_section
    from crm_analysis.steps import HEADLINES_WRITER

    writers = (*STEPS.values(), HEADLINES_WRITER)
    written = [f for s in writers for f in s.artefacts]
    assert sorted(written) == sorted(ARTEFACTS)  # every file once, nothing that is not declared
    doc = architecture_section((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    for file, c in ARTEFACTS.items():
        step = producer_of(file)
        assert step.name == c.step, file
        row = next(line for line in doc.splitlines() if line.startswith(f"| {file} |"))
        writer = "every notebook" if step is HEADLINES_WRITER else f"{step.name} (`{step.function}`)"
        assert row.split(" | ")[1] == writer, row  # the generated table in docs/architecture.md agrees
    assert producer_of("clv_params.json") is STEPS["rfm_clv"]
    assert producer_of("customer_actions.csv") is STEPS["segmentation"]
    assert producer_of("customer_actions_idic.csv") is STEPS["idic"]
    assert producer_of("headlines.json") is HEADLINES_WRITER
    with pytest.raises(KeyError, match="clv_params.json"):  # the message lists what the steps write
        producer_of("clv_param.json")
    with pytest.raises(KeyError, match="is not a Parquet table"):
        build_artefacts("clv_params.json", None)


@pytest.mark.parametrize(
    ("cls", "changes", "message"),
    [
        ("crm_analysis.clv.RfmClvParams", {"calibration_end": "2024-12-31"},
         "calibration_end 2024-12-31 must be before as_of 2024-12-31"),
        ("crm_analysis.clv.RfmClvParams", {"calibration_end": "30/06/2024"}, "calibration_end"),
        ("crm_analysis.clv.RfmClvParams", {"time_unit": "weeks"}, "time_unit must be the text 'D' or 'W', got 'weeks'"),
        ("crm_analysis.clv.RfmClvParams", {"purchase_model": "paretonbd", "fit_paretonbd": False},
         "is not among the candidate models"),
        ("crm_analysis.clv.RfmClvParams", {"selection_criterion": "rmse"}, "unknown criterion 'rmse'"),
        ("crm_analysis.clv.RfmClvParams", {"margin": float("nan")}, "margin must be a finite number"),
        ("crm_analysis.segmentation.SegmentationParams", {"bins": 1}, "bins must be an integer of at least 2"),
        ("crm_analysis.segmentation.SegmentationParams", {"lapsed_p_alive": 2.0}, "lapsed_p_alive"),
        ("crm_analysis.seasonality.SeasonalityParams", {"calendar": {"country": "XX"}}, "unknown country 'XX'"),
        ("crm_analysis.yield_management.YieldParams", {"group_arrival_peak": "2025-02-30"}, "group_arrival_peak"),
        ("crm_analysis.yield_management.YieldParams", {"service_level": 1.5}, "service_level must be a probability"),
        ("crm_analysis.yield_management.YieldParams", {"group_nights": 0}, "group_nights must be a positive integer"),
        ("crm_analysis.yield_management.YieldParams", {"material_uplift_pct": -0.5}, "material_uplift_pct must be"),
        ("crm_analysis.yield_management.YieldParams", {"material_uplift_pct": float("nan")}, "material_uplift_pct"),
        ("crm_analysis.clv.RfmClvParams", {"p_alive_near_one": 90}, "p_alive_near_one must be a probability"),
        ("crm_analysis.clv.RfmClvParams", {"p_alive_near_one": 1.0}, "got 1.0"),
        ("crm_analysis.seasonality.SeasonalityParams", {"mix_top": 0}, "mix_top must be a positive integer"),
        ("crm_analysis.seasonality.SeasonalityParams", {"mix_top": 2.5}, "got 2.5"),
        ("crm_analysis.data.DataQualityParams", {"as_of": "31/12/2024"}, "as_of"),
    ],
)
def test_parameters_refuse_bad_values_naming_them(cls, changes, message):
    with pytest.raises(ValueError, match=None) as err:
        _resolve(cls)(**changes)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tx_fill": "none"}, "tx_fill='none' is not one of"),
        ({"tx_fill": "closed", "closed_weekdays": ["Sundayy"]}, "closed_weekdays[0]"),
        ({"tx_fill": "closed", "closed_dates": ["25/12/2024"]}, "closed_dates[0]"),
    ],
)
def test_the_shops_calendar_values_are_checked_by_the_parameters(changes, message):
    """A value no data set can mean (an unknown fill, a weekday typo, a date that is not ISO) is refused when the
    parameters are built (issue #13 pt 2: every field checked in __post_init__, G2)."""
    from crm_analysis.seasonality import SeasonalityParams

    with pytest.raises(ValueError) as err:
        SeasonalityParams(**changes)
    assert message in str(err.value)


def test_closed_days_with_tx_fill_zero_are_refused_where_the_purchase_series_is_built():
    """A data set without transactions never builds the series, so closed days it would ignore do not stop its run."""
    from crm_analysis.seasonality import SeasonalityParams

    params = SeasonalityParams(closed_weekdays=["Sunday"])
    with pytest.raises(ValueError) as err:
        params.retail_series_options("2024-01-01")
    assert "closed_weekdays are set but tx_fill is 'zero'" in str(err.value)


def test_calibration_end_defaults_to_six_months_before_as_of():
    from crm_analysis.clv import RfmClvParams

    assert RfmClvParams().calibration_end == "2024-06-30"
    assert RfmClvParams(as_of="2024-03-31").calibration_end == "2023-09-30"


@pytest.mark.slow
def test_a_notebook_on_its_own_gets_its_input_from_the_chains_function(tmp_path):
    """RunContext's stand-alone input = the rfm_clv step's run_rfm_clv with the notebook's defaults."""
    from crm_analysis.clv import RfmClvParams, run_rfm_clv
    from crm_analysis.runtime.context import RunContext
    from crm_analysis.data import DataQualityParams, run_data_quality

    ctx = RunContext(None, seed=3, notebook="segmentation")
    clv = ctx.read_table("clv")
    assert ctx.has("rfm_summary")  # built with it, by the same run
    assert CLV.problems(clv) == [] and RFM_SUMMARY.problems(ctx.read_table("rfm_summary")) == []
    assert any("run_rfm_clv" in line for line in ctx.log)
    assert ctx.has("returns") and ctx.has("bookings")  # the data step's other tables, from the same run
    cleaned = run_data_quality(DataQualityParams(seed=3)).transactions  # the default data, cleaned as in the chain
    expected = run_rfm_clv(cleaned, RfmClvParams(seed=3)).clv
    pd.testing.assert_frame_equal(clv, expected, check_dtype=False)


def test_stand_alone_builder_for_an_unknown_artefact():
    with pytest.raises(KeyError, match="no step of the chain writes 'nothing'"):
        build_artefacts("nothing", None)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the rfm_clv step's result
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60))
def test_top_share_is_the_share_of_the_largest_fifth(values):
    from crm_analysis.clv.step import top_share

    share = top_share(values)
    total = sum(values)
    if total == 0:
        assert share != share  # NaN: no total to share
        return
    n_top = max(1, round(0.2 * len(values)))
    expected = sum(sorted(values, reverse=True)[:n_top]) / total
    assert abs(share - expected) <= 1e-12 * max(1.0, expected) and 0.0 <= share <= 1.0 + 1e-12


@pytest.fixture(scope="module")
def rfm_clv_result():
    from crm_analysis.clv import RfmClvParams, run_rfm_clv
    from crm_analysis.synthetic import generate_transactions

    tx = generate_transactions(n_customers=400, start="2023-01-01", end="2024-12-31",
                               acquisition_end="2023-12-31", seed=11).transactions
    return run_rfm_clv(tx, RfmClvParams(fit_paretonbd=False, horizon=26))


def test_run_rfm_clv_hands_over_what_the_contracts_declare(rfm_clv_result):
    from crm_analysis.contracts import contract, headline_spec

    r = rfm_clv_result
    assert CLV.problems(r.clv) == [] and RFM_SUMMARY.problems(r.rfm_summary_table) == []
    contract("clv_params.json").validate(r.clv_params())
    labels = r.headline_labels()
    for key in r.headlines():
        assert headline_spec("rfm_clv", key) is not None and "{" not in labels[key]
    assert "next 26 weeks" in labels["total_clv"]
    # the CLV's assumptions are said in the report (findings_12c B2: 30% margin and 10% discount never shown)
    assert r.clv_basis_text() == ("CLV here: 30% margin on the expected spend, discounted at 10% a year, "
                                  "over the next 26 weeks.")


def test_run_rfm_clv_figures_from_their_definitions(rfm_clv_result):
    """Dropout a/(a+b) of the fitted BG/NBD (Fader, Hardie & Lee 2005), totals and P(alive) recomputed here."""
    import numpy as np

    r = rfm_clv_result
    a, b = r.whole["bgnbd"].params_[["a", "b"]]
    heads = r.headlines()
    assert heads["bgnbd_dropout_probability"] == pytest.approx(a / (a + b), rel=1e-12)
    assert heads["total_clv"] == pytest.approx(float(np.sum(r.clv["clv"])), rel=1e-12)
    assert heads["customers"] == len(r.summary) == r.clv["customer_id"].nunique()
    assert heads["mean_p_alive"] == pytest.approx(float(r.p_alive[r.analysis.model_label].mean()), rel=1e-12)
    assert set(r.p_alive) == {r.comparison.label(n) for n in r.whole}
    assert r.p_alive_uninformative is (heads["bgnbd_dropout_probability"] < r.params.p_alive_info_threshold)
    # the "near 1" share of the P(alive) text (n13 finding F9): counted here from the per-customer values
    for label, values in r.p_alive.items():
        near = sum(v > r.params.p_alive_near_one for v in values) / len(values)
        assert r.p_alive_near_one_share(label) == pytest.approx(near, abs=1e-12)
    with pytest.raises(ValueError, match="model='BGNBD' has no P\\(alive\\) in this result; use one of"):
        r.p_alive_near_one_share("BGNBD")


def test_run_rfm_clv_keeps_the_whole_period_warnings_as_notes(rfm_clv_result):
    """Newcomer finding 3: the whole-period refit's warnings never reached the report (the notebook dropped the
    notes of fit_purchase_models). Every typed warning of every refit is a note of the result, in clv_params.json
    and (through whole_notes) in the report."""
    r = rfm_clv_result
    expected = [(r.comparison.label(n), w) for n, m in r.whole.items() for w in m.fit_warnings_]
    got = list(r.whole_notes.itertuples(index=False, name=None))
    assert all(e in got for e in expected)
    assert r.clv_params()["whole_period"]["notes"] == [f"{m}: {t}" for m, t in got]


def test_run_rfm_clv_notes_an_identification_warning_of_the_refit():
    """A whole period whose refits warn (40 customers: a and b not identified; since issue #12 pt 1 they are seen to run
    along the common-dropout ridge and the limit is fitted, a BoundaryWarning): the notes are there, with their type."""
    import warnings

    from crm_analysis.clv import RfmClvParams, run_rfm_clv
    from crm_analysis.synthetic import generate_transactions

    tx = generate_transactions(n_customers=40, start="2023-01-01", end="2024-12-31",
                               acquisition_end="2023-12-31", seed=1).transactions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_rfm_clv(tx, RfmClvParams(fit_paretonbd=False, horizon=26))
    warned = {r.comparison.label(n): m.fit_warnings_ for n, m in r.whole.items() if m.fit_warnings_}
    assert any(t.startswith("IdentificationWarning") or (t.startswith("BoundaryWarning") and "common dropout" in t)
               for texts in warned.values() for t in texts)
    for label, texts in warned.items():
        notes = r.whole_notes.loc[r.whole_notes["model"] == label, "note"].tolist()
        assert all(t in notes for t in texts)
    # findings_12z (index.html): one name for the model whose numbers are shown, with its limit; at a limit its own
    # dropout parameter by name, never "a/(a+b)" of a = b = inf
    labels, heads, bg = r.headline_labels(), r.headlines(), r.whole["bgnbd"]
    assert heads["purchase_model"] == r.analysis.p_alive_label and r.analysis.p_alive_label in labels["mean_p_alive"]
    assert bg.boundary_kind() == "common_dropout" and r.analysis.p_alive_label.endswith("at its common-dropout limit")
    for text in (labels["bgnbd_dropout_probability"], r.dropout_text("whole_period")):
        assert "a/(a+b)" not in text and "p of its common-dropout limit" in text
    assert heads["bgnbd_dropout_probability"] == bg.limit_model_.params_["p"]


@pytest.mark.parametrize(("uplift_pct", "threshold", "little"),
                         [(0.49, 0.5, True), (0.5, 0.5, False), (3.0, 0.5, False), (3.0, 5.0, True),
                          (-1.0, 0.0, True), (float("nan"), 0.5, False)])
def test_capacity_control_adds_little_below_the_material_uplift(uplift_pct, threshold, little):
    """n13 finding F9: notebook 40's "capacity control adds little" is YieldResult.control_adds_little, at the
    parameter material_uplift_pct (default 0.5, the notebook's former literal); a missing uplift claims nothing."""
    from types import SimpleNamespace

    from crm_analysis.yield_management import YieldParams
    from crm_analysis.yield_management.step import YieldResult

    assert YieldParams().material_uplift_pct == 0.5
    stub = SimpleNamespace(year=pd.Series({"DP_uplift_pct": uplift_pct}),
                           params=YieldParams(material_uplift_pct=threshold))
    assert YieldResult.control_adds_little.fget(stub) is little


def test_the_seasonality_step_needs_bookings_or_transactions():
    """n13 finding F8: the notebook raised a bare ValueError; the check is the step's, an InputError naming the fix."""
    from crm_analysis.exceptions import InputError
    from crm_analysis.seasonality import SeasonalityParams

    with pytest.raises(InputError, match="needs transactions or bookings.*configure data.transactions or "
                                         "data.bookings"):
        SeasonalityParams.check_inputs(None, None)
    one = pd.DataFrame({"amount": [1.0]})
    SeasonalityParams().check_inputs(one, None)
    SeasonalityParams().check_inputs(None, one)
