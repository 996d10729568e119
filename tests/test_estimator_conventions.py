"""Every public estimator clones (scikit-learn get_params / clone) and raises NotFittedError for its learned
attributes before fit (fourth newcomer findings H5, H10: HeldCancellation had its learned attributes as init
fields, None / 0 before fit; the three recommenders and HeldCancellation had no get_params)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from sklearn.base import clone

import crm_analysis
from crm_analysis.exceptions import NotFittedError
from crm_analysis.recommend import AssociationRuleRecommender, ItemSimilarityRecommender, PopularityRecommender
from crm_analysis.yield_management.shows import HeldCancellation


def _estimators():
    seen = set()
    for info in pkgutil.walk_packages(crm_analysis.__path__, "crm_analysis."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and callable(getattr(obj, "fit", None)) and obj not in seen:
                seen.add(obj)
                yield obj


def test_every_public_estimator_clones():
    found, n = [], 0
    for cls in _estimators():
        try:
            est = cls()
        except TypeError:  # needs arguments: not default-constructible
            continue
        n += 1
        try:
            assert clone(est).get_params() == est.get_params()
        except Exception as exc:  # noqa: BLE001 - listed below
            found.append(f"{cls.__module__}.{cls.__name__}: {type(exc).__name__}: {exc}")
    assert found == []
    assert n >= 20  # the CLV models, uplift, clustering, forecaster, cancellation, recommenders, HeldCancellation


@pytest.mark.parametrize("est, name", [
    (HeldCancellation(days_out=(0, 7)), "days_out"),
    (ItemSimilarityRecommender(n_neighbours=5), "n_neighbours"),
    (AssociationRuleRecommender(min_support=0.2), "min_support"),
])
def test_clone_keeps_the_settings(est, name):
    assert clone(est).get_params()[name] == est.get_params()[name]
    assert clone(est) is not est


@pytest.mark.parametrize("attr", ["coef_", "n_rows_", "constant_"])
def test_held_cancellation_learned_attributes_before_fit(attr):
    with pytest.raises(NotFittedError, match=rf"HeldCancellation.{attr} is not available"):
        getattr(HeldCancellation(), attr)
    with pytest.raises(NotFittedError):
        HeldCancellation().predict(np.array([0.2]), 3, 10)
    assert "coef_" not in inspect.signature(HeldCancellation).parameters


def test_popularity_recommender_learned_attributes_before_fit():
    with pytest.raises(NotFittedError):
        PopularityRecommender().products_
