"""Recommended interactions from each customer's state (Interact, Customize).

Every customer gets an action and an offer from an ordered list of
:class:`ActionRule` (first match wins), applied to the customer's own figures:

* ``p_alive``: P(alive) of the purchase model chosen in the CLV step (its name
  travels with the table, ``p_alive_model``);
* ``days_since_last``: days from the last purchase to the end of observation;
* ``age_days``: days from the first purchase to the end of observation;
* ``revenue_index = revenue / mean revenue`` and ``clv_index = clv / mean clv``
  (1 = an average customer; scale-free);
* any other numeric column of the table (``frequency``, ``r_score``, ...).

**Lapsed customers.** P(alive) alone cannot say whether a customer has lapsed:
under the BG/NBD model every customer without a repeat purchase has P(alive) = 1
by construction (dropout happens only after a repeat purchase), however long ago
the purchase was. A :class:`LapsePolicy` therefore combines both figures: a
customer is *lapsed* when the days since the last purchase exceed
``lapsed_days`` **or** P(alive) is below ``lapsed_p_alive``, and *active*
otherwise (column ``state``). A *segment* is lapsed by its name
(``lapsed_segments``: Lost, Hibernating, At Risk, Can't Lose Them) or by its
figures (median days since the last purchase above ``lapsed_days`` or mean
P(alive) below ``lapsed_p_alive``).

**Acquisition and onboarding are for active customers only.** Every rule has an
``intent``; :data:`NEW_CUSTOMER_INTENTS` (onboarding, acquisition) may never
reach a lapsed customer or a lapsed segment. :func:`validate_action_rules`
refuses (``ValueError``) a rule set with such a rule that is not restricted to
``state="active"`` or that names a lapsed segment in ``segments``; at
assignment, customers of a segment lapsed by name or figures are never matched
by such a rule (they fall through to the next rule and are counted as *held
back*), and a final check raises if any lapsed customer got such an action.

**Intents of custom rules.** Declare ``intent=``. Without it the intent is read
from the action and offer text, normalised (case, hyphens and punctuation,
plurals): welcome, new customer(s), first-time buyer, introductory / intro,
sign-up, starter, onboarding, acquisition, prospect, lookalike, free trial, ...
read as onboarding or acquisition (so the guard applies: such a rule must have
``state="active"``); "first order" / "first purchase" / "second purchase" read
as onboarding unless a win-back word ("we miss you", "anniversary", "win
back", "welcome back", ...) makes the rule a reactivation; "let go" / "no
contact" read as none. A rule whose words say no intent gets ``"other"`` with
an :class:`~crm_analysis.exceptions.ActionIntentWarning` naming the rule and
the fix: it is not refused (a "Spring sale" rule is legitimate for anyone), but
nothing then keeps it from lapsed customers, so the user is told to declare it.
A declared intent wins where the wording is compatible: "Welcome to the VIP
tier" with ``intent="retention"`` (or ``"development"``) is a welcome into a
tier, not into the shop, and keeps its intent; as a welcome reads as onboarding
to a lapsed customer, the rule is guarded as the new-customer rules are
(``state="active"``, no lapsed segment, held back from lapsed segments).

The default rules (:func:`default_action_rules`)::

    1 Retain and reward  active, clv_index >= retain_clv_index
    2 Win back           lapsed, revenue_index >= winback_revenue_index
    3 Onboard            active, age_days < new_customer_days        (onboarding)
    4 Grow               active, clv_index >= grow_clv_index
    5 Nurture            active
    6 Let go             (catch-all)

:func:`segment_summary` adds per-segment figures and the mix of actions in each
segment; :func:`export_action_table` writes the CSV files for campaign tools.
"""

from __future__ import annotations

from crm_analysis.exceptions import ActionIntentWarning, InputError, OperationError, shown
from crm_analysis._validate import check_columns, check_number

import difflib
import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crm_analysis.segmentation.rfm_scores import SEGMENT_ORDER
from crm_analysis.segmentation._common import (
    SegmentationInputError,
    customer_ids,
    require_columns,
    require_finite,
)

__all__ = [
    "ActionRule",
    "LapsePolicy",
    "SegmentSummary",
    "LAPSED_SEGMENTS",
    "INTENTS",
    "NEW_CUSTOMER_INTENTS",
    "STATES",
    "customer_state",
    "default_action_rules",
    "validate_action_rules",
    "check_segment_names",
    "assign_actions",
    "count_rules",
    "segment_summary",
    "export_action_table",
]

Bound = tuple[float | None, float | None]

#: Segments of the default RFM map whose names say the customers have lapsed.
LAPSED_SEGMENTS: tuple[str, ...] = ("Lost", "Hibernating", "At Risk", "Can't Lose Them")
#: What a rule intends; ``"other"`` when nothing says.
INTENTS: tuple[str, ...] = ("retention", "reactivation", "development", "onboarding", "acquisition", "none", "other")
#: Intents meant for new customers: never for a lapsed customer or segment.
NEW_CUSTOMER_INTENTS: frozenset[str] = frozenset({"onboarding", "acquisition"})
#: Customer states a rule can be restricted to (``None``: any).
STATES: tuple[str, ...] = ("active", "lapsed")

# Words that mark an action or offer text, as regular expressions over the *normalised* text (see
# `_normalise_text`: lower case, punctuation and hyphens as spaces, plural "s" dropped, so "first-time
# buyers", "First time buyer" and "first-time-buyer" all read "first time buyer"). Strong words say
# onboarding / acquisition whatever else the text says; the weak onboarding words ("second purchase",
# "first order") also fit a win-back offer to a lapsed one-time buyer ("anniversary of your first
# purchase"), so they count only when nothing else is said; win-back words say reactivation; "let go",
# "no contact" say none.
_NEWCOMER = r"(?:customer|buyer|shopper|client|member|subscriber|user|joiner|visitor|guest|account|starter)"
_STRONG_WORDS: dict[str, tuple[str, ...]] = {
    "onboarding": (
        r"onboard\w*", r"welcome(?! back\b)\w*", r"getting started", r"get started", r"starter\w*",
        r"(?:first|1st) time(?:r| " + _NEWCOMER + r"| order| purchase| purchaser| booking)", r"introductory",
        r"intro", r"newcomer", r"new to (?:us|our|the)",
    ),
    "acquisition": (
        r"acqui(?:re|red|ring|sition)\w*", r"prospect\w*", r"look ?alike", r"sign ?up", r"signing up",
        r"new " + _NEWCOMER, r"free trial",
    ),
}
_WEAK_ONBOARDING_WORDS: tuple[str, ...] = (
    r"second purchase", r"second order", r"(?:first|1st) (?:order|purchase|buy|basket|booking|stay)",
    r"(?:first|1st) time",
)
_REACTIVATION_WORDS: tuple[str, ...] = (
    r"win ?back", r"won back", r"welcome back", r"we miss you", r"miss you", r"come back", r"coming back",
    r"reactivat\w*", r"re ?engag\w*", r"anniversary", r"lapsed", r"been a while", r"long time no see",
)
# Status words: a "welcome" into a tier, a loyalty programme or an upgrade, not into the shop. With them, and only
# with them, a "welcome" is compatible with a declared retention or development intent (`_check_declared_intent`).
_STATUS_WORDS: tuple[str, ...] = (
    r"vip", r"tier", r"loyalty", r"club", r"status", r"upgrade\w*", r"elite", r"gold", r"silver", r"platinum",
    r"premium", r"inner circle", r"level",
)
#: Declared intents a welcome into a tier or programme is compatible with (a reader's own customers moving up).
_WELCOME_INTENTS: tuple[str, ...] = ("retention", "development")
_NONE_WORDS: tuple[str, ...] = (
    r"let go", r"no (?:paid )?contact", r"do not contact", r"don t contact", r"no action", r"none",
)


