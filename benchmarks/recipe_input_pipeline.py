"""Is the image-classification recipe input-bound? And what do 2 mirrored CPU replicas cost?

1. Training step time through the recipe's ``tf.data`` pipeline vs the same batches held in
   memory (a list of tensors), same model and step function, alternating rounds; goal <= 1.05x.
2. ``MirroredStrategy`` on 2 logical CPU devices vs ``OneDeviceStrategy``, same global batch.

Writes ``recipe_input_pipeline.csv`` and ``.md`` next to ``--out``.

Usage: python benchmarks/recipe_input_pipeline.py [--steps 30] [--rounds 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import tensorflow as tf

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
)


def make(strategy, per_replica):
    import keras

    from kerazoo.recipes.api import get_task, resolve_config

    config = resolve_config("image_classification", None, [f"train.batch_size={per_replica}"])
    task = get_task("image_classification")(config)
    task.prepare_data()
    with strategy.scope():
        model = task.build_model()
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(model.trainable_variables)
    loss_fn = task.build_loss()
    global_batch = per_replica * strategy.num_replicas_in_sync

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(y, model(x, training=True)),
                                              global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def step(x, y):
        return strategy.reduce("SUM", strategy.run(replica_step, args=(x, y)), None)

    def pipeline(context):
        return task.build_inputs(
            "train", context, per_replica_batch=per_replica, training=True
        ).repeat()

    return task, step, pipeline


def time_steps(step, batches, steps):
    iterator = iter(batches)
    step(*next(iterator))  # trace / warm up
    started = time.perf_counter()
    for _ in range(steps):
        float(step(*next(iterator)))
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    rows = []

    one = tf.distribute.OneDeviceStrategy("/cpu:0")
    task, step, pipeline = make(one, 64)
    data = one.distribute_datasets_from_function(pipeline)
    in_memory = [batch for batch, _ in zip(data, range(args.steps + 1))]
    pipe, memory = [], []
    for _ in range(args.rounds):
        pipe.append(time_steps(step, data, args.steps))
        memory.append(time_steps(step, in_memory * 1, args.steps))
    rows.append(("tf.data pipeline vs in-memory batches (global batch 64)",
                 statistics.median(pipe), statistics.median(memory)))

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    _, m_step, m_pipeline = make(mirrored, 32)
    m_data = mirrored.distribute_datasets_from_function(m_pipeline)
    m_times, o_times = [], []
    for _ in range(args.rounds):
        m_times.append(time_steps(m_step, m_data, args.steps))
        o_times.append(time_steps(step, data, args.steps))
    rows.append(("MirroredStrategy 2 CPU replicas x 32 vs one device x 64",
                 statistics.median(m_times), statistics.median(o_times)))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "recipe_input_pipeline.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["comparison", "seconds_per_step", "peer_seconds_per_step", "ratio"])
        for name, a, b in rows:
            writer.writerow([name, f"{a:.5f}", f"{b:.5f}", f"{a / b:.3f}"])
    lines = ["| comparison | s/step | peer s/step | ratio |", "|---|---|---|---|"]
    lines += [f"| {name} | {a:.5f} | {b:.5f} | {a / b:.3f} |" for name, a, b in rows]
    (out / "recipe_input_pipeline.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
