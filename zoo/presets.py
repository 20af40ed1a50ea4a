"""Presets: a model saved as a keras-hub style directory, and loaded back safely.

A preset directory holds ``config.json`` (the model's Keras config, deserialized with
``safe_mode=True``: no lambdas, no pickles), ``model.weights.h5``, ``metadata.json`` (kerazoo, Keras
and backend versions, parameter and MAC counts, date, the weights' sha256) and ``README.md`` (the
model card). Instead of a local ``model.weights.h5``, ``metadata.json`` may name
``"weights": {"url": ..., "sha256": ...}``; the file is then fetched into the cache and verified.
Presets shipped with kerazoo live in ``kerazoo/zoo/presets/<name>/``.
"""

from __future__ import annotations

import datetime
import difflib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras

from kerazoo.checksums import sha256_file
from kerazoo.errors import ConfigError, KerazooError, NotFoundError
from kerazoo.zoo import weights as weights_lib

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
README_FILE = "README.md"
FORMAT = "kerazoo.preset/1"
SHIPPED_DIR = Path(__file__).resolve().parent / "presets"


def list_presets() -> list[dict[str, Any]]:
    """Shipped presets: ``{"name", "model", "path", "summary"}`` for each, sorted by name."""
    found = []
    if SHIPPED_DIR.is_dir():
        for folder in sorted(SHIPPED_DIR.iterdir()):
            config_path = folder / CONFIG_FILE
            if not config_path.is_file():
                continue
            config = json.loads(config_path.read_text())
            metadata_path = folder / METADATA_FILE
            metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
            found.append({
                "name": folder.name, "model": config.get("model"), "path": str(folder),
                "summary": metadata.get("summary", ""),
            })
    return found


def _resolve(name_or_dir: str | os.PathLike) -> Path:
    """A shipped preset's folder, or a local folder named as a path.

    Shipped names win: a bare name (``simple_cnn_digits``) is looked up among the shipped presets
    only, so a folder of that name in the working directory never shadows one. A local folder is
    named as a path — a ``pathlib.Path``, text with a ``/`` (``./mine``, ``/abs/mine``), ``~``, or
    the ``dir:`` prefix (``dir:mine``).
    """
    text = os.fspath(name_or_dir)
    as_path = not isinstance(name_or_dir, str) or text.startswith(("dir:", ".", "~")) or (
        os.sep in text or "/" in text)
    if as_path:
        path = Path(text.removeprefix("dir:")).expanduser()
        if path.is_dir():
            return path
        raise NotFoundError(f"Preset directory not found: {path}")
    shipped = SHIPPED_DIR / text
    if (shipped / CONFIG_FILE).is_file():
        return shipped
    names = [preset["name"] for preset in list_presets()]
    close = difflib.get_close_matches(text, names, n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else (
        f" Shipped presets: {', '.join(names)}." if names else ""
    )
    if Path(text).is_dir():
        hint += f" To load the local folder, name it as a path: './{text}' or 'dir:{text}'."
    raise NotFoundError(f"No shipped preset named '{text}'.{hint}")


def from_preset(name_or_dir: str | os.PathLike, *, load_weights: bool = True,
                verify: bool = True) -> keras.Model:
    """Load a model from a preset directory or a shipped preset name.

    Args:
        name_or_dir: a shipped preset's name, or a directory written by ``save_to_preset`` named
            as a path (``./mine``, ``/abs/mine``, ``dir:mine`` or a ``pathlib.Path``); shipped
            names win over folders of the same name in the working directory.
        load_weights: load the weights. Defaults to ``True``.
        verify: check the weights against ``weights_sha256`` in ``metadata.json`` and refuse a
            preset that records none. ``verify=False`` loads unverified weights: **unsafe**, only
            for presets you made and trust. Defaults to ``True``.

    Returns:
        The model, uncompiled.

    Example:

    >>> import tempfile
    >>> from kerazoo import zoo
    >>> model = zoo.build("simple_cnn", input_shape=(8, 8, 1))
    >>> folder = zoo.save_to_preset(model, tempfile.mkdtemp() + "/digits")
    >>> zoo.from_preset(folder).count_params() == model.count_params()
    True
    """
    folder = _resolve(name_or_dir)
    config = _read_json(folder / CONFIG_FILE)
    metadata = _read_json(folder / METADATA_FILE) if (folder / METADATA_FILE).is_file() else {}
    if config.get("format") != FORMAT or "config" not in config:
        raise ConfigError(
            f"{folder / CONFIG_FILE} is not a kerazoo preset config (expected \"format\": "
            f"\"{FORMAT}\" and a \"config\" key). Received format={config.get('format')!r}"
        )
    import kerazoo.layers  # noqa: F401  (registers kerazoo's layers for deserialization)

    try:
        model = keras.saving.deserialize_keras_object(config["config"], safe_mode=True)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"Cannot rebuild the model of {folder / CONFIG_FILE}: {error}") from None
    if any(str(tensor.dtype) == "string" for tensor in model.inputs):
        inputs, outputs = model.inputs, model.outputs
        model = RawTextModel(
            inputs[0] if len(inputs) == 1 else inputs,
            outputs[0] if len(outputs) == 1 else outputs,
            name=model.name,
        )
    if load_weights:
        model.load_weights(_weights_path(folder, metadata, verify))
    return model


