"""Reading data files: encodings, empty files, separators and Excel workbooks.

Both readers of the package, pandas (:func:`crm_analysis.data.load_transactions`
and friends) and DuckDB (:func:`crm_analysis.data.transactions_relation` and
friends), go through the checks of this module, so that one file gives the same
frame, or the same error, on both paths:

* **Encoding.** A text (CSV) file is decoded with ``encoding`` (default UTF-8)
  before it is parsed. A byte that does not decode raises
  :class:`~crm_analysis.data.errors.SourceFileError` naming the file, the byte,
  its offset and line, what the byte would be in cp1252, and the fix
  (``encoding="cp1252"``, ``"latin-1"`` or ``"utf-16"``). DuckDB reads only
  UTF-8 itself; for any other encoding the DuckDB path reads a UTF-8 copy of
  the file written to a temporary folder (removed when the process exits), so
  the relation stays lazy.
* **Empty files.** A file without bytes, or with only blanks, line breaks and a
  byte-order mark, and a file (or Excel sheet, or Parquet file) with a header
  but no data rows, raise :class:`SourceFileError` naming the file.
* **Separators.** Unless the read options give one, the separator is ``","``
  (a tab for ``.tsv``) on both paths, with the header on the first line:
  DuckDB's sniffer is not left to guess, since a guess that differs from
  pandas' would read the same file differently. A file that parses into one
  column whose header holds ``";"``, a tab, ``"|"`` or ``","`` raises an error
  suggesting ``sep`` (and ``decimal=","``, as semicolon files from Europe
  usually write decimal commas).
* **Decimal commas.** A numeric canonical column (amount, quantity, price,
  rate, ...) whose text values are numbers written with a decimal comma
  (``"12,50"``, ``"1.234,50"``) raises an error suggesting ``decimal=","``
  (and ``thousands="."``); ``"1,234.50"`` suggests ``thousands=","``.
* **Excel.** ``.xlsx`` / ``.xlsm`` workbooks are read with
  :func:`pandas.read_excel` through openpyxl. ``sheet`` picks a sheet (name or
  0-based position) or a list of sheets, stacked (they must have the same
  columns); without ``sheet`` a workbook must have exactly one sheet, so that
  no sheet is left out unnoticed. Legacy ``.xls`` (and ``.xlsb``, ``.ods``)
  files are refused with the fix (save as ``.xlsx`` or CSV).
"""

from __future__ import annotations

from crm_analysis.exceptions import shown

import atexit
import bz2
import codecs
import csv
import gzip
import lzma
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from crm_analysis.data.errors import SourceFileError
from crm_analysis.data.numbers import NumberFormat, number_pattern

__all__ = [
    "MISSING_ONLY_BLANK",
    "missing_value_options",
    "duckdb_missing_values",
    "check_header",
    "header_row_hint",
    "EXCEL_SUFFIXES",
    "LEGACY_SPREADSHEET_SUFFIXES",
    "SEPARATOR_CANDIDATES",
    "Sheet",
    "default_separator",
    "normalise_encoding",
    "check_text_file",
    "utf8_copy",
    "check_single_column",
    "check_has_rows",
    "parse_error",
    "comma_numbers",
    "check_decimal_commas",
    "excel_sheet_names",
    "read_excel_sheets",
]

#: Excel workbook suffixes read through openpyxl.
EXCEL_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm")
#: Spreadsheet formats that are refused (they need other readers); save as .xlsx or CSV.
LEGACY_SPREADSHEET_SUFFIXES: tuple[str, ...] = (".xls", ".xlsb", ".ods")
#: Characters that, found in the name of a single parsed column, reveal the real separator.
SEPARATOR_CANDIDATES: tuple[str, ...] = (";", "\t", "|", ",")

#: A sheet choice: a name, a 0-based position, a list of them, or None.
Sheet = str | int | Sequence[str | int] | None

#: Reader options under which only an empty field is missing. pandas' default
#: list of missing-value strings ("NA", "N/A", "null", "None", "nan", ...)
#: would make a customer called "NA" disappear on the pandas path while DuckDB
#: keeps it; pass ``na_values`` (or ``keep_default_na``) in the read options to
#: declare your own missing-value markers.
MISSING_ONLY_BLANK: dict[str, Any] = {"keep_default_na": False, "na_values": [""]}


def _markers(values: Any) -> list[Any]:
    """Declared missing-value markers as a list, the empty cell first."""
    if values is None:
        return [""]
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        values = [values]
    return ["", *[v for v in values if v != ""]]


