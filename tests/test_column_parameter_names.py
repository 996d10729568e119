"""One name per column role (fourth newcomer finding H17): the customer id is ``customer_col`` and the customer's
age ``T_col`` in every public function; ``id_col`` / ``age_col`` stay as deprecated keyword aliases."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pandas as pd
import pytest

import crm_analysis
from crm_analysis.exceptions import InputError
from crm_analysis.profitability import profit_deciles
from crm_analysis.segmentation import rfm_scores

#: Old names of column parameters, and the one name of their role.
OLD = {"id_col": "customer_col", "age_col": "T_col", "orders_col": "frequency_col"}


def _callables():
    for info in pkgutil.walk_packages(crm_analysis.__path__, "crm_analysis."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj
            elif inspect.isclass(obj) and obj.__module__.startswith("crm_analysis"):
                for mname in dir(obj):
                    fn = inspect.getattr_static(obj, mname)
                    if not mname.startswith("_") and inspect.isfunction(fn):
                        yield f"{module.__name__}.{name}.{mname}", fn


def test_no_public_signature_uses_an_old_column_name():
    found = [f"{where}: {p}" for where, fn in _callables()
             for p in inspect.signature(fn).parameters if p in OLD]
    assert found == []


def _summary(n=40, seed=0):
    rng = np.random.default_rng(seed)
    T = rng.uniform(50, 300, n)
    return pd.DataFrame({"cust": [f"c{i}" for i in range(n)], "frequency": rng.integers(0, 8, n).astype(float),
                         "recency": T * rng.uniform(0, 1, n), "T": T, "age": T,
                         "monetary_value": rng.uniform(5, 50, n)})


def test_old_keywords_warn_and_give_the_same_result():
    s = _summary()
    new = rfm_scores(s, customer_col="cust", T_col="age")
    with pytest.warns(FutureWarning, match=r"rfm_scores\(id_col=...\) is deprecated: use customer_col"):
        with pytest.warns(FutureWarning, match=r"rfm_scores\(age_col=...\) is deprecated: use T_col"):
            old = rfm_scores(s, id_col="cust", age_col="age")
    pd.testing.assert_frame_equal(new, old)
    with pytest.warns(FutureWarning):  # None (no age column) passes through the alias too
        pd.testing.assert_frame_equal(rfm_scores(s, customer_col="cust", T_col=None),
                                      rfm_scores(s, customer_col="cust", age_col=None))
    with pytest.raises(InputError, match="customer_col='cust' and the deprecated id_col='other' disagree"):
        rfm_scores(s, customer_col="cust", id_col="other")
    table = pd.DataFrame({"cust": ["a", "b", "c"], "profit": [3.0, -1.0, 2.0]})
    with pytest.warns(FutureWarning, match="profit_deciles"):
        pd.testing.assert_frame_equal(profit_deciles(table, id_col="cust", n_groups=3),
                                      profit_deciles(table, customer_col="cust", n_groups=3))


def test_current_profit_names_the_frequency_role_frequency_col():
    """findings_13e I8: current_profit's orders_col was a third name of the frequency column role."""
    from crm_analysis.segmentation import current_profit

    t = pd.DataFrame({"revenue": [100.0, 50.0], "orders": [2.0, 0.0], "frequency": [5.0, 5.0]})
    new = current_profit(t, frequency_col="orders", cost_per_order=5.0)
    assert new.tolist() == [100.0 - 5.0 * 3, 50.0 - 5.0 * 1]  # orders = repeat orders + 1, by hand
    with pytest.warns(FutureWarning, match=r"current_profit\(orders_col=...\) is deprecated: use frequency_col"):
        pd.testing.assert_series_equal(current_profit(t, orders_col="orders", cost_per_order=5.0), new)
    with pytest.warns(FutureWarning), pytest.raises(InputError, match="frequency_col='frequency' and the deprecated "
                                                                      "orders_col='orders' disagree"):
        current_profit(t, frequency_col="frequency", orders_col="orders", cost_per_order=5.0)
