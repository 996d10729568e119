"""The package's import graph: no cycles between modules, and lower layers never import upper ones.

The graph is read from the source (``ast``), so it also sees imports that a
test run would not execute. Module-level imports make the cycle graph;
imports inside functions (lazy ones, e.g. of optional extras) count for the
layering check too, so that a lower layer cannot reach up even lazily.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "crm_analysis"


def _modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = _modules()


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Package modules that ``node`` (in ``module``) imports."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    if node.level:
        base = module.split(".")
        if MODULES[module].name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        name = ".".join(base + ([node.module] if node.module else []))
    else:
        name = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{name}.{alias.name}"
        if sub in MODULES:
            out.append(sub)  # a submodule: the package's __init__ is its parent, not a dependency
        elif name in MODULES:
            out.append(name)
    return out


def _graph(lazy: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if lazy:
            nodes = list(ast.walk(tree))
        else:  # what runs on import: module level, including if/try blocks, not function bodies
            nodes = []
            stack = list(tree.body)
            while stack:
                node = stack.pop()
                nodes.append(node)
                if isinstance(node, (ast.If, ast.Try)):
                    stack.extend(ast.iter_child_nodes(node))
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges[module].update(m for m in _imported(module, node) if m != module)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_checker_finds_a_cycle() -> None:
    """The cycle finder itself: a -> b -> c -> a is found, a DAG is not."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycles() -> None:
    assert _cycles(_graph(lazy=False)) == []


def test_no_import_cycles_between_modules_even_through_imports_in_functions() -> None:
    """A deferred import (inside a function) that closes a cycle of modules is a cycle too.

    Only a subpackage's face (its ``__init__``, which re-exports its modules) may be imported back lazily;
    between modules, the layering must hold whatever runs first (issue #13: no import cycles; the
    ``data.errors`` <-> ``data.value_checks`` pair of round intake2 was one).
    """
    edges = _graph(lazy=True)
    faces = {m for m in edges if m == "crm_analysis" or Path(ROOT, "crm_analysis", *m.split(".")[1:], "__init__.py").exists()}
    between = {m: {w for w in out if w not in faces} for m, out in edges.items() if m not in faces}
    assert _cycles(between) == []


# subpackage -> subpackages it may import (lazily too); the layers of docs/architecture.md (the synthetic
# generators sit beside the data layer: data.sources builds the default data with them)
#: private leaf modules of the package root (they import nothing of the package): every layer may use them
LEAVES = {
    "crm_analysis._dates", "crm_analysis._json", "crm_analysis._progress", "crm_analysis._secrets",
    "crm_analysis._validate",
    "crm_analysis.exceptions",
}
# the synthetic generators sit beside the data layer (the default hotel's capacity is a default of the
# seasonality and yield steps)
_DATA = LEAVES | {"crm_analysis.data", "crm_analysis.synthetic", "crm_analysis.contracts"}
#: what readers see (units, glossary, tables, periods, findings, charts): a leaf subpackage that imports nothing
#: else of the package; the runtime, the report chain and the data layer's quality summaries (partial months,
#: schema tables with types in words) may import it
PRESENTATION = "crm_analysis.presentation"
LOWER_LAYERS = {
    PRESENTATION: set(),
    "crm_analysis.synthetic": LEAVES,
    "crm_analysis.data": LEAVES | {"crm_analysis.synthetic", PRESENTATION},
    # the hand-over contracts are declarations on the data layer's Column/Schema
    "crm_analysis.contracts": LEAVES | {"crm_analysis.data"},
    "crm_analysis.rfm": _DATA,
    "crm_analysis.clv": _DATA | {"crm_analysis.rfm"},
    "crm_analysis.segmentation": _DATA | {"crm_analysis.rfm", "crm_analysis.clv"},
    "crm_analysis.seasonality": _DATA,
    "crm_analysis.yield_management": _DATA | {"crm_analysis.seasonality"},
    "crm_analysis.scale": _DATA | {"crm_analysis.rfm", "crm_analysis.clv"},
    "crm_analysis.profitability": _DATA,
    "crm_analysis.campaigns": _DATA,
    "crm_analysis.recommend": _DATA,
    "crm_analysis.idic": _DATA | {"crm_analysis.profitability", "crm_analysis.campaigns", "crm_analysis.recommend",
                                  "crm_analysis.rfm", "crm_analysis.clv", "crm_analysis.segmentation"},
}
#: the layers above the domain packages: no domain package may import them, not even lazily
UPPER_LAYERS = ("crm_analysis.steps", "crm_analysis.runtime", "crm_analysis.report")


