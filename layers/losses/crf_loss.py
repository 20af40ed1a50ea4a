"""Negative log-likelihood of tag sequences under the linear-chain CRF layer."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss
from kerazoo.registry import register


@register("losses")
class CRFLoss(KerazooLoss):
    r"""Negative log-likelihood of the gold tags under :class:`kerazoo.layers.CRF`'s outputs.

    .. code-block:: text

        loss_b = log Z(x_b) - score(x_b, y_b)
        score  = sum_t U[t, y_t] + sum_t T[y_{t-1}, y_t]      (over the first length_b steps)
        log Z  = logsumexp over all tag paths of their scores (forward algorithm)

    ``-kerazoo.layers.crf.crf_log_likelihood(...)[0]``, which keeps ``tfa.text``'s
    ``crf_log_likelihood``; tfa had no loss class (its CRF was trained through a wrapper model's
    ``train_step``). ``y_pred`` is the CRF layer's whole output list ``[decoded, potentials,
    sequence_length, chain_kernel]`` (or ``[potentials, sequence_length, chain_kernel]``), so
    the loss sees the transition matrix the layer learns: call it in a custom ``train_step`` /
    training loop, e.g. ``loss = CRFLoss()(tags, crf(features, mask=mask))``. (``compile``
    gives each model output its own loss, which cannot reach the transitions.) Computed in
    float32 at least; one value per sequence; a sequence of length 0 gives 0.

    Args:
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"crf_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` integer tags ``[batch, time]``; ``y_pred`` the CRF layer's
    outputs, as above.

    Example:

    >>> import numpy as np
    >>> potentials = np.array([[[1.0, 0.0], [0.0, 2.0]]], "float32")
    >>> transitions = np.array([[0.0, 0.5], [0.0, 0.0]], "float32")
    >>> loss = CRFLoss()
    >>> value = loss(np.array([[0, 1]]), [potentials, np.array([2]), transitions])
    >>> print(round(float(value), 4))
    0.2892

    Reference:
        Lafferty et al., "Conditional Random Fields", ICML 2001. ``tfa.text.crf_log_likelihood``.
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "crf_loss",
                 dtype: Any = None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not isinstance(y_pred, (list, tuple)) or len(y_pred) not in (3, 4):
            raise ValueError(
                "CRFLoss expects y_pred to be the CRF layer's outputs [decoded, potentials, "
                "sequence_length, chain_kernel] or [potentials, sequence_length, chain_kernel]. "
                f"Received: {type(y_pred).__name__}"
            )
        # Only the last three are needed; lengths come back as floats from the base class's
        # dtype conversion and are cast back to int32 in call (exact for any real length).
        return super().__call__(y_true, list(y_pred[-3:]), sample_weight)

    def call(self, y_true, y_pred):
        # Lazy: kerazoo.layers imports the CRF layer only when the loss is used.
        from kerazoo.layers.crf import crf_log_likelihood

        potentials, lengths, transitions = y_pred
        tags = ops.cast(y_true, "int32")
        lengths = ops.cast(lengths, "int32")
        log_likelihood, _ = crf_log_likelihood(potentials, tags, lengths, transitions)
        return ops.cast(-log_likelihood, potentials.dtype)
