"""Progress bars that work in a terminal, in JupyterLab and in rendered reports.

``tqdm.auto`` picks the Jupyter widget bar inside a kernel, which fails (or
warns "IProgress not found") where ``ipywidgets`` is not installed, and widget
output does not survive the HTML rendering of the report chain anyway. This
helper uses the widget bar only where ``ipywidgets`` is importable and the plain
text bar everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = ["progress"]

T = TypeVar("T")


def _tqdm_class() -> Any:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        from tqdm.std import tqdm

        return tqdm
    from tqdm.auto import tqdm

    return tqdm


def progress(iterable: Iterable[T], *, enable: bool = True, **kwargs: Any) -> Iterable[T]:
    """Wrap ``iterable`` in a progress bar when ``enable`` is true.

    Parameters
    ----------
    iterable : iterable
        What to iterate over.
    enable : bool, default True
        ``False`` returns ``iterable`` unchanged (no bar, no overhead).
    **kwargs
        Passed to ``tqdm`` (e.g. ``desc``, ``total``, ``unit``).

    Returns
    -------
    iterable
        The wrapped (or unchanged) iterable.
    """
    if not enable:
        return iterable
    return _tqdm_class()(iterable, **kwargs)
