"""Argument validation, the confusion-matrix plot helper, and behaviour tfa users rely on."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerazoo import metrics as kzm


@pytest.mark.parametrize(
    "build",
    [
        lambda: kzm.CohenKappa(num_classes=1),
        lambda: kzm.CohenKappa(num_classes=3, weightage="cubic"),
        lambda: kzm.HammingLoss(mode="multiclasses"),
        lambda: kzm.KendallsTauB(actual_min=1.0, actual_max=1.0),
        lambda: kzm.SpearmansRank(preds_cutpoints=1),
        lambda: kzm.MASE(seasonality=0),
        lambda: kzm.MeanQuantileLoss(quantiles=(0.5, 1.0)),
        lambda: kzm.EqualErrorRate(num_bins=0),
        lambda: kzm.ConfusionMatrix(num_classes=3, normalize="rows"),
    ],
)
def test_invalid_arguments_are_refused(build):
    with pytest.raises(ValueError, match="Received"):
        build()


def test_plot_confusion_matrix_writes_png_atomically(tmp_path):
    metric = kzm.ConfusionMatrix(num_classes=3, normalize="true")
    metric.update_state([0, 1, 2, 2, 1], [0, 1, 1, 2, 1])
    target = tmp_path / "plots" / "cm.png"
    written = kzm.plot_confusion_matrix(metric.result(), ["cat", "dog", "owl"], target)
    assert written == str(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in target.parent.iterdir()] == ["cm.png"]  # no temp file left behind
    with pytest.raises(ValueError, match="labels"):
        kzm.plot_confusion_matrix(metric.result(), ["a", "b"], tmp_path / "x.png")
    with pytest.raises(ValueError, match="square"):
        kzm.plot_confusion_matrix(np.ones((2, 3)), None, tmp_path / "y.png")


def test_rank_metric_value_at_large_max_lands_in_last_bin():
    # tfa 0.23 fails here: max + 1e-7 rounds back to max in float32 and the index overflows.
    metric = kzm.KendallsTauB(0.0, 4.0, 0.0, 4.0, actual_cutpoints=5, preds_cutpoints=5)
    metric.update_state([0.0, 1.0, 4.0, 9.0], [0.0, 1.0, 3.5, 4.0])
    assert float(keras.ops.convert_to_numpy(metric.result())) == pytest.approx(1.0)


def test_untouched_metrics_report_zero():
    for metric in (kzm.CohenKappa(3), kzm.MatthewsCorrelationCoefficient(3), kzm.GeometricMean(),
                   kzm.HarmonicMean(), kzm.EqualErrorRate(), kzm.MASE()):
        assert float(keras.ops.convert_to_numpy(metric.result())) == 0.0, metric.name


def test_out_of_range_class_ids_are_not_counted():
    metric = kzm.ConfusionMatrix(num_classes=3)
    metric.update_state([0, 1, 2, -1, 3, 1], [0, 1, 1, 0, 2, -2], sample_weight=[1, 2, 3, 4, 5, 6])
    expected = [[1, 0, 0], [0, 2, 0], [0, 3, 0]]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(metric.result()), expected)
