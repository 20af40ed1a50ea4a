"""Early stopping on validation loss with the best epoch's weights kept (in the checkpoint)."""

from __future__ import annotations

from typing import Any

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
RESTORE_RULES = ("best", "on_stop")


class EarlyStopping:
    """Stop when validation loss has not improved for ``patience`` epochs; keep the best weights.

    The state (best loss and epoch, epochs without improvement, the epoch it stopped at) and a
    copy of the best epoch's floating-point variables (weights and BatchNorm statistics) are
    ``tf.Variable``s in the run's checkpoint, so a crash loses neither. Create it under the
    strategy's scope.

    Args:
        model: the model being trained.
        patience: epochs without a lower validation loss before stopping.
        start_epoch: epochs ``1..start_epoch`` are neither candidates for the best epoch nor
            counted towards ``patience``. Early in a decaying schedule the weights are far from
            converged, and on a small validation split one lucky epoch's loss can be the
            lowest of the run: restoring it throws the later epochs away. Defaults to 0.
        restore: ``"best"``: the best epoch's weights are restored at the end, whether or not
            the patience ran out. ``"on_stop"`` (Keras's ``restore_best_weights`` rule): only
            when it ran out; a run that reaches its last epoch keeps the last weights (under a
            schedule that decays to zero they are the converged ones, and a best epoch picked
            by a few thousandths of validation loss is noise). Defaults to ``"best"``.
    """

    def __init__(self, model, patience: int, start_epoch: int = 0, restore: str = "best"):
        import tensorflow as tf

        if restore not in RESTORE_RULES:
            raise ValueError(f"restore must be one of {RESTORE_RULES}. Received: {restore!r}")
        self.patience = int(patience)
        self.start_epoch = int(start_epoch)
        self.restore_rule = restore
        self.variables = [v for v in model.variables if v.dtype in FLOAT_DTYPES]
        self.best = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False)
                     for v in self.variables]
        self.best_loss = tf.Variable(float("inf"), dtype=tf.float64, trainable=False)
        self.best_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.waited = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.stopped_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)

    def trackable(self):
        import tensorflow as tf

        return tf.train.Checkpoint(best=self.best, best_loss=self.best_loss,
                                   best_epoch=self.best_epoch, waited=self.waited,
                                   stopped_epoch=self.stopped_epoch)

    @property
    def stopped(self) -> bool:
        return int(self.stopped_epoch.numpy()) > 0

    def update(self, epoch: int, val_loss: float) -> bool:
        """Record epoch ``epoch`` (0-based); ``True`` when training should stop now."""
        if epoch < self.start_epoch:
            return False
        if val_loss < float(self.best_loss.numpy()):
            self.best_loss.assign(val_loss)
            self.best_epoch.assign(epoch + 1)
            self.waited.assign(0)
            for copy, variable in zip(self.best, self.variables):
                copy.assign(variable.value)
            return False
        self.waited.assign_add(1)
        if int(self.waited.numpy()) >= self.patience:
            self.stopped_epoch.assign(epoch + 1)
            return True
        return False

    @property
    def restores(self) -> bool:
        """Whether :meth:`restore` puts the best epoch back (an epoch was recorded, and with
        ``restore="on_stop"`` the patience ran out)."""
        return int(self.best_epoch.numpy()) > 0 and (
            self.restore_rule == "best" or self.stopped)

    def restore(self) -> None:
        """Put the best epoch's variables back when :attr:`restores`."""
        if not self.restores:
            return
        for variable, copy in zip(self.variables, self.best):
            variable.assign(copy.read_value())

    def stop_line(self) -> str:
        return (f"Early stopping at epoch {int(self.stopped_epoch.numpy())}: validation loss "
                f"has not improved for {self.patience} epochs; restoring epoch "
                f"{int(self.best_epoch.numpy())} (val_loss {float(self.best_loss.numpy()):.4f}).")

    def summary(self) -> dict[str, Any]:
        """What ``evaluation.json`` records."""
        stopped = int(self.stopped_epoch.numpy())
        return {"patience": self.patience, "start_epoch": self.start_epoch,
                "restore": self.restore_rule, "restored": self.restores,
                "best_epoch": int(self.best_epoch.numpy()),
                "best_val_loss": round(float(self.best_loss.numpy()), 6),
                "stopped_epoch": stopped or None}
