"""Run context: how a notebook of the report chain finds inputs and writes outputs.

Notebooks hand results to each other only through files in the run directory
(``<run_dir>/artifacts``). A notebook run on its own (``run_dir=None``, e.g. in
JupyterLab or under nbval) gets a temporary run directory, and any input
artefact that is missing there is built from the built-in default data with the
run's seed; the context says so in its log, so nothing happens silently.

Every hand-over table is checked against its contract
(:mod:`crm_analysis.contracts`) when it is written and when it is read, and
the time unit of the tables that carry one (RFM summary, CLV table) is kept
in the Parquet file's metadata: a table that lost it is an error, not weeks
by default. Headline figures of the chain's notebooks must be declared
(:data:`crm_analysis.contracts.HEADLINES`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crm_analysis import _json as strict_json
from crm_analysis.exceptions import NotFoundError, SourceNotFoundError
from crm_analysis.contracts import TABLES, ContractError, TimeUnit, check_file, headline_spec
from crm_analysis.presentation import Units, install_display

__all__ = ["RunContext", "DEFAULT_AS_OF"]

#: Key of the package's own entry in a hand-over table's Parquet metadata.
METADATA_KEY = b"crm_analysis"

#: Observation end of the built-in default data sets.
DEFAULT_AS_OF = "2024-12-31"


def _stem(name: str) -> str:
    """Artefact name without ``.parquet``."""
    return name[: -len(".parquet")] if name.endswith(".parquet") else name


def _jsonable(value: Any) -> Any:
    """Plain, strict JSON types: :func:`crm_analysis._json.jsonable` (``nan`` -> ``None``, ``inf`` -> ``"Infinity"``)."""
    return strict_json.jsonable(value)


@dataclass
class RunContext:
    """Paths and hand-over files of one run of the report chain.

    Parameters
    ----------
    run_dir : str or Path, optional
        The run directory. ``None`` makes a temporary one (stand-alone run).
    seed : int, default 42
        Seed of all randomness in the run; also used to build missing inputs.
    as_of : str, optional
        Observation end (ISO date) of the run; default :data:`DEFAULT_AS_OF`.
    notebook : str, optional
        Name of the notebook using the context; keys its headline figures.

    Attributes
    ----------
    units : crm_analysis.presentation.Units
        Currency of the run (``units:`` of ``<run_dir>/config.yaml``; EUR when
        absent). Creating the context also makes the notebook's tables
        readable: pandas no longer cuts long text with "...", and
        ``display(...)`` of frames, styled tables and Markdown goes through the
        glossary (:func:`crm_analysis.presentation.install_display`).

    Examples
    --------
    >>> ctx = RunContext(None, seed=1, notebook="demo")
    >>> ctx.write_table(pd.DataFrame({"a": [1]}), "demo")
    PosixPath('...')
    """

    run_dir: str | Path | None = None
    _: KW_ONLY  # the options after the run directory are keyword-only
    seed: int = 42
    as_of: str | None = None
    notebook: str = "notebook"
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.run_dir is None:
            self.run_dir = Path(tempfile.mkdtemp(prefix="crm_analysis_run_"))
            self.standalone = True
        else:
            self.run_dir = Path(self.run_dir)
            self.standalone = False
        self.as_of = self.as_of or DEFAULT_AS_OF
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.units = Units.from_run(self.run_dir)
        # what readers see: no text cut with "..." by pandas, tables through the glossary (labels, units, scroll box)
        pd.set_option("display.max_colwidth", None)
        install_display(units=self.units)

    # ------------------------------------------------------------------ paths
    @property
    def artifacts(self) -> Path:
        """Directory of the hand-over files."""
        return Path(self.run_dir) / "artifacts"

    def path(self, name: str) -> Path:
        """Path of artefact ``name`` (``.parquet`` added when no suffix is given)."""
        p = Path(name)
        if not p.suffix:
            p = p.with_suffix(".parquet")
        return self.artifacts / p

    def has(self, name: str) -> bool:
        """Whether artefact ``name`` exists in the run directory."""
        return self.path(name).exists()

    # ----------------------------------------------------------------- tables
    def write_table(self, df: pd.DataFrame, name: str) -> Path:
        """Write ``df`` as Parquet artefact ``name`` (atomically) and return its path.

        A declared artefact (:data:`crm_analysis.contracts.TABLES`) is checked
        against its contract first; its time unit, where it has one, goes
        into the file's metadata. ``df.attrs`` are kept (JSON).

        Raises
        ------
        crm_analysis.contracts.ContractError
            When ``df`` does not keep the artefact's contract (missing, extra
            or mistyped columns, missing values, a lost time unit); nothing is
            written.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        contract = TABLES.get(_stem(name))
        own: dict[str, Any] = {}
        if contract is not None:
            contract.validate(df, action="write")
            own["artefact"] = contract.file
            if contract.time_unit:
                own.update(TimeUnit.from_attrs(df.attrs, what=contract.file).to_attrs())
        path = self.path(name)
        tmp = path.with_name(path.name + ".tmp")
        table = pa.Table.from_pandas(df, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        if df.attrs:
            meta[b"PANDAS_ATTRS"] = strict_json.dumps(df.attrs).encode()  # what pandas reads back
        if own:
            meta[METADATA_KEY] = strict_json.dumps(own).encode()
        pq.write_table(table.replace_schema_metadata(meta), tmp)
        tmp.replace(path)
        return path

    def read_table(
        self, name: str, *, default: Callable[["RunContext"], pd.DataFrame] | None = None
    ) -> pd.DataFrame:
        """Read Parquet artefact ``name``.

        Parameters
        ----------
        name : str
            Artefact name, e.g. ``"transactions"``.
        default : callable, optional
            Builds the artefact from the context when it is missing. When not
            given, the step that writes ``name`` in the chain runs with its
            default parameters (:func:`crm_analysis.steps.build_artefacts`);
            every table it produces is kept.

        Raises
        ------
        crm_analysis.exceptions.SourceNotFoundError
            (a ``FileNotFoundError``) When a table of the chain is missing in a chained run (a run directory
            was given): the message names the step that writes it (:func:`crm_analysis.steps.producer_of`),
            which should have run earlier.
        crm_analysis.exceptions.NotFoundError
            (a ``KeyError``) When ``name`` is not in the run directory and no step of the chain writes it (and
            no ``default`` builds it in a stand-alone run): an unknown name, listing the known tables.
        crm_analysis.contracts.ContractError
            When a declared artefact does not keep its contract, e.g. a table
            of time-unit columns whose metadata lost the unit.
        """
        path = self.path(name)
        if path.exists():
            return self._read_checked(path, TABLES.get(_stem(name)))
        from crm_analysis.steps import build_artefacts, producer_of

        step: Any = None
        if default is None or not self.standalone:
            try:
                step = producer_of(path.name)
            except NotFoundError:  # findings_13e I9: an unknown name is not a missing artefact
                where = f"run directory {self.run_dir}" if not self.standalone else "the run directory"
                raise NotFoundError(
                    f"unknown artefact {_stem(name)!r}: no step of the chain writes {path.name} and it is not in "
                    f"{where}; known: {sorted(TABLES)}"
                ) from None
        if not self.standalone:
            raise SourceNotFoundError(
                f"artefact {path.name!r} is missing from run directory {self.run_dir}: it is written by the "
                f"{step.name} step ({step.notebook}, {step.function}), which must run earlier in the chain"
            )
        self.log.append(f"{name}: not in the run directory; built from the default data (seed={self.seed})")
        print(self.log[-1])
        if default is not None:
            self.write_table(default(self), name)
        else:
            self.log.append(f"{name}: built by the {step.name} step ({step.function}) with its default parameters")
            for other, df in build_artefacts(name, self).items():
                if not self.path(other).exists():
                    self.write_table(df, other)
        return self._read_checked(path, TABLES.get(_stem(name)))

    @staticmethod
    def _read_checked(path: Path, contract: Any) -> pd.DataFrame:
        """Read a Parquet artefact; restore the time unit from its metadata and check the contract."""
        import pyarrow.parquet as pq

        df = pd.read_parquet(path)
        if contract is None:
            return df
        raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
        own = json.loads(raw) if raw else {}
        if contract.time_unit:
            if own.get("unit_days") is None:
                raise ContractError(
                    f"cannot read artefact {contract.file}: its metadata does not carry the time unit of recency and "
                    "T, so the table cannot be read right (it was not written by RunContext.write_table, or by an "
                    f"older version); run the {contract.step} step again to write it"
                )
            df.attrs.update(TimeUnit.parse(own["time_unit"]).to_attrs())
        return contract.validate(df, action="read")

    # ------------------------------------------------------------------- json
    def write_json(self, obj: Any, name: str) -> Path:
        """Write ``obj`` as JSON artefact ``name`` (atomically); a declared record is checked for its keys."""
        path = self.artifacts / (name if name.endswith(".json") else name + ".json")
        check_file(obj, path.name)
        tmp = path.with_name(path.name + ".tmp")
        # strict JSON (no NaN / Infinity tokens): NaN -> null, +-inf -> "Infinity" / "-Infinity"
        tmp.write_text(strict_json.dumps(obj, indent=2))
        tmp.replace(path)
        return path

    def write_csv(self, df: pd.DataFrame, name: str) -> Path:
        """Write ``df`` as CSV export ``name`` (without the index, atomically).

        A declared export (:data:`crm_analysis.contracts.ARTEFACTS`) is checked for its columns first.

        Raises
        ------
        crm_analysis.contracts.ContractError
            When ``df`` lacks a column the export's contract declares (naming them).
        """
        path = self.artifacts / (name if name.endswith(".csv") else name + ".csv")
        check_file(df, path.name)
        tmp = path.with_name(path.name + ".tmp")
        df.to_csv(tmp, index=False)
        tmp.replace(path)
        return path

    def read_json(self, name: str, *, default: Any = None) -> Any:
        """Read JSON artefact ``name``; ``default`` where it is missing."""
        path = self.artifacts / (name if name.endswith(".json") else name + ".json")
        if not path.exists():
            return default
        obj = strict_json.loads(path.read_text())  # older files' bare NaN / Infinity read as null / "Infinity"
        check_file(obj, path.name, action="read")
        return obj

    # -------------------------------------------------------------- headlines
    def headline(self, key: str, value: Any, *, label: str | None = None) -> None:
        """Record a headline figure of this notebook for the report index.

        Parameters
        ----------
        key : str
            Machine name of the figure, e.g. ``"top20_revenue_share"``.
        value : Any
            JSON-serialisable value.
        label : str, optional
            Human label shown in the index; default the declared label
            (:data:`crm_analysis.contracts.HEADLINES`) where it has no fields
            to fill in, else ``key``.

        Raises
        ------
        crm_analysis.contracts.ContractError
            When the notebook is a step of the chain and ``key`` is not
            declared for it.
        """
        spec = headline_spec(self.notebook, key)
        if label is None:
            label = spec.label if spec is not None and "{" not in spec.label else key
        from filelock import FileLock

        # notebooks of one run may execute at the same time: read-modify-write under a lock
        with FileLock(str(self.artifacts.parent / ".headlines.lock")):
            heads = self.read_json("headlines", default={}) or {}
            heads.setdefault(self.notebook, {})[key] = {"value": _jsonable(value), "label": label}
            self.write_json(heads, "headlines")

    def headlines(self) -> dict[str, dict[str, Any]]:
        """All headline figures recorded in this run so far."""
        return self.read_json("headlines", default={}) or {}

    def headline_table(self) -> pd.DataFrame:
        """This notebook's headline figures as readers see them in the index: label and formatted value.

        Returns
        -------
        DataFrame
            Indexed by the label, one text column ``value`` formatted by the
            figure's kind (:func:`crm_analysis.runtime.figures.infer_kind`: the
            glossary's where it has one; money with the run's currency).
        """
        from crm_analysis.runtime.figures import format_figure, infer_kind

        mine = self.headlines().get(self.notebook, {})
        return pd.DataFrame(
            {"value": [format_figure(f["value"], infer_kind(k, f["label"], f["value"]), units=self.units)
                       for k, f in mine.items()]},
            index=pd.Index([f["label"] for f in mine.values()], name="figure"),
        )
