"""kerazoo.recipes: task recipes (config -> data -> model -> strategy -> trainer -> export).

Importing the package registers every recipe in ``registry("recipes")``; TensorFlow is imported
only when a recipe runs.
"""

from kerazoo.recipes import (  # noqa: F401  (importing registers each recipe)
    image_classification,
    sentiment_analysis,
    speech_commands,
    time_series_forecasting,
)
from kerazoo.recipes.api import get_task, resolve_config, train

__all__ = ["get_task", "resolve_config", "train"]
