"""``train.prefer_baseline``: a run exports its baseline when the baseline wins on validation."""

import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only

# A text MLP trained 4 steps at a negligible learning rate: near chance on the embedded corpus,
# where the TF-IDF baseline reaches ~0.65 validation macro-F1. The neural model cannot win.
# The ensemble of the two (train.ensemble_baseline, also a sentiment default) is off here: its
# validation score would sit within noise of the baseline's, and these tests are about the
# baseline; the ensemble has its own tests below.
UNDERTRAINED = ["train.epochs=1", "train.steps_per_epoch=4", "train.batch_size=8",
                "train.learning_rate=1e-7", "model.name=text_mlp", "data.vocab_size=500",
                "data.sequence_length=16", "train.ensemble_baseline=false"]


def _train(run_dir, *extra):
    from kerazoo.recipes import api

    report = api.train("sentiment_analysis", run_dir, overrides=[*UNDERTRAINED, *extra],
                       export=False, verbose=False)
    return report, json.loads((run_dir / "evaluation.json").read_text())


def test_the_baseline_is_saved_scored_and_named_when_it_wins(tmp_path):
    """The sentiment default (``train.prefer_baseline`` true): the TF-IDF baseline wins and is
    what the run saves, exports as a preset that round-trips, and refuses to fine-tune from."""
    import keras

    from kerazoo import zoo
    from kerazoo.errors import ConfigError
    from kerazoo.recipes import api
    from kerazoo.recipes.export import export_preset

    report, saved = _train(tmp_path / "run")
    baseline = saved["baseline"]
    assert baseline["exported"] == "baseline" and baseline["verdict"] == "baseline"
    assert baseline["replaced_model"] == "text_mlp"
    assert baseline["val_macro_f1"] > baseline["model_val_macro_f1"]
    # The headline test metrics are those of the model on disk: the baseline's.
    assert saved["macro_f1"] == pytest.approx(baseline["macro_f1"], abs=1e-6)
    assert saved["accuracy"] == pytest.approx(baseline["accuracy"], abs=1e-6)
    assert baseline["model_test_macro_f1"] < baseline["macro_f1"]
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.name == "tfidf_linear"
    texts = np.asarray(["a great film", "awful and boring"], dtype=object)
    classes = json.loads((tmp_path / "run" / "labels.json").read_text())
    assert model.predict(texts, verbose=0).shape == (2, len(classes))
    card = (tmp_path / "run" / "model_card.md").read_text()
    assert card.startswith("# Model card: tfidf_linear for sentiment_analysis")
    assert "**Exported model**: the baseline `tfidf_linear`, not the configured `text_mlp`" in card
    assert "exported the baseline (train.prefer_baseline=true" in card
    assert report["baseline"]["exported"] == "baseline"
    # The vocabulary and IDF weights are in the vectorizer's config: a preset carries them.
    run_task, run_model = api.load_run(tmp_path / "run")
    preset = export_preset(run_task, run_model, tmp_path / "run", classes, name="tfidf_demo")
    restored = zoo.from_preset(preset)
    np.testing.assert_allclose(restored.predict(texts, verbose=0),
                               model.predict(texts, verbose=0), atol=1e-6)
    with pytest.raises(ConfigError, match="no zoo backbone to fine-tune"):
        api.train("sentiment_analysis", tmp_path / "again", overrides=[
            *UNDERTRAINED, f"model.init=run:{tmp_path / 'run'}"], export=False, verbose=False)


def test_with_prefer_baseline_off_the_configured_model_is_kept_with_a_warning(tmp_path):
    import keras

    _, saved = _train(tmp_path / "run", "train.prefer_baseline=false")
    baseline = saved["baseline"]
    assert baseline["exported"] == "model" and baseline["verdict"] == "baseline"
    assert baseline["verdict_line"].startswith("WARNING: the baseline tfidf_linear beats")
    assert saved["macro_f1"] == pytest.approx(baseline["model_val_macro_f1"], abs=0.25)
    assert keras.saving.load_model(tmp_path / "run" / "model.keras").name != "tfidf_linear"
    card = (tmp_path / "run" / "model_card.md").read_text()
    assert card.startswith("# Model card: text_mlp for") and "Exported model" not in card


