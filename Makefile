# Two commands on a fresh machine (Python 3.11 and PyPI only):
#   make report   set up .venv, install, run every notebook on the built-in data -> reports/index.html
#   make test     set up .venv, install the test and spark extras, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config/default.yaml
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: report test install install-test lab benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(PIP) install -e .

# The spark extra is installed too so the Spark path is tested against DuckDB (needs Java 17+).
install-test: $(BIN)/python
	$(PIP) install -e '.[test,spark]'

report: install
	$(BIN)/crm-analysis report --config $(CONFIG)

# Check the published reports in headless Chromium (links, images, no network request, overflow and
# truncated text, code names) + reports/index.png and a screenshot of every page in reports/screenshots/
.PHONY: check-report
check-report: install
	$(BIN)/crm-analysis check-report reports --screenshot reports/index.png

test: install-test
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env tests notebooks

lab: $(BIN)/python
	$(PIP) install -e '.[lab]'
	$(BIN)/jupyter lab notebooks/

benchmark: install
	$(BIN)/python benchmarks/bench_rfm_clv.py

clean:
	rm -rf $(VENV) reports/runs reports/latest reports/index.html
