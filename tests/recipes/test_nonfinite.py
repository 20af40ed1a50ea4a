"""``train.on_nonfinite`` (issue 20): ``stop`` names the step whose loss or gradient went NaN or
infinite and publishes nothing; ``skip_batch`` applies no update for such a step on any replica
(weights, BatchNorm statistics and optimizer state untouched) and counts it; a diverged run
resumes from its last finite checkpoint when re-run with a lower learning rate."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from kerazoo.cli import main

pytestmark = pytest.mark.tf_only

TINY = ["--set", "train.precise_bn_batches=0", "--set", "train.early_stopping_patience=null",
        "--set", "train.checkpoint_seconds=0"]


def _trainer(tmp_path, overrides):
    from kerazoo.recipes import api
    from kerazoo.recipes.trainer import Trainer

    config = api.resolve_config("image_classification", overrides=overrides)
    task = api.get_task("image_classification")(config)
    trainer = Trainer(task, tmp_path / "run", verbose=False, export=False)
    strategy = trainer.set_up()
    data = task.prepare_data()
    plan = trainer.plan(data, strategy)
    state = trainer.build_state(data, plan, strategy)
    step_fn = trainer.step_function(state, plan, strategy, task.build_loss(data),
                                    list(state.model.trainable_variables))
    return task, data, plan, strategy, state, step_fn


def _values(variables):
    """Floating-point values (the dropout seed state moves with every forward pass, as it
    should: a skipped batch still consumed its randomness, as in an uninterrupted run)."""
    return [np.array(v.numpy()) for v in variables if "float" in str(v.dtype)]


@pytest.mark.parametrize("strategy,precision", [
    ("cpu", "float32"), ("mirrored", "float32"),
    ("mirrored", "mixed_float16")])  # a LossScaleOptimizer
def test_skip_batch_applies_nothing_for_a_non_finite_step_on_any_replica(tmp_path, strategy,
                                                                         precision):
    import tensorflow as tf

    task, data, plan, strat, state, step_fn = _trainer(tmp_path, [
        f"runtime.strategy={strategy}", f"runtime.precision={precision}",
        "train.on_nonfinite=skip_batch", "train.batch_size=8", "train.optimizer=adam",
        "train.schedule=constant"])
    features, labels = next(iter(task.build_inputs(
        data, "train", None, per_replica_batch=plan.global_batch, training=False)))
    bad = tf.tensor_scatter_nd_update(  # NaN in the last example only: the last replica's half
        tf.cast(features, tf.float32), [[plan.global_batch - 1]],
        tf.fill([1, *features.shape[1:]], float("nan")))
    batches = tf.data.Dataset.from_tensor_slices(
        (tf.stack([features, tf.cast(bad, features.dtype), features]), tf.stack([labels] * 3)))
    iterator = iter(strat.experimental_distribute_dataset(batches.unbatch().batch(
        plan.global_batch)))
    model, optimizer = state.model, state.optimizer
    exact = precision == "float32"  # a LossScaleOptimizer may itself skip an overflowing step

    loss, _, flag = step_fn(iterator)
    assert int(flag) == 0 and math.isfinite(float(loss))
    iterations = int(optimizer.iterations.numpy())
    assert iterations == 1 or not exact
    weights, slots = _values(model.variables), _values(optimizer.variables)

    loss, metric, flag = step_fn(iterator)  # the NaN batch
    assert int(flag) == 1 and float(loss) == 0.0 and float(metric) == 0.0
    assert int(optimizer.iterations.numpy()) == iterations and int(state.step.numpy()) == 2
    for before, after in zip(weights, _values(model.variables)):  # BatchNorm statistics too
        np.testing.assert_array_equal(before, after)
    for before, after in zip(slots, _values(optimizer.variables)):  # and the loss scale
        np.testing.assert_array_equal(before, after)

    _, _, flag = step_fn(iterator)
    assert int(flag) == 0 and all(np.isfinite(v).all() for v in _values(model.variables))
    if exact:
        assert int(optimizer.iterations.numpy()) == 2
        assert any(not np.array_equal(a, b) for a, b in zip(weights, _values(model.variables)))


def _poison_loss(monkeypatch, bad_calls):
    """The recipe's loss, NaN on the given (1-based) calls: a deterministic bad batch."""
    import tensorflow as tf

    from kerazoo.recipes.image_classification import ImageClassification

    real = ImageClassification.build_loss

    def build_loss(self, data):
        loss_fn = real(self, data)
        calls = tf.Variable(0, dtype=tf.int64, trainable=False)

        def poisoned(labels, outputs):
            calls.assign_add(1)
            nan = tf.reduce_any(tf.equal(calls, tf.constant(bad_calls, tf.int64)))
            return loss_fn(labels, outputs) * tf.where(nan, float("nan"), 1.0)

        return poisoned

    monkeypatch.setattr(ImageClassification, "build_loss", build_loss)


