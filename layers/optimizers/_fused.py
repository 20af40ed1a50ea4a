"""TensorFlow's fused training kernels, for updates that are exactly one of them.

tfa's optimizers call these kernels: one op per variable. The same update written with
``keras.ops`` is 5-10 ops per variable, which on a CPU makes a step 2-5x slower. kerazoo takes the
kernel on the TensorFlow backend for dense gradients outside a stateless scope; the ``keras.ops``
path stays the definition on every other backend, and both are checked against tfa's numbers.
"""

from __future__ import annotations

from typing import Any

import keras


def fused_kernel_applies(gradient: Any) -> bool:
    """True on the TensorFlow backend for a dense gradient, when variables may be written."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    # Private, but the only way to know: inside a StatelessScope variables must not be written.
    from keras.src.backend.common.stateless_scope import in_stateless_scope

    return not isinstance(gradient, tf.IndexedSlices) and not in_stateless_scope()


def handle(variable: Any) -> Any:
    """The resource handle of a Keras or TensorFlow variable (the local copy under a strategy)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle
