"""Weight files: fetched from a path or URL, verified against a mandatory sha256, cached atomically;
and Keras's published ``keras.applications`` files through Keras's own download (``keras_file``).

The cache lives under ``$KERAZOO_HOME`` (default ``~/.kerazoo``) in ``weights/``. A file enters the
cache only whole and verified: it is streamed into a temporary file in the cache folder, hashed on
the way, and renamed into place only when the hash matches, so an interrupted or tampered download
never leaves a cache entry behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from kerazoo.checksums import sha256_file
from kerazoo.errors import KerazooError, NotFoundError

_CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def kerazoo_home() -> Path:
    """The cache root: ``$KERAZOO_HOME`` or ``~/.kerazoo``."""
    return Path(os.environ.get("KERAZOO_HOME") or Path.home() / ".kerazoo").expanduser()


def _check_sha256(sha256: str | None, source: str) -> str:
    if not sha256 or not _SHA256.match(str(sha256).lower()):
        raise KerazooError(
            f"A sha256 (64 hex digits) is required to fetch weights from {source}. "
            f"Received: sha256={sha256!r}"
        )
    return str(sha256).lower()


def verify(path: str | os.PathLike, sha256: str) -> Path:
    """Return ``path`` if its sha256 is ``sha256``; raise ``KerazooError`` otherwise."""
    path = Path(path)
    expected = _check_sha256(sha256, str(path))
    if not path.is_file():
        raise NotFoundError(f"Weights file not found: {path}")
    actual = sha256_file(path)
    if actual != expected:
        raise KerazooError(
            f"sha256 mismatch for {path}: expected {expected}, got {actual}. The file is "
            "corrupt or was replaced; delete it and fetch it again."
        )
    return path


def fetch(source: str | os.PathLike, sha256: str, *, filename: str | None = None) -> Path:
    """A verified local copy of a weights file.

    A local path (or ``file://`` URL to a local file) is verified and returned as is; an
    ``https://``, ``http://`` or ``gs://`` URL is downloaded once into the cache and verified.

    Args:
        source: local path, ``file://``, ``https://``, ``http://`` or ``gs://`` URL.
        sha256: the file's expected hex sha256; mandatory.
        filename: name of the cache entry. Defaults to the URL's last path segment.

    Returns:
        The path of the verified file.

    Raises:
        KerazooError: no or malformed sha256, hash mismatch, unreachable URL, missing file.

    Example:

    >>> import hashlib, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.bin"
    >>> _ = path.write_bytes(b"weights")
    >>> fetch(path, hashlib.sha256(b"weights").hexdigest()) == path
    True
    """
    text = str(source)
    expected = _check_sha256(sha256, text)
    parsed = urllib.parse.urlparse(text)
    if parsed.scheme in ("", "file") or re.match(r"^[A-Za-z]:[\\/]", text):
        local = Path(urllib.request.url2pathname(parsed.path)) if parsed.scheme else Path(text)
        return verify(local, expected)
    if parsed.scheme not in ("https", "http", "gs"):
        raise KerazooError(
            f"Unsupported weights URL scheme '{parsed.scheme}' in {text}; expected a local path "
            "or a file://, https://, http:// or gs:// URL."
        )
    name = filename or Path(parsed.path).name or "weights"
    target = kerazoo_home() / "weights" / f"{expected[:16]}-{name}"
    if target.is_file():
        return verify(target, expected)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            digest = hashlib.sha256()
            for chunk in _stream(text, parsed):
                digest.update(chunk)
                handle.write(chunk)
        actual = digest.hexdigest()
        if actual != expected:
            raise KerazooError(
                f"sha256 mismatch for {text}: expected {expected}, got {actual}; nothing was "
                "cached. The file at the URL changed or is corrupt."
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def _stream(url: str, parsed: urllib.parse.ParseResult):
    if parsed.scheme == "gs":
        try:
            import tensorflow as tf
        except ImportError:  # pragma: no cover - TF is a dependency
            raise KerazooError(f"Reading {url} needs TensorFlow's gfile (gs:// support).") from None
        try:
            with tf.io.gfile.GFile(url, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    yield chunk
        except tf.errors.OpError as error:
            raise KerazooError(f"Cannot read {url}: {error.message}") from None
        return
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (scheme checked)
            while chunk := response.read(_CHUNK):
                yield chunk
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise KerazooError(
            f"Cannot download weights from {url} ({reason}). Check the network, or download "
            "the file yourself and pass its local path."
        ) from None


def keras_cache_dir() -> Path:
    """Where Keras caches downloads: ``$KERAS_HOME`` or ``~/.keras`` (read at call time)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def keras_file(file_name: str, url: str, file_hash: str) -> Path:
    """A published Keras weights file, through ``keras.utils.get_file`` into Keras's cache.

    Keras's own download path (``$KERAS_HOME/models/FILE_NAME``), checked against the hash Keras
    publishes for the file (md5 or sha256, told apart by length). A file already in the cache
    with the right hash is used without touching the network. Any failure is one line saying
    what could not be fetched, from where, and where to place the file by hand.

    Args:
        file_name: the published file name (the cache entry's name).
        url: where Keras publishes it.
        file_hash: its published md5 (32 hex digits) or sha256 (64).

    Returns:
        The path of the verified file in the cache.

    Raises:
        KerazooError: the download failed or the file's hash is not the published one.

    Example:

    >>> import hashlib, os, pathlib, tempfile
    >>> os.environ["KERAS_HOME"] = tempfile.mkdtemp()
    >>> cached = keras_cache_dir() / "models" / "w.h5"
    >>> cached.parent.mkdir(parents=True)
    >>> _ = cached.write_bytes(b"weights")
    >>> keras_file("w.h5", "http://127.0.0.1:9/w.h5", hashlib.md5(b"weights").hexdigest()) == cached
    True
    >>> del os.environ["KERAS_HOME"]
    """
    import keras

    cache_dir = keras_cache_dir()
    # get_file falls back to /tmp/.keras when the folder is missing (not writable).
    with contextlib.suppress(OSError):
        (cache_dir / "models").mkdir(parents=True, exist_ok=True)
    if not os.access(cache_dir, os.W_OK):
        cache_dir = Path(tempfile.gettempdir()) / ".keras"
    target = cache_dir / "models" / file_name
    try:
        path = keras.utils.get_file(
            file_name, url, cache_subdir="models", file_hash=file_hash,
            cache_dir=str(cache_dir),
        )
    except ValueError as error:  # downloaded, but not the published file
        if target.is_file():  # Keras leaves the refused file behind; keep the cache clean
            target.unlink()
        raise KerazooError(
            f"Refused {file_name} from {url}: its hash is not the published {file_hash} "
            f"({str(error).splitlines()[0]}); check the URL, or download the file yourself "
            f"and place it at {target}"
        ) from None
    except Exception as error:  # noqa: BLE001 - get_file raises a bare Exception offline
        # get_file's text is "URL fetch failure on URL: CODE -- REASON": keep the reason.
        reason = " ".join(str(error).split()).rsplit(" -- ", 1)[-1] or type(error).__name__
        raise KerazooError(
            f"Could not fetch {file_name} from {url} ({reason}); offline? Download it "
            f"elsewhere and place it at {target}"
        ) from None
    return Path(path)
