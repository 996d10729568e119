"""Pareto (80/20) analysis of customer value: Lorenz curve, Gini, top-x% shares.

Definitions (``x`` sorted ascending, ``n`` customers, total ``S``):

* Lorenz curve: points ``(i/n, sum(x[:i])/S)``, ``i = 0..n``.
* Concentration curve: the same with ``x`` sorted descending -- the share of the
  total produced by the top ``i/n`` of customers (the "Pareto chart").
* Gini coefficient: ``G = 2 * sum(i * x_i) / (n * S) - (n + 1) / n`` (``i`` =
  1..n ascending), equal to the mean absolute difference over twice the mean,
  ``sum_ij |x_i - x_j| / (2 n^2 mean)``, and to twice the area between the
  equality line and the (piecewise linear) Lorenz curve. It is 0 when everybody
  has the same value and ``(n-1)/n`` when one customer has it all.

Negative values (refunds, loss-making customers) have no place on a Lorenz
curve. They raise by default (``negative="raise"``); ``negative="clip"`` sets
them to 0 and counts them (:attr:`ParetoResult.n_clipped`,
:attr:`ParetoResult.clipped_amount`). A negative or zero total, NaN and
infinite values always raise.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from dataclasses import dataclass, field
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from crm_analysis.segmentation._common import SegmentationInputError

__all__ = ["ParetoResult", "pareto_analysis"]


@dataclass
class ParetoResult:
    """Concentration of value across customers.

    Attributes
    ----------
    values : numpy.ndarray
        Values sorted ascending (after clipping, if any).
    population_share : numpy.ndarray
        ``0, 1/n, ..., 1`` (length ``n + 1``).
    lorenz : numpy.ndarray
        Cumulative value share of the bottom customers (ascending sort).
    concentration : numpy.ndarray
        Cumulative value share of the top customers (descending sort).
    gini : float
        Gini coefficient.
    total : float
        Sum of the values.
    n_zero : int
        Customers with value 0.
    n_clipped : int
        Negative values set to 0 (``negative="clip"``).
    clipped_amount : float
        Sum of the clipped negative values (<= 0).
    label : str
        Name of the value, used in plots.
    """

    values: np.ndarray
    population_share: np.ndarray
    lorenz: np.ndarray
    concentration: np.ndarray
    gini: float
    total: float
    n_zero: int = 0
    n_clipped: int = 0
    clipped_amount: float = 0.0
    label: str = "value"
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of customers."""
        return int(self.values.size)

    def share_of_top(self, x: float) -> float:
        """Share of the total produced by the top ``x`` (fraction, 0..1) of customers.

        Linear interpolation along the concentration curve between whole
        customers (exact when ``x * n`` is an integer).

        Parameters
        ----------
        x : float
            Fraction of customers, e.g. ``0.2`` for the top 20%.
        """
        if not 0.0 <= x <= 1.0:
            raise InputError(f"x is a fraction of customers in [0, 1] (0.2 = top 20%), got {x}")
        return float(np.interp(x, self.population_share, self.concentration))

    def customers_for_share(self, *, share: float = 0.8) -> float:
        """Smallest fraction of customers (whole customers) producing ``share`` of the total.

        Parameters
        ----------
        share : float, default 0.8
            Target share of the total value, in (0, 1].

        Returns
        -------
        float
            ``k / n`` for the smallest ``k`` whose top-``k`` customers produce at
            least ``share`` of the total.
        """
        if not 0.0 < share <= 1.0:
            raise InputError(f"share must be in (0, 1], got {share}")
        # tolerance so that a share hit exactly (up to rounding) counts as reached
        k = int(np.searchsorted(self.concentration, share - 1e-12, side="left"))
        return k / self.n

    def summary(self) -> pd.Series:
        """Headline figures: Gini, top-10/20% shares, customers for 50/80%."""
        return pd.Series(
            {
                "customers": self.n,
                "total": self.total,
                "gini": self.gini,
                "top10_share": self.share_of_top(0.1),
                "top20_share": self.share_of_top(0.2),
                "customers_for_50pct": self.customers_for_share(share=0.5),
                "customers_for_80pct": self.customers_for_share(share=0.8),
                "zero_value_customers": self.n_zero,
                "negative_clipped": self.n_clipped,
            },
            name=self.label,
        )

    def plot(self, ax: Axes | None = None, *, share: float = 0.8) -> Figure:
        """Lorenz and concentration curves, marking the customers producing ``share``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure otherwise.
        share : float, default 0.8
            Value share to mark on the concentration curve.
        """
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.5, 5))
        else:
            fig = ax.figure
        p = self.population_share
        ax.plot(p, self.concentration, color="C0", lw=2, label="Top customers (concentration)")
        ax.plot(p, self.lorenz, color="C1", lw=2, label=f"Lorenz curve (Gini {self.gini:.2f})")
        ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="Equal value")
        xs = self.customers_for_share(share=share)
        ax.plot([xs, xs, 0], [0, share, share], color="C3", ls="--", lw=1)
        ax.scatter([xs], [share], color="C3", zorder=3)
        ax.annotate(
            f"{xs:.0%} of customers produce {share:.0%}",
            (xs, share),
            xytext=(10, -25),
            textcoords="offset points",
            color="C3",
        )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("Share of customers")
        ax.set_ylabel(f"Share of {self.label}")
        ax.set_title(f"Concentration of {self.label}")
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.legend(loc="center right", fontsize="small")
        return fig


