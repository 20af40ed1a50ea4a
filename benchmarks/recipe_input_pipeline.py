"""Is a recipe input-bound? And what do 2 mirrored CPU replicas cost? (``--task``, default
image classification; ``--task sentiment_analysis`` / ``speech_commands`` time those recipes.)

Every row times the trainer's own kind of step: a ``tf.function`` that pulls the next batch from a
distributed iterator inside the graph, runs ``strategy.run`` and reduces the loss (as
``kerazoo.recipes.trainer``). Peers differ in one thing only, and alternate round by round:

1. input: batches from the recipe's ``tf.data`` pipeline (cache, shuffle, per-example stateless
   augmentation, batching, prefetch) vs the very same batches taken from that pipeline beforehand
   and held in memory (a ``tf.data`` dataset of in-memory tensors, no work per element); goal
   <= 1.05x.
2. ``MirroredStrategy`` on 2 logical CPU devices x 32 vs ``OneDeviceStrategy`` x 64, same
   global batch, both from the recipe pipeline.
3. host syncs: the step loop reading ``float(loss)`` every step (as the trainer's progress bar
   and epoch means once did) vs reading nothing until the end.

Writes ``recipe_input_pipeline.csv`` and ``.md`` under ``--out`` (with the load average seen).

Usage: python benchmarks/recipe_input_pipeline.py [--steps 60] [--rounds 5] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

import tensorflow as tf

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
)


def make(strategy, per_replica: int, augment: str, task_name: str = "image_classification",
         overrides=()):
    """The recipe's task, a trainer-style step ``step(iterator) -> loss`` and its dataset_fn."""
    import keras

    from kerazoo.recipes.api import get_task, resolve_config

    settings = [f"train.batch_size={per_replica}", *overrides]
    if augment is not None:
        settings.append(f"data.augment=[{augment}]")
    config = resolve_config(task_name, None, settings)
    task = get_task(task_name)(config)
    data = task.prepare_data()
    with strategy.scope():
        model = task.build_model(data)
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(model.trainable_variables)
    loss_fn = task.build_loss(data)
    global_batch = per_replica * strategy.num_replicas_in_sync

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(y, model(x, training=True)),
                                              global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def step(iterator):
        loss = strategy.run(replica_step, args=next(iterator))
        return strategy.reduce("SUM", loss, None)

    def pipeline(context):
        return task.build_inputs(
            data, "train", context, per_replica_batch=per_replica, training=True
        ).repeat()

    return task, step, pipeline


def in_memory(strategy, pipeline, batches: int):
    """The first ``batches`` per-replica batches of ``pipeline``, replayed from memory."""
    taken = list(pipeline(None).take(batches))
    images = tf.stack([x for x, _ in taken])
    labels = tf.stack([y for _, y in taken])

    def replay(context):
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        if context is not None and context.num_input_pipelines > 1:
            dataset = dataset.shard(context.num_input_pipelines, context.input_pipeline_id)
        return dataset.repeat().prefetch(tf.data.AUTOTUNE)

    return strategy.distribute_datasets_from_function(replay)


def time_steps(step, iterator, steps: int, sync_every_step: bool = False) -> float:
    float(step(iterator))  # trace / warm up
    started = time.perf_counter()
    loss = None
    for _ in range(steps):
        loss = step(iterator)
        if sync_every_step:
            float(loss)
    float(loss)
    return (time.perf_counter() - started) / steps


def alternate(rounds: int, first, second) -> tuple[float, float]:
    a, b = [], []
    for index in range(rounds):
        # Alternate which peer runs first, so drift in machine load hits both alike.
        if index % 2:
            b.append(second())
            a.append(first())
        else:
            a.append(first())
            b.append(second())
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--task", default="image_classification",
                        help="any recipe: sentiment_analysis, speech_commands, ...")
    parser.add_argument("--augment", default=None,
                        help="data.augment, comma separated (default: the recipe's own; "
                        "image_classification: translate)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="config override (repeatable)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    if args.augment is None and args.task == "image_classification":
        args.augment = "translate"
    stem = "recipe_input_pipeline" + ("" if args.task == "image_classification"
                                      else f"-{args.task}")
    load_before = os.getloadavg()
    rows = []

    one = tf.distribute.OneDeviceStrategy("/cpu:0")
    _, step, pipeline = make(one, 64, args.augment, args.task, args.overrides)
    piped = iter(one.distribute_datasets_from_function(pipeline))
    memory = iter(in_memory(one, pipeline, 16))
    rows.append((f"tf.data pipeline (augment: {args.augment}) vs same batches in memory, "
                 "one device x 64", *alternate(
                     args.rounds, lambda: time_steps(step, piped, args.steps),
                     lambda: time_steps(step, memory, args.steps))))

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    _, m_step, m_pipeline = make(mirrored, 32, args.augment, args.task, args.overrides)
    m_piped = iter(mirrored.distribute_datasets_from_function(m_pipeline))
    rows.append(("MirroredStrategy 2 CPU replicas x 32 vs one device x 64 (pipeline)", *alternate(
        args.rounds, lambda: time_steps(m_step, m_piped, args.steps),
        lambda: time_steps(step, piped, args.steps))))

    rows.append(("float(loss) every step vs no host sync (pipeline, one device)", *alternate(
        args.rounds, lambda: time_steps(step, piped, args.steps, sync_every_step=True),
        lambda: time_steps(step, piped, args.steps))))

    load = f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (1-min)"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{stem}.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["comparison", "seconds_per_step", "peer_seconds_per_step", "ratio",
                         "load_average"])
        for name, a, b in rows:
            writer.writerow([name, f"{a:.5f}", f"{b:.5f}", f"{a / b:.3f}", load])
    lines = [f"Recipe {args.task}. Load average {load}; {os.cpu_count()} CPU cores; medians of {args.rounds} "
             f"alternating rounds x {args.steps} steps.", "",
             "| comparison | s/step | peer s/step | ratio |", "|---|---|---|---|"]
    lines += [f"| {name} | {a:.5f} | {b:.5f} | {a / b:.3f} |" for name, a, b in rows]
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
