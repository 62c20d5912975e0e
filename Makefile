# Two commands for a newcomer: `make run` (set up, then serve the demo course) and
# `make test` (set up, then run the test suite). Both create .venv on first use.
# `make run PORT=8001 HOST=0.0.0.0` serves elsewhere (default 127.0.0.1:8000).
PYTHON ?= python3
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run simulate test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,torch,service,agents,rl]'
	touch $@

run: $(VENV)/.installed
	@$(BIN)/python mentor/service/ports.py '$(HOST)' '$(PORT)'
	$(BIN)/mentor serve --demo --host '$(HOST)' --port '$(PORT)'

simulate: $(VENV)/.installed
	$(BIN)/mentor simulate

test: $(VENV)/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check mentor tests benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache mentor-data
