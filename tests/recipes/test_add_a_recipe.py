"""CONTRIBUTING.md's "add a recipe" walk-through, executed: a ~60-line tabular CSV recipe
(``tabular_recipe.py``) registers itself and goes through every CLI verb."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only


@pytest.fixture
def tabular_recipe():
    """The walk-through recipe, registered for one test and removed after it: later tests (the
    CLI's `list` against the shipped index) see the registries as the package ships them."""
    from kerazoo.registry import registry

    name = "kerazoo_test_tabular_recipe"
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).with_name("tabular_recipe.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    yield module
    # The registry has no public unregister (a package never needs one); tests clean up here.
    registry("recipes")._entries.pop("tabular_classification", None)
    sys.modules.pop(name, None)


def _blobs_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    centres = {"low": (0.0, 0.0, 5.0), "mid": (4.0, 4.0, 5.0), "high": (8.0, 0.0, 5.0)}
    lines = ["width,height,depth,label"]
    for label, centre in centres.items():
        for row in rng.normal(centre, 0.7, (80, 3)):
            lines.append(",".join(f"{v:.3f}" for v in row) + f",{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tabular_recipe_trains_evaluates_predicts_and_exports(tmp_path, capsys, tabular_recipe):
    from kerazoo.cli import main

    data, run = _blobs_csv(tmp_path / "blobs.csv"), tmp_path / "run"
    assert main(["train", "tabular_classification", "--data", f"csv:{data}", "--run-dir",
                 str(run), "--epochs", "8", "--batch-size", "16", "--set",
                 "train.learning_rate=0.01"]) == 0
    report = json.loads((run / "evaluation.json").read_text())
    assert report["accuracy"] > 0.9 and len(report["confusion_matrix"]) == 3
    assert "3 classes: high, low, mid" in (run / "model_card.md").read_text()
    capsys.readouterr()

    assert main(["evaluate", str(run)]) == 0
    assert capsys.readouterr().out.startswith("test accuracy: ")
    assert main(["predict", str(run), "8.1,0.2,5.0", "0.1,-0.2,4.9", "--top", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("'8.1,0.2,5.0': high ") and lines[1].startswith(
        "'0.1,-0.2,4.9': low ")
    assert main(["export", str(run)]) == 0
    version = Path(capsys.readouterr().out.strip())
    manifest = json.loads((version / "export.json").read_text())
    assert manifest["task"] == "tabular_classification" and manifest["labels"] == [
        "high", "low", "mid"]


def test_tabular_recipe_names_its_sources_on_a_bad_one(tmp_path, capsys, tabular_recipe):
    from kerazoo.cli import main

    assert main(["train", "tabular_classification", "--data", "tfds:iris",
                 "--run-dir", str(tmp_path / "run")]) == 1
    assert "'tfds:iris' is not a source of tabular_classification; use csv:PATH" in \
        capsys.readouterr().err
    assert not (tmp_path / "run").exists()
