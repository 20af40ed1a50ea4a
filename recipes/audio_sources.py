"""Audio sources for the speech-commands recipe: the embedded ``speech_commands_tiny``,
``folder:PATH`` of WAV files and ``tfds:speech_commands``. Each returns
:class:`~kerazoo.recipes.task.PreparedData` of ``(float32 [samples], int64 label)`` with every
clip padded (zeros at the end) or cropped (centre) to ``clip_samples``, plus a bank of background
noise clips in ``info["noise"]`` for training-time mixing.

WAV files are checked up front and named in every error. Stereo files are averaged to mono; a
sample rate other than the recipe's is refused (resampling belongs in the data preparation, where
its quality can be chosen, not silently in the loader).
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from kerazoo.errors import DataError
from kerazoo.recipes.task import PreparedData

EMBEDDED = "speech_commands_tiny"
NOISE_FOLDER = "_background_noise_"


def fit_length(clip: np.ndarray, samples: int) -> np.ndarray:
    """Pad with zeros at the end, or crop the centre, to exactly ``samples``."""
    if len(clip) >= samples:
        start = (len(clip) - samples) // 2
        return clip[start : start + samples]
    return np.pad(clip, (0, samples - len(clip)))


def read_wav(path: Path, sample_rate: int) -> np.ndarray:
    """A PCM WAV file as float32 mono in [-1, 1]; a clear error for anything else."""
    try:
        with wave.open(str(path)) as reader:
            rate, channels = reader.getframerate(), reader.getnchannels()
            width, count = reader.getsampwidth(), reader.getnframes()
            frames = reader.readframes(count)
    except (wave.Error, EOFError, OSError) as error:
        raise DataError(f"{path}: not a readable PCM WAV file ({error}).") from None
    if rate != sample_rate:
        raise DataError(
            f"{path}: sample rate {rate} Hz, expected {sample_rate} Hz; resample the files (e.g. "
            f"`sox in.wav -r {sample_rate} out.wav`) or set data.sample_rate={rate}."
        )
    if width not in (1, 2, 4):
        raise DataError(f"{path}: {8 * width}-bit samples; expected 8, 16 or 32-bit PCM.")
    if len(frames) < count * width * channels or count == 0:
        raise DataError(f"{path}: truncated WAV file ({len(frames)} of "
                        f"{count * width * channels} bytes of audio).")
    dtype = {1: np.uint8, 2: "<i2", 4: "<i4"}[width]
    audio = np.frombuffer(frames, dtype=dtype).astype(np.float32)
    audio = (audio - 128.0) / 128.0 if width == 1 else audio / float(2 ** (8 * width - 1))
    # Stereo (or more) is averaged to mono: keyword spotting needs one channel.
    return audio.reshape(-1, channels).mean(axis=1)


def _noise_clips(noise: list[np.ndarray], samples: int) -> np.ndarray:
    """Background recordings cut into clip-long pieces (at most 64)."""
    pieces = [recording[start : start + samples] for recording in noise
              for start in range(0, len(recording) - samples + 1, samples)]
    return np.stack(pieces[:64]).astype(np.float32) if pieces else np.zeros((0, samples), "float32")


def _prepared(splits, class_names, clip_samples, noise, info) -> PreparedData:
    import tensorflow as tf

    datasets = {name: tf.data.Dataset.from_tensor_slices((clips, labels.astype(np.int64)))
                for name, (clips, labels) in splits.items()}
    sizes = {name: len(labels) for name, (_, labels) in splits.items()}
    return PreparedData(datasets, sizes, list(class_names), ((clip_samples,), "float32"),
                        {**info, "noise": noise})


def load_embedded(clip_samples: int) -> PreparedData:
    """``speech_commands_tiny``: 12 classes, voice-disjoint fixed splits."""
    from kerazoo.recipes.embedded import speech

    splits = {name: speech.load(name) for name in speech.SPLITS}
    splits = {name: (np.stack([fit_length(c, clip_samples) for c in clips]), labels)
              for name, (clips, labels) in splits.items()}
    rng = np.random.default_rng(0)
    noise = np.stack([speech.noise(kind, clip_samples, rng) * 0.1
                      for kind in speech.NOISES for _ in range(4)])
    return _prepared(splits, speech.CLASS_NAMES, clip_samples, noise, {
        "source": EMBEDDED, "license": "CC0-1.0 (synthesized for kerazoo with espeak-ng)",
        "card": "kerazoo/recipes/embedded/data/speech_commands_tiny.md",
    })


def load_folder(path: str, *, sample_rate: int, clip_samples: int, validation_fraction: float,
                test_fraction: float, seed: int, silence_fraction: float = 0.1) -> PreparedData:
    """``PATH/CLASS/*.wav`` (``keras.utils.audio_dataset_from_directory``'s layout), with an
    optional ``PATH/_background_noise_/*.wav`` for noise mixing.

    As in Speech Commands, the background recordings also make a ``_silence_`` class (unless a
    ``_silence_`` folder exists): ``silence_fraction`` x the number of clips, each a random
    one-clip piece of background at a random gain (seeded).
    """
    from kerazoo.recipes.data import split_indices

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"Audio folder not found: {root}")
    class_dirs = sorted(p for p in root.iterdir()
                        if p.is_dir() and not p.name.startswith(".") and p.name != NOISE_FOLDER)
    if len(class_dirs) < 2:
        raise DataError(f"{root}: {len(class_dirs)} class subfolder(s); a classifier needs at "
                        f"least two ({root}/CLASS/CLIP.wav).")
    clips, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        files = sorted(p for p in class_dir.rglob("*") if p.is_file())
        wavs = [p for p in files if p.suffix.lower() == ".wav"]
        if not wavs:
            raise DataError(f"{class_dir}: empty class folder (no .wav files).")
        for file in wavs:
            clips.append(fit_length(read_wav(file, sample_rate), clip_samples))
            labels.append(label)
    noise_dir = root / NOISE_FOLDER
    noise = [read_wav(file, sample_rate) for file in sorted(noise_dir.glob("*.wav"))] \
        if noise_dir.is_dir() else []
    class_names = [d.name for d in class_dirs]
    pieces = _noise_clips(noise, clip_samples)
    if len(pieces) and "_silence_" not in class_names and silence_fraction > 0:
        rng = np.random.default_rng(seed)
        count = max(1, int(round(len(clips) * silence_fraction)))
        for _ in range(count):
            clips.append(pieces[rng.integers(len(pieces))] * rng.uniform(0.0, 1.0))
            labels.append(len(class_names))
        class_names.append("_silence_")
    clips_array, labels_array = np.stack(clips).astype(np.float32), np.asarray(labels, np.int64)
    indices = split_indices(labels_array, {"validation": validation_fraction,
                                           "test": test_fraction}, seed)
    splits = {name: (clips_array[index], labels_array[index]) for name, index in indices.items()}
    return _prepared(splits, class_names, clip_samples, pieces, {"source": f"folder:{root}"})


def load_tfds(name: str, *, data_dir, download: bool, clip_samples: int,
              validation_fraction: float) -> PreparedData:
    """``tfds:speech_commands`` (12-class protocol) or another TFDS audio-classification set."""
    import tensorflow as tf

    from kerazoo.recipes import tfds_sources

    builder = tfds_sources.builder(name, data_dir)
    features = tfds_sources.require_features(builder, name, ("audio", "label"),
                                             "audio-classification")
    class_names = list(features["label"].names)
    scale = 32768.0 if features["audio"].dtype == tf.int16 else 1.0

    def convert(audio, label):
        audio = tf.cast(audio, tf.float32) / scale
        if len(audio.shape) > 1:  # (samples, channels) -> mono
            audio = tf.reduce_mean(audio, axis=-1)
        length = tf.shape(audio)[0]
        # Mock and real clips may be shorter or longer than the clip: pad at the end, crop centre.
        start = tf.maximum((length - clip_samples) // 2, 0)
        audio = audio[start : start + clip_samples]
        audio = tf.pad(audio, [[0, clip_samples - tf.shape(audio)[0]]])
        return tf.ensure_shape(audio, (clip_samples,)), tf.cast(label, tf.int64)

    datasets, sizes = tfds_sources.split_datasets(
        builder, name, data_dir=data_dir, download=download,
        validation_fraction=validation_fraction, convert=convert,
    )
    return PreparedData(datasets, sizes, class_names, ((clip_samples,), "float32"),
                        {"source": f"tfds:{name}", "noise": np.zeros((0, clip_samples),
                                                                      "float32")})
