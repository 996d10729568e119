"""The steps of the report chain: which function produces each hand-over file.

Each step (a notebook of the chain) has one parameters object (its parameters
cell, with the notebook's defaults and checks) and one pipeline function; the
notebook builds the parameters from its cell and calls the function, and a
notebook run on its own whose input is missing calls the same function with
the same defaults (:func:`build_artefacts`, used by
:meth:`crm_analysis.runtime.context.RunContext.read_table`). The hand-over
files are declared in :mod:`crm_analysis.contracts`.

============  =====================================================  ==========================================
step          pipeline function                                      writes
============  =====================================================  ==========================================
data_quality  :func:`crm_analysis.data.run_data_quality`             transactions, returns, bookings, data_quality.json
rfm_clv       :func:`crm_analysis.clv.run_rfm_clv`                   rfm_summary, clv, cohorts, clv_params.json
segmentation  :func:`crm_analysis.segmentation.run_segmentation`     segments, segment_actions, the two CSVs
idic          :func:`crm_analysis.idic.run_idic`                     customer_profit, next_best_products,
                                                                     campaign_targeting, customer_actions_idic.csv
seasonality   :func:`crm_analysis.seasonality.run_demand_forecast`   forecasts
yield         :func:`crm_analysis.yield_management.run_yield`        (the report and its headlines only)
booking_      :func:`crm_analysis.yield_management.                  booking_curves, pickup_errors,
horizon       run_booking_horizon`                                   overbooking_horizon, policy_replay, ...
============  =====================================================  ==========================================

This module sits above the domain packages and below the report chain: it
imports the domain packages lazily and nothing of :mod:`crm_analysis.report`.
"""

from __future__ import annotations

from crm_analysis.exceptions import NotFoundError

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

__all__ = ["Step", "STEPS", "HEADLINES_WRITER", "step_of", "producer_of", "producers", "build_artefacts"]


class _Context(Protocol):
    """What a builder needs of a run context (:class:`crm_analysis.runtime.context.RunContext`)."""

    seed: int
    as_of: Any

    def read_table(self, name: str) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Step:
    """One step of the chain.

    Parameters
    ----------
    name : str
        Step name (the notebook's name in the chain, e.g. ``"rfm_clv"``).
    notebook : str
        Notebook file.
    params : str
        Dotted name of the parameters class.
    function : str
        Dotted name of the pipeline function that produces the step's hand-over files.
    tables : tuple of str
        The Parquet artefacts the step writes.
    requires : tuple of str
        The steps whose hand-over files it reads (the report runner starts it
        once they have finished, and may run steps that do not depend on each
        other at the same time).

    files : tuple of str
        The other hand-over files it writes (JSON records, CSV exports).

    Every file of :data:`crm_analysis.contracts.ARTEFACTS` is written by
    exactly one step (:data:`STEPS`, or :data:`HEADLINES_WRITER` for
    ``headlines.json``), the one its contract names (tested).
    """

    name: str
    notebook: str
    params: str
    function: str
    tables: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def artefacts(self) -> tuple[str, ...]:
        """File names of everything the step writes (``clv.parquet``, ``clv_params.json``, ...)."""
        return tuple(f"{t}.parquet" for t in self.tables) + self.files


#: The steps of the default chain, in order.
STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step("data_quality", "00_data_quality.ipynb", "crm_analysis.data.DataQualityParams",
             "crm_analysis.data.run_data_quality", ("transactions", "returns", "bookings"),
             files=("data_quality.json",)),
        Step("rfm_clv", "10_rfm_clv.ipynb", "crm_analysis.clv.RfmClvParams", "crm_analysis.clv.run_rfm_clv",
             ("rfm_summary", "clv", "cohorts"), ("data_quality",), files=("clv_params.json",)),
        Step("segmentation", "20_segmentation.ipynb", "crm_analysis.segmentation.SegmentationParams",
             "crm_analysis.segmentation.run_segmentation", ("segments", "segment_actions"), ("rfm_clv",),
             files=("segment_actions.csv", "customer_actions.csv")),
        Step("idic", "25_idic.ipynb", "crm_analysis.idic.IdicParams", "crm_analysis.idic.run_idic",
             ("customer_profit", "next_best_products", "campaign_targeting"),
             ("data_quality", "rfm_clv", "segmentation"), files=("customer_actions_idic.csv",)),
        Step("seasonality", "30_seasonality.ipynb", "crm_analysis.seasonality.SeasonalityParams",
             "crm_analysis.seasonality.run_demand_forecast", ("forecasts",), ("data_quality",)),
        Step("yield", "40_yield.ipynb", "crm_analysis.yield_management.YieldParams",
             "crm_analysis.yield_management.run_yield", (), ("data_quality", "seasonality")),
        Step("booking_horizon", "45_booking_horizon.ipynb", "crm_analysis.yield_management.HorizonParams",
             "crm_analysis.yield_management.run_booking_horizon",
             ("booking_curves", "pickup_errors", "overbooking_horizon", "policy_replay", "expected_shows",
              "synthetic_replay"), ("data_quality",)),
    )
}


#: The writer of ``headlines.json``: not a step but every notebook, through
#: :meth:`crm_analysis.runtime.context.RunContext.headline` (keys declared in
#: :data:`crm_analysis.contracts.HEADLINES`).
HEADLINES_WRITER = Step("*", "every notebook of the chain", "", "crm_analysis.runtime.context.RunContext.headline",
                        files=("headlines.json",))


def step_of(name: str, notebook: str | Path) -> Step | None:
    """The step of the standard chain that a configured notebook runs, or ``None`` for a notebook of one's own.

    A notebook is the step only with the step's name *and* its notebook file
    (a user's own notebook under a step's name is not the step).
    """
    step = STEPS.get(name)
    return step if step is not None and Path(notebook).name == step.notebook else None


