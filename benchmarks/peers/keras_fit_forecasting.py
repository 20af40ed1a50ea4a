"""The plain Keras script a user writes for the forecasting recipe's data and zoo model.

The embedded weekly CO2 series cut into the recipe's windows (lookback 104, horizon 26; the
recipe's chronological 70/10/20 split, read through its data preparation so both sides score
the same test windows), standardized with the training part's mean and std, the recipe's default
zoo model (``nlinear``), Adam 3e-3, batch 32, 30 epochs, MAE loss (the recipe's defaults until
issue 19; a user's first script, kept as the peer), ``model.fit`` with the validation windows, then MASE on the test windows (the recipe's
seasonal-naive scale, ``series_evaluation.point_metrics``). Prints one JSON line
``{"test_mase": ...}`` (lower is better).

Usage: python benchmarks/peers/keras_fit_forecasting.py [--model nlinear] [--epochs 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="nlinear")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import keras

    from kerazoo import zoo
    from kerazoo.recipes.series_evaluation import point_metrics
    from kerazoo.recipes.time_series_forecasting import TimeSeriesForecasting

    keras.utils.set_random_seed(args.seed)
    task = TimeSeriesForecasting(TimeSeriesForecasting.default_config())
    data = task.prepare_data()
    (x, y), (vx, vy), (tx, ty) = (task.windows(data, s) for s in ("train", "validation", "test"))
    lookback, features = x.shape[1:]
    horizon = y.shape[1]
    mean, std = data.stats["mean"], np.maximum(data.stats["std"], 1e-6)
    inputs = keras.Input((lookback, features))
    normalized = keras.layers.Normalization(mean=mean.tolist(), variance=(std**2).tolist())(
        inputs)
    inner = zoo.build(args.model, input_shape=(lookback, features), horizon=horizon)
    outputs = keras.layers.Normalization(mean=mean[:1].tolist(), variance=(std[:1] ** 2).tolist(),
                                         invert=True)(inner(normalized)[..., :1])
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mae")
    model.fit(x, y, batch_size=32, epochs=args.epochs, validation_data=(vx, vy), verbose=0)
    forecast = model.predict(tx, batch_size=256, verbose=0)
    scale = data.mase_scale[data.owners["test"]]
    metrics = point_metrics(ty, forecast, scale)
    print(json.dumps({"test_mase": metrics["mase"], "test_mae": metrics["mae"],
                      "test_examples": int(len(ty))}))


if __name__ == "__main__":
    main()
