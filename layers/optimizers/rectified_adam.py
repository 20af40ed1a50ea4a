"""RectifiedAdam (RAdam): Adam whose adaptive step is switched on once its variance is tractable."""

from __future__ import annotations

from typing import Any

from kerazoo.optimizers._adam_family import RectifiedAdamFamily
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.RectifiedAdam")
class RectifiedAdam(RectifiedAdamFamily):
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
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, weight_decay=weight_decay, amsgrad=amsgrad, rectify=True,
                         sma_threshold=sma_threshold, total_steps=total_steps,
                         warmup_proportion=warmup_proportion, min_lr=min_lr, name=name, **kwargs)

    def _next_second_moment(self, v, grad, m, beta_2, epsilon):
        return beta_2 * v + (1.0 - beta_2) * grad * grad
