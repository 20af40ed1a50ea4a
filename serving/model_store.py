"""Find, verify and load the numbered SavedModel versions of an export directory.

The layout is TensorFlow Serving's: ``MODEL_BASE/<version>/saved_model.pb`` with integer versions.
An ``export.json`` manifest (inside a version directory, or in ``MODEL_BASE`` itself) lists the
sha256 of every file; when one is present a version whose files do not match it is refused, which
catches both corrupt files and a version that is still being copied in. Without a manifest, the
signatures are read from the SavedModel itself.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kerazoo.checksums import sha256_file
from kerazoo.errors import DataError, NotFoundError
from kerazoo.serving.errors import InvalidRequestError

logger = logging.getLogger("kerazoo.serving")

MANIFEST_NAME = "export.json"
SERVE_TAG = "serve"
DEFAULT_SIGNATURE = "serving_default"
# The SavedModel writer adds this entry to the signature map; it is not a servable signature.
_INIT_OP_SIGNATURE = "__saved_model_init_op"


def list_versions(base_dir: str | os.PathLike) -> list[int]:
    """Version numbers of ``base_dir``, ascending: integer-named folders holding ``saved_model.pb``.

    Args:
        base_dir: The model base directory (``MODEL_BASE``).

    Returns:
        The sorted version numbers; folders being written (no ``saved_model.pb`` yet) are left out.
    """
    base = Path(base_dir)
    if not base.is_dir():
        raise NotFoundError(f"export directory {str(base)!r} does not exist or is not a directory")
    versions = []
    for child in base.iterdir():
        if child.is_dir() and child.name.isdigit() and (child / "saved_model.pb").is_file():
            versions.append(int(child.name))
    return sorted(versions)


def file_fingerprint(version_dir: Path) -> tuple:
    """Names, sizes and modification times of every file: unchanged between polls means settled."""
    entries = []
    for root, _, files in os.walk(version_dir):
        for name in files:
            path = Path(root, name)
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed while we walk: the version is still changing
                continue
            entries.append((str(path.relative_to(version_dir)), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(entries))


def _manifest_files(manifest: dict) -> dict[str, str]:
    """``{relative path: sha256}`` from either ``{"files": {path: sha}}`` or a list of records."""
    files = manifest.get("files", {})
    if isinstance(files, dict):
        return {str(k): (v["sha256"] if isinstance(v, dict) else str(v)) for k, v in files.items()}
    if isinstance(files, list):
        return {str(item["path"]): str(item["sha256"]) for item in files}
    raise DataError(f"export manifest: 'files' must be a mapping or a list, got {type(files)}")


def read_manifest(base_dir: Path, version: int) -> tuple[dict | None, Path | None]:
    """The manifest that covers ``version`` and the directory its paths are relative to."""
    for manifest_path, root in (
        (base_dir / str(version) / MANIFEST_NAME, base_dir / str(version)),
        (base_dir / MANIFEST_NAME, base_dir),
    ):
        if manifest_path.is_file():
            try:
                manifest = json.loads(manifest_path.read_text())
            except (OSError, json.JSONDecodeError) as error:
                raise DataError(
                    f"export manifest {str(manifest_path)!r} is unreadable: {error}"
                ) from None
            if not isinstance(manifest, dict):
                raise DataError(f"export manifest {str(manifest_path)!r} is not a JSON object")
            return manifest, root
    return None, None


def verify_manifest(base_dir: Path, version: int) -> dict | None:
    """Check the sha256 of every file the manifest lists for ``version``; returns the manifest.

    Raises:
        DataError: naming the first missing or mismatching file.
    """
    manifest, root = read_manifest(base_dir, version)
    if manifest is None:
        return None
    prefix = "" if root == base_dir / str(version) else f"{version}/"
    for relative, expected in _manifest_files(manifest).items():
        # A base-level manifest may list other versions' files too; only this version's count.
        if prefix and not relative.startswith(prefix):
            continue
        path = root / relative
        if not path.is_file():
            raise DataError(
                f"export version {version} is incomplete: {str(path)!r} is listed in "
                f"{MANIFEST_NAME} but missing"
            )
        actual = sha256_file(path)
        if actual != expected:
            raise DataError(
                f"export version {version} is corrupt: sha256 of {str(path)!r} is {actual[:12]}…, "
                f"{MANIFEST_NAME} expects {str(expected)[:12]}…"
            )
    return manifest


def read_signature_defs(version_dir: Path) -> Any:
    """The ``serve`` MetaGraph's SignatureDef map, read from ``saved_model.pb`` without loading."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = version_dir / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel()
    try:
        saved_model.ParseFromString(path.read_bytes())
    except Exception as error:  # protobuf raises DecodeError and RuntimeWarning-like errors
        raise DataError(f"{str(path)!r} is not a valid SavedModel protobuf: {error}") from error
    for meta_graph in saved_model.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            return meta_graph.signature_def
    raise DataError(f"{str(path)!r} has no MetaGraph tagged {SERVE_TAG!r}")


