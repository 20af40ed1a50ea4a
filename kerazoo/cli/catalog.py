"""``kerazoo list`` and ``kerazoo info``: browse the registry."""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Sequence
from typing import Any

from kerazoo.registry import KINDS, Entry, find, registry

# Metadata shown as extra columns by `kerazoo list KIND`, when entries carry it.
LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "models": ("task", "family", "params"),
    "recipes": ("task",),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    list_parser = subparsers.add_parser(
        "list",
        help="list registered models, recipes, layers, losses, ...",
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
        "info", help="describe one registered name", description="Show the card of a name."
    )
    info_parser.add_argument("name", metavar="NAME")
    info_parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    info_parser.set_defaults(run=run_info)


def run_list(args: argparse.Namespace) -> int:
    kind, pattern = args.kind_or_pattern, args.pattern
    if kind is not None and kind not in KINDS:
        if args.pattern != "*":
            registry(kind)  # raises: unknown kind, with a suggestion
        kind, pattern = None, kind
    kinds = [kind] if kind else list(KINDS)
    entries = [registry(k).get(name) for k in kinds for name in registry(k).list(pattern)]
    if args.json:
        print(json.dumps([_entry_json(entry) for entry in entries], indent=2, default=str))
        return 0
    if not entries:
        where = f"{kind}" if kind else "any kind"
        print(f"No names match '{pattern}' in {where}.")
        return 0
    columns = LIST_COLUMNS.get(kind, ()) if kind else ()
    headers = ["name"] + ([] if kind else ["kind"]) + list(columns) + ["summary"]
    rows = [
        [entry.name]
        + ([] if kind else [entry.kind])
        + [_format_value(entry.metadata.get(column, "")) for column in columns]
        + [entry.summary]
        for entry in entries
    ]
    print(format_table(headers, rows))
    return 0


def run_info(args: argparse.Namespace) -> int:
    entries = find(args.name)
    if args.json:
        print(json.dumps([_entry_json(entry, full=True) for entry in entries], indent=2, default=str))
        return 0
    print("\n\n".join(format_card(entry) for entry in entries))
    return 0


def format_card(entry: Entry) -> str:
    lines = [f"{entry.name}  ({entry.kind[:-1] if entry.kind.endswith('s') else entry.kind})",
             f"  object: {entry.qualified_name}"]
    if entry.kind == "models":
        lines += _model_lines(entry)
    else:
        lines += [f"  {key}: {_format_value(value)}" for key, value in entry.metadata.items()]
    doc = inspect.getdoc(entry.obj) or ""
    if doc:
        lines += ["", *("  " + line if line else "" for line in doc.splitlines())]
    return "\n".join(lines)


def _model_lines(entry: Entry) -> list[str]:
    """A zoo model's card: what it takes, returns and costs, and how to build it."""
    from kerazoo.zoo import model_config

    config = model_config(entry.name)
    shape = "(" + ", ".join(map(str, config["input_shape"])) + ")"
    lines = [
        f"  task: {config['task']}    family: {config['family']}",
        f"  paper: {config.get('paper') or 'n/a'}",
        f"  params: {_format_value(config['params'])}"
        + (f" (paper: {config['published_params']})" if config.get("published_params") else ""),
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
    lines.append(f"  build: kerazoo.zoo.build({entry.name!r}, input_shape=..., {options})")
    if config["overrides"]:
        lines.append(f"  overrides: {', '.join(config['overrides'])}")
    if config["presets"]:
        lines.append(f"  presets: {', '.join(config['presets'])}")
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


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def _entry_json(entry: Entry, full: bool = False) -> dict[str, Any]:
    data = {"name": entry.name, "kind": entry.kind, "summary": entry.summary,
            "object": entry.qualified_name, "metadata": dict(entry.metadata)}
    if full:
        data["doc"] = inspect.getdoc(entry.obj) or ""
    return data
