"""``kerazoo train`` against the plain Keras script a user would write, whole processes.

For each recipe: the recipe's CLI with its defaults (``--no-export``: the plain script exports
nothing either) and the peer script under ``benchmarks/peers/`` on the same data and zoo model,
each a fresh ``python`` process (imports, data preparation, tracing, checkpoints and plots
included: what a user waits for), alternating recipe/peer round by round. Reports the median
wall-time ratio (recipe / peer; goal <= 1.0), the ratio of their CPU seconds (user + system:
steadier than wall time when other jobs share the cores) and both test metrics (goal: the recipe's at least
the peer's, within 0.5 pt), with the load average seen: on a shared machine the ratio of
alternated runs is the number to read, not the seconds.

Recipes (``--only``, default all; each can run in its own invocation):

- ``image_digits``: ``kerazoo train image_classification --data digits`` vs
  ``peers/keras_fit_image.py --digits`` (the same embedded splits, ``simple_cnn``, 25 epochs).
- ``image_folder``: a generated class-per-folder tree of 32x32 RGB shapes (4 classes, 120 images
  each, written once under ``--work``), ``--data folder:DIR`` vs ``--folder DIR`` (the peer
  splits with the recipe's ``split_indices``: the same test images on both sides).
- ``sentiment``: ``kerazoo train sentiment_analysis`` (embedded corpus, BiLSTM, 10 epochs) vs
  ``peers/keras_fit_sentiment.py``.
- ``speech``: ``kerazoo train speech_commands`` (embedded ``speech_commands_tiny``,
  ``bc_resnet1``, 40 epochs) vs ``peers/keras_fit_speech.py`` (the same splits and model behind
  a log-mel front end, ``model.fit``, no augmentation).
- ``forecasting``: ``kerazoo train time_series_forecasting`` (embedded ``co2``, ``nlinear``, 30
  epochs) vs ``peers/keras_fit_forecasting.py`` (the recipe's windows, ``model.fit`` on MAE).
  Metric: test MASE, lower is better (the other rows: test accuracy, higher is better).

Writes the table to ``results/recipe_vs_keras_fit.latest.md`` (``--out``); the notes in
``results/recipe_vs_keras_fit.md`` quote the measured tables with their dates and loads.

Round ``r`` seeds both sides with ``r`` (``--set runtime.seed=r`` / ``--seed r``, and for
``image_digits``, whose splits are embedded, ``--set data.seed=r``: the data order too; the
splits stay fixed): one seed's accuracy differs by ~1 pt from the next on digits, so the medians over seeds
are compared, not one draw (``--same-seed``: seed 0 every round).

Usage: python benchmarks/recipe_vs_keras_fit.py [--rounds 3] [--only image_digits,speech]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
KERAZOO = str(Path(PYTHON).with_name("kerazoo"))
RECIPES = ("image_digits", "image_folder", "sentiment", "speech", "forecasting")
#: The test metric each side reports, and whether higher is better.
METRICS = {"forecasting": ("mase", False)}


def make_shapes_folder(root: Path, per_class: int = 120, size: int = 32, seed: int = 0) -> Path:
    """4 classes of noisy coloured shapes (circle, square, triangle, cross) at random places."""
    import numpy as np
    from PIL import Image, ImageDraw

    if (root / "cross").is_dir() and len(list((root / "cross").glob("*.png"))) == per_class:
        return root
    rng = np.random.default_rng(seed)
    for name in ("circle", "square", "triangle", "cross"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            background = tuple(int(v) for v in rng.integers(0, 120, 3))
            image = Image.new("RGB", (size, size), background)
            draw = ImageDraw.Draw(image)
            colour = tuple(int(v) for v in rng.integers(130, 256, 3))
            r = int(rng.integers(6, 11))
            cx, cy = (int(v) for v in rng.integers(r + 1, size - r - 1, 2))
            if name == "circle":
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
            elif name == "square":
                draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
            elif name == "triangle":
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            else:
                draw.line((cx - r, cy - r, cx + r, cy + r), fill=colour, width=3)
                draw.line((cx - r, cy + r, cx + r, cy - r), fill=colour, width=3)
            pixels = np.asarray(image, dtype=np.int16) + rng.normal(0, 12, (size, size, 3))
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
                root / name / f"{index:03d}.png")
    return root


def commands(recipe: str, work: Path, run_dir: Path, seed: int = 0
             ) -> tuple[list[str], list[str]]:
    """(recipe command, peer command), both seeded with ``seed`` (``runtime.seed`` / ``--seed``:
    weight initialization and shuffling; the data splits never change)."""
    train = [KERAZOO, "train"]
    tail = ["--no-export", "--run-dir", str(run_dir), "--set", f"runtime.seed={seed}"]
    if recipe == "image_digits":
        # The peer's seed moves its weights and its shuffle order; the recipe's order is fixed by
        # data.seed alone. The digits splits are embedded (data.seed does not move them): vary
        # it too. (Elsewhere data.seed also draws the split, so the test sets would differ.)
        tail += ["--set", f"data.seed={seed}"]
    ours, peer = _commands(recipe, work, train, tail)
    return ours, [*peer, "--seed", str(seed)]


def _commands(recipe: str, work: Path, train: list[str], tail: list[str]
              ) -> tuple[list[str], list[str]]:
    if recipe == "image_digits":
        return ([*train, "image_classification", "--data", "digits", "--model", "simple_cnn",
                 *tail], [PYTHON, str(HERE / "peers" / "keras_fit_image.py"), "--digits"])
    if recipe == "image_folder":
        folder = make_shapes_folder(work / "shapes32")
        return ([*train, "image_classification", "--data", f"folder:{folder}", "--model",
                 "simple_cnn", *tail],
                [PYTHON, str(HERE / "peers" / "keras_fit_image.py"), "--folder", str(folder)])
    if recipe == "sentiment":
        return ([*train, "sentiment_analysis", *tail],
                [PYTHON, str(HERE / "peers" / "keras_fit_sentiment.py")])
    if recipe == "speech":
        return ([*train, "speech_commands", *tail],
                [PYTHON, str(HERE / "peers" / "keras_fit_speech.py")])
    if recipe == "forecasting":
        return ([*train, "time_series_forecasting", *tail],
                [PYTHON, str(HERE / "peers" / "keras_fit_forecasting.py")])
    raise SystemExit(f"unknown recipe {recipe!r}; choose from {', '.join(RECIPES)}")


def timed(command: list[str]) -> tuple[float, float, str]:
    """``(wall seconds, CPU seconds, stdout)`` of one child process. CPU time (user + system, the
    child and its threads) moves far less than wall time when other jobs share the cores."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, cpu, done.stdout


