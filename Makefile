# Two commands for a newcomer: `make run` (set up, then serve the demo course) and
# `make test` (set up, then lint, type-check and run the test suite: the core alone in
# .venv-core, then the rest in .venv). Both create their venvs on first use; .ci/run
# runs `make test`.
# `make run PORT=8001 HOST=0.0.0.0` serves elsewhere (default 127.0.0.1:8000).
PYTHON ?= python3
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin

# The core (domain, events, students without deep models, teachers, sim, metrics,
# engine) must stand alone: `make test-core` runs its tests in a second venv that
# has only the core dependencies and pytest/hypothesis (no torch, FastAPI or
# SQLAlchemy), and fails if a test skips because a module could not be imported.
CORE_VENV := .venv-core
CORE_BIN := $(CORE_VENV)/bin
CORE_TESTS := tests/test_checks.py tests/test_cli.py tests/test_continual_metrics.py \
	tests/test_domain.py tests/test_engine.py tests/test_evaluation.py tests/test_events.py \
	tests/test_irt_pfa.py tests/test_layers.py tests/test_leak_guards.py tests/test_memory.py \
	tests/test_memory_rnn.py \
	tests/test_metrics.py tests/test_prereq_model.py tests/test_pykt.py tests/test_sim.py \
	tests/test_sim_benches.py tests/test_startup.py tests/test_students.py \
	tests/test_task_space_teachers.py tests/test_teacher_factory.py tests/test_teachers.py \
	tests/test_teachers_curricula.py tests/test_teachers_lp.py

.PHONY: run simulate test pytest test-core test-rest lint typecheck clean

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

test: lint typecheck test-core test-rest

# The whole suite in .venv alone, the core tests included.
pytest: $(VENV)/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check mentor tests benchmarks
	$(BIN)/ruff format --check mentor tests benchmarks

typecheck: $(VENV)/.installed
	$(BIN)/mypy

$(CORE_BIN)/python:
	$(PYTHON) -m venv $(CORE_VENV)
	$(CORE_BIN)/python -m pip install --quiet --upgrade pip

$(CORE_VENV)/.installed: pyproject.toml Makefile | $(CORE_BIN)/python
	$(CORE_BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test-core: $(CORE_VENV)/.installed
	@! $(CORE_BIN)/python -c 'import torch' 2>/dev/null || (echo "$(CORE_VENV) has torch" && exit 1)
	@! $(CORE_BIN)/python -c 'import fastapi' 2>/dev/null || (echo "$(CORE_VENV) has fastapi" && exit 1)
	@! $(CORE_BIN)/python -c 'import sqlalchemy' 2>/dev/null || (echo "$(CORE_VENV) has sqlalchemy" && exit 1)
	MENTOR_TEST_CORE=1 $(CORE_BIN)/python -m pytest -m "not torch" $(CORE_TESTS)

# The suite without the core tests that test-core has just run (CI runs each test
# once): every other file, then the core files' tests that need torch.
# Everything `make test-core` did not run: the other test files, and the core tests
# marked torch.
test-rest: $(VENV)/.installed
	$(BIN)/python -m pytest $(addprefix --ignore=,$(CORE_TESTS))
	$(BIN)/python -m pytest -m torch $(CORE_TESTS)

clean:
	rm -rf $(VENV) $(CORE_VENV) out .pytest_cache mentor-data
