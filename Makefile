# One virtualenv for everything; created or reused by every target.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint bench clean

$(STAMP): pyproject.toml requirements/cpu.txt requirements/extract.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements/cpu.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements/extract.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

## The main job on the built-in synthetic corpus.
demo: $(STAMP)
	$(BIN)/mslu demo --out runs/demo

## Lint + the whole test suite (what CI runs).
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q tests

## The suite without the end-to-end runs marked slow.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" tests

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

## The quick benchmarks (each well under a minute on 2 cores; figures in docs/benchmarks.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/corpus_io.py --num-samples 10000
	$(BIN)/python benchmarks/synth_speed.py --num-samples 1000
	$(BIN)/python benchmarks/pose_speed.py --repeats 300
	$(BIN)/python benchmarks/decoding_speed.py
	$(BIN)/python benchmarks/kernel_speed.py --reps 5
	$(BIN)/python benchmarks/optimizer_step.py --rounds 3
	$(BIN)/python benchmarks/pretrain_step.py --threads 1 --steps 3 --rounds 1 --no-cache-compare

clean:
	rm -rf $(VENV) build dist *.egg-info runs
