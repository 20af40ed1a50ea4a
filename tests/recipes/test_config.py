"""Experiment config: YAML + --set overrides, every key and type checked (no TensorFlow)."""

import pytest

from kerazoo.errors import ConfigError
from kerazoo.recipes.api import resolve_config
from kerazoo.recipes.config import apply_overrides, load_yaml, to_yaml

pytestmark = pytest.mark.tf_only


def test_overrides_apply_in_order_and_types_are_coerced():
    config = resolve_config("image_classification", None, [
        "train.epochs=3", "train.learning_rate=1", "data.augment=[flip, translate]",
        "data.image_size=[16, 16]", "runtime.jit_compile=true", "train.epochs=4",
    ])
    assert config.train.epochs == 4
    assert config.train.learning_rate == 1.0 and isinstance(config.train.learning_rate, float)
    assert config.data.augment == ["flip", "translate"]
    assert config.data.image_size == [16, 16]
    assert config.runtime.jit_compile is True


def test_typo_names_the_key_and_the_closest_valid_one():
    with pytest.raises(ConfigError, match=r"Unknown config key 'train.learning_rat'.*"
                                          r"'train.learning_rate'"):
        resolve_config("image_classification", None, ["train.learning_rat=0.1"])
    with pytest.raises(ConfigError, match=r"'data.image_sise'.*'data.image_size'"):
        resolve_config("image_classification", None, ["data.image_sise=[8, 8]"])


def test_wrong_type_names_the_expected_type():
    with pytest.raises(ConfigError, match=r"'train.batch_size' expects int.*'big'"):
        resolve_config("image_classification", None, ["train.batch_size=big"])
    with pytest.raises(ConfigError, match=r"'runtime.deterministic' expects bool"):
        resolve_config("image_classification", None, ["runtime.deterministic=3"])


def test_bad_choice_suggests():
    with pytest.raises(ConfigError, match=r"runtime.strategy.*did you mean 'mirrored'"):
        resolve_config("image_classification", None, ["runtime.strategy=mirored"])


def test_yaml_file_round_trip_and_typo_names_the_file(tmp_path):
    config = resolve_config("image_classification", None, ["train.epochs=2"])
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(config))
    again = load_yaml(resolve_config("image_classification"), path)
    assert again == config
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochz: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: Unknown config key 'train.epochz'"):
        resolve_config("image_classification", bad, [])


def test_override_without_equals_is_rejected():
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides(resolve_config("image_classification"), ["train.epochs"])


def test_float_in_exponent_notation_is_a_float_not_a_string():
    # PyYAML follows YAML 1.1, where "3e-3" is a string; users type it anyway.
    from kerazoo.recipes.api import resolve_config

    config = resolve_config("image_classification", None, ["train.learning_rate=3e-3"])
    assert config.train.learning_rate == 0.003


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("train:\n  epochs: [1, 2\n  batch_size: 3\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:3:13: not valid YAML"):
        resolve_config("image_classification", bad, [])


def test_a_set_key_the_task_ignores_is_refused_with_key_and_task():
    for key in ("train.label_smoothing=0.1", "train.class_weight=balanced"):
        with pytest.raises(ConfigError, match=rf"'{key.split('=')[0]}' is not used by the "
                                              r"time_series_forecasting recipe"):
            resolve_config("time_series_forecasting", None, [key])
    # The same keys are the classification recipes' own.
    resolve_config("image_classification", None, ["train.label_smoothing=0.1",
                                                  "train.class_weight=balanced"])


def test_bad_source_lists_the_recipe_sources():
    with pytest.raises(ConfigError, match=r"'mnist' is not a source of image_classification; "
                                          r"use digits, tfds:NAME, folder:PATH"):
        resolve_config("image_classification", None, ["data.source=mnist"])


def test_model_options_are_checked_against_the_builder_with_a_close_name():
    config = resolve_config("image_classification", None, ["model.name=resnet20",
                                                           "model.options.drop_path_rate=0.1"])
    assert config.model.options == {"drop_path_rate": 0.1}
    with pytest.raises(ConfigError, match=r"'model.options.drop_path': resnet20 has no option "
                                          r"'drop_path' \(did you mean 'drop_path_rate'\?\)"):
        resolve_config("image_classification", None, ["model.name=resnet20",
                                                      "model.options.drop_path=0.1"])


def test_issue19_training_keys_defaults_and_bad_values():
    image = resolve_config("image_classification", None, [])
    assert image.train.precise_bn_batches == 16 and image.train.checkpoint_seconds == 60.0
    assert image.train.checkpoint_every is None and image.train.early_stopping_patience == 10
    assert image.train.early_stopping_start_epoch == 10
    assert image.train.early_stopping_restore == "on_stop"
    sentiment = resolve_config("sentiment_analysis", None, [])
    assert sentiment.train.early_stopping_patience == 2 and sentiment.train.prefer_baseline
    assert sentiment.train.early_stopping_start_epoch == 0
    assert sentiment.train.early_stopping_restore == "best"
    speech = resolve_config("speech_commands", None, [])
    assert speech.train.early_stopping_patience == 5 and speech.model.batchnorm_momentum is None
    off = resolve_config("image_classification", None, ["train.early_stopping_patience=null",
                                                        "train.precise_bn_batches=0"])
    assert off.train.early_stopping_patience is None and off.train.precise_bn_batches == 0
    for override, text in (("train.precise_bn_batches=-1", "precise_bn_batches"),
                           ("train.early_stopping_patience=0", "early_stopping_patience"),
                           ("train.early_stopping_start_epoch=-1", "early_stopping_start_epoch"),
                           ("train.early_stopping_restore=last", "early_stopping_restore"),
                           ("train.checkpoint_seconds=-5", "checkpoint_seconds"),
                           ("train.checkpoint_every=0", "checkpoint_every")):
        with pytest.raises(ConfigError, match=text):
            resolve_config("image_classification", None, [override])
