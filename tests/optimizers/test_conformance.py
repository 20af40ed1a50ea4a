"""Every registered optimizer passes run_optimizer_test; a registered optimizer without a case fails.

Cases are deliberately small: 32 rows, batches of 8, a 2-layer model.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kerazoo.optimizers as ko
from kerazoo.distribute import mirrored_strategy
from kerazoo.registry import registry
from kerazoo.testing import run_optimizer_test

# name -> (factory(**base_kwargs), options for run_optimizer_test)
CASES = {
    "AdaBelief": (lambda **kw: ko.AdaBelief(0.05, **kw), {}),
    "COCOB": (lambda **kw: ko.COCOB(**kw), {}),
    "ConditionalGradient": (lambda **kw: ko.ConditionalGradient(0.99, lambda_=5.0, **kw), {}),
    "DecoupledWeightDecay": (
        lambda **kw: ko.DecoupledWeightDecay(keras.optimizers.Adam(0.05), 1e-3, **kw), {}),
    "LARS": (lambda **kw: ko.LARS(5.0, eeta=0.01, **kw), {}),
    "LazyAdam": (lambda **kw: ko.LazyAdam(0.05, **kw), {"sparse": True}),
    "Lookahead": (lambda **kw: ko.Lookahead(keras.optimizers.Adam(0.05), sync_period=3, **kw), {}),
    "MovingAverage": (
        lambda **kw: ko.MovingAverage(keras.optimizers.SGD(0.05, momentum=0.9), **kw), {}),
    "NovoGrad": (lambda **kw: ko.NovoGrad(0.05, **kw), {}),
    "ProximalAdagrad": (lambda **kw: ko.ProximalAdagrad(0.2, l1_regularization_strength=1e-3,
                                                        **kw), {}),
    "Ranger": (lambda **kw: ko.Ranger(0.05, sync_period=3, **kw), {}),
    "RectifiedAdam": (lambda **kw: ko.RectifiedAdam(0.05, **kw), {}),
    "SAM": (lambda **kw: ko.SAM(keras.optimizers.SGD(0.05, momentum=0.9), rho=0.05, **kw),
            # Accumulated SAM perturbs each micro-batch on its own, so it is not one full-batch
            # step; test_sam.py checks it against its own reference instead.
            {"wrap": ko.SAMModel, "gradient_accumulation": False}),
    "SGDW": (lambda **kw: ko.SGDW(1e-4, 0.05, momentum=0.9, **kw), {}),
    "SWA": (lambda **kw: ko.SWA(keras.optimizers.SGD(0.05, momentum=0.9), average_period=2,
                                **kw), {}),
    "Yogi": (lambda **kw: ko.Yogi(0.05, **kw), {}),
}

NAMES = registry("optimizers").list()


def test_every_registered_optimizer_has_a_case():
    missing = sorted(set(NAMES) - set(CASES))
    assert not missing, f"registered optimizers without a conformance case: {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_conformance(name):
    if name not in CASES:
        pytest.fail(f"{name} is registered but has no case in tests/optimizers/test_conformance.py")
    factory, options = CASES[name]
    run_optimizer_test(factory, **options)


@pytest.mark.tf_only
@pytest.mark.parametrize("name", ["RectifiedAdam", "Lookahead", "MovingAverage", "LazyAdam"])
def test_mirrored_strategy(name):

    from kerazoo.testing.optimizer_test import _data, _fit, _model, _weights

    factory, options = CASES[name]
    sparse = options.get("sparse", False)
    x, y = _data(sparse)
    single = _model(sparse)
    single.compile(optimizer=factory(), loss="mse")
    _fit(single, x, y, epochs=2)
    strategy = mirrored_strategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = _model(sparse)
        model.compile(optimizer=factory(), loss="mse")
    _fit(model, x, y, epochs=2)
    for variable in model.trainable_variables + model.optimizer.variables:
        replicas = [v.numpy() for v in variable.value.values]
        assert all(np.array_equal(replicas[0], r) for r in replicas[1:]), variable.path
    for got, want in zip(_weights(model), _weights(single)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # Slots too: averages and slow weights must match the single-device run.
    for got, want in zip(model.optimizer.variables, single.optimizer.variables):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got),
                                   keras.ops.convert_to_numpy(want), rtol=1e-4, atol=1e-5,
                                   err_msg=want.path)