def pareto_analysis(
    values: pd.Series | np.ndarray | list[float],
    *,
    negative: Literal["raise", "clip"] = "raise",
    label: str | None = None,
) -> ParetoResult:
    """Lorenz curve, Gini and top-x% shares of a per-customer value.

    Parameters
    ----------
    values : array-like
        One value per customer (revenue, CLV, ...). Zeros are allowed.
    negative : {"raise", "clip"}, default "raise"
        What to do with negative values: raise, or set them to 0 and count
        them in the result (``n_clipped``, ``clipped_amount``).
    label : str, optional
        Name of the value for plots; default the Series name or ``"value"``.

    Returns
    -------
    ParetoResult

    Raises
    ------
    SegmentationInputError
        Empty input, NaN/infinite values, negative values with
        ``negative="raise"``, or a total that is not positive.

    Examples
    --------
    >>> r = pareto_analysis([0, 0, 0, 0, 10])
    >>> round(r.gini, 2), r.share_of_top(0.2), r.customers_for_share(0.8)
    (0.8, 1.0, 0.2)
    """
    if label is None:
        label = str(values.name) if isinstance(values, pd.Series) and values.name is not None else "value"
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
    if x.size == 0:
        raise SegmentationInputError("no values: Pareto analysis needs at least one customer")
    bad = ~np.isfinite(x)
    if bad.any():
        raise SegmentationInputError(
            f"{int(bad.sum())} NaN/infinite/non-numeric value(s) in {label!r}; "
            "drop or impute them before the Pareto analysis"
        )
    neg = x < 0
    n_clipped, clipped = 0, 0.0
    notes: list[str] = []
    if neg.any():
        if x.sum() <= 0:
            raise SegmentationInputError(
                f"the total of {label!r} is {x.sum():.4g} (not positive): no concentration to measure"
            )
        if negative == "raise":
            raise SegmentationInputError(
                f"{int(neg.sum())} negative value(s) in {label!r} (sum {x[neg].sum():.4g}); "
                "a Lorenz curve needs values >= 0: net them off per customer, or pass "
                "negative='clip' to set them to 0 (counted in the result)"
            )
        if negative != "clip":
            raise InputError(f"negative must be 'raise' or 'clip', got {shown(negative)}")
        n_clipped, clipped = int(neg.sum()), float(x[neg].sum())
        notes.append(f"{n_clipped} negative value(s) (sum {clipped:.4g}) set to 0")
        x = np.where(neg, 0.0, x)
    total = float(x.sum())
    if total <= 0:
        raise SegmentationInputError(
            f"the total of {label!r} is {total:.4g}: no concentration to measure (all values zero)"
        )
    x = np.sort(x)
    n = x.size
    p = np.arange(n + 1) / n
    lorenz = np.concatenate([[0.0], np.cumsum(x) / total])
    conc = np.concatenate([[0.0], np.cumsum(x[::-1]) / total])
    lorenz[-1] = conc[-1] = 1.0
    i = np.arange(1, n + 1)
    gini = float(2.0 * np.sum(i * x) / (n * total) - (n + 1) / n)
    return ParetoResult(
        values=x,
        population_share=p,
        lorenz=lorenz,
        concentration=conc,
        gini=gini,
        total=total,
        n_zero=int((x == 0).sum()) - n_clipped,
        n_clipped=n_clipped,
        clipped_amount=clipped,
        label=label,
        notes=notes,
    )
