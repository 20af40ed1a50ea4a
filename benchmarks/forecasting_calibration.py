"""Interval coverage before/after conformal calibration, and the zoo model against ETS, on CO2.

Plain Keras on the forecasting data layer (no task wiring): the embedded weekly CO2 series is
split 70/10/20 in time (as the recipe does), the zoo ``nlinear`` model learns the 0.1/0.5/0.9
quantiles on training windows (lookback 104, horizon 26, normalized by training statistics),
the 80% interval's coverage and width are measured on every test window before and after
split-conformal calibration (CQR offsets from the validation windows,
:mod:`kerazoo.recipes.series_intervals`), and a backtest refits the model, Holt-Winters/ETS,
seasonal naive and last value at a few test origins (:mod:`kerazoo.recipes.series_baselines`).
Prints one table with the ratios against the peers measured in the same run.

Run: ``python benchmarks/forecasting_calibration.py [--epochs 20] [--origins 3]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

LOOKBACK, HORIZON, LEVELS = 104, 26, (0.1, 0.5, 0.9)


def build_model():
    import keras

    from kerazoo import zoo

    inputs = keras.Input((LOOKBACK, 1), name="window")
    y = zoo.build("nlinear", input_shape=(LOOKBACK, 1), horizon=HORIZON)(inputs)
    # The task's start: every level begins as a copy of the point forecast.
    y = keras.layers.Dense(len(LEVELS), kernel_initializer="ones", bias_initializer="zeros")(y)
    return keras.Model(inputs, keras.layers.Reshape((HORIZON, 1, len(LEVELS)))(y))


def train(values: np.ndarray, end: int, epochs: int, seed: int = 0):
    """A fresh model fitted on the windows of ``values[:end]``; returns ``predict(windows)``."""
    import keras

    from kerazoo.losses import QuantileLoss
    from kerazoo.recipes.series_windows import window_dataset

    keras.utils.set_random_seed(seed)
    mean, std = values[:end].mean(), values[:end].std()
    scaled = ((values - mean) / std).astype("float32")
    starts = np.arange(0, end - LOOKBACK - HORIZON + 1)
    data = (window_dataset(scaled, starts, lookback=LOOKBACK, horizon=HORIZON, targets=1)
            .shuffle(len(starts), seed=seed).batch(32))
    model = build_model()
    model.compile(keras.optimizers.Adam(3e-3), QuantileLoss(LEVELS))
    model.fit(data, epochs=epochs, verbose=0)

    def predict(windows):
        out = model.predict(((windows - mean) / std).astype("float32"), verbose=0, batch_size=512)
        return out * std + mean

    return predict


def windows(values, first, last):
    starts = np.arange(first, last - LOOKBACK - HORIZON + 1)
    rows = starts[:, None] + np.arange(LOOKBACK + HORIZON)[None]
    return values[rows[:, :LOOKBACK]], values[rows[:, LOOKBACK:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--origins", type=int, default=3)
    args = parser.parse_args()
    # Keras warns about a finite tf.data input on every refit; the data is shuffled by design.
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")

    from kerazoo.recipes import series_baselines, series_intervals
    from kerazoo.recipes.embedded import co2
    from kerazoo.recipes.series_sources import chronological_bounds

    table = co2.load()
    values = table.series["co2"].values.astype(np.float64)  # [T, 1]
    bounds = chronological_bounds(len(values), 0.1, 0.2)
    train_end, (val_start, val_end), (test_start, _) = (bounds["train"][1], bounds["validation"],
                                                        bounds["test"])
    began = time.perf_counter()
    predict = train(values, train_end, args.epochs)
    seconds = time.perf_counter() - began
    x_val, y_val = windows(values, val_start - LOOKBACK, val_end)
    x_test, y_test = windows(values, test_start - LOOKBACK, len(values))
    raw_test = predict(x_test)
    before = series_intervals.interval_coverage(y_test, raw_test)
    offsets = series_intervals.calibrate_quantiles(y_val, predict(x_val), LEVELS)
    after = series_intervals.interval_coverage(
        y_test, series_intervals.apply_offsets(raw_test, offsets))
    print(f"co2 weekly: {len(values)} rows, frequency {table.frequency}, train {train_end}, "
          f"validation (calibration) {len(y_val)} windows, test {len(y_test)} windows; "
          f"nlinear quantiles trained in {seconds:.1f} s ({args.epochs} epochs)")
    print("| 80% interval on the test split | coverage | mean width (ppm) |")
    print("|---|---|---|")
    print(f"| raw quantiles | {before['coverage']:.3f} | {before['width']:.3f} |")
    print(f"| conformal (CQR on validation) | {after['coverage']:.3f} | {after['width']:.3f} |")

    def model_forecaster(histories, horizon, num_targets):
        out = {}
        for key, history in histories.items():
            fitted = train(history, len(history), args.epochs)
            out[key] = fitted(history[None, -LOOKBACK:])[0, :, :, LEVELS.index(0.5)]
        return out

    peers = {"nlinear": model_forecaster, "ets": series_baselines.ets(co2.SEASON_LENGTH),
             "seasonal_naive": series_baselines.seasonal_naive(co2.SEASON_LENGTH),
             "last_value": series_baselines.last_value()}
    result = series_baselines.backtest_refit(
        {"co2": values}, peers, horizon=HORIZON, num_targets=1, test_start=test_start,
        origins=args.origins, season=co2.SEASON_LENGTH)
    print(f"\nbacktest, every forecaster refitted at {len(result['origins'])} test origins")
    print("| forecaster | MASE | MAE (ppm) | fit+predict s | MASE / nlinear |")
    print("|---|---|---|---|---|")
    for name in peers:
        print(f"| {name} | {result['mase'][name]:.3f} | {result['mae'][name]:.3f} | "
              f"{result['seconds'][name]:.1f} | "
              f"{result['mase'][name] / result['mase']['nlinear']:.2f} |")
    print(f"verdict: nlinear {result['verdict']}")


if __name__ == "__main__":
    main()
