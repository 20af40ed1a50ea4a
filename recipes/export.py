"""SavedModel export in TF Serving's layout: ``RUN_DIR/export/<version>/saved_model.pb``.

The version is written to a temporary directory beside its final name and renamed when complete
(with its ``export.json`` manifest: signatures, input specs, labels, versions, and the sha256 of
every file), so TF Serving or ``kerazoo serve`` never sees half a model. Image signatures:

* ``serving_default``: ``images`` uint8 ``[batch, H, W, C]`` of any size, resized inside.
* ``serving_bytes``: ``image_bytes`` string ``[batch]`` of encoded JPEG/PNG/BMP/GIF files.

Both return ``probabilities`` float32 ``[batch, K]``, ``class_ids`` int64 ``[batch]`` and
``labels`` string ``[batch]``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from kerazoo.checksums import sha256_file
from kerazoo.errors import ConfigError, KerazooError
from kerazoo.recipes.run_dir import atomic_write_bytes, atomic_write_json

#: Files of a finished run that ``export --format preset`` copies into the preset folder.
PRESET_ARTEFACTS = ("metrics.csv", "evaluation.json", "forecast_examples.json")


def classifier_outputs(model, names, inputs) -> dict[str, Any]:
    """The named outputs every classifier export returns, from the model's logits."""
    import tensorflow as tf

    logits = tf.cast(model(inputs, training=False), tf.float32)
    probabilities = tf.nn.softmax(logits, axis=-1)
    class_ids = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
    return {"probabilities": probabilities, "class_ids": class_ids,
            "labels": tf.gather(names, class_ids)}


def image_signatures(model, class_names: list[str]) -> dict[str, tuple[Any, list]]:
    """``{name: (function, input_signature)}`` for an image classifier taking float 0-255."""
    import tensorflow as tf

    height, width, channels = (int(d) for d in model.input_shape[1:])
    names = tf.constant(list(class_names))

    def named_outputs(images):
        return classifier_outputs(model, names, images)

    def resize(images):
        images = tf.cast(images, tf.float32)
        if images.shape[1] == height and images.shape[2] == width:
            return images
        return tf.image.resize(images, (height, width), antialias=False)

    def serve_images(images):
        return named_outputs(resize(images))

    def decode_one(data):
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), (height, width), antialias=False)
        return tf.ensure_shape(image, (height, width, channels))

    def serve_bytes(image_bytes):
        images = tf.map_fn(
            decode_one, image_bytes,
            fn_output_signature=tf.TensorSpec((height, width, channels), tf.float32),
        )
        return named_outputs(images)

    return {
        "serving_default": (
            serve_images, [tf.TensorSpec([None, None, None, channels], tf.uint8, name="images")]
        ),
        "serving_bytes": (
            serve_bytes, [tf.TensorSpec([None], tf.string, name="image_bytes")]
        ),
    }


def text_signatures(model, class_names: list[str]) -> dict[str, tuple[Any, list]]:
    """``serving_default`` of a text classifier: a batch of raw UTF-8 strings ``[batch]``."""
    import tensorflow as tf

    names = tf.constant(list(class_names))

    def serve_texts(texts):
        return classifier_outputs(model, names, texts)

    return {"serving_default": (serve_texts, [tf.TensorSpec([None], tf.string, name="texts")])}


