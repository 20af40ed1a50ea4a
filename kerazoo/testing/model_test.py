"""``run_model_test``: the checks every registered zoo model passes, on the current backend."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from typing import Any

import numpy as np

CHECKS = ("structure", "forward", "train", "keras", "preset", "export")


def sample_inputs(model, batch_size: int = 2, seed: int = 0) -> np.ndarray:
    """Random inputs of the model's input shape: token ids below 50 for int inputs."""
    rng = np.random.default_rng(seed)
    shape = (batch_size, *model.input.shape[1:])
    if "int" in str(model.input.dtype):
        return rng.integers(1, 50, size=shape).astype("int32")
    return rng.normal(size=shape).astype("float32")


def sample_targets(model, batch_size: int = 2, seed: int = 1) -> np.ndarray:
    """Random targets: class ids for a classifier's logits, floats for a forecast."""
    rng = np.random.default_rng(seed)
    out_shape = model.output.shape
    if len(out_shape) == 2:
        return rng.integers(0, out_shape[-1], size=(batch_size,)).astype("int32")
    return rng.normal(size=(batch_size, *out_shape[1:])).astype("float32")


def _predict(model, x) -> np.ndarray:
    import keras

    return keras.ops.convert_to_numpy(model(x, training=False))


def run_model_test(
    name: str,
    *,
    checks: Iterable[str] = CHECKS,
    batch_size: int = 2,
    atol: float = 1e-6,
    workdir: str | os.PathLike | None = None,
    **build_kwargs: Any,
):
    """Build a registered model and check it the way every zoo model must work.

    Checks (select with ``checks``):

    - ``structure``: a functional model with a functional ``backbone`` part and a ``head``.
    - ``forward``: eager and ``predict`` outputs agree and have the expected shape
      (``[num_classes]`` logits or ``[horizon, targets]``), all finite.
    - ``train``: one ``train_on_batch`` step gives a finite loss and changes trainable weights.
    - ``keras``: ``.keras`` save and ``load_model(safe_mode=True)`` give identical outputs.
    - ``preset``: ``save_to_preset`` then ``from_preset`` give identical outputs.
    - ``export``: a TensorFlow SavedModel (TensorFlow backend only) gives the same outputs.

    Args:
        name: a registered model name.
        checks: which checks to run. Defaults to all of ``CHECKS``.
        batch_size: samples per random batch. Defaults to ``2``.
        atol: tolerance of "identical" outputs. Defaults to ``1e-6``.
        workdir: where files are written. Defaults to a new temporary directory.
        **build_kwargs: passed to ``kerazoo.zoo.build``.

    Returns:
        The built model.

    Example:

    >>> model = run_model_test("simple_cnn", checks=("structure", "forward"),
    ...                        input_shape=(8, 8, 1))
    >>> model.name
    'simple_cnn'
    """
    import keras

    from kerazoo import zoo

    checks = set(checks)
    unknown = checks - set(CHECKS)
    if unknown:
        raise ValueError(f"Unknown checks {sorted(unknown)}; expected some of {CHECKS}.")
    workdir = str(workdir or tempfile.mkdtemp(prefix=f"kerazoo-{name}-"))
    model = zoo.build(name, **build_kwargs)
    config = zoo.model_config(name)
    x = sample_inputs(model, batch_size)

    if "structure" in checks:
        assert isinstance(model, keras.Model) and model.name == build_kwargs.get("name", name)
        backbone = model.get_layer("backbone")
        assert isinstance(backbone, keras.Model), f"{name}: backbone is {type(backbone)}"
        model.get_layer("head")
        assert config["task"] in zoo.TASKS, f"{name}: task {config['task']!r}"

    reference = _predict(model, x)
    if "forward" in checks:
        expected = _expected_output_shape(config, build_kwargs, batch_size)
        assert reference.shape == expected, f"{name}: output {reference.shape} != {expected}"
        assert np.all(np.isfinite(reference)), f"{name}: non-finite outputs"
        predicted = model.predict(x, verbose=0, batch_size=batch_size)
        np.testing.assert_allclose(predicted, reference, atol=1e-5, rtol=1e-5)

    if "keras" in checks:
        path = os.path.join(workdir, f"{name}.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        np.testing.assert_allclose(_predict(loaded, x), reference, atol=atol, rtol=0)

    if "preset" in checks:
        folder = zoo.save_to_preset(model, os.path.join(workdir, f"{name}_preset"))
        for file in ("config.json", "model.weights.h5", "metadata.json", "README.md"):
            assert (folder / file).is_file(), f"{name}: preset lacks {file}"
        restored = zoo.from_preset(folder)
        np.testing.assert_allclose(_predict(restored, x), reference, atol=atol, rtol=0)

    if "export" in checks and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        path = os.path.join(workdir, f"{name}_savedmodel")
        model.export(path, format="tf_saved_model", verbose=False)
        archive = tf.saved_model.load(path)  # keep a reference: it owns the variables
        served = archive.serve(tf.constant(x))
        np.testing.assert_allclose(np.asarray(served), reference, atol=1e-4, rtol=1e-4)

    if "train" in checks:
        y = sample_targets(model, batch_size)
        loss = (
            keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            if len(model.output.shape) == 2 else "mse"
        )
        # One step only: on TensorFlow, tracing a graph costs more than it adds, so run eagerly;
        # JAX's eager mode compiles every primitive, so there one jitted step is cheaper.
        eager = keras.backend.backend() == "tensorflow"
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss, run_eagerly=eager)
        before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        value = model.train_on_batch(x, y)
        value = float(value[0] if isinstance(value, (list, tuple)) else value)
        assert math.isfinite(value), f"{name}: loss {value}"
        after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        changed = sum(not np.array_equal(a, b) for a, b in zip(before, after))
        assert changed > 0, f"{name}: no trainable weight changed in a training step"
    return model


def _expected_output_shape(config: dict, kwargs: dict, batch_size: int) -> tuple:
    if config["task"] == "forecasting":
        horizon = kwargs.get("horizon", config["horizon"])
        shape = kwargs.get("input_shape", config["input_shape"])
        targets = kwargs.get("num_targets") or (
            shape[-1] if config["family"] == "ltsf_linear" else config["num_targets"]
        )
        return (batch_size, horizon, targets)
    if kwargs.get("include_top", True):
        return (batch_size, kwargs.get("num_classes") or config["num_classes"])
    raise ValueError("run_model_test checks output shapes of models built with their top.")
