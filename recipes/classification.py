"""Losses shared by the classification recipes: cross-entropy with label smoothing, focal loss,
named Keras/kerazoo losses, and balanced class weights.

Example:

>>> import numpy as np
>>> from kerazoo.recipes.config import TrainConfig
>>> from kerazoo.recipes.classification import classification_loss
>>> loss = classification_loss(TrainConfig(class_weight="balanced"), 2, np.array([0, 0, 0, 1]))
>>> [round(float(v), 4) for v in loss(np.array([0, 1]), np.zeros((2, 2), "float32"))]
[0.4621, 1.3863]
"""

from __future__ import annotations

import numpy as np

FOCAL = ("focal", "categorical_focal_crossentropy")


def balanced_class_weights(labels: np.ndarray, classes: int) -> np.ndarray:
    """``N / (K * count_k)`` per class (scikit-learn's "balanced"); absent classes get 0."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=classes).astype("float64")
    weights = np.where(counts > 0, len(labels) / (classes * np.maximum(counts, 1)), 0.0)
    return weights.astype("float32")


def classification_loss(train, classes: int, train_labels: np.ndarray | None = None):
    """A per-example loss ``(int labels, logits) -> [batch]`` from a ``TrainConfig``.

    Args:
        train: the config's ``train`` section (``loss``, ``label_smoothing``, ``class_weight``).
        classes: number of classes.
        train_labels: the training split's labels, for ``class_weight="balanced"``.
    """
    import keras

    name, smoothing = train.loss, train.label_smoothing
    if name in FOCAL:
        loss = keras.losses.CategoricalFocalCrossentropy(
            from_logits=True, label_smoothing=smoothing, reduction=None
        )
        one_hot = True
    elif name in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        if smoothing:
            loss = keras.losses.CategoricalCrossentropy(
                from_logits=True, label_smoothing=smoothing, reduction=None
            )
            one_hot = True
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
            one_hot = False
    else:
        from kerazoo.recipes.trainer import resolve_named

        loss_class = resolve_named("losses", name)
        loss = loss_class(reduction=None) if isinstance(loss_class, type) else loss_class
        one_hot = True

    weights = None
    if train.class_weight == "balanced":
        weights = keras.ops.convert_to_tensor(balanced_class_weights(train_labels, classes))

    def per_example(labels, logits):
        targets = keras.ops.one_hot(labels, classes) if one_hot else labels
        values = loss(targets, logits)
        if weights is not None:
            values = values * keras.ops.take(weights, keras.ops.cast(labels, "int32"))
        return values

    return per_example


def task_loss(task):
    """:func:`classification_loss` for a prepared task; reads the training labels only when
    ``train.class_weight="balanced"`` needs their counts."""
    train_labels = None
    if task.config.train.class_weight == "balanced":
        train_labels = np.concatenate(
            [labels.numpy() for _, labels in task.data.splits["train"].batch(4096)]
        )
    return classification_loss(task.config.train, len(task.data.class_names), train_labels)
