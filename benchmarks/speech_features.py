"""Speech commands: log-mel features inside the model vs in the tf.data pipeline, same run.

Both peers train the recipe's default zoo model (bc_resnet1) on the same embedded clips with the
same per-step work otherwise:

- in model: the pipeline yields waveforms ``[batch, 16000]``; the model's first layers compute
  the log-mel spectrogram and the per-utterance standardization (the recipe's default, so the
  SavedModel and TFLite take waveforms);
- in pipeline: a ``tf.data`` map computes the same front end per batch (parallel, prefetched)
  and the model starts at the features.

Rounds alternate; medians of seconds per training step; ratio = in model / in pipeline (< 1:
the model is faster). Writes ``benchmarks/results/speech_features.{csv,md}``.

Usage: python benchmarks/speech_features.py [--steps 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

import tensorflow as tf


def build(task, data, features_in_model: bool):
    import keras

    from kerazoo import zoo

    config = task.config
    waveforms = keras.Input((task.clip_samples,), name="waveforms")
    features = task.frontend(waveforms)
    frontend = keras.Model(waveforms, keras.layers.Reshape((*features.shape[1:], 1))(features))
    classifier = zoo.build(config.model.name, input_shape=tuple(frontend.output.shape[1:]),
                           num_classes=len(data.class_names))
    model = keras.Model(waveforms, classifier(frontend(waveforms))) if features_in_model \
        else classifier
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(iterator):
        x, y = next(iterator)
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    dataset = task.build_inputs(data, "train", per_replica_batch=32, training=True).repeat()
    if not features_in_model:
        dataset = dataset.map(lambda x, y: (frontend(x, training=False), y),
                              num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return step, iter(dataset)


def seconds_per_step(step, iterator, steps: int) -> float:
    float(step(iterator))
    started = time.perf_counter()
    for _ in range(steps):
        loss = step(iterator)
    float(loss)
    return (time.perf_counter() - started) / steps


def main() -> None:
    from kerazoo.recipes.api import get_task, resolve_config

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    # No augmentation in either peer: the comparison is about where the features are computed.
    config = resolve_config("speech_commands", None, ["data.augment=[]"])
    task = get_task("speech_commands")(config)
    data = task.prepare_data()
    load_before = os.getloadavg()[0]
    peers = {"in model": build(task, data, True), "in pipeline": build(task, data, False)}
    times = {name: [] for name in peers}
    for index in range(args.rounds):
        for name in (list(peers) if index % 2 == 0 else list(peers)[::-1]):
            times[name].append(seconds_per_step(*peers[name], args.steps))
    inside, outside = (statistics.median(times[name]) for name in peers)
    load = f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after (1-min)"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "speech_features.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["model", "features_in_model_s", "features_in_pipeline_s", "ratio",
                         "load_average"])
        writer.writerow([config.model.name, f"{inside:.5f}", f"{outside:.5f}",
                         f"{inside / outside:.3f}", load])
    lines = [
        f"Load average {load}; {os.cpu_count()} CPU cores; batch 32; medians of {args.rounds} "
        f"alternating rounds x {args.steps} training steps.", "",
        "| model | features in model (s/step) | features in pipeline (s/step) | ratio |",
        "|---|---|---|---|",
        f"| {config.model.name} | {inside:.5f} | {outside:.5f} | {inside / outside:.3f} |",
    ]
    (out / "speech_features.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
