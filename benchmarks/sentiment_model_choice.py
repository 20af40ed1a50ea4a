"""Which model the sentiment recipe should export: the BiLSTM, the TF-IDF baseline or their average.

Trains the recipe with its defaults (``train.prefer_baseline`` and ``train.ensemble_baseline``
on), then scores all three candidates on validation and test (macro-F1 and accuracy), and says
which one the recipe exported (it chooses on validation only). Data sets:

- ``embedded``: the shipped ``sentiment_reviews`` corpus (word order decides: counts fail).
- ``noisy3``: generated short posts in 3 classes (negative / neutral / positive) written to
  look like real ones where no one wrote the data for a model: Zipf-distributed filler words,
  graded sentiment words, negation that flips the next sentiment word, mixed posts, typos in 4%
  of the words and 15% of the labels flipped. Nothing here is tuned to it; it only shows
  whether the choice behaves on data where neither model is clearly better.

Usage: python benchmarks/sentiment_model_choice.py [--data embedded,noisy3] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path


def noisy_posts(path: Path, rows: int = 4000, seed: int = 0) -> Path:
    """The ``noisy3`` set as CSV (``text``, ``label``)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    filler = [f"w{index}" for index in range(3000)]
    zipf = 1.0 / np.arange(1, len(filler) + 1)
    zipf /= zipf.sum()
    words = {1: ["good", "great", "love", "nice", "fun", "best", "glad", "happy"],
             -1: ["bad", "awful", "hate", "boring", "worst", "sad", "poor", "angry"]}
    weak = {1: ["ok", "fine", "decent"], -1: ["meh", "slow", "odd"]}

    def typo(word: str) -> str:
        if len(word) < 3 or rng.random() > 0.04:
            return word
        at = int(rng.integers(len(word)))
        return word[:at] + "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(26))] + word[at + 1:]

    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        for _ in range(rows):
            tokens = list(rng.choice(filler, int(rng.integers(5, 20)), p=zipf))
            score = 0.0
            for _ in range(int(rng.choice([0, 1, 1, 2, 3]))):
                polarity = int(rng.choice([-1, 1]))
                strong = rng.random() < 0.7
                phrase = [str(rng.choice((words if strong else weak)[polarity]))]
                if rng.random() < 0.25:  # "not good": the polarity flips, and weakens
                    phrase.insert(0, str(rng.choice(["not", "never", "no"])))
                    polarity, strong = -polarity, False
                score += polarity * (1.0 if strong else 0.4)
                at = int(rng.integers(len(tokens) + 1))
                tokens[at:at] = phrase
            label = "positive" if score > 0.5 else "negative" if score < -0.5 else "neutral"
            if rng.random() < 0.15:
                label = str(rng.choice(["negative", "neutral", "positive"]))
            writer.writerow([" ".join(typo(str(t)) for t in tokens), label])
    return path


def score(task, model, data, split: str) -> dict[str, float]:
    report = task.evaluate(model, data, split)
    return {"macro_f1": round(report["macro_f1"], 4), "accuracy": round(report["accuracy"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="embedded,noisy3")
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()

    from kerazoo.recipes.api import get_task, resolve_config
    from kerazoo.recipes.trainer import Trainer
    from kerazoo.zoo.ensemble import probability_ensemble

    work = Path(tempfile.mkdtemp(prefix="kerazoo-choice-"))
    rows = []
    for name in args.data.split(","):
        source = "sentiment_reviews" if name == "embedded" else (
            f"csv:{noisy_posts(work / 'noisy3.csv')}")
        for seed in (int(s) for s in args.seeds.split(",")):
            config = resolve_config("sentiment_analysis", None,
                                    [f"data.source={source}", f"runtime.seed={seed}"])
            task = get_task("sentiment_analysis")(config)
            trainer = Trainer(task, work / f"{name}-{seed}", export=False, verbose=False)
            started = time.monotonic()
            report = trainer.run()
            seconds = time.monotonic() - started
            data = task.prepare_data()
            model, baseline = trainer.model, task.baseline_model
            candidates = {"model": model, "baseline": baseline,
                          "ensemble": probability_ensemble([model, baseline])}
            row = {"data": name, "seed": seed, "exported": report["baseline"]["exported"],
                   "seconds": round(seconds, 1)}
            for label, candidate in candidates.items():
                row[label] = {split: score(task, candidate, data, split)
                              for split in ("validation", "test")}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print("\n| data | seed | exported | val macro-F1 model / baseline / ensemble | test "
          "macro-F1 model / baseline / ensemble | test acc model / baseline / ensemble |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        cells = [" / ".join(f"{row[c][split][metric]:.4f}" for c in
                            ("model", "baseline", "ensemble"))
                 for split, metric in (("validation", "macro_f1"), ("test", "macro_f1"),
                                       ("test", "accuracy"))]
        print(f"| {row['data']} | {row['seed']} | {row['exported']} | " + " | ".join(cells)
              + " |")


if __name__ == "__main__":
    main()