def _singular(word: str) -> str:
    """A plural English word's singular, crudely: enough to match the marker words ("customers", "buyers")."""
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _normalise_text(text: str) -> str:
    """Lower case, accents and punctuation (hyphens, slashes, apostrophes) as spaces, plurals dropped."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(_singular(w) for w in re.split(r"[^a-z0-9]+", text) if w)


def _found(patterns: Iterable[str], text: str) -> list[str]:
    """The phrases of ``text`` (normalised) that the patterns match."""
    return [m.group(0) for p in patterns for m in [re.search(rf"\b{p}\b", text)] if m]


def _text_signals(action: str, offer: str) -> dict[str, list[str]]:
    """Intents the words of an action and offer point to, with the words found."""
    text = _normalise_text(f"{action} {offer}")
    found = {intent: _found(words, text) for intent, words in _STRONG_WORDS.items()}
    found["reactivation"] = _found(_REACTIVATION_WORDS, text)
    found["none"] = _found(_NONE_WORDS, text)
    found["weak_onboarding"] = _found(_WEAK_ONBOARDING_WORDS, text)
    return {k: v for k, v in found.items() if v}


def _infer_intent(action: str, offer: str) -> str:
    """Intent read from the text of a rule that does not declare one (see :class:`ActionRule`)."""
    sig = _text_signals(action, offer)
    strong = [i for i in _STRONG_WORDS if i in sig]
    if strong and "reactivation" in sig:
        raise InputError(
            f"action rule {action!r}: the text reads both as {strong[0]} ({', '.join(map(repr, sig[strong[0]]))}) and "
            f"as a win-back ({', '.join(map(repr, sig['reactivation']))}); declare the intent "
            f"(intent='reactivation' or intent={strong[0]!r}) and word the offer to match it"
        )
    if strong:
        return strong[0]
    if "reactivation" in sig:
        return "reactivation"
    if "none" in sig:
        return "none"
    if "weak_onboarding" in sig:
        return "onboarding"
    return "other"


def _status_welcome(action: str, offer: str) -> list[str]:
    """The status words of a text whose only new-customer words are "welcome" (a welcome into a tier); else ``[]``.

    "Welcome to the VIP tier" gives ``["vip", "tier"]``; "Welcome! 10% off your first order", "Welcome to VIP, new
    customers" and "Intro offer for gold members" give ``[]`` (other onboarding or acquisition words, or none of
    status).
    """
    sig = _text_signals(action, offer)
    only_welcome = (set(sig) & {"onboarding", "acquisition", "weak_onboarding"} == {"onboarding"}
                    and all(w.startswith("welcome") for w in sig["onboarding"]))
    return _found(_STATUS_WORDS, _normalise_text(f"{action} {offer}")) if only_welcome else []


def _check_declared_intent(action: str, offer: str, intent: str) -> None:
    """Refuse a declared intent that the action or offer text contradicts (the guard follows the intent).

    A "welcome" into a tier or programme (:func:`_status_welcome`) is compatible with a declared retention or
    development intent: the rule keeps that intent, and :attr:`ActionRule.kept_from_lapsed` keeps it from
    lapsed customers as an onboarding rule is kept.
    """
    sig = _text_signals(action, offer)
    if intent in _WELCOME_INTENTS and _status_welcome(action, offer):
        return
    if intent not in NEW_CUSTOMER_INTENTS:
        strong = [i for i in _STRONG_WORDS if i in sig]
        if strong:
            raise InputError(
                f"action rule {action!r} declares intent={intent!r} but its text reads as {strong[0]} "
                f"({', '.join(map(repr, sig[strong[0]]))} in {offer!r}); onboarding and acquisition actions must never "
                "reach lapsed customers, and the guard follows the declared intent: declare "
                f"intent={strong[0]!r} with state='active', or reword the action and offer"
                + (" (a welcome into a tier or programme, e.g. 'Welcome to the VIP tier', is accepted with "
                   f"intent={_WELCOME_INTENTS[0]!r} or {_WELCOME_INTENTS[1]!r} and state='active')"
                   if any(w.startswith("welcome") for w in sig.get("onboarding", [])) else "")
            )
    elif "reactivation" in sig:
        raise InputError(
            f"action rule {action!r} declares intent={intent!r} but its text reads as a win-back "
            f"({', '.join(map(repr, sig['reactivation']))} in {offer!r}); declare intent='reactivation' "
            "(for lapsed customers) or reword the offer as an onboarding/acquisition offer"
        )


@dataclass(frozen=True)
class LapsePolicy:
    """When a customer, or a segment, counts as lapsed.

    Parameters
    ----------
    lapsed_days : float, default 365
        A customer whose last purchase is more than this many days before the
        end of observation is lapsed (the common 12-month activity window).
    lapsed_p_alive : float, default 0.5
        A customer with P(alive) below this is lapsed (more likely gone than
        alive).
    lapsed_segments : tuple of str
        Segment names that say lapsed (default :data:`LAPSED_SEGMENTS`).

    Raises
    ------
    ValueError
        ``lapsed_days`` not positive and finite, ``lapsed_p_alive`` outside
        ``[0, 1]``, or segment names that are not strings.
    """

    lapsed_days: float = 365.0
    lapsed_p_alive: float = 0.5
    lapsed_segments: tuple[str, ...] = LAPSED_SEGMENTS

    def __post_init__(self) -> None:
        check_number(self.lapsed_days, "lapsed_days", minimum=0, low_open=True, what="a positive number of days")
        check_number(self.lapsed_p_alive, "lapsed_p_alive", minimum=0, maximum=1, what="a probability in [0, 1]")
        names = tuple(self.lapsed_segments)
        if not all(isinstance(n, str) for n in names):
            raise InputError(f"lapsed_segments must be segment names (strings), got {shown(self.lapsed_segments)}")
        object.__setattr__(self, "lapsed_segments", names)

    def describe(self) -> str:
        """The policy in words."""
        return (
            f"lapsed: more than {self.lapsed_days:g} days since the last purchase or P(alive) below "
            f"{self.lapsed_p_alive:g}; lapsed segments: {', '.join(self.lapsed_segments) or 'none by name'}, "
            f"and any segment whose median days since the last purchase exceed {self.lapsed_days:g} "
            f"or whose mean P(alive) is below {self.lapsed_p_alive:g}"
        )


@dataclass(frozen=True)
class ActionRule:
    """One ordered rule mapping a customer's state and figures to an interaction and an offer.

    Parameters
    ----------
    action : str
        Recommended interaction, e.g. "Retain and reward".
    offer : str
        Offer suggestion (Customize) for the customers this rule matches.
    conditions : mapping of str to (low, high)
        Bounds on columns of the customer table: ``low <= value < high``;
        ``None`` leaves a side open. An empty mapping puts no bound.
    description : str
        Why the rule recommends this.
    intent : str, optional
        One of :data:`INTENTS`; give it explicitly. The guard against
        onboarding/acquisition for lapsed customers follows it. The text is
        read after normalising case, hyphens, punctuation and plurals
        ("First-Time Buyers" reads "first time buyer"). A declared intent
        that the text contradicts is refused: a non-onboarding intent whose
        action or offer says "onboard", "welcome" (not "welcome back"),
        "new customer(s)", "first-time buyer", "introductory", "intro",
        "sign-up", "starter", "getting started", "newcomer", "acquisition",
        "prospect", "lookalike", "free trial", ...; or an onboarding/acquisition
        intent whose text says "win back", "welcome back", "we miss you",
        "anniversary", "reactivate", ... Without a declared intent it is read
        from the text: those onboarding/acquisition words, else
        ``"reactivation"`` for win-back words, else ``"none"`` for "let go",
        "no (paid) contact", "none", else ``"onboarding"`` for "first
        order/purchase", "second purchase", "first time" (which a win-back
        offer may also mention: "anniversary of your first purchase" is a
        win-back, and a declared intent wins over them), else ``"other"``
        with an :class:`~crm_analysis.exceptions.ActionIntentWarning` (the
        rule is kept; declare its intent). One wording is compatible with
        a declared ``"retention"`` or ``"development"`` intent: a welcome
        into a tier or programme, whose only new-customer word is
        "welcome" and which names a status ("VIP", "tier", "loyalty",
        "club", "upgrade", "gold", "platinum", "premium", "level", ...):
        ``ActionRule("Upgrade", "Welcome to the VIP tier",
        intent="retention", state="active")`` keeps its intent. A welcome
        still reads as onboarding to a lapsed customer, so such a rule is
        guarded as a new-customer rule (:attr:`kept_from_lapsed`): it must
        have ``state="active"`` and name no lapsed segment
        (:func:`validate_action_rules`), and customers of a lapsed segment
        are held back from it. Without a declared intent the same words
        read as onboarding; "Welcome! 10% off your first order", "new
        customer discount", "intro offer" stay refused with any other
        intent.
    state : {"active", "lapsed"} or None, default None
        Only customers in this state (see :class:`LapsePolicy`); ``None``: any.
    segments : tuple of str, optional
        Only customers of these segments; ``None``: any segment.

    Raises
    ------
    ValueError
        Malformed or empty bounds, an unknown intent or state, a declared
        intent the text contradicts, or (undeclared) a text that reads both
        as onboarding/acquisition and as a win-back.

    Warns
    -----
    ActionIntentWarning
        No declared intent and no intent in the text (intent ``"other"``).
    """

    action: str
    offer: str
    conditions: Mapping[str, Bound] = field(default_factory=dict)
    description: str = ""
    intent: str = ""
    state: str | None = None
    segments: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for col, bound in self.conditions.items():
            if len(bound) != 2:
                raise InputError(f"action rule {self.action!r}: condition on {col!r} must be (low, high)")
            lo, hi = bound
            if lo is not None and hi is not None and lo >= hi:
                raise InputError(f"action rule {self.action!r}: empty range {bound} on {col!r}")
        intent = self.intent or _infer_intent(self.action, self.offer)
        if not self.intent and intent == "other":
            warnings.warn(
                f"action rule {self.action!r} (offer {self.offer!r}) declares no intent and its words do not say one, "
                "so it counts as intent 'other' and may reach lapsed customers (Lost, Hibernating, ...). If it is "
                "meant for new customers (welcome, first order, introductory offer, sign-up, ...), declare "
                "intent='onboarding' or intent='acquisition' with state='active'; otherwise declare its intent, "
                f"one of {INTENTS}",
                ActionIntentWarning,
                stacklevel=3,
            )
        if intent not in INTENTS:
            raise InputError(f"action rule {self.action!r}: unknown intent {self.intent!r}; use one of {INTENTS}")
        if self.intent:
            _check_declared_intent(self.action, self.offer, intent)
        object.__setattr__(self, "intent", intent)
        if self.state is not None and self.state not in STATES:
            raise InputError(f"action rule {self.action!r}: state must be one of {STATES} or None, got {shown(self.state)}")
        if self.segments is not None:
            if isinstance(self.segments, str):
                raise InputError(f"action rule {self.action!r}: segments must be a tuple of names, got a string")
            object.__setattr__(self, "segments", tuple(self.segments))

    @property
    def new_customer(self) -> bool:
        """Whether the rule is an onboarding or acquisition action."""
        return self.intent in NEW_CUSTOMER_INTENTS

    @property
    def welcome_words(self) -> list[str]:
        """The "welcome" words of a rule of another intent (a welcome into a tier, e.g. "Welcome to the VIP tier"
        with ``intent="retention"``); ``[]`` for an onboarding or acquisition rule and a text without them."""
        if self.new_customer:
            return []
        return _text_signals(self.action, self.offer).get("onboarding", [])

    @property
    def kept_from_lapsed(self) -> bool:
        """Whether the guard of new-customer actions applies: an onboarding or acquisition rule, or a rule worded
        as a welcome whatever its declared intent (a lapsed customer reads a welcome as an onboarding offer)."""
        return self.new_customer or bool(self.welcome_words)

    def matches(self, table: pd.DataFrame, *, segment_col: str = "segment") -> np.ndarray:
        """Boolean mask of the rows of ``table`` this rule matches (conditions, state and segments)."""
        needed = list(self.conditions) + (["state"] if self.state else []) + ([segment_col] if self.segments else [])
        hints = []  # the close name of each missing column, for the message
        if not set(needed) <= set(table.columns):
            hints = [f"{c!r} -> {m!r}" for c in needed for m in _close_names(c, table.columns) if m != c]
        check_columns(needed, table.columns, table=f"the table action rule {self.action!r} is applied to",
                      fix=("Did you mean " + ", ".join(hints) + "? " if hints else "")
                      + "Add those columns, or change the rule's conditions, state or segments")
        ok = np.ones(len(table), dtype=bool)
        for col, (lo, hi) in self.conditions.items():
            v = table[col].to_numpy(dtype="float64")
            if lo is not None:
                ok &= v >= lo
            if hi is not None:
                ok &= v < hi
        if self.state is not None:
            ok &= table["state"].astype(str).to_numpy() == self.state
        if self.segments is not None:
            ok &= table[segment_col].astype(str).isin(self.segments).to_numpy()
        return ok

    def describe(self) -> str:
        """The rule's conditions in words."""
        parts = [self.state] if self.state else []
        if self.segments is not None:
            parts.append("segment in " + ", ".join(self.segments))
        for col, (lo, hi) in self.conditions.items():
            if lo is not None:
                parts.append(f"{col} >= {lo:g}")
            if hi is not None:
                parts.append(f"{col} < {hi:g}")
        return " and ".join(parts) if parts else "all other customers"


