"""kerazoo.schedules: the schedules TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every public object here is registered in kerazoo.registry.registry("schedules") and for Keras
serialization under the package "kerazoo".
"""
