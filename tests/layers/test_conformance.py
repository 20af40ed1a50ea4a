"""Every registered layer passes ``run_layer_test`` on the current backend.

Parametrized over ``registry("layers")``: a layer is covered the day it is registered, and one
without a row in ``cases.py`` fails here instead of going untested.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kerazoo.registry import registry
from kerazoo.testing import run_layer_test


def _load_cases() -> dict[str, dict]:
    # --import-mode=importlib puts no test folder on sys.path: load the sibling module by path.
    spec = importlib.util.spec_from_file_location("layer_cases", Path(__file__).with_name("cases.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CONFORMANCE_CASES


CASES = _load_cases()
LAYERS = list(registry("layers"))


def _run(entry, **overrides):
    assert entry.name in CASES, (
        f"Layer '{entry.name}' is registered but has no conformance case: add a row to "
        f"tests/layers/cases.py"
    )
    case = dict(CASES[entry.name])
    layer_cls = case.pop("layer_cls", entry.obj)
    run_layer_test(layer_cls, **case, **overrides)


@pytest.mark.parametrize("entry", LAYERS, ids=lambda e: e.name)
def test_layer_conformance(entry):
    _run(entry)


# Layers whose case opts out of the distribute check (with its reason in cases.py) are not
# collected here at all, so an opt-out never shows up as a pass.
@pytest.mark.slow
@pytest.mark.tf_only
@pytest.mark.parametrize(
    "entry",
    [e for e in LAYERS if "distribute" not in CASES.get(e.name, {}).get("skip", {})],
    ids=lambda e: e.name,
)
def test_layer_trains_under_mirrored_strategy(entry):
    _run(entry, checks=("distribute",))


def test_every_case_names_a_registered_layer():
    stale = sorted(set(CASES) - {entry.name for entry in LAYERS})
    assert not stale, f"cases.py has rows for unregistered layers: {stale}"


# Docstrings (Args, a runnable Example) are checked for every kind in tests/test_docstrings.py.