def default_action_rules(
    *,
    retain_clv_index: float = 1.5,
    winback_revenue_index: float = 1.0,
    new_customer_days: float = 90.0,
    grow_clv_index: float = 0.75,
    value_index: str = "revenue_index",
) -> list[ActionRule]:
    """The default ordered action rules, with their thresholds as parameters.

    Parameters
    ----------
    retain_clv_index : float, default 1.5
        Active customers with at least this CLV index (CLV / mean CLV) are
        retained and rewarded.
    winback_revenue_index : float, default 1.0
        Lapsed customers with at least this revenue index (past revenue /
        mean revenue) are won back.
    new_customer_days : float, default 90
        Active customers whose first purchase is less than this many days ago
        are onboarded.
    grow_clv_index : float, default 0.75
        Active customers with at least this CLV index are grown.
    value_index : {"revenue_index", "profit_index"}, default "revenue_index"
        Past value the win-back rule looks at: revenue, or profit after the
        cost to serve (``profit_index``, from :func:`customer_state` with a
        profit column) when costs are configured, so that a lapsed customer
        who returned much is not won back for the revenue they sent back.

    Returns
    -------
    list of ActionRule
        Ending with the catch-all "Let go". The lapse thresholds (days since
        the last purchase, P(alive)) are those of the :class:`LapsePolicy`
        the rules are applied with.
    """
    check_number(new_customer_days, "new_customer_days", minimum=0, low_open=True, what="a positive number of days")
    if value_index not in ("revenue_index", "profit_index"):
        raise InputError(f"value_index must be 'revenue_index' or 'profit_index', got {shown(value_index)}")
    return [
        ActionRule(
            "Retain and reward",
            "Loyalty tier or VIP service, early access and thank-you gifts; no blanket discounts",
            {"clv_index": (retain_clv_index, None)},
            "active and worth far more than the average customer: protect the relationship",
            intent="retention",
            state="active",
        ),
        ActionRule(
            "Win back",
            "Personal reactivation contact with a time-limited incentive on their past favourite categories",
            {value_index: (winback_revenue_index, None)},
            "valuable in the past but lapsed: worth a reactivation effort",
            intent="reactivation",
            state="lapsed",
        ),
        ActionRule(
            "Onboard",
            "Onboarding / welcome series and a second-purchase voucher",
            {"age_days": (None, new_customer_days)},
            "first purchase only recently and still active: build the habit",
            intent="onboarding",
            state="active",
        ),
        ActionRule(
            "Grow",
            "Cross-sell and up-sell bundles, next-purchase incentive, membership invitation",
            {"clv_index": (grow_clv_index, None)},
            "active with fair future value: raise frequency and basket size",
            intent="development",
            state="active",
        ),
        ActionRule(
            "Nurture",
            "Personalised recommendations by email and a small next-purchase incentive",
            {},
            "active but of low value so far: keep in touch at low cost",
            intent="development",
            state="active",
        ),
        ActionRule(
            "Let go",
            "Low-cost channels only (newsletter); no paid contact",
            {},
            "lapsed and of low past value: do not spend on them",
            intent="none",
        ),
    ]


