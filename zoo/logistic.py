"""Fit a TF-IDF linear classifier as logistic regression is fitted: to the optimum, not by SGD.

:func:`~kerazoo.zoo.text.tfidf_linear_classifier` is scikit-learn's ``TfidfVectorizer`` +
``LogisticRegression`` as one Keras model. Trained with ``model.fit`` (Adam, mini-batches,
early stopping), it is not that model: Adam moves every weight at about the learning rate
whatever its gradient's size, so the n-grams seen once or twice (most of them, on short real
posts) learn as fast as the words that carry the label, and validation loss rises from the first
epoch. On a noisy 3-class set of short posts (``benchmarks/sentiment_model_choice.py``) that
reached macro-F1 0.21 (the majority class) where scikit-learn's solver reached 0.55 on the same
features. :func:`fit_logistic_regression` minimises the same objective as scikit-learn, mean
cross-entropy + ``l2 * ||W||^2`` (``l2 = 1 / (2 C n)``), with L-BFGS on the sparse TF-IDF rows,
for a few ``C`` (the regularisation path, each fit starting from the previous one), keeps the
``C`` with the lowest validation log loss and writes the weights into the model's classifier.

Example:

>>> from kerazoo.zoo.text import tfidf_linear_classifier
>>> texts = ["good film", "bad film", "good plot", "bad plot"] * 5
>>> model = tfidf_linear_classifier(texts, num_classes=2)
>>> report = fit_logistic_regression(model, texts, [1, 0, 1, 0] * 5)
>>> report["C"], report["iterations"] > 0
(1.0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: scikit-learn's inverse regularisation strengths tried when a validation split is given
#: (its default, C=1, alone otherwise); the one with the lowest validation log loss is kept.
STRENGTHS = (0.25, 1.0, 4.0, 16.0)


def fit_logistic_regression(model, texts: Sequence[str], labels, *, validation=None,
                            strengths: Sequence[float] = STRENGTHS, max_iterations: int = 300,
                            tolerance: float = 1e-6) -> dict[str, Any]:
    """Set ``model``'s classifier to the L2-regularised logistic regression optimum.

    Args:
        model: a :func:`~kerazoo.zoo.text.tfidf_linear_classifier` model (``vectorizer``,
            ``l2_normalize``, ``classifier`` layers).
        texts: the training texts.
        labels: their integer class ids.
        validation: ``(texts, labels)`` to choose ``C`` on. Defaults to ``None`` (C=1).
        strengths: the ``C`` values tried (from strong to weak regularisation).
        max_iterations: L-BFGS iterations per ``C``.
        tolerance: stop when the gradient's largest entry is below it.

    Returns:
        ``{"C", "l2", "iterations", "validation_log_loss_by_C"}``: the chosen strength, its
        ``l2``, the iterations over all fits, and the validation log loss per ``C`` (empty
        without a validation split).
    """
    import tensorflow as tf

    features = _tfidf_rows(model, texts)
    labels = np.asarray(labels, "int64")
    classifier = model.get_layer("classifier")
    kernel, bias = classifier.get_weights()
    shape = kernel.shape
    objective = _objective(features, tf.constant(labels), shape)
    params = np.zeros(kernel.size + bias.size)
    candidates = list(strengths) if validation is not None else [1.0]
    scores, fitted, iterations = {}, {}, 0
    held_out = _tfidf_rows(model, validation[0]) if validation is not None else None
    for strength in sorted(candidates):
        l2 = 1.0 / (2.0 * strength * len(labels))
        params, used = _lbfgs(lambda p, l2=l2: objective(p, l2), params, max_iterations,
                              tolerance)
        iterations += used
        fitted[strength] = params.copy()
        if held_out is not None:
            scores[strength] = _log_loss(held_out, np.asarray(validation[1], "int64"), params,
                                         shape)
    chosen = min(scores, key=scores.get) if scores else candidates[0]
    best = fitted[chosen]
    classifier.set_weights([best[: kernel.size].reshape(shape).astype(kernel.dtype),
                            best[kernel.size:].astype(bias.dtype)])
    return {"C": float(chosen), "l2": 1.0 / (2.0 * chosen * len(labels)),
            "iterations": iterations,
            "validation_log_loss_by_C": {str(c): round(float(v), 5)
                                         for c, v in scores.items()}}


def _tfidf_rows(model, texts, batch: int = 512):
    """The rows ``model``'s ``vectorizer`` and ``l2_normalize`` give ``texts``, as a float64
    ``tf.SparseTensor`` (dense ``[batch, vocabulary]`` blocks at a time: a dense matrix of every
    text would not fit; TextVectorization's own ``sparse=True`` fails on TF-IDF in Keras 3.15)."""
    import keras
    import tensorflow as tf

    rows = keras.Model(model.input, model.get_layer("l2_normalize").output)
    texts = np.asarray(list(texts), dtype=object).astype(str)
    blocks = [tf.sparse.from_dense(tf.cast(rows(tf.constant(texts[i : i + batch])), tf.float64))
              for i in range(0, len(texts), batch)]
    return tf.sparse.concat(0, blocks) if len(blocks) > 1 else blocks[0]


def _objective(features, labels, shape):
    """``params -> (loss, gradient)``: mean cross-entropy + ``l2 * ||W||^2`` (bias free)."""
    import tensorflow as tf

    size = shape[0] * shape[1]
    count = tf.cast(tf.shape(labels)[0], tf.float64)

    @tf.function(reduce_retracing=True)
    def loss_and_gradient(params, l2):
        kernel = tf.reshape(params[:size], shape)
        logits = _logits(features, params, shape)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        delta = (tf.nn.softmax(logits) - tf.one_hot(labels, shape[1], dtype=tf.float64)) / count
        kernel_gradient = tf.sparse.sparse_dense_matmul(features, delta, adjoint_a=True)
        gradient = tf.concat([tf.reshape(kernel_gradient + 2.0 * l2 * kernel, [-1]),
                              tf.reduce_sum(delta, axis=0)], axis=0)
        return loss + l2 * tf.reduce_sum(kernel * kernel), gradient

    def call(params: np.ndarray, l2: float):
        loss, gradient = loss_and_gradient(tf.constant(params), tf.constant(l2, tf.float64))
        return float(loss), gradient.numpy()

    return call


def _logits(features, params, shape):
    """``features @ kernel + bias`` with both packed in the flat ``params``."""
    import tensorflow as tf

    size = shape[0] * shape[1]
    return tf.sparse.sparse_dense_matmul(features, tf.reshape(params[:size], shape)) + params[size:]


def _log_loss(features, labels, params, shape) -> float:
    import tensorflow as tf

    logits = _logits(features, tf.constant(params), shape)
    return float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)))


