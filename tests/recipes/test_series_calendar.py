"""Calendars: inferred and given frequencies, gaps naming the month, mixed frequencies, DST, future
timestamps, season defaults, and the CalendarFeatures layer against pandas."""

import numpy as np
import pandas as pd
import pytest

from kerazoo.errors import ConfigError, DataError
from kerazoo.recipes import series_calendar
from kerazoo.recipes.series_sources import parse_csv_text


def _csv(stamps, values=None):
    values = np.sin(np.arange(len(stamps)) / 3) + 10 if values is None else values
    return "date,value\n" + "".join(f"{s},{v:.4f}\n" for s, v in zip(stamps, values))


def _parse(text, **kwargs):
    kwargs.setdefault("fill_policy", "error")
    return parse_csv_text(text, "f.csv", timestamp_column="date", targets=["value"], **kwargs)


def _range(start, periods, freq):
    return [str(t.date()) if t == t.normalize() else t.isoformat()
            for t in pd.date_range(start, periods=periods, freq=freq)]


@pytest.mark.parametrize("freq, start, expected, season", [
    ("MS", "1950-01-01", "MS", 12),
    ("ME", "1950-01-31", "ME", 12),
    ("QS", "1990-01-01", "QS-JAN", 4),
    ("QE", "1990-03-31", "QE-DEC", 4),
    ("YS", "1960-01-01", "YS-JAN", 1),
    ("B", "2024-01-01", "B", 5),
    ("W-SUN", "2024-01-07", "W-SUN", 52),
    ("D", "2024-01-01", "D", 7),
    ("h", "2024-01-01", "h", 24),
    ("15min", "2024-01-01", "15min", 96),
])
def test_frequency_is_inferred_and_the_calendar_is_regular(freq, start, expected, season):
    stamps = _range(start, 40, freq)
    table = _parse(_csv(stamps))
    one = table.series["series"]
    assert table.frequency == expected and len(one.values) == 40 and one.filled == 0
    assert [str(t) for t in one.timestamps[:2]] == [
        str(np.datetime64(pd.Timestamp(s).to_datetime64(), "s")) for s in stamps[:2]]
    assert series_calendar.default_season_length(table.frequency) == season


def test_missing_month_is_named_or_filled():
    stamps = _range("2020-01-01", 12, "MS")
    del stamps[5]  # 2020-06
    with pytest.raises(DataError) as caught:
        _parse(_csv(stamps))
    message = str(caught.value)
    assert "f.csv: gap of 1 missing month-start step(s) after row 6 (2020-05-01T00:00:00): " \
           "2020-06 missing; set data.fill_policy=ffill or interpolate" in message
    filled = _parse(_csv(stamps), fill_policy="interpolate")
    one = filled.series["series"]
    assert filled.frequency == "MS" and len(one.values) == 12 and one.filled == 1
    assert str(one.timestamps[5])[:10] == "2020-06-01"
    # month-end with a missing quarter-end month and the explicit frequency
    ends = _range("2020-01-31", 12, "ME")
    del ends[1]
    with pytest.raises(DataError, match="2020-02 missing"):
        _parse(_csv(ends), frequency="ME")


def test_business_days_skip_weekends_and_a_holiday_is_a_gap():
    stamps = _range("2024-12-02", 20, "B")
    stamps.remove("2024-12-25")
    table = _parse(_csv(stamps), fill_policy="ffill")
    assert table.frequency == "B" and table.series["series"].filled == 1
    with pytest.raises(DataError, match="2024-12-25 missing"):
        _parse(_csv(stamps))


def test_mixed_frequencies_are_refused_naming_two_rows():
    stamps = _range("2020-01-01", 31, "D") + _range("2020-03-01", 6, "MS")
    with pytest.raises(DataError) as caught:
        _parse(_csv(stamps), fill_policy="interpolate")
    message = str(caught.value)
    assert message.startswith("f.csv: the file mixes two frequencies: rows 2 and 3 are one day "
                              "step apart (2020-01-01T00:00:00, 2020-01-02T00:00:00) but rows 32 "
                              "and 33 are 30 days apart")
    assert "\n" not in message


def test_row_off_the_calendar_names_it_and_a_row_on_it():
    stamps = _range("2020-01-01", 6, "MS")
    stamps[3] = "2020-04-15"
    with pytest.raises(DataError, match=r"row 5 \(2020-04-15T00:00:00\) is off the regular "
                                        r"month-start grid .*\(row 4, 2020-03-01T00:00:00, is on"):
        _parse(_csv(stamps))
    with pytest.raises(DataError, match=r"row 2 \(2020-01-01T00:00:00\) is off the regular "
                                        r"month-end grid \(data.frequency=ME\)"):
        _parse(_csv(_range("2020-01-01", 6, "MS")), frequency="ME")


def test_bad_frequency_and_series_of_different_frequencies():
    with pytest.raises(ConfigError, match="'data.frequency': 'monthly' is not a pandas frequency"):
        _parse(_csv(_range("2020-01-01", 6, "MS")), frequency="monthly")
    text = "date,id,value\n" + "".join(
        f"{s},{key},{v}\n" for key, freq, start in (("a", "MS", "2020-01-01"),
                                                    ("b", "D", "2020-01-01"))
        for v, s in enumerate(_range(start, 8, freq)))
    with pytest.raises(DataError, match="series 'a' is MS but series 'b' is D"):
        parse_csv_text(text, "f.csv", timestamp_column="date", targets=["value"], id_column="id")