@keras.saving.register_keras_serializable(package="kerazoo")
class RawTextModel(keras.Model):
    """A functional model of raw-string inputs whose ``predict`` also takes Python/NumPy strings.

    Keras's data adapters refuse NumPy string arrays (``Invalid dtype: str352``) and plain lists
    of strings; a model whose first layer vectorizes text needs them as a string tensor.
    ``from_preset`` returns text presets as this class (same layers, same weights), so
    ``model.predict(["great movie", "awful"])`` works as it does with ``tf.constant`` strings.

    Example:

    >>> from kerazoo import zoo
    >>> model = zoo.from_preset("sentiment_bilstm_embedded")
    >>> model.predict(["a wonderful film", "a dull film"], verbose=0).shape
    (2, 2)
    """

    def predict(self, x, *args, **kwargs):
        return super().predict(_as_string_tensor(x), *args, **kwargs)

    def predict_on_batch(self, x):
        return super().predict_on_batch(_as_string_tensor(x))


def _as_string_tensor(x):
    import numpy as np

    is_array = isinstance(x, np.ndarray) and x.dtype.kind in "USO"
    if isinstance(x, (list, tuple)) and all(isinstance(item, (str, bytes)) for item in x):
        is_array = True
    if not is_array:
        return x
    import tensorflow as tf  # string tensors: only the TensorFlow data path vectorizes text

    return tf.constant(np.asarray(x, dtype=object))


def _weights_path(folder: Path, metadata: dict[str, Any], verify: bool = True) -> Path:
    local = folder / WEIGHTS_FILE
    sha256 = metadata.get("weights_sha256")
    if local.is_file():
        if not verify:
            return local
        if not sha256:
            raise ConfigError(
                f"Preset {folder}: {METADATA_FILE} records no weights_sha256, so "
                f"{WEIGHTS_FILE} cannot be verified; re-save it with zoo.save_to_preset, or pass "
                "verify=False if you trust the file (unsafe)."
            )
        return weights_lib.verify(local, sha256)
    remote = metadata.get("weights")
    if isinstance(remote, dict) and remote.get("url"):
        return weights_lib.fetch(remote["url"], remote.get("sha256"), filename=WEIGHTS_FILE)
    raise NotFoundError(
        f"Preset {folder} has no {WEIGHTS_FILE} and its {METADATA_FILE} names no "
        "\"weights\": {\"url\": ..., \"sha256\": ...}."
    )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise NotFoundError(f"Preset file missing: {path}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not valid JSON: {error}") from None


