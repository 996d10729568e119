"""Three to five findings in plain words per report, computed from its headline figures.

Every sentence is built from the figures a step wrote to ``headlines.json``
(``{key: value}``); a finding whose figures are missing is left out, so a
report shows only what its run computed. No number is written here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .glossary import relabel_text
from .units import DEFAULT_UNITS, Units, format_count, format_money, format_number, format_percent

__all__ = ["findings", "FINDERS", "MAX_FINDINGS"]

#: At most this many findings per report.
MAX_FINDINGS = 5

Heads = Mapping[str, Any]


def _num(h: Heads, key: str) -> float | None:
    v = h.get(key)
    if isinstance(v, Mapping):
        v = v.get("value")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
        return None
    return float(v)


def _txt(h: Heads, key: str) -> str | None:
    v = h.get(key)
    if isinstance(v, Mapping):
        v = v.get("value")
    return relabel_text(v) if isinstance(v, str) and v else None


_WEEKDAYS = {"Mon": "Monday", "Tue": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday", "Fri": "Friday",
             "Sat": "Saturday", "Sun": "Sunday"}


def _cycle(text: str) -> str:
    """``"365 days"`` -> ``"yearly (365-day)"``, ``"7 days"`` -> ``"weekly (7-day)"``."""
    m = re.match(r"^(\d+) days?$", text.strip())
    if not m:
        return text
    n = int(m.group(1))
    name = {7: "weekly", 365: "yearly", 30: "monthly", 91: "quarterly"}.get(n)
    return f"{name} ({n}-day)" if name else f"{n}-day"


def _data_quality(h: Heads, u: Units) -> list[str]:
    out = []
    c, r, t = _num(h, "customers"), _num(h, "revenue"), _num(h, "transactions")
    if c is not None and r is not None:
        out.append(f"{format_count(c)} customers bought for {format_money(r, units=u)} in total after cleaning"
                   + (f" ({format_count(t)} transaction lines)." if t is not None else "."))
    d = _num(h, "rows_dropped")
    if d is not None and t is not None and t + d > 0:
        out.append(f"Cleaning dropped {format_count(d)} rows ({format_percent(d / (t + d + (_num(h, 'bookings') or 0)))} "
                   f"of all rows); every reason is counted in the cleaning table.")
    b = _num(h, "bookings")
    if b is not None:
        out.append(f"{format_count(b)} bookings remain for the demand and yield reports.")
    return out


def _rfm_clv(h: Heads, u: Units) -> list[str]:
    out = []
    tot, mean = _num(h, "total_clv"), _num(h, "mean_clv")
    if tot is not None:
        out.append(f"The customers are expected to bring {format_money(tot, units=u)} of margin over the CLV horizon"
                   + (f", {format_money(mean, units=u)} per customer on average." if mean is not None else "."))
    s = _num(h, "top20_clv_share")
    if s is not None:
        out.append(f"The most valuable 20% of customers hold {format_percent(s)} of that future value.")
    p = _num(h, "mean_p_alive")
    if p is not None:
        out.append(f"On average a customer is still active with a probability of {format_percent(p)}.")
    m, by = _txt(h, "purchase_model"), _txt(h, "purchase_models_compared")
    err = _num(h, "purchase_model_holdout_total_error_pct")
    forced = _txt(h, "purchase_model_chosen_by") == "configuration"
    if m is not None and forced:  # forced: not necessarily the best on the holdout, so it is not called that
        out.append(f"{m} is used because the configuration forces it" + (f" (compared with {by})" if by else "")
                   + (f"; its total of held-out purchases was off by {format_number(abs(err), decimals=1)}%."
                      if err is not None else "."))
    elif m is not None:
        # the holdout scored the calibration fit: name the model as compared there, and the whole-period fit
        # (which can sit at a limit the calibration fit did not reach) where its name differs
        name, tied = _txt(h, "purchase_model_name") or m, _txt(h, "purchase_models_tied")
        off = f"{format_number(abs(err), decimals=1)}%" if err is not None else None
        whole = f"; P(alive) and CLV come from its whole-period fit, {m}." if m != name else "."
        if tied:  # no model forecast better: do not call the one the tie rule picked the best
            out.append(f"{tied} forecast the held-out purchases equally well" + (f" (total off by {off})" if off else "")
                       + f"; {name} is used by the tie rule (fewest parameters)" + whole)
        else:
            out.append(f"{name} forecast the held-out purchases best" + (f" among {by}" if by else "")
                       + (f"; its total was off by {off}" if off else "") + whole)
    return out


def _segmentation(h: Heads, u: Units) -> list[str]:
    out = []
    s = _num(h, "top20_revenue_share")
    if s is not None:
        out.append(f"The top 20% of customers bring {format_percent(s)} of the revenue.")
    c80 = _num(h, "customers_for_80pct_revenue")
    if c80 is not None:
        out.append(f"{format_percent(c80)} of the customers produce 80% of the revenue.")
    n, big = _num(h, "n_segments"), _txt(h, "largest_segment")
    if n is not None and big:
        out.append(f"The customers fall into {format_count(n)} RFM segments; the largest is \u201c{big}\u201d.")
    lap = _num(h, "lapsed_customer_share")
    if lap is not None:
        out.append(f"{format_percent(lap)} of the customers count as lapsed and get a win-back or no action.")
    return out


def _flag(h: Heads, key: str) -> bool | None:
    v = h.get(key)
    if isinstance(v, Mapping):
        v = v.get("value")
    return v if isinstance(v, bool) else None


def _idic(h: Heads, u: Units) -> list[str]:
    out = []
    p = _num(h, "total_profit")
    costs = _flag(h, "costs_configured")
    if p is not None and costs is False:  # profit = net revenue: say so, and no "cost more than they bring"
        out.append(f"The customers brought {format_money(p, units=u)} of net revenue; no margin or cost to serve is "
                   f"configured, so their profit is not measured.")
    elif p is not None:
        out.append(f"The customers earned {format_money(p, units=u)} of profit after the cost to serve them.")
    un = _num(h, "unprofitable_customer_share")
    if un is not None and costs is not False:
        out.append(f"{format_percent(un)} of the customers cost more than they bring.")
    r = _num(h, "returned_revenue_share")
    if r is not None:
        out.append(f"{format_percent(r)} of the revenue came back as returns.")
    rec, pop = _num(h, "recommendation_hit_rate"), _num(h, "popularity_hit_rate")
    if rec is not None and pop is not None:
        word = "better than" if rec > pop else ("no better than" if rec <= pop else "")
        out.append(f"Next-best-product recommendations were bought {format_percent(rec)} of the time, {word} "
                   f"recommending the most popular products ({format_percent(pop)}).")
    el = _num(h, "campaign_eligible_share")
    if el is not None:
        if _flag(h, "campaign_model_beats_random") is False:
            who = "every customer" if el >= 1 else ("no customer" if el <= 0 else f"{format_percent(el)} of the customers")
            out.append("The uplift model does not rank customers better than random, so each gets the campaign's "
                       f"overall uplift: contacting is expected to pay for {who}.")
        else:
            out.append(f"Contacting is expected to pay for {format_percent(el)} of the customers.")
    return out


#: Seasonal strength (Wang, Smith & Hyndman 2006; FPP3 sec. 4.3) below which a cycle is not called one,
#: and from which it is called the main pattern; in between it is "weak". A convention of the reports.
NO_CYCLE_BELOW = 0.1
STRONG_CYCLE_FROM = 0.4


def _cycle_finding(what: str, cyc: str, strength: float | None) -> str:
    """The sentence on the strongest cycle, graded by its seasonal strength (0 = none, 1 = all of the variation)."""
    if strength is None:
        return f"{what} follows mainly a {_cycle(cyc)} cycle."
    s = format_number(strength, decimals=2)
    if strength < NO_CYCLE_BELOW:
        return f"{what} shows no pronounced seasonal cycle (the strongest, {_cycle(cyc)}, has seasonal strength {s})."
    if strength < STRONG_CYCLE_FROM:
        return f"{what} has a weak {_cycle(cyc)} cycle (seasonal strength {s})."
    return f"{what} follows mainly a {_cycle(cyc)} cycle (seasonal strength {s})."


def _strength(h: Heads, prefix: str, cyc: str) -> float | None:
    m = re.match(r"^(\d+) days?$", cyc.strip())
    return _num(h, f"{prefix}{m.group(1)}") if m else None


def _seasonality(h: Heads, u: Units) -> list[str]:
    out = []
    cyc = _txt(h, "strongest_seasonal_cycle")
    if cyc:
        out.append(_cycle_finding("Room-night demand", cyc, _strength(h, "seasonal_strength_", cyc)))
    cov, mape = _num(h, "forecast_backtest_coverage"), _num(h, "forecast_backtest_mape")
    if mape is not None:
        out.append(f"Back-tested, the demand forecast missed the total by {format_number(mape, decimals=1)}% on average"
                   + (f"; {format_percent(cov)} of the actual values fell in the 90% intervals." if cov is not None
                      else "."))
    rc = _txt(h, "retail_strongest_cycle")
    if rc:
        out.append(_cycle_finding("Retail revenue", rc, _strength(h, "retail_seasonal_strength_", rc)))
    wd, ws = _txt(h, "retail_peak_weekday"), _num(h, "retail_peak_weekday_share")
    if wd and ws is not None:
        out.append(f"{_WEEKDAYS.get(wd, wd)} is the strongest weekday, with {format_percent(ws)} of the retail revenue of open days.")
    return out


def _yield(h: Heads, u: Units) -> list[str]:
    out = []
    up = _num(h, "revenue_uplift_vs_fcfs")
    nights = _num(h, "nights_over_capacity")
    if up is not None:
        text = f"Capacity control adds {format_number(up, decimals=2)}% revenue per night over first come, first served"
        if nights is not None:
            text += (f"; demand exceeds the rooms on {format_count(nights)} forecast nights."
                     if nights else "; expected demand never exceeds the rooms, so there is little to protect.")
        out.append(text if text.endswith(".") else text + ".")
    ob = _num(h, "overbooking_limit")
    if ob is not None:
        out.append(f"Up to {format_count(ob)} bookings can be accepted for the hotel at the chosen walk risk.")
    gp, gl = _txt(h, "group_decision_peak"), _txt(h, "group_decision_low")
    be = _num(h, "group_break_even_rate_peak")
    if gp and gl:
        out.append(f"The group request: {gp} in the peak, {gl} in the low season"
                   + (f"; in the peak it pays from {format_money(be, units=u)} per room-night." if be is not None else "."))
    return out


def _signed_pct(x: float) -> str:
    return ("+" if x > 0 else "") + format_number(x, decimals=2) + "%"


def _booking_horizon(h: Heads, u: Units) -> list[str]:
    out = []
    cr, auc = _num(h, "cancel_rate"), _num(h, "cancel_auc")
    if cr is not None:
        out.append(f"{format_percent(cr)} of the test bookings were cancelled"
                   + (f"; the cancellation model ranks a cancelling booking above a staying one with probability "
                      f"{format_number(auc, decimals=2)} (AUC; 0.5 = chance)." if auc is not None else "."))
    mae = _num(h, "pickup_mae_7")
    if mae is not None:
        out.append(f"Seven days before a night the best pick-up forecast misses its final rooms by "
                   f"{format_number(mae, decimals=1)} rooms on average.")
    l90, l0 = _num(h, "limit_service_90"), _num(h, "limit_service_0")
    if l90 is not None and l0 is not None:
        out.append(f"Up to {format_count(l90)} bookings can be accepted 90 days out, falling to {format_count(l0)} "
                   f"on the night, when only no-shows are left.")
    up = _num(h, "replay_uplift_pct")
    if up is not None:
        if up > 0:
            out.append(f"Replayed on the data's booking stream (each request with its recorded outcome), the best "
                       f"control raises net RevPAR by {_signed_pct(up)} against first come, first served without "
                       f"overbooking.")
        else:
            out.append("Replayed on the data's booking stream (each request with its recorded outcome), no control "
                       "earns more net RevPAR than first come, first served without overbooking.")
    return out


#: Step name -> function(headlines, units) -> list of sentences.
FINDERS: dict[str, Callable[[Heads, Units], list[str]]] = {
    "data_quality": _data_quality,
    "rfm_clv": _rfm_clv,
    "segmentation": _segmentation,
    "idic": _idic,
    "seasonality": _seasonality,
    "yield": _yield,
    "booking_horizon": _booking_horizon,
}


def findings(step: str, headlines: Heads, *, units: Units | None = None) -> list[str]:
    """Up to :data:`MAX_FINDINGS` plain-language findings of a step, from its headline figures.

    Parameters
    ----------
    step : str
        Chain name of the step (``"rfm_clv"``; a file stem ``"10_rfm_clv"`` works too).
    headlines : mapping
        ``{key: value}`` or ``{key: {"value": v, "label": ...}}`` as in ``headlines.json``.
    units : Units, optional
        Currency of money (default :data:`~crm_analysis.presentation.units.DEFAULT_UNITS`).

    Returns
    -------
    list of str
        Empty for a step without a finder or without the figures.

    Examples
    --------
    >>> findings("segmentation", {"top20_revenue_share": 0.6359, "customers_for_80pct_revenue": 0.378})
    ['The top 20% of customers bring 63.6% of the revenue.', '37.8% of the customers produce 80% of the revenue.']
    """
    name = re.sub(r"^\d+_", "", str(step))
    finder = FINDERS.get(name)
    if finder is None:
        return []
    return finder(headlines, units or DEFAULT_UNITS)[:MAX_FINDINGS]
