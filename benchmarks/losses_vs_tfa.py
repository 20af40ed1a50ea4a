"""Time per call of kerazoo's losses against TensorFlow Addons 0.23 on the same inputs.

kerazoo runs here (TensorFlow backend); tfa runs in a worker process of the tfa reference
environment (``--tfa-python``, default ``/work/tfa-venv/bin/python``). Both load the same inputs
from one ``.npz`` and both are timed inside ``tf.function`` (tfa's own losses are
``tf.function``s); kerazoo is also timed with ``jit_compile=True`` (XLA). Rounds alternate
between the two sides so that machine load hits both alike; the median round is reported.

    .venv/bin/python benchmarks/losses_vs_tfa.py [--rounds 7] [--calls 3] [--min-seconds 0.3]

Prints the table and writes ``benchmarks/results/losses_vs_tfa.md`` and ``.csv``. A ratio below
1.0 means kerazoo is faster.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"

# name: (kerazoo class, tfa class, kwargs, reduction for both or None for the class default)
CASES = {
    "TripletSemiHardLoss 256x128": ("TripletSemiHardLoss", "TripletSemiHardLoss", {}, None),
    "TripletHardLoss 256x128": ("TripletHardLoss", "TripletHardLoss", {}, None),
    "LiftedStructLoss 256x128": ("LiftedStructLoss", "LiftedStructLoss", {}, None),
    "NpairsLoss 256x256": ("NpairsLoss", "NpairsLoss", {}, None),
    "ContrastiveLoss 65536": ("ContrastiveLoss", "ContrastiveLoss", {}, None),
    "PinballLoss 4096x64": ("PinballLoss", "PinballLoss", {"tau": 0.3}, None),
    "GIoULoss 65536 boxes": ("GIoULoss", "GIoULoss", {}, None),
    "SparsemaxLoss 1024x128": ("SparsemaxLoss", "SparsemaxLoss", {}, None),
    "WeightedKappaLoss 8192x10": ("WeightedKappaLoss", "WeightedKappaLoss",
                                  {"num_classes": 10}, None),
    "SigmoidFocalCrossEntropy 4096x64": ("SigmoidFocalCrossEntropy",
                                         "SigmoidFocalCrossEntropy", {}, None),
}


def make_inputs(path: pathlib.Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(32), 8)
    rng.shuffle(labels)
    emb = rng.normal(size=(256, 128)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    ymin, xmin = rng.uniform(0, 5, size=(2, 65536))
    hw = rng.uniform(0.1, 3, size=(2, 65536))
    boxes_t = np.stack([ymin, xmin, ymin + hw[0], xmin + hw[1]], -1).astype("float32")
    boxes_p = (boxes_t + rng.normal(scale=0.3, size=boxes_t.shape)).astype("float32")
    data = {
        "TripletSemiHardLoss 256x128": (labels, emb),
        "TripletHardLoss 256x128": (labels, emb),
        "LiftedStructLoss 256x128": (labels, emb),
        "NpairsLoss 256x256": (labels, (emb @ emb.T).astype("float32")),
        "ContrastiveLoss 65536": ((rng.random(65536) > 0.5).astype("float32"),
                                  rng.uniform(0, 2, 65536).astype("float32")),
        "PinballLoss 4096x64": (rng.normal(size=(4096, 64)).astype("float32"),
                                rng.normal(size=(4096, 64)).astype("float32")),
        "GIoULoss 65536 boxes": (boxes_t, boxes_p),
        "SparsemaxLoss 1024x128": (np.eye(128, dtype="float32")[rng.integers(0, 128, 1024)],
                                   rng.normal(size=(1024, 128)).astype("float32")),
        "WeightedKappaLoss 8192x10": (np.eye(10, dtype="float32")[rng.integers(0, 10, 8192)],
                                      rng.dirichlet(np.ones(10), 8192).astype("float32")),
        "SigmoidFocalCrossEntropy 4096x64": (
            (rng.random((4096, 64)) > 0.5).astype("float32"),
            rng.uniform(0.01, 0.99, size=(4096, 64)).astype("float32")),
    }
    arrays = {}
    for index, name in enumerate(CASES):
        arrays[f"c{index}_true"], arrays[f"c{index}_pred"] = data[name]
    np.savez(path, **arrays)


# The tfa side: reads one JSON command a line, answers with seconds per call.
WORKER = r'''
import json, os, sys, time, warnings
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
warnings.filterwarnings("ignore")
import numpy as np, tensorflow as tf, tensorflow_addons as tfa
data = np.load(sys.argv[1])
fns = {}
print(json.dumps({"ready": tf.__version__ + "/" + tfa.__version__}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    key = cmd["index"]
    if key not in fns:
        loss = getattr(tfa.losses, cmd["cls"])(**cmd["kwargs"])
        y_true = tf.constant(data[f"c{key}_true"]); y_pred = tf.constant(data[f"c{key}_pred"])
        fn = tf.function(lambda: loss(y_true, y_pred))
        fn().numpy()
        fns[key] = fn
    fn = fns[key]
    start = time.perf_counter()
    for _ in range(cmd["calls"]):
        out = fn()
    out.numpy()
    print(json.dumps({"seconds": (time.perf_counter() - start) / cmd["calls"]}), flush=True)
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=0.3,
                        help="least time of one measurement; fast losses get more calls")
    parser.add_argument("--tfa-python", default="/work/tfa-venv/bin/python")
    parser.add_argument("--only", default=None, help="substring of the case names to run")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    import kerazoo.losses

    cases = {k: v for k, v in CASES.items() if not args.only or args.only in k}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = pathlib.Path(tmp) / "inputs.npz"
        make_inputs(inputs)
        data = np.load(inputs)
        worker = subprocess.Popen([args.tfa_python, "-c", WORKER, str(inputs)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        tfa_version = json.loads(worker.stdout.readline())["ready"]

        def tfa_time(index, cls, kwargs, calls):
            worker.stdin.write(json.dumps({"index": index, "cls": cls, "kwargs": kwargs,
                                           "calls": calls}) + "\n")
            worker.stdin.flush()
            return json.loads(worker.stdout.readline())["seconds"]

        rows = []
        names = list(CASES)
        for name, (ours, theirs, kwargs, _) in cases.items():
            index = names.index(name)
            y_true = tf.constant(data[f"c{index}_true"])
            y_pred = tf.constant(data[f"c{index}_pred"])
            loss = getattr(kerazoo.losses, ours)(**kwargs)
            graph = tf.function(lambda loss=loss, t=y_true, p=y_pred: loss(t, p))
            xla = tf.function(lambda loss=loss, t=y_true, p=y_pred: loss(t, p), jit_compile=True)
            for fn in (graph, xla):
                fn().numpy()

            def our_time(fn, calls):
                start = time.perf_counter()
                for _ in range(calls):
                    out = fn()
                keras.ops.convert_to_numpy(out)
                return (time.perf_counter() - start) / calls

            # Fast losses get more calls per measurement (about --min-seconds each), so that
            # scheduler noise on a shared machine does not dominate a millisecond call.
            calls = max(args.calls, min(2000, int(args.min_seconds / our_time(graph, 3)) + 1))
            times = {"tfa": [], "graph": [], "xla": []}
            for _ in range(args.rounds):
                times["tfa"].append(tfa_time(index, theirs, kwargs, calls))
                times["graph"].append(our_time(graph, calls))
                times["xla"].append(our_time(xla, calls))
            med = {k: statistics.median(v) for k, v in times.items()}
            row = {"case": name, "tfa_ms": med["tfa"] * 1e3, "kerazoo_ms": med["graph"] * 1e3,
                   "kerazoo_xla_ms": med["xla"] * 1e3, "ratio": med["graph"] / med["tfa"],
                   "ratio_xla": med["xla"] / med["tfa"]}
            rows.append(row)
            print(f"{name:36s} tfa {row['tfa_ms']:8.3f} ms  kerazoo {row['kerazoo_ms']:8.3f} ms "
                  f"(x{row['ratio']:.2f})  kerazoo+XLA {row['kerazoo_xla_ms']:8.3f} ms "
                  f"(x{row['ratio_xla']:.2f})", flush=True)
        worker.stdin.close()
        worker.wait(timeout=60)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    env = (f"{platform.machine()}, {os.cpu_count()} CPUs (load average {load:.1f} at the end), kerazoo on TF {tf.__version__} / "
           f"Keras {keras.__version__}, tfa side TF/tfa {tfa_version}; median of {args.rounds} "
           f"alternating rounds of at least {args.calls} calls and {args.min_seconds} s")
    RESULTS.mkdir(exist_ok=True)
    if not args.only:
        with open(RESULTS / "losses_vs_tfa.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        lines = ["# kerazoo losses vs TensorFlow Addons 0.23: time per call", "", env, "",
                 "Both sides inside `tf.function`; ratio = kerazoo / tfa (below 1.0: kerazoo is "
                 "faster). Written by `benchmarks/losses_vs_tfa.py`.", "",
                 "| case | tfa ms | kerazoo ms | ratio | kerazoo XLA ms | ratio XLA |",
                 "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows:
            lines.append(f"| {r['case']} | {r['tfa_ms']:.3f} | {r['kerazoo_ms']:.3f} | "
                         f"{r['ratio']:.2f} | {r['kerazoo_xla_ms']:.3f} | {r['ratio_xla']:.2f} |")
        (RESULTS / "losses_vs_tfa.md").write_text("\n".join(lines) + "\n")
        print(f"wrote {RESULTS / 'losses_vs_tfa.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