def save_to_preset(
    model: keras.Model,
    directory: str | os.PathLike,
    *,
    metadata: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Save ``model`` as a preset directory with a model card.

    The directory is written in a temporary sibling and renamed into place, so a failure leaves
    no half-written preset.

    Args:
        model: a functional model (any model whose layers are Keras or kerazoo layers).
        directory: where to write; must not exist unless ``overwrite``.
        metadata: extra facts for ``metadata.json`` and the card: ``summary``, ``dataset``,
            ``metrics`` (dict), ``training_command``, ``license``, ``model`` (registry name,
            defaults to ``model.name`` when registered). Defaults to ``None``.
        overwrite: replace an existing directory. Defaults to ``False``.

    Returns:
        The preset directory.
    """
    import kerazoo
    from kerazoo.registry import registry
    from kerazoo.zoo.profile import profile

    target = Path(directory).expanduser()
    if target.exists() and not overwrite:
        raise KerazooError(f"Preset directory {target} already exists; pass overwrite=True.")
    extra = dict(metadata or {})
    model_name = extra.pop("model", None) or (
        model.name if model.name in registry("models") else None
    )
    counts = profile(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        config = {
            "format": FORMAT, "model": model_name,
            "config": keras.saving.serialize_keras_object(model),
        }
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=_json_default))
        model.save_weights(staging / WEIGHTS_FILE)
        info = {
            "kerazoo_version": kerazoo.__version__,
            "keras_version": keras.__version__,
            "backend": keras.backend.backend(),
            "model": model_name,
            "params": counts["params"],
            "trainable_params": counts["trainable_params"],
            "macs": counts["macs"],
            "input_shape": list(model.input.shape[1:]),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "weights_sha256": sha256_file(staging / WEIGHTS_FILE),
            **extra,
        }
        (staging / METADATA_FILE).write_text(json.dumps(info, indent=2, default=_json_default))
        (staging / README_FILE).write_text(model_card(model, info))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _demo_lines(info: dict[str, Any]) -> list[str]:
    """The card's warning for a preset trained on small or generated data (``"demo": true``)."""
    if not info.get("demo"):
        return []
    lines = [
        "## A demo, not a model for your data",
        "",
        "This preset was trained on a small embedded data set so that kerazoo can ship, test and "
        "fine-tune a ready model offline. It is not meant for real inputs. "
        + info.get("real_work", "For real work fine-tune a pretrained backbone instead (for "
                   "images: `zoo.build(\"efficientnetv2_b0\", weights=\"imagenet\")`; see "
                   "the zoo docs)."),
        "",
        f"- Data: {info.get('dataset', 'n/a')}",
    ]
    if info.get("coverage"):
        lines.append(f"- Vocabulary / coverage: {info['coverage']}")
    if info.get("out_of_distribution"):
        lines.append(f"- Out of distribution: {info['out_of_distribution']}")
    return [*lines, ""]


def model_card(model: keras.Model, info: dict[str, Any]) -> str:
    """The ``README.md`` of a preset: architecture, input, size, training, data, metrics, license."""
    from kerazoo.zoo.api import model_config

    registered = model_config(info["model"]) if info.get("model") else {}
    title = info.get("name") or info.get("model") or model.name
    parts = [part.name for part in model.layers if part.name in ("backbone", "head")]
    metrics = info.get("metrics") or {}
    lines = [
        f"# {title}",
        "",
        info.get("summary") or registered.get("summary") or f"A kerazoo model ({model.name}).",
        "",
        *_demo_lines(info),
        "## Architecture",
        "",
        f"- Model: `{info.get('model') or model.name}`"
        + (f" (family `{registered['family']}`)" if registered.get("family") else ""),
        f"- Paper: {registered.get('paper') or 'n/a'}",
        f"- Parts: {', '.join(parts) or 'n/a'}; outputs {registered.get('outputs', 'see config')}",
        "",
        "## Input",
        "",
        f"- Shape (without batch): `{tuple(info['input_shape'])}`, dtype "
        f"`{model.input.dtype}`",
        f"- Preprocessing: "
        f"`{json.dumps(info.get('preprocessing') or registered.get('preprocessing'), default=str)}`",
        "",
        "## Size",
        "",
        f"- Parameters: {info['params']:,} ({info['trainable_params']:,} trainable)",
        f"- MACs per sample: {info['macs']:,}",
        "",
        "## Training",
        "",
        f"- Command: `{info.get('training_command', 'n/a')}`",
        f"- Dataset: {info.get('dataset', 'n/a')}",
        "",
        "## Metrics",
        "",
        *(
            ["| metric | value |", "| --- | --- |"]
            + [f"| {key} | {value} |" for key, value in metrics.items()]
            if metrics else ["n/a"]
        ),
        "",
        *([f"Baseline: {info['baseline']}", ""] if info.get("baseline") else []),
        *(["## Notes", "", str(info["notes"]), ""] if info.get("notes") else []),
        "## License",
        "",
        str(info.get("license", "Apache-2.0")),
        "",
        f"Saved with kerazoo {info['kerazoo_version']}, Keras {info['keras_version']} "
        f"({info['backend']} backend) on {info['date']}.",
        "",
    ]
    return "\n".join(lines)
