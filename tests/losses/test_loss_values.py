"""Independent checks of the losses without a tfa counterpart (numpy / Keras references)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

import kerazoo.losses as L

RNG = np.random.default_rng(11)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), "float64")


def test_crf_loss_is_negative_log_likelihood_by_enumeration():
    potentials = RNG.normal(size=(2, 3, 2)).astype("float32")
    transitions = RNG.normal(size=(2, 2)).astype("float32")
    tags = np.array([[0, 1, 1], [1, 0, 0]])
    lengths = np.array([3, 2])
    expected = []
    for b in range(2):
        n = lengths[b]

        def score(path, b=b):
            s = sum(potentials[b, t, path[t]] for t in range(len(path)))
            return s + sum(transitions[path[t - 1], path[t]] for t in range(1, len(path)))

        paths = np.array(np.meshgrid(*[[0, 1]] * n)).T.reshape(-1, n)
        log_z = np.log(np.sum([np.exp(score(p)) for p in paths]))
        expected.append(log_z - score(tags[b, :n]))
    got = L.CRFLoss(reduction="none")(tags, [potentials, lengths, transitions])
    np.testing.assert_allclose(_np(got), expected, rtol=1e-5)


def test_crf_loss_takes_the_crf_layer_outputs():
    from kerazoo.layers import CRF

    crf = CRF(3)
    outputs = crf(RNG.normal(size=(2, 4, 5)).astype("float32"))
    value = L.CRFLoss()(np.array([[0, 1, 2, 0], [2, 2, 1, 0]]), outputs)
    assert np.isfinite(_np(value)) and _np(value) > 0


def test_sigmoid_focal_is_keras_focal_times_classes():
    y_true = (RNG.random((5, 4)) > 0.5).astype("float32")
    y_pred = RNG.uniform(0.05, 0.95, size=(5, 4)).astype("float32")
    keras_loss = keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.25, gamma=2.0, reduction="none")
    np.testing.assert_allclose(_np(L.SigmoidFocalCrossEntropy()(y_true, y_pred)),
                               4 * _np(keras_loss(y_true, y_pred)), rtol=1e-6)


def test_poly_loss_with_zero_epsilon_is_cross_entropy():
    y_true = np.eye(3, dtype="float32")[[0, 2, 1]]
    logits = RNG.normal(size=(3, 3)).astype("float32")
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)(y_true, logits)
    np.testing.assert_allclose(_np(L.PolyLoss(epsilon=0.0, from_logits=True)(y_true, logits)),
                               _np(ce), rtol=1e-6)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    poly = L.PolyLoss(epsilon=2.0, sparse=True, reduction="none")(np.array([0, 2, 1]), probs)
    expected = -np.log(probs[[0, 1, 2], [0, 2, 1]]) + 2.0 * (1 - probs[[0, 1, 2], [0, 2, 1]])
    np.testing.assert_allclose(_np(poly), expected, rtol=1e-5)


def test_arcface_without_margin_is_scaled_softmax_cross_entropy():
    cosines = np.tanh(RNG.normal(size=(4, 5))).astype("float32")
    labels = np.array([0, 3, 4, 1])
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, 8.0 * cosines)
    got = L.ArcFaceLoss(margin=0.0, scale=8.0)(labels, cosines)
    np.testing.assert_allclose(_np(got), _np(ce), rtol=1e-5)


def test_arcface_margin_raises_the_loss():
    cosines = np.tanh(RNG.normal(size=(4, 5))).astype("float32")
    labels = np.array([0, 3, 4, 1])
    plain = _np(L.ArcFaceLoss(margin=0.0, scale=8.0, reduction="none")(labels, cosines))
    margin = _np(L.ArcFaceLoss(margin=0.3, scale=8.0, reduction="none")(labels, cosines))
    assert np.all(margin > plain)


def test_quantile_loss_against_numpy_and_pinball():
    y_true = RNG.normal(size=(6, 1)).astype("float32")
    y_pred = RNG.normal(size=(6, 3)).astype("float32")
    q = np.array([0.1, 0.5, 0.9])
    e = y_true - y_pred
    expected = np.maximum(q * e, (q - 1) * e).mean(-1)
    got = L.QuantileLoss(quantiles=q.tolist(), reduction="none")(y_true, y_pred)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-5)
    single = L.QuantileLoss(quantiles=(0.3,))(y_true, y_pred[:, :1])
    np.testing.assert_allclose(_np(single), _np(L.PinballLoss(tau=0.3)(y_true, y_pred[:, :1])),
                               rtol=1e-6)


def test_smape_against_numpy_and_zero_over_zero():
    y_true = np.array([[100.0, 0.0, -2.0]], "float32")
    y_pred = np.array([[110.0, 0.0, 2.0]], "float32")
    expected = np.mean([200 * 10 / 210, 0.0, 200.0])
    np.testing.assert_allclose(_np(L.SMAPELoss()(y_true, y_pred)), expected, rtol=1e-6)


@pytest.mark.parametrize("history", [0, 6])
def test_mase_against_numpy(history):
    series = np.cumsum(RNG.normal(size=(3, 10)), axis=1).astype("float32")
    y_pred = series[:, -4:] + RNG.normal(size=(3, 4)).astype("float32")
    y_true = series[:, 10 - 4 - history:]
    hist = y_true[:, :history] if history else y_true
    scale = np.abs(hist[:, 2:] - hist[:, :-2]).mean(1)
    expected = np.abs(y_true[:, -4:] - y_pred).mean(1) / scale
    got = L.MASELoss(seasonality=2, reduction="none")(y_true, y_pred)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-5)


def test_supcon_against_numpy():
    emb = RNG.normal(size=(6, 3)).astype("float32")
    labels = np.array([0, 0, 1, 1, 1, 2])
    z = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    s = z @ z.T / 0.2
    terms = []
    for i in range(6):
        others = [a for a in range(6) if a != i]
        positives = [p for p in others if labels[p] == labels[i]]
        if positives:
            log_norm = np.log(np.exp(s[i, others]).sum())
            terms.append(-np.mean([s[i, p] - log_norm for p in positives]))
    got = L.SupervisedContrastiveLoss(temperature=0.2)(labels, emb)
    np.testing.assert_allclose(_np(got), np.mean(terms), rtol=1e-5)


@pytest.mark.parametrize("bad", [
    lambda: L.TripletSemiHardLoss(distance_metric="cosine"),
    lambda: L.GIoULoss(mode="diou"),
    lambda: L.PinballLoss(tau=1.5),
    lambda: L.WeightedKappaLoss(num_classes=3, weightage="cubic"),
    lambda: L.SparsemaxLoss(from_logits=False),
    lambda: L.QuantileLoss(quantiles=(0.0, 0.5)),
    lambda: L.MASELoss(seasonality=0),
    lambda: L.ArcFaceLoss(margin=2.0),
    lambda: L.SupervisedContrastiveLoss(temperature=0.0),
])
def test_bad_arguments_raise_with_the_value(bad):
    with pytest.raises(ValueError, match="Received"):
        bad()
