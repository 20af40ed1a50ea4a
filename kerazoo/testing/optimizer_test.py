"""``run_optimizer_test``: the checks every kerazoo optimizer passes on every backend.

1. Serialization: ``keras.optimizers.serialize`` / ``deserialize`` round trip with an equal config
   (wrappers carry their inner optimizer).
2. Training in ``model.fit``: a tiny dense regression model lowers its loss.
3. Checkpoint-exact resume: ``k`` steps, save a ``.keras`` file (model + optimizer), load, ``k`` more
   steps — the weights equal an uninterrupted ``2k``-step run bit for bit (CPU). Under TensorFlow
   also through ``tf.train.Checkpoint``.
4. ``jit_compile=True`` (TensorFlow XLA and JAX; PyTorch's ``torch.compile`` is not exercised).
5. ``gradient_accumulation_steps=2`` over two half batches equals one step on the full batch.
6. ``keras.optimizers.LossScaleOptimizer`` around it under the ``mixed_float16`` policy.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

OptimizerFactory = Callable[..., keras.optimizers.Optimizer]
ModelWrapper = Callable[[keras.Model], keras.Model]

_ROWS, _BATCH = 32, 8


def _data(sparse: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(7)
    if sparse:
        x = rng.randint(0, 10, size=(_ROWS, 3)).astype("int32")
        y = (np.sin(x).sum(axis=1, keepdims=True)).astype("float32")
    else:
        x = rng.normal(size=(_ROWS, 4)).astype("float32")
        y = (x @ rng.normal(size=(4, 1)) + 0.3).astype("float32")
    return x, y


def _model(sparse: bool, dtype: Any = None, wrap: ModelWrapper | None = None) -> keras.Model:
    """A tiny model with fixed initial weights, so two builds start identical.

    ``wrap`` puts the model inside a training wrapper (``SAMModel``) for optimizers that need one.
    """
    if sparse:
        inputs = keras.Input((3,), dtype="int32")
        hidden = keras.layers.Flatten()(keras.layers.Embedding(10, 4, dtype=dtype)(inputs))
    else:
        inputs = keras.Input((4,))
        hidden = inputs
    hidden = keras.layers.Dense(8, activation="tanh", dtype=dtype)(hidden)
    outputs = keras.layers.Dense(1, dtype=dtype)(hidden)
    model = keras.Model(inputs, outputs)
    rng = np.random.RandomState(3)
    model.set_weights([(0.3 * rng.normal(size=w.shape)).astype("float32")
                       for w in model.get_weights()])
    return wrap(model) if wrap is not None else model


def _weights(model: keras.Model) -> list[np.ndarray]:
    return [np.array(w) for w in model.get_weights()]


def _fit(model: keras.Model, x, y, epochs: int = 1, batch_size: int = _BATCH) -> float:
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return float(history.history["loss"][-1])


def check_serialization(optimizer_factory: OptimizerFactory) -> None:
    optimizer = optimizer_factory()
    config = keras.optimizers.serialize(optimizer)
    clone = keras.optimizers.deserialize(config)
    assert type(clone) is type(optimizer), (type(clone), type(optimizer))
    assert keras.optimizers.serialize(clone) == config, "config changed in a round trip"
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        assert type(clone.inner_optimizer) is type(inner), "inner optimizer lost in a round trip"


def _loss(model: keras.Model, x, y) -> float:
    # An eager call: no extra tf.function trace per check.
    prediction = keras.ops.convert_to_numpy(model(x, training=False))
    return float(np.mean((prediction.astype("float64") - y) ** 2))


def check_training_and_resume(optimizer_factory: OptimizerFactory, sparse: bool = False,
                              checkpoint: bool = True, jit_compile: bool = True,
                              wrap: ModelWrapper | None = None) -> None:
    """Trains (loss must fall), resumes bit-exactly from .keras / tf.train.Checkpoint, and jits."""
    x, y = _data(sparse)
    straight = _model(sparse, wrap=wrap)
    straight.compile(optimizer=optimizer_factory(), loss="mse")
    before = _loss(straight, x, y)
    _fit(straight, x, y, epochs=2)
    after = _loss(straight, x, y)
    assert np.isfinite(after) and after < before, (
        f"loss did not decrease in model.fit: {before} -> {after}")
    expected = _weights(straight)
    if not (checkpoint or jit_compile):
        return

    first = _model(sparse, wrap=wrap)
    first.compile(optimizer=optimizer_factory(), loss="mse")
    _fit(first, x, y, epochs=1)
    after_one_epoch = _weights(first)
    if checkpoint:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            first.save(path)
            resumed = keras.saving.load_model(path)
        assert int(resumed.optimizer.iterations) == int(first.optimizer.iterations)
        _fit(resumed, x, y, epochs=1)
        for got, want in zip(_weights(resumed), expected):
            np.testing.assert_array_equal(got, want, err_msg=".keras resume is not bit-exact")
        if keras.backend.backend() == "tensorflow":
            _check_tf_checkpoint(optimizer_factory, sparse, first, expected, wrap)
    if jit_compile and keras.backend.backend() != "torch":
        # On torch jit_compile=True means torch.compile: minutes per model on a CPU.
        compiled = _model(sparse, wrap=wrap)
        compiled.compile(optimizer=optimizer_factory(), loss="mse", jit_compile=True)
        _fit(compiled, x, y, epochs=1)
        for got, want in zip(_weights(compiled), after_one_epoch):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                                       err_msg="jit_compile=True trains differently")


def _check_tf_checkpoint(optimizer_factory, sparse, first, expected, wrap=None) -> None:
    import tensorflow as tf

    x, y = _data(sparse)
    with tempfile.TemporaryDirectory() as tmp:
        saved = tf.train.Checkpoint(model=first, optimizer=first.optimizer).write(
            os.path.join(tmp, "ckpt"))
        restored = _model(sparse, wrap=wrap)
        restored.set_weights([np.zeros_like(w) for w in restored.get_weights()])
        restored.compile(optimizer=optimizer_factory(), loss="mse")
        restored.optimizer.build(restored.trainable_variables)
        status = tf.train.Checkpoint(model=restored, optimizer=restored.optimizer).read(saved)
        status.assert_existing_objects_matched()
    assert len(restored.optimizer.variables) == len(first.optimizer.variables)
    for got, want in zip(restored.optimizer.variables, first.optimizer.variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      keras.ops.convert_to_numpy(want),
                                      err_msg=f"tf.train.Checkpoint lost {want.path}")
    _fit(restored, x, y, epochs=1)
    for got, want in zip(_weights(restored), expected):
        np.testing.assert_array_equal(got, want,
                                      err_msg="tf.train.Checkpoint resume is not bit-exact")


def check_gradient_accumulation(optimizer_factory: OptimizerFactory, sparse: bool = False,
                                wrap: ModelWrapper | None = None) -> None:
    x, y = _data(sparse)
    full = _model(sparse, wrap=wrap)
    full.compile(optimizer=optimizer_factory(), loss="mse")
    _fit(full, x, y, batch_size=2 * _BATCH)
    accumulated = _model(sparse, wrap=wrap)
    accumulated.compile(optimizer=optimizer_factory(gradient_accumulation_steps=2), loss="mse")
    _fit(accumulated, x, y, batch_size=_BATCH)
    assert int(accumulated.optimizer.iterations) == _ROWS // (2 * _BATCH)
    for got, want in zip(_weights(accumulated), _weights(full)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                                   err_msg="2 accumulated half batches != 1 full batch step")


def check_loss_scale(optimizer_factory: OptimizerFactory, sparse: bool = False,
                     wrap: ModelWrapper | None = None) -> None:
    x, y = _data(sparse)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = _model(sparse, wrap=wrap)
        model.compile(optimizer=keras.optimizers.LossScaleOptimizer(optimizer_factory()),
                      loss="mse")
        before = _weights(model)
        _fit(model, x, y, epochs=1)
        after = _weights(model)
    finally:
        keras.config.set_dtype_policy(previous)
    assert all(np.all(np.isfinite(w)) for w in after), "non-finite weights under mixed_float16"
    assert any(not np.array_equal(a, b) for a, b in zip(after, before)), "no update applied"


def run_optimizer_test(optimizer_factory: OptimizerFactory, *, sparse: bool = False,
                       checkpoint: bool = True, jit_compile: bool = True,
                       gradient_accumulation: bool = True, mixed_precision: bool = True,
                       wrap: ModelWrapper | None = None) -> None:
    """Run the shared optimizer checks on the current backend.

    Args:
        optimizer_factory: ``factory(**base_kwargs)`` returns a fresh optimizer; ``base_kwargs``
            are Keras base arguments such as ``gradient_accumulation_steps``.
        sparse: train through an ``Embedding`` (sparse gradients on TensorFlow).
        checkpoint: run the bit-exact resume checks.
        jit_compile: run the XLA / JAX-jit check.
        gradient_accumulation: run the accumulation-equivalence check.
        mixed_precision: run the LossScaleOptimizer / mixed_float16 check.
        wrap: a training wrapper every model is put in (``kerazoo.optimizers.SAMModel`` for
            ``SAM``).
    """
    check_serialization(optimizer_factory)
    check_training_and_resume(optimizer_factory, sparse, checkpoint, jit_compile, wrap)
    if gradient_accumulation:
        check_gradient_accumulation(optimizer_factory, sparse, wrap)
    if mixed_precision:
        check_loss_scale(optimizer_factory, sparse, wrap)
