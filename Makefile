# Two commands: `make demo` (the main job) and `make test` (the test suite); `make bench` runs
# the full method table (tools/benchmark.py, 3 seeds).
# Both create .venv on first use and re-install only when setup.py changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo bench test test-fast lint install clean

$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch 2.14.1 + torchvision 0.29.1 is the pair that installs offline on the project machines;
	# elsewhere fall back to whatever pair pip resolves.
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1 || $(PY) -m pip install -q torch torchvision
	$(PY) -m pip install -q -e '.[tests]'
	touch $(STAMP)

install: $(STAMP)

test: lint
	OMP_NUM_THREADS=2 $(PY) -m pytest -q tests

# pyflakes + pycodestyle (ruff.toml); part of make test, so CI lints too.
lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The fast loop: everything but the end-to-end runs.
test-fast: $(STAMP)
	OMP_NUM_THREADS=2 $(PY) -m pytest -q tests -m "not e2e"

demo: $(STAMP)
	$(PY) tools/benchmark.py configs/benchmarks/demo.py

bench: $(STAMP)
	$(PY) tools/benchmark.py configs/benchmarks/synthrooms_cpu.py

clean:
	rm -rf $(VENV) work_dirs
