"""EmbeddingBag: the (weighted) sum or mean of the embeddings of a bag of indices."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.layers.EmbeddingBag")
class EmbeddingBag(keras.layers.Layer):
    """Looks up the embeddings of the last axis of ``indices`` and combines them.

    ``indices`` of shape ``(..., bag_size)`` give outputs ``(..., output_dim)``: the sum of the bag's
    embeddings (each multiplied by its entry in ``weights`` if given) or, with
    ``combiner="mean"``, their mean. Same arguments, weight (``embeddings``) and outputs as
    ``tfa.layers.EmbeddingBag``, written with ``keras.ops`` (tfa needed a custom C++/CUDA op).
    Difference: with ``mask_zero=True`` index 0 is padding here (it adds nothing and is not
    counted by ``"mean"``); tfa accepted the argument but ignored it.

    Args:
        input_dim: vocabulary size.
        output_dim: embedding size.
        embeddings_initializer: initializer of the table. Defaults to ``"uniform"``.
        embeddings_regularizer: optional regularizer of the table. Defaults to ``None``.
        embeddings_constraint: optional constraint of the table. Defaults to ``None``.
        mask_zero: treat index 0 as padding. Defaults to ``False``.
        combiner: ``"sum"`` or ``"mean"``; ``weights`` need ``"sum"``. Defaults to ``"sum"``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        indices: integer tensor ``(..., bag_size)``.
        weights: optional float tensor of the same shape as ``indices``.

    Example:

    >>> import numpy as np
    >>> layer = EmbeddingBag(input_dim=4, output_dim=2, embeddings_initializer="ones")
    >>> keras.ops.convert_to_numpy(layer(np.array([[0, 1, 3]]))).tolist()
    [[3.0, 3.0]]

    Reference:
        PyTorch ``torch.nn.EmbeddingBag``; ``tfa.layers.EmbeddingBag``.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        combiner: str = "sum",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if input_dim <= 0 or output_dim <= 0:
            raise ValueError(
                "`input_dim` and `output_dim` must be positive. "
                f"Received: input_dim={input_dim}, output_dim={output_dim}"
            )
        if combiner not in ("sum", "mean"):
            raise ValueError(f"`combiner` must be 'sum' or 'mean'. Received: combiner={combiner}")
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = keras.constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.combiner = combiner

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            name="embeddings",
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )

    def call(self, indices, weights=None):
        if weights is not None and self.combiner != "sum":
            raise ValueError(
                "EmbeddingBag: per-index `weights` need combiner='sum'. "
                f"Received: combiner={self.combiner}"
            )
        indices = ops.cast(indices, "int32")
        vectors = ops.take(self.embeddings, indices, axis=0)
        if weights is None:
            weights = ops.ones(ops.shape(indices), dtype=vectors.dtype)
        weights = ops.cast(weights, vectors.dtype)
        if self.mask_zero:
            weights = weights * ops.cast(ops.not_equal(indices, 0), vectors.dtype)
        combined = ops.sum(vectors * ops.expand_dims(weights, -1), axis=-2)
        if self.combiner == "mean":
            if self.mask_zero:
                count = ops.sum(weights, axis=-1, keepdims=True)
                return combined / ops.maximum(count, 1.0)
            return combined / ops.cast(ops.shape(indices)[-1], combined.dtype)
        return combined

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], tuple):
            input_shape = input_shape[0]
        return (*tuple(input_shape)[:-1], self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
                "embeddings_regularizer": keras.regularizers.serialize(
                    self.embeddings_regularizer
                ),
                "embeddings_constraint": keras.constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero,
                "combiner": self.combiner,
            }
        )
        return config
