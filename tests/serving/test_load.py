"""Reliability of a real ``kerazoo serve`` process: mixed REST/gRPC load, memory, SIGTERM.

The server runs as a subprocess (its own interpreter, as users run it), on free loopback ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import requests

pytestmark = pytest.mark.tf_only

class ServerProcess:
    def __init__(self, export_dir, log_path, *extra):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop(), after the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kerazoo", "serve", str(export_dir), "--rest-port", "0",
             "--grpc-port", "0", "--poll-seconds", "0", *extra],
            stdout=subprocess.PIPE, stderr=self.log, env=env,
        )
        line = self._read_line(timeout=90)
        # "kerazoo serve: model 'default' versions [1, 2] on REST http://127.0.0.1:P, gRPC ...:Q"
        self.rest_port = int(line.split("REST http://127.0.0.1:")[1].split(",")[0])
        self.grpc_port = int(line.rsplit(":", 1)[1])

    def _read_line(self, timeout):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()))
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            self.stop()
            raise AssertionError(f"server did not start; log: {self.log.name}")
        return result[0].decode()

    def rss_bytes(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def stop(self, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
        return self.process.returncode


@pytest.fixture
def server_process(export_dir, tmp_path):
    started = []

    def start(*extra):
        started.append(ServerProcess(export_dir, tmp_path / f"server{len(started)}.log", *extra))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def _is_expected_class(features, got):
    kernel = -np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0  # version 2: scale -1
    logits = np.asarray(features, np.float64) @ kernel
    return logits[got] >= logits.max() - 1e-4  # near-ties may go either way in float32


def run_load(server, clients=8, per_client=1000, on_progress=None):
    """``clients`` threads, half REST and half gRPC, each sending ``per_client`` requests."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    latencies = [[] for _ in range(clients)]
    errors: list[str] = []
    barrier = threading.Barrier(clients)

    def client(index):
        rng = np.random.default_rng(index)
        session = requests.Session()
        channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        barrier.wait()
        for step in range(per_client):
            features = rng.normal(size=(1, 4)).round(3).astype(np.float32)
            start = time.perf_counter()
            try:
                if index % 2 == 0:
                    response = session.post(url, json={"instances": features.tolist()},
                                            timeout=30)
                    response.raise_for_status()
                    got = response.json()["predictions"][0]["class_ids"]
                else:
                    request = predict_pb2.PredictRequest()
                    request.model_spec.name = "default"
                    request.inputs["features"].CopyFrom(tf.make_tensor_proto(features))
                    reply = stub.Predict(request, timeout=30)
                    got = int(tf.make_ndarray(reply.outputs["class_ids"])[0])
                latencies[index].append(time.perf_counter() - start)
                if not _is_expected_class(features[0], got):
                    errors.append(f"client {index} step {step}: wrong class {got}")
            except Exception as error:  # counted, reported: the test requires zero
                errors.append(f"client {index} step {step}: {type(error).__name__}: {error}")
            if on_progress is not None and index == 0:
                on_progress(step)
        channel.close()
        session.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    elapsed = time.perf_counter() - start
    done = sum(len(x) for x in latencies)
    rest = np.array([t for i, x in enumerate(latencies) if i % 2 == 0 for t in x]) * 1000
    grpc_ms = np.array([t for i, x in enumerate(latencies) if i % 2 == 1 for t in x]) * 1000
    return {"errors": errors, "done": done, "elapsed_s": elapsed,
            "rest_p50": np.percentile(rest, 50), "rest_p99": np.percentile(rest, 99),
            "grpc_p50": np.percentile(grpc_ms, 50), "grpc_p99": np.percentile(grpc_ms, 99)}


def _load_and_memory(server, per_client):
    warm = {}

    def after_first_requests(step):  # client 0's 13th request: about 100 requests in all
        if step == 12 and "rss" not in warm:
            warm["rss"] = server.rss_bytes()

    report = run_load(server, per_client=per_client, on_progress=after_first_requests)
    rss_after = server.rss_bytes()
    print(
        f"\nload 8 clients x {per_client} (REST+gRPC): {report['done']} ok in "
        f"{report['elapsed_s']:.1f}s; REST p50 {report['rest_p50']:.2f} ms p99 "
        f"{report['rest_p99']:.2f} ms; gRPC p50 {report['grpc_p50']:.2f} ms p99 "
        f"{report['grpc_p99']:.2f} ms; RSS after ~100 requests {warm['rss'] / 2**20:.1f} MiB, "
        f"after the load {rss_after / 2**20:.1f} MiB ({rss_after / warm['rss'] - 1:+.1%})"
    )
    assert report["errors"] == [], report["errors"][:5]
    assert report["done"] == 8 * per_client  # nothing dropped
    assert rss_after <= 1.10 * warm["rss"]


def _sigterm_with_requests_in_flight(server, log_path):
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    results = []

    def ask():
        try:
            response = requests.post(url, json={"instances": [[1.0, 2.0, 3.0, 4.0]] * 4},
                                     timeout=30)
            results.append(response.status_code)
        except requests.ConnectionError:
            results.append("refused")  # sent after the listener closed: not an in-flight one

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert server.stop() == 0  # SIGTERM: a clean exit, status 0
    for thread in threads:
        thread.join(30)
    assert all(result in (200, "refused") for result in results), results
    log = log_path.read_text()
    # One log line per request: the load's REST requests plus the in-flight ones that were served.
    assert "REST POST /v1/models/default:predict 200" in log
    assert "gRPC Predict OK" in log
    assert "shutting down" in log


def test_load_quick_then_sigterm(server_process, tmp_path):
    server = server_process("--batching", "--batch-timeout-ms", "1")
    _load_and_memory(server, per_client=40)
    log = (tmp_path / "server0.log").read_text()
    assert log.count("REST POST /v1/models/default:predict 200") == 4 * 40
    assert log.count("gRPC Predict OK") == 4 * 40
    _sigterm_with_requests_in_flight(server, tmp_path / "server0.log")


@pytest.mark.slow
def test_load_8_clients_x_1000_mixed_rest_and_grpc(server_process, tmp_path):
    server = server_process()
    _load_and_memory(server, per_client=1000)
    _sigterm_with_requests_in_flight(server, tmp_path / "server0.log")


def test_cli_refuses_corrupt_export_with_one_line(export_dir, capsys):
    from kerazoo.cli import main

    # One corrupt version is served around (test_versions); with every version corrupt the
    # command exits non-zero with one line naming each.
    for version in ("1", "2"):
        (export_dir / version / "saved_model.pb").write_bytes(b"truncated")
    code = main(["serve", str(export_dir), "--rest-port", "0", "--grpc-port", "-1"])
    error = capsys.readouterr().err
    assert code == 1
    assert error.startswith("kerazoo: error: no servable version")
    assert "export version 2 is corrupt" in error
    assert "saved_model.pb" in error and error.count("\n") == 1
