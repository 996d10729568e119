"""pyproject.toml and environment.yml declare the same packages with the same version ranges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
#: conda-forge names that differ from the PyPI name.
CONDA_TO_PYPI = {"python-duckdb": "duckdb", "matplotlib-base": "matplotlib", "pytables": "tables"}
_CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<spec>.*)$")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pip_requirements() -> dict[str, SpecifierSet]:
    project = _pyproject()["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs.extend(extra)
    out: dict[str, SpecifierSet] = {}
    for line in reqs:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name not in out, f"{name} is declared twice in pyproject.toml"
        out[name] = req.specifier
    return out


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _conda_requirements() -> tuple[dict[str, SpecifierSet], str | None, list[str]]:
    out: dict[str, SpecifierSet] = {}
    python, pip_section = None, []
    for dep in _environment()["dependencies"]:
        if isinstance(dep, dict):
            pip_section.extend(dep.get("pip", []))
            continue
        m = _CONDA_SPEC.match(str(dep).strip())
        assert m, f"cannot parse conda dependency {dep!r}"
        name, spec = m["name"], m["spec"].replace(" ", "")
        if name == "python":
            python = spec.lstrip("=")
            continue
        if name == "pip":
            continue
        assert not re.match(r"^=[^=]", spec), f"{dep!r}: conda '=' pins have no pip equivalent; use >=,<"
        name = canonicalize_name(CONDA_TO_PYPI.get(name, name))
        assert name not in out, f"{name} is declared twice in environment.yml"
        out[name] = SpecifierSet(spec)
    return out, python, pip_section


def test_same_packages_and_ranges() -> None:
    pip, (conda, _, _) = _pip_requirements(), _conda_requirements()
    assert sorted(pip) == sorted(conda), (
        f"only in pyproject.toml: {sorted(set(pip) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(pip))}"
    )
    differ = {n: (str(pip[n]), str(conda[n])) for n in pip if pip[n] != conda[n]}
    assert not differ, f"version ranges differ (pyproject, environment.yml): {differ}"


def test_python_and_editable_install() -> None:
    env = _environment()
    assert env["channels"] == ["conda-forge"]
    _, python, pip_section = _conda_requirements()
    assert python is not None, "environment.yml must pin python"
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert Version(python) in requires, f"python={python} does not satisfy requires-python {requires}"
    assert "-e ." in pip_section, "environment.yml must install the package itself (pip: ['-e .'])"


@pytest.mark.parametrize("bad", ["numpy >=1.20,<3", "numpy >=1.26"])
def test_a_changed_range_is_detected(bad: str) -> None:
    """The comparison is sensitive to a range change (guards against a vacuous test)."""
    conda, _, _ = _conda_requirements()
    m = _CONDA_SPEC.match(bad)
    assert conda["numpy"] != SpecifierSet(m["spec"].replace(" ", ""))
