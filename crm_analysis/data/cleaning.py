"""Explicit, parameterised cleaning with a per-reason report.

Cleaning applies an ordered list of rules to a canonical frame. Each rule
flags rows; with action ``"drop"`` the flagged rows are removed, with
``"keep"`` they stay (and are only counted), and a rule whose parameter is
not set is listed with action ``"off"``. Every row that is dropped is
counted exactly once, under the *first* rule that removed it, with the money
involved, so that ``rows_in == rows_out + sum(rows dropped)`` always holds
(:meth:`CleaningReport.check`).

Transactions rules, in order (:class:`CleaningPolicy`):

1. ``missing_timestamp_or_amount`` -- timestamp or amount missing;
   ``nonfinite_amount`` -- amount, quantity or unit price infinite
   (``inf``/``-inf``, e.g. a division by zero upstream);
2. ``totals_row`` -- the customer id or the order id is a totals label of a
   spreadsheet export ("Total", "Grand total:", "Summe", ...; ``totals_rows``;
   before the next rule, since a totals row often has no customer);
   ``missing_customer_id`` -- no customer id (``null_customer``);
3. ``before_observation_start`` -- timestamp before ``observation_start``;
4. ``after_observation_end`` -- timestamp after ``observation_end``;
   ``sign_mismatch`` -- quantity and amount of opposite signs;
5. ``return_or_cancellation`` -- negative quantity, negative amount, a
   ``True`` in the marker column ``is_cancellation`` (:data:`CANCELLATION_MARKER`,
   set by the loaders of data sets that mark cancellations otherwise, e.g.
   UCI Online Retail's invoices ``"C..."``), or, only when the policy opts in
   with ``cancellation_prefix``, an ``order_id`` starting with that prefix
   (``returns``);
6. ``nonpositive_amount`` -- amount <= 0 on a line that is not a return, e.g.
   zero-price lines (``nonpositive_amount``);
7. ``exact_duplicate`` -- a line identical in every column to an earlier
   remaining line (``duplicates``; the first one is kept).

Bookings rules, in order (:class:`BookingCleaningPolicy`):

1. ``missing_values`` -- a required date, rate or segment missing;
   ``nonfinite_rate`` -- rate infinite;
2. ``duplicate_booking_id`` -- a booking id seen on an earlier remaining row;
3. ``before_observation_start`` / 4. ``after_observation_end`` -- arrival date
   outside the observation window;
5. ``booking_after_arrival`` -- booking date after arrival date;
   ``inconsistent_cancellation`` -- a cancellation date before the booking
   date, or on a booking that is not cancelled;
6. ``zero_nights`` -- bookings of zero nights (any status);
7. ``nonpositive_rate`` -- stayed bookings with rate <= 0.

Values changed when the data were read (text ids stripped of surrounding
blanks, timestamps converted from UTC offsets; see
:func:`crm_analysis.data.intake_changes`) are listed in the report too, as
steps with action ``"changed"`` before the rules: they drop nothing.

Observation bounds are inclusive days: with ``observation_end="2011-12-09"``
purchases on 9 December at any time are kept; a bound with a time of day is
used as given.

Data-set rules belong to the data set's loader: a generic file's order
numbers may well start with ``"C"`` (``"CO-1001"``), so the cleaning reads no
meaning into order ids unless told to (``cancellation_prefix``); the UCI
loaders (:func:`crm_analysis.data.load_online_retail`,
:func:`crm_analysis.data.load_online_retail_ii`) mark their cancellations in
``is_cancellation`` instead.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError, shown
from crm_analysis._validate import check_columns

from crm_analysis import _json as strict_json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from crm_analysis.data.errors import DataValidationError
from crm_analysis._dates import parse_date
from crm_analysis.data.schema import BOOKINGS, STRING_DTYPE, TRANSACTIONS, Schema

__all__ = [
    "CANCELLATION_MARKER",
    "CleaningPolicy",
    "BookingCleaningPolicy",
    "CleaningStep",
    "CleaningReport",
    "CleanResult",
    "clean_transactions",
    "clean_bookings",
    "dropped_lines",
    "return_mask",
    "TOTALS_LABELS",
    "cancellation_marker",
]

Action = Literal["drop", "keep"]

#: Boolean marker column of canonical transactions: True on a cancellation line.
#: Written by the loaders of data sets that mark cancellations by a data-set rule
#: (UCI Online Retail: invoice numbers starting with "C"); a generic file may
#: carry it too (True/False, or 1/0). Not a schema column: an optional extra.
CANCELLATION_MARKER = "is_cancellation"
DateLike = str | pd.Timestamp | np.datetime64 | None
_ACTIONS = ("drop", "keep")


def _limit(when: object) -> str:
    """A date limit of a cleaning rule for the report: ``2024-12-31`` (the time only when not midnight), or "not set"."""
    if when is None:
        return "not set"
    ts = pd.Timestamp(when)
    return f"{ts:%Y-%m-%d}" if ts == ts.normalize() else f"{ts:%Y-%m-%d %H:%M}"


def _check_action(owner: object, name: str) -> None:
    value = getattr(owner, name)
    if value not in _ACTIONS:
        raise InputError(f"{type(owner).__name__}.{name} must be 'drop' or 'keep', got {shown(value)}")


def _timestamp(value: DateLike, name: str) -> pd.Timestamp | None:
    return parse_date(value, name, allow_none=True, tz="strip", time="keep")


def _end_mask(ts: pd.Series, end: pd.Timestamp) -> np.ndarray:
    if end == end.normalize():  # a day: inclusive
        return (ts >= end + pd.Timedelta(days=1)).to_numpy(dtype=bool, na_value=False)
    return (ts > end).to_numpy(dtype=bool, na_value=False)


def _start_mask(ts: pd.Series, start: pd.Timestamp) -> np.ndarray:
    return (ts < start).to_numpy(dtype=bool, na_value=False)


class _Policy:
    """Validation and serialisation shared by the cleaning policies.

    Subclasses are frozen dataclasses with the action fields named in
    ``_ACTIONS`` and an ``observation_start`` / ``observation_end`` window.
    """

    _ACTIONS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self._ACTIONS:
            _check_action(self, name)
        start = _timestamp(self.observation_start, "observation_start")  # type: ignore[attr-defined]
        end = _timestamp(self.observation_end, "observation_end")  # type: ignore[attr-defined]
        if start is not None and end is not None and start > end:
            raise InputError(f"observation_start {start} is after observation_end {end}")

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON-able dict (dates as ISO strings)."""
        return {k: (None if v is None else str(v)) if k.startswith("observation") else v for k, v in asdict(self).items()}  # type: ignore[call-overload]


