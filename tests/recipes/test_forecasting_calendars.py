"""The forecasting recipe on real calendars: monthly (month start and end), quarterly, yearly,
business-day and hourly-with-DST CSVs train, evaluate, export and predict future timestamps on
their calendar; gaps named by month; mixed frequencies refused; calibrated interval coverage
(slow); ETS and the refit backtest beside the model.

Config keys exercised: ``data.frequency`` (``None``: inferred), ``data.fill_policy``,
``data.calibrate_intervals`` (default true), ``data.backtest_refit``; ``evaluation.json`` holds
``frequency``, ``interval_coverage_raw``, ``interval_width``, ``mase_ets_refit`` and a verdict
that names ETS. ``data.calendar_features`` is not available yet (only false is accepted).
"""

import json

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.tf_only

TINY = ["train.epochs=2", "train.batch_size=16", "data.backtest_origins=2"]

CASES = {
    # name: (pandas frequency, first timestamp, rows, lookback, horizon, expected alias)
    "month_start": ("MS", "1950-01-01", 144, 24, 6, "MS"),
    "month_end": ("ME", "1950-01-31", 144, 24, 6, "ME"),
    "quarterly": ("QS", "1960-01-01", 120, 12, 4, "QS-JAN"),
    "yearly": ("YS", "1900-01-01", 100, 8, 3, "YS-JAN"),
    "business_day": ("B", "2023-01-02", 400, 20, 5, "B"),
    "hourly_dst": ("h", "2024-03-20", 24 * 30, 48, 12, "h"),
}

# Cases trained with data.calendar_features=true (a second input, timestamps): month of year on
# month ends, hour of day and day of week across the DST changes.
CALENDAR_FEATURES = ("month_end", "hourly_dst")


def _write_csv(path, freq, start, rows):
    stamps = pd.date_range(start, periods=rows, freq=freq,
                           tz="Europe/Berlin" if freq == "h" else None)
    t = np.arange(rows)
    values = 10 + 0.01 * t + np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(
        0, 0.1, rows)
    text = "date,value\n" + "".join(
        f"{s.isoformat() if freq == 'h' else s.date()},{v:.4f}\n" for s, v in zip(stamps, values))
    path.write_text(text)
    return stamps


def _train(run_dir, csv, *overrides):
    from kerazoo.cli import main

    sets = [f"data.source=csv:{csv}", "data.timestamp_column=date", "data.targets=[value]",
            *TINY, *overrides]
    return main(["train", "time_series_forecasting", "--run-dir", str(run_dir),
                 *sum((["--set", s] for s in sets), [])])


