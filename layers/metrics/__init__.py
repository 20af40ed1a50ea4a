"""kerazoo.metrics: the metrics TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every public object here is registered in kerazoo.registry.registry("metrics") and for Keras
serialization under the package "kerazoo". Every metric keeps sum-mergeable state, so it is
exact under ``tf.distribute`` strategies.
"""

from kerazoo.metrics.cohen_kappa import CohenKappa
from kerazoo.metrics.confusion_matrix import ConfusionMatrix, plot_confusion_matrix
from kerazoo.metrics.equal_error_rate import EqualErrorRate
from kerazoo.metrics.geometric_mean import GeometricMean
from kerazoo.metrics.hamming_loss import HammingLoss
from kerazoo.metrics.harmonic_mean import HarmonicMean
from kerazoo.metrics.kendalls_tau_b import KendallsTauB
from kerazoo.metrics.kendalls_tau_c import KendallsTauC
from kerazoo.metrics.mase import MASE
from kerazoo.metrics.matthews_correlation_coefficient import MatthewsCorrelationCoefficient
from kerazoo.metrics.mean_quantile_loss import MeanQuantileLoss
from kerazoo.metrics.multilabel_confusion_matrix import MultiLabelConfusionMatrix
from kerazoo.metrics.smape import SMAPE
from kerazoo.metrics.spearmans_rank import SpearmansRank

__all__ = [
    "MASE",
    "SMAPE",
    "CohenKappa",
    "ConfusionMatrix",
    "EqualErrorRate",
    "GeometricMean",
    "HammingLoss",
    "HarmonicMean",
    "KendallsTauB",
    "KendallsTauC",
    "MatthewsCorrelationCoefficient",
    "MeanQuantileLoss",
    "MultiLabelConfusionMatrix",
    "SpearmansRank",
    "plot_confusion_matrix",
]
