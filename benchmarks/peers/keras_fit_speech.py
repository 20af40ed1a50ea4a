"""The plain Keras script a user writes for the speech recipe's data and zoo model.

The embedded ``speech_commands_tiny`` splits (the recipe's: the same test clips), each clip
padded or centre-cropped to 1 s at 16 kHz; a log-mel front end in the model as the Keras docs
show it (``keras.layers.MelSpectrogram``, 30 ms windows, 10 ms hop, 40 bins, dB; per-clip
standardization), the recipe's default zoo model (``bc_resnet1``), Adam 5e-3, batch 32, 40
epochs (the recipe's defaults), ``model.fit`` with the validation split, ``model.evaluate`` on the
test split; no augmentation, no schedule. Prints one JSON line ``{"test_accuracy": ...}``.

Usage: python benchmarks/peers/keras_fit_speech.py [--model bc_resnet1] [--epochs 40] [--seed 0]
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bc_resnet1")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import keras

    from kerazoo import zoo
    from kerazoo.recipes.audio_sources import fit_length
    from kerazoo.recipes.embedded import speech

    keras.utils.set_random_seed(args.seed)
    samples = speech.SAMPLE_RATE
    splits = {}
    for split in speech.SPLITS:
        clips, labels = speech.load(split)
        splits[split] = (np.stack([fit_length(c, samples) for c in clips]),
                         np.asarray(labels, "int64"))
    (x, y), (vx, vy), (tx, ty) = (splits[s] for s in speech.SPLITS)
    inputs = keras.Input((samples,))
    features = keras.layers.MelSpectrogram(
        fft_length=512, sequence_stride=160, sequence_length=480, sampling_rate=samples,
        num_mel_bins=40, power_to_db=True)(inputs)
    features = keras.layers.Permute((2, 1))(features)
    features = keras.layers.LayerNormalization(axis=(-2, -1), center=False,
                                               scale=False)(features)
    features = keras.layers.Reshape((*features.shape[1:], 1))(features)
    inner = zoo.build(args.model, input_shape=tuple(features.shape[1:]),
                      num_classes=len(speech.CLASS_NAMES))
    model = keras.Model(inputs, inner(features))
    model.compile(optimizer=keras.optimizers.Adam(5e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=args.epochs, validation_data=(vx, vy), verbose=0)
    _, accuracy = model.evaluate(tx, ty, batch_size=256, verbose=0)
    print(json.dumps({"test_accuracy": float(accuracy), "test_examples": int(len(ty))}))


if __name__ == "__main__":
    main()
