# Two commands do everything on a fresh machine: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CDM    := $(VENV)/bin/cdm
DEAL   ?= workbooks/anthropic_xai_colossus1.xlsx
REPORT := build/$(basename $(notdir $(DEAL)))-report.xlsx
STAMP  := $(VENV)/.installed

.PHONY: setup test lint types pytest docs bench report addin workbooks clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# setuptools prints a page about editable installs on every install; it is not about this project
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check engine addin tests bench docs computedeal.py

types: setup
	$(VENV)/bin/mypy

pytest: setup
	$(VENV)/bin/pytest

test: lint types docs pytest

docs: setup
	$(PY) docs/generate.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

addin: setup
	$(PY) -m addin.excel.build_addin

workbooks: setup
	$(PY) -m addin.excel.build_workbooks

bench: setup
	bash scripts/install-libreoffice.sh
	$(PY) -m bench --save bench/results.json
	$(PY) docs/generate.py

report: setup
	bash scripts/install-libreoffice.sh
	mkdir -p build
	$(CDM) report $(DEAL) -o $(REPORT) --pdf

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
