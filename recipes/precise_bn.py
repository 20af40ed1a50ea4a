"""Precise BatchNorm: moving statistics recomputed with the current weights.

A BatchNormalization layer normalizes a training batch with that batch's mean and variance, and
keeps an exponential moving average of them (momentum 0.99) for inference. On a short run the
average still remembers the statistics of the first, long-gone weights: a 2-epoch digits run
trained to 0.91 accuracy scored 0.156 at test time. Precise BN (Wu & Johnson, "Rethinking 'Batch'
in BatchNorm", 2021; pycls and Detectron2 do it before every evaluation) throws the average away
and replaces it with the statistics the frozen current weights produce on a fixed set of
training batches. The batches are concatenated into groups of up to ``GROUP_EXAMPLES`` examples
(8 batches of 32) and each group is one training-mode forward pass; the statistics are the
average over groups of each group's mean and (biased) variance. A group's statistics estimate the
population's better than one small batch's, and one pass over 8 batches costs half of 8 passes.

Under ``tf.distribute`` each replica normalizes with the statistics of its own examples, and a
replica writes its moving statistics locally; the per-replica statistics are therefore averaged
across replicas (as the trainer does every step), then over groups.

TensorFlow backend only (the recipes' trainer is TensorFlow).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kerazoo import compat
from kerazoo.errors import ConfigError, DataError

# pycls's default (``BN.NUM_SAMPLES_PRECISE = 8192`` images) at batch 64: 128 batches. The
# statistics of a small CNN settle well before that (see benchmarks: 32 batches on digits).
DEFAULT_NUM_BATCHES = 32
#: Examples (per replica) per forward pass: batches are concatenated up to this many. One pass
#: over 8 batches of 32 cost half of 8 passes (digits CNN on CPU); the cap keeps the activations
#: of a large model on large images within a few training batches' memory.
GROUP_EXAMPLES = 256


def batchnorm_layers(model) -> list:
    """The BatchNormalization layers whose statistics training updates.

    Frozen layers (``trainable=False``, e.g. a frozen pretrained backbone) normalize with their
    moving statistics even in training mode and keep them; renormalization layers
    (``renorm=True``) use their own correction statistics. Both are left alone.
    """
    import keras

    return [
        layer for layer in compat.flatten_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
        and layer.trainable and not layer.renorm and layer.built
    ]


class PreciseBatchNorm:
    """Recomputes a model's BatchNorm moving statistics over training batches.

    Build one per model and call :meth:`update` before each evaluation; the traced step is reused
    between calls (one trace per input signature). Nothing but the moving means and variances
    changes: other non-trainable state the forward pass touches (dropout seed generators) is put
    back, so a resumed run draws the same random numbers as an uninterrupted one.

    Args:
        model: a built Keras model (TensorFlow backend).
        strategy: the ``tf.distribute.Strategy`` the model's variables live under, or ``None``
            for the default strategy. Batches passed to :meth:`update` must then be distributed
            (elements of ``strategy.distribute_datasets_from_function(...)`` or
            ``strategy.experimental_distribute_dataset(...)``).

    Example:

    >>> import numpy as np, keras, tensorflow as tf
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])
    >>> x = np.arange(24, dtype="float32").reshape(8, 3)
    >>> batches = tf.data.Dataset.from_tensor_slices(x).batch(4)
    >>> PreciseBatchNorm(model).update(batches, num_batches=2)
    2
    >>> np.round(keras.ops.convert_to_numpy(model.layers[0].moving_mean), 2).tolist()
    [10.5, 11.5, 12.5]
    """

    def __init__(self, model, strategy=None):
        import tensorflow as tf

        self.model = model
        self.strategy = strategy or tf.distribute.get_strategy()
        self.layers = batchnorm_layers(model)
        self._statistics = [v for layer in self.layers
                            for v in (layer.moving_mean, layer.moving_variance)]
        ids = {id(v) for v in self._statistics}
        # Everything else a training-mode forward pass may write (seed generator states).
        self._other_state = [v for v in model.non_trainable_variables if id(v) not in ids]
        self._step = None
        self.group_examples = GROUP_EXAMPLES

    def _make_step(self):
        import tensorflow as tf

        model, strategy, statistics = self.model, self.strategy, self._statistics

        def replica_fn(*batches):
            parts = [b[0] if isinstance(b, (tuple, list)) else b for b in batches]
            # One forward pass over the group: its statistics are those of all its examples.
            features = tf.nest.map_structure(lambda *xs: tf.concat(xs, axis=0), *parts)
            model(features, training=True)
            # With momentum 0 the layer's "moving" statistics are this replica's batch statistics.
            return tuple(tf.convert_to_tensor(v) for v in statistics)

        @tf.function
        def step(group):
            local = strategy.run(replica_fn, args=tuple(group))
            return tuple(strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                         for value in local)

        return step

    @staticmethod
    def _groups(batches: list, examples: int) -> list[tuple]:
        """``batches`` in consecutive groups of at most ``examples`` examples (at least one batch
        each): one forward pass per group instead of one per batch."""
        import tensorflow as tf

        first = batches[0][0] if isinstance(batches[0], (tuple, list)) else batches[0]
        leaf = tf.nest.flatten(first)[0]  # features may be a tuple or dict of tensors
        leaf = getattr(leaf, "values", (leaf,))[0]  # one replica's part of a distributed batch
        rows = int(leaf.shape[0] or 1)
        size = max(1, examples // rows)
        return [tuple(batches[i : i + size]) for i in range(0, len(batches), size)]

    def update(self, batches: Iterable[Any], num_batches: int = DEFAULT_NUM_BATCHES) -> int:
        """Set every moving mean/variance to its value over the next ``num_batches`` batches
        (one forward pass per group of up to ``group_examples`` examples, groups averaged,
        weighted by their batches).

        Args:
            batches: an iterable or iterator of ``features`` or ``(features, labels, ...)``
                batches (distributed ones under a strategy). Only ``num_batches`` are drawn from
                it; fewer is fine, none is an error.
            num_batches: how many batches to average over. Defaults to
                ``DEFAULT_NUM_BATCHES``.

        Returns:
            The number of batches averaged (0 when the model has no trainable BatchNorm layer,
            in which case nothing is drawn from ``batches``).
        """
        import tensorflow as tf

        if num_batches < 1:
            raise ConfigError(f"num_batches must be a positive integer. Received: {num_batches}")
        if not self.layers:
            return 0
        if self._step is None:
            self._step = self._make_step()
        saved_state = [tf.identity(v) for v in self._other_state]
        momenta = [layer.momentum for layer in self.layers]
        sums = None
        used = 0
        try:
            for layer in self.layers:
                layer.momentum = 0.0  # read when the step is traced: no effect on other graphs
            iterator, drawn = iter(batches), []
            for _ in range(num_batches):
                try:
                    drawn.append(next(iterator))
                except (StopIteration, tf.errors.OutOfRangeError):
                    break
            for group in self._groups(drawn, self.group_examples) if drawn else ():
                values = self._step(group)
                # Weighted by the group's batches; float64 sums stay exact enough.
                values = [tf.cast(value, tf.float64) * len(group) for value in values]
                sums = values if sums is None else [a + b for a, b in zip(sums, values)]
                used += len(group)
        finally:
            for layer, momentum in zip(self.layers, momenta):
                layer.momentum = momentum
            for variable, value in zip(self._other_state, saved_state):
                variable.assign(value)
        if not used:
            raise DataError("Precise BatchNorm: the training batches are empty.")
        for variable, total in zip(self._statistics, sums):
            variable.assign(tf.cast(total / used, variable.dtype))
        return used


def recompute_batchnorm_statistics(model, batches: Iterable[Any], *,
                                   num_batches: int = DEFAULT_NUM_BATCHES,
                                   strategy=None) -> int:
    """One-shot :class:`PreciseBatchNorm` ``(model, strategy).update(batches, num_batches)``."""
    return PreciseBatchNorm(model, strategy).update(batches, num_batches)
