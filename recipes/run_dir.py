"""Run directories and atomic writes: nothing is ever half-written.

A run trains in ``.NAME.partial`` beside its final path and is renamed to ``NAME`` when it ends
(an interrupted run is resumed from the partial directory by re-running the same command). Files
are written to a temporary name in their directory and renamed into place.

Example:

>>> import tempfile, pathlib
>>> from kerazoo.recipes.run_dir import atomic_write_text
>>> path = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
>>> atomic_write_text(path, "done")
>>> path.read_text()
'done'
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from kerazoo.errors import KerazooError


def partial_path(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    return run_dir.with_name(f".{run_dir.name}.partial")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temp, 0o644)  # mkstemp makes 0600; run files are meant to be shared
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


_TEMP_NAME = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")  # atomic_write_bytes's mkstemp names


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Remove what killed writers left in ``folder`` (recursively): ``atomic_write_*``'s
    ``.NAME.XXXXXXXX.tmp`` files and ``.export-*`` folders of a half-done export. A kill skips
    their own clean-up, and a finished run must not publish them. Returns what was removed.
    """
    removed = []
    for path in sorted(Path(folder).rglob(".*")):
        if path.is_dir() and path.name.startswith(".export-"):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and _TEMP_NAME.fullmatch(path.name):
            path.unlink(missing_ok=True)
        else:
            continue
        removed.append(path)
    return removed


def existing_run(run_dir: str | Path) -> Path:
    """A finished run directory, or a one-line error naming it."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        partial = partial_path(run_dir)
        if (partial / "config.yaml").is_file():
            raise KerazooError(
                f"{run_dir}: the run did not finish (its state is in {partial}); re-run the same "
                "`kerazoo train` command to resume it."
            )
        if run_dir.is_dir():
            raise KerazooError(f"{run_dir}: not a run directory (no config.yaml).")
        raise KerazooError(f"Run directory not found: {run_dir}")
    return run_dir
