"""MaxUnpooling2D: put pooled values back where the max pooling found them."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


def _pair(value, name):
    pair = (value, value) if isinstance(value, int) else tuple(int(v) for v in value)
    if len(pair) != 2:
        raise ValueError(f"`{name}` must be an int or a pair of ints. Received: {name}={value}")
    return pair


@register("layers", tfa="tfa.layers.MaxUnpooling2D")
class MaxUnpooling2D(keras.layers.Layer):
    """Scatters ``updates`` into a zero map at the positions given by an argmax ``mask``.

    ``mask`` holds, for every pooled value, its flat position ``(y * W + x) * C + c`` in one sample
    of the unpooled map, the format of ``tf.nn.max_pool_with_argmax(...,
    include_batch_in_index=False)``. Values that land on the same position are summed. Same
    arguments and outputs as ``tfa.layers.MaxUnpooling2D``; channels last.

    Args:
        pool_size: the pooling window, an int or pair. Defaults to ``(2, 2)``.
        strides: the pooling strides, an int or pair. Defaults to ``(2, 2)``.
        padding: ``"SAME"`` or ``"VALID"`` (the pooling's padding; any case). Defaults to
            ``"SAME"``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        updates: the pooled values ``(batch, h, w, C)``; or a list ``[updates, mask]``.
        mask: integer tensor of the shape of ``updates``.

    Output shape: ``(batch, h * sh, w * sw, C)`` for ``"SAME"``,
    ``(batch, (h - 1) * sh + ph, (w - 1) * sw + pw, C)`` for ``"VALID"``.

    Example:

    >>> import numpy as np
    >>> updates = np.array([[[[5.0]]]], "float32")  # one pooled value, 1 x 1 x 1
    >>> argmax = np.array([[[[3]]]], "int32")  # it came from row 1, column 1 of the 2 x 2 window
    >>> y = MaxUnpooling2D()([updates, argmax])
    >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].tolist()
    [[0.0, 0.0], [0.0, 5.0]]

    Reference:
        Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014;
        Badrinarayanan et al., "SegNet", TPAMI 2017.
    """

    def __init__(self, pool_size=(2, 2), strides=(2, 2), padding: str = "SAME", **kwargs):
        super().__init__(**kwargs)
        if str(padding).upper() not in ("SAME", "VALID"):
            raise ValueError(f"`padding` must be 'SAME' or 'VALID'. Received: padding={padding}")
        self.pool_size = _pair(pool_size, "pool_size")
        self.strides = _pair(strides, "strides")
        self.padding = str(padding).upper()
        self.built = True

    def _unpooled_hw(self, height, width):
        if self.padding == "VALID":
            return (
                (height - 1) * self.strides[0] + self.pool_size[0],
                (width - 1) * self.strides[1] + self.pool_size[1],
            )
        return height * self.strides[0], width * self.strides[1]

    def call(self, updates, mask=None):
        if isinstance(updates, list | tuple):
            # Keras fills `mask` with the inputs' (absent) Keras masks when given one list.
            updates, mask = updates[0], updates[1]
        if mask is None:
            raise ValueError("MaxUnpooling2D needs the argmax `mask` of the pooling.")
        dynamic = ops.shape(updates)
        batch = updates.shape[0] if updates.shape[0] is not None else dynamic[0]
        height, width, channels = (
            d if d is not None else dynamic[i + 1] for i, d in enumerate(updates.shape[1:])
        )
        out_h, out_w = self._unpooled_hw(height, width)
        per_sample = out_h * out_w * channels
        mask = ops.reshape(ops.cast(mask, "int32"), (batch, -1))
        offsets = ops.expand_dims(ops.arange(batch, dtype="int32") * per_sample, 1)
        flat_index = ops.reshape(mask + offsets, (-1,))
        values = ops.reshape(updates, (-1,))
        flat = ops.segment_sum(values, flat_index, num_segments=batch * per_sample)
        return ops.reshape(flat, (batch, out_h, out_w, channels))

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) and isinstance(input_shape[0], list | tuple):
            input_shape = input_shape[0]
        batch, height, width, channels = input_shape
        out_h, out_w = self._unpooled_hw(height, width) if None not in (height, width) else (
            None,
            None,
        )
        return (batch, out_h, out_w, channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}
        )
        return config
