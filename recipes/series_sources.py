"""Time-series sources for the forecasting recipe: CSV files, the embedded CO2 series, synthetic.

Everything here is NumPy (no pandas, no TensorFlow): a source is read into a :class:`Series`
table (timestamps, one value matrix per series id), checked, gap-filled by the chosen policy and
split chronologically. Every problem a user can cause raises a one-line ``DataError`` naming the
file, column, row or value.

Example:

>>> from kerazoo.recipes.series_sources import synthetic_csv_text, parse_csv_text
>>> table = parse_csv_text(synthetic_csv_text(num_series=2, length=50), "synthetic.csv",
...                        timestamp_column="timestamp", targets=["value"], id_column="series")
>>> sorted(table.series), table.series["a"].values.shape
(['a', 'b'], (50, 1))
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kerazoo.errors import ConfigError, DataError

FILL_POLICIES = ("error", "ffill", "interpolate")


@dataclass
class OneSeries:
    """One series: ``timestamps`` (``datetime64[s]``, regular after filling) and ``values``
    ``float64 [T, features]`` (targets first, then covariates)."""

    timestamps: np.ndarray
    values: np.ndarray
    filled: int = 0


@dataclass
class Series:
    """A validated table: series by id, the column names and what filling did."""

    series: dict[str, OneSeries]
    columns: list[str]
    num_targets: int
    step: np.timedelta64 | None = None
    notes: list[str] = field(default_factory=list)


def _parse_timestamp(text: str) -> np.datetime64:
    text = text.strip()
    try:
        return np.datetime64(text.replace(" ", "T") if " " in text else text, "s")
    except ValueError:
        pass
    # Plain integers (a step counter or Unix seconds) are allowed as timestamps.
    try:
        return np.datetime64(int(text), "s")
    except ValueError:
        raise ValueError(text) from None


def parse_csv_text(text: str, name: str, *, timestamp_column: str, targets: list[str],
                   covariates: list[str] | None = None, id_column: str | None = None,
                   fill_policy: str = "interpolate") -> Series:
    """Read, check and gap-fill a CSV table (see :func:`load_csv`)."""
    if fill_policy not in FILL_POLICIES:
        raise ConfigError(f"Config key 'data.fill_policy' must be one of "
                          f"{', '.join(FILL_POLICIES)}. Received: {fill_policy!r}")
    covariates = list(covariates or [])
    if not targets:
        raise ConfigError("Config key 'data.targets' is empty: name at least one target column.")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{name}: the file is empty.") from None
    wanted = [timestamp_column, *targets, *covariates] + ([id_column] if id_column else [])
    for column in wanted:
        if column not in header:
            raise DataError(f"{name}: no column {column!r}; the header has {', '.join(header)}.")
    index = {column: header.index(column) for column in wanted}
    value_columns = [*targets, *covariates]
    groups: dict[str, list[tuple[np.datetime64, list[float], int]]] = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise DataError(f"{name}: row {line} has {len(row)} fields, the header "
                            f"{len(header)}.")
        try:
            stamp = _parse_timestamp(row[index[timestamp_column]])
        except ValueError:
            raise DataError(f"{name}: row {line}, column {timestamp_column!r}: "
                            f"{row[index[timestamp_column]]!r} is not a timestamp "
                            "(use ISO 8601, e.g. 2024-01-31 or 2024-01-31T12:00).") from None
        values = []
        for column in value_columns:
            cell = row[index[column]].strip()
            try:
                values.append(float(cell) if cell and cell.lower() not in ("nan", "na") else
                              math.nan)
            except ValueError:
                raise DataError(f"{name}: row {line}, column {column!r}: {cell!r} is not a "
                                "number.") from None
        key = row[index[id_column]].strip() if id_column else "series"
        groups.setdefault(key, []).append((stamp, values, line))
    if not groups:
        raise DataError(f"{name}: no data rows below the header.")
    steps = []
    raw = {}
    for key, rows in groups.items():
        stamps = np.array([r[0] for r in rows])
        lines = [r[2] for r in rows]
        where = f"{name}" + (f" (series {key!r})" if id_column else "")
        order = np.diff(stamps.astype("int64"))
        if (order == 0).any():
            k = int(np.flatnonzero(order == 0)[0])
            raise DataError(f"{where}: duplicate timestamp {stamps[k]} on rows {lines[k]} and "
                            f"{lines[k + 1]}.")
        if (order < 0).any():
            k = int(np.flatnonzero(order < 0)[0])
            raise DataError(f"{where}: timestamps are not increasing: row {lines[k + 1]} "
                            f"({stamps[k + 1]}) comes after row {lines[k]} ({stamps[k]}); "
                            "sort the file by time.")
        if len(order):
            steps.append(np.median(order))
        raw[key] = (stamps, np.array([r[1] for r in rows], np.float64), lines)
    if not steps:
        raise DataError(f"{name}: too few rows to infer the time step.")
    step = np.timedelta64(int(np.median(steps)), "s")
    table = Series({}, value_columns, len(targets), step)
    for key, (stamps, values, lines) in raw.items():
        where = f"{name}" + (f" (series {key!r})" if id_column else "")
        table.series[key] = _regularize(where, stamps, values, lines, step, value_columns,
                                        fill_policy, table.notes)
    for position, column in enumerate(value_columns):
        stacked = np.concatenate([s.values[:, position] for s in table.series.values()])
        if np.nanstd(stacked) == 0:
            raise DataError(f"{name}: column {column!r} is constant ({stacked[0]:g}); it carries "
                            "no signal and cannot be normalized — drop it.")
    return table


def _regularize(where, stamps, values, lines, step, columns, policy, notes) -> OneSeries:
    offsets = (stamps - stamps[0]).astype("int64")
    step_s = int(step.astype("int64"))
    slots = offsets / step_s
    if not np.allclose(slots, np.round(slots)):
        k = int(np.flatnonzero(~np.isclose(slots, np.round(slots)))[0])
        raise DataError(f"{where}: row {lines[k]} ({stamps[k]}) is off the regular "
                        f"{_step_text(step)} grid that the other rows follow.")
    slots = np.round(slots).astype(np.int64)
    full = np.full((int(slots[-1]) + 1, values.shape[1]), np.nan)
    full[slots] = values
    missing_rows = len(full) - len(values)
    nan_mask = np.isnan(full)
    if nan_mask.any():
        if policy == "error":
            if missing_rows:
                gap = int(np.flatnonzero(np.diff(slots) > 1)[0])
                raise DataError(
                    f"{where}: gap of {int(slots[gap + 1] - slots[gap] - 1)} missing "
                    f"{_step_text(step)} step(s) after row {lines[gap]} ({stamps[gap]}); set "
                    "data.fill_policy=ffill or interpolate to fill gaps.")
            row, column = (int(v) for v in np.argwhere(np.isnan(values))[0])
            raise DataError(f"{where}: row {lines[row]}, column {columns[column]!r} is empty/NaN;"
                            " set data.fill_policy=ffill or interpolate to fill it.")
        for column in range(full.shape[1]):
            known = ~np.isnan(full[:, column])
            if not known.any():
                raise DataError(f"{where}: column {columns[column]!r} has no values.")
            if policy == "interpolate":
                positions = np.arange(len(full))
                full[:, column] = np.interp(positions, positions[known], full[known, column])
            else:
                last = np.maximum.accumulate(np.where(known, np.arange(len(full)), 0))
                first = int(np.flatnonzero(known)[0])
                last[:first] = first  # leading NaNs take the first value (nothing to carry)
                full[:, column] = full[last, column]
        notes.append(f"{where}: {int(nan_mask.any(axis=1).sum())} row(s) filled by {policy} "
                     f"({missing_rows} missing timestamp(s))")
    timestamps = stamps[0] + np.arange(len(full)) * step
    return OneSeries(timestamps, full, int(nan_mask.any(axis=1).sum()))


def _step_text(step: np.timedelta64) -> str:
    seconds = int(step.astype("int64"))
    for unit, size in (("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count}-{unit}" if count != 1 else unit
    return f"{seconds}-second"


def load_csv(path: str | Path, **kwargs) -> Series:
    """Read ``path`` (a CSV with a header) into a checked, regular :class:`Series`.

    Args:
        path: the CSV file.
        **kwargs: options of :func:`parse_csv_text`: ``timestamp_column`` (ISO 8601 timestamps
            or integer steps), ``targets`` (columns to forecast), ``covariates`` (extra input
            columns, known in the lookback window only), ``id_column`` (names the series when
            the file holds several), ``fill_policy`` (``error``, ``ffill`` or ``interpolate``
            for gaps and NaNs).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CSV file not found: {path}")
    return parse_csv_text(path.read_text(), str(path), **kwargs)


