"""ThroughputLogger: examples per second and step time, in the logs and in TensorBoard."""

from __future__ import annotations

import time
import warnings

import keras

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("callbacks")
class ThroughputLogger(keras.callbacks.Callback):
    """Adds ``examples_per_second`` and ``step_time`` (seconds) to each epoch's logs.

    Step times are measured between ``on_train_batch_begin`` and ``on_train_batch_end`` (with
    ``steps_per_execution > 1`` one "batch" is several steps: give the examples of one call as
    ``batch_size``). The first ``skip_steps`` of training (tracing, compilation) are left out.
    With ``log_dir`` the numbers also go to TensorBoard through ``tf.summary`` when TensorFlow is
    installed; without TensorFlow that part is skipped with one warning and the logs still carry
    the numbers.

    Args:
        batch_size: examples per training batch.
        log_dir: TensorBoard directory. Defaults to ``None`` (logs only).
        skip_steps: warm-up steps excluded from the timing. Defaults to ``1``.
        log_every_n_steps: also write per-step values to TensorBoard this often; ``0`` writes
            epoch values only. Defaults to ``0``.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.callbacks import ThroughputLogger
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> history = model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=2, epochs=2, verbose=0,
    ...                     callbacks=[ThroughputLogger(batch_size=2)])
    >>> history.history["examples_per_second"][-1] > 0
    True
    """

    def __init__(self, batch_size: int, log_dir: str | None = None, skip_steps: int = 1,
                 log_every_n_steps: int = 0):
        super().__init__()
        if int(batch_size) < 1:
            raise ConfigError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
        self.batch_size = int(batch_size)
        self.log_dir = log_dir
        self.skip_steps = int(skip_steps)
        self.log_every_n_steps = int(log_every_n_steps)
        self._writer = None
        self._step = 0

    def _summary_writer(self):
        if self.log_dir is None:
            return None
        if self._writer is None:
            try:
                import tensorflow as tf
            except ImportError:
                warnings.warn("ThroughputLogger: TensorFlow is not installed, so nothing is "
                              "written to TensorBoard; the numbers are still in the logs.",
                              stacklevel=2)
                self.log_dir = None
                return None
            self._tf = tf
            self._writer = tf.summary.create_file_writer(self.log_dir)
        return self._writer

    def _write(self, tag_values: dict, step: int) -> None:
        writer = self._summary_writer()
        if writer is None:
            return
        tf = self._tf
        # tf.summary.write with the "scalars" plugin tag is what tf.summary.scalar does, minus
        # the dependency on the tensorboard package.
        metadata = tf.compat.v1.SummaryMetadata(
            plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))
        with writer.as_default():
            for tag, value in tag_values.items():
                tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step,
                                 metadata=metadata)
        writer.flush()

    def on_train_begin(self, logs=None):
        self._step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._times = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        elapsed = time.perf_counter() - self._start
        self._step += 1
        if self._step <= self.skip_steps:
            return
        self._times.append(elapsed)
        if self.log_every_n_steps and self._step % self.log_every_n_steps == 0:
            self._write({"batch_step_time": elapsed,
                         "batch_examples_per_second": self.batch_size / max(elapsed, 1e-12)},
                        self._step)

    def on_epoch_end(self, epoch, logs=None):
        if not self._times or logs is None:
            return
        step_time = sum(self._times) / len(self._times)
        logs["step_time"] = step_time
        logs["examples_per_second"] = self.batch_size / max(step_time, 1e-12)
        self._write({"step_time": step_time, "examples_per_second": logs["examples_per_second"]},
                    epoch)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def get_config(self) -> dict:
        return {"batch_size": self.batch_size, "log_dir": self.log_dir,
                "skip_steps": self.skip_steps, "log_every_n_steps": self.log_every_n_steps}
