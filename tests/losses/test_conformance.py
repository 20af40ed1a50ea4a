"""Every registered loss passes ``run_loss_test`` with its row of ``cases.py``, on every backend."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from kerazoo.registry import registry
from kerazoo.testing import run_loss_test

_spec = importlib.util.spec_from_file_location(
    "loss_cases", pathlib.Path(__file__).with_name("cases.py")
)
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
LOSS_CASES = _cases.LOSS_CASES

ENTRIES = list(registry("losses"))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_loss_conformance(entry):
    assert entry.name in LOSS_CASES, (
        f"registered loss {entry.name} has no row in tests/losses/cases.py"
    )
    run_loss_test(entry.obj, **LOSS_CASES[entry.name])


def test_every_case_is_registered():
    assert set(LOSS_CASES) <= {entry.name for entry in ENTRIES}
