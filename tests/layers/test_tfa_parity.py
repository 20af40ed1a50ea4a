"""Numerical parity of the tfa-derived layers with tfa 0.23 (TensorFlow 2.15), on every backend.

The references come from ``tests/fixtures/tfa/generate_layers.py`` (run in the tfa environment):
same inputs, same explicitly set weights. Tolerance: 1e-5 relative (plus 1e-6 absolute for values
near zero). Random parts are compared through their deterministic parts, see the generator.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from kerazoo import layers as kl
from kerazoo.layers import crf as crf_fns

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tfa" / "layers.npz"
RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="module")
def ref():
    with np.load(FIXTURE) as data:
        return {key: data[key] for key in data.files}


def _case(ref, name):
    prefix = name + "/"
    return {key[len(prefix):]: value for key, value in ref.items() if key.startswith(prefix)}


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _close(actual, expected):
    np.testing.assert_allclose(_np(actual), expected, rtol=RTOL, atol=ATOL)


def _assign(target, name, value):
    for part in name.split(".")[:-1]:
        target = getattr(target, part)
    getattr(target, name.split(".")[-1]).assign(value)


def test_stochastic_depth_inference(ref):
    c = _case(ref, "stochastic_depth")
    layer = kl.StochasticDepth(survival_probability=0.7)
    _close(layer([c["shortcut"], c["residual"]], training=False), c["inference"])


@pytest.mark.parametrize(
    "case, make",
    [
        ("layer_norm_lstm_cell", lambda: kl.LayerNormLSTMCell(4, norm_epsilon=1e-3)),
        ("peephole_lstm_cell", lambda: kl.PeepholeLSTMCell(4)),
        ("layer_norm_simple_rnn_cell", lambda: kl.LayerNormSimpleRNNCell(4, layernorm_epsilon=1e-5)),
    ],
)
def test_rnn_cells(ref, case, make):
    c = _case(ref, case)
    cell = make()
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    rnn.build(c["x"].shape)
    for key, value in c.items():
        if key.startswith("w."):
            _assign(cell, key[2:], value)
    sequences, *states = rnn(c["x"])
    _close(sequences, c["sequences"])
    for i, state in enumerate(states):
        _close(state, c[f"state{i}"])


def test_esn_with_explicit_reservoir(ref):
    c = _case(ref, "esn")
    layer = kl.ESN(6, leaky=0.6, return_sequences=True)
    layer.build(c["x"].shape)
    for name in ("kernel", "recurrent_kernel", "bias"):
        getattr(layer.cell, name).assign(c[f"w.{name}"])
    _close(layer(c["x"]), c["sequences"])


def test_weight_normalization_dense(ref):
    c = _case(ref, "weight_normalization_dense")
    layer = kl.WeightNormalization(keras.layers.Dense(3), data_init=False)
    layer.build(c["x"].shape)
    layer.layer.kernel.assign(c["kernel"])
    layer.layer.bias.assign(c["bias"])
    _close(layer(c["x"]), c["y"])
    _close(layer.g, c["g"])


def test_weight_normalization_data_init(ref):
    c = _case(ref, "weight_normalization_data_init")
    layer = kl.WeightNormalization(keras.layers.Dense(3, activation="relu"), data_init=True)
    layer.build(c["x"].shape)
    layer.layer.kernel.assign(c["kernel"])
    layer.layer.bias.assign(np.zeros(3, "float32"))
    y = layer(c["x"])
    # The statistics differ in the last float bits (one-pass vs two-pass moments): 1e-5 relative.
    np.testing.assert_allclose(_np(y), c["y"], rtol=RTOL, atol=1e-5)
    np.testing.assert_allclose(_np(layer.g), c["g"], rtol=RTOL)
    np.testing.assert_allclose(_np(layer.layer.bias), c["bias"], rtol=RTOL, atol=1e-6)


def test_weight_normalization_conv(ref):
    c = _case(ref, "weight_normalization_conv")
    layer = kl.WeightNormalization(keras.layers.Conv2D(4, 3), data_init=False)
    layer.build(c["x"].shape)
    layer.layer.kernel.assign(c["kernel"])
    layer.layer.bias.assign(c["bias"])
    _close(layer(c["x"]), c["y"])


def test_filter_response_normalization(ref):
    c = _case(ref, "filter_response_normalization")
    layer = kl.FilterResponseNormalization(learned_epsilon=True, epsilon=1e-4)
    layer.build(c["x"].shape)
    layer.gamma.assign(c["gamma"])
    layer.beta.assign(c["beta"])
    layer.eps_learned.assign(np.array([0.01], "float32"))
    _close(layer(c["x"]), c["y"])


def test_tlu(ref):
    c = _case(ref, "tlu")
    layer = kl.TLU(affine=True)
    layer.build(c["x"].shape)
    layer.tau.assign(c["tau"])
    layer.alpha.assign(c["alpha"])
    _close(layer(c["x"]), c["y"])


def test_maxout(ref):
    c = _case(ref, "maxout")
    _close(kl.Maxout(3)(c["x"]), c["last"])
    _close(kl.Maxout(2, axis=1)(c["x"]), c["axis1"])


def test_crf_functions(ref):
    c = _case(ref, "crf_functions")
    args = (c["inputs"], c["tag_indices"], c["lengths"], c["transitions"])
    log_likelihood, _ = crf_fns.crf_log_likelihood(*args)
    _close(log_likelihood, c["log_likelihood"])
    _close(crf_fns.crf_sequence_score(*args), c["sequence_score"])
    _close(crf_fns.crf_log_norm(c["inputs"], c["lengths"], c["transitions"]), c["log_norm"])
    decoded, best = crf_fns.crf_decode(c["inputs"], c["transitions"], c["lengths"])
    np.testing.assert_array_equal(_np(decoded), c["decoded"])
    _close(best, c["best_score"])
    path, score = crf_fns.viterbi_decode(c["inputs"][0], c["transitions"])
    assert path == c["viterbi_path"].tolist()
    np.testing.assert_allclose(score, c["viterbi_score"], rtol=RTOL)


def test_crf_log_likelihood_gradients(ref):
    c = _case(ref, "crf_functions")
    inputs = keras.Variable(c["inputs"])
    transitions = keras.Variable(c["transitions"])

    def loss():
        ll, _ = crf_fns.crf_log_likelihood(inputs, c["tag_indices"], c["lengths"], transitions)
        return keras.ops.sum(ll)

    grads = _gradients(loss, [inputs, transitions])
    _close(grads[0], c["grad_inputs"])
    _close(grads[1], c["grad_transitions"])


def _gradients(loss_fn, variables):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn()
        return tape.gradient(loss, [v.value for v in variables])
    if backend == "jax":
        import jax

        def pure(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return loss_fn()

        return jax.grad(pure)([v.value for v in variables])
    loss = loss_fn()
    loss.backward()
    return [v.value.grad for v in variables]


def test_crf_layer(ref):
    c = _case(ref, "crf_layer")
    layer = kl.CRF(5)
    layer(c["features"])
    for name in ("chain_kernel", "left_boundary", "right_boundary"):
        getattr(layer, name).assign(c[f"w.{name}"])
    layer._dense_layer.kernel.assign(c["w.dense_kernel"])
    layer._dense_layer.bias.assign(c["w.dense_bias"])
    decoded, potentials, lengths, _ = layer(c["features"], mask=c["mask"])
    np.testing.assert_array_equal(_np(decoded), c["decoded"])
    _close(potentials, c["potentials"])
    np.testing.assert_array_equal(_np(lengths), c["lengths"])
    decoded, potentials, _, _ = layer(c["features"])
    np.testing.assert_array_equal(_np(decoded), c["decoded_nomask"])
    _close(potentials, c["potentials_nomask"])


def test_noisy_dense_with_explicit_noise(ref):
    c = _case(ref, "noisy_dense")
    layer = kl.NoisyDense(4, activation="tanh")
    layer.build(c["x"].shape)
    for key, value in c.items():
        if key.startswith("w."):
            getattr(layer, key[2:]).assign(value)
    _close(layer(c["x"]), c["y"])
    layer.remove_noise()
    _close(layer(c["x"]), c["y_without_noise"])


def test_polynomial_crossing(ref):
    c = _case(ref, "polynomial_crossing")
    full = kl.PolynomialCrossing(projection_dim=None, diag_scale=0.3)
    full.build([c["x0"].shape, c["x"].shape])
    full.kernel.assign(c["kernel"])
    full.bias.assign(c["bias"])
    _close(full([c["x0"], c["x"]]), c["full"])
    low = kl.PolynomialCrossing(projection_dim=2)
    low.build([c["x0"].shape, c["x"].shape])
    low.kernel_u.assign(c["kernel_u"])
    low.kernel_v.assign(c["kernel_v"])
    low.bias.assign(c["bias"])
    _close(low([c["x0"], c["x"]]), c["low_rank"])


def test_embedding_bag(ref):
    c = _case(ref, "embedding_bag")
    total = kl.EmbeddingBag(10, 5, combiner="sum")
    total.build(c["indices"].shape)
    total.embeddings.assign(c["table"])
    _close(total(c["indices"], c["weights"]), c["weighted_sum"])
    mean = kl.EmbeddingBag(10, 5, combiner="mean")
    mean.build(c["indices"].shape)
    mean.embeddings.assign(c["table"])
    _close(mean(c["indices"]), c["mean"])


def test_spatial_pyramid_pooling(ref):
    c = _case(ref, "spatial_pyramid_pooling")
    bins = [1, 2, [3, 2]]
    _close(kl.SpatialPyramidPooling2D(bins)(c["x"]), c["channels_last"])
    first = kl.SpatialPyramidPooling2D(bins, data_format="channels_first")
    _close(first(np.transpose(c["x"], (0, 3, 1, 2))), c["channels_first"])


@pytest.mark.parametrize("padding, pool", [("same", 2), ("valid", 3)])
def test_max_unpooling(ref, padding, pool):
    c = _case(ref, f"max_unpooling_{padding}")
    layer = kl.MaxUnpooling2D(pool_size=pool, strides=2, padding=padding.upper())
    _close(layer(c["updates"], c["mask"]), c["y"])


def test_snake(ref):
    c = _case(ref, "snake")
    layer = kl.Snake()
    layer.build(c["x"].shape)
    layer.frequency.assign(0.7)
    _close(layer(c["x"]), c["y"])


def test_poincare_normalize(ref):
    c = _case(ref, "poincare")
    _close(kl.PoincareNormalize(axis=1)(c["x"]), c["axis1"])
    _close(kl.PoincareNormalize(axis=[1, 2], epsilon=1e-3)(c["x"]), c["axis12"])
