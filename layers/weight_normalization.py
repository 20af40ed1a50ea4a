"""WeightNormalization: reparameterize a layer's kernel as a direction times a learned norm."""

from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import ops

from kerazoo.registry import register


def _concrete_flag(variable) -> float | None:
    """The variable's value as a Python float, or ``None`` inside a traced/symbolic function."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly():
            return None
    try:
        return float(np.asarray(ops.convert_to_numpy(ops.cast(variable.value, "float32"))))
    except Exception:  # a JAX tracer or a symbolic placeholder has no concrete value
        return None


@register("layers", tfa="tfa.layers.WeightNormalization")
class WeightNormalization(keras.layers.Wrapper):
    """Wraps a layer so that its kernel is ``g * v / ||v||`` with a learned norm ``g``.

    ``v`` is the wrapped layer's own kernel (a ``Dense``/``Conv`` kernel, or the recurrent kernel
    of an ``RNN``), normalized over every axis but the last; ``g`` has one entry per output
    channel. With ``data_init=True`` the first call initialises ``g`` and the bias from that
    batch so that the wrapped layer's pre-activations have zero mean and unit variance per
    channel (the paper's data-dependent initialisation); with ``False``, ``g = ||v||`` so the
    layer starts as it was. Same arguments and weights (``g``, the kernel as ``v``) as
    ``tfa.layers.WeightNormalization``.

    Differences from tfa: tfa measured the initial statistics with the un-normalized ``v``, so its
    pre-activations have variance ``1 / ||v||^2`` rather than 1 (the two agree when the kernel's
    columns have unit norm). The data-dependent initialisation happens on the first call made
    eagerly or inside a TensorFlow graph; under a JAX-compiled function (``fit`` on JAX) it cannot
    write the trainable ``g``, so call the model once on a batch (``model(x)``) before ``fit``.
    Under a ``tf.distribute`` strategy the first step initialises from every replica's batch
    (the replicas' statistics are averaged).

    Args:
        layer: the layer to wrap; it must have a ``kernel`` (or be a ``keras.layers.RNN`` whose
            cell has a ``recurrent_kernel``).
        data_init: use the data-dependent initialisation. Defaults to ``True``.
        **kwargs: base ``keras.layers.Wrapper`` arguments (``name``, ...).

    Input shape and output shape: those of the wrapped layer.

    Example:

    >>> import numpy as np
    >>> layer = WeightNormalization(keras.layers.Dense(3), data_init=True)
    >>> x = np.random.default_rng(0).normal(size=(256, 5)).astype("float32")
    >>> y = keras.ops.convert_to_numpy(layer(x))
    >>> bool(np.allclose(y.mean(0), 0.0, atol=1e-4) and np.allclose(y.std(0), 1.0, atol=1e-3))
    True

    Reference:
        Salimans & Kingma, "Weight Normalization: A Simple Reparameterization to Accelerate
        Training of Deep Neural Networks", NeurIPS 2016.
    """

    def __init__(self, layer: keras.layers.Layer, data_init: bool = True, **kwargs):
        super().__init__(layer, **kwargs)
        self.data_init = data_init
        self.is_rnn = isinstance(layer, keras.layers.RNN)
        if data_init and self.is_rnn:
            warnings.warn(
                "WeightNormalization: data_init=True is advised against for RNNs by the paper; "
                "use data_init=False.",
                stacklevel=2,
            )

    def _kernel_variable(self):
        owner = self.layer.cell if self.is_rnn else self.layer
        name = "recurrent_kernel" if self.is_rnn else "kernel"
        kernel = getattr(owner, "_kernel", None) if not self.is_rnn else None
        kernel = kernel if kernel is not None else getattr(owner, name, None)
        if not isinstance(kernel, keras.Variable):
            raise ValueError(
                "WeightNormalization must wrap a layer with a `kernel` variable (or an RNN with "
                f"a `recurrent_kernel`). Received: layer={self.layer.name}"
            )
        return kernel

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        kernel = self._kernel_variable()
        self.layer_depth = int(kernel.shape[-1])
        self.kernel_norm_axes = tuple(range(len(kernel.shape) - 1))
        self.g = self.add_weight(shape=(self.layer_depth,), name="g", initializer="ones")
        self.initialized = self.add_weight(
            shape=(), name="initialized", initializer="zeros", trainable=False
        )
        self.built = True

    def _direction(self):
        v = self._kernel_variable()
        value = v.value
        square_sum = ops.sum(ops.square(value), axis=self.kernel_norm_axes, keepdims=True)
        return value * ops.rsqrt(ops.maximum(square_sum, 1e-12))

    def _call_with(self, inputs, kernel_value, bias_value=None, linear=False, **kwargs):
        """Calls the wrapped layer with its kernel (and bias) replaced by computed tensors."""
        kernel = self._kernel_variable()
        mapping = [(var, var.value) for var in self.layer.variables if var is not kernel]
        mapping.append((kernel, kernel_value))
        bias = getattr(self.layer, "bias", None)
        if bias_value is not None and isinstance(bias, keras.Variable):
            mapping = [(var, bias_value if var is bias else val) for var, val in mapping]
        activation = getattr(self.layer, "activation", None)
        if linear and activation is not None:
            self.layer.activation = keras.activations.linear
        try:
            with keras.StatelessScope(state_mapping=mapping):
                return self.layer(inputs, **kwargs)
        finally:
            if linear and activation is not None:
                self.layer.activation = activation

    def _initial_values(self, inputs, **kwargs):
        """The ``g`` (and bias) the first batch asks for."""
        direction = self._direction()
        if not self.data_init:
            v = self._kernel_variable().value
            norm = ops.sqrt(ops.sum(ops.square(v), axis=self.kernel_norm_axes))
            return ops.reshape(norm, (self.layer_depth,)), None
        bias = getattr(self.layer, "bias", None)
        has_bias = isinstance(bias, keras.Variable)
        zero_bias = ops.zeros_like(bias.value) if has_bias else None
        pre = self._call_with(inputs, direction, zero_bias, linear=not self.is_rnn, **kwargs)
        pre = ops.cast(pre, "float32")
        axes = tuple(range(len(pre.shape) - 1))
        mean, variance = ops.moments(pre, axes=axes)
        scale = ops.rsqrt(variance + 1e-10)
        if scale.shape[0] != self.layer_depth:  # an LSTM's recurrent kernel holds 4 gates
            scale = ops.tile(scale, (self.layer_depth // scale.shape[0],))
        g = ops.cast(self.g.value, "float32") * scale
        new_bias = -mean * scale[: mean.shape[0]] if has_bias else None
        return g, new_bias

    def _initialize(self, inputs, **kwargs):
        g, bias = self._initial_values(inputs, **kwargs)
        self.g.assign(ops.cast(g, self.g.dtype))
        if bias is not None:
            self.layer.bias.assign(ops.cast(bias, self.layer.bias.dtype))
        self.initialized.assign(ops.ones((), dtype=self.initialized.dtype))

    def _initialize_in_graph(self, inputs, **kwargs):
        """The data-dependent init inside a traced graph, distribution-safe.

        The cond only *computes* (fresh values on the first batch, the current ones after);
        the assignments run unconditionally outside it. Assigning inside the cond fails under
        ``MirroredStrategy``: a replica-context assign does a ``merge_call`` that cannot reach
        tensors of the cond's branch graph. Out here each replica's values are averaged across
        replicas (the variables' MEAN aggregation), so the init uses every replica's batch.
        """
        bias = getattr(self.layer, "bias", None)
        has_bias = isinstance(bias, keras.Variable)

        def fresh():
            g, new_bias = self._initial_values(inputs, **kwargs)
            return g, (ops.cast(new_bias, "float32") if has_bias else ops.zeros(()))

        def kept():
            return (ops.cast(self.g.value, "float32"),
                    ops.cast(bias.value, "float32") if has_bias else ops.zeros(()))

        not_initialized = ops.equal(ops.cast(self.initialized, "float32"), 0.0)
        g, new_bias = ops.cond(not_initialized, fresh, kept)
        self.g.assign(ops.cast(g, self.g.dtype))
        if has_bias:
            bias.assign(ops.cast(new_bias, bias.dtype))
        self.initialized.assign(ops.ones((), dtype=self.initialized.dtype))

    def call(self, inputs, training=None):
        kwargs = {"training": training}
        flag = _concrete_flag(self.initialized)
        if flag is not None:
            if flag == 0.0:
                self._initialize(inputs, **kwargs)
        elif keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            if tf.distribute.has_strategy():
                self._initialize_in_graph(inputs, **kwargs)
            else:  # one device: assign inside the cond, so later steps pay nothing

                def initialize():
                    self._initialize(inputs, **kwargs)
                    return ops.zeros(())

                not_initialized = ops.equal(ops.cast(self.initialized, "float32"), 0.0)
                ops.cond(not_initialized, initialize, lambda: ops.zeros(()))
        kernel = ops.reshape(ops.cast(self.g, "float32"), (1,) * len(self.kernel_norm_axes) + (-1,))
        kernel = ops.cast(self._direction(), "float32") * kernel
        kernel = ops.cast(kernel, self._kernel_variable().dtype)
        return self._call_with(inputs, kernel, **kwargs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"data_init": self.data_init})
        return config
