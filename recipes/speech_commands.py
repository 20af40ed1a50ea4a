"""The speech-commands (keyword spotting) recipe: waveform in, features inside the model.

Sources (``data.source``): ``speech_commands_tiny`` (embedded, the default), ``folder:PATH``
(``PATH/CLASS/*.wav`` with an optional ``_background_noise_`` folder) and
``tfds:speech_commands``. Every clip is padded (zeros at the end) or cropped (centre) to
``data.clip_seconds`` at ``data.sample_rate``.

The model takes float32 waveforms ``[batch, samples]``: ``keras.layers.MelSpectrogram`` (30 ms
windows, 10 ms hop, ``data.num_mel_bins``, in dB) → optional kerazoo ``MFCC`` → per-utterance
standardization (``LayerNormalization`` over time and frequency, no affine) → kerazoo
``SpecAugment`` (training only) → the zoo model. Training also shifts each clip in time and mixes
in background noise, with stateless ops seeded by example position (resume-exact).

Example:

>>> from kerazoo.recipes.speech_commands import SpeechCommands
>>> config = SpeechCommands.default_config()
>>> config.data.source, config.model.name
('speech_commands_tiny', 'bc_resnet1')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kerazoo.errors import ConfigError
from kerazoo.recipes.config import DataConfig, ExperimentConfig
from kerazoo.recipes.evaluation import top_k_lines
from kerazoo.recipes.task import PreparedData, Task
from kerazoo.registry import register

AUGMENTATIONS = ("time_shift", "noise", "spec_augment")
FEATURES = ("log_mel", "mfcc")
SEQUENCE_MODELS = ("lstm_kws",)  # take [time, features]; the CNNs take [time, features, 1]


@dataclass
class AudioDataConfig(DataConfig):
    """Audio source and front-end options, on top of :class:`~kerazoo.recipes.config.DataConfig`.

    Args:
        sample_rate: sample rate of the clips (other rates are refused with a message).
        clip_seconds: clip length; shorter clips are zero-padded, longer ones centre-cropped.
        features: ``log_mel`` or ``mfcc`` (kerazoo ``MFCC`` on the log-mel bins).
        num_mel_bins: mel bands.
        num_mfcc: cepstral coefficients kept with ``features=mfcc``.
        time_shift_ms: largest random shift of a training clip (``time_shift`` augmentation).
        noise_probability: share of training clips mixed with background noise (``noise``).
        noise_max_gain: largest gain of the mixed-in noise.
        silence_fraction: ``folder:`` sources with a ``_background_noise_`` folder get a
            ``_silence_`` class of this many clips per clip of the other classes (0: none).
    """

    source: str = "speech_commands_tiny"
    sample_rate: int = 16_000
    clip_seconds: float = 1.0
    features: str = "log_mel"
    num_mel_bins: int = 40
    num_mfcc: int = 10
    time_shift_ms: int = 100
    noise_probability: float = 0.8
    noise_max_gain: float = 0.1
    silence_fraction: float = 0.1


@register("recipes", name="speech_commands", task="speech_commands")
class SpeechCommands(Task):
    """Keyword spotting with a zoo model on raw waveforms: data, model, loss, metrics, serving.

    Args:
        config: an ``ExperimentConfig`` from ``default_config()`` with overrides applied.

    Example:

    >>> from kerazoo.recipes.speech_commands import SpeechCommands
    >>> task = SpeechCommands(SpeechCommands.default_config())
    >>> data = task.prepare_data()
    >>> len(data.class_names), data.feature_spec
    (12, ((16000,), 'float32'))
    """

    name = "speech_commands"

    @classmethod
    def default_config(cls) -> ExperimentConfig:
        config = ExperimentConfig(task=cls.name, data=AudioDataConfig())
        config.model.name = "bc_resnet1"
        config.model.batchnorm_momentum = 0.9  # ~500 steps: 0.99 leaves the statistics behind
        config.train.epochs = 40
        config.train.batch_size = 32
        config.train.learning_rate = 5e-3
        config.train.warmup_steps = 30
        config.data.augment = ["time_shift", "noise", "spec_augment"]
        return config

    @property
    def clip_samples(self) -> int:
        return int(round(self.config.data.sample_rate * self.config.data.clip_seconds))

    # ----- data -----
    def prepare_data(self) -> PreparedData:
        from kerazoo.recipes import audio_sources

        data = self.config.data
        unknown = [name for name in data.augment if name not in AUGMENTATIONS]
        if unknown:
            raise ConfigError(f"Config key 'data.augment': unknown augmentation {unknown[0]!r}; "
                              f"choose from {', '.join(AUGMENTATIONS)}.")
        if data.features not in FEATURES:
            raise ConfigError(f"Config key 'data.features' must be one of {', '.join(FEATURES)}. "
                              f"Received: {data.features!r}")
        source = data.source
        if source == audio_sources.EMBEDDED:
            if data.sample_rate != 16_000:
                raise ConfigError(f"{source} is 16 kHz; data.sample_rate={data.sample_rate}.")
            prepared = audio_sources.load_embedded(self.clip_samples)
        elif source.startswith("folder:"):
            prepared = audio_sources.load_folder(
                source[7:], sample_rate=data.sample_rate, clip_samples=self.clip_samples,
                validation_fraction=data.validation_fraction, test_fraction=data.test_fraction,
                seed=data.seed, silence_fraction=data.silence_fraction,
            )
        elif source.startswith("tfds:"):
            prepared = audio_sources.load_tfds(
                source[5:], data_dir=data.data_dir, download=data.download,
                clip_samples=self.clip_samples, validation_fraction=data.validation_fraction,
            )
        else:
            raise ConfigError(f"Config key 'data.source': {source!r} is not a source; use "
                              f"{audio_sources.EMBEDDED}, folder:PATH or tfds:NAME.")
        self.data = prepared
        return prepared

    def example_augment(self):
        import tensorflow as tf

        data = self.config.data
        names = set(data.augment) - {"spec_augment"}
        noise_bank = self.data.info.get("noise")
        if "noise" in names and (noise_bank is None or len(noise_bank) == 0):
            names.discard("noise")  # no background recordings: nothing to mix in
        if not names:
            return None
        shift = int(data.sample_rate * data.time_shift_ms / 1000)
        bank = tf.constant(noise_bank) if "noise" in names else None

        def augment(clip, label, seed):
            seeds = tf.random.experimental.stateless_split(seed, 4)
            if "time_shift" in names and shift:
                offset = tf.random.stateless_uniform([], seeds[0], -shift, shift + 1, tf.int32)
                padded = tf.pad(clip, [[shift, shift]])
                clip = padded[shift - offset : shift - offset + self.clip_samples]
            if "noise" in names:
                pick = tf.random.stateless_uniform([], seeds[1], 0, tf.shape(bank)[0], tf.int32)
                gain = tf.random.stateless_uniform([], seeds[2], 0.0, data.noise_max_gain)
                use = tf.cast(tf.random.stateless_uniform([], seeds[3]) < data.noise_probability,
                              tf.float32)
                clip = tf.clip_by_value(clip + use * gain * bank[pick], -1.0, 1.0)
            return tf.ensure_shape(clip, (self.clip_samples,)), label

        return augment

    # ----- model -----
    def frontend(self, waveforms):
        """Waveform ``[batch, samples]`` -> standardized features ``[batch, time, bins]``."""
        import keras

        from kerazoo.layers import MFCC, SpecAugment

        data = self.config.data
        x = keras.layers.MelSpectrogram(
            fft_length=512, sequence_stride=int(data.sample_rate * 0.010),
            sequence_length=int(data.sample_rate * 0.030), sampling_rate=data.sample_rate,
            num_mel_bins=data.num_mel_bins, power_to_db=True, name="log_mel",
        )(waveforms)
        x = keras.layers.Permute((2, 1), name="time_major")(x)  # [batch, time, mel]
        if data.features == "mfcc":
            x = MFCC(num_mfcc=data.num_mfcc, axis=-1, name="mfcc")(x)
        # Per-utterance standardization: loudness and channel differences between clips vanish.
        x = keras.layers.LayerNormalization(axis=(-2, -1), center=False, scale=False,
                                            name="utterance_norm")(x)
        if "spec_augment" in data.augment:
            x = SpecAugment(freq_mask_param=max(1, x.shape[-1] // 8), time_mask_param=10,
                            num_freq_masks=2, num_time_masks=2, seed=data.seed,
                            name="spec_augment")(x)
        return x

    def build_model(self):
        import keras

        from kerazoo import zoo

        cfg = self.config.model
        inputs = keras.Input((self.clip_samples,), name="waveforms")
        features = self.frontend(inputs)
        if cfg.name not in SEQUENCE_MODELS:
            features = keras.layers.Reshape((*features.shape[1:], 1), name="channel")(features)
        classes = len(self.data.class_names)
        if cfg.init is None:
            inner = zoo.build(cfg.name, input_shape=tuple(features.shape[1:]),
                              num_classes=classes, dropout=cfg.dropout)
        else:
            inner = zoo.replace_head(self.init_base_model(), classes, dropout=cfg.dropout,
                                     freeze_backbone=cfg.freeze_backbone)
        model = keras.Model(inputs, inner(features), name=f"{self.name}_{cfg.name}")
        if cfg.freeze_backbone:
            zoo.set_backbone_trainable(inner, False)
        return model

    def build_loss(self):
        from kerazoo.recipes.classification import task_loss

        return task_loss(self)

    # ----- evaluation and serving -----
    def predict_numpy(self, model, clips: np.ndarray) -> np.ndarray:
        import keras

        outputs = [
            keras.ops.convert_to_numpy(keras.ops.softmax(keras.ops.cast(
                model(clips[start : start + 256].astype("float32"), training=False), "float32")))
            for start in range(0, len(clips), 256)
        ]
        return np.concatenate(outputs)

    def evaluate(self, model, split: str = "test", run_dir=None) -> dict[str, Any]:
        from kerazoo.recipes.evaluation import classification_report, detection_report

        clips, labels = [], []
        for x, y in self.data.splits[split].batch(1024):
            clips.append(x.numpy())
            labels.append(y.numpy())
        clips, labels = np.concatenate(clips), np.concatenate(labels)
        probabilities = self.predict_numpy(model, clips)
        report = classification_report(labels, probabilities, self.data.class_names, run_dir)
        keywords = [name for name in self.data.class_names if not name.startswith("_")]
        report.update(detection_report(labels, probabilities, self.data.class_names, keywords))
        return report

    def input_description(self, data: PreparedData) -> str:
        return (f"float32 waveforms [batch, {self.clip_samples}] at {self.config.data.sample_rate}"
                " Hz (`serving_default`, input `waveforms`: shorter clips zero-padded, longer "
                "ones centre-cropped) or WAV bytes (`serving_wav`); features are computed inside")

    def predict_cli(self, model, args, class_names: list[str]) -> list[str]:
        from kerazoo.recipes.audio_sources import fit_length, read_wav

        if not args.inputs:
            raise ConfigError("kerazoo predict: give one or more .wav files.")
        clips = np.stack([fit_length(read_wav(Path(name), self.config.data.sample_rate),
                                     self.clip_samples) for name in args.inputs])
        return top_k_lines(args.inputs, self.predict_numpy(model, clips), class_names, args.top)

    def serving_signatures(self, model, class_names):
        from kerazoo.recipes.export import waveform_signatures

        return waveform_signatures(model, class_names, self.clip_samples)
