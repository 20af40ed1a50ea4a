"""``run_loss_test``: the conformance harness every kerazoo loss passes, on every backend.

Each check is small and named, so a failure says which property broke:

* ``call``: the loss gives a finite value; ``reduction="none"`` gives per-sample values (or one
  batch-level value for a batch statistic).
* ``config``: ``get_config`` holds every constructor argument, ``from_config`` rebuilds a loss with
  the same config and the same value.
* ``serialize``: ``keras.losses.deserialize(keras.losses.serialize(loss))`` round-trips.
* ``reduction``: ``"sum"`` is the sum of ``"none"``, ``"sum_over_batch_size"`` its mean.
* ``sample_weight``: ones change nothing, zeros give 0, and ``"sum"`` with weights is the
  weighted sum of ``"none"``.
* ``mixed_precision``: float16 and bfloat16 inputs, and losses built with ``dtype=
  "mixed_float16"`` / ``"mixed_bfloat16"``, give finite values close to the float32 one, in the
  loss' compute dtype.
* ``gradients``: the gradient with respect to ``y_pred`` is finite (TensorFlow tape, ``jax.grad``
  or torch autograd).
* ``saving``: a model compiled with the loss survives a ``.keras`` save/load with its loss config.
* ``jit``: a model compiled with the loss and ``jit_compile=True`` takes a finite training step
  (XLA on TensorFlow and JAX; skipped on torch, where it means minutes of ``torch.compile``).

Example:

>>> import keras, numpy as np
>>> run_loss_test(keras.losses.MeanSquaredError, {}, np.zeros((4, 3)), np.ones((4, 3)),
...               checks=("call", "config", "reduction"))
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

CHECKS = ("call", "config", "serialize", "reduction", "sample_weight", "mixed_precision",
          "gradients", "saving", "jit")
MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")


@keras.saving.register_keras_serializable(package="kerazoo_testing")
class _Offset(keras.layers.Layer):
    """``y = x + b`` with one trainable scalar: a model whose output is the test's ``y_pred``."""

    def build(self, input_shape):
        self.offset = self.add_weight(shape=(), initializer="zeros", name="offset")

    def call(self, inputs):
        return inputs + ops.cast(self.offset, inputs.dtype)


def _numpy(x):
    if not isinstance(x, (np.ndarray, float, int)):
        x = ops.cast(x, "float32")  # numpy has no bfloat16
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def _is_float(x) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def _cast_pred(y_pred, dtype):
    """``y_pred`` (array or list of arrays) with its floating arrays cast to ``dtype``."""
    if isinstance(y_pred, (list, tuple)):
        return [_cast_pred(item, dtype) for item in y_pred]
    if _is_float(y_pred):
        return ops.cast(ops.convert_to_tensor(np.asarray(y_pred, "float32")), dtype)
    return y_pred


def _first_float(y_pred):
    if isinstance(y_pred, (list, tuple)):
        return next(item for item in y_pred if _is_float(item))
    return y_pred


def _replace_first_float(y_pred, value):
    if not isinstance(y_pred, (list, tuple)):
        return value
    out, done = [], False
    for item in y_pred:
        if not done and _is_float(item):
            out.append(value)
            done = True
        else:
            out.append(item)
    return out


