"""The speech-commands recipe: embedded set, WAV folders and bad files, TFDS, training,
waveform / WAV-bytes SavedModel, TFLite parity, detection metrics."""

import io
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from kerazoo.errors import ConfigError, DataError

pytestmark = pytest.mark.tf_only

TINY = ["train.epochs=1", "train.steps_per_epoch=3", "train.batch_size=8",
        "train.checkpoint_every=2", "model.name=ds_cnn_s"]
SAVED_MODEL_CLI = Path(sys.executable).parent / "saved_model_cli"


def _task(source, *overrides):
    from kerazoo.recipes.api import get_task, resolve_config

    config = resolve_config("speech_commands", None, [f"data.source={source}", *overrides])
    return get_task("speech_commands")(config)


def _wav_bytes(audio, rate=16_000, channels=1):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def _folder(root, classes=("yes", "no"), per_class=6, noise=True):
    rng = np.random.default_rng(0)
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for clip in range(per_class):
            tone = np.sin(np.arange(12_000) * (0.05 + 0.05 * index)) * 0.5
            audio = tone + rng.normal(0, 0.01, tone.shape)
            (root / name / f"{clip}.wav").write_bytes(_wav_bytes(audio))
    if noise:
        (root / "_background_noise_").mkdir()
        (root / "_background_noise_" / "white.wav").write_bytes(
            _wav_bytes(rng.normal(0, 0.1, 40_000)))
    return root


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from kerazoo.cli import main

    run_dir = tmp_path_factory.mktemp("runs") / "speech"
    code = main(["train", "speech_commands", "--run-dir", str(run_dir),
                 *sum((["--set", item] for item in TINY), [])])
    assert code == 0
    return run_dir


def test_embedded_set_is_fixed_and_voice_disjoint():
    from kerazoo.recipes.embedded import speech

    clips, labels = speech.load("test")
    again, labels_again = speech.load("test")
    np.testing.assert_array_equal(clips, again)
    np.testing.assert_array_equal(labels, labels_again)
    assert clips.shape == (113, 16_000) and np.abs(clips).max() <= 1.0
    assert set(np.bincount(labels, minlength=12)[:10]) == {8}
    train, validation, test = (set(speech.voices(s)) for s in speech.SPLITS)
    assert len(train) == 40 and not (train & test) and not (train & validation)


def test_run_report_has_recall_and_detection_metrics(trained_run):
    for name in ("evaluation.json", "confusion_matrix.svg", "model_card.md", "export/1"):
        assert (trained_run / name).exists(), name
    report = json.loads((trained_run / "evaluation.json").read_text())
    assert report["num_examples"] == 113
    for key in ("accuracy", "recall/yes", "recall/_silence_", "far/stop", "frr/stop"):
        assert 0.0 <= report[key] <= 1.0
    assert 0.0 <= report["eer/yes"] <= 1.0 and "mean_eer" in report
    # The log-mel + linear baseline is trained first and reported beside the model.
    baseline = report["baseline"]
    assert baseline["model"] == "logmel_linear" and baseline["verdict"] in ("model", "baseline")
    assert 0.0 <= baseline["accuracy"] <= 1.0 and 0.0 <= baseline["val_accuracy"] <= 1.0
    assert baseline["verdict_line"] in (trained_run / "model_card.md").read_text()


def test_baseline_head_trained_on_cached_features_scores_the_same_on_waveforms():
    # The baseline's dense head trains on log-mel features computed once; the model it keeps
    # (exported with train.prefer_baseline) takes waveforms and must score what was reported.
    task = _task("speech_commands_tiny")
    data = task.prepare_data()
    report = task.train_baseline(data)
    model = task.baseline_model
    assert model.name == "logmel_linear" and tuple(model.input_shape) == (None, 16_000)
    assert "spec_augment" not in {layer.name for layer in model.get_layer("log_mel_frontend").layers}
    for split, prefix in (("validation", "val_"), ("test", "")):
        scores = task.evaluate(model, data, split)
        assert scores["accuracy"] == pytest.approx(report[f"{prefix}accuracy"], abs=1e-6)
        assert scores["macro_f1"] == pytest.approx(report[f"{prefix}macro_f1"], abs=1e-6)
    assert report["accuracy"] > 1.5 / len(data.class_names)  # well above chance (1/12)


def test_equal_error_rate_on_known_scores():
    from kerazoo.recipes.evaluation import equal_error_rate

    positives = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    assert equal_error_rate(np.array([.9, .8, .7, .6, .4, .3, .2, .1]), positives) == 0.0
    eer = equal_error_rate(np.array([.9, .8, .7, .3, .6, .2, .1, .05]), positives)
    assert eer == pytest.approx(0.25)


