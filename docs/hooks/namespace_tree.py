"""mkdocs hook: lay out the `kerazoo` namespace as one folder tree for mkdocstrings.

layers/, zoo/ and recipes/ map into kerazoo.* through pyproject's package-dir, which griffe's static
finder cannot follow. Before the docs build, this copies the Python sources into that layout under
build/docs-namespace/, which mkdocs.yml gives mkdocstrings as its search path.

Our docstrings follow Keras: an ``Example:`` heading with the ``>>>`` lines at the same indentation.
Griffe's Google parser only treats *indented* lines as the section's body, so the copies indent the
doctest block under its heading; it then renders as code instead of as stray Markdown.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "build" / "docs-namespace"
_EXAMPLE_HEADING = re.compile(r"^(\s*)Examples?:\s*$")


def indent_examples(source: str) -> str:
    lines, out, index = source.splitlines(keepends=True), [], 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        heading = _EXAMPLE_HEADING.match(line)
        if not heading:
            continue
        indent = heading.group(1)
        in_example = False
        while index < len(lines):
            text = lines[index]
            body = text[len(indent):] if text.startswith(indent) else ""
            if text.strip() and (not text.startswith(indent) or text.strip().startswith('"""')):
                break
            if body.startswith((">>>", "...")):
                in_example = True
            elif not text.strip():
                # A blank line ends an example's output; another `>>>` may follow.
                following = lines[index + 1] if index + 1 < len(lines) else ""
                if not following.strip().startswith(">>>"):
                    break
                in_example = False
            elif not in_example:
                break
            out.append(indent + "    " + body if text.strip() else text)
            index += 1
    return "".join(out)


def build_tree() -> Path:
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(TREE, ignore_errors=True)
    mapped_folders = {(ROOT / folder).resolve() for folder in mapping.values()}
    for package, folder in mapping.items():
        source_root = (ROOT / folder).resolve()
        target_root = TREE.joinpath(*package.split("."))
        for source in source_root.rglob("*.py"):
            # A file under a subfolder mapped to a package of its own is copied there, not here.
            owner = max((f for f in mapped_folders if f == source.parent or f in source.parents),
                        key=lambda f: len(f.parts))
            if owner != source_root or "__pycache__" in source.parts:
                continue
            target = target_root / source.relative_to(source_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(indent_examples(source.read_text()))
    return TREE


# Before mkdocstrings reads `paths: [build/docs-namespace]` (mkdocs.yml).
@event_priority(100)
def on_config(config):
    build_tree()
    return config
