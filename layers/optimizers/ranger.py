"""Ranger: RectifiedAdam inside Lookahead."""

from __future__ import annotations

from typing import Any

from kerazoo.optimizers.lookahead import Lookahead
from kerazoo.optimizers.rectified_adam import RectifiedAdam
from kerazoo.registry import register


@register("optimizers")
class Ranger(Lookahead):
    """Ranger: ``Lookahead(RectifiedAdam(...))`` in one object, as popularised by L. Wright.

    Args:
        learning_rate: RectifiedAdam's learning rate. Defaults to ``0.001``.
        beta_1: first-moment decay. Defaults to ``0.95``.
        beta_2: second-moment decay. Defaults to ``0.999``.
        epsilon: denominator constant. Defaults to ``1e-5``.
        sync_period: Lookahead's k. Defaults to ``6``.
        slow_step_size: Lookahead's alpha. Defaults to ``0.5``.
        optimizer: a prebuilt inner optimizer (used by deserialization); overrides the Adam
            arguments. Defaults to ``None``.
        name: optimizer name. Defaults to ``"Ranger"``.
        **kwargs: base optimizer arguments for the wrapper.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import Ranger
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> Ranger(0.1, sync_period=1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.95, 0.95]

    Reference: Liu et al., 2019 (RAdam) and Zhang et al., 2019 (Lookahead).
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.95, beta_2: float = 0.999,
                 epsilon: float = 1e-5, sync_period: int = 6, slow_step_size: float = 0.5,
                 optimizer: Any = None, name: str = "Ranger", **kwargs: Any):
        if optimizer is None:
            optimizer = RectifiedAdam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        super().__init__(optimizer, sync_period=sync_period, slow_step_size=slow_step_size,
                         name=name, **kwargs)