def test_saved_model_waveforms_and_wav_bytes_match_keras(trained_run, tmp_path):
    import keras
    import tensorflow as tf

    from kerazoo.recipes.embedded import speech

    version = trained_run / "export" / "1"
    shown = subprocess.run([str(SAVED_MODEL_CLI), "show", "--dir", str(version), "--all"],
                           capture_output=True, text=True, timeout=120, check=True).stdout
    for text in ("signature_def['serving_default']", "signature_def['serving_wav']",
                 "inputs['waveforms']", "inputs['wav_bytes']", "outputs['probabilities']",
                 "outputs['labels']"):
        assert text in shown
    clips = speech.load("test")[0][:3]
    np.save(tmp_path / "clips.npy", clips)
    subprocess.run(
        [str(SAVED_MODEL_CLI), "run", "--dir", str(version), "--tag_set", "serve",
         "--signature_def", "serving_default", "--inputs", f"waveforms={tmp_path / 'clips.npy'}",
         "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=True,
    )
    served = np.load(tmp_path / "out" / "probabilities.npy")
    model = keras.saving.load_model(trained_run / "model.keras", compile=False)
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(model(clips, training=False)))
    np.testing.assert_allclose(served, expected, atol=1e-5)
    loaded = tf.saved_model.load(str(version))
    # A half-second clip is zero-padded at the end, a 1.5 s one centre-cropped.
    short = clips[:1, :8000]
    padded = np.pad(short, [[0, 0], [0, 8000]])
    out = loaded.signatures["serving_default"](waveforms=tf.constant(short))
    np.testing.assert_allclose(out["probabilities"],
                               keras.ops.softmax(model(padded, training=False)), atol=1e-5)
    long = np.pad(clips[:1], [[0, 0], [4000, 4000]])
    out = loaded.signatures["serving_default"](waveforms=tf.constant(long))
    np.testing.assert_allclose(out["probabilities"], expected[:1], atol=1e-5)
    wav = tf.constant([_wav_bytes(clips[0]), _wav_bytes(clips[1])])
    by_wav = loaded.signatures["serving_wav"](wav_bytes=wav)["probabilities"].numpy()
    np.testing.assert_allclose(by_wav, expected[:2], atol=2e-3)  # 16-bit quantization


def test_tflite_export_matches_the_saved_model(trained_run, capsys):
    import tensorflow as tf

    from kerazoo.cli import main
    from kerazoo.recipes.embedded import speech

    assert main(["export", str(trained_run), "--format", "tflite"]) == 0
    path = capsys.readouterr().out.strip().splitlines()[-1]
    clips = speech.load("test")[0][:2]
    interpreter = tf.lite.Interpreter(model_path=path)
    runner = interpreter.get_signature_runner("serving_default")
    lite = runner(waveforms=clips)["probabilities"]
    loaded = tf.saved_model.load(str(trained_run / "export" / "1"))
    full = loaded.signatures["serving_default"](waveforms=tf.constant(clips))["probabilities"]
    np.testing.assert_allclose(lite, full, atol=1e-4)


def test_predict_verb_reads_wav_files(trained_run, tmp_path, capsys):
    from kerazoo.cli import main
    from kerazoo.recipes.embedded import speech

    clip = speech.load("test")[0][0]
    (tmp_path / "a.wav").write_bytes(_wav_bytes(clip))
    assert main(["predict", str(trained_run), str(tmp_path / "a.wav"), "--top", "2"]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'a.wav'}: ")
    (tmp_path / "b.wav").write_bytes(b"not audio")
    assert main(["predict", str(trained_run), str(tmp_path / "b.wav")]) == 1
    assert "not a readable PCM WAV file" in capsys.readouterr().err


def test_folder_source_with_background_noise(tmp_path):
    task = _task(f"folder:{_folder(tmp_path / 'clips')}")
    data = task.prepare_data()
    assert data.class_names == ["no", "yes", "_silence_"]  # silence cut from the background
    assert data.feature_spec == ((16_000,), "float32")
    assert sum(data.sizes.values()) == 12 + 1  # 10% of the 12 clips, rounded
    assert data.info["noise"].shape == (2, 16_000)  # 40,000 samples of noise -> two clips
    plain = _task(f"folder:{tmp_path / 'clips'}", "data.silence_fraction=0").prepare_data()
    assert plain.class_names == ["no", "yes"]
    clips, _ = next(iter(task.build_inputs(data, "train", per_replica_batch=4, training=True)))
    assert clips.shape == (4, 16_000)


