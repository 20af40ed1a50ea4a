"""Behaviour of the tfa-derived layers beyond parity: expectations, initialisation, RNN use."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerazoo import layers as kl


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def test_stochastic_depth_keeps_the_expectation():
    layer = kl.StochasticDepth(survival_probability=0.7, seed=3)
    shortcut, residual = np.ones((1, 2), "float32"), np.full((1, 2), 2.0, "float32")
    draws = np.array([_np(layer([shortcut, residual], training=True))[0, 0] for _ in range(400)])
    assert set(np.unique(draws)) <= {1.0, 3.0}  # the branch is dropped or kept whole
    inference = _np(layer([shortcut, residual]))[0, 0]
    assert inference == pytest.approx(1.0 + 0.7 * 2.0)
    assert draws.mean() == pytest.approx(inference, abs=0.15)


@pytest.mark.parametrize(
    "inner, shape",
    [(lambda: keras.layers.Dense(4, activation="relu"), (512, 6)),
     (lambda: keras.layers.Conv2D(3, 3, activation="relu"), (16, 8, 8, 2))],
)
def test_weight_normalization_data_init_gives_unit_variance_preactivations(inner, shape):
    x = np.random.default_rng(0).normal(2.0, 3.0, size=shape).astype("float32")
    layer = kl.WeightNormalization(inner(), data_init=True)
    layer(x)
    g = _np(layer.g)
    v = _np(layer.layer.kernel)
    axes = tuple(range(v.ndim - 1))
    kernel = v / np.sqrt(np.sum(v**2, axis=axes, keepdims=True)) * g
    probe = inner()
    probe.activation = keras.activations.linear
    probe.build(shape)
    probe.kernel.assign(kernel)
    probe.bias.assign(_np(layer.layer.bias))
    pre = _np(probe(x)).reshape(-1, kernel.shape[-1])
    np.testing.assert_allclose(pre.mean(0), 0.0, atol=1e-3)
    np.testing.assert_allclose(pre.std(0), 1.0, atol=1e-3)
    assert float(_np(layer.initialized)) == 1.0
    before = _np(layer.g)
    layer(x * 5.0)  # a second batch does not initialise again
    np.testing.assert_array_equal(_np(layer.g), before)


def test_weight_normalization_without_data_init_keeps_the_layer():
    dense = keras.layers.Dense(3)
    x = np.random.default_rng(1).normal(size=(4, 5)).astype("float32")
    expected = _np(dense(x))
    wrapped = kl.WeightNormalization(dense, data_init=False)
    np.testing.assert_allclose(_np(wrapped(x)), expected, rtol=1e-5, atol=1e-6)


def test_weight_normalization_trains():
    x = np.random.default_rng(2).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), kl.WeightNormalization(keras.layers.Dense(1))])
    model(x[:32])  # data-dependent init on a first batch, eagerly
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=200, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 1e-3 * history.history["loss"][0]


@pytest.mark.parametrize(
    "make",
    [lambda: kl.LayerNormLSTMCell(4), lambda: kl.PeepholeLSTMCell(4),
     lambda: kl.LayerNormSimpleRNNCell(4), lambda: kl.ESNCell(4, seed=0)],
    ids=["LayerNormLSTMCell", "PeepholeLSTMCell", "LayerNormSimpleRNNCell", "ESNCell"],
)
def test_cells_in_keras_rnn_respect_masks_and_train(make):
    x = np.random.default_rng(3).normal(size=(8, 5, 3)).astype("float32")
    x[:, 3:] = 0.0
    model = keras.Sequential(
        [keras.Input((5, 3)), keras.layers.Masking(), keras.layers.RNN(make()),
         keras.layers.Dense(1)]
    )
    short = keras.Sequential(
        [keras.Input((3, 3)), keras.layers.RNN(model.layers[1].cell), model.layers[2]]
    )
    np.testing.assert_allclose(_np(model(x)), _np(short(x[:, :3])), rtol=1e-5, atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    losses = model.fit(x, np.ones((8, 1)), epochs=3, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_esn_reservoir_has_the_requested_spectral_radius():
    cell = kl.ESNCell(20, connectivity=0.3, spectral_radius=0.8, seed=1)
    cell.build((None, 2))
    radius = np.max(np.abs(np.linalg.eigvals(_np(cell.recurrent_kernel))))
    assert radius == pytest.approx(0.8, rel=1e-4)
    assert np.mean(_np(cell.recurrent_kernel) != 0) < 0.5
    assert not cell.trainable_weights


def test_noisy_dense_noise_reset_and_removal():
    layer = kl.NoisyDense(3, seed=0)
    x = np.ones((2, 4), "float32")
    first = _np(layer(x))
    layer.reset_noise()
    assert not np.allclose(_np(layer(x)), first)
    layer.remove_noise()
    expected = x @ _np(layer.mu_kernel) + _np(layer.mu_bias)
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-5, atol=1e-6)


def test_embedding_bag_mask_zero_ignores_padding():
    layer = kl.EmbeddingBag(5, 2, combiner="mean", mask_zero=True)
    layer.build((None, 3))
    layer.embeddings.assign(np.arange(10, dtype="float32").reshape(5, 2))
    out = _np(layer(np.array([[1, 3, 0], [0, 0, 0]])))
    np.testing.assert_allclose(out, [[4.0, 5.0], [0.0, 0.0]])


def test_maxout_spatial_pyramid_and_poincare_shapes():
    assert tuple(kl.Maxout(4)(np.ones((2, 3, 8), "float32")).shape) == (2, 3, 4)
    spp = kl.SpatialPyramidPooling2D([1, 2, 4])
    for size in (8, 11):  # fixed-length output whatever the image size
        assert tuple(spp(np.ones((1, size, size, 3), "float32")).shape) == (1, 21, 3)
    big = np.random.default_rng(4).normal(size=(5, 3)).astype("float32") * 10
    norms = np.linalg.norm(_np(kl.PoincareNormalize(axis=1)(big)), axis=1)
    assert np.all(norms < 1.0)


def test_max_unpooling_restores_the_maxima():
    x = np.random.default_rng(5).normal(size=(2, 4, 4, 3)).astype("float32")
    windows = x.reshape(2, 2, 2, 2, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 2, 2, 4, 3)
    best = windows.argmax(axis=3)
    pooled = windows.max(axis=3)
    rows = 2 * np.arange(2)[None, :, None, None] + best // 2
    cols = 2 * np.arange(2)[None, None, :, None] + best % 2
    argmax = ((rows * 4 + cols) * 3 + np.arange(3)).astype("int32")
    restored = _np(kl.MaxUnpooling2D()(pooled, argmax))
    assert np.count_nonzero(restored) == pooled.size
    np.testing.assert_allclose(np.sort(restored[restored != 0]), np.sort(pooled.ravel()))


@pytest.mark.tf_only
@pytest.mark.parametrize("name", ["FilterResponseNormalization", "LayerNormLSTMCell", "CRF"])
def test_trains_under_mirrored_strategy(name):
    from kerazoo.testing.layer_test import _mirrored_strategy

    strategy = _mirrored_strategy()
    x = np.random.default_rng(6).normal(size=(8, 4, 4, 3)).astype("float32")
    with strategy.scope():
        inputs = keras.Input((4, 4, 3))
        if name == "FilterResponseNormalization":
            hidden = keras.layers.Flatten()(kl.FilterResponseNormalization()(inputs))
        elif name == "LayerNormLSTMCell":
            hidden = keras.layers.RNN(kl.LayerNormLSTMCell(4))(keras.layers.Reshape((4, 12))(inputs))
        else:
            hidden = keras.layers.Flatten()(kl.CRF(3)(keras.layers.Reshape((4, 12))(inputs))[1])
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        model.compile(optimizer="sgd", loss="mse")
    before = [_np(w).copy() for w in model.trainable_weights]
    model.fit(x, np.ones((8, 1)), batch_size=8, epochs=2, verbose=0)
    after = [_np(w) for w in model.trainable_weights]
    assert all(np.all(np.isfinite(w)) for w in after)
    assert any(not np.allclose(a, b) for a, b in zip(after, before))
