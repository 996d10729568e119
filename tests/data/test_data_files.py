"""File checks of :mod:`crm_analysis.data.files`: properties on generated files.

* Round trips: text written in an encoding, with a separator and a decimal
  mark, read back with the matching options gives the values written, on the
  pandas and the DuckDB path alike.
* Error positions: the byte offset and line of the first undecodable byte are
  computed here from the text written (the length of its encoded prefix) and
  must be what the message says, also when the file is decoded in chunks that
  split multi-byte characters (chunk sizes of a few bytes).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_analysis.data import SourceFileError, load_transactions, transactions_relation
from crm_analysis.data import files
from crm_analysis.data.files import check_text_file, comma_numbers, default_separator, utf8_copy

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# each example reads files on both paths (a DuckDB connection each: ~0.1 s)
SLOW = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# characters that cp1252 and latin-1 both encode (no control characters, no separators or quotes)
WESTERN = "abcxyzABC019 éèàçñüöäÅØæßÉ£"
EURO = WESTERN + "€œŠ"  # cp1252 only


def _frame(names: list[str], amounts: list[float]) -> pd.DataFrame:
    n = len(names)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                         "timestamp": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                         "amount": amounts, "name": names})


def _both(path: Path, **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = load_transactions(path, **kw)
    b = load_transactions(transactions_relation(path, keep_extra=True, **kw))
    return a, b


names_of = {enc: st.text(alphabet=alpha, min_size=1, max_size=12).map(lambda t: "x" + t.strip() + "x")
            for enc, alpha in (("cp1252", EURO), ("latin-1", WESTERN), ("utf-8", EURO + "łő中"), ("utf-16", EURO))}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(names_of)), st.data())
def test_encoding_round_trip_on_both_paths(tmp_path, encoding, data):
    n = data.draw(st.integers(1, 6))
    names = data.draw(st.lists(names_of[encoding], min_size=n, max_size=n))
    amounts = data.draw(st.lists(st.floats(-1e4, 1e4, allow_nan=False).map(lambda x: round(x, 2)), min_size=n, max_size=n))
    df = _frame(names, amounts)
    path = tmp_path / f"t_{encoding}.csv"
    path.write_bytes(df.to_csv(index=False).encode(encoding))
    a, b = _both(path, encoding=encoding)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert a["name"].tolist() == names
    assert a["amount"].tolist() == amounts


@FAST
@given(st.lists(st.tuples(st.text(alphabet="abc,;\n 0123", max_size=8), st.sampled_from("éèñüÅ€")),
                min_size=1, max_size=6),
       st.integers(1, 9), st.booleans())
def test_first_undecodable_byte_is_located(tmp_path, pieces, chunk, compress):
    # every non-ASCII character is followed by an ASCII one, so its cp1252 byte can
    # never start a valid UTF-8 sequence: the first one is the first error
    text = "customer_id,timestamp,amount\n" + "".join(a + c + "x" for a, c in pieces)
    first = text.index(pieces[0][1])
    offset = len(text[:first].encode("cp1252"))
    line = text[:first].count("\n") + 1
    path = tmp_path / ("t.csv.gz" if compress else "t.csv")
    raw = text.encode("cp1252")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    old = files._CHUNK
    files._CHUNK = chunk
    try:
        with pytest.raises(SourceFileError) as err:
            check_text_file(path)
    finally:
        files._CHUNK = old
    msg = str(err.value)
    assert f"{raw[offset]:02X} at byte offset {offset:,} (line {line:,})" in msg, msg
    assert check_text_file(path, encoding="cp1252") == "cp1252"


@FAST
@given(st.text(alphabet="ab\n,é€中𝄞", min_size=1, max_size=60), st.integers(1, 7))
def test_multibyte_characters_across_chunks_decode(tmp_path, text, chunk):
    path = tmp_path / "u.csv"
    path.write_bytes(("h\n" + text).encode("utf-8"))
    old = files._CHUNK
    files._CHUNK = chunk
    try:
        assert check_text_file(path) == "utf-8"
        copy = utf8_copy(path, "utf-8")
    finally:
        files._CHUNK = old
    assert copy.read_bytes() == path.read_bytes()


@pytest.mark.slow
@SLOW
@given(st.sampled_from([";", "\t", "|"]), st.integers(1, 5), st.data())
def test_other_separators_are_named_and_read_with_sep(tmp_path, sep, n, data):
    amounts = data.draw(st.lists(st.floats(0, 1e4, allow_nan=False).map(lambda x: round(x, 2)), min_size=n, max_size=n))
    df = _frame([f"n{i}" for i in range(n)], amounts)
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False, sep=sep)
    for read in (lambda: load_transactions(path), lambda: transactions_relation(path)):
        with pytest.raises(SourceFileError, match=re.escape(f"'sep': {sep!r}")):
            read()
    a, b = _both(path, read_options={"sep": sep})
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert a["amount"].tolist() == amounts


@pytest.mark.slow
@SLOW
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2)), min_size=1, max_size=6),
       st.booleans())
def test_decimal_commas_round_trip(tmp_path, amounts, group):
    df = _frame([f"n{i}" for i in range(len(amounts))], amounts)
    path = tmp_path / "eu.csv"
    if group:  # 1.234.567,89
        text = df.assign(amount=[f"{a:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".") for a in amounts])
        opts = {"sep": ";", "decimal": ",", "thousands": "."}
    else:
        text = df.assign(amount=[f"{a:.2f}".replace(".", ",") for a in amounts])
        opts = {"sep": ";", "decimal": ","}
    text.to_csv(path, index=False, sep=";")
    a, b = _both(path, read_options=opts)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    np.testing.assert_allclose(a["amount"].to_numpy(), amounts)
    # without the decimal option both paths name the first value with a comma
    for read in (lambda: load_transactions(path, read_options={"sep": ";"}),
                 lambda: transactions_relation(path, read_options={"sep": ";"})):
        with pytest.raises(SourceFileError, match=re.escape(f"row 0: {text['amount'].iloc[0]!r}")):
            read()


@pytest.mark.parametrize("values, kind, pos", [
    (["12,50", "3"], "decimal", [0]),
    (["1.234,50", "7,1"], "decimal_dot_thousands", [0, 1]),
    (["1,234.50", "12"], "thousands", [0]),
    (["1,234"], "ambiguous", [0]),
    (["1,234", "2,5"], "decimal", [0, 1]),
    (["12.5", "abc", None, 3.0, "a,b"], None, []),
])
def test_comma_numbers(values, kind, pos):
    assert comma_numbers(values) == (kind, pos)


def test_default_separator():
    assert default_separator("a.tsv") == "\t" and default_separator("a.tsv.gz") == "\t"
    assert default_separator("a.csv") == "," and default_separator("a.txt") == ","


def test_utf8_copy_of_an_undecodable_file_leaves_nothing(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"h\n\xff\n")
    before = set(files._copies.iterdir()) if files._copies is not None else set()
    with pytest.raises(SourceFileError, match="FF at byte offset 2"):
        utf8_copy(path, None)
    assert set(files._copies.iterdir()) == before
