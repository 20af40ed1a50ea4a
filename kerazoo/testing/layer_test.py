"""``run_layer_test``: the one conformance harness every kerazoo layer passes, on every backend.

Each check is small and named, so a failure says which property broke:

* ``shape``: eager and symbolic outputs have the shapes ``compute_output_shape`` promises.
* ``config``: ``from_config(get_config())`` rebuilds the layer; with the same weights it gives the
  same outputs, and its config round-trips unchanged.
* ``saving``: a functional model holding the layer survives a ``.keras`` save/load with the same
  outputs.
* ``gradients``: in training mode every trainable weight, and every floating input, gets a finite
  gradient (TensorFlow tape, ``jax.grad`` over ``stateless_call``, or torch autograd).
* ``training``: training and inference calls give outputs of the same shapes, and inference is
  deterministic.
* ``mixed_precision``: under ``mixed_float16`` (inference call) and ``mixed_bfloat16`` (training
  call) the layer runs, its floating outputs are finite and come out in the policy's compute dtype.
* ``jit``: a model holding the layer predicts and takes a training step with ``jit_compile=True``
  (XLA on TensorFlow and JAX). Skipped on torch, where ``jit_compile=True`` means ``torch.compile``:
  minutes of C++ compilation per layer on a CPU-only machine, which CI cannot afford.
* ``distribute`` (not in the default set; TensorFlow only): a model holding the layer trains one
  epoch under ``tf.distribute.MirroredStrategy`` and its weights stay finite.

Example:

>>> import keras
>>> run_layer_test(keras.layers.Dense, {"units": 3}, input_shape=(2, 4))
"""

from __future__ import annotations

import copy
import inspect
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import keras
import numpy as np

CHECKS = ("shape", "config", "saving", "gradients", "training", "mixed_precision", "jit")
OPTIONAL_CHECKS = ("distribute",)
MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")


