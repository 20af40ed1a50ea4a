"""The strategy factory: which ``tf.distribute`` strategy, precision policy and XLA setting.

``auto`` picks a TPU when a resolver finds one, ``MirroredStrategy`` for several GPUs and one
device otherwise; precision ``auto`` means ``mixed_float16`` on GPU, ``mixed_bfloat16`` on TPU
and ``float32`` on CPU; ``jit_compile=None`` means on for GPU/TPU, off for CPU (where XLA rarely
pays off for small models).

Example:

>>> from kerazoo.recipes.strategy import make_strategy, resolve_precision
>>> strategy = make_strategy("one_device")
>>> type(strategy).__name__, resolve_precision("auto", strategy)
('OneDeviceStrategy', 'float32')
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from kerazoo.distribute import mirrored_strategy
from kerazoo.errors import ConfigError

log = logging.getLogger(__name__)


def _tpu_present(address: str | None) -> bool:
    # Only ask a resolver when a TPU is plausible: on other machines the resolver probes the GCE
    # metadata server, which is a network call with its own timeout.
    return bool(address or os.environ.get("TPU_NAME") or os.path.exists("/dev/accel0"))


def make_tpu_strategy(
    address: str | None, resolver_factory: Callable[..., Any] | None = None
) -> tf.distribute.Strategy:
    """Connect to a TPU and return a ``TPUStrategy``.

    Args:
        address: TPU name or ``grpc://`` address; ``None`` or ``"local"`` for a TPU VM.
        resolver_factory: builds the cluster resolver (tests pass a stand-in). Defaults to
            ``tf.distribute.cluster_resolver.TPUClusterResolver``.
    """
    factory = resolver_factory or tf.distribute.cluster_resolver.TPUClusterResolver
    try:
        resolver = factory(tpu=address or "local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as error:
        raise ConfigError(f"No TPU found at {address or 'local'!r}: {error}") from None
    return tf.distribute.TPUStrategy(resolver)


def make_strategy(
    name: str = "auto",
    tpu: str | None = None,
    *,
    resolver_factory: Callable[..., Any] | None = None,
) -> tf.distribute.Strategy:
    """Build the strategy a run asks for.

    Args:
        name: ``auto``, ``cpu``, ``one_device``, ``mirrored``, ``multi_worker`` or ``tpu``.
        tpu: TPU address for ``tpu``/``auto``. Defaults to ``None``.
        resolver_factory: TPU cluster resolver factory (tests). Defaults to ``None``.

    Returns:
        A ``tf.distribute.Strategy``. ``multi_worker`` reads the cluster from ``TF_CONFIG``.
    """
    if name == "multi_worker":
        # Before anything that starts TF's context (listing logical devices does).
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    if name == "auto":
        if _tpu_present(tpu) or resolver_factory is not None:
            try:
                return make_tpu_strategy(tpu, resolver_factory)
            except ConfigError as error:
                log.info("auto: %s; falling back", error)
        if "TF_CONFIG" in os.environ and json.loads(os.environ["TF_CONFIG"]).get("cluster"):
            return tf.distribute.MultiWorkerMirroredStrategy()
        if len(gpus) > 1:
            name = "mirrored"
        else:
            name = "one_device"
    if name == "tpu":
        return make_tpu_strategy(tpu, resolver_factory)
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
            d.name for d in tf.config.list_logical_devices("CPU")
        ]
        return mirrored_strategy(devices)
    raise ConfigError(f"Unknown strategy {name!r}.")


def device_kind(strategy: tf.distribute.Strategy) -> str:
    """``"tpu"``, ``"gpu"`` or ``"cpu"``: what the strategy's replicas run on."""
    if isinstance(strategy, tf.distribute.TPUStrategy):
        return "tpu"
    devices = getattr(strategy.extended, "worker_devices", ()) or ()
    if any("GPU" in device.upper() for device in devices):
        return "gpu"
    return "cpu"


def resolve_precision(precision: str, strategy: tf.distribute.Strategy) -> str:
    """The Keras dtype policy name for ``precision`` on this strategy's devices."""
    if precision != "auto":
        return precision
    return {"gpu": "mixed_float16", "tpu": "mixed_bfloat16"}.get(device_kind(strategy), "float32")


def resolve_jit(jit_compile: bool | None, strategy: tf.distribute.Strategy) -> bool:
    """Whether to XLA-compile the training step."""
    if jit_compile is None:
        return device_kind(strategy) in ("gpu", "tpu")
    return bool(jit_compile)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run directory (worker 0, or a single process)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type in ("chief",) or (
        resolver.task_type == "worker" and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )
