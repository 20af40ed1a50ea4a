"""Independent checks of kerazoo metrics against scipy / scikit-learn implementations."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from kerazoo import metrics as kzm

N = 300


def value(metric, *args, sample_weight=None):
    metric.update_state(*args, sample_weight=sample_weight)
    return np.asarray(keras.ops.convert_to_numpy(metric.result()), dtype="float64")


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _ratings(rng):
    truth = rng.integers(0, 10, N)
    return truth.astype("float32"), np.clip(truth + rng.integers(-3, 4, N), 0, 9).astype("float32")


RATING_GRID = dict(actual_min=0, actual_max=10, preds_min=0, preds_max=10,
                   actual_cutpoints=11, preds_cutpoints=11)


@pytest.mark.parametrize("variant", ["b", "c"])
def test_kendall_matches_scipy_with_ties(rng, variant):
    truth, pred = _ratings(rng)
    metric = kzm.KendallsTauB(**RATING_GRID) if variant == "b" else kzm.KendallsTauC(**RATING_GRID)
    expected = stats.kendalltau(truth, pred, variant=variant).statistic
    np.testing.assert_allclose(value(metric, truth, pred), expected, rtol=1e-5)


def test_spearman_matches_scipy_with_ties(rng):
    truth, pred = _ratings(rng)
    expected = stats.spearmanr(truth, pred).statistic
    np.testing.assert_allclose(value(kzm.SpearmansRank(**RATING_GRID), truth, pred), expected,
                               rtol=1e-5)


def test_rank_metrics_approximate_continuous_data(rng):
    truth = rng.random(N).astype("float32")
    pred = np.clip(truth + 0.2 * rng.normal(size=N), 0, 1).astype("float32")
    grid = dict(actual_cutpoints=1001, preds_cutpoints=1001)
    assert abs(value(kzm.KendallsTauB(**grid), truth, pred)
               - stats.kendalltau(truth, pred).statistic) < 5e-3
    assert abs(value(kzm.SpearmansRank(**grid), truth, pred)
               - stats.spearmanr(truth, pred).statistic) < 5e-3


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn(rng, weights):
    truth = rng.integers(0, 5, N)
    pred = np.clip(truth + rng.integers(-2, 3, N), 0, 4)
    sample_weight = rng.random(N).astype("float32")
    metric = kzm.CohenKappa(num_classes=5, weightage=weights, sparse_labels=True)
    expected = skm.cohen_kappa_score(truth, pred, weights=weights, sample_weight=sample_weight)
    got = value(metric, truth, np.eye(5, dtype="float32")[pred], sample_weight=sample_weight)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_mcc_matches_sklearn(rng):
    truth = rng.integers(0, 4, N)
    pred = np.where(rng.random(N) < 0.5, truth, rng.integers(0, 4, N))
    sample_weight = rng.random(N).astype("float32")
    got = value(kzm.MatthewsCorrelationCoefficient(4), np.eye(4)[truth], np.eye(4)[pred],
                sample_weight=sample_weight)
    expected = skm.matthews_corrcoef(truth, pred, sample_weight=sample_weight)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_hamming_loss_matches_sklearn(rng):
    truth = (rng.random((N, 6)) > 0.5).astype("float32")
    scores = rng.random((N, 6)).astype("float32")
    got = value(kzm.HammingLoss(mode="multilabel", threshold=0.5), truth, scores)
    np.testing.assert_allclose(got, skm.hamming_loss(truth, scores > 0.5), rtol=1e-5)
    labels, guesses = rng.integers(0, 4, N), rng.integers(0, 4, N)
    got = value(kzm.HammingLoss(mode="multiclass"), np.eye(4)[labels], np.eye(4)[guesses])
    np.testing.assert_allclose(got, skm.hamming_loss(labels, guesses), rtol=1e-5)


def test_multilabel_confusion_matrix_matches_sklearn(rng):
    truth = (rng.random((N, 5)) > 0.5).astype("int32")
    pred = (rng.random((N, 5)) > 0.3).astype("int32")
    got = value(kzm.MultiLabelConfusionMatrix(5), truth, pred)
    np.testing.assert_array_equal(got, skm.multilabel_confusion_matrix(truth, pred))


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_matches_sklearn(rng, normalize):
    truth, pred = rng.integers(0, 4, N), rng.integers(0, 4, N)
    got = value(kzm.ConfusionMatrix(4, normalize=normalize), truth, np.eye(4)[pred])
    expected = skm.confusion_matrix(truth, pred, labels=range(4), normalize=normalize)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_means_match_scipy(rng):
    values = (0.1 + 5 * rng.random(N)).astype("float32")
    weight = rng.random(N).astype("float32")
    np.testing.assert_allclose(value(kzm.GeometricMean(), values, sample_weight=weight),
                               stats.gmean(values, weights=weight), rtol=1e-5)
    np.testing.assert_allclose(value(kzm.HarmonicMean(), values, sample_weight=weight),
                               stats.hmean(values, weights=weight), rtol=1e-5)


def _exact_eer(labels, scores):
    # Dense threshold sweep over every observed score: FAR/FRR cross between two adjacent ones.
    thresholds = np.unique(np.concatenate([scores, [np.inf]]))
    far = np.array([(scores[labels == 0] >= t).mean() for t in thresholds])
    frr = np.array([(scores[labels == 1] < t).mean() for t in thresholds])
    k = np.argmax(far - frr <= 0)
    return (far[k - 1] + frr[k - 1] + far[k] + frr[k]) / 4.0, abs(far[k] - far[k - 1])


def test_equal_error_rate_resolution(rng):
    labels = (rng.random(2000) > 0.5).astype("float32")
    scores = np.clip(0.25 * labels + rng.random(2000) * 0.75, 0, 1).astype("float32")
    exact, step = _exact_eer(labels, scores)
    got = value(kzm.EqualErrorRate(num_bins=4000), labels, scores)
    assert abs(got - exact) <= step + 1e-3
    # sklearn's ROC curve gives the same crossing: EER = FPR where FPR = 1 - TPR.
    fpr, tpr, _ = skm.roc_curve(labels, scores)
    assert abs(got - np.interp(0.0, (fpr - (1 - tpr)), fpr)) < 5e-3


def test_forecast_metrics_match_formulas(rng):
    truth = (1 + 5 * rng.random((20, 8))).astype("float32")
    pred = (truth + rng.normal(size=truth.shape)).astype("float32")
    smape = np.mean(200 * np.abs(truth - pred) / (np.abs(truth) + np.abs(pred)))
    np.testing.assert_allclose(value(kzm.SMAPE(), truth, pred), smape, rtol=1e-5)
    history = np.cumsum(rng.normal(size=(20, 16)), axis=1).astype("float32")
    forecast = (history[:, -4:] + rng.normal(size=(20, 4))).astype("float32")
    scale = np.abs(np.diff(history[:, :12], axis=1)).mean(axis=1)
    mase = np.mean(np.abs(history[:, -4:] - forecast).mean(axis=1) / scale)
    np.testing.assert_allclose(value(kzm.MASE(), history, forecast), mase, rtol=1e-5)
    quantiles = (0.1, 0.5, 0.9)
    bands = (truth[..., None] + rng.normal(size=(20, 8, 3))).astype("float32")
    pinball = np.mean([skm.mean_pinball_loss(truth.ravel(), bands[..., k].ravel(), alpha=q)
                       for k, q in enumerate(quantiles)])
    np.testing.assert_allclose(value(kzm.MeanQuantileLoss(quantiles), truth, bands), pinball,
                               rtol=1e-5)
