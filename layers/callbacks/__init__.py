"""kerazoo.callbacks: the callbacks TensorFlow Addons had and Keras 3 lacks, plus modern additions.

Every public object here is registered in kerazoo.registry.registry("callbacks") and for Keras
serialization under the package "kerazoo".
"""

from kerazoo.callbacks.average_model_checkpoint import AverageModelCheckpoint
from kerazoo.callbacks.learning_rate_finder import LearningRateFinder
from kerazoo.callbacks.throughput_logger import ThroughputLogger
from kerazoo.callbacks.time_stopping import TimeStopping
from kerazoo.callbacks.tqdm_progress_bar import TQDMProgressBar

__all__ = ["AverageModelCheckpoint", "LearningRateFinder", "TQDMProgressBar", "ThroughputLogger",
           "TimeStopping"]
