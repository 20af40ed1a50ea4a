"""The forecasting recipe end to end: train on CO2, report, export, serve, predict, presets."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only

TINY = ["train.epochs=2", "train.batch_size=32", "train.checkpoint_every=20",
        "data.lookback=60", "data.horizon=12", "data.backtest_origins=4"]
SAVED_MODEL_CLI = Path(sys.executable).parent / "saved_model_cli"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A short run on the embedded CO2 series, trained and exported through the CLI."""
    from kerazoo.cli import main

    run_dir = tmp_path_factory.mktemp("runs") / "co2"
    code = main(["train", "time_series_forecasting", "--run-dir", str(run_dir),
                 *sum((["--set", item] for item in TINY), [])])
    assert code == 0
    return run_dir


@pytest.fixture(scope="module")
def quantile_run(tmp_path_factory):
    from kerazoo.recipes import api

    run_dir = tmp_path_factory.mktemp("runs") / "quantile"
    api.train("time_series_forecasting", run_dir, verbose=False,
              overrides=[*TINY, "train.loss=quantile", "train.epochs=4", "model.name=dlinear"])
    return run_dir


def _windows(count=3):
    from kerazoo.recipes.embedded import co2

    values = co2.load().series["co2"].values.astype("float32")
    return np.stack([values[-60 - 40 * i:len(values) - 40 * i] for i in range(count)])


def test_report_baselines_backtest_and_plots(trained_run):
    report = json.loads((trained_run / "evaluation.json").read_text())
    for key in ("mae", "rmse", "smape", "mase", "mase_seasonal_naive", "mase_last_value",
                "beats_seasonal_naive", "beats_last_value", "verdict", "backtest_mase"):
        assert key in report
    assert report["num_examples"] == int(round(2284 * 0.2)) - 12 + 1
    assert report["baselines"]["seasonal_naive"]["mae"] > 0 and report["filled_rows"] == 59
    assert len(report["backtest"]) == 4 and len(report["mae_by_horizon_step"]) == 12
    assert report["beats_seasonal_naive"] == (report["mase"] < report["mase_seasonal_naive"])
    for name in ("forecast_plot.svg", "training_curves.svg", "model_card.md", "metrics.csv"):
        assert (trained_run / name).stat().st_size > 0
    assert "no classes (regression)" in (trained_run / "model_card.md").read_text()
    assert (trained_run / "metrics.csv").read_text().startswith("epoch,step,loss,mae,val_loss")


def test_preset_export_carries_the_run_artefacts_the_docs_draw(trained_run, tmp_path):
    from kerazoo.cli import main

    examples = json.loads((trained_run / "forecast_examples.json").read_text())["examples"]
    assert len(examples) == 3
    assert all(len(e["history"]) == 60 and len(e["truth"]) == len(e["forecast"]) == 12
               for e in examples)
    assert abs(examples[0]["forecast"][0] - examples[0]["history"][-1]) < 5  # ppm, not z-scores
    assert main(["export", str(trained_run), "--format", "preset", "--name", "co2_test"]) == 0
    folder = trained_run / "export" / "preset-co2_test"
    for name in ("metrics.csv", "evaluation.json", "forecast_examples.json"):
        assert (folder / name).read_bytes() == (trained_run / name).read_bytes(), name


