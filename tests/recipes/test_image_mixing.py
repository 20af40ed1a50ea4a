"""MixUp / CutMix in the image recipe: soft labels, stateless seeding, resume-exact, trains."""

import csv
import math

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only


def _task(*overrides):
    from kerazoo.recipes.api import get_task, resolve_config

    task = get_task("image_classification")(
        resolve_config("image_classification", None, list(overrides))
    )
    return task


def _batches(task, **kwargs):
    dataset = task.build_inputs(task.prepare_data(), "train", None, per_replica_batch=16,
                               training=True, **kwargs)
    return [(x.numpy(), y.numpy()) for x, y in dataset]


@pytest.mark.parametrize("mixup, cutmix", [(0.4, None), (None, 1.0), (0.4, 1.0)])
def test_mix_batch_shapes_and_label_mass(mixup, cutmix):
    import tensorflow as tf

    from kerazoo.recipes.image_classification import mix_batch

    images = tf.random.stateless_uniform([16, 8, 8, 3], [0, 1], maxval=255.0)
    labels = tf.constant(np.arange(16) % 5)
    for index in range(8):
        mixed, soft = mix_batch(images, labels, tf.constant([3, index]), num_classes=5,
                                mixup_alpha=mixup, cutmix_alpha=cutmix)
        assert mixed.shape == images.shape and soft.shape == (16, 5)
        soft = soft.numpy()
        np.testing.assert_allclose(soft.sum(-1), 1.0, atol=1e-6)
        assert (soft >= 0).all() and np.count_nonzero(soft, -1).max() <= 2
        if mixup is None:
            # CutMix pastes pixels: each one comes unchanged from one of the two images, and the
            # weight of the own label is the pixel share that stayed.
            mixed = mixed.numpy()
            own = (mixed == images.numpy()).all(-1).mean(axis=(1, 2))
            rows = np.flatnonzero(soft[np.arange(16), labels.numpy()] < 1)
            np.testing.assert_allclose(soft[rows, labels.numpy()[rows]], own[rows], atol=1e-6)


def test_mixed_pipeline_is_deterministic_and_resume_exact():
    first = _task("data.augment=[translate, mixup, cutmix]", "data.mixup_alpha=0.4")
    second = _task("data.augment=[translate, mixup, cutmix]", "data.mixup_alpha=0.4")
    a, b = _batches(first, epoch=1), _batches(second, epoch=1)
    assert len(a) == len(b) > 4
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert a[0][1].shape == (16, 10) and a[0][1].dtype == np.float32
    np.testing.assert_allclose(a[0][1].sum(-1), 1.0, atol=1e-6)
    assert (a[0][1].max(-1) < 1).any()  # some rows really are mixed
    resumed = _batches(first, epoch=1, skip_global_steps=3)
    for (xa, ya), (xr, yr) in zip(a[3:], resumed):
        np.testing.assert_array_equal(xa, xr)
        np.testing.assert_array_equal(ya, yr)
    other_epoch = _batches(first, epoch=2)
    assert not np.array_equal(a[0][1], other_epoch[0][1])


def test_loss_and_metric_take_soft_and_sparse_labels():
    import tensorflow as tf

    task = _task("data.augment=[mixup]")
    loss = task.build_loss(task.prepare_data())
    logits = tf.random.stateless_normal([4, 10], [0, 0])
    labels = tf.constant([1, 2, 3, 4], tf.int64)
    one_hot = tf.one_hot(labels, 10)
    np.testing.assert_allclose(loss(one_hot, logits).numpy(), loss(labels, logits).numpy(),
                               rtol=1e-5)
    soft = 0.7 * one_hot + 0.3 * tf.one_hot([0, 0, 0, 0], 10)
    expected = -tf.reduce_sum(soft * tf.nn.log_softmax(logits), -1)
    np.testing.assert_allclose(loss(soft, logits).numpy(), expected.numpy(), rtol=1e-5)
    assert float(task.train_metric(soft, 10 * one_hot)) == 4.0


@pytest.mark.parametrize("augment", ["mixup", "cutmix"])
def test_short_training_run_with_mixing(tmp_path, augment):
    from kerazoo.recipes import api

    report = api.train(
        "image_classification", tmp_path / augment, verbose=False, export=False,
        overrides=["train.epochs=2", "train.steps_per_epoch=6", "train.batch_size=16",
                   f"data.augment=[{augment}]"],
    )
    with open(tmp_path / augment / "metrics.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 2 and all(math.isfinite(float(row["loss"])) for row in rows)
    assert float(rows[1]["loss"]) < float(rows[0]["loss"])
    assert 0 <= report["accuracy"] <= 1
