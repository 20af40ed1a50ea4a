"""CRF behaviour: decoding and likelihood against brute force over every path, and training."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from kerazoo.layers import CRF
from kerazoo.layers.crf import crf_decode, crf_log_likelihood, crf_log_norm, viterbi_decode


def _path_score(unary, transitions, path):
    return sum(unary[t, tag] for t, tag in enumerate(path)) + sum(
        transitions[a, b] for a, b in zip(path[:-1], path[1:])
    )


def _brute_force(unary, transitions, length):
    paths = list(itertools.product(range(unary.shape[1]), repeat=length))
    scores = np.array([_path_score(unary, transitions, p) for p in paths])
    return paths, scores


@pytest.mark.parametrize("seed", range(4))
def test_decode_and_log_likelihood_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    batch, time, tags = 3, 4, 3
    unary = rng.normal(size=(batch, time, tags)).astype("float32")
    transitions = rng.normal(size=(tags, tags)).astype("float32")
    lengths = np.array([4, 2, 1], "int32")
    gold = rng.integers(0, tags, size=(batch, time)).astype("int32")
    decoded, best = crf_decode(unary, transitions, lengths)
    decoded, best = keras.ops.convert_to_numpy(decoded), keras.ops.convert_to_numpy(best)
    log_likelihood, _ = crf_log_likelihood(unary, gold, lengths, transitions)
    log_likelihood = keras.ops.convert_to_numpy(log_likelihood)
    for b, length in enumerate(lengths):
        paths, scores = _brute_force(unary[b], transitions, length)
        assert tuple(decoded[b, :length]) == paths[int(np.argmax(scores))]
        assert np.all(decoded[b, length:] == 0)
        np.testing.assert_allclose(best[b], scores.max(), rtol=1e-5)
        log_z = np.log(np.sum(np.exp(scores - scores.max()))) + scores.max()
        gold_score = _path_score(unary[b], transitions, tuple(gold[b, :length]))
        np.testing.assert_allclose(log_likelihood[b], gold_score - log_z, rtol=1e-5, atol=1e-5)
        path, score = viterbi_decode(unary[b, :length], transitions)
        assert tuple(path) == paths[int(np.argmax(scores))]


def test_log_norm_is_zero_for_empty_sequences():
    unary = np.ones((2, 3, 2), "float32")
    log_norm = crf_log_norm(unary, np.array([0, 3]), np.zeros((2, 2), "float32"))
    assert keras.ops.convert_to_numpy(log_norm)[0] == 0.0


def test_likelihood_is_float32_under_float16_inputs():
    unary = np.zeros((1, 3, 2), "float16")
    ll, _ = crf_log_likelihood(unary, np.zeros((1, 3), "int32"), np.array([3]),
                               np.zeros((2, 2), "float32"))
    assert keras.backend.standardize_dtype(ll.dtype) == "float32"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ll), [-3 * np.log(2)], rtol=1e-5)


class _NegativeLogLikelihood(keras.layers.Layer):
    def call(self, potentials, tags, lengths, transitions):
        log_likelihood, _ = crf_log_likelihood(potentials, tags, lengths, transitions)
        return -log_likelihood


def test_crf_layer_learns_a_tagging_rule_under_jit():
    # Tag = 1 where the feature is positive, except that tag 1 never follows tag 1.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 1)).astype("float32")
    tags = np.zeros((64, 6), "int32")
    for b in range(64):
        for t in range(6):
            tags[b, t] = int(x[b, t, 0] > 0 and (t == 0 or tags[b, t - 1] == 0))
    features, gold = keras.Input((6, 1)), keras.Input((6,), dtype="int32")
    decoded, potentials, lengths, transitions = CRF(2, name="crf")(features)
    nll = _NegativeLogLikelihood()(potentials, gold, lengths, transitions)
    model = keras.Model([features, gold], nll)
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss=lambda _, y: y,
                  # torch.compile takes minutes on CPU; XLA is what this checks (TF, JAX).
                  jit_compile=keras.backend.backend() != "torch")
    model.fit([x, tags], np.zeros(64), epochs=30, batch_size=64, verbose=0)
    decoder = keras.Model(features, decoded)
    accuracy = np.mean(keras.ops.convert_to_numpy(decoder.predict(x, verbose=0)) == tags)
    assert accuracy > 0.85
    chain = keras.ops.convert_to_numpy(model.get_layer("crf").chain_kernel)
    assert chain[1, 1] < chain[1, 0]  # it learned that 1 -> 1 is unlikely


def test_crf_layer_masks_boundaries():
    layer = CRF(3, use_kernel=False, chain_initializer="zeros")
    layer.build((None, 4, 3))
    layer.left_boundary.assign([5.0, 0.0, 0.0])
    layer.right_boundary.assign([0.0, 0.0, 5.0])
    x = np.zeros((1, 4, 3), "float32")
    mask = np.array([[True, True, True, False]])
    decoded, potentials, lengths, _ = layer(x, mask=mask)
    assert keras.ops.convert_to_numpy(lengths).tolist() == [3]
    assert keras.ops.convert_to_numpy(decoded).tolist() == [[0, 0, 2, 0]]
    assert keras.ops.convert_to_numpy(potentials)[0, 2, 2] == 5.0  # end score on the last real step