def run_layer_test(
    layer_cls: Callable[..., keras.layers.Layer],
    init_kwargs: Mapping[str, Any] | None = None,
    input_shape: tuple | list[tuple] | None = None,
    input_data: Any = None,
    *,
    input_dtype: str = "float32",
    call_kwargs: Mapping[str, Any] | None = None,
    checks: Iterable[str] = CHECKS,
    skip: Mapping[str, str] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-6,
) -> None:
    """Check that a layer meets kerazoo's layer contract; raise ``AssertionError`` if not.

    Args:
        layer_cls: the layer class, or any callable returning a fresh layer from ``init_kwargs``
            (e.g. a function wrapping an RNN cell in ``keras.layers.RNN``).
        init_kwargs: constructor arguments. Defaults to none.
        input_shape: the input's shape with its batch size, or a list of shapes for a layer taking
            a list of inputs; random normal data (``input_dtype`` floats) or random integers in
            ``[0, 10)`` (integer ``input_dtype``) is generated. Give this or ``input_data``.
        input_data: the input itself: an array, or a list of arrays.
        input_dtype: dtype of generated inputs. Defaults to ``"float32"``.
        call_kwargs: extra non-tensor keyword arguments of every call. Defaults to none.
        checks: names of the checks to run, from :data:`CHECKS` and :data:`OPTIONAL_CHECKS`.
            Defaults to :data:`CHECKS`.
        skip: ``{check: reason}`` for checks that do not apply to this layer; the reason is
            required so every exception is documented where it is made. Defaults to none.
        rtol: relative tolerance of "same outputs". Defaults to ``1e-6``.
        atol: absolute tolerance of "same outputs". Defaults to ``1e-6``.
    """
    init_kwargs = dict(init_kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    skip = dict(skip or {})
    unknown = (set(checks) | set(skip)) - set(CHECKS) - set(OPTIONAL_CHECKS)
    if unknown:
        raise ValueError(f"Unknown checks {sorted(unknown)}; known: {CHECKS + OPTIONAL_CHECKS}")
    for check, reason in skip.items():
        if not str(reason).strip():
            raise ValueError(f"skip[{check!r}] needs a reason.")
    inputs = _make_inputs(input_shape, input_data, input_dtype)
    case = _Case(layer_cls, init_kwargs, inputs, call_kwargs, rtol, atol)
    for check in checks:
        if check in skip:
            continue
        if check == "jit" and keras.backend.backend() == "torch":
            continue
        try:
            _CHECK_FUNCTIONS[check](case)
        except AssertionError as error:
            raise AssertionError(f"{case.name}: check '{check}' failed: {error}") from error


class _Case:
    """One layer under test: how to make it, what to feed it."""

    def __init__(self, layer_cls, init_kwargs, inputs, call_kwargs, rtol, atol):
        self.layer_cls = layer_cls
        self.init_kwargs = init_kwargs
        self.inputs = inputs
        self.call_kwargs = call_kwargs
        self.rtol, self.atol = rtol, atol
        self.name = getattr(layer_cls, "__name__", repr(layer_cls))

    def make(self) -> keras.layers.Layer:
        return self.layer_cls(**self.init_kwargs)

    def call(self, layer, training=False, inputs=None):
        inputs = self.inputs if inputs is None else inputs
        return layer(inputs, training=training, **self.call_kwargs)

    def model(self, layer) -> keras.Model:
        symbolic = _map(lambda x: keras.Input(batch_shape=(None, *x.shape[1:]), dtype=x.dtype),
                        self.inputs)
        return keras.Model(symbolic, layer(symbolic, **self.call_kwargs))

    def assert_same(self, actual, expected, what):
        actual, expected = _flat(actual), _flat(expected)
        assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
        for a, e in zip(actual, expected):
            np.testing.assert_allclose(
                _numpy(a), _numpy(e), rtol=self.rtol, atol=self.atol, err_msg=what
            )


# --- the checks -------------------------------------------------------------------------------


def _check_shape(case: _Case) -> None:
    layer = case.make()
    outputs = case.call(layer)
    input_shapes = _map(lambda x: tuple(x.shape), case.inputs)
    expected = _flat_shapes(layer.compute_output_shape(input_shapes))
    actual = [tuple(o.shape) for o in _flat(outputs)]
    assert len(actual) == len(expected), f"{len(actual)} outputs but compute_output_shape {expected}"
    for got, want in zip(actual, expected):
        assert _shape_matches(got, want), f"eager output {got} != compute_output_shape {want}"
    symbolic = case.model(case.make()).outputs
    unbatched = _flat_shapes(
        layer.compute_output_shape(_map(lambda x: (None, *x.shape[1:]), case.inputs))
    )
    for tensor, want in zip(symbolic, unbatched):
        assert _shape_matches(tuple(tensor.shape), want), (
            f"symbolic output {tuple(tensor.shape)} != compute_output_shape {want}"
        )


def _check_config(case: _Case) -> None:
    layer = case.make()
    expected = case.call(layer)
    config = layer.get_config()
    # A copy: RNN and Wrapper from_config pop the nested layer out of the dict they are given.
    clone = type(layer).from_config(copy.deepcopy(config))
    case.call(clone)  # builds it
    clone.set_weights(layer.get_weights())
    case.assert_same(case.call(clone), expected, "from_config(get_config()) outputs")
    assert clone.get_config() == config, "get_config() of the clone differs from the original"


def _check_saving(case: _Case) -> None:
    model = case.model(case.make())
    expected = model(case.inputs, training=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
    case.assert_same(loaded(case.inputs, training=False), expected, ".keras round trip outputs")


def _check_gradients(case: _Case) -> None:
    layer = case.make()
    case.call(layer)  # build
    grads = _GRADIENT_FUNCTIONS[keras.backend.backend()](case, layer)
    weights = [v.path for v in layer.trainable_variables]
    names = weights + [f"input {i}" for i in range(len(grads) - len(weights))]
    for name, grad in zip(names, grads):
        assert grad is not None, f"no gradient for {name}"
        assert np.all(np.isfinite(_numpy(grad))), f"non-finite gradient for {name}"


def _check_training(case: _Case) -> None:
    layer = case.make()
    inference = case.call(layer, training=False)
    training = case.call(layer, training=True)
    assert [tuple(t.shape) for t in _flat(training)] == [tuple(t.shape) for t in _flat(inference)]
    for tensor in _flat(training):
        if _is_float(tensor):
            assert np.all(np.isfinite(_numpy(tensor))), "non-finite output in training mode"
    case.assert_same(case.call(layer, training=False), inference, "repeated inference call")


def _check_mixed_precision(case: _Case) -> None:
    previous = keras.config.dtype_policy()
    for policy in MIXED_POLICIES:
        try:
            keras.config.set_dtype_policy(policy)
            layer = case.make()
            # One call per policy keeps the sweep affordable: float16 in inference, bfloat16 in
            # training mode, so both modes run under a half-precision policy.
            outputs = _flat(case.call(layer, training=policy == "mixed_bfloat16"))
        finally:
            keras.config.set_dtype_policy(previous)
        for tensor in outputs:
            if not _is_float(tensor):
                continue
            dtype = keras.backend.standardize_dtype(tensor.dtype)
            assert dtype == layer.compute_dtype, (
                f"{policy}: output dtype {dtype}, expected compute dtype {layer.compute_dtype}"
            )
            assert np.all(np.isfinite(_numpy(tensor).astype("float32"))), (
                f"{policy}: non-finite output"
            )


def _check_jit(case: _Case) -> None:
    model = case.model(case.make())
    n_outputs = len(model.outputs)
    model.compile(optimizer="sgd", loss=["mse"] * n_outputs, jit_compile=True)
    predicted = _flat(model.predict(case.inputs, verbose=0))
    for tensor in predicted:
        if _is_float(tensor):
            assert np.all(np.isfinite(_numpy(tensor))), "non-finite jit predict output"
    targets = [np.zeros(_numpy(t).shape, "float32") for t in predicted]
    losses = model.train_on_batch(case.inputs, targets if n_outputs > 1 else targets[0])
    assert np.all(np.isfinite(np.asarray(losses, dtype="float64"))), "non-finite jit train loss"


def _check_distribute(case: _Case) -> None:
    if keras.backend.backend() != "tensorflow":
        return
    with _mirrored_strategy().scope():
        model = case.model(case.make())
        n_outputs = len(model.outputs)
        model.compile(optimizer="sgd", loss=["mse"] * n_outputs)
    targets = [np.zeros(_numpy(t).shape, "float32") for t in _flat(model(case.inputs))]
    batch = _flat(case.inputs)[0].shape[0]
    model.fit(case.inputs, targets if n_outputs > 1 else targets[0], batch_size=batch, verbose=0)
    for weight in model.weights:
        assert np.all(np.isfinite(_numpy(weight))), f"non-finite {weight.path} after training"


def _mirrored_strategy():
    import tensorflow as tf

    from kerazoo.distribute import mirrored_strategy

    return mirrored_strategy([d.name for d in tf.config.list_logical_devices("CPU")][:2])


_CHECK_FUNCTIONS = {
    "shape": _check_shape,
    "config": _check_config,
    "saving": _check_saving,
    "gradients": _check_gradients,
    "training": _check_training,
    "mixed_precision": _check_mixed_precision,
    "jit": _check_jit,
    "distribute": _check_distribute,
}


# --- gradients, one small function per backend -----------------------------------------------


def _loss(outputs):
    """A scalar that depends on every floating output through fixed random weights (a plain sum
    would give sparsemax or normalization layers an exactly-zero gradient)."""
    total = 0.0
    for i, tensor in enumerate(_flat(outputs)):
        if _is_float(tensor):
            tensor = keras.ops.cast(tensor, "float32")
            weights = keras.ops.convert_to_tensor(
                np.random.default_rng(i).normal(size=tensor.shape).astype("float32")
            )
            total = total + keras.ops.sum(tensor * weights)
    return total


def _float_inputs(case):
    return [i for i, x in enumerate(_flat(case.inputs)) if _is_float(x)]


def _tf_gradients(case, layer):
    import tensorflow as tf

    flat = [tf.convert_to_tensor(x) for x in _flat(case.inputs)]
    watched = [flat[i] for i in _float_inputs(case)]
    with tf.GradientTape() as tape:
        tape.watch(watched)
        loss = _loss(case.call(layer, training=True, inputs=_unflat(case.inputs, flat)))
    return tape.gradient(loss, list(layer.trainable_variables) + watched)


def _jax_gradients(case, layer):
    import jax

    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    flat = [jax.numpy.asarray(x) for x in _flat(case.inputs)]
    float_ids = _float_inputs(case)

    def loss_fn(trainable, watched):
        feed = list(flat)
        for i, x in zip(float_ids, watched):
            feed[i] = x
        # stateless_call passes `training` straight to call(), which may not take it.
        training = {"training": True} if "training" in inspect.signature(layer.call).parameters else {}
        outputs, _ = layer.stateless_call(
            trainable, non_trainable, _unflat(case.inputs, feed), **training, **case.call_kwargs
        )
        return _loss(outputs)

    # One compiled program: eager jax.grad dispatches (and compiles) op by op, several times
    # slower here.
    weight_grads, input_grads = jax.jit(jax.grad(loss_fn, argnums=(0, 1)))(
        trainable, [flat[i] for i in float_ids]
    )
    return list(weight_grads) + list(input_grads)


def _torch_gradients(case, layer):
    import torch

    flat = [torch.as_tensor(np.asarray(x)) for x in _flat(case.inputs)]
    float_ids = _float_inputs(case)
    for i in float_ids:
        flat[i].requires_grad_(True)
    for variable in layer.trainable_variables:
        variable.value.grad = None
    _loss(case.call(layer, training=True, inputs=_unflat(case.inputs, flat))).backward()
    return [v.value.grad for v in layer.trainable_variables] + [flat[i].grad for i in float_ids]


_GRADIENT_FUNCTIONS = {
    "tensorflow": _tf_gradients,
    "jax": _jax_gradients,
    "torch": _torch_gradients,
}


# --- small helpers ----------------------------------------------------------------------------


def _make_inputs(input_shape, input_data, input_dtype):
    if (input_shape is None) == (input_data is None):
        raise ValueError("Give exactly one of input_shape and input_data.")
    if input_data is not None:
        return _map(np.asarray, input_data)
    rng = np.random.default_rng(0)
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    arrays = []
    for shape in shapes:
        if np.issubdtype(np.dtype(input_dtype), np.integer):
            arrays.append(rng.integers(0, 10, size=shape).astype(input_dtype))
        else:
            arrays.append(rng.normal(size=shape).astype(input_dtype))
    return arrays if isinstance(input_shape, list) else arrays[0]


def _map(fn, structure):
    if isinstance(structure, list | tuple):
        return [fn(x) for x in structure]
    return fn(structure)


def _flat(structure) -> list:
    if isinstance(structure, dict):
        return [structure[key] for key in sorted(structure)]
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in _flat(item)]
    return [structure]


def _unflat(template, flat):
    return list(flat) if isinstance(template, list | tuple) else flat[0]


def _flat_shapes(shapes) -> list[tuple]:
    """``compute_output_shape`` results as a list of shapes (a shape is a tuple of ints/None)."""
    if isinstance(shapes, dict):
        return [tuple(shapes[key]) for key in sorted(shapes)]
    if all(dim is None or isinstance(dim, int | np.integer) for dim in shapes):
        return [tuple(shapes)]
    return [shape for item in shapes for shape in _flat_shapes(item)]


def _shape_matches(actual, expected) -> bool:
    return len(actual) == len(expected) and all(
        e is None or a == e for a, e in zip(actual, expected)
    )


def _numpy(tensor) -> np.ndarray:
    if hasattr(tensor, "detach"):  # torch tensors that require grad
        tensor = tensor.detach()
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def _is_float(tensor) -> bool:
    return "float" in keras.backend.standardize_dtype(tensor.dtype)
