"""The embedded ``co2`` series: weekly atmospheric CO2 at Mauna Loa, 1958-03-29 to 2001-12-29.

Read from ``data/co2_weekly.csv`` inside the package (public domain, NOAA/Scripps via
statsmodels; provenance and gap handling in ``data/co2_weekly.md``), so the forecasting recipe
trains offline with nothing downloaded. ``generate_co2.py`` rebuilds the file.

Example:

>>> from kerazoo.recipes.embedded import co2
>>> table = co2.load()
>>> len(table.series["co2"].values), table.series["co2"].filled, table.frequency
(2284, 59, 'W-SAT')
"""

from __future__ import annotations

from importlib import resources

FILE = "data/co2_weekly.csv"
LICENSE = "public domain (NOAA / Scripps Mauna Loa CO2 record, as shipped by statsmodels)"
SEASON_LENGTH = 52
FREQUENCY = "W-SAT"  # weeks ending on Saturday, the source's dates


def text() -> str:
    """The CSV text (``date,co2``; empty cells are the source's missing weeks)."""
    return resources.files("kerazoo.recipes.embedded").joinpath(FILE).read_text()


def load(fill_policy: str = "interpolate", frequency: str | None = FREQUENCY):
    """The series as a :class:`kerazoo.recipes.series_sources.Series` with id ``co2``.

    Args:
        fill_policy: how the 59 missing weeks are filled (``interpolate`` or ``ffill``;
            ``error`` refuses the gaps).
        frequency: the calendar (a pandas alias). Defaults to ``"W-SAT"``; ``None`` infers it
            (the same).
    """
    from kerazoo.recipes.series_sources import parse_csv_text

    table = parse_csv_text(text(), "co2 (embedded)", timestamp_column="date", targets=["co2"],
                           fill_policy=fill_policy, frequency=frequency)
    table.series = {"co2": table.series["series"]}
    return table