def test_saved_model_takes_raw_windows_and_matches_keras(trained_run, tmp_path):
    import keras
    import tensorflow as tf

    version = trained_run / "export" / "1"
    shown = subprocess.run([str(SAVED_MODEL_CLI), "show", "--dir", str(version), "--all"],
                           capture_output=True, text=True, timeout=120, check=True).stdout
    for text in ("signature_def['serving_default']", "inputs['window']", "dtype: DT_FLOAT",
                 "shape: (-1, 60, 1)", "outputs['forecast']", "shape: (-1, 12, 1)"):
        assert text in shown
    windows = _windows()
    np.save(tmp_path / "windows.npy", windows)
    subprocess.run(
        [str(SAVED_MODEL_CLI), "run", "--dir", str(version), "--tag_set", "serve",
         "--signature_def", "serving_default", "--inputs", f"window={tmp_path / 'windows.npy'}",
         "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=True,
    )
    served = np.load(tmp_path / "out" / "forecast.npy")
    model = keras.saving.load_model(trained_run / "model.keras", compile=False)
    np.testing.assert_allclose(served, keras.ops.convert_to_numpy(model(windows)), atol=1e-4)
    # original units: the forecast continues the ~370 ppm level of the last window
    assert abs(float(served[0].mean()) - float(windows[0, -12:].mean())) < 5
    manifest = json.loads((version / "export.json").read_text())
    assert manifest["signatures"]["serving_default"]["outputs"] == ["forecast"]
    loaded = tf.saved_model.load(str(version))
    out = loaded.signatures["serving_default"](window=tf.constant(windows))
    np.testing.assert_allclose(out["forecast"].numpy(), served, atol=1e-6)


def test_predict_csv_and_evaluate_verbs(trained_run, tmp_path, capsys):
    from kerazoo.cli import main
    from kerazoo.recipes.embedded import co2

    lines = co2.text().splitlines()
    recent = tmp_path / "recent.csv"
    recent.write_text("\n".join([lines[0], *lines[-80:]]) + "\n")
    assert main(["predict", str(trained_run), "--csv", str(recent)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 12 and out[0].startswith("2002-01-05T00:00:00\tco2=")
    assert 360 < float(out[0].split("co2=")[1]) < 385
    short = tmp_path / "short.csv"
    short.write_text("\n".join([lines[0], *lines[-30:]]) + "\n")
    assert main(["predict", str(trained_run), "--csv", str(short)]) != 0
    assert "short.csv: 30 rows, the model needs the last 60." in capsys.readouterr().err
    assert main(["evaluate", str(trained_run)]) == 0
    assert "test mase:" in capsys.readouterr().out


def test_rest_round_trip_with_a_raw_window(trained_run):
    import keras
    import requests

    from kerazoo.serving.server import ModelServer, ServerConfig

    server = ModelServer(ServerConfig(export_dir=trained_run / "export", rest_port=0,
                                      grpc_port=-1, poll_interval_s=0, shutdown_timeout_s=2))
    server.start()
    window = _windows(1)
    try:
        response = requests.post(
            f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict",
            json={"instances": window.tolist()}, timeout=30)
    finally:
        server.stop()
    assert response.status_code == 200, response.text
    served = np.asarray(response.json()["predictions"][0]["forecast"]
                        if isinstance(response.json()["predictions"][0], dict)
                        else response.json()["predictions"][0])
    model = keras.saving.load_model(trained_run / "model.keras", compile=False)
    np.testing.assert_allclose(served, keras.ops.convert_to_numpy(model(window))[0], atol=1e-3)


def test_quantile_mode_reports_coverage_and_serves_quantiles(quantile_run):
    import tensorflow as tf

    report = json.loads((quantile_run / "evaluation.json").read_text())
    assert report["quantiles"] == [0.1, 0.5, 0.9] and report["nominal_coverage"] == 0.8
    assert 0.0 <= report["interval_coverage"] <= 1.0 and report["pinball"] > 0
    loaded = tf.saved_model.load(str(quantile_run / "export" / "1"))
    out = loaded.signatures["serving_default"](window=tf.constant(_windows(2)))
    assert out["quantiles"].shape == (2, 12, 1, 3) and out["forecast"].shape == (2, 12, 1)
    np.testing.assert_allclose(out["forecast"].numpy(), out["quantiles"].numpy()[..., 1])
    # The SavedModel serves the calibrated quantiles: model.keras plus the conformal offsets of
    # the validation windows (recomputed here from the run, as `kerazoo export` does).
    from kerazoo.recipes import api
    from kerazoo.recipes.series_intervals import apply_offsets

    assert report["interval_calibration"].startswith("split conformal")
    assert "interval_coverage_raw" in report and "interval_width_raw" in report
    task, model = api.load_run(quantile_run)
    offsets = task.interval_offsets(model)
    assert offsets.shape == (12, 1, 3) and np.abs(offsets).max() > 0
    expected = apply_offsets(task.predict(model, _windows(2)), offsets)
    np.testing.assert_allclose(out["quantiles"].numpy(), expected, atol=1e-4)


@pytest.mark.parametrize("name", ["lstm_forecaster", "tcn", "mlp", "nbeats"])
def test_other_zoo_models_build_with_the_window_contract(name):
    from kerazoo.recipes.api import get_task, resolve_config

    task = get_task("time_series_forecasting")(resolve_config(
        "time_series_forecasting", None, ["data.lookback=60", "data.horizon=12",
                                          f"model.name={name}", "train.loss=quantile"]))
    data = task.prepare_data()
    model = task.build_model(data)
    assert tuple(model.output.shape) == (None, 12, 1, 3)
    assert np.isfinite(np.asarray(model(_windows(2)))).all()


def test_revin_normalization(tmp_path):
    from kerazoo.recipes import api

    report = api.train("time_series_forecasting", tmp_path / "run", export=False, verbose=False,
                       overrides=[*TINY, "data.normalization=revin", "train.epochs=1"])
    assert np.isfinite(report["mase"])


def test_mirrored_two_replicas(tmp_path):
    from kerazoo.distribute import mirrored_strategy
    from kerazoo.recipes import api

    report = api.train("time_series_forecasting", tmp_path / "run",
                       overrides=[*TINY, "train.epochs=1", "train.batch_size=16"],
                       strategy=mirrored_strategy(["/cpu:0", "/cpu:1"]), export=False,
                       verbose=False)
    assert np.isfinite(report["mase"])
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    steps = int(rows[1].split(",")[1])
    assert steps == (int(round(2284 * 0.7)) - 72 + 1) // 32


def test_shipped_preset_matches_its_card():
    from kerazoo import zoo
    from kerazoo.recipes.api import get_task, resolve_config
    from kerazoo.recipes.series_evaluation import forecast_report

    preset = Path(zoo.__file__).parent / "presets" / "forecast_co2_nlinear"
    metadata = json.loads((preset / "metadata.json").read_text())
    model = zoo.from_preset("forecast_co2_nlinear")
    lookback, horizon = int(model.input_shape[1]), int(model.output_shape[1])
    task = get_task("time_series_forecasting")(resolve_config(
        "time_series_forecasting", None,
        [f"data.lookback={lookback}", f"data.horizon={horizon}"]))
    data = task.prepare_data()
    inputs, truth = task.windows(data, "test")
    report = forecast_report(inputs, truth, task.predict(model, inputs),
                             owners=data.owners["test"], mase_scale=data.mase_scale,
                             season=52, num_targets=1)
    assert report["mase"] == pytest.approx(metadata["metrics"]["mase"], abs=1e-3)
    assert report["mase"] < report["mase_seasonal_naive"]
    assert "seasonal naive" in (preset / "README.md").read_text()


@pytest.mark.slow
@pytest.mark.multiprocess
def test_sigkill_then_rerun_resumes_to_the_same_weights(assert_resumes_after_sigkill):
    assert_resumes_after_sigkill("time_series_forecasting", [
        "train.epochs=2", "train.steps_per_epoch=5", "train.batch_size=16",
        "train.checkpoint_every=3", "data.lookback=60", "data.horizon=12",
        "model.name=lstm_forecaster"
    ])


def test_backtest_estimates_ets_once_unless_backtest_refit(monkeypatch):
    """By default ETS is estimated once (like the model, trained once) and the card says so;
    with data.backtest_refit it is re-estimated at every origin."""
    from kerazoo.recipes import api, series_baselines
    from kerazoo.recipes.time_series_forecasting import TimeSeriesForecasting

    config = api.resolve_config("time_series_forecasting", None, [*TINY, "data.source=synthetic"])
    task = TimeSeriesForecasting(config)
    data = task.prepare_data()
    # Nothing reads the unbatched window datasets in a run; they are built when read.
    assert list(data.splits) == ["train", "validation", "test"] and not data.splits._built
    asked = []
    real = series_baselines.ets
    monkeypatch.setattr(series_baselines, "ets",
                        lambda season, **options: asked.append(options) or real(season,
                                                                                **options))
    result, note = task._refit_backtest(task.build_model(data), data)
    assert asked == [{"refit": False}] and note is None
    assert set(result["mase"]) == {"model", "ets", "seasonal_naive", "last_value"}
    assert "ETS\nestimated once at the first origin" in task.card_sections(data)["details"]
    refit = TimeSeriesForecasting(api.resolve_config(
        "time_series_forecasting", None, [*TINY, "data.source=synthetic",
                                          "data.backtest_refit=true"]))
    assert "ETS re-estimated there" in refit.card_sections(data)["details"]

