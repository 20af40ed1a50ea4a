"""Classification reports from ``kerazoo.metrics`` (confusion matrix, equal error rate) and a
run's charts (``confusion_matrix.svg``, ``training_curves.svg``: :mod:`kerazoo.recipes.charts`).

Example:

>>> import numpy as np
>>> from kerazoo.recipes.evaluation import classification_report
>>> report = classification_report(np.array([0, 1, 1]), np.eye(2)[[0, 1, 0]], ["a", "b"])
>>> round(report["accuracy"], 4), report["recall/b"]
(0.6667, 0.5)
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int) -> np.ndarray:
    """Integer ``[classes, classes]`` counts (rows: true) from :class:`kerazoo.metrics.ConfusionMatrix`."""
    import keras

    from kerazoo.metrics import ConfusionMatrix

    metric = ConfusionMatrix(num_classes=max(classes, 2))
    metric.update_state(np.asarray(labels, "int64"), np.asarray(predictions, "int64"))
    matrix = np.rint(keras.ops.convert_to_numpy(metric.result())).astype(np.int64)
    return matrix[:classes, :classes]


def classification_report(
    labels: np.ndarray, probabilities: np.ndarray, class_names: list[str], run_dir=None
) -> dict[str, Any]:
    """Metric name -> value for predicted ``probabilities`` ``[N, K]`` against int ``labels``.

    Args:
        labels: true class ids ``[N]``.
        probabilities: class probabilities ``[N, K]``.
        class_names: names of the ``K`` classes.
        run_dir: where to draw ``confusion_matrix.svg``. Defaults to ``None`` (no chart).

    Returns:
        ``accuracy``, ``top_k_accuracy`` (k = 5, or K - 1 when fewer classes), ``loss``
        (cross-entropy), ``macro_precision``, ``macro_recall``, ``macro_f1``, ``precision/NAME``,
        ``recall/NAME``, ``num_examples`` and ``confusion_matrix`` (rows = true classes).
    """
    labels = np.asarray(labels, np.int64)
    classes = len(class_names)
    predictions = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predictions, classes)
    k = min(5, max(1, classes - 1))
    top_k = np.argsort(-probabilities, axis=1)[:, :k]
    report: dict[str, Any] = {
        "accuracy": float((predictions == labels).mean()),
        f"top_{k}_accuracy": float((top_k == labels[:, None]).any(axis=1).mean()),
        "loss": float(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1))
                      .mean()),
        "num_examples": int(len(labels)),
    }
    report.update(per_class_report(matrix, class_names))
    report["confusion_matrix"] = matrix.tolist()
    if run_dir is not None:
        write_confusion_matrix(matrix, class_names, Path(run_dir) / "confusion_matrix.svg")
    return report


UNDEFINED_POLICY = (
    "a per-class value whose denominator is 0 is null (scikit-learn's zero_division=np.nan): "
    "precision of a class never predicted, recall of a class with no examples, F1 = "
    "2TP / (2TP + FP + FN) of a class neither present nor predicted; macro averages are over "
    "the classes where the value is defined"
)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def per_class_report(matrix: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """Precision, recall and F1 per class and their macro averages from a confusion matrix,
    with undefined values as ``None`` (and why) rather than 0, which would drag the averages.

    Example:

    >>> import numpy as np
    >>> report = per_class_report(np.array([[3, 1, 0], [0, 2, 0], [0, 0, 0]]), ["a", "b", "c"])
    >>> report["recall/c"], report["macro_recall"], report["undefined"]["c"]
    (None, 0.875, 'no test examples and never predicted')
    """
    true_positive = np.diag(matrix).astype("float64")
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision, recall = _ratio(true_positive, predicted), _ratio(true_positive, actual)
    f1 = _ratio(2 * true_positive, predicted + actual)
    report: dict[str, Any] = {}
    for key, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        defined = values[~np.isnan(values)]
        report[f"macro_{key}"] = float(defined.mean()) if len(defined) else None
    undefined = {}
    for index, name in enumerate(class_names):
        for key, values in (("precision", precision), ("recall", recall)):
            value = values[index]
            report[f"{key}/{name}"] = None if np.isnan(value) else float(value)
        reasons = [text for text, missing in (("no test examples", actual[index] == 0),
                                              ("never predicted", predicted[index] == 0))
                   if missing]
        if reasons:
            undefined[name] = " and ".join(reasons)
    if undefined:
        report["undefined"] = undefined
        report["undefined_policy"] = UNDEFINED_POLICY
    return report


def equal_error_rate(scores: np.ndarray, positives: np.ndarray) -> float:
    """EER of one-vs-rest ``scores`` through :class:`kerazoo.metrics.EqualErrorRate` (10,000
    bins); NaN without both positives and negatives."""
    import keras

    from kerazoo.metrics import EqualErrorRate

    positives = np.asarray(positives, bool)
    if positives.all() or not positives.any():
        return float("nan")
    metric = EqualErrorRate(num_bins=10_000)
    metric.update_state(positives.astype("float32"), np.asarray(scores, "float32"))
    return float(keras.ops.convert_to_numpy(metric.result()))


def detection_report(labels: np.ndarray, probabilities: np.ndarray, class_names: list[str],
                     keywords: list[str], threshold: float = 0.5) -> dict[str, float]:
    """Per keyword (one-vs-rest on its probability): ``eer/KW`` and, at ``threshold``, the
    false-accept rate ``far/KW`` and false-reject rate ``frr/KW``; plus their means."""
    report: dict[str, float] = {}
    for name in keywords:
        index = class_names.index(name)
        scores, positives = probabilities[:, index], labels == index
        eer = equal_error_rate(scores, positives)
        report[f"eer/{name}"] = eer
        report[f"far/{name}"] = float((scores[~positives] >= threshold).mean())
        report[f"frr/{name}"] = float((scores[positives] < threshold).mean()) \
            if positives.any() else float("nan")
    for key in ("eer", "far", "frr"):
        values = [report[f"{key}/{name}"] for name in keywords]
        report[f"mean_{key}"] = float(np.nanmean(values)) if values else float("nan")
    report["detection_threshold"] = threshold
    return report


def write_confusion_matrix(matrix: np.ndarray, class_names: list[str], path: Path) -> None:
    """``confusion_matrix.svg`` (:func:`kerazoo.recipes.charts.confusion_matrix`)."""
    from kerazoo.recipes import charts
    from kerazoo.recipes.run_dir import atomic_write_bytes

    svg = charts.document([charts.confusion_matrix(np.asarray(matrix).tolist(), class_names)])
    atomic_write_bytes(path, svg.encode("utf-8"))


def write_training_curves(metrics_csv: Path, path: Path) -> None:
    """``training_curves.svg``: the loss and metric curves of a run's ``metrics.csv``
    (:func:`kerazoo.recipes.charts.training_curves`); nothing without rows."""
    from kerazoo.recipes import charts
    from kerazoo.recipes.run_dir import atomic_write_bytes

    if not metrics_csv.is_file():
        return
    with open(metrics_csv, newline="") as stream:
        curves = charts.training_curves(csv.DictReader(stream))
    if curves:
        atomic_write_bytes(path, charts.document(curves).encode("utf-8"))
