"""``train.prefer_baseline``: a run exports its baseline when the baseline wins on validation."""

import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only

# A text MLP trained 4 steps at a negligible learning rate: near chance on the embedded corpus,
# where the TF-IDF baseline reaches ~0.65 validation macro-F1. The neural model cannot win.
UNDERTRAINED = ["train.epochs=1", "train.steps_per_epoch=4", "train.batch_size=8",
                "train.learning_rate=1e-7", "model.name=text_mlp", "data.vocab_size=500",
                "data.sequence_length=16"]


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
    """The two things ``choose_exported_model`` reads of a task, with fixed validation scores."""

    def __init__(self, prefer, ours):
        from kerazoo.recipes.classification import BaselineTrainConfig
        from kerazoo.recipes.config import ExperimentConfig, ModelConfig

        self.config = ExperimentConfig(train=BaselineTrainConfig(prefer_baseline=prefer),
                                       model=ModelConfig(name="net"))
        self.baseline_model = "the baseline model"
        self.ours = ours

    def evaluate(self, model, data, split):
        return {"macro_f1": self.ours[split]}


class _Data:
    sizes = {"train": 10, "validation": 5, "test": 5}


@pytest.mark.parametrize("prefer, ours, exported", [
    (True, 0.70, "model"),     # the trained model wins: kept
    (True, 0.60, "baseline"),  # the baseline wins: exported
    (True, 0.65, "model"),     # a tie keeps the configured model
    (False, 0.60, "model"),    # the key off: kept, the trainer warns
])
def test_choice_rule(prefer, ours, exported):
    from kerazoo.recipes.classification import choose_exported_model

    baseline = {"model": "tfidf_linear", "val_macro_f1": 0.65, "macro_f1": 0.64}
    task = _Task(prefer, {"validation": ours, "test": ours - 0.01})
    chosen = choose_exported_model(task, "the trained model", _Data(), baseline)
    assert baseline["exported"] == exported
    assert chosen == ("the baseline model" if exported == "baseline" else "the trained model")
    if exported == "baseline":
        assert baseline["model_test_macro_f1"] == pytest.approx(0.59)
        assert "exported the baseline" in baseline["verdict_line"]


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
