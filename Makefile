# `make run` and `make test` are the two commands a fresh machine needs (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The default storage: a SQLite file (the startup line says where; README "Configuration").
# --demo creates the demo organization once and prints fresh tokens at every start.
run: $(STAMP)
	$(BIN)/seatkeeper serve --host 127.0.0.1 --port 8000 --demo

test: $(STAMP)
	$(BIN)/python -m pytest

# Benchmarks (issue 6; not tests): one table, written to benchmarks/RESULTS.md. HTTP figures need
# wrk (`sudo apt-get install wrk`); without it they are skipped and the others still run.
# BENCH_ARGS passes options through, e.g. `make bench BENCH_ARGS="--only B1,B7 --rounds 5"`.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	SEATKEEPER_BENCH_FROM_MAKE=1 $(BIN)/python -m benchmarks.run $(BENCH_ARGS)

schema: $(STAMP)
	$(BIN)/python -m seatkeeper.schema.root > schema.graphql

clean:
	rm -rf $(VENV) build *.egg-info
