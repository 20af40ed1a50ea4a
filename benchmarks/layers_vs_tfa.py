"""Forward+backward time of kerazoo's tfa-derived layers against tfa 0.23, same shapes, same run.

Two worker processes, each compiling every case once as a ``tf.function`` (gradient of a scalar
of the outputs with respect to the layer's weights and float inputs): kerazoo on Keras 3 with the
TensorFlow backend (this venv), and tfa 0.23 on TensorFlow 2.15 / Keras 2
(``/work/tfa-venv/bin/python``, or ``--tfa-python``). Rounds alternate which side runs first;
the reported time is the median over rounds of the mean step time. Ratio = kerazoo / tfa
(< 1: kerazoo faster). Rows named "reference: ..." time the same stock Keras layer on both
sides: the difference between the two frameworks themselves.

    .venv/bin/python benchmarks/layers_vs_tfa.py [--rounds 5] [--steps 20] [--cases CRF,TLU]

Writes ``benchmarks/results/layers_vs_tfa.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TFA_PYTHON = "/work/tfa-venv/bin/python"

# name -> (input shapes, description). Shapes are those of a mid-sized model's layer.
CASES = {
    "StochasticDepth": ([(32, 16, 16, 64), (32, 16, 16, 64)], "survival 0.8, training"),
    "LayerNormLSTMCell": ([(32, 40, 64)], "RNN, 128 units"),
    "PeepholeLSTMCell": ([(32, 40, 64)], "RNN, 128 units"),
    "LayerNormSimpleRNNCell": ([(32, 40, 64)], "RNN, 128 units"),
    "ESN": ([(32, 40, 64)], "128 units"),
    "WeightNormalization": ([(256, 256)], "Dense(256), data_init=False"),
    "FilterResponseNormalization": ([(32, 16, 16, 64)], ""),
    "TLU": ([(32, 16, 16, 64)], "affine"),
    "Maxout": ([(256, 512)], "128 units"),
    "CRF": ([(32, 40, 64)], "10 tags: decode + log-likelihood"),
    "NoisyDense": ([(256, 256)], "256 units"),
    "PolynomialCrossing": ([(256, 256), (256, 256)], "full kernel"),
    "SpatialPyramidPooling2D": ([(32, 16, 16, 64)], "bins 1, 2, 4"),
    "MaxUnpooling2D": ([(32, 8, 8, 64)], "2x2"),
    "Snake": ([(256, 512)], ""),
    "PoincareNormalize": ([(256, 512)], "axis 1"),
    # Not kerazoo: the same stock layer on both sides (Keras 3 / TF 2.21 against tf.keras /
    # TF 2.15). Its ratio is the framework's own difference, the floor for layers built from the
    # same ops.
    "reference: Dense": ([(256, 512)], "keras Dense(128) on both sides"),
    "reference: ReLU": ([(32, 16, 16, 64)], "keras ReLU on both sides"),
    "reference: LayerNormalization": ([(32, 16, 16, 64)], "keras LayerNormalization, both sides"),
}
NOT_TIMED = {
    "EmbeddingBag": "tfa's custom op does not load on CPU-only TensorFlow (needs CUDA symbols)",
}


# --- worker side (runs inside either environment) ----------------------------------------------


def _build(side, name, tf):
    """The layer and a function mapping input tensors to a scalar, for one side."""
    if side == "tfa":
        import tensorflow_addons as tfa

        keras = tf.keras
        L, rnn, text = tfa.layers, tfa.rnn, tfa.text
    else:
        import keras

        from kerazoo import layers as L
        from kerazoo.layers import crf as text

        rnn = L
    make = {
        "StochasticDepth": lambda: L.StochasticDepth(0.8),
        "LayerNormLSTMCell": lambda: keras.layers.RNN(rnn.LayerNormLSTMCell(128)),
        "PeepholeLSTMCell": lambda: keras.layers.RNN(rnn.PeepholeLSTMCell(128)),
        "LayerNormSimpleRNNCell": lambda: keras.layers.RNN(rnn.LayerNormSimpleRNNCell(128)),
        "ESN": lambda: L.ESN(128),
        "WeightNormalization": lambda: L.WeightNormalization(
            keras.layers.Dense(256), data_init=False
        ),
        "FilterResponseNormalization": lambda: L.FilterResponseNormalization(),
        "TLU": lambda: L.TLU(affine=True),
        "Maxout": lambda: L.Maxout(128),
        "CRF": lambda: L.CRF(10),
        "NoisyDense": lambda: L.NoisyDense(256),
        "PolynomialCrossing": lambda: L.PolynomialCrossing(),
        "SpatialPyramidPooling2D": lambda: L.SpatialPyramidPooling2D([1, 2, 4]),
        "MaxUnpooling2D": lambda: L.MaxUnpooling2D(),
        "Snake": lambda: L.Snake(),
        "PoincareNormalize": lambda: L.PoincareNormalize(axis=1),
        "reference: Dense": lambda: keras.layers.Dense(128),
        "reference: ReLU": lambda: keras.layers.ReLU(),
        "reference: LayerNormalization": lambda: keras.layers.LayerNormalization(),
    }[name]
    layer = make()
    shapes = CASES[name][0]
    import numpy as np

    rng = np.random.default_rng(0)
    inputs = [tf.constant(rng.normal(size=s).astype("float32")) for s in shapes]
    if name == "MaxUnpooling2D":
        full = tf.constant(rng.normal(size=(32, 16, 16, 64)).astype("float32"))
        pooled, argmax = tf.nn.max_pool_with_argmax(full, 2, 2, "SAME")
        inputs = [pooled, tf.cast(argmax, tf.int32)]
        def forward(xs):
            return layer(xs[0], xs[1])
    elif name == "CRF":
        tags = tf.constant(rng.integers(0, 10, size=(32, 40)).astype("int32"))
        def forward(xs):
            decoded, potentials, lengths, chain = layer(xs[0])
            ll, _ = text.crf_log_likelihood(potentials, tags, lengths, chain)
            return [ll, tf.cast(decoded, tf.float32) * 0.0]
    elif name in ("StochasticDepth", "PolynomialCrossing"):
        def forward(xs):
            return layer(list(xs), training=True) if name == "StochasticDepth" else layer(list(xs))
    else:
        def forward(xs):
            return layer(xs[0])
    forward(inputs)  # build
    return layer, inputs, forward


def _time_case(side, name, steps, cache, tf):
    if name not in cache:
        layer, inputs, forward = _build(side, name, tf)
        float_inputs = [x for x in inputs if x.dtype == tf.float32]

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                tape.watch(float_inputs)
                outputs = tf.nest.flatten(forward(inputs))
                loss = tf.add_n([tf.reduce_sum(tf.cast(o, tf.float32)) for o in outputs])
            variables = [v for v in layer.trainable_variables]
            grads = tape.gradient(loss, variables + float_inputs)
            return loss, [g for g in grads if g is not None]

        for _ in range(3):  # trace and warm up
            tf.nest.map_structure(lambda t: t.numpy(), step())
        cache[name] = step
    step = cache[name]
    start = time.perf_counter()
    for _ in range(steps):
        result = step()
    tf.nest.map_structure(lambda t: t.numpy(), result)
    return (time.perf_counter() - start) / steps


def worker(side):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if side == "kerazoo":
        os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    cache = {}
    print(json.dumps({"ready": tf.__version__}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            seconds = _time_case(side, request["case"], request["steps"], cache, tf)
            print(json.dumps({"seconds": seconds}), flush=True)
        except Exception as error:  # report, keep serving the other cases
            print(json.dumps({"error": f"{type(error).__name__}: {error}"[:300]}), flush=True)


# --- driver -------------------------------------------------------------------------------------


class _Worker:
    def __init__(self, python, side):
        self.proc = subprocess.Popen(
            [python, __file__, "--worker", side],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        self.version = self._read()["ready"]

    def _read(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("benchmark worker died")
            if line.startswith("{"):
                return json.loads(line)

    def time(self, case, steps):
        self.proc.stdin.write(json.dumps({"case": case, "steps": steps}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--tfa-python", default=TFA_PYTHON)
    parser.add_argument("--worker", choices=("kerazoo", "tfa"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    names = [n for n in args.cases.split(",") if n]
    workers = {"kerazoo": _Worker(sys.executable, "kerazoo"), "tfa": _Worker(args.tfa_python, "tfa")}
    times = {name: {"kerazoo": [], "tfa": []} for name in names}
    errors = {}
    for r in range(args.rounds):
        order = ("kerazoo", "tfa") if r % 2 == 0 else ("tfa", "kerazoo")
        for name in names:
            for side in order:
                if (name, side) in errors:
                    continue
                answer = workers[side].time(name, args.steps)
                if "error" in answer:
                    errors[(name, side)] = answer["error"]
                else:
                    times[name][side].append(answer["seconds"])
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    versions = {side: w.version for side, w in workers.items()}
    for w in workers.values():
        w.close()
    rows = []
    for name in names:
        kz = statistics.median(times[name]["kerazoo"]) if times[name]["kerazoo"] else None
        ref = statistics.median(times[name]["tfa"]) if times[name]["tfa"] else None
        ratio = kz / ref if kz and ref else None
        note = "; ".join(f"{s}: {errors[(name, s)]}" for s in ("kerazoo", "tfa") if (name, s) in errors)
        rows.append({"layer": name, "shapes": str(CASES[name][0]), "setting": CASES[name][1],
                     "kerazoo_ms": kz and round(kz * 1e3, 3), "tfa_ms": ref and round(ref * 1e3, 3),
                     "ratio": ratio and round(ratio, 3), "note": note})
    for name, why in NOT_TIMED.items():
        rows.append({"layer": name, "shapes": "", "setting": "", "kerazoo_ms": None,
                     "tfa_ms": None, "ratio": None, "note": f"not timed: {why}"})
    _write(rows, versions, args)
    return 0


def _write(rows, versions, args):
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "layers_vs_tfa.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    header = (
        f"# kerazoo vs tfa 0.23: forward+backward step time\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared), one TensorFlow "
        f"thread per side; kerazoo on TensorFlow {versions['kerazoo']} (Keras 3), tfa on "
        f"TensorFlow {versions['tfa']} (Keras 2). `tf.function` without XLA on both sides; "
        f"{args.rounds} alternating rounds x {args.steps} steps, median of round means. "
        f"Ratio = kerazoo / tfa (< 1: kerazoo faster).\n\n"
        "| layer | input shapes | setting | kerazoo ms | tfa ms | ratio | note |\n"
        "| --- | --- | --- | ---: | ---: | ---: | --- |\n"
    )
    lines = [
        f"| {r['layer']} | {r['shapes']} | {r['setting']} | {r['kerazoo_ms'] or ''} | "
        f"{r['tfa_ms'] or ''} | {r['ratio'] or ''} | {r['note']} |"
        for r in rows
    ]
    (RESULTS / "layers_vs_tfa.md").write_text(header + "\n".join(lines) + "\n")
    print(header + "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
