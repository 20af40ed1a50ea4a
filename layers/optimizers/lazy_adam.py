"""LazyAdam: Adam that touches only the rows present in a sparse gradient."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.optimizers._fused import fused_kernel_applies, handle
from kerazoo.optimizers._per_step import PerStepValues
from kerazoo.registry import register


def _dedupe(tf, values, indices):
    unique, positions = tf.unique(indices)
    summed = tf.math.unsorted_segment_sum(values, positions, tf.shape(unique)[0])
    return summed, unique


@register("optimizers", tfa="tfa.optimizers.LazyAdam")
class LazyAdam(PerStepValues, keras.optimizers.Optimizer):
    """Adam with lazy, row-sparse updates for embedding tables.

    On the TensorFlow backend a gradient that arrives as ``tf.IndexedSlices`` (an ``Embedding``
    lookup) updates the moments and weights of the looked-up rows only; untouched rows keep stale
    moments and do not move, as in ``tfa.optimizers.LazyAdam``. Dense gradients — and every
    gradient on JAX and PyTorch, whose autodiff produces dense embedding gradients — get the plain
    Adam update, the dense fallback. Sparse and dense updates therefore differ for rows absent
    from a batch (Adam would keep moving them by their momentum).

    Args:
        learning_rate: float or ``LearningRateSchedule``. Defaults to ``0.001``.
        beta_1: first-moment decay. Defaults to ``0.9``.
        beta_2: second-moment decay. Defaults to ``0.999``.
        epsilon: denominator constant. Defaults to ``1e-7``.
        amsgrad: accepted for tfa compatibility; must be ``False`` (tfa's LazyAdam had no sparse
            AMSGrad either). Defaults to ``False``.
        name: optimizer name. Defaults to ``"LazyAdam"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import LazyAdam
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> LazyAdam(0.1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.9, 0.9]

    Reference: Kingma & Ba, "Adam", 2014; tfa's LazyAdam.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, name: str = "LazyAdam",
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if amsgrad:
            from kerazoo.errors import ConfigError

            raise ConfigError("LazyAdam does not support amsgrad=True. Received: amsgrad=True")
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = False

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m = self.add_optimizer_variables(var_list, "m")
        self._v = self.add_optimizer_variables(var_list, "v")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)

        def step_values():
            step = ops.cast(self.iterations + 1, dtype)
            beta_1_power, beta_2_power = ops.power(beta_1, step), ops.power(beta_2, step)
            alpha = (ops.cast(learning_rate, dtype) * ops.sqrt(1.0 - beta_2_power)
                     / (1.0 - beta_1_power))
            return alpha, beta_1_power, beta_2_power

        alpha, beta_1_power, beta_2_power = self.per_step("adam", variable, step_values)
        m, v = self._m[index], self._v[index]
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            if isinstance(gradient, tf.IndexedSlices):
                values, rows = _dedupe(tf, tf.cast(gradient.values, dtype), gradient.indices)
                m_rows = beta_1 * tf.gather(m.value, rows) + (1.0 - beta_1) * values
                v_rows = beta_2 * tf.gather(v.value, rows) + (1.0 - beta_2) * tf.square(values)
                self.assign(m, tf.IndexedSlices(m_rows, rows))
                self.assign(v, tf.IndexedSlices(v_rows, rows))
                step_rows = alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon)
                self.assign_sub(variable, tf.IndexedSlices(step_rows, rows))
                return
        grad = ops.cast(gradient, dtype)
        if fused_kernel_applies(gradient):
            import tensorflow as tf

            # Dense gradient: exactly Adam, TensorFlow's fused kernel (as tfa's LazyAdam).
            tf.raw_ops.ResourceApplyAdam(
                var=handle(variable), m=handle(m), v=handle(v),
                beta1_power=beta_1_power, beta2_power=beta_2_power,
                lr=ops.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
                epsilon=ops.cast(self.epsilon, dtype), grad=grad)
            return
        self.assign_add(m, (grad - m) * (1.0 - beta_1))
        self.assign_add(v, (ops.square(grad) - v) * (1.0 - beta_2))
        self.assign_sub(variable, alpha * m / (ops.sqrt(v) + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      amsgrad=self.amsgrad)
        return config
