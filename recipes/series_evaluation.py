"""Forecast evaluation: MAE, RMSE, sMAPE, MASE, naive baselines, coverage, backtest and a plot.

All NumPy. Baselines are computed from the same test windows as the model: *last value* repeats
the window's last observation over the horizon, *seasonal naive* repeats the window's last season
(``y[t + h] = y[t + h - m * ceil((h + 1) / m)]``). MASE divides each absolute error by the
in-sample seasonal-naive MAE of the window's series on its training part (Hyndman & Koehler,
"Another look at measures of forecast accuracy", IJF 2006), so MASE < 1 beats that in-sample
naive forecast and the model beats a baseline when its MASE is lower than the baseline's.

Example:

>>> import numpy as np
>>> from kerazoo.recipes.series_evaluation import point_metrics
>>> truth = np.ones((2, 3, 1)); forecast = truth + 0.5
>>> {k: round(v, 3) for k, v in point_metrics(truth, forecast, np.ones((2, 1))).items()}
{'mae': 0.5, 'rmse': 0.5, 'smape': 40.0, 'mase': 0.5}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def point_metrics(truth: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    """Metrics of ``forecast`` vs ``truth`` (``[N, horizon, targets]``); ``scale`` ``[N, targets]``
    is each window's MASE denominator. sMAPE is in percent (0-200)."""
    error = forecast - truth
    denominator = np.abs(truth) + np.abs(forecast)
    ratio = np.where(denominator > 0, 2 * np.abs(error) / np.maximum(denominator, 1e-12), 0.0)
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "smape": float(100 * np.mean(ratio)),
        "mase": float(np.mean(np.abs(error) / scale[:, None, :])),
    }


