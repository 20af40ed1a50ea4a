"""Behaviour of the modern building blocks beyond the conformance sweep."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
from scipy.fft import dct

from kerazoo import layers


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_drop_path_preserves_expectation_and_drops_whole_samples():
    layer = layers.DropPath(rate=0.25, seed=0)
    x = np.ones((4000, 3, 2), "float32")
    y = _np(layer(x, training=True))
    per_sample = y.reshape(4000, -1)
    # Each sample is all 0 or all 1/keep_prob.
    assert np.all(per_sample.min(1) == per_sample.max(1))
    kept = per_sample[per_sample[:, 0] != 0]
    np.testing.assert_allclose(kept, 1 / 0.75, rtol=1e-6)
    assert abs(per_sample.mean() - 1.0) < 0.05
    assert abs((per_sample[:, 0] == 0).mean() - 0.25) < 0.03
    np.testing.assert_array_equal(_np(layer(x, training=False)), x)


def test_spec_augment_masks_stay_in_bounds_and_inference_is_identity():
    layer = layers.SpecAugment(
        freq_mask_param=5, time_mask_param=7, num_freq_masks=2, num_time_masks=2, seed=4,
        mask_value=-1.0,
    )
    x = np.ones((64, 30, 12), "float32")
    y = _np(layer(x, training=True))
    masked = y == -1.0
    assert masked.any()
    assert set(np.unique(y).tolist()) <= {-1.0, 1.0}
    freq_rows = masked.all(axis=1)  # (batch, freq): frequencies masked at every step
    time_rows = masked.all(axis=2)  # (batch, time): steps masked at every frequency
    # Every masked cell lies in a fully masked frequency band or time span.
    np.testing.assert_array_equal(masked, freq_rows[:, None, :] | time_rows[:, :, None])
    assert freq_rows.sum(1).max() <= 2 * 5 and time_rows.sum(1).max() <= 2 * 7
    assert (freq_rows.sum(1) > 0).any() and (time_rows.sum(1) > 0).any()
    np.testing.assert_array_equal(_np(layer(x, training=False)), x)
    np.testing.assert_array_equal(_np(layer(x)), x)


def test_spec_augment_time_ratio_caps_width():
    layer = layers.SpecAugment(freq_mask_param=0, time_mask_param=50, max_time_ratio=0.1, seed=1)
    y = _np(layer(np.ones((200, 40, 4), "float32"), training=True))
    assert ((y == 0).all(axis=2).sum(1)).max() <= 4


def test_revin_round_trip_and_saved_model(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(3, 16, 2)) * [5.0, 0.1] + [100.0, -3.0]).astype("float32")
    revin = layers.RevIN()
    revin.build(x.shape)
    revin.set_weights([np.array([2.0, 0.5], "float32"), np.array([0.3, -1.0], "float32")])
    normalized = revin(x)
    restored = _np(revin([normalized, x], mode="denormalize"))
    np.testing.assert_allclose(restored, x, rtol=1e-4, atol=1e-3)
    plain = _np(layers.RevIN(affine=False)(x))
    np.testing.assert_allclose(plain.mean(1), 0.0, atol=1e-4)
    np.testing.assert_allclose(plain.std(1), 1.0, atol=2e-3)  # epsilon=1e-5 vs variance 0.01

    inputs = keras.Input((16, 2))
    shared = layers.RevIN()
    hidden = keras.layers.Permute((2, 1))(shared(inputs))
    forecast = keras.layers.Permute((2, 1))(keras.layers.Dense(4)(hidden))
    model = keras.Model(inputs, shared([forecast, inputs], mode="denormalize"))
    path = os.path.join(tmp_path, "revin.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(_np(loaded(x)), _np(model(x)), rtol=1e-6, atol=1e-5)
    assert tuple(loaded(x).shape) == (3, 4, 2)


def test_revin_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        layers.RevIN()(np.zeros((1, 4, 2), "float32"), mode="undo")


@pytest.mark.parametrize("kernel_size", [1, 4, 5])
def test_series_decomposition_sums_to_input_and_trend_is_moving_average(kernel_size):
    x = np.random.default_rng(0).normal(size=(2, 11, 3)).astype("float32")
    seasonal, trend = layers.SeriesDecomposition(kernel_size=kernel_size)(x)
    np.testing.assert_allclose(_np(seasonal) + _np(trend), x, atol=1e-5)
    front = (kernel_size - 1) // 2
    padded = np.concatenate(
        [np.repeat(x[:, :1], front, 1), x, np.repeat(x[:, -1:], kernel_size - 1 - front, 1)], 1
    )
    expected = np.stack([padded[:, t : t + kernel_size].mean(1) for t in range(11)], 1)
    np.testing.assert_allclose(_np(trend), expected, atol=1e-5)


@pytest.mark.parametrize("norm", ["ortho", None])
def test_mfcc_matches_scipy_dct(norm):
    log_mel = np.random.default_rng(0).normal(size=(2, 20, 7)).astype("float32")  # (b, mels, t)
    got = _np(layers.MFCC(num_mfcc=6, norm=norm)(log_mel))
    expected = dct(log_mel.astype("float64"), type=2, norm=norm, axis=1)[:, :6]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_mfcc_after_mel_spectrogram():
    audio = np.random.default_rng(0).normal(size=(1, 2000)).astype("float32")
    mel = keras.layers.MelSpectrogram(num_mel_bins=24, sampling_rate=8000, sequence_stride=160)
    out = layers.MFCC(num_mfcc=10)(mel(audio))
    assert tuple(out.shape) == (1, 10, mel.compute_output_shape((1, 2000))[2])


def test_attention_pooling_ignores_masked_steps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    mask = np.array([[True] * 6, [True, True, True, False, False, False]])
    layer = layers.AttentionPooling1D(units=4)
    pooled = _np(layer(x, mask=mask))
    changed = x.copy()
    changed[1, 3:] = 100.0
    np.testing.assert_allclose(_np(layer(changed, mask=mask))[1], pooled[1], atol=1e-5)
    np.testing.assert_allclose(_np(layer(x[1:, :3]))[0], pooled[1], atol=1e-5)
    all_masked = _np(layer(x, mask=np.zeros((2, 6), bool)))
    np.testing.assert_array_equal(all_masked, 0.0)


def test_sinusoidal_encoding_values():
    y = _np(layers.SinusoidalPositionEncoding(max_wavelength=100.0)(np.zeros((1, 5, 4), "float32")))
    t = np.arange(5)
    expected = np.stack([np.sin(t), np.cos(t), np.sin(t / 10.0), np.cos(t / 10.0)], -1)
    np.testing.assert_allclose(y[0], expected, atol=1e-5)


def test_position_embedding_rejects_too_long_inputs():
    with pytest.raises(ValueError, match="sequence_length"):
        layers.PositionEmbedding(sequence_length=4)(np.zeros((1, 5, 2), "float32"))


def test_squeeze_excitation_channels_first_matches_channels_last():
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 6)).astype("float32")
    last = layers.SqueezeExcitation(ratio=0.5, data_format="channels_last")
    first = layers.SqueezeExcitation(ratio=0.5, data_format="channels_first")
    y_last = _np(last(x))
    first(np.moveaxis(x, -1, 1))
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(np.moveaxis(_np(first(np.moveaxis(x, -1, 1))), 1, -1), y_last,
                               atol=1e-5)
