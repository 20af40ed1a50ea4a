"""File checksums shared by exports, presets, weights and the model server."""

from __future__ import annotations

import hashlib
from os import PathLike


def sha256_file(path: str | PathLike) -> str:
    """The hex sha256 of the file at ``path``, read in chunks (``hashlib.file_digest``).

    Example:

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> _ = path.write_bytes(b"kerazoo")
    >>> sha256_file(path)[:12]
    '0171a5d72beb'
    """
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
