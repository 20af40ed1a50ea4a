"""TimeStopping: stop training once a wall-clock budget is spent."""

from __future__ import annotations

import time

import keras

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("callbacks", tfa="tfa.callbacks.TimeStopping")
class TimeStopping(keras.callbacks.Callback):
    """Stop ``model.fit`` at the end of the first epoch that ends after ``seconds`` of training.

    As ``tfa.callbacks.TimeStopping``: the check runs at epoch ends, so an epoch is never cut.

    Args:
        seconds: training-time budget. Defaults to ``86400`` (one day).
        verbose: print when training was stopped. Defaults to ``0``.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.callbacks import TimeStopping
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> stopper = TimeStopping(seconds=0)
    >>> history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=5, verbose=0,
    ...                     callbacks=[stopper])
    >>> len(history.history["loss"]), stopper.stopped_epoch
    (1, 0)
    """

    def __init__(self, seconds: float = 86400, verbose: int = 0):
        super().__init__()
        if seconds < 0:
            raise ConfigError(f"seconds must be >= 0. Received: seconds={seconds}")
        self.seconds = seconds
        self.verbose = verbose
        self.stopped_epoch: int | None = None
        self._deadline = None

    def on_train_begin(self, logs=None):
        self._deadline = time.monotonic() + self.seconds
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() >= self._deadline:
            self.model.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            print(f"Timed stopping at epoch {self.stopped_epoch + 1} after {self.seconds} s.")

    def get_config(self) -> dict:
        return {"seconds": self.seconds, "verbose": self.verbose}