@pytest.mark.parametrize("case", list(CASES))
def test_calendar_csv_trains_evaluates_exports_and_predicts_future_timestamps(
        case, tmp_path, capsys):
    import keras

    from kerazoo.cli import main
    from kerazoo.recipes.series_calendar import future_timestamps

    freq, start, rows, lookback, horizon, alias = CASES[case]
    csv = tmp_path / f"{case}.csv"
    stamps = _write_csv(csv, freq, start, rows)
    run = tmp_path / "run"
    calendar = case in CALENDAR_FEATURES
    assert _train(run, csv, f"data.lookback={lookback}", f"data.horizon={horizon}",
                  f"data.calendar_features={str(calendar).lower()}") == 0
    report = json.loads((run / "evaluation.json").read_text())
    assert report["frequency"] == alias and np.isfinite(report["mase"])
    assert "ets" in report["verdict"]
    assert main(["evaluate", str(run)]) == 0
    assert main(["export", str(run), "--format", "saved_model"]) == 0
    capsys.readouterr()
    assert main(["predict", str(run), "--csv", str(csv)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    last = stamps[-1].tz_convert("UTC").tz_localize(None) if stamps.tz else stamps[-1]
    expected = future_timestamps(np.datetime64(last.to_datetime64(), "s"), alias, horizon)
    assert [line.split("\t")[0] for line in lines] == [str(t) for t in expected]
    # The model takes the window, and its timestamps with calendar features; no other input.
    model = keras.saving.load_model(run / "model.keras")
    assert [i.name for i in model.inputs] == ["window", "timestamps"][: 1 + calendar]


def test_missing_month_is_filled_or_refused_naming_it(tmp_path, capsys):
    csv = tmp_path / "monthly.csv"
    _write_csv(csv, "MS", "1950-01-01", 144)
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(line for line in lines if not line.startswith("1955-06")) + "\n")
    assert _train(tmp_path / "refused", csv, "data.fill_policy=error", "data.lookback=24",
                  "data.horizon=6") != 0
    assert "1955-06 missing" in capsys.readouterr().err
    assert _train(tmp_path / "filled", csv, "data.fill_policy=interpolate", "data.lookback=24",
                  "data.horizon=6") == 0
    report = json.loads((tmp_path / "filled" / "evaluation.json").read_text())
    assert report["filled_rows"] == 1


def test_mixed_frequencies_are_refused_naming_two_rows(tmp_path, capsys):
    csv = tmp_path / "mixed.csv"
    days = pd.date_range("2020-01-01", periods=60, freq="D")
    months = pd.date_range("2020-04-01", periods=24, freq="MS")
    csv.write_text("date,value\n" + "".join(f"{s.date()},{i % 7}\n"
                                            for i, s in enumerate([*days, *months])))
    assert _train(tmp_path / "run", csv) != 0
    err = capsys.readouterr().err
    assert "mixes two frequencies: rows 2 and 3" in err and "rows 61 and 62" in err


@pytest.mark.slow
def test_calibrated_coverage_on_co2_and_generated(tmp_path):
    from kerazoo.recipes import api

    for source in ("co2", "synthetic"):
        run = tmp_path / source
        api.train("time_series_forecasting", run, verbose=False,
                  overrides=[f"data.source={source}", "train.loss=quantile", "train.epochs=10"])
        report = json.loads((run / "evaluation.json").read_text())
        assert abs(report["interval_coverage"] - 0.8) <= 0.05, report
        assert report["interval_width"] > 0 and "interval_coverage_raw" in report


def test_ets_beside_the_model_and_refit_backtest(tmp_path):
    from kerazoo.recipes import api

    run = tmp_path / "co2"
    api.train("time_series_forecasting", run, verbose=False,
              overrides=["train.epochs=1", "data.lookback=60", "data.horizon=12",
                         "data.backtest_refit=true", "data.backtest_origins=2"])
    report = json.loads((run / "evaluation.json").read_text())
    refit = report["backtest_refit"]
    assert set(refit["mase"]) >= {"model", "ets", "seasonal_naive", "last_value"}
    assert len(refit["origins"]) == 2 and "refit: " in report["verdict"]


def test_calendar_features_second_input_served_over_rest_and_grpc(tmp_path):
    """``data.calendar_features=true``: the model and the SavedModel take ``window`` and
    ``timestamps`` (float64 epoch seconds); REST, gRPC and ``kerazoo predict`` answer with the
    calibrated quantiles."""
    import grpc
    import keras
    import requests
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from kerazoo.recipes import api
    from kerazoo.recipes.series_intervals import apply_offsets
    from kerazoo.serving.server import ModelServer, ServerConfig

    csv = tmp_path / "monthly.csv"
    stamps = _write_csv(csv, "MS", "1950-01-01", 144)
    run = tmp_path / "run"
    assert _train(run, csv, "data.lookback=24", "data.horizon=6", "data.calendar_features=true",
                  "train.loss=quantile") == 0
    report = json.loads((run / "evaluation.json").read_text())
    assert "interval_coverage_raw" in report and report["frequency"] == "MS"
    model = keras.saving.load_model(run / "model.keras")
    assert [i.name for i in model.inputs] == ["window", "timestamps"]
    assert model.get_layer("calendar_features").periods == ("month_of_year",)
    manifest = json.loads(next((run / "export").glob("*/export.json")).read_text())
    inputs = manifest["signatures"]["serving_default"]["inputs"]
    assert inputs["timestamps"] == {"dtype": "float64", "shape": [None, 24]}

    values = np.array([float(line.split(",")[1]) for line in
                       csv.read_text().splitlines()[1:]], "float32")
    window = values[-24:].reshape(1, 24, 1)
    seconds = stamps[-24:].to_numpy().astype("datetime64[s]").astype("int64")
    seconds = seconds.astype("float64").reshape(1, 24)
    task, loaded = api.load_run(run)
    expected = apply_offsets(task.predict(loaded, (window, seconds)),
                             task.interval_offsets(loaded))
    server = ModelServer(ServerConfig(export_dir=run / "export", rest_port=0, grpc_port=0,
                                      poll_interval_s=0, shutdown_timeout_s=2))
    server.start()
    try:
        response = requests.post(
            f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict",
            json={"inputs": {"window": window.tolist(), "timestamps": seconds.tolist()}},
            timeout=30)
        assert response.status_code == 200, response.text
        served = np.asarray(response.json()["outputs"]["quantiles"])
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "default"
        request.inputs["window"].CopyFrom(tf.make_tensor_proto(window))
        request.inputs["timestamps"].CopyFrom(tf.make_tensor_proto(seconds))
        channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        reply = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request, timeout=30)
        channel.close()
    finally:
        server.stop()
    np.testing.assert_allclose(served, expected, atol=1e-4)
    np.testing.assert_allclose(tf.make_ndarray(reply.outputs["quantiles"]), expected, atol=1e-4)
    # What `kerazoo predict --csv` prints (the CLI formats these records).
    records = task.predict_inputs(loaded, [], csv=str(csv))
    assert [r["timestamp"] for r in records[:2]] == ["1962-01-01T00:00:00", "1962-02-01T00:00:00"]
    np.testing.assert_allclose(records[0]["interval"]["value"], expected[0, 0, 0, [0, -1]],
                               atol=1e-4)


def test_report_says_how_to_add_ets_without_statsmodels(monkeypatch):
    from kerazoo.recipes import series_baselines
    from kerazoo.recipes.config import set_key
    from kerazoo.recipes.time_series_forecasting import TimeSeriesForecasting

    monkeypatch.setattr(series_baselines, "ets_available", lambda: False)
    config = TimeSeriesForecasting.default_config()
    for key, value in {"data.source": "synthetic", "data.lookback": 24, "data.horizon": 6,
                       "data.backtest_origins": 2}.items():
        set_key(config, key, value)
    task = TimeSeriesForecasting(config)
    data = task.prepare_data()
    report = task.evaluate(task.build_model(data), data)  # an untrained model is enough here
    assert report["ets"] == 'ETS skipped: pip install "kerazoo[forecasting]"'
    assert report["verdict"].endswith(report["ets"]) and "mase_ets_refit" not in report
    assert set(report["backtest_refit"]["mase"]) == {"model", "seasonal_naive", "last_value"}


def test_unknown_frequency_is_refused_before_reading():
    from kerazoo.errors import ConfigError
    from kerazoo.recipes.api import resolve_config

    with pytest.raises(ConfigError, match="'data.frequency': 'monthly' is not a pandas frequency"):
        resolve_config("time_series_forecasting", None, ["data.frequency=monthly"])
