"""kerazoo.optimizers: the optimizers TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every public object here is registered in kerazoo.registry.registry("optimizers") and for Keras
serialization under the package "kerazoo". Wrappers (Lookahead, DecoupledWeightDecay,
MovingAverage, SWA, Ranger, SAM) serialize their inner optimizer. SAMModel gives ``fit`` the
two-pass step SAM needs.
"""

from kerazoo.optimizers._averaging import recompute_batch_norm_statistics
from kerazoo.optimizers.ada_belief import AdaBelief
from kerazoo.optimizers.cocob import COCOB
from kerazoo.optimizers.conditional_gradient import ConditionalGradient
from kerazoo.optimizers.decoupled_weight_decay import DecoupledWeightDecay
from kerazoo.optimizers.lars import LARS
from kerazoo.optimizers.lazy_adam import LazyAdam
from kerazoo.optimizers.lookahead import Lookahead
from kerazoo.optimizers.moving_average import MovingAverage
from kerazoo.optimizers.novograd import NovoGrad
from kerazoo.optimizers.proximal_adagrad import ProximalAdagrad
from kerazoo.optimizers.ranger import Ranger
from kerazoo.optimizers.rectified_adam import RectifiedAdam
from kerazoo.optimizers.sam import SAM
from kerazoo.optimizers.sam_model import SAMModel
from kerazoo.optimizers.sgdw import SGDW
from kerazoo.optimizers.swa import SWA
from kerazoo.optimizers.yogi import Yogi

__all__ = [
    "COCOB", "LARS", "SAM", "SAMModel", "SGDW", "SWA", "AdaBelief", "ConditionalGradient", "DecoupledWeightDecay",
    "LazyAdam", "Lookahead", "MovingAverage", "NovoGrad", "ProximalAdagrad", "Ranger",
    "RectifiedAdam", "Yogi", "recompute_batch_norm_statistics",
]
