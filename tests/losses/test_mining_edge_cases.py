"""Mining losses on degenerate batches: one class, every class seen once. No NaN, documented 0."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

import kerazoo.losses as L
from kerazoo.testing.loss_test import _gradient

MINING = {
    "TripletSemiHardLoss": lambda: L.TripletSemiHardLoss(),
    "TripletHardLoss": lambda: L.TripletHardLoss(),
    "TripletHardLossSoft": lambda: L.TripletHardLoss(soft=True),
    "LiftedStructLoss": lambda: L.LiftedStructLoss(),
    "SupervisedContrastiveLoss": lambda: L.SupervisedContrastiveLoss(),
}
EMB = np.random.default_rng(3).normal(size=(6, 4)).astype("float32")


def _value(x):
    return float(ops.convert_to_numpy(x))


@pytest.mark.parametrize("name", sorted(MINING))
@pytest.mark.parametrize("labels", [np.zeros(6, "int32"), np.arange(6)], ids=["one_class",
                                                                            "singletons"])
def test_degenerate_batch_gives_zero_and_finite_gradient(name, labels):
    loss = MINING[name]()
    value = _value(loss(labels, EMB))
    if name == "SupervisedContrastiveLoss" and labels.max() == 0:
        # SupCon needs no negative: one class is the softmax over positives only, >= log(n - 1).
        assert np.isfinite(value) and value >= np.log(len(labels) - 1) - 1e-5
    else:
        assert value == 0.0
    assert np.all(np.isfinite(_gradient(loss, labels, EMB)))


@pytest.mark.parametrize("name", sorted(MINING))
def test_identical_embeddings_have_finite_gradient(name):
    emb = np.repeat(EMB[:1], 6, axis=0)
    labels = np.array([0, 0, 1, 1, 2, 2])
    loss = MINING[name]()
    assert np.isfinite(_value(loss(labels, emb)))
    assert np.all(np.isfinite(_gradient(loss, labels, emb)))


def test_singleton_anchor_is_left_out_of_triplet_hard():
    # Anchor 4 (class 2) has no positive: the loss is the mean over anchors 0-3 only.
    labels = np.array([0, 0, 1, 1, 2])
    emb = np.array([[0., 0.], [0., .5], [1., 0.], [1., .5], [5., 5.]], "float32")
    full = _value(L.TripletHardLoss()(labels, emb))
    four = _value(L.TripletHardLoss()(labels[:4], emb[:4]))
    assert full == pytest.approx(four, rel=1e-6)


def test_npairs_multilabel_row_without_labels_is_zero():
    labels = np.array([[1., 0.], [0., 0.], [1., 1.]], "float32")
    sim = np.random.default_rng(0).normal(size=(3, 3)).astype("float32")
    per_row = L.NpairsMultilabelLoss(reduction="none")(labels, sim)
    per_row = ops.convert_to_numpy(per_row)
    assert np.all(np.isfinite(per_row)) and per_row[1] == 0.0


def test_per_anchor_sample_weight_zero_drops_an_anchor():
    labels = np.array([0, 0, 1, 1, 2, 2])
    loss = L.TripletSemiHardLoss(reduction="sum")
    weights = np.array([0, 1, 1, 1, 1, 1], "float32")
    per_anchor = ops.convert_to_numpy(L.TripletSemiHardLoss(reduction="none")(labels, EMB))
    assert _value(loss(labels, EMB, sample_weight=weights)) == pytest.approx(
        float(per_anchor[1:].sum()), rel=1e-5)
