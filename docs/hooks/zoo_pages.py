"""mkdocs hook: pages drawn from the zoo at build time, never pasted by hand.

- ``index.md``: the marker ``<!-- zoo-table -->`` becomes a table of every zoo model (name, family,
  params, MACs, input, the metric of its shipped preset), read from ``kerazoo/catalog_index.json``
  and the presets' ``metadata.json``.
- ``recipes/<task>.md``: after the page, a "Shipped preset" section for each preset of that task,
  drawn from the run artefacts the preset folder carries (each optional; nothing is drawn without):

  ``metrics.csv``
      the run's own ``metrics.csv`` as the trainer wrote it (``epoch`` column, then metric columns
      such as ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``): training curves (SVG).
  ``evaluation.json``
      the run's own test report; its ``confusion_matrix`` (a list of rows, true class by predicted
      class) is drawn as a shaded table, labelled with ``metadata.json``'s ``labels``.
  ``forecast_examples.json``
      ``{"examples": [{"history": [...], "truth": [...], "forecast": [...]}, ...]}`` (one target
      series per example, in the data's units): history, truth and forecast lines (SVG).

Plots are inline SVG from :mod:`kerazoo.recipes.charts` (the run artefacts' charts), so the docs
build needs no plotting library.
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

from kerazoo.recipes import charts

ROOT = Path(__file__).resolve().parents[2]
INDEX_JSON = ROOT / "kerazoo" / "catalog_index.json"
PRESETS = ROOT / "zoo" / "presets"
ZOO_TABLE_MARKER = "<!-- zoo-table -->"
PRIMARY_METRICS = ("test_accuracy", "accuracy", "mase", "mae", "rmse")


# --- data --------------------------------------------------------------------------------------


def load_presets(root: Path = PRESETS) -> list[dict[str, Any]]:
    presets = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        metadata_path = folder / "metadata.json"
        if metadata_path.is_file():
            presets.append({"name": folder.name, "path": folder,
                            "metadata": json.loads(metadata_path.read_text(encoding="utf-8"))})
    return presets


def preset_metric(metadata: dict[str, Any]) -> str:
    metrics = metadata.get("metrics") or {}
    for name in PRIMARY_METRICS:
        if name in metrics:
            return f"{name.removeprefix('test_')} {metrics[name]:.4f}"
    return ""


def zoo_table(index: dict[str, Any], presets: list[dict[str, Any]]) -> str:
    """Markdown: one row per zoo model."""
    by_model: dict[str, list[str]] = {}
    for preset in presets:
        metric = preset_metric(preset["metadata"])
        label = f"`{preset['name']}`" + (f": {metric}" if metric else "")
        by_model.setdefault(preset["metadata"].get("model", ""), []).append(label)
    rows = ["| model | family | params | MACs | input | preset (test metric) |",
            "|---|---|--:|--:|---|---|"]
    for entry in index["entries"]:
        if entry["kind"] != "models":
            continue
        card = entry["card"]
        shape = "×".join(str(d) for d in card["input_shape"]) or "scalar"
        macs = card.get("macs")
        rows.append(
            f"| `{entry['name']}` | {card['family']} | {card['params']:,} | "
            f"{_short(macs) if macs is not None else 'n/a'} | {shape} {card['input_dtype']} | "
            f"{'<br>'.join(by_model.get(entry['name'], [])) or '—'} |"
        )
    return "\n".join(rows)


def _short(count: int) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= scale:
            return f"{count / scale:.3g}{unit}"
    return str(count)


# --- SVG plots ---------------------------------------------------------------------------------


def training_curves(metrics_csv: str) -> str:
    """SVG charts from a run's ``metrics.csv``: losses in one, every other metric in another."""
    return "\n".join(charts.training_curves(csv.DictReader(io.StringIO(metrics_csv))))


def confusion_table(matrix: list[list[int]], labels: list[str] | None = None) -> str:
    """An HTML table, each cell shaded by its share of the true class's row."""
    labels = labels if labels and len(labels) == len(matrix) else [str(i) for i in range(len(matrix))]
    head = "".join(f"<th>{html.escape(str(label))}</th>" for label in labels)
    body = []
    for label, row in zip(labels, matrix):
        total = sum(row) or 1
        cells = "".join(
            f'<td style="background: rgba(31, 119, 180, {count / total:.2f}); text-align: right">'
            f"{count}</td>" for count in row
        )
        body.append(f"<tr><th>{html.escape(str(label))}</th>{cells}</tr>")
    return ('<table class="kerazoo-confusion"><caption>rows: true class, columns: predicted'
            f"</caption><tr><th></th>{head}</tr>{''.join(body)}</table>")


def forecast_charts(examples: list[dict[str, list[float]]], limit: int = 3) -> str:
    return "\n".join(charts.forecast_charts(examples, limit))


def preset_section(preset: dict[str, Any]) -> str:
    """Markdown + inline HTML for one preset, from the artefacts its folder carries."""
    folder, metadata = preset["path"], preset["metadata"]
    blocks = []
    if (folder / "metrics.csv").is_file():
        blocks.append("Training curves (dashed: validation):\n\n"
                      + training_curves((folder / "metrics.csv").read_text(encoding="utf-8")))
    if (folder / "evaluation.json").is_file():
        report = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
        if report.get("confusion_matrix"):
            blocks.append("Confusion matrix on the test split:\n\n"
                          + confusion_table(report["confusion_matrix"], metadata.get("labels")))
    if (folder / "forecast_examples.json").is_file():
        examples = json.loads((folder / "forecast_examples.json").read_text(encoding="utf-8"))
        blocks.append("Forecasts on test windows:\n\n"
                      + forecast_charts(examples.get("examples", [])))
    if not blocks:
        return ""
    metric = preset_metric(metadata)
    header = (f"### `{preset['name']}`\n\n{metadata.get('summary', '')}"
              + (f" Test {metric}." if metric else ""))
    return header + "\n\n" + "\n\n".join(blocks)


def recipe_section(task: str, presets: list[dict[str, Any]]) -> str:
    sections = [preset_section(p) for p in presets if _task_of(p["metadata"]) == task]
    sections = [s for s in sections if s]
    if not sections:
        return ""
    return "\n\n## Shipped preset: its own run\n\n" + "\n\n".join(sections) + "\n"


def _task_of(metadata: dict[str, Any]) -> str:
    if metadata.get("task"):
        return metadata["task"]
    index = json.loads(INDEX_JSON.read_text(encoding="utf-8"))
    for entry in index["entries"]:
        if entry["kind"] == "models" and entry["name"] == metadata.get("model"):
            return entry["card"].get("task", "")
    return ""


# --- mkdocs event ------------------------------------------------------------------------------


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    path = page.file.src_uri
    if path == "index.md" and ZOO_TABLE_MARKER in markdown:
        index = json.loads(INDEX_JSON.read_text(encoding="utf-8"))
        return markdown.replace(ZOO_TABLE_MARKER, zoo_table(index, load_presets()))
    if path.startswith("recipes/") and path.endswith(".md"):
        task = Path(path).stem.replace("-", "_")
        return markdown + recipe_section(task, load_presets())
    return markdown
