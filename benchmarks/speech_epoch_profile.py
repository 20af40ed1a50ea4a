"""Where a speech-recipe epoch's time goes: the trainer's own steps, timed in one process.

For each variant (a list of ``--set`` overrides; by default the recipe's defaults and no
augmentation) the real :class:`~kerazoo.recipes.trainer.Trainer` pieces are built once, then
rounds alternate between the variants, timing per epoch: the input pipeline's creation, the
training steps (median step), precise BN (``train.precise_bn_batches``) and validation. The first
round (tracing) is left out of the medians. Prints a Markdown table with the load average.

Usage: python benchmarks/speech_epoch_profile.py [--rounds 6] [--variant "data.augment=[]"] ...
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def build(overrides: list[str]):
    from kerazoo.recipes.api import get_task, resolve_config
    from kerazoo.recipes.trainer import Trainer

    config = resolve_config("speech_commands", None, overrides)
    task = get_task("speech_commands")(config)
    trainer = Trainer(task, Path(tempfile.mkdtemp()) / "run", verbose=False)
    strategy = trainer.set_up()
    data = task.prepare_data()
    plan = trainer.plan(data, strategy)
    state = trainer.build_state(data, plan, strategy)
    loss_fn = task.build_loss(data)
    return {
        "task": task, "data": data, "plan": plan, "strategy": strategy, "state": state,
        "step": trainer.step_function(state, plan, strategy, loss_fn,
                                      trainer.trainable_for_epoch(state, 0)),
        "precise_bn": trainer.precise_bn(data, plan, strategy, state),
        "eval": trainer.eval_function(state, loss_fn), "trainer": trainer,
        "validation": trainer.validation_batches(data),
    }


def epoch_times(v: dict, epoch: int) -> dict[str, float]:
    plan, task, data = v["plan"], v["task"], v["data"]
    started = time.perf_counter()

    def dataset_fn(context):
        return task.build_inputs(data, "train", context, per_replica_batch=plan.per_replica,
                                 training=True, epoch=epoch,
                                 take_global_steps=plan.steps_per_epoch)

    iterator = iter(v["strategy"].distribute_datasets_from_function(dataset_fn))
    times = {"pipeline": time.perf_counter() - started}
    steps = []
    for _ in range(plan.steps_per_epoch):
        begun = time.perf_counter()
        float(v["step"](iterator)[0])
        steps.append(time.perf_counter() - begun)
    times["steps"] = sum(steps)
    times["median_step"] = statistics.median(steps)
    begun = time.perf_counter()
    if v["precise_bn"] is not None:
        v["precise_bn"]()
    times["precise_bn"] = time.perf_counter() - begun
    begun = time.perf_counter()
    v["trainer"].validate(data, v["eval"], v["validation"])
    times["validation"] = time.perf_counter() - begun
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--variant", action="append", default=None,
                        help="comma-free --set list separated by ';' (repeatable)")
    args = parser.parse_args()
    variants = args.variant or ["", "data.augment=[]"]
    built = {name or "defaults": build([s for s in name.split(";") if s]) for name in variants}
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in built}
    load = [os.getloadavg()[0]]
    for round_ in range(args.rounds):
        order = list(built) if round_ % 2 == 0 else list(built)[::-1]
        for name in order:
            rows[name].append(epoch_times(built[name], round_))
        load.append(os.getloadavg()[0])
    keys = ["pipeline", "steps", "median_step", "precise_bn", "validation"]
    print(f"{os.cpu_count()} CPUs, load {min(load):.2f}-{max(load):.2f}; medians of rounds "
          f"2..{args.rounds} (round 1 traces), seconds per epoch\n")
    print("| variant | " + " | ".join(keys) + " | total |")
    print("|---|" + "---|" * (len(keys) + 1))
    for name, values in rows.items():
        med = {k: statistics.median(r[k] for r in values[1:]) for k in keys}
        total = sum(med[k] for k in keys if k != "median_step")
        print(f"| {name} | " + " | ".join(f"{med[k]:.3f}" for k in keys) + f" | {total:.2f} |")


if __name__ == "__main__":
    main()
