"""kerazoo.activations: the activations TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every public object here is registered in kerazoo.registry.registry("activations") and for Keras
serialization under the package "kerazoo".
"""
