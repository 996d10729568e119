"""Configuration of the report chain: load, validate and resolve the YAML file.

A configuration file looks like this (see ``config/default.yaml``)::

    title: "crm_analysis report"
    seed: 42
    as_of: "2024-12-31"
    reports_dir: reports
    data:
      transactions: {loader: synthetic}
      bookings: {loader: synthetic}
    notebooks:
      - name: data_quality
        path: notebooks/00_data_quality.ipynb
        parameters: {transactions_policy: {}}
      - name: rfm_clv
        path: notebooks/10_rfm_clv.ipynb
        enabled: false            # skipped

Paths
-----
* The **project root** is the nearest folder, starting at the config file's
  own folder and walking up, that contains a ``notebooks/`` folder (so
  ``config/default.yaml`` resolves to the folder above ``config/``). A
  top-level ``project_root`` key (relative to the config file) overrides the
  search. The configuration shipped inside the package
  (``crm_analysis/report/default_config.yaml``, used when no file is given),
  and a configuration copied to a folder with no ``notebooks/`` above it
  (e.g. ``~/shop/report.yaml``), look for the folder holding the chain's
  first notebook (``notebooks/00_data_quality.ipynb``) from the current
  working directory up, then from the package's location up (an editable
  install). A copied configuration may therefore live anywhere; its
  relative paths are still relative to the project root, so give your data
  files' paths absolute (or set ``project_root``).
* ``notebooks[].path``, ``reports_dir`` and the ``path`` (``database`` for
  the duckdb loader; the file of an ``sqlite:///relative/path`` URL) of each
  data source are relative to the project root (absolute paths are kept). After
  resolution they are absolute, because notebooks execute with the run folder
  as working directory.
* A relative data path (``path``, ``database``) that does not exist under the
  project root is looked for relative to the working directory, then to the
  configuration file's folder (:func:`resolve_data_path`); the first that
  exists is used, and ``run.json`` (``data_paths``) and ``run.log`` say which
  folder it was resolved against. When none exists, the pre-flight error
  lists every path tried.
* A file spec among a notebook's ``parameters`` (a mapping with ``loader``
  and ``path``, e.g. the IDIC step's ``campaign``) has its ``path`` resolved
  the same way; a file found nowhere is an error when the configuration is
  read (before any notebook runs).

Data
----
``data.transactions`` / ``data.bookings`` are ``crm_analysis.data.load_source``
specs, checked against the data layer's own table of loaders and their keys
(:data:`crm_analysis.data.sources.LOADER_KEYS`, ``sql`` included).
``{loader: none}`` says the data set has no data of that kind (e.g. the
hotel bookings have no transactions). An enabled notebook that needs data of
a kind that is ``none`` (:data:`NOTEBOOK_DATA_NEEDS`) is **skipped**, with
the reason shown in the run's index and log (:meth:`ReportConfig.data_skips`);
the other notebooks run. A requirement may be a set of alternatives:
``seasonality`` runs on transactions (purchase seasonality), on bookings
(room-nights, forecasts) or on both, and is skipped on neither. A data source
that *is* configured but cannot be read (missing file, missing column) is a
different matter: the pre-flight check (:mod:`crm_analysis.report.preflight`)
refuses the run before any notebook starts.

Secrets
-------
No secret may be written into the configuration, because the resolved
configuration is copied into ``config.yaml``, ``run.json``, the executed
notebooks and the published index. Refused anywhere in the file (``data``,
a notebook's ``parameters``, any other key), with a message that names the
key but never repeats the secret, pointing at ``url_env`` (the whole URL
from an environment variable) or ``password_env`` (only the password):

* a URL with a password, ``postgresql://user:pw@host/db`` (also
  percent-encoded);
* a ``key=value`` pair whose key names a secret (``password``, ``PWD``,
  ``passwd``, ``pass``, ``secret``, ``token``, ``api_key``, ``access_key``,
  ... in any case) in a URL's query string or a connection string, also
  inside the decoded value of another pair, such as ODBC's
  ``?odbc_connect=DRIVER%3D...%3BPWD%3D...``;
* a mapping entry whose key names a secret (``password: ...``), and a
  mapping key that is itself such a text.

See :mod:`crm_analysis._secrets` for the rules.

Two optional run-wide keys: ``units`` (``{currency: EUR}``: the ISO 4217 code
of every money figure of the reports; default EUR) and ``calendar`` (the
holiday calendar of the run, :class:`~crm_analysis.seasonality.HolidayCalendar`
keys: ``country``, ``subdiv``, ``holidays_closed``, ``closed_weekdays``,
``closed_periods``, ``closed_dates``), passed as ``calendar`` to every notebook
that declares that parameter and does not set it itself.

Every notebook receives ``run_dir``, ``seed`` and ``as_of`` from the runner
plus its own ``parameters``; the ``data_quality`` notebook (and any notebook
whose parameters cell declares them) also receives ``transactions_source`` and
``bookings_source``, the two data specs.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import copy
import datetime as _dt
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from crm_analysis._secrets import has_secret, is_secret_key, redact_secrets
from crm_analysis.data.sources import LOADER_KEYS, LOADERS

__all__ = [
    "ConfigError",
    "DataSpec",
    "NotebookSpec",
    "ReportConfig",
    "load_config",
    "parse_config",
    "default_config_path",
    "find_project_root",
    "resolve_data_path",
    "data_skips",
    "DATA_LOADERS",
    "NOTEBOOK_DATA_NEEDS",
    "FILE_LOADERS",
    "RESERVED_PARAMETERS",
    "SOURCE_PARAMETERS",
    "find_secrets",
]

#: Loaders a data spec may name (``none``: the data set has no data of this kind):
#: the data layer's table (:data:`crm_analysis.data.sources.LOADERS`).
DATA_LOADERS: tuple[str, ...] = tuple(LOADERS)
#: Loaders that read a file and therefore need ``path`` (``duckdb`` takes ``database``).
FILE_LOADERS: tuple[str, ...] = tuple(name for name, keys in LOADER_KEYS.items() if "path" in keys)
#: Data each notebook of the standard chain needs (by notebook name): every entry
#: is required; an entry that is a tuple is a set of alternatives, at least one of
#: which must be present. An enabled notebook whose required data is
#: ``{loader: none}`` is skipped with the reason (:meth:`ReportConfig.data_skips`).
#: ``yield`` needs bookings (it reads the seasonality notebook's room-night
#: forecasts, written only from bookings).
NOTEBOOK_DATA_NEEDS: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "rfm_clv": ("transactions",),
    "segmentation": ("transactions",),
    "idic": ("transactions",),
    "seasonality": (("transactions", "bookings"),),
    "yield": ("bookings",),
    "booking_horizon": ("bookings",),
}
#: Parameters set by the runner for every notebook; not allowed in ``parameters``.
RESERVED_PARAMETERS = ("run_dir", "seed", "as_of")
#: Parameters carrying the data specs (``data.transactions`` / ``data.bookings``).
SOURCE_PARAMETERS = {"transactions_source": "transactions", "bookings_source": "bookings"}

_TOP_KEYS = {"title", "seed", "as_of", "reports_dir", "data", "notebooks", "project_root", "units", "calendar"}
_NOTEBOOK_KEYS = {"name", "path", "parameters", "enabled", "timeout"}
_DATA_KINDS = ("transactions", "bookings")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(InputError):
    """A configuration file or mapping is invalid; the message names the key."""


@dataclass(frozen=True)
class DataSpec:
    """One data source: ``loader`` plus loader options (``path``, ``columns``, ...).

    Parameters
    ----------
    loader : str
        One of :data:`DATA_LOADERS`.
    options : dict
        The other keys of the spec, passed unchanged to
        ``crm_analysis.data.load_source`` (``path`` already made absolute).
    resolved : dict
        For a relative file path (``path``, ``database``): the key ->
        ``{"given": ..., "path": ..., "against": ..., "tried": [...]}``, i.e.
        the folder it was resolved against ("the project root", "the working
        directory", "the configuration file's folder") and every candidate
        tried, in order (see :func:`resolve_data_path`).
    """

    loader: str
    options: dict[str, Any] = field(default_factory=dict)
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)

    def not_found(self, *, key: str = "path") -> str | None:
        """A "file not found" message naming every folder tried, or None when the path was absolute or found."""
        info = self.resolved.get(key)
        if info is None or info["against"] is not None or not info["tried"]:
            return None
        (where, first), *others = info["tried"]
        also = "; ".join(f"{p} ({w})" for w, p in others)
        return (f"file not found: {first} ({key} {info['given']!r} relative to {where}"
                + (f"; also tried {also})" if also else ")"))

    def to_dict(self) -> dict[str, Any]:
        """The spec as a plain mapping (``{"loader": ..., **options}``)."""
        return {"loader": self.loader, **copy.deepcopy(self.options)}


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of the chain.

    Parameters
    ----------
    name : str
        Identifier (letters, digits, underscore), unique in the chain.
    path : Path
        Absolute path of the source notebook.
    parameters : dict
        The notebook's own parameters.
    enabled : bool
        ``False`` skips the notebook.
    timeout : float, optional
        Per-cell execution timeout in seconds (``None``: no limit).
    """

    name: str
    path: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    timeout: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The spec as a plain mapping, as written in the resolved config."""
        out: dict[str, Any] = {
            "name": self.name,
            "path": str(self.path),
            "parameters": copy.deepcopy(self.parameters),
            "enabled": self.enabled,
        }
        if self.timeout is not None:
            out["timeout"] = self.timeout
        return out


@dataclass(frozen=True)
class ReportConfig:
    """A validated, resolved configuration of the report chain.

    Build it with :func:`load_config` (from a file) or :func:`parse_config`
    (from a mapping). All paths are absolute.
    """

    title: str
    seed: int
    as_of: str
    reports_dir: Path
    project_root: Path
    data: dict[str, DataSpec]
    notebooks: tuple[NotebookSpec, ...]
    source: Path | None = None
    units: dict[str, Any] = field(default_factory=dict)
    calendar: dict[str, Any] | None = None
    #: Problems found while reading the configuration that do not stop it from being read (a file of a
    #: notebook parameter such as the IDIC ``campaign`` found nowhere): the pre-flight lists them with the
    #: other problems of the same round (:func:`crm_analysis.report.preflight.preflight`), so no run starts.
    problems: tuple[str, ...] = ()

    @property
    def enabled(self) -> list[NotebookSpec]:
        """The notebooks that run, in order."""
        return [nb for nb in self.notebooks if nb.enabled]

    def data_skips(self) -> dict[str, str]:
        """Enabled notebooks that are skipped because their data is ``none``, with the reason.

        Returns
        -------
        dict
            ``{notebook name: reason}``, e.g. ``{"yield": "needs bookings, but
            data.bookings is none (this data set has no bookings)"}``; empty
            when every enabled notebook has its data.
        """
        return data_skips(self.data, self.notebooks)

    @property
    def runnable(self) -> list[NotebookSpec]:
        """The enabled notebooks that are not skipped for want of data, in order."""
        skips = self.data_skips()
        return [nb for nb in self.notebooks if nb.enabled and nb.name not in skips]

    def notebook(self, name: str) -> NotebookSpec:
        """The notebook called ``name``.

        Raises
        ------
        ConfigError
            When there is no such notebook.
        """
        for nb in self.notebooks:
            if nb.name == name:
                return nb
        raise ConfigError(f"no notebook named {name!r} in the chain; known: {[n.name for n in self.notebooks]}")

    def parameters_for(self, nb: NotebookSpec, run_dir: str | Path, *, declared: Iterable[str] = ()) -> dict[str, Any]:
        """The parameters the runner passes to notebook ``nb``.

        Parameters
        ----------
        nb : NotebookSpec
            The notebook.
        run_dir : str or Path
            The run folder.
        declared : iterable of str
            Names declared in the notebook's parameters cell; a notebook that
            declares ``transactions_source`` / ``bookings_source`` gets them
            (``data_quality`` always does).
        """
        params: dict[str, Any] = {"run_dir": str(run_dir), "seed": self.seed, "as_of": self.as_of}
        declared = set(declared)
        for pname, kind in SOURCE_PARAMETERS.items():
            if nb.name == "data_quality" or pname in declared:
                params[pname] = self.data[kind].to_dict()
        if self.calendar is not None and "calendar" in declared and nb.parameters.get("calendar") is None:
            params["calendar"] = copy.deepcopy(self.calendar)  # the run's holiday calendar (country, region)
        params.update(copy.deepcopy({k: v for k, v in nb.parameters.items()
                                     if not (k == "calendar" and v is None and "calendar" in params)}))
        return params

    def replace(self, **changes: Any) -> "ReportConfig":
        """A copy with fields replaced (see :func:`dataclasses.replace`)."""
        import dataclasses

        return dataclasses.replace(self, **changes)

    def with_overrides(
        self,
        *,
        seed: int | None = None,
        as_of: str | None = None,
        reports_dir: str | Path | None = None,
        only: Iterable[str] | None = None,
    ) -> "ReportConfig":
        """A copy with command-line overrides applied.

        Parameters
        ----------
        seed, as_of : optional
            Replace the top-level values (validated like the file's).
        reports_dir : str or Path, optional
            Replace the reports folder (relative to the current directory).
        only : iterable of str, optional
            Run only these notebooks (in chain order), whatever their
            ``enabled`` flag says.

        Raises
        ------
        ConfigError
            When a value is invalid or ``only`` names an unknown notebook.
        """
        cfg = self
        if seed is not None:
            cfg = cfg.replace(seed=_check_int(seed, "--seed", 0))
        if as_of is not None:
            cfg = cfg.replace(as_of=_check_date(as_of, "--as-of"))
        if reports_dir is not None:
            cfg = cfg.replace(reports_dir=Path(reports_dir).expanduser().resolve())
        if only:
            wanted = list(dict.fromkeys(only))
            known = [nb.name for nb in cfg.notebooks]
            unknown = [w for w in wanted if w not in known]
            if unknown:
                raise ConfigError(f"--only: unknown notebook(s) {unknown}; known: {known}")
            cfg = cfg.replace(
                notebooks=tuple(
                    NotebookSpec(nb.name, nb.path, nb.parameters, nb.name in wanted, nb.timeout)
                    for nb in cfg.notebooks
                )
            )
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration as a plain mapping (re-loadable)."""
        return {
            "title": self.title,
            "seed": self.seed,
            "as_of": self.as_of,
            "project_root": str(self.project_root),
            "reports_dir": str(self.reports_dir),
            "data": {k: v.to_dict() for k, v in self.data.items()},
            "notebooks": [nb.to_dict() for nb in self.notebooks],
            "units": dict(self.units),
            **({"calendar": dict(self.calendar)} if self.calendar is not None else {}),
        }

    def to_yaml(self) -> str:
        """The resolved configuration as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


# ---------------------------------------------------------------- validation
def _check_int(value: Any, key: str, minimum: int) -> int:
    """A whole number ``>= minimum`` of the configuration or the command line (``seed``, ``--jobs``), as ``int``.

    Strict: ``True``, ``1.5``, ``2.0`` and ``"2"`` are refused (a YAML or
    command-line value that is not an integer is a mistake, not a number to
    round); numpy integers are accepted.

    Raises
    ------
    ConfigError
        Naming ``key``, the value and the allowed range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        allowed = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise ConfigError(f"{key}: must be {allowed}, got {shown(value)}")
    return int(value)


def _check_date(value: Any, key: str) -> str:
    """An ISO date (``YYYY-MM-DD``), read as every date parameter of the package is read."""
    from crm_analysis._dates import parse_date

    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ConfigError(f"{key}: must be an ISO date 'YYYY-MM-DD', got {shown(value)}")
    try:
        return parse_date(value, key, tz="reject", time="reject").date().isoformat()
    except ValueError:
        raise ConfigError(f"{key}: must be an ISO date 'YYYY-MM-DD', got {shown(value)}") from None


def _resolve(path: Any, root: Path, key: str) -> Path:
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise ConfigError(f"{key}: must be a non-empty path string, got {shown(path)}")
    p = Path(str(path)).expanduser()
    return (p if p.is_absolute() else root / p).resolve()


def _check_mapping(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: must be a mapping, got {type(value).__name__} {shown(value)}")
    return value


def _unknown_keys(mapping: Mapping[str, Any], allowed: set[str], key: str) -> None:
    unknown = sorted(set(map(str, mapping)) - allowed)
    if unknown:
        where = f"{key}." if key else ""
        raise ConfigError(
            f"unknown key {where}{unknown[0]}" + (f" (and {unknown[1:]})" if len(unknown) > 1 else "")
            + f"; allowed: {sorted(allowed)}"
        )


def find_secrets(value: Any, key: str) -> list[str]:
    """Keys under ``value`` that hold a secret (see the module docstring, "Secrets").

    Parameters
    ----------
    value : object
        A configuration value (mappings and lists are searched recursively).
    key : str
        Its key, for the returned names (``data.transactions.url``); ``""``
        for the whole configuration.

    Returns
    -------
    list of str
        The keys, e.g. ``["data.transactions.url"]``; never the secret. A
        mapping key that itself holds a secret is reported as
        ``"<parent> (a mapping key)"``, so that the name does not repeat it.

    Examples
    --------
    >>> find_secrets({"url": "postgresql://crm:pw@db/crm", "table": "t"}, "data.transactions")
    ['data.transactions.url']
    >>> find_secrets({"url": "mssql+pyodbc:///?odbc_connect=DSN%3Dshop%3BPWD%3Dpw", "table": "t"}, "data.transactions")
    ['data.transactions.url']
    >>> find_secrets({"read_options": {"params": {"password": "pw"}}}, "data.transactions")
    ['data.transactions.read_options.params.password']
    """
    if isinstance(value, str):
        return [key] if has_secret(value) else []
    if isinstance(value, Mapping):
        hits: list[str] = []
        for k, v in value.items():
            sub = f"{key}.{k}" if key else str(k)
            if has_secret(str(k)):
                hits.append(f"{key or 'config'} (a mapping key)")
                continue
            if is_secret_key(k) and isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v).strip():
                hits.append(sub)
                continue
            hits += find_secrets(v, sub)
        return hits
    if isinstance(value, (list, tuple)):
        return [hit for i, v in enumerate(value) for hit in find_secrets(v, f"{key}[{i}]")]
    return []


def _refuse_secrets(value: Any, key: str) -> None:
    hits = find_secrets(value, key)
    if hits:
        more = f" (and {hits[1:]})" if len(hits) > 1 else ""
        raise ConfigError(
            f"{hits[0]}{more}: holds a password or other secret; a configuration must not contain secrets (it is "
            "copied into config.yaml, run.json, the executed notebooks and the published index). Write the URL "
            "without the password and name an environment variable holding the password with password_env, "
            "or name an environment variable holding the whole URL (or connection string) with url_env (see "
            "docs/databases.md)"
        )


#: Where a relative data path is looked for, in order.
_PATH_BASES = ("the project root", "the working directory", "the configuration file's folder")


def resolve_data_path(path: Any, root: Path, key: str, *, config_dir: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """A data file's path from a configuration, and how it was resolved.

    An absolute path is kept. A relative one is looked for against the
    project root (the documented rule), then the working directory, then the
    configuration file's folder: the first that exists is used (a
    configuration copied next to its data works from anywhere). When none
    exists, the project root's candidate is returned and every candidate is
    recorded, so that the error names them all.

    Parameters
    ----------
    path : str or Path
        The value in the configuration.
    root : Path
        The project root.
    key : str
        The key, for messages (``data.transactions.path``).
    config_dir : Path, optional
        Folder of the configuration file (``None`` for a mapping).

    Returns
    -------
    (Path, dict)
        The resolved path; ``{"given", "path", "against", "tried"}`` where
        ``against`` is the base used (``None`` when no candidate exists) and
        ``tried`` lists ``(base, candidate)`` pairs. Empty for an absolute path.

    Raises
    ------
    ConfigError
        When the value is not a non-empty path string.
    """
    first = _resolve(path, root, key)
    p = Path(str(path)).expanduser()
    if p.is_absolute():
        return first, {}
    tried: list[tuple[str, str]] = []
    for where, base in zip(_PATH_BASES, (root, Path.cwd(), config_dir)):
        if base is None:
            continue
        candidate = (Path(base) / p).resolve()
        if any(c == str(candidate) for _, c in tried):
            continue
        tried.append((where, str(candidate)))
        if candidate.exists():
            return candidate, {"given": str(path), "path": str(candidate), "against": where, "tried": tried}
    return first, {"given": str(path), "path": str(first), "against": None, "tried": tried}


def _parse_data(value: Any, root: Path, config_dir: Path | None = None) -> dict[str, DataSpec]:
    data = _check_mapping(value, "data")
    _unknown_keys(data, set(_DATA_KINDS), "data")
    kinds = {str(k): tuple(v) for k, v in LOADERS.items()}
    out: dict[str, DataSpec] = {}
    for kind in _DATA_KINDS:
        key = f"data.{kind}"
        if kind not in data:
            raise ConfigError(f"{key}: missing (e.g. {{loader: synthetic}}, or {{loader: none}} for no {kind})")
        spec = dict(_check_mapping(data[kind], key))
        loader = spec.pop("loader", None)
        if loader not in kinds:
            raise ConfigError(f"{key}.loader: must be one of {sorted(kinds)}, got {shown(loader)}")
        if kind not in kinds[loader]:
            raise ConfigError(f"{key}.loader: loader {loader!r} provides {list(kinds[loader])}, not {kind}")
        _unknown_keys(spec, set(LOADER_KEYS[loader]) - {"loader"}, key)
        resolved: dict[str, dict[str, Any]] = {}
        if "path" in spec:
            found, info = resolve_data_path(spec["path"], root, f"{key}.path", config_dir=config_dir)
            spec["path"] = str(found)
            if info:
                resolved["path"] = info
        elif loader in FILE_LOADERS:
            raise ConfigError(f"{key}.path: required for loader {loader!r}")
        if loader == "duckdb":
            if not spec.get("table") and not spec.get("query"):
                raise ConfigError(f"{key}: loader 'duckdb' needs 'table' or 'query'")
            db = spec.get("database")
            if db not in (None, "", ":memory:"):
                found, info = resolve_data_path(db, root, f"{key}.database", config_dir=config_dir)
                spec["database"] = str(found)
                if info:
                    resolved["database"] = info
        if loader == "sql":
            if (spec.get("url") is None) == (spec.get("url_env") is None):
                raise ConfigError(f"{key}: loader 'sql' needs exactly one of 'url' and 'url_env' "
                                  "(name of an environment variable holding the URL)")
            if (spec.get("table") is None) == (spec.get("query") is None):
                raise ConfigError(f"{key}: loader 'sql' needs exactly one of 'table' and 'query'")
            for env in ("url_env", "password_env"):
                if env in spec and (not isinstance(spec[env], str) or not _ENV_RE.match(spec[env])):
                    raise ConfigError(f"{key}.{env}: must be the name of an environment variable, got {shown(spec[env])}")
            if isinstance(spec.get("url"), str):
                spec["url"] = _sqlite_url(spec["url"], root)
        if "columns" in spec and spec["columns"] is not None:
            cols = _check_mapping(spec["columns"], f"{key}.columns")
            bad = [k for k, v in cols.items() if not isinstance(k, str) or not isinstance(v, str)]
            if bad:
                raise ConfigError(f"{key}.columns: must map column names to column names (strings); bad entry {bad[0]!r}")
            spec["columns"] = dict(cols)
        if "filter" in spec and spec["filter"] is not None:
            spec["filter"] = dict(_check_mapping(spec["filter"], f"{key}.filter"))
        _check_date_options(spec, key)
        out[kind] = DataSpec(loader, spec, resolved)
    return out


def _sqlite_url(url: str, root: Path) -> str:
    """An SQLite URL with a relative file path made absolute against the project root (other URLs unchanged).

    SQLite resolves a relative path against the process's working folder,
    which for a notebook is the run folder: the file would not be found (and
    SQLite would create an empty one there).
    """
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - the data layer reports a URL it cannot parse
        return url
    database = parsed.database
    if (parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:") or database.startswith("file:")
            or parsed.query.get("uri")):
        return url
    path = Path(database).expanduser()  # SQLite itself does not expand ~
    path = path if path.is_absolute() else (root / path).resolve()
    return url if str(path) == database else parsed.set(database=str(path)).render_as_string(hide_password=False)


def _check_date_options(spec: Mapping[str, Any], key: str) -> None:
    """``dayfirst`` / ``date_format`` / ``timezone`` of a data spec, checked before anything runs."""
    if spec.get("dayfirst") is not None and not isinstance(spec["dayfirst"], bool):
        raise ConfigError(f"{key}.dayfirst: must be true or false, got {shown(spec['dayfirst'])}")
    fmt = spec.get("date_format")
    if fmt is not None:
        ok = isinstance(fmt, str) and "%" in fmt
        if isinstance(fmt, Mapping):
            ok = all(isinstance(k, str) and isinstance(v, str) and "%" in v for k, v in fmt.items())
        if not ok:
            raise ConfigError(
                f"{key}.date_format: must be a strftime format such as '%d/%m/%Y' (or a mapping column -> "
                f"format), got {shown(fmt)}"
            )
    if spec.get("timezone") is not None:
        from crm_analysis.data.dates import check_timezone

        try:
            check_timezone(spec["timezone"], name=f"{key}.timezone")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


def data_skips(data: Mapping[str, DataSpec], notebooks: Iterable[NotebookSpec]) -> dict[str, str]:
    """Enabled notebooks whose data the configuration says is absent (``none``), with the reason.

    Parameters
    ----------
    data : mapping
        ``{"transactions": DataSpec, "bookings": DataSpec}``.
    notebooks : iterable of NotebookSpec
        The chain.

    Returns
    -------
    dict
        ``{notebook name: reason}`` (see :data:`NOTEBOOK_DATA_NEEDS`).
    """
    out: dict[str, str] = {}
    for nb in notebooks:
        if not nb.enabled:
            continue
        for need in NOTEBOOK_DATA_NEEDS.get(nb.name, ()):
            kinds = (need,) if isinstance(need, str) else tuple(need)
            absent = [k for k in kinds if data.get(k) is not None and data[k].loader == "none"]
            if len(absent) < len(kinds):
                continue  # (at least one of) the data is there
            if len(kinds) == 1:
                kind = kinds[0]
                out[nb.name] = f"needs {kind}, but data.{kind} is none (this data set has no {kind})"
            else:
                out[nb.name] = (f"needs {' or '.join(kinds)}, but " + " and ".join(f"data.{k}" for k in kinds)
                                + " are none")
            break
    return out


def _resolve_parameter_files(params: dict[str, Any], root: Path, key: str, config_dir: Path | None,
                             problems: list[str]) -> None:
    """Make the ``path`` of a file spec among a notebook's parameters (``{loader: ..., path: ...}``, e.g. the IDIC
    step's ``campaign``) absolute, by the rule of the data paths; a file found nowhere is added to ``problems``
    (:attr:`ReportConfig.problems`: the pre-flight lists it with the other problems of the round, and a run
    never starts with it).

    The notebooks run in the run folder: a relative path left as it is would be read from there.
    """
    for p, v in params.items():
        if not (isinstance(v, Mapping) and "loader" in v and isinstance(v.get("path"), (str, Path))):
            continue
        found, info = resolve_data_path(v["path"], root, f"{key}.parameters.{p}.path", config_dir=config_dir)
        if info and info["against"] is None:
            tried = "; ".join(f"{c} ({w})" for w, c in info["tried"])
            problems.append(f"{key}.parameters.{p}.path: file not found: {v['path']!r} (relative paths are "
                            f"looked for against the project root, the working directory and the configuration "
                            f"file's folder; tried {tried}); write the path absolute or fix it")
        elif not info and "://" not in str(v["path"]) and not any(c in str(found) for c in "*?[") \
                and not Path(found).exists():  # an absolute path is kept as given: it must exist too
            problems.append(f"{key}.parameters.{p}.path: file not found: {str(found)!r}; fix the path")
        params[p] = {**v, "path": str(found)}


def _parse_notebooks(value: Any, root: Path, config_dir: Path | None = None,
                     problems: list[str] | None = None) -> tuple[NotebookSpec, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"notebooks: must be a non-empty list of notebook entries, got {shown(value)}")
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(value):
        key = f"notebooks[{i}]"
        entry = _check_mapping(entry, key)
        _unknown_keys(entry, _NOTEBOOK_KEYS, key)
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(f"{key}.name: must be an identifier (letters, digits, _), got {shown(name)}")
        if name in seen:
            raise ConfigError(f"{key}.name: duplicate notebook name {name!r}")
        seen.add(name)
        key = f"notebooks[{i}] ({name})"
        if "path" not in entry:
            raise ConfigError(f"{key}.path: missing")
        path = _resolve(entry["path"], root, f"{key}.path")
        if path.suffix != ".ipynb":
            raise ConfigError(f"{key}.path: must be a .ipynb file, got {shown(entry['path'])}")
        if not path.is_file():
            raise ConfigError(
                f"{key}.path: notebook not found: {path} (relative paths are resolved against the project root "
                f"{root}). Set project_root: in the configuration to the folder that holds notebooks/ (the "
                "crm_analysis project), or write the notebook's path absolute"
            )
        params = entry.get("parameters") or {}
        params = dict(_check_mapping(params, f"{key}.parameters"))
        for p in params:
            if not isinstance(p, str) or not _NAME_RE.match(p):
                raise ConfigError(f"{key}.parameters.{p}: not a valid parameter name")
            if p in RESERVED_PARAMETERS:
                raise ConfigError(
                    f"{key}.parameters.{p}: set by the runner for every notebook; set the top-level {shown(p)} instead"
                )
            if p in SOURCE_PARAMETERS:
                # one place for the data: the pre-flight probes data.<kind> and its capacity rule reads it; a spec
                # here reached the notebook unprobed (findings_13d H1)
                raise ConfigError(
                    f"{key}.parameters.{p}: the data sources have one place, the top-level `data:`; set "
                    f"data.{SOURCE_PARAMETERS[p]} instead (the runner passes it to the notebook as {p})"
                )
        _resolve_parameter_files(params, root, key, config_dir, problems if problems is not None else [])
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{key}.enabled: must be true or false, got {shown(enabled)}")
        timeout = entry.get("timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ConfigError(f"{key}.timeout: must be a positive number of seconds, got {shown(timeout)}")
        out.append(NotebookSpec(name, path, params, enabled, None if timeout is None else float(timeout)))
    return tuple(out)


def find_project_root(
    start: str | Path, *, fallbacks: Iterable[str | Path] = (), marker: str = "notebooks"
) -> Path:
    """The nearest folder at or above ``start`` that contains ``marker``.

    Parameters
    ----------
    start : str or Path
        Folder to start from.
    fallbacks : iterable of path
        Further folders to search from, in order, when ``start`` finds none.
    marker : str, default "notebooks"
        Relative path (folder or file) that must exist in the project root.

    Returns
    -------
    Path
        The project root; ``start`` itself when no candidate has ``marker``.
    """
    starts = [Path(start).resolve(), *(Path(f).resolve() for f in fallbacks)]
    for s in starts:
        for folder in (s, *s.parents):
            if (folder / marker).exists():
                return folder
    return starts[0]


def default_config_path() -> Path:
    """Path of the configuration shipped inside the package."""
    return Path(str(resources.files("crm_analysis.report") / "default_config.yaml"))


def parse_config(
    raw: Mapping[str, Any],
    *,
    project_root: str | Path,
    source: str | Path | None = None,
) -> ReportConfig:
    """Validate a configuration mapping and resolve its paths.

    Parameters
    ----------
    raw : mapping
        The configuration (as read from YAML).
    project_root : str or Path
        Folder relative paths are resolved against (a ``project_root`` key in
        ``raw`` overrides it, itself relative to this folder).
    source : str or Path, optional
        The file the mapping came from, for messages.

    Returns
    -------
    ReportConfig

    Raises
    ------
    ConfigError
        Naming the first invalid key.
    """
    raw = _check_mapping(raw, "config")
    _refuse_secrets(raw, "")  # first: later messages may quote values (or keys)
    _unknown_keys(raw, _TOP_KEYS, "")
    root = Path(project_root).resolve()
    if "project_root" in raw:
        root = _resolve(raw["project_root"], root, "project_root")
        if not root.is_dir():
            raise ConfigError(f"project_root: not a folder: {root}")
    title = raw.get("title", "crm_analysis report")
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"title: must be a non-empty string, got {shown(title)}")
    seed = _check_int(raw.get("seed", 42), "seed", 0)
    as_of = _check_date(raw.get("as_of", "2024-12-31"), "as_of")
    reports_dir = _resolve(raw.get("reports_dir", "reports"), root, "reports_dir")
    if "data" not in raw:
        raise ConfigError("data: missing (needs data.transactions and data.bookings)")
    data = _parse_data(raw["data"], root, None if source is None else Path(source).resolve().parent)
    if "notebooks" not in raw:
        raise ConfigError("notebooks: missing (an ordered list of {name, path, parameters})")
    problems: list[str] = []
    notebooks = _parse_notebooks(raw["notebooks"], root, None if source is None else Path(source).resolve().parent,
                                 problems)
    units, calendar = _parse_units(raw.get("units")), _parse_calendar(raw.get("calendar"))
    return ReportConfig(
        title=title.strip(),
        seed=seed,
        as_of=as_of,
        reports_dir=reports_dir,
        project_root=root,
        data=data,
        notebooks=notebooks,
        source=Path(source).resolve() if source is not None else None,
        units=units,
        calendar=calendar,
        problems=tuple(problems),
    )


def _parse_units(raw: Any) -> dict[str, Any]:
    """``units:`` (currency of the money figures, ...): validated, with the defaults filled in."""
    from crm_analysis.presentation.units import Units

    try:
        return Units.from_config(raw).to_dict()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _parse_calendar(raw: Any) -> dict[str, Any] | None:
    """``calendar:`` (holiday calendar: country, subdiv, closed days) validated by ``HolidayCalendar``."""
    if raw is None:
        return None
    from crm_analysis.seasonality.calendar import HolidayCalendar

    try:
        return HolidayCalendar.from_config(raw).to_dict()  # type: ignore[union-attr]
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"calendar: {exc}") from None


def load_config(path: str | Path | None = None) -> ReportConfig:
    """Load and validate a configuration file.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file. ``None`` uses the configuration shipped in the package,
        with the project root searched from the current directory, then from
        the package's location.

    Returns
    -------
    ReportConfig

    Raises
    ------
    ConfigError
        When the file is missing, is not valid YAML, or a key is invalid (the
        message names the file and the key).
    """
    file = default_config_path() if path is None else Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    text = file.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {_yaml_error(exc, text)}") from None
    if raw is None:
        raise ConfigError(f"{file}: empty configuration")
    try:
        marker = str(raw["notebooks"][0]["path"])
    except (KeyError, IndexError, TypeError):
        marker = "notebooks"
    if path is None:
        # The shipped default: the project whose notebooks/ holds the chain's first notebook,
        # searched from the current directory, then from the package (editable install).
        root = find_project_root(Path.cwd(), fallbacks=[Path(__file__).parent], marker=marker)
    elif isinstance(raw, Mapping) and "project_root" in raw:
        root = file.resolve().parent  # project_root is relative to the config file
    else:
        root = find_project_root(file.resolve().parent)
        if not (root / "notebooks").is_dir():  # a copied configuration outside any project: as the default
            root = find_project_root(Path.cwd(), fallbacks=[Path(__file__).parent], marker=marker)
    try:
        return parse_config(raw, project_root=root, source=file)
    except ConfigError as exc:
        raise ConfigError(redact_secrets(f"{file}: {exc}")) from None


def _yaml_error(exc: yaml.YAMLError, text: str) -> str:
    """The YAML parser's message; without the quoted lines when the file holds a secret."""
    if not has_secret(text):
        return str(exc)
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return redact_secrets(f"{problem}{where}; the lines are not quoted because the file holds a secret, "
                          "which a configuration must not (see docs/databases.md)")
