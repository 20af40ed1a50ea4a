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

Plots are inline SVG written here, so the docs build needs no plotting library.
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INDEX_JSON = ROOT / "kerazoo" / "catalog_index.json"
PRESETS = ROOT / "zoo" / "presets"
ZOO_TABLE_MARKER = "<!-- zoo-table -->"
PRIMARY_METRICS = ("test_accuracy", "accuracy", "mase", "mae", "rmse")
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


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


def line_chart(series: dict[str, list[tuple[float, float]]], title: str, x_label: str,
               width: int = 520, height: int = 260) -> str:
    """An inline SVG line chart of named ``[(x, y), ...]`` series, with a legend."""
    points = [p for values in series.values() for p in values]
    if not points:
        return ""
    left, right, top, bottom = 56, 120, 28, 36
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def sy(y: float) -> float:
        return height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}" font-family="sans-serif" font-size="11">',
             f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">'
             f'{html.escape(title)}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
             f'y2="{height - bottom}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#888"/>']
    for value in (y0, (y0 + y1) / 2, y1):
        parts.append(f'<text x="{left - 4}" y="{sy(value) + 4:.1f}" text-anchor="end">'
                     f'{value:.3g}</text>')
    for value in (x0, x1):
        parts.append(f'<text x="{sx(value):.1f}" y="{height - bottom + 14}" '
                     f'text-anchor="middle">{value:g}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 4}" '
                 f'text-anchor="middle">{html.escape(x_label)}</text>')
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        dash = ' stroke-dasharray="4 3"' if name.startswith("val_") else ""
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8"{dash} '
                     f'points="{path}"/>')
        parts.append(f'<text x="{width - right + 8}" y="{top + 14 * i + 8}" fill="{colour}">'
                     f'{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def training_curves(metrics_csv: str) -> str:
    """SVG charts from a run's ``metrics.csv``: losses in one, every other metric in another."""
    rows = list(csv.DictReader(io.StringIO(metrics_csv)))
    if not rows or "epoch" not in rows[0]:
        return ""
    skip = {"epoch", "step", "learning_rate", "seconds"}
    columns = [c for c in rows[0] if c not in skip]

    def values(column: str) -> list[tuple[float, float]]:
        out = []
        for row in rows:
            try:
                out.append((float(row["epoch"]), float(row[column])))
            except (TypeError, ValueError):
                continue
        return out

    losses = {c: values(c) for c in columns if c.removeprefix("val_") == "loss"}
    others = {c: values(c) for c in columns if c.removeprefix("val_") != "loss"}
    return "\n".join(chart for chart in (
        line_chart(losses, "loss", "epoch"),
        line_chart(others, ", ".join(sorted({c.removeprefix("val_") for c in others})), "epoch"),
    ) if chart)


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
    charts = []
    for number, example in enumerate(examples[:limit], 1):
        history = example.get("history", [])
        n = len(history)
        series = {"history": list(enumerate(history)),
                  "truth": [(n + i, v) for i, v in enumerate(example.get("truth", []))],
                  "forecast": [(n + i, v) for i, v in enumerate(example.get("forecast", []))]}
        charts.append(line_chart({k: v for k, v in series.items() if v},
                                 f"test window {number}", "step"))
    return "\n".join(charts)


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
