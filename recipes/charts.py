"""Small SVG charts written as text: a run's training curves and confusion matrix, the docs' pages.

No plotting library: importing and drawing with matplotlib cost ~1 s of a 30-second run (a third
of the gap to a plain ``model.fit`` script on digits), and an SVG file is smaller, sharp at any
size and opens in any browser. The docs build (``docs/hooks/zoo_pages.py``) draws the shipped
presets' pages with the same functions, so a run's charts and the docs' charts look alike.

Example:

>>> from kerazoo.recipes import charts
>>> svg = charts.line_chart({"loss": [(1, 0.9), (2, 0.5)]}, "loss", "epoch")
>>> svg.startswith("<svg") and svg.count("<polyline") == 1
True
>>> rows = [{"epoch": "1", "loss": "0.9", "val_loss": "1.0", "accuracy": "0.5"}]
>>> charts.document(charts.training_curves(rows)).count("<svg")  # two charts in one file
3
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
#: ``metrics.csv`` columns that are not curves.
NOT_CURVES = frozenset({"epoch", "step", "learning_rate", "seconds", "skipped_steps"})


def line_chart(series: Mapping[str, Sequence[tuple[float, float]]], title: str, x_label: str,
               width: int = 520, height: int = 260,
               band: tuple[str, Sequence[tuple[float, float, float]]] | None = None) -> str:
    """An SVG line chart of named ``[(x, y), ...]`` series, with a legend; ``""`` without
    points. Series named ``val_*`` are dashed. ``band``: ``(name, [(x, low, high), ...])``, a
    shaded interval drawn under the lines."""
    points = [p for values in series.values() for p in values]
    if band is not None:
        points += [(x, y) for x, low, high in band[1] for y in (low, high)]
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

    parts = [_open(width, height, title),
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
    if band is not None and band[1]:
        outline = [(x, high) for x, _, high in band[1]] + [(x, low) for x, low, _ in band[1][::-1]]
        parts.append(f'<polygon fill="{COLOURS[0]}" fill-opacity="0.2" stroke="none" points="'
                     + " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in outline) + '"/>')
        parts.append(f'<text x="{width - right + 8}" y="{top + 14 * len(series) + 8}" '
                     f'fill="{COLOURS[0]}" fill-opacity="0.6">{html.escape(band[0])}</text>')
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


def training_curves(rows: Iterable[Mapping[str, str]]) -> list[str]:
    """Charts of ``metrics.csv`` rows (as ``csv.DictReader`` gives them): the losses in one,
    every other metric in another. Empty cells (no validation split) are left out."""
    rows = list(rows)
    if not rows or "epoch" not in rows[0]:
        return []
    columns = [c for c in rows[0] if c not in NOT_CURVES]

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
    names = ", ".join(sorted({c.removeprefix("val_") for c in others}))
    return [chart for chart in (line_chart(losses, "loss", "epoch"),
                                line_chart(others, names, "epoch")) if chart]


def forecast_charts(examples: Sequence[Mapping[str, Any]], limit: int = 3) -> list[str]:
    """One chart per example ``{"history": [...], "truth": [...], "forecast": [...]}``, with
    optional ``"lower"``/``"upper"`` (an interval, shaded; ``"interval"`` names it) and
    ``"title"``."""
    charts = []
    for number, example in enumerate(examples[:limit], 1):
        history = list(example.get("history", []))
        n = len(history)
        series = {"history": list(enumerate(history)),
                  "truth": [(n + i, v) for i, v in enumerate(example.get("truth", []))],
                  "forecast": [(n + i, v) for i, v in enumerate(example.get("forecast", []))]}
        lower, upper = example.get("lower"), example.get("upper")
        band = None
        if lower is not None and upper is not None:
            band = (example.get("interval", "interval"),
                    [(n + i, lo, hi) for i, (lo, hi) in enumerate(zip(lower, upper))])
        charts.append(line_chart({k: v for k, v in series.items() if v},
                                 example.get("title", f"test window {number}"), "step",
                                 band=band))
    return [chart for chart in charts if chart]


def confusion_matrix(matrix: Sequence[Sequence[int]], labels: Sequence[str] | None = None,
                     cell: int = 28) -> str:
    """An SVG confusion matrix: rows true class, columns predicted, each cell shaded by its
    share of the true class's row and labelled with its count."""
    size = len(matrix)
    labels = [str(v) for v in labels] if labels and len(labels) == size else [
        str(i) for i in range(size)]
    margin = 12 + 7 * min(max((len(v) for v in labels), default=1), 16)
    width = height = margin + cell * size + 8
    parts = [_open(width, height + 18, "confusion matrix"),
             f'<text x="{margin}" y="{height + 12}">rows: true class, columns: predicted</text>']
    for i, (label, row) in enumerate(zip(labels, matrix)):
        total = sum(row) or 1
        y = margin + i * cell
        parts.append(f'<text x="{margin - 4}" y="{y + cell / 2 + 4}" text-anchor="end">'
                     f'{html.escape(label[:16])}</text>')
        parts.append(f'<text x="{margin + i * cell + cell / 2}" y="{margin - 4}" '
                     f'text-anchor="end" transform="rotate(-60 {margin + i * cell + cell / 2} '
                     f'{margin - 4})">{html.escape(label[:16])}</text>')
        for j, count in enumerate(row):
            share = count / total
            x = margin + j * cell
            ink = "#fff" if share > 0.5 else "#000"
            parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" '
                         f'fill="rgba(31,119,180,{share:.2f})" stroke="#ddd"/>'
                         f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                         f'fill="{ink}">{int(count)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def document(charts: Sequence[str], columns: int | None = None) -> str:
    """One standalone SVG file holding ``charts`` in a grid of ``columns`` (default: one row),
    as one root element."""
    columns = max(1, columns or len(charts) or 1)
    sizes = [tuple(float(v) for v in re.match(
        r'<svg [^>]*?width="([\d.]+)" height="([\d.]+)"', chart).groups()) for chart in charts]
    cell_w = max((w for w, _ in sizes), default=0)
    cell_h = max((h for _, h in sizes), default=0)
    placed = [chart.replace("<svg ", f'<svg x="{(i % columns) * cell_w:g}" '
                            f'y="{(i // columns) * cell_h:g}" ', 1)
              for i, chart in enumerate(charts)]
    rows = -(-len(charts) // columns) if charts else 0
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{cell_w * min(columns, len(charts)):g}" '
            f'height="{cell_h * rows:g}">' + "".join(placed) + "</svg>\n")


def _open(width: float, height: float, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img" aria-label="{html.escape(title)}" font-family="sans-serif" '
            'font-size="11">')
