"""Forecast intervals that mean what they say: split-conformal calibration of quantiles (CQR).

A quantile model's ``[q_low, q_high]`` interval is often too narrow or too wide (pinball loss
alone does not make a 10%/90% pair cover 80% of outcomes on new data). Conformalized quantile
regression (Romano, Patterson & Candès, "Conformalized Quantile Regression", NeurIPS 2019)
corrects it on windows the model did not train on (a *calibration* window, e.g. the validation
part): the score of an outcome is how far it falls outside the interval,
``s = max(q_low - y, y - q_high)`` (negative inside), and the correction ``Q`` is the
``ceil((n + 1) * coverage) / n`` empirical quantile of the ``n`` calibration scores; the corrected
interval is ``[q_low - Q, q_high + Q]`` (``Q < 0`` narrows a too-wide interval). Under
exchangeability of calibration and test windows it covers at least ``coverage`` of outcomes
(Vovk et al. 2005). Time series windows are not exchangeable and overlap, so the guarantee is
approximate; it holds in practice when the calibration window is recent and the series stable.

Offsets are computed separately for every horizon step and target (errors grow with the
horizon) and for every symmetric pair of levels (``0.1``/``0.9`` for 80%, ``0.25``/``0.75`` for
50%); the middle level (the point forecast) is not moved. They are plain additive constants
``[horizon, targets, levels]``, so an exported model applies them with one add (and a sort over
levels, so that a narrowed pair never crosses the median). A point-forecast model gets an
interval from absolute residuals the same way (:func:`residual_offsets`, split conformal).

Example:

>>> import numpy as np
>>> from kerazoo.recipes.series_intervals import (apply_offsets, calibrate_quantiles,
...                                               interval_coverage)
>>> rng = np.random.default_rng(0)
>>> truth = rng.normal(size=(500, 1, 1))
>>> too_narrow = np.stack([-0.5 * np.ones_like(truth), 0 * truth, 0.5 * np.ones_like(truth)], -1)
>>> offsets = calibrate_quantiles(truth, too_narrow, (0.1, 0.5, 0.9))
>>> [round(float(v), 2) for v in offsets[0, 0]]
[-0.78, 0.0, 0.78]
>>> round(interval_coverage(truth, apply_offsets(too_narrow, offsets))["coverage"], 2)
0.8
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kerazoo.errors import DataError


def conformal_quantile(scores: np.ndarray, coverage: float, axis: int = 0) -> np.ndarray:
    """The finite-sample conformal quantile of ``scores`` along ``axis``: the
    ``ceil((n + 1) * coverage)``-th smallest score (the largest when that exceeds ``n``)."""
    n = scores.shape[axis]
    if n == 0:
        raise DataError("conformal calibration needs at least one calibration window; the "
                        "calibration (validation) part is empty.")
    rank = min(int(np.ceil((n + 1) * coverage)), n)
    return np.take(np.sort(scores, axis=axis), rank - 1, axis=axis)


def cqr_offsets(truth: np.ndarray, lower: np.ndarray, upper: np.ndarray, coverage: float
                ) -> np.ndarray:
    """The CQR correction ``Q`` ``[horizon, targets]`` of one interval.

    Args:
        truth: calibration outcomes ``[N, horizon, targets]``.
        lower: the interval's lower quantile on the same windows, same shape.
        upper: its upper quantile.
        coverage: the nominal coverage of ``[lower, upper]`` (e.g. 0.8 for 0.1/0.9).

    Returns:
        ``Q``: subtract from ``lower`` and add to ``upper``.
    """
    scores = np.maximum(lower - truth, truth - upper)
    return conformal_quantile(scores, coverage, axis=0)


def calibrate_quantiles(truth: np.ndarray, outputs: np.ndarray, levels: Sequence[float]
                        ) -> np.ndarray:
    """Additive offsets ``[horizon, targets, levels]`` that calibrate every symmetric pair of
    quantile levels on calibration windows.

    Args:
        truth: calibration outcomes ``[N, horizon, targets]``.
        outputs: the model's quantiles on those windows ``[N, horizon, targets, levels]``.
        levels: the sorted quantile levels; level ``i`` pairs with level ``-1 - i`` (their
            nominal coverage is ``levels[-1 - i] - levels[i]``); an unpaired middle level gets 0.

    Returns:
        offsets to add to ``outputs`` (negative for the lower level of a pair, positive for the
        upper when the interval was too narrow).
    """
    levels = list(levels)
    if outputs.shape[-1] != len(levels) or outputs.shape[:-1] != truth.shape:
        raise ValueError(f"outputs {outputs.shape} must be truth {truth.shape} + "
                         f"[{len(levels)} levels]")
    offsets = np.zeros(outputs.shape[1:], np.float64)
    for low in range(len(levels) // 2):
        high = len(levels) - 1 - low
        correction = cqr_offsets(truth, outputs[..., low], outputs[..., high],
                                 levels[high] - levels[low])
        offsets[..., low], offsets[..., high] = -correction, correction
    return offsets


def residual_offsets(truth: np.ndarray, point: np.ndarray, coverage: float) -> np.ndarray:
    """Split-conformal half-width ``[horizon, targets]`` for a point forecast:
    ``point ± width`` covers ``coverage`` of calibration outcomes (finite-sample rank)."""
    return conformal_quantile(np.abs(truth - point), coverage, axis=0)


def apply_offsets(outputs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``outputs + offsets``, sorted over levels (a narrowed pair never crosses the median)."""
    return np.sort(outputs + offsets, axis=-1)


def interval_coverage(truth: np.ndarray, outputs: np.ndarray, low: int = 0, high: int = -1
                      ) -> dict[str, float | list[float]]:
    """Empirical coverage and mean width of the ``[levels[low], levels[high]]`` interval.

    Returns ``coverage`` (fraction of outcomes inside), ``width`` (mean ``high - low`` in the
    target's units) and ``coverage_by_step`` (per horizon step).
    """
    lower, upper = outputs[..., low], outputs[..., high]
    inside = (truth >= lower) & (truth <= upper)
    return {"coverage": float(np.mean(inside)), "width": float(np.mean(upper - lower)),
            "coverage_by_step": [float(v) for v in inside.mean(axis=(0, 2))]}
