"""kerazoo.metrics: the metrics TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every public object here is registered in kerazoo.registry.registry("metrics") and for Keras
serialization under the package "kerazoo".
"""