@dataclass
class Signature:
    """One servable signature: its TF function and the specs of its named inputs and outputs."""

    name: str
    function: Any
    inputs: dict[str, Any]  # name -> tf.TensorSpec
    outputs: dict[str, Any]  # name -> tf.TensorSpec

    def __call__(self, feeds: dict[str, Any]) -> dict[str, Any]:
        """Run on ``{input name: array}``; returns ``{output name: numpy array}``."""
        results = self.function(**feeds)
        return {name: value.numpy() for name, value in results.items()}


@dataclass
class ServableVersion:
    """A loaded version: the SavedModel object (kept alive), its signatures and metadata."""

    version: int
    path: Path
    signatures: dict[str, Signature]
    signature_defs: Any  # the SignatureDef protobuf map, for metadata responses
    manifest: dict | None = None
    loaded: Any = field(default=None, repr=False)

    def signature(self, name: str | None) -> Signature:
        name = name or DEFAULT_SIGNATURE
        if name not in self.signatures:
            raise InvalidRequestError(
                f"Serving signature name: {name!r} not found in signature def; "
                f"available: {sorted(self.signatures)}"
            )
        return self.signatures[name]


def load_version(base_dir: str | os.PathLike, version: int) -> ServableVersion:
    """Verify and load one version of ``base_dir``.

    Args:
        base_dir: The model base directory.
        version: The version number (a folder name under ``base_dir``).

    Returns:
        The loaded version, every signature ready to call.

    Raises:
        DataError: the manifest does not match the files, or TensorFlow cannot load the model.
    """
    import tensorflow as tf

    base = Path(base_dir)
    version_dir = base / str(version)
    manifest = verify_manifest(base, version)
    signature_defs = read_signature_defs(version_dir)
    if str((manifest or {}).get("model", "")).startswith("keras_hub:"):
        import tensorflow_text  # noqa: F401  (registers the keras-hub tokenizer's ops)
    try:
        loaded = tf.saved_model.load(str(version_dir), tags=[SERVE_TAG])
    except Exception as error:
        raise DataError(
            f"cannot load SavedModel {str(version_dir)!r}: {str(error).splitlines()[0]}"
        ) from error
    signatures = {}
    for name, function in loaded.signatures.items():
        if name == _INIT_OP_SIGNATURE:
            continue
        _, kwargs = function.structured_input_signature
        outputs = {
            key: tf.TensorSpec(spec.shape, spec.dtype, key)
            for key, spec in function.structured_outputs.items()
        }
        signatures[name] = Signature(name, function, dict(kwargs), outputs)
    if not signatures:
        raise DataError(f"SavedModel {str(version_dir)!r} has no serving signatures")
    logger.info("loaded version %d from %s (signatures: %s)", version, version_dir,
                ", ".join(sorted(signatures)))
    return ServableVersion(version, version_dir, signatures, signature_defs, manifest, loaded)
