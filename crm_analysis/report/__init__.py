"""The papermill report chain, its run context and the ``crm-analysis`` CLI.

Modules
-------
context
    :class:`~crm_analysis.report.context.RunContext`: how a notebook finds its
    inputs and writes artefacts and headline figures (checked against
    :mod:`crm_analysis.contracts`; a missing input of a stand-alone run is
    built by the step that writes it, :mod:`crm_analysis.steps`).
config
    Load and validate the YAML configuration (:func:`load_config`).
runner
    :func:`~crm_analysis.report.runner.run_chain`: execute the notebooks with
    papermill into ``reports/runs/<id>/``, render HTML, publish atomically.
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
html_safe
    Tables and Markdown text of the notebooks with data-derived text
    HTML-escaped (:func:`~crm_analysis.report.html_safe.styled`).
cli
    The ``crm-analysis`` command (``report``, ``preflight``, ``params``,
    ``notebooks``, ``check-report``, ``rerender``).

Submodules are imported on demand so that notebooks importing
:mod:`crm_analysis.report.context` do not pay for papermill and nbconvert.
"""

__all__: list[str] = []