def missing_value_options(opts: dict[str, Any], *, columns: Sequence[object] | None = None) -> dict[str, Any]:
    """Reader options under which only empty cells and the declared markers are missing.

    ``na_values`` given without ``keep_default_na`` would bring pandas'
    default list back ("NA", "None", ...): the declared markers are *added*
    to the empty cell, nothing else, whether they are one value, a list, or
    a mapping column -> values (every other column keeps "empty cell =
    missing"). ``keep_default_na: true`` restores pandas' list explicitly.

    Parameters
    ----------
    opts : dict
        pandas reader options (changed in place and returned).
    columns : sequence, optional
        Column names of the file; needed when ``na_values`` is a mapping, so
        that the columns it does not name still read an empty cell as missing
        (pandas would read it as ``""`` there).

    Returns
    -------
    dict
    """
    if "keep_default_na" in opts:
        return opts
    given = opts.get("na_values")
    if given is None:
        opts.update(MISSING_ONLY_BLANK)
        return opts
    opts["keep_default_na"] = False
    if isinstance(given, Mapping):
        out = {c: [""] for c in (columns or [])}
        out.update({k: _markers(v) for k, v in given.items()})
        opts["na_values"] = out
    else:
        opts["na_values"] = _markers(given)
    return opts


def duckdb_missing_values(opts: dict[str, Any]) -> None:
    """Translate pandas' ``na_values`` for DuckDB's CSV reader (the empty cell stays missing)."""
    given = opts.pop("na_values", None)
    if opts.pop("keep_default_na", False):
        raise SourceFileError("keep_default_na: true (pandas' own list of missing-value words) is read by the "
                              "pandas path only; list the markers of the file instead "
                              "(read_options: {na_values: [NA, n/a, ...]}) to read the file lazily")
    if given is None:
        return
    if isinstance(given, Mapping):
        raise SourceFileError("per-column na_values are read by the pandas path only; give one list for the "
                              "whole file (read_options: {na_values: [...]}) to read the file lazily")
    opts["na_values"] = [str(v) for v in _markers(given)]

#: File signatures of formats that are not text: (first bytes, what it is, the fix).
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive, e.g. an Excel .xlsx workbook",
     "for a workbook use loader: excel (API: fmt='excel' or a .xlsx name); for a zipped CSV name it .zip"),
    (b"PAR1", "a Parquet file", "use loader: parquet (API: fmt='parquet' or a .parquet name)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel .xls (OLE) file",
     "save it as .xlsx (then loader: excel) or as CSV"),
    (b"SQLite format 3\x00", "an SQLite database", "read it with loader: sql and an sqlite:/// URL"),
)

_CHUNK = 1 << 20
_SEP_NAMES = {";": "';'", "\t": "a tab", "|": "'|'", ",": "','"}


# ------------------------------------------------------------------ encoding
def normalise_encoding(encoding: str | None) -> str:
    """Python's canonical name of an encoding (``None`` -> ``"utf-8"``).

    Parameters
    ----------
    encoding : str or None
        Any name Python knows, e.g. ``"latin-1"``, ``"CP1252"``, ``"utf8"``.

    Returns
    -------
    str
        The codec's canonical name (``"iso8859-1"``, ``"cp1252"``, ``"utf-8"``).

    Raises
    ------
    SourceFileError
        For an unknown encoding name.
    """
    if encoding is None:
        return "utf-8"
    try:
        return codecs.lookup(str(encoding)).name
    except LookupError:
        raise SourceFileError(
            f"unknown encoding {encoding!r}; use a name Python knows, e.g. 'utf-8', 'cp1252' (Windows, "
            "Western Europe), 'latin-1' (ISO-8859-1) or 'utf-16'"
        ) from None


def _open_binary(path: Path) -> IO[bytes] | None:
    """The file's bytes, decompressed by suffix; None when it cannot be opened here."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".gz":
            return gzip.open(path, "rb")
        if suffix == ".bz2":
            return bz2.open(path, "rb")
        if suffix == ".xz":
            return lzma.open(path, "rb")
        if suffix == ".zip":
            archive = zipfile.ZipFile(path)
            members = [n for n in archive.namelist() if not n.endswith("/")]
            if len(members) != 1:
                archive.close()
                return None  # the reader reports it
            return archive.open(members[0])
        if suffix == ".zst":
            try:
                import zstandard
            except ImportError:
                return None
            return zstandard.open(path, "rb")
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceFileError(f"{path}: cannot open the {suffix} archive: {exc}") from None
    return open(path, "rb")


def _byte_hint(head: bytes, codec: str, bad: bytes) -> str:
    """The most likely encoding of a file that failed to decode, as a sentence with the fix."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not codec.startswith("utf-16"):
        return ("The file starts with a UTF-16 byte-order mark (Excel's 'Unicode text' export, which is also "
                "tab-separated): pass encoding='utf-16' (and read_options={'sep': '\\t'}); in a configuration "
                "`encoding: utf-16`.")
    if codec in ("cp1252", "iso8859-1", "latin-1"):
        return ("Try encoding='utf-8' (the default) if the file was saved as UTF-8, or encoding='latin-1', "
                "which decodes every byte; in a configuration `encoding: latin-1`.")
    try:
        seen = bad[:1].decode("cp1252")
        return (f"The file is probably in a Windows encoding: in cp1252 (Windows, Western Europe) byte "
                f"0x{bad[0]:02X} is {seen!r}. Pass encoding='cp1252' (or 'latin-1' for ISO-8859-1 files); "
                "in a configuration `encoding: cp1252`.")
    except UnicodeDecodeError:
        return ("Pass the file's encoding, e.g. encoding='latin-1' (ISO-8859-1, decodes every byte); in a "
                "configuration `encoding: latin-1`.")


