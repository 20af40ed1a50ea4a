"""Calendars of time series: frequencies, regular grids, gaps and future timestamps (pandas offsets).

A frequency is a pandas offset alias (``D``, ``B``, ``W-SUN``, ``MS``, ``ME``, ``QS``, ``QE``,
``YS``, ``YE``, ``h``, ``15min``, ...), the convention of statsmodels, sktime, Darts and GluonTS.
A series' *calendar* is every timestamp of that frequency from its first row to its last; a row
off the calendar is an error, a calendar slot without a row is a gap (filled or refused by the
caller's fill policy, see :mod:`kerazoo.recipes.series_sources`).

Time zones: timestamps are naive wall-clock times or UTC. A timestamp with a UTC offset
(``2024-03-31T03:00+02:00``) or ``Z`` is converted to naive UTC when it is read, so hourly data
written in a local time zone *with its offsets* stays regular across daylight-saving changes
(the spring hour that does not exist and the autumn hour that occurs twice are both one UTC hour).
Naive local times across a DST change are not regular: the autumn hour repeats (refused as a
duplicate timestamp) and the spring hour is missing (a gap). Future timestamps are in the same
naive time (UTC when the file had offsets).

Inference (``infer_frequency``) tries the anchored calendar frequencies (year, quarter, month,
week, business day) and the fixed step that is the median spacing of the rows; of those whose
calendar holds every row it picks the coarsest (fewest calendar slots), so a monthly file with a
missing month is still monthly and a business-day file with a holiday is still ``B`` (``B`` needs
two skipped weekends; with fewer, weekday rows are daily rows with a gap). When no
frequency holds every row, the error names a row off the grid most rows follow and a row on it.

Example:

>>> import numpy as np
>>> from kerazoo.recipes.series_calendar import (default_season_length, future_timestamps,
...                                              infer_frequency)
>>> stamps = np.array(["2024-01-01", "2024-02-01", "2024-04-01"], "datetime64[s]")
>>> infer_frequency(stamps, [2, 3, 4], "monthly.csv")
'MS'
>>> [str(t)[:10] for t in future_timestamps(stamps[-1], "MS", 2)]
['2024-05-01', '2024-06-01']
>>> default_season_length("ME"), default_season_length("B"), default_season_length("h")
(12, 5, 24)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np

from kerazoo.errors import ConfigError, DataError

# Anchored frequencies tried by inference, coarse first (a tie keeps the earlier one).
ANCHORED = ("YS", "YE", "QS-JAN", "QS-FEB", "QS-MAR", "QE-DEC", "QE-JAN", "QE-FEB", "MS", "ME",
            "W-MON", "W-TUE", "W-WED", "W-THU", "W-FRI", "W-SAT", "W-SUN", "B")

# Rows spaced this many calendar steps apart several times in a row are a second frequency, not
# gaps: three consecutive skipped-slot steps.
MIXED_RUN = 3

_NAMES = {"YS": "year-start", "YE": "year-end", "QS": "quarter-start", "QE": "quarter-end",
          "MS": "month-start", "ME": "month-end", "W": "week", "B": "business-day", "D": "day",
          "h": "hour", "min": "minute", "s": "second", "ms": "millisecond", "us": "microsecond",
          "ns": "nanosecond", "SMS": "semi-month-start", "SME": "semi-month-end"}

_TZ_SUFFIX = re.compile(r"(Z|[+-]\d\d(:?\d\d)?)$")


def _pandas():
    import pandas as pd

    return pd


def to_offset(frequency: str):
    """The pandas offset of ``frequency``; a one-line ``ConfigError`` when it is not one."""
    pd = _pandas()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.tseries.frequencies.to_offset(frequency)
    except (ValueError, TypeError):
        raise ConfigError(
            f"Config key 'data.frequency': {frequency!r} is not a pandas frequency; use e.g. D, "
            "B, W-SUN, MS, ME, QS, QE, YS, YE, h or 15min.") from None


def canonical(frequency: str) -> str:
    """The canonical alias (``"QS"`` -> ``"QS-JAN"``, ``"W"`` -> ``"W-SUN"``)."""
    return to_offset(frequency).freqstr


def describe(frequency: str) -> str:
    """Words for messages: ``"MS"`` -> ``"month-start"``, ``"2h"`` -> ``"2-hour"``."""
    offset = to_offset(frequency)
    base = offset.rule_code.split("-")[0]
    words = _NAMES.get(base, offset.rule_code)
    if base == "W" and "-" in offset.rule_code:
        words = f"week (ending {offset.rule_code.split('-')[1].title()})"
    return words if offset.n == 1 else f"{offset.n}-{words}"


def parse_timestamp(text: str) -> np.datetime64:
    """An ISO 8601 timestamp as naive ``datetime64[s]``; one with a UTC offset becomes UTC.

    Plain integers (a step counter or Unix seconds) are seconds since 1970. Raises
    ``ValueError(text)`` when ``text`` is none of these.
    """
    text = text.strip()
    if "T" in text or " " in text:
        stamp = text.replace(" ", "T", 1)
        if _TZ_SUFFIX.search(stamp.split("T", 1)[1]):
            pd = _pandas()
            try:
                parsed = pd.Timestamp(stamp)
            except ValueError:
                raise ValueError(text) from None
            if parsed.tzinfo is not None:
                parsed = parsed.tz_convert("UTC").tz_localize(None)
            return np.datetime64(parsed.to_datetime64(), "s")
        text = stamp
    try:
        return np.datetime64(text, "s")
    except ValueError:
        pass
    try:
        return np.datetime64(int(text), "s")
    except ValueError:
        raise ValueError(text) from None


def calendar(first: np.datetime64, last: np.datetime64, frequency: str) -> np.ndarray:
    """Every timestamp of ``frequency`` from ``first`` to ``last`` (``datetime64[s]``).

    Anchored frequencies start at the first anchor on or after ``first`` and keep ``first``'s
    time of day.
    """
    pd = _pandas()
    return pd.date_range(pd.Timestamp(first), pd.Timestamp(last),
                         freq=to_offset(frequency)).to_numpy().astype("datetime64[s]")


def future_timestamps(last: np.datetime64, frequency: str, horizon: int) -> np.ndarray:
    """The ``horizon`` timestamps of ``frequency`` after ``last`` (``datetime64[s]``)."""
    pd = _pandas()
    stamps = pd.date_range(pd.Timestamp(last), periods=horizon + 1, freq=to_offset(frequency))
    return stamps.to_numpy().astype("datetime64[s]")[1:]


def epoch_seconds(stamps: np.ndarray) -> np.ndarray:
    """``datetime64`` timestamps as int64 seconds since 1970 (what ``CalendarFeatures`` takes)."""
    return np.asarray(stamps, "datetime64[s]").astype(np.int64)


def default_season_length(frequency: str) -> int:
    """The season of the seasonal-naive baseline and MASE: one year of months (12), quarters (4)
    or weeks (52); one week of days (7) or of business days (5); one day of hours (24) or of
    sub-daily steps up to 288 (5-minutely); else 1 (years, seconds, unknown)."""
    offset = to_offset(frequency)
    base, n = offset.rule_code.split("-")[0], max(offset.n, 1)
    per_year = {"MS": 12, "ME": 12, "SMS": 24, "SME": 24, "QS": 4, "QE": 4, "W": 52}
    if base in per_year:
        return per_year[base] // n if per_year[base] % n == 0 else 1
    if base == "B":
        return 5 // n if 5 % n == 0 else 1
    seconds = _fixed_seconds(offset)
    if seconds:
        if seconds == 86_400:
            return 7
        if 86_400 % seconds == 0 and 86_400 // seconds <= 288:
            return 86_400 // seconds
    return 1


def resolve_season_length(explicit: int | None, frequency: str | None, lookback: int
                          ) -> tuple[int, str | None]:
    """``(season, note)``: the user's ``data.season_length`` if set, else
    :func:`default_season_length` of ``frequency`` — or 1 with a note when that default does
    not fit in ``lookback`` (the seasonal-naive baseline needs a full season in each window;
    an explicit season that does not fit stays the caller's error)."""
    if explicit:
        return int(explicit), None
    season = default_season_length(frequency) if frequency else 1
    if season > lookback:
        return 1, (f"season_length {season} of frequency {frequency} exceeds data.lookback "
                   f"({lookback}); using 1 (set data.lookback >= {season} for the seasonal "
                   "baseline)")
    return season, None


def calendar_periods(frequency: str) -> tuple[str, ...]:
    """The cycles worth encoding for ``frequency`` (see ``kerazoo.layers.CalendarFeatures``):
    month of year below a quarter, day of week for daily steps (not business days: five values),
    hour of day for sub-daily steps."""
    offset = to_offset(frequency)
    base = offset.rule_code.split("-")[0]
    if base in ("YS", "YE", "QS", "QE"):
        return ()
    if base in ("MS", "ME", "SMS", "SME", "W"):
        return ("month_of_year",)
    if base == "B":
        return ("month_of_year",)
    seconds = _fixed_seconds(offset)
    if seconds is None or seconds > 86_400:
        return ("month_of_year",) if seconds and seconds <= 31 * 86_400 else ()
    if seconds == 86_400:
        return ("day_of_week", "month_of_year")
    if seconds < 86_400:
        return ("hour_of_day", "day_of_week")
    return ()


def _fixed_seconds(offset) -> int | None:
    """Seconds of a fixed-length offset (ticks and days; naive time, so a day is 86,400 s)."""
    pd = _pandas()
    if isinstance(offset, pd.offsets.Tick | pd.offsets.Day):
        return int(pd.Timedelta(offset).total_seconds())
    return None


def _fixed_alias(seconds: int) -> str:
    for unit, size in (("D", 86_400), ("h", 3_600), ("min", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count}{unit}"
    return "s" if seconds == 1 else f"{seconds}s"


def _on_calendar(stamps: np.ndarray, frequency: str) -> tuple[np.ndarray, np.ndarray]:
    """``(slot of each row, whether the row is on the calendar)`` for ``frequency``."""
    grid = calendar(stamps[0], stamps[-1], frequency)
    if not len(grid):
        return np.zeros(len(stamps), np.int64), np.zeros(len(stamps), bool)
    slots = np.minimum(np.searchsorted(grid, stamps), len(grid) - 1)
    return slots.astype(np.int64), grid[slots] == stamps


def infer_frequency(stamps: np.ndarray, lines: Sequence[int], where: str) -> str:
    """The coarsest frequency whose calendar holds every row of sorted ``stamps``.

    Args:
        stamps: increasing ``datetime64[s]`` timestamps (at least two).
        lines: the file's row number of each stamp (for messages).
        where: the file (and series) named in messages.

    Raises:
        DataError: no frequency holds every row; names a row off the grid that most rows follow
            and a row on it.
    """
    if len(stamps) < 2:
        raise DataError(f"{where}: too few rows to infer the frequency; set data.frequency.")
    spacing = np.diff(stamps.astype(np.int64))
    median = int(np.median(spacing))
    candidates = [*ANCHORED, _fixed_alias(max(median, 1))]
    span = int(stamps[-1].astype(np.int64) - stamps[0].astype(np.int64))
    best, best_slots, majority = None, None, None
    for frequency in candidates:
        seconds = _fixed_seconds(to_offset(frequency))
        if seconds and span // seconds > 200 * len(stamps) + 10_000:
            continue  # a fine grid over sparse rows: not this file's frequency
        slots, on = _on_calendar(stamps, frequency)
        if on.all():
            count = int(slots[-1]) + 1
            if best_slots is None or count < best_slots:
                best, best_slots = frequency, count
        else:
            # A tie goes to the rows' own median spacing (the last candidate).
            score = (int(on.sum()), frequency == candidates[-1])
            if majority is None or score > majority[2]:
                majority = (frequency, on, score)
    if best == "B" and median == 86_400:
        # Daily rows that skip one weekend are as likely a daily file with a gap; business days
        # need at least two skipped weekends to be told apart.
        days = np.arange(stamps[0].astype("datetime64[D]"), stamps[-1].astype("datetime64[D]") + 1)
        weekend = ((days.astype(np.int64) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
        if weekend.sum() < 4:
            best = "D"
    if best is not None:
        return canonical(best)
    frequency, on, _ = majority
    off = int(np.flatnonzero(~on)[0])
    good = np.flatnonzero(on)
    near = int(good[np.argmin(np.abs(good - off))]) if len(good) else (off + 1) % len(stamps)
    raise DataError(
        f"{where}: row {lines[off]} ({stamps[off]}) is off the regular {describe(frequency)} grid "
        f"that the other rows follow (row {lines[near]}, {stamps[near]}, is on it); fix that "
        "timestamp or set data.frequency.")


def label(stamp: np.datetime64, frequency: str) -> str:
    """A timestamp as a forecaster names it: ``2024-06`` (monthly), ``2024-Q2`` (quarterly),
    ``2024`` (yearly), else ISO 8601."""
    base = to_offset(frequency).rule_code.split("-")[0]
    text = str(np.datetime64(stamp, "s"))
    if base in ("MS", "ME"):
        return text[:7]
    if base in ("QS", "QE"):
        return f"{text[:4]}-Q{(int(text[5:7]) - 1) // 3 + 1}"
    if base in ("YS", "YE"):
        return text[:4]
    return text[:10] if text.endswith("T00:00:00") else text


def place_on_calendar(stamps: np.ndarray, lines: Sequence[int], where: str, frequency: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(calendar, slot of each row)``; refuses a row off the calendar and a file that mixes
    two frequencies (naming two rows).

    Args:
        stamps: increasing ``datetime64[s]`` timestamps.
        lines: the file's row number of each stamp.
        where: the file (and series) named in messages.
        frequency: a pandas alias (inferred or the user's ``data.frequency``).
    """
    slots, on = _on_calendar(stamps, frequency)
    if not on.all():
        off = int(np.flatnonzero(~on)[0])
        good = np.flatnonzero(on)
        hint = (f" (row {lines[int(good[0])]}, {stamps[int(good[0])]}, is on it)" if len(good)
                else "")
        raise DataError(
            f"{where}: row {lines[off]} ({stamps[off]}) is off the regular {describe(frequency)} "
            f"grid (data.frequency={frequency}){hint}; fix that timestamp or the frequency.")
    steps = np.diff(slots)
    skipped = steps > 1
    if len(skipped) >= MIXED_RUN:
        run = np.convolve(skipped.astype(int), np.ones(MIXED_RUN, int), "valid") == MIXED_RUN
        if run.any():
            k = int(np.flatnonzero(run)[0])
            apart = _spacing(stamps[k], stamps[k + 1])
            single = np.flatnonzero(steps == 1)
            if len(single):
                j = int(single[0])
                other = (f"rows {lines[j]} and {lines[j + 1]} are one {describe(frequency)} step "
                         f"apart ({stamps[j]}, {stamps[j + 1]})")
            else:
                other = f"the frequency is {frequency}"
            raise DataError(
                f"{where}: the file mixes two frequencies: {other} but rows {lines[k]} and "
                f"{lines[k + 1]} are {apart} apart ({stamps[k]}, {stamps[k + 1]}) and so are the "
                f"next {MIXED_RUN - 1} steps; keep one frequency per file (or set "
                "data.frequency to the coarser one and resample).")
    return calendar(stamps[0], stamps[-1], frequency), slots


def _spacing(a: np.datetime64, b: np.datetime64) -> str:
    seconds = int((b - a).astype("timedelta64[s]").astype(np.int64))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