def baselines(inputs: np.ndarray, horizon: int, season: int, num_targets: int
              ) -> dict[str, np.ndarray]:
    """``{"last_value", "seasonal_naive"}`` forecasts ``[N, horizon, targets]`` from windows."""
    lookback = inputs.shape[1]
    targets = inputs[..., :num_targets]
    last = np.repeat(targets[:, -1:], horizon, axis=1)
    steps = np.arange(horizon)
    back = season * ((steps // season) + 1)
    seasonal = targets[:, lookback - back + steps]
    return {"last_value": last, "seasonal_naive": seasonal}


def forecast_report(inputs, truth, outputs, *, owners, mase_scale, season: int, num_targets: int,
                    quantiles: tuple[float, ...] = (), origins: int = 5) -> dict[str, Any]:
    """The ``evaluation.json`` report of one split (model, baselines, coverage, backtest)."""
    point = outputs[..., len(quantiles) // 2] if quantiles else outputs
    scale = mase_scale[owners]
    horizon = truth.shape[1]
    report: dict[str, Any] = dict(point_metrics(truth, point, scale))
    report["num_examples"] = int(len(truth))
    compared = {}
    for name, forecast in baselines(inputs, horizon, season, num_targets).items():
        metrics = point_metrics(truth, forecast, scale)
        compared[name] = metrics
        report[f"mase_{name}"] = metrics["mase"]
        report[f"beats_{name}"] = bool(report["mase"] < metrics["mase"])
    report["baselines"] = compared
    report["verdict"] = "; ".join(
        f"{'beats' if report[f'beats_{name}'] else 'does NOT beat'} {name.replace('_', ' ')} "
        f"(MASE {report['mase']:.3f} vs {compared[name]['mase']:.3f})" for name in compared)
    report["season_length"] = int(season)
    report["mae_by_horizon_step"] = [float(v) for v in np.mean(np.abs(point - truth), axis=(0, 2))]
    if quantiles:
        low, high = outputs[..., 0], outputs[..., -1]
        report["quantiles"] = list(quantiles)
        report["interval_coverage"] = float(np.mean((truth >= low) & (truth <= high)))
        report["interval_width"] = float(np.mean(high - low))
        report["nominal_coverage"] = float(quantiles[-1] - quantiles[0])
        levels = np.asarray(quantiles)
        error = truth[..., None] - outputs
        report["pinball"] = float(np.mean(np.maximum(levels * error, (levels - 1) * error)))
        report["quantile_crossings"] = float(np.mean(np.diff(outputs, axis=-1) < 0))
    report["backtest"] = backtest(inputs, truth, point, scale, season, num_targets, origins)
    report["backtest_mase"] = float(np.mean([o["mase"] for o in report["backtest"]])) \
        if report["backtest"] else float("nan")
    return report


def add_calibration(report: dict[str, Any], truth, raw_outputs, calibrated_outputs) -> None:
    """Records the outer interval before and after conformal calibration in ``report``
    (``interval_coverage`` and ``interval_width`` become the calibrated ones; the raw ones stay as
    ``interval_coverage_raw`` / ``interval_width_raw``) and re-scores pinball and crossings on
    the calibrated quantiles. See :mod:`kerazoo.recipes.series_intervals`."""
    from kerazoo.recipes.series_intervals import interval_coverage

    raw, calibrated = interval_coverage(truth, raw_outputs), interval_coverage(
        truth, calibrated_outputs)
    report["interval_coverage_raw"], report["interval_width_raw"] = raw["coverage"], raw["width"]
    report["interval_coverage"], report["interval_width"] = (calibrated["coverage"],
                                                             calibrated["width"])
    report["interval_coverage_by_step"] = calibrated["coverage_by_step"]
    report["interval_calibration"] = "split conformal (CQR) on the validation windows"
    levels = np.asarray(report.get("quantiles", []))
    if len(levels) == calibrated_outputs.shape[-1]:
        error = truth[..., None] - calibrated_outputs
        report["pinball"] = float(np.mean(np.maximum(levels * error, (levels - 1) * error)))
        report["quantile_crossings"] = float(np.mean(np.diff(calibrated_outputs, axis=-1) < 0))


def add_refit_backtest(report: dict[str, Any], result: dict[str, Any], model: str = "model"
                       ) -> None:
    """Adds a :func:`kerazoo.recipes.series_baselines.backtest_refit` result (whose forecasters
    include ``model``) as ``backtest_refit``, ``mase_<name>_refit`` per forecaster, and its
    verdict after the report's: ``...; refit: beats ets (MASE ... over 3 refit origin(s))``."""
    report["backtest_refit"] = result
    for name, value in result["mase"].items():
        report[f"mase_{name}_refit"] = value
    if result.get("verdict"):
        report["verdict"] = f"{report.get('verdict', '')}; refit: {result['verdict']}".lstrip("; ")


def backtest(inputs, truth, point, scale, season, num_targets, origins: int) -> list[dict]:
    """Metrics at ``origins`` forecast origins spread evenly over the split, in time order (the
    trained model forecasts from each origin; it is not refitted)."""
    if not len(truth):
        return []
    chosen = np.unique(np.linspace(0, len(truth) - 1, min(origins, len(truth))).round()
                       .astype(int))
    naive = baselines(inputs, truth.shape[1], season, num_targets)["seasonal_naive"]
    rows = []
    for index in chosen:
        sl = slice(index, index + 1)
        model = point_metrics(truth[sl], point[sl], scale[sl])
        rows.append({"window": int(index), "mae": model["mae"], "mase": model["mase"],
                     "mase_seasonal_naive": point_metrics(truth[sl], naive[sl], scale[sl])["mase"]})
    return rows


def example_windows(num_windows: int, count: int = 3) -> np.ndarray:
    """Indices of ``count`` test windows spread over the split (first, middle, last)."""
    return np.unique(np.linspace(0, num_windows - 1, min(count, num_windows)).round().astype(int))


def forecast_examples(inputs, truth, outputs, *, quantiles=(), count: int = 3) -> dict:
    """``{"examples": [{"history", "truth", "forecast"}]}`` of the first target for ``count``
    test windows, in data units: what the docs draw for a preset (the plot's data, as JSON)."""
    examples = []
    for index in example_windows(len(truth), count) if len(truth) else []:
        point = outputs[index, ..., len(quantiles) // 2] if quantiles else outputs[index]
        examples.append({"history": [float(v) for v in inputs[index, :, 0]],
                         "truth": [float(v) for v in truth[index, :, 0]],
                         "forecast": [float(v) for v in point[:, 0]]})
    return {"examples": examples}


def plot_forecasts(path: Path, inputs, truth, outputs, *, target_names, quantiles=(),
                   count: int = 3) -> Path | None:
    """``forecast_plot.svg``: history, truth, forecast and (with quantiles) the interval of
    ``count`` test windows, for the first target (:mod:`kerazoo.recipes.charts`)."""
    from kerazoo.recipes import charts
    from kerazoo.recipes.run_dir import atomic_write_bytes

    if not len(truth):
        return None
    examples = []
    for index in example_windows(len(truth), count):
        point = outputs[index, ..., len(quantiles) // 2] if quantiles else outputs[index]
        example = {"history": inputs[index, :, 0].tolist(), "truth": truth[index, :, 0].tolist(),
                   "forecast": point[:, 0].tolist(),
                   "title": f"test window {index}: {target_names[0]}"}
        if quantiles:
            example.update(lower=outputs[index, :, 0, 0].tolist(),
                           upper=outputs[index, :, 0, -1].tolist(),
                           interval=f"{quantiles[0]:g}-{quantiles[-1]:g} interval")
        examples.append(example)
    svg = charts.document(charts.forecast_charts(examples, limit=count), columns=1)
    atomic_write_bytes(path, svg.encode("utf-8"))
    return path
