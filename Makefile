# The two commands of the contract: `make chat` and `make test`. Everything else is set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama-cpp-python compiles from source (6–9 min on 2 cores, then pip caches the wheel):
# portable CPU flags, so the wheel runs on any x86-64 machine with AVX2.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BLAS=OFF
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export KERAS_BACKEND := torch

.PHONY: install chat test test-fast lint typecheck check models models-test bench eval clean

install: $(STAMP)

$(STAMP): requirements.txt $(wildcard requirements/*.txt) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3" "setuptools==84.2.1" wheel
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements/nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

models: $(STAMP)
	$(BIN)/clinassist models fetch --role chat --role image

models-test: $(STAMP)
	$(BIN)/clinassist models fetch --role test --role image

chat: models
	$(BIN)/clinassist chat

test: models-test
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not postgres"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy assistant tools knowledge

check: lint typecheck test

bench: models
	$(BIN)/clinassist bench

eval: $(STAMP)
	$(BIN)/clinassist eval all --out eval-out

clean:
	rm -rf $(VENV) eval-out .mypy_cache .ruff_cache
