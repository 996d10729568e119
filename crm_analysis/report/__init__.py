"""The papermill report chain and the ``crm-analysis`` CLI.

Modules
-------
config
    Load and validate the YAML configuration (:func:`load_config`).
runner
    :func:`~crm_analysis.report.runner.run_chain`: execute the notebooks with
    papermill into ``reports/runs/<id>/``, render HTML, publish atomically.
publish
    Publishing a run atomically (``latest`` and the index), pruning old runs,
    re-rendering (:func:`~crm_analysis.report.publish.publish`).
records
    Run records and their processes: is a ``running`` run still running
    (:func:`~crm_analysis.report.records.mark_abandoned`).
index
    The HTML index of a run and the run history.
render
    Executed notebook to HTML without code cells (with a table of contents).
params
    Parameters declared by the notebooks; check of the configured ones
    (declared, and of the declared type).
preflight
    Everything checked before a run starts (parameters and their values,
    data sources loaded as the notebook loads them, hand-over files);
    :class:`~crm_analysis.report.preflight.PreflightError`.
cli
    The ``crm-analysis`` command (``report``, ``preflight``, ``params``,
    ``notebooks``, ``check-report``, ``rerender``).

The notebooks themselves import only the light runtime
(:mod:`crm_analysis.runtime`: the run context, HTML-safe tables, figure
formats), which imports nothing of this package.
"""

__all__: list[str] = []
