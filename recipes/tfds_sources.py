"""What every ``tfds:NAME`` source shares: finding the builder and reading its splits offline-safe.

An unknown name fails with close-name suggestions; a dataset that is not prepared fails at once
with a message (``tfds.load`` offline would spend minutes retrying downloads). Splits map to the
recipe's ``train`` / ``validation`` / ``test``: a missing validation split is cut from ``train``
(``data.validation_fraction``), a missing test split falls back to validation.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable

from kerazoo.errors import DataError


def builder(name: str, data_dir: str | None):
    """The TFDS builder of ``name``; unknown names get close suggestions."""
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # noqa: BLE001  (tfds raises several types for unknown names)
        if "not found" not in str(error).lower() and "DatasetNotFound" not in type(error).__name__:
            raise DataError(f"tfds:{name}: {str(error).splitlines()[0]}") from None
        known = tfds.list_builders(with_community_datasets=False)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f" Did you mean: {', '.join('tfds:' + c for c in close)}?" if close else ""
        raise DataError(f"Unknown TFDS dataset 'tfds:{name}'.{hint}") from None


def require_features(dataset_builder, name: str, needed: tuple[str, ...], kind: str):
    """Raise unless the dataset has every feature in ``needed`` (e.g. ``("text", "label")``)."""
    features = dataset_builder.info.features
    if any(key not in features for key in needed):
        raise DataError(
            f"tfds:{name} is not a {kind} dataset (features: {', '.join(features.keys())}; "
            f"need {', '.join(repr(key) for key in needed)})."
        )
    return features


def split_datasets(
    dataset_builder, name: str, *, data_dir: str | None, download: bool,
    validation_fraction: float, convert: Callable, supervised_keys: tuple[str, str] | None = None,
):
    """``({split: dataset}, {split: size})`` of ``(features, label)`` after ``convert``.

    Args:
        dataset_builder: from :func:`builder`.
        name: the dataset name, for messages.
        data_dir: TFDS data directory (for messages).
        download: call ``download_and_prepare`` first.
        validation_fraction: part of ``train`` held out when there is no validation split.
        convert: ``(features, label) -> (features, label)`` mapped over each split.
        supervised_keys: read these two features instead of ``as_supervised`` (for datasets whose
            supervised keys are not the ones the recipe wants). Defaults to ``None``.
    """
    import tensorflow as tf

    from kerazoo.recipes.data import count_examples

    known = set(dataset_builder.info.splits.keys()) or {"train", "test"}
    if "validation" in known:
        names = {"train": "train", "validation": "validation"}
    else:
        cut = int(round(100 * (1 - validation_fraction)))
        names = {"train": f"train[:{cut}%]", "validation": f"train[{cut}%:]"}
    names["test"] = "test" if "test" in known else names["validation"]
    if download:
        dataset_builder.download_and_prepare()
    datasets, sizes = {}, {}
    for split, spec in names.items():
        try:
            dataset = dataset_builder.as_dataset(
                split=spec, as_supervised=supervised_keys is None, shuffle_files=False
            )
        except AssertionError:
            where = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
            raise DataError(
                f"tfds:{name} is not prepared in {where}; pass --download (needs the internet) "
                "or --data-dir with a prepared copy."
            ) from None
        if supervised_keys is not None:
            dataset = dataset.map(lambda example, keys=supervised_keys: (example[keys[0]],
                                                                         example[keys[1]]))
        datasets[split] = dataset.map(convert, num_parallel_calls=tf.data.AUTOTUNE)
        info_split = dataset_builder.info.splits.get(spec) if dataset_builder.info.splits else None
        sizes[split] = info_split.num_examples if info_split else None
    sizes = {k: v if v is not None else count_examples(datasets[k]) for k, v in sizes.items()}
    return datasets, sizes
