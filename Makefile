# Every target sets itself up: on a fresh machine `make test` or `make demo` is the whole story.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kerazoo-installed

.PHONY: setup test test-tensorflow test-backends lint docs demo wheel-check clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,jax,torch,docs,serving,plots,progress]"
	$(PY) -m pip install --quiet --no-deps "tensorflow-serving-api>=2.21,<2.22"
	touch $(STAMP)

# The whole suite on TensorFlow, then everything backend-neutral on JAX and PyTorch.
test: setup
	$(PY) -m pytest
	KERAS_BACKEND=jax $(PY) -m pytest -m "not slow and not multiprocess"
	KERAS_BACKEND=torch $(PY) -m pytest -m "not slow and not multiprocess"

lint: setup
	$(VENV)/bin/ruff check .

docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# The main job: train a zoo CNN on the embedded digits, evaluate on the test split, export.
demo: setup
	rm -rf runs/demo-digits
	$(VENV)/bin/kerazoo train image_classification --data digits --model simple_cnn \
		--run-dir runs/demo-digits

wheel-check: setup
	bash .ci/wheel_check.sh

clean:
	rm -rf $(VENV) build dist site *.egg-info