@dataclass(frozen=True)
class CleaningPolicy(_Policy):
    """How :func:`clean_transactions` treats suspicious transaction lines.

    Parameters
    ----------
    returns : {"drop", "keep"}, default "drop"
        Return / cancellation lines: negative quantity or negative amount,
        ``True`` in the marker column ``is_cancellation`` where the frame has
        it, or an ``order_id`` starting with ``cancellation_prefix``. With
        ``"keep"`` a day on which a customer only returned goods stays a
        transaction day: :func:`crm_analysis.rfm.rfm_summary` counts it as a
        purchase day (a repeat purchase when it is not the customer's first
        day, moving ``recency`` to it) with a negative value; the report
        counts these days (step ``return_only_day``, action ``"keep"``: its
        ``rows`` are their lines, the description gives the number of
        customer-days).
    cancellation_prefix : str or None, default None
        Opt-in order-id prefix marking cancellations in a generic file whose
        exporter uses one. ``None`` (default): order ids carry no meaning; the
        UCI Online Retail loaders mark their ``"C"`` invoices in
        ``is_cancellation`` themselves.
    null_customer : {"drop", "keep"}, default "drop"
        Lines without a customer id (they cannot enter customer-level models).
    nonpositive_amount : {"drop", "keep"}, default "drop"
        Lines with amount <= 0 that are not returns (zero-price lines, ...).
    duplicates : {"drop", "keep"}, default "drop"
        Exact duplicate lines (all columns equal); the first is kept.
    missing_values : {"drop", "keep"}, default "drop"
        Lines whose timestamp or amount is missing.
    totals_rows : {"drop", "keep"}, default "drop"
        Lines whose customer id or order id is a totals label of a
        spreadsheet export (:data:`TOTALS_LABELS`: "Total", "Summe", "Gesamt",
        "Somme", ... in any case, with an optional colon or full stop): a
        totals row would become a customer worth the whole revenue.
    sign_mismatch : {"drop", "keep"}, default "drop"
        Lines whose quantity and amount have opposite signs (a return of
        ``-1`` unit booked at ``+5.50``): whether it is a sale or a return
        cannot be told.
    observation_start, observation_end : date-like, optional
        Observation window (inclusive days); lines outside are dropped.
    """

    returns: Action = "drop"
    cancellation_prefix: str | None = None
    null_customer: Action = "drop"
    nonpositive_amount: Action = "drop"
    duplicates: Action = "drop"
    missing_values: Action = "drop"
    totals_rows: Action = "drop"
    sign_mismatch: Action = "drop"
    observation_start: DateLike = None
    observation_end: DateLike = None

    _ACTIONS: ClassVar[tuple[str, ...]] = ("returns", "null_customer", "nonpositive_amount", "duplicates", "missing_values",
                                           "totals_rows", "sign_mismatch")

    def __post_init__(self) -> None:
        super().__post_init__()
        prefix = self.cancellation_prefix
        if prefix is not None and (not isinstance(prefix, str) or not prefix.strip()):
            raise InputError(
                f"CleaningPolicy.cancellation_prefix must be a non-empty string or None, got {shown(prefix)}"
            )


