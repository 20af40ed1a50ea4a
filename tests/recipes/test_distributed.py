"""Multi-worker training on loopback workers, and SIGKILL-and-resume (slow, several processes)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerazoo.distribute import mirrored_strategy

pytestmark = [pytest.mark.tf_only, pytest.mark.slow, pytest.mark.multiprocess]

DRIVER = Path(__file__).with_name("_train_driver.py")
SETTINGS = ["train.epochs=2", "train.steps_per_epoch=4", "train.batch_size=8",
            "train.checkpoint_every=3", "data.augment=[translate]", "train.warmup_steps=2"]


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2", **extra)
    return env


def _weights(path):
    with np.load(path) as archive:
        return [archive[f"arr_{i}"] for i in range(len(archive.files))]


def test_two_loopback_workers_match_two_replica_mirrored(tmp_path):
    from kerazoo.recipes.api import get_task, resolve_config
    from kerazoo.recipes.trainer import Trainer

    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(subprocess.Popen(
            [sys.executable, str(DRIVER), str(tmp_path / "mw"), str(tmp_path / f"w{index}.npz"),
             *SETTINGS, "runtime.strategy=multi_worker"],
            env=_env(TF_CONFIG=tf_config), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        ))
    try:
        outputs = [worker.communicate(timeout=420)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for index, worker in enumerate(workers):
        assert worker.returncode == 0, f"worker {index}:\n" + "\n".join(
            o[-2500:] for o in reversed(outputs))

    config = resolve_config("image_classification", None, SETTINGS)
    trainer = Trainer(get_task("image_classification")(config), tmp_path / "mirrored",
                      strategy=mirrored_strategy(["/cpu:0", "/cpu:1"]),
                      export=False, verbose=False)
    trainer.run()
    mirrored = [np.asarray(v) for v in trainer.model.weights]
    first, second = _weights(tmp_path / "w0.npz"), _weights(tmp_path / "w1.npz")
    assert len(first) == len(mirrored)
    for a, b, c in zip(first, second, mirrored):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, atol=1e-5, rtol=0)
    assert (tmp_path / "mw" / "evaluation.json").is_file()


def test_sigkill_mid_epoch_then_rerun_resumes_to_the_same_weights(tmp_path):
    def run(run_dir, weights, **env):
        return subprocess.run(
            [sys.executable, str(DRIVER), str(run_dir), str(weights), *SETTINGS],
            env=_env(**env), capture_output=True, text=True, timeout=300,
        )

    killed = run(tmp_path / "run", tmp_path / "resumed.npz", KERAZOO_TEST_KILL_AT_STEP="3")
    assert killed.returncode == -9, killed.stderr[-2000:]
    partial = tmp_path / ".run.partial"
    assert (partial / "checkpoints" / "ckpt-3.index").is_file()
    assert not (tmp_path / "run").exists()  # an interrupted run is never at the final path
    resumed = run(tmp_path / "run", tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = run(tmp_path / "straight", tmp_path / "straight.npz")
    assert straight.returncode == 0, straight.stderr[-2000:]
    for a, b in zip(_weights(tmp_path / "resumed.npz"), _weights(tmp_path / "straight.npz")):
        np.testing.assert_array_equal(a, b)
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3  # header + one row per epoch, none duplicated by the resume


def test_sigkill_with_early_stopping_resumes_to_the_same_best_weights(tmp_path):
    """The early-stopping state and best weights live in the checkpoint: killed after a best
    epoch was recorded, the re-run stops at the same epoch and restores the same weights."""
    settings = [*SETTINGS[1:], "train.epochs=8", "train.early_stopping_patience=1",
                "train.learning_rate=0.05", "train.warmup_steps=0",
                "train.early_stopping_start_epoch=1"]

    def run(run_dir, weights, **env):
        return subprocess.run(
            [sys.executable, str(DRIVER), str(run_dir), str(weights), *settings],
            env=_env(**env), capture_output=True, text=True, timeout=300,
        )

    killed = run(tmp_path / "run", tmp_path / "resumed.npz", KERAZOO_TEST_KILL_AT_STEP="9")
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = run(tmp_path / "run", tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = run(tmp_path / "straight", tmp_path / "straight.npz")
    assert straight.returncode == 0, straight.stderr[-2000:]
    reports = [json.loads((tmp_path / name / "evaluation.json").read_text())
               for name in ("run", "straight")]
    assert reports[0]["early_stopping"] == reports[1]["early_stopping"]
    assert reports[0]["early_stopping"]["best_epoch"] >= 1
    for a, b in zip(_weights(tmp_path / "resumed.npz"), _weights(tmp_path / "straight.npz")):
        np.testing.assert_array_equal(a, b)
