"""Generalized intersection-over-union loss for axis-aligned boxes."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, to_float32
from kerazoo.registry import register

_MODES = ("giou", "iou")


def _divide_no_nan(x, y):
    return ops.where(y == 0.0, 0.0, x / ops.where(y == 0.0, 1.0, y))


def _giou(b1, b2, mode):
    b1_ymin, b1_xmin, b1_ymax, b1_xmax = ops.unstack(b1, 4, axis=-1)
    b2_ymin, b2_xmin, b2_ymax, b2_xmax = ops.unstack(b2, 4, axis=-1)
    b1_area = ops.relu(b1_xmax - b1_xmin) * ops.relu(b1_ymax - b1_ymin)
    b2_area = ops.relu(b2_xmax - b2_xmin) * ops.relu(b2_ymax - b2_ymin)
    inter = ops.relu(ops.minimum(b1_xmax, b2_xmax) - ops.maximum(b1_xmin, b2_xmin)) * ops.relu(
        ops.minimum(b1_ymax, b2_ymax) - ops.maximum(b1_ymin, b2_ymin)
    )
    union = b1_area + b2_area - inter
    iou = _divide_no_nan(inter, union)
    if mode == "iou":
        return iou
    enclose = ops.relu(ops.maximum(b1_xmax, b2_xmax) - ops.minimum(b1_xmin, b2_xmin)) * ops.relu(
        ops.maximum(b1_ymax, b2_ymax) - ops.minimum(b1_ymin, b2_ymin)
    )
    return iou - _divide_no_nan(enclose - union, enclose)


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}. Received: mode={mode!r}")


def giou_loss(y_true: Any, y_pred: Any, mode: str = "giou") -> Any:
    """Functional form of :class:`GIoULoss`: ``1 - GIoU`` per box.

    Args:
        y_true: boxes ``[..., 4]`` as ``(y_min, x_min, y_max, x_max)``.
        y_pred: boxes, same shape.
        mode: ``"giou"`` or ``"iou"``. Defaults to ``"giou"``.

    Returns:
        ``[...]`` losses (the box axis removed) in ``y_pred``'s dtype (float32 for int boxes).

    Example:

    >>> import numpy as np
    >>> out = giou_loss(np.array([[0., 0., 1., 1.]]), np.array([[0., 0., 1., 2.]]))
    >>> print(np.round(np.asarray(out), 4))
    [0.5]
    """
    _check_mode(mode)
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = y_pred.dtype if "float" in str(y_pred.dtype) else "float32"
    loss = 1.0 - _giou(to_float32(y_pred), to_float32(y_true), mode)
    return ops.cast(loss, out_dtype)


@register("losses", tfa="tfa.losses.GIoULoss")
class GIoULoss(KerazooLoss):
    r"""Generalized IoU loss for boxes ``(y_min, x_min, y_max, x_max)``.

    .. code-block:: text

        IoU  = |A & B| / |A | B|
        GIoU = IoU - (|C| - |A | B|) / |C|      (C: the smallest box enclosing A and B)
        loss = 1 - GIoU                          (mode="iou": 1 - IoU)

    Empty unions or enclosures count as 0 (no NaN). Computed in float32. Same as tfa's, except
    that the box axis is removed without tfa's extra ``squeeze`` (a batch of one box keeps its
    batch axis).

    Args:
        mode: ``"giou"`` or ``"iou"``. Defaults to ``"giou"``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"giou_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Example:

    >>> import numpy as np
    >>> loss = GIoULoss()
    >>> boxes = np.array([[0., 0., 1., 1.], [0., 0., 1., 1.]])
    >>> print(round(float(loss(boxes, np.array([[0., 0., 1., 2.], [2., 2., 3., 3.]]))), 4))
    1.1389

    Reference:
        Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019.
        ``tfa.losses.GIoULoss``.
    """

    def __init__(self, mode: str = "giou", reduction: str | None = "sum_over_batch_size",
                 name: str = "giou_loss", dtype: Any = None):
        _check_mode(mode)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.mode = mode

    def call(self, y_true, y_pred):
        return giou_loss(y_true, y_pred, mode=self.mode)

    def get_config(self) -> dict:
        config = super().get_config()
        config["mode"] = self.mode
        return config
