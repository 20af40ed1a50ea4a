"""Forecasters built from dense layers: N-BEATS (generic and interpretable), DLinear, NLinear.

All take float windows ``[lookback, features]`` and return ``[horizon, num_targets]``. N-BEATS
flattens the window (``nbeats_interpretable`` is univariate); DLinear and NLinear are
channel-independent and forecast every input feature (``num_targets`` = features).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from kerazoo.errors import ConfigError
from kerazoo.registry import register
from kerazoo.zoo.heads import assemble_forecaster, check_positive, variant_of
from kerazoo.zoo.lstm import WINDOW

NBEATS = (
    "Oreshkin et al., N-BEATS: Neural basis expansion analysis for interpretable time series "
    "forecasting, ICLR 2020"
)
LTSF = "Zeng et al., Are Transformers Effective for Time Series Forecasting?, AAAI 2023"


def _basis(kind: str, size: int, length: int, steps: int) -> np.ndarray:
    """Rows of a fixed basis over ``steps`` points: polynomial (trend) or Fourier (seasonality)."""
    t = np.arange(steps, dtype="float64") / steps
    if kind == "trend":
        return np.stack([t**power for power in range(size)])
    harmonics = np.arange(1, size // 2 + 1)
    rows = [np.ones_like(t)] + [
        f(2 * np.pi * k * t * length / steps) for k in harmonics for f in (np.cos, np.sin)
    ]
    return np.stack(rows[:size])


def _fixed_projection(basis: np.ndarray, name: str):
    return keras.layers.Dense(
        basis.shape[1], use_bias=False, trainable=False, name=name,
        kernel_initializer=keras.initializers.Constant(basis.astype("float32").tolist()),
    )


def neural_basis_expansion(
    *,
    input_shape: Sequence[int] = (96, 1),
    horizon: int = 24,
    num_targets: int = 1,
    dropout: float | None = None,
    stack_types: Sequence[str] = ("generic", "generic"),
    blocks_per_stack: int = 3,
    units: int = 256,
    layers_per_block: int = 4,
    trend_degree: int = 3,
    harmonics: int = 8,
    revin: bool = False,
    name: str = "nbeats",
) -> keras.Model:
    """Doubly residual stacks of blocks: each block reads what earlier blocks left unexplained
    (the backcast residual) with ``layers_per_block`` ReLU layers and adds its partial forecast.

    ``"generic"`` blocks project with learned linear maps; ``"trend"`` and ``"seasonality"``
    blocks predict coefficients of a fixed polynomial or Fourier basis (interpretable).
    """
    check_positive(horizon=horizon, num_targets=num_targets, units=units)
    lookback, features = int(np.prod(input_shape[:-1])), input_shape[-1]
    interpretable = any(kind != "generic" for kind in stack_types)
    if interpretable and (features != 1 or num_targets != 1):
        raise ConfigError(
            "Trend/seasonality N-BEATS stacks are univariate: use input_shape=(lookback, 1) and "
            f"num_targets=1. Received: input_shape={tuple(input_shape)}, num_targets={num_targets}"
        )
    back_size, fore_size = lookback * features, horizon * num_targets
    inputs = keras.Input(tuple(input_shape), name="inputs")
    residual = keras.layers.Flatten(name="flatten")(inputs)
    forecast = None
    total = len(stack_types) * blocks_per_stack
    index = 0
    for stack, kind in enumerate(stack_types):
        if kind not in ("generic", "trend", "seasonality"):
            raise ConfigError(f"Unknown N-BEATS stack type {kind!r}; expected generic, trend or "
                              "seasonality.")
        for block in range(blocks_per_stack):
            prefix = f"stack{stack}_block{block}"
            h = residual
            for layer in range(layers_per_block):
                h = keras.layers.Dense(units, activation="relu", name=f"{prefix}_fc{layer}")(h)
            if dropout:
                h = keras.layers.Dropout(dropout, name=f"{prefix}_dropout")(h)
            last = index == total - 1
            if kind == "generic":
                part = keras.layers.Dense(fore_size, name=f"{prefix}_forecast")(h)
                back = None if last else keras.layers.Dense(back_size, name=f"{prefix}_backcast")(h)
            else:
                size = trend_degree + 1 if kind == "trend" else 2 * harmonics + 1
                theta_f = keras.layers.Dense(size, use_bias=False, name=f"{prefix}_theta_f")(h)
                part = _fixed_projection(
                    _basis(kind, size, 1, horizon), f"{prefix}_forecast_basis"
                )(theta_f)
                back = None
                if not last:
                    theta_b = keras.layers.Dense(size, use_bias=False, name=f"{prefix}_theta_b")(h)
                    back = _fixed_projection(
                        _basis(kind, size, lookback / horizon, lookback), f"{prefix}_backcast_basis"
                    )(theta_b)
            forecast = part if forecast is None else keras.layers.Add(
                name=f"{prefix}_forecast_sum")([forecast, part])
            if back is not None:
                residual = keras.layers.Subtract(name=f"{prefix}_residual")([residual, back])
            index += 1
    backbone = keras.Model(inputs, forecast, name="backbone")
    head = keras.layers.Reshape((horizon, num_targets), name="head")
    return assemble_forecaster(backbone, head, revin=revin, name=name)


_META = {
    "task": "forecasting", "input_shape": (96, 1), "horizon": 24, "num_targets": 1,
    "outputs": "[horizon, num_targets]", "preprocessing": WINDOW,
}


@register("models", family="nbeats", paper=NBEATS, params=1_493_616, **_META)
@variant_of(neural_basis_expansion)
def nbeats_generic(**kwargs) -> keras.Model:
    """N-BEATS-G: 2 generic stacks x 3 blocks of 4 ReLU layers (256 units); smaller than the
    paper's 30 x 1 x 512 so it trains on a CPU (override ``stack_types``, ``units``)."""
    kwargs.setdefault("name", "nbeats_generic")
    return neural_basis_expansion(**kwargs)


