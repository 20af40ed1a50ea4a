"""AverageModelCheckpoint: save the averaged weights of MovingAverage / SWA training."""

from __future__ import annotations

from typing import Any

import keras

from kerazoo.errors import ConfigError
from kerazoo.optimizers._averaging import AveragedOptimizerWrapper
from kerazoo.registry import register


def find_averaging_optimizer(optimizer: Any) -> AveragedOptimizerWrapper:
    """The MovingAverage / SWA inside ``optimizer`` (looking through LossScaleOptimizer)."""
    current = optimizer
    while current is not None:
        if isinstance(current, AveragedOptimizerWrapper):
            return current
        current = getattr(current, "inner_optimizer", None)
    raise ConfigError(
        "AverageModelCheckpoint needs a model compiled with kerazoo.optimizers.MovingAverage or "
        f"SWA. Received: optimizer={type(optimizer).__name__}"
    )


@register("callbacks", tfa="tfa.callbacks.AverageModelCheckpoint")
class AverageModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """A ``ModelCheckpoint`` that writes the averaged weights of a MovingAverage or SWA optimizer.

    With ``update_weights=True`` the averages are assigned to the model before saving (and stay:
    training continues from them, as tfa did). With ``False`` the model's own weights are put back
    after the file is written.

    Args:
        update_weights: keep the averaged weights in the model after saving.
        filepath: where to save, as for ``keras.callbacks.ModelCheckpoint``.
        **kwargs: the other ``ModelCheckpoint`` arguments (``monitor``, ``save_best_only``,
            ``save_weights_only``, ``save_freq`` ...).

    Example:

    >>> import os, tempfile, keras, numpy as np
    >>> from kerazoo.callbacks import AverageModelCheckpoint
    >>> from kerazoo.optimizers import MovingAverage
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(MovingAverage(keras.optimizers.SGD(0.1)), "mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "avg.weights.h5")
    >>> callback = AverageModelCheckpoint(False, path, save_weights_only=True)
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0, callbacks=[callback])
    >>> os.path.exists(path)
    True
    """

    def __init__(self, update_weights: bool, filepath: str, **kwargs: Any):
        super().__init__(filepath, **kwargs)
        self.update_weights = update_weights
        self._checkpoint_kwargs = dict(kwargs)

    def _save_model(self, epoch, batch, logs):
        averaging = find_averaging_optimizer(self.model.optimizer)
        variables = list(averaging._trainable_variables)
        current = [keras.ops.copy(v.value) for v in variables]
        averaging.assign_average_vars(variables)
        try:
            super()._save_model(epoch, batch, logs)
        finally:
            if not self.update_weights:
                for variable, value in zip(variables, current):
                    variable.assign(value)

    def get_config(self) -> dict:
        return {"update_weights": self.update_weights, "filepath": self.filepath,
                **self._checkpoint_kwargs}
