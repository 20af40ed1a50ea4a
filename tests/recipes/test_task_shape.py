"""The shared task shape: one loss builder for every classifier, options reaching the zoo
builder, prediction as records, and nothing but source tables and dataclasses at import."""

import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only


def _task(name, *overrides):
    from kerazoo.recipes.api import get_task, resolve_config

    return get_task(name)(resolve_config(name, None, list(overrides)))


def _image_loss(*overrides):
    """The image recipe's loss on fixed logits for a few digits of classes 0, 1 and 9."""
    task = _task("image_classification", "data.augment=[]", *overrides)
    loss = task.build_loss(task.prepare_data())
    logits = np.random.default_rng(0).normal(size=(3, 10)).astype("float32")
    return np.asarray(loss(np.array([0, 1, 9]), logits))


def test_class_weight_and_focal_change_the_image_loss():
    plain = _image_loss()
    balanced = _image_loss("train.class_weight=balanced")
    focal = _image_loss("train.loss=focal")
    smoothed = _image_loss("train.label_smoothing=0.2")
    for other in (balanced, focal, smoothed):
        assert other.shape == plain.shape and not np.allclose(other, plain)
    assert (focal < plain).all()  # focal loss down-weights every example
    # digits is nearly balanced: weights are N / (10 * count), close to but not exactly 1
    assert np.allclose(balanced, plain, rtol=0.15)


def test_focal_and_class_weights_take_soft_targets():
    import tensorflow as tf

    task = _task("image_classification", "train.loss=focal", "train.class_weight=balanced",
                 "data.augment=[mixup]")
    loss = task.build_loss(task.prepare_data())
    logits = tf.random.stateless_normal([4, 10], [0, 1])
    labels = tf.constant([1, 2, 3, 4], tf.int64)
    np.testing.assert_allclose(loss(tf.one_hot(labels, 10), logits).numpy(),
                               loss(labels, logits).numpy(), rtol=1e-5)


def test_model_options_reach_the_zoo_builder():
    task = _task("image_classification", "model.options.filters=[4, 8]")
    model = task.inner_model(task.build_model(task.prepare_data()))
    filters = [layer.filters for layer in model.get_layer("backbone").layers
               if hasattr(layer, "filters")]
    assert sorted(set(filters)) == [4, 8]


def test_unknown_loss_names_the_right_key():
    from kerazoo.errors import ConfigError

    task = _task("image_classification", "train.loss=focall")
    with pytest.raises(ConfigError, match=r"^Config key 'train.loss': "):
        task.build_loss(task.prepare_data())


def test_cli_parser_and_recipes_import_without_tensorflow():
    code = ("import sys, argparse; import kerazoo.recipes; from kerazoo.cli import recipes; "
            "p = argparse.ArgumentParser(); recipes.add_parser(p.add_subparsers()); "
            "text = recipes.sources_help(); "
            "assert 'sentiment_reviews' in text and 'csv:PATH' in text, text; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
