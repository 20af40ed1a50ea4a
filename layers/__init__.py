"""kerazoo.layers: the layers TensorFlow Addons had and Keras 3 lacks, plus modern building blocks.

Every public layer here is registered in ``kerazoo.registry.registry("layers")`` and for Keras
serialization under the package ``"kerazoo"``.
"""

# --- modern building blocks (DropPath, SqueezeExcitation, ... ) ---

# --- layers and RNN cells from TensorFlow Addons ---
