"""RectifiedAdam (RAdam): Adam whose adaptive step is switched on once its variance is tractable."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.registry import register


def warmup_decay_lr(lr, step, total_steps, warmup_proportion, min_lr):
    """tfa's built-in schedule: linear warm-up over a proportion, then linear decay to ``min_lr``."""
    total = ops.cast(total_steps, lr.dtype)
    warmup = total * warmup_proportion
    decay_steps = ops.maximum(total - warmup, 1.0)
    decay_rate = (min_lr - lr) / decay_steps
    return ops.where(
        step <= warmup,
        lr * (step / warmup),
        lr + decay_rate * ops.minimum(step - warmup, decay_steps),
    )


@register("optimizers", tfa="tfa.optimizers.RectifiedAdam")
class RectifiedAdam(keras.optimizers.Optimizer):
    """Rectified Adam: plain momentum SGD until the adaptive learning rate's variance is bounded.

    Same arguments and update as ``tfa.optimizers.RectifiedAdam``, including its optional built-in
    warm-up/decay (``total_steps``, ``warmup_proportion``, ``min_lr``). ``weight_decay`` follows tfa
    here: it is added to the update (``lr * wd * var``, using the warmed-up ``lr``).

    Args:
        learning_rate: float or ``LearningRateSchedule``. Defaults to ``0.001``.
        beta_1: first-moment decay. Defaults to ``0.9``.
        beta_2: second-moment decay. Defaults to ``0.999``.
        epsilon: denominator constant. Defaults to ``1e-7``.
        weight_decay: decay added to the update, scaled by the learning rate. Defaults to ``0.0``.
        amsgrad: use the running maximum of the second moment. Defaults to ``False``.
        sma_threshold: length of the approximated SMA above which the adaptive step is used.
            Defaults to ``5.0``.
        total_steps: if > 0, enables the warm-up/decay schedule over this many steps.
            Defaults to ``0``.
        warmup_proportion: share of ``total_steps`` spent warming up. Defaults to ``0.1``.
        min_lr: learning rate reached at ``total_steps``. Defaults to ``0.0``.
        name: optimizer name. Defaults to ``"RectifiedAdam"``.
        **kwargs: base optimizer arguments (``clipnorm``, ``gradient_accumulation_steps`` ...).

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import RectifiedAdam
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> RectifiedAdam(0.1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.9, 0.9]

    Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020,
    https://arxiv.org/abs/1908.03265
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float = 0.0, amsgrad: bool = False,
                 sma_threshold: float = 5.0, total_steps: int = 0,
                 warmup_proportion: float = 0.1, min_lr: float = 0.0,
                 name: str = "RectifiedAdam", **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay or None
        self.amsgrad = amsgrad
        self.sma_threshold = sma_threshold
        self.total_steps = int(total_steps)
        self.warmup_proportion = warmup_proportion
        self.min_lr = min_lr

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m = self.add_optimizer_variables(var_list, "m")
        self._v = self.add_optimizer_variables(var_list, "v")
        if self.amsgrad:
            self._vhat = self.add_optimizer_variables(var_list, "vhat")

    def _apply_weight_decay(self, variables):
        # tfa adds the decay inside the update with the warmed-up learning rate; see update_step.
        return

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        lr = ops.cast(learning_rate, dtype)
        grad = ops.cast(gradient, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1_power = ops.power(beta_1, step)
        beta_2_power = ops.power(beta_2, step)
        recip_b2 = 1.0 / (1.0 - beta_2_power)
        sma_inf = 2.0 / (1.0 - beta_2) - 1.0
        sma_t = sma_inf - 2.0 * step * beta_2_power * recip_b2
        r_t = ops.sqrt(
            (sma_t - 4.0) / (sma_inf - 4.0) * (sma_t - 2.0) / (sma_inf - 2.0) * sma_inf / sma_t
        )
        if self.total_steps > 0:
            lr = warmup_decay_lr(lr, step, self.total_steps, self.warmup_proportion,
                                 ops.cast(self.min_lr, dtype))
        m, v = self._m[index], self._v[index]
        self.assign(m, beta_1 * m + (1.0 - beta_1) * grad)
        m_hat = m * (1.0 / (1.0 - beta_1_power))
        self.assign(v, beta_2 * v + (1.0 - beta_2) * ops.square(grad))
        second = v
        if self.amsgrad:
            vhat = self._vhat[index]
            self.assign(vhat, ops.maximum(vhat, v))
            second = vhat
        v_hat = ops.sqrt(second * recip_b2)
        update = ops.where(sma_t >= self.sma_threshold, r_t * m_hat / (v_hat + self.epsilon), m_hat)
        if self.weight_decay and self._use_weight_decay(variable):
            update = update + ops.cast(self.weight_decay, dtype) * variable
        self.assign_sub(variable, lr * update)

    def get_config(self):
        config = super().get_config()
        config.update(
            beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
            weight_decay=self.weight_decay or 0.0, amsgrad=self.amsgrad,
            sma_threshold=self.sma_threshold, total_steps=self.total_steps,
            warmup_proportion=self.warmup_proportion, min_lr=self.min_lr,
        )
        return config
