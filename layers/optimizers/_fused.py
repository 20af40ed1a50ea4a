"""TensorFlow's fused training kernels, for updates that are exactly one of them.

tfa's optimizers call these kernels: one op per variable. The same update written with
``keras.ops`` is 5-10 ops per variable, which on a CPU makes a step 2-5x slower. kerazoo takes the
kernel on the TensorFlow backend for dense gradients outside a stateless scope; the ``keras.ops``
path stays the definition on every other backend, and both are checked against tfa's numbers.
"""

from __future__ import annotations

from typing import Any

import keras

from kerazoo import compat


def fused_kernel_applies(gradient: Any) -> bool:
    """True on the TensorFlow backend for a dense gradient, when variables may be written."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not isinstance(gradient, tf.IndexedSlices) and not compat.in_stateless_scope()


def handle(variable: Any) -> Any:
    """The resource handle of a Keras or TensorFlow variable (the local copy under a strategy)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle


def fused_keras_update(optimizer: Any, grads: list, variables: list, learning_rate: Any) -> bool:
    """Run Keras's own ``Adam`` or ``SGD`` update with TensorFlow's fused kernel; True if it did.

    For the inner optimizer of a kerazoo wrapper (``DecoupledWeightDecay(Adam)`` is tfa's AdamW):
    the same slots and the same formula as Keras's ``update_step``
    (``ResourceApplyAdam`` computes ``m += (g - m)(1 - b1)``, ``v += (g^2 - v)(1 - b2)``,
    ``var -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)``; ``ResourceApplyKerasMomentum``
    is Keras's ``m = momentum m - lr g; var += m``), with one op per variable instead of about ten.
    Anything else (other optimizers, AMSGrad, sparse gradients, other backends) returns False and
    takes Keras's path.
    """
    kind = type(optimizer)
    if not ((kind is keras.optimizers.Adam and not optimizer.amsgrad)
            or kind is keras.optimizers.SGD):
        return False
    if not grads or not all(fused_kernel_applies(g) for g in grads):
        return False
    import tensorflow as tf

    raw = [v.value if isinstance(v, keras.Variable) else v for v in variables]
    grads_and_vars = optimizer._all_reduce_sum_gradients(list(zip(grads, raw)))
    per_device: dict = {}

    def step_values(var):
        # Once per device and dtype, as tfa's _prepare_local.
        key = (var.device, var.dtype)
        if key not in per_device:
            dtype = var.dtype
            values = {"lr": tf.cast(learning_rate, dtype)}
            if kind is keras.optimizers.Adam:
                step = tf.cast(optimizer.iterations + 1, dtype)
                values.update(
                    beta_1=tf.cast(optimizer.beta_1, dtype), beta_2=tf.cast(optimizer.beta_2, dtype),
                    epsilon=tf.cast(optimizer.epsilon, dtype))
                values.update(beta_1_power=tf.pow(values["beta_1"], step),
                              beta_2_power=tf.pow(values["beta_2"], step))
            else:
                values["momentum"] = tf.cast(optimizer.momentum, dtype)
            per_device[key] = values
        return per_device[key]

    def update(var, grad):
        values = step_values(var)
        grad = tf.cast(grad, var.dtype)
        index = optimizer._get_variable_index(var)
        if kind is keras.optimizers.Adam:
            return tf.raw_ops.ResourceApplyAdam(
                var=var.handle, m=handle(optimizer._momentums[index]),
                v=handle(optimizer._velocities[index]), beta1_power=values["beta_1_power"],
                beta2_power=values["beta_2_power"], lr=values["lr"], beta1=values["beta_1"],
                beta2=values["beta_2"], epsilon=values["epsilon"], grad=grad)
        if optimizer.momentum == 0:
            return tf.raw_ops.ResourceApplyGradientDescent(var=var.handle, alpha=values["lr"],
                                                           delta=grad)
        return tf.raw_ops.ResourceApplyKerasMomentum(
            var=var.handle, accum=handle(optimizer.momentums[index]), lr=values["lr"], grad=grad,
            momentum=values["momentum"], use_nesterov=optimizer.nesterov)

    def merged(distribution, grads_and_vars):
        for grad, var in grads_and_vars:
            distribution.extended.update(var, update, args=(grad,), group=False)

    compat.maybe_merge_call(merged, optimizer._distribution_strategy, grads_and_vars)
    return True
