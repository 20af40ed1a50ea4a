"""Optimizer step time: kerazoo (Keras 3, TensorFlow backend) against tfa 0.23 (TF 2.15), same run.

The parameter set has ResNet-20's shapes (~0.27M parameters in 63 variables: 19 convolution
kernels, 19 BatchNorm gamma/beta pairs, 2 projection shortcuts, the classifier). Each side applies
fixed random gradients inside a ``tf.function``; rounds alternate between this process (kerazoo)
and a tfa subprocess running in the reference environment, and the median per-step time of each
side is compared. Ratio = kerazoo / tfa (below 1.0: kerazoo is faster). Two reference rows time
Keras 3's own Adam and SGD against tf.keras's legacy ones: the floor for any update written with
keras.ops. Where TensorFlow has a fused kernel for exactly the update (ProximalAdagrad, LazyAdam's
dense path, SGDW's momentum), kerazoo uses it on the TensorFlow backend, as tfa did.

    .venv/bin/python benchmarks/optimizers_vs_tfa.py [--tfa-python /work/tfa-venv/bin/python]
        [--steps 50] [--rounds 5] [--only RectifiedAdam,Yogi]

Writes ``benchmarks/results/optimizers_vs_tfa.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))


def resnet20_shapes() -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = [(3, 3, 3, 16), (16,), (16,)]
    channels_in = 16
    for channels in (16, 32, 64):
        for block in range(3):
            for conv in range(2):
                source = channels_in if conv == 0 else channels
                shapes += [(3, 3, source, channels), (channels,), (channels,)]
            if block == 0 and channels != channels_in:
                shapes += [(1, 1, channels_in, channels)]
            channels_in = channels
    return shapes + [(64, 10), (10,)]


# name -> (tfa constructor source, kerazoo constructor source); evaluated on each side.
CASES = {
    "RectifiedAdam": ("tfa.optimizers.RectifiedAdam(1e-3)", "ko.RectifiedAdam(1e-3)"),
    "AdaBelief": ("tfa.optimizers.AdaBelief(1e-3)", "ko.AdaBelief(1e-3)"),
    "Yogi": ("tfa.optimizers.Yogi(1e-3)", "ko.Yogi(1e-3)"),
    "NovoGrad": ("tfa.optimizers.NovoGrad(1e-3)", "ko.NovoGrad(1e-3)"),
    "LazyAdam": ("tfa.optimizers.LazyAdam(1e-3)", "ko.LazyAdam(1e-3)"),
    "ConditionalGradient": ("tfa.optimizers.ConditionalGradient(0.9)",
                            "ko.ConditionalGradient(0.9)"),
    "ProximalAdagrad": ("tfa.optimizers.ProximalAdagrad(1e-2, l1_regularization_strength=1e-4)",
                        "ko.ProximalAdagrad(1e-2, l1_regularization_strength=1e-4)"),
    "COCOB": ("tfa.optimizers.COCOB()", "ko.COCOB()"),
    "SGDW": ("tfa.optimizers.SGDW(1e-4, 1e-2, momentum=0.9)", "ko.SGDW(1e-4, 1e-2, momentum=0.9)"),
    "AdamW/DecoupledWeightDecay": ("tfa.optimizers.AdamW(1e-4, 1e-3)",
                                   "ko.DecoupledWeightDecay(keras.optimizers.Adam(1e-3), 1e-4)"),
    "Lookahead(Adam)": ("tfa.optimizers.Lookahead(tf.keras.optimizers.legacy.Adam(1e-3))",
                        "ko.Lookahead(keras.optimizers.Adam(1e-3))"),
    "MovingAverage(SGD)": (
        "tfa.optimizers.MovingAverage(tf.keras.optimizers.legacy.SGD(1e-2, momentum=0.9))",
        "ko.MovingAverage(keras.optimizers.SGD(1e-2, momentum=0.9))"),
    "SWA(SGD)": ("tfa.optimizers.SWA(tf.keras.optimizers.legacy.SGD(1e-2, momentum=0.9), 0, 5)",
                 "ko.SWA(keras.optimizers.SGD(1e-2, momentum=0.9), 0, 5)"),
    # Not kerazoo: Keras 3's own optimizers against tf.keras's legacy ones. This is the floor for
    # every update kerazoo writes with keras.ops or wraps (Keras's per-variable apply machinery).
    "reference: keras Adam": ("tf.keras.optimizers.legacy.Adam(1e-3)",
                              "keras.optimizers.Adam(1e-3)"),
    "reference: keras SGD": ("tf.keras.optimizers.legacy.SGD(1e-2, momentum=0.9)",
                             "keras.optimizers.SGD(1e-2, momentum=0.9)"),
}

# The tfa side: a small server reading case names on stdin, answering seconds per step.
TFA_WORKER = r'''
import json, os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, tensorflow as tf, tensorflow_addons as tfa
shapes, steps = json.loads(sys.argv[1]), int(sys.argv[2])
rng = np.random.RandomState(0)
prepared = {}
print("ready", flush=True)
for line in sys.stdin:
    name, source = json.loads(line)
    if name not in prepared:
        variables = [tf.Variable(rng.normal(size=s).astype("float32") * 0.1) for s in shapes]
        grads = [tf.constant(rng.normal(size=s).astype("float32") * 0.01) for s in shapes]
        opt = eval(source)
        def body(i, opt=opt, grads=grads, variables=variables):
            with tf.control_dependencies([opt.apply_gradients(zip(grads, variables))]):
                return i + 1
        @tf.function
        def run(body=body):
            return tf.while_loop(lambda i: i < steps, body, [tf.constant(0)])
        run()  # trace + build
        prepared[name] = run
    start = time.perf_counter(); prepared[name](); elapsed = time.perf_counter() - start
    print(json.dumps(elapsed / steps), flush=True)
'''


def kerazoo_runner(source: str, shapes, steps: int):
    import keras
    import numpy as np
    import tensorflow as tf

    import kerazoo.optimizers as ko  # noqa: F401  (used by eval)

    rng = np.random.RandomState(0)
    variables = [keras.Variable(rng.normal(size=s).astype("float32") * 0.1) for s in shapes]
    grads = [tf.constant(rng.normal(size=s).astype("float32") * 0.01) for s in shapes]
    optimizer = eval(source, {"ko": ko, "keras": keras})
    optimizer.build(variables)

    def body(i):
        optimizer.apply(grads, variables)
        with tf.control_dependencies([optimizer.iterations.value]):
            return i + 1

    @tf.function
    def run():
        # The same tf.while_loop as the tfa side (autograph cannot read the tfa worker's source).
        return tf.while_loop(lambda i: i < steps, body, [tf.constant(0)])

    run()

    def timed() -> float:
        start = time.perf_counter()
        run()
        return (time.perf_counter() - start) / steps

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tfa-python", default="/work/tfa-venv/bin/python")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    import keras

    if keras.backend.backend() != "tensorflow":
        sys.exit("Run with KERAS_BACKEND=tensorflow: the comparison is TF graph against TF graph.")
    shapes = resnet20_shapes()
    n_params = sum(int(__import__("math").prod(s)) for s in shapes)
    names = [n for n in CASES if not args.only or n in args.only.split(",")]
    worker = subprocess.Popen([args.tfa_python, "-c", TFA_WORKER, json.dumps(shapes),
                               str(args.steps)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert worker.stdout.readline().strip() == "ready"
    rows = []
    for name in names:
        tfa_source, kz_source = CASES[name]
        timed = kerazoo_runner(kz_source, shapes, args.steps)
        tfa_times, kz_times = [], []
        for _ in range(args.rounds):
            worker.stdin.write(json.dumps([name, tfa_source]) + "\n")
            worker.stdin.flush()
            tfa_times.append(float(worker.stdout.readline()))
            kz_times.append(timed())
        tfa_ms, kz_ms = 1e3 * statistics.median(tfa_times), 1e3 * statistics.median(kz_times)
        rows.append((name, kz_ms, tfa_ms, kz_ms / tfa_ms))
        print(f"{name:28s} kerazoo {kz_ms:8.3f} ms  tfa {tfa_ms:8.3f} ms  ratio {kz_ms / tfa_ms:5.2f}",
              flush=True)
    worker.stdin.close()
    worker.wait()
    import tensorflow as tf

    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    header = (f"Optimizer step time, ResNet-20 parameter set ({n_params:,} parameters in "
              f"{len(shapes)} variables), {args.steps} steps x {args.rounds} alternating rounds, "
              f"median. kerazoo: Keras {keras.__version__} / TF {tf.__version__}; tfa 0.23 / "
              f"TF 2.15.1. Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared).")
    lines = [header, "", "| optimizer | kerazoo ms/step | tfa ms/step | ratio (kerazoo / tfa) |",
             "| --- | ---: | ---: | ---: |"]
    lines += [f"| {n} | {k:.3f} | {t:.3f} | {r:.2f} |" for n, k, t, r in rows]
    with open(os.path.join(HERE, "results", "optimizers_vs_tfa.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    with open(os.path.join(HERE, "results", "optimizers_vs_tfa.csv"), "w") as handle:
        handle.write("optimizer,kerazoo_ms,tfa_ms,ratio\n")
        handle.writelines(f"{n},{k:.4f},{t:.4f},{r:.4f}\n" for n, k, t, r in rows)


if __name__ == "__main__":
    main()
