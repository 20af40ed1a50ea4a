"""Test-session set-up shared by every test.

* The Keras backend comes from ``KERAS_BACKEND`` (default ``tensorflow``); tests marked ``tf_only``
  are deselected — not skipped, not counted — under the other backends.
* Under TensorFlow the CPU is split into two logical devices, so ``MirroredStrategy`` has two
  replicas on a machine without accelerators. This must happen before TensorFlow touches a device.
* No test reaches the network: connecting a socket to anything but loopback fails the test.
"""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
BACKEND = os.environ["KERAS_BACKEND"]

if BACKEND == "tensorflow":
    import tensorflow as tf

    _cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )


def pytest_report_header(config):
    return f"keras backend: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    if BACKEND == "tensorflow":
        return
    deselected = [item for item in items if item.get_closest_marker("tf_only")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("tf_only")]


_real_connect = socket.socket.connect


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback_only_connect(sock, address):
    if not _is_local(address):
        raise OSError(f"tests must not touch the network (tried to connect to {address!r})")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only_connect)
    yield
