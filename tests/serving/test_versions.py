"""Versions: newest by default, hot pick-up of new versions, corrupt or partial exports refused."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
import requests

from kerazoo.errors import DataError, NotFoundError

pytestmark = pytest.mark.tf_only


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _served_versions(port):
    status = requests.get(f"http://127.0.0.1:{port}/v1/models/default", timeout=5).json()
    return [int(s["version"]) for s in status["model_version_status"]
            if s["state"] == "AVAILABLE"]


def test_new_version_is_picked_up_without_restart(serve, export_dir, model_template):
    server = serve(export_dir, grpc_port=-1)
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    assert _served_versions(server.rest_port) == [2, 1]
    shutil.copytree(model_template / "1", export_dir / "5")  # scale +1 again, as version 5
    # Copying a complete manifest last is what makes version 5 loadable (see the next test).
    assert _wait_for(lambda: 5 in _served_versions(server.rest_port))
    response = requests.post(url, json={"instances": [[1.0, 2.0, 3.0, 4.0]]}, timeout=5).json()
    assert response["predictions"][0]["labels"] == "bird"  # version 5 (scale +1): class 2
    shutil.rmtree(export_dir / "5")
    assert _wait_for(lambda: 5 not in _served_versions(server.rest_port))
    assert requests.post(url, json={"instances": [[1.0, 2.0, 3.0, 4.0]]},
                         timeout=5).json()["predictions"][0]["labels"] == "cat"


def test_half_copied_version_is_not_served_until_complete(serve, export_dir, model_template):
    server = serve(export_dir, grpc_port=-1)
    partial = export_dir / "3"
    shutil.copytree(model_template / "1", partial)
    variables = next((partial / "variables").glob("*.data-*"))
    complete = variables.read_bytes()
    variables.write_bytes(complete[: len(complete) // 2])  # the copy is still under way
    time.sleep(1.0)  # ten poll intervals
    assert _served_versions(server.rest_port) == [2, 1]
    variables.write_bytes(complete)
    assert _wait_for(lambda: 3 in _served_versions(server.rest_port))


def _refused(export_dir, version):
    """Load ``export_dir``; the reason ``version`` was refused (the others must still load)."""
    from kerazoo.serving.manager import ModelManager

    manager = ModelManager(export_dir, "default", poll_interval_s=0)
    assert version not in manager.versions() and manager.versions()
    return manager.refused[version]


def test_corrupt_file_is_refused_at_load_naming_the_file(export_dir):

    variables = next((export_dir / "2" / "variables").glob("*.data-*"))
    data = bytearray(variables.read_bytes())
    data[0] ^= 0xFF
    variables.write_bytes(bytes(data))
    assert re.search(r"version 2 is corrupt: sha256 of .*variables.data", _refused(export_dir, 2))


def test_missing_file_listed_in_manifest_is_refused(export_dir):

    (export_dir / "1" / "variables" / "variables.index").unlink()
    assert re.search(r"version 1 is incomplete.*variables.index", _refused(export_dir, 1))


def test_export_without_manifest_is_read_from_the_saved_model(export_dir):
    from kerazoo.serving.manager import ModelManager

    for version in ("1", "2"):
        (export_dir / version / "export.json").unlink()
    manager = ModelManager(export_dir, "default", poll_interval_s=0)
    signature = manager.get("default").signature("serving_default")
    assert set(signature.inputs) == {"features"}
    assert set(signature.outputs) == {"probabilities", "class_ids", "labels"}


def test_garbage_saved_model_without_manifest_is_refused(export_dir):

    (export_dir / "2" / "export.json").unlink()
    (export_dir / "2" / "saved_model.pb").write_bytes(b"\x00not a protobuf" * 10)
    assert re.search(r"saved_model.pb", _refused(export_dir, 2))


def test_unreadable_manifest_is_refused(export_dir):

    (export_dir / "1" / "export.json").write_text("{truncated")
    assert re.search(r"export.json.*unreadable", _refused(export_dir, 1))


def test_empty_or_missing_export_dir(tmp_path):
    from kerazoo.serving.manager import ModelManager

    with pytest.raises(DataError, match="no version folder"):
        ModelManager(tmp_path, "default", poll_interval_s=0)
    with pytest.raises(NotFoundError, match="does not exist"):
        ModelManager(tmp_path / "missing", "default", poll_interval_s=0)


def test_base_level_manifest_is_honoured(export_dir):

    inner = json.loads((export_dir / "2" / "export.json").read_text())
    (export_dir / "1" / "export.json").unlink()
    (export_dir / "2" / "export.json").unlink()
    files = {f"2/{path}": sha for path, sha in inner["files"].items()}
    files["2/saved_model.pb"] = "0" * 64
    (export_dir / "export.json").write_text(json.dumps({"files": files}))
    assert re.search(r"version 2 is corrupt.*saved_model.pb", _refused(export_dir, 2))


def test_restart_with_a_corrupt_version_serves_the_healthy_one(serve, export_dir):
    """Issue 18 #2: one truncated version used to make the whole server refuse to start."""
    pb = export_dir / "2" / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[:100])
    server = serve(export_dir, grpc_port=-1)
    base = f"http://127.0.0.1:{server.rest_port}/v1/models/default"
    response = requests.post(base + ":predict", json={"instances": [[1.0, 2.0, 3.0, 4.0]]},
                             timeout=5)
    assert response.status_code == 200, response.text
    status = requests.get(base, timeout=5).json()["model_version_status"]
    assert [(s["version"], s["state"]) for s in status] == [("2", "END"), ("1", "AVAILABLE")]
    assert "version 2 is corrupt" in status[0]["status"]["error_message"]
    assert status[1]["status"] == {"error_code": "OK", "error_message": ""}
    refused = requests.post(base + "/versions/2:predict", json={"instances": [[1, 2, 3, 4]]},
                            timeout=5)
    assert refused.status_code == 404 and "was refused" in refused.json()["error"]


def test_no_servable_version_names_every_reason(export_dir):
    from kerazoo.serving.manager import ModelManager

    for version in ("1", "2"):
        (export_dir / version / "saved_model.pb").write_bytes(b"truncated")
    with pytest.raises(DataError, match=r"no servable version .*version 1: .*version 2: "):
        ModelManager(export_dir, "default", poll_interval_s=0)
