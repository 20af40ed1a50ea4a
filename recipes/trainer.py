"""The distributed training loop every recipe shares, in named steps.

A custom loop rather than ``model.fit``: Keras 3's ``fit`` fails under
``MultiWorkerMirroredStrategy`` (keras-team/keras#20585). Each step runs ``strategy.run`` on a
per-replica batch from ``distribute_datasets_from_function``; the replica computes its loss with
``tf.nn.compute_average_loss`` over the *global* batch, gradients (optionally XLA-compiled), and
the Keras 3 optimizer all-reduces and applies them. Checkpoints (model, optimizer, step — and the
dropout seed state, since ``model.variables`` holds it; the early-stopping state and best
weights) are written at the first epoch end ``train.checkpoint_seconds`` after the last one, at
the end of training, and every ``train.checkpoint_every`` steps when set; a re-run of the same
command restores the latest and skips the batches already seen, so with op determinism it ends
on the same weights as an uninterrupted run. After each epoch's steps, BatchNorm statistics are
recomputed with the current weights (``train.precise_bn_batches``), then the model is validated;
with ``train.early_stopping_patience`` training stops when validation loss stopped improving and
the best epoch's weights are restored before the final evaluation and export. A step whose loss
or a gradient is NaN or infinite stops the run with one line (``train.on_nonfinite=stop``; the
run directory keeps its last finite checkpoint, and a re-run with a lower
``train.learning_rate`` resumes from it) or applies no update on any replica (``skip_batch``,
counted per epoch in ``metrics.csv``).

``Trainer.run`` reads as its steps: ``set_up`` (strategy, seeds, determinism) → the task's
``prepare_data`` → ``plan`` (batch and step arithmetic) → ``check_run_dir`` → ``build_state``
(model, optimizer, checkpoint, resume) — everything that can fail happens before the first
write — → ``open_run_dir`` → per epoch ``step_function`` / ``run_epoch`` / ``validate`` /
``log_epoch`` → ``finish`` (save, evaluate, card, export, rename). The loop knows nothing of any
task: the task names its metric (``train_metric_name``) and what is printed (``headline_keys``).
"""

from __future__ import annotations

import csv
import io
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kerazoo import compat
from kerazoo.errors import DataError, KerazooError, TrainingDivergedError
from kerazoo.recipes import config as config_lib
from kerazoo.recipes.divergence import (
    RESUMABLE_CHANGES,
    check_finite_losses,
    config_changes,
    rerun_hint,
)
from kerazoo.recipes.early_stopping import FLOAT_DTYPES, EarlyStopping
from kerazoo.recipes.optimization import (
    build_optimizer,
    current_lr,
    set_batchnorm_momentum,
)
from kerazoo.recipes.run_dir import (
    atomic_write_json,
    atomic_write_text,
    partial_path,
    remove_stale_temps,
)

log = logging.getLogger(__name__)


#: The fewest batches precise BN averages over on a short epoch (see ``Trainer.precise_bn``).
PRECISE_BN_MIN_BATCHES = 4


def metric_fields(metric: str) -> tuple[str, ...]:
    """Columns of ``metrics.csv`` for a task whose per-step metric is ``metric``."""
    return ("epoch", "step", "loss", metric, "val_loss", f"val_{metric}", "learning_rate",
            "seconds", "skipped_batches")


def headline_line(task, report: dict[str, Any]) -> str:
    """``"accuracy: 0.9889 (360 examples; top_5_accuracy 1.0000)"``: the task's
    ``headline_keys``, the first one leading."""
    first, *others = [key for key in task.headline_keys(report) if key in report]
    detail = "".join(f"; {key} {report[key]:.4f}" for key in others)
    return f"{first}: {report[first]:.4f} ({report.get('num_examples', '?')} examples{detail})"


def _set_op_determinism(enabled: bool) -> None:
    import tensorflow as tf

    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:
        compat.disable_op_determinism()


def accepts_keyword(function, name: str) -> bool:
    """Whether ``function`` takes keyword ``name`` (or any keyword: ``**kwargs``)."""
    import inspect

    parameters = inspect.signature(function).parameters.values()
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


def _total(values) -> float:
    import tensorflow as tf

    return float(tf.add_n(values)) if values else 0.0


@dataclass
class Plan:
    """The numbers a run is laid out by, fixed before anything is built."""

    replicas: int
    per_replica: int
    global_batch: int
    steps_per_epoch: int
    total_steps: int
    unfreeze_step: int | None
    lr_scale: float
    precision: str
    jit: bool


