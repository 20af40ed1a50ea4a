"""Time per ``update_state`` of kerazoo metrics against tfa 0.23, alternating in one run.

kerazoo runs here (Keras 3 on the TensorFlow backend); tfa 0.23 runs in a worker subprocess of the
tfa reference environment (TensorFlow 2.15), fed the same inputs (same seeded NumPy generator).
Both sides call ``update_state`` inside a ``tf.function`` (graph mode, as ``fit``/``evaluate`` run
metrics), warm up, then time ``--calls`` calls; the sides alternate for ``--rounds`` rounds and
the medians are compared. ratio = kerazoo / tfa (< 1: kerazoo faster).

    .venv/bin/python benchmarks/metrics_vs_tfa.py [--tfa-python /work/tfa-venv/bin/python]

Prints a table and writes benchmarks/results/metrics_vs_tfa.{md,csv}.
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

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (metric class, kwargs, number of samples, input kind); both libraries use these names.
CASES = {
    "CohenKappa 100k": ("CohenKappa", {"num_classes": 5, "sparse_labels": True}, 100_000,
                        "classes5"),
    "CohenKappa 100k quadratic": ("CohenKappa", {"num_classes": 5, "sparse_labels": True,
                                                 "weightage": "quadratic"}, 100_000, "classes5"),
    "MatthewsCorrelationCoefficient 100k": ("MatthewsCorrelationCoefficient",
                                            {"num_classes": 5}, 100_000, "onehot5"),
    "HammingLoss 10k x 20": ("HammingLoss", {"mode": "multilabel", "threshold": 0.5}, 10_000,
                             "multilabel20"),
    "MultiLabelConfusionMatrix 10k x 20": ("MultiLabelConfusionMatrix", {"num_classes": 20},
                                           10_000, "binary20"),
    "GeometricMean 100k": ("GeometricMean", {}, 100_000, "values"),
    "HarmonicMean 100k": ("HarmonicMean", {}, 100_000, "values"),
    "KendallsTauB 100k": ("KendallsTauB", {}, 100_000, "pairs"),
    "KendallsTauC 100k": ("KendallsTauC", {}, 100_000, "pairs"),
    "SpearmansRank 100k": ("SpearmansRank", {}, 100_000, "pairs"),
}


def inputs(kind: str, n: int):
    rng = np.random.default_rng(0)
    if kind == "classes5":
        return rng.integers(0, 5, n).astype("int32"), rng.random((n, 5)).astype("float32")
    if kind == "onehot5":
        return (np.eye(5, dtype="float32")[rng.integers(0, 5, n)],
                rng.random((n, 5)).astype("float32"))
    if kind == "multilabel20":
        return ((rng.random((n, 20)) > 0.5).astype("float32"),
                rng.random((n, 20)).astype("float32"))
    if kind == "binary20":
        return ((rng.random((n, 20)) > 0.5).astype("int32"),
                (rng.random((n, 20)) > 0.5).astype("int32"))
    if kind == "values":
        return ((0.1 + rng.random(n)).astype("float32"),)
    truth = rng.random(n).astype("float32")
    return truth, np.clip(truth + 0.1 * rng.random(n), 0, 1).astype("float32")


def make_timer(library: str, case: str):
    """A function running ``calls`` graph-mode updates and returning seconds per call."""
    import tensorflow as tf

    metric_name, kwargs, n, kind = CASES[case]
    if library == "tfa":
        import tensorflow_addons as tfa

        metric = getattr(tfa.metrics, metric_name)(**kwargs)
    else:
        import kerazoo.metrics

        metric = getattr(kerazoo.metrics, metric_name)(**kwargs)
    args = [tf.constant(a) for a in inputs(kind, n)]

    @tf.function
    def update():
        metric.update_state(*args)

    update()  # trace
    for _ in range(3):
        update()

    def timer(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            update()
        # The state read forces the queued updates to finish before the clock stops.
        np.asarray(metric.variables[0].numpy() if hasattr(metric.variables[0], "numpy")
                   else metric.variables[0])
        return (time.perf_counter() - start) / calls

    return timer


def worker() -> None:
    """Serve timing requests for tfa on stdin/stdout (one JSON line each way)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import tensorflow_addons as tfa

    timers = {}
    print(json.dumps({"ready": True, "tensorflow": tf.__version__, "tfa": tfa.__version__}),
          flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        case = request["case"]
        if case not in timers:
            timers[case] = make_timer("tfa", case)
        print(json.dumps({"seconds": timers[case](request["calls"])}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tfa-python", default="/work/tfa-venv/bin/python")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        worker()
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    import tensorflow as tf

    process = subprocess.Popen(
        [options.tfa_python, os.path.abspath(__file__), "--worker"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    hello = json.loads(process.stdout.readline())

    def tfa_seconds(case: str, calls: int) -> float:
        process.stdin.write(json.dumps({"case": case, "calls": calls}) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())["seconds"]

    rows = []
    try:
        for case in options.cases:
            ours_timer = make_timer("kerazoo", case)
            # One discarded round per side: the first timed calls of a process (thread pools,
            # allocator) otherwise land on whichever case runs first.
            ours_timer(options.calls)
            tfa_seconds(case, options.calls)
            ours, theirs = [], []
            for _ in range(options.rounds):
                ours.append(ours_timer(options.calls))
                theirs.append(tfa_seconds(case, options.calls))
            kerazoo_ms = 1e3 * statistics.median(ours)
            tfa_ms = 1e3 * statistics.median(theirs)
            rows.append((case, kerazoo_ms, tfa_ms, kerazoo_ms / tfa_ms))
            print(f"{case:40s} kerazoo {kerazoo_ms:8.3f} ms  tfa {tfa_ms:8.3f} ms  "
                  f"ratio {kerazoo_ms / tfa_ms:5.2f}", flush=True)
    finally:
        process.stdin.close()
        process.wait(timeout=60)

    header = (f"kerazoo (keras {keras.__version__}, TF {tf.__version__}) vs tfa {hello['tfa']} "
              f"(TF {hello['tensorflow']}) on {platform.machine()} {os.cpu_count()} CPUs; "
              f"median of {options.rounds} alternating rounds of {options.calls} graph-mode "
              "update_state calls")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "metrics_vs_tfa.md"), "w") as stream:
        stream.write(f"# Metrics: time per update vs tfa 0.23\n\n{header}.\n\n")
        stream.write("| case | kerazoo ms | tfa ms | ratio |\n|---|---:|---:|---:|\n")
        for case, ours_ms, tfa_ms, ratio in rows:
            stream.write(f"| {case} | {ours_ms:.3f} | {tfa_ms:.3f} | {ratio:.2f} |\n")
    with open(os.path.join(HERE, "results", "metrics_vs_tfa.csv"), "w") as stream:
        stream.write("case,kerazoo_ms,tfa_ms,ratio\n")
        for case, ours_ms, tfa_ms, ratio in rows:
            stream.write(f"{case},{ours_ms:.4f},{tfa_ms:.4f},{ratio:.4f}\n")
    print(header)


if __name__ == "__main__":
    main()
