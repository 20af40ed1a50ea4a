"""The distributed training loop every recipe shares.

A custom loop rather than ``model.fit``: Keras 3's ``fit`` fails under
``MultiWorkerMirroredStrategy`` (keras-team/keras#20585). Each step runs ``strategy.run`` on a
per-replica batch from ``distribute_datasets_from_function``; the replica computes its loss with
``tf.nn.compute_average_loss`` over the *global* batch, gradients (optionally XLA-compiled), and
the Keras 3 optimizer all-reduces and applies them. Checkpoints (model, optimizer, step — and the
dropout seed state, since ``model.variables`` holds it) are written every
``train.checkpoint_every`` steps; a re-run of the same command restores the latest and skips the
batches already seen, so with op determinism it ends on the same weights as an uninterrupted run.
"""

from __future__ import annotations

import csv
import io
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kerazoo.errors import ConfigError, DataError, KerazooError
from kerazoo.recipes import config as config_lib
from kerazoo.recipes.run_dir import atomic_write_json, atomic_write_text, partial_path

log = logging.getLogger(__name__)
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


def metric_fields(metric: str) -> tuple[str, ...]:
    """Columns of ``metrics.csv`` for a task whose per-step metric is ``metric``."""
    return ("epoch", "step", "loss", metric, "val_loss", f"val_{metric}", "learning_rate",
            "seconds")


def resolve_named(kind: str, name: str):
    """A Keras or kerazoo object by name: ``kind`` is ``optimizers``, ``losses`` or ``schedules``."""
    import keras

    from kerazoo.registry import registry

    getter = {"optimizers": keras.optimizers.get, "losses": keras.losses.get}.get(kind)
    if getter is not None:
        try:
            found = getter(name)
            return type(found) if kind == "optimizers" else found
        except (ValueError, TypeError):
            pass
    try:
        return registry(kind).get(name).obj
    except KerazooError as error:
        raise ConfigError(f"Config key 'train.{kind[:-1]}': {error}") from None


def build_optimizer(train: config_lib.TrainConfig, *, total_steps: int, unfreeze_step: int | None,
                    lr_scale: float = 1.0):
    import inspect

    import keras

    peak = train.learning_rate * lr_scale
    if train.schedule == "constant":
        schedule: Any = peak
    elif train.schedule == "cosine":
        warmup = min(train.warmup_steps, max(total_steps - 1, 0))
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else peak, decay_steps=max(total_steps - warmup, 1),
            warmup_target=peak if warmup else None, warmup_steps=warmup,
        )
    else:
        schedule_class = resolve_named("schedules", train.schedule)
        schedule = schedule_class(peak, max(total_steps, 1))
    if unfreeze_step is not None:
        schedule = _PhaseSchedule(schedule, unfreeze_step, train.unfreeze_learning_rate_factor)
    optimizer_class = resolve_named("optimizers", train.optimizer)
    kwargs: dict[str, Any] = {"learning_rate": schedule}
    if train.weight_decay and "weight_decay" in inspect.signature(optimizer_class).parameters:
        kwargs["weight_decay"] = train.weight_decay
    return optimizer_class(**kwargs)


def _phase_schedule_class():
    import keras

    class PhaseSchedule(keras.optimizers.schedules.LearningRateSchedule):
        """``base(step)``, times ``factor`` from ``boundary`` on (the unfrozen phase)."""

        def __init__(self, base, boundary, factor):
            self.base, self.boundary, self.factor = base, boundary, factor

        def __call__(self, step):
            rate = self.base(step) if callable(self.base) else self.base
            rate = keras.ops.convert_to_tensor(rate, "float32")
            return keras.ops.where(step >= self.boundary, rate * self.factor, rate)

        def get_config(self):
            return {"boundary": self.boundary, "factor": self.factor}

    return PhaseSchedule


def _PhaseSchedule(base, boundary, factor):  # noqa: N802  (built lazily: keras import)
    return _phase_schedule_class()(base, boundary, factor)


