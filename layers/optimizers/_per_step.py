"""Values that depend only on the step, computed once per update instead of once per variable.

Bias corrections, RAdam's rectification and tfa's warm-up schedule are the same for every
variable of a dtype. Written inside ``update_step`` they are rebuilt for each variable: on a
ResNet-20 (61 variables) that is hundreds of small ops per step, about a third of the step time
on a CPU. tfa cached them the same way (``_prepare_local`` per device and dtype).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class PerStepValues:
    """Mixin for ``keras.optimizers.Optimizer`` subclasses: ``self.per_step(...)`` caches.

    The cache lives for one ``_backend_update_step`` call, so it never crosses a traced graph,
    a ``cond`` branch or a step; it is keyed by the variable's dtype and device, so under a
    distribution strategy each replica's device computes its own copy.
    """

    _per_step_cache: dict | None = None

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        self._per_step_cache = {}
        try:
            return super()._backend_update_step(grads, trainable_variables, learning_rate)
        finally:
            self._per_step_cache = None

    def per_step(self, name: str, variable: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per update for ``variable``'s dtype and device."""
        cache = self._per_step_cache
        if cache is None:  # update_step called on its own
            return compute()
        key = (name, str(variable.dtype), str(getattr(variable, "device", "")))
        if key not in cache:
            cache[key] = compute()
        return cache[key]
