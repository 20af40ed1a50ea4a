"""Generate the embedded ``speech_commands_tiny`` set with espeak-ng (dev only; the output ships).

    python -m kerazoo.recipes.embedded.generate_speech   # needs `apt install espeak-ng`

Spoken words are synthesized by espeak-ng (GPL-3 program; its output audio carries no license
restriction) across 7 English accents x 8 voice variants = 56 voices, each with its own random
speed (130-210 words/min) and pitch (25-75). A *voice* belongs to exactly one split (voices are
shuffled with a fixed seed, 40 / 8 / 8 for train / validation / test), so a test voice is never
heard in training.

Only the clean speech is stored: 16 kHz, trimmed of leading and trailing silence, mu-law 8 bit,
in ``data/speech_commands_tiny.npz``. ``speech.py`` places each word at a fixed random offset in
a 1 s clip and mixes in generated noise at a fixed random SNR when it loads, so the shipped file
stays small and every user gets the same clips.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
# Speech Commands' auxiliary words: they make up the `_unknown_` class.
UNKNOWN_WORDS = ("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree",
                 "wow", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine")
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd", "en-029")
VARIANTS = ("m1", "m3", "m5", "m7", "f1", "f2", "f3", "f4")
UNKNOWN_PER_VOICE = 3
SPLIT_VOICES = {"train": 40, "validation": 8, "test": 8}
SAMPLE_RATE = 16_000
SEED = 20261122
OUTPUT = Path(__file__).resolve().parent / "data" / "speech_commands_tiny.npz"


def mu_law_encode(audio: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> uint8 mu-law (mu = 255), as G.711 / ``tf.audio`` users expect."""
    audio = np.clip(audio, -1.0, 1.0)
    compressed = np.sign(audio) * np.log1p(255.0 * np.abs(audio)) / np.log1p(255.0)
    return np.round((compressed + 1.0) / 2.0 * 255.0).astype(np.uint8)


def synthesize(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """espeak-ng's 22,050 Hz output, resampled to 16 kHz float32 in [-1, 1], silence trimmed."""
    from scipy.signal import resample_poly

    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", "/dev/stdout", word],
        capture_output=True, check=True,
    ).stdout
    # espeak-ng writes a streaming WAV header (unknown length): read the frames after it.
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        frames = np.frombuffer(wav[44:], dtype="<i2").astype(np.float32) / 32768.0
    audio = resample_poly(frames, SAMPLE_RATE, rate).astype(np.float32)
    loud = np.flatnonzero(np.abs(audio) > 0.02)
    if len(loud) == 0:
        raise RuntimeError(f"espeak-ng produced silence for {word!r} with voice {voice}")
    audio = audio[max(loud[0] - 160, 0) : loud[-1] + 160]
    return audio[: SAMPLE_RATE - 1600] / max(np.abs(audio).max(), 1e-6) * 0.9


def main() -> int:
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (Debian: apt install espeak-ng).", file=sys.stderr)
        return 1
    rng = np.random.default_rng(SEED)
    voices = [f"{accent}+{variant}" for accent in ACCENTS for variant in VARIANTS]
    order = rng.permutation(len(voices))
    split_of = {}
    start = 0
    for split, count in SPLIT_VOICES.items():
        for index in order[start : start + count]:
            split_of[voices[index]] = split
        start += count
    chunks, records = [], []
    for voice in voices:
        speed, pitch = int(rng.integers(130, 211)), int(rng.integers(25, 76))
        words = list(KEYWORDS) + list(rng.choice(UNKNOWN_WORDS, UNKNOWN_PER_VOICE, replace=False))
        for word in words:
            audio = synthesize(word, voice, speed, pitch)
            chunks.append(mu_law_encode(audio))
            records.append((word, voice, split_of[voice], speed, pitch, len(audio)))
    lengths = np.asarray([r[5] for r in records], np.int32)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    temp = OUTPUT.with_suffix(".tmp.npz")
    np.savez_compressed(
        temp,
        audio=np.concatenate(chunks),
        offsets=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
        lengths=lengths,
        words=np.asarray([r[0] for r in records]),
        voices=np.asarray([r[1] for r in records]),
        splits=np.asarray([r[2] for r in records]),
        speeds=np.asarray([r[3] for r in records], np.int16),
        pitches=np.asarray([r[4] for r in records], np.int16),
    )
    temp.replace(OUTPUT)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size / 1e6:.2f} MB, {len(records)} words, "
          f"{len(voices)} voices)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
