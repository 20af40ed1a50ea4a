"""The sentiment recipe on a keras-hub backbone (``--model keras_hub:PRESET``), offline.

A tiny BERT (2 layers, hidden 16) and a WordPiece vocabulary built from the training texts are
made with keras-hub's own classes and saved with ``save_to_preset`` to a temporary folder; the
recipe fine-tunes it from that folder, exports it, and the SavedModel must take raw strings and
agree with the Keras model.
"""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from kerazoo.errors import ConfigError

pytestmark = pytest.mark.tf_only
keras_hub = pytest.importorskip("keras_hub")

# saved_model_cli with tensorflow-text's ops registered: the tokenizer's ops (RegexSplitWithOffsets,
# FastWordpieceTokenizeWithOffsets) live in tensorflow-text, not in TensorFlow itself, so a bare
# saved_model_cli fails with "Op type not registered".
SAVED_MODEL_CLI = [sys.executable, "-c", "import sys, tensorflow_text; from "
                   "tensorflow.python.tools.saved_model_cli import main; sys.exit(main())"]
TEXTS = ["the film was wonderful", "an awful, boring meal", "", "qwerty ünïcode wörds never seen"]
# A few steps of a tiny random encoder cannot beat the TF-IDF baseline: prefer_baseline off keeps
# these tests on the keras-hub model's path.
TINY = ["data.sequence_length=16", "train.batch_size=8", "train.steps_per_epoch=3",
        "train.checkpoint_seconds=0", "train.early_stopping_patience=null",
        "train.prefer_baseline=false", "train.ensemble_baseline=false"]


