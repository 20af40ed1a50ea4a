"""``kerazoo list`` and ``kerazoo info``: browse models, presets, recipes and plugin components.

Both read :mod:`kerazoo.catalog_index` (a JSON index shipped in the package, plus the presets'
``metadata.json`` files), so they answer in well under a second without importing TensorFlow.
"""

from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kerazoo import catalog_index
from kerazoo.catalog_index import KINDS
from kerazoo.errors import NotFoundError

# Metadata shown as extra columns by `kerazoo list KIND`, when entries carry it.
LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "models": ("task", "family", "params"),
    "recipes": ("task",),
    "presets": ("model", "task", "metric"),
}
# The metric a preset card leads with, first found wins.
PRIMARY_METRICS = ("test_accuracy", "accuracy", "mase", "mae", "rmse")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    list_parser = subparsers.add_parser(
        "list",
        help="list models, presets, recipes, layers, losses, ...",
        description="List registered names. With no KIND, every kind; PATTERN is a shell "
        "wildcard such as 'resnet*'.",
    )
    list_parser.add_argument(
        "kind_or_pattern", nargs="?", metavar="KIND",
        help=f"one of: {', '.join(KINDS)} (or a PATTERN searched in every kind)",
    )
    list_parser.add_argument("pattern", nargs="?", default="*", metavar="PATTERN")
    list_parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    list_parser.set_defaults(run=run_list)

    info_parser = subparsers.add_parser(
        "info", help="describe one model, preset, recipe or component",
        description="Show the card of a name (a model, preset, recipe, layer, loss, ...).",
    )
    info_parser.add_argument("name", metavar="NAME")
    info_parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    info_parser.set_defaults(run=run_info)


