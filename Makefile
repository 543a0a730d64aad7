# The two commands a new user needs: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/lock.txt
DEMO_OUT ?= results/paper-baseline
CORPUS_OUT ?= results/demo-corpus

.PHONY: install demo test lint typecheck unit bench lock clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev,all]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/asara sie run paper-baseline --samples 1000000 --seed 1 --out $(DEMO_OUT)
	$(BIN)/asara sie summary $(DEMO_OUT) --markdown $(DEMO_OUT)/report.md
	@echo "Report written to $(DEMO_OUT)/report.md"
	$(BIN)/asara report paper-baseline --samples 1000000 --seed 1 --out $(DEMO_OUT)/report.html
	@echo "HTML report (open it in a browser, no network needed): $(abspath $(DEMO_OUT))/report.html"
	@echo "A small corpus from the offline template backend (pipeline demonstration, not training material):"
	$(BIN)/asara corpus new $(CORPUS_OUT) --spec production-stories --documents 200 --seed 1
	$(BIN)/asara corpus generate $(CORPUS_OUT) --quiet
	$(BIN)/asara corpus check $(CORPUS_OUT)
	$(BIN)/asara corpus dedupe $(CORPUS_OUT)
	$(BIN)/asara corpus status $(CORPUS_OUT)
	$(BIN)/asara corpus evidence $(CORPUS_OUT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy src

unit: install
	$(BIN)/pytest -q

test: lint typecheck unit

bench: install
	$(BIN)/python benchmarks/bench_sie.py
	$(BIN)/python benchmarks/bench_persona.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_web.py

# Re-resolve the pinned versions (needs network); commit the result.
lock:
	$(PYTHON) -m venv /tmp/asara-lock && /tmp/asara-lock/bin/pip install --quiet uv
	/tmp/asara-lock/bin/uv pip compile pyproject.toml --extra dev --extra all --python-version 3.11 --quiet -o $(LOCK)

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