def _rows(count=96):
    """Short reviews whose label is carried by one sentiment word, in two varied templates."""
    positive = ["great", "wonderful", "loved", "superb", "excellent", "charming"]
    negative = ["awful", "boring", "hated", "terrible", "dull", "broken"]
    things = ["film", "plot", "acting", "soundtrack", "meal", "phone", "hotel", "service"]
    rows = []
    for i in range(count):
        label = i % 2
        word = (positive if label else negative)[(i // 2) % 6]
        thing = things[(i * 7) % len(things)]
        text = (f"the {thing} was {word}" if i % 3 else f"honestly a {word} {thing}, {i} stars")
        rows.append((text, "positive" if label else "negative"))
    return rows


@pytest.fixture(scope="module")
def tiny_preset(tmp_path_factory):
    """``(preset_dir, csv_path)``: a tiny BERT preset whose vocabulary comes from the CSV."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("hub")
    rows = _rows()
    with open(root / "reviews.csv", "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(("text", "label"))
        writer.writerows(rows)
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices([text for text, _ in rows]), vocabulary_size=120,
        reserved_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    preset = root / "tiny_bert"
    keras_hub.models.BertTokenizer(vocabulary=vocabulary).save_to_preset(str(preset))
    keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary), num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=32).save_to_preset(str(preset))
    return preset, root / "reviews.csv"


@pytest.fixture(scope="module")
def hub_run(tiny_preset, tmp_path_factory):
    """Two epochs through the CLI (frozen, then unfrozen), exported."""
    from kerazoo.cli import main

    preset, data = tiny_preset
    run_dir = tmp_path_factory.mktemp("runs") / "hub"
    code = main(["train", "sentiment_analysis", "--model", f"keras_hub:{preset}",
                 "--data", f"csv:{data}", "--epochs", "2", "--run-dir", str(run_dir),
                 *sum((["--set", item] for item in TINY), [])])
    assert code == 0
    return run_dir


def _task(*overrides):
    from kerazoo.recipes.api import get_task, resolve_config

    config = resolve_config("sentiment_analysis", None, list(overrides))
    return get_task("sentiment_analysis")(config)


@pytest.mark.slow
def test_saved_model_on_raw_strings_matches_keras(hub_run, tmp_path):
    import keras
    import tensorflow as tf

    import kerazoo.recipes.hub_text  # noqa: F401  (registers HubTextClassifier for load_model)

    version = hub_run / "export" / "1"
    manifest = json.loads((version / "export.json").read_text())
    assert manifest["signatures"]["serving_default"]["inputs"] == {
        "texts": {"dtype": "string", "shape": [None]}}
    subprocess.run(
        [*SAVED_MODEL_CLI, "run", "--dir", str(version), "--tag_set", "serve",
         "--signature_def", "serving_default", "--input_exprs", f"texts={TEXTS!r}",
         "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=180, check=True,
    )
    served = np.load(tmp_path / "out" / "probabilities.npy")
    model = keras.saving.load_model(hub_run / "model.keras", compile=False)
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(model(tf.constant(TEXTS))))
    assert served.shape == (4, 2)
    np.testing.assert_allclose(served, expected, atol=1e-5)
    labels = np.load(tmp_path / "out" / "labels.npy", allow_pickle=True)
    assert set(labels) <= {b"negative", b"positive"}


@pytest.mark.slow
def test_frozen_then_unfrozen_by_default_with_the_baseline_beside(hub_run, tiny_preset):
    import keras
    import tensorflow as tf

    import kerazoo.recipes.hub_text  # noqa: F401

    config = (hub_run / "config.yaml").read_text()
    for line in ("freeze_backbone: true", "unfreeze_epoch: 1",
                 "unfreeze_learning_rate_factor: 0.01"):
        assert line in config
    report = json.loads((hub_run / "evaluation.json").read_text())
    assert report["baseline"]["model"] == "tfidf_linear" and report["num_examples"] > 0
    rates = [float(row.split(",")[6]) for row in
             (hub_run / "metrics.csv").read_text().splitlines()[1:]]
    assert len(rates) == 2 and rates[1] < rates[0] / 10  # the unfrozen epoch's smaller rate

    model = keras.saving.load_model(hub_run / "model.keras", compile=False)
    backbone = model.classifier.get_layer("backbone")
    pretrained = keras_hub.models.Backbone.from_preset(str(tiny_preset[0]))
    # Epoch 1 (checkpoint after 3 steps): the backbone is the preset's, the head has learned.
    reader = tf.train.load_checkpoint(str(hub_run / "checkpoints" / "ckpt-3"))
    index = {id(v): i for i, v in enumerate(model.variables)}

    def at_epoch_1(variable):
        return reader.get_tensor(f"weights/{index[id(variable)]}/.ATTRIBUTES/VARIABLE_VALUE")

    for ours, theirs in zip(backbone.weights, pretrained.weights):
        np.testing.assert_array_equal(at_epoch_1(ours), theirs.numpy())
    head = model.classifier.get_layer("classifier").kernel
    assert not np.array_equal(at_epoch_1(head), head.numpy())  # the head trains in both phases
    # Epoch 2: the backbone itself was fine-tuned.
    changed = [not np.array_equal(ours.numpy(), theirs.numpy())
               for ours, theirs in zip(backbone.trainable_weights, pretrained.trainable_weights)]
    assert any(changed)


@pytest.mark.slow
def test_mirrored_two_replicas(tiny_preset, tmp_path):
    from kerazoo.distribute import mirrored_strategy
    from kerazoo.recipes import api

    preset, data = tiny_preset
    report = api.train("sentiment_analysis", tmp_path / "run",
                       overrides=[f"model.name=keras_hub:{preset}", f"data.source=csv:{data}",
                                  "train.epochs=2", *TINY],
                       strategy=mirrored_strategy(["/cpu:0", "/cpu:1"]), export=False,
                       verbose=False)
    assert report["num_examples"] == 20
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and all(np.isfinite(float(row.split(",")[2])) for row in rows[1:])


def test_named_preset_offline_is_one_line_before_anything_is_written(tmp_path, monkeypatch,
                                                                    capsys):
    from kerazoo.cli import main

    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "empty_cache"))
    run_dir = tmp_path / "run"
    code = main(["train", "sentiment_analysis", "--model", "keras_hub:bert_tiny_en_uncased",
                 "--run-dir", str(run_dir), "--epochs", "1"])
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert code != 0
    assert len(err) == 1, err
    assert err[0].startswith("kerazoo: error: Config key 'model.name': keras-hub preset "
                             "'bert_tiny_en_uncased' could not be loaded"), err
    assert "save_to_preset" in err[0]
    assert not run_dir.exists() and not any(tmp_path.glob(".run*"))


def test_bad_presets_and_keys_are_refused_in_one_line(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"'bert_tiny_en_uncasd' is not a keras-hub preset "
                                          r"\(did you mean bert_tiny_en_uncased"):
        _task("model.name=keras_hub:bert_tiny_en_uncasd")
    with pytest.raises(ConfigError, match=r"is not a keras-hub preset directory \(no config"):
        _task(f"model.name=keras_hub:{tmp_path}")
    from kerazoo.recipes.hub_text import check_preset

    with pytest.raises(ConfigError, match=r"'keras_hub:' needs a preset"):
        check_preset("")
    (tmp_path / "config.json").write_text("{}")
    for key in ("data.ngrams=2", "model.init=preset:x", "runtime.jit_compile=true"):
        with pytest.raises(ConfigError, match=key.split("=")[0].replace(".", r"\.")):
            _task(f"model.name=keras_hub:{tmp_path}", key)
    task = _task(f"model.name=keras_hub:{tmp_path}", "train.unfreeze_epoch=0")
    assert not task.config.model.freeze_backbone  # chosen by the config: trains everything
    task = _task(f"model.name=keras_hub:{tmp_path}", "model.freeze_backbone=false")
    assert not task.config.model.freeze_backbone and task.config.train.unfreeze_epoch is None
    task = _task(f"model.name=keras_hub:{tmp_path}")
    assert task.config.model.freeze_backbone and task.config.train.unfreeze_epoch == 1
    from kerazoo.recipes.api import default_run_dir

    assert default_run_dir(task.config).name == f"sentiment_analysis-keras_hub-{tmp_path.name}"
    monkeypatch.setitem(sys.modules, "keras_hub", None)
    with pytest.raises(ConfigError, match=r'pip install "kerazoo\[hub\]"$'):
        _task("model.name=keras_hub:bert_tiny_en_uncased")


@pytest.mark.slow
@pytest.mark.multiprocess
def test_kerazoo_serve_loads_the_export_without_keras_hub(hub_run):
    import keras
    import tensorflow as tf

    import kerazoo.recipes.hub_text  # noqa: F401

    # A fresh process, as `kerazoo serve` runs: it must register tensorflow-text's ops itself.
    code = (
        "import json, sys\n"
        "import tensorflow as tf\n"
        "from kerazoo.serving.model_store import load_version\n"
        f"version = load_version({str(hub_run / 'export')!r}, 1)\n"
        "out = version.loaded.signatures['serving_default'](texts=tf.constant(sys.argv[1:]))\n"
        "print(json.dumps({'keras_hub': 'keras_hub' in sys.modules,\n"
        "                  'p': out['probabilities'].numpy().tolist()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *TEXTS], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert not result["keras_hub"]
    model = keras.saving.load_model(hub_run / "model.keras", compile=False)
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(model(tf.constant(TEXTS))))
    np.testing.assert_allclose(result["p"], expected, atol=1e-5)


@pytest.mark.slow
@pytest.mark.multiprocess
def test_sigkill_in_the_frozen_phase_then_rerun_resumes_to_the_same_weights(
        tiny_preset, assert_resumes_after_sigkill):
    preset, data = tiny_preset
    # Killed after step 3 of epoch 1 (frozen); the re-run finishes it and unfreezes at epoch 2.
    assert_resumes_after_sigkill("sentiment_analysis", [
        f"model.name=keras_hub:{preset}", f"data.source=csv:{data}", "train.epochs=2",
        "train.steps_per_epoch=4", "train.batch_size=8", "train.checkpoint_every=3",
        "data.sequence_length=16", "train.early_stopping_patience=null"])


@pytest.mark.slow
def test_preset_export_of_a_keras_hub_run_is_one_line(hub_run, capsys):
    from kerazoo.cli import main

    assert main(["export", str(hub_run), "--format", "preset"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "cannot be saved as a kerazoo preset" in error[0]
    assert not list((hub_run / "export").glob("preset-*"))
