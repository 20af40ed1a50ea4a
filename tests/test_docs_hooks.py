"""docs/hooks/zoo_pages.py: the zoo table and the preset plots are drawn from data, not pasted."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("zoo_pages", ROOT / "docs" / "hooks" / "zoo_pages.py")
zoo_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(zoo_pages)


def test_zoo_table_has_a_row_per_model_with_the_preset_metric():
    index = json.loads(zoo_pages.INDEX_JSON.read_text())
    table = zoo_pages.zoo_table(index, zoo_pages.load_presets())
    models = [e for e in index["entries"] if e["kind"] == "models"]
    rows = table.splitlines()[2:]
    assert len(rows) == len(models)
    simple_cnn = next(row for row in rows if row.startswith("| `simple_cnn` |"))
    assert "`simple_cnn_digits`: accuracy" in simple_cnn


def test_a_preset_folder_with_run_artefacts_gets_curves_and_a_confusion_matrix(tmp_path):
    folder = tmp_path / "demo_preset"
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps({
        "model": "simple_cnn", "task": "image_classification", "summary": "Demo.",
        "labels": ["cat", "dog"], "metrics": {"accuracy": 0.75},
    }))
    (folder / "metrics.csv").write_text(
        "epoch,step,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n"
        "1,3,0.9,0.5,1.0,0.4,0.003,1.0\n2,6,0.5,0.7,0.6,0.65,0.003,1.0\n"
    )
    (folder / "evaluation.json").write_text(json.dumps({"confusion_matrix": [[3, 1], [0, 4]]}))
    presets = zoo_pages.load_presets(tmp_path)
    section = zoo_pages.recipe_section("image_classification", presets)
    assert "### `demo_preset`" in section and "Test accuracy 0.7500." in section
    assert section.count("<svg") == 2 and "val_loss" in section and "<polyline" in section
    assert "<th>cat</th>" in section and ">4</td>" in section
    assert zoo_pages.recipe_section("speech_commands", presets) == ""


def test_forecast_examples_are_drawn(tmp_path):
    svg = zoo_pages.forecast_charts([{"history": [1, 2, 3], "truth": [4, 5], "forecast": [4, 6]}])
    assert svg.count("<polyline") == 3 and "forecast" in svg
