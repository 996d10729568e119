"""Every public function that reads dates from a source takes the same reader options (intake2, point 2).

``rfm_summary`` and ``load_transactions`` read a file with ``read_options`` (separator, decimal mark, ...),
``encoding``, ``sheet`` and the date policy's ``dayfirst`` / ``date_format`` / ``timezone``. A function of the
same family without them cannot read a ``;``-separated file or ``dd/mm`` dates whose order the column does not
tell, or reads them another way. The family is found from the signatures (a source connection ``con``, or any of
the options), so a new function without them fails here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import crm_analysis

READER_OPTIONS = {"read_options", "encoding", "sheet", "dayfirst", "date_format", "timezone"}
#: Functions with a ``con`` that read no date column of a source: the raw readers (every column as stored,
#: nothing parsed as a date) and the per-customer summaries of batch scoring.
NO_DATES = {
    "crm_analysis.data.loaders.read_source",
    "crm_analysis.data.loaders.source_relation",
    "crm_analysis.data.loaders.check_comma_numbers",  # a check of a relation already read (its number columns)
    "crm_analysis.scale.scoring.distinct_rows",
    "crm_analysis.scale.scoring.fit_on_distinct",
    "crm_analysis.scale.scoring.score_in_batches",
}


def _public_functions():
    for info in pkgutil.walk_packages(crm_analysis.__path__, "crm_analysis."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if inspect.isfunction(obj):
                yield f"{obj.__module__}.{obj.__qualname__}", obj


def _family():
    out = {}
    for where, fn in _public_functions():
        params = set(inspect.signature(fn).parameters)
        if "con" in params and where not in NO_DATES:  # reads a source (a file, relation, table or query)
            out[where] = params
    return out


def test_the_family_is_found() -> None:
    found = _family()
    for name in ("crm_analysis.rfm._api.rfm_summary", "crm_analysis.rfm._api.repeat_purchases_by_day",
                 "crm_analysis.scale.demand.daily_demand", "crm_analysis.data.loaders.load_transactions",
                 "crm_analysis.clv.diagnostics.tracking"):
        assert name in found, sorted(found)


def test_every_reader_takes_every_reader_option() -> None:
    lacking = {where: sorted(READER_OPTIONS - params) for where, params in _family().items()
               if READER_OPTIONS - params}
    assert lacking == {}


def test_no_dates_list_is_current() -> None:
    names = {where for where, _ in _public_functions()}
    assert NO_DATES <= names


def test_every_reader_annotates_date_format_and_read_options_alike() -> None:
    """findings_13f F8: cohort_table annotated ``date_format: str | None`` though it takes the mapping form
    (``{'timestamp': '%d/%m/%Y'}``) as every reader does."""
    import inspect as _inspect

    fns = dict(_public_functions())
    for option, expected in (("date_format", "str | Mapping[str, str] | None"),
                             ("read_options", "Mapping[str, Any] | None")):
        odd = {where: str(_inspect.signature(fns[where]).parameters[option].annotation)
               for where in _family()
               if str(_inspect.signature(fns[where]).parameters[option].annotation) != expected}
        assert odd == {}, option