def set_batchnorm_momentum(model, momentum: float) -> int:
    """Set the moving-statistics momentum of every BatchNormalization layer; returns how many."""
    import keras

    layers = [layer for layer in model._flatten_layers()
              if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in layers:
        layer.momentum = float(momentum)
    return len(layers)


def headline_line(task, report: dict[str, Any]) -> str:
    """``"accuracy: 0.9889 (360 examples; top_5_accuracy 1.0000)"`` for the final print."""
    name = task.headline_metric
    extra = [key for key in report if key.startswith("top_")]
    detail = f"; {extra[0]} {report[extra[0]]:.4f}" if extra else ""
    return f"{name}: {report[name]:.4f} ({report.get('num_examples', '?')} examples{detail})"


def _set_op_determinism(enabled: bool) -> None:
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:
        tf_config.disable_op_determinism()


def _scalar_summary(tag: str, value: float) -> None:
    """A TensorBoard scalar without importing ``tensorboard`` (``tf.summary.scalar`` needs it)."""
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    tf.summary.write(tag, tf.constant(float(value), tf.float32), metadata=metadata)


def _current_lr(optimizer, step: int) -> float:
    """The rate the last of ``step`` steps used (``optimizer.learning_rate`` is the next one's:
    at a two-phase boundary it would report the unfrozen rate for the frozen epoch)."""
    schedule = getattr(getattr(optimizer, "inner_optimizer", optimizer), "_learning_rate", None)
    if callable(schedule):
        return float(schedule(max(step - 1, 0)))
    rate = optimizer.learning_rate
    return float(rate.numpy() if hasattr(rate, "numpy") else rate)


class Trainer:
    """Train ``task`` under ``strategy`` into ``run_dir``.

    Args:
        task: a :class:`~kerazoo.recipes.task.Task` whose config is resolved.
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
        self.strategy = strategy
        self.export = export
        self.verbose = verbose

    def _say(self, text: str) -> None:
        if self.verbose and self.chief:
            print(text, flush=True)

    def run(self) -> dict[str, Any]:
        import tensorflow as tf

        from kerazoo.recipes import strategy as strategy_lib

        config = self.config
        config_lib.validate(config)
        # MultiWorkerMirroredStrategy must configure collectives before TF's context starts
        # (importing Keras starts it).
        strategy = self.strategy or strategy_lib.make_strategy(
            config.runtime.strategy, config.runtime.tpu
        )
        import keras

        if (self.run_dir / "config.yaml").exists():
            raise KerazooError(
                f"{self.run_dir} already holds a finished run; choose another --run-dir."
            )
        runtime = config.runtime
        keras.utils.set_random_seed(runtime.seed)
        jit = strategy_lib.resolve_jit(runtime.jit_compile, strategy)
        _set_op_determinism(runtime.deterministic and not jit)
        if runtime.deterministic and jit:
            # XLA has no deterministic kernels for some gradients (MaxPool), so TF refuses them.
            log.warning("runtime.deterministic is ignored with XLA (runtime.jit_compile).")
        self.chief = strategy_lib.is_chief(strategy)
        data = self.task.prepare_data()  # every data error is raised before anything is written
        replicas = strategy.num_replicas_in_sync
        per_replica = config.train.batch_size
        global_batch = per_replica * replicas
        steps_per_epoch = data.sizes["train"] // global_batch
        if config.train.steps_per_epoch:
            steps_per_epoch = min(steps_per_epoch, config.train.steps_per_epoch)
        if steps_per_epoch < 1:
            raise DataError(
                f"{data.info.get('source', config.data.source)}: {data.sizes['train']} training "
                f"examples are fewer than one global batch ({global_batch}); lower train.batch_size."
            )
        total_steps = steps_per_epoch * config.train.epochs
        unfreeze = config.train.unfreeze_epoch
        unfreeze_step = unfreeze * steps_per_epoch if unfreeze is not None else None
        lr_scale = global_batch / 256 if config.train.scale_learning_rate else 1.0
        precision = strategy_lib.resolve_precision(runtime.precision, strategy)

        work = partial_path(self.run_dir)
        text = config_lib.to_yaml(config)
        if (work / "config.yaml").is_file() and (work / "config.yaml").read_text() != text:
            raise KerazooError(
                f"{work} holds an interrupted run with a different config; delete it or use the "
                "same command to resume."
            )
        if self.chief:
            work.mkdir(parents=True, exist_ok=True)
            atomic_write_text(work / "config.yaml", text)
            ckpt_dir = work / "checkpoints"
        else:
            # Checkpoint saving is collective: other workers write to a private scratch dir.
            ckpt_dir = Path(tempfile.mkdtemp(prefix="kerazoo-worker-ckpt-"))

        previous_policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(precision)
        try:
            with strategy.scope():
                model = self.task.build_model()
                if config.model.batchnorm_momentum is not None:
                    set_batchnorm_momentum(model, config.model.batchnorm_momentum)
                inner = self.task.inner_model(model)
                if unfreeze is not None:
                    from kerazoo import zoo

                    zoo.set_backbone_trainable(inner, True)
                    all_trainable = list(model.trainable_variables)
                    zoo.set_backbone_trainable(inner, False)
                else:
                    all_trainable = list(model.trainable_variables)
                optimizer = build_optimizer(config.train, total_steps=total_steps,
                                            unfreeze_step=unfreeze_step, lr_scale=lr_scale)
                if precision == "mixed_float16":
                    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
                optimizer.build(all_trainable)
                step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        finally:
            keras.config.set_dtype_policy(previous_policy)
        checkpoint = tf.train.Checkpoint(
            weights=list(model.variables), optimizer_state=list(optimizer.variables), step=step
        )
        manager = tf.train.CheckpointManager(checkpoint, str(ckpt_dir), max_to_keep=2)
        latest = tf.train.latest_checkpoint(str(work / "checkpoints"))
        if latest:
            checkpoint.restore(latest).assert_existing_objects_matched()
            self._say(f"Resuming from {latest} (step {int(step.numpy())}).")
        start = int(step.numpy())
        loss_fn = self.task.build_loss()

        def make_step(trainable):
            def replica_grads(features, labels):
                with tf.GradientTape() as tape:
                    outputs = tf.cast(model(features, training=True), tf.float32)
                    per_example = loss_fn(labels, outputs)
                    loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
                    if model.losses:
                        loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
                    scaled = optimizer.scale_loss(loss)
                grads = tape.gradient(scaled, trainable)
                return grads, loss, self.task.train_metric(labels, outputs)

            grad_fn = tf.function(replica_grads, jit_compile=True) if jit else replica_grads

            # Non-trainable statistics (BatchNorm moving mean/variance) are replica-local under
            # tf.distribute; averaging them every step keeps every worker's model identical.
            statistics = [v for v in model.non_trainable_variables if v.dtype in FLOAT_DTYPES]

            def replica_step(features, labels):
                grads, loss, correct = grad_fn(features, labels)
                optimizer.apply_gradients(zip(grads, trainable))
                return loss, correct, tuple(tf.convert_to_tensor(v) for v in statistics)

            @tf.function
            def train_step(iterator):
                loss, correct, local = strategy.run(replica_step, args=next(iterator))
                step.assign_add(1)
                sum_ = tf.distribute.ReduceOp.SUM
                if statistics and strategy.num_replicas_in_sync > 1:
                    for variable, values in zip(statistics, local):
                        variable.assign(strategy.reduce(tf.distribute.ReduceOp.MEAN, values, None))
                return strategy.reduce(sum_, loss, None), strategy.reduce(sum_, correct, None)

            return train_step

        @tf.function
        def eval_batch(features, labels):
            outputs = tf.cast(model(features, training=False), tf.float32)
            return tf.reduce_sum(loss_fn(labels, outputs)), self.task.train_metric(labels, outputs)

        metric = self.task.train_metric_name
        rows = self._read_rows(work / "metrics.csv", start // steps_per_epoch)
        writer = tf.summary.create_file_writer(str(work / "logs")) if self.chief else None
        trainable_now = None
        train_step = None
        self._say(
            f"Training {config.model.name} on {config.data.source}: {data.sizes['train']} "
            f"examples, {replicas} replica(s) x {per_replica} = global batch {global_batch}, "
            f"{steps_per_epoch} steps/epoch, {config.train.epochs} epochs, precision {precision}"
            f", XLA {'on' if jit else 'off'}, strategy {type(strategy).__name__}."
        )
        started = time.monotonic()
        for epoch in range(start // steps_per_epoch, config.train.epochs):
            from kerazoo import zoo

            frozen = (config.model.freeze_backbone and
                      (unfreeze is None or epoch < unfreeze))
            if config.model.freeze_backbone or unfreeze is not None:
                zoo.set_backbone_trainable(inner, not frozen)
            trainable = list(model.trainable_variables)
            if train_step is None or [id(v) for v in trainable] != trainable_now:
                train_step, trainable_now = make_step(trainable), [id(v) for v in trainable]
            done = int(step.numpy()) - epoch * steps_per_epoch

            def dataset_fn(context, epoch=epoch, done=done):
                return self.task.build_inputs(
                    "train", context, per_replica_batch=per_replica, training=True, epoch=epoch,
                    skip_global_steps=done, take_global_steps=steps_per_epoch - done,
                    deterministic=runtime.deterministic,
                )

            iterator = iter(strategy.distribute_datasets_from_function(dataset_fn))
            bar = None
            if self.verbose and self.chief and sys.stderr.isatty():
                bar = keras.utils.Progbar(steps_per_epoch, stateful_metrics=["loss"])
            losses, hits = [], []
            epoch_started = time.monotonic()
            for index in range(done, steps_per_epoch):
                loss, correct = train_step(iterator)
                # Summed once per epoch: reading values back every step costs a host sync per
                # step (benchmarks/recipe_input_pipeline.py), and `step` is known on the host.
                losses.append(loss)
                hits.append(correct)
                current = epoch * steps_per_epoch + index + 1
                if current % config.train.checkpoint_every == 0:
                    manager.save(checkpoint_number=current)
                if bar is not None:
                    bar.update(index + 1, [("loss", float(loss))])
            seen = steps_per_epoch - done
            epoch_loss = float(tf.add_n(losses)) if losses else 0.0
            epoch_correct = float(tf.add_n(hits)) if hits else 0.0
            val_loss, val_accuracy = self._validate(eval_batch, data)
            row = {
                "epoch": epoch + 1, "step": int(step.numpy()),
                "loss": epoch_loss / max(seen, 1),
                metric: epoch_correct / max(seen * global_batch, 1),
                "val_loss": val_loss, f"val_{metric}": val_accuracy,
                "learning_rate": _current_lr(optimizer, int(step.numpy())),
                "seconds": round(time.monotonic() - epoch_started, 3),
            }
            rows.append(row)
            manager.save(checkpoint_number=int(step.numpy()))
            if self.chief:
                self._write_rows(work / "metrics.csv", rows, metric)
                with writer.as_default(step=epoch + 1):
                    for key in ("loss", metric, "val_loss", f"val_{metric}", "learning_rate"):
                        if row[key] != "":
                            _scalar_summary(key, row[key])
                writer.flush()
            self._say(
                f"epoch {epoch + 1}/{config.train.epochs}: loss {row['loss']:.4f} "
                f"{metric} {row[metric]:.4f} "
                f"val_loss {val_loss if val_loss == '' else round(val_loss, 4)} "
                f"val_{metric} {val_accuracy if val_accuracy == '' else round(val_accuracy, 4)} "
                f"({row['seconds']:.1f} s)"
            )
        train_seconds = time.monotonic() - started
        self.model = model
        if not self.chief:
            shutil.rmtree(ckpt_dir, ignore_errors=True)
            return {}
        return self._finish(model, work, data, train_seconds)

    def _validate(self, eval_batch, data):
        if not data.sizes.get("validation"):
            return "", ""
        total_loss = total_correct = 0.0
        for features, labels in self.task.build_inputs(
            "validation", None, per_replica_batch=256, training=False
        ):
            loss, correct = eval_batch(features, labels)
            total_loss += float(loss)
            total_correct += float(correct)
        count = data.sizes["validation"]
        return total_loss / count, total_correct / count

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

    def _finish(self, model, work: Path, data, train_seconds: float) -> dict[str, Any]:
        from kerazoo.recipes import evaluation, export, model_card

        marks = [("start", time.monotonic())]
        model.save(work / "model.keras")
        atomic_write_json(work / "labels.json", data.class_names)
        report = self.task.evaluate(model, "test", run_dir=work)
        marks.append(("save+evaluate", time.monotonic()))
        report["train_seconds"] = round(train_seconds, 2)
        atomic_write_json(work / "evaluation.json", report)
        evaluation.plot_training_curves(work / "metrics.csv", work / "training_curves.png",
                                        self.task.train_metric_name)
        model_card.write(work, self.config, data, report, self.task.input_description(data))
        marks.append(("plots+card", time.monotonic()))
        if self.export:
            export.export_saved_model(self.task, model, data.class_names, work)
        marks.append(("export", time.monotonic()))
        log.info("finish: %s", ", ".join(
            f"{name} {end - begin:.1f} s" for (_, begin), (name, end) in zip(marks, marks[1:])))
        work.rename(self.run_dir)
        self._say(f"Test {headline_line(self.task, report)} — run directory {self.run_dir}")
        return report
