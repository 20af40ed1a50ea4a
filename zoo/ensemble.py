"""Average classifiers that take the same input: one model, one export, one signature.

``probability_ensemble([a, b])`` wraps trained classifiers that output logits over the same
classes in one functional model whose output is the log of their mean probability: still
logits (``softmax`` of it gives the mean probability back), so everything that takes a
classifier's logits (losses, metrics, ``kerazoo predict``, the serving signatures) takes the
ensemble unchanged. The members keep their own preprocessing (a TF-IDF vectorizer, a token
vectorizer) inside them, so a SavedModel of the ensemble still takes the raw input.

Example:

>>> import keras
>>> from kerazoo.zoo.ensemble import ensemble_members, probability_ensemble
>>> inputs = keras.Input((4,))
>>> a = keras.Model(inputs, keras.layers.Dense(3)(inputs), name="a")
>>> b = keras.Model(inputs, keras.layers.Dense(3)(inputs), name="b")
>>> ensemble = probability_ensemble([a, b])
>>> ensemble.output.shape, [m.name for m in ensemble_members(ensemble)]
((None, 3), ['a', 'b'])
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from kerazoo.errors import ConfigError

#: The name of the averaging layer: how :func:`ensemble_members` recognises an ensemble.
AVERAGE_LAYER = "mean_probability"


@keras.saving.register_keras_serializable(package="kerazoo")
class LogMeanProbability(keras.layers.Layer):
    """``log(mean_i softmax(logits_i))`` over a list of logits tensors of the same shape.

    The log of a probability is a valid logit (its softmax is the probability itself), so the
    output can stand wherever one member's logits stood. Computed with ``logsumexp`` of the
    members' log-softmax: no ``log(0)`` when a member is certain.

    Example:

    >>> import numpy as np
    >>> layer = LogMeanProbability()
    >>> logits = [np.array([[0.0, 0.0]]), np.array([[0.0, np.log(3.0)]])]
    >>> np.round(keras.ops.convert_to_numpy(keras.ops.softmax(layer(logits))), 3)
    array([[0.375, 0.625]], dtype=float32)
    """

    def call(self, inputs):
        stacked = keras.ops.stack([keras.ops.log_softmax(x, axis=-1) for x in inputs], axis=0)
        count = keras.ops.cast(len(inputs), stacked.dtype)
        return keras.ops.logsumexp(stacked, axis=0) - keras.ops.log(count)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


def probability_ensemble(members: Sequence[keras.Model], name: str = "ensemble") -> keras.Model:
    """One model averaging the probabilities of ``members`` (see the module docstring).

    Args:
        members: trained classifiers with the same input (shape and dtype) that output logits
            over the same classes, in the same order.
        name: the model name. Defaults to ``"ensemble"``.

    Returns:
        A functional ``keras.Model`` from the members' input to the log of their mean
        probability; the members are its layers, in order.
    """
    members = list(members)
    if len(members) < 2:
        raise ConfigError(f"probability_ensemble needs at least two models. Received: "
                          f"{len(members)}")
    first, first_signature = members[0], _signature(members[0])
    for member in members[1:]:
        signature = _signature(member)
        if signature != first_signature:
            raise ConfigError(
                f"probability_ensemble: {member.name} takes {signature[1]} {signature[0]} and "
                f"gives {signature[2]} classes; {first.name} takes {first_signature[1]} "
                f"{first_signature[0]} and gives {first_signature[2]}: the members must take "
                "the same input and classes.")
    inputs = keras.Input(first.input.shape[1:], dtype=first.input.dtype,
                         name=first.input.name.split(":")[0] or "inputs")
    outputs = LogMeanProbability(name=AVERAGE_LAYER)([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name=name)


def _signature(model: keras.Model) -> tuple:
    """``(input shape without the batch, input dtype, classes)`` of a functional model."""
    try:
        return tuple(model.input.shape[1:]), model.input.dtype, model.output.shape[-1]
    except (AttributeError, ValueError):
        raise ConfigError(
            f"probability_ensemble: {model.name} has no symbolic input and output (a subclassed "
            "model that was never called on keras.Input); its members must be functional "
            "models.") from None


def ensemble_members(model: keras.Model) -> list[keras.Model] | None:
    """The members of a :func:`probability_ensemble` model, in order; ``None`` for any other."""
    names = {layer.name for layer in model.layers}
    if AVERAGE_LAYER not in names:
        return None
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]
