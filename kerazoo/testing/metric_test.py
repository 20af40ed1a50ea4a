"""``run_metric_test``: the checks every kerazoo metric passes, on every backend.

A metric is called as ``update_state(y_true, y_pred)``; value metrics (``GeometricMean``,
``HarmonicMean``) take ``update_state(values)`` and are tested with ``y_true=None``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

Array = Any


def _args(y_true, y_pred) -> tuple:
    return (y_pred,) if y_true is None else (y_true, y_pred)


def _numpy(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")


def _split(array, index):
    return None if array is None else (array[:index], array[index:])


def metric_value(metric_cls, init_kwargs: dict, y_true, y_pred, sample_weight=None) -> np.ndarray:
    """Result of a fresh metric after one eager update on all the data."""
    metric = metric_cls(**init_kwargs)
    metric.update_state(*_args(y_true, y_pred), sample_weight=sample_weight)
    return _numpy(metric.result())


def _check_config(metric_cls, init_kwargs):
    metric = metric_cls(**init_kwargs)
    config = metric.get_config()
    missing = [key for key in init_kwargs if key not in config]
    assert not missing, f"{metric_cls.__name__}.get_config() lacks {missing}"
    clone = metric_cls.from_config(config)
    assert clone.get_config() == config, "from_config(get_config()) changed the config"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert type(restored) is metric_cls, f"deserialized as {type(restored).__name__}"
    assert restored.get_config() == config, "serialization round trip changed the config"


def _check_streaming(metric_cls, init_kwargs, y_true, y_pred, expected, rtol, atol):
    half = len(y_pred) // 2
    metric = metric_cls(**init_kwargs)
    true_parts = _split(y_true, half)
    for part in range(2):
        metric.update_state(
            *_args(None if y_true is None else true_parts[part], _split(y_pred, half)[part])
        )
    np.testing.assert_allclose(
        _numpy(metric.result()), expected, rtol=rtol, atol=atol,
        err_msg="two updates differ from one update on the same data",
    )
    empty = _numpy(metric_cls(**init_kwargs).result())
    metric.reset_state()
    np.testing.assert_allclose(
        _numpy(metric.result()), empty, rtol=rtol, atol=atol, err_msg="reset_state left state"
    )
    metric.update_state(*_args(y_true, y_pred))
    np.testing.assert_allclose(
        _numpy(metric.result()), expected, rtol=rtol, atol=atol,
        err_msg="an update after reset_state differs from a fresh metric",
    )


def _check_jit(metric_cls, init_kwargs, y_true, y_pred, expected, rtol, atol) -> bool:
    """Update and result inside a compiled function; False where the backend has no jit here."""
    backend = keras.backend.backend()
    metric = metric_cls(**init_kwargs)
    args = tuple(keras.ops.convert_to_tensor(a) for a in _args(y_true, y_pred))
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=True)
        def step(*batch):
            metric.update_state(*batch)
            return metric.result()

        value = step(*args)
    elif backend == "jax":
        import jax

        @jax.jit
        def step(variables, *batch):
            variables = metric.stateless_update_state(variables, *batch)
            return metric.stateless_result(variables)

        value = step([v.value for v in metric.variables], *args)
    else:
        # torch.compile of a whole metric is not what Keras's torch trainer does for metrics
        # (it runs them eagerly), so there is nothing faithful to compile here.
        return False
    np.testing.assert_allclose(
        _numpy(value), expected, rtol=rtol, atol=atol, err_msg="jit-compiled result differs"
    )
    return True


def _check_mixed_precision(metric_cls, init_kwargs, y_true, y_pred, rtol, atol):
    def half(array):
        if array is None or not np.issubdtype(np.asarray(array).dtype, np.floating):
            return array
        return np.asarray(array).astype("float16")

    def widened(array):
        return None if array is None else np.asarray(half(array)).astype(np.asarray(array).dtype)

    reference = metric_value(metric_cls, init_kwargs, widened(y_true), widened(y_pred))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        metric = metric_cls(**init_kwargs)
        metric.update_state(*_args(half(y_true), half(y_pred)))
        value = metric.result()
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(value.dtype) == "float32", (
        f"mixed-precision result is {value.dtype}, expected float32"
    )
    np.testing.assert_allclose(
        _numpy(value), reference, rtol=max(rtol, 1e-4), atol=max(atol, 1e-4),
        err_msg="float16 inputs give another result than the same values in float32",
    )


def run_metric_test(
    metric_cls: type,
    init_kwargs: dict | None = None,
    y_true: Array | None = None,
    y_pred: Array | None = None,
    *,
    expected: Array | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> dict:
    """Checks one metric class on NumPy inputs; raises ``AssertionError`` on the first failure.

    Checks: full ``get_config`` (every init argument present), ``from_config`` and Keras
    serialization round trips; two updates on halves equal one update on everything;
    ``reset_state`` restores the fresh result; update + result inside ``tf.function(jit_compile=
    True)`` (TensorFlow) or ``jax.jit`` over ``stateless_update_state`` (JAX); float16 inputs
    under the ``mixed_float16`` policy give a float32 result equal to the float32 computation on
    the same (rounded) values.

    Args:
        metric_cls: the metric class.
        init_kwargs: constructor arguments. Defaults to ``None`` (none).
        y_true: labels, or ``None`` for value metrics (``update_state(values)``).
        y_pred: predictions (or the values). At least 2 samples along axis 0.
        expected: if given, the one-update result must match it.
        rtol: relative tolerance of the comparisons. Defaults to ``1e-5``.
        atol: absolute tolerance. Defaults to ``1e-6``.

    Returns:
        ``{"value": result, "jit": whether a compiled check ran}``.

    Example:

    >>> import numpy as np
    >>> from kerazoo.metrics import HarmonicMean
    >>> run_metric_test(HarmonicMean, {}, None, np.array([1.0, 4.0, 4.0, 2.0]))["value"]
    2.0
    """
    init_kwargs = dict(init_kwargs or {})
    y_true = None if y_true is None else np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    _check_config(metric_cls, init_kwargs)
    value = metric_value(metric_cls, init_kwargs, y_true, y_pred)
    assert np.all(np.isfinite(value)), f"{metric_cls.__name__} result is not finite: {value}"
    if expected is not None:
        np.testing.assert_allclose(value, np.asarray(expected), rtol=rtol, atol=atol)
    _check_streaming(metric_cls, init_kwargs, y_true, y_pred, value, rtol, atol)
    jitted = _check_jit(metric_cls, init_kwargs, y_true, y_pred, value, rtol, atol)
    _check_mixed_precision(metric_cls, init_kwargs, y_true, y_pred, rtol, atol)
    return {"value": value.item() if value.ndim == 0 else value, "jit": jitted}


def distributed_value(
    metric_cls: type, init_kwargs: dict, y_true, y_pred, devices: list[str], batch_size: int
) -> np.ndarray:
    """Result after streaming the data in global batches through ``MirroredStrategy(devices)``.

    Each global batch is split over the replicas, each replica updates its local copy of the
    state inside ``strategy.run``, and ``result()`` is read in cross-replica context, where
    Keras sums the ``aggregation="sum"`` state variables. TensorFlow only.
    """
    import tensorflow as tf

    from kerazoo.distribute import mirrored_strategy

    strategy = mirrored_strategy(devices)
    with strategy.scope():
        metric = metric_cls(**init_kwargs)
    arrays = tuple(_args(y_true, y_pred))
    dataset = tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size, drop_remainder=True)
    distributed = strategy.experimental_distribute_dataset(dataset)

    @tf.function
    def step(batch):
        strategy.run(lambda *parts: metric.update_state(*parts), args=batch)

    for batch in distributed:
        step(batch)
    return _numpy(metric.result())