@dataclass
class State:
    """What training changes and checkpoints: model, optimizer, step counter."""

    model: Any
    inner: Any
    optimizer: Any
    step: Any
    checkpoint: Any
    resumed_from: str | None
    early_stopping: Any = None


class Trainer:
    """Train ``task`` under ``strategy`` into ``run_dir``.

    Args:
        task: a :class:`~kerazoo.recipes.task.Task` whose config is resolved and validated
            (``api.resolve_config``).
        run_dir: the final run directory (training happens in ``.NAME.partial``).
        strategy: a ``tf.distribute.Strategy``. Defaults to the config's factory choice.
        export: export a SavedModel at the end. Defaults to ``True``.
        verbose: print progress and the final report. Defaults to ``True``.
    """

    def __init__(self, task, run_dir, *, strategy=None, export: bool = True,
                 verbose: bool = True):
        self.task = task
        self.config = task.config
        self.run_dir = Path(run_dir)
        self.work = partial_path(self.run_dir)
        self.strategy = strategy
        self.export = export
        self.verbose = verbose
        self.chief = True
        self.config_changes: dict[str, dict[str, Any]] = {}

    def _say(self, text: str) -> None:
        if self.verbose and self.chief:
            print(text, flush=True)

    def run(self) -> dict[str, Any]:
        strategy = self.set_up()
        data = self.task.prepare_data()  # every data error is raised before anything is written
        plan = self.plan(data, strategy)
        self.check_run_dir()
        state = self.build_state(data, plan, strategy)
        loss_fn = self.task.build_loss(data)
        precise_bn = self.precise_bn(data, plan, strategy, state)
        manager, ckpt_dir = self.open_run_dir(state)  # the first write
        eval_batch = self.eval_function(state, loss_fn)
        validation = self.validation_batches(data)
        baseline = self.train_baseline(data)
        rows = self._read_rows(self.work / "metrics.csv", self.first_epoch(state, plan))
        writer = self._summary_writer()
        self._say(
            f"Training {self.config.model.name} on {self.config.data.source}: "
            f"{data.sizes['train']} examples, {plan.replicas} replica(s) x {plan.per_replica} = "
            f"global batch {plan.global_batch}, {plan.steps_per_epoch} steps/epoch, "
            f"{self.config.train.epochs} epochs, precision {plan.precision}, XLA "
            f"{'on' if plan.jit else 'off'}, strategy {type(strategy).__name__}."
        )
        started = last_save = time.monotonic()
        step_fn, compiled_for = None, None
        stopper, epochs = state.early_stopping, self.config.train.epochs
        whole_run, batches = accepts_keyword(self.task.build_inputs, "epochs"), None
        try:
            for epoch in range(self.first_epoch(state, plan), epochs):
                if stopper is not None and stopper.stopped:
                    break  # resumed after the stop (a crash during the final steps)
                trainable = self.trainable_for_epoch(state, epoch)
                if step_fn is None or [id(v) for v in trainable] != compiled_for:
                    step_fn = self.step_function(state, plan, strategy, loss_fn, trainable)
                    compiled_for = [id(v) for v in trainable]
                epoch_started = time.monotonic()
                if batches is None or not whole_run:
                    batches = self.training_batches(data, plan, strategy, state, epoch,
                                                    epochs - epoch if whole_run else 1)
                loss_sum, metric_sum, seen, skipped = self.run_epoch(
                    plan, state, manager, step_fn, batches, epoch,
                    float(rows[-1]["loss"]) if rows else None)
                if precise_bn is not None:
                    precise_bn()  # statistics of these weights: validation, checkpoint, the end
                val_loss, val_metric = self.validate(data, eval_batch, validation)
                rows.append(self.epoch_row(plan, state, epoch, loss_sum, metric_sum, seen,
                                           val_loss, val_metric,
                                           time.monotonic() - epoch_started, skipped))
                # Every worker computes the same validation loss: the same decision everywhere.
                stop = stopper is not None and stopper.update(epoch, val_loss)
                due = time.monotonic() - last_save >= self.config.train.checkpoint_seconds
                if stop or epoch + 1 == epochs or self._agree(strategy, due):
                    self.save_checkpoint(manager, state, int(state.step.numpy()), epoch)
                    last_save = time.monotonic()
                self.log_epoch(rows, writer)
                if stop:
                    self._say(stopper.stop_line())
        finally:
            if writer is not None:
                writer.close()
        if stopper is not None:
            stopper.restore()
        self.model = state.model
        if not self.chief:
            shutil.rmtree(ckpt_dir, ignore_errors=True)
            return {}
        return self.finish(state.model, data, time.monotonic() - started,
                           stopper.summary() if stopper is not None else None, baseline)

    # ----- before anything is written -----
    def set_up(self):
        """The strategy, seeds and op determinism."""
        from kerazoo.recipes import strategy as strategy_lib

        runtime = self.config.runtime
        # MultiWorkerMirroredStrategy must configure collectives before TF's context starts
        # (importing Keras starts it).
        strategy = self.strategy or strategy_lib.make_strategy(runtime.strategy, runtime.tpu)
        import keras

        keras.utils.set_random_seed(runtime.seed)
        jit = strategy_lib.resolve_jit(runtime.jit_compile, strategy)
        _set_op_determinism(runtime.deterministic and not jit)
        if runtime.deterministic and jit:
            # XLA has no deterministic kernels for some gradients (MaxPool), so TF refuses them.
            log.warning("runtime.deterministic is ignored with XLA (runtime.jit_compile).")
        self.chief = strategy_lib.is_chief(strategy)
        return strategy

    def plan(self, data, strategy) -> Plan:
        from kerazoo.recipes import strategy as strategy_lib

        train, runtime = self.config.train, self.config.runtime
        replicas = strategy.num_replicas_in_sync
        global_batch = train.batch_size * replicas
        steps_per_epoch = data.sizes["train"] // global_batch
        if train.steps_per_epoch:
            steps_per_epoch = min(steps_per_epoch, train.steps_per_epoch)
        if steps_per_epoch < 1:
            raise DataError(
                f"{data.info.get('source', self.config.data.source)}: {data.sizes['train']} "
                f"training examples are fewer than one global batch ({global_batch}); lower "
                "train.batch_size."
            )
        unfreeze = train.unfreeze_epoch
        return Plan(
            replicas=replicas, per_replica=train.batch_size, global_batch=global_batch,
            steps_per_epoch=steps_per_epoch, total_steps=steps_per_epoch * train.epochs,
            unfreeze_step=unfreeze * steps_per_epoch if unfreeze is not None else None,
            lr_scale=global_batch / 256 if train.scale_learning_rate else 1.0,
            precision=strategy_lib.resolve_precision(runtime.precision, strategy),
            jit=strategy_lib.resolve_jit(runtime.jit_compile, strategy),
        )

    def check_run_dir(self) -> None:
        if (self.run_dir / "config.yaml").exists():
            raise KerazooError(
                f"{self.run_dir} already holds a finished run; choose another --run-dir."
            )
        saved = self.work / "config.yaml"
        if not saved.is_file():
            return
        import yaml

        changes = config_changes(yaml.safe_load(saved.read_text()) or {},
                                 config_lib.to_dict(self.config))
        refused = sorted(set(changes) - set(RESUMABLE_CHANGES))
        if refused:
            shown = "; ".join(f"{key}: {changes[key]['from']!r} -> {changes[key]['to']!r}"
                              for key in refused[:3])
            raise KerazooError(
                f"{self.work} holds an interrupted run with a different config ({shown}); delete "
                "it, or resume it with the same command (only "
                f"{' and '.join(RESUMABLE_CHANGES)} may change on resume)."
            )
        self.config_changes = changes

    def build_state(self, data, plan: Plan, strategy) -> State:
        """Model, optimizer and step counter under the strategy, restored when resuming."""
        import keras
        import tensorflow as tf

        train = self.config.train
        previous_policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(plan.precision)
        try:
            with strategy.scope():
                model = self.task.build_model(data)
                if self.config.model.batchnorm_momentum is not None:
                    set_batchnorm_momentum(model, self.config.model.batchnorm_momentum)
                inner = self.task.inner_model(model)
                optimizer = build_optimizer(train, total_steps=plan.total_steps,
                                            unfreeze_step=plan.unfreeze_step,
                                            lr_scale=plan.lr_scale)
                if plan.precision == "mixed_float16":
                    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
                optimizer.build(self._all_trainable(model, inner))
                step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            early_stopping = self.early_stopping(data, model, strategy)
        finally:
            keras.config.set_dtype_policy(previous_policy)
        checkpoint = tf.train.Checkpoint(
            weights=list(model.variables), optimizer_state=list(optimizer.variables), step=step,
            **({"early_stopping": early_stopping.trackable()} if early_stopping else {}),
        )
        latest = tf.train.latest_checkpoint(str(self.work / "checkpoints"))
        if latest:
            checkpoint.restore(latest).assert_existing_objects_matched()
            if not callable(getattr(getattr(optimizer, "inner_optimizer", optimizer),
                                    "_learning_rate", None)):
                # A constant rate is an optimizer variable, restored with the checkpoint: the
                # configured one wins (a resume may lower train.learning_rate).
                optimizer.learning_rate = train.learning_rate * plan.lr_scale
        return State(model, inner, optimizer, step, checkpoint, latest, early_stopping)

    def early_stopping(self, data, model, strategy):
        """An :class:`EarlyStopping` when ``train.early_stopping_patience`` is set and there is
        a validation split, else ``None``."""
        patience = self.config.train.early_stopping_patience
        if patience is None:
            return None
        if not data.sizes.get("validation"):
            log.warning("train.early_stopping_patience is ignored: no validation split.")
            return None
        with strategy.scope():
            train = self.config.train
            return EarlyStopping(model, patience, train.early_stopping_start_epoch,
                                 train.early_stopping_restore)

    @staticmethod
    def _agree(strategy, flag: bool) -> bool:
        """``flag`` on any worker (a checkpoint is collective: every worker must save)."""
        import tensorflow as tf

        if not getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)():
            return flag
        value = strategy.run(lambda: tf.constant(1.0 if flag else 0.0))
        return float(strategy.reduce(tf.distribute.ReduceOp.SUM, value, None)) > 0

    def precise_bn(self, data, plan: Plan, strategy, state: State):
        """``update()`` that recomputes the BatchNorm moving statistics over a fixed set of
        ``train.precise_bn_batches`` training batches (see :mod:`~kerazoo.recipes.precise_bn`),
        or ``None`` when off or the model has no trainable BatchNorm layer.

        The batches (epoch 0's first ones, augmented as in training) are drawn once and kept as
        tensors: rebuilding a pipeline per call cost ~1 s, re-iterating a cached dataset ~0.3 s,
        a pass over kept tensors ~0.1 s. Every worker runs it (the statistics are reduced across
        replicas), and the same batches on every run keep a resumed run identical to an
        uninterrupted one.
        """
        import itertools

        from kerazoo.recipes.precise_bn import PreciseBatchNorm

        # At most a quarter of an epoch's steps (at least 4 batches): the forward passes then
        # cost ~1/12 of an epoch. Capped at the whole epoch, on a 10-step epoch (480 images) they
        # cost a third of the training time.
        count = min(self.config.train.precise_bn_batches,
                    max(PRECISE_BN_MIN_BATCHES, plan.steps_per_epoch // 4), plan.steps_per_epoch)
        if count < 1:
            return None
        precise = PreciseBatchNorm(state.model, strategy)
        if not precise.layers:
            return None

        def dataset_fn(context):
            return self.task.build_inputs(
                data, "train", context, per_replica_batch=plan.per_replica, training=True,
                epoch=0, take_global_steps=count,
                deterministic=self.config.runtime.deterministic,
            )

        batches = list(itertools.islice(
            iter(strategy.distribute_datasets_from_function(dataset_fn)), count))

        def update():
            return precise.update(batches, num_batches=len(batches))

        return update

    def _all_trainable(self, model, inner) -> list:
        """Every variable any phase trains (the optimizer needs slots for all of them)."""
        if self.config.train.unfreeze_epoch is None:
            return list(model.trainable_variables)
        from kerazoo import zoo

        zoo.set_backbone_trainable(inner, True)
        variables = list(model.trainable_variables)
        zoo.set_backbone_trainable(inner, False)
        return variables

    # ----- the first write -----
    def open_run_dir(self, state: State):
        """Write ``config.yaml`` into the partial directory; the checkpoint manager."""
        import tensorflow as tf

        if self.chief:
            self.work.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.work / "config.yaml", config_lib.to_yaml(self.config))
            ckpt_dir = self.work / "checkpoints"
        else:
            # Checkpoint saving is collective: other workers write to a private scratch dir.
            ckpt_dir = Path(tempfile.mkdtemp(prefix="kerazoo-worker-ckpt-"))
        if state.resumed_from:
            self._say(f"Resuming from {state.resumed_from} (step {int(state.step.numpy())}).")
            if self.config_changes and self.chief:
                self.record_config_change(state)
        manager = tf.train.CheckpointManager(state.checkpoint, str(ckpt_dir), max_to_keep=2)
        return manager, ckpt_dir

    def record_config_change(self, state: State) -> None:
        """Append the keys changed on this resume to ``config_changes.json`` (the run's
        ``config.yaml`` holds the latest values; ``metrics.csv`` the rate of every epoch)."""
        import json

        path = self.work / "config_changes.json"
        history = json.loads(path.read_text()) if path.is_file() else []
        step = int(state.step.numpy())
        history.append({"step": step, "checkpoint": Path(state.resumed_from).name,
                        "changes": self.config_changes})
        atomic_write_json(path, history)
        shown = ", ".join(f"{key} {change['from']} -> {change['to']}"
                          for key, change in self.config_changes.items())
        self._say(f"Resuming with {shown} (recorded in config_changes.json).")

    def _summary_writer(self):
        import tensorflow as tf

        return tf.summary.create_file_writer(str(self.work / "logs")) if self.chief else None

    # ----- the loop -----
    @staticmethod
    def first_epoch(state: State, plan: Plan) -> int:
        return int(state.step.numpy()) // plan.steps_per_epoch

    def trainable_for_epoch(self, state: State, epoch: int) -> list:
        """The variables trained in ``epoch`` (two-phase fine-tuning unfreezes the backbone)."""
        from kerazoo import zoo

        model_cfg, unfreeze = self.config.model, self.config.train.unfreeze_epoch
        frozen = model_cfg.freeze_backbone and (unfreeze is None or epoch < unfreeze)
        if model_cfg.freeze_backbone or unfreeze is not None:
            zoo.set_backbone_trainable(state.inner, not frozen)
        return list(state.model.trainable_variables)

    def step_function(self, state: State, plan: Plan, strategy, loss_fn, trainable):
        """``train_step(iterator) -> (summed loss, summed metric, bad)``, one global step.

        ``bad`` is 1 when the loss or a gradient of any replica is NaN or infinite (the flag is
        summed across replicas inside the step, so every replica sees the same answer; under a
        ``LossScaleOptimizer`` only the loss counts, since it skips overflowing scaled gradients
        itself). With ``train.on_nonfinite=skip_batch`` such a step applies nothing: the update
        runs under a cross-replica ``tf.cond`` (a branch calling the optimizer's ``merge_call``
        cannot be a replica-context ``cond``), so the weights, the optimizer's iterations and
        slots and the BatchNorm statistics of the forward pass stay as they were, and its loss
        and metric count as 0. The flag stays on the device: ``run_epoch`` reads the epoch's
        flags back once.
        """
        import keras
        import tensorflow as tf

        model, optimizer, task = state.model, state.optimizer, self.task
        skip = self.config.train.on_nonfinite == "skip_batch"
        check_grads = not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

        def replica_grads(features, labels):
            with tf.GradientTape() as tape:
                outputs = tf.cast(model(features, training=True), tf.float32)
                loss = tf.nn.compute_average_loss(loss_fn(labels, outputs),
                                                  global_batch_size=plan.global_batch)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
                scaled = optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, trainable)
            finite = [tf.reduce_all(tf.math.is_finite(loss))]
            if check_grads:
                finite += [tf.reduce_all(tf.math.is_finite(g)) for g in grads if g is not None]
            bad = 1 - tf.cast(tf.reduce_all(tf.stack(finite)), tf.int32)
            return grads, loss, task.train_metric(labels, outputs), bad

        grad_fn = tf.function(replica_grads, jit_compile=True) if plan.jit else replica_grads
        # Non-trainable statistics (BatchNorm moving mean/variance) are replica-local under
        # tf.distribute; averaging them every step keeps every worker's model identical.
        statistics = [v for v in model.non_trainable_variables if v.dtype in FLOAT_DTYPES]
        total = tf.distribute.ReduceOp.SUM

        def local_statistics():
            return tuple(tf.convert_to_tensor(v) for v in statistics)

        def average_statistics(local):
            if statistics and strategy.num_replicas_in_sync > 1:
                for variable, values in zip(statistics, local):
                    variable.assign(strategy.reduce(tf.distribute.ReduceOp.MEAN, values, None))

        def replica_step(features, labels):
            grads, loss, metric, bad = grad_fn(features, labels)
            optimizer.apply_gradients(zip(grads, trainable))
            return loss, metric, bad, local_statistics()

        @tf.function
        def train_step(iterator):
            loss, metric, bad, local = strategy.run(replica_step, args=next(iterator))
            state.step.assign_add(1)
            average_statistics(local)
            return (strategy.reduce(total, loss, None), strategy.reduce(total, metric, None),
                    tf.minimum(strategy.reduce(total, bad, None), 1))

        def replica_forward(features, labels):
            before = local_statistics()  # the forward pass moves them: put back when skipped
            grads, loss, metric, bad = grad_fn(features, labels)
            return grads, loss, metric, bad, before

        def replica_apply(grads):
            optimizer.apply_gradients(zip(grads, trainable))

        def replica_restore(before):
            for variable, value in zip(statistics, before):
                variable.assign(value)

        @tf.function
        def skipping_train_step(iterator):
            grads, loss, metric, bad, before = strategy.run(replica_forward, args=next(iterator))
            bad = tf.minimum(strategy.reduce(total, bad, None), 1)  # one answer for all
            state.step.assign_add(1)  # batches consumed, for resuming; not updates applied

            def apply():
                strategy.run(replica_apply, args=(grads,))
                return tf.constant(0)

            def restore():
                strategy.run(replica_restore, args=(before,))
                return tf.constant(1)

            tf.cond(tf.equal(bad, 0), apply, restore)
            average_statistics(strategy.run(local_statistics))
            kept = tf.cast(1 - bad, tf.float32)
            loss = tf.where(kept > 0, strategy.reduce(total, loss, None), 0.0)
            metric = tf.where(kept > 0, strategy.reduce(total, metric, None), 0.0)
            return loss, metric, bad

        return skipping_train_step if skip else train_step

    def training_batches(self, data, plan: Plan, strategy, state: State, epoch: int,
                         epochs: int = 1):
        """One distributed iterator over the training batches of ``epochs`` epochs from
        ``epoch`` on, resuming mid-epoch where the step counter says so.

        One pipeline and one iterator for the whole run (``epochs`` > 1; the task's
        ``build_inputs`` takes ``epochs``): rebuilding them every epoch cost ~0.1 s each on
        digits, a few per cent of a short run. A task whose ``build_inputs`` predates ``epochs``
        gets one iterator per epoch (``epochs=1``, the keyword left out).
        """
        done = int(state.step.numpy()) - epoch * plan.steps_per_epoch
        extra = {"epochs": epochs} if epochs > 1 else {}

        def dataset_fn(context):
            return self.task.build_inputs(
                data, "train", context, per_replica_batch=plan.per_replica, training=True,
                epoch=epoch, skip_global_steps=done, take_global_steps=plan.steps_per_epoch,
                deterministic=self.config.runtime.deterministic, **extra,
            )

        return iter(strategy.distribute_datasets_from_function(dataset_fn))

    def run_epoch(self, plan: Plan, state: State, manager, step_fn, iterator, epoch: int,
                  last_loss: float | None = None):
        """The rest of ``epoch`` (all of it unless resuming mid-epoch) from ``iterator``;
        ``(loss sum, metric sum, steps run, steps skipped)``, summed once at the end (a
        read-back per step is a host sync). A NaN or infinite step loss or gradient stops the
        run (:func:`check_finite_losses`), unless ``train.on_nonfinite=skip_batch`` skipped it;
        an epoch whose every step was skipped stops it too."""
        import keras

        done = int(state.step.numpy()) - epoch * plan.steps_per_epoch
        skip = self.config.train.on_nonfinite == "skip_batch"

        bar = None
        if self.verbose and self.chief and sys.stderr.isatty():
            bar = keras.utils.Progbar(plan.steps_per_epoch, stateful_metrics=["loss"])
        losses, metrics, flags = [], [], []
        for index in range(done, plan.steps_per_epoch):
            loss, metric, bad = step_fn(iterator)
            losses.append(loss)
            metrics.append(metric)
            flags.append(bad)
            current = epoch * plan.steps_per_epoch + index + 1
            every = self.config.train.checkpoint_every
            if every and current % every == 0:
                if not skip:
                    check_finite_losses(losses[-every:], first_step=current - len(losses[-every:]) + 1,
                                        epoch=epoch, last_finite=last_loss, work=self.work,
                                        flags=flags[-every:])
                self.save_checkpoint(manager, state, current, epoch)
            if bar is not None:
                bar.update(index + 1, [("loss", float(loss))])
        first_step = epoch * plan.steps_per_epoch + done + 1
        skipped = int(_total(flags)) if flags else 0
        if not skip:
            check_finite_losses(losses, first_step=first_step, epoch=epoch,
                                last_finite=last_loss, work=self.work, flags=flags)
        elif flags and skipped == len(flags):
            raise TrainingDivergedError(
                f"training diverged: every one of the {len(flags)} steps of epoch {epoch + 1} "
                f"(steps {first_step}-{first_step + len(flags) - 1}) had a NaN or infinite loss "
                "or gradient and was skipped (train.on_nonfinite=skip_batch). " + rerun_hint(
                    self.work))
        return _total(losses), _total(metrics), plan.steps_per_epoch - done, skipped

    def save_checkpoint(self, manager, state: State, number: int, epoch: int) -> None:
        """``manager.save`` once the weights are checked finite: every checkpoint a resume can
        start from is usable (a finite loss and gradients can still overflow the update)."""
        import tensorflow as tf

        variables = [v for v in state.model.variables if v.dtype in FLOAT_DTYPES]
        if variables and not bool(tf.reduce_all(
                [tf.reduce_all(tf.math.is_finite(v)) for v in variables])):
            raise TrainingDivergedError(
                f"training diverged: the weights became NaN or infinite by step {number} "
                f"(epoch {epoch + 1}). " + rerun_hint(self.work))
        manager.save(checkpoint_number=number)

    def eval_function(self, state: State, loss_fn):
        import tensorflow as tf

        model, task = state.model, self.task

        @tf.function
        def eval_batch(features, labels):
            outputs = tf.cast(model(features, training=False), tf.float32)
            return tf.reduce_sum(loss_fn(labels, outputs)), task.train_metric(labels, outputs)

        return eval_batch

    def validation_batches(self, data):
        """The validation batches, built once for the whole run (``None`` without a split)."""
        if not data.sizes.get("validation"):
            return None
        return self.task.build_inputs(data, "validation", None, per_replica_batch=256,
                                      training=False)

    def validate(self, data, eval_batch, batches):
        """``(val_loss, val_metric)`` per example, or ``("", "")`` without a validation split."""
        if batches is None:
            return "", ""
        total_loss = total_metric = 0.0
        for features, labels in batches:
            loss, metric = eval_batch(features, labels)
            total_loss += float(loss)
            total_metric += float(metric)
        count = data.sizes["validation"]
        return total_loss / count, total_metric / count

    def epoch_row(self, plan, state, epoch, loss_sum, metric_sum, seen, val_loss, val_metric,
                  seconds, skipped: int = 0) -> dict[str, Any]:
        """The epoch's ``metrics.csv`` row; loss and metric average the applied steps only."""
        metric = self.task.train_metric_name
        step = int(state.step.numpy())
        applied = seen - skipped
        return {
            "epoch": epoch + 1, "step": step, "loss": loss_sum / max(applied, 1),
            metric: metric_sum / max(applied * plan.global_batch, 1),
            "val_loss": val_loss, f"val_{metric}": val_metric,
            "learning_rate": current_lr(state.optimizer, int(state.optimizer.iterations.numpy())),
            "seconds": round(seconds, 3), "skipped_batches": skipped,
        }

    def log_epoch(self, rows: list[dict[str, Any]], writer) -> None:
        """``metrics.csv``, TensorBoard scalars and one printed line for the last row."""
        metric, row = self.task.train_metric_name, rows[-1]
        if self.chief:
            self._write_rows(self.work / "metrics.csv", rows, metric)
            with writer.as_default(step=row["epoch"]):
                for key in ("loss", metric, "val_loss", f"val_{metric}", "learning_rate"):
                    if row[key] != "":
                        compat.scalar_summary(key, row[key])
            writer.flush()
        shown = {key: ("" if row[key] == "" else round(row[key], 4))
                 for key in ("val_loss", f"val_{metric}")}
        self._say(
            f"epoch {row['epoch']}/{self.config.train.epochs}: loss {row['loss']:.4f} "
            f"{metric} {row[metric]:.4f} val_loss {shown['val_loss']} "
            f"val_{metric} {shown[f'val_{metric}']} ({row['seconds']:.1f} s)"
        )

    @staticmethod
    def _read_rows(path: Path, epochs_done: int) -> list[dict[str, Any]]:
        if not path.is_file():
            return []
        with open(path, newline="") as stream:
            return [row for row in csv.DictReader(stream) if int(row["epoch"]) <= epochs_done]

    @staticmethod
    def _write_rows(path: Path, rows, metric: str) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=metric_fields(metric))
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(path, buffer.getvalue())

    # ----- the end -----
    def train_baseline(self, data) -> dict[str, Any] | None:
        """The task's cheap baseline (``task.train_baseline(data)``, e.g. TF-IDF + linear for
        text), trained first on the chief; ``None`` when the task has none."""
        train_baseline = getattr(self.task, "train_baseline", None)
        if train_baseline is None or not self.chief:
            return None
        baseline = train_baseline(data)
        shown = ", ".join(f"{key} {value:.4f}" for key, value in baseline.items()
                          if key.startswith("val_"))
        self._say(f"Baseline {baseline['model']}: {shown or 'trained'} "
                  f"({baseline['seconds']:.1f} s).")
        return baseline

    def compare_with_baseline(self, model, data, report, baseline) -> str:
        """Add the validation scores to ``baseline`` and return the verdict line."""
        if baseline.get("exported") in ("baseline", "ensemble"):
            return baseline["verdict_line"]  # the task exported another model and said why
        key = "macro_f1" if "val_macro_f1" in baseline else "accuracy"
        if f"val_{key}" not in baseline:
            return (f"Baseline {baseline['model']} (no validation split): test {key} "
                    f"{baseline.get(key, float('nan')):.4f} vs {report.get(key, float('nan')):.4f}.")
        ours = baseline.get("model_val_" + key)  # scored when the exported model was chosen
        if ours is None:
            ours = self.task.evaluate(model, data, "validation")[key]  # one pass, no plots
        theirs = baseline[f"val_{key}"]
        baseline["model_val_" + key] = ours
        name = self.config.model.name
        if theirs > ours:
            baseline["verdict"] = "baseline"
            if getattr(self.config.train, "prefer_baseline", False):
                # choose_exported_model kept the model: the lead was within validation noise.
                return (f"The baseline {baseline['model']} scores higher than {name} on "
                        f"validation ({key} {theirs:.4f} vs {ours:.4f}; test "
                        f"{baseline.get(key, 0):.4f} vs {report.get(key, 0):.4f}), by too few "
                        f"examples to tell apart from noise (McNemar): kept {name}.")
            return (f"WARNING: the baseline {baseline['model']} beats {name} on validation "
                    f"({key} {theirs:.4f} vs {ours:.4f}; test {baseline.get(key, 0):.4f} vs "
                    f"{report.get(key, 0):.4f}): the neural model did not earn its time; "
                    "prefer the baseline or change the model.")
        baseline["verdict"] = "model"
        return (f"{name} beats the baseline {baseline['model']} on validation ({key} "
                f"{ours:.4f} vs {theirs:.4f}; test {report.get(key, 0):.4f} vs "
                f"{baseline.get(key, 0):.4f}).")

    def run_notes(self, work: Path) -> dict[str, Any]:
        """What ``evaluation.json`` records of the run's history: the batches skipped for a
        non-finite loss or gradient (``train.on_nonfinite=skip_batch``) and the config changes
        made on resumes."""
        import json

        notes: dict[str, Any] = {}
        if self.config.train.on_nonfinite == "skip_batch":
            rows = self._read_rows(work / "metrics.csv", self.config.train.epochs)
            notes["skipped_batches"] = sum(int(row.get("skipped_batches") or 0) for row in rows)
        if (work / "config_changes.json").is_file():
            notes["config_changes"] = json.loads((work / "config_changes.json").read_text())
        return notes

    def finish(self, model, data, train_seconds: float,
               early_stopping: dict[str, Any] | None = None,
               baseline: dict[str, Any] | None = None) -> dict[str, Any]:
        """Save, evaluate on test, plot, write the card, export; then rename the run directory."""
        from kerazoo.recipes import evaluation, export, model_card

        work = self.work
        marks = [("start", time.monotonic())]
        if baseline is not None and hasattr(self.task, "choose_exported_model"):
            model = self.task.choose_exported_model(model, data, baseline)  # prefer_baseline
        model.save(work / "model.keras")
        atomic_write_json(work / "labels.json", data.class_names)
        report = self.task.evaluate(model, data, "test", run_dir=work)
        marks.append(("save+evaluate", time.monotonic()))
        report["train_seconds"] = round(train_seconds, 2)
        report.update(self.run_notes(work))
        if early_stopping is not None:
            report["early_stopping"] = early_stopping
        sections = dict(self.task.card_sections(data))
        verdict = ""
        if baseline is not None:
            verdict = self.compare_with_baseline(model, data, report, baseline)
            baseline["verdict_line"] = verdict
            report["baseline"] = baseline
            sections["details"] = (f"**Baseline**: {verdict}\n\n" + sections.get("details", ""))
        atomic_write_json(work / "evaluation.json", report)
        evaluation.write_training_curves(work / "metrics.csv", work / "training_curves.svg")
        model_card.write(work, self.config, data, report, self.task.input_description(data),
                         sections)
        marks.append(("plots+card", time.monotonic()))
        if self.export:
            export.export_once(self.task, model, data.class_names, work)
        marks.append(("export", time.monotonic()))
        remove_stale_temps(work)  # what a kill during an earlier finish's writes left
        log.debug("finish: %s", ", ".join(
            f"{name} {end - begin:.1f} s" for (_, begin), (name, end) in zip(marks, marks[1:])))
        work.rename(self.run_dir)
        skipped = report.get("skipped_batches")
        self._say(f"Test {headline_line(self.task, report)} — run directory {self.run_dir}"
                  + (f" ({skipped} non-finite batch(es) skipped)" if skipped else ""))
        if verdict:
            self._say(verdict)
        return report