def _lbfgs(function, start: np.ndarray, max_iterations: int, tolerance: float,
           memory: int = 10) -> tuple[np.ndarray, int]:
    """Minimise a smooth convex ``function(x) -> (value, gradient)`` from ``start`` (L-BFGS
    with a backtracking Armijo line search); returns ``(x, iterations)``."""
    x = start.copy()
    value, gradient = function(x)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    for iteration in range(1, max_iterations + 1):
        if np.abs(gradient).max() < tolerance:
            return x, iteration - 1
        direction = -_inverse_hessian_times(gradient, steps)
        slope = float(gradient @ direction)
        if slope >= 0:  # not a descent direction (numerical trouble): restart from the gradient
            steps.clear()
            direction, slope = -gradient, -float(gradient @ gradient)
        step = 1.0 if steps else 1.0 / max(1.0, float(np.abs(gradient).max()))
        while True:
            candidate = x + step * direction
            new_value, new_gradient = function(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = candidate - x, new_gradient - gradient
        if float(s @ y) > 1e-12:
            steps.append((s, y, 1.0 / float(s @ y)))
            del steps[:-memory]
        done = abs(value - new_value) <= 1e-12 * max(1.0, abs(value))
        x, value, gradient = candidate, new_value, new_gradient
        if done:
            return x, iteration
    return x, max_iterations


def _inverse_hessian_times(gradient: np.ndarray, steps) -> np.ndarray:
    """The L-BFGS two-loop recursion: the inverse-Hessian estimate times ``gradient``."""
    q = gradient.copy()
    alphas = []
    for s, y, rho in reversed(steps):
        alpha = rho * float(s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if steps:
        s, y, _ = steps[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), alpha in zip(steps, reversed(alphas)):
        q += s * (alpha - rho * float(y @ q))
    return q
