"""Holdout and in-sample diagnostics of buy-till-you-die transaction models.

The checks of Fader, Hardie & Lee (2005), "Counting your customers the easy
way: an alternative to the Pareto/NBD model", Marketing Science 24(2):

* :func:`frequency_histogram` - actual vs expected number of customers by
  number of repeat purchases in the calibration period (their Figure 1);
* :func:`tracking` - cumulative and per-period repeat purchases of the cohort
  over calendar time, actual vs model (their Figure 2), with errors in the
  holdout period;
* :func:`conditional_expectations` - mean holdout purchases by calibration
  frequency, actual vs model (their Figure 4);
* :func:`p_alive_matrix` - P(alive) over frequency and recency.

A model is anything with the methods of :class:`crm_analysis.clv.BetaGeoModel`
used here: ``expected_purchases(t, data)``, ``expected_purchases_new(t)``,
``probability_of_purchases(x, t)`` and ``probability_alive(data)``.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError
from crm_analysis._validate import check_columns

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis._dates import parse_date
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from crm_analysis.contracts import TimeUnit
from crm_analysis.rfm import repeat_purchases_by_day, time_unit_days

from ._validation import as_frame, check_unique_columns, numeric_column, refuse_bad_frequency

__all__ = [
    "ConditionalExpectations",
    "Tracking",
    "FrequencyHistogram",
    "PAliveMatrix",
    "conditional_expectations",
    "tracking",
    "frequency_histogram",
    "p_alive_matrix",
]

def _unit_name(time_unit: Any) -> str:
    """Plural name of the unit for axis labels; ``"time units"`` when the table did not say."""
    return TimeUnit.parse(time_unit).label if time_unit is not None else "time units"


_MODEL_NAMES = {"BetaGeoModel": "BG/NBD", "ModifiedBetaGeoModel": "MBG/NBD", "ParetoNBDModel": "Pareto/NBD"}


def _model_name(model: Any) -> str:
    name = type(model).__name__
    return _MODEL_NAMES.get(name, name.replace("Model", ""))


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 4.0)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _errors(actual: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Mean absolute and root mean squared error (NaN when empty)."""
    diff = np.asarray(predicted, dtype=float) - np.asarray(actual, dtype=float)
    if diff.size == 0:
        return float("nan"), float("nan")
    return float(np.mean(np.abs(diff))), float(np.sqrt(np.mean(diff**2)))


def _bin_labels(max_frequency: int) -> list[str]:
    return [str(x) for x in range(max_frequency)] + [f"{max_frequency}+"]


def _check_columns(data: pd.DataFrame, cols: list[str], what: str, fix: str) -> None:
    as_frame(data, what=what, columns=cols)  # a Series (one customer's row, or one column) is refused, named
    check_columns(cols, data.columns, table=what, fix=fix)
    check_unique_columns(data, cols, table=what)
    if len(data) == 0:
        raise InputError(f"{what} has no customers")


def _as_array(values: Any, n: int, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).reshape(-1)
    if arr.size == 1 and n != 1:
        arr = np.full(n, arr[0])
    if arr.size != n:
        raise InputError(f"{what} returned {arr.size} values for {n} inputs")
    return arr


