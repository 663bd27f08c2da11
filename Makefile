# Two commands do everything on a fresh machine with Python, pip and make:
#   make demo   - install the package with the `plot` and `speech` extras into .venv, then run the listening
#                 page on the bundled samples (no test dependencies are downloaded)
#   make test   - install into .venv with the test extra (large: onnxruntime, LiteRT, numba ...),
#                 then run the whole suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --disable-pip-version-check --progress-bar on
DEMO_STAMP := $(VENV)/.demo-stamp
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test install bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PIP) -e '.[plot,speech]'
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) -e '.[test,plot]'
	touch $(STAMP) $(DEMO_STAMP)

install: $(STAMP)

demo: $(DEMO_STAMP)
	$(VENV)/bin/inwhale-hw demo

test: install
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

bench: install
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
