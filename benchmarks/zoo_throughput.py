"""Zoo throughput on this machine, timm-style, plus two same-run comparisons with peers.

Writes ``benchmarks/results/zoo_throughput.csv`` (``model, input_size, train_samples_per_sec,
infer_samples_per_sec, batch, params, macs`` and the backend/device it ran on) and
``benchmarks/results/zoo_vs_peers.md``: our ``resnet50`` against ``keras.applications.ResNet50``
and our ``resnet20`` against an independent plain-Keras ResNet-20 written below, both with the same
input, batch, optimizer and loss, measured alternately (ours, peer, ours, peer, ...) so that load
from other processes hits both alike; the ratio is ours / peer (>= 1.0: ours no slower).

Usage::

    python benchmarks/zoo_throughput.py                  # default model list, CPU
    python benchmarks/zoo_throughput.py --models resnet20 simple_cnn --steps 20 --rounds 5
    python benchmarks/zoo_throughput.py --peers-only --steps 10 --rounds 7
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerazoo import zoo  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_MODELS = ("simple_cnn", "resnet20", "resnet56", "wide_resnet16_4", "ds_cnn_s",
                  "bc_resnet1", "bc_resnet8", "lstm_kws", "mlp_mixer", "text_cnn",
                  "bilstm_text_classifier", "lstm_forecaster", "nbeats_generic", "dlinear")


def plain_keras_resnet20(input_shape=(32, 32, 3), num_classes=10, shortcut="A") -> keras.Model:
    """ResNet-20 as a Keras user writes it from the paper: conv-BN-ReLU basic blocks; where the
    shape changes, option A (subsample, zero-pad the new channels, in a Lambda) or option B (1x1
    projection). No kerazoo code involved."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            strides = 2 if stage and not block else 1
            y = keras.layers.Conv2D(filters, 3, strides, padding="same", use_bias=False)(x)
            y = keras.layers.ReLU()(keras.layers.BatchNormalization()(y))
            y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
            y = keras.layers.BatchNormalization()(y)
            if strides != 1 and shortcut == "B":
                x = keras.layers.Conv2D(filters, 1, strides, use_bias=False)(x)
                x = keras.layers.BatchNormalization()(x)
            elif strides != 1:
                pad = filters - x.shape[-1]
                x = keras.layers.Lambda(lambda t, pad=pad: keras.ops.pad(
                    t[:, ::2, ::2, :], [[0, 0], [0, 0], [0, 0], [0, pad]]))(x)
            x = keras.layers.ReLU()(keras.layers.Add()([x, y]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x))


def _data(model, batch):
    rng = np.random.default_rng(0)
    shape = (batch, *model.input.shape[1:])
    if "int" in str(model.input.dtype):
        x = rng.integers(1, 100, size=shape).astype("int32")
    else:
        x = rng.normal(size=shape).astype("float32")
    out = model.output.shape
    if len(out) == 2:
        y = rng.integers(0, out[-1], size=(batch,)).astype("int32")
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        y = rng.normal(size=(batch, *out[1:])).astype("float32")
        loss = "mse"
    return x, y, loss


class Timer:
    """Compiled train and predict steps of one model, timed in rounds of ``steps`` batches."""

    def __init__(self, model, batch):
        self.model, self.batch = model, batch
        self.x, self.y, loss = _data(model, batch)
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss=loss)
        for _ in range(2):  # trace and warm up both functions
            model.train_on_batch(self.x, self.y)
            model.predict_on_batch(self.x)
        self.train, self.infer = [], []

    def round(self, steps):
        start = time.perf_counter()
        for _ in range(steps):
            self.model.train_on_batch(self.x, self.y)
        self.train.append(steps * self.batch / (time.perf_counter() - start))
        start = time.perf_counter()
        for _ in range(steps):
            self.model.predict_on_batch(self.x)
        self.infer.append(steps * self.batch / (time.perf_counter() - start))

    def rates(self):
        return statistics.median(self.train), statistics.median(self.infer)


def measure(models, steps, rounds):
    """Alternate rounds across ``models`` (a list of (label, Timer)); medians per label."""
    for _ in range(rounds):
        for _, timer in models:
            timer.round(steps)
    return {label: timer.rates() for label, timer in models}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(DEFAULT_MODELS))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--resnet50-size", type=int, default=128,
                        help="image size of the resnet50 comparison (224 is slow on a CPU)")
    parser.add_argument("--resnet50-batch", type=int, default=8)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--peers-only", action="store_true",
                        help="only the peer comparisons (leaves zoo_throughput.csv alone)")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    device = f"{platform.machine()} cpu x{os.cpu_count()}"
    if not args.peers_only:
        throughput(args, device)
    if not args.skip_peers:
        compare_with_peers(args, device)
    return 0


def throughput(args, device) -> None:
    """One row per model of ``args.models`` into zoo_throughput.csv (overwritten)."""
    rows = []
    for name in args.models:
        model = zoo.build(name)
        counts = zoo.profile(model)
        timer = Timer(model, args.batch)
        train, infer = measure([(name, timer)], args.steps, args.rounds)[name]
        rows.append({
            "model": name, "input_size": "x".join(map(str, model.input.shape[1:])),
            "train_samples_per_sec": round(train, 1), "infer_samples_per_sec": round(infer, 1),
            "batch": args.batch, "params": counts["params"], "macs": counts["macs"],
            "backend": keras.backend.backend(), "keras": keras.__version__, "device": device,
        })
        print(f"{name:28s} train {train:9.1f}/s  infer {infer:9.1f}/s", flush=True)
        keras.backend.clear_session()
    with open(RESULTS / "zoo_throughput.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def compare_with_peers(args, device) -> None:
    size = args.resnet50_size
    pairs = [
        ("resnet50", f"{size}x{size}x3", args.resnet50_batch,
         lambda: zoo.build("resnet50", input_shape=(size, size, 3)),
         lambda: keras.applications.ResNet50(weights=None, input_shape=(size, size, 3),
                                             classifier_activation=None),
         "keras.applications.ResNet50"),
        ("resnet20", "32x32x3", args.batch, lambda: zoo.build("resnet20"),
         plain_keras_resnet20, "plain Keras ResNet-20, option A (this script)"),
        ("resnet20, shortcut B", "32x32x3", args.batch,
         lambda: zoo.build("resnet20", shortcut="B"),
         lambda: plain_keras_resnet20(shortcut="B"),
         "plain Keras ResNet-20, option B (this script)"),
    ]
    lines = [
        f"# Zoo vs peers ({keras.backend.backend()}, Keras {keras.__version__}, {device})", "",
        "Measured alternately in one run; samples/s are medians of "
        f"{args.rounds} rounds of {args.steps} steps; ratio = ours / peer.", "",
        "| model | peer | input | batch | train ours | train peer | train ratio | "
        "infer ours | infer peer | infer ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, input_size, batch, ours_fn, peer_fn, peer_name in pairs:
        ours, peer = Timer(ours_fn(), batch), Timer(peer_fn(), batch)
        rates = measure([("ours", ours), ("peer", peer)], args.steps, args.rounds)
        (ot, oi), (pt, pi) = rates["ours"], rates["peer"]
        lines.append(
            f"| {name} | {peer_name} | {input_size} | {batch} | {ot:.1f} | {pt:.1f} | "
            f"{ot / pt:.2f} | {oi:.1f} | {pi:.1f} | {oi / pi:.2f} |"
        )
        print(lines[-1], flush=True)
        keras.backend.clear_session()
    (RESULTS / "zoo_vs_peers.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
