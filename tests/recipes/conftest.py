"""Checks every recipe's tests share: SIGKILL-and-resume in subprocesses, and a REST round trip
through ``kerazoo serve``'s server."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DRIVER = Path(__file__).with_name("_train_driver.py")


@pytest.fixture
def assert_resumes_after_sigkill(tmp_path):
    """``check(task, settings)``: a run SIGKILLed after checkpoint 3 and re-run with the same
    command ends on exactly the weights of an uninterrupted run."""

    def check(task: str, settings: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
        env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2",
                   KERAZOO_TEST_TASK=task)

        def run(name, **extra):
            return subprocess.run(
                [sys.executable, str(DRIVER), str(tmp_path / name),
                 str(tmp_path / f"{name}.npz"), *settings],
                env={**env, **extra}, capture_output=True, text=True, timeout=300,
            )

        killed = run("run", KERAZOO_TEST_KILL_AT_STEP="3")
        assert killed.returncode == -9, killed.stderr[-2000:]
        resumed = run("run")
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        straight = run("straight")
        assert straight.returncode == 0, straight.stderr[-2000:]
        with np.load(tmp_path / "run.npz") as a, np.load(tmp_path / "straight.npz") as b:
            for key in a.files:
                np.testing.assert_array_equal(a[key], b[key])

    return check


@pytest.fixture
def rest_predict():
    """``predict(export_dir, instances) -> predictions`` through the TF-Serving REST API."""
    import requests

    from kerazoo.serving.server import ModelServer, ServerConfig

    def predict(export_dir, instances):
        server = ModelServer(ServerConfig(export_dir=export_dir, rest_port=0, grpc_port=-1,
                                          poll_interval_s=0, shutdown_timeout_s=2))
        server.start()
        try:
            response = requests.post(
                f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict",
                json={"instances": instances}, timeout=60,
            )
        finally:
            server.stop()
        assert response.status_code == 200, response.text
        return response.json()["predictions"]

    return predict