@dataclass(frozen=True)
class BookingCleaningPolicy(_Policy):
    """How :func:`clean_bookings` treats suspicious bookings.

    Parameters
    ----------
    nonpositive_rate : {"drop", "keep"}, default "drop"
        Stayed bookings with rate <= 0 (complimentary rooms, data errors).
    zero_nights : {"drop", "keep"}, default "drop"
        Bookings of zero nights (day use), whatever their status.
    duplicates : {"drop", "keep"}, default "drop"
        Rows repeating the booking id of an earlier row (exact duplicate
        rows are a special case); the first is kept.
    booking_after_arrival : {"drop", "keep"}, default "drop"
        Bookings whose booking date is after the arrival date.
    missing_values : {"drop", "keep"}, default "drop"
        Bookings missing a booking date, arrival date, rate or segment.
    inconsistent_cancellation : {"drop", "keep"}, default "drop"
        A cancellation date before the booking date, or a cancellation date
        on a booking that is not cancelled: the booking's history on the
        books (which the unconstraining and the pick-up replay) cannot be told.
    observation_start, observation_end : date-like, optional
        Window of arrival dates (inclusive days); bookings arriving outside
        it are dropped.
    """

    nonpositive_rate: Action = "drop"
    zero_nights: Action = "drop"
    duplicates: Action = "drop"
    booking_after_arrival: Action = "drop"
    missing_values: Action = "drop"
    inconsistent_cancellation: Action = "drop"
    observation_start: DateLike = None
    observation_end: DateLike = None

    _ACTIONS: ClassVar[tuple[str, ...]] = ("nonpositive_rate", "zero_nights", "duplicates", "booking_after_arrival",
                                           "missing_values", "inconsistent_cancellation")


@dataclass
class CleaningStep:
    """One rule of a cleaning run.

    Attributes
    ----------
    step : int
        Position of the rule (1-based, order of application).
    reason : str
        Machine name of the rule, e.g. ``"return_or_cancellation"``.
    action : {"drop", "keep", "off", "changed"}
        What was done with the flagged rows (``"off"``: rule not active;
        ``"changed"``: values changed when the data were read, step 0).
    rows : int
        Rows flagged by this rule among the rows remaining before it.
    amount : float
        Sum of their money (transactions: ``amount``; bookings:
        ``rate * nights * units``).
    rows_remaining : int
        Rows remaining after the rule.
    description : str
        Human description of the rule with its parameters.
    """

    step: int
    reason: str
    action: str
    rows: int
    amount: float
    rows_remaining: int
    description: str