def _decode_error(path: Path, codec: str, exc: UnicodeDecodeError, offset0: int, lines: int, head: bytes) -> SourceFileError:
    data = exc.object if isinstance(exc.object, (bytes, bytearray)) else bytes(exc.object)
    offset = offset0 + exc.start
    line = lines + data[: exc.start].decode(codec, errors="replace").count("\n") + 1
    bad = bytes(data[exc.start: max(exc.end, exc.start + 1)])
    start = data.rfind(b"\n", 0, exc.start) + 1
    start = max(start, exc.start - 40)
    stop = data.find(b"\n", exc.end)
    stop = min(stop if stop >= 0 else len(data), exc.end + 40)
    context = bytes(data[start:stop]).decode(codec, errors="replace").strip("\r")
    quoted = "" if offset < 2 else f"; the line reads {context!r} (\ufffd = the undecodable byte)"
    return SourceFileError(
        f"{path}: cannot be read as {codec} text: byte(s) {bad.hex(' ').upper()} at byte offset {offset:,} "
        f"(line {line:,}) are not valid {codec} ({exc.reason}){quoted}. {_byte_hint(head, codec, bad)}"
    )


def _scan(path: Path, encoding: str | None, sink: IO[str] | None = None) -> str:
    """Decode the whole file (streaming); write the text to ``sink``; return the codec name."""
    codec = normalise_encoding(encoding)
    fh = _open_binary(path)
    if fh is None:
        return codec
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    fed = lines = 0
    head = b""
    content = False
    with fh:
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            if fed == 0:
                _check_signature(path, chunk)
            if len(head) < 4:
                head = (head + chunk)[:4]
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                data = exc.object
                raise _decode_error(path, codec, exc, fed + len(chunk) - len(data), lines, head) from None
            if not content and text.replace("\ufeff", "").strip():
                content = True
            lines += text.count("\n")
            if sink is not None:
                sink.write(text)
            fed += len(chunk)
            if final:
                break
    if not content:
        what = "0 bytes" if fed == 0 else "only blanks and line breaks"
        raise SourceFileError(
            f"{path}: the file is empty ({what}); there is nothing to read. Check that the export finished "
            "and that the path points at the data file."
        )
    return codec


def _check_signature(path: Path, first: bytes) -> None:
    """Refuse a file that is not text (a workbook, Parquet, ...) read as CSV, saying what it is."""
    for magic, what, fix in _SIGNATURES:
        if first.startswith(magic):
            raise SourceFileError(f"{path}: is not a text (CSV) file but {what}; {fix}")


def check_header(path: str | os.PathLike[str], sep: str | None, encoding: str | None) -> None:
    """Refuse a CSV header that names a column twice.

    pandas would rename the second ``Total`` to ``Total.1`` and DuckDB to
    ``Total_1``, and a mapping would silently take the first of them.

    Parameters
    ----------
    path : str or path
        The file.
    sep : str or None
        Its separator (one character; otherwise nothing is checked).
    encoding : str or None
        Its encoding.

    Raises
    ------
    SourceFileError
        Naming the duplicated column names.
    """
    if not sep or len(sep) != 1:
        return
    line = _first_line(Path(path), encoding)
    if not line:
        return
    fields = [f.strip() for f in next(csv.reader([line], delimiter=sep), [])]
    dups = sorted({f for f in fields if f and fields.count(f) > 1})
    if dups:
        raise SourceFileError(
            f"{path}: the header names column(s) {dups} more than once, so a column mapping cannot tell them "
            "apart; rename them in the file (e.g. Total_net, Total_gross)"
        )


def check_text_file(path: str | os.PathLike[str], *, encoding: str | None = None) -> str:
    """Check that a text file has content and decodes with ``encoding``.

    The file is decoded in 1 MiB chunks (decompressed first for ``.gz``,
    ``.bz2``, ``.xz``, ``.zip`` and, where the ``zstandard`` package is
    installed, ``.zst``), so any size is fine.

    Parameters
    ----------
    path : str or path
        The file.
    encoding : str, optional
        Its encoding (default UTF-8).

    Returns
    -------
    str
        The codec's canonical name (see :func:`normalise_encoding`).

    Raises
    ------
    SourceFileError
        When the file is empty (no bytes, or only blanks, line breaks and a
        byte-order mark), or when a byte does not decode: the message names
        the bytes, their offset (in the uncompressed text) and line, and the
        likely encoding with the fix.
    """
    return _scan(Path(path), encoding)


