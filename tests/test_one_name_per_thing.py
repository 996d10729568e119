"""One public name per thing (fourth newcomer finding H16): a name in a public ``__all__`` is bound to one object
across the package; the old names of the renamed ones still work, with a FutureWarning naming the new name."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import crm_analysis

#: Names re-exported as equal values (not the same object), or entry points: fine.
ALLOWED = {"main", "BOOKING_STATUSES"}


def test_no_public_name_is_bound_to_two_things():
    seen: dict[str, tuple[str, object]] = {}
    found = []
    for info in pkgutil.walk_packages(crm_analysis.__path__, "crm_analysis."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if name in seen and seen[name][1] is not obj and name not in ALLOWED:
                found.append(f"{name}: {seen[name][0]} and {module.__name__}")
            seen.setdefault(name, (module.__name__, obj))
    assert found == []


@pytest.mark.parametrize("module, old, new", [
    ("crm_analysis.recommend", "time_split", "split_transactions"),
    ("crm_analysis.recommend.evaluation", "time_split", "split_transactions"),
    ("crm_analysis.yield_management", "time_split", "split_bookings"),
    ("crm_analysis.yield_management.cancellation", "time_split", "split_bookings"),
    ("crm_analysis.idic", "CUSTOMER_PROFIT", "CUSTOMER_PROFIT_SCHEMA"),
    ("crm_analysis.idic", "NEXT_BEST_PRODUCTS", "NEXT_BEST_PRODUCTS_SCHEMA"),
    ("crm_analysis.idic.pipeline", "CAMPAIGN_TARGETING", "CAMPAIGN_TARGETING_SCHEMA"),
    ("crm_analysis.runtime.figures", "KINDS", "FIGURE_KINDS"),
])
def test_old_names_warn_and_give_the_new_object(module, old, new):
    mod = importlib.import_module(module)
    with pytest.warns(FutureWarning, match=rf"{module}.{old} is renamed {new}"):
        obj = getattr(mod, old)
    assert obj is getattr(mod, new)
    assert old not in mod.__all__
