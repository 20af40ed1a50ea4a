"""The embedded ``speech_commands_tiny`` set: 1 s, 16 kHz keyword clips in Speech Commands'
12-class protocol (10 keywords, ``_unknown_``, ``_silence_``), synthesized for kerazoo.

The package ships clean words (``data/speech_commands_tiny.npz``, made by
``generate_speech.py`` with espeak-ng: 56 voices, voice-disjoint splits; data card
``data/speech_commands_tiny.md``). Loading places each word at a fixed random offset in a 1 s
clip and adds generated noise (white, pink or brown) at a fixed random SNR of 5-30 dB; silence
clips are noise alone. Everything is seeded, so every user gets the same clips.

Example:

>>> from kerazoo.recipes.embedded import speech
>>> clips, labels = speech.load("test")
>>> clips.shape, clips.dtype.name, speech.CLASS_NAMES[labels[0]] in speech.CLASS_NAMES
((113, 16000), 'float32', True)
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from kerazoo.errors import DataError

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
CLASS_NAMES = (*KEYWORDS, "_unknown_", "_silence_")
SPLITS = ("train", "validation", "test")
SAMPLE_RATE = 16_000
FILENAME = "speech_commands_tiny.npz"
SEED = 1122
NOISES = ("white", "pink", "brown")


def mu_law_decode(codes: np.ndarray) -> np.ndarray:
    """uint8 mu-law (mu = 255) -> float32 in [-1, 1]."""
    compressed = codes.astype(np.float32) / 255.0 * 2.0 - 1.0
    return (np.sign(compressed) * np.expm1(np.abs(compressed) * np.log1p(255.0)) / 255.0
            ).astype(np.float32)


def noise(kind: str, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS ``white``, ``pink`` (1/f) or ``brown`` (1/f^2) noise, shaped in the spectrum."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    frequencies = np.maximum(np.fft.rfftfreq(samples), 1.0 / samples)
    power = {"white": 0.0, "pink": 0.5, "brown": 1.0}[kind]
    shaped = np.fft.irfft(spectrum / frequencies**power, n=samples)
    return (shaped / (np.sqrt(np.mean(shaped**2)) + 1e-12)).astype(np.float32)


def _raw():
    path = resources.files("kerazoo.recipes.embedded").joinpath("data", FILENAME)
    with path.open("rb") as stream, np.load(stream) as archive:
        return {key: archive[key] for key in archive.files}


def load(split: str, *, silence_fraction: float = 1 / 11) -> tuple[np.ndarray, np.ndarray]:
    """``(clips [N, 16000] float32, labels [N] int64)`` of one split.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        silence_fraction: silence clips added, as a share of the split's words.

    Raises:
        DataError: for an unknown split name.
    """
    if split not in SPLITS:
        raise DataError(
            f"speech_commands_tiny has no split {split!r}; expected one of {', '.join(SPLITS)}."
        )
    raw = _raw()
    chosen = np.flatnonzero(raw["splits"] == split)
    rng = np.random.default_rng([SEED, SPLITS.index(split)])
    count = len(chosen) + int(round(len(chosen) * silence_fraction))
    clips = np.zeros((count, SAMPLE_RATE), np.float32)
    labels = np.zeros(count, np.int64)
    for row, index in enumerate(chosen):
        start, length = int(raw["offsets"][index]), int(raw["lengths"][index])
        word = mu_law_decode(raw["audio"][start : start + length])
        offset = int(rng.integers(0, SAMPLE_RATE - length + 1))
        clips[row, offset : offset + length] = word
        name = str(raw["words"][index])
        labels[row] = CLASS_NAMES.index(name) if name in KEYWORDS else CLASS_NAMES.index(
            "_unknown_")
    for row in range(count):
        kind = NOISES[int(rng.integers(0, len(NOISES)))]
        background = noise(kind, SAMPLE_RATE, rng)
        if row >= len(chosen):  # a silence clip: background noise alone, at a random level
            clips[row] = background * float(rng.uniform(0.001, 0.05))
            labels[row] = CLASS_NAMES.index("_silence_")
            continue
        signal_rms = float(np.sqrt(np.mean(clips[row] ** 2)))
        snr_db = float(rng.uniform(5.0, 30.0))
        clips[row] += background * signal_rms / (10 ** (snr_db / 20))
    order = rng.permutation(count)
    return np.clip(clips[order], -1.0, 1.0), labels[order]


def voices(split: str) -> list[str]:
    """The espeak-ng voices (``accent+variant``) of a split; no voice is in two splits."""
    raw = _raw()
    return sorted(set(raw["voices"][raw["splits"] == split].tolist()))
