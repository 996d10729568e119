"""One exception hierarchy (issue #13, point 6).

Every exception class the package defines derives from
:class:`crm_analysis.exceptions.CRMAnalysisError` and every warning class from
:class:`crm_analysis.exceptions.CRMAnalysisWarning`, so ``except
CRMAnalysisError`` catches whatever the package raises on purpose; value errors
stay ``ValueError`` (existing handlers keep working). The package's source is
also scanned for bare built-in raises, which would escape the hierarchy.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pandas as pd
import pytest

import crm_analysis
from crm_analysis.exceptions import CRMAnalysisError, CRMAnalysisWarning, InputError

PACKAGE_DIR = Path(crm_analysis.__file__).parent
#: Built-in exception types the package must not raise bare (use the package's subclasses).
BARE = {"ValueError", "TypeError", "RuntimeError", "KeyError", "Exception"}


def _modules():
    for info in pkgutil.walk_packages(crm_analysis.__path__, "crm_analysis."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def _own_classes():
    seen = {}
    for mod in _modules():
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if obj.__module__.startswith("crm_analysis") and issubclass(obj, BaseException):
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return seen


def test_every_error_and_warning_class_is_in_the_hierarchy():
    classes = _own_classes()
    assert len(classes) >= 15  # the scan found the package's classes (a scan that finds none cannot fail)
    # Exception subclasses only: RunInterrupted is a KeyboardInterrupt on purpose (a signal passes through the kernel's loop)
    errors = {n: c for n, c in classes.items() if issubclass(c, Exception) and not issubclass(c, Warning)}
    warns = {n: c for n, c in classes.items() if issubclass(c, Warning)}
    assert [n for n, c in errors.items() if not issubclass(c, CRMAnalysisError)] == []
    assert [n for n, c in warns.items() if not issubclass(c, CRMAnalysisWarning)] == []
    # value errors stay value errors
    from crm_analysis.contracts import ContractError
    from crm_analysis.data.errors import DataValidationError, SourceFileError
    from crm_analysis.report.config import ConfigError

    for cls in (DataValidationError, SourceFileError, ContractError, ConfigError):
        assert issubclass(cls, InputError) and issubclass(cls, ValueError)


def _bare_raises(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            if isinstance(func, ast.Name) and func.id in BARE:
                yield f"{path.relative_to(PACKAGE_DIR.parent)}:{node.lineno} raise {func.id}(...)"


def test_no_bare_builtin_raises_in_the_package():
    found = [hit for path in sorted(PACKAGE_DIR.rglob("*.py")) for hit in _bare_raises(path)]
    assert found == [], "use crm_analysis.exceptions.InputError / InputTypeError / CRMAnalysisError:\n" + "\n".join(found[:40])


def test_a_typical_user_fault_is_caught_by_the_base_class():
    from crm_analysis.rfm import rfm_summary

    tx = pd.DataFrame({"customer_id": ["a"], "timestamp": [pd.Timestamp("2024-01-01")]})  # no amount column
    with pytest.raises(CRMAnalysisError, match="amount"):
        rfm_summary(tx, observation_end="2024-02-01")
    with pytest.raises(ValueError):  # and still a ValueError for existing handlers
        rfm_summary(tx, observation_end="2024-02-01")


#: Estimators (classes with ``fit``) whose learned attributes always exist, with the reason.
_FITTED_BY_FIELDS = {"HeldCancellation"}  # a dataclass: coef_ is a field (None until fit; its methods check)


def _estimators():
    found = {obj for mod in _modules() for _, obj in inspect.getmembers(mod, inspect.isclass)
             if obj.__module__.startswith("crm_analysis") and callable(getattr(obj, "fit", None))
             and not inspect.isabstract(obj) and not obj.__name__.startswith("_")}
    return sorted(found, key=lambda c: c.__name__)


def test_every_estimator_says_not_fitted_for_a_learned_attribute():
    """Second newcomer finding G4: DemandForecaster().result_ was a bare AttributeError. Every estimator of the
    package (a class with fit: CLV models, forecaster, clustering, uplift, recommenders, cancellation model)
    raises NotFittedError naming the class and 'call fit() first' for a learned attribute before fit."""
    from crm_analysis._validate import NotFittedAttributes
    from crm_analysis.exceptions import NotFittedError

    names = set()
    for cls in _estimators():
        names.add(cls.__name__)
        if cls.__name__ in _FITTED_BY_FIELDS:
            continue
        assert issubclass(cls, NotFittedAttributes), cls
        try:
            est = cls()
        except TypeError:  # needs arguments (none today); the mixin is checked above
            continue
        with pytest.raises(NotFittedError, match=rf"{cls.__name__}\.some_result_ .*not fitted yet: call fit\(\) first"):
            est.some_result_  # noqa: B018
        assert not hasattr(est, "some_result_") and getattr(est, "some_result_", 7) == 7
        with pytest.raises(AttributeError) as info:  # a name that is not a learned attribute: the usual error
            est.no_such_setting  # noqa: B018
        assert not isinstance(info.value, NotFittedError)
    assert {"DemandForecaster", "BehaviouralClustering", "TwoModelUplift", "ClassTransformationUplift",
            "BetaGeoModel", "GammaGammaModel", "ParetoNBDModel", "CancellationModel",
            "PopularityRecommender"} <= names  # the scan reaches them


def test_the_forecaster_result_before_fit():
    from crm_analysis.exceptions import NotFittedError
    from crm_analysis.seasonality import DemandForecaster

    with pytest.raises(NotFittedError, match="DemandForecaster is not fitted yet: call fit"):
        DemandForecaster(horizon=14).result_  # noqa: B018


def test_a_fitted_estimator_reports_a_missing_attribute_plainly():
    from crm_analysis._validate import NotFittedAttributes
    from crm_analysis.exceptions import NotFittedError

    class Est(NotFittedAttributes):
        def fit(self):
            self.coef_ = 1.0
            return self

    est = Est().fit()
    assert est.coef_ == 1.0
    with pytest.raises(AttributeError) as info:
        est.other_  # noqa: B018
    assert not isinstance(info.value, NotFittedError)


def test_not_fitted_error_is_caught_where_it_was_before():
    """NotFittedError stays (CRMAnalysisError, RuntimeError, AttributeError): `except RuntimeError` (its type before
    the hierarchy) and `except AttributeError` (hasattr, scikit-learn's family) catch it. It is deliberately not a
    subclass of sklearn.exceptions.NotFittedError: that is a ValueError too (so the package's `except ValueError`
    handlers would swallow a missing fit) and importing scikit-learn would cost every `import crm_analysis.clv`
    about a second."""
    from crm_analysis.clv import BetaGeoModel
    from crm_analysis.exceptions import NotFittedError

    assert NotFittedError.__mro__[1:4] == (CRMAnalysisError, RuntimeError, AttributeError)
    assert not issubclass(NotFittedError, ValueError)
    for handler in (RuntimeError, AttributeError, CRMAnalysisError):
        with pytest.raises(handler):
            BetaGeoModel().summary()
        try:
            BetaGeoModel().params_  # noqa: B018
        except handler:
            pass


def test_notebooks_hide_package_warnings_by_class_only():
    """F7: notebook 30 ignored every UserWarning of crm_analysis.seasonality (the typed ConvergenceWarning too) and
    notebook 10 the Gamma-Gamma warning by its text. A notebook may hide a typed warning of the package by its
    class; a filter by a warning's text or by module is only for third-party chatter (tqdm's IProgress)."""
    import json

    for path in sorted((PACKAGE_DIR.parent / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            src = "".join(cell["source"])
            for call in ast.walk(ast.parse(src)) if cell["cell_type"] == "code" else ():
                if not (isinstance(call, ast.Call) and getattr(call.func, "attr", "") in ("filterwarnings",
                                                                                            "simplefilter")):
                    continue
                kw = {k.arg: ast.unparse(k.value) for k in call.keywords}
                assert "module" not in kw, f"{path.name}: {ast.unparse(call)}"
                assert kw.get("category") not in ("UserWarning", "Warning", "CRMAnalysisWarning"), \
                    f"{path.name}: {ast.unparse(call)}"
                if "message" in kw:
                    assert "category" not in kw and "IProgress" in kw["message"], f"{path.name}: {ast.unparse(call)}"