def synthetic_csv_text(num_series: int = 3, length: int = 400, *, period: int = 12,
                       seed: int = 0, covariate: bool = False) -> str:
    """A CSV of ``num_series`` daily series (trend + season + noise) for tests and demos.

    Columns ``timestamp, series, value`` (plus ``temperature`` with ``covariate=True``).
    """
    rng = np.random.default_rng(seed)
    lines = ["timestamp,series,value" + (",temperature" if covariate else "")]
    start = np.datetime64("2020-01-01")
    for s in range(num_series):
        t = np.arange(length)
        level = 10.0 * (s + 1)
        value = (level + 0.02 * t + 3 * np.sin(2 * np.pi * (t + 2 * s) / period)
                 + rng.normal(0, 0.3, length))
        temperature = 20 + 5 * np.cos(2 * np.pi * t / period) + rng.normal(0, 0.5, length)
        for i in range(length):
            row = f"{start + i},{chr(ord('a') + s)},{value[i]:.4f}"
            lines.append(row + (f",{temperature[i]:.3f}" if covariate else ""))
    return "\n".join(lines) + "\n"


def chronological_bounds(length: int, validation_fraction: float, test_fraction: float
                         ) -> dict[str, tuple[int, int]]:
    """Row ranges ``[start, end)`` of train / validation / test, in time order."""
    test = int(round(length * test_fraction))
    validation = int(round(length * validation_fraction))
    train_end = length - test - validation
    return {"train": (0, train_end), "validation": (train_end, train_end + validation),
            "test": (train_end + validation, length)}
