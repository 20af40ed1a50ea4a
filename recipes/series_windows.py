"""Forecast windows as a ``tf.data`` pipeline: slices of one constant tensor by window start.

The series (all of them, concatenated) are held once as a ``[rows, features]`` tensor; a window
is ``(values[s : s + lookback], values[s + lookback : s + lookback + horizon, :targets])`` for a
start ``s``. :func:`batched_windows` permutes the window *starts* with one stateless shuffle per
epoch (seeded by ``(seed, epoch)``, as ``make_pipeline`` seeds its shuffle), cuts them into
per-replica batches, skips/takes/shards whole batches exactly like ``make_pipeline`` (so resume
and every replica layout see the same batches) and gathers each batch of windows with one
vectorized ``tf.gather``: no per-window ``tf.data`` element at all, and never the
``lookback``-times larger matrix of all windows in memory. :func:`window_dataset` gives the same
windows unbatched, in start order. With ``timestamps`` (epoch seconds of every row, float64), a
window's input is the pair ``(window, its lookback timestamps)``, for a model that computes
calendar features inside (``kerazoo.layers.CalendarFeatures``).

Example:

>>> import numpy as np
>>> from kerazoo.recipes.series_windows import window_dataset
>>> values = np.arange(20, dtype="float32").reshape(10, 2)
>>> x, y = next(iter(window_dataset(values, np.array([3]), lookback=4, horizon=2, targets=1)))
>>> x.numpy()[:, 0].tolist(), y.numpy()[:, 0].tolist()
([6.0, 8.0, 10.0, 12.0], [14.0, 16.0])
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

CHUNK = 1024


def window_dataset(values: np.ndarray, starts: np.ndarray, *, lookback: int, horizon: int,
                   targets: int, timestamps: np.ndarray | None = None) -> tf.data.Dataset:
    """Unbatched ``(window [lookback, features], target [horizon, targets])`` in start order.

    Args:
        values: float32 ``[rows, features]``, every series one after another.
        starts: int64 window starts (rows); a window must not cross two series (the caller
            chooses the starts).
        lookback: input steps.
        horizon: target steps.
        targets: the first ``targets`` features are forecast.
        timestamps: optional ``[rows]`` epoch seconds; the input becomes ``(window,
            timestamps [lookback] float64)``.
    """
    gather = gather_windows(values, lookback=lookback, horizon=horizon, targets=targets,
                            timestamps=timestamps)
    return (tf.data.Dataset.from_tensor_slices(np.asarray(starts, np.int64))
            .batch(CHUNK).map(gather).unbatch())


def gather_windows(values: np.ndarray, *, lookback: int, horizon: int, targets: int,
                   timestamps: np.ndarray | None = None):
    """A ``tf.data`` map function ``starts [batch] (, anything) -> (windows, targets)``
    (``((windows, window timestamps), targets)`` with ``timestamps``)."""
    constant = tf.constant(values, tf.float32)
    offsets = tf.range(lookback + horizon, dtype=tf.int64)
    stamps = None if timestamps is None else tf.constant(np.asarray(timestamps, np.float64))

    def gather(starts, *_):
        blocks = tf.gather(constant, starts[:, None] + offsets[None])
        if stamps is None:
            return blocks[:, :lookback], blocks[:, lookback:, :targets]
        window_stamps = tf.gather(stamps, starts[:, None] + offsets[None, :lookback])
        return (blocks[:, :lookback], window_stamps), blocks[:, lookback:, :targets]

    return gather


def batched_windows(values: np.ndarray, starts: np.ndarray, *, lookback: int, horizon: int,
                    targets: int, per_replica_batch: int, training: bool, seed: int = 0,
                    epoch: int = 0, epochs: int = 1,
                    input_context: tf.distribute.InputContext | None = None,
                    skip_global_steps: int = 0, take_global_steps: int | None = None,
                    timestamps: np.ndarray | None = None) -> tf.data.Dataset:
    """Per-replica batches of windows for training epochs or one evaluation pass.

    Training permutes all starts (a full shuffle, not a buffer) once per epoch and drops the last
    partial batch; evaluation keeps start order and every window. The other arguments mean what
    they mean for :func:`kerazoo.recipes.data.make_pipeline` (``epochs``: several epochs in one
    dataset, each cut to ``take_global_steps``); ``timestamps`` as in :func:`window_dataset`.
    """
    from kerazoo.recipes.data import epoch_seed

    if epochs < 1 or (epochs > 1 and (not training or take_global_steps is None)):
        raise ValueError(
            f"epochs={epochs}: several epochs in one pipeline need training=True and "
            "take_global_steps (so that every epoch has the same number of batches).")
    starts = np.asarray(starts, np.int64)
    replicas = input_context.num_replicas_in_sync if input_context else 1
    take = None if take_global_steps is None else take_global_steps * replicas
    if training:
        count = len(starts) // per_replica_batch * per_replica_batch
        # Window starts only (a few int64 per window): every epoch's order fits in memory.
        chunks = np.concatenate([
            starts[np.random.default_rng(epoch_seed(seed, number)).permutation(len(starts))]
            [:count].reshape(-1, per_replica_batch)[:take]
            for number in range(epoch, epoch + epochs)])
        dataset = tf.data.Dataset.from_tensor_slices(chunks)
    else:
        dataset = tf.data.Dataset.from_tensor_slices(starts).batch(per_replica_batch)
        if take is not None:
            dataset = dataset.take(take)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    dataset = dataset.with_options(options)
    if skip_global_steps:
        dataset = dataset.skip(skip_global_steps * replicas)
    if input_context is not None and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    gather = gather_windows(values, lookback=lookback, horizon=horizon, targets=targets,
                            timestamps=timestamps)
    return dataset.map(gather).prefetch(tf.data.AUTOTUNE)
