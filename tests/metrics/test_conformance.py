"""Every registered metric passes ``run_metric_test`` and is exact under ``MirroredStrategy``.

Parametrized over ``registry("metrics")``: a metric registered without a case in ``CASES`` fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from kerazoo.registry import registry
from kerazoo.testing.metric_test import distributed_value, metric_value, run_metric_test

SAMPLES = 64  # 4 global batches of 16 in the distributed test: 8 samples per replica.


def _rng(seed=0):
    return np.random.default_rng(seed)


def _probs(rng, classes):
    logits = rng.normal(size=(SAMPLES, classes))
    return (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype("float32")


def _labels(rng, classes):
    return rng.integers(0, classes, size=SAMPLES).astype("int32")


def _ranked(rng):
    truth = rng.random(SAMPLES).astype("float32")
    return truth, (truth + 0.3 * rng.random(SAMPLES)).clip(0, 1).astype("float32")


def _cohen(rng):
    return {"num_classes": 4, "sparse_labels": True, "weightage": "quadratic"}, _labels(
        rng, 4
    ), _probs(rng, 4)


def _mcc(rng):
    return {"num_classes": 3}, np.eye(3, dtype="float32")[_labels(rng, 3)], _probs(rng, 3)


def _hamming(rng):
    truth = (rng.random((SAMPLES, 5)) > 0.5).astype("float32")
    return {"mode": "multilabel", "threshold": 0.5}, truth, rng.random((SAMPLES, 5)).astype(
        "float32"
    )


def _multilabel(rng):
    return (
        {"num_classes": 4},
        (rng.random((SAMPLES, 4)) > 0.5).astype("int32"),
        (rng.random((SAMPLES, 4)) > 0.4).astype("int32"),
    )


def _values(rng):
    return {}, None, (0.1 + rng.random(SAMPLES) * 5).astype("float32")


def _rank(rng):
    return ({}, *_ranked(rng))


def _smape(rng):
    truth = (1 + rng.random((SAMPLES, 6)) * 10).astype("float32")
    return {}, truth, (truth + rng.normal(size=truth.shape)).astype("float32")


def _mase(rng):
    series = np.cumsum(rng.normal(size=(SAMPLES, 12)), axis=1).astype("float32")
    return {"seasonality": 2}, series, (series[:, -4:] + rng.normal(size=(SAMPLES, 4))).astype(
        "float32"
    )


def _quantile(rng):
    truth = rng.normal(size=(SAMPLES, 6)).astype("float32")
    offsets = np.array([-1.0, 0.0, 1.0], dtype="float32")
    forecast = truth[..., None] + offsets + 0.5 * rng.normal(size=(SAMPLES, 6, 3))
    return {"quantiles": (0.1, 0.5, 0.9)}, truth, forecast.astype("float32")


def _eer(rng):
    labels = (rng.random(SAMPLES) > 0.5).astype("float32")
    scores = np.clip(0.5 * labels + 0.6 * rng.random(SAMPLES), 0, 1).astype("float32")
    return {"num_bins": 50}, labels, scores


def _confusion(rng):
    return {"num_classes": 3, "normalize": "true"}, _labels(rng, 3), _probs(rng, 3)


CASES = {
    "CohenKappa": _cohen,
    "ConfusionMatrix": _confusion,
    "EqualErrorRate": _eer,
    "GeometricMean": _values,
    "HammingLoss": _hamming,
    "HarmonicMean": _values,
    "KendallsTauB": _rank,
    "KendallsTauC": _rank,
    "MASE": _mase,
    "MatthewsCorrelationCoefficient": _mcc,
    "MeanQuantileLoss": _quantile,
    "MultiLabelConfusionMatrix": _multilabel,
    "SMAPE": _smape,
    "SpearmansRank": _rank,
}

NAMES = registry("metrics").list()


def _case(name):
    if name not in CASES:
        pytest.fail(f"metric '{name}' is registered but has no case in CASES")
    return CASES[name](_rng())


@pytest.mark.parametrize("name", NAMES)
def test_metric_conformance(name):
    init_kwargs, y_true, y_pred = _case(name)
    run_metric_test(registry("metrics").get(name).obj, init_kwargs, y_true, y_pred)


@pytest.mark.tf_only
@pytest.mark.parametrize("name", NAMES)
def test_metric_is_exact_across_two_replicas(name):
    init_kwargs, y_true, y_pred = _case(name)
    metric_cls = registry("metrics").get(name).obj
    eager = metric_value(metric_cls, init_kwargs, y_true, y_pred)
    one = distributed_value(metric_cls, init_kwargs, y_true, y_pred, ["/cpu:0"], 16)
    two = distributed_value(metric_cls, init_kwargs, y_true, y_pred, ["/cpu:0", "/cpu:1"], 16)
    np.testing.assert_allclose(one, eager, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-6)


def test_cases_cover_only_registered_metrics():
    assert sorted(CASES) == NAMES
