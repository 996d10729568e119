"""User-facing messages show numbers as numbers (issue #12 polish, point 5).

With numpy 2, ``repr(np.float64(3.0))`` is ``"np.float64(3.0)"``: a message built with ``{value!r}`` told a user
who passed a numpy number (a value read from a DataFrame, a mean) ``got np.float64(-3.0)``. Messages quote values
through :func:`crm_analysis.exceptions.shown` (texts keep their quotes). Checked here on the family of checkers
with numpy scalars of every kind (hypothesis), and on the source: no quoted value in a message is a bare ``!r``
of a value that can be a number.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crm_analysis
from crm_analysis._validate import check_count, check_counts, check_number, check_probability, check_seed
from crm_analysis.exceptions import shown
from crm_analysis.clv._validation import check_discount_rate, check_margin, check_times
from crm_analysis.exceptions import InputError

NUMPY_TYPES = [np.float64, np.float32, np.int64, np.int32, np.int8, np.uint16]

#: Checkers taking one number: each refuses a negative value (and NaN, where the type has one).
CHECKERS = [
    lambda v: check_count(v, "capacity", minimum=1),
    lambda v: check_seed(v),
    lambda v: check_number(v, "horizon", minimum=0, low_open=True),
    lambda v: check_probability(v, "show_rate"),
    lambda v: check_counts([v], "bins", minimum=1),
    lambda v: check_discount_rate(v),
    lambda v: check_margin(v),
    lambda v: check_times(v, scalar=True),
]


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(NUMPY_TYPES), magnitude=st.integers(1, 100), checker=st.sampled_from(CHECKERS),
       nan=st.booleans())
def test_numpy_scalars_are_shown_as_plain_numbers(kind, magnitude, checker, nan):
    if np.issubdtype(kind, np.unsignedinteger):
        value = kind(0) if not nan else kind(magnitude)  # 0 is refused by most; a large rate by the rate checks
    else:
        value = kind(np.nan) if nan and np.issubdtype(kind, np.floating) else kind(-magnitude)
    try:
        checker(value)
    except InputError as exc:
        assert "np." not in str(exc) and "numpy" not in str(exc), str(exc)
        if not (isinstance(value, np.floating) and np.isnan(value)):
            assert str(value.item()) in str(exc) or f"{value.item():g}" in str(exc), str(exc)


def test_the_time_argument_and_the_quoted_values():
    with pytest.raises(InputError) as info:
        check_times(["x", np.float64(2.0)])
    assert "np." not in str(info.value) and "['x', 2.0]" in str(info.value)
    with pytest.raises(InputError, match=r"got \[-3\.0\]"):
        check_times(np.float64(-3.0))
    assert shown(np.float64(3.0)) == "3.0" and shown(np.int64(7)) == "7" and shown(np.bool_(True)) == "True"
    assert shown([np.float32(0.5), "W"]) == "[0.5, 'W']" and shown({"a": np.int16(2)}) == "{'a': 2}"
    assert shown(np.array([1, 2])) == "[1, 2]" and shown("W") == "'W'" and shown(None) == "None"


#: A quoted value that may be a number: a bare ``!r`` after "got" or of a value-like name.
_BARE = re.compile(r"got (?:\{type\([^{}()]+\)\.__name__\} )?\{[^{}]+!r\}|\{(?:value|v|level|q|p|t|val|x)!r\}")


def test_no_message_quotes_a_value_with_a_bare_repr():
    root = pathlib.Path(crm_analysis.__file__).parent
    found = [f"{p.relative_to(root)}:{i}: {line.strip()}" for p in sorted(root.rglob("*.py"))
             if p.name not in ("errors.py",)  # data/errors.py quotes text cells of a file, repr on purpose
             for i, line in enumerate(p.read_text().splitlines(), 1) if _BARE.search(line)]
    assert found == []
