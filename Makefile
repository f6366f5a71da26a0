# `make demo` and `make test` each do their own set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,demo,cuda,mpi,image,plots,tensorboard,notebooks]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m symkeras.demos.digits_mlp

# the package's bytecode, as an installed package has it (under PYTHONDONTWRITEBYTECODE=1 every process the
# tests start, compile helpers among them, would compile the ~130 modules from source again)
test: $(STAMP)
	$(VENV)/bin/ruff check symkeras tests examples
	$(PY) -m compileall -q symkeras > /dev/null
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
