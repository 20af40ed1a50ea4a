"""Behaviour of kerazoo.activations beyond tfa parity."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerazoo import activations


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_sparsemax_is_a_sparse_distribution():
    x = np.random.default_rng(0).normal(size=(64, 9)).astype("float32") * 2
    p = _np(activations.sparsemax(x))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)
    assert (p >= 0).all() and (p == 0).any()


def test_sparsemax_is_the_simplex_projection():
    # The projection is the unique p on the simplex with p_i = max(z_i - tau, 0).
    z = np.random.default_rng(1).normal(size=(20, 6)).astype("float64")
    p = _np(activations.sparsemax(z.astype("float32"))).astype("float64")
    support = p > 0
    tau = ((z * support).sum(-1) - 1) / support.sum(-1)
    np.testing.assert_allclose(p, np.maximum(z - tau[:, None], 0), atol=1e-5)


def test_sparsemax_fixes_the_keras_bug():
    x = np.array([[-0.325, -0.531, 1.336, 0.741]], "float32")
    np.testing.assert_allclose(_np(activations.sparsemax(x)), [[0, 0, 0.7975, 0.2025]], atol=1e-6)


def test_sparsemax_axis_and_half_precision():
    x = np.random.default_rng(2).normal(size=(3, 5, 4)).astype("float32")
    along1 = _np(activations.sparsemax(x, axis=1))
    np.testing.assert_allclose(along1.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        np.moveaxis(_np(activations.sparsemax(np.moveaxis(x, 1, -1))), -1, 1), along1, atol=1e-6
    )
    half = activations.sparsemax(keras.ops.cast(x, "float16"))
    assert keras.backend.standardize_dtype(half.dtype) == "float16"


def test_sparsemax_infinite_logit_gives_nan_row():
    p = _np(activations.sparsemax(np.array([[np.inf, 0.0], [1.0, 0.0]], "float32")))
    assert np.isnan(p[0]).all() and np.isfinite(p[1]).all()


def test_rrelu_training_slopes_lie_in_bounds():
    x = -np.ones((1000,), "float32")
    y = _np(activations.rrelu(x, lower=0.1, upper=0.3, training=True, seed=3))
    slopes = -y
    assert slopes.min() >= 0.1 and slopes.max() < 0.3 and slopes.std() > 0.03
    positive = _np(activations.rrelu(np.ones(5, "float32"), training=True, seed=3))
    np.testing.assert_array_equal(positive, 1.0)


@pytest.mark.parametrize("name", ["lisht", "snake", "sparsemax", "rrelu"])
def test_activation_serializes_by_name(name):
    fn = getattr(activations, name)
    assert keras.activations.deserialize(keras.activations.serialize(fn)) is fn
    layer = keras.layers.Dense(3, activation=fn)
    clone = keras.layers.Dense.from_config(layer.get_config())
    assert clone.activation is fn
