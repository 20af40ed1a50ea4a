"""LearningRateFinder: the learning-rate range test, with a plot and a suggested rate."""

from __future__ import annotations

import math
import os
import tempfile

import keras
import numpy as np

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("callbacks")
class LearningRateFinder(keras.callbacks.Callback):
    """Sweep the learning rate exponentially from ``start_lr`` to ``end_lr`` over ``num_steps``.

    Each batch trains at the next rate; the (exponentially smoothed) batch loss is recorded and the
    run stops early once it exceeds ``stop_factor`` times its best value. Afterwards
    ``suggested_learning_rate`` is the rate where the smoothed loss fell fastest (the steepest
    negative slope against ``log(lr)``), and with ``plot_path`` a PNG of loss against rate is
    written (matplotlib is imported only then; the file appears atomically). With
    ``restore_weights=True`` the model and optimizer state are put back when the test ends, so
    the same model can then be trained for real. The optimizer needs a float learning rate.

    Args:
        start_lr: first rate. Defaults to ``1e-7``.
        end_lr: last rate. Defaults to ``10.0``.
        num_steps: batches in the sweep. Defaults to ``100``.
        smoothing: loss smoothing factor in [0, 1). Defaults to ``0.98``.
        stop_factor: stop when the smoothed loss exceeds this times the best. Defaults to ``4.0``.
        plot_path: PNG to write, or ``None``. Defaults to ``None``.
        restore_weights: restore model and optimizer state at the end. Defaults to ``True``.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.callbacks import LearningRateFinder
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(), "mse")
    >>> finder = LearningRateFinder(1e-4, 1.0, num_steps=20)
    >>> x = np.random.RandomState(0).normal(size=(80, 2)).astype("float32")
    >>> _ = model.fit(x, x.sum(1, keepdims=True), batch_size=4, verbose=0, callbacks=[finder])
    >>> 1e-4 <= finder.suggested_learning_rate <= 1.0
    True

    Reference: Smith, "Cyclical Learning Rates for Training Neural Networks", 2017, section 3.3.
    """

    def __init__(self, start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
                 smoothing: float = 0.98, stop_factor: float = 4.0, plot_path: str | None = None,
                 restore_weights: bool = True):
        super().__init__()
        if not 0 < start_lr < end_lr:
            raise ConfigError(f"Need 0 < start_lr < end_lr. Received: start_lr={start_lr}, "
                              f"end_lr={end_lr}")
        if int(num_steps) < 2:
            raise ConfigError(f"num_steps must be >= 2. Received: num_steps={num_steps}")
        if not 0 <= smoothing < 1:
            raise ConfigError(f"smoothing must be in [0, 1). Received: smoothing={smoothing}")
        self.start_lr = start_lr
        self.end_lr = end_lr
        self.num_steps = int(num_steps)
        self.smoothing = smoothing
        self.stop_factor = stop_factor
        self.plot_path = plot_path
        self.restore_weights = restore_weights
        self.learning_rates: list[float] = []
        self.losses: list[float] = []
        self.suggested_learning_rate: float | None = None

    def _rate(self, step: int) -> float:
        return self.start_lr * (self.end_lr / self.start_lr) ** (step / (self.num_steps - 1))

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        if not isinstance(getattr(optimizer, "_learning_rate", None), keras.Variable) and not \
                hasattr(optimizer, "inner_optimizer"):
            raise ConfigError("LearningRateFinder needs an optimizer with a float learning rate, "
                              "not a schedule.")
        self._saved_lr = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        if self.restore_weights:
            self._saved_weights = [np.array(w) for w in self.model.get_weights()]
            self._saved_optimizer = ([keras.ops.convert_to_numpy(v) for v in optimizer.variables]
                                     if optimizer.built else None)
        self.learning_rates, self.losses = [], []
        self._step, self._average, self._best = 0, 0.0, math.inf

    def on_epoch_begin(self, epoch, logs=None):
        self._seen, self._running = 0, 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self._rate(self._step)

    def on_train_batch_end(self, batch, logs=None):
        # Keras logs the mean loss of the epoch so far: recover this batch's loss from it.
        mean = float((logs or {}).get("loss", math.nan))
        loss = mean * (self._seen + 1) - self._running * self._seen
        self._seen, self._running = self._seen + 1, mean
        self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        smoothed = self._average / (1 - self.smoothing ** (self._step + 1))
        self.learning_rates.append(self._rate(self._step))
        self.losses.append(smoothed)
        self._step += 1
        self._best = min(self._best, smoothed)
        if (self._step >= self.num_steps or not math.isfinite(smoothed)
                or smoothed > self.stop_factor * self._best):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.suggested_learning_rate = self._suggest()
        optimizer = self.model.optimizer
        if self.restore_weights:
            self.model.set_weights(self._saved_weights)
            if self._saved_optimizer is not None:
                for variable, value in zip(optimizer.variables, self._saved_optimizer):
                    variable.assign(value)
            elif optimizer.built:
                for variable in optimizer.variables:
                    variable.assign(keras.ops.zeros_like(variable))
        optimizer.learning_rate = self._saved_lr
        if self.plot_path:
            self.plot(self.plot_path)

    def _suggest(self) -> float | None:
        finite = [(lr, loss) for lr, loss in zip(self.learning_rates, self.losses)
                  if math.isfinite(loss)]
        if len(finite) < 3:
            return finite[0][0] if finite else None
        rates = np.array([lr for lr, _ in finite])
        slope = np.gradient(np.array([loss for _, loss in finite]), np.log(rates))
        return float(rates[int(np.argmin(slope))])

    def plot(self, path: str) -> str:
        """Write loss against learning rate (log scale) to ``path`` as PNG; returns ``path``."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(6, 4))
        axis.plot(self.learning_rates, self.losses)
        axis.set_xscale("log")
        axis.set_xlabel("learning rate")
        axis.set_ylabel("smoothed loss")
        if self.suggested_learning_rate:
            axis.axvline(self.suggested_learning_rate, color="tab:red", linestyle="--",
                         label=f"suggested {self.suggested_learning_rate:.2e}")
            axis.legend()
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(suffix=".png", dir=directory)
        os.close(handle)
        try:
            figure.savefig(temporary, format="png", dpi=100)
            os.replace(temporary, path)
        finally:
            plt.close(figure)
            if os.path.exists(temporary):
                os.remove(temporary)
        return path

    def get_config(self) -> dict:
        return {"start_lr": self.start_lr, "end_lr": self.end_lr, "num_steps": self.num_steps,
                "smoothing": self.smoothing, "stop_factor": self.stop_factor,
                "plot_path": self.plot_path, "restore_weights": self.restore_weights}