def _constructor_args(loss_cls) -> list[str]:
    params = inspect.signature(loss_cls.__init__).parameters.values()
    return [p.name for p in params
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def _close(actual, expected, rtol, atol, what):
    np.testing.assert_allclose(_numpy(actual), _numpy(expected), rtol=rtol, atol=atol,
                               err_msg=what)


def _gradient(loss, y_true, y_pred):
    """d sum(loss) / d y_pred (the first floating array of ``y_pred``), as numpy."""
    backend = keras.backend.backend()
    x = np.asarray(_first_float(y_pred), "float32")
    if backend == "tensorflow":
        import tensorflow as tf

        var = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(var)
            value = ops.sum(loss(y_true, _replace_first_float(y_pred, var)))
        return tape.gradient(value, var).numpy()
    if backend == "jax":
        import jax

        # One XLA program instead of op-by-op eager grads: far quicker on CPU.
        grad = jax.jit(jax.grad(lambda v: ops.sum(loss(y_true, _replace_first_float(y_pred, v)))))
        return np.asarray(grad(x))
    if backend == "torch":
        import torch

        var = torch.tensor(x, requires_grad=True)
        ops.sum(loss(y_true, _replace_first_float(y_pred, var))).backward()
        return var.grad.detach().numpy()
    raise AssertionError(f"no gradient check for backend {backend!r}")


def _model_for(y_pred) -> keras.Model:
    inputs = keras.Input(shape=np.asarray(y_pred).shape[1:])
    return keras.Model(inputs, _Offset()(inputs))


def run_loss_test(
    loss_cls: Callable[..., keras.losses.Loss],
    init_kwargs: Mapping[str, Any] | None,
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    checks: Iterable[str] = CHECKS,
    skip: Mapping[str, str] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    mixed_rtol: float = 3e-2,
    mixed_atol: float = 3e-2,
) -> None:
    """Check that a loss meets kerazoo's loss contract; raise ``AssertionError`` if not.

    Args:
        loss_cls: the loss class.
        init_kwargs: constructor arguments (no ``reduction``/``dtype``: the checks vary those).
        y_true: targets, a numpy array.
        y_pred: predictions, a numpy array (or a list of arrays for a loss that takes several).
        sample_weight: per-sample weights ``[batch]`` for the ``sample_weight`` check.
            Defaults to a fixed ramp over the batch.
        checks: names of the checks to run, from :data:`CHECKS`. Defaults to all.
        skip: ``{check: reason}`` for checks that do not apply; the reason is required.
            Defaults to none.
        rtol: relative tolerance of "same value". Defaults to ``1e-5``.
        atol: absolute tolerance of "same value". Defaults to ``1e-6``.
        mixed_rtol: relative tolerance of half-precision values against float32.
            Defaults to ``3e-2``.
        mixed_atol: absolute tolerance of half-precision values. Defaults to ``3e-2``.
    """
    init_kwargs = dict(init_kwargs or {})
    skip = dict(skip or {})
    unknown = (set(checks) | set(skip)) - set(CHECKS)
    assert not unknown, f"unknown checks {sorted(unknown)}; known: {CHECKS}"
    for check, reason in skip.items():
        assert isinstance(reason, str) and reason.strip(), f"skip[{check!r}] needs a reason"
    if keras.backend.backend() == "torch":
        skip.setdefault("jit", "torch's jit_compile is torch.compile: minutes per loss on CPU")
    todo = [check for check in checks if check not in skip]
    batch = np.asarray(y_true if not isinstance(y_true, (list, tuple)) else y_true[0]).shape[0]
    if sample_weight is None:
        sample_weight = np.linspace(0.5, 1.5, batch).astype("float32")

    loss = loss_cls(**init_kwargs)
    value = loss(y_true, y_pred)
    per_sample = loss_cls(**init_kwargs, reduction="none")(y_true, y_pred)
    reference = _numpy(loss_cls(**init_kwargs, reduction="sum_over_batch_size")(y_true, y_pred))

    if "call" in todo:
        assert np.all(np.isfinite(_numpy(value))), f"{loss_cls.__name__}: non-finite loss"
        assert np.all(np.isfinite(_numpy(per_sample))), f"{loss_cls.__name__}: non-finite terms"
        assert reference.shape == (), f"reduced loss has shape {reference.shape}"

    if "config" in todo:
        config = loss.get_config()
        missing = set(_constructor_args(loss_cls)) - set(config)
        assert not missing, f"{loss_cls.__name__}.get_config() lacks {sorted(missing)}"
        rebuilt = loss_cls.from_config(config)
        assert rebuilt.get_config() == config, "config changed in a from_config round trip"
        _close(rebuilt(y_true, y_pred), value, rtol, atol, "from_config changed the value")

    if "serialize" in todo:
        restored = keras.losses.deserialize(keras.losses.serialize(loss))
        assert type(restored) is type(loss), f"deserialized as {type(restored).__name__}"
        assert restored.get_config() == loss.get_config()
        _close(restored(y_true, y_pred), value, rtol, atol, "serialize round trip changed value")

    if "reduction" in todo:
        terms = _numpy(per_sample)
        total = loss_cls(**init_kwargs, reduction="sum")(y_true, y_pred)
        _close(total, terms.sum(), rtol, atol, "'sum' is not the sum of 'none'")
        _close(reference, terms.mean(), rtol, atol, "'sum_over_batch_size' is not the mean")

    if "sample_weight" in todo:
        weighted_sum = loss_cls(**init_kwargs, reduction="sum")
        terms = _numpy(per_sample)
        weights = np.asarray(sample_weight, "float64")
        expected = (terms.reshape(terms.shape + (1,) * 0) *
                    weights.reshape(weights.shape + (1,) * max(terms.ndim - 1, 0))).sum()
        _close(weighted_sum(y_true, y_pred, sample_weight=sample_weight), expected, rtol,
               max(atol, 1e-5), "'sum' with sample_weight is not the weighted sum")
        ones = loss(y_true, y_pred, sample_weight=np.ones(batch, "float32"))
        _close(ones, value, rtol, atol, "unit sample_weight changed the loss")
        zeros = loss(y_true, y_pred, sample_weight=np.zeros(batch, "float32"))
        _close(zeros, 0.0, rtol, atol, "zero sample_weight does not give 0")

    if "mixed_precision" in todo:
        for dtype in ("float16", "bfloat16"):
            half_pred = _cast_pred(y_pred, dtype)
            result = loss(y_true, half_pred)
            assert np.all(np.isfinite(_numpy(result))), f"non-finite loss for {dtype} inputs"
            _close(result, value, mixed_rtol, mixed_atol, f"{dtype} inputs far from float32")
        for policy in MIXED_POLICIES:
            mixed = loss_cls(**init_kwargs, dtype=policy)
            result = mixed(y_true, _cast_pred(y_pred, mixed.dtype))
            got = keras.backend.standardize_dtype(result.dtype)
            assert got == mixed.dtype, f"{policy}: loss came out {got}, not {mixed.dtype}"
            assert np.all(np.isfinite(_numpy(result))), f"{policy}: non-finite loss"
            _close(result, value, mixed_rtol, mixed_atol, f"{policy} far from float32")

    if "gradients" in todo:
        grad = _gradient(loss, y_true, y_pred)
        assert grad is not None and np.all(np.isfinite(grad)), "non-finite gradient"

    if "saving" in todo:
        model = _model_for(y_pred)
        # A compiled loss must reduce to a scalar (the "none" default of tfa's focal loss
        # cannot train), so models get the default reduction.
        compiled = loss_cls(**init_kwargs, reduction="sum_over_batch_size")
        model.compile(optimizer="sgd", loss=compiled)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            model.save(path)
            loaded = keras.saving.load_model(path)
        restored = loaded.loss
        assert type(restored) is loss_cls, f"loaded loss is {type(restored).__name__}"
        assert restored.get_config() == compiled.get_config(), "loss config changed in .keras"

    if "jit" in todo:
        model = _model_for(y_pred)
        model.compile(optimizer=keras.optimizers.SGD(0.01),
                      loss=loss_cls(**init_kwargs, reduction="sum_over_batch_size"),
                      jit_compile=True)
        logs = model.train_on_batch(np.asarray(y_pred, "float32"), y_true, return_dict=True)
        assert np.isfinite(logs["loss"]), f"jit training step gave loss {logs['loss']}"
        assert np.all(np.isfinite(_numpy(model.weights[0]))), "jit step made weights non-finite"
