"""Process-wide ``MirroredStrategy`` instances.

TensorFlow numbers collective all-reduce instances per strategy object, starting afresh for each new
``MirroredStrategy``; in a process that creates a second one over the same devices (a second
training phase, another test), its all-reduces can meet the first one's cached instances and fail
with "Shape mismatch in the collective instance". So kerazoo creates one strategy per device set
and reuses it: the recipes' strategy factory and every test harness go through this function.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any


def mirrored_strategy(devices: Sequence[str]) -> Any:
    """The process's ``tf.distribute.MirroredStrategy`` over ``devices`` (created on first use).

    Args:
        devices: device names, e.g. ``["/cpu:0", "/cpu:1"]``; order and spelling are normalized.

    Returns:
        A ``tf.distribute.MirroredStrategy``, the same object for the same devices.
    """
    import tensorflow as tf

    canonical = tuple(sorted(tf.DeviceSpec.from_string(d).to_string().lower() for d in devices))
    return _cached(canonical)


@functools.cache
def _cached(devices: tuple[str, ...]) -> Any:
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(list(devices))
