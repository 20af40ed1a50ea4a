# Every target sets itself up: on a fresh machine `make test` or `make demo` is the whole story.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kerazoo-installed

.PHONY: setup test test-heavy test-tensorflow test-backends lint docs demo index wheel-check clean

setup: $(STAMP)

# A venv made before kerazoo depended on `tensorflow` holds `tensorflow-cpu`: both install into the
# same folder, so the old one goes first.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip uninstall --quiet -y tensorflow-cpu 2>/dev/null || true
	$(PY) -m pip install --quiet -e ".[dev,jax,torch,docs,plots,progress,forecasting,hub]"
	touch $(STAMP)

# The whole suite on TensorFlow (but the `heavy` sweeps: ImageNet-size zoo models, every crash
# point of a run's finish), then everything
# backend-neutral on JAX and PyTorch.
test: setup
	$(PY) -m pytest -m "not heavy"
	KERAS_BACKEND=jax $(PY) -m pytest -m "not slow and not multiprocess"
	KERAS_BACKEND=torch $(PY) -m pytest -m "not slow and not multiprocess"

# The full sweeps: every keras.applications model, every crash point of finish (TensorFlow;
# about 15 minutes here).
test-heavy: setup
	$(PY) -m pytest -m heavy

lint: setup
	$(VENV)/bin/ruff check .

docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# The main job: train a zoo CNN on the embedded digits, evaluate on the test split, export; then
# print the figures README quotes (test accuracy, wall time, peak RSS) with the machine.
demo: setup
	$(PY) .ci/demo_figures.py runs/demo-digits

# After adding or changing anything registered (layers, models, recipes, ...): rewrite the index
# that `kerazoo list` / `kerazoo info` read without TensorFlow (tests/test_catalog_index.py checks it).
index: setup
	$(PY) -m kerazoo.catalog_index

wheel-check: setup
	bash .ci/wheel_check.sh

clean:
	rm -rf $(VENV) build dist site *.egg-info
