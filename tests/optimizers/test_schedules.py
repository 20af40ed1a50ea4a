"""Schedules: values match tfa 0.23 on a grid of steps; every registered schedule round-trips."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import kerazoo.schedules as ks
from kerazoo.registry import registry

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tfa" / "optimizers.npz"


@keras.saving.register_keras_serializable(package="kerazoo_tests")
def shrinking_scale(x):
    return 1.0 / (1.5 ** (x - 1.0))


@keras.saving.register_keras_serializable(package="kerazoo_tests")
def decaying_scale(x):
    return keras.ops.power(0.99, x)


# The same arguments as generate_optimizers.py's SCHEDULES.
TFA_CASES = {
    "CyclicalLearningRate_cycle": lambda: ks.CyclicalLearningRate(
        1e-3, 1e-1, 10, scale_fn=shrinking_scale, scale_mode="cycle"),
    "CyclicalLearningRate_iterations": lambda: ks.CyclicalLearningRate(
        1e-3, 1e-1, 10, scale_fn=decaying_scale, scale_mode="iterations"),
    "TriangularCyclicalLearningRate": lambda: ks.TriangularCyclicalLearningRate(1e-4, 1e-2, 20),
    "Triangular2CyclicalLearningRate": lambda: ks.Triangular2CyclicalLearningRate(1e-4, 1e-2, 20),
    "ExponentialCyclicalLearningRate": lambda: ks.ExponentialCyclicalLearningRate(
        1e-4, 1e-2, 20, gamma=0.98),
}

CASES = {
    "CyclicalLearningRate": TFA_CASES["CyclicalLearningRate_cycle"],
    "TriangularCyclicalLearningRate": TFA_CASES["TriangularCyclicalLearningRate"],
    "Triangular2CyclicalLearningRate": TFA_CASES["Triangular2CyclicalLearningRate"],
    "ExponentialCyclicalLearningRate": TFA_CASES["ExponentialCyclicalLearningRate"],
    "OneCycle": lambda: ks.OneCycle(0.1, total_steps=100),
    "WarmUp": lambda: ks.WarmUp(keras.optimizers.schedules.CosineDecay(0.1, 100), 10),
    "InverseSquareRootWarmup": lambda: ks.InverseSquareRootWarmup(0.1, 10),
}


def _values(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(int(s)))) for s in steps])


@pytest.mark.parametrize("case", sorted(TFA_CASES))
def test_matches_tfa(case):
    with np.load(FIXTURE) as ref:
        steps, expected = ref["schedule/steps"], ref[f"schedule/{case}"]
    np.testing.assert_allclose(_values(TFA_CASES[case](), steps), expected, rtol=1e-5, atol=1e-9)


def test_every_registered_schedule_has_a_case():
    missing = sorted(set(registry("schedules").list()) - set(CASES))
    assert not missing, f"registered schedules without a case: {missing}"


@pytest.mark.parametrize("name", registry("schedules").list())
def test_round_trip_and_optimizer_use(name):
    if name not in CASES:
        pytest.fail(f"{name} is registered but has no case in tests/optimizers/test_schedules.py")
    schedule = CASES[name]()
    steps = [0, 1, 7, 10, 33, 99, 150]
    clone = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert type(clone) is type(schedule)
    np.testing.assert_allclose(_values(clone, steps), _values(schedule, steps), rtol=1e-7)
    # Inside an optimizer: its config round-trips and the rate follows the step.
    optimizer = keras.optimizers.SGD(schedule)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    variable = keras.Variable(np.ones(2, "float32"))
    for _ in range(3):
        restored.apply([keras.ops.ones(2)], [variable])
    expected = 1.0 - sum(_values(schedule, [0, 1, 2]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), [expected] * 2, rtol=1e-5)


def test_one_cycle_shape():
    schedule = ks.OneCycle(1.0, total_steps=100, pct_start=0.3, div_factor=25.0,
                           final_div_factor=1e4)
    values = _values(schedule, range(120))
    assert values[0] == pytest.approx(0.04)
    assert values[29] == pytest.approx(1.0)
    assert values[99] == pytest.approx(0.04 / 1e4, rel=1e-3)
    assert np.all(np.diff(values[:30]) > 0) and np.all(np.diff(values[29:100]) < 0)
    assert np.all(values[99:] == values[99])
    # Cosine midpoint of the decay phase is the mean of its ends.
    mid = _values(schedule, [64])[0]
    assert mid == pytest.approx((1.0 + 0.04 / 1e4) / 2, rel=1e-5)
    linear = _values(ks.OneCycle(1.0, 100, anneal_strategy="linear", three_phase=True), [0, 29, 58])
    np.testing.assert_allclose(linear, [0.04, 1.0, 0.04], rtol=1e-5)


def test_warmup_and_inverse_square_root():
    after = keras.optimizers.schedules.CosineDecay(0.1, 100)
    warm = ks.WarmUp(after, warmup_steps=10, initial_learning_rate=0.01)
    target = float(after(10))
    np.testing.assert_allclose(_values(warm, [0, 5, 10, 50]),
                               [0.01, 0.01 + (target - 0.01) * 0.5, target, float(after(50))],
                               rtol=1e-6)
    constant = ks.WarmUp(0.5, warmup_steps=4, power=2.0)
    np.testing.assert_allclose(_values(constant, [0, 2, 4, 9]), [0.0, 0.125, 0.5, 0.5], rtol=1e-6)
    inv = ks.InverseSquareRootWarmup(0.1, warmup_steps=10)
    np.testing.assert_allclose(_values(inv, [0, 9, 39, 999]),
                               [0.01, 0.1, 0.05, 0.01], rtol=1e-6)


def test_bad_arguments_are_refused():
    from kerazoo.errors import ConfigError

    with pytest.raises(ConfigError, match="scale_mode"):
        ks.CyclicalLearningRate(0.1, 1.0, 10, scale_fn=shrinking_scale, scale_mode="epoch")
    with pytest.raises(ConfigError, match="pct_start"):
        ks.OneCycle(1.0, 100, pct_start=1.5)
    with pytest.raises(ConfigError, match="warmup_steps"):
        ks.WarmUp(0.1, 0)
