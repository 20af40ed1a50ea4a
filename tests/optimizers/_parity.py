"""Helpers shared by the optimizer tests: the tfa fixture, its cases and problems."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import keras
import numpy as np

import kerazoo.optimizers  # noqa: F401  (registers the optimizers)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tfa"


def _load_problems():
    spec = importlib.util.spec_from_file_location(
        "kerazoo_optimizer_problems", FIXTURES / "optimizers_problems.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


problems = _load_problems()
CASES = {k: v for k, v in json.loads((FIXTURES / "optimizers_cases.json").read_text()).items()
         if not k.startswith("_")}
_REFERENCE = None


def reference() -> dict[str, np.ndarray]:
    global _REFERENCE
    if _REFERENCE is None:
        with np.load(FIXTURES / "optimizers.npz") as archive:
            _REFERENCE = {key: archive[key] for key in archive.files}
    return _REFERENCE


def fixture_data() -> dict[str, np.ndarray]:
    ref = reference()
    return {key[len("data/"):]: value for key, value in ref.items() if key.startswith("data/")}


def build_kerazoo(spec):
    name, kwargs, inner = (list(spec) + [None])[:3]
    if name.startswith("keras."):
        return getattr(keras.optimizers, name[len("keras."):])(**kwargs)
    cls = getattr(kerazoo.optimizers, name)
    if inner is not None:
        return cls(build_kerazoo(inner), **kwargs)
    return cls(**kwargs)
