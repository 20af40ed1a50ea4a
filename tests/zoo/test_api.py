"""The zoo's API: browsing, building with options, fine-tuning heads, frozen BatchNorm."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerazoo import zoo
from kerazoo.errors import ConfigError, NotFoundError


def test_list_models_filters_by_pattern_task_and_pretrained():
    assert zoo.list_models("resnet2*") == ["resnet20", "resnet20_v2"]
    forecasters = zoo.list_models(task="forecasting")
    assert "dlinear" in forecasters and "resnet20" not in forecasters
    assert set(zoo.list_models(pretrained=True)) | set(zoo.list_models(pretrained=False)) == set(
        zoo.list_models()
    )
    with pytest.raises(ConfigError, match="task must be one of"):
        zoo.list_models(task="detection")


def test_every_model_config_has_the_documented_keys():
    for name in zoo.list_models():
        config = zoo.model_config(name)
        assert {"task", "family", "paper", "params", "input_shape", "preprocessing",
                "outputs", "overrides", "summary"} <= set(config), name
        assert config["task"] in zoo.TASKS
        if config["task"] == "forecasting":
            assert {"horizon", "num_targets"} <= set(config)
        else:
            assert config["num_classes"] >= 2


def test_unknown_model_suggests_close_names():
    with pytest.raises(NotFoundError, match="resnet20"):
        zoo.build("resnet21")


def test_unknown_override_lists_accepted_keywords():
    with pytest.raises(ConfigError, match="accepts: .*filters"):
        zoo.build("simple_cnn", widht=3)


def test_forecaster_refuses_classifier_options():
    with pytest.raises(ConfigError, match="forecaster"):
        zoo.build("dlinear", num_classes=3)


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_simple_cnn_takes_digits_mnist_and_cifar_shapes(shape):
    model = zoo.build("simple_cnn", input_shape=shape, num_classes=7)
    assert tuple(model(np.zeros((2, *shape), "float32")).shape) == (2, 7)


def test_include_top_false_returns_features_or_pooled_features():
    features = zoo.build("resnet20", include_top=False)
    assert features.output.shape == (None, 8, 8, 64)
    pooled = zoo.build("resnet20", include_top=False, pooling="max")
    assert pooled.output.shape == (None, 64)
    assert pooled.get_layer("head").output.shape == (None, 64)


def test_text_model_overrides_vocab_and_sequence_length():
    model = zoo.build("text_cnn", vocab_size=100, sequence_length=20, num_classes=4)
    assert model.input.shape == (None, 20) and model.input.dtype == "int32"
    assert model.get_layer("backbone").get_layer("embedding").input_dim == 100


def test_forecaster_output_is_horizon_by_targets():
    model = zoo.build("lstm_forecaster", input_shape=(30, 4), horizon=5, num_targets=2)
    assert model.output.shape == (None, 5, 2)
    revin = zoo.build("dlinear", input_shape=(30, 4), horizon=5, revin=True)
    assert revin.output.shape == (None, 5, 4)


def _fit(model, x, y, epochs=1):
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=8, epochs=epochs, verbose=0)


def test_replace_head_freezes_backbone_and_keeps_batchnorm_statistics():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(16, 8, 8, 1)) * 3 + 2).astype("float32")
    y = rng.integers(0, 3, 16)
    base = zoo.build("simple_cnn", input_shape=(8, 8, 1))
    model = zoo.replace_head(base, 3, dropout=0.1)
    backbone = model.get_layer("backbone")
    assert backbone is base.get_layer("backbone") and not backbone.trainable
    assert model.output.shape == (None, 3)
    bn = backbone.get_layer("stage0_conv0_bn")
    frozen = [keras.ops.convert_to_numpy(w) for w in backbone.weights]
    _fit(model, x, y)  # fit calls the model with training=True
    for before, after in zip(frozen, backbone.weights):
        np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(after))

    zoo.set_backbone_trainable(model, True)
    _fit(model, x, y)
    moving_mean = keras.ops.convert_to_numpy(bn.moving_mean)
    assert not np.allclose(moving_mean, frozen[[w.path for w in backbone.weights].index(
        bn.moving_mean.path)]), "unfrozen BatchNorm must update its statistics"

    zoo.set_backbone_trainable(model, True, keep_batchnorm_frozen=True)
    kernel = keras.ops.convert_to_numpy(backbone.get_layer("stage0_conv0").kernel)
    _fit(model, x, y)
    np.testing.assert_array_equal(moving_mean, keras.ops.convert_to_numpy(bn.moving_mean))
    assert not np.array_equal(kernel, keras.ops.convert_to_numpy(
        backbone.get_layer("stage0_conv0").kernel))


def test_replace_head_on_a_headless_model():
    base = zoo.build("ds_cnn_s", input_shape=(32, 40, 1), include_top=False)
    model = zoo.replace_head(base, 5, freeze_backbone=False)
    assert model.output.shape == (None, 5) and model.get_layer("backbone").trainable


def test_replace_head_refuses_foreign_models():
    inputs = keras.Input((3,))
    with pytest.raises(Exception, match="backbone"):
        zoo.replace_head(keras.Model(inputs, keras.layers.Dense(2)(inputs)), 2)


def test_profile_counts_a_dense_and_an_lstm_exactly():
    inputs = keras.Input((10, 4))
    x = keras.layers.LSTM(8)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    counts = zoo.profile(model)
    assert counts["macs"] == 10 * (4 * 32 + 8 * 32) + 8 * 3
    assert counts["params"] == model.count_params()
    ragged = keras.Input((None, 4))
    with pytest.raises(ConfigError, match="input_shape"):
        zoo.profile(keras.Model(ragged, keras.layers.Dense(2)(ragged)))
    assert zoo.profile(keras.Model(ragged, keras.layers.Dense(2)(ragged)), (5, 4))["macs"] == 40


@pytest.mark.tf_only
@pytest.mark.parametrize(
    "module",
    ["kerazoo.zoo", "kerazoo.zoo.api", "kerazoo.zoo.presets", "kerazoo.zoo.profile",
     "kerazoo.zoo.weights", "kerazoo.zoo.applications", "kerazoo.testing.model_test"],
)
def test_documented_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0 and result.failed == 0


def test_docs_table_lists_every_model_with_its_parameter_count():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "api" / "zoo.md").read_text()
    for name in zoo.list_models():
        assert f"| `{name}` |" in page and f"{zoo.model_config(name)['params']:,}" in page, name
