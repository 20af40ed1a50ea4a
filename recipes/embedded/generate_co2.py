"""Regenerate ``data/co2_weekly.csv`` from the NOAA Mauna Loa series that statsmodels ships.

Run from the repository root (needs the ``dev`` extra, which installs statsmodels)::

    python recipes/embedded/generate_co2.py

The CSV keeps the source exactly: one row per week (Saturdays), ``date,co2`` in ppm with one
decimal, and an empty ``co2`` cell for each of the 59 weeks the source marks missing (the
forecasting recipe fills them by its ``data.fill_policy``; see ``data/co2_weekly.md``).
"""

from __future__ import annotations

from pathlib import Path

TARGET = Path(__file__).resolve().parent / "data" / "co2_weekly.csv"


def main() -> None:
    from statsmodels.datasets import co2

    frame = co2.load_pandas().data
    lines = ["date,co2"]
    for stamp, value in zip(frame.index, frame["co2"]):
        cell = "" if value != value else f"{value:.1f}"  # NaN != NaN: a missing week
        lines.append(f"{stamp:%Y-%m-%d},{cell}")
    TARGET.write_text("\n".join(lines) + "\n")
    print(f"wrote {TARGET} ({len(frame)} weeks, {int(frame['co2'].isna().sum())} missing)")


if __name__ == "__main__":
    main()
