"""Bad values of the parameters objects raise InputError naming the field and what is allowed, never a bare
TypeError from inside (fourth newcomer finding H9: ``IdicParams(recommender=["x"])`` -> "unhashable type: 'list'",
``DataQualityParams(transactions_policy={"bogus_rule": 1})`` -> "__init__() got an unexpected keyword argument")."""

from __future__ import annotations

import pytest

from crm_analysis.data import DataQualityParams
from crm_analysis.exceptions import InputError
from crm_analysis.idic import IdicParams


@pytest.mark.parametrize("value", [["x"], {"a": 1}, {"x"}, 3, None])
def test_an_unhashable_or_odd_recommender(value):
    with pytest.raises(InputError, match=r"recommender .* is not one of \['item_similarity'"):
        IdicParams(recommender=value)


@pytest.mark.parametrize("name, allowed", [("transactions_policy", "observation_end"),
                                           ("bookings_policy", "zero_nights")])
def test_an_unknown_cleaning_policy_key(name, allowed):
    with pytest.raises(InputError, match=rf"{name} has unknown key\(s\) \['bogus_rule'\]; the keys of .*'{allowed}'"):
        DataQualityParams(**{name: {"bogus_rule": 1}})


def test_known_policy_keys_are_taken():
    p = DataQualityParams(transactions_policy={"observation_end": "2024-06-30"})
    assert str(p.transaction_cleaning.observation_end)[:10] == "2024-06-30"
