"""Parameter and multiply-accumulate (MAC) counts of a model, computed analytically per layer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
from keras import tree

from kerazoo.errors import ConfigError

_CONV = keras.layers.Conv1D.__mro__[1]  # BaseConv: Conv1D/2D/3D and DepthwiseConv share it
_CONV_TRANSPOSE = keras.layers.Conv2DTranspose.__mro__[1]
_RNNS = (keras.layers.LSTM, keras.layers.GRU, keras.layers.SimpleRNN, keras.layers.RNN)


def profile(model: keras.Model, input_shape: Sequence[int] | None = None) -> dict[str, int]:
    """Parameters and MACs for one sample.

    MACs are counted for convolutions (including depthwise, separable and transposed), dense
    layers and recurrent layers (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN`` with a cell that has
    ``kernel`` and ``recurrent_kernel``, ``Bidirectional``); normalization, activations, pooling and
    element-wise ops count zero (the usual convention: timm, fvcore). Other layers with weights
    count one multiply per weight of rank >= 2.

    Args:
        model: a functional model.
        input_shape: shape of one sample without the batch axis. Defaults to the model's input
            shape (which must then be fully defined).

    Returns:
        ``{"params": ..., "trainable_params": ..., "macs": ...}``.

    Example:

    >>> import keras
    >>> inputs = keras.Input((8, 8, 3))
    >>> model = keras.Model(inputs, keras.layers.Conv2D(4, 3, padding="same")(inputs))
    >>> profile(model)["macs"] == 8 * 8 * 3 * 3 * 3 * 4
    True
    """
    shapes = input_shape if input_shape is not None else model.input.shape[1:]
    if any(dim is None for dim in shapes):
        raise ConfigError(
            f"profile needs a fully defined input shape; model '{model.name}' has "
            f"{tuple(model.input.shape[1:])}. Pass input_shape=."
        )
    spec = keras.KerasTensor((1, *shapes), dtype=model.input.dtype)
    _, macs = _trace(model, [spec])
    return {
        "params": int(model.count_params()),
        "trainable_params": int(sum(math.prod(w.shape) for w in model.trainable_weights)),
        "macs": int(macs),
    }


def _trace(model: keras.Model, inputs: list) -> tuple[Any, int]:
    if isinstance(model, keras.Sequential):
        model = model._functional
    total = 0

    def operation_fn(operation):
        def call(*args, **kwargs):
            nonlocal total
            if isinstance(operation, keras.Model) and hasattr(operation, "_run_through_graph"):
                outputs, macs = _trace(operation, tree.flatten(args[0] if args else kwargs))
            else:
                outputs = operation.compute_output_spec(*args, **kwargs)
                first = tree.flatten(args)[0] if args else None
                macs = layer_macs(operation, first.shape if first is not None else None, outputs)
            total += macs
            return outputs

        return call

    outputs = model._run_through_graph(inputs, operation_fn=operation_fn)
    return outputs, total


def _size(shape) -> int:
    return int(math.prod(int(d) for d in shape))


def layer_macs(layer, input_shape, outputs) -> int:
    """MACs of one call of a leaf layer on one sample (batch axis of the shapes is 1)."""
    out_shape = tree.flatten(outputs)[0].shape if outputs is not None else None
    if isinstance(layer, (keras.layers.SeparableConv2D, keras.layers.SeparableConv1D)):
        return _size(out_shape[1:-1]) * (
            _size(layer.depthwise_kernel.shape) + _size(layer.pointwise_kernel.shape)
        )
    if isinstance(layer, _CONV_TRANSPOSE):
        return _size(input_shape[1:-1]) * _size(layer.kernel.shape)
    if isinstance(layer, (_CONV, keras.layers.DepthwiseConv2D, keras.layers.DepthwiseConv1D)):
        kernel = getattr(layer, "kernel", None)
        kernel = layer.depthwise_kernel if kernel is None else kernel
        return _size(out_shape[1:-1]) * _size(kernel.shape)
    if isinstance(layer, keras.layers.Dense):
        return _size(input_shape[1:-1]) * _size(layer.kernel.shape)
    if isinstance(layer, keras.layers.Bidirectional):
        return layer_macs(layer.forward_layer, input_shape, None) + layer_macs(
            layer.backward_layer, input_shape, None
        )
    if isinstance(layer, _RNNS):
        cell = layer.cell
        kernels = [getattr(cell, name, None) for name in ("kernel", "recurrent_kernel")]
        steps = int(input_shape[1])
        if all(kernel is not None for kernel in kernels):
            return steps * sum(_size(kernel.shape) for kernel in kernels)
        return steps * sum(_size(w.shape) for w in cell.weights if len(w.shape) >= 2)
    if isinstance(layer, keras.layers.TimeDistributed):
        inner = layer_macs(layer.layer, (1, *input_shape[2:]), None)
        return int(input_shape[1]) * inner
    if isinstance(layer, (keras.layers.Embedding, keras.layers.BatchNormalization,
                          keras.layers.LayerNormalization)):
        return 0
    return sum(_size(w.shape) for w in getattr(layer, "weights", ()) if len(w.shape) >= 2)
