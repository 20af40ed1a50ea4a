"""CalendarFeatures: cyclical month-of-year, day-of-week and hour-of-day encodings of timestamps."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerazoo.registry import register

PERIODS = ("month_of_year", "day_of_week", "hour_of_day")


@register("layers")
class CalendarFeatures(keras.layers.Layer):
    """Encodes timestamps (seconds since 1970, UTC or naive) as sin/cos of calendar cycles.

    Computed inside a model from the timestamps it is given, so a forecaster that uses calendar
    covariates needs no extra input at serving time beyond the timestamps of its window (and of
    the horizon it forecasts). For each period in ``periods`` the layer returns
    ``sin(2 pi p / P)`` and ``cos(2 pi p / P)``, in that order, where ``p`` is:

    * ``month_of_year``: the month (0 = January, ``P = 12``), from the civil date of the
      timestamp (proleptic Gregorian calendar, any year);
    * ``day_of_week``: the weekday (0 = Monday, ``P = 7``);
    * ``hour_of_day``: the time of day in hours, fractional (``P = 24``).

    The date arithmetic runs in the input's precision: pass float64 or int64 seconds. JAX
    without ``jax_enable_x64`` holds them as float32 (128 s resolution for present-day
    timestamps, 256 s before 1902): months and weekdays stay exact for timestamps at midnight
    and whole hours, the hour of day is off by at most a few minutes. The layer never
    autocasts its input (float16 cannot hold a timestamp); the features come out in the
    layer's compute dtype. It has no weights.

    Args:
        periods: which cycles to encode, in output order; a subset of ``"month_of_year"``,
            ``"day_of_week"``, ``"hour_of_day"``. Defaults to all three.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: any shape ``[...]`` of epoch seconds.

    Output shape: ``[..., 2 * len(periods)]``.

    Example:

    >>> import numpy as np
    >>> stamps = np.array(["2024-01-01", "2024-04-01T06:00"], "datetime64[s]").astype("int64")
    >>> features = CalendarFeatures()(stamps.astype("float64"))
    >>> np.round(keras.ops.convert_to_numpy(features), 3).tolist()
    [[0.0, 1.0, 0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0, 1.0, 0.0]]
    """

    def __init__(self, periods: tuple[str, ...] | list[str] = PERIODS, **kwargs):
        kwargs.pop("autocast", None)
        super().__init__(autocast=False, **kwargs)
        periods = tuple(periods)
        unknown = [p for p in periods if p not in PERIODS]
        if not periods or unknown or len(set(periods)) != len(periods):
            raise ValueError(f"`periods` must be distinct names from {PERIODS}. "
                             f"Received: periods={periods}")
        self.periods = periods

    def call(self, inputs):
        dtype = "float64" if ops.dtype(inputs) in ("float64", "int64") else "float32"
        seconds = ops.cast(inputs, dtype)
        days = ops.floor(seconds / 86_400.0)
        angles = []
        for period in self.periods:
            if period == "hour_of_day":
                angles.append((seconds - days * 86_400.0) / 86_400.0)
            elif period == "day_of_week":
                shifted = days + 3.0  # 1970-01-01 was a Thursday (3 with Monday = 0)
                angles.append((shifted - 7.0 * ops.floor(shifted / 7.0)) / 7.0)
            else:
                angles.append(self._month(days) / 12.0)
        features = []
        for fraction in angles:
            angle = 2.0 * math.pi * fraction
            features += [ops.sin(angle), ops.cos(angle)]
        return ops.cast(ops.stack(features, axis=-1), self.compute_dtype)

    @staticmethod
    def _month(days):
        """0-based month of the civil date ``days`` after 1970-01-01 (Hinnant's algorithm,
        http://howardhinnant.github.io/date_algorithms.html#civil_from_days, in floor
        arithmetic so it runs on floats)."""
        z = days + 719_468.0
        era = ops.floor(z / 146_097.0)
        doe = z - era * 146_097.0
        yoe = ops.floor((doe - ops.floor(doe / 1_460.0) + ops.floor(doe / 36_524.0)
                         - ops.floor(doe / 146_096.0)) / 365.0)
        doy = doe - (365.0 * yoe + ops.floor(yoe / 4.0) - ops.floor(yoe / 100.0))
        mp = ops.floor((5.0 * doy + 2.0) / 153.0)  # 0 = March ... 11 = February
        return ops.where(mp < 10.0, mp + 2.0, mp - 10.0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, 2 * len(self.periods))

    def get_config(self):
        config = super().get_config()
        config.update({"periods": list(self.periods)})
        return config
