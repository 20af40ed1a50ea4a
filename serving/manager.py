"""The versions of one model: loaded at start, refreshed by polling, looked up per request."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from kerazoo.errors import DataError
from kerazoo.serving.batching import BatchingOptions, DynamicBatcher
from kerazoo.serving.errors import InvalidRequestError, ServableNotFoundError
from kerazoo.serving.model_store import (
    ServableVersion,
    Signature,
    file_fingerprint,
    list_versions,
    load_version,
)

logger = logging.getLogger("kerazoo.serving")


class ModelManager:
    """Serve every valid version of ``base_dir``; the newest answers unversioned requests.

    A version that appears later is loaded by the polling thread once its files have stopped
    changing for one poll interval and, when a manifest is present, match their sha256; it becomes
    visible only after it has loaded completely. A version that fails to load is logged and retried
    when its files change. A version removed from disk is unloaded.

    Args:
        base_dir: The model base directory (``MODEL_BASE/<version>/saved_model.pb``).
        model_name: The name clients use in URLs and ``model_spec.name``.
        poll_interval_s: Seconds between directory scans; 0 turns polling off.
        batching: Dynamic batching options, or None to run each request on its own.

    A corrupt or partial version present at start is refused (logged, and reported by
    ``status()``) while the healthy ones are served.

    Raises:
        DataError: no version exists, or none of them can be loaded.
    """

    def __init__(
        self,
        base_dir: str | Path,
        model_name: str,
        *,
        poll_interval_s: float = 2.0,
        batching: BatchingOptions | None = None,
    ) -> None:
        self.base_dir = Path(base_dir)
        self.model_name = model_name
        self.poll_interval_s = poll_interval_s
        self.batching = batching
        self._lock = threading.Lock()
        self._versions: dict[int, ServableVersion] = {}
        self._batchers: dict[tuple[int, str], DynamicBatcher] = {}
        self._seen: dict[int, tuple] = {}
        self._failed: dict[int, tuple] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        versions = list_versions(self.base_dir)
        if not versions:
            raise DataError(
                f"export directory {str(self.base_dir)!r} has no version folder holding "
                "saved_model.pb (expected MODEL_BASE/<integer version>/saved_model.pb)"
            )
        self.refused: dict[int, str] = {}  # version -> why it is not served (status reports it)
        for version in versions:
            self._seen[version] = file_fingerprint(self.base_dir / str(version))
            try:
                self._versions[version] = load_version(self.base_dir, version)
            except DataError as error:
                # One bad version must not take the healthy ones down with it.
                self._failed[version] = self._seen[version]
                self.refused[version] = str(error)
                logger.warning("not serving version %d: %s", version, error)
        if not self._versions:
            reasons = "; ".join(f"version {v}: {why}" for v, why in sorted(self.refused.items()))
            raise DataError(f"no servable version in {str(self.base_dir)!r}: {reasons}")

    # -- lookup -------------------------------------------------------------------------------
    def versions(self) -> list[int]:
        with self._lock:
            return sorted(self._versions)

    def get(self, model_name: str, version: int | None = None) -> ServableVersion:
        """The servable for a request, or ServableNotFoundError naming what is available."""
        if model_name != self.model_name:
            raise ServableNotFoundError(
                f"Servable not found for request: model {model_name!r} is not served "
                f"(this server serves {self.model_name!r})"
            )
        with self._lock:
            if version is None:
                return self._versions[max(self._versions)]
            if version not in self._versions and version in self.refused:
                raise ServableNotFoundError(
                    f"Servable not found for request: version {version} of model "
                    f"{model_name!r} was refused: {self.refused[version]}"
                )
            if version not in self._versions:
                raise ServableNotFoundError(
                    f"Servable not found for request: version {version} of model "
                    f"{model_name!r} (available versions: {sorted(self._versions)})"
                )
            return self._versions[version]

    def status(self, model_name: str, version: int | None = None) -> list[dict]:
        """TF Serving's ``model_version_status`` entries, newest first, refused versions included.

        A refused version is in state ``END`` with its load error, as TF Serving reports a version
        that failed to load.
        """
        if model_name != self.model_name:
            self.get(model_name)  # raises naming the served model
        with self._lock:
            entries = {v: ("AVAILABLE", "OK", "") for v in self._versions}
            refused = dict(self.refused)
        for number, reason in refused.items():
            entries.setdefault(number, ("END", "UNKNOWN", reason))
        if version is not None:
            if version not in entries:
                self.get(model_name, version)  # raises naming the available versions
            entries = {version: entries[version]}
        return [
            {"version": number, "state": state,
             "status": {"error_code": code, "error_message": message}}
            for number, (state, code, message) in sorted(entries.items(), reverse=True)
        ]

    def predict_future(self, servable: ServableVersion, signature: Signature, feeds: dict) -> Any:
        """Start a prediction; returns a concurrent future of ``{output: array}``."""
        from kerazoo.serving.batching import run_now

        def run(batch_feeds: dict) -> dict:
            return _call(signature, batch_feeds)

        if self.batching is None:
            return run_now(run, feeds)
        key = (servable.version, signature.name)
        with self._lock:
            batcher = self._batchers.get(key)
            if batcher is None:
                batcher = self._batchers[key] = DynamicBatcher(run, self.batching)
        return batcher.submit(feeds)

    # -- polling ------------------------------------------------------------------------------
    def start_polling(self) -> None:
        if self.poll_interval_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._poll_loop, name="kerazoo-poll", daemon=True)
        self._thread.start()

    def _poll_loop(self) -> None:
        while not self._stop.wait(self.poll_interval_s):
            try:
                self.poll_once()
            except Exception:  # a scan error must not kill the poller; the next scan retries
                logger.exception("scanning %s failed", self.base_dir)

    def poll_once(self) -> None:
        """One scan: load settled new versions, unload removed ones."""
        try:
            present = set(list_versions(self.base_dir))
        except DataError as error:
            logger.warning("%s", error)
            return
        with self._lock:
            loaded = set(self._versions)
        for version in sorted(present - loaded):
            fingerprint = file_fingerprint(self.base_dir / str(version))
            settled = self._seen.get(version) == fingerprint
            self._seen[version] = fingerprint
            if not settled or self._failed.get(version) == fingerprint:
                continue
            try:
                servable = load_version(self.base_dir, version)
            except DataError as error:
                self._failed[version] = fingerprint
                self.refused[version] = str(error)
                logger.warning("not serving version %d: %s", version, error)
                continue
            with self._lock:
                self._versions[version] = servable
            self._failed.pop(version, None)
            self.refused.pop(version, None)
            logger.info("now serving version %d of %r", version, self.model_name)
        for version in [v for v in list(self.refused) if v not in present]:
            self.refused.pop(version, None)  # a refused version deleted from disk is forgotten
        for version in sorted(loaded - present):
            with self._lock:
                if len(self._versions) == 1:
                    # Keep answering with the last version rather than with nothing at all.
                    if self._failed.get(version) == ():
                        continue
                    self._failed[version] = ()  # remembered so the warning is logged once
                    logger.warning("version %d was removed from disk; still serving it, as it "
                                   "is the only one", version)
                    continue
                self._versions.pop(version, None)
                closing = [self._batchers.pop(k) for k in list(self._batchers) if k[0] == version]
            for batcher in closing:
                batcher.close()
            logger.info("unloaded version %d of %r (removed from disk)", version, self.model_name)

    def close(self) -> None:
        """Stop polling and drain the batchers."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            batchers = list(self._batchers.values())
            self._batchers.clear()
        for batcher in batchers:
            batcher.close()


