"""Recurrent models: a bidirectional text classifier, LSTM/GRU forecasters (direct and
encoder-decoder) and an LSTM keyword spotter with attention pooling.

Inputs: ``bilstm_text_classifier`` takes int token ids ``[T]`` (0 is padding and is masked);
forecasters take float windows ``[lookback, features]`` and return ``[horizon, num_targets]``;
``lstm_kws`` takes log-mel frames ``[time, mel]``. ``cell="layernorm_lstm"`` swaps the Keras LSTM
for kerazoo's ``LayerNormLSTMCell`` (Ba et al. 2016), where that layer is available.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from kerazoo.errors import ConfigError
from kerazoo.registry import register
from kerazoo.zoo.audio import LOG_MEL
from kerazoo.zoo.cnn import TOKENS
from kerazoo.zoo.heads import (
    assemble_classifier,
    assemble_forecaster,
    check_positive,
    forecast_head,
    variant_of,
)

CELLS = ("lstm", "gru", "layernorm_lstm")
WINDOW = {
    "input": "float_window", "layout": "[lookback, features]",
    "note": "scale each feature (e.g. standardize with training-split statistics), or revin=True",
}
HOCHREITER = "Hochreiter & Schmidhuber, Long Short-Term Memory, Neural Computation 1997"


def recurrent_layer(cell: str, units: int, *, return_sequences: bool, name: str, **kwargs):
    """A Keras ``LSTM``/``GRU`` layer, or an ``RNN`` over kerazoo's ``LayerNormLSTMCell``."""
    if cell == "lstm":
        return keras.layers.LSTM(units, return_sequences=return_sequences, name=name, **kwargs)
    if cell == "gru":
        return keras.layers.GRU(units, return_sequences=return_sequences, name=name, **kwargs)
    if cell == "layernorm_lstm":
        try:
            from kerazoo.layers import LayerNormLSTMCell
        except ImportError:
            raise ConfigError(
                "cell='layernorm_lstm' needs kerazoo.layers.LayerNormLSTMCell, which this "
                "installation does not have; use cell='lstm' or 'gru'."
            ) from None
        return keras.layers.RNN(
            LayerNormLSTMCell(units), return_sequences=return_sequences, name=name, **kwargs
        )
    raise ConfigError(f"cell must be one of {CELLS}. Received: cell={cell!r}")


def bidirectional_text_classifier(
    *,
    input_shape: Sequence[int] = (256,),
    num_classes: int = 2,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    vocab_size: int = 20_000,
    sequence_length: int | None = None,
    embedding_dim: int = 128,
    units: Sequence[int] = (64, 64),
    cell: str = "lstm",
    name: str = "bilstm_text_classifier",
) -> keras.Model:
    """Masked embedding and stacked bidirectional recurrent layers; the last returns a vector."""
    check_positive(vocab_size=vocab_size, embedding_dim=embedding_dim)
    length = sequence_length or input_shape[0]
    inputs = keras.Input((length,), dtype="int32", name="inputs")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
    for index, width in enumerate(units):
        last = index == len(units) - 1
        layer = recurrent_layer(cell, width, return_sequences=not last, name=f"rnn{index}")
        x = keras.layers.Bidirectional(layer, name=f"bidirectional{index}")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=0.5 if dropout is None else dropout, name=name,
    )


@register(
    "models", task="text_classification", family="lstm",
    paper="Graves & Schmidhuber, Framewise phoneme classification with bidirectional LSTM, 2005",
    params=2_757_890, input_shape=(256,), input_dtype="int32", num_classes=2, preprocessing=TOKENS,
)
@variant_of(bidirectional_text_classifier)
def bilstm_text_classifier(**kwargs) -> keras.Model:
    """Two stacked bidirectional LSTMs (64 units each way) over a masked 128-d embedding.

    Takes int token ids ``[T]``; overrides ``vocab_size`` (20,000), ``sequence_length`` (256),
    ``embedding_dim``, ``units``, ``cell``.
    """
    kwargs.setdefault("name", "bilstm_text_classifier")
    return bidirectional_text_classifier(**kwargs)


def recurrent_forecaster(
    *,
    input_shape: Sequence[int] = (96, 1),
    horizon: int = 24,
    num_targets: int = 1,
    dropout: float | None = None,
    units: Sequence[int] = (64, 64),
    cell: str = "lstm",
    revin: bool = False,
    name: str = "lstm_forecaster",
) -> keras.Model:
    """Stacked recurrent layers over the window; the last state maps directly to every step of
    the horizon (``horizon=1`` is single-step forecasting)."""
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = inputs
    for index, width in enumerate(units):
        last = index == len(units) - 1
        x = recurrent_layer(cell, width, return_sequences=not last, name=f"rnn{index}")(x)
        if dropout and not last:
            x = keras.layers.Dropout(dropout, name=f"dropout{index}")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    head = forecast_head(x.shape[1:], horizon, num_targets)
    return assemble_forecaster(backbone, head, revin=revin, name=name)


