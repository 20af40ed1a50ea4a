"""Supervised contrastive (SupCon) loss."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import BIG, KerazooLoss, label_masks, spread_over_anchors, to_float32
from kerazoo.registry import register


@register("losses")
class SupervisedContrastiveLoss(KerazooLoss):
    r"""Supervised contrastive loss (SupCon, the "L_out" form) over a batch of embeddings.

    With L2-normalised embeddings ``z``, ``P(i)`` the other samples with ``i``'s label and
    ``A(i)`` all samples but ``i``:

    .. code-block:: text

        loss_i = - 1/|P(i)| * sum_{p in P(i)} log( exp(z_i.z_p / T) / sum_{a in A(i)} exp(z_i.z_a / T) )

    averaged over the anchors that have a positive. An anchor without one (a class seen once)
    has no term; a batch with none gives ``0``. A batch of one class is well defined (every
    other sample is a positive; the loss is then at least ``log(batch - 1)``). Computed in float32 with a stable log-sum-exp.
    Returned per anchor, scaled so the default reduction gives that mean; ``sample_weight``
    weights anchors. For two augmented views per image, concatenate the views along the batch
    and repeat the labels.

    Args:
        temperature: the softmax temperature ``T``. Defaults to ``0.1``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"supervised_contrastive_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` integer labels ``[batch]`` or ``[batch, 1]``; ``y_pred``
    embeddings ``[batch, d]`` (normalised inside).

    Example:

    >>> import numpy as np
    >>> loss = SupervisedContrastiveLoss(temperature=0.5)
    >>> emb = np.array([[1., 0.], [0.9, 0.1], [0., 1.], [0.1, 0.9]])
    >>> print(round(float(loss(np.array([0, 0, 1, 1]), emb)), 4))
    0.2965

    Reference:
        Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020.
    """

    def __init__(self, temperature: float = 0.1, reduction: str | None = "sum_over_batch_size",
                 name: str = "supervised_contrastive_loss", dtype: Any = None):
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0. Received: temperature={temperature}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.temperature = temperature

    def call(self, y_true, y_pred):
        z = to_float32(y_pred)
        z = z / ops.sqrt(ops.maximum(ops.sum(ops.square(z), axis=-1, keepdims=True), 1e-12))
        logits = ops.matmul(z, ops.transpose(z)) / self.temperature
        positive, _ = label_masks(y_true)
        n = ops.shape(z)[0]
        others = ops.logical_not(ops.cast(ops.eye(n), "bool"))
        log_norm = ops.logsumexp(ops.where(others, logits, -BIG), axis=-1, keepdims=True)
        log_prob = logits - log_norm
        num_positive = ops.sum(ops.cast(positive, "float32"), axis=-1)
        has_positive = num_positive > 0
        mean_log_prob = ops.sum(ops.where(positive, log_prob, 0.0), axis=-1) / ops.maximum(
            num_positive, 1.0
        )
        loss = ops.where(has_positive, -mean_log_prob, 0.0)
        loss = spread_over_anchors(loss, ops.sum(ops.cast(has_positive, "float32")))
        return ops.cast(loss, y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config["temperature"] = self.temperature
        return config
