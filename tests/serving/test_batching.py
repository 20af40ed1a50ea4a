"""Dynamic batching: concurrent requests share one call; each gets exactly its own rows back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from kerazoo.serving.batching import BatchingOptions, DynamicBatcher

pytestmark = pytest.mark.tf_only


def test_concurrent_requests_are_batched_and_split_back():
    calls = []
    gate = threading.Event()

    def run(feeds):
        gate.wait(5)  # hold the first call so the others queue up behind it
        calls.append(feeds["x"].shape[0])
        return {"y": feeds["x"] * 2, "rows": feeds["x"][:, 0]}

    batcher = DynamicBatcher(run, BatchingOptions(max_batch_size=8, max_wait_ms=50))
    try:
        futures = [batcher.submit({"x": np.full((1 + i % 2, 3), float(i))}) for i in range(9)]
        gate.set()
        for i, future in enumerate(futures):
            result = future.result(timeout=10)
            np.testing.assert_array_equal(result["y"], np.full((1 + i % 2, 3), 2.0 * i))
        assert sum(calls) == sum(1 + i % 2 for i in range(9))
        assert max(calls) > 2 and max(calls) <= 8 and len(calls) < 9
    finally:
        batcher.close()


def test_a_failing_request_does_not_fail_its_batch_neighbours():
    def run(feeds):
        if np.any(feeds["x"] < 0):
            raise ValueError("negative input")
        return {"y": feeds["x"] + 1}

    batcher = DynamicBatcher(run, BatchingOptions(max_batch_size=4, max_wait_ms=20))
    try:
        futures = [batcher.submit({"x": np.array([[v]], float)}) for v in (1.0, -1.0, 2.0)]
        assert futures[0].result(5)["y"][0, 0] == 2.0
        with pytest.raises(ValueError, match="negative"):
            futures[1].result(5)
        assert futures[2].result(5)["y"][0, 0] == 3.0
    finally:
        batcher.close()


def test_incompatible_shapes_are_not_mixed():
    seen = []

    def run(feeds):
        seen.append(feeds["x"].shape)
        return {"y": feeds["x"].sum(axis=1)}

    batcher = DynamicBatcher(run, BatchingOptions(max_batch_size=8, max_wait_ms=20))
    try:
        a = batcher.submit({"x": np.ones((1, 2))})
        b = batcher.submit({"x": np.ones((1, 3))})
        assert a.result(5)["y"].tolist() == [2.0] and b.result(5)["y"].tolist() == [3.0]
        assert all(len(set(shape[1:])) == 1 for shape in seen)
    finally:
        batcher.close()


def test_batching_options_are_validated():
    with pytest.raises(ValueError, match="max_batch_size"):
        BatchingOptions(max_batch_size=0)


def test_server_with_batching_answers_every_client_correctly(serve, export_dir, reference):
    server = serve(export_dir, grpc_port=-1,
                   batching=BatchingOptions(max_batch_size=16, max_wait_ms=5))
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(64, 4)).astype(np.float32).round(3)

    def ask(index):
        with requests.Session() as session:
            body = {"instances": rows[index:index + 1].tolist()}
            return index, session.post(url, json=body, timeout=10).json()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(ask, range(64)))
    expected = reference(rows, -1.0)
    for index, response in results:
        assert response["predictions"][0]["class_ids"] == expected["class_ids"][index]
        np.testing.assert_allclose(response["predictions"][0]["probabilities"],
                                   expected["probabilities"][index], rtol=1e-5)
    batcher = next(iter(server.manager._batchers.values()))
    assert batcher.rows_run == 64
