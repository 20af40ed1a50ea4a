"""kerazoo: Keras 3 plugins (the TensorFlow Addons successor), a model zoo and task recipes.

``import kerazoo`` stays light: it imports neither Keras nor TensorFlow. The families load on
first use, as attributes (``kerazoo.layers``) or by a plain ``import kerazoo.layers``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Attribute name -> submodule. Loading is deferred because importing Keras/TensorFlow costs seconds.
_LAZY_SUBMODULES = (
    "activations",
    "callbacks",
    "errors",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "recipes",
    "registry",
    "schedules",
    "testing",
    "zoo",
)

__all__ = ["__version__", *_LAZY_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"kerazoo.{name}")
    raise AttributeError(f"module 'kerazoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
