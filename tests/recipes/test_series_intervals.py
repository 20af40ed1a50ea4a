"""Split-conformal calibration: the 80% interval covers 80% (+-5 pt) of a test split."""

import numpy as np
import pytest

from kerazoo.errors import DataError
from kerazoo.recipes import series_intervals

LOOKBACK, HORIZON, LEVELS = 24, 6, (0.1, 0.5, 0.9)


def _series(length=3000, seed=0):
    """Trend + season 12 + N(0, 1) noise: the noise is known, so the true 80% half-width of a
    one-step forecast is at least 1.2816."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return 10 + 0.002 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, length)


def _windows(y, start, end):
    starts = np.arange(max(start - LOOKBACK, 0), end - LOOKBACK - HORIZON + 1)
    rows = starts[:, None] + np.arange(LOOKBACK + HORIZON)[None]
    return y[rows[:, :LOOKBACK]], y[rows[:, LOOKBACK:]][..., None]


def _fitted_model(y, end):
    """A least-squares linear forecaster on training windows: a real model, fast in NumPy."""
    x, target = _windows(y, 0, end)
    design = np.c_[x, np.ones(len(x))]
    weights = np.linalg.lstsq(design, target[..., 0], rcond=None)[0]
    return lambda inputs: (np.c_[inputs, np.ones(len(inputs))] @ weights)[..., None]


@pytest.mark.parametrize("half_width", [0.3, 4.0], ids=["too-narrow", "too-wide"])
def test_calibrated_80_percent_interval_covers_80_percent_of_the_test_split(half_width):
    y = _series()
    train_end, calibration_end = 1800, 2400
    model = _fitted_model(y, train_end)

    def quantiles(inputs):
        point = model(inputs)
        return np.stack([point - half_width, point, point + half_width], axis=-1)

    x_cal, y_cal = _windows(y, train_end, calibration_end)
    x_test, y_test = _windows(y, calibration_end, len(y))
    before = series_intervals.interval_coverage(y_test, quantiles(x_test))
    offsets = series_intervals.calibrate_quantiles(y_cal, quantiles(x_cal), LEVELS)
    after = series_intervals.interval_coverage(
        y_test, series_intervals.apply_offsets(quantiles(x_test), offsets))
    assert abs(before["coverage"] - 0.8) > 0.15  # the raw interval really was wrong
    assert abs(after["coverage"] - 0.8) <= 0.05, (before, after)
    assert offsets.shape == (HORIZON, 1, 3) and (offsets[..., 1] == 0).all()
    # N(0, 1) noise: the calibrated width is close to the oracle 2 x 1.2816 (plus model error).
    assert 2.4 < after["width"] < 3.2


def test_point_forecast_gets_a_split_conformal_interval():
    y = _series(seed=1)
    model = _fitted_model(y, 1800)
    x_cal, y_cal = _windows(y, 1800, 2400)
    x_test, y_test = _windows(y, 2400, len(y))
    width = series_intervals.residual_offsets(y_cal, model(x_cal), 0.8)
    point = model(x_test)
    outputs = np.stack([point - width, point, point + width], axis=-1)
    assert abs(series_intervals.interval_coverage(y_test, outputs)["coverage"] - 0.8) <= 0.05


def test_conformal_rank_and_empty_calibration():
    scores = np.arange(1.0, 10.0)  # n = 9: rank ceil(10 * 0.8) = 8
    assert series_intervals.conformal_quantile(scores, 0.8) == 8.0
    assert series_intervals.conformal_quantile(scores, 0.95) == 9.0  # rank 10 > n: the largest
    with pytest.raises(DataError, match="calibration"):
        series_intervals.conformal_quantile(np.zeros((0, 2)), 0.8)


def test_narrowing_never_crosses_the_median():
    truth = np.zeros((50, 2, 1))
    outputs = np.stack([-np.ones_like(truth) * 5, truth, np.ones_like(truth) * 5], axis=-1)
    offsets = series_intervals.calibrate_quantiles(truth, outputs, LEVELS)
    np.testing.assert_allclose(offsets[..., 0], 5.0)  # all inside by 5: narrowed to the median
    calibrated = series_intervals.apply_offsets(outputs, offsets)
    assert (np.diff(calibrated, axis=-1) >= 0).all()


def test_report_records_raw_and_calibrated_intervals():
    from kerazoo.recipes.series_evaluation import add_calibration

    truth = np.random.default_rng(0).normal(size=(400, 2, 1))
    raw = np.stack([truth * 0 - 0.2, truth * 0, truth * 0 + 0.2], axis=-1)
    calibrated = series_intervals.apply_offsets(
        raw, series_intervals.calibrate_quantiles(truth, raw, LEVELS))
    report = {"quantiles": list(LEVELS)}
    add_calibration(report, truth, raw, calibrated)
    assert report["interval_coverage_raw"] < 0.2 and abs(report["interval_coverage"] - 0.8) < 0.01
    assert report["interval_width"] > report["interval_width_raw"] == pytest.approx(0.4)
    assert len(report["interval_coverage_by_step"]) == 2 and report["quantile_crossings"] == 0
