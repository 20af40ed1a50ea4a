"""SAM / SAMModel: exact updates against a NumPy reference, on every backend and under tf.distribute.

The model is linear with a mean-squared-error loss, whose gradient is known in closed form, so the
reference below is SAM as the paper writes it, independent of Keras.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kerazoo.optimizers as ko
from kerazoo.errors import ConfigError

LR, RHO = 0.1, 0.05


def _data():
    rng = np.random.RandomState(11)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(16, 1)))
    return x, y.astype("float32")


def _initial():
    return np.array([[0.2], [0.1], [-0.3]], "float32"), np.array([0.05], "float32")


def _linear_model() -> keras.Model:
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.set_weights(list(_initial()))
    return model


def _gradients(w, b, x, y):
    residual = x @ w + b - y
    return 2.0 * x.T @ residual / len(x), 2.0 * residual.sum(axis=0) / len(x)


def _reference(x, y, steps, batch, micro_batches=1, adaptive=False, eta=0.01):
    """Plain-SGD SAM; each micro-batch (accumulation step or replica) perturbs on its own."""
    w, b = (p.astype("float64") for p in _initial())
    x, y = x.astype("float64"), y.astype("float64")
    for step in range(steps):
        rows = slice(step * batch, (step + 1) * batch)
        updates = []
        for xs, ys in zip(np.array_split(x[rows], micro_batches),
                          np.array_split(y[rows], micro_batches)):
            gw, gb = _gradients(w, b, xs, ys)
            if adaptive:
                tw, tb = np.abs(w) + eta, np.abs(b) + eta
            else:
                tw, tb = 1.0, 1.0
            norm = np.sqrt(np.sum((tw * gw) ** 2) + np.sum((tb * gb) ** 2))
            ew, eb = RHO * tw * tw * gw / norm, RHO * tb * tb * gb / norm
            updates.append(_gradients(w + ew, b + eb, xs, ys))
        w = w - LR * np.mean([u[0] for u in updates], axis=0)
        b = b - LR * np.mean([u[1] for u in updates], axis=0)
    return w, b


def _fit(model, x, y, batch, epochs=1):
    return model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0)


@pytest.mark.parametrize("adaptive", [False, True])
def test_fit_matches_the_reference(adaptive):
    x, y = _data()
    model = ko.SAMModel(_linear_model())
    model.compile(optimizer=ko.SAM(keras.optimizers.SGD(LR), rho=RHO, adaptive=adaptive),
                  loss="mse")
    _fit(model, x, y, batch=4)
    want_w, want_b = _reference(x, y, steps=4, batch=4, adaptive=adaptive)
    got_w, got_b = model.get_weights()
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_b, want_b, rtol=1e-5, atol=1e-6)


def test_sam_differs_from_its_inner_optimizer():
    x, y = _data()
    want_w, _ = _reference(x, y, steps=4, batch=4)
    plain = _linear_model()
    plain.compile(optimizer=keras.optimizers.SGD(LR), loss="mse")
    _fit(plain, x, y, batch=4)
    assert np.abs(plain.get_weights()[0] - want_w).max() > 1e-3


def test_reported_loss_is_the_first_pass_loss():
    x, y = _data()
    model = ko.SAMModel(_linear_model())
    model.compile(optimizer=ko.SAM(keras.optimizers.SGD(LR), rho=RHO), loss="mse")
    history = _fit(model, x, y, batch=16)
    w, b = _initial()
    assert history.history["loss"][0] == pytest.approx(float(np.mean((x @ w + b - y) ** 2)),
                                                       rel=1e-5)


def test_gradient_accumulation_perturbs_each_micro_batch():
    x, y = _data()
    model = ko.SAMModel(_linear_model())
    model.compile(optimizer=ko.SAM(keras.optimizers.SGD(LR), rho=RHO,
                                   gradient_accumulation_steps=2), loss="mse")
    _fit(model, x, y, batch=4)
    assert int(model.optimizer.iterations) == 2
    want_w, want_b = _reference(x, y, steps=2, batch=8, micro_batches=2)
    np.testing.assert_allclose(model.get_weights()[0], want_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], want_b, rtol=1e-5, atol=1e-6)


@pytest.mark.tf_only
def test_mirrored_strategy_perturbs_per_replica():
    from kerazoo.distribute import mirrored_strategy

    x, y = _data()
    with mirrored_strategy(["/cpu:0", "/cpu:1"]).scope():
        model = ko.SAMModel(_linear_model())
        model.compile(optimizer=ko.SAM(keras.optimizers.SGD(LR), rho=RHO), loss="mse")
    _fit(model, x, y, batch=8)
    want_w, want_b = _reference(x, y, steps=2, batch=8, micro_batches=2)
    np.testing.assert_allclose(model.get_weights()[0], want_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], want_b, rtol=1e-5, atol=1e-6)


def test_second_pass_leaves_batchnorm_statistics_and_regularizers_right():
    """Moving statistics come from the first pass only; the regularizer gradient is taken at w+e."""
    x, y = _data()

    def build():
        inputs = keras.Input((3,))
        hidden = keras.layers.BatchNormalization(momentum=0.5)(inputs)
        outputs = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.1))(hidden)
        model = keras.Model(inputs, outputs)
        model.layers[-1].set_weights(list(_initial()))
        return model

    plain = build()
    plain.compile(optimizer=keras.optimizers.SGD(LR), loss="mse")
    _fit(plain, x, y, batch=16)
    sam = ko.SAMModel(build())
    sam.compile(optimizer=ko.SAM(keras.optimizers.SGD(LR), rho=RHO), loss="mse")
    _fit(sam, x, y, batch=16)
    plain_bn, sam_bn = plain.layers[1], sam.model.layers[1]
    for got, want in zip(sam_bn.non_trainable_weights, plain_bn.non_trainable_weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got),
                                   keras.ops.convert_to_numpy(want), rtol=1e-6)
    assert not np.allclose(sam.get_weights()[-2], plain.get_weights()[-2], atol=1e-4)


def test_save_load_keeps_the_wrapper_and_the_optimizer(tmp_path):
    x, y = _data()
    model = ko.SAMModel(_linear_model())
    model.compile(optimizer=ko.SAM(keras.optimizers.SGD(LR), rho=RHO, adaptive=True),
                  loss="mse")
    _fit(model, x, y, batch=8)
    model.save(tmp_path / "sam.keras")
    loaded = keras.saving.load_model(tmp_path / "sam.keras")
    assert isinstance(loaded, ko.SAMModel)
    assert isinstance(loaded.optimizer, ko.SAM) and loaded.optimizer.adaptive
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_sam_model_refuses_another_optimizer():
    with pytest.raises(ConfigError, match="SAM"):
        ko.SAMModel(_linear_model()).compile(optimizer="sgd", loss="mse")


def test_plain_fit_with_sam_is_refused():
    x, y = _data()
    model = _linear_model()
    model.compile(optimizer=ko.SAM(keras.optimizers.SGD(LR)), loss="mse")
    with pytest.raises(RuntimeError, match="SAMModel"):
        _fit(model, x, y, batch=8)


@pytest.mark.parametrize("bad", [{"rho": 0.0}, {"eta": -1.0}])
def test_bad_arguments_are_named(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        ko.SAM("sgd", **bad)


def test_sam_model_docstring_example_runs():
    # SAMModel is a model, not in the optimizer registry that test_docstrings.py sweeps.
    import doctest

    from kerazoo.optimizers import sam_model

    result = doctest.testmod(sam_model, extraglobs={"keras": keras})
    assert result.attempted and not result.failed