def test_bad_wav_files_are_named(tmp_path):
    root = _folder(tmp_path / "clips", noise=False)
    rng = np.random.default_rng(1)
    (root / "yes" / "stereo.wav").write_bytes(_wav_bytes(rng.normal(0, .1, 2 * 16000),
                                                         channels=2))
    assert _task(f"folder:{root}").prepare_data().sizes  # stereo is averaged to mono
    (root / "yes" / "slow.wav").write_bytes(_wav_bytes(rng.normal(0, .1, 8000), rate=8000))
    with pytest.raises(DataError, match=r"slow\.wav: sample rate 8000 Hz, expected 16000 Hz"):
        _task(f"folder:{root}").prepare_data()
    (root / "yes" / "slow.wav").unlink()
    (root / "yes" / "cd.wav").write_bytes(_wav_bytes(rng.normal(0, .1, 4410), rate=44_100))
    with pytest.raises(DataError, match=r"cd\.wav: sample rate 44100 Hz"):
        _task(f"folder:{root}").prepare_data()
    (root / "yes" / "cd.wav").unlink()
    whole = _wav_bytes(rng.normal(0, .1, 16000))
    (root / "no" / "cut.wav").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"cut\.wav: truncated WAV file"):
        _task(f"folder:{root}").prepare_data()
    (root / "no" / "cut.wav").write_bytes(b"RIFF but not really a wave file")
    with pytest.raises(DataError, match=r"cut\.wav: not a readable PCM WAV file"):
        _task(f"folder:{root}").prepare_data()
    (root / "no" / "cut.wav").unlink()
    (root / "maybe").mkdir()
    with pytest.raises(DataError, match=r"maybe: empty class folder"):
        _task(f"folder:{root}").prepare_data()


def test_tfds_speech_commands_mock_clips_are_padded(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=16):
        task = _task("tfds:speech_commands")
        data = task.prepare_data()
        assert data.feature_spec == ((16_000,), "float32") and len(data.class_names) == 12
        clips, _ = next(iter(task.build_inputs(data, "train", per_replica_batch=4, training=True)))
        assert clips.shape == (4, 16_000)
    with pytest.raises(DataError, match=r"tfds:speech_commands is not prepared in"):
        _task("tfds:speech_commands", f"data.data_dir={tmp_path}").prepare_data()


def test_config_errors():
    with pytest.raises(ConfigError, match=r"'data.augment': unknown augmentation 'pitch'"):
        _task("speech_commands_tiny", "data.augment=[pitch]").prepare_data()
    with pytest.raises(ConfigError, match=r"'data.features' must be one of log_mel, mfcc"):
        _task("speech_commands_tiny", "data.features=fbank").prepare_data()


def test_mirrored_two_replicas_with_mfcc_and_lstm(tmp_path):
    from kerazoo.distribute import mirrored_strategy
    from kerazoo.recipes import api

    report = api.train("speech_commands", tmp_path / "run", overrides=[
        *TINY, "model.name=lstm_kws", "data.features=mfcc"],
        strategy=mirrored_strategy(["/cpu:0", "/cpu:1"]), export=False, verbose=False)
    assert report["num_examples"] == 113


@pytest.mark.slow
@pytest.mark.multiprocess
def test_sigkill_then_rerun_resumes_to_the_same_weights(assert_resumes_after_sigkill):
    assert_resumes_after_sigkill("speech_commands", [
        "train.epochs=2", "train.steps_per_epoch=4", "train.batch_size=8",
        "train.checkpoint_every=3", "model.name=ds_cnn_s"
    ])


def test_kerazoo_serve_rest_takes_waveforms(trained_run, rest_predict):
    import keras

    from kerazoo.recipes.embedded import speech

    clips = speech.load("test")[0][:2]
    predictions = rest_predict(trained_run / "export", clips.tolist())
    model = keras.saving.load_model(trained_run / "model.keras", compile=False)
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(model(clips, training=False)))
    served = [row["probabilities"] for row in predictions]
    np.testing.assert_allclose(served, expected, atol=1e-5)



def test_shipped_preset_reaches_its_stated_accuracy():
    import keras

    from kerazoo import zoo
    from kerazoo.recipes.embedded import speech

    model = zoo.from_preset("speech_bc_resnet_embedded")
    preset = next(p for p in zoo.list_presets() if p["name"] == "speech_bc_resnet_embedded")
    info = json.loads((Path(preset["path"]) / "metadata.json").read_text())
    clips, labels = speech.load("test")
    predictions = keras.ops.convert_to_numpy(model(clips, training=False)).argmax(-1)
    accuracy = float((predictions == labels).mean())
    assert accuracy == pytest.approx(info["metrics"]["accuracy"], abs=2e-3)
    assert info["labels"] == list(speech.CLASS_NAMES) and accuracy > 0.9
