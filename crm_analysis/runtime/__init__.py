"""The light notebook runtime: what a notebook of the chain imports to read its inputs and show its results.

Modules
-------
context
    :class:`~crm_analysis.runtime.context.RunContext`: the run directory, the
    hand-over files (checked against :mod:`crm_analysis.contracts`; a missing
    input of a stand-alone run is built by the step that writes it,
    :mod:`crm_analysis.steps`) and the headline figures.
html_safe
    Tables and Markdown text with data-derived text HTML-escaped
    (:func:`~crm_analysis.runtime.html_safe.styled`, :func:`~crm_analysis.runtime.html_safe.escape_text`).
figures
    How a headline figure is shown (:func:`~crm_analysis.runtime.figures.format_figure`).

The runtime imports none of the report chain (:mod:`crm_analysis.report`:
papermill, nbconvert, the runner), so a notebook opened on its own pays only
for pandas; the chain imports the runtime.
"""

__all__: list[str] = []
