"""Baselines a forecaster checks first, and a backtest that refits every model at each origin.

* *last value* and *seasonal naive*: :func:`kerazoo.recipes.series_evaluation.baselines`
  (from each window), wrapped here as refit forecasters (from the whole history);
* *Holt-Winters / ETS*: statsmodels' ``ExponentialSmoothing`` (additive damped trend, additive
  season when the history holds two full seasons), re-estimated on the history before each
  origin, or (``ets(..., refit=False)``) estimated at the first origin and run with those
  parameters over the longer histories of the later ones, as a trained model forecasts from
  them;
* :func:`backtest_refit`: rolling origins over the test part; at each origin every forecaster
  gets the history up to it (all series), fits, and forecasts the next ``horizon`` steps; MASE
  and MAE per origin and their means, and a verdict line like the report's.

A forecaster is any callable ``fit_predict(histories, horizon, num_targets) -> forecasts``: ``histories`` maps each
series id to its rows before the origin (``[t, features]``, targets first) and the result maps
each id to ``[horizon, targets]``. The forecasting task passes one that trains its neural model
on the histories (a global model over all series), so "refit" means the same for every entry;
by default it passes the trained model and an ETS estimated once instead (neither is refitted).
A forecaster may keep state between the origins (they come in time order).

Example:

>>> import numpy as np
>>> from kerazoo.recipes.series_baselines import backtest_refit, seasonal_naive, last_value
>>> t, noise = np.arange(120.0), np.random.default_rng(0).normal(0, 0.1, 120)
>>> series = {"a": (10 + np.sin(2 * np.pi * t / 12) + noise)[:, None]}
>>> result = backtest_refit(series, {"seasonal_naive": seasonal_naive(12),
...                                  "last_value": last_value()},
...                         horizon=6, num_targets=1, test_start=96, origins=3, season=12)
>>> [row["origin"] for row in result["origins"]]
[96, 105, 114]
>>> result["verdict"]
'beats last value (MASE 1.035 vs 8.185 over 3 refit origin(s))'
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

Forecaster = Callable[[Mapping[str, np.ndarray], int, int], Mapping[str, np.ndarray]]


def last_value() -> Forecaster:
    """Repeats each series' last observed target values over the horizon."""

    def fit_predict(histories, horizon: int, num_targets: int):
        return {key: np.repeat(h[-1:, :num_targets], horizon, axis=0)
                for key, h in histories.items()}

    return fit_predict