@dataclass
class CleaningReport:
    """What a cleaning run dropped or flagged, by reason, in order.

    Attributes
    ----------
    kind : str
        ``"transactions"`` or ``"bookings"``.
    rows_in, rows_out : int
        Rows before and after cleaning.
    amount_in, amount_out : float
        Money before and after cleaning.
    steps : list of CleaningStep
        The rules in the order applied.
    policy : dict
        The policy used.
    """

    kind: str
    rows_in: int
    rows_out: int
    amount_in: float
    amount_out: float
    steps: list[CleaningStep] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def dropped(self) -> dict[str, int]:
        """Rows dropped per reason (rules with action ``"drop"``)."""
        return {s.reason: s.rows for s in self.steps if s.action == "drop"}

    @property
    def rows_dropped(self) -> int:
        """Total rows dropped."""
        return int(sum(self.dropped.values()))

    def check(self) -> None:
        """Assert the accounting invariant ``rows_in == rows_out + rows_dropped``.

        Raises
        ------
        AssertionError
            When rows are unaccounted for (a bug).
        """
        if self.rows_in != self.rows_out + self.rows_dropped:
            raise AssertionError(
                f"cleaning report does not add up: rows_in {self.rows_in} != rows_out "
                f"{self.rows_out} + dropped {self.rows_dropped}"
            )

    def table(self) -> pd.DataFrame:
        """Tidy table: step, reason, action, rows, amount, rows_remaining, description."""
        cols = ["step", "reason", "action", "rows", "amount", "rows_remaining", "description"]
        return pd.DataFrame([asdict(s) for s in self.steps], columns=cols).astype(
            {"step": "int64", "rows": "int64", "amount": "float64", "rows_remaining": "int64"}
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of the report (plain ints, floats and strings)."""
        return {
            "kind": self.kind,
            "rows_in": int(self.rows_in),
            "rows_out": int(self.rows_out),
            "rows_dropped": self.rows_dropped,
            "amount_in": float(self.amount_in),
            "amount_out": float(self.amount_out),
            "policy": dict(self.policy),
            "steps": [
                {**asdict(s), "step": int(s.step), "rows": int(s.rows), "amount": float(s.amount),
                 "rows_remaining": int(s.rows_remaining)}
                for s in self.steps
            ],
        }

    def to_json(self, **kwargs: Any) -> str:
        """The report as a strict JSON string (keyword arguments go to :func:`json.dumps`).

        A non-finite amount (``amount_in`` of lines with an infinite amount) is
        written as ``null`` / ``"Infinity"`` / ``"-Infinity"``, never as a bare
        ``NaN`` / ``Infinity`` token (:mod:`crm_analysis._json`).
        """
        return strict_json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        lines = [f"{self.kind}: {self.rows_in:,} rows in, {self.rows_out:,} out"]
        for s in self.steps:
            if s.action != "off":
                lines.append(f"  {s.step}. {s.reason:<28} {s.action:<4} {s.rows:>9,} rows  {s.amount:>14,.2f}")
        return "\n".join(lines)


@dataclass
class CleanResult:
    """Result of a cleaning run.

    Attributes
    ----------
    data : pandas.DataFrame
        The cleaned frame (fresh ``RangeIndex``).
    report : CleaningReport
        What was dropped or flagged, by reason.
    reasons : pandas.Series
        For every input row (by 0-based position), the reason it was dropped
        or ``<NA>`` when it was kept.
    """

    data: pd.DataFrame
    report: CleaningReport
    reasons: pd.Series


# -------------------------------------------------------------------- engine
Rule = tuple[str, str, str, Callable[[pd.DataFrame], np.ndarray] | None]


def _period_rules(column: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> list[Rule]:
    """The two rules of the observation period on ``column``: rows outside are dropped; a rule without its limit is off."""
    return [
        (
            "before_observation_start",
            "drop",
            f"{column} before the observation start ({_limit(start)})",
            None if start is None else (lambda d: _start_mask(d[column], start)),
        ),
        (
            "after_observation_end",
            "drop",
            f"{column} after the observation end ({_limit(end)})",
            None if end is None else (lambda d: _end_mask(d[column], end)),
        ),
    ]


def _run(
    df: pd.DataFrame,
    rules: list[Rule],
    money: Callable[[pd.DataFrame], pd.Series],
    kind: str,
    policy: dict[str, Any],
) -> CleanResult:
    work = df.reset_index(drop=True)
    pos = np.arange(len(work))
    changes = df.attrs.get("intake_changes", [])
    reasons = pd.Series(pd.NA, index=pd.RangeIndex(len(work)), dtype=STRING_DTYPE)
    rows_in = len(work)
    amount_in = float(money(work).sum())
    steps: list[CleaningStep] = [
        CleaningStep(0, f"{c['column']}: {c['reason']}", "changed", int(c["rows"]), 0.0, rows_in, c["description"])
        for c in changes
    ]
    for i, (reason, action, description, rule) in enumerate(rules, start=1):
        if rule is None:
            steps.append(CleaningStep(i, reason, "off", 0, 0.0, len(work), description))
            continue
        mask = np.asarray(rule(work), dtype=bool)
        amount = float(money(work)[mask].sum())
        n = int(mask.sum())
        if action == "drop" and n:
            reasons.iloc[pos[mask]] = reason
            work = work.loc[~mask].reset_index(drop=True)
            pos = pos[~mask]
        steps.append(CleaningStep(i, reason, action, n, amount, len(work), description))
    report = CleaningReport(
        kind=kind,
        rows_in=rows_in,
        rows_out=len(work),
        amount_in=amount_in,
        amount_out=float(money(work).sum()),
        steps=steps,
        policy=policy,
    )
    report.check()
    return CleanResult(work, report, reasons)


def _require(df: pd.DataFrame, schema: Schema, names: tuple[str, ...]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputTypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    check_columns(names, df.columns, table=f"the {schema.name} to clean", error=DataValidationError,
                  fix=f"Cleaning needs the canonical columns: load the data with "
                      f"crm_analysis.data.load_{schema.name}(...) first")
    wrong = []
    for col in schema:
        if col.name not in df.columns or col.dtype == "string":
            continue
        dtype = df[col.name].dtype
        if col.dtype == "datetime64[ns]":
            ok = isinstance(dtype, np.dtype) and dtype.kind == "M"
        else:
            ok = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if not ok:
            wrong.append(f"{col.name!r} is {dtype}, not {col.dtype}")
    if wrong:
        raise DataValidationError(
            f"cleaning needs canonical {schema.name}: {'; '.join(wrong)}. Load the data with "
            f"crm_analysis.data.load_{schema.name}(...) (or validate_{schema.name}) first, which reads dates "
            "and numbers by the package's rules"
        )


#: Text spellings of the cancellation marker (case-insensitive, blanks ignored).
_MARKER_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
                 "y": True, "n": False, "t": True, "f": False}


#: Customer ids that are the totals row of a spreadsheet export, lower case (see ``totals_rows``).
TOTALS_LABELS = frozenset({
    "total", "totals", "grand total", "subtotal", "sub-total", "sub total", "sum", "summe", "gesamt",
    "gesamtsumme", "zwischensumme", "somme", "total général", "totaal", "totale", "suma", "summa",
})


def cancellation_marker(df: pd.DataFrame) -> np.ndarray | None:
    """The ``is_cancellation`` marker of a transactions frame as booleans, or None without it.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical transactions.

    Returns
    -------
    numpy.ndarray of bool or None

    Raises
    ------
    DataValidationError
        When the column holds anything but True/False (also 1/0 and the text
        spellings true/false, yes/no, y/n, t/f in any case), or missing
        values, naming the values and the fix.
    """
    if CANCELLATION_MARKER not in df.columns:
        return None
    col = df[CANCELLATION_MARKER]
    if pd.api.types.is_bool_dtype(col.dtype) and not col.isna().any():
        return col.to_numpy(dtype=bool)
    values = col.astype(object)

    def flag(v: object) -> bool | None:
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v) and v in (0, 1):
            return bool(v)
        if isinstance(v, str):  # what a CSV or a spreadsheet writes
            return _MARKER_WORDS.get(v.strip().lower())
        return None

    flags = values.map(flag)
    ok = flags.notna()
    if ok.all():
        return flags.to_numpy(dtype=bool)
    bad = np.flatnonzero(~ok.to_numpy(dtype=bool))
    examples = "; ".join(f"row {int(i)}: {values.iloc[int(i)]!r}" for i in bad[:5])
    raise DataValidationError(
        f"column {CANCELLATION_MARKER!r} marks cancellations and must hold true/false (also 1/0, yes/no, "
        f"TRUE/FALSE) on every row; "
        f"{len(bad)} value(s) do not (0-based row: value): {examples}. Convert it first, e.g. "
        f"df[{CANCELLATION_MARKER!r}] = df[{CANCELLATION_MARKER!r}].eq('yes'), or drop the column"
    )


def return_mask(df: pd.DataFrame, *, cancellation_prefix: str | None = None) -> np.ndarray:
    """Flag return / cancellation lines of a canonical transactions frame.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical transactions.
    cancellation_prefix : str or None, default None
        Opt-in order-id prefix of cancellations; ``None`` ignores order ids.

    Returns
    -------
    numpy.ndarray of bool
        True where quantity < 0, amount < 0, the ``is_cancellation`` marker
        (:data:`CANCELLATION_MARKER`, where the frame has it) is True, or
        order_id starts with the prefix.

    Raises
    ------
    DataValidationError
        When ``is_cancellation`` holds values other than True/False (1/0).
    """
    mask = (df["amount"] < 0).to_numpy(dtype=bool, na_value=False)
    if "quantity" in df.columns:
        mask = mask | (df["quantity"] < 0).to_numpy(dtype=bool, na_value=False)
    marker = cancellation_marker(df)
    if marker is not None:
        mask = mask | marker
    if cancellation_prefix and "order_id" in df.columns:
        ids = df["order_id"].astype(STRING_DTYPE)
        mask = mask | ids.str.startswith(cancellation_prefix).to_numpy(dtype=bool, na_value=False)
    return mask


def clean_transactions(df: pd.DataFrame, *, policy: CleaningPolicy | None = None) -> CleanResult:
    """Clean canonical transactions by an explicit policy, counting every drop.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical transactions (see :func:`crm_analysis.data.load_transactions`).
    policy : CleaningPolicy, optional
        Default: ``CleaningPolicy()`` (drop returns -- negative quantity or
        amount, or ``is_cancellation`` -- lines without customer, non-positive
        amounts, exact duplicates and lines missing a timestamp or amount; no
        observation window; order ids carry no meaning).

    Returns
    -------
    CleanResult
        ``.data`` (cleaned frame), ``.report`` (per-reason counts and amounts
        in the order the rules were applied; see the module docstring),
        ``.reasons`` (per input row).

    Examples
    --------
    >>> df = pd.DataFrame({"customer_id": ["a", None, "b"], "timestamp": pd.to_datetime(["2024-01-01"] * 3),
    ...                    "amount": [5.0, 3.0, -2.0]})
    >>> res = clean_transactions(df)
    >>> res.report.dropped["missing_customer_id"], res.report.dropped["return_or_cancellation"], res.report.rows_out
    (1, 1, 1)
    """
    policy = policy or CleaningPolicy()
    _require(df, TRANSACTIONS, TRANSACTIONS.required)
    start = _timestamp(policy.observation_start, "observation_start")
    end = _timestamp(policy.observation_end, "observation_end")
    prefix = policy.cancellation_prefix
    has_marker = cancellation_marker(df) is not None  # checks the marker's values up front

    def missing(d: pd.DataFrame) -> np.ndarray:
        return (d["timestamp"].isna() | d["amount"].isna()).to_numpy(dtype=bool)

    def totals(d: pd.DataFrame) -> np.ndarray:
        out = np.zeros(len(d), dtype=bool)
        for col in ("customer_id", "order_id"):
            if col in d.columns:
                ids = d[col].astype(STRING_DTYPE).str.strip().str.rstrip(":.").str.strip().str.lower()
                out |= ids.isin(TOTALS_LABELS).to_numpy(dtype=bool, na_value=False)
        return out

    def mismatch(d: pd.DataFrame) -> np.ndarray:
        if "quantity" not in d.columns:
            return np.zeros(len(d), dtype=bool)
        q, a = d["quantity"], d["amount"]
        return (((q < 0) & (a > 0)) | ((q > 0) & (a < 0))).to_numpy(dtype=bool, na_value=False)

    def nonfinite(d: pd.DataFrame) -> np.ndarray:
        cols = [c for c in ("amount", "quantity", "unit_price") if c in d.columns]
        return np.isinf(d[cols].to_numpy(dtype="float64", na_value=np.nan)).any(axis=1)

    def no_customer(d: pd.DataFrame) -> np.ndarray:
        ids = d["customer_id"]
        blank = ids.astype(STRING_DTYPE).str.strip().eq("").to_numpy(dtype=bool, na_value=False)
        return ids.isna().to_numpy(dtype=bool) | blank

    def nonpositive(d: pd.DataFrame) -> np.ndarray:
        return (d["amount"] <= 0).to_numpy(dtype=bool, na_value=False) & ~return_mask(d, cancellation_prefix=prefix)

    def duplicated(d: pd.DataFrame) -> np.ndarray:
        return d.duplicated(keep="first").to_numpy(dtype=bool)

    rules: list[Rule] = [
        ("missing_timestamp_or_amount", policy.missing_values, "timestamp or amount missing", missing),
        ("nonfinite_amount", "drop", "amount, quantity or unit_price is infinite (inf or -inf)", nonfinite),
        ("totals_row", policy.totals_rows, "customer_id or order_id is a totals label (Total, Summe, Gesamt, ...)",
         totals),
        ("missing_customer_id", policy.null_customer, "customer_id missing or blank", no_customer),
        *_period_rules("timestamp", start, end),
        ("sign_mismatch", policy.sign_mismatch, "quantity and amount of opposite signs", mismatch),
        (
            "return_or_cancellation",
            policy.returns,
            "quantity < 0 or amount < 0"
            + (f" or {CANCELLATION_MARKER} (set by the data set's loader)" if has_marker else "")
            + (f" or order_id starting with {prefix!r}" if prefix else ""),
            lambda d: return_mask(d, cancellation_prefix=prefix),
        ),
        ("nonpositive_amount", policy.nonpositive_amount, "amount <= 0 (not a return), e.g. zero price", nonpositive),
        ("exact_duplicate", policy.duplicates, "line identical in every column to an earlier one", duplicated),
    ]
    result = _run(df, rules, _transaction_money, "transactions", policy.to_dict())
    if policy.returns == "keep":
        result.report.steps.append(_return_only_days(result.data, prefix, step=len(rules) + 1))
    return result


def _return_only_days(data: pd.DataFrame, prefix: str | None, *, step: int) -> CleaningStep:
    """The kept customer-days whose every line is a return: purchase days for ``rfm_summary`` (n12 finding F8)."""
    ret = pd.Series(return_mask(data, cancellation_prefix=prefix), index=data.index)
    day = data["timestamp"].dt.normalize()
    only = ret.groupby([data["customer_id"], day], dropna=False, sort=False).transform("all").to_numpy(dtype=bool)
    n_days = int(pd.MultiIndex.from_arrays([data["customer_id"][only], day[only]]).nunique()) if only.any() else 0
    return CleaningStep(
        step, "return_only_day", "keep", int(only.sum()), float(_transaction_money(data)[only].sum()), len(data),
        f"{n_days} customer-day(s) with returns only, kept (returns: keep): rfm_summary counts each as a purchase "
        "day (a repeat purchase unless it is the customer's first day) with a negative value",
    )


def dropped_lines(raw: pd.DataFrame, result: CleanResult, *, reason: str = "return_or_cancellation") -> pd.DataFrame:
    """The input rows a cleaning run dropped for ``reason``, e.g. the return lines.

    The data-quality step hands the returns it drops to the profitability
    analysis this way (artefact ``returns.parquet``): they are not purchases,
    but they are what the customers cost.

    Parameters
    ----------
    raw : pandas.DataFrame
        The frame that was cleaned (same rows, same order).
    result : CleanResult
        What :func:`clean_transactions` / :func:`clean_bookings` returned for ``raw``.
    reason : str, default "return_or_cancellation"
        Machine name of a rule (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Those rows of ``raw`` (fresh ``RangeIndex``, the columns of ``raw``).

    Raises
    ------
    ValueError
        ``raw`` has another number of rows than the cleaning's input, or
        ``reason`` is no rule of the run.
    """
    if len(raw) != len(result.reasons):
        raise InputError(
            f"raw has {len(raw)} rows but the cleaning read {len(result.reasons)}: pass the frame that was cleaned"
        )
    known = {step.reason for step in result.report.steps}
    if reason not in known:
        raise InputError(f"{reason!r} is not a rule of this cleaning run; rules: {sorted(known)}")
    mask = (result.reasons == reason).to_numpy(dtype=bool, na_value=False)
    return raw.reset_index(drop=True).loc[mask].reset_index(drop=True)


def _finite_or_zero(values: pd.Series) -> pd.Series:
    """Money for the report: missing and infinite values count as 0 (they are counted as rows)."""
    v = values.astype("float64")
    return v.where(np.isfinite(v.to_numpy(dtype="float64", na_value=np.nan)), 0.0)


def _transaction_money(d: pd.DataFrame) -> pd.Series:
    return _finite_or_zero(d["amount"])


def _booking_money(d: pd.DataFrame) -> pd.Series:
    units = d["units"] if "units" in d.columns else 1
    return _finite_or_zero(d["rate"] * d["nights"] * units)


def clean_bookings(df: pd.DataFrame, *, policy: BookingCleaningPolicy | None = None) -> CleanResult:
    """Clean canonical bookings by an explicit policy, counting every drop.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical bookings (see :func:`crm_analysis.data.load_bookings`).
    policy : BookingCleaningPolicy, optional
        Default: ``BookingCleaningPolicy()``.

    Returns
    -------
    CleanResult
        As :func:`clean_transactions`; amounts are room revenue
        ``rate * nights * units``.
    """
    policy = policy or BookingCleaningPolicy()
    _require(df, BOOKINGS, BOOKINGS.required)
    start = _timestamp(policy.observation_start, "observation_start")
    end = _timestamp(policy.observation_end, "observation_end")

    def missing(d: pd.DataFrame) -> np.ndarray:
        cols = ["booking_date", "arrival_date", "rate", "segment"]
        return d[cols].isna().any(axis=1).to_numpy(dtype=bool)

    def dup(d: pd.DataFrame) -> np.ndarray:
        return d["booking_id"].duplicated(keep="first").to_numpy(dtype=bool)

    def nonfinite(d: pd.DataFrame) -> np.ndarray:
        return np.isinf(d["rate"].to_numpy(dtype="float64", na_value=np.nan))

    def after(d: pd.DataFrame) -> np.ndarray:
        return (d["booking_date"] > d["arrival_date"]).to_numpy(dtype=bool, na_value=False)

    def zero(d: pd.DataFrame) -> np.ndarray:
        return (d["nights"] == 0).to_numpy(dtype=bool, na_value=False)

    def nonpositive(d: pd.DataFrame) -> np.ndarray:
        return ((d["rate"] <= 0) & (d["status"] == "stayed")).to_numpy(dtype=bool, na_value=False)

    def cancel_dates(d: pd.DataFrame) -> np.ndarray:
        if "cancellation_date" not in d.columns:
            return np.zeros(len(d), dtype=bool)
        cd = d["cancellation_date"]
        early = (cd < d["booking_date"]).to_numpy(dtype=bool, na_value=False)
        stray = (cd.notna() & (d["status"] != "cancelled")).to_numpy(dtype=bool, na_value=False)
        return early | stray

    rules: list[Rule] = [
        ("missing_values", policy.missing_values, "booking_date, arrival_date, rate or segment missing", missing),
        ("nonfinite_rate", "drop", "rate is infinite (inf or -inf)", nonfinite),
        ("duplicate_booking_id", policy.duplicates, "booking_id repeated (first kept)", dup),
        *_period_rules("arrival_date", start, end),
        ("booking_after_arrival", policy.booking_after_arrival, "booking_date after arrival_date", after),
        ("inconsistent_cancellation", policy.inconsistent_cancellation,
         "cancellation_date before booking_date, or on a booking that is not cancelled", cancel_dates),
        ("zero_nights", policy.zero_nights, "nights == 0 (any status)", zero),
        ("nonpositive_rate", policy.nonpositive_rate, "stayed booking with rate <= 0", nonpositive),
    ]
    return _run(df, rules, _booking_money, "bookings", policy.to_dict())
