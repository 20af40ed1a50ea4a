"""The embedded ``digits`` dataset: UCI optical handwritten digits, 8x8, as uint8 images.

Read from ``data/digits.csv.gz`` inside the package (the file scikit-learn ships; CC BY 4.0,
provenance in ``data/digits.md``), so training works offline with nothing downloaded.

Example:

>>> from kerazoo.recipes.embedded import digits
>>> splits = digits.load()
>>> splits["train"][0].shape, splits["train"][0].dtype.name, len(splits["test"][1])
((1259, 8, 8, 1), 'uint8', 359)
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

CLASS_NAMES = tuple(str(digit) for digit in range(10))
SPLIT_FRACTIONS = {"train": 0.7, "validation": 0.1, "test": 0.2}
_SEED = 0


def _read() -> tuple[np.ndarray, np.ndarray]:
    raw = resources.files("kerazoo.recipes.embedded").joinpath("data/digits.csv.gz").read_bytes()
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",")
    pixels = np.rint(table[:, :64] * (255.0 / 16.0)).astype(np.uint8)
    return pixels.reshape(-1, 8, 8, 1), table[:, 64].astype(np.int64)


def load() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The fixed stratified splits, ``{"train"|"validation"|"test": (images, labels)}``.

    Returns:
        Images ``uint8 [N, 8, 8, 1]`` in 0-255 and int64 labels 0-9 for each split.
    """
    images, labels = _read()
    rng = np.random.default_rng(_SEED)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLIT_FRACTIONS}
    for label in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(round(len(index) * SPLIT_FRACTIONS["test"]))
        n_val = int(round(len(index) * SPLIT_FRACTIONS["validation"]))
        parts["test"].append(index[:n_test])
        parts["validation"].append(index[n_test : n_test + n_val])
        parts["train"].append(index[n_test + n_val :])
    splits = {}
    for name, chunks in parts.items():
        index = rng.permutation(np.concatenate(chunks))
        splits[name] = (images[index], labels[index])
    return splits