def run_list(args: argparse.Namespace) -> int:
    kind, pattern = args.kind_or_pattern, args.pattern
    if kind is not None and kind not in KINDS:
        if args.pattern != "*":
            close = difflib.get_close_matches(kind, KINDS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise NotFoundError(
                f"Unknown kind '{kind}'; expected one of: {', '.join(KINDS)}.{hint}"
            )
        kind, pattern = None, kind
    found = catalog_index.list_names(kind, pattern)
    if args.json:
        print(json.dumps([_entry_json(entry) for entry in found], indent=2))
        return 0
    if not found:
        print(f"No names match '{pattern}' in {kind or 'any kind'}.")
        return 0
    columns = LIST_COLUMNS.get(kind, ()) if kind else ()
    headers = ["name"] + ([] if kind else ["kind"]) + list(columns) + ["summary"]
    rows = [
        [entry["name"]]
        + ([] if kind else [entry["kind"]])
        + [_format_value(_column(entry, column)) for column in columns]
        + [entry["summary"].strip().splitlines()[0] if entry["summary"].strip() else ""]
        for entry in found
    ]
    print(format_table(headers, rows))
    return 0


def run_info(args: argparse.Namespace) -> int:
    found = catalog_index.find(args.name)
    if args.json:
        print(json.dumps([_entry_json(entry, full=True) for entry in found], indent=2))
        return 0
    print("\n\n".join(format_card(entry) for entry in found))
    return 0


def _column(entry: dict[str, Any], column: str) -> Any:
    if entry["kind"] == "presets":
        return {"task": _preset_task, "metric": _preset_metric}.get(
            column, lambda e: e["metadata"].get(column, "")
        )(entry)
    return entry["metadata"].get(column, "")


def format_card(entry: dict[str, Any]) -> str:
    kind = entry["kind"]
    singular = {"presets": "preset", "losses": "loss"}.get(kind, kind.removesuffix("s"))
    lines = [f"{entry['name']}  ({singular})", f"  object: {entry['object']}"]
    if kind == "models":
        lines += _model_lines(entry)
    elif kind == "presets":
        lines += _preset_lines(entry)
    else:
        lines += [f"  {key}: {_format_value(value)}" for key, value in entry["metadata"].items()]
    doc = entry.get("doc") or ""
    if doc:
        lines += ["", *("  " + line if line else "" for line in doc.splitlines())]
    return "\n".join(lines)


def _model_lines(entry: dict[str, Any]) -> list[str]:
    """A zoo model's card: what it takes, returns and costs, and how to build it."""
    config = entry["card"]
    shape = "(" + ", ".join(map(str, config["input_shape"])) + ")"
    lines = [
        f"  task: {config['task']}    family: {config['family']}",
        f"  paper: {config.get('paper') or 'n/a'}",
        f"  params: {_format_value(config['params'])}"
        + (f" (paper: {config['published_params']})" if config.get("published_params") else ""),
    ]
    if config.get("macs") is not None:
        lines.append(f"  MACs: {_format_value(config['macs'])} per sample")
    lines += [
        f"  input: {shape} {config['input_dtype']}",
        f"  output: {config['outputs']}"
        + (f" over {config['num_classes']} classes" if "num_classes" in config else ""),
    ]
    if "horizon" in config:
        lines.append(f"  horizon: {config['horizon']}    num_targets: {config['num_targets']}")
    prep = config.get("preprocessing") or {}
    lines.append("  preprocessing: " + ", ".join(
        f"{key}={_format_value(value)}" for key, value in prep.items() if value is not None
    ))
    options = ("horizon=..., num_targets=..." if "horizon" in config
               else "num_classes=..., include_top=..., pooling=..., dropout=...")
    lines.append(f"  build: kerazoo.zoo.build({entry['name']!r}, input_shape=..., {options})")
    if config["overrides"]:
        lines.append(f"  overrides: {', '.join(config['overrides'])}")
    if config["presets"]:
        lines.append(f"  presets: {', '.join(config['presets'])}")
    return lines


def _preset_task(entry: dict[str, Any]) -> str:
    metadata = entry["metadata"]
    if metadata.get("task"):
        return metadata["task"]
    models = {e["name"]: e for e in catalog_index.entries("models")}
    model = models.get(metadata.get("model", ""))
    return model["metadata"].get("task", "") if model else ""


def _preset_metric(entry: dict[str, Any]) -> str:
    metrics = entry["metadata"].get("metrics") or {}
    for name in PRIMARY_METRICS:
        if name in metrics:
            return f"{name}={_format_metric(metrics[name])}"
    return ""


def _preset_lines(entry: dict[str, Any]) -> list[str]:
    """A preset's card, from its metadata.json and its weights file."""
    from kerazoo.checksums import sha256_file

    metadata = entry["metadata"]
    folder = Path(entry["path"])
    weights = folder / "model.weights.h5"
    metrics = metadata.get("metrics") or {}
    shape = "(" + ", ".join(map(str, metadata.get("input_shape") or [])) + ")"
    prep = metadata.get("preprocessing") or {}
    lines = [
        f"  model: {metadata.get('model', '')}    task: {_preset_task(entry)}",
        f"  data: {metadata.get('dataset', 'n/a')}",
        *([f"  labels: {', '.join(map(str, metadata['labels']))}"] if metadata.get("labels") else []),
        "  metrics: " + (", ".join(f"{k}={_format_metric(v)}" for k, v in metrics.items())
                         or "n/a"),
        f"  input: {shape} {prep.get('input', '')}".rstrip(),
        "  preprocessing: " + (", ".join(
            f"{k}={_format_value(v)}" for k, v in prep.items() if k != "input"
        ) or "none (inside the model)"),
        f"  params: {_format_value(metadata.get('params', ''))}"
        + (f"    MACs: {_format_value(metadata['macs'])}" if metadata.get("macs") else ""),
    ]
    if weights.is_file():
        digest = sha256_file(weights)
        expected = metadata.get("weights_sha256")
        check = "" if not expected else (" (matches metadata)" if digest == expected
                                         else f" (MISMATCH: metadata says {expected})")
        lines += [f"  size: {_format_bytes(weights.stat().st_size)} (model.weights.h5)",
                  f"  sha256: {digest}{check}"]
    elif isinstance(metadata.get("weights"), dict):
        lines.append(f"  weights: {metadata['weights'].get('url')} "
                     f"sha256 {metadata['weights'].get('sha256')}")
    for key in ("training_command", "license", "date"):
        if metadata.get(key):
            lines.append(f"  {key.replace('_', ' ')}: {metadata[key]}")
    lines.append(f"  load: kerazoo.zoo.from_preset({entry['name']!r})")
    if metadata.get("notes"):
        lines += ["", *("  " + line for line in metadata["notes"].splitlines())]
    return lines


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 72) -> str:
    """A plain-text table; cells wider than ``max_width`` are cut with an ellipsis."""
    cells = [[str(h).upper() for h in headers]] + [
        [c if len(c) <= max_width else c[: max_width - 1] + "…" for c in map(str, row)] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells
    )


def _format_bytes(size: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _format_metric(value: Any) -> str:
    """Rates in [0, 1] with four decimals (``1.0000``, not ``1``); anything else as a value."""
    if isinstance(value, float) and 0.0 <= value <= 1.0:
        return f"{value:.4f}"
    return _format_value(value)


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1_000:
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def _entry_json(entry: dict[str, Any], full: bool = False) -> dict[str, Any]:
    data = {key: entry[key] for key in ("name", "kind", "summary", "object", "metadata")}
    if full:
        data["doc"] = entry.get("doc", "")
        if "card" in entry:
            data["card"] = entry["card"]
    return data
