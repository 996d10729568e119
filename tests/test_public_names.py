"""Consistent public names (issue #13 pt 9): options are keyword-only after the data arguments, and ``seed``
(not ``random_state``) is the one name of the seed.

The scan reads the signatures of every function and estimator in a public ``__all__``; result and
parameter dataclasses are left out (built by name).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import crm_analysis
import crm_analysis.seasonality

#: Modules left out: none but the engines behind rfm_summary (private).
SKIPPED = ("crm_analysis.rfm._",)

#: Parameters with a default that stay positional, with the reason.
POSITIONAL = {
    ("crm_analysis.data.engine", "connect"): {"database"},  # the data argument (None: in memory)
    ("crm_analysis.data.sql", "resolve_url"): {"url"},  # the data argument
    ("crm_analysis.data.step", "run_data_quality"): {"params"},  # the step's parameters object
    ("crm_analysis.clv.step", "run_rfm_clv"): {"params"},
    ("crm_analysis.idic.pipeline", "run_idic"): {"params"},
    ("crm_analysis.segmentation.pipeline", "run_segmentation"): {"params"},
    ("crm_analysis.segmentation.pipeline", "segment_customers"): {"params"},
    ("crm_analysis.seasonality.step", "run_demand_forecast"): {"params"},
    ("crm_analysis.seasonality.step", "run_retail_forecast"): {"params"},
    ("crm_analysis.yield_management.step", "run_yield"): {"params"},
    ("crm_analysis.runtime.context", "RunContext"): {"run_dir"},  # the data argument (None: a temporary folder)
    ("crm_analysis.runtime.html_safe", "styled"): {"fmt"},  # the formats, as pandas' Styler.format(formatter)
    ("crm_analysis.synthetic.hotel", "generate_bookings"): {"config"},  # the hotel simulated
    ("crm_analysis.synthetic.hotel", "request_stream"): {"config"},
    ("crm_analysis.yield_management.capacity", "littlewood"): {"std"},  # the demand: mean and std
    ("crm_analysis.yield_management.shows", "poisson_binomial_pmf"): {"units"},  # paired with the probabilities
    ("crm_analysis.yield_management.shows", "shows_pmf"): {"units"},
    ("crm_analysis.profitability.whale", "whale_curve"): {"ids"},  # paired with the profits
    ("crm_analysis.contracts", "architecture_tables"): {"producers"},  # the data argument
    ("crm_analysis.report.config", "load_config"): {"path"},  # the data argument (None: the default config)
    ("crm_analysis.report.browser", "find_chromium"): {"path"},  # the data argument (None: search the PATH)
    ("crm_analysis.report.browser", "main"): {"argv"},  # the data argument (None: sys.argv), as argparse
    ("crm_analysis.report.cli", "main"): {"argv"},
    ("crm_analysis.data.errors", "duckdb_value_errors"): {"what"},  # its one argument: what is read
    ("crm_analysis.presentation.tables", "Table"): {"raw"},  # a result object
}


def _public_callables():
    for info in pkgutil.walk_packages(crm_analysis.__path__, "crm_analysis."):
        if info.name.startswith(SKIPPED) or any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if inspect.isfunction(obj) and obj.__module__ == module.__name__:
                yield module.__name__, name, obj
            elif inspect.isclass(obj) and obj.__module__ == module.__name__ and "__init__" in vars(obj):
                if dataclasses.is_dataclass(obj) and not hasattr(obj, "fit") and name != "RunContext":
                    continue  # results and parameters: built by name
                yield module.__name__, name, obj


#: Methods' parameters with a default that stay positional: the conventions of scikit-learn and matplotlib
#: (issue #13 pt 9 covers public methods too; second newcomer finding G3). ``{method name: (parameters, reason)}``;
#: a convention applies only where the parameter is the method's first after the data arguments.
METHOD_CONVENTIONS = {
    "fit": ({"y"}, "scikit-learn: fit(X, y=None)"),
    "fit_predict": ({"y"}, "scikit-learn: fit_predict(X, y=None)"),
    "get_params": ({"deep"}, "scikit-learn: get_params(deep=True)"),
    "plot": ({"ax", "axes"}, "matplotlib: the axes to draw on, plot(ax)"),
    "plot_profiles": ({"ax"}, "matplotlib: the axes to draw on"),
}


class _WithSelf:
    """A staticmethod seen as a method: its signature with a dummy first parameter, so the scan's ``[1:]`` holds."""

    def __init__(self, fn):
        self.fn = fn
        params = list(inspect.signature(fn).parameters.values())
        self.__signature__ = inspect.Signature(
            [inspect.Parameter("_", inspect.Parameter.POSITIONAL_ONLY)] + params)

    def __call__(self, *args, **kwargs):  # pragma: no cover - only its signature is read
        return self.fn(*args[1:], **kwargs)


def _public_methods():
    """``(module, "Class.method", function)`` of every public method defined on a public class."""
    seen = set()
    for info in pkgutil.walk_packages(crm_analysis.__path__, "crm_analysis."):
        if info.name.startswith(SKIPPED) or any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            cls = getattr(module, name, None)
            if not inspect.isclass(cls) or not cls.__module__.startswith("crm_analysis") or id(cls) in seen:
                continue
            seen.add(id(cls))
            for mname in dir(cls):  # the whole interface: inherited (also from private bases), static, class
                if mname.startswith("_"):
                    continue
                raw = inspect.getattr_static(cls, mname)
                if isinstance(raw, (staticmethod, classmethod)):
                    fn = raw.__func__
                    if isinstance(raw, classmethod):  # cls stands where self does
                        yield cls.__module__, f"{cls.__name__}.{mname}", fn
                        continue
                    yield cls.__module__, f"{cls.__name__}.{mname}", _WithSelf(fn)
                elif inspect.isfunction(raw) and raw.__module__.startswith("crm_analysis"):
                    yield cls.__module__, f"{cls.__name__}.{mname}", raw


