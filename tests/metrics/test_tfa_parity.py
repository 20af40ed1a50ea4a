"""kerazoo metrics reproduce tfa 0.23 on fixed inputs (fixtures from tests/fixtures/tfa/).

The fixtures hold the inputs and tfa's results; regenerate them with
``/work/tfa-venv/bin/python tests/fixtures/tfa/generate_metrics.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kerazoo.registry import registry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tfa"
TABLE = json.loads((FIXTURES / "metrics.json").read_text())["cases"]
ARRAYS = np.load(FIXTURES / "metrics.npz")


def kerazoo_value(case: str) -> tuple[np.ndarray, np.ndarray]:
    import keras

    spec = TABLE[case]
    metric = registry("metrics").get(spec["metric"]).obj(**spec["kwargs"])
    args = [ARRAYS[f"{case}/y_pred"]]
    if f"{case}/y_true" in ARRAYS:
        args.insert(0, ARRAYS[f"{case}/y_true"])
    weight = ARRAYS.get(f"{case}/sample_weight")
    metric.update_state(*args, sample_weight=weight)
    value = np.asarray(keras.ops.convert_to_numpy(metric.result()), dtype="float64")
    return value, ARRAYS[f"{case}/expected"]


@pytest.mark.parametrize("case", sorted(TABLE))
def test_matches_tfa(case):
    value, expected = kerazoo_value(case)
    # atol: a kappa or MCC near 0 is `1 - ratio` in float32 in both libraries, so both carry
    # about one float32 ulp of 1.0 (1.2e-7) of cancellation error whatever its relative size.
    np.testing.assert_allclose(value, expected, rtol=1e-5, atol=2.5e-7)


def test_every_tfa_metric_has_parity_cases():
    tfa_metrics = {e.name for e in registry("metrics") if e.metadata.get("tfa")}
    assert tfa_metrics == {spec["metric"] for spec in TABLE.values()}
