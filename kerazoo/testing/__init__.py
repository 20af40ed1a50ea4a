"""Shared test harnesses: every registered component passes the same checks.

``run_layer_test``, ``run_loss_test``, ``run_metric_test``, ``run_optimizer_test`` and
``run_model_test`` live in their own modules and load on first use, so importing one harness does not
import the others' dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

_HARNESSES = {
    "run_layer_test": "kerazoo.testing.layer_test",
    "run_loss_test": "kerazoo.testing.loss_test",
    "run_metric_test": "kerazoo.testing.metric_test",
    "run_optimizer_test": "kerazoo.testing.optimizer_test",
    "run_model_test": "kerazoo.testing.model_test",
}

__all__ = list(_HARNESSES)


def __getattr__(name: str) -> Any:
    if name in _HARNESSES:
        return getattr(importlib.import_module(_HARNESSES[name]), name)
    raise AttributeError(f"module 'kerazoo.testing' has no attribute {name!r}")
