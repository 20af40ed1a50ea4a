"""kerazoo activations match tfa 0.23 to 1e-5 relative (fixtures: tests/fixtures/tfa/).

The reference numbers come from ``tests/fixtures/tfa/generate_activations.py`` run with tfa 0.23 on
TensorFlow 2.15. ``rrelu`` is compared in inference mode: its training slopes are random.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from kerazoo import activations, layers

FIXTURES = np.load(Path(__file__).parents[1] / "fixtures" / "tfa" / "activations.npz")
CASES = sorted({key.split("/")[0] for key in FIXTURES.files})


def _kerazoo(case: str, x):
    if case == "lisht":
        return activations.lisht(x)
    if case.startswith("snake_"):
        return activations.snake(x, frequency=float(case.split("_")[1]))
    if case == "rrelu_inference":
        return activations.rrelu(x, training=False)
    if case == "rrelu_inference_bounds":
        return activations.rrelu(x, lower=0.05, upper=0.6, training=False)
    if case == "sparsemax_axis1":
        return layers.Sparsemax(axis=1)(x)
    return activations.sparsemax(x)


@pytest.mark.parametrize("case", CASES)
def test_matches_tfa(case):
    x, expected = FIXTURES[f"{case}/x"], FIXTURES[f"{case}/y"]
    actual = keras.ops.convert_to_numpy(_kerazoo(case, x))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)


def test_fixture_covers_every_tfa_activation_we_port():
    assert {"lisht", "rrelu_inference", "snake_1.0", "sparsemax_issue"} <= set(CASES)
