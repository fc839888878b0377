# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test worker bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/starling serve

worker: $(STAMP)
	$(BIN)/starling worker

# Test sessions in parallel (pytest-xdist), one per core, at most 4: each claims its own
# database and Redis database number (15 to share), and the suite is mostly waiting.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

test: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python -m pytest -q -s tests/bench

clean:
	rm -rf $(VENV) var