def waveform_signatures(model, class_names: list[str], clip_samples: int
                        ) -> dict[str, tuple[Any, list]]:
    """``serving_default``: float32 waveforms ``[batch, samples]`` of any length, zero-padded at
    the end or centre-cropped to ``clip_samples``; ``serving_wav``: 16-bit PCM WAV bytes (mono or
    averaged to mono; the sample rate must be the model's)."""
    import tensorflow as tf

    names = tf.constant(list(class_names))

    def fit(waveforms):
        length = tf.shape(waveforms)[1]
        start = tf.maximum((length - clip_samples) // 2, 0)
        waveforms = waveforms[:, start : start + clip_samples]
        waveforms = tf.pad(waveforms, [[0, 0], [0, clip_samples - tf.shape(waveforms)[1]]])
        # reshape, not ensure_shape: the static shape comes out the same and TFLite has Reshape.
        return tf.reshape(waveforms, (-1, clip_samples))

    def serve_waveforms(waveforms):
        return classifier_outputs(model, names, fit(tf.cast(waveforms, tf.float32)))

    def decode_one(data):
        audio, _ = tf.audio.decode_wav(data, desired_channels=1)
        return fit(tf.transpose(audio))[0]

    def serve_wav(wav_bytes):
        waveforms = tf.map_fn(decode_one, wav_bytes,
                              fn_output_signature=tf.TensorSpec((clip_samples,), tf.float32))
        return classifier_outputs(model, names, waveforms)

    return {
        "serving_default": (
            serve_waveforms, [tf.TensorSpec([None, None], tf.float32, name="waveforms")]
        ),
        "serving_wav": (serve_wav, [tf.TensorSpec([None], tf.string, name="wav_bytes")]),
    }


def next_version(export_root: Path) -> int:
    versions = [int(p.name) for p in export_root.glob("*") if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


def export_saved_model(task, model, class_names: list[str], run_dir: Path) -> Path:
    """Write the next version under ``run_dir/export``; returns its directory."""
    import keras
    import tensorflow as tf

    import kerazoo

    export_root = Path(run_dir) / "export"
    export_root.mkdir(parents=True, exist_ok=True)
    signatures = task.serving_signatures(model, class_names)
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (function, specs) in signatures.items():
        archive.add_endpoint(name, function, input_signature=specs)
    temp = Path(tempfile.mkdtemp(prefix=".export-", dir=export_root))
    try:
        archive.write_out(str(temp / "model"), verbose=False)
        target_tmp = temp / "model"
        manifest = {
            "format": "tf_saved_model",
            "task": task.name,
            "model": task.config.model.name,
            "signatures": {
                name: {"inputs": {spec.name: {"dtype": spec.dtype.name,
                                              "shape": [d for d in spec.shape.as_list()]}
                                  for spec in specs},
                       "outputs": list(task.output_names)}
                for name, (_, specs) in signatures.items()
            },
            "labels": list(class_names),
            "versions": {"kerazoo": kerazoo.__version__, "keras": keras.__version__,
                         "tensorflow": tf.__version__},
        }
        manifest["files"] = {
            str(path.relative_to(target_tmp)): sha256_file(path)
            for path in sorted(target_tmp.rglob("*")) if path.is_file()
        }
        atomic_write_json(target_tmp / "export.json", manifest)
        version = next_version(export_root)
        final = export_root / str(version)
        target_tmp.rename(final)
    except Exception as error:
        if isinstance(error, KerazooError):
            raise
        raise KerazooError(f"Export to {export_root} failed: {error}") from error
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return final


def export_once(task, model, class_names: list[str], run_dir: Path) -> Path:
    """A training run's export, made exactly once however often its finish is re-run.

    A finish re-run after a kill finds what the killed one left: a complete version (renamed into
    place with its ``export.json``) is kept, not exported again as a duplicate ``export/2``; a
    temporary ``.export-*`` folder of an export killed half-way is removed.
    """
    export_root = Path(run_dir) / "export"
    for stale in export_root.glob(".export-*"):
        shutil.rmtree(stale, ignore_errors=True)
    done = sorted(int(path.name) for path in export_root.glob("*")
                  if path.name.isdigit() and (path / "export.json").is_file())
    if done:
        return export_root / str(done[0])
    return export_saved_model(task, model, class_names, run_dir)


def export_preset(task, model, run_dir: Path, class_names: list[str], *, name: str | None = None,
                  target: Path | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Save a finished run as a zoo preset under ``run_dir/export/preset-NAME``.

    The preset holds the whole recipe model (preprocessing and feature layers included), so
    ``kerazoo.zoo.from_preset`` gives a model that takes the task's raw features. Its metadata
    records the test report, the labels and the command that reproduces the run.
    """
    import json

    from kerazoo import zoo

    run_dir = Path(run_dir)
    config = task.config
    from kerazoo.recipes.sentiment_analysis import HUB_PREFIX

    if config.model.name.startswith(HUB_PREFIX):
        # A preset keeps config + weights; the keras-hub tokenizer's vocabulary is an asset
        # that only model.keras and the SavedModel carry.
        raise ConfigError(
            f"{run_dir}: a {config.model.name} run cannot be saved as a kerazoo preset (the "
            "tokenizer's vocabulary would be lost); use --format saved_model or keras.")
    name = name or f"{task.name}_{config.model.name}"
    report = json.loads((run_dir / "evaluation.json").read_text())
    metrics = {key: round(value, 4) for key, value in report.items()
               if isinstance(value, float) and "/" not in key}
    metrics["test_samples"] = report.get("num_examples")
    metadata = {
        "name": name,
        "model": config.model.name,
        "task": task.name,
        "summary": f"{config.model.name} trained by the {task.name} recipe on "
                   f"{config.data.source}.",
        "dataset": config.data.source,
        "labels": list(class_names),
        "metrics": metrics,
        "training_command": (
            f"kerazoo train {task.name} --config {run_dir / 'config.yaml'} --run-dir RUN && "
            f"kerazoo export RUN --format preset --name {name}"
        ),
        "license": "Apache-2.0 (weights); see the dataset's own license",
    }
    if isinstance(report.get("baseline"), dict) and report["baseline"].get("verdict_line"):
        # The card says whether the model earned its time against the recipe's baseline.
        metadata["baseline"] = report["baseline"]["verdict_line"]
    metadata.update(extra or {})
    folder = zoo.save_to_preset(model, target or run_dir / "export" / f"preset-{name}",
                                metadata=metadata, overwrite=True)
    # The run's own artefacts travel with the preset: the docs draw its training curves,
    # confusion matrix or forecasts from them (docs/hooks/zoo_pages.py).
    for artefact in PRESET_ARTEFACTS:
        if (run_dir / artefact).is_file():
            atomic_write_bytes(folder / artefact, (run_dir / artefact).read_bytes())
    return folder
