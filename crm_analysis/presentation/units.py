"""Currency and number formats of the reports, from the configuration.

Formats are explicit (no locale): thousands separated by ``,``, decimals by
``.``, the currency written as its ISO 4217 code before the amount
(``EUR 1,234``). One rounding rule for money everywhere (cards, tables,
axes): :func:`money_decimals` -- whole currency units from 1,000 up, below
that the currency's ISO 4217 minor unit (cents; none for JPY; 3 digits for KWD).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.numbers import get_currency_precision, is_currency

__all__ = [
    "Units",
    "DEFAULT_UNITS",
    "money_decimals",
    "format_money",
    "format_number",
    "format_count",
    "format_percent",
]

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
#: From this magnitude on money is shown in whole currency units.
WHOLE_UNITS_FROM = 1000.0


@dataclass(frozen=True)
class Units:
    """Units of the figures a report shows.

    Parameters
    ----------
    currency : str, default "EUR"
        ISO 4217 code of the money amounts of the data (``"EUR"``, ``"GBP"``,
        ``"USD"``), written before every amount.
    time_unit : str, default "days"
        Unit of the demand series' time axis (shown in axis labels).
    demand_unit : str, default "room-nights"
        What the bookings' demand counts.

    Raises
    ------
    ValueError
        On a currency that is not an ISO 4217 code (``InputError``).
    """

    currency: str = "EUR"
    time_unit: str = "days"
    demand_unit: str = "room-nights"

    def __post_init__(self) -> None:
        cur = self.currency
        if not isinstance(cur, str) or not _CURRENCY_RE.match(cur.strip().upper()):
            raise InputError(
                f"units.currency: expected an ISO 4217 code of three letters such as 'EUR', 'GBP' or 'USD', "
                f"got {shown(cur)}"
            )
        code = cur.strip().upper()
        if not is_currency(code):
            raise InputError(
                f"units.currency: {cur!r} is not an ISO 4217 currency code; use the code of the data's currency "
                f"such as 'EUR', 'GBP', 'USD', 'CHF' or 'JPY'"
            )
        object.__setattr__(self, "currency", code)

    @property
    def decimals(self) -> int:
        """Minor-unit digits of the currency (ISO 4217, from CLDR via babel): 2 for EUR, 0 for JPY, 3 for KWD."""
        return int(get_currency_precision(self.currency))

    @classmethod
    def from_config(cls, spec: Mapping[str, Any] | "Units" | None) -> "Units":
        """Build from the ``units:`` mapping of a configuration (``None``: the defaults).

        Raises
        ------
        ValueError
            On an unknown key or a bad value.
        """
        if spec is None:
            return cls()
        if isinstance(spec, Units):
            return spec
        if not isinstance(spec, Mapping):
            raise InputError(f"units: expected a mapping such as {{currency: EUR}}, got {shown(spec)}")
        known = {"currency", "time_unit", "demand_unit"}
        unknown = sorted(set(map(str, spec)) - known)
        if unknown:
            raise InputError(f"units: unknown key(s) {unknown}; known: {sorted(known)}")
        return cls(**dict(spec))

    @classmethod
    def from_run(cls, run_dir: str | Path | None) -> "Units":
        """The units of a run: the ``units:`` of ``<run_dir>/config.yaml`` (defaults when absent).

        A notebook run on its own (no run folder or no ``config.yaml``) gets the defaults.
        """
        if run_dir is None:
            return cls()
        path = Path(run_dir) / "config.yaml"
        if not path.is_file():
            return cls()
        import yaml

        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls.from_config(raw.get("units") if isinstance(raw, dict) else None)

    def to_dict(self) -> dict[str, str]:
        """Plain mapping, the inverse of :meth:`from_config`."""
        return {"currency": self.currency, "time_unit": self.time_unit, "demand_unit": self.demand_unit}

    def money_label(self, label: str) -> str:
        """``"Revenue"`` -> ``"Revenue (EUR)"``."""
        return f"{label} ({self.currency})"


#: Units used where a run's configuration gives none.
DEFAULT_UNITS = Units()


def _finite(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def money_decimals(values: float | Iterable[float], *, units: Units | None = None) -> int:
    """Decimals of money: 0 when the largest magnitude is at least 1,000, else the currency's minor unit.

    Applied to a whole column, so that one column has one rounding. The minor
    unit is that of ISO 4217 (:attr:`Units.decimals`): cents for EUR, GBP,
    USD, CHF (2), none for JPY (0), fils for KWD (3).

    Examples
    --------
    >>> money_decimals(8798233.74), money_decimals([12.5, 310.0]), money_decimals(12.5, units=Units("JPY"))
    (0, 2, 0)
    """
    vals = [values] if isinstance(values, (int, float)) else list(values)
    finite = [abs(v) for v in (_finite(x) for x in vals) if v is not None and math.isfinite(v)]
    return 0 if finite and max(finite) >= WHOLE_UNITS_FROM else (units or DEFAULT_UNITS).decimals


def format_number(value: Any, *, decimals: int = 2) -> str:
    """A number with thousands separators and ``decimals`` decimals; ``-`` when missing.

    Rounds half away from zero on the decimal digits of the value (the way
    people round by hand: ``12.5 -> 13``, ``2.675 -> 2.68``), so a figure
    reads the same in every place it is shown.

    Examples
    --------
    >>> format_number(1234567.891, decimals=1), format_number(float("nan"))
    ('1,234,567.9', '-')
    """
    v = _finite(value)
    if v is None:
        return "-"
    if math.isinf(v):
        return "infinite" if v > 0 else "minus infinite"
    # half away from zero on the decimal digits as written (2.675 -> 2.68, 12.5 -> 13), not on the binary value
    q = Decimal(repr(v)).quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)  # no "-0.00"
    return f"{q:,.{int(decimals)}f}"


def format_count(value: Any) -> str:
    """A count, rounded to a whole number, with thousands separators.

    Examples
    --------
    >>> format_count(23570)
    '23,570'
    """
    return format_number(value, decimals=0)


def format_money(value: Any, *, units: Units | None = None, decimals: int | None = None) -> str:
    """A money amount with its currency: ``"EUR 8,798,234"``, ``"EUR 12.35"``, ``"-EUR 5.00"``.

    Parameters
    ----------
    value : float
        The amount.
    units : Units, optional
        Gives the currency (default :data:`DEFAULT_UNITS`).
    decimals : int, optional
        Default :func:`money_decimals` of the value.

    Examples
    --------
    >>> format_money(8798233.74, units=Units("GBP")), format_money(-5, decimals=2), format_money(512.6, units=Units("JPY"))
    ('GBP 8,798,234', '-EUR 5.00', 'JPY 513')
    """
    units = units or DEFAULT_UNITS
    v = _finite(value)
    if v is None:
        return "-"
    d = money_decimals(v, units=units) if decimals is None else int(decimals)
    text = format_number(abs(v), decimals=d)
    negative = v < 0 and text.strip("0.,") != ""  # no "-EUR 0.00"
    return f"{'-' if negative else ''}{units.currency} {text}"


def format_percent(share: Any, *, decimals: int = 1) -> str:
    """A share (a fraction, 0.211) as per cent (``"21.1%"``).

    Examples
    --------
    >>> format_percent(0.2113), format_percent(1.0, decimals=0)
    ('21.1%', '100%')
    """
    v = _finite(share)
    if v is None:
        return "-"
    return format_number(100.0 * v, decimals=decimals) + "%"
