# Two entry points: `make report` (set up, then run the whole pipeline) and
# `make test` (set up, then run the test suite).  Both are idempotent.

PYTHON ?= python3
VENV ?= .venv
# One job per core unless told otherwise (make report JOBS=8).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SNAKEMAKE_ARGS ?=
# The test files spread over the cores, a file per worker (its module fixtures are built once).
PYTEST_ARGS ?= -n auto --dist loadfile
# The Debian packages the PDF needs (the report step names the same list).
TEX_PACKAGES = $(shell cat src/dd2424/pdf/tex-packages.txt)

BIN = $(VENV)/bin
# Console scripts are called as modules: pip's launcher scripts break when the
# checkout's path holds a double quote.
SNAKEMAKE = $(BIN)/python -m snakemake

.PHONY: setup tex report preview dry-run test lint bench runtime verify clean

$(BIN)/snakemake: pyproject.toml
	$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian/Ubuntu install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,slurm]'
	touch $@

setup: $(BIN)/snakemake

# TeX Live for the PDF: installed with apt-get when we may, otherwise named.
tex:
	@if command -v latexmk >/dev/null && command -v pdflatex >/dev/null; then \
		echo "TeX: latexmk and pdflatex found"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES); \
	elif command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES); \
	else \
		echo "LaTeX is missing and cannot be installed from here."; \
		echo "Install TeX Live with latexmk, e.g. on Debian/Ubuntu: sudo apt-get install $(TEX_PACKAGES)"; \
		exit 1; \
	fi

report: setup tex
	$(SNAKEMAKE) -j$(JOBS) $(SNAKEMAKE_ARGS)

# A quick look at the whole PDF: every run 1/PREVIEW as long, one seed, nothing scored, in preview/ (apart from
# results/): preview/results/report.pdf.
PREVIEW ?= 10
preview: setup tex
	$(SNAKEMAKE) -j$(JOBS) --directory preview --config preview=$(PREVIEW) $(SNAKEMAKE_ARGS)

dry-run: setup
	$(SNAKEMAKE) -n $(SNAKEMAKE_ARGS)

test: setup tex
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Mechanical format: ruff for Python, snakefmt for the Snakefile and rules.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m snakefmt --check Snakefile workflow/rules

# Training samples/s of the three assignments' networks, single and stacked,
# one thread each, against a float32 GEMM (and PyTorch, if installed in the venv).
bench: setup
	$(BIN)/python -m dd2424.bench $(BENCH_ARGS)

# Where a finished run's time went: its critical path, list schedules on 1-16 cores, its share of the GEMM limit.
runtime: setup
	$(BIN)/python -m dd2424.runtime . $(RUNTIME_ARGS)

# Re-read every result under results/ and name each damaged one with the command that rebuilds it.
# The run's own --configfile / --config options, to compare its results with: make verify VERIFY_ARGS="--configfile my.yaml"
VERIFY_ARGS ?=
verify: setup
	$(BIN)/python -m dd2424.verify $(VERIFY_ARGS)

clean:
	rm -rf results logs benchmarks .snakemake