# --------------------------------------------------------------------------- conditional expectations
@dataclass
class ConditionalExpectations:
    """Mean holdout purchases by calibration frequency, actual vs model.

    Attributes
    ----------
    table : DataFrame
        Index: calibration frequency bin (``"0"``, ..., ``"7+"``); columns
        ``n_customers``, ``actual`` (mean holdout purchases) and ``predicted``
        (mean model expectation given each customer's history).
    mae, rmse : float
        Mean absolute / root mean squared error of ``predicted`` against
        ``actual`` over the bins (each bin weighted equally).
    duration : float
        Length of the holdout period in time units.
    time_unit : str or float
        Time unit of the summary.
    model_name : str
        Name of the model, for labels.
    """

    table: pd.DataFrame
    mae: float
    rmse: float
    duration: float
    time_unit: Any = "W"
    model_name: str = "model"

    def plot(self, ax: Axes | None = None) -> Figure:
        """Line plot of actual and predicted holdout purchases by frequency bin."""
        fig, ax = _new_axes(ax)
        x = np.arange(len(self.table))
        ax.plot(x, self.table["actual"], marker="o", label="Actual")
        ax.plot(x, self.table["predicted"], marker="s", linestyle="--", label=self.model_name)
        ax.set_xticks(x, list(self.table.index))
        ax.set_xlabel("Repeat purchases in the calibration period")
        ax.set_ylabel(f"Mean purchases in the holdout ({self.duration:.1f} {_unit_name(self.time_unit)})")
        ax.set_title(f"Conditional expectations (MAE {self.mae:.3f}, RMSE {self.rmse:.3f})")
        ax.legend()
        return fig


def _frequency_bins(data: pd.DataFrame, max_frequency: int) -> np.ndarray:
    """The ``frequency`` column as integer bins ``0 .. max_frequency`` (the last pools the rest), shape (n,).

    Float columns of whole numbers (as :func:`~crm_analysis.clv.simulate_bgnbd` gives) are fine.

    Raises
    ------
    InputError
        A frequency that is not a number, negative or not whole, naming the rows and the fix.
    """
    x = numeric_column(data, "frequency", "frequency")
    refuse_bad_frequency(data, x, "frequency")
    return np.minimum(x, max_frequency).astype(np.int64)