def test_hourly_across_dst_with_utc_offsets_is_regular_in_utc():
    # Europe/Berlin local times with their offsets across both changes of 2024.
    for start in ("2024-03-30 20:00", "2024-10-26 20:00"):
        local = pd.date_range(start, periods=14, freq="h", tz="Europe/Berlin")
        stamps = [t.isoformat() for t in local]
        table = _parse(_csv(stamps))
        one = table.series["series"]
        assert table.frequency == "h" and len(one.values) == 14 and one.filled == 0
        expected = local.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[s]")
        np.testing.assert_array_equal(one.timestamps, expected)
        future = series_calendar.future_timestamps(one.timestamps[-1], table.frequency, 3)
        assert (np.diff(np.concatenate([one.timestamps[-1:], future])) ==
                np.timedelta64(3600, "s")).all()
    # The same autumn hours as naive local wall-clock times: 02:00 occurs twice.
    naive = [t.strftime("%Y-%m-%dT%H:%M") for t in
             pd.date_range("2024-10-26 20:00", periods=14, freq="h", tz="Europe/Berlin")]
    with pytest.raises(DataError, match="duplicate timestamp 2024-10-27T02:00:00 .*naive local "
                                        "times repeat an hour"):
        _parse(_csv(naive))


@pytest.mark.parametrize("last, freq, expected", [
    ("2024-01-31", "ME", ["2024-02-29", "2024-03-31", "2024-04-30"]),
    ("2024-01-01", "MS", ["2024-02-01", "2024-03-01", "2024-04-01"]),
    ("2024-03-01", "B", ["2024-03-04", "2024-03-05", "2024-03-06"]),
    ("2023-10-01", "QS-OCT", ["2024-01-01", "2024-04-01", "2024-07-01"]),
    ("2022-01-01", "YS", ["2023-01-01", "2024-01-01", "2025-01-01"]),
])
def test_future_timestamps_follow_the_calendar(last, freq, expected):
    future = series_calendar.future_timestamps(np.datetime64(last, "s"), freq, 3)
    assert [str(t)[:10] for t in future] == expected


def test_calendar_periods_and_labels():
    assert series_calendar.calendar_periods("MS") == ("month_of_year",)
    assert series_calendar.calendar_periods("D") == ("day_of_week", "month_of_year")
    assert series_calendar.calendar_periods("h") == ("hour_of_day", "day_of_week")
    assert series_calendar.calendar_periods("QS") == ()
    assert series_calendar.label(np.datetime64("2024-05-01"), "QS") == "2024-Q2"
    assert series_calendar.describe("2h") == "2-hour"


def test_calendar_features_match_pandas():
    import keras

    from kerazoo.layers import CalendarFeatures

    rng = np.random.default_rng(0)
    # Whole hours from 1901 to 2099.
    hours = rng.integers(-600_000, 1_130_000, size=500)
    seconds = hours.astype(np.int64) * 3600
    stamps = pd.to_datetime(seconds, unit="s")
    layer = CalendarFeatures()
    got = keras.ops.convert_to_numpy(layer(seconds.astype("float64"))).astype(np.float64)
    fractions = [(stamps.month.to_numpy() - 1) / 12, stamps.day_of_week.to_numpy() / 7,
                 stamps.hour.to_numpy() / 24]
    expected = np.stack([f(2 * np.pi * x) for x in fractions for f in (np.sin, np.cos)], -1)
    # A wrong month or weekday is off by >= 0.2; float32 backends (JAX without x64) hold old
    # timestamps to +-128 s, which moves the hour angle by < 0.02.
    np.testing.assert_allclose(got, expected, atol=2e-2)
    month_only = CalendarFeatures(periods=["month_of_year"])(seconds.astype("float64"))
    assert tuple(month_only.shape) == (500, 2)
    with pytest.raises(ValueError, match="periods"):
        CalendarFeatures(periods=["week_of_year"])


@pytest.mark.tf_only
def test_saved_model_computes_calendar_features_from_the_timestamps_it_is_given(tmp_path):
    import keras
    import tensorflow as tf

    from kerazoo.layers import CalendarFeatures

    window = keras.Input((6, 1), name="window")
    times = keras.Input((6,), dtype="float64", name="timestamps")
    calendar = keras.ops.cast(CalendarFeatures(["month_of_year"])(times), "float32")
    x = keras.layers.Concatenate()([window, calendar])
    model = keras.Model([window, times], keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    stamps = series_calendar.epoch_seconds(
        series_calendar.calendar(np.datetime64("2023-11-01"), np.datetime64("2024-04-01"), "MS"))
    values = np.arange(6, dtype="float32").reshape(1, 6, 1)
    expected = keras.ops.convert_to_numpy(model([values, stamps[None].astype("float64")]))
    model.export(tmp_path / "export", format="tf_saved_model")
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    served = loaded.serve([tf.constant(values), tf.constant(stamps[None].astype("float64"))])
    np.testing.assert_allclose(served.numpy(), expected, rtol=1e-6)
    shifted = loaded.serve(
        [tf.constant(values), tf.constant(stamps[None].astype("float64") + 86_400 * 92)])
    assert not np.allclose(shifted.numpy(), expected)  # other months, other forecast
