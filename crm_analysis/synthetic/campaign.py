"""A randomised marketing campaign with a known uplift per customer.

Customers are assigned at random to a treatment (e.g. an e-mail) or the
control group; over the campaign window each visits with probability
``p0(x)`` without and ``p1(x) = clip(p0(x) + tau(x), 0, 1)`` with the
treatment, so ``tau(x)`` is the true uplift of the visit rate. A visit
converts with a fixed probability and a conversion spends a gamma amount,
so the uplift of conversion and spend is ``tau(x)`` times constants. The
truth (``tau``, ``p0``, ``p1``) comes with the data so that the uplift models
and their curves can be tested against it (parameter recovery).

Two forms:

* ``customers=None``: customers of their own, with attributes like those of
  the Hillstrom e-mail test (months since the last purchase, last year's
  spend, channel, new customer), ``tau = 0.16 exp(-(recency - 1) / 3) + 0.04
  [channel = Web] - 0.05 [newbie]`` (-0.05 to 0.20: recent buyers respond,
  lapsed new customers are put off);
* ``customers=`` a table of the chain's customers (``customer_id``,
  ``p_alive``, ``frequency``): ``p0 = sigmoid(-2.5 + 1.5 p_alive + 0.2
  log(1 + frequency))``, ``tau = 0.12 p_alive [frequency >= 1] + 0.01``; the
  campaign table then holds only ids, groups and outcomes (a campaign export),
  and the features come from the chain.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis.synthetic._common import STRING

__all__ = ["SyntheticCampaign", "simulate_campaign", "CAMPAIGN_GROUPS"]

#: Group labels of the synthetic campaign: (treatment, control).
CAMPAIGN_GROUPS: tuple[str, str] = ("email", "control")


@dataclass
class SyntheticCampaign:
    """A simulated randomised campaign and its truth.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per customer: ``customer_id``, ``group`` (``"email"`` /
        ``"control"``), the attributes (own customers only), ``visit``,
        ``conversion`` (0/1) and ``spend`` (money).
    truth : pandas.DataFrame
        ``customer_id``, ``p0``, ``p1`` (visit probability without / with the
        e-mail) and ``tau`` (true uplift of the visit rate).
    params : dict
        Conversion probability, spend distribution, treated share, seed.
    """

    table: pd.DataFrame
    truth: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate_campaign(
    *,
    n_customers: int = 20_000,
    customers: pd.DataFrame | None = None,
    treatment_share: float = 0.5,
    conversion_given_visit: float = 0.08,
    spend_shape: float = 2.0,
    spend_scale: float = 50.0,
    seed: int | None = 42,
) -> SyntheticCampaign:
    """Simulate a randomised e-mail campaign with a known uplift (see the module docstring).

    Parameters
    ----------
    n_customers : int, default 20000
        Customers of their own (ignored when ``customers`` is given).
    customers : pandas.DataFrame, optional
        The chain's customers: ``customer_id``, ``p_alive`` in [0, 1],
        ``frequency`` >= 0.
    treatment_share : float, default 0.5
        Share assigned to the e-mail, in (0, 1).
    conversion_given_visit : float, default 0.08
        P(conversion | visit).
    spend_shape, spend_scale : float
        Gamma distribution of the spend of a conversion (mean shape * scale).
    seed : int, optional
        Seed of all randomness.

    Returns
    -------
    SyntheticCampaign

    Raises
    ------
    ValueError
        A share or probability outside its range, non-positive spend
        parameters, customers without the needed columns.
    """
    if not 0 < treatment_share < 1:
        raise InputError(f"treatment_share must lie in (0, 1), got {shown(treatment_share)}")
    if not 0 <= conversion_given_visit <= 1:
        raise InputError(f"conversion_given_visit must be a probability, got {shown(conversion_given_visit)}")
    if not (spend_shape > 0 and spend_scale > 0):
        raise InputError("spend_shape and spend_scale must be positive")
    rng = np.random.default_rng(seed)
    if customers is None:
        if int(n_customers) != n_customers or n_customers < 2:
            raise InputError(f"n_customers must be an integer >= 2, got {shown(n_customers)}")
        n = int(n_customers)
        recency = rng.integers(1, 13, n)
        history = np.round(np.exp(rng.normal(np.log(150.0), 0.9, n)) + 30.0, 2)
        channel = rng.choice(np.array(["Web", "Phone", "Multichannel"], dtype=object), n, p=[0.45, 0.4, 0.15])
        newbie = (rng.random(n) < 0.5).astype("int64")
        p0 = _sigmoid(-2.3 + 0.25 * np.log(history / 100.0) - 0.06 * recency + 0.3 * (channel == "Web"))
        tau = 0.16 * np.exp(-(recency - 1) / 3.0) + 0.04 * (channel == "Web") - 0.05 * newbie
        ids = pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(len(str(n))).radd("H").to_numpy(dtype=object)
        attrs = pd.DataFrame({"recency": recency.astype("int64"), "history": history,
                              "channel": pd.array(channel, dtype=STRING), "newbie": newbie})
    else:
        check_columns(("customer_id", "p_alive", "frequency"), customers.columns, table="customers",
                      fix="Pass the CLV table of the rfm_clv step (clv.parquet), which has them")
        pa = customers["p_alive"].to_numpy(dtype="float64")
        fr = customers["frequency"].to_numpy(dtype="float64")
        if not (np.isfinite(pa).all() and ((pa >= 0) & (pa <= 1)).all()):
            raise InputError("customers' p_alive must be probabilities in [0, 1]")
        if not (np.isfinite(fr).all() and (fr >= 0).all()):
            raise InputError("customers' frequency must be counts >= 0")
        n = len(customers)
        p0 = _sigmoid(-2.5 + 1.5 * pa + 0.2 * np.log1p(fr))
        tau = 0.12 * pa * (fr >= 1) + 0.01
        ids = customers["customer_id"].astype(str).to_numpy(dtype=object)
        attrs = pd.DataFrame(index=range(n))
    p1 = np.clip(p0 + tau, 0.0, 1.0)
    treated = rng.random(n) < treatment_share
    visit = rng.random(n) < np.where(treated, p1, p0)
    conversion = visit & (rng.random(n) < conversion_given_visit)
    spend = np.where(conversion, np.round(rng.gamma(spend_shape, spend_scale, n), 2), 0.0)
    table = pd.DataFrame({
        "customer_id": pd.array(ids, dtype=STRING),
        "group": pd.array(np.where(treated, CAMPAIGN_GROUPS[0], CAMPAIGN_GROUPS[1]).astype(object), dtype=STRING),
    })
    table = pd.concat([table, attrs.reset_index(drop=True)], axis=1)
    table["visit"] = visit.astype("int64")
    table["conversion"] = conversion.astype("int64")
    table["spend"] = spend
    truth = pd.DataFrame({"customer_id": table["customer_id"], "p0": p0, "p1": p1, "tau": p1 - p0})
    params = {"treatment_share": treatment_share, "conversion_given_visit": conversion_given_visit,
              "spend_shape": spend_shape, "spend_scale": spend_scale, "seed": seed,
              "form": "own customers" if customers is None else "chain customers"}
    return SyntheticCampaign(table=table, truth=truth, params=params)
