"""Trajectory parity with tfa 0.23: the same gradients give the same weights to 1e-5 relative.

References come from ``tests/fixtures/tfa/generate_optimizers.py`` (TF 2.15.1 + tfa 0.23.0).
"""

from __future__ import annotations

import importlib.util
import pathlib

import keras
import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "kerazoo_tests_parity", pathlib.Path(__file__).with_name("_parity.py"))
_parity = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_parity)
CASES, build_kerazoo, problems = _parity.CASES, _parity.build_kerazoo, _parity.problems
fixture_data, reference = _parity.fixture_data, _parity.reference

RTOL = 1e-5


def assert_close(actual, desired, message):
    """Equal to 1e-5 relative, elementwise or to the array's scale for entries near zero.

    Keras's Adam and TF's fused ApplyAdam kernel round differently in float32; entries that pass
    near zero then differ by ~1e-6 absolute, far above 1e-5 of their own size.
    """
    actual, desired = np.asarray(actual), np.asarray(desired)
    scale = max(float(np.max(np.abs(desired))), 1e-3)
    np.testing.assert_allclose(actual, desired, rtol=RTOL, atol=RTOL * scale, err_msg=message)


def _runs(entry):
    runs = [(problem, False) for problem in problems.PROBLEMS]
    if entry.get("embedding"):
        sparse_ok = keras.backend.backend() == "tensorflow"
        runs += [("embedding", True)] if sparse_ok else []
        runs += [("embedding", False)]
    return runs


PARAMS = [(case, problem, sparse) for case, entry in CASES.items()
          for problem, sparse in _runs(entry)]


def _label(problem, sparse):
    return problem + ("_sparse" if sparse else ("_dense" if problem == "embedding" else ""))


@pytest.mark.parametrize("case,problem,sparse", PARAMS,
                         ids=[f"{c}-{_label(p, s)}" for c, p, s in PARAMS])
def test_trajectory_matches_tfa(case, problem, sparse):
    entry = CASES[case]
    data = fixture_data()
    ref = reference()
    prefix = f"opt/{case}/{_label(problem, sparse)}"
    optimizer = build_kerazoo(entry["kerazoo"])
    weights = [keras.Variable(w) for w in problems.initial_weights(data, problem)]
    for step in range(problems.STEPS):
        grads = problems.gradients(data, problem, [np.asarray(w.numpy()) for w in weights],
                                   step, sparse)
        if sparse:
            import tensorflow as tf

            values, idx = grads[0]
            grads = [tf.IndexedSlices(tf.constant(values), tf.constant(idx),
                                      tf.constant(weights[0].shape, tf.int64))]
        else:
            grads = [keras.ops.convert_to_tensor(g) for g in grads]
        optimizer.apply(grads, weights)
        if step + 1 in problems.RECORD_AT:
            for i, w in enumerate(weights):
                assert_close(w.numpy(), ref[f"{prefix}/{step + 1}/{i}"],
                             f"{case} {problem} weight {i} after {step + 1} steps")
    for slot in entry.get("slots", []):
        for i, average in enumerate(optimizer.average_variables):
            assert_close(average.numpy(), ref[f"{prefix}/slot/{slot}/{i}"], f"{case} {slot} {i}")