def _close_names(name: Any, known: Iterable[Any]) -> list[str]:
    """The known name ``name`` most probably meant: same name in another case, else the closest (difflib)."""
    known = [str(k) for k in known]
    same = [k for k in known if k.casefold() == str(name).casefold()]
    if same:
        return same[:1]
    folded = {k.casefold(): k for k in known}
    return [folded[m] for m in difflib.get_close_matches(str(name).casefold(), list(folded), n=1, cutoff=0.6)]


def check_segment_names(
    rules: Sequence[ActionRule], segment_names: Iterable[str], *, policy: LapsePolicy | None = None
) -> None:
    """Refuse a rule, or a lapse policy, that names a segment not in the segment set.

    Segment names are matched exactly: a rule for ``'lost'`` (not ``'Lost'``)
    would catch nobody, and a lapse policy naming it would not hold anyone
    back from onboarding (n12 finding F11).

    Parameters
    ----------
    rules : sequence of ActionRule
        The rules.
    segment_names : iterable of str
        Names of the segment set (those the segmentation can produce).
    policy : LapsePolicy, optional
        Its ``lapsed_segments`` are checked too.

    Raises
    ------
    InputError
        A name that is not one of ``segment_names``: the message names the
        rule (or the policy), the name, the known names and the close match.
    """
    known = sorted({str(n) for n in segment_names})
    named = [(f"action rule {r.action!r}", "segments", n) for r in rules for n in (r.segments or ())]
    if policy is not None:  # the default names (LAPSED_SEGMENTS, of the default map) are always accepted
        named += [("the lapse policy", "lapsed_segments", n) for n in policy.lapsed_segments if n not in LAPSED_SEGMENTS]
    for who, field_name, name in named:
        if name not in known:
            close = _close_names(name, known)
            raise InputError(
                f"{who} names the segment {name!r} in its {field_name}, which is not one of the segment set's names "
                f"{known}" + (f"; did you mean {close[0]!r}? (names are matched exactly, case included)" if close else "")
                + f": a {'rule' if field_name == 'segments' else 'policy'} on an unknown segment "
                + ("catches nobody" if field_name == "segments" else "holds nobody back")
                + ". Use one of the known names."
            )


def _words_note(rule: ActionRule) -> str:
    """The marker words of a rule's text, for a refusal message ("" when the text has none)."""
    sig = _text_signals(rule.action, rule.offer)
    words = [w for k in ("onboarding", "acquisition", "weak_onboarding") for w in sig.get(k, [])]
    if not words:
        return ""
    strong = any(k in sig for k in _STRONG_WORDS)
    return (f" (its words read as {rule.intent}: {', '.join(map(repr, words))}; if it is not for new customers, "
            f"declare its intent, one of {INTENTS}" + (", and reword it" if strong else "") + ")")