_FORECAST_META = {
    "task": "forecasting", "input_shape": (96, 1), "horizon": 24, "num_targets": 1,
    "outputs": "[horizon, num_targets]", "preprocessing": WINDOW,
}


@register("models", family="lstm", paper=HOCHREITER, params=51_480, **_FORECAST_META)
@variant_of(recurrent_forecaster)
def lstm_forecaster(**kwargs) -> keras.Model:
    """Two stacked LSTMs (64 units) and a direct multi-horizon projection (24 steps ahead).

    Overrides: ``horizon``, ``num_targets``, ``units``, ``cell`` (``"gru"``,
    ``"layernorm_lstm"``), ``revin``.
    """
    kwargs.setdefault("name", "lstm_forecaster")
    return recurrent_forecaster(**kwargs)


@register(
    "models", family="lstm", params=39_384,
    paper="Cho et al., Learning Phrase Representations using RNN Encoder-Decoder, EMNLP 2014",
    **_FORECAST_META,
)
@variant_of(recurrent_forecaster)
def gru_forecaster(**kwargs) -> keras.Model:
    """Two stacked GRUs (64 units) and a direct multi-horizon projection (24 steps ahead)."""
    kwargs.setdefault("name", "gru_forecaster")
    kwargs.setdefault("cell", "gru")
    return recurrent_forecaster(**kwargs)


def seq2seq_forecaster(
    *,
    input_shape: Sequence[int] = (96, 1),
    horizon: int = 24,
    num_targets: int = 1,
    dropout: float | None = None,
    units: int = 64,
    cell: str = "lstm",
    revin: bool = False,
    name: str = "lstm_seq2seq_forecaster",
) -> keras.Model:
    """An encoder reads the window; a decoder, started from the encoder's state and fed the
    encoding at every step, unrolls ``horizon`` steps; a shared ``Dense`` reads each step."""
    check_positive(units=units, horizon=horizon)
    if cell == "layernorm_lstm":
        raise ConfigError("lstm_seq2seq_forecaster supports cell='lstm' or 'gru'.")
    inputs = keras.Input(tuple(input_shape), name="inputs")
    encoder = recurrent_layer(cell, units, return_sequences=False, name="encoder",
                              return_state=True)
    encoded, *states = encoder(inputs)
    x = keras.layers.RepeatVector(horizon, name="repeat")(encoded)
    decoder = recurrent_layer(cell, units, return_sequences=True, name="decoder")
    x = decoder(x, initial_state=states)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    head_inputs = keras.Input((horizon, units), name="features")
    head_outputs = keras.layers.Dense(num_targets, name="projection")(head_inputs)
    head = keras.Model(head_inputs, head_outputs, name="head")
    return assemble_forecaster(backbone, head, revin=revin, name=name)


@register(
    "models", family="lstm", params=49_985,
    paper="Sutskever et al., Sequence to Sequence Learning with Neural Networks, NeurIPS 2014",
    **_FORECAST_META,
)
@variant_of(seq2seq_forecaster)
def lstm_seq2seq_forecaster(**kwargs) -> keras.Model:
    """LSTM encoder-decoder (64 units) forecasting 24 steps; overrides ``horizon``,
    ``num_targets``, ``units``, ``cell`` (``"gru"``), ``revin``."""
    kwargs.setdefault("name", "lstm_seq2seq_forecaster")
    return seq2seq_forecaster(**kwargs)


def recurrent_keyword_spotter(
    *,
    input_shape: Sequence[int] = (98, 40),
    num_classes: int = 12,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    units: Sequence[int] = (128, 128),
    attention_units: int | None = 64,
    cell: str = "lstm",
    name: str = "lstm_kws",
) -> keras.Model:
    """Stacked recurrent layers over log-mel frames and attention pooling over time."""
    from kerazoo.layers.attention_pooling_1d import AttentionPooling1D

    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = inputs
    for index, width in enumerate(units):
        x = recurrent_layer(cell, width, return_sequences=True, name=f"rnn{index}")(x)
    x = AttentionPooling1D(attention_units, name="attention_pool")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


@register(
    "models", task="audio_classification", family="lstm", params=227_980,
    paper="de Andrade et al., A neural attention model for speech command recognition, 2018",
    input_shape=(98, 40), num_classes=12, preprocessing={**LOG_MEL, "layout": "[time, mel]"},
)
@variant_of(recurrent_keyword_spotter)
def lstm_kws(**kwargs) -> keras.Model:
    """Keyword spotter: two LSTMs (128 units) over log-mel frames ``[time, mel]``, additive
    attention pooling (kerazoo's ``AttentionPooling1D``) and a linear classifier."""
    kwargs.setdefault("name", "lstm_kws")
    return recurrent_keyword_spotter(**kwargs)
