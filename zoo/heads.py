"""The pieces every zoo model shares: the input, the named ``backbone`` and ``head`` parts.

A zoo model is ``inputs -> backbone -> head``: two named functional sub-models inside one plain
functional ``keras.Model``, so that fine-tuning can swap the head and freeze the backbone without
knowing the family.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from kerazoo.errors import ConfigError

POOLINGS = ("avg", "max", "flatten")


def check_pooling(pooling: str | None) -> None:
    if pooling is not None and pooling not in POOLINGS:
        raise ConfigError(
            f"pooling must be one of {POOLINGS} or None. Received: pooling={pooling!r}"
        )


def check_positive(**values: int | None) -> None:
    for key, value in values.items():
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ConfigError(f"{key} must be a positive integer. Received: {key}={value!r}")


def check_dropout(dropout: float | None) -> None:
    if dropout is not None and not 0.0 <= float(dropout) < 1.0:
        raise ConfigError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")


def _pool(x: keras.KerasTensor, pooling: str) -> keras.KerasTensor:
    rank = len(x.shape) - 1
    if rank == 1:  # already a vector: nothing to pool
        return x
    if pooling == "flatten":
        return keras.layers.Flatten(name="flatten")(x)
    layers = {
        ("avg", 2): keras.layers.GlobalAveragePooling1D,
        ("max", 2): keras.layers.GlobalMaxPooling1D,
        ("avg", 3): keras.layers.GlobalAveragePooling2D,
        ("max", 3): keras.layers.GlobalMaxPooling2D,
        ("avg", 4): keras.layers.GlobalAveragePooling3D,
        ("max", 4): keras.layers.GlobalMaxPooling3D,
    }
    return layers[(pooling, rank)](name=f"{pooling}_pool")(x)


def classification_head(
    feature_shape: Sequence[int | None],
    num_classes: int,
    *,
    pooling: str | None = "avg",
    dropout: float | None = None,
    activation: str | None = None,
    hidden_units: Sequence[int] = (),
    name: str = "head",
) -> keras.Model:
    """Pooling, optional hidden layers, dropout and a ``Dense`` classifier, as a sub-model."""
    check_pooling(pooling)
    check_positive(num_classes=num_classes)
    check_dropout(dropout)
    inputs = keras.Input(tuple(feature_shape), name="features")
    x = _pool(inputs, pooling or "avg")
    for index, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation="relu", name=f"hidden{index}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Dense(num_classes, activation=activation, name="classifier")(x)
    return keras.Model(inputs, x, name=name)


def pooling_head(feature_shape: Sequence[int | None], pooling: str) -> keras.Model:
    """The head of a model built with ``include_top=False`` and a ``pooling``: features only."""
    check_pooling(pooling)
    inputs = keras.Input(tuple(feature_shape), name="features")
    return keras.Model(inputs, _pool(inputs, pooling), name="head")


def assemble_classifier(
    backbone: keras.Model,
    *,
    num_classes: int,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    activation: str | None = None,
    hidden_units: Sequence[int] = (),
    name: str,
) -> keras.Model:
    """``inputs -> backbone -> head`` for a classifier; the head returns logits by default.

    ``include_top=False`` with ``pooling=None`` returns the backbone's feature map and has no
    ``head`` part; with a ``pooling`` the head is that pooling alone.
    """
    check_pooling(pooling)
    check_dropout(dropout)
    inputs = keras.Input(
        backbone.input.shape[1:], dtype=backbone.input.dtype, name=backbone.input.name
    )
    features = backbone(inputs)
    if include_top:
        head = classification_head(
            features.shape[1:], num_classes, pooling=pooling or "avg", dropout=dropout,
            activation=activation, hidden_units=hidden_units,
        )
        outputs = head(features)
    elif pooling is not None:
        outputs = pooling_head(features.shape[1:], pooling)(features)
    else:
        outputs = features
    return keras.Model(inputs, outputs, name=name)


def variant_of(family):
    """Mark a registered variant builder as a preset of ``family`` (for ``build``'s checks)."""

    def decorate(builder):
        builder.family_builder = family
        return builder

    return decorate


def assemble_forecaster(
    backbone: keras.Model, head: keras.layers.Layer, *, revin: bool = False, name: str
) -> keras.Model:
    """``inputs -> backbone -> head`` for a forecaster, optionally wrapped in RevIN.

    With ``revin=True`` one ``RevIN`` layer normalizes each input window by its own statistics
    before the backbone and restores them on the head's forecast (so it needs as many targets as
    input features).
    """
    inputs = keras.Input(
        backbone.input.shape[1:], dtype=backbone.input.dtype, name=backbone.input.name
    )
    if not revin:
        return keras.Model(inputs, head(backbone(inputs)), name=name)
    from kerazoo.layers.revin import RevIN

    normalizer = RevIN(name="revin")
    forecast = head(backbone(normalizer(inputs)))
    if forecast.shape[-1] != inputs.shape[-1]:
        raise ConfigError(
            "revin=True restores the input statistics on the forecast, so num_targets must equal "
            f"the input features. Received: num_targets={forecast.shape[-1]}, "
            f"features={inputs.shape[-1]}"
        )
    outputs = normalizer([forecast, inputs], mode="denormalize")
    return keras.Model(inputs, outputs, name=name)


def forecast_head(
    feature_shape: Sequence[int | None], horizon: int, num_targets: int, *, name: str = "head"
) -> keras.Model:
    """Flatten the features, one ``Dense`` to ``horizon * num_targets``, reshape to the forecast."""
    check_positive(horizon=horizon, num_targets=num_targets)
    inputs = keras.Input(tuple(feature_shape), name="features")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(feature_shape) > 1 else inputs
    x = keras.layers.Dense(horizon * num_targets, name="projection")(x)
    x = keras.layers.Reshape((horizon, num_targets), name="forecast")(x)
    return keras.Model(inputs, x, name=name)
