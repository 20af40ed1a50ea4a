"""docs/serving.md's examples, run against a real image-classifier export (issue 18 #8).

The export is written by ``kerazoo.recipes.export.export_saved_model`` with the image recipe's
signatures, so a rename in the exporter (input ``images``, signature ``serving_bytes``) breaks
this test until the documentation follows.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.tf_only

DOC = Path(__file__).resolve().parents[2] / "docs" / "serving.md"
DIGITS = [str(d) for d in range(10)]


@pytest.fixture(scope="module")
def digits_export(tmp_path_factory) -> Path:
    import keras

    from kerazoo.recipes.export import export_saved_model, image_signatures

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(len(DIGITS))])
    task = SimpleNamespace(
        name="image_classification", config=SimpleNamespace(model=SimpleNamespace(name="tiny")),
        output_names=("probabilities", "class_ids", "labels"),
        serving_signatures=image_signatures,
    )
    run_dir = tmp_path_factory.mktemp("digits")
    export_saved_model(task, model, DIGITS, run_dir)
    return run_dir / "export"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def _documented_keys(block: str) -> set[str]:
    """Keys named in the block's ``# {...}`` sample answer."""
    comments = " ".join(line for line in block.splitlines() if line.startswith("# {"))
    return set(re.findall(r'"(\w+)":', comments))


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


def test_curl_examples_run_against_a_real_export(serve, digits_export, tmp_path, png_factory):
    server = serve(digits_export, grpc_port=-1, model_name="digits")
    (tmp_path / "digit.png").write_bytes(png_factory(200, 8))
    examples = [block for block in _blocks("bash") if block.lstrip().startswith("curl")]
    assert len(examples) >= 3, "docs/serving.md lost its curl examples"
    for block in examples:
        command = block.replace("localhost:8501", f"127.0.0.1:{server.rest_port}")
        result = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, (block, result.stderr)
        answer = json.loads(result.stdout)
        assert "error" not in answer, (block, answer)
        assert {"predictions", "outputs"} & set(answer), (block, answer)
        assert _documented_keys(block) <= _keys(answer) | {"predictions", "outputs"}, block


def test_grpc_example_runs_against_a_real_export(serve, digits_export, capsys):
    pytest.importorskip("tensorflow_serving")
    server = serve(digits_export, rest_port=-1, model_name="digits")
    (example,) = [block for block in _blocks("python") if "PredictionServiceStub" in block]
    exec(compile(example.replace("127.0.0.1:8500", f"127.0.0.1:{server.grpc_port}"),
                 str(DOC), "exec"), {})
    assert "[[" in capsys.readouterr().out  # the printed probabilities
