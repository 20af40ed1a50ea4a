"""PositionEmbedding: a learned embedding per sequence position, added to the input."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position to ``(batch, steps, features)`` inputs.

    The table holds ``sequence_length`` rows; an input may be shorter (the first rows are used) but
    not longer. Unlike ``keras_hub.layers.PositionEmbedding``, which returns the embeddings alone,
    this layer returns ``inputs + embeddings`` (what a ViT or BERT embedding block does next).

    Args:
        sequence_length: the longest sequence the layer accepts.
        initializer: initializer of the table. Defaults to ``"glorot_uniform"``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(batch, steps, features)`` with ``steps <= sequence_length``.
    Output shape: same as the input. A mask passes through unchanged.

    Example:

    >>> import numpy as np
    >>> layer = PositionEmbedding(sequence_length=16, initializer="ones")
    >>> y = layer(np.zeros((2, 10, 8), "float32"))
    >>> tuple(y.shape), float(keras.ops.convert_to_numpy(y)[0, 3, 0])
    ((2, 10, 8), 1.0)

    Reference:
        Gehring et al., "Convolutional Sequence to Sequence Learning", ICML 2017;
        Devlin et al., "BERT", NAACL 2019.
    """

    def __init__(self, sequence_length: int, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if sequence_length is None or int(sequence_length) < 1:
            raise ValueError(
                "`sequence_length` must be a positive integer. "
                f"Received: sequence_length={sequence_length}"
            )
        self.sequence_length = int(sequence_length)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "PositionEmbedding expects (batch, steps, features) with known features. "
                f"Received: input_shape={input_shape}"
            )
        if input_shape[1] is not None and input_shape[1] > self.sequence_length:
            raise ValueError(
                f"Input has {input_shape[1]} steps but sequence_length={self.sequence_length}."
            )
        self.embeddings = self.add_weight(
            shape=(self.sequence_length, input_shape[-1]),
            initializer=self.initializer,
            name="embeddings",
        )

    def call(self, inputs):
        steps = ops.shape(inputs)[1]
        table = ops.cast(self.embeddings, inputs.dtype)
        return inputs + ops.expand_dims(table[:steps], 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
