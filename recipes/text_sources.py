"""Text sources for the sentiment-analysis recipe: the embedded corpus, ``csv:PATH``,
``folder:PATH`` and ``tfds:NAME``. Each returns :class:`~kerazoo.recipes.task.PreparedData` of
``(utf-8 string, int64 label)`` examples after checking everything a user can get wrong; a bad row
is an error naming the file, line and column, or — with ``data.drop_bad_rows`` — dropped and
counted in the log.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np

from kerazoo.errors import DataError
from kerazoo.recipes.task import PreparedData

log = logging.getLogger(__name__)
EMBEDDED = "sentiment_reviews"


def _from_lists(splits: dict[str, tuple[list[str], np.ndarray]], class_names, info) -> PreparedData:
    import tensorflow as tf

    datasets = {
        name: tf.data.Dataset.from_tensor_slices(
            (tf.constant(texts, tf.string), tf.constant(labels, tf.int64))
        )
        for name, (texts, labels) in splits.items()
    }
    sizes = {name: len(texts) for name, (texts, _) in splits.items()}
    info = {**info, "texts": {name: texts for name, (texts, _) in splits.items()}}
    return PreparedData(datasets, sizes, list(class_names), ((), "string"), info)


def _label_ids(values: list[str], class_names: list[str], where: str) -> np.ndarray:
    index = {name: i for i, name in enumerate(class_names)}
    unseen = sorted({value for value in values if value not in index})
    if unseen:
        raise DataError(
            f"{where}: label(s) {', '.join(map(repr, unseen[:5]))} are not among the classes "
            f"{class_names} (set data.class_names to the full label set)."
        )
    return np.asarray([index[value] for value in values], np.int64)


def _class_names(labels: list[str], configured: list[str] | None) -> list[str]:
    if configured:
        return [str(name) for name in configured]
    unique = sorted(set(labels))
    # Integer labels (0..4 stars) sort numerically, not as strings ("10" after "9").
    if all(value.lstrip("-").isdigit() for value in unique):
        unique = sorted(unique, key=int)
    return unique


def load_embedded() -> PreparedData:
    """The embedded ``sentiment_reviews`` corpus with its fixed splits."""
    from kerazoo.recipes.embedded import sentiment

    class_names = list(sentiment.CLASS_NAMES)
    splits = {}
    for split in sentiment.SPLITS:
        texts, labels = sentiment.load_sentiment_reviews(split)
        splits[split] = (texts, _label_ids(labels, class_names, EMBEDDED))
    return _from_lists(splits, class_names, {
        "source": EMBEDDED, "license": "CC0-1.0 (written for kerazoo)",
        "card": "kerazoo/recipes/embedded/data/sentiment_reviews.md",
    })


def _split(texts: list[str], labels: np.ndarray, *, validation_fraction: float,
           test_fraction: float, seed: int) -> dict[str, tuple[list[str], np.ndarray]]:
    from kerazoo.recipes.data import split_indices

    indices = split_indices(labels, {"validation": validation_fraction, "test": test_fraction},
                            seed)
    return {name: ([texts[i] for i in index], labels[index]) for name, index in indices.items()}


def _check_classes(class_names: list[str], where: str) -> None:
    if len(class_names) < 2:
        raise DataError(
            f"{where}: only one class ({class_names[0] if class_names else 'none'!r}); "
            "a classifier needs at least two."
        )


#: Label cells that mean "no label" (pandas' and spreadsheets' spellings), never a class.
MISSING_LABELS = frozenset({"nan", "na", "n/a", "null", "none"})


def _open_encoding(encoding: str) -> str:
    """``utf-8-sig`` for UTF-8: a byte-order mark (Excel's "CSV UTF-8") is not part of the
    first column's name."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def load_csv(path: str, *, text_column: str, label_column: str, split_column: str | None,
             class_names: list[str] | None, drop_bad_rows: bool, encoding: str,
             validation_fraction: float, test_fraction: float, seed: int) -> PreparedData:
    """Rows of a CSV file with a text and a label column (and optionally a split column)."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"CSV file not found: {file}")
    texts, labels, splits, dropped = [], [], [], 0
    try:
        with open(file, newline="", encoding=_open_encoding(encoding)) as stream:
            reader = csv.DictReader(stream)
            header = reader.fieldnames or []
            wanted = [text_column, label_column] + ([split_column] if split_column else [])
            missing = [column for column in wanted if column not in header]
            if missing:
                raise DataError(
                    f"{file}: no column {missing[0]!r} (columns: {', '.join(header) or 'none'}); "
                    "set data.text_column / data.label_column."
                )
            for line, row in enumerate(reader, start=2):
                text = (row.get(text_column) or "").strip()
                label = (row.get(label_column) or "").strip()
                if label.lower() in MISSING_LABELS:
                    label = ""
                problem = ("empty text" if not text else "missing (empty or NaN) label"
                           if not label else None)
                if problem:
                    if drop_bad_rows:
                        dropped += 1
                        continue
                    raise DataError(
                        f"{file}:{line}: {problem} in column "
                        f"{text_column if not text else label_column!r} (set "
                        "data.drop_bad_rows=true to skip such rows)."
                    )
                texts.append(text)
                labels.append(label)
                if split_column:
                    splits.append((row.get(split_column) or "").strip())
    except UnicodeDecodeError as error:
        raise DataError(
            f"{file}: not valid {encoding} at byte {error.start} ({error.reason}); set "
            "data.encoding (e.g. latin-1) or re-save the file as UTF-8."
        ) from None
    except csv.Error as error:
        raise DataError(f"{file}: malformed CSV ({error}).") from None
    if dropped:
        log.warning("%s: dropped %d row(s) with an empty text or a missing label.", file, dropped)
    if not texts:
        raise DataError(f"{file}: no rows with a text and a label.")
    names = _class_names(labels, class_names)
    _check_classes(names, str(file))
    ids = _label_ids(labels, names, str(file))
    if split_column:
        bad = sorted(set(splits) - {"train", "validation", "test"})
        if bad:
            raise DataError(
                f"{file}: column {split_column!r} has {bad[0]!r}; expected train, validation "
                "or test."
            )
        parts = {}
        for name in ("train", "validation", "test"):
            index = [i for i, split in enumerate(splits) if split == name]
            parts[name] = ([texts[i] for i in index], ids[index])
        if not parts["train"][0]:
            raise DataError(f"{file}: column {split_column!r} marks no row as train.")
    else:
        parts = _split(texts, ids, validation_fraction=validation_fraction,
                       test_fraction=test_fraction, seed=seed)
    return _from_lists(parts, names, {"source": f"csv:{file}", "dropped_rows": dropped})


def load_folder(path: str, *, class_names: list[str] | None, drop_bad_rows: bool, encoding: str,
                validation_fraction: float, test_fraction: float, seed: int) -> PreparedData:
    """``keras.utils.text_dataset_from_directory``'s layout: ``PATH/CLASS/*.txt``.

    Read here rather than through Keras so that a bad file is named: Keras would fail later,
    inside the tf.data pipeline, without saying which file.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"Text folder not found: {root}")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{root}: no class subfolders (expected {root}/CLASS/TEXT.txt).")
    texts, labels, dropped = [], [], 0
    for class_dir in class_dirs:
        files = sorted(p for p in class_dir.rglob("*.txt") if p.is_file())
        if not files:
            raise DataError(f"{class_dir}: empty class folder (no .txt files).")
        for file in files:
            try:
                text = file.read_text(encoding=encoding).strip()
            except UnicodeDecodeError as error:
                if drop_bad_rows:
                    dropped += 1
                    continue
                raise DataError(
                    f"{file}: not valid {encoding} at byte {error.start}; set data.encoding or "
                    "data.drop_bad_rows=true."
                ) from None
            if not text:
                if drop_bad_rows:
                    dropped += 1
                    continue
                raise DataError(f"{file}: empty text (set data.drop_bad_rows=true to skip it).")
            texts.append(text)
            labels.append(class_dir.name)
    if dropped:
        log.warning("%s: dropped %d unreadable or empty file(s).", root, dropped)
    names = class_names or [d.name for d in class_dirs]
    _check_classes(names, str(root))
    ids = _label_ids(labels, names, str(root))
    parts = _split(texts, ids, validation_fraction=validation_fraction,
                   test_fraction=test_fraction, seed=seed)
    return _from_lists(parts, names, {"source": f"folder:{root}", "dropped_rows": dropped})


