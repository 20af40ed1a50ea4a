"""What ``kerazoo list`` / ``kerazoo info`` show, readable without importing Keras or TensorFlow.

The registries fill themselves by importing their packages, which imports TensorFlow (seconds).
So every registered name's card (kind, summary, object, metadata, docstring, and for zoo models
the ``model_config`` plus parameter and MAC counts) is written once into ``catalog_index.json``
beside this file; the CLI reads that. ``tests/test_catalog_index.py`` checks the file equals the
live registries, so it cannot drift unnoticed. Regenerate it after adding or changing any registered
object (one command, from the repository root)::

    make index        # = .venv/bin/python -m kerazoo.catalog_index

Presets are read from the shipped ``zoo/presets/<name>/metadata.json`` files directly (plain JSON,
no index needed).
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib.util
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from kerazoo.errors import NotFoundError

INDEX_PATH = Path(__file__).with_name("catalog_index.json")
FORMAT = "kerazoo.catalog/1"
PRESETS_KIND = "presets"

# Kinds in `kerazoo list` order: the registries' kinds, then presets.
REGISTRY_KINDS = (
    "layers", "activations", "losses", "metrics", "optimizers", "schedules", "callbacks",
    "models", "recipes",
)
KINDS = (*REGISTRY_KINDS, PRESETS_KIND)


# --- reading (no TensorFlow) -------------------------------------------------------------------


@cache
def load_index(path: str | None = None) -> dict[str, Any]:
    """The committed index: ``{"format", "entries": [{"name", "kind", ...}, ...]}``."""
    with open(path or INDEX_PATH, encoding="utf-8") as stream:
        return json.load(stream)


def presets_dir() -> Path | None:
    """The shipped presets folder, found without importing ``kerazoo.zoo`` (which imports Keras)."""
    spec = importlib.util.find_spec("kerazoo.zoo")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "presets"
        if folder.is_dir():
            return folder
    return None


def preset_entries() -> list[dict[str, Any]]:
    """One entry per shipped preset, its card read from ``metadata.json``."""
    folder = presets_dir()
    if folder is None:
        return []
    entries = []
    for preset in sorted(folder.iterdir()):
        metadata_path = preset / "metadata.json"
        if not metadata_path.is_file():
            continue
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
        entries.append({
            "name": preset.name, "kind": PRESETS_KIND, "summary": metadata.get("summary", ""),
            "object": f"kerazoo.zoo.from_preset({preset.name!r})", "metadata": metadata,
            "path": str(preset), "doc": "",
        })
    return entries


def entries(kind: str | None = None) -> list[dict[str, Any]]:
    """Every entry of ``kind`` (``None``: all kinds), sorted by name within a kind."""
    found = list(load_index()["entries"]) + preset_entries()
    if kind is not None:
        found = [entry for entry in found if entry["kind"] == kind]
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(found, key=lambda entry: (order.get(entry["kind"], len(KINDS)), entry["name"]))


def list_names(kind: str | None, pattern: str = "*") -> list[dict[str, Any]]:
    """Entries whose name matches the shell-style ``pattern`` (case-insensitive)."""
    return [e for e in entries(kind) if fnmatch.fnmatchcase(e["name"].lower(), pattern.lower())]


def find(name: str) -> list[dict[str, Any]]:
    """Every entry called ``name`` in any kind; an unknown name raises with the closest names."""
    everything = entries()
    matches = [entry for entry in everything if entry["name"] == name]
    if matches:
        return matches
    by_lower = {entry["name"].lower(): entry["name"] for entry in everything}
    if name.lower() in by_lower:
        return [e for e in everything if e["name"] == by_lower[name.lower()]]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    hint = (" Did you mean: " + ", ".join(by_lower[c] for c in close) + "?") if close else ""
    raise NotFoundError(
        f"No layer, model, preset, recipe or other kerazoo object is named '{name}'.{hint}"
    )


# --- writing (imports every registry, so TensorFlow) -------------------------------------------


def _jsonable(value: Any) -> Any:
    """Tuples become lists and unknown objects their ``str``: what a JSON round trip gives."""
    return json.loads(json.dumps(value, default=str))


def build_index(macs: bool = True) -> dict[str, Any]:
    """The index computed from the live registries.

    Args:
        macs: also build every zoo model to count its MACs (a few seconds per model). The drift
            test passes ``False`` and checks MACs on small models only. Defaults to ``True``.
    """
    import inspect

    from kerazoo.registry import registry

    found = []
    for kind in REGISTRY_KINDS:
        for entry in registry(kind):
            item = {
                "name": entry.name, "kind": kind, "summary": entry.summary,
                "object": entry.qualified_name, "metadata": _jsonable(dict(entry.metadata)),
                "doc": inspect.getdoc(entry.obj) or "",
            }
            if kind == "models":
                item["card"] = _jsonable(_model_card(entry.name, macs))
            found.append(item)
    return {"format": FORMAT, "entries": found}


def _model_card(name: str, macs: bool) -> dict[str, Any]:
    from kerazoo.zoo import model_config

    card = dict(model_config(name))
    if macs:
        card["macs"] = model_macs(name)
    return card


def model_macs(name: str) -> int | None:
    """MACs of one sample through the default configuration (``None`` if not countable)."""
    import keras

    from kerazoo import zoo

    try:
        model = zoo.build(name)
        return int(zoo.profile(model)["macs"])
    except Exception:  # a model whose input shape is not fully defined (variable-length text)
        return None
    finally:
        keras.backend.clear_session()


def write_index(path: str | os.PathLike = INDEX_PATH) -> Path:
    """Write :func:`build_index` to ``path`` atomically (temp file, then rename)."""
    path = Path(path)
    text = json.dumps(build_index(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                     encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(stream.name, 0o644)
    os.replace(stream.name, path)
    return path


if __name__ == "__main__":
    print(f"wrote {write_index()}")
