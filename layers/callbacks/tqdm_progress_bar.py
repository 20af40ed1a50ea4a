"""TQDMProgressBar: tqdm progress bars for model.fit (needs the ``progress`` extra)."""

from __future__ import annotations

import time

import keras

from kerazoo.errors import KerazooError
from kerazoo.registry import register


def _require_tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError as error:
        raise KerazooError(
            "TQDMProgressBar needs tqdm: pip install 'kerazoo[progress]' (or pip install tqdm)."
        ) from error
    return tqdm


@register("callbacks", tfa="tfa.callbacks.TQDMProgressBar")
class TQDMProgressBar(keras.callbacks.Callback):
    """One tqdm bar over epochs and one over the steps of each epoch, with live metrics.

    Arguments follow ``tfa.callbacks.TQDMProgressBar``. Pass ``verbose=0`` to ``fit`` so Keras's
    own bar stays silent. tqdm is an optional dependency: ``pip install 'kerazoo[progress]'``.

    Args:
        metrics_separator: between metrics. Defaults to ``" - "``.
        overall_bar_format: tqdm format of the epoch bar. Defaults to tqdm's own.
        epoch_bar_format: tqdm format of the step bar. Defaults to tqdm's own.
        metrics_format: format of one metric. Defaults to ``"{name}: {value:0.4f}"``.
        update_per_second: maximum refreshes per second. Defaults to ``10``.
        leave_epoch_progress: keep each finished step bar. Defaults to ``True``.
        leave_overall_progress: keep the finished epoch bar. Defaults to ``True``.
        show_epoch_progress: show the step bar. Defaults to ``True``.
        show_overall_progress: show the epoch bar. Defaults to ``True``.
        file: stream the bars write to. Defaults to ``None`` (tqdm's default, stderr).

    Example:

    >>> import io, keras, numpy as np
    >>> from kerazoo.callbacks import TQDMProgressBar
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> bar = TQDMProgressBar(file=io.StringIO())
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[bar])
    >>> "loss" in bar.file.getvalue()
    True
    """

    def __init__(self, metrics_separator: str = " - ", overall_bar_format: str | None = None,
                 epoch_bar_format: str | None = None,
                 metrics_format: str = "{name}: {value:0.4f}", update_per_second: int = 10,
                 leave_epoch_progress: bool = True, leave_overall_progress: bool = True,
                 show_epoch_progress: bool = True, show_overall_progress: bool = True,
                 file=None):
        super().__init__()
        self._tqdm = _require_tqdm()
        self.metrics_separator = metrics_separator
        self.overall_bar_format = overall_bar_format
        self.epoch_bar_format = epoch_bar_format
        self.metrics_format = metrics_format
        self.update_per_second = update_per_second
        self.leave_epoch_progress = leave_epoch_progress
        self.leave_overall_progress = leave_overall_progress
        self.show_epoch_progress = show_epoch_progress
        self.show_overall_progress = show_overall_progress
        self.file = file
        self._overall = self._epoch_bar = None
        self._last_update = 0.0
        self._pending = 0

    def _bar(self, total, desc, bar_format, leave):
        return self._tqdm(total=total, desc=desc, bar_format=bar_format, leave=leave,
                          dynamic_ncols=True, unit="steps", file=self.file)

    def format_metrics(self, logs: dict | None) -> str:
        return self.metrics_separator.join(
            self.metrics_format.format(name=name, value=float(value))
            for name, value in (logs or {}).items()
            if isinstance(value, (int, float)) or getattr(value, "shape", None) == ()
        )

    def on_train_begin(self, logs=None):
        if self.show_overall_progress:
            self._overall = self._bar(self.params.get("epochs"), "Training",
                                      self.overall_bar_format, self.leave_overall_progress)

    def on_epoch_begin(self, epoch, logs=None):
        if self.show_epoch_progress:
            epochs = self.params.get("epochs")
            self._epoch_bar = self._bar(self.params.get("steps"), f"Epoch {epoch + 1}/{epochs}",
                                        self.epoch_bar_format, self.leave_epoch_progress)
        self._pending = 0

    def on_train_batch_end(self, batch, logs=None):
        self._pending += 1
        now = time.monotonic()
        if self._epoch_bar is not None and now - self._last_update >= 1.0 / self.update_per_second:
            self._epoch_bar.update(self._pending)
            self._epoch_bar.set_postfix_str(self.format_metrics(logs), refresh=False)
            self._pending, self._last_update = 0, now

    def on_epoch_end(self, epoch, logs=None):
        metrics = self.format_metrics(logs)
        if self._epoch_bar is not None:
            self._epoch_bar.update(self._pending)
            self._epoch_bar.set_postfix_str(metrics)
            self._epoch_bar.close()
            self._epoch_bar = None
        if self._overall is not None:
            self._overall.set_postfix_str(metrics, refresh=False)
            self._overall.update(1)

    def on_train_end(self, logs=None):
        if self._overall is not None:
            self._overall.close()
            self._overall = None

    def get_config(self) -> dict:
        return {
            "metrics_separator": self.metrics_separator,
            "overall_bar_format": self.overall_bar_format,
            "epoch_bar_format": self.epoch_bar_format, "metrics_format": self.metrics_format,
            "update_per_second": self.update_per_second,
            "leave_epoch_progress": self.leave_epoch_progress,
            "leave_overall_progress": self.leave_overall_progress,
            "show_epoch_progress": self.show_epoch_progress,
            "show_overall_progress": self.show_overall_progress,
        }