def load_tfds(name: str, *, data_dir: str | None, download: bool, text_column: str,
              label_column: str, validation_fraction: float) -> PreparedData:
    """A TFDS text-classification dataset (``imdb_reviews``, ``glue/sst2``, ...)."""
    import tensorflow as tf

    from kerazoo.recipes import tfds_sources

    builder = tfds_sources.builder(name, data_dir)
    features = builder.info.features
    # TFDS names the text feature "text" (imdb_reviews) or "sentence" (glue/sst2).
    text_key = next((key for key in (text_column, "text", "sentence", "review")
                     if key in features), text_column)
    features = tfds_sources.require_features(builder, name, (text_key, label_column),
                                             "text-classification")
    class_names = list(getattr(features[label_column], "names", None) or [])
    if len(class_names) < 2:
        raise DataError(f"tfds:{name}: feature {label_column!r} is not a class label.")

    def convert(text, label):
        return tf.strings.strip(text), tf.cast(label, tf.int64)

    datasets, sizes = tfds_sources.split_datasets(
        builder, name, data_dir=data_dir, download=download,
        validation_fraction=validation_fraction, convert=convert,
        supervised_keys=(text_key, label_column),
    )
    # Test labels of glue/* are hidden (-1): evaluate on validation instead.
    if name.startswith("glue/"):
        datasets["test"], sizes["test"] = datasets["validation"], sizes["validation"]
    return PreparedData(datasets, sizes, class_names, ((), "string"), {"source": f"tfds:{name}"})
