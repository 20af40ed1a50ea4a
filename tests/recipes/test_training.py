"""Training end to end on tiny budgets: run directory, CLI verbs, export, XLA, bfloat16."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only

TINY = ["train.epochs=1", "train.steps_per_epoch=3", "train.batch_size=8",
        "train.checkpoint_every=2", "data.augment=[translate, flip]"]
SAVED_MODEL_CLI = Path(sys.executable).parent / "saved_model_cli"


def _train(run_dir, *overrides, strategy=None, export=False):
    from kerazoo.recipes import api

    return api.train("image_classification", run_dir, overrides=[*TINY, *overrides],
                     strategy=strategy, export=export, verbose=False)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny run, trained with the CLI on 2 mirrored replicas and exported."""
    from kerazoo.cli import main

    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    code = main(["train", "image_classification", "--data", "digits", "--strategy", "mirrored",
                 "--run-dir", str(run_dir), *sum((["--set", item] for item in TINY), [])])
    assert code == 0
    return run_dir


def test_run_directory_contents(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {"config.yaml", "checkpoints", "logs", "metrics.csv", "evaluation.json",
            "confusion_matrix.svg", "training_curves.svg", "model_card.md", "model.keras",
            "labels.json", "export"} <= names
    report = json.loads((trained_run / "evaluation.json").read_text())
    assert 0 <= report["accuracy"] <= 1 and "top_5_accuracy" in report
    assert {"precision/3", "recall/3"} <= set(report)
    assert np.asarray(report["confusion_matrix"]).sum() == report["num_examples"] == 359
    assert not list(trained_run.parent.glob(".*partial"))
    assert any(trained_run.joinpath("logs").iterdir())


def test_evaluate_and_predict_verbs(trained_run, tmp_path, capsys):
    from PIL import Image

    from kerazoo.cli import main
    from kerazoo.recipes.embedded import digits

    assert main(["evaluate", str(trained_run)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    image = digits.load()["test"][0][0][..., 0]
    Image.fromarray(image).resize((32, 32)).save(tmp_path / "digit.png")
    assert main(["predict", str(trained_run), str(tmp_path / "digit.png")]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'digit.png'}: ")


def test_missing_run_dir_is_one_line_error(tmp_path, capsys):
    from kerazoo.cli import main

    assert main(["evaluate", str(tmp_path / "nope")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("kerazoo: error: Run directory not found") and "\n" not in error
    assert main(["evaluate", str(tmp_path)]) == 1
    error = capsys.readouterr().err.strip()
    assert error == f"kerazoo: error: {tmp_path}: not a run directory (no config.yaml)."


def test_config_typo_on_cli_is_one_line_error_and_writes_nothing(tmp_path, capsys):
    from kerazoo.cli import main

    run_dir = tmp_path / "run"
    code = main(["train", "image_classification", "--run-dir", str(run_dir),
                 "--set", "train.epoch=1"])
    assert code == 1
    assert "did you mean 'train.epochs'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_bad_data_writes_no_run(tmp_path):
    from kerazoo.errors import DataError

    with pytest.raises(DataError):
        _train(tmp_path / "run", f"data.source=folder:{tmp_path / 'missing'}")
    assert list(tmp_path.iterdir()) == []


def test_saved_model_signatures_with_saved_model_cli(trained_run, tmp_path):
    import keras
    import tensorflow as tf

    from kerazoo.recipes.embedded import digits

    version = trained_run / "export" / "1"
    manifest = json.loads((version / "export.json").read_text())
    assert manifest["labels"] == [str(i) for i in range(10)]
    assert set(manifest["signatures"]) == {"serving_default", "serving_bytes"}
    assert "saved_model.pb" in manifest["files"]
    shown = subprocess.run([str(SAVED_MODEL_CLI), "show", "--dir", str(version), "--all"],
                           capture_output=True, text=True, timeout=120, check=True).stdout
    for text in ("signature_def['serving_default']", "signature_def['serving_bytes']",
                 "inputs['images']", "inputs['image_bytes']", "outputs['probabilities']",
                 "outputs['class_ids']", "outputs['labels']"):
        assert text in shown
    assert "output_0" not in shown
    images = digits.load()["test"][0][:4]
    np.save(tmp_path / "images.npy", images)
    subprocess.run(
        [str(SAVED_MODEL_CLI), "run", "--dir", str(version), "--tag_set", "serve",
         "--signature_def", "serving_default", "--inputs", f"images={tmp_path / 'images.npy'}",
         "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=True,
    )
    served = np.load(tmp_path / "out" / "probabilities.npy")
    model = keras.saving.load_model(trained_run / "model.keras", compile=False)
    expected = keras.ops.convert_to_numpy(
        keras.ops.softmax(model(images.astype("float32"), training=False)))
    np.testing.assert_allclose(served, expected, atol=1e-5)
    # Encoded PNG bytes and a larger uint8 image are resized inside the graph.
    loaded = tf.saved_model.load(str(version))
    png = tf.io.encode_png(tf.constant(images[0]))
    by_bytes = loaded.signatures["serving_bytes"](image_bytes=tf.stack([png]))
    np.testing.assert_allclose(by_bytes["probabilities"].numpy()[0], expected[0], atol=1e-5)
    big = tf.image.resize(images[:1].astype("float32"), (32, 32), method="nearest")
    out = loaded.signatures["serving_default"](images=tf.cast(big, tf.uint8))
    assert out["labels"].dtype == tf.string and out["class_ids"].shape == (1,)


def test_export_verb_keras_format(trained_run):
    from kerazoo.cli import main

    assert main(["export", str(trained_run), "--format", "keras"]) == 0
    assert (trained_run / "export" / "simple_cnn.keras").is_file()


def test_jit_compiled_training_step(tmp_path):
    report = _train(tmp_path / "run", "runtime.jit_compile=true", "runtime.strategy=one_device")
    assert 0 <= report["accuracy"] <= 1


def test_mixed_bfloat16_end_to_end(tmp_path):
    import keras

    from kerazoo import compat

    report = _train(tmp_path / "run", "runtime.precision=mixed_bfloat16", export=True)
    assert np.isfinite(report["loss"])
    model = keras.saving.load_model(tmp_path / "run" / "model.keras", compile=False)
    assert any(layer.dtype_policy.name == "mixed_bfloat16"
               for layer in compat.flatten_layers(model))
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def test_export_verb_tflite_matches_saved_model(trained_run):
    import tensorflow as tf

    from kerazoo.cli import main
    from kerazoo.recipes.embedded import digits
    from kerazoo.serving.tflite import run_tflite

    assert main(["export", str(trained_run), "--format", "tflite"]) == 0
    tflite_files = sorted((trained_run / "export").glob("*.tflite"))
    assert tflite_files, "no .tflite file written"
    assert tflite_files[-1].stat().st_mode & 0o777 == 0o644  # shared like the rest of the run
    images = digits.load()["test"][0][:4]
    saved = tf.saved_model.load(str(trained_run / "export" / "1"))
    expected = saved.signatures["serving_default"](images=tf.constant(images))
    got = run_tflite(str(tflite_files[-1]), {"images": images})
    np.testing.assert_allclose(got["probabilities"], expected["probabilities"].numpy(), atol=1e-5)
    np.testing.assert_array_equal(got["class_ids"], expected["class_ids"].numpy())
