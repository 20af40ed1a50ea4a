"""AttentionPooling1D: a learned, masking-aware weighted average over time steps."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers")
class AttentionPooling1D(keras.layers.Layer):
    """Pools ``(batch, steps, features)`` to ``(batch, features)`` with learned attention weights.

    Each step gets a score, ``w · x_t`` or, with ``units``, the additive form
    ``v · tanh(W x_t + b)``; the scores are softmax-normalised over the steps and the output is the
    weighted sum of the steps. Masked steps (from an ``Embedding(mask_zero=True)`` or ``Masking``
    layer upstream, or the ``mask`` argument) get zero weight; a sample whose steps are all masked
    pools to zeros. The softmax runs in float32 under mixed precision.

    Args:
        units: width of the hidden scoring layer; ``None`` scores each step with a single linear
            projection. Defaults to ``None``.
        kernel_initializer: initializer of the scoring kernels. Defaults to ``"glorot_uniform"``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(batch, steps, features)``.
        mask: optional boolean ``(batch, steps)``, ``True`` for steps to keep.

    Output shape: ``(batch, features)``; the output carries no mask.

    Example:

    >>> import numpy as np
    >>> layer = AttentionPooling1D(units=8)
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    >>> mask = np.array([[True] * 5, [True, True, False, False, False]])
    >>> tuple(layer(x, mask=mask).shape)
    (2, 4)

    Reference:
        Bahdanau et al., "Neural Machine Translation by Jointly Learning to Align and Translate",
        ICLR 2015 (additive scoring); Yang et al., "Hierarchical Attention Networks for Document
        Classification", NAACL 2016 (attention pooling).
    """

    def __init__(self, units: int | None = None, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if units is not None and units < 1:
            raise ValueError(f"`units` must be a positive integer or None. Received: units={units}")
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"AttentionPooling1D expects (batch, steps, features). Received: "
                f"input_shape={input_shape}"
            )
        features = input_shape[-1]
        score_in = features
        if self.units is not None:
            self.hidden_kernel = self.add_weight(
                shape=(features, self.units), initializer=self.kernel_initializer,
                name="hidden_kernel",
            )
            self.hidden_bias = self.add_weight(
                shape=(self.units,), initializer="zeros", name="hidden_bias"
            )
            score_in = self.units
        self.score_kernel = self.add_weight(
            shape=(score_in, 1), initializer=self.kernel_initializer, name="score_kernel"
        )

    def call(self, inputs, mask=None):
        hidden = inputs
        if self.units is not None:
            hidden = ops.tanh(ops.matmul(inputs, self.hidden_kernel) + self.hidden_bias)
        # float32 scores: the large negative fill for masked steps overflows float16.
        scores = ops.cast(ops.squeeze(ops.matmul(hidden, self.score_kernel), -1), "float32")
        if mask is not None:
            scores = ops.where(mask, scores, -1e9)
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:
            weights = weights * ops.cast(mask, weights.dtype)
        weights = ops.cast(weights, inputs.dtype)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
