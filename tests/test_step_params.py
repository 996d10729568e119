"""Every field of every step's parameters object is checked when the object is built (issue #13 pt 2, G2).

The pre-flight of the report chain builds these objects from the configured
values (``crm_analysis.report.preflight._params_problem``), so whatever a
parameters object accepts the pre-flight accepts. These tests walk
``dataclasses.fields()`` of every class of ``crm_analysis.steps.STEPS``, so a
field added later is covered without editing them: each field is given a
value of the wrong type and, for numbers, values out of any sensible range,
and the object must raise ``InputError`` naming the field. ``ALLOW`` lists the
fields (and the kinds of value) a test cannot refuse there, each with its
reason.
"""

from __future__ import annotations

import dataclasses
import importlib
import typing

import pytest

from crm_analysis.exceptions import InputError
from crm_analysis.steps import STEPS


def _cls(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


CLASSES = {step: _cls(s.params) for step, s in sorted(STEPS.items())}


class _Alien:
    """A value of no type any parameter takes."""

    def __repr__(self) -> str:
        return "<alien>"


#: (class name, field, kind of bad value) -> why a value of that kind is valid there.
ALLOW: dict[tuple[str, str, str], str] = {
    # column names depend on the data: any text is a possible column; the step checks them against the
    # data where it reads them (run_demand_forecast, mix_column) and the pre-flight where the columns are known
    ("SeasonalityParams", "forecast_by", "text"): "a column name: checked against the bookings' columns",
    ("SeasonalityParams", "mix_by", "text"): "a column name: checked against the transactions' columns",
}


def _is_number(cls: type, name: str) -> bool:
    hint = typing.get_type_hints(cls)[name]
    args = set(typing.get_args(hint)) or {hint}
    return bool(args & {int, float}) and bool not in args


def _is_text(cls: type, name: str) -> bool:
    hint = typing.get_type_hints(cls)[name]
    return str in (set(typing.get_args(hint)) or {hint})


def _cases():
    for step, cls in CLASSES.items():
        for f in dataclasses.fields(cls):
            yield pytest.param(cls, f.name, _Alien(), "type", id=f"{cls.__name__}.{f.name}-alien")
            if not _is_text(cls, f.name):
                yield pytest.param(cls, f.name, "bogus", "text", id=f"{cls.__name__}.{f.name}-text")
            if _is_number(cls, f.name):
                for bad in (-1, -1.5, float("nan"), float("inf"), True):
                    yield pytest.param(cls, f.name, bad, "range", id=f"{cls.__name__}.{f.name}-{bad!r}")


@pytest.mark.parametrize(("cls", "name", "value", "kind"), list(_cases()))
def test_every_field_refuses_a_bad_value_naming_it(cls, name, value, kind):
    if (cls.__name__, name, kind) in ALLOW:
        pytest.skip(ALLOW[(cls.__name__, name, kind)])
    with pytest.raises(InputError) as err:
        cls(**{name: value})
    assert name in str(err.value), str(err.value)


def test_the_allow_list_names_real_fields():
    names = {(cls.__name__, f.name) for cls in CLASSES.values() for f in dataclasses.fields(cls)}
    assert {(c, f) for c, f, _ in ALLOW} <= names


@pytest.mark.parametrize("cls", list(CLASSES.values()), ids=lambda c: c.__name__)
def test_the_defaults_are_accepted_and_kept(cls):
    a, b = cls(), cls(**{f.name: getattr(cls(), f.name) for f in dataclasses.fields(cls)})
    assert a == b


@pytest.mark.parametrize(
    ("cls", "changes", "message"),
    [
        # the newcomer's list (findings_13c G2, G7): each was accepted and then refused by the run or misread
        ("RfmClvParams", {"horizon": 0}, "horizon must be a number > 0"),
        ("RfmClvParams", {"horizon": -1}, "horizon must be a number > 0"),
        ("RfmClvParams", {"p_alive_info_threshold": 5}, "p_alive_info_threshold must be a probability"),
        ("SeasonalityParams", {"horizon_days": -1}, "horizon_days must be a whole number >= 1"),
        ("SeasonalityParams", {"horizon_days": "bogus"}, "horizon_days must be a whole number >= 1"),
        ("SeasonalityParams", {"backtest_days": -5}, "backtest_days must be a whole number >= 0"),
        ("SeasonalityParams", {"capacity": -3}, "capacity must be a whole number >= 1"),
        ("SeasonalityParams", {"periods": [-1]}, "periods[0] must be a whole number >= 2"),
        ("SeasonalityParams", {"robust": "bogus"}, "robust must be true or false"),
        ("HorizonParams", {"cancel_max_iter": "bogus"}, "cancel_max_iter must be a whole number >= 1"),
        ("HorizonParams", {"cancel_max_iter": -1}, "cancel_max_iter must be a whole number >= 1"),
        ("HorizonParams", {"ts_baseline_origins": -3}, "ts_baseline_origins must be a whole number >= 0"),
        ("HorizonParams", {"group_days_before": -1}, "group_days_before must be a whole number >= 0"),
        # cross-field rules
        ("HorizonParams", {"cutoff": "2025-01-01"}, "cutoff 2025-01-01 must be before as_of 2024-12-31"),
        ("HorizonParams", {"group_days_before": 400}, "group_days_before"),
        ("RfmClvParams", {"calibration_end": "2025-01-31"}, "must be before as_of"),
        # findings_13d H3: numbers were accepted here and refused by run_rfm_clv (3, 0.5, 14) or by the
        # pre-flight's type check (1, 7): the text 'D' / 'W' only, the fix named where there is one
        ("RfmClvParams", {"time_unit": 3}, "time_unit must be the text 'D' or 'W', got 3"),
        ("RfmClvParams", {"time_unit": 0.5}, "time_unit must be the text 'D' or 'W', got 0.5"),
        ("RfmClvParams", {"time_unit": 14}, "time_unit must be the text 'D' or 'W', got 14"),
        ("RfmClvParams", {"time_unit": 7}, "got 7; the chain's RFM summary and CLV need 'D' (days) or 'W' (weeks): "
                                           "write 'W'"),
        ("RfmClvParams", {"time_unit": 1.0}, "write 'D'"),
        # findings_13d H15: the data step kept purchases after as_of that the CLV step then left out silently
        ("DataQualityParams", {"as_of": "2024-06-30", "transactions_policy": {"observation_end": "2024-12-31"}},
         "transactions_policy observation_end = 2024-12-31 is after as_of = 2024-06-30"),
        ("DataQualityParams", {"as_of": "2024-06-30", "transactions_policy": {"observation_end": "2024-07-01"}},
         "leave observation_end out (it is as_of) or set it on or before as_of"),
    ],
)
def test_the_reported_values_are_refused(cls, changes, message):
    klass = next(c for c in CLASSES.values() if c.__name__ == cls)
    with pytest.raises(InputError) as err:
        klass(**changes)
    assert message in str(err.value)


def test_a_value_the_estimator_refuses_is_refused_by_the_parameters_with_the_same_words():
    """One check, shared (crm_analysis._validate): the forecaster's and the parameters' messages agree."""
    from crm_analysis.seasonality import DemandForecaster, SeasonalityParams

    with pytest.raises(InputError) as by_params:
        SeasonalityParams(backtest_days=-5)
    with pytest.raises(InputError) as by_estimator:
        DemandForecaster(backtest_days=-5)._check()
    assert str(by_estimator.value) in str(by_params.value)
    assert SeasonalityParams(backtest_days=0).forecaster().backtest_days == 0  # 0 (no backtest) is allowed by both


def test_numbers_from_numpy_and_integral_floats_are_taken():
    """A YAML or numpy value that is a whole number is one: 90.0 days and numpy.int64(90) are 90."""
    import numpy as np

    from crm_analysis.seasonality import SeasonalityParams
    from crm_analysis.yield_management import HorizonParams

    assert SeasonalityParams(horizon_days=np.int64(90), periods=[7.0, 365]).periods == (7, 365)
    assert HorizonParams(pickup_days=np.array([30, 7]), group_days_before=90.0).pickup_days == (30, 7)


@pytest.mark.parametrize("end", ["2024-06-30", "2024-06-30 23:00", "2024-01-31"])
def test_an_observation_end_on_or_before_as_of_is_taken(end):
    """The boundary of H15: as_of itself (a day stands for its whole day) and earlier ends are valid."""
    cls = next(c for c in CLASSES.values() if c.__name__ == "DataQualityParams")
    assert cls(as_of="2024-06-30", transactions_policy={"observation_end": end}).transaction_cleaning.observation_end


@pytest.mark.parametrize("unit", ["D", "W", "w", " d "])
def test_the_text_units_the_run_takes_are_taken(unit):
    cls = next(c for c in CLASSES.values() if c.__name__ == "RfmClvParams")
    assert cls(time_unit=unit).time_unit == unit
