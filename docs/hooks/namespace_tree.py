"""mkdocs hook: lay out the `kerazoo` namespace as one folder tree for mkdocstrings.

layers/, zoo/ and recipes/ map into kerazoo.* through pyproject's package-dir, which griffe's static
finder cannot follow. Before the docs build, this mirrors the mapping with symlinks under
build/docs-namespace/, which mkdocs.yml gives mkdocstrings as its search path.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "build" / "docs-namespace"


def build_tree() -> Path:
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(TREE, ignore_errors=True)
    mapped_folders = {(ROOT / folder).resolve() for folder in mapping.values()}
    for package in sorted(mapping, key=lambda p: p.count(".")):
        target = TREE.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for source in (ROOT / mapping[package]).iterdir():
            # A subfolder mapped to a package of its own is linked there, not here.
            if source.resolve() in mapped_folders or source.name == "__pycache__":
                continue
            (target / source.name).symlink_to(source.resolve())
    return TREE


# Before mkdocstrings reads `paths: [build/docs-namespace]` (mkdocs.yml).
@event_priority(100)
def on_config(config):
    build_tree()
    return config
