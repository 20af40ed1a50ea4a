"""ArcFace: softmax cross-entropy with an additive angular margin on the target class."""

from __future__ import annotations

import math
from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, flat_labels, to_float32
from kerazoo.registry import register


@register("losses")
class ArcFaceLoss(KerazooLoss):
    r"""Additive angular margin loss on cosine logits (from :class:`kerazoo.layers.ArcMarginHead`).

    With ``cos_j`` the cosine between the embedding and class ``j``'s centre, ``theta_y`` the
    angle to the target class, margin ``m`` and scale ``s``:

    .. code-block:: text

        logit_y = s * cos(theta_y + m)   if theta_y + m <= pi, else s * (cos_y - m * sin(m))
        logit_j = s * cos_j              (j != y)
        loss    = CE(softmax(logits), y)

    The fallback past ``pi`` keeps the target logit monotone in ``theta`` (InsightFace's
    ``easy_margin=False``). The margin lives in the loss, so the head outputs plain cosine
    similarities and serves as-is for retrieval or verification. Computed in float32; cosines
    are clipped to ``[-1 + 1e-7, 1 - 1e-7]`` so ``sin`` has a finite gradient.

    Args:
        margin: the additive angular margin ``m`` in radians. Defaults to ``0.5``.
        scale: the logit scale ``s``. Defaults to ``64.0``.
        sparse: ``y_true`` holds class ids ``[batch]`` (else one-hot ``[batch, C]``).
            Defaults to ``True``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"arcface_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` class ids; ``y_pred`` cosines ``[batch, C]`` in ``[-1, 1]``.

    Example:

    >>> import numpy as np
    >>> loss = ArcFaceLoss(margin=0.5, scale=4.0)
    >>> cosines = np.array([[0.9, 0.1, -0.2], [0.0, 0.8, 0.3]])
    >>> print(round(float(loss(np.array([0, 1]), cosines)), 4))
    0.3874

    Reference:
        Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face Recognition",
        CVPR 2019.
    """

    def __init__(self, margin: float = 0.5, scale: float = 64.0, sparse: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "arcface_loss",
                 dtype: Any = None):
        if not 0.0 <= margin < math.pi / 2:
            raise ValueError(f"margin must be in [0, pi/2). Received: margin={margin}")
        if scale <= 0:
            raise ValueError(f"scale must be > 0. Received: scale={scale}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = margin
        self.scale = scale
        self.sparse = sparse

    def call(self, y_true, y_pred):
        cosine = ops.clip(to_float32(y_pred), -1.0 + 1e-7, 1.0 - 1e-7)
        if self.sparse:
            target = ops.one_hot(ops.cast(flat_labels(y_true), "int32"), cosine.shape[-1])
            target = ops.reshape(target, ops.shape(cosine))
        else:
            target = to_float32(y_true)
        sine = ops.sqrt(1.0 - ops.square(cosine))
        m = self.margin
        with_margin = cosine * math.cos(m) - sine * math.sin(m)
        with_margin = ops.where(cosine > math.cos(math.pi - m), with_margin,
                                cosine - math.sin(math.pi - m) * m)
        logits = self.scale * (target * with_margin + (1.0 - target) * cosine)
        loss = -ops.sum(target * ops.log_softmax(logits, axis=-1), axis=-1)
        return ops.cast(loss, y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"margin": self.margin, "scale": self.scale, "sparse": self.sparse})
        return config
