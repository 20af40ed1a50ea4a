"""Shipped presets as run directories: ``kerazoo predict | evaluate | export | serve preset:NAME``.

The verbs that take a run directory take ``preset:NAME`` too. The first use turns the shipped
preset into a finished run directory in the cache — ``config.yaml`` (the recipe's defaults for the
preset's model, plus what the preset's metadata records), ``model.keras``, ``labels.json`` and a
SavedModel in ``export/1`` — and later uses find it there. The directory is named after the
weights' sha256, so a changed preset never reuses a stale copy, and it is built in a temporary
folder and renamed: an interrupted first use leaves nothing that a second one would trust.

Example:

>>> from kerazoo.recipes.preset_runs import PREFIX, preset_name
>>> preset_name("preset:simple_cnn_digits"), preset_name("runs/digits")
('simple_cnn_digits', None)
"""

from __future__ import annotations

import difflib
import json
import shutil
import tempfile
from pathlib import Path

from kerazoo.errors import NotFoundError

PREFIX = "preset:"


def preset_name(argument: str | Path) -> str | None:
    """The preset that ``argument`` names (``preset:NAME``), or ``None`` for a path."""
    text = str(argument)
    return text[len(PREFIX):] if text.startswith(PREFIX) else None


def resolve_run(argument: str | Path) -> Path:
    """The run directory ``argument`` names: a path, or ``preset:NAME`` made into a run once."""
    name = preset_name(argument)
    return Path(argument) if name is None else materialize(name)


def cache_dir() -> Path:
    """Where preset runs live: ``$KERAZOO_HOME/preset-runs`` (default ``~/.kerazoo``)."""
    from kerazoo.zoo.weights import kerazoo_home

    return kerazoo_home() / "preset-runs"


def _shipped(name: str) -> tuple[Path, dict]:
    from kerazoo import zoo

    presets = {preset["name"]: Path(preset["path"]) for preset in zoo.list_presets()}
    if name not in presets:
        close = difflib.get_close_matches(name, list(presets), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"shipped: {', '.join(presets)}."
        raise NotFoundError(f"preset:{name}: no shipped preset of that name; {hint}")
    folder = presets[name]
    metadata_path = folder / "metadata.json"
    metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
    return folder, metadata


def _task_name(metadata: dict) -> str:
    """The recipe that made the preset: its metadata, else the zoo model's registered task."""
    from kerazoo.registry import registry

    if metadata.get("task") in registry("recipes"):
        return metadata["task"]
    task = registry("models").get(metadata["model"]).metadata.get("task", "")
    if task in registry("recipes"):
        return task
    raise NotFoundError(f"preset {metadata.get('name')!r} names no recipe (task {task!r}), so "
                        "it cannot be used as a run; load it with kerazoo.zoo.from_preset.")


def materialize(name: str) -> Path:
    """The run directory of the shipped preset ``name``, made on first use (verified weights)."""
    import kerazoo.recipes  # noqa: F401  (registers the recipes)
    from kerazoo import zoo
    from kerazoo.recipes import api
    from kerazoo.recipes import config as config_lib
    from kerazoo.recipes.export import export_saved_model
    from kerazoo.recipes.run_dir import atomic_write_json, atomic_write_text

    _, metadata = _shipped(name)
    target = cache_dir() / f"{name}-{str(metadata.get('weights_sha256', 'unverified'))[:12]}"
    if (target / "config.yaml").is_file() and (target / "export").is_dir():
        return target
    task_class = api.get_task(_task_name(metadata))
    config = task_class.default_config()
    config.model.name = metadata["model"]
    config = config_lib.merge(config, metadata.get("recipe_config") or {})
    task = task_class(config)
    model = zoo.from_preset(name)  # verifies the weights against metadata's sha256
    labels = list(metadata.get("labels") or [])
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        atomic_write_text(work / "config.yaml", config_lib.to_yaml(config))
        atomic_write_json(work / "labels.json", labels)
        model.save(work / "model.keras")
        export_saved_model(task, model, labels, work)
        try:
            work.rename(target)
        except OSError:  # another process made it first: theirs is as good as ours
            if not (target / "config.yaml").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
