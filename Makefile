# Set-up is part of every target: a fresh clone needs only Python 3.11+ and network access to PyPI.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= build/demo.db

.PHONY: demo test lint bench gate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p build && rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB).lock
	$(BIN)/storyline digest examples/corpus --db $(DEMO_DB) --json build/demo.json

# The optional neural backend's tests need torch and sentence-transformers. torch comes only from the CPU
# wheel this machine kind keeps in /opt/wheels (PyPI's default build pulls gigabytes of CUDA packages);
# without that file the extra is left out and those tests skip, saying why.
NEURAL_STAMP := $(VENV)/.neural
$(NEURAL_STAMP): $(STAMP)
	if ls /opt/wheels/torch-2.13.0*.whl >/dev/null 2>&1; then \
		$(BIN)/python -m pip install --quiet "torch==2.13.0" -e '.[dev,neural]'; \
	else echo "note: no local CPU torch wheel; the optional [neural] tests will skip"; fi
	touch $(NEURAL_STAMP)

# The Dask engine's tests run in a pytest process of their own: after a local cluster has run in the test
# process, a later test's digest subprocess peaked at twice its memory (1.2 GB against 0.56 GB alone, not
# understood yet), which the hostile-input test's memory budget catches.
test: $(STAMP) $(NEURAL_STAMP)
	$(BIN)/python -m pytest --ignore=tests/test_engine.py
	$(BIN)/python -m pytest tests/test_engine.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Quality gate: every benchmark with --gate fails when a figure drops below its floor in bench/floors/.
GATED ?= extraction entities similarity clustering quotes actions
gate: $(STAMP)
	set -e; for name in $(GATED); do $(BIN)/python bench/$$name.py --gate; done

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