def conditional_expectations(model: Any, cal_hold: pd.DataFrame, *, max_frequency: int = 7) -> ConditionalExpectations:
    """Actual vs predicted holdout purchases by calibration frequency (FHL 2005, Figure 4).

    Parameters
    ----------
    model : fitted transaction model
        Fitted on the calibration columns of ``cal_hold``.
    cal_hold : DataFrame
        Output of :func:`crm_analysis.rfm.calibration_and_holdout` (columns
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``,
        ``duration_holdout``).
    max_frequency : int, default 7
        Frequencies of ``max_frequency`` and more are pooled into one bin.

    Returns
    -------
    ConditionalExpectations
    """
    if max_frequency < 1:
        raise InputError(f"max_frequency must be at least 1, got {max_frequency}")
    _check_columns(cal_hold, ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"], "cal_hold",
                   "Build it with crm_analysis.rfm.calibration_and_holdout")
    durations = cal_hold["duration_holdout"].unique()
    if len(durations) != 1:
        raise InputError("cal_hold has several holdout durations; one common holdout period is expected")
    duration = float(durations[0])
    data = cal_hold[["frequency", "recency", "T"]]
    predicted = _as_array(model.expected_purchases(duration, data), len(data), "expected_purchases")
    bins = _frequency_bins(cal_hold, max_frequency)
    labels = _bin_labels(max_frequency)
    frame = pd.DataFrame(
        {"bin": bins, "actual": cal_hold["frequency_holdout"].to_numpy(dtype=float), "predicted": predicted}
    )
    grouped = frame.groupby("bin").agg(
        n_customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    grouped.index = [labels[int(i)] for i in grouped.index]
    grouped.index.name = "frequency"
    mae, rmse = _errors(grouped["actual"].to_numpy(), grouped["predicted"].to_numpy())
    return ConditionalExpectations(
        table=grouped,
        mae=mae,
        rmse=rmse,
        duration=duration,
        time_unit=cal_hold.attrs.get("time_unit"),
        model_name=_model_name(model),
    )


# --------------------------------------------------------------------------- tracking
@dataclass
class Tracking:
    """Repeat purchases of the cohort over calendar time, actual vs model.

    Attributes
    ----------
    table : DataFrame
        One row per period (index: period number from the cohort's first
        purchase day): ``period_end`` (last day), ``actual``, ``expected``
        (repeat purchases in the period), ``actual_cumulative``,
        ``expected_cumulative`` and ``holdout`` (period ends after
        ``calibration_end``).
    calibration_end : Timestamp
        End of the calibration period.
    mae, rmse : float
        Errors of the per-period repeat purchases in the holdout periods
        (NaN without holdout).
    cumulative_mae, cumulative_rmse : float
        Errors of the cumulative repeat purchases in the holdout periods.
    cumulative_error_pct : float
        Error of the cumulative repeat purchases at the last period, in % of
        the actual.
    time_unit : str or float
        Period length (time unit of the summary).
    model_name : str
        Name of the model, for labels.
    """

    table: pd.DataFrame
    calibration_end: pd.Timestamp
    mae: float
    rmse: float
    cumulative_mae: float
    cumulative_rmse: float
    cumulative_error_pct: float
    time_unit: Any = "W"
    model_name: str = "model"

    def plot(self, axes: tuple[Axes, Axes] | None = None) -> Figure:
        """Two panels: cumulative and per-period repeat purchases, actual vs model."""
        if axes is None:
            fig = Figure(figsize=(8.0, 6.5), layout="constrained")
            axes = tuple(fig.subplots(2, 1, sharex=True))
        else:
            fig = axes[0].figure
        x = self.table["period_end"]
        unit = _unit_name(self.time_unit)
        ax_c, ax_i = axes
        ax_c.plot(x, self.table["actual_cumulative"], label="Actual")
        ax_c.plot(x, self.table["expected_cumulative"], linestyle="--", label=self.model_name)
        ax_c.set_ylabel("Cumulative repeat purchases")
        ax_c.set_title(
            f"Tracking cumulative repeat purchases (end error {self.cumulative_error_pct:+.1f}%)"
        )
        ax_i.plot(x, self.table["actual"], label="Actual")
        ax_i.plot(x, self.table["expected"], linestyle="--", label=self.model_name)
        ax_i.set_ylabel(f"Repeat purchases per period ({unit})")
        ax_i.set_xlabel("End of period")
        ax_i.set_title(f"Repeat purchases per period (holdout MAE {self.mae:.1f}, RMSE {self.rmse:.1f})")
        for ax in axes:
            ax.axvline(self.calibration_end, color="grey", linestyle=":", label="End of calibration")
            ax.legend(loc="upper left")
        return fig


def tracking(
    model: Any,
    transactions: Any,
    summary: pd.DataFrame,
    *,
    calibration_end: Any = None,
    observation_end: Any = None,
    time_unit: Any = None,
    observation_start: Any = None,
    customer_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_col: str = "amount",
    con: Any = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    sheet: Any = None,
) -> Tracking:
    """Cumulative repeat purchases over time, actual vs model (FHL 2005, Figure 2).

    The expected repeat purchases of the cohort by calendar day ``D`` are
    ``sum_i E[X(D - s_i)]`` with ``s_i`` the first purchase day of customer
    ``i`` and ``E[X(t)]`` the model's ``expected_purchases_new(t)``.

    Parameters
    ----------
    model : fitted transaction model
        Fitted on the calibration summary.
    transactions : DataFrame, path or duckdb relation
        All transactions (calibration and holdout), as for
        :func:`crm_analysis.rfm.rfm_summary`.
    summary : DataFrame
        Calibration summary (:func:`crm_analysis.rfm.calibration_and_holdout`
        or :func:`crm_analysis.rfm.rfm_summary`); its customers are the cohort.
    calibration_end : date-like, optional
        Default: ``summary.attrs["calibration_end"]`` or, for a plain
        summary, ``summary.attrs["observation_end"]``.
    observation_end : date-like, optional
        End of tracking; default ``summary.attrs["observation_end"]``.
    time_unit : str or float, optional
        Period length; default ``summary.attrs["time_unit"]`` (a summary
        without it is a :class:`crm_analysis.contracts.ContractError`, never
        taken to be weeks).
    observation_start, customer_col, datetime_col, monetary_col, con
        As in :func:`crm_analysis.rfm.rfm_summary`.
    timezone, dayfirst, date_format, read_options, encoding, sheet : optional
        The reader options and date policy of
        :func:`crm_analysis.rfm.rfm_summary`, for a file or text dates (give the
        ones the summary was built with).

    Returns
    -------
    Tracking

    Raises
    ------
    ValueError
        When the cohort in ``transactions`` does not match ``summary``.
    """
    attrs = summary.attrs
    cal_end = calibration_end if calibration_end is not None else attrs.get("calibration_end", attrs.get("observation_end"))
    obs_end = observation_end if observation_end is not None else attrs.get("observation_end")
    if cal_end is None or obs_end is None:
        raise InputError("give calibration_end and observation_end (summary.attrs does not have them)")
    cal_end = parse_date(cal_end, "calibration_end", tz="strip", time="keep")
    obs_end = parse_date(obs_end, "observation_end", tz="strip", time="keep")
    if obs_end < cal_end:
        raise InputError(f"observation_end {obs_end.date()} is before calibration_end {cal_end.date()}")
    unit = time_unit if time_unit is not None else TimeUnit.from_attrs(attrs, what="the summary").value
    k = time_unit_days(unit)
    start = observation_start if observation_start is not None else attrs.get("observation_start")
    daily = repeat_purchases_by_day(
        transactions,
        observation_end=obs_end,
        cohort_end=cal_end,
        observation_start=start,
        customer_col=customer_col,
        datetime_col=datetime_col,
        monetary_col=monetary_col,
        con=con,
        timezone=timezone,
        dayfirst=dayfirst,
        date_format=date_format,
        read_options=read_options,
        encoding=encoding,
        sheet=sheet,
    )
    n_cohort = int(daily["first_purchases"].sum())
    if n_cohort != len(summary):
        raise InputError(
            f"the transactions hold {n_cohort} customers with a first purchase up to {cal_end.date()}, "
            f"the summary {len(summary)}: pass the transactions the summary was built from"
        )
    origin = daily.index.min()
    offsets = (daily.index - origin).days.to_numpy()
    n_periods = int(np.floor((obs_end - origin).days / k)) + 1
    period_of_day = np.floor(offsets / k).astype(int)
    actual = np.bincount(period_of_day, weights=daily["repeat_purchases"].to_numpy(), minlength=n_periods)
    # last day offset of each period (the last one truncated at observation_end)
    end_offsets = np.minimum(np.ceil((np.arange(n_periods) + 1) * k).astype(int) - 1, (obs_end - origin).days)
    firsts = daily.loc[daily["first_purchases"] > 0, "first_purchases"]
    s = (firsts.index - origin).days.to_numpy()
    n_s = firsts.to_numpy(dtype=float)
    ages = (end_offsets[:, None] - s[None, :]) / k  # periods x first-purchase days
    positive = ages > 0
    values = np.zeros_like(ages)
    if positive.any():
        # ages are whole days / k: evaluate each distinct age once
        unique_ages, inverse = np.unique(ages[positive], return_inverse=True)
        curve = _as_array(model.expected_purchases_new(unique_ages), len(unique_ages), "expected_purchases_new")
        values[positive] = curve[inverse.reshape(-1)]
    expected_cum = values @ n_s
    expected = np.diff(expected_cum, prepend=0.0)
    period_end = origin + pd.to_timedelta(end_offsets, unit="D")
    holdout = period_end > cal_end
    table = pd.DataFrame(
        {
            "period_end": period_end,
            "actual": actual,
            "expected": expected,
            "actual_cumulative": np.cumsum(actual),
            "expected_cumulative": expected_cum,
            "holdout": holdout,
        },
        index=pd.RangeIndex(n_periods, name="period"),
    )
    hold = table[table["holdout"]]
    mae, rmse = _errors(hold["actual"].to_numpy(), hold["expected"].to_numpy())
    cmae, crmse = _errors(hold["actual_cumulative"].to_numpy(), hold["expected_cumulative"].to_numpy())
    last_actual = float(table["actual_cumulative"].iloc[-1])
    end_err = (
        100.0 * (float(table["expected_cumulative"].iloc[-1]) - last_actual) / last_actual
        if last_actual > 0
        else float("nan")
    )
    return Tracking(
        table=table,
        calibration_end=cal_end,
        mae=mae,
        rmse=rmse,
        cumulative_mae=cmae,
        cumulative_rmse=crmse,
        cumulative_error_pct=end_err,
        time_unit=unit,
        model_name=_model_name(model),
    )


# --------------------------------------------------------------------------- frequency histogram
@dataclass
class FrequencyHistogram:
    """Number of customers by repeat purchases in the calibration period.

    Attributes
    ----------
    table : DataFrame
        Index: frequency bin (``"0"``, ..., ``"7+"``); columns ``actual`` and
        ``expected`` (sum over customers of P(X(T_i) = x)).
    mae, rmse : float
        Errors of ``expected`` against ``actual`` over the bins (customers).
    chi2 : float
        Pearson chi-square statistic over the bins.
    model_name : str
        Name of the model, for labels.
    """

    table: pd.DataFrame
    mae: float
    rmse: float
    chi2: float
    model_name: str = "model"

    def plot(self, ax: Axes | None = None) -> Figure:
        """Grouped bar chart of actual and expected customers per bin."""
        fig, ax = _new_axes(ax)
        x = np.arange(len(self.table))
        w = 0.4
        ax.bar(x - w / 2, self.table["actual"], width=w, label="Actual")
        ax.bar(x + w / 2, self.table["expected"], width=w, label=self.model_name)
        ax.set_xticks(x, list(self.table.index))
        ax.set_xlabel("Repeat purchases in the calibration period")
        ax.set_ylabel("Customers")
        ax.set_title(f"Frequency of repeat purchases (MAE {self.mae:.1f} customers)")
        ax.legend()
        return fig


def frequency_histogram(model: Any, summary: pd.DataFrame, *, max_frequency: int = 7) -> FrequencyHistogram:
    """Actual vs expected customers by number of repeat purchases (FHL 2005, Figure 1).

    Parameters
    ----------
    model : fitted transaction model
    summary : DataFrame
        The summary the model was fitted on (``frequency``, ``T``).
    max_frequency : int, default 7
        Frequencies of ``max_frequency`` and more are pooled into one bin.

    Returns
    -------
    FrequencyHistogram

    Raises
    ------
    InputError
        ``max_frequency`` below 1; missing or duplicated columns; a frequency that is not a whole number >= 0
        (float columns of whole numbers, as :func:`~crm_analysis.clv.simulate_bgnbd` gives, are fine).

    Notes
    -----
    Customers have different ``T``; the expected count in bin ``x`` is
    ``sum_i P(X(T_i) = x)`` (computed once per distinct ``T``); the pooled
    last bin gets the rest of the customers.
    """
    if max_frequency < 1:
        raise InputError(f"max_frequency must be at least 1, got {max_frequency}")
    _check_columns(summary, ["frequency", "T"], "summary", "Build it with crm_analysis.rfm.rfm_summary")
    counts = summary["T"].value_counts()
    t_values = counts.index.to_numpy(dtype=float)
    weights = counts.to_numpy(dtype=float)
    expected = []
    for x in range(max_frequency):
        p = _as_array(model.probability_of_purchases(x, t_values), len(t_values), "probability_of_purchases")
        expected.append(float(p @ weights))
    expected.append(float(len(summary)) - sum(expected))
    bins = _frequency_bins(summary, max_frequency)
    actual = np.bincount(bins, minlength=max_frequency + 1).astype(float)
    table = pd.DataFrame(
        {"actual": actual, "expected": expected}, index=pd.Index(_bin_labels(max_frequency), name="frequency")
    )
    mae, rmse = _errors(actual, np.asarray(expected))
    exp = np.asarray(expected)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.sum(np.where(exp > 0, (actual - exp) ** 2 / exp, 0.0)))
    return FrequencyHistogram(table=table, mae=mae, rmse=rmse, chi2=chi2, model_name=_model_name(model))


