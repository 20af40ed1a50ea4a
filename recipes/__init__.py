"""kerazoo.recipes: task recipes (config -> data -> model -> strategy -> trainer -> export).

Importing the package registers every recipe in ``registry("recipes")``; TensorFlow is imported
only when a recipe runs.
"""

from kerazoo.recipes import image_classification, sentiment_analysis  # noqa: F401  (registers)
from kerazoo.recipes import time_series_forecasting  # noqa: F401  (registers)
from kerazoo.recipes.api import get_task, train

__all__ = ["get_task", "train"]