def producer_of(artefact: str) -> Step:
    """The step that writes hand-over file ``artefact``.

    Parameters
    ----------
    artefact : str
        A Parquet table by name or file (``"clv"``, ``"clv.parquet"``) or another
        hand-over file by file name (``"clv_params.json"``, ``"segment_actions.csv"``).

    Returns
    -------
    Step
        The step of :data:`STEPS` whose pipeline function produces it;
        :data:`HEADLINES_WRITER` for ``headlines.json`` (every notebook).

    Raises
    ------
    crm_analysis.exceptions.NotFoundError
        (a ``KeyError``) When no step writes it, listing the files the steps write.
    """
    file = artefact if "." in artefact else f"{artefact}.parquet"
    for step in (*STEPS.values(), HEADLINES_WRITER):
        if file in step.artefacts:
            return step
    known = [f for s in (*STEPS.values(), HEADLINES_WRITER) for f in s.artefacts]
    raise NotFoundError(f"no step of the chain writes {artefact!r}; the steps write: {known}")


def producers() -> dict[str, str]:
    """``{step: "module.function"}``: the pipeline function of each step (for docs/architecture.md)."""
    return {s.name: s.function for s in STEPS.values()}


# ------------------------------------------------------------------ stand-alone inputs
def _data_quality(ctx: _Context) -> dict[str, pd.DataFrame]:
    from crm_analysis.data import DataQualityParams, run_data_quality

    res = run_data_quality(DataQualityParams(as_of=str(ctx.as_of), seed=ctx.seed))
    return {"transactions": res.transactions, "returns": res.returns, "bookings": res.bookings}


def _rfm_clv(ctx: _Context) -> dict[str, pd.DataFrame]:
    from crm_analysis.clv import RfmClvParams, run_rfm_clv

    res = run_rfm_clv(ctx.read_table("transactions"), RfmClvParams(as_of=str(ctx.as_of), seed=ctx.seed))
    return {"rfm_summary": res.rfm_summary_table, "clv": res.clv, "cohorts": res.cohorts_table}


def _segmentation(ctx: _Context) -> dict[str, pd.DataFrame]:
    from crm_analysis.segmentation import SegmentationParams, run_segmentation

    res = run_segmentation(ctx.read_table("clv"), SegmentationParams(seed=ctx.seed))
    return {"segments": res.segments, "segment_actions": res.segment_actions}


def _idic(ctx: _Context) -> dict[str, pd.DataFrame]:
    from crm_analysis.idic import IdicParams, run_idic

    res = run_idic(ctx.read_table("transactions"), ctx.read_table("clv"), ctx.read_table("segments"),
                   IdicParams(as_of=str(ctx.as_of), seed=ctx.seed), returns=ctx.read_table("returns"))
    out = {"customer_profit": res.customer_profit, "next_best_products": res.recommendations,
           "campaign_targeting": res.targeting}
    return {k: v for k, v in out.items() if v is not None}


def _seasonality(ctx: _Context) -> dict[str, pd.DataFrame]:
    from crm_analysis.seasonality import SeasonalityParams, run_demand_forecast

    # the notebook's defaults; no backtest (it checks the forecast, it does not change it)
    params = SeasonalityParams(as_of=str(ctx.as_of), seed=ctx.seed, backtest_days=0)
    return {"forecasts": run_demand_forecast(ctx.read_table("bookings"), params).forecast}


def _booking_horizon(ctx: _Context) -> dict[str, pd.DataFrame]:
    from crm_analysis.yield_management import HorizonParams, run_booking_horizon

    res = run_booking_horizon(ctx.read_table("bookings"), HorizonParams(as_of=str(ctx.as_of), seed=ctx.seed))
    return {name.removesuffix(".parquet"): df for name, df in res.artifacts().items()}


_BUILDERS: dict[str, Callable[[_Context], dict[str, pd.DataFrame]]] = {
    "data_quality": _data_quality,
    "rfm_clv": _rfm_clv,
    "segmentation": _segmentation,
    "idic": _idic,
    "seasonality": _seasonality,
    "booking_horizon": _booking_horizon,
}


def build_artefacts(name: str, ctx: _Context) -> dict[str, pd.DataFrame]:
    """Build artefact ``name`` for a notebook run on its own, with the step that writes it in the chain.

    The step's pipeline function runs with the parameters object's defaults
    (the notebook's defaults) on the built-in data, with the context's seed
    and ``as_of``; every table the step writes is returned, so that the
    context keeps them all (building ``clv`` also gives ``rfm_summary``).
    The data step cleans the built-in synthetic data.

    Parameters
    ----------
    name : str
        Artefact name (``"clv"``).
    ctx : RunContext
        The stand-alone run's context (its ``seed``, ``as_of`` and ``read_table``).

    Returns
    -------
    dict
        ``{artefact: DataFrame}``, ``name`` among them.

    Raises
    ------
    crm_analysis.exceptions.NotFoundError
        (a ``KeyError``) When no step of the chain writes ``name`` as a Parquet table.
    """
    step = producer_of(name)
    if not any(name in (t, f"{t}.parquet") for t in step.tables):
        raise NotFoundError(f"{name!r} is not a Parquet table ({step.name} writes it): only the tables "
                            f"{[t for s in STEPS.values() for t in s.tables]} can be built for a notebook run on its own")
    if step.name not in _BUILDERS:  # pragma: no cover - every step with tables has a builder (tested)
        raise NotFoundError(f"no stand-alone builder for the {step.name} step")
    return _BUILDERS[step.name](ctx)