def validate_action_rules(
    rules: Sequence[ActionRule], *, policy: LapsePolicy | None = None, segment_names: Iterable[str] | None = None
) -> list[ActionRule]:
    """Check an ordered rule set; refuse any that could send a lapsed customer or segment to onboarding.

    Parameters
    ----------
    rules : sequence of ActionRule
        Ordered rules (first match wins).
    policy : LapsePolicy, optional
        Default ``LapsePolicy()``.
    segment_names : iterable of str, optional
        Names of the segment set; when given, every segment a rule or the
        policy names must be one of them (:func:`check_segment_names`).

    Returns
    -------
    list of ActionRule
        The rules.

    Raises
    ------
    ValueError
        No rules, something other than :class:`ActionRule`, an
        onboarding/acquisition rule that is not restricted to
        ``state="active"`` or that names a lapsed segment, or (with
        ``segment_names``) a segment name not in the segment set.
    """
    policy = policy or LapsePolicy()
    rules = list(rules)
    if not rules:
        raise InputError("no action rules given")
    for rule in rules:
        if not isinstance(rule, ActionRule):
            raise InputError(f"action rules must be ActionRule objects, got {type(rule).__name__}")
    if segment_names is not None:
        check_segment_names(rules, segment_names, policy=policy)
    for rule in rules:
        if not rule.kept_from_lapsed:
            continue
        kind = (f"an {rule.intent} action" if rule.new_customer else
                f"a {rule.intent} action worded as a welcome ({', '.join(map(repr, rule.welcome_words))}), which a "
                "lapsed customer reads as an onboarding offer,")
        if rule.state != "active":
            raise InputError(
                f"action rule {rule.action!r} is {kind} but can reach lapsed customers "
                f"(state={rule.state!r}): give it state='active', i.e. only customers with at most "
                f"{policy.lapsed_days:g} days since the last purchase and P(alive) >= {policy.lapsed_p_alive:g}"
                + (_words_note(rule) if rule.new_customer else "")
            )
        lapsed_named = sorted(set(rule.segments or ()) & set(policy.lapsed_segments))
        if lapsed_named:
            raise InputError(
                f"action rule {rule.action!r} maps the lapsed segment(s) {lapsed_named} to {kind.rstrip(',')}; "
                "lapsed segments can never get onboarding or acquisition actions, nor a welcome: remove them from its "
                "segments (or change the rule's intent and offer)"
            )
    return rules


def _unit_days(table: pd.DataFrame, unit_days: float | None) -> float:
    if unit_days is not None:
        if not (isinstance(unit_days, (int, float)) and math.isfinite(unit_days) and unit_days > 0):
            raise SegmentationInputError(f"unit_days must be a positive number of days, got {shown(unit_days)}")
        return float(unit_days)
    attrs = table.attrs
    if attrs.get("unit_days") is not None:
        return float(attrs["unit_days"])
    if attrs.get("time_unit") is not None:
        from crm_analysis.rfm import time_unit_days

        return float(time_unit_days(attrs["time_unit"]))
    raise SegmentationInputError(
        "the customer table does not say the time unit of recency and T (attrs 'unit_days' / 'time_unit', "
        "set by crm_analysis.rfm.rfm_summary and kept in clv.parquet): pass unit_days (7 for weeks, 1 for days), "
        "or give days_since_last and age_days columns"
    )


def customer_state(
    table: pd.DataFrame,
    *,
    policy: LapsePolicy | None = None,
    unit_days: float | None = None,
    segment_col: str = "segment",
    p_alive_col: str = "p_alive",
    revenue_col: str = "revenue",
    clv_col: str = "clv",
    profit_col: str | None = None,
) -> pd.DataFrame:
    """Each customer's figures for the action rules, and whether the customer (or segment) has lapsed.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer with P(alive), revenue, CLV, and either
        ``recency`` and ``T`` (in the summary's time unit) or
        ``days_since_last`` and ``age_days`` (days); a segment column is
        optional.
    policy : LapsePolicy, optional
        Default ``LapsePolicy()``.
    unit_days : float, optional
        Days per time unit of ``recency``/``T``; default from
        ``table.attrs`` (``unit_days`` or ``time_unit``).
    segment_col, p_alive_col, revenue_col, clv_col : str
        Column names.
    profit_col : str, optional
        Profit per customer after the cost to serve
        (:mod:`crm_analysis.profitability`); adds ``profit_index`` = profit /
        mean profit.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``table``: ``p_alive``, ``days_since_last``,
        ``age_days``, ``revenue_index``, ``clv_index`` (and ``profit_index``), ``lapsed_by_days``,
        ``lapsed_by_p_alive``, ``state`` (``"active"``/``"lapsed"``) and, with
        a segment column, ``segment``, ``segment_lapsed`` (bool) and
        ``segment_lapsed_reason``.

    Raises
    ------
    SegmentationInputError
        Missing columns, non-finite values, P(alive) outside [0, 1],
        negative days, an unknown time unit, or a non-positive mean revenue
        or CLV (indices undefined).
    """
    policy = policy or LapsePolicy()
    require_columns(table, [p_alive_col, revenue_col, clv_col], "customer table")
    p_alive = require_finite(table[p_alive_col], p_alive_col)
    if ((p_alive < 0) | (p_alive > 1)).any():
        raise SegmentationInputError(
            f"column {p_alive_col!r} has {int(((p_alive < 0) | (p_alive > 1)).sum())} value(s) outside [0, 1]"
        )
    if {"days_since_last", "age_days"} <= set(table.columns):
        days = require_finite(table["days_since_last"], "days_since_last")
        age = require_finite(table["age_days"], "age_days")
    else:
        require_columns(table, ["recency", "T"], "customer table (no days_since_last / age_days columns)")
        k = _unit_days(table, unit_days)
        rec = require_finite(table["recency"], "recency")
        T = require_finite(table["T"], "T")
        days, age = (T - rec) * k, T * k
    if (days < -1e-9).any() or (age < -1e-9).any():
        raise SegmentationInputError(
            f"{int((days < -1e-9).sum())} customer(s) have a last purchase after the end of observation "
            "(recency > T); fix the summary"
        )
    out = pd.DataFrame(index=table.index)
    out["p_alive"] = p_alive
    out["days_since_last"] = np.maximum(days, 0.0)
    out["age_days"] = np.maximum(age, 0.0)
    indices = [(revenue_col, "revenue_index"), (clv_col, "clv_index")]
    if profit_col is not None:
        require_columns(table, [profit_col], "customer table")
        indices.append((profit_col, "profit_index"))
    for col, name in indices:
        values = require_finite(table[col], col)
        mean = float(values.mean()) if len(values) else float("nan")
        if not mean > 0:
            raise SegmentationInputError(f"mean {col} is {mean:.4g}: the {name} (value / mean) is undefined")
        out[name] = values / mean
    out["lapsed_by_days"] = out["days_since_last"].to_numpy() > policy.lapsed_days
    out["lapsed_by_p_alive"] = p_alive < policy.lapsed_p_alive
    lapsed = out["lapsed_by_days"].to_numpy() | out["lapsed_by_p_alive"].to_numpy()
    out["state"] = pd.array(np.where(lapsed, "lapsed", "active"), dtype="string")
    if segment_col in table.columns:
        if table[segment_col].isna().any():
            raise SegmentationInputError(f"{int(table[segment_col].isna().sum())} customer(s) have no segment")
        seg = table[segment_col].astype("string")
        out["segment"] = seg.to_numpy()
        g = out.groupby("segment", observed=True, sort=False)
        by_days = g["days_since_last"].median() > policy.lapsed_days
        by_p = g["p_alive"].mean() < policy.lapsed_p_alive
        names = pd.Series(by_days.index.isin(policy.lapsed_segments), index=by_days.index)
        reason = pd.Series("", index=by_days.index, dtype=object)
        for mask, text in (
            (names, "name"),
            (by_days, f"median days since last purchase > {policy.lapsed_days:g}"),
            (by_p, f"mean P(alive) < {policy.lapsed_p_alive:g}"),
        ):
            reason[mask] = reason[mask].map(lambda r, t=text: f"{r}; {t}" if r else t)
        out["segment_lapsed"] = out["segment"].map(reason != "").to_numpy(dtype=bool)
        out["segment_lapsed_reason"] = pd.array(out["segment"].map(reason).to_numpy(), dtype="string")
    return out