class _Task:
    """What ``choose_exported_model`` reads of a task: 100 validation examples, and each model
    (by name) right on its first ``correct[name]`` of them (so the better one is right wherever
    the worse one is); test scores a point below."""

    def __init__(self, correct, prefer=True, ensemble=False):
        from kerazoo.recipes.classification import BaselineTrainConfig
        from kerazoo.recipes.config import ExperimentConfig, ModelConfig

        self.config = ExperimentConfig(
            train=BaselineTrainConfig(prefer_baseline=prefer, ensemble_baseline=ensemble),
            model=ModelConfig(name="net"))
        self.baseline_model = _tiny_classifier("tfidf_linear", 1)
        self.correct, self.truth, self.seen = correct, np.arange(100) % 2, []

    def split_arrays(self, data, split):
        return np.arange(100), self.truth

    def predict(self, model, features):
        self.seen.append(model.name)
        predicted = self.truth.copy()
        predicted[self.correct[model.name]:] ^= 1
        return np.eye(2)[predicted]

    def evaluate(self, model, data, split):
        assert split == "test"  # the choice itself is made on validation only
        return {"macro_f1": self.correct[model.name] / 100 - 0.01}


class _Data:
    sizes = {"train": 10, "validation": 100, "test": 100}
    class_names = ["negative", "positive"]


def _tiny_classifier(name, seed):
    import keras

    keras.utils.set_random_seed(seed)
    x = keras.Input((3,))
    return keras.Model(x, keras.layers.Dense(2)(x), name=name)


def _choose(correct, prefer=True, ensemble=False):
    from kerazoo.recipes.classification import choose_exported_model

    task = _Task(correct, prefer=prefer, ensemble=ensemble)
    baseline = {"model": "tfidf_linear", "val_macro_f1": correct["tfidf_linear"] / 100,
                "macro_f1": correct["tfidf_linear"] / 100 - 0.01}
    trained = _tiny_classifier("net", 0)
    chosen = choose_exported_model(task, trained, _Data(), baseline)
    return chosen, baseline, trained, task


@pytest.mark.parametrize("correct, prefer, exported", [
    ({"net": 80, "tfidf_linear": 70}, True, "model"),     # the trained model wins: kept
    ({"net": 70, "tfidf_linear": 80}, True, "baseline"),  # the baseline clearly wins: exported
    ({"net": 70, "tfidf_linear": 72}, True, "model"),     # 2 of 100 examples: noise, kept
    ({"net": 70, "tfidf_linear": 70}, True, "model"),     # a tie keeps the configured model
    ({"net": 70, "tfidf_linear": 80}, False, "model"),    # the key off: kept, the trainer warns
])
def test_choice_rule(correct, prefer, exported):
    chosen, baseline, trained, task = _choose(correct, prefer=prefer)
    assert baseline["exported"] == exported
    assert chosen is (task.baseline_model if exported == "baseline" else trained)
    if exported == "baseline":
        assert baseline["model_test_macro_f1"] == pytest.approx(0.69)
        assert "exported the baseline" in baseline["verdict_line"]


@pytest.mark.parametrize("correct, prefer, exported", [
    ({"net": 70, "tfidf_linear": 65, "ensemble": 80}, True, "ensemble"),
    ({"net": 70, "tfidf_linear": 85, "ensemble": 80}, True, "baseline"),
    ({"net": 70, "tfidf_linear": 65, "ensemble": 72}, True, "model"),  # noise: kept
    ({"net": 70, "tfidf_linear": 80, "ensemble": 80}, True, "baseline"),  # tie: the cheaper
    ({"net": 70, "tfidf_linear": 85, "ensemble": 80}, False, "ensemble"),  # no baseline alone
])
def test_choice_rule_with_the_ensemble(correct, prefer, exported):
    from kerazoo.zoo.ensemble import ensemble_members

    chosen, baseline, trained, task = _choose(correct, prefer=prefer, ensemble=True)
    assert baseline["exported"] == exported
    assert baseline["ensemble_val_macro_f1"] == pytest.approx(correct["ensemble"] / 100, abs=0.01)
    if exported == "ensemble":
        assert [m.name for m in ensemble_members(chosen)] == ["net", "tfidf_linear"]
        assert baseline["verdict"] == "ensemble" and baseline["replaced_model"] == "net"
        assert baseline["model_test_macro_f1"] == pytest.approx(0.69)
        assert "exported the ensemble" in baseline["verdict_line"]
    else:
        assert chosen is (trained if exported == "model" else task.baseline_model)


