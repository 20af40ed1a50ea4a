"""Shared parts of the weight-averaging wrappers (MovingAverage, SWA) and their helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
from keras import ops

from kerazoo import compat
from kerazoo.errors import ConfigError
from kerazoo.optimizers._wrapper import (
    OptimizerWrapper,
    start_slots_at_weights,
)


class AveragedOptimizerWrapper(OptimizerWrapper):
    """Base of the averaging wrappers: keeps one average per variable; not registered.

    Args:
        optimizer: the inner optimizer (instance, name or config).
        name: optimizer name.
        **kwargs: base optimizer arguments.
    """

    # tfa started MovingAverage's averages at the weights and SWA's at zeros.
    _average_starts_at_weights = False

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._average = [self.add_variable_from_reference(var, name="average")
                         for var in var_list]

    def _before_inner_step(self, trainable_variables):
        if not self._average_starts_at_weights:
            return
        first = ops.equal(self.inner_optimizer._iterations, 0)
        start_slots_at_weights(self, self._average, trainable_variables, first)

    @property
    def average_variables(self) -> list:
        """The averaged copies, parallel to the variables the optimizer was built with."""
        self._require_built()
        return list(self._average)

    def _require_built(self) -> None:
        if not self.built:
            raise ConfigError(
                f"{type(self).__name__} has no averages yet: train (or call build) first."
            )

    def assign_average_vars(self, var_list: Iterable[Any]) -> None:
        """Copy the averages into ``var_list`` (e.g. ``model.trainable_variables``), as tfa did.

        Variables the optimizer does not train are left alone.
        """
        self._require_built()
        for var in var_list:
            key = self._var_key(var)
            if key in self._trainable_variables_indices:
                # A copy: on JAX two variables must not share one (donated) buffer.
                var.assign(keras.ops.copy(self._average[self._trainable_variables_indices[key]]))

    def swap_weights(self) -> None:
        """Exchange the model weights and their averages; call again to swap back.

        Evaluate with the averaged weights between two calls, then resume training where it was.
        """
        self._require_built()
        for var, average in zip(self._trainable_variables, self._average):
            current = keras.ops.copy(var.value)
            var.assign(keras.ops.copy(average.value))
            average.assign(current)


def recompute_batch_norm_statistics(model: keras.Model, data: Iterable[Any],
                                    steps: int | None = None) -> int:
    """Recompute every BatchNormalization layer's moving statistics from ``data``.

    After averaged weights are swapped in, the stored moving mean and variance belong to the
    weights that were trained, not to the average. This resets them and accumulates an exact
    running mean over the batches (momentum ``n / (n + 1)`` at batch ``n``), as SWA prescribes.

    Args:
        model: the model whose BatchNormalization layers are updated.
        data: an iterable of inputs, or of ``(inputs, targets[, weights])`` tuples.
        steps: at most this many batches. Defaults to ``None`` (all of ``data``).

    Returns:
        The number of batches used.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import recompute_batch_norm_statistics
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])
    >>> batches = [np.full((4, 3), 2.0, "float32")] * 3
    >>> recompute_batch_norm_statistics(model, batches)
    3
    >>> [round(float(x), 3) for x in model.layers[0].moving_mean.numpy()]
    [2.0, 2.0, 2.0]
    """
    norms = [layer for layer in compat.flatten_layers(model, include_self=False)
             if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return 0
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.moving_mean.assign(keras.ops.zeros(layer.moving_mean.shape, layer.moving_mean.dtype))
        layer.moving_variance.assign(
            keras.ops.ones(layer.moving_variance.shape, layer.moving_variance.dtype))
    used = 0
    try:
        for batch in data:
            if steps is not None and used >= steps:
                break
            inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
            for layer in norms:
                layer.momentum = used / (used + 1.0)
            model(inputs, training=True)
            used += 1
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
    return used
