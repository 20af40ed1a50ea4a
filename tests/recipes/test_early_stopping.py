"""Early stopping with best-weights restore, on a small noisy text set (sentiment defaults).

Short noisy human text is where a neural model memorises: on the issue's held-out posts the
BiLSTM's validation loss rose from epoch 2-3 while training ran all 10 epochs. With the
sentiment default ``train.early_stopping_patience=2`` training stops two epochs after the best
validation loss, and the model it evaluates and exports is the best epoch's.
"""

import csv
import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only


def _noisy_csv(path, rows=600, seed=0):
    """Short texts of random filler words, a sentiment cue in 70% of them, 25% flipped labels."""
    rng = np.random.default_rng(seed)
    filler = [f"w{index}" for index in range(400)]
    cues = {0: ["awful", "boring", "bad", "worst"], 1: ["great", "lovely", "good", "best"]}
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        for _ in range(rows):
            label = int(rng.integers(2))
            words = list(rng.choice(filler, int(rng.integers(4, 10))))
            if rng.random() < 0.7:
                words.insert(int(rng.integers(len(words) + 1)), str(rng.choice(cues[label])))
            if rng.random() < 0.25:
                label = 1 - label
            writer.writerow([" ".join(words), ["negative", "positive"][label]])
    return path


def test_sentiment_stops_after_patience_and_restores_the_best_epoch(tmp_path):
    import keras

    from kerazoo.recipes.api import get_task, resolve_config
    from kerazoo.recipes.trainer import Trainer

    source = _noisy_csv(tmp_path / "noisy.csv")
    overrides = [f"data.source=csv:{source}", "model.name=text_mlp", "train.epochs=15",
                 "data.vocab_size=500", "data.sequence_length=16", "train.batch_size=16"]
    config = resolve_config("sentiment_analysis", None, overrides)
    assert config.train.early_stopping_patience == 2  # the recipe's default
    task = get_task("sentiment_analysis")(config)
    trainer = Trainer(task, tmp_path / "run", export=False, verbose=False)
    trainer.run()

    with open(tmp_path / "run" / "metrics.csv", newline="") as stream:
        val_losses = [float(row["val_loss"]) for row in csv.DictReader(stream)]
    report = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    stopping = report["early_stopping"]
    best = int(np.argmin(val_losses)) + 1
    assert stopping["best_epoch"] == best
    assert stopping["stopped_epoch"] == best + 2 == len(val_losses) < 15, (stopping, val_losses)
    assert all(loss >= val_losses[best - 1] for loss in val_losses[best:])

    # The model left in memory (and saved, evaluated) is the best epoch's: its validation loss
    # is the one metrics.csv recorded for that epoch, not the last epoch's.
    data = task.prepare_data()
    loss_fn = task.build_loss(data)
    total, count = 0.0, 0
    for texts, labels in data.splits["validation"].batch(256):
        logits = keras.ops.cast(trainer.model(texts, training=False), "float32")
        total += float(keras.ops.sum(loss_fn(labels, logits)))
        count += int(labels.shape[0])
    assert total / count == pytest.approx(val_losses[best - 1], rel=1e-4)
    assert total / count < val_losses[-1]

    # The TF-IDF + linear baseline was trained first and is reported beside the model.
    baseline = report["baseline"]
    assert baseline["model"] == "tfidf_linear" and baseline["verdict"] in ("model", "baseline")
    for key in ("accuracy", "macro_f1", "val_accuracy", "val_macro_f1", "model_val_macro_f1"):
        assert 0.0 <= baseline[key] <= 1.0, key
    card = (tmp_path / "run" / "model_card.md").read_text()
    assert "**Baseline**" in card and baseline["verdict_line"] in card


def test_epochs_before_the_start_epoch_are_neither_best_nor_counted():
    """A lucky early epoch (lowest loss of the run) is not restored when it comes before
    ``start_epoch``; patience counts from there."""
    import keras

    from kerazoo.recipes.early_stopping import EarlyStopping

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper = EarlyStopping(model, patience=2, start_epoch=3)
    losses = [0.01, 0.5, 0.4, 0.3, 0.35, 0.32]  # epoch 1 is the lucky one
    stops = [stopper.update(epoch, loss) for epoch, loss in enumerate(losses)]
    assert stops == [False, False, False, False, False, True]
    summary = stopper.summary()
    assert summary["best_epoch"] == 4 and summary["best_val_loss"] == 0.3
    assert summary["start_epoch"] == 3 and summary["stopped_epoch"] == 6


@pytest.mark.parametrize("losses, restored", [
    ([0.5, 0.3, 0.31, 0.32], False),  # reaches the last epoch: keeps its weights
    ([0.5, 0.3, 0.31, 0.32, 0.33], True),  # patience 3 ran out at epoch 5: best epoch back
])
def test_on_stop_restores_only_when_the_patience_ran_out(losses, restored):
    import keras

    from kerazoo.recipes.early_stopping import EarlyStopping

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper = EarlyStopping(model, patience=3, restore="on_stop")
    for epoch, loss in enumerate(losses):
        if epoch == 1:
            best = [v.numpy().copy() for v in model.weights]
        stopper.update(epoch, loss)
        for v in model.weights:  # training moves the weights every epoch
            v.assign(v + 1.0)
    last = [v.numpy().copy() for v in model.weights]
    stopper.restore()
    assert stopper.summary()["restored"] is restored and stopper.summary()["best_epoch"] == 2
    expected = best if restored else last
    for variable, value in zip(model.weights, expected):
        np.testing.assert_array_equal(variable.numpy(), value)