def test_the_notebook_runtime_does_not_import_the_chain() -> None:
    """crm_analysis.runtime (what notebooks import) never imports crm_analysis.report (papermill, the runner)."""
    edges = _graph(lazy=True)
    bad = {(m, w) for m, ws in edges.items() if m.startswith("crm_analysis.runtime")
           for w in ws if w.startswith("crm_analysis.report")}
    assert not bad, f"the notebook runtime imports the report chain: {sorted(bad)}"


def test_notebooks_import_the_runtime_not_the_chain() -> None:
    """The notebooks of the chain use crm_analysis.runtime, not crm_analysis.report."""
    import json

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "code")
        assert "crm_analysis.report" not in code, f"{path.name} imports the report chain"


def test_presentation_imports_nothing_of_the_package() -> None:
    """crm_analysis.presentation is a leaf: it imports no other part of the package, not even lazily."""
    edges = _graph(lazy=True)
    bad = {(m, w) for m, ws in edges.items() if m.startswith(PRESENTATION)
           for w in ws if not w.startswith(PRESENTATION) and w != "crm_analysis.exceptions"}
    assert not bad, f"crm_analysis.presentation imports other parts of the package: {sorted(bad)}"


def test_steps_do_not_import_the_report_chain() -> None:
    """crm_analysis.steps (which function produces each hand-over file) sits below the report chain."""
    edges = _graph(lazy=True)
    bad = {w for w in edges["crm_analysis.steps"] if w.startswith("crm_analysis.report")}
    assert not bad, f"crm_analysis.steps imports the report chain: {sorted(bad)}"


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_modules_import_nothing_of_the_package(leaf: str) -> None:
    graph = _graph(lazy=True)
    # the exception module is itself a leaf, which every module may raise from
    assert not {m for m in graph.get(leaf, set()) if m.startswith("crm_analysis") and m != "crm_analysis.exceptions"}


@pytest.mark.parametrize("package", sorted(LOWER_LAYERS))
def test_lower_layers_do_not_import_upwards(package: str) -> None:
    edges = _graph(lazy=True)
    allowed = LOWER_LAYERS[package] | {package}
    bad = {
        (m, w)
        for m, ws in edges.items()
        if m == package or m.startswith(package + ".")
        for w in ws
        if ".".join(w.split(".")[:2]) not in allowed and w != "crm_analysis.exceptions"  # the errors: a leaf
    }
    assert not bad, f"{package} imports from layers above it: {sorted(bad)}"


@pytest.mark.parametrize("upper", UPPER_LAYERS)
def test_no_domain_package_imports_the_upper_layers(upper: str) -> None:
    edges = _graph(lazy=True)
    bad = {(m, w) for m, ws in edges.items() if ".".join(m.split(".")[:2]) in LOWER_LAYERS
           for w in ws if w == upper or w.startswith(upper + ".")}
    assert not bad, f"domain modules import {upper}: {sorted(bad)}"


def test_rfm_imports_without_pyspark_or_scale() -> None:
    """Importing and running the RFM summary loads neither pyspark nor crm_analysis.scale."""
    code = (
        "import sys, pandas as pd\n"
        "from crm_analysis.rfm import rfm_summary\n"
        "tx = pd.DataFrame({'customer_id': ['a', 'b'], 'timestamp': pd.to_datetime(['2024-01-01', '2024-01-02']),"
        " 'amount': [1.0, 2.0]})\n"
        "rfm_summary(tx, observation_end='2024-01-31')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pyspark', 'crm_analysis.scale'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