# --------------------------------------------------------------------------- P(alive)
@dataclass
class PAliveMatrix:
    """P(alive) on a grid of frequency and recency for one ``T``.

    Attributes
    ----------
    matrix : DataFrame
        Index ``frequency`` (0..max_frequency), columns ``recency``
        (0..max_recency); NaN where the history is impossible (no repeat
        purchase but recency > 0, or recency > T).
    T : float
        Customer age of the grid, in time units.
    time_unit : str or float
        Time unit.
    model_name : str
        Name of the model, for labels.
    """

    matrix: pd.DataFrame
    T: float
    time_unit: Any = "W"
    model_name: str = "model"
    extra: dict[str, Any] = field(default_factory=dict)

    def plot(self, ax: Axes | None = None) -> Figure:
        """Heatmap of P(alive), frequency on the vertical axis."""
        fig, ax = _new_axes(ax, figsize=(7.5, 4.5))
        m = self.matrix
        image = ax.imshow(
            np.ma.masked_invalid(m.to_numpy(dtype=float)),
            origin="lower",
            aspect="auto",
            vmin=0.0,
            vmax=1.0,
            cmap="viridis",
            extent=(m.columns.min() - 0.5, m.columns.max() + 0.5, m.index.min() - 0.5, m.index.max() + 0.5),
        )
        fig.colorbar(image, ax=ax, label="P(alive)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        unit = _unit_name(self.time_unit)
        ax.set_xlabel(f"Recency (time of last purchase, {unit})")
        ax.set_ylabel("Repeat purchases (frequency)")
        ax.set_title(f"{self.model_name}: probability a customer is alive, T = {self.T:.1f} {unit}")
        return fig


def p_alive_matrix(
    model: Any, max_frequency: int, max_recency: int, T: float, *, time_unit: Any = "W"
) -> PAliveMatrix:
    """P(alive) for every frequency 0..max_frequency and recency 0..max_recency.

    Parameters
    ----------
    model : fitted transaction model
    max_frequency : int
        Largest frequency on the grid.
    max_recency : int
        Largest recency on the grid (whole time units; capped at ``T``).
    T : float
        Customer age (time since first purchase) for the whole grid.
    time_unit : str or float, default "W"
        Time unit of the model (labels only).

    Returns
    -------
    PAliveMatrix
    """
    if max_frequency < 0 or max_recency < 0:
        raise InputError("max_frequency and max_recency must be non-negative")
    if T <= 0:
        raise InputError(f"T must be positive, got {T}")
    freq = np.arange(max_frequency + 1)
    rec = np.arange(int(max_recency) + 1, dtype=float)
    ff, rr = np.meshgrid(freq, rec, indexing="ij")
    grid = pd.DataFrame({"frequency": ff.ravel(), "recency": rr.ravel(), "T": float(T)})
    valid = (grid["recency"] <= T) & ~((grid["frequency"] == 0) & (grid["recency"] > 0))
    values = np.full(len(grid), np.nan)
    sub = grid[valid].reset_index(drop=True)
    values[valid.to_numpy()] = _as_array(model.probability_alive(sub), len(sub), "probability_alive")
    matrix = pd.DataFrame(
        values.reshape(ff.shape), index=pd.Index(freq, name="frequency"), columns=pd.Index(rec, name="recency")
    )
    return PAliveMatrix(matrix=matrix, T=float(T), time_unit=time_unit, model_name=_model_name(model))