def assign_actions(
    table: pd.DataFrame,
    *,
    rules: Sequence[ActionRule] | None = None,
    policy: LapsePolicy | None = None,
    segment_col: str = "segment",
    segment_names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Action, offer, intent and matching rule of every customer.

    Parameters
    ----------
    table : pandas.DataFrame
        Customer figures: the output of :func:`customer_state`, optionally
        with further columns used by the rules.
    rules : sequence of ActionRule, optional
        Ordered rules, first match wins; default :func:`default_action_rules`.
        Checked with :func:`validate_action_rules`.
    policy : LapsePolicy, optional
        Default ``LapsePolicy()``.
    segment_col : str, default "segment"
        Segment column (optional).
    segment_names : iterable of str, optional
        Names of the segment set. Default: the default RFM map's names
        (:data:`~crm_analysis.segmentation.rfm_scores.SEGMENT_ORDER`); the
        segments of ``table`` are always known. A rule or policy naming
        another segment is refused (:func:`check_segment_names`).

    Returns
    -------
    pandas.DataFrame
        Aligned with ``table``: ``action``, ``offer``, ``intent``, ``rule``
        (the matched conditions in words), ``rule_number`` (1-based) and
        ``held_back`` (rule numbers of onboarding/acquisition rules the
        customer matched but was held back from because the segment is
        lapsed, comma separated; empty otherwise). :func:`count_rules` counts
        the customers per rule.

    Raises
    ------
    ValueError
        A refused rule set (see :func:`validate_action_rules`), a rule on an
        unknown column, or customers no rule matches (listed).
    InputError
        A table without ``state``, or with a segment column but without
        ``segment_lapsed`` (both added by :func:`customer_state`).
    RuntimeError
        If, against the checks above, a lapsed customer or a customer of a
        lapsed segment got an onboarding or acquisition action.
    """
    policy = policy or LapsePolicy()
    known = set(SEGMENT_ORDER if segment_names is None else segment_names)
    if segment_col in table.columns:
        known |= set(table[segment_col].dropna().astype(str).unique())
    rules = validate_action_rules(default_action_rules() if rules is None else rules, policy=policy,
                                  segment_names=known)
    if "state" not in table.columns:
        raise InputError("the customer table has no 'state' column: build it with customer_state(...)")
    n = len(table)
    if segment_col in table.columns and "segment_lapsed" not in table.columns:
        # without it every segment would pass as not lapsed and onboarding rules would reach Lost customers (findings_12z F2)
        raise InputError(f"the customer table has a {segment_col!r} column but no 'segment_lapsed' column, so the "
                         "onboarding and acquisition rules cannot be kept from lapsed segments: build the table with "
                         "customer_state(...), which adds it")
    seg_lapsed = (
        table["segment_lapsed"].to_numpy(dtype=bool) if "segment_lapsed" in table.columns else np.zeros(n, bool)
    )
    action = np.full(n, None, dtype=object)
    offer = np.full(n, None, dtype=object)
    intent = np.full(n, None, dtype=object)
    why = np.full(n, None, dtype=object)
    number = np.zeros(n, dtype="int64")
    held = np.full(n, "", dtype=object)
    free = np.ones(n, dtype=bool)
    for i, rule in enumerate(rules, start=1):
        match = free & rule.matches(table, segment_col=segment_col)
        if rule.kept_from_lapsed:
            barred = match & seg_lapsed
            held[barred] = [f"{h},{i}" if h else str(i) for h in held[barred]]
            match &= ~seg_lapsed
        action[match], offer[match], intent[match], why[match] = rule.action, rule.offer, rule.intent, rule.describe()
        number[match] = i
        free &= ~match
    if free.any():
        raise InputError(
            f"no action rule matches {int(free.sum())} customer(s), e.g. {list(table.index[free][:5])}; end the "
            "rules with a catch-all ActionRule(action, offer, conditions={})"
        )
    lapsed_any = (table["state"].astype(str).to_numpy() == "lapsed") | seg_lapsed
    bad = lapsed_any & np.isin(intent.astype(str), list(NEW_CUSTOMER_INTENTS))
    if bad.any():  # pragma: no cover - excluded by validate_action_rules and the hold-back above
        raise OperationError(f"internal error: {int(bad.sum())} lapsed customer(s) got an onboarding/acquisition action")
    out = pd.DataFrame(
        {"action": action, "offer": offer, "intent": intent, "rule": why}, index=table.index
    ).astype("string")
    out["rule_number"] = number
    out["held_back"] = pd.array(held, dtype="string")
    return out


def count_rules(actions: pd.DataFrame, rules: Sequence[ActionRule]) -> pd.DataFrame:
    """How many customers each rule caught, and how many were held back from it.

    Parameters
    ----------
    actions : pandas.DataFrame
        Output of :func:`assign_actions` (``rule_number``, ``held_back``).
    rules : sequence of ActionRule
        The rules it was made with.

    Returns
    -------
    pandas.DataFrame
        Index ``rule`` (1-based, rule order): ``action``, ``intent``,
        ``conditions``, ``customers``, ``share`` (of all customers) and
        ``held_back_lapsed_segment`` (customers matching an
        onboarding/acquisition rule but held back because their segment is
        lapsed).
    """
    rules = list(rules)
    caught = actions["rule_number"].value_counts()
    held = pd.Series(
        [int(x) for h in actions["held_back"].fillna("").astype(str) if h for x in h.split(",")], dtype="int64"
    ).value_counts()
    n = max(len(actions), 1)
    rows = [
        {"rule": i, "action": r.action, "intent": r.intent, "conditions": r.describe(),
         "customers": int(caught.get(i, 0)), "share": int(caught.get(i, 0)) / n,
         "held_back_lapsed_segment": int(held.get(i, 0))}
        for i, r in enumerate(rules, start=1)
    ]
    return pd.DataFrame(rows).set_index("rule")


@dataclass
class SegmentSummary:
    """Per-segment figures, the customers' actions and the rule counts.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per segment (index ``segment``): ``customers``, ``share``,
        ``revenue``, ``revenue_share``, ``clv_total``, ``clv_share``,
        ``mean_p_alive``, ``mean_clv``, ``median_days_since_last``,
        ``lapsed_share`` (customers lapsed by their own figures),
        ``segment_lapsed`` and ``segment_lapsed_reason``, ``mean_<col>`` of
        ``mean_cols``, ``revenue_index``, ``clv_index``, then ``action``
        (the most common action in the segment), ``offer``, ``action_share``
        (its share of the segment), ``actions`` (the mix, e.g.
        ``"Win back 62%, Let go 38%"``) and ``p_alive_model``; sorted by CLV
        share, descending.
    customers : pandas.DataFrame
        One row per customer (index as the input table, column ``customer_id``
        where known): segment, the figures of :func:`customer_state` and the
        columns of :func:`assign_actions`, plus ``p_alive_model``.
    rule_counts : pandas.DataFrame
        One row per rule: action, intent, conditions, customers caught,
        their share, and customers held back from an onboarding/acquisition
        rule because their segment is lapsed.
    rules : list of ActionRule
        The rules used.
    policy : LapsePolicy
        The lapse policy used.
    p_alive_model : str
        The purchase model whose P(alive) was used.
    """

    table: pd.DataFrame
    customers: pd.DataFrame
    rule_counts: pd.DataFrame
    rules: list[ActionRule]
    policy: LapsePolicy
    p_alive_model: str = "not stated"

    def export_action_table(self, path: str | Path, segments: pd.DataFrame | None = None) -> Path:
        """Write the action table as CSV for campaign tools; see :func:`export_action_table`."""
        return export_action_table(self, path, segments=segments)

    def plot(self, axes: Sequence[plt.Axes] | None = None) -> Figure:
        """Bar charts: share of customers, revenue and CLV per segment; mix of actions per segment.

        Parameters
        ----------
        axes : two matplotlib Axes, optional
            Axes to draw on; a new figure otherwise.
        """
        own = axes is None
        if own:
            fig, axes = plt.subplots(1, 2, figsize=(13, 0.45 * len(self.table) + 2.2), sharey=True)
        else:
            fig = axes[0].figure
        t = self.table.iloc[::-1]
        y = np.arange(len(t))
        h = 0.27
        ax = axes[0]
        ax.barh(y + h, t["share"], h, label="customers")
        ax.barh(y, t["revenue_share"], h, label="revenue")
        ax.barh(y - h, t["clv_share"], h, label="CLV")
        ax.set_yticks(y, t.index)
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel("Share of total")
        ax.set_ylabel("Segment")
        ax.set_title("Segment shares of customers, revenue and CLV")
        ax.legend(fontsize="small")
        ax = axes[1]
        mix = pd.crosstab(self.customers["segment"], self.customers["action"], normalize="index")
        order = [r.action for r in self.rules if r.action in mix.columns]
        mix = mix.reindex(index=t.index, columns=list(dict.fromkeys(order)), fill_value=0.0)
        left = np.zeros(len(t))
        for j, act in enumerate(mix.columns):
            ax.barh(y, mix[act].to_numpy(), left=left, color=f"C{j}", label=act)
            left += mix[act].to_numpy()
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlim(0, 1)
        ax.set_xlabel("Share of the segment's customers")
        ax.set_title(f"Recommended actions (P(alive): {self.p_alive_model})")
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        if own:
            fig.tight_layout()
        return fig


def _p_alive_model(table: pd.DataFrame, p_alive_model: str | None) -> str:
    if p_alive_model:
        return str(p_alive_model)
    if "p_alive_model" in table.columns:
        names = table["p_alive_model"].dropna().astype(str).unique()
        if len(names) > 1:
            raise SegmentationInputError(f"the p_alive_model column names several models {sorted(names)}")
        if len(names) == 1:
            return str(names[0])
    if table.attrs.get("p_alive_model"):  # the descriptive label (the limit a fit sits at) of the value table
        return str(table.attrs["p_alive_model"])
    model = table.attrs.get("model")
    if model:
        from crm_analysis.clv import purchase_model_label

        return purchase_model_label(str(model))
    return "not stated"


def segment_summary(
    table: pd.DataFrame,
    *,
    segment_col: str = "segment",
    revenue_col: str = "revenue",
    clv_col: str = "clv",
    p_alive_col: str = "p_alive",
    action_rules: Sequence[ActionRule] | None = None,
    mean_cols: Sequence[str] = ("r_score", "f_score", "m_score"),
    policy: LapsePolicy | None = None,
    unit_days: float | None = None,
    p_alive_model: str | None = None,
    profit_col: str | None = None,
    segment_names: Sequence[str] | None = None,
) -> SegmentSummary:
    """Figures of every segment and the recommended action of every customer.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer with the segment, revenue, CLV, P(alive) and
        ``recency``/``T`` (or ``days_since_last``/``age_days``) columns.
    segment_col, revenue_col, clv_col, p_alive_col : str
        Column names.
    action_rules : sequence of ActionRule, optional
        Ordered rules (first match wins); default :func:`default_action_rules`.
    mean_cols : sequence of str, default ("r_score", "f_score", "m_score")
        Further columns whose segment mean is added as ``mean_<col>`` where
        present in ``table``.
    policy : LapsePolicy, optional
        When customers and segments count as lapsed; default ``LapsePolicy()``.
    unit_days : float, optional
        Days per time unit of ``recency``/``T`` (default from ``table.attrs``).
    p_alive_model : str, optional
        Name of the model of ``p_alive``; default from a ``p_alive_model``
        column or ``attrs["model"]``, else ``"not stated"``.
    profit_col : str, optional
        Profit per customer; gives the rules a ``profit_index`` (see
        :func:`customer_state`) and the table ``profit`` and ``profit_share``.
    segment_names : sequence of str, optional
        Names of the segment set, which the action rules' and the policy's
        segment names must be among (see :func:`assign_actions`).

    Returns
    -------
    SegmentSummary

    Raises
    ------
    SegmentationInputError
        Missing columns, NaN values or missing segments, a non-positive
        revenue or CLV total (shares undefined), or an unknown time unit.
    ValueError
        A refused rule set (see :func:`validate_action_rules`).
    """
    policy = policy or LapsePolicy()
    require_columns(table, [segment_col, revenue_col, clv_col, p_alive_col], "customer table")
    if len(table) == 0:
        raise SegmentationInputError("no customers")
    if table[segment_col].isna().any():
        raise SegmentationInputError(f"{int(table[segment_col].isna().sum())} customer(s) have no segment")
    model_name = _p_alive_model(table, p_alive_model)
    state = customer_state(
        table, policy=policy, unit_days=unit_days, segment_col=segment_col, p_alive_col=p_alive_col,
        revenue_col=revenue_col, clv_col=clv_col, profit_col=profit_col,
    )
    rules = list(default_action_rules() if action_rules is None else action_rules)
    extra = [c for c in table.columns if c not in state.columns and c != segment_col]
    acts = assign_actions(pd.concat([state, table[extra]], axis=1), rules=rules, policy=policy,
                          segment_names=segment_names)
    df = pd.DataFrame(
        {
            "segment": state["segment"].to_numpy(),
            "revenue": require_finite(table[revenue_col], revenue_col),
            "clv": require_finite(table[clv_col], clv_col),
            "p_alive": state["p_alive"].to_numpy(),
            "days": state["days_since_last"].to_numpy(),
            "lapsed": state["state"].to_numpy(dtype=str) == "lapsed",
        }
    )
    for col in ("revenue", "clv"):
        if df[col].sum() <= 0:
            raise SegmentationInputError(f"total {col} is {df[col].sum():.4g}: shares are undefined")
    g = df.groupby("segment", observed=True, sort=True)
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "revenue": g["revenue"].sum(),
            "clv_total": g["clv"].sum(),
            "mean_p_alive": g["p_alive"].mean(),
            "mean_clv": g["clv"].mean(),
            "median_days_since_last": g["days"].median(),
            "lapsed_share": g["lapsed"].mean(),
        }
    )
    out.insert(1, "share", out["customers"] / out["customers"].sum())
    out.insert(3, "revenue_share", out["revenue"] / df["revenue"].sum())
    out.insert(5, "clv_share", out["clv_total"] / df["clv"].sum())
    seg_flags = state.groupby("segment", observed=True)[["segment_lapsed", "segment_lapsed_reason"]].first()
    out = out.join(seg_flags)
    for col in mean_cols:
        if col in table.columns:
            out[f"mean_{col}"] = pd.Series(require_finite(table[col], col)).groupby(df["segment"]).mean()
    if profit_col is not None:
        prof = pd.Series(require_finite(table[profit_col], profit_col)).groupby(df["segment"].to_numpy()).sum()
        out["profit"] = prof.reindex(out.index)
        total = float(prof.sum())
        out["profit_share"] = out["profit"] / total if total > 0 else np.nan
    out["revenue_index"] = out["revenue_share"] / out["share"]
    out["clv_index"] = out["clv_share"] / out["share"]
    # the action mix of each segment, actions in rule order
    order = {r.action: i for i, r in reversed(list(enumerate(rules)))}
    counts = pd.crosstab(df["segment"].to_numpy(), acts["action"].to_numpy())
    counts = counts[sorted(counts.columns, key=lambda a: order.get(a, len(order)))]
    main = counts.idxmax(axis=1)  # ties: the earlier rule (columns in rule order)
    offers = {}
    for r in rules:
        offers.setdefault(r.action, r.offer)
    out["action"] = main.reindex(out.index)
    out["offer"] = out["action"].map(offers)
    out["action_share"] = (counts.max(axis=1) / counts.sum(axis=1)).reindex(out.index)
    shares = counts.div(counts.sum(axis=1), axis=0)
    out["actions"] = [
        ", ".join(f"{a} {s:.0%}" for a, s in shares.loc[seg].sort_values(ascending=False, kind="stable").items() if s > 0)
        for seg in out.index
    ]
    out["p_alive_model"] = model_name
    out = out.sort_values(["clv_share", "customers"], ascending=False, kind="stable")
    out.index.name = "segment"
    out[["action", "offer", "actions", "p_alive_model", "segment_lapsed_reason"]] = out[
        ["action", "offer", "actions", "p_alive_model", "segment_lapsed_reason"]
    ].astype("string")
    customers = pd.concat([state, acts], axis=1)
    try:
        customers.insert(0, "customer_id", customer_ids(table).to_numpy())
    except SegmentationInputError:
        pass  # no ids: the index identifies the customers
    customers["p_alive_model"] = model_name
    rule_counts = count_rules(acts, rules)
    return SegmentSummary(
        table=out, customers=customers, rule_counts=rule_counts, rules=rules, policy=policy, p_alive_model=model_name
    )


def export_action_table(
    summary: SegmentSummary | pd.DataFrame,
    path: str | Path,
    *,
    segments: pd.DataFrame | None = None,
    segment_col: str = "segment",
) -> Path:
    """Write the action table as CSV (UTF-8, comma separated) for campaign tools.

    Parameters
    ----------
    summary : SegmentSummary or DataFrame
        Output of :func:`segment_summary` (or its ``table`` for the
        per-segment file).
    path : str or Path
        CSV file to write (parent directories are created).
    segments : pandas.DataFrame, optional
        One row per customer with ``customer_id`` (and e.g. the segment,
        scores). When given, the file has one row per customer: these
        columns, then the customer's ``action``, ``offer``, ``intent``,
        ``state``, ``days_since_last``, ``p_alive`` and ``p_alive_model``.
        Otherwise one row per segment (with the action mix and the P(alive)
        model).
    segment_col : str, default "segment"
        Segment column of ``segments``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        Per-customer export from a bare table, or customers missing from the
        summary.
    """
    table = summary.table if isinstance(summary, SegmentSummary) else summary
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if segments is None:
        out = table.reset_index()
    else:
        if not isinstance(summary, SegmentSummary):
            raise InputError("a per-customer action table needs the SegmentSummary (its customers' actions)")
        require_columns(segments, [segment_col], "segments")
        ids = customer_ids(segments)
        cust = summary.customers
        if "customer_id" not in cust.columns:
            raise InputError("the summary's customers have no customer_id: build it from a table with ids")
        cols = ["action", "offer", "intent", "state", "days_since_last", "p_alive", "p_alive_model"]
        acts = cust.set_index("customer_id")[cols]
        unknown = sorted(set(ids) - set(acts.index.astype(str)))
        if unknown:
            raise InputError(f"{len(unknown)} customer(s) are not in the summary, e.g. {unknown[:5]}")
        out = segments.drop(columns=[c for c in cols if c in segments.columns])
        out = out.assign(customer_id=ids.to_numpy())
        out = out.join(acts, on="customer_id")
    if segment_col == "segment":  # the chain's exports keep their declared columns
        from crm_analysis.contracts import check_file

        check_file(out, path.name)
    out.to_csv(path, index=False)
    return path
