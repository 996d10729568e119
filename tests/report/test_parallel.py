"""Notebooks that do not depend on each other run at the same time (run_chain(jobs=...)).

Checked: the waits of the default chain follow the steps' ``requires``; each
step notebook reads only artefacts of steps it waits for (parsed from the
notebooks, so a new ``read_table`` without a ``requires`` fails here); a
notebook of one's own waits for everything before it and the steps after it
wait for it; two independent notebooks really overlap (each waits for the
other to have started, which only a concurrent run allows) and both their
headlines survive; a failure lets the running notebook finish, starts nothing
more, and is raised.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import nbformat
import pytest

from crm_analysis.report.config import load_config
from crm_analysis.report.runner import NotebookFailed, notebook_dependencies, run_chain
from crm_analysis.steps import STEPS, Step, producer_of

ROOT = Path(__file__).resolve().parents[2]


def _reads(notebook: Path) -> set[str]:
    """Artefact names a notebook passes to ``ctx.read_table`` / ``ctx.has`` / ``ctx.read_json``."""
    out: set[str] = set()
    for cell in nbformat.read(str(notebook), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"read_table", "has", "read_json"} and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                out.add(node.args[0].value)
    return out


def _closure(name: str) -> set[str]:
    seen: set[str] = set()
    todo = list(STEPS[name].requires)
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(STEPS[s].requires)
    return seen


def test_default_chain_waits_follow_the_steps() -> None:
    cfg = load_config(ROOT / "config" / "default.yaml")
    waits = notebook_dependencies(list(cfg.notebooks))
    assert waits == {name: set(STEPS[name].requires) for name in waits}
    assert waits["seasonality"] == {"data_quality"} and waits["booking_horizon"] == {"data_quality"}
    assert waits["idic"] == {"data_quality", "rfm_clv", "segmentation"}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_each_step_reads_only_what_it_waits_for(name: str) -> None:
    step = STEPS[name]
    order = list(STEPS)
    assert all(order.index(r) < order.index(name) for r in step.requires), "requires only earlier steps"
    for artefact in _reads(ROOT / "notebooks" / step.notebook):
        if artefact.endswith(".json") or artefact == "headlines":
            continue
        producer = producer_of(artefact).name
        assert producer in _closure(name), f"{step.notebook} reads {artefact!r} of {producer} without waiting for it"


def test_a_notebook_of_ones_own_waits_for_all_before_it_and_the_steps_after_wait_for_it() -> None:
    cfg = load_config(ROOT / "config" / "default.yaml")
    nbs = list(cfg.notebooks)
    own = dataclasses.replace(nbs[0], name="my_notebook", path=ROOT / "notebooks" / "my_notebook.ipynb")
    chain = nbs[:2] + [own] + nbs[2:]
    waits = notebook_dependencies(chain)
    assert waits["my_notebook"] == {"data_quality", "rfm_clv"}
    assert "my_notebook" in waits["seasonality"] and "my_notebook" in waits["segmentation"]
    assert "my_notebook" not in waits["rfm_clv"]
    # a step whose notebook file is not the step's is treated as one's own notebook
    renamed = dataclasses.replace(nbs[4], path=ROOT / "notebooks" / "other.ipynb")
    assert notebook_dependencies(nbs[:4] + [renamed])["seasonality"] == {n.name for n in nbs[:4]}


@dataclasses.dataclass(frozen=True)
class _Params:
    """Parameters object of the test steps (the pre-flight check builds it)."""

    as_of: str = "2024-12-31"
    seed: int = 42


def _started(name: str, other: str | None, fail: bool = False) -> str:
    """Notebook body: record the start, wait (up to 120 s) for ``other`` to have started, write a headline."""
    wait = "" if other is None else f"""
deadline = time.monotonic() + 120
while not (Path(run_dir) / "started-{other}").exists():
    if time.monotonic() > deadline:
        raise RuntimeError("{other} did not start while {name} ran: the notebooks did not run at the same time")
    time.sleep(0.05)
"""
    return f"""\
import time
from pathlib import Path
from crm_analysis.runtime.context import RunContext
ctx = RunContext(run_dir, seed=seed, as_of=as_of, notebook="{name}")
(Path(run_dir) / "started-{name}").write_text("")
{wait}
ctx.headline("{name}_value", 1.0)
{"raise ValueError('boom in " + name + "')" if fail else ""}
"""


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> None:
    params = f"{__name__}._Params"
    fake = {s.name: s for s in (Step("a", "a.ipynb", params, "x.f"), Step("b", "b.ipynb", params, "x.f"),
                                Step("c", "c.ipynb", params, "x.f", requires=("a", "b")))}
    monkeypatch.setattr("crm_analysis.steps.STEPS", fake)


@pytest.mark.notebook
@pytest.mark.slow
def test_independent_notebooks_run_at_the_same_time(tmp_path: Path, steps, write_notebook, write_config) -> None:
    write_notebook(tmp_path / "notebooks" / "a.ipynb", _started("a", "b"))
    write_notebook(tmp_path / "notebooks" / "b.ipynb", _started("b", "a"))
    check_c = ('import json\nfrom pathlib import Path\nheads = json.loads((Path(run_dir) / "artifacts" / '
               '"headlines.json").read_text())\nassert set(heads) == {"a", "b"}, heads')
    write_notebook(tmp_path / "notebooks" / "c.ipynb", check_c)
    cfg = write_config(tmp_path / "config" / "r.yaml",
                       [{"name": n, "path": f"notebooks/{n}.ipynb"} for n in "abc"])
    result = run_chain(load_config(cfg), progress=False, jobs=2)
    assert [r.status for r in result.notebooks] == ["ok", "ok", "ok"]
    heads = json.loads((result.run_dir / "artifacts" / "headlines.json").read_text())
    assert heads == {"a": {"a_value": {"value": 1.0, "label": "a_value"}},
                     "b": {"b_value": {"value": 1.0, "label": "b_value"}}}
    record = json.loads((result.run_dir / "run.json").read_text())
    assert [n["name"] for n in record["notebooks"]] == ["a", "b", "c"]  # the configuration's order


@pytest.mark.notebook
@pytest.mark.slow
def test_a_failure_lets_the_running_notebook_finish_and_starts_nothing_more(
    tmp_path: Path, steps, write_notebook, write_config
) -> None:
    write_notebook(tmp_path / "notebooks" / "a.ipynb", _started("a", "b"))
    write_notebook(tmp_path / "notebooks" / "b.ipynb", _started("b", None, fail=True))
    write_notebook(tmp_path / "notebooks" / "c.ipynb", "raise AssertionError('c must not run')")
    cfg = write_config(tmp_path / "config" / "r.yaml",
                       [{"name": n, "path": f"notebooks/{n}.ipynb"} for n in "abc"])
    with pytest.raises(NotebookFailed, match="boom in b") as err:
        run_chain(load_config(cfg), progress=False, jobs=2)
    result = err.value.result
    assert [r.status for r in result.notebooks] == ["ok", "failed", "skipped"]
    assert "not run" in (result.notebooks[2].note or "")
    assert not (result.reports_dir / "index.html").exists()  # nothing published


def test_jobs_must_be_a_positive_integer(project: Path) -> None:
    from crm_analysis.report.config import ConfigError

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match=r"jobs \(notebooks run at the same time\): must be a positive integer"):
            run_chain(load_config(project / "config" / "report.yaml"), progress=False, jobs=bad)
