# Two commands for a new user on a fresh machine; each sets itself up first.
#   make demo   open the quickstart in JupyterLab on the offline simulator (no key needed)
#   make test   run the whole test suite (unit, notebooks, reliability, browser)
# For developers:
#   make test-fast  the inner loop: everything but the browser tests and notebooks
#   make lint       ruff (lint + format check) and mypy, as CI runs them
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8888
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)

.PHONY: demo test test-fast lint bench simulator clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# The tour runs on copies in $(DEMO_DIR) (git-ignored), made once and never overwritten: using
# the notebooks (outputs, widget state, histories, exports) never touches the tracked files.
DEMO_DIR ?= demo

demo: $(VENV)/.installed
	mkdir -p $(DEMO_DIR)
	for nb in notebooks/*.ipynb; do [ -e "$(DEMO_DIR)/$${nb##*/}" ] || cp "$$nb" $(DEMO_DIR)/; done
	@echo "Working copies of the notebooks are in $(DEMO_DIR)/ (git-ignored); delete it to start afresh."
	$(PY) -m jupyterlab --ServerApp.root_dir=$(DEMO_DIR) --ServerApp.port=$(PORT) $(ROOT_FLAG) $(DEMO_DIR)/01_quickstart.ipynb

test: $(VENV)/.installed
	$(PY) -m pytest --nbval-lax tests notebooks

test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not browser" tests

lint: $(VENV)/.installed
	$(PY) -m ruff check ideogram_nb tests benchmarks tools
	$(PY) -m ruff format --check ideogram_nb tests benchmarks tools
	$(PY) -m mypy

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

simulator: $(VENV)/.installed
	$(PY) -m ideogram_nb.simulator --port 8765

clean:
	rm -rf $(VENV) ideogram_runs .pytest_cache
