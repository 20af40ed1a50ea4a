"""One registry for everything kerazoo names: plugin components, zoo models and recipes.

Each *kind* (``layers``, ``losses``, ``models``, ``recipes``, ...) has a :class:`Registry`. Entries are
added by decorator where the object is defined, and a registry imports its package the first time it is
asked for names, so ``kerazoo.registry`` itself stays free of Keras imports.

Example:

>>> from kerazoo.registry import Registry
>>> demo = Registry("demo")
>>> @demo.register(task="toy")
... def tiny_model():
...     '''A tiny model.'''
>>> demo.list("tiny*")
['tiny_model']
>>> demo.get("tiny_model").metadata["task"]
'toy'
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kerazoo.errors import KerazooError, NotFoundError

# Kind -> the package whose import registers that kind's entries.
KINDS: dict[str, str] = {
    "layers": "kerazoo.layers",
    "activations": "kerazoo.activations",
    "losses": "kerazoo.losses",
    "metrics": "kerazoo.metrics",
    "optimizers": "kerazoo.optimizers",
    "schedules": "kerazoo.schedules",
    "callbacks": "kerazoo.callbacks",
    "models": "kerazoo.zoo",
    "recipes": "kerazoo.recipes",
}

# The plugin kinds are Keras objects: registering one also registers it for Keras serialization.
KERAS_KINDS = frozenset(
    {"layers", "activations", "losses", "metrics", "optimizers", "schedules", "callbacks"}
)


@dataclass(frozen=True)
class Entry:
    """One registered object: its name, kind, the object itself and free-form metadata."""

    name: str
    kind: str
    obj: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The first line of the object's docstring, or of ``metadata['summary']``."""
        text = self.metadata.get("summary") or inspect.getdoc(self.obj) or ""
        return text.strip().splitlines()[0] if text.strip() else ""

    @property
    def qualified_name(self) -> str:
        module = getattr(self.obj, "__module__", None) or ""
        qualname = getattr(self.obj, "__qualname__", None) or type(self.obj).__qualname__
        return f"{module}.{qualname}" if module else qualname


class Registry:
    """Names of one kind of object, browsable with wildcards.

    Args:
        kind: what the entries are, e.g. ``"models"``.
        package: module imported before the first lookup so that its decorators have run.
            Defaults to ``None`` (nothing to import).
    """

    def __init__(self, kind: str, package: str | None = None):
        self.kind = kind
        self.package = package
        self._entries: dict[str, Entry] = {}
        self._loaded = package is None

    def register(
        self, obj: Any = None, *, name: str | None = None, **metadata: Any
    ) -> Callable[[Any], Any] | Any:
        """Register ``obj`` under ``name`` (default: its ``__name__``), as decorator or call.

        Duplicate names are refused: a second object under a taken name is almost always a
        copy-paste slip, and silently replacing the first would change what users get.
        """

        def decorate(target: Any) -> Any:
            entry_name = name or getattr(target, "__name__", None)
            if not entry_name:
                raise KerazooError(f"Cannot register {target!r} in '{self.kind}': give name=.")
            existing = self._entries.get(entry_name)
            if existing is not None and existing.obj is not target:
                raise KerazooError(
                    f"'{entry_name}' is already registered in '{self.kind}' "
                    f"(by {existing.qualified_name}); choose another name."
                )
            self._entries[entry_name] = Entry(
                entry_name, self.kind, target, MappingProxyType(dict(metadata))
            )
            return target

        return decorate if obj is None else decorate(obj)

    def _load(self) -> None:
        if not self._loaded:
            # Set first: the package's own import may call list() while it registers.
            self._loaded = True
            importlib.import_module(self.package)

    def list(self, pattern: str = "*", **filters: Any) -> list[str]:
        """Sorted names matching a shell-style ``pattern`` and exact metadata ``filters``.

        A filter whose value is ``None`` is ignored, so callers can pass optional filters through.
        """
        self._load()
        wanted = {key: value for key, value in filters.items() if value is not None}
        return sorted(
            entry.name
            for entry in self._entries.values()
            if fnmatch.fnmatchcase(entry.name.lower(), pattern.lower())
            and all(entry.metadata.get(key) == value for key, value in wanted.items())
        )

    def get(self, name: str) -> Entry:
        """The entry called ``name``; an unknown name raises with the closest names suggested."""
        self._load()
        if name in self._entries:
            return self._entries[name]
        raise NotFoundError(f"Unknown {self.singular} '{name}'.{self._suggest(name)}")

    def _suggest(self, name: str) -> str:
        by_lower = {entry_name.lower(): entry_name for entry_name in self._entries}
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
        if name.lower() in by_lower:
            close = [name.lower(), *[c for c in close if c != name.lower()]]
        if close:
            return " Did you mean: " + ", ".join(by_lower[c] for c in close) + "?"
        return f" See `kerazoo list {self.kind}`."

    @property
    def singular(self) -> str:
        return {"activations": "activation", "losses": "loss", "metrics": "metric",
                "optimizers": "optimizer", "schedules": "schedule", "callbacks": "callback",
                "models": "model", "recipes": "recipe", "layers": "layer"}.get(self.kind, self.kind)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        self._load()
        return iter(sorted(self._entries.values(), key=lambda entry: entry.name))

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry(kind={self.kind!r}, entries={len(self._entries)})"


_REGISTRIES: dict[str, Registry] = {kind: Registry(kind, package) for kind, package in KINDS.items()}


def registry(kind: str) -> Registry:
    """The registry of ``kind`` (one of :data:`KINDS`)."""
    try:
        return _REGISTRIES[kind]
    except KeyError:
        close = difflib.get_close_matches(kind, list(_REGISTRIES), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise NotFoundError(
            f"Unknown kind '{kind}'; expected one of: {', '.join(KINDS)}.{hint}"
        ) from None


def register(kind: str, obj: Any = None, *, name: str | None = None, **metadata: Any) -> Any:
    """Register ``obj`` in the registry of ``kind``; usable as ``@register("models", task=...)``.

    Plugin kinds (layers, losses, ...) are also registered for Keras serialization under the
    package ``"kerazoo"``, so ``keras.saving.load_model`` finds them without ``custom_objects``.
    """
    target_registry = registry(kind)

    def decorate(target: Any) -> Any:
        if kind in KERAS_KINDS:
            import keras  # deferred: keeps `import kerazoo.registry` free of Keras

            target = keras.saving.register_keras_serializable(package="kerazoo", name=name)(target)
        return target_registry.register(target, name=name, **metadata)

    return decorate if obj is None else decorate(obj)


def find(name: str) -> list[Entry]:
    """Every entry called ``name`` in any kind (``snake`` is an activation, ``Snake`` a layer)."""
    matches = [reg.get(name) for reg in _REGISTRIES.values() if name in reg]
    if matches:
        return matches
    everything = {entry.name.lower(): entry.name for reg in _REGISTRIES.values() for entry in reg}
    close = difflib.get_close_matches(name.lower(), list(everything), n=3, cutoff=0.6)
    hint = (" Did you mean: " + ", ".join(everything[c] for c in close) + "?") if close else ""
    raise NotFoundError(f"No layer, model, recipe or other kerazoo object is named '{name}'.{hint}")
