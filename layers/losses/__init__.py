"""kerazoo.losses: the losses TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every loss class here is registered in ``kerazoo.registry.registry("losses")`` and for Keras
serialization under the package ``"kerazoo"``. tfa's functional forms (``triplet_semihard_loss``,
``pinball_loss``, ...) are plain functions with tfa's signatures and results; they are not
registered. tfa's focal loss is in Keras now: ``SigmoidFocalCrossEntropy`` is a thin alias of
``keras.losses.BinaryFocalCrossentropy`` with tfa's defaults. ``CRFLoss`` trains
``kerazoo.layers.CRF``; ``PolyLoss``, ``SupervisedContrastiveLoss``, ``ArcFaceLoss`` (with the
layer ``kerazoo.layers.ArcMarginHead``), ``QuantileLoss``, ``SMAPELoss`` and ``MASELoss`` are
modern additions.
"""

# --- from TensorFlow Addons ---
from kerazoo.losses.arcface_loss import ArcFaceLoss
from kerazoo.losses.contrastive_loss import ContrastiveLoss, contrastive_loss
from kerazoo.losses.crf_loss import CRFLoss
from kerazoo.losses.giou_loss import GIoULoss, giou_loss
from kerazoo.losses.lifted_struct_loss import LiftedStructLoss, lifted_struct_loss
from kerazoo.losses.mase_loss import MASELoss
from kerazoo.losses.npairs_loss import NpairsLoss, npairs_loss
from kerazoo.losses.npairs_multilabel_loss import NpairsMultilabelLoss, npairs_multilabel_loss
from kerazoo.losses.pinball_loss import PinballLoss, pinball_loss
from kerazoo.losses.poly_loss import PolyLoss
from kerazoo.losses.quantile_loss import QuantileLoss
from kerazoo.losses.sigmoid_focal_cross_entropy import (
    SigmoidFocalCrossEntropy,
    sigmoid_focal_crossentropy,
)
from kerazoo.losses.smape_loss import SMAPELoss
from kerazoo.losses.sparsemax_loss import SparsemaxLoss, sparsemax_loss
from kerazoo.losses.supervised_contrastive_loss import SupervisedContrastiveLoss
from kerazoo.losses.triplet_hard_loss import TripletHardLoss, triplet_hard_loss
from kerazoo.losses.triplet_semihard_loss import TripletSemiHardLoss, triplet_semihard_loss
from kerazoo.losses.weighted_kappa_loss import WeightedKappaLoss

__all__ = [
    "ArcFaceLoss",
    "CRFLoss",
    "ContrastiveLoss",
    "GIoULoss",
    "LiftedStructLoss",
    "MASELoss",
    "NpairsLoss",
    "NpairsMultilabelLoss",
    "PinballLoss",
    "PolyLoss",
    "QuantileLoss",
    "SMAPELoss",
    "SigmoidFocalCrossEntropy",
    "SparsemaxLoss",
    "SupervisedContrastiveLoss",
    "TripletHardLoss",
    "TripletSemiHardLoss",
    "WeightedKappaLoss",
    "contrastive_loss",
    "giou_loss",
    "lifted_struct_loss",
    "npairs_loss",
    "npairs_multilabel_loss",
    "pinball_loss",
    "sigmoid_focal_crossentropy",
    "sparsemax_loss",
    "triplet_hard_loss",
    "triplet_semihard_loss",
]
