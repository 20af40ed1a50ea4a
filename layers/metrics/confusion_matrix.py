"""Streaming multi-class confusion matrix, and a helper that draws one to a PNG file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from kerazoo.metrics._utils import check_num_classes, class_ids, confusion_counts
from kerazoo.registry import register

_NORMALIZE = (None, "true", "pred", "all")


@register("metrics")
class ConfusionMatrix(keras.metrics.Metric):
    """Confusion matrix ``C[i, j]``: (weighted) count of true class ``i`` predicted as ``j``.

    ``result()`` returns the whole ``(num_classes, num_classes)`` matrix, optionally normalized
    like scikit-learn's ``confusion_matrix``: ``"true"`` divides each row by its sum (recall on the
    diagonal), ``"pred"`` each column (precision), ``"all"`` by the total; an empty row/column
    stays 0. Pairs with a class id outside ``[0, num_classes)`` are not counted. Use
    :func:`plot_confusion_matrix` to save it as an image. The matrix is the state, summed across
    replicas.

    Inputs: ``y_true`` holds class ids (or one-hot rows with ``sparse_labels=False``); ``y_pred``
    holds class scores ``(..., num_classes)`` reduced by ``argmax``, or class ids when its
    shape is not ``(..., num_classes)``.

    Args:
        num_classes: number of classes (>= 2).
        normalize: ``None``, ``"true"``, ``"pred"`` or ``"all"``. Defaults to ``None``.
        sparse_labels: ``y_true`` holds class ids rather than one-hot rows. Defaults to ``True``.
        name: metric name. Defaults to ``"confusion_matrix"``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = ConfusionMatrix(num_classes=3)
    >>> metric.update_state([0, 1, 2, 2], [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1],
    ...                                    [0.1, 0.6, 0.3], [0.0, 0.1, 0.9]])
    >>> keras.ops.convert_to_numpy(metric.result()).astype(int).tolist()
    [[1, 0, 0], [0, 1, 0], [0, 1, 1]]

    Reference:
        Stehman, "Selecting and interpreting measures of thematic classification accuracy",
        Remote Sensing of Environment, 1997; ``sklearn.metrics.confusion_matrix``.
    """

    def __init__(
        self,
        num_classes: int,
        normalize: str | None = None,
        sparse_labels: bool = True,
        name: str = "confusion_matrix",
        dtype: str | None = None,
    ):
        super().__init__(name=name, dtype=dtype)
        if normalize not in _NORMALIZE:
            raise ValueError(
                f"`normalize` must be one of {_NORMALIZE}. Received: normalize={normalize!r}"
            )
        self.num_classes = check_num_classes(num_classes)
        self.normalize = normalize
        self.sparse_labels = sparse_labels
        self.matrix = self.add_variable(
            shape=(self.num_classes, self.num_classes),
            initializer="zeros",
            dtype="float32",
            name="matrix",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if not self.sparse_labels:
            y_true = class_ids(y_true)
        if len(y_pred.shape) > len(y_true.shape) or (
            len(y_pred.shape) > 1 and y_pred.shape[-1] == self.num_classes
        ):
            y_pred = class_ids(y_pred)
        self.matrix.assign_add(confusion_counts(y_true, y_pred, self.num_classes, sample_weight))

    def result(self):
        matrix = ops.convert_to_tensor(self.matrix)
        if self.normalize == "true":
            matrix = ops.divide_no_nan(matrix, ops.sum(matrix, axis=1, keepdims=True))
        elif self.normalize == "pred":
            matrix = ops.divide_no_nan(matrix, ops.sum(matrix, axis=0, keepdims=True))
        elif self.normalize == "all":
            matrix = ops.divide_no_nan(matrix, ops.sum(matrix))
        return ops.cast(matrix, self.dtype)

    def reset_state(self):
        self.matrix.assign(ops.zeros(self.matrix.shape, self.matrix.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "normalize": self.normalize,
                "sparse_labels": self.sparse_labels,
            }
        )
        return config


def plot_confusion_matrix(
    matrix: Any,
    labels: Sequence[str] | None = None,
    path: str | os.PathLike = "confusion_matrix.png",
    title: str | None = None,
) -> str:
    """Draws a confusion matrix (rows: true, columns: predicted) as an annotated PNG heat map.

    Cells carry their values up to 20 classes; the recipes' confusion matrices use this plotter.

    matplotlib is imported here, not with kerazoo, and uses its non-interactive Agg canvas. The
    image is written to a temporary file in the target folder and then renamed over ``path``, so
    a reader never sees a half-written file.

    Args:
        matrix: square array-like, e.g. ``ConfusionMatrix(...).result()``.
        labels: one name per class. Defaults to ``None`` (class ids).
        path: the PNG file to write. Defaults to ``"confusion_matrix.png"``.
        title: figure title. Defaults to ``None``.

    Returns:
        The path written, as a string.

    Example:

    >>> import os, tempfile
    >>> out = plot_confusion_matrix([[5, 1], [2, 7]], ["no", "yes"],
    ...                             os.path.join(tempfile.mkdtemp(), "cm.png"))
    >>> open(out, "rb").read(4) == b"\\x89PNG"
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    values = np.asarray(keras.ops.convert_to_numpy(matrix), dtype=float)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(f"`matrix` must be square. Received: shape={values.shape}")
    classes = values.shape[0]
    names = [str(i) for i in range(classes)] if labels is None else [str(x) for x in labels]
    if len(names) != classes:
        raise ValueError(
            f"`labels` must name each of the {classes} classes. Received: {len(names)} labels"
        )
    size = max(4.0, 0.6 * classes + 2.0)
    figure = Figure(figsize=(size, size))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(values, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_xticks(range(classes), names, rotation=45, ha="right")
    axes.set_yticks(range(classes), names)
    axes.set_xlabel("Predicted")
    axes.set_ylabel("True")
    if title:
        axes.set_title(title)
    integral = np.allclose(values, np.round(values))
    middle = (values.max() + values.min()) / 2.0
    # Past 20 classes the numbers overlap and only the colours stay readable.
    for i in range(classes if classes <= 20 else 0):
        for j in range(classes):
            text = f"{values[i, j]:.0f}" if integral else f"{values[i, j]:.2f}"
            colour = "white" if values[i, j] > middle else "black"
            axes.text(j, i, text, ha="center", va="center", color=colour, fontsize=8)
    figure.tight_layout()
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".png", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            figure.savefig(stream, format="png", dpi=100)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path
