"""The zoo's public functions: browse, build, describe and fine-tune registered models."""

from __future__ import annotations

import inspect
from typing import Any

import keras

from kerazoo.errors import ConfigError, KerazooError
from kerazoo.registry import registry
from kerazoo.zoo.heads import POOLINGS, check_dropout, check_positive, classification_head

# The tasks a zoo model declares in its metadata (``model_config(name)["task"]``).
TASKS = (
    "image_classification",
    "text_classification",
    "audio_classification",
    "sequence_classification",
    "tabular_classification",
    "forecasting",
)


def list_models(
    pattern: str = "*", task: str | None = None, pretrained: bool | None = None
) -> list[str]:
    """Sorted names of registered models matching a shell wildcard.

    Args:
        pattern: shell-style wildcard on the name, e.g. ``"resnet*"``. Defaults to ``"*"``.
        task: keep only models of this task (one of ``TASKS``). Defaults to ``None`` (any).
        pretrained: ``True`` keeps models with a shipped preset, ``False`` those without.
            Defaults to ``None`` (both).

    Example:

    >>> from kerazoo import zoo
    >>> zoo.list_models("resnet2*")
    ['resnet20', 'resnet20_v2']
    """
    if task is not None and task not in TASKS:
        raise ConfigError(f"task must be one of {TASKS}. Received: task={task!r}")
    names = registry("models").list(pattern, task=task)
    if pretrained is None:
        return names
    from kerazoo.zoo.presets import list_presets

    with_preset = {preset["model"] for preset in list_presets()}
    return [name for name in names if (name in with_preset) == bool(pretrained)]


def model_config(name: str) -> dict[str, Any]:
    """The data a model is registered with, as a plain dict.

    Keys: ``name``, ``summary``, ``task``, ``family``, ``paper``, ``params`` (our exact count for
    the default configuration), ``published_params`` (the paper's figure, a string, where one
    exists), ``input_shape``, ``input_dtype``, ``num_classes`` (classifiers), ``outputs``
    (``"logits"``, or for forecasters ``"[horizon, targets]"``), ``preprocessing`` (what the caller
    does to raw data before the model), ``overrides`` (extra keywords ``build`` accepts),
    ``weights`` (pretrained weights ``build`` can load, e.g. ``("imagenet",)``; empty when
    none), ``presets`` (shipped preset names).

    Args:
        name: a registered model name.

    Example:

    >>> from kerazoo import zoo
    >>> config = zoo.model_config("resnet20")
    >>> config["task"], config["input_shape"], config["num_classes"]
    ('image_classification', (32, 32, 3), 10)
    """
    entry = registry("models").get(name)
    config: dict[str, Any] = {"name": entry.name, "summary": entry.summary}
    config.update(dict(entry.metadata))
    config.setdefault("input_dtype", "float32")
    config.setdefault("outputs", "logits")
    config.setdefault("weights", ())
    config["overrides"] = _overrides(entry.obj)
    from kerazoo.zoo.presets import list_presets

    config["presets"] = [p["name"] for p in list_presets() if p["model"] == entry.name]
    return config


def _overrides(builder) -> list[str]:
    family = getattr(builder, "family_builder", None)
    if family is None:
        return []
    common = {"input_shape", "num_classes", "include_top", "pooling", "dropout", "name"}
    return [
        p.name
        for p in inspect.signature(family).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name not in common
    ]


def build(
    name: str,
    *,
    input_shape: tuple | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    weights: str | None = None,
    **overrides: Any,
) -> keras.Model:
    """Build a registered model: a plain functional ``keras.Model`` with ``backbone`` and ``head``.

    ``model.get_layer("backbone")`` is a functional sub-model from the input to the features;
    ``model.get_layer("head")`` maps features to the output (logits for classifiers, a
    ``[horizon, targets]`` forecast for forecasters). ``model_config(name)`` says what input the
    model expects and how raw data is preprocessed.

    Args:
        name: a registered model name (``list_models()``).
        input_shape: input shape without the batch axis. Defaults to the registered one.
        num_classes: classes of the head (classifiers only). Defaults to the registered one.
        include_top: build the classification head. Defaults to ``True``.
        pooling: ``"avg"``, ``"max"`` or ``"flatten"``; the head's pooling, or with
            ``include_top=False`` the only part of the head. Defaults to ``None`` (``"avg"`` in a
            head, no pooling without one).
        dropout: dropout rate before the classifier. Defaults to ``None`` (none).
        weights: ``None`` (random initialization) or ``"imagenet"``: Keras's published
            ImageNet weights for the backbone (models whose ``model_config(name)["weights"]``
            lists it), fetched once through ``keras.utils.get_file`` into Keras's cache and
            checked against the published hash; the head stays new. Feed the input as
            ``preprocessing_for(name, "imagenet")`` says. Defaults to ``None``.
        **overrides: family keywords, listed in ``model_config(name)["overrides"]`` (e.g.
            ``vocab_size`` and ``sequence_length`` for text models, ``horizon`` for forecasters).

    Returns:
        An uncompiled ``keras.Model``.

    Example:

    >>> from kerazoo import zoo
    >>> model = zoo.build("simple_cnn", input_shape=(8, 8, 1), num_classes=10)
    >>> model.output.shape
    (None, 10)
    >>> tuple(layer.name for layer in model.layers)
    ('inputs', 'backbone', 'head')
    """
    entry = registry("models").get(name)
    meta = entry.metadata
    if meta.get("task") == "forecasting":
        if num_classes is not None or not include_top or pooling is not None:
            raise ConfigError(
                f"'{name}' is a forecaster: num_classes, include_top and pooling do not apply "
                f"(use horizon=, num_targets=). Received: num_classes={num_classes!r}, "
                f"include_top={include_top!r}, pooling={pooling!r}"
            )
        kwargs = {"input_shape": tuple(input_shape or meta["input_shape"]), "dropout": dropout}
    else:
        if pooling is not None and pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {POOLINGS} or None. Received: {pooling!r}")
        kwargs = {
            "input_shape": tuple(input_shape or meta["input_shape"]),
            "num_classes": num_classes or meta["num_classes"],
            "include_top": include_top,
            "pooling": pooling,
            "dropout": dropout,
        }
    kwargs.update(overrides)
    _check_overrides(name, entry.obj, kwargs)
    if weights is not None and weights not in meta.get("weights", ()):
        raise ConfigError(
            f"Model '{name}' offers weights {list(meta.get('weights', ())) or 'none'}. "
            f"Received: weights={weights!r}"
        )
    weights_file = None
    if weights == "imagenet":  # fetched (or refused) before the build: fails fast offline
        from kerazoo.zoo.applications import imagenet_weights_file

        weights_file = imagenet_weights_file(name, kwargs["input_shape"])
    try:
        model = entry.obj(**kwargs)
    except TypeError as error:
        if "multiple values for keyword argument" not in str(error):
            raise
        raise ConfigError(
            f"Model '{name}' fixes {str(error).rsplit(' ', 1)[-1]} (it is what makes this "
            "variant); build the family's other variant instead."
        ) from None
    if weights_file is not None:
        from kerazoo.zoo.applications import load_imagenet_weights

        load_imagenet_weights(model, name, weights_file)
    return model


