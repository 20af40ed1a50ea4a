"""Baselines and the backtest with refit: ETS, refits see only the past, verdict line."""

import numpy as np

from kerazoo.recipes import series_baselines


def _seasonal(length=240, seed=0, season=12):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return (50 + 0.3 * t + 8 * np.sin(2 * np.pi * t / season) + rng.normal(0, 0.5, length))[:, None]


def test_ets_beats_last_value_and_seasonal_naive_on_trend_plus_season():
    series = {"a": _seasonal(seed=0)}
    result = series_baselines.backtest_refit(
        series, {"ets": series_baselines.ets(12), "last_value": series_baselines.last_value(),
                 "seasonal_naive": series_baselines.seasonal_naive(12)},
        horizon=12, num_targets=1, test_start=192, origins=3, season=12)
    mase = result["mase"]
    # Seasonal naive misses one season of trend (0.3 x 12 = 3.6 per step); ETS models it.
    assert mase["ets"] < 0.5 * mase["seasonal_naive"] < mase["last_value"]
    assert result["verdict"] == (
        f"beats last value (MASE {mase['ets']:.3f} vs {mase['last_value']:.3f} over 3 refit "
        f"origin(s)); beats seasonal naive (MASE {mase['ets']:.3f} vs "
        f"{mase['seasonal_naive']:.3f} over 3 refit origin(s))")
    assert [row["origin"] for row in result["origins"]] == [192, 210, 228]


def test_refit_sees_only_history_before_each_origin():
    values = _seasonal(length=100)
    calls = []

    def spy(histories, horizon, num_targets):
        calls.append({key: h.copy() for key, h in histories.items()})
        return {key: np.zeros((horizon, num_targets)) for key in histories}

    result = series_baselines.backtest_refit(
        {"a": values}, {"model": spy}, horizon=5, num_targets=1, test_start=80,
        origins=[0, 5, 10, 20], season=12)
    # Offset 20 would need rows 100..104: dropped, not truncated.
    assert [row["origin"] for row in result["origins"]] == [80, 85, 90]
    assert [len(c["a"]) for c in calls] == [80, 85, 90]
    for call in calls:
        np.testing.assert_array_equal(call["a"], values[: len(call["a"])])
    # MAE of a zero forecast is the mean of the next five true values.
    np.testing.assert_allclose(result["origins"][0]["model"]["mae"], values[80:85].mean())
    assert result["seconds"]["model"] >= 0 and result["verdict"] == ""


def test_ets_falls_back_on_short_history_and_handles_several_targets():
    short = {"a": np.c_[np.arange(6.0), np.arange(6.0) * 2]}
    forecast = series_baselines.ets(12)(short, 3, 2)["a"]
    assert forecast.shape == (3, 2) and np.isfinite(forecast).all()


def test_ets_estimated_once_runs_the_smoother_with_the_first_fit_at_later_origins(monkeypatch):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    series = {"a": _seasonal(length=260, seed=1)}
    fits = []
    original = ExponentialSmoothing.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(kwargs.get("optimized", True))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ExponentialSmoothing, "fit", counting_fit)
    once = series_baselines.ets(12, refit=False)
    first = once({"a": series["a"][:200]}, 12, 1)["a"]
    assert fits == [True]
    # The same history again: the stored parameters reproduce the estimated forecast exactly.
    np.testing.assert_allclose(once({"a": series["a"][:200]}, 12, 1)["a"], first, atol=1e-9)
    later = once({"a": series["a"][:230]}, 12, 1)["a"]
    assert fits == [True, False, False]  # no new estimation: the smoother over 30 more rows
    # A refit on the same longer history estimates again, and forecasts about as well.
    refit = series_baselines.ets(12)({"a": series["a"][:230]}, 12, 1)["a"]
    assert fits[-1] is True
    truth = series["a"][230:242]
    assert np.abs(later - truth).mean() < 1.5 * np.abs(refit - truth).mean() + 0.1
    # A history that does not extend the first one (another series under the same id) is fitted
    # afresh, not run with parameters of other data.
    other = _seasonal(length=230, seed=2)
    count = len(fits)
    once({"a": other}, 12, 1)
    assert fits[count:] == [True]


def test_ets_once_in_the_backtest_matches_refit_accuracy_at_a_fraction_of_fits():
    series = {"a": _seasonal(length=300, seed=3), "b": _seasonal(length=300, seed=4)}
    results = {refit: series_baselines.backtest_refit(
        series, {"ets": series_baselines.ets(12, refit=refit)}, horizon=12, num_targets=1,
        test_start=240, origins=4, season=12) for refit in (True, False)}
    refit, once = results[True]["mase"]["ets"], results[False]["mase"]["ets"]
    assert abs(once - refit) < 0.25 * refit


def test_verdict_wording_matches_the_report():
    text = series_baselines.verdict("model", {"model": 0.7, "ets": 0.6, "last_value": 0.9})
    assert text == ("does NOT beat ets (MASE 0.700 vs 0.600); beats last value "
                    "(MASE 0.700 vs 0.900)")


def test_refit_backtest_joins_the_report_verdict():
    from kerazoo.recipes.series_evaluation import add_refit_backtest

    report = {"verdict": "beats seasonal naive (MASE 0.400 vs 0.800)"}
    result = {"mase": {"model": 0.5, "ets": 0.4}, "verdict": "does NOT beat ets (MASE 0.500 vs "
              "0.400 over 3 refit origin(s))"}
    add_refit_backtest(report, result)
    assert report["mase_ets_refit"] == 0.4 and report["backtest_refit"] is result
    assert report["verdict"] == ("beats seasonal naive (MASE 0.400 vs 0.800); refit: does NOT "
                                 "beat ets (MASE 0.500 vs 0.400 over 3 refit origin(s))")


def test_window_forecaster_uses_the_last_lookback_rows_and_their_timestamps():
    values = np.arange(50.0)[:, None]
    stamps = {"a": np.arange(50.0) * 86_400}
    seen = []

    def predict(windows, window_stamps):
        seen.append((windows.copy(), window_stamps.copy()))
        return np.repeat(windows[:, -1:, :], 4, axis=1)

    forecaster = series_baselines.window_forecaster(predict, 10, timestamps=stamps)
    result = series_baselines.backtest_refit({"a": values}, {"model": forecaster}, horizon=4,
                                             num_targets=1, test_start=40, origins=[0, 6])
    np.testing.assert_array_equal(seen[0][0][0, :, 0], np.arange(30.0, 40.0))
    np.testing.assert_array_equal(seen[1][1][0], np.arange(36.0, 46.0) * 86_400)
    np.testing.assert_allclose(result["origins"][0]["model"]["mae"], np.mean([1, 2, 3, 4]))


def test_season_defaults_fit_the_lookback():
    from kerazoo.recipes.series_calendar import resolve_season_length

    assert resolve_season_length(None, "MS", 24) == (12, None)
    assert resolve_season_length(7, "MS", 24) == (7, None)
    season, note = resolve_season_length(None, "W-SUN", 30)
    assert season == 1 and "season_length 52 of frequency W-SUN exceeds data.lookback (30)" in note


def test_ets_availability_is_reported():
    assert series_baselines.ets_available() is True  # statsmodels is in the dev extra
