"""keras-hub text backbones in the sentiment recipe: ``--model keras_hub:PRESET``.

``PRESET`` is a keras-hub preset name (``bert_tiny_en_uncased``, ``distil_bert_base_en_uncased``,
...), a ``kaggle://`` / ``hf://`` handle, or a local directory written by keras-hub's
``save_to_preset`` (a backbone and its tokenizer). The recipe model is::

    texts (string [batch]) -> the preset's TextClassifierPreprocessor (tokenizer, packing)
        -> "hub_text_classifier": "backbone" (the keras-hub backbone) -> dropout -> classifier

so ``model.keras`` and the SavedModel carry the tokenizer and ``serving_default`` takes raw
strings. The backbone is the zoo's ``backbone`` layer, so ``model.freeze_backbone``,
``train.unfreeze_epoch`` and the trainer's two-phase schedule act on it unchanged.

The outer model is a :class:`HubTextClassifier` (registered with Keras as
``kerazoo>HubTextClassifier``), not a functional model: a functional model would call the
tokenizer on a symbolic input while ``model.keras`` loads, before the tokenizer's vocabulary (a
saved asset) is read back. Importing this module registers it; the sentiment recipe imports it
before loading a keras-hub run.

keras-hub is imported only by the functions here, and only for such a model: ``import kerazoo``
does not load it, and without it the user reads one line naming the extra to install.

Example:

>>> from kerazoo.recipes.hub_text import hub_preset
>>> hub_preset("keras_hub:bert_tiny_en_uncased"), hub_preset("text_cnn")
('bert_tiny_en_uncased', None)
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import keras

from kerazoo.errors import ConfigError
from kerazoo.recipes.sentiment_analysis import HUB_PREFIX as PREFIX  # one spelling, owned there

#: What a frozen-then-unfrozen run defaults to (see :func:`apply_fine_tuning_defaults`).
UNFREEZE_EPOCH = 1
UNFREEZE_LEARNING_RATE_FACTOR = 0.01
DEFAULT_DROPOUT = 0.1


def hub_preset(model_name: str) -> str | None:
    """The preset of a ``keras_hub:PRESET`` model name, or ``None`` for a zoo model."""
    if model_name.startswith(PREFIX):
        return model_name[len(PREFIX):]
    return None


def import_keras_hub():
    """``keras_hub``, or a one-line ``ConfigError`` naming the extra that installs it."""
    try:
        import keras_hub
    except ImportError as error:
        raise ConfigError(
            f"Config key 'model.name': keras_hub models need keras-hub ({error}); "
            'pip install "kerazoo[hub]"'
        ) from None
    return keras_hub


def _is_path(preset: str) -> bool:
    return (os.sep in preset or preset.startswith((".", "~")) or Path(preset).exists()) and (
        "://" not in preset)


def check_preset(preset: str) -> None:
    """Refuse a preset that cannot be one, without reading weights or the network.

    A path must be a directory holding keras-hub's ``config.json``; a bare name must be one of
    keras-hub's built-in presets (the closest is suggested); ``scheme://`` handles pass.
    """
    if not preset:
        raise ConfigError("Config key 'model.name': 'keras_hub:' needs a preset, e.g. "
                          "keras_hub:bert_tiny_en_uncased or keras_hub:/path/to/preset_dir.")
    if "://" in preset:
        return
    if _is_path(preset):
        folder = Path(preset).expanduser()
        if not (folder / "config.json").is_file():
            raise ConfigError(
                f"Config key 'model.name': {folder} is not a keras-hub preset directory (no "
                "config.json); write one with backbone.save_to_preset(dir) and "
                "tokenizer.save_to_preset(dir).")
        return
    keras_hub = import_keras_hub()
    known = keras_hub.models.Backbone.presets
    if preset not in known:
        texts = sorted(keras_hub.models.TextClassifier.presets)
        close = difflib.get_close_matches(preset, texts, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else (
            f"text presets include {', '.join(texts[:6])}, ...")
        raise ConfigError(f"Config key 'model.name': {preset!r} is not a keras-hub preset ({hint})")


def apply_fine_tuning_defaults(config) -> bool:
    """Make a keras-hub run frozen-then-unfrozen unless the config chose otherwise.

    When neither ``model.freeze_backbone`` (``None``) nor ``train.unfreeze_epoch`` is set, the backbone is
    frozen for epoch 1 (the new head learns at ``train.learning_rate``), then unfrozen at
    ``learning_rate * 0.01`` (a pretrained transformer diverges at the head's rate; 3e-3 x 0.01
    = 3e-5 is the usual BERT fine-tuning rate). ``train.unfreeze_epoch=0`` trains everything
    from the start; ``model.freeze_backbone=true`` alone keeps it frozen (features only);
    ``model.freeze_backbone=false`` trains everything from the start too.

    Returns:
        Whether the defaults were applied (the config is changed in place, before it is saved).
    """
    model, train = config.model, config.train
    if model.freeze_backbone is not None or train.unfreeze_epoch is not None:
        return False
    model.freeze_backbone = True
    train.unfreeze_epoch = UNFREEZE_EPOCH
    train.unfreeze_learning_rate_factor = UNFREEZE_LEARNING_RATE_FACTOR
    return True


def _fetch_error(preset: str, error: Exception) -> ConfigError:
    reason = " ".join(str(error).split())
    if len(reason) > 160:
        reason = reason[:157] + "..."
    return ConfigError(
        f"Config key 'model.name': keras-hub preset {preset!r} could not be loaded "
        f"({type(error).__name__}: {reason}). Offline, fetch it once where the network is "
        "reachable (keras-hub caches it under KAGGLEHUB_CACHE, default ~/.cache/kagglehub) or "
        "pass a directory saved with save_to_preset: --model keras_hub:/path/to/dir.")


def load_preprocessor(preset: str, sequence_length: int):
    """The preset's ``TextClassifierPreprocessor`` (tokenizer + packer): strings in, token ids
    out. Raises a one-line ``ConfigError`` when it cannot be fetched or is not a text preset."""
    keras_hub = import_keras_hub()
    try:
        return keras_hub.models.TextClassifierPreprocessor.from_preset(
            preset, sequence_length=sequence_length)
    except Exception as error:  # network, missing files, a non-text preset: one line each
        raise _fetch_error(preset, error) from None


def load_backbone(preset: str):
    """The preset's backbone with its pretrained weights, named ``backbone``."""
    keras_hub = import_keras_hub()
    try:
        return keras_hub.models.Backbone.from_preset(preset, name="backbone")
    except Exception as error:
        raise _fetch_error(preset, error) from None


