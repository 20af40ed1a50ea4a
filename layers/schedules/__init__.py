"""kerazoo.schedules: the schedules TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every public object here is registered in kerazoo.registry.registry("schedules") and for Keras
serialization under the package "kerazoo".
"""

from kerazoo.schedules.cyclical import (
    CyclicalLearningRate,
    ExponentialCyclicalLearningRate,
    Triangular2CyclicalLearningRate,
    TriangularCyclicalLearningRate,
)
from kerazoo.schedules.inverse_square_root import InverseSquareRootWarmup
from kerazoo.schedules.one_cycle import OneCycle
from kerazoo.schedules.warmup import WarmUp

__all__ = [
    "CyclicalLearningRate", "ExponentialCyclicalLearningRate", "InverseSquareRootWarmup",
    "OneCycle", "Triangular2CyclicalLearningRate", "TriangularCyclicalLearningRate", "WarmUp",
]
