# SCING Studio — every target creates .venv when missing and reinstalls only when pyproject.toml changed.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test test-fast bench synth demo studio fidelity-refs clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[gui,analysis,dev]'
	@touch $(STAMP)

install: $(STAMP)

## make test: install, check the layering contracts (lint-imports, pyproject.toml), then the full test suite (CPU only; minutes).
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

## make test-fast: the suite without tests marked slow.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

## make bench: every speed benchmark in benchmarks/ (prints ratios against in-process baselines).
bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

## make studio: the desktop app on the demo workspace (or `scing-studio --workspace DIR`).
studio: $(STAMP)
	$(VENV)/bin/scing-studio

## make demo: build the embedded demo workspace (SynthPed, SynthCLIP, three runs, figures, report.md).
demo: $(STAMP)
	$(VENV)/bin/scing demo

## make synth: write a default SynthPed dataset to data/synthped.
synth: $(STAMP)
	$(VENV)/bin/scing synth --out data/synthped

## make fidelity-refs: renumber docs/fidelity.md's file:line references after code moved.
fidelity-refs: $(STAMP)
	$(PY) docs/tools/fidelity_refs.py --fix

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
