"""kerazoo.activations: the activations TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every public object here is registered in kerazoo.registry.registry("activations") and for Keras
serialization under the package "kerazoo". tfa's other activations are in Keras itself now:
``keras.activations.gelu``, ``mish``, ``hard_shrink``, ``soft_shrink`` and ``tanh_shrink``.
"""

from kerazoo.activations.lisht import lisht
from kerazoo.activations.rrelu import rrelu
from kerazoo.activations.snake import snake
from kerazoo.activations.sparsemax import sparsemax

__all__ = ["lisht", "rrelu", "snake", "sparsemax"]
