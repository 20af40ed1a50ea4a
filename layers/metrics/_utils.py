"""Shared pieces of the kerazoo metrics: weighted counting with sum-mergeable results.

Every metric here keeps its state as sums (counts, histograms, totals) so replicas under a
``tf.distribute`` strategy merge by addition, which Keras does for variables created with
``aggregation="sum"``. Counting goes through ``ops.segment_sum`` with a static number of segments:
unlike ``bincount`` it has a static output shape, so it compiles under XLA and ``jax.jit``.
"""

from __future__ import annotations

import keras
from keras import ops


def flat_weights(sample_weight, like):
    """Per-element float32 weights shaped like the flat int tensor ``like``."""
    ones = ops.ones_like(like, dtype="float32")
    if sample_weight is None:
        return ones
    weight = ops.cast(sample_weight, "float32")
    if len(weight.shape) == 0:
        return ones * weight
    return ops.reshape(weight, (-1,))


def weighted_counts(index, num_bins: int, weights, in_range: bool = False):
    """``counts[b] = sum(weights[index == b])``; out-of-range indices count nowhere.

    ``in_range=True`` skips the range mask for callers that already zeroed those weights.
    """
    index = ops.cast(index, "int32")
    if not in_range:
        valid = ops.logical_and(index >= 0, index < num_bins)
        weights = ops.where(valid, weights, ops.zeros_like(weights))
    index = ops.clip(index, 0, num_bins - 1)
    return ops.segment_sum(weights, index, num_segments=num_bins)


def confusion_counts(labels, predictions, num_classes: int, sample_weight=None):
    """``(num_classes, num_classes)`` float32 matrix, rows = true class, columns = predicted.

    Pairs with a label or prediction outside ``[0, num_classes)`` are not counted.
    """
    labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
    predictions = ops.reshape(ops.cast(predictions, "int32"), (-1,))
    in_range = ops.logical_and(
        ops.logical_and(labels >= 0, labels < num_classes),
        ops.logical_and(predictions >= 0, predictions < num_classes),
    )
    weights = ops.cast(in_range, "float32")
    if sample_weight is not None:
        weights = weights * flat_weights(sample_weight, labels)
    index = labels * num_classes + predictions
    counts = weighted_counts(index, num_classes**2, weights, in_range=True)
    return ops.reshape(counts, (num_classes, num_classes))


def check_num_classes(num_classes, minimum: int = 2) -> int:
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < minimum:
        raise ValueError(
            f"`num_classes` must be an integer >= {minimum}. Received: num_classes={num_classes}"
        )
    return int(num_classes)


def class_ids(scores):
    """Index of the largest score along the last axis, ties to the lowest index (as tf.argmax)."""
    if keras.backend.backend() == "tensorflow":
        # Keras's TensorFlow argmax adds four element-wise passes to order -0.0 below 0.0; for
        # class scores that only costs time (tfa used the plain argmax), and top_k(1) has the
        # plain argmax's tie rule.
        return ops.top_k(scores, k=1)[1][..., 0]
    return ops.argmax(scores, axis=-1)
