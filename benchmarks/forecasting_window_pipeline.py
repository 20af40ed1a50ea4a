"""Forecasting window pipeline throughput vs the same windows materialized in memory.

The recipe's :func:`kerazoo.recipes.series_windows.batched_windows` permutes window starts,
batches them and gathers each batch of windows from one constant tensor; a fresh pipeline per
epoch, as the trainer builds it. The peer holds every
window pre-built in NumPy (``[N, lookback, features]``, ``lookback`` times the memory) and feeds
``from_tensor_slices`` through the shared ``make_pipeline`` (cache, seeded shuffle, batch). Both are timed alternately, several
rounds, over full training epochs (the time to iterate every batch); the ratio
pipeline / in-memory is the target (<= 1.05).

Usage::

    python benchmarks/forecasting_window_pipeline.py [--rounds 5] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _epoch_seconds(dataset) -> float:
    started = time.perf_counter()
    for _ in dataset:
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--series", type=int, default=8, help="synthetic series of 5,000 steps")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()

    import tensorflow as tf

    from kerazoo.recipes.data import make_pipeline
    from kerazoo.recipes.series_sources import parse_csv_text, synthetic_csv_text
    from kerazoo.recipes.series_windows import batched_windows

    rows = []
    for lookback, horizon, batch in ((104, 26, 64), (336, 96, 32)):
        table = parse_csv_text(
            synthetic_csv_text(args.series, 5000, covariate=True), "synthetic",
            timestamp_column="timestamp", targets=["value"], covariates=["temperature"],
            id_column="series")
        blocks, starts, offset = [], [], 0
        for one in table.series.values():
            blocks.append(one.values)
            starts.extend(range(offset, offset + len(one.values) - lookback - horizon + 1))
            offset += len(one.values)
        import numpy as np

        values = np.concatenate(blocks).astype("float32")
        starts = np.asarray(starts, np.int64)
        index = starts[:, None] + np.arange(lookback + horizon)[None]
        blocks_np = values[index]
        memory = tf.data.Dataset.from_tensor_slices(
            (blocks_np[:, :lookback], blocks_np[:, lookback:, :1]))

        def pipeline(source, epoch, batch=batch, lookback=lookback, horizon=horizon,
                     values=values, starts=starts, memory=memory):
            if source == "window_pipeline":
                return batched_windows(values, starts, lookback=lookback, horizon=horizon,
                                       targets=1, per_replica_batch=batch, training=True,
                                       epoch=epoch)
            return make_pipeline(memory, per_replica_batch=batch, training=True, seed=0,
                                 epoch=epoch, cache=True, shuffle_buffer=10_000)

        warm = [pipeline("window_pipeline", 0), pipeline("in_memory", 0)]
        for dataset in warm:
            _epoch_seconds(dataset)
        times = {"window_pipeline": [], "in_memory": []}
        for round_ in range(args.rounds):
            order = ("window_pipeline", "in_memory") if round_ % 2 == 0 else (
                "in_memory", "window_pipeline")
            for name in order:
                times[name].append(_epoch_seconds(pipeline(name, round_ + 1)))
        pipe, mem = (statistics.median(times[k]) for k in ("window_pipeline", "in_memory"))
        rows.append({"lookback": lookback, "horizon": horizon, "batch": batch,
                     "windows": len(starts), "pipeline_s": pipe, "in_memory_s": mem,
                     "ratio": pipe / mem, "windows_per_s": len(starts) / pipe,
                     "memory_mb": blocks_np.nbytes / 2**20})
        print(f"lookback {lookback} horizon {horizon}: window pipeline {pipe:.3f} s, in memory "
              f"{mem:.3f} s per epoch of {len(starts)} windows -> ratio {pipe / mem:.3f} "
              f"(pre-built windows take {blocks_np.nbytes / 2**20:.0f} MB)", flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = list(rows[0])
    (out / "forecasting_window_pipeline.csv").write_text(
        "\n".join([",".join(header)] + [",".join(f"{row[k]:.4g}" if isinstance(row[k], float)
                                                 else str(row[k]) for k in header)
                                        for row in rows]) + "\n")
    table = ["| lookback | horizon | windows | pipeline s/epoch | in-memory s/epoch | ratio |",
             "|---|---|---|---|---|---|"]
    table += [f"| {r['lookback']} | {r['horizon']} | {r['windows']} | {r['pipeline_s']:.3f} | "
              f"{r['in_memory_s']:.3f} | {r['ratio']:.3f} |" for r in rows]
    (out / "forecasting_window_pipeline.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