@register("models", family="nbeats", paper=NBEATS, params=1_367_080, **_META)
@variant_of(neural_basis_expansion)
def nbeats_interpretable(**kwargs) -> keras.Model:
    """N-BEATS-I: a trend stack (cubic polynomial basis) then a seasonality stack (Fourier basis,
    8 harmonics), 3 blocks each of 4 ReLU layers (256 units); univariate."""
    kwargs.setdefault("name", "nbeats_interpretable")
    kwargs.setdefault("stack_types", ("trend", "seasonality"))
    return neural_basis_expansion(**kwargs)


def linear_forecaster(
    *,
    input_shape: Sequence[int] = (96, 1),
    horizon: int = 24,
    num_targets: int | None = None,
    dropout: float | None = None,
    decomposition: str = "trend",
    kernel_size: int = 25,
    revin: bool = False,
    name: str = "dlinear",
) -> keras.Model:
    """One linear map over the time axis per component, shared by every feature.

    ``decomposition="trend"`` (DLinear) splits the window into a moving-average trend and the
    seasonal rest with kerazoo's ``SeriesDecomposition`` and sums two linear forecasts;
    ``"last"`` (NLinear) subtracts the window's last value and adds it back to the forecast.
    """
    check_positive(horizon=horizon, kernel_size=kernel_size)
    lookback, features = input_shape
    if num_targets not in (None, features):
        raise ConfigError(
            f"{name} forecasts every input feature: num_targets must be {features} (or None). "
            f"Received: num_targets={num_targets}"
        )
    inputs = keras.Input(tuple(input_shape), name="inputs")

    def over_time(x, label):
        x = keras.layers.Permute((2, 1), name=f"{label}_to_channels")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{label}_dropout")(x)
        x = keras.layers.Dense(horizon, name=f"{label}_linear")(x)
        return keras.layers.Permute((2, 1), name=f"{label}_to_time")(x)

    if decomposition == "trend":
        from kerazoo.layers.series_decomposition import SeriesDecomposition

        seasonal, trend = SeriesDecomposition(kernel_size, name="decomposition")(inputs)
        outputs = keras.layers.Add(name="sum")(
            [over_time(seasonal, "seasonal"), over_time(trend, "trend")]
        )
    elif decomposition == "last":
        last = keras.layers.Cropping1D((lookback - 1, 0), name="last_value")(inputs)
        centered = keras.layers.Subtract(name="subtract_last")([inputs, last])
        outputs = keras.layers.Add(name="add_last")([over_time(centered, "series"), last])
    else:
        raise ConfigError(
            f"decomposition must be 'trend' or 'last'. Received: decomposition={decomposition!r}"
        )
    backbone = keras.Model(inputs, outputs, name="backbone")
    head = keras.layers.Identity(name="head")
    return assemble_forecaster(backbone, head, revin=revin, name=name)


@register("models", family="ltsf_linear", paper=LTSF, params=4_656, **_META)
@variant_of(linear_forecaster)
def dlinear(**kwargs) -> keras.Model:
    """DLinear: moving-average decomposition (kernel 25) and one linear map per component."""
    kwargs.setdefault("name", "dlinear")
    return linear_forecaster(decomposition="trend", **kwargs)


@register("models", family="ltsf_linear", paper=LTSF, params=2_328, **_META)
@variant_of(linear_forecaster)
def nlinear(**kwargs) -> keras.Model:
    """NLinear: subtract the last value, one linear map over time, add the last value back."""
    kwargs.setdefault("name", "nlinear")
    return linear_forecaster(decomposition="last", **kwargs)
