"""AdaBelief: Adam whose step size adapts to the belief (variance) in the observed gradient."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.optimizers._adam_family import RectifiedAdamFamily
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.AdaBelief")
class AdaBelief(RectifiedAdamFamily):
    """AdaBelief: the second moment tracks ``(g - m)^2`` instead of ``g^2``.

    Same arguments and update as ``tfa.optimizers.AdaBelief`` (rectification on by default, tfa's
    optional warm-up/decay; ``weight_decay`` is added to the update, scaled by the learning rate).

    Args:
        learning_rate: float or ``LearningRateSchedule``. Defaults to ``0.001``.
        beta_1: first-moment decay. Defaults to ``0.9``.
        beta_2: second-moment decay. Defaults to ``0.999``.
        epsilon: added to the second moment and to the denominator. Defaults to ``1e-14``.
        weight_decay: decay added to the update. Defaults to ``0.0``.
        amsgrad: use the running maximum of the second moment. Defaults to ``False``.
        rectify: apply RAdam's rectification. Defaults to ``True``.
        sma_threshold: SMA length above which the adaptive step is used. Defaults to ``5.0``.
        total_steps: if > 0, enables the warm-up/decay schedule. Defaults to ``0``.
        warmup_proportion: share of ``total_steps`` spent warming up. Defaults to ``0.1``.
        min_lr: learning rate reached at ``total_steps``. Defaults to ``0.0``.
        name: optimizer name. Defaults to ``"AdaBelief"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import AdaBelief
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> AdaBelief(0.1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.9, 0.9]

    Reference: Zhuang et al., "AdaBelief Optimizer", NeurIPS 2020, https://arxiv.org/abs/2010.07468
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-14, weight_decay: float = 0.0, amsgrad: bool = False,
                 rectify: bool = True, sma_threshold: float = 5.0, total_steps: int = 0,
                 warmup_proportion: float = 0.1, min_lr: float = 0.0, name: str = "AdaBelief",
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, weight_decay=weight_decay, amsgrad=amsgrad,
                         rectify=rectify, sma_threshold=sma_threshold, total_steps=total_steps,
                         warmup_proportion=warmup_proportion, min_lr=min_lr, name=name, **kwargs)

    def _next_second_moment(self, v, grad, m, beta_2, epsilon):
        # The "belief": deviation of the gradient from its running mean (m is already updated).
        return beta_2 * v + (1.0 - beta_2) * ops.square(grad - m) + epsilon

    def get_config(self):
        config = super().get_config()
        config["rectify"] = self.rectify
        return config