def seasonal_naive(season: int) -> Forecaster:
    """Repeats each series' last season: ``y[t + h] = y[t + h - m * ceil((h + 1) / m)]``."""

    def fit_predict(histories, horizon: int, num_targets: int):
        steps = np.arange(horizon)
        back = season * (steps // season + 1)
        return {key: h[len(h) - back + steps, :num_targets] for key, h in histories.items()}

    return fit_predict


def ets(season: int, *, damped: bool = True, max_history: int | None = None,
        refit: bool = True) -> Forecaster:
    """Holt-Winters exponential smoothing (statsmodels), per series and target.

    Additive damped trend; additive season of length ``season`` when the history holds at
    least two full seasons (else none). Parameters (smoothing weights, damping and the initial
    states) are estimated by maximum likelihood (statsmodels' defaults); a fit that fails falls
    back to the last value.

    Args:
        season: the season length (``1`` for none).
        damped: damp the trend (the usual safer default for multi-step forecasts).
        max_history: fit on at most this many most recent rows. Defaults to ``None``: eight
            seasons, at least 200 rows (older rows barely move an exponential smoother, and the
            fit time grows with the rows and the season: about 1.2 s for 416 weekly rows with
            season 52 here, most of it the numerical gradient over 56 parameters).
        refit: re-estimate the parameters at every call. With ``False`` the parameters are
            estimated at the first call (per series and target) and later calls whose history
            extends that one only run the smoother with them over the rows since the first
            fit's window start, then forecast: as a trained model forecasts from later origins
            without retraining (a millisecond instead of a fit). Defaults to ``True``.
    """
    keep = max_history or max(8 * season, 200)
    fitted: dict = {}  # (series, target) -> (window start, fitted rows, params, seasonal)

    def fit_predict(histories, horizon: int, num_targets: int):
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        forecasts = {}
        for key, history in histories.items():
            columns = []
            for target in range(num_targets):
                full = np.asarray(history[:, target], np.float64)
                known = None if refit else fitted.get((key, target))
                if known is not None and not _extends(full, known):
                    known = None
                start = known[0] if known is not None else max(0, len(full) - keep)
                y = full[start:]
                seasonal = "add" if season > 1 and len(y) >= 2 * season else None
                if known is not None and known[3] != seasonal:
                    known, start = None, max(0, len(full) - keep)
                    y = full[start:]
                    seasonal = "add" if season > 1 and len(y) >= 2 * season else None
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # convergence chatter on short series
                        options = {"trend": "add", "damped_trend": damped, "seasonal": seasonal,
                                   "seasonal_periods": season if seasonal else None}
                        if known is None:
                            result = ExponentialSmoothing(
                                y, initialization_method="estimated", **options).fit()
                        else:
                            result = _run_smoother(ExponentialSmoothing, y, known[2], options)
                        forecast = np.asarray(result.forecast(horizon), np.float64)
                    if not np.isfinite(forecast).all():
                        raise ValueError("non-finite forecast")
                    if known is None and not refit:
                        fitted[(key, target)] = (start, y.copy(), dict(result.params),
                                                 seasonal)
                except (ValueError, np.linalg.LinAlgError):
                    forecast = np.repeat(y[-1], horizon)
                columns.append(forecast)
            forecasts[key] = np.stack(columns, axis=-1)
        return forecasts

    return fit_predict


def _extends(history: np.ndarray, known: tuple) -> bool:
    """Whether ``history`` holds the rows an earlier ETS fit saw (``known``), and more."""
    start, rows = known[0], known[1]
    return (len(history) >= start + len(rows)
            and np.array_equal(history[start : start + len(rows)], rows))


def _run_smoother(model_class, y: np.ndarray, params: dict, options: dict):
    """Holt-Winters over ``y`` with fixed, earlier estimated ``params`` (no optimisation)."""
    model = model_class(
        y, initialization_method="known", initial_level=params["initial_level"],
        initial_trend=params["initial_trend"],
        initial_seasonal=params["initial_seasons"] if options["seasonal"] else None, **options)
    return model.fit(smoothing_level=params["smoothing_level"],
                     smoothing_trend=params["smoothing_trend"],
                     smoothing_seasonal=params["smoothing_seasonal"] if options["seasonal"]
                     else None,
                     damping_trend=params["damping_trend"], optimized=False)


def window_forecaster(predict: Callable[..., np.ndarray], lookback: int,
                      timestamps: Mapping[str, np.ndarray] | None = None) -> Forecaster:
    """A trained window model as a forecaster that is *not* refitted: it forecasts from the
    last ``lookback`` rows of each history.

    Args:
        predict: ``predict(windows [N, lookback, features])`` (or ``predict(windows,
            window_timestamps [N, lookback])`` with ``timestamps``) returning the point forecast
            ``[N, horizon, targets]``.
        lookback: the model's input steps.
        timestamps: ``{id: epoch seconds [T]}`` of every series, for models with calendar
            features.
    """

    def fit_predict(histories, horizon: int, num_targets: int):
        keys = list(histories)
        windows = np.stack([histories[k][-lookback:] for k in keys])
        if timestamps is None:
            out = predict(windows)
        else:
            stamps = np.stack([timestamps[k][len(histories[k]) - lookback : len(histories[k])]
                               for k in keys])
            out = predict(windows, stamps)
        return {k: np.asarray(out[i])[:horizon, :num_targets] for i, k in enumerate(keys)}

    return fit_predict


def ets_available() -> bool:
    """Whether statsmodels (the ``forecasting`` extra) is installed; without it a report lists
    the naive baselines only and says how to add ETS."""
    import importlib.util

    return importlib.util.find_spec("statsmodels") is not None


def origin_positions(test_start: int, length: int, horizon: int, origins: int) -> list[int]:
    """``origins`` forecast origins spread evenly from ``test_start`` to ``length - horizon``."""
    last = length - horizon
    if last < test_start:
        return []
    return sorted({int(v) for v in np.linspace(test_start, last, origins).round()})


def mase_scale(train_targets: np.ndarray, season: int) -> np.ndarray:
    """The MASE denominator ``[targets]``: in-sample seasonal-naive MAE of the training part."""
    season = max(1, min(season, len(train_targets) - 1))
    naive = np.abs(train_targets[season:] - train_targets[:-season]).mean(axis=0)
    return np.where(naive > 0, naive, 1.0)


def backtest_refit(series: Mapping[str, np.ndarray], forecasters: Mapping[str, Callable], *,
                   horizon: int, num_targets: int, test_start: int | Mapping[str, int],
                   origins: int | Sequence[int] = 3, season: int = 1,
                   reference: str | None = None) -> dict:
    """Rolling-origin evaluation with every forecaster refitted at each origin.

    Args:
        series: ``{id: values [T, features]}``, targets first (regular, gap-filled).
        forecasters: ``{name: fit_predict(histories, horizon, num_targets)}``; see the module
            docstring. The ones above: :func:`last_value`, :func:`seasonal_naive`, :func:`ets`.
        horizon: steps forecast at each origin.
        num_targets: the first ``num_targets`` features are forecast.
        test_start: the first test row (one for all series, or per id); origins lie in the test
            part, and the MASE scale comes from the rows before it.
        origins: how many origins (spread evenly), or the origin offsets from ``test_start``
            (the same for every series). Few by default: each one refits every forecaster.
        season: the MASE season.
        reference: the forecaster compared with the others in the verdict (default: the first).

    Returns:
        ``{"origins": [{"origin", "<name>": {"mae", "mase"}}...], "mase": {name: mean},
        "mae": {name: mean}, "seconds": {name: fit+predict time}, "verdict": str}``. Origin
        positions are those of the first series (row numbers within it).
    """
    starts = ({key: int(test_start) for key in series} if isinstance(test_start, int)
              else {key: int(v) for key, v in test_start.items()})
    positions = {}
    for key, values in series.items():
        if isinstance(origins, int):
            positions[key] = origin_positions(starts[key], len(values), horizon, origins)
        else:
            positions[key] = [starts[key] + int(o) for o in origins
                              if starts[key] + int(o) + horizon <= len(values)]
    count = min(len(p) for p in positions.values()) if positions else 0
    scales = {key: mase_scale(values[: starts[key], :num_targets], season)
              for key, values in series.items()}
    rows, seconds = [], dict.fromkeys(forecasters, 0.0)
    first = next(iter(series)) if series else None
    for k in range(count):
        histories = {key: values[: positions[key][k]] for key, values in series.items()}
        row: dict = {"origin": positions[first][k]}
        for name, fit_predict in forecasters.items():
            began = time.perf_counter()
            forecasts = fit_predict(histories, horizon, num_targets)
            seconds[name] += time.perf_counter() - began
            errors, scaled = [], []
            for key, values in series.items():
                at = positions[key][k]
                truth = values[at : at + horizon, :num_targets]
                error = np.abs(np.asarray(forecasts[key], np.float64).reshape(truth.shape)
                               - truth)
                errors.append(error.mean())
                scaled.append((error / scales[key]).mean())
            row[name] = {"mae": float(np.mean(errors)), "mase": float(np.mean(scaled))}
        rows.append(row)
    names = list(forecasters)
    mase = {name: float(np.mean([r[name]["mase"] for r in rows])) if rows else float("nan")
            for name in names}
    mae = {name: float(np.mean([r[name]["mae"] for r in rows])) if rows else float("nan")
           for name in names}
    reference = reference or (names[0] if names else None)
    return {"origins": rows, "mase": mase, "mae": mae, "seconds": seconds,
            "verdict": verdict(reference, mase, suffix=f" over {len(rows)} refit origin(s)")}


def verdict(reference: str | None, mase: Mapping[str, float], suffix: str = "") -> str:
    """``"beats last value (MASE 0.700 vs 0.800); does NOT beat ets (...)"``, as in the
    report's verdict line: ``reference`` against every other entry of ``mase``."""
    if reference is None:
        return ""
    parts = []
    for name, value in mase.items():
        if name == reference:
            continue
        beats = mase[reference] < value
        parts.append(f"{'beats' if beats else 'does NOT beat'} {name.replace('_', ' ')} "
                     f"(MASE {mase[reference]:.3f} vs {value:.3f}{suffix})")
    return "; ".join(parts)
