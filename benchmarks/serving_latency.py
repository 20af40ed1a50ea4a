"""Serving overhead and dynamic batching, measured in one run.

1. Latency at batch 1 (p50): REST and gRPC round trips to a ``kerazoo serve`` process vs calling
   the same loaded signature in this process. Rounds alternate between the three.
2. Throughput under 8 concurrent clients (REST, then gRPC): a server with dynamic batching vs
   one without, both running at once, rounds alternating.

Clients and servers share this machine's cores, so absolute numbers depend on it; the ratios are
the result. Writes ``benchmarks/results/serving_latency.{md,csv}``.

Usage: python benchmarks/serving_latency.py [--requests 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def write_model(base: Path) -> None:
    """A digits-sized MLP (64 -> 256 -> 10), exported as ``base/1`` with named outputs."""
    import tensorflow as tf

    tf.random.set_seed(0)

    class Mlp(tf.Module):
        def __init__(self):
            super().__init__()
            self.w1 = tf.Variable(tf.random.normal([64, 256], stddev=0.1))
            self.w2 = tf.Variable(tf.random.normal([256, 10], stddev=0.1))

        @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32, name="pixels")])
        def serve(self, pixels):
            logits = tf.matmul(tf.nn.relu(tf.matmul(pixels, self.w1)), self.w2)
            return {"probabilities": tf.nn.softmax(logits),
                    "class_ids": tf.argmax(logits, axis=-1)}

    module = Mlp()
    tf.saved_model.save(module, str(base / "1"), signatures={"serving_default": module.serve})


class Server:
    def __init__(self, export: Path, log: Path, *extra: str) -> None:
        self.log = open(log, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kerazoo", "serve", str(export), "--rest-port", "0",
             "--grpc-port", "0", "--poll-seconds", "0", *extra],
            stdout=subprocess.PIPE, stderr=self.log,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )
        line = self.process.stdout.readline().decode()
        if "REST http" not in line:
            raise SystemExit(f"server did not start, see {log}")
        self.rest_port = int(line.split("REST http://127.0.0.1:")[1].split(",")[0])
        self.grpc_port = int(line.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self.log.close()


def p50_ms(samples: list[float]) -> float:
    return float(np.percentile(np.asarray(samples) * 1000, 50))


def latency(server: Server, signature, requests_per_round: int, rounds: int) -> dict:
    import grpc
    import requests
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    row = np.random.default_rng(0).random((1, 64), dtype=np.float32)
    session = requests.Session()
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    body = {"instances": row.tolist()}
    stub = prediction_service_pb2_grpc.PredictionServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}"))
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "default"
    request.inputs["pixels"].CopyFrom(tf.make_tensor_proto(row))

    def in_process():
        {k: v.numpy() for k, v in signature(pixels=tf.constant(row)).items()}

    def rest():
        session.post(url, json=body, timeout=30).json()

    def grpc_call():
        reply = stub.Predict(request, timeout=30)
        tf.make_ndarray(reply.outputs["probabilities"])

    calls = {"in_process": in_process, "rest": rest, "grpc": grpc_call}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():  # warm-up, untimed
        for _ in range(20):
            call()
    for _ in range(rounds):
        for name, call in calls.items():
            for _ in range(requests_per_round):
                start = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - start)
    return {name: p50_ms(values) for name, values in samples.items()}


def throughput(server: Server, clients: int, per_client: int, protocol: str) -> float:
    """Requests per second with ``clients`` threads, each sending batch-1 requests."""
    import grpc
    import requests
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    barrier = threading.Barrier(clients + 1)
    failures = []

    def client(index: int) -> None:
        row = np.random.default_rng(index).random((1, 64), dtype=np.float32).round(4)
        if protocol == "rest":
            session = requests.Session()
            body = {"instances": row.tolist()}

            def call() -> bool:
                return session.post(url, json=body, timeout=60).status_code == 200
        else:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(
                grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}"))
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "default"
            request.inputs["pixels"].CopyFrom(tf.make_tensor_proto(row))

            def call() -> bool:
                return bool(stub.Predict(request, timeout=60).outputs)

        barrier.wait()
        for _ in range(per_client):
            if not call():
                failures.append(index)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} requests failed")
    return clients * per_client / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=100)
    args = parser.parse_args()

    import tensorflow as tf

    work = Path(tempfile.mkdtemp(prefix="kerazoo-serving-bench-"))
    export = work / "export"
    write_model(export)
    signature = tf.saved_model.load(str(export / "1")).signatures["serving_default"]
    plain = Server(export, work / "plain.log")
    batched = Server(export, work / "batched.log", "--batching", "--max-batch-size", "32",
                     "--batch-timeout-ms", "2")
    try:
        p50 = latency(plain, signature, args.requests, args.rounds)
        rates: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for protocol in ("rest", "grpc"):
                for mode, server in (("off", plain), ("on", batched)):
                    rates.setdefault((protocol, mode), []).append(
                        throughput(server, args.clients, args.per_client, protocol))
    finally:
        plain.stop()
        batched.stop()
    rate = {key: float(np.median(values)) for key, values in rates.items()}
    rows = [
        ("p50 latency, batch 1, in process (ms)", f"{p50['in_process']:.3f}", "1.00"),
        ("p50 latency, batch 1, REST (ms)", f"{p50['rest']:.3f}",
         f"{p50['rest'] / p50['in_process']:.2f}"),
        ("p50 latency, batch 1, gRPC (ms)", f"{p50['grpc']:.3f}",
         f"{p50['grpc'] / p50['in_process']:.2f}"),
    ]
    for protocol, label in (("rest", "REST"), ("grpc", "gRPC")):
        off, on = rate[(protocol, "off")], rate[(protocol, "on")]
        rows.append((f"throughput, {args.clients} {label} clients, batching off (req/s)",
                     f"{off:.1f}", "1.00"))
        rows.append((f"throughput, {args.clients} {label} clients, batching on (req/s)",
                     f"{on:.1f}", f"{on / off:.2f}"))
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
               f" TensorFlow {tf.__version__}; 1-minute load average at the end "
               f"{os.getloadavg()[0]:.1f}")
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "serving_latency.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["measure", "value", "ratio"])
        writer.writerows(rows)
    lines = [
        "# Serving latency and dynamic batching",
        "",
        f"Machine: {machine}. Model: MLP 64-256-10, batch 1. {args.rounds} alternating rounds of "
        f"{args.requests} requests (latency) and {args.clients}x{args.per_client} requests "
        "(throughput); medians. Clients run on the same cores as the server.",
        "",
        "| measure | value | ratio |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        "Latency ratios are vs calling the loaded signature in process; the throughput ratio is "
        "batching on vs off.",
    ]
    (RESULTS / "serving_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
