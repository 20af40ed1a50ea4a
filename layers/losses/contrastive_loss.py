"""Contrastive loss on pair distances (Hadsell, Chopra & LeCun)."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, match_rank, to_float32
from kerazoo.registry import register


def contrastive_loss(y_true: Any, y_pred: Any, margin: float = 1.0) -> Any:
    """Functional form of :class:`ContrastiveLoss`: one value per pair.

    Args:
        y_true: 1 for a similar pair, 0 for a dissimilar one, ``[batch]``.
        y_pred: the pair's distance, ``[batch]``.
        margin: the margin for dissimilar pairs. Defaults to ``1.0``.

    Returns:
        ``[batch]`` losses in ``y_pred``'s dtype.

    Example:

    >>> import numpy as np
    >>> out = contrastive_loss(np.array([1., 0.]), np.array([0.5, 0.25]))
    >>> print(np.round(np.asarray(out), 4))
    [0.25   0.5625]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true, y_pred32 = match_rank(to_float32(y_true), to_float32(y_pred))
    loss = y_true * ops.square(y_pred32) + (1.0 - y_true) * ops.square(
        ops.relu(margin - y_pred32)
    )
    return ops.cast(loss, y_pred.dtype)


@register("losses", tfa="tfa.losses.ContrastiveLoss")
class ContrastiveLoss(KerazooLoss):
    r"""Contrastive loss: pull similar pairs together, push dissimilar ones beyond ``margin``.

    .. code-block:: text

        loss = y * d^2 + (1 - y) * max(margin - d, 0)^2

    with ``y`` 1 for a similar pair and ``d`` the pair's distance (``y_pred``). Same as tfa's.

    Args:
        margin: the margin for dissimilar pairs. Defaults to ``1.0``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"contrastive_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` binary ``[batch]``; ``y_pred`` distances ``[batch]``.

    Example:

    >>> import numpy as np
    >>> loss = ContrastiveLoss(margin=1.0)
    >>> print(round(float(loss(np.array([1., 0.]), np.array([0.5, 0.25]))), 4))
    0.4062

    Reference:
        Hadsell, Chopra & LeCun, "Dimensionality Reduction by Learning an Invariant Mapping",
        CVPR 2006. ``tfa.losses.ContrastiveLoss``.
    """

    def __init__(self, margin: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "contrastive_loss", dtype: Any = None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = margin

    def call(self, y_true, y_pred):
        return contrastive_loss(y_true, y_pred, margin=self.margin)

    def get_config(self) -> dict:
        config = super().get_config()
        config["margin"] = self.margin
        return config
