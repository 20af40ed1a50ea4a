"""The embedded ``sentiment_reviews`` corpus: 3,000 short English reviews, positive / negative.

Written for kerazoo by the grammar in ``generate_sentiment.py`` (its output is committed as
``data/sentiment_reviews.csv.gz``; data card: ``data/sentiment_reviews.md``). Negation, contrast
and idioms keep a bag-of-words baseline near 61% test accuracy (a small BiLSTM gets 99%).

Example:

>>> from kerazoo.recipes.embedded import sentiment
>>> texts, labels = sentiment.load_sentiment_reviews("test")
>>> len(texts), sorted(set(labels)) == list(sentiment.CLASS_NAMES)
(452, True)
"""

from __future__ import annotations

import csv
import gzip
import io
from importlib import resources

from kerazoo.errors import DataError

CLASS_NAMES = ("negative", "positive")
SPLITS = ("train", "validation", "test")
PHENOMENA = ("plain", "negation", "contrast", "idiom")
FILENAME = "sentiment_reviews.csv.gz"


def load_sentiment_rows(split: str | None = None) -> list[dict[str, str]]:
    """The rows of the corpus, each ``{"text", "label", "split", "phenomenon"}``, in file order.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``; ``None`` for all rows.

    Raises:
        DataError: for any other split name.
    """
    if split is not None and split not in SPLITS:
        raise DataError(
            f"sentiment_reviews has no split {split!r}; expected one of {', '.join(SPLITS)} "
            f"(or None for all). Received: split={split!r}"
        )
    raw = resources.files("kerazoo.recipes.embedded").joinpath("data", FILENAME).read_bytes()
    reader = csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8")))
    return [row for row in reader if split is None or row["split"] == split]


def load_sentiment_reviews(split: str | None = None) -> tuple[list[str], list[str]]:
    """Texts and their string labels (``"negative"`` / ``"positive"``) of one split.

    Args:
        split: ``"train"`` (2,100), ``"validation"`` (448), ``"test"`` (452); ``None`` for all.

    Returns:
        ``(texts, labels)``, two lists of equal length.

    Raises:
        DataError: for an unknown split name.
    """
    rows = load_sentiment_rows(split)
    return [row["text"] for row in rows], [row["label"] for row in rows]