def test_skip_batch_counts_skipped_batches_and_publishes_a_finite_run(tmp_path, capsys,
                                                                      monkeypatch):
    _poison_loss(monkeypatch, [2])  # epoch 1's second step
    run = tmp_path / "run"
    code = main(["train", "image_classification", "--epochs", "2", "--run-dir", str(run),
                 "--set", "train.steps_per_epoch=3", "--set", "train.on_nonfinite=skip_batch",
                 *TINY])
    out = capsys.readouterr().out
    assert code == 0
    with open(run / "metrics.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["skipped_batches"] for row in rows] == ["1", "0"]
    assert all(math.isfinite(float(row["loss"])) for row in rows)
    report = json.loads((run / "evaluation.json").read_text())
    assert report["skipped_batches"] == 1 and math.isfinite(report["accuracy"])
    assert "(1 non-finite batch(es) skipped)" in out
    assert sorted(p.name for p in (run / "export").iterdir()) == ["1"]


def test_skip_batch_stops_when_every_step_of_an_epoch_is_skipped(tmp_path, capsys, monkeypatch):
    _poison_loss(monkeypatch, list(range(4, 40)))  # all of epoch 2 (3 steps an epoch)
    run = tmp_path / "run"
    code = main(["train", "image_classification", "--epochs", "3", "--run-dir", str(run),
                 "--set", "train.steps_per_epoch=3", "--set", "train.on_nonfinite=skip_batch",
                 *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0, err
    assert "every one of the 3 steps of epoch 2 (steps 4-6)" in err
    assert not run.exists()
    partial = tmp_path / ".run.partial"
    assert not (partial / "export").exists() and not (partial / "evaluation.json").exists()
    with open(partial / "metrics.csv", newline="") as stream:
        assert [row["epoch"] for row in csv.DictReader(stream)] == ["1"]


def test_stop_names_a_non_finite_gradient_under_a_finite_loss(tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    from kerazoo.recipes.image_classification import ImageClassification

    real = ImageClassification.build_loss

    def build_loss(self, data):
        loss_fn = real(self, data)

        @tf.custom_gradient
        def finite_value_nan_gradient(outputs):
            return tf.identity(outputs), lambda upstream: upstream * float("nan")

        def nan_gradient(labels, outputs):
            return loss_fn(labels, finite_value_nan_gradient(outputs))

        return nan_gradient

    monkeypatch.setattr(ImageClassification, "build_loss", build_loss)
    code = main(["train", "image_classification", "--epochs", "1", "--run-dir",
                 str(tmp_path / "run"), "--set", "train.steps_per_epoch=2", *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0, err
    assert "a gradient became NaN or infinite at step 1 (epoch 1)" in err
    assert not (tmp_path / "run").exists()


def test_a_diverged_run_resumes_with_a_lower_learning_rate(tmp_path, capsys):
    # Epoch 1 trains the head at a sane rate; the unfrozen phase multiplies it by 1e30, so the
    # run diverges in epoch 2 with epoch 1's checkpoint kept. Lowering train.learning_rate by
    # 1e30 (the only change) resumes it from there.
    run = tmp_path / "run"

    def command(rate):
        return ["train", "image_classification", "--epochs", "3", "--run-dir", str(run),
                "--set", "train.steps_per_epoch=3", "--set", "train.schedule=constant",
                "--set", "train.optimizer=sgd", "--set", f"train.learning_rate={rate}",
                "--set", "model.freeze_backbone=true", "--set", "train.unfreeze_epoch=1",
                "--set", "train.unfreeze_learning_rate_factor=1e30", *TINY]

    assert main(command("1.0e-2")) == 1
    err = capsys.readouterr().err
    assert "training diverged" in err and "re-run the same command" in err
    partial = tmp_path / ".run.partial"
    with open(partial / "metrics.csv", newline="") as stream:
        first = list(csv.DictReader(stream))
    assert [row["epoch"] for row in first] == ["1"]

    changed = command("1.0e-2")
    changed[changed.index("train.schedule=constant")] = "train.schedule=cosine"
    assert main(changed) == 1  # any other change is still refused, naming it
    assert "train.schedule: 'constant' -> 'cosine'" in capsys.readouterr().err

    assert main(command("1.0e-32")) == 0
    out = capsys.readouterr().out
    assert "Resuming from" in out and "train.learning_rate 0.01 -> 1e-32" in out
    with open(run / "metrics.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert rows[0] == first[0]  # epoch 1 is the diverged run's, not retrained
    assert all(math.isfinite(float(row["loss"])) for row in rows)
    assert float(rows[2]["learning_rate"]) == pytest.approx(1e-32 * 1e30)
    report = json.loads((run / "evaluation.json").read_text())
    assert math.isfinite(report["accuracy"])
    (change,) = report["config_changes"]
    assert change["step"] == 3
    assert change["changes"] == {"train.learning_rate": {"from": 1e-2, "to": 1e-32}}
    assert "learning_rate: 1.0e-32" in (run / "config.yaml").read_text()


def test_on_nonfinite_is_checked_and_documented():
    from kerazoo.errors import ConfigError
    from kerazoo.recipes import api
    from kerazoo.recipes.config import TrainConfig

    assert api.resolve_config("image_classification", None, []).train.on_nonfinite == "stop"
    with pytest.raises(ConfigError, match=r"'train.on_nonfinite' must be one of stop, skip_batch. "
                                          r"Received: 'skip_batches' \(did you mean 'skip_batch'"):
        api.resolve_config("time_series_forecasting", None, ["train.on_nonfinite=skip_batches"])
    assert "on_nonfinite: what a training step" in TrainConfig.__doc__