def _pooled(outputs):
    """One vector per text: BERT-style ``pooled_output``, else the first ([CLS]) token."""
    if isinstance(outputs, dict):
        if "pooled_output" in outputs:
            return outputs["pooled_output"]
        outputs = outputs["sequence_output"]
    return outputs[:, 0, :]


def build_classifier(preset: str, num_classes: int, *, sequence_length: int,
                     dropout: float | None = None, name: str = "sentiment_analysis_keras_hub"):
    """The recipe model: raw strings ``[batch]`` -> logits ``[batch, num_classes]``.

    Args:
        preset: a keras-hub preset name, handle or ``save_to_preset`` directory.
        num_classes: classes of the new head.
        sequence_length: tokens per text, special tokens included (longer texts are cut).
        dropout: dropout before the classifier. Defaults to ``None`` (0.1).
        name: the model's name.

    Returns:
        A :class:`HubTextClassifier`; its ``classifier`` is a zoo-style functional model whose
        ``backbone`` layer is the keras-hub backbone.

    Example:

    >>> model = build_classifier("/tmp/tiny_bert", 2, sequence_length=16)  # doctest: +SKIP
    >>> model(tf.constant(["a great film"])).shape  # doctest: +SKIP
    TensorShape([1, 2])
    """
    preprocessor = load_preprocessor(preset, sequence_length)
    backbone = load_backbone(preset)
    limit = backbone.get_config().get("max_sequence_length")
    if limit is not None and sequence_length > limit:
        raise ConfigError(
            f"Config key 'data.sequence_length': {sequence_length} tokens, but {preset} "
            f"has position embeddings for {limit}; use at most {limit}.")
    features = preprocessor(keras.Input((), dtype="string"))
    inputs = {key: keras.Input(tuple(value.shape[1:]), dtype=value.dtype, name=key)
              for key, value in features.items()}
    x = _pooled(backbone(inputs))
    x = keras.layers.Dropout(DEFAULT_DROPOUT if dropout is None else dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name="classifier")(x)
    classifier = keras.Model(inputs, logits, name="hub_text_classifier")
    return HubTextClassifier(preprocessor, classifier, name=name)


@keras.saving.register_keras_serializable(package="kerazoo")
class HubTextClassifier(keras.Model):
    """A keras-hub preprocessor in front of a classifier: raw strings ``[batch]`` -> logits.

    Args:
        preprocessor: a keras-hub ``TextClassifierPreprocessor`` (strings -> token ids).
        classifier: a model from the preprocessor's outputs to logits.
        **kwargs: ``keras.Model`` arguments (``name``).

    Example:

    >>> model = build_classifier("/tmp/tiny_bert", 2, sequence_length=16)  # doctest: +SKIP
    >>> isinstance(model, HubTextClassifier), model.classifier.get_layer("backbone").name  # doctest: +SKIP
    (True, 'backbone')  # doctest: +SKIP
    """

    def __init__(self, preprocessor, classifier, **kwargs):
        super().__init__(**kwargs)
        self.preprocessor = preprocessor
        self.classifier = classifier

    def build(self, input_shape=None):
        # Both parts are built; building by a symbolic call would run the tokenizer while
        # model.keras loads, before its vocabulary asset is read.
        self.built = True

    @property
    def input_dtype(self):
        # Strings: the default (the compute dtype, float32) would make the SavedModel's traced
        # default signature cast the texts to floats.
        return "string"

    def call(self, texts, training=None):
        return self.classifier(self.preprocessor(texts), training=training)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.classifier.output_shape[-1])

    def get_config(self):
        return {**super().get_config(),
                "preprocessor": keras.saving.serialize_keras_object(self.preprocessor),
                "classifier": keras.saving.serialize_keras_object(self.classifier)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        preprocessor = keras.saving.deserialize_keras_object(config.pop("preprocessor"))
        classifier = keras.saving.deserialize_keras_object(config.pop("classifier"))
        return cls(preprocessor, classifier, **config)
