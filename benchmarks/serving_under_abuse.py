"""``kerazoo serve`` under abuse, measured in one run against one server process (loopback only).

1. Small-request REST latency (p50/p99) alone, then while 16 MB requests are in flight (the same
   small requests: the first set is the peer of the second). Goal: p99 <= 50 ms during them.
   Then the same "during" measurement against a second server with the large-request process
   off (every body parsed in threads), as the peer of that design choice.
2. Server RSS before and after 20 decompression-bomb attempts (an all-zero 12000 x 12000 PNG,
   about 140 KB encoded, 432 MB once decoded to RGB). Goal: <= +50 MiB.
3. 500 connections that send half a request line and stop: how long the server keeps them open.
   Goal: all closed within the header timeout (plus the timer's granularity).
4. The 8 x 1,000 mixed REST/gRPC load of tests/serving/test_load.py. Goal: 0 errors.

Bounded loops only. Writes ``benchmarks/results/serving_under_abuse.{md,csv}`` with the load average,
since the machine is shared and latency figures move with it.

Usage: python benchmarks/serving_under_abuse.py [--small 200] [--per-client 1000]
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import selectors
import socket
import struct
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import serving_latency  # benchmarks/ is the script's folder: its Server is shared

RESULTS = Path(__file__).resolve().parent / "results"
HEADER_TIMEOUT_S = 10.0


def write_model(base: Path) -> None:
    """``base/1``: ``serving_default`` on float features [None, 4] and ``serving_bytes`` on
    encoded images (decoded as the image recipe's export does)."""
    import tensorflow as tf

    class Model(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(tf.reshape(tf.range(12, dtype=tf.float32), [4, 3]) / 10.0)

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
        def classify(self, features):
            logits = tf.matmul(features, self.kernel)
            return {"probabilities": tf.nn.softmax(logits), "class_ids": tf.argmax(logits, -1)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def image(self, image_bytes):
            def mean(data):
                image = tf.io.decode_image(data, channels=3, expand_animations=False)
                return tf.reduce_mean(tf.cast(image, tf.float32))

            return {"mean": tf.map_fn(mean, image_bytes, fn_output_signature=tf.float32)}

    module = Model()
    tf.saved_model.save(module, str(base / "1"), signatures={
        "serving_default": module.classify, "serving_bytes": module.image})


def bomb_png(side: int = 12000) -> bytes:
    """A real all-zero grayscale PNG of ``side`` x ``side`` pixels (compressed row by row)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                         zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


class Server(serving_latency.Server):
    """``kerazoo serve`` in a subprocess (the latency benchmark's), plus what abuse measures."""

    def __init__(self, export: Path, log: Path, *extra: str) -> None:
        super().__init__(export, log, *extra)
        self.url = f"http://127.0.0.1:{self.rest_port}/v1/models/default:predict"

    def rss_mib(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))



def percentiles(samples: list[float]) -> tuple[float, float]:
    values = np.asarray(samples) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def small_latency(server: Server, count: int, busy: threading.Event | None = None) -> list[float]:
    """Seconds per small request; with ``busy``, only those sent while it is set are kept."""
    import requests

    session = requests.Session()
    body = {"instances": [[1.0, 2.0, 3.0, 4.0]]}
    samples: list[float] = []
    attempts = 0
    while len(samples) < count and attempts < count * 50:
        attempts += 1
        if busy is not None and not busy.is_set():
            time.sleep(0.002)
            continue
        start = time.perf_counter()
        response = session.post(server.url, json=body, timeout=60)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"small request failed: {response.status_code} {response.text}")
        if busy is None or busy.is_set():
            samples.append(elapsed)
    return samples


def big_body(limit: int) -> tuple[bytes, int]:
    """A ``{"instances": ...}`` body just under ``limit`` bytes (rows of 4 floats)."""
    rng = np.random.default_rng(0)
    row = ",".join(f"[{a:.6f},{b:.6f},{c:.6f},{d:.6f}]" for a, b, c, d in rng.random((1000, 4)))
    rows_per_block = row.count("[")
    block_bytes = len(row) + 1
    blocks = (limit - 64) // block_bytes
    body = '{"instances":[' + ",".join([row] * blocks) + "]}"
    assert len(body) <= limit, len(body)
    return body.encode(), blocks * rows_per_block


def during_big_requests(server: Server, count: int) -> dict:
    import requests

    body, rows = big_body(16 << 20)
    busy = threading.Event()
    stop = threading.Event()
    big_seconds: list[float] = []
    statuses: list[int] = []

    def send_big() -> None:
        session = requests.Session()
        for _ in range(1000):  # bounded; stopped by `stop` long before
            if stop.is_set():
                return
            busy.set()
            start = time.perf_counter()
            response = session.post(server.url, data=body, timeout=300,
                                    headers={"Content-Type": "application/json"})
            big_seconds.append(time.perf_counter() - start)
            statuses.append(response.status_code)
            busy.clear()

    sender = threading.Thread(target=send_big)
    sender.start()
    try:
        samples = small_latency(server, count, busy)
    finally:
        stop.set()
        sender.join(600)
    return {"samples": samples, "big_bytes": len(body), "big_rows": rows,
            "big_seconds": big_seconds, "big_statuses": statuses}


def bombs(server: Server, attempts: int = 20) -> dict:
    import requests

    png = bomb_png()
    body = json.dumps({"signature_name": "serving_bytes",
                       "instances": [{"b64": base64.b64encode(png).decode()}]})
    before = server.rss_mib()
    statuses = []
    for _ in range(attempts):
        response = requests.post(server.url, data=body, timeout=300)
        statuses.append(response.status_code)
    time.sleep(0.5)
    return {"png_bytes": len(png), "before": before, "after": server.rss_mib(),
            "statuses": statuses, "error": response.json().get("error", "")}


def half_open(server: Server, count: int = 500) -> dict:
    files_before = server.open_files()
    selector = selectors.DefaultSelector()
    opened = {}
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", server.rest_port), timeout=10)
        sock.sendall(b"POST /v1/models/default:predict HTTP/1.1\r\nHost: x\r\n")
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        opened[sock] = time.perf_counter()
    time.sleep(0.5)
    files_held = server.open_files()
    lifetimes = []
    deadline = time.perf_counter() + HEADER_TIMEOUT_S * 3
    while opened and time.perf_counter() < deadline:
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                lifetimes.append(time.perf_counter() - opened.pop(sock))
                selector.unregister(sock)
                sock.close()
    for sock in opened:
        sock.close()
    time.sleep(0.5)
    return {"count": count, "closed": len(lifetimes), "max_s": max(lifetimes, default=float("nan")),
            "files_before": files_before, "files_held": files_held,
            "files_after": server.open_files()}


def mixed_load(server: Server, clients: int, per_client: int) -> dict:
    import grpc
    import requests
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    errors: list[str] = []
    done = [0] * clients
    barrier = threading.Barrier(clients)

    def client(index: int) -> None:
        rng = np.random.default_rng(index)
        session = requests.Session()
        channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        barrier.wait()
        for step in range(per_client):
            features = rng.normal(size=(1, 4)).round(3).astype(np.float32)
            try:
                if index % 2 == 0:
                    response = session.post(server.url, json={"instances": features.tolist()},
                                            timeout=60)
                    response.raise_for_status()
                    response.json()["predictions"][0]["class_ids"]
                else:
                    request = predict_pb2.PredictRequest()
                    request.model_spec.name = "default"
                    request.inputs["features"].CopyFrom(tf.make_tensor_proto(features))
                    stub.Predict(request, timeout=60)
                done[index] += 1
            except Exception as error:  # counted and reported
                errors.append(f"client {index} step {step}: {type(error).__name__}: {error}")
        channel.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(1200)
    return {"done": sum(done), "errors": errors, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200, help="small requests per measurement")
    parser.add_argument("--per-client", type=int, default=1000, help="mixed-load requests/client")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temp:
        export = Path(temp) / "export"
        write_model(export)
        server = Server(export, Path(temp) / "server.log",
                        "--header-timeout", str(HEADER_TIMEOUT_S))
        try:
            small_latency(server, 20)  # warm-up
            load_before = Path("/proc/loadavg").read_text().split()[0]
            alone = small_latency(server, args.small)
            during = during_big_requests(server, args.small)
            bomb = bombs(server)
            half = half_open(server)
            mixed = mixed_load(server, args.clients, args.per_client)
        finally:
            server.stop()
        # The peer of the large-request process: the same server parsing every body in threads.
        threads_only = Server(export, Path(temp) / "threads.log", "--large-request-bytes", "0")
        try:
            small_latency(threads_only, 20)
            during_threads = during_big_requests(threads_only, args.small)
            load_after = Path("/proc/loadavg").read_text().split()[0]
        finally:
            threads_only.stop()

    alone_p50, alone_p99 = percentiles(alone)
    during_p50, during_p99 = percentiles(during["samples"])
    big_p50 = float(np.median(during["big_seconds"])) if during["big_seconds"] else float("nan")
    threads_p50, threads_p99 = percentiles(during_threads["samples"])
    rows = [
        ("small REST p50 alone (ms)", f"{alone_p50:.1f}", ""),
        ("small REST p99 alone (ms)", f"{alone_p99:.1f}", ""),
        ("small REST p50 during 16 MB requests (ms)", f"{during_p50:.1f}", ""),
        ("small REST p99 during 16 MB requests (ms)", f"{during_p99:.1f}", "<= 50"),
        ("p99 during / p99 alone", f"{during_p99 / alone_p99:.1f}x", ""),
        ("peer, large-request process off: p50 / p99 during (ms)",
         f"{threads_p50:.1f} / {threads_p99:.1f}", "--large-request-bytes 0"),
        ("16 MB requests: count, median s, statuses",
         f"{len(during['big_seconds'])}, {big_p50:.2f}, {sorted(set(during['big_statuses']))}",
         f"{during['big_bytes'] / (1 << 20):.1f} MiB, {during['big_rows']} rows"),
        ("bomb PNG: encoded KB, statuses", f"{bomb['png_bytes'] / 1024:.0f}, "
         f"{sorted(set(bomb['statuses']))}", "12000x12000"),
        ("server RSS before / after 20 bombs (MiB)",
         f"{bomb['before']:.0f} / {bomb['after']:.0f} "
         f"(+{bomb['after'] - bomb['before']:.0f})", "<= +50"),
        ("half-open connections closed / opened", f"{half['closed']} / {half['count']}", ""),
        ("longest half-open connection (s)", f"{half['max_s']:.1f}",
         f"header timeout {HEADER_TIMEOUT_S:g}"),
        ("server open files: before / holding / after",
         f"{half['files_before']} / {half['files_held']} / {half['files_after']}", ""),
        (f"mixed load {args.clients} x {args.per_client}: done, errors, seconds",
         f"{mixed['done']}, {len(mixed['errors'])}, {mixed['seconds']:.0f}", "0 errors"),
        ("load average (1 min) before / after", f"{load_before} / {load_after}",
         f"{os.cpu_count()} CPUs"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:<28} {goal}")
    if mixed["errors"]:
        print("first errors:", *mixed["errors"][:5], sep="\n  ")
    print("bomb answer:", bomb["error"][:160])
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "serving_under_abuse.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["measure", "value", "goal"])
        writer.writerows(rows)
    with open(RESULTS / "serving_under_abuse.md", "w") as handle:
        handle.write("# kerazoo serve under abuse\n\n"
                     f"`python benchmarks/serving_under_abuse.py --small {args.small} "
                     f"--per-client {args.per_client}`; {os.cpu_count()} CPUs shared with other "
                     "work (see the load average).\n\n| measure | value | goal |\n|---|---|---|\n")
        for name, value, goal in rows:
            handle.write(f"| {name} | {value} | {goal} |\n")


if __name__ == "__main__":
    main()
