"""Callbacks: behaviour inside model.fit on every backend, and config round trips."""

from __future__ import annotations

import io
import os
import sys

import keras
import numpy as np
import pytest

import kerazoo.callbacks as kc
from kerazoo.errors import KerazooError
from kerazoo.optimizers import SWA, MovingAverage
from kerazoo.registry import registry


def _model(optimizer=None):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)])
    model.compile(optimizer or keras.optimizers.SGD(0.05), "mse")
    return model


def _data(rows=32):
    rng = np.random.RandomState(0)
    x = rng.normal(size=(rows, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True).astype("float32")


CASES = {
    "TimeStopping": lambda: kc.TimeStopping(seconds=5, verbose=1),
    "TQDMProgressBar": lambda: kc.TQDMProgressBar(metrics_format="{name}={value:.2f}"),
    "AverageModelCheckpoint": lambda: kc.AverageModelCheckpoint(True, "/tmp/x.keras",
                                                                save_best_only=False),
    "ThroughputLogger": lambda: kc.ThroughputLogger(batch_size=8, skip_steps=2),
    "LearningRateFinder": lambda: kc.LearningRateFinder(1e-5, 1.0, num_steps=30),
}


@pytest.mark.parametrize("name", registry("callbacks").list())
def test_config_round_trip(name):
    if name not in CASES:
        pytest.fail(f"{name} is registered but has no case in tests/optimizers/test_callbacks.py")
    callback = CASES[name]()
    clone = type(callback)(**callback.get_config())
    assert clone.get_config() == callback.get_config()


def test_time_stopping():
    x, y = _data()
    stopper = kc.TimeStopping(seconds=0)
    history = _model().fit(x, y, epochs=4, verbose=0, callbacks=[stopper])
    assert len(history.history["loss"]) == 1 and stopper.stopped_epoch == 0
    patient = kc.TimeStopping(seconds=3600)
    history = _model().fit(x, y, epochs=3, verbose=0, callbacks=[patient])
    assert len(history.history["loss"]) == 3 and patient.stopped_epoch is None


def test_tqdm_progress_bar_writes_bars_and_metrics():
    x, y = _data()
    stream = io.StringIO()
    bar = kc.TQDMProgressBar(file=stream, update_per_second=1000)
    _model().fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[bar])
    text = stream.getvalue()
    assert "Epoch 2/2" in text and "loss: " in text and "4/4" in text


def test_tqdm_missing_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(KerazooError, match=r"kerazoo\[progress\]"):
        kc.TQDMProgressBar()


@pytest.mark.parametrize("update_weights", [False, True])
def test_average_model_checkpoint(tmp_path, update_weights):
    x, y = _data()
    optimizer = SWA(keras.optimizers.SGD(0.05), average_period=1)
    model = _model(optimizer)
    path = str(tmp_path / "avg.weights.h5")
    callback = kc.AverageModelCheckpoint(update_weights, path, save_weights_only=True)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[callback])
    averages = [keras.ops.convert_to_numpy(a) for a in optimizer.average_variables]
    trained = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    saved = _model()
    saved.load_weights(path)
    for got, want in zip(saved.trainable_variables, averages):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=1e-6)
    differs = any(not np.allclose(t, a) for t, a in zip(trained, averages))
    assert differs != update_weights


def test_average_model_checkpoint_needs_an_averaging_optimizer(tmp_path):
    from kerazoo.errors import ConfigError

    x, y = _data()
    callback = kc.AverageModelCheckpoint(False, str(tmp_path / "m.keras"))
    with pytest.raises(ConfigError, match="MovingAverage"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[callback])


def test_moving_average_swap_and_batch_norm_recompute():
    from kerazoo.optimizers import recompute_batch_norm_statistics

    x, y = _data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                              keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    optimizer = MovingAverage(keras.optimizers.SGD(0.05), average_decay=0.5)
    model.compile(optimizer, "mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    trained = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    averages = [keras.ops.convert_to_numpy(a) for a in optimizer.average_variables]
    optimizer.swap_weights()
    for got, want in zip(model.trainable_variables, averages):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)
    used = recompute_batch_norm_statistics(model, [(x[:16], y[:16]), (x[16:], y[16:])])
    assert used == 2
    hidden = keras.ops.convert_to_numpy(model.layers[0](x))
    bn = model.layers[1]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), hidden.mean(0),
                               rtol=1e-4, atol=1e-5)
    assert bn.momentum == 0.99  # restored
    optimizer.swap_weights()
    for got, want in zip(model.trainable_variables, trained):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)


def test_throughput_logger(tmp_path):
    x, y = _data()
    log_dir = str(tmp_path / "tb")
    logger = kc.ThroughputLogger(batch_size=8, log_dir=log_dir, log_every_n_steps=2)
    history = _model().fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[logger])
    assert all(v > 0 for v in history.history["examples_per_second"])
    assert all(v > 0 for v in history.history["step_time"])
    np.testing.assert_allclose(history.history["examples_per_second"][-1],
                               8 / history.history["step_time"][-1])
    assert any(name.startswith("events.") for name in os.listdir(log_dir))


def test_throughput_logger_without_tensorflow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    x, y = _data()
    logger = kc.ThroughputLogger(batch_size=8, log_dir=str(tmp_path / "tb"))
    with pytest.warns(UserWarning, match="TensorFlow is not installed"):
        logger._summary_writer()
    assert logger.log_dir is None
    monkeypatch.undo()
    history = _model().fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[logger])
    assert history.history["examples_per_second"][-1] > 0


def test_learning_rate_finder(tmp_path):
    rng = np.random.RandomState(1)
    x = rng.normal(size=(400, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = _model(keras.optimizers.SGD(0.01))
    before = [np.array(w) for w in model.get_weights()]
    plot = tmp_path / "plots" / "lr.png"
    finder = kc.LearningRateFinder(1e-4, 10.0, num_steps=50, plot_path=str(plot))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[finder])
    assert 10 <= len(finder.losses) <= 50
    assert np.all(np.diff(finder.learning_rates) > 0)
    assert 1e-4 <= finder.suggested_learning_rate <= 10.0
    # On this linear problem SGD diverges above ~0.5: the suggestion must sit below that.
    assert finder.suggested_learning_rate < 0.5
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [f for f in os.listdir(plot.parent)] == ["lr.png"]
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.01)