def _call(signature: Signature, feeds: dict) -> dict:
    import tensorflow as tf

    try:
        return signature(feeds)
    except (tf.errors.InvalidArgumentError, TypeError, ValueError) as error:
        # Shape or value problems found inside the graph are the request's fault, not the server's.
        raise InvalidRequestError(_graph_error_cause(error, feeds)) from None


def _graph_error_cause(error: Exception, feeds: dict) -> str:
    """The real cause of a graph error (not just "Graph execution error:"), with the failing op
    and, when byte inputs are involved, what their headers say they are."""
    import re

    from kerazoo.serving.limits import describe_bytes

    text = str(getattr(error, "message", None) or error).strip()
    lines = [line.strip() for line in text.splitlines()]
    causes = [
        line for line in lines
        if line and not line.startswith(("Graph execution error", "Detected at node", "File ",
                                         "[[", "{{"))
    ]
    cause = causes[-1] if causes else (lines[0] if lines else type(error).__name__)
    cause = re.sub(r"\s*\[\[.*$|\s*\[Op:.*$", "", cause).strip() or cause
    node = re.search(r"\{\{node ([^}]+)\}\}", text)
    message = f"{node.group(1).rsplit('/', 1)[-1]} failed: {cause}" if node else cause
    inputs = describe_bytes(feeds)
    return f"{message} ({inputs})" if inputs else message
