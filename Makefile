# Two commands do everything on a fresh machine with Python, pip and make:
#   make demo   - install into .venv, then run the main job on a bundled sample
#   make test   - install into .venv (with the test extra), then run the whole suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test install bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test,plot]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/inwhale-hw demo

test: install
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

bench: install
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
