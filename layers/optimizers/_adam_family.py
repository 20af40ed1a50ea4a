"""What tfa's Adam-like optimizers share: moments, AMSGrad, in-update weight decay, RAdam's
rectification and warm-up.

tfa added ``weight_decay`` inside the update (scaled by the learning rate, like an L2 term), not
as Keras's separate decoupled step, so Keras's ``_apply_weight_decay`` is switched off here.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.optimizers._per_step import PerStepValues


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


def rectification(step, beta_2, beta_2_power):
    """RAdam's approximated SMA length ``sma_t`` and variance rectification term ``r_t``."""
    sma_inf = 2.0 / (1.0 - beta_2) - 1.0
    sma_t = sma_inf - 2.0 * step * beta_2_power / (1.0 - beta_2_power)
    r_t = ops.sqrt(
        (sma_t - 4.0) / (sma_inf - 4.0) * (sma_t - 2.0) / (sma_inf - 2.0) * sma_inf / sma_t
    )
    return sma_t, r_t


class AdamFamily(PerStepValues, keras.optimizers.Optimizer):
    """Base class of RectifiedAdam, AdaBelief and NovoGrad; not registered, not for direct use.

    Args:
        learning_rate: float or ``LearningRateSchedule``.
        beta_1: first-moment decay.
        beta_2: second-moment decay.
        epsilon: denominator constant.
        weight_decay: decay added inside the update (tfa's rule).
        amsgrad: use the running maximum of the second moment.
        name: optimizer name.
        **kwargs: base optimizer arguments.
    """

    def __init__(self, learning_rate: Any, beta_1: float, beta_2: float, epsilon: float,
                 weight_decay: float, amsgrad: bool, name: str, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay or None
        self.amsgrad = amsgrad

    def _second_moment_variables(self, var_list: list, name: str) -> list:
        """One second-moment slot per variable, shaped like it (NovoGrad: a scalar)."""
        return self.add_optimizer_variables(var_list, name)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m = self.add_optimizer_variables(var_list, "m")
        self._v = self._second_moment_variables(var_list, "v")
        if self.amsgrad:
            self._vhat = self._second_moment_variables(var_list, "vhat")

    def _apply_weight_decay(self, variables):
        # tfa adds the decay inside update_step; see _with_weight_decay.
        return

    def _amsgrad(self, index: int, v: Any) -> Any:
        """The second moment the step divides by: ``v``, or its running maximum under AMSGrad."""
        if not self.amsgrad:
            return v
        vhat = self._vhat[index]
        self.assign(vhat, ops.maximum(vhat, v))
        return vhat

    def _with_weight_decay(self, update: Any, variable: Any) -> Any:
        if self.weight_decay and self._use_weight_decay(variable):
            return update + ops.cast(self.weight_decay, variable.dtype) * variable
        return update

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      weight_decay=self.weight_decay or 0.0, amsgrad=self.amsgrad)
        return config


class RectifiedAdamFamily(AdamFamily):
    """AdamFamily plus RAdam's rectification and tfa's built-in warm-up/decay schedule.

    Subclasses give the second-moment update in ``_next_second_moment``.

    Args:
        rectify: apply the rectification.
        sma_threshold: SMA length above which the adaptive step is used.
        total_steps: if > 0, enables the warm-up/decay schedule.
        warmup_proportion: share of ``total_steps`` spent warming up.
        min_lr: learning rate reached at ``total_steps``.
        **kwargs: ``AdamFamily`` arguments.
    """

    def __init__(self, rectify: bool, sma_threshold: float, total_steps: int,
                 warmup_proportion: float, min_lr: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.rectify = rectify
        self.sma_threshold = sma_threshold
        self.total_steps = int(total_steps)
        self.warmup_proportion = warmup_proportion
        self.min_lr = min_lr

    def _next_second_moment(self, v, grad, m, beta_2, epsilon):
        raise NotImplementedError

    def _step_values(self, learning_rate, dtype):
        """Learning rate, bias corrections and rectification of this step (once per dtype)."""
        lr = ops.cast(learning_rate, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1_power = ops.power(beta_1, step)
        beta_2_power = ops.power(beta_2, step)
        if self.total_steps > 0:
            lr = warmup_decay_lr(lr, step, self.total_steps, self.warmup_proportion,
                                 ops.cast(self.min_lr, dtype))
        adaptive, r_t = None, None
        if self.rectify:
            sma_t, r_t = rectification(step, beta_2, beta_2_power)
            adaptive = sma_t >= self.sma_threshold
        return lr, beta_1, beta_2, 1.0 - beta_1_power, 1.0 - beta_2_power, adaptive, r_t

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        grad = ops.cast(gradient, dtype)
        epsilon = ops.cast(self.epsilon, dtype)
        lr, beta_1, beta_2, bias_1, bias_2, adaptive, r_t = self.per_step(
            "adam", variable, lambda: self._step_values(learning_rate, dtype))
        m, v = self._m[index], self._v[index]
        self.assign(m, beta_1 * m + (1.0 - beta_1) * grad)
        m_hat = m / bias_1
        self.assign(v, self._next_second_moment(v, grad, m, beta_2, epsilon))
        v_hat = ops.sqrt(self._amsgrad(index, v) / bias_2)
        if self.rectify:
            update = ops.where(adaptive, r_t * m_hat / (v_hat + epsilon), m_hat)
        else:
            update = m_hat / (v_hat + epsilon)
        self.assign_sub(variable, lr * self._with_weight_decay(update, variable))

    def get_config(self):
        config = super().get_config()
        config.update(sma_threshold=self.sma_threshold, total_steps=self.total_steps,
                      warmup_proportion=self.warmup_proportion, min_lr=self.min_lr)
        return config
