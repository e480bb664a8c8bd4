# `make run` and `make test` are the two commands a fresh machine needs (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench schema screenshots clean

# Tools see the package (issue 10): package/seatkeeper/ is a tree of links to the layer folders,
# and one plain path entry in the venv puts package/ on sys.path, so that mypy, pyright,
# import-linter and IDEs resolve `seatkeeper.*` (setuptools' editable finder alone is an import
# hook that no tool can follow). A new module in any folder is visible at once: no reinstall.
LINK_TREE_PTH = $(BIN)/python -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "seatkeeper-package.pth").write_text(str(pathlib.Path("package").resolve()) + "\n")'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(LINK_TREE_PTH)
	@# Metadata of installs before the link tree (issue 10) would shadow today's entry points.
	rm -rf seatkeeper.egg-info
	touch $(STAMP)

# The default storage: a SQLite file (the startup line says where; README "Configuration").
# --demo creates the demo organization once and prints fresh tokens at every start.
run: $(STAMP)
	$(BIN)/seatkeeper serve --host 127.0.0.1 --port 8000 --demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The gate of issue 10 (CI runs it after `make test`): the layers of docs/ARCHITECTURE.md as
# import-linter contracts, mypy --strict (configured in pyproject.toml), ruff lint and format.
CHECK_STAMP := $(VENV)/.check-installed

$(CHECK_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,check]'
	$(LINK_TREE_PTH)
	touch $(CHECK_STAMP)

# The SDL is documentation (issue 12): graphql-schema-linter's description rules
# (tests/clients/.graphql-schema-linterrc) on schema.graphql, so that every type, field, argument,
# input field and enum value keeps a description. It is a pinned npm package of tests/clients,
# which `.ci/run` installs (`npm ci`) before `make check`.
SCHEMA_LINTER := tests/clients/node_modules/.bin/graphql-schema-linter

check: $(CHECK_STAMP)
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@test -x $(SCHEMA_LINTER) || { echo "make check: graphql-schema-linter is not installed; run \`npm ci\` in tests/clients (needs Node and npm)" >&2; exit 1; }
	$(SCHEMA_LINTER) --config-directory tests/clients --format compact schema.graphql

# Benchmarks (issue 6; not tests): one table, written to benchmarks/RESULTS.md. HTTP figures need
# wrk (`sudo apt-get install wrk`); without it they are skipped and the others still run.
# BENCH_ARGS passes options through, e.g. `make bench BENCH_ARGS="--only B1,B7 --rounds 5"`.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	SEATKEEPER_BENCH_FROM_MAKE=1 $(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The console's screenshots in docs/screenshots/ (README), taken in Debian's Chromium against a
# real server process: `apt-get install chromium chromium-driver` first.
screenshots: $(STAMP)
	$(BIN)/python tests/console/make_screenshots.py

schema: $(STAMP)
	$(BIN)/python -m seatkeeper.schema.root > schema.graphql

clean:
	rm -rf $(VENV) build *.egg-info