_copies: Path | None = None


def utf8_copy(path: str | os.PathLike[str], encoding: str | None) -> Path:
    """A UTF-8 copy of a text file, in a temporary folder removed at exit.

    DuckDB's CSV reader decodes only UTF-8 (other encodings need an extension
    downloaded at run time); the DuckDB path reads this copy instead.

    Parameters
    ----------
    path : str or path
        The file (compressed files are decompressed).
    encoding : str or None
        Its encoding.

    Returns
    -------
    pathlib.Path
        The copy (same text, UTF-8, uncompressed).

    Raises
    ------
    SourceFileError
        As :func:`check_text_file`.
    """
    global _copies
    if _copies is None or not _copies.is_dir():
        _copies = Path(tempfile.mkdtemp(prefix="crm_analysis_utf8_"))
        atexit.register(shutil.rmtree, _copies, True)
    fd, name = tempfile.mkstemp(suffix=".csv", dir=_copies)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            _scan(Path(path), encoding, sink=out)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def default_separator(path: str | os.PathLike[str]) -> str:
    """The separator assumed when none is given: a tab for ``.tsv`` (also compressed), else ``","``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    return "\t" if ".tsv" in suffixes[-2:] else ","


# ------------------------------------------------------------ parsed tables
def _sep_fix(found: str) -> str:
    opts = f"'sep': {found!r}" + (", 'decimal': ','" if found == ";" else "")
    yaml_sep = '"\\t"' if found == "\t" else f'"{found}"'
    yaml = f"read_options: {{sep: {yaml_sep}" + (', decimal: ","' if found == ";" else "") + "}"
    why = " (common in Europe, usually with decimal commas: 12,50)" if found == ";" else ""
    return (f"the file is probably separated by {_SEP_NAMES[found]}{why}. Pass read_options={{{opts}}}; "
            f"in a configuration `{yaml}`.")


def check_single_column(path: str | os.PathLike[str], columns: Sequence[object], sep: str | None) -> None:
    """Raise when a file parsed into one column whose name holds another separator.

    Parameters
    ----------
    path : str or path
        The file (for the message).
    columns : sequence
        The parsed column names.
    sep : str or None
        The separator used.

    Raises
    ------
    SourceFileError
        Naming the column and suggesting ``sep`` (and ``decimal=","`` for ``";"``).
    """
    if len(columns) != 1:
        return
    name = str(columns[0])
    found = [s for s in SEPARATOR_CANDIDATES if s != sep and s in name]
    if not found:
        return
    raise SourceFileError(
        f"{path}: parsed into a single column {name!r} with separator {sep!r}; its header holds "
        f"{_SEP_NAMES[found[0]]}, so {_sep_fix(found[0])}"
    )


def _first_line(path: Path, encoding: str | None) -> str:
    fh = _open_binary(path)
    if fh is None:
        return ""
    with fh:
        raw = fh.readline(1 << 20)
    return raw.decode(normalise_encoding(encoding), errors="replace").lstrip("\ufeff").rstrip("\r\n")


def parse_error(
    path: str | os.PathLike[str], sep: str | None, encoding: str | None, exc: BaseException
) -> SourceFileError:
    """The error for a CSV that the reader could not parse, with its likely cause.

    When the header line, split by ``sep``, is a single field that holds
    another separator, the error is that of :func:`check_single_column`;
    otherwise the reader's message with the usual causes (a field holding the
    separator unquoted, e.g. a decimal comma in a ``","``-separated file; a
    header not on the first line).

    Parameters
    ----------
    path : str or path
        The file.
    sep : str or None
        Separator used.
    encoding : str or None
        The file's encoding.
    exc : BaseException
        The reader's exception.

    Returns
    -------
    SourceFileError
        To be raised by the caller.
    """
    path = Path(path)
    line = _first_line(path, encoding)
    if sep and len(sep) == 1 and line:
        fields = next(csv.reader([line], delimiter=sep), [])
        try:
            check_single_column(path, fields, sep)
        except SourceFileError as single:
            return single
    detail = " ".join(str(exc).strip().splitlines()[:3])
    title = _title_lines(path, sep, encoding)
    if title is not None:
        k, above, header = title
        return SourceFileError(
            f"{path}: cannot be parsed as CSV with separator {sep!r}: the first line ({above!r}) has fewer fields "
            f"than the lines below it, so it is probably a title above the header, which is on line {k + 1} "
            f"({header!r}): read it with read_options={{'skiprows': {k}}} (configuration `read_options: "
            f"{{skiprows: {k}}}`). (Reader's message: {detail})"
        )
    return SourceFileError(
        f"{path}: cannot be parsed as CSV with separator {sep!r}: its rows do not split into the header's fields. "
        f"Usual causes: a field holds the separator without quotes (e.g. decimal commas in a ','-separated file: "
        f"quote them, or export with ';' and read with read_options={{'sep': ';', 'decimal': ','}}), or the "
        f"header is not on the first line (read_options={{'skiprows': n}}). (Reader's message: {detail})"
    )


_HEADER_SCAN_ROWS = 30  # rows searched for the real header when the first one is not it


def _title_lines(path: Path, sep: str | None, encoding: str | None) -> tuple[int, str, str] | None:
    """``(header line, first line, header text)`` when lines above the header have fewer fields than the rest."""
    if not sep or len(sep) != 1:
        return None
    try:
        rows = _first_rows_csv(path, sep, encoding, 0)
    except Exception:  # noqa: BLE001 - a hint, never a second error
        return None
    filled = [(i, r) for i, r in enumerate(rows) if any(r)]
    if len(filled) < 3:
        return None
    counts = [len(r) for _, r in filled[1:]]
    mode = max(set(counts), key=counts.count)
    if len(filled[0][1]) >= mode or mode < 2 or sum(1 for c in filled[0][1] if c) != 1:
        return None  # a header with fewer fields than the rows (unquoted decimal commas) is not a title
    k, header = next((i, r) for i, r in filled if len(r) == mode)
    return k, sep.join(filled[0][1]).strip(sep), sep.join(header)


def _first_rows_excel(path: Path, sheet: str | int, skip: int) -> list[list[str]]:
    with _open_workbook(path) as book:
        frame = pd.read_excel(book, sheet_name=sheet, header=None, skiprows=skip, nrows=_HEADER_SCAN_ROWS,
                              dtype=object)
    return [["" if pd.isna(v) else str(v).strip() for v in row] for row in frame.itertuples(index=False)]


def _first_rows_csv(path: Path, sep: str | None, encoding: str | None, skip: int) -> list[list[str]]:
    fh = _open_binary(path)
    if fh is None:
        return []
    codec = normalise_encoding(encoding)
    lines: list[str] = []
    with fh:
        for i, raw in enumerate(fh):
            if i >= skip + _HEADER_SCAN_ROWS:
                break
            if i >= skip:
                lines.append(raw.decode(codec, errors="replace").lstrip("\ufeff").rstrip("\r\n"))
    return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=sep or ",")]


def header_row_hint(
    path: str | os.PathLike[str],
    wanted: Sequence[str],
    *,
    sheet: str | int | None = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
) -> str:
    """Where the header is when rows above it (a title, a blank line) were read as the header.

    The first rows of the file (or sheet) are searched for the row that
    holds the expected column names; the hint gives the ``skiprows`` that
    reads it as the header, for the API and for a configuration.

    Parameters
    ----------
    path : str or path
        CSV or ``.xlsx`` file.
    wanted : sequence of str
        Source column names expected in the header (e.g. the values of the
        ``columns`` mapping).
    sheet : str or int, optional
        The sheet read (workbooks); named in the hint.
    read_options : mapping, optional
        The reader options used (``sep``; a ``skiprows`` or ``header`` given
        is counted in).
    encoding : str, optional
        Encoding of a CSV file.

    Returns
    -------
    str
        The hint, or ``""`` when no row of the first 30 holds (most of) the
        expected names.
    """
    path = Path(path)
    opts = dict(read_options or {})
    wanted = [str(w) for w in wanted]
    if not wanted:
        return ""
    skip = opts.get("skiprows", opts.get("header", 0))
    if not isinstance(skip, (int, np.integer)) or isinstance(skip, bool):
        return ""  # a list of rows or a callable: leave it to the user's own option
    suffix = "".join(path.suffixes[-1:]).lower()
    sep = opts.get("sep", opts.get("delimiter")) or default_separator(path)
    # a CSV whose title line hid its separator: the other usual separators are tried too
    seps = [None] if suffix in EXCEL_SUFFIXES else [sep, *[c for c in SEPARATOR_CANDIDATES if c != sep]]
    for found_sep in seps:
        try:
            if found_sep is None:
                rows = _first_rows_excel(path, 0 if sheet is None else sheet, int(skip))
            else:
                rows = _first_rows_csv(path, found_sep, encoding or opts.get("encoding"), int(skip))
        except Exception:  # noqa: BLE001 - a hint, never a second error
            return ""
        best, best_row = 0, -1
        for i, row in enumerate(rows):
            n = len(set(wanted) & set(row))
            if n > best:
                best, best_row = n, i
        if best_row > 0 and (best == len(wanted) or (best >= 2 and 2 * best >= len(wanted))):
            break
    else:
        return ""
    line = int(skip) + best_row
    above = next((c for r in rows[:best_row] for c in r if c), "")
    where = f"sheet {sheet!r} of {path.name}" if suffix in EXCEL_SUFFIXES and sheet is not None else path.name
    title = f" (above it: {above!r}, a title?)" if above else " (blank rows above it)"
    key = "header" if "header" in opts and "skiprows" not in opts else "skiprows"
    api, yaml = f"'{key}': {line}", f"{key}: {line}"
    if found_sep is not None and found_sep != sep:
        api += f", 'sep': {found_sep!r}"
        yaml += ", sep: " + ('"\\t"' if found_sep == "\t" else f'"{found_sep}"')
    return (f"the header ({', '.join(repr(w) for w in wanted if w in rows[best_row])}) is on row {line + 1} of "
            f"{where}{title}" + (f", split by {_SEP_NAMES.get(found_sep, repr(found_sep))}"
                                  if found_sep is not None and found_sep != sep else "")
            + f": read it with read_options={{{api}}} (configuration `read_options: {{{yaml}}}`)")


def check_has_rows(
    path: str | os.PathLike[str],
    n_rows: int,
    columns: Sequence[object],
    *,
    sheet: str | int | None = None,
    sheets: Sequence[str] | None = None,
) -> None:
    """Raise when a file (or sheet) has a header but no data rows, or nothing at all.

    Parameters
    ----------
    path : str or path
        The file.
    n_rows : int
        Data rows read.
    columns : sequence
        Column names read.
    sheet : str or int, optional
        Excel sheet (for the message).
    sheets : sequence of str, optional
        All sheets of the workbook (for the message).

    Raises
    ------
    SourceFileError
        Naming the file (and sheet), the columns found and the fix.
    """
    if n_rows > 0:
        return
    where = f"{path}" + (f", sheet {sheet!r}," if sheet is not None else "")
    others = [s for s in (sheets or []) if s != sheet]
    elsewhere = (f" Other sheets of the workbook: {others}; choose one with sheet=... (configuration "
                 "`sheet: <name>`)." if others else "")
    if len(columns) == 0:
        raise SourceFileError(f"{where} is empty: no header and no data rows.{elsewhere}")
    raise SourceFileError(
        f"{where} has a header (columns {[str(c) for c in columns]}) but no data rows: the export selected no "
        f"rows, or the data are in another file. Check the export, or point the path at the file with the "
        f"data.{elsewhere}"
    )


# ----------------------------------------------------------- decimal commas
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DOT_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")


def comma_numbers(values: Iterable[object]) -> tuple[str | None, list[int]]:
    """Classify text values that are numbers written with commas.

    Parameters
    ----------
    values : iterable
        Raw values (non-strings are ignored).

    Returns
    -------
    kind : {"decimal", "decimal_dot_thousands", "thousands", "ambiguous"} or None
        ``"decimal"``: a decimal comma (``"12,50"``); ``"decimal_dot_thousands"``:
        with dots grouping thousands (``"1.234,50"``); ``"thousands"``: a comma
        grouping thousands (``"1,234.50"``); ``"ambiguous"``: only values like
        ``"1,234"``; ``None``: no such values.
    positions : list of int
        0-based positions of (up to five) such values.
    """
    decimal: list[int] = []
    dot_thousands = False
    thousands: list[int] = []
    ambiguous: list[int] = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            continue
        s = v.strip()
        if "," not in s:
            continue
        d, t = bool(_DECIMAL_COMMA.match(s)), bool(_THOUSANDS_COMMA.match(s))
        if d and t:
            ambiguous.append(i)
        elif d:
            decimal.append(i)
            dot_thousands = dot_thousands or bool(_DOT_THOUSANDS.match(s))
        elif t:
            thousands.append(i)
    if decimal:
        return ("decimal_dot_thousands" if dot_thousands else "decimal"), sorted(decimal + ambiguous)[:5]
    if thousands:
        return "thousands", sorted(thousands + ambiguous)[:5]
    if ambiguous:
        return "ambiguous", ambiguous[:5]
    return None, []


_COMMA_FIX = {
    "decimal": ("numbers with a decimal comma", "'decimal': ','", 'decimal: ","'),
    "decimal_dot_thousands": ("numbers with a decimal comma and '.' grouping thousands",
                              "'decimal': ',', 'thousands': '.'", 'decimal: ",", thousands: "."'),
    "thousands": ("numbers with ',' grouping thousands", "'thousands': ','", 'thousands: ","'),
    "ambiguous": ("numbers with a comma that is either a decimal comma or groups thousands",
                  "'decimal': ',' (or 'thousands': ',' if 1,234 means one thousand two hundred and thirty-four)",
                  'decimal: ","'),
}


def _other_bad_values(values: Sequence[object]) -> bool:
    """Whether a text value is neither a plain number nor a number written with commas (the number policy's case)."""
    plain = re.compile(number_pattern(NumberFormat()), flags=re.IGNORECASE)
    for v in values:
        if not isinstance(v, str):
            continue
        s = v.strip()
        if s and not plain.match(s) and not (_DECIMAL_COMMA.match(s) or _THOUSANDS_COMMA.match(s)):
            return True
    return False


def check_decimal_commas(
    path: str | os.PathLike[str], column: str, canonical: str, values: Sequence[object] | pd.Series
) -> None:
    """Raise when a numeric column's text values are numbers written with commas, and nothing else is wrong.

    The file's one-line diagnosis (the read option that fixes the file) is
    given only when every value that is not a plain number is a number written
    with commas. When other values are not numbers either (``'n/a'``, ``'€3'``,
    ``'1.2.3'``), nothing is raised here: the number policy then refuses the
    column with the message every reader gives (the count, five values and the
    fix for each kind, a decimal comma included;
    :func:`crm_analysis.data.numbers.numbers_message`), so the fix shown is the
    whole fix.

    Parameters
    ----------
    path : str or path
        The file (for the message).
    column : str
        Source column name.
    canonical : str
        Canonical column it feeds (``amount``, ``quantity``, ...).
    values : sequence or Series
        Its raw values (positions are 0-based data rows).

    Raises
    ------
    SourceFileError
        Naming the column, up to five values with their rows, and the read
        option that fixes it (``decimal=","``, ``thousands``).
    """
    vals = list(values)
    kind, pos = comma_numbers(vals)
    if kind is None or _other_bad_values(vals):
        return
    what, opt, yaml = _COMMA_FIX[kind]
    examples = "; ".join(f"row {p}: {vals[p]!r}" for p in pos)
    semicolon = " (with 'sep': ';' for ';'-separated files)" if kind != "thousands" else ""
    raise SourceFileError(
        f"{path}: column {column!r} (-> {canonical}) holds {what}, which are not read as numbers; examples "
        f"(0-based data row: raw value): {examples}. Pass read_options={{{opt}}}{semicolon}; in a "
        f"configuration `read_options: {{{yaml}}}`."
    )


# -------------------------------------------------------------------- Excel
def _open_workbook(path: Path) -> pd.ExcelFile:
    if path.stat().st_size == 0:
        raise SourceFileError(
            f"{path}: the file is empty (0 bytes); there is nothing to read. Check that the export finished "
            "and that the path points at the workbook."
        )
    try:
        return pd.ExcelFile(path, engine="openpyxl")
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise SourceFileError(f"{path}: reading Excel workbooks needs openpyxl ({exc}); pip install openpyxl") from None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceFileError(
            f"{path}: cannot be opened as an Excel .xlsx workbook ({type(exc).__name__}: {exc}). An .xlsx file is "
            "a zip archive; this one is not: perhaps a CSV or an old .xls saved under an .xlsx name (read it "
            "with fmt='csv' / `loader: csv`, or save it as .xlsx), or a password-protected workbook (save it "
            "without password)."
        ) from None


def excel_sheet_names(path: str | os.PathLike[str]) -> list[str]:
    """Names of the sheets of an Excel workbook, in workbook order.

    Parameters
    ----------
    path : str or path
        ``.xlsx`` / ``.xlsm`` workbook.

    Returns
    -------
    list of str

    Raises
    ------
    SourceFileError
        When the file is empty or not a workbook.
    """
    with _open_workbook(Path(path)) as book:
        return [str(s) for s in book.sheet_names]


def _resolve_sheets(path: Path, sheet: Sheet, names: list[str]) -> list[str]:
    if sheet is None:
        if len(names) == 1:
            return names
        raise SourceFileError(
            f"{path}: the workbook has {len(names)} sheets {names}; say which to read with sheet='<name>' or a "
            f"list of sheets to stack (configuration `sheet: <name>` or `sheet: [a, b]`), so that none is left "
            "out unnoticed."
        )
    wanted = [sheet] if isinstance(sheet, (str, int)) else list(sheet)
    if not wanted:
        raise SourceFileError(f"{path}: sheet= is an empty list; sheets of the workbook: {names}")
    out = []
    for s in wanted:
        if isinstance(s, bool) or not isinstance(s, (str, int, np.integer)):
            raise SourceFileError(f"{path}: sheet must be a sheet name or a 0-based position, got {shown(s)}")
        if isinstance(s, str):
            if s not in names:
                raise SourceFileError(f"{path}: no sheet named {s!r}; sheets of the workbook: {names}")
            out.append(s)
        else:
            if not 0 <= int(s) < len(names):
                raise SourceFileError(
                    f"{path}: sheet position {int(s)} is out of range; the workbook has {len(names)} sheets {names}"
                )
            out.append(names[int(s)])
    dups = sorted({s for s in out if out.count(s) > 1})
    if dups:
        raise SourceFileError(f"{path}: sheet(s) {dups} chosen more than once")
    return out


def _cells_as_number_text(values: pd.Series, decimal: str) -> pd.Series:
    """A column of Excel cells as text: number cells written out (positional, ``decimal`` as mark), text kept."""
    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return pd.NA
        if isinstance(v, (bool, np.bool_)):
            return str(v)  # refused by the number policy, as a word
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        if isinstance(v, (float, np.floating)):
            if not np.isfinite(v):
                return str(float(v))  # inf / -inf: counted by the cleaning
            return np.format_float_positional(float(v), trim="-").replace(".", decimal)
        return str(v)

    return pd.Series([one(v) for v in values], index=values.index, dtype="string")


def read_excel_sheets(
    path: str | os.PathLike[str],
    *,
    sheet: Sheet = None,
    read_options: Mapping[str, Any] | None = None,
    text_columns: Sequence[str] | None = None,
    number_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read one sheet, or several stacked, of an Excel workbook.

    Parameters
    ----------
    path : str or path
        ``.xlsx`` / ``.xlsm`` workbook.
    sheet : str, int, list of them, or None
        Sheet name or 0-based position; a list stacks the sheets in the order
        given (they must have the same columns; the order of the first is
        kept). ``None``: the only sheet (an error names the sheets when there
        are several).
    read_options : mapping, optional
        Keyword arguments of :func:`pandas.read_excel` (``skiprows``,
        ``header``, ``usecols``, ``decimal``, ...); not ``sheet_name``.
    text_columns : sequence of str, optional
        Columns read as text (absent ones are ignored); integral numbers give
        ``"17850"``, not ``"17850.0"``.
    number_columns : sequence of str, optional
        Columns of numbers read as text for the package's number policy
        (:mod:`crm_analysis.data.numbers`): a cell typed as a number is
        written with the declared decimal mark (``read_options`` ``decimal``,
        default ``"."``; no thousands separator), so that a sheet mixing
        number cells (``3.5``) and text cells (``"4,5"``) reads both under
        ``decimal: ","`` instead of refusing the number cells.

    Returns
    -------
    pandas.DataFrame
        Raw rows (fresh ``RangeIndex``).

    Raises
    ------
    SourceFileError
        Empty file or not a workbook; unknown sheet (the sheets are listed);
        several sheets and no choice; a sheet without data rows; stacked sheets
        with different columns.
    """
    path = Path(path)
    opts = dict(read_options or {})
    if "sheet_name" in opts:
        raise SourceFileError("pass the sheet as sheet=... (configuration `sheet:`), not read_options sheet_name")
    user_dtype = opts.pop("dtype", None)
    per_column_na = isinstance(opts.get("na_values"), Mapping) and "keep_default_na" not in opts
    with _open_workbook(path) as book:
        names = [str(s) for s in book.sheet_names]
        chosen = _resolve_sheets(path, sheet, names)
        frames = []
        for name in chosen:
            dtype = user_dtype
            if text_columns and (user_dtype is None or isinstance(user_dtype, Mapping)):
                dtype = {**{c: "string" for c in text_columns}, **dict(user_dtype or {})}
            sheet_opts = dict(opts)
            header = None
            if per_column_na:  # the columns the mapping does not name keep "empty cell = missing"
                header = list(pd.read_excel(book, sheet_name=name, nrows=0,
                                            **{k: v for k, v in opts.items() if k != "na_values"}).columns)
            missing_value_options(sheet_opts, columns=header)
            numeric = list(number_columns or [])
            if numeric and isinstance(dtype, Mapping):
                dtype = {**dict(dtype), **{c: object for c in numeric if c not in dict(user_dtype or {})}}
            df = pd.read_excel(book, sheet_name=name, dtype=dtype, **sheet_opts)
            for c in numeric:
                if c in df.columns and df[c].dtype == object:
                    df[c] = _cells_as_number_text(df[c], str(opts.get("decimal") or "."))
            check_has_rows(path, len(df), list(df.columns), sheet=name, sheets=names)
            frames.append((name, df))
    first_name, first = frames[0]
    for name, df in frames[1:]:
        a, b = [str(c) for c in first.columns], [str(c) for c in df.columns]
        if set(a) != set(b):
            raise SourceFileError(
                f"{path}: sheets {first_name!r} and {name!r} have different columns (only in {first_name!r}: "
                f"{[c for c in a if c not in b]}; only in {name!r}: {[c for c in b if c not in a]}); read them "
                "separately, or stack only sheets with the same layout"
            )
    if len(frames) == 1:
        return first.reset_index(drop=True)
    cols = list(first.columns)
    return pd.concat([df[cols] for _, df in frames], ignore_index=True)
