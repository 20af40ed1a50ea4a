"""The recipe input pipeline: per-replica batches from ``tf.data``, identical on any layout.

Every task hands :func:`make_pipeline` an unbatched ``(features, label)`` dataset. The pipeline
caches decoded examples, shuffles with a seed derived from ``(seed, epoch)``, augments each
example with stateless random ops seeded by its position, batches per replica with
``drop_remainder`` (static shapes for XLA/TPU), and only then shards by the input context. Sharding
batches rather than files means that global step ``k`` sees the same examples whether the replicas
live in one process (``MirroredStrategy``) or in several workers (``MultiWorkerMirroredStrategy``),
and a resumed run skips exactly the batches already trained on. No ``tf.py_function`` anywhere.

Example:

>>> import tensorflow as tf
>>> from kerazoo.recipes.data import make_pipeline
>>> examples = tf.data.Dataset.from_tensor_slices((tf.zeros([10, 2]), tf.range(10)))
>>> batches = make_pipeline(examples, per_replica_batch=4, training=True, seed=0)
>>> [tuple(x.shape) for x, _ in batches]
[(4, 2), (4, 2)]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from kerazoo import compat

AUTOTUNE = tf.data.AUTOTUNE


def epoch_seed(seed: int, epoch: int) -> int:
    return int(seed) * 100_003 + int(epoch)


def make_pipeline(
    examples: tf.data.Dataset,
    *,
    per_replica_batch: int,
    training: bool,
    seed: int = 0,
    epoch: int = 0,
    epochs: int = 1,
    input_context: tf.distribute.InputContext | None = None,
    skip_global_steps: int = 0,
    take_global_steps: int | None = None,
    shuffle_buffer: int = 10_000,
    cache: bool = True,
    augment: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tuple] | None = None,
    prepare: Callable[[tf.Tensor, tf.Tensor], tuple] | None = None,
    batch_augment: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tuple] | None = None,
    deterministic: bool = True,
) -> tf.data.Dataset:
    """Per-replica batches of ``examples`` for training epochs or one evaluation pass.

    Args:
        examples: unbatched ``(features, label)`` examples, already decoded.
        per_replica_batch: examples per replica and step.
        training: shuffle, augment and drop the last partial batch.
        seed: the run's data seed.
        epoch: the first epoch; with ``seed`` it fixes that epoch's shuffle order and
            augmentation.
        epochs: training epochs ``epoch, epoch + 1, ...`` in one dataset, one after another,
            each exactly as a one-epoch pipeline of that epoch would give it (one pipeline and
            one iterator for a whole run: no per-epoch rebuild). More than one needs
            ``take_global_steps``.
        input_context: from ``distribute_datasets_from_function``; the pipeline keeps batches
            ``pipeline_id::num_input_pipelines``.
        skip_global_steps: global steps of the first epoch already done (resume).
        take_global_steps: global steps per epoch, counted from the epoch's start (the skipped
            ones included). Defaults to ``None`` (all full batches).
        shuffle_buffer: shuffle buffer size.
        cache: cache ``examples`` in memory.
        augment: ``(features, label, seed[2]) -> (features, label)`` with stateless random ops.
        prepare: ``(features, label) -> (features, label)`` after augmentation (e.g. casting).
        batch_augment: ``(features, labels, seed[2]) -> (features, labels)`` on each training
            per-replica batch (MixUp, CutMix), seeded by the batch's position in the epoch
            before skipping and sharding, so every layout and a resumed run see the same batches.
        deterministic: keep element order in parallel maps.

    Returns:
        A ``tf.data.Dataset`` of per-replica batches.
    """
    if epochs < 1 or (epochs > 1 and (not training or take_global_steps is None)):
        raise ValueError(
            f"epochs={epochs}: several epochs in one pipeline need training=True and "
            "take_global_steps (so that every epoch has the same number of batches).")
    options = tf.data.Options()
    options.deterministic = deterministic
    # Sharding is done by hand below; auto-sharding by file or data would break the alignment.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    dataset = examples.with_options(options)
    if cache:
        dataset = dataset.cache()  # once, outside the per-epoch function: shared by every epoch
    replicas = input_context.num_replicas_in_sync if input_context else 1
    take = None if take_global_steps is None else take_global_steps * replicas
    if training:
        def one_epoch(number):
            return _training_epoch(dataset, number, seed=seed, per_replica_batch=per_replica_batch,
                                   take=take, shuffle_buffer=shuffle_buffer, augment=augment,
                                   prepare=prepare, batch_augment=batch_augment,
                                   deterministic=deterministic)

        # Traced once, whatever the number of epochs: one epoch or many give the same batches.
        dataset = tf.data.Dataset.range(epoch, epoch + epochs).flat_map(one_epoch)
    else:
        if prepare is not None:
            dataset = dataset.map(prepare, num_parallel_calls=AUTOTUNE,
                                  deterministic=deterministic)
        dataset = dataset.batch(per_replica_batch)
        if take is not None:
            dataset = dataset.take(take)
    if skip_global_steps:
        dataset = dataset.skip(skip_global_steps * replicas)
    if input_context is not None and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return dataset.prefetch(AUTOTUNE)


def _training_epoch(dataset, epoch, *, seed, per_replica_batch, take, shuffle_buffer, augment,
                    prepare, batch_augment, deterministic) -> tf.data.Dataset:
    """One training epoch of per-replica batches; ``epoch`` is an int64 scalar tensor."""
    base = tf.constant(epoch_seed(seed, 0), tf.int64) + epoch  # epoch_seed(seed, epoch), traced
    # data.seed alone fixes the order (runtime.seed, the global seed, seeds the weights).
    dataset = compat.shuffle_seeded_by_tensor(dataset, shuffle_buffer, base)
    if augment is not None:
        def augment_at(index, example):
            features, label = example
            return augment(features, label, tf.stack([base, index]))

        dataset = dataset.enumerate().map(
            augment_at, num_parallel_calls=AUTOTUNE, deterministic=deterministic
        )
    if prepare is not None:
        dataset = dataset.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    dataset = dataset.batch(per_replica_batch, drop_remainder=True)
    if batch_augment is not None:
        # A seed stream apart from the per-example one: -1 - index never equals an example index.
        def batch_augment_at(index, batch):
            features, labels = batch
            return batch_augment(features, labels, tf.stack([base, -1 - index]))

        dataset = dataset.enumerate().map(
            batch_augment_at, num_parallel_calls=AUTOTUNE, deterministic=deterministic
        )
    if take is not None:
        dataset = dataset.take(take)
    return dataset


def count_examples(dataset: tf.data.Dataset) -> int:
    """Examples in a finite dataset (cardinality when known, else one counting pass)."""
    cardinality = int(dataset.cardinality())
    if cardinality >= 0:
        return cardinality
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))


def split_indices(labels, fractions: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Stratified split of example indices, fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {name: [] for name in ("train", *fractions)}
    for label in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == label))
        start = 0
        for name, fraction in fractions.items():
            count = int(round(len(index) * fraction))
            parts[name].append(index[start : start + count])
            start += count
        parts["train"].append(index[start:])
    return {name: rng.permutation(np.concatenate(chunks)) for name, chunks in parts.items()}