def _check_overrides(name: str, builder, kwargs: dict[str, Any]) -> None:
    family = getattr(builder, "family_builder", builder)
    params = inspect.signature(family).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        allowed = ", ".join(p for p in params if p != "name")
        raise ConfigError(
            f"Model '{name}' does not take {', '.join(unknown)}; it accepts: {allowed}."
        )


def _backbone(model: keras.Model) -> keras.Model:
    try:
        return model.get_layer("backbone")
    except ValueError:
        raise KerazooError(
            f"Model '{model.name}' has no layer named 'backbone'; replace_head and "
            "set_backbone_trainable work on kerazoo.zoo models."
        ) from None


def set_backbone_trainable(
    model: keras.Model, trainable: bool, *, keep_batchnorm_frozen: bool = False
) -> keras.Model:
    """Freeze or unfreeze the ``backbone`` part of a zoo model, in place.

    A frozen backbone's variables are not trained and its ``BatchNormalization`` layers run in
    inference mode (Keras normalizes with the moving statistics, and does not update them, in any
    ``BatchNormalization`` whose ``trainable`` is ``False``; that holds even when the outer model is
    called with ``training=True``, which in Keras 3 overrides a ``training=False`` recorded on a
    nested call). Unfreezing makes ``BatchNormalization`` learn and update its statistics again,
    unless ``keep_batchnorm_frozen=True`` — the Keras transfer-learning guide's advice for
    fine-tuning on small data. Call ``model.compile(...)`` again after changing this.

    Args:
        model: a model from ``build``, ``replace_head`` or ``from_preset``.
        trainable: ``False`` to freeze, ``True`` to unfreeze.
        keep_batchnorm_frozen: when unfreezing, leave ``BatchNormalization`` layers frozen (in
            inference mode). Defaults to ``False``.

    Returns:
        ``model`` itself.

    Example:

    >>> from kerazoo import zoo
    >>> model = zoo.set_backbone_trainable(zoo.build("simple_cnn"), False)
    >>> model.get_layer("backbone").trainable, model.get_layer("head").trainable
    (False, True)
    """
    backbone = _backbone(model)
    backbone.trainable = bool(trainable)
    if trainable and keep_batchnorm_frozen:
        for layer in _leaf_layers(backbone):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    return model


def _leaf_layers(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def replace_head(
    model: keras.Model,
    num_classes: int,
    *,
    dropout: float | None = None,
    pooling: str = "avg",
    freeze_backbone: bool = True,
    activation: str | None = None,
) -> keras.Model:
    """A new classifier sharing ``model``'s backbone (and its weights) with a fresh head.

    Args:
        model: a zoo model (built with or without its top).
        num_classes: classes of the new head.
        dropout: dropout rate before the new classifier. Defaults to ``None``.
        pooling: pooling of the backbone's features: ``"avg"``, ``"max"`` or ``"flatten"``.
            Defaults to ``"avg"``.
        freeze_backbone: freeze the backbone (``set_backbone_trainable(new, False)``), the first
            stage of fine-tuning. Defaults to ``True``.
        activation: activation of the classifier. Defaults to ``None`` (logits).

    Returns:
        A new functional ``keras.Model``; ``model`` keeps its own head.

    Example:

    >>> from kerazoo import zoo
    >>> base = zoo.build("simple_cnn", input_shape=(8, 8, 1))
    >>> model = zoo.replace_head(base, 3)
    >>> model.output.shape, model.get_layer("backbone") is base.get_layer("backbone")
    ((None, 3), True)
    """
    check_positive(num_classes=num_classes)
    check_dropout(dropout)
    backbone = _backbone(model)
    inputs = keras.Input(
        backbone.input.shape[1:], dtype=backbone.input.dtype, name=backbone.input.name
    )
    features = backbone(inputs)
    head = classification_head(
        features.shape[1:], num_classes, pooling=pooling, dropout=dropout, activation=activation
    )
    new_model = keras.Model(inputs, head(features), name=model.name)
    set_backbone_trainable(new_model, not freeze_backbone)
    return new_model