#: Methods' data arguments that have a default (``None``: the object's own data), with the reason.
METHOD_DATA = {
    "CampaignAnalysis.targeting": {"table"},  # the customers to score (None: the campaign's own table)
    "SegmentSummary.export_action_table": {"segments"},  # the per-customer table written beside the summary
    # the customers to recommend for (None: every customer seen in fit), on the recommenders' private base
    "AssociationRuleRecommender.recommend": {"customers"},
    "ItemSimilarityRecommender.recommend": {"customers"},
    "PopularityRecommender.recommend": {"customers"},
}


def _allowed_positional(method: str, params: list) -> set:
    names, _ = METHOD_CONVENTIONS.get(method.rpartition(".")[2], (set(), ""))
    options = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty]
    data = METHOD_DATA.get(method, set())
    options = [p for p in options if p.name not in data]
    return data | ({options[0].name} & names if options else set())


def test_methods_take_options_keyword_only():
    """Public methods of public classes (results, estimators, the run context): options after a *, except the
    conventions of METHOD_CONVENTIONS (was: ProfitTable.top_returners(n, min_orders), RunContext.read_table(name,
    default), DemandForecaster.fit(history, as_of), *.sample(n, T, seed), ... could be given positionally)."""
    found = []
    for module, name, fn in _public_methods():
        params = list(inspect.signature(fn).parameters.values())[1:]  # without self
        positional = {p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty}
        extra = positional - _allowed_positional(name, params)
        if extra:
            found.append(f"{module}.{name}: {sorted(extra)}")
    assert found == [], "methods whose options can be given positionally (put them after a *): " + "; ".join(found)


def test_the_method_scan_reaches_the_estimators_and_results():
    scanned = {name for _, name, _ in _public_methods()}
    assert {"DemandForecaster.fit", "BehaviouralClustering.fit", "RunContext.read_table", "BetaGeoModel.sample",
            "ProfitTable.top_returners", "CampaignAnalysis.targeting", "BookingCurves.frame"} <= scanned
    # inherited from a private base, a classmethod, a staticmethod (fourth newcomer finding H4)
    assert {"PopularityRecommender.recommend", "BetaGeoCovariateModel.coefficients",
            "RfmClvParams.check_purchase_model", "RfmClvParams.check_covariates", "TimeUnit.from_attrs"} <= scanned
    params = list(inspect.signature(crm_analysis.seasonality.DemandForecaster.fit).parameters.values())[1:]
    assert _allowed_positional("DemandForecaster.fit", params) == set()  # as_of is not fit's y


def test_options_are_keyword_only_after_the_data_arguments():
    found = []
    for module, name, obj in _public_callables():
        params = inspect.signature(obj).parameters.values()
        positional = {p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty}
        extra = positional - POSITIONAL.get((module, name), set())
        if extra:
            found.append(f"{module}.{name}: {sorted(extra)}")
    assert found == [], "options that can be given positionally (put them after a *): " + "; ".join(found)


def test_seed_is_the_one_name_of_the_seed():
    """random_state stays only as a deprecated alias next to seed."""
    found = []
    for module, name, obj in _public_callables():
        params = inspect.signature(obj).parameters
        if "random_state" in params and "seed" not in params:
            found.append(f"{module}.{name}")
    assert found == []


@pytest.mark.parametrize("dotted", ["crm_analysis.segmentation.BehaviouralClustering",
                                    "crm_analysis.campaigns.TwoModelUplift",
                                    "crm_analysis.campaigns.ClassTransformationUplift"])
def test_the_estimators_with_a_seed_clone(dotted):
    from sklearn.base import clone

    module, _, name = dotted.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    model = cls(seed=5)
    assert clone(model).get_params() == model.get_params() and model.get_params()["seed"] == 5


def test_the_scan_covers_the_report_chain_the_models_and_the_forecaster():
    """The report chain, the CLV models and the forecaster are scanned (issue #13 pt 9): a function or
    estimator there with a positional option would fail."""
    scanned = {(module, name) for module, name, _ in _public_callables()}
    assert {("crm_analysis.report.runner", "run_chain"), ("crm_analysis.report.render", "notebook_to_html"),
            ("crm_analysis.report.publish", "prune_runs"), ("crm_analysis.clv.beta_geo", "BetaGeoModel"),
            ("crm_analysis.clv.selection", "compare_models"), ("crm_analysis.seasonality.forecaster", "DemandForecaster"),
            ("crm_analysis.seasonality.series", "booking_series")} <= scanned


def test_parameters_objects_are_built_by_name_only():
    """A step's parameters object takes no positional field (fourth newcomer finding H4: a swapped positional
    margin / discount_rate was taken silently)."""
    from crm_analysis.clv import RfmClvParams

    with pytest.raises(TypeError, match="positional"):
        RfmClvParams("2024-12-31", None, "W", 52, 0.1, 0.3)
    found = []
    for module, name, obj in _all_dataclasses():
        if name.endswith("Params") and any(not f.kw_only for f in dataclasses.fields(obj) if f.init):
            found.append(f"{module}.{name}")
    assert found == [], "parameters objects with positional fields (use @dataclass(kw_only=True)): " + ", ".join(found)
    assert len([n for _, n, _ in _all_dataclasses() if n.endswith("Params")]) >= 7


def _all_dataclasses():
    for info in pkgutil.walk_packages(crm_analysis.__path__, "crm_analysis."):
        if info.name.startswith(SKIPPED) or any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if dataclasses.is_dataclass(obj) and inspect.isclass(obj) and obj.__module__ == module.__name__:
                yield module.__name__, name, obj