def metric_of(recipe: str) -> tuple[str, bool]:
    """``(name, higher_is_better)`` of the test metric compared for ``recipe``."""
    return METRICS.get(recipe, ("accuracy", True))


def recipe_score(recipe: str, run_dir: Path) -> float:
    report = json.loads((run_dir / "evaluation.json").read_text())
    return float(report[metric_of(recipe)[0]])


def peer_score(recipe: str, stdout: str) -> float:
    return float(json.loads(stdout.strip().splitlines()[-1])[f"test_{metric_of(recipe)[0]}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", "--recipes", dest="recipes", default=",".join(RECIPES),
                        help=f"comma-separated, from {', '.join(RECIPES)}")
    parser.add_argument("--same-seed", dest="vary_seed", action="store_false",
                        help="seed 0 in every round (default: round r uses seed r on both sides, "
                             "so the accuracies are medians over seeds, not one draw)")
    parser.add_argument("--work", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="kerazoo-vs-fit-"))
    rows = []
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    for recipe in [name.strip() for name in args.recipes.split(",") if name.strip()]:
        times: dict[str, list[float]] = {"recipe": [], "peer": []}
        cpus: dict[str, list[float]] = {"recipe": [], "peer": []}
        scores: dict[str, list[float]] = {"recipe": [], "peer": []}
        loads = []
        for round_ in range(args.rounds):
            run_dir = work / f"{recipe}-run{round_}"
            shutil.rmtree(run_dir, ignore_errors=True)
            ours, peer = commands(recipe, work, run_dir, round_ if args.vary_seed else 0)
            order = ("recipe", "peer") if round_ % 2 == 0 else ("peer", "recipe")
            for side in order:
                seconds, cpu, stdout = timed(ours if side == "recipe" else peer)
                times[side].append(seconds)
                cpus[side].append(cpu)
                scores[side].append(recipe_score(recipe, run_dir) if side == "recipe"
                                    else peer_score(recipe, stdout))
                loads.append(os.getloadavg()[0])
                print(f"{recipe} round {round_ + 1} {side}: {seconds:.1f} s ({cpu:.1f} s CPU), test "
                      f"{metric_of(recipe)[0]} "
                      f"{scores[side][-1]:.4f} (load {loads[-1]:.2f})", flush=True)
        ratios = [r / p for r, p in zip(times["recipe"], times["peer"])]
        cpu_ratios = [r / p for r, p in zip(cpus["recipe"], cpus["peer"])]
        rows.append({
            "recipe": recipe, "rounds": args.rounds,
            "recipe_s": statistics.median(times["recipe"]),
            "peer_s": statistics.median(times["peer"]), "ratio": statistics.median(ratios),
            "cpu_ratio": statistics.median(cpu_ratios),
            "metric": metric_of(recipe)[0] + ("" if metric_of(recipe)[1] else " (lower better)"),
            "recipe_score": statistics.median(scores["recipe"]),
            "peer_score": statistics.median(scores["peer"]),
            "recipe_mean": statistics.mean(scores["recipe"]),
            "peer_mean": statistics.mean(scores["peer"]),
            "load": statistics.mean(loads), "load_max": max(loads),
        })
        row = rows[-1]
        print(f"{recipe}: wall ratio {row['ratio']:.2f}, CPU ratio {row['cpu_ratio']:.2f} "
              f"(recipe {row['recipe_s']:.1f} s, peer "
              f"{row['peer_s']:.1f} s), test {row['metric']} recipe {row['recipe_score']:.4f} "
              f"vs peer {row['peer_score']:.4f} (means {row['recipe_mean']:.4f} vs "
              f"{row['peer_mean']:.4f}), load {row['load']:.1f}", flush=True)
    lines = [
        "# `kerazoo train` vs a plain Keras script (whole processes, alternating)", "",
        f"{os.cpu_count()} CPUs; medians over the rounds; load = mean 1-minute load average "
        "seen after each run (above the CPU count, the machine was shared).", "",
        "| recipe | rounds | recipe s | peer s | ratio (recipe/peer) | CPU-time ratio | test "
        "metric | recipe median (mean) | peer median (mean) | load (mean / max) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['recipe']} | {row['rounds']} | {row['recipe_s']:.1f} | {row['peer_s']:.1f} "
            f"| {row['ratio']:.2f} | {row['cpu_ratio']:.2f} | {row['metric']} "
            f"| {row['recipe_score']:.4f} "
            f"({row['recipe_mean']:.4f}) | {row['peer_score']:.4f} ({row['peer_mean']:.4f}) "
            f"| {row['load']:.1f} / {row['load_max']:.1f} |")
    lines += ["", "Seeds: " + ("round r uses seed r on both sides" if args.vary_seed
                               else "0 in every round") + "."]
    table = "\n".join(lines) + "\n"
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe_vs_keras_fit.latest.md").write_text(table)


if __name__ == "__main__":
    main()
