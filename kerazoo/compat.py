"""Every private Keras / TensorFlow call kerazoo makes, in one place, each with why no public API serves.

When Keras or TensorFlow moves one of these, this is the only file to fix. Imports happen inside
the functions: importing this module imports neither Keras nor TensorFlow.

Callers (keep this list current): ``recipes/trainer.py`` (``flatten_layers``,
``disable_op_determinism``, ``scalar_summary``); ``layers/optimizers/_averaging.py``
(``flatten_layers``); ``layers/optimizers/_fused.py`` and ``layers/optimizers/_wrapper.py``
(``maybe_merge_call``, ``in_stateless_scope``); ``layers/optimizers/sam_model.py``
(``unscale_loss_for_distribution``); ``zoo/text.py`` (``text_vectorization_idf_weights``);
``recipes/data.py`` (``shuffle_seeded_by_tensor``).

Example:

>>> import keras
>>> from kerazoo import compat
>>> inner = keras.Sequential([keras.layers.Dense(2), keras.layers.BatchNormalization()])
>>> outer = keras.Sequential([keras.Input((3,)), inner])
>>> sorted(type(layer).__name__ for layer in compat.flatten_layers(outer, include_self=False)
...        if not isinstance(layer, keras.layers.InputLayer))
['BatchNormalization', 'Dense', 'Sequential']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def flatten_layers(model, include_self: bool = True) -> Iterator[Any]:
    """Every layer inside ``model``, nested models included, depth first.

    Why private: ``Model.layers`` lists one level only and Keras 3 has no public recursive walk;
    ``Layer._flatten_layers`` is what Keras's own ``summary`` and saving use.
    """
    return model._flatten_layers(include_self=include_self)


def disable_op_determinism() -> None:
    """Undo ``tf.config.experimental.enable_op_determinism()`` (it is process-wide).

    Why private: TensorFlow exports only the ``enable_`` half; a second run in the same process
    (tests, notebooks) with ``runtime.deterministic=false`` needs the other.
    """
    from tensorflow.python.framework import config as tf_config

    tf_config.disable_op_determinism()


def scalar_summary(tag: str, value: float) -> None:
    """A TensorBoard scalar in the current default ``tf.summary`` writer.

    Why private: ``tf.summary.scalar`` imports the ``tensorboard`` package, which kerazoo does not
    require; the generic ``tf.summary.write`` needs the scalars plugin's ``SummaryMetadata``
    proto, which TensorFlow ships only under ``tensorflow.core``.
    """
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    tf.summary.write(tag, tf.constant(float(value), tf.float32), metadata=metadata)


def maybe_merge_call(fn: Callable, strategy, *args) -> Any:
    """Run ``fn(strategy, *args)`` in cross-replica context (or directly without a strategy).

    Why private: optimizer updates inside ``strategy.run`` must reach ``extended.update`` per
    replica; the public ``merge_call`` fails outside a replica context, and Keras's own
    TensorFlow optimizer goes through this same ``tf.__internal__`` helper.
    """
    import tensorflow as tf

    return tf.__internal__.distribute.interim.maybe_merge_call(fn, strategy, *args)


def in_stateless_scope() -> bool:
    """True inside a Keras ``StatelessScope`` (where variables must not be written).

    Why private: Keras exports ``StatelessScope`` but not the query; fused kernels that write
    variables in place need it to fall back to the stateless path.
    """
    from keras.src.backend.common.stateless_scope import in_stateless_scope as query

    return query()


def unscale_loss_for_distribution(loss):
    """Keras's loss rescaling undone for logging under a distribution strategy.

    Why private: ``Model.train_step`` subclasses that log the loss as Keras does need the same
    correction Keras applies; it lives in ``keras.src.losses.loss`` only.
    """
    from keras.src.losses import loss as loss_module

    return loss_module.unscale_loss_for_distribution(loss)


def text_vectorization_idf_weights(layer):
    """The IDF weights a ``TextVectorization(output_mode="tf_idf")`` learned in ``adapt``, one per
    vocabulary entry (the OOV token first), as a NumPy array.

    Why private: Keras exposes ``get_vocabulary()`` but not the IDF weights; passing both back as
    ``vocabulary=`` / ``idf_weights=`` puts them in the layer's config, which presets need.
    """
    import numpy as np

    return np.asarray(layer._lookup_layer.idf_weights)


def shuffle_seeded_by_tensor(dataset, buffer_size: int, seed):
    """``dataset.shuffle(buffer_size, seed=seed, reshuffle_each_iteration=False)`` for a traced
    int64 ``seed``, inside a ``tf.data`` function, in the order ``seed`` alone fixes.

    Why private: ``tf.data`` combines an op seed with the graph's (global) seed in Python and,
    when the global seed is 0, compares the traced pair with ``(0, 0)`` (``Tensor.__bool__``
    error). The function's graph seed is cleared while the op is built: the order then depends
    on ``seed`` only, never on ``tf.random.set_seed``.
    """
    import tensorflow as tf

    graph = tf.compat.v1.get_default_graph()
    global_seed, graph.seed = graph.seed, None
    try:
        return dataset.shuffle(buffer_size, seed=seed, reshuffle_each_iteration=False)
    finally:
        graph.seed = global_seed
