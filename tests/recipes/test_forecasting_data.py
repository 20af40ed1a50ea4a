"""Forecasting recipe data: CSV checks (every bad case), gap filling, splits, windows, leakage."""

import numpy as np
import pytest

from kerazoo.errors import ConfigError, DataError
from kerazoo.recipes.series_sources import parse_csv_text, synthetic_csv_text

pytestmark = pytest.mark.tf_only

HEADER = "timestamp,value,temp\n"


def _rows(count, start=0, skip=()):
    days = np.datetime64("2024-01-01")
    return "".join(f"{days + i},{10 + np.sin(i / 3):.4f},{20 + i % 7}\n"
                   for i in range(start, start + count) if i not in skip)


def _parse(text, **kwargs):
    kwargs.setdefault("fill_policy", "error")
    return parse_csv_text(text, "bad.csv", timestamp_column="timestamp", targets=["value"],
                          covariates=["temp"], **kwargs)


def _task(source, *overrides):
    from kerazoo.recipes.api import get_task, resolve_config

    config = resolve_config("time_series_forecasting", None,
                            [f"data.source={source}", *overrides])
    return get_task("time_series_forecasting")(config)


@pytest.mark.parametrize("text, message", [
    (HEADER + "2024-01-01,1,2\nyesterday,2,3\n",
     "bad.csv: row 3, column 'timestamp': 'yesterday' is not a timestamp"),
    (HEADER + "2024-01-02,1,2\n2024-01-01,2,3\n2024-01-03,2,4\n",
     "bad.csv: timestamps are not increasing: row 3 (2024-01-01T00:00:00) comes after row 2"),
    (HEADER + "2024-01-01,1,2\n2024-01-02,2,3\n2024-01-02,2,4\n",
     "bad.csv: duplicate timestamp 2024-01-02T00:00:00 on rows 3 and 4"),
    (HEADER + _rows(5) + _rows(5, start=8),
     "bad.csv: gap of 3 missing day step(s) after row 6 (2024-01-05T00:00:00)"),
    (HEADER + "2024-01-01,1,2\n2024-01-02,,3\n2024-01-03,2,4\n",
     "bad.csv: row 3, column 'value' is empty/NaN"),
    (HEADER + "2024-01-01,1,5\n2024-01-02,2,5\n2024-01-03,3,5\n",
     "bad.csv: column 'temp' is constant (5)"),
    (HEADER + "2024-01-01,1,2\n2024-01-02,abc,3\n",
     "bad.csv: row 3, column 'value': 'abc' is not a number"),
    ("timestamp,level,temp\n2024-01-01,1,2\n",
     "bad.csv: no column 'value'; the header has timestamp, level, temp"),
    (HEADER + "2024-01-01,1,2\n2024-01-02 06:00,2,3\n2024-01-03,3,4\n2024-01-04,3,4\n",
     "is off the regular day grid"),
])
def test_bad_csv_messages_name_file_row_column(text, message):
    with pytest.raises(DataError, match=None) as caught:
        _parse(text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_gap_fill_policies_fill_and_report():
    text = HEADER + _rows(4) + "2024-01-05,,24\n" + _rows(3, start=7)  # NaN + 2 missing days
    interpolated = _parse(text, fill_policy="interpolate").series["series"]
    forward = _parse(text, fill_policy="ffill").series["series"]
    assert len(interpolated.values) == 10 and interpolated.filled == 3
    assert not np.isnan(interpolated.values).any()
    # ffill carries row 4's value over the NaN row and the two missing days
    np.testing.assert_allclose(forward.values[4:7, 0], forward.values[3, 0])
    first, last = interpolated.values[3, 0], interpolated.values[7, 0]
    np.testing.assert_allclose(interpolated.values[4:7, 0], first + (last - first) *
                               np.arange(1, 4) / 4)
    assert "3 row(s) filled by interpolate (2 missing timestamp(s))" in _parse(
        text, fill_policy="interpolate").notes[0]
    with pytest.raises(ConfigError, match="data.fill_policy"):
        _parse(text, fill_policy="zero")


def test_too_few_rows_for_the_window(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(HEADER + _rows(60))
    task = _task(f"csv:{path}", "data.targets=[value]", "data.lookback=40", "data.horizon=10")
    with pytest.raises(DataError, match=r"short.csv: 60 rows leave 42 training rows, fewer than "
                                        r"lookback \+ horizon = 50"):
        task.prepare_data()
    with pytest.raises(DataError, match="CSV file not found"):
        _task(f"csv:{tmp_path / 'nope.csv'}", "data.targets=[value]").prepare_data()
    with pytest.raises(ConfigError, match="data.targets"):
        _task(f"csv:{path}").prepare_data()


def test_embedded_co2_and_chronological_windows():
    task = _task("co2")
    data = task.prepare_data()
    assert data.info["filled_rows"] == 59 and data.info["season_length"] == 52
    assert data.feature_spec == ((104, 1), "float32")
    # train windows read only train rows; test windows' targets lie after every train row
    train_end = int(round(2284 * 0.7))
    assert data.starts["train"].max() + 104 + 26 <= train_end
    assert data.starts["test"].min() + 104 >= 2284 - int(round(2284 * 0.2))
    x, y = next(iter(data.splits["train"].batch(4)))
    inputs, targets = task.windows(data, "train")
    np.testing.assert_array_equal(x.numpy(), inputs[:4])
    np.testing.assert_array_equal(y.numpy(), targets[:4])
    # normalization statistics are the training part's
    np.testing.assert_allclose(data.stats["mean"], data.values[:train_end].mean(0), rtol=1e-5)


def test_multi_series_csv_with_id_and_covariates(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text(synthetic_csv_text(num_series=3, length=120, covariate=True))
    task = _task(f"csv:{path}", "data.targets=[value]", "data.covariates=[temperature]",
                 "data.id_column=series", "data.lookback=24", "data.horizon=6",
                 "data.stride=2", "data.season_length=12")
    data = task.prepare_data()
    assert data.feature_spec == ((24, 2), "float32") and data.info["series"] == ["a", "b", "c"]
    # windows never straddle two series: every window's rows share one owner block
    for split in ("train", "validation", "test"):
        starts, owners = data.starts[split], data.owners[split]
        assert ((starts // 120) == owners).all() and (((starts + 29) // 120) == owners).all()
    assert set(np.diff(data.starts["train"][data.owners["train"] == 0])) == {2}
    assert data.mase_scale.shape == (3, 1)


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="data.normalization"):
        _task("co2", "data.normalization=zscore").prepare_data()
    with pytest.raises(ConfigError, match="train.loss"):
        _task("co2", "train.loss=hinge").prepare_data()
    with pytest.raises(ConfigError, match="data.season_length"):
        _task("co2", "data.lookback=30").prepare_data()
    with pytest.raises(ConfigError, match="data.source"):
        _task("parquet:x").prepare_data()


def test_leakage_future_of_test_part_does_not_change_training(tmp_path):
    """Shuffling the test part's values changes neither windows, statistics nor trained weights."""
    from kerazoo.recipes import api

    text = synthetic_csv_text(num_series=1, length=200)
    lines = text.splitlines()
    header, rows = lines[0], lines[1:]
    test_rows = int(round(200 * 0.2))
    values = [row.split(",") for row in rows]
    shuffled = [v[2] for v in values[-test_rows:]]
    np.random.default_rng(1).shuffle(shuffled)
    for v, new in zip(values[-test_rows:], shuffled):
        v[2] = str(float(new) * 3 + 50)  # and rescaled: the test part's future is junk now
    (tmp_path / "a.csv").write_text(text)
    (tmp_path / "b.csv").write_text("\n".join([header, *(",".join(v) for v in values)]) + "\n")
    settings = ["data.targets=[value]", "data.id_column=series", "data.lookback=24",
                "data.horizon=6", "data.season_length=12", "train.epochs=2",
                "train.batch_size=16", "model.name=dlinear"]
    weights, stats = [], []
    for name in ("a", "b"):
        overrides = [f"data.source=csv:{tmp_path / name}.csv", *settings]
        api.train("time_series_forecasting", tmp_path / f"run-{name}", overrides=overrides,
                  export=False, verbose=False)
        import keras

        model = keras.saving.load_model(tmp_path / f"run-{name}" / "model.keras", compile=False)
        weights.append([np.asarray(w) for w in model.weights])
        stats.append(model.get_layer("normalize").mean)
    np.testing.assert_array_equal(np.asarray(stats[0]), np.asarray(stats[1]))
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_batched_windows_resume_and_shards_see_the_same_batches():
    import tensorflow as tf

    from kerazoo.recipes.series_windows import batched_windows, window_dataset

    values = np.random.default_rng(0).normal(size=(300, 2)).astype("float32")
    starts = np.arange(0, 250, 3)
    common = dict(lookback=20, horizon=5, targets=1, per_replica_batch=8, training=True,
                  seed=3, epoch=2)
    full = [x.numpy() for x, _ in batched_windows(values, starts, **common)]
    assert len(full) == len(starts) // 8
    resumed = [x.numpy() for x, _ in batched_windows(values, starts, skip_global_steps=4,
                                                     **common)]
    np.testing.assert_array_equal(np.stack(full[4:]), np.stack(resumed))
    context = [tf.distribute.InputContext(2, i, 2) for i in range(2)]
    shards = [[x.numpy() for x, _ in batched_windows(values, starts, input_context=c, **common)]
              for c in context]
    np.testing.assert_array_equal(np.stack(shards[0]), np.stack(full[0::2]))
    np.testing.assert_array_equal(np.stack(shards[1]), np.stack(full[1::2]))
    run_long = [x.numpy() for x, _ in batched_windows(
        values, starts, epochs=3, take_global_steps=len(full), skip_global_steps=4, **common)]
    later = [x.numpy() for e in (3, 4)
             for x, _ in batched_windows(values, starts, **{**common, "epoch": e})]
    np.testing.assert_array_equal(np.stack(run_long), np.stack(full[4:] + later))
    again = [x.numpy() for x, _ in batched_windows(values, starts, **common)]
    np.testing.assert_array_equal(np.stack(full), np.stack(again))
    # every window is a true slice of the series, and evaluation keeps start order
    ordered = [x for x, _ in batched_windows(values, starts, **{**common, "training": False})]
    first = next(iter(window_dataset(values, starts, lookback=20, horizon=5, targets=1)))
    np.testing.assert_array_equal(ordered[0][0].numpy(), first[0].numpy())
    np.testing.assert_array_equal(first[1].numpy()[:, 0], values[20:25, 0])


def test_synthetic_source_with_covariate():
    task = _task("synthetic", "data.lookback=24", "data.horizon=6", "data.synthetic_series=2",
                 "data.covariates=[temperature]")
    data = task.prepare_data()
    assert data.info["series"] == ["a", "b"] and data.feature_spec == ((24, 2), "float32")
    assert data.info["season_length"] == 12 and data.sizes["train"] > 0


def test_windows_carry_their_timestamps_for_calendar_features():
    import keras

    from kerazoo.layers import CalendarFeatures
    from kerazoo.recipes.series_calendar import epoch_seconds
    from kerazoo.recipes.series_windows import batched_windows, window_dataset

    table = parse_csv_text(
        "date,value\n" + "".join(f"{1950 + i // 12}-{i % 12 + 1:02d}-01,{np.sin(i / 2):.3f}\n"
                                 for i in range(120)),
        "monthly.csv", timestamp_column="date", targets=["value"])
    one = table.series["series"]
    values, stamps = one.values.astype("float32"), epoch_seconds(one.timestamps)
    (window, window_stamps), target = next(iter(window_dataset(
        values, np.array([7]), lookback=24, horizon=12, targets=1, timestamps=stamps)))
    assert window_stamps.dtype == "float64" and tuple(window_stamps.shape) == (24,)
    np.testing.assert_array_equal(window_stamps.numpy(), stamps[7:31])
    np.testing.assert_array_equal(window.numpy(), values[7:31])
    # A model taking (window, timestamps) with the calendar computed inside trains on batches.
    inputs = keras.Input((24, 1), name="window")
    times = keras.Input((24,), dtype="float64", name="timestamps")
    calendar = CalendarFeatures(periods=["month_of_year"])(times)
    x = keras.layers.Concatenate()([inputs, keras.ops.cast(calendar, "float32")])
    model = keras.Model([inputs, times], keras.layers.Dense(12)(keras.layers.Flatten()(x)))
    model.compile("adam", "mae")
    batches = batched_windows(values, np.arange(0, 80), lookback=24, horizon=12, targets=1,
                              per_replica_batch=16, training=True, timestamps=stamps)
    history = model.fit(batches.map(lambda x, y: (x, y[..., 0])), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    january = keras.ops.convert_to_numpy(CalendarFeatures(periods=["month_of_year"])(
        stamps[:1].astype("float64")))
    np.testing.assert_allclose(january, [[0.0, 1.0]], atol=1e-6)
