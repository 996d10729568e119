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
