"""Time-series sources for the forecasting recipe: CSV files, the embedded CO2 series, synthetic.

Everything here is NumPy (no TensorFlow; pandas only for calendars, through
:mod:`kerazoo.recipes.series_calendar`): a source is read into a :class:`Series` table
(timestamps, one value matrix per series id), placed on the calendar of its frequency (inferred
or given: ``D``, ``B``, ``W-SUN``, ``MS``, ``ME``, ``QS``, ``YS``, ``h``, ...), checked,
gap-filled by the chosen policy and split chronologically. Every problem a user can cause raises a one-line ``DataError`` naming the
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
#: The largest magnitude a float32 holds: larger values overflow to inf inside the model.
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class OneSeries:
    """One series: ``timestamps`` (``datetime64[s]``, regular after filling) and ``values``
    ``float64 [T, features]`` (targets first, then covariates)."""

    timestamps: np.ndarray
    values: np.ndarray
    filled: int = 0


@dataclass
class Series:
    """A validated table: series by id, the column names and what filling did.

    ``frequency`` is the pandas alias of the calendar every series is regular on (``MS``,
    ``B``, ``h``, ...); ``step`` its nominal length (exact for fixed frequencies)."""

    series: dict[str, OneSeries]
    columns: list[str]
    num_targets: int
    step: np.timedelta64 | None = None
    notes: list[str] = field(default_factory=list)
    frequency: str | None = None


def _parse_timestamp(text: str) -> np.datetime64:
    from kerazoo.recipes.series_calendar import parse_timestamp

    return parse_timestamp(text)


def _value(cell: str, name: str, line: int, column: str, drop_bad_rows: bool,
           dropped: list[str]) -> float:
    """One value cell as float64: empty/``NaN``/``NA`` is missing (filled by the fill policy);
    ``inf`` or a magnitude beyond float32 is refused naming the cell, or made missing and
    counted with ``drop_bad_rows``."""
    if not cell or cell.lower() in ("nan", "na"):
        return math.nan
    try:
        value = float(cell)
    except ValueError:
        raise DataError(f"{name}: row {line}, column {column!r}: {cell!r} is not a "
                        "number.") from None
    if math.isfinite(value) and abs(value) <= FLOAT32_MAX:
        return value
    if drop_bad_rows:
        dropped.append(f"row {line} {column}={cell}")
        return math.nan
    raise DataError(f"{name}: row {line}, column {column!r}: {cell!r} is not a finite float32 "
                    f"value (|x| <= {FLOAT32_MAX:.3g}); fix it, leave the cell empty for a "
                    "missing value, or set data.drop_bad_rows=true to treat such cells as "
                    "missing.")


def parse_csv_text(text: str, name: str, *, timestamp_column: str, targets: list[str],
                   covariates: list[str] | None = None, id_column: str | None = None,
                   fill_policy: str = "interpolate", frequency: str | None = None,
                   drop_bad_rows: bool = False) -> Series:
    """Read, check and gap-fill a CSV table (see :func:`load_csv`)."""
    from kerazoo.recipes import series_calendar

    if frequency is not None:
        frequency = series_calendar.canonical(frequency)
    if fill_policy not in FILL_POLICIES:
        raise ConfigError(f"Config key 'data.fill_policy' must be one of "
                          f"{', '.join(FILL_POLICIES)}. Received: {fill_policy!r}")
    covariates = list(covariates or [])
    if not targets:
        raise ConfigError("Config key 'data.targets' is empty: name at least one target column.")
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))  # a UTF-8 byte-order mark
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
    dropped: list[str] = []
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
        values = [_value(row[index[column]].strip(), name, line, column, drop_bad_rows,
                         dropped) for column in value_columns]
        key = row[index[id_column]].strip() if id_column else "series"
        groups.setdefault(key, []).append((stamp, values, line))
    if not groups:
        raise DataError(f"{name}: no data rows below the header.")
    raw = {}
    for key, rows in groups.items():
        stamps = np.array([r[0] for r in rows])
        lines = [r[2] for r in rows]
        where = f"{name}" + (f" (series {key!r})" if id_column else "")
        order = np.diff(stamps.astype("int64"))
        if (order == 0).any():
            k = int(np.flatnonzero(order == 0)[0])
            hint = ("" if str(stamps[k]).endswith("T00:00:00") else
                    " (naive local times repeat an hour when daylight saving ends: write UTC or "
                    "ISO 8601 with the UTC offset, e.g. 2024-10-27T02:00+01:00)")
            raise DataError(f"{where}: duplicate timestamp {stamps[k]} on rows {lines[k]} and "
                            f"{lines[k + 1]}{hint}.")
        if (order < 0).any():
            k = int(np.flatnonzero(order < 0)[0])
            raise DataError(f"{where}: timestamps are not increasing: row {lines[k + 1]} "
                            f"({stamps[k + 1]}) comes after row {lines[k]} ({stamps[k]}); "
                            "sort the file by time.")
        raw[key] = (stamps, np.array([r[1] for r in rows], np.float64), lines)
    inferred = {}
    for key, (stamps, _, lines) in raw.items():
        if frequency is None and len(stamps) >= 2:
            where = f"{name}" + (f" (series {key!r})" if id_column else "")
            inferred[key] = series_calendar.infer_frequency(stamps, lines, where)
    if frequency is None:
        if not inferred:
            raise DataError(f"{name}: too few rows to infer the time step.")
        kinds = list(dict.fromkeys(inferred.values()))  # in file order
        if len(kinds) > 1:
            a, b = (next(k for k, v in inferred.items() if v == kind) for kind in kinds[:2])
            raise DataError(f"{name}: series {a!r} is {kinds[0]} but series {b!r} is {kinds[1]};"
                            " every series of a file must have one frequency (or set "
                            "data.frequency).")
        frequency = kinds[0]
    table = Series({}, value_columns, len(targets), None, frequency=frequency)
    if dropped:
        more = f" and {len(dropped) - 3} more" if len(dropped) > 3 else ""
        table.notes.append(f"{name}: {len(dropped)} non-finite or out-of-float32-range cell(s) "
                           f"treated as missing (data.drop_bad_rows): "
                           f"{'; '.join(dropped[:3])}{more}")
    spacing = []
    for key, (stamps, values, lines) in raw.items():
        where = f"{name}" + (f" (series {key!r})" if id_column else "")
        table.series[key] = _regularize(where, stamps, values, lines, frequency, value_columns,
                                        fill_policy, table.notes)
        spacing.append(np.diff(table.series[key].timestamps.astype(np.int64)))
    spacing = np.concatenate(spacing)
    # The nominal step (exact for fixed frequencies, the median spacing for calendar ones):
    # kept for callers that predate calendars; use table.frequency for timestamps.
    table.step = np.timedelta64(int(np.median(spacing)) if len(spacing) else 0, "s")
    for position, column in enumerate(value_columns):
        stacked = np.concatenate([s.values[:, position] for s in table.series.values()])
        if np.nanstd(stacked) == 0:
            raise DataError(f"{name}: column {column!r} is constant ({stacked[0]:g}); it carries "
                            "no signal and cannot be normalized — drop it.")
    return table


def _regularize(where, stamps, values, lines, frequency, columns, policy, notes) -> OneSeries:
    from kerazoo.recipes import series_calendar

    grid, slots = series_calendar.place_on_calendar(stamps, lines, where, frequency)
    full = np.full((len(grid), values.shape[1]), np.nan)
    full[slots] = values
    missing_rows = len(full) - len(values)
    nan_mask = np.isnan(full)
    if nan_mask.any():
        if policy == "error":
            if missing_rows:
                gap = int(np.flatnonzero(np.diff(slots) > 1)[0])
                count = int(slots[gap + 1] - slots[gap] - 1)
                missing = grid[slots[gap] + 1 : slots[gap + 1]]
                named = ", ".join(series_calendar.label(t, frequency) for t in missing[:3])
                raise DataError(
                    f"{where}: gap of {count} missing {series_calendar.describe(frequency)} "
                    f"step(s) after row {lines[gap]} ({stamps[gap]}): {named}"
                    f"{', ...' if count > 3 else ''} missing; set data.fill_policy=ffill or "
                    "interpolate to fill gaps.")
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
    return OneSeries(grid, full, int(nan_mask.any(axis=1).sum()))


def load_csv(path: str | Path, **kwargs) -> Series:
    """Read ``path`` (a CSV with a header) into a checked, regular :class:`Series`.

    Args:
        path: the CSV file.
        **kwargs: options of :func:`parse_csv_text`: ``timestamp_column`` (ISO 8601 timestamps
            or integer steps), ``targets`` (columns to forecast), ``covariates`` (extra input
            columns, known in the lookback window only), ``id_column`` (names the series when
            the file holds several), ``fill_policy`` (``error``, ``ffill`` or ``interpolate``
            for gaps and NaNs), ``drop_bad_rows`` (treat ``inf`` and values beyond float32 as
            missing cells, counted in the notes, instead of refusing them), ``frequency`` (a pandas alias such as ``MS``, ``B`` or ``h``;
            ``None`` infers it, see :func:`kerazoo.recipes.series_calendar.infer_frequency`).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CSV file not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Excel's "CSV UTF-8") is not a column
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not valid UTF-8 at byte {error.start} ({error.reason}); "
                        "re-save the file as UTF-8.") from None
    return parse_csv_text(text, str(path), **kwargs)


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
