"""A run whose loss or gradients stop being finite: the one-line stop, and the config changes
a re-run may make to resume it (a lower learning rate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kerazoo.errors import TrainingDivergedError

#: Config keys a resumed run may change (lowering the learning rate after a divergence).
RESUMABLE_CHANGES = ("train.learning_rate", "train.on_nonfinite")


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and key != "options":
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_changes(saved: dict[str, Any], current: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{dotted key: {"from": saved value, "to": current value}}`` for every key that differs."""
    old, new = _flatten(saved), _flatten(current)
    missing = object()
    return {key: {"from": old.get(key), "to": new.get(key)} for key in sorted(old.keys() | new.keys())
            if old.get(key, missing) != new.get(key, missing)}


def rerun_hint(work: Path) -> str:
    return (f"Nothing was evaluated or exported ({work} keeps the last finite checkpoint, if one "
            "was written). Lower "
            "train.learning_rate (or check the data for extreme values) and re-run the same "
            "command with it changed, e.g. --set train.learning_rate=1e-4: it resumes from that "
            "checkpoint (or set train.on_nonfinite=skip_batch to skip such batches).")


def check_finite_losses(losses, *, first_step: int, epoch: int, last_finite: float | None,
                        work: Path, flags=None) -> None:
    """Stop a run whose loss (or, with ``flags``, a gradient) became NaN or infinite, naming the
    step and the last finite loss.

    One host read-back of the epoch's step losses and flags (not one per step). Nothing after a
    non-finite step is trusted: the epoch's checkpoint is not written, so the run directory keeps
    the last finite checkpoint, and nothing is evaluated, exported or published.

    Args:
        losses: the steps' summed losses (scalar tensors), in order.
        first_step: the global step number (1-based) of ``losses[0]``.
        epoch: the epoch (0-based) they belong to.
        last_finite: the loss before ``losses[0]``, if known.
        work: the partial run directory (named in the message).
        flags: per step, 1 when the step's loss or a gradient was not finite. Defaults to
            ``None`` (the losses alone decide).
    """
    import numpy as np
    import tensorflow as tf

    if not losses:
        return
    values = tf.stack(losses).numpy()
    bad_steps = ~np.isfinite(values)
    if flags:
        bad_steps |= tf.stack(flags).numpy() > 0
    bad = np.flatnonzero(bad_steps)
    if not len(bad):
        return
    index = int(bad[0])
    if index:
        last_finite = float(values[index - 1])
    before = "none" if last_finite is None else f"{last_finite:.4g}"
    what = (f"the loss became {values[index]}" if not np.isfinite(values[index])
            else "a gradient became NaN or infinite")
    raise TrainingDivergedError(
        f"training diverged: {what} at step {first_step + index} (epoch {epoch + 1}); the last "
        f"finite loss was {before}. " + rerun_hint(work)
    )
