"""Strict JSON of every file the package writes (crm_analysis._json; issue intake2, point 4).

RFC 8259 has no NaN or Infinity: a file with the bare tokens Python's json writes by default is refused by
JSON.parse, jq and most readers. The checks parse with a strict reader (``parse_constant`` raising), an
independent decoder of the tokens the standard allows.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from crm_analysis import _json as strict_json


def strict_parse(text: str):
    def refuse(token: str):
        raise AssertionError(f"not strict JSON: bare {token}")

    return json.loads(text, parse_constant=refuse)


floats = st.floats(allow_nan=True, allow_infinity=True)
leaves = st.none() | st.booleans() | st.integers() | floats | st.text(max_size=5)
trees = st.recursive(leaves, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=4), kids,
                                                                                       max_size=4), max_leaves=20)


def _same(a, b) -> bool:
    """Equality of the strict forms (no NaN left: plain ==)."""
    return a == b


@given(trees)
def test_dumps_is_strict_and_round_trips(obj) -> None:
    text = strict_json.dumps(obj)
    back = strict_parse(text)
    assert _same(back, strict_json.jsonable(obj))
    assert _same(strict_json.loads(text), back)


@given(trees)
def test_old_files_with_bare_tokens_read_as_new_ones(obj) -> None:
    old = json.dumps(obj)  # the former writers: bare NaN / Infinity
    assert _same(strict_json.loads(old), strict_json.loads(strict_json.dumps(obj)))


def test_encoding_of_non_finite_numbers_is_clv_params_one() -> None:
    from crm_analysis.clv.results import json_number

    for v in (math.nan, math.inf, -math.inf, 1.5, np.float64("nan"), np.float32("inf")):
        assert strict_json.jsonable(v) == json_number(v)
    assert float(strict_json.jsonable(math.inf)) == math.inf  # float() reads the strings back


def test_numpy_and_pandas_scalars() -> None:
    obj = {"n": np.int64(3), "x": np.float64(np.nan), "t": pd.Timestamp("2024-01-02"), "nat": pd.NaT, 1: "k"}
    assert strict_parse(strict_json.dumps(obj)) == {"n": 3, "x": None, "t": "2024-01-02T00:00:00", "nat": None,
                                                   "1": "k"}


# ------------------------------------------------------------ the package's writers (every one: strict)
def test_headlines_json_strict_and_old_files_read_alike(tmp_path) -> None:
    from crm_analysis.report.index import load_headlines
    from crm_analysis.runtime.context import RunContext

    ctx = RunContext(tmp_path, notebook="rfm_clv")
    ctx.headline("mean_p_alive", float("nan"))
    ctx.headline("total_clv", float("inf"))
    text = (tmp_path / "artifacts" / "headlines.json").read_text()
    figs = strict_parse(text)["rfm_clv"]
    assert figs["mean_p_alive"]["value"] is None and figs["total_clv"]["value"] == "Infinity"
    # an older file with the bare tokens reads as the new one, through the context and the index
    (tmp_path / "artifacts" / "headlines.json").write_text(text.replace("null", "NaN").replace('"Infinity"', "Infinity"))
    assert "NaN" in (tmp_path / "artifacts" / "headlines.json").read_text()
    assert ctx.headlines()["rfm_clv"] == figs
    assert load_headlines(tmp_path)["rfm_clv"]["total_clv"]["value"] == "Infinity"
    assert load_headlines(tmp_path)["rfm_clv"]["mean_p_alive"]["value"] is None


def test_cleaning_report_to_json_is_strict() -> None:
    import dataclasses

    from crm_analysis.data import clean_transactions
    from crm_analysis.synthetic import generate_transactions

    report = clean_transactions(generate_transactions(n_customers=20, seed=1).transactions).report
    odd = dataclasses.replace(report, amount_in=float("inf"), amount_out=float("nan"))
    back = strict_parse(odd.to_json())
    assert back["amount_in"] == "Infinity" and back["amount_out"] is None


def test_arrays_and_series_are_json_lists_not_their_repr() -> None:
    """findings_13f F7: ``np.array([1.0, nan])`` was written as the text "[ 1. nan]", a Series as its repr."""
    out = strict_json.loads(strict_json.dumps({"a": np.array([1.0, np.nan, np.inf]), "s": pd.Series([1.0, -np.inf]),
                                               "l": pd.Series([2.0], index=["x"]), "i": pd.Index([1, 2])}))
    assert out == {"a": [1.0, None, "Infinity"], "s": [1.0, "-Infinity"], "l": {"x": 2.0}, "i": [1, 2]}