def test_an_exported_ensemble_serves_round_trips_and_fine_tunes(tmp_path):
    """What a run that exported the ensemble gives a user: a SavedModel on raw strings, a preset
    that round-trips, a card that says so, and a run ``model.init`` can start from (its
    configured model)."""
    import shutil

    import keras
    import tensorflow as tf

    from kerazoo import zoo
    from kerazoo.recipes import api, model_card
    from kerazoo.recipes.export import export_once, export_preset
    from kerazoo.zoo.ensemble import probability_ensemble
    from kerazoo.zoo.text import tfidf_linear_classifier

    _train(tmp_path / "run", "train.prefer_baseline=false")
    task, model = api.load_run(tmp_path / "run")
    data = task.prepare_data()
    classes = json.loads((tmp_path / "run" / "labels.json").read_text())
    texts, _ = task.split_arrays(data, "train")
    ensemble = probability_ensemble([model, tfidf_linear_classifier(
        texts, num_classes=len(classes))])
    probe = ["a great film", "awful and boring", ""]
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(ensemble(tf.constant(probe))))

    served = tf.saved_model.load(str(export_once(task, ensemble, classes, tmp_path / "run")))
    outputs = served.signatures["serving_default"](texts=tf.constant(probe))
    np.testing.assert_allclose(outputs["probabilities"].numpy(), expected, atol=1e-5)

    preset = export_preset(task, ensemble, tmp_path / "run", classes, name="ensemble_demo")
    restored = zoo.from_preset(preset)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(
        restored(tf.constant(probe)))), expected, atol=1e-5)

    report = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    report["baseline"].update(exported="ensemble")
    (tmp_path / "card").mkdir()
    model_card.write(tmp_path / "card", task.config, data, report, "strings")
    card = (tmp_path / "card" / "model_card.md").read_text()
    assert card.startswith("# Model card: text_mlp + tfidf_linear for sentiment_analysis")
    assert "the average of the probabilities of the configured `text_mlp`" in card

    shutil.copytree(tmp_path / "run", tmp_path / "ensemble_run")
    ensemble.save(tmp_path / "ensemble_run" / "model.keras")
    again = api.train("sentiment_analysis", tmp_path / "again", overrides=[
        *UNDERTRAINED, f"model.init=run:{tmp_path / 'ensemble_run'}"], export=False,
        verbose=False)
    assert "accuracy" in again


def test_speech_exports_its_log_mel_baseline_as_a_waveform_savedmodel(tmp_path):
    import keras
    import tensorflow as tf

    from kerazoo.recipes import api

    run_dir = tmp_path / "speech"
    api.train("speech_commands", run_dir, overrides=[
        "train.epochs=1", "train.steps_per_epoch=3", "train.batch_size=8", "model.name=ds_cnn_s",
        "train.learning_rate=1e-7", "train.prefer_baseline=true"], verbose=False)
    saved = json.loads((run_dir / "evaluation.json").read_text())
    assert saved["baseline"]["exported"] == "baseline"
    assert saved["accuracy"] == pytest.approx(saved["baseline"]["accuracy"], abs=1e-6)
    model = keras.saving.load_model(run_dir / "model.keras")
    assert model.name == "logmel_linear"
    clips = np.random.default_rng(0).uniform(-0.1, 0.1, (2, 16_000)).astype("float32")
    served = tf.saved_model.load(str(run_dir / "export" / "1"))
    outputs = served.signatures["serving_default"](waveforms=tf.constant(clips))
    np.testing.assert_allclose(outputs["probabilities"].numpy(),
                               keras.ops.softmax(model(clips)).numpy(), atol=1e-5)
