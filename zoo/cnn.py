"""Small convolutional models: ``simple_cnn`` (digits), ``text_cnn`` (Kim 2014) and ``tcn``.

Inputs: ``simple_cnn`` takes float images ``[H, W, C]`` scaled to ``[0, 1]`` (any size from 8x8);
``text_cnn`` takes int token ids ``[T]`` (0 is padding); ``tcn`` classifies float sequences
``[T, F]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from kerazoo.registry import register
from kerazoo.zoo.heads import assemble_classifier, check_positive, variant_of

IMAGE_01 = {"input": "image", "rescale": 1 / 255, "mean": None, "std": None}
TOKENS = {"input": "token_ids", "padding_id": 0, "note": "int ids < vocab_size, padded to T"}
SEQUENCE = {"input": "float_sequence", "note": "standardize each feature (zero mean, unit std)"}


def small_cnn(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    filters: Sequence[int] = (32, 64),
    hidden_units: Sequence[int] = (128,),
    name: str = "simple_cnn",
) -> keras.Model:
    """Stages of two 3x3 conv-BN-ReLU layers, each stage halving the resolution with max pooling.

    ``same`` padding keeps 8x8 digits usable: two stages leave a 2x2 map.
    """
    check_positive(num_classes=num_classes)
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = inputs
    for stage, width in enumerate(filters):
        for index in range(2):
            prefix = f"stage{stage}_conv{index}"
            x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=prefix)(x)
            x = keras.layers.BatchNormalization(name=f"{prefix}_bn")(x)
            x = keras.layers.ReLU(name=f"{prefix}_relu")(x)
        x = keras.layers.MaxPooling2D(2, padding="same", name=f"stage{stage}_pool")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=0.25 if dropout is None else dropout, hidden_units=hidden_units, name=name,
    )


@register(
    "models", task="image_classification", family="cnn", paper=None, params=75_178,
    input_shape=(28, 28, 1), num_classes=10, preprocessing=IMAGE_01,
)
@variant_of(small_cnn)
def simple_cnn(**kwargs) -> keras.Model:
    """A small CNN for MNIST-class images (8x8 digits, 28x28 MNIST, 32x32x3 CIFAR).

    Two stages of two 3x3 conv-BN-ReLU layers (32 and 64 filters) with 2x2 max pooling, then
    average pooling, a 128-unit hidden layer, dropout 0.25 and the classifier (logits).
    """
    kwargs.setdefault("name", "simple_cnn")
    return small_cnn(**kwargs)


def kim_text_cnn(
    *,
    input_shape: Sequence[int] = (256,),
    num_classes: int = 2,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    vocab_size: int = 20_000,
    sequence_length: int | None = None,
    embedding_dim: int = 128,
    kernel_sizes: Sequence[int] = (3, 4, 5),
    filters: int = 100,
    name: str = "text_cnn",
) -> keras.Model:
    """Embedding, parallel 1-D convolutions of several widths, max-over-time pooling, concat."""
    check_positive(vocab_size=vocab_size, embedding_dim=embedding_dim, filters=filters)
    length = sequence_length or input_shape[0]
    inputs = keras.Input((length,), dtype="int32", name="inputs")
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(inputs)
    branches = []
    for size in kernel_sizes:
        branch = keras.layers.Conv1D(filters, size, activation="relu", name=f"conv{size}")(x)
        branches.append(keras.layers.GlobalMaxPooling1D(name=f"max_over_time{size}")(branch))
    x = keras.layers.Concatenate(name="concat")(branches) if len(branches) > 1 else branches[0]
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=0.5 if dropout is None else dropout, name=name,
    )


@register(
    "models", task="text_classification", family="cnn",
    paper="Kim, Convolutional Neural Networks for Sentence Classification, EMNLP 2014",
    params=2_714_502, input_shape=(256,), input_dtype="int32", num_classes=2, preprocessing=TOKENS,
)
@variant_of(kim_text_cnn)
def text_cnn(**kwargs) -> keras.Model:
    """Kim's sentence CNN: 3/4/5-wide filters (100 each), max-over-time pooling, dropout 0.5.

    Takes int token ids ``[T]``; overrides ``vocab_size`` (20,000), ``sequence_length`` (256),
    ``embedding_dim`` (128; Kim used 300-d word2vec).
    """
    kwargs.setdefault("name", "text_cnn")
    return kim_text_cnn(**kwargs)


def temporal_conv_net(
    *,
    input_shape: Sequence[int] = (128, 1),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    filters: int = 64,
    kernel_size: int = 3,
    dilations: Sequence[int] = (1, 2, 4, 8),
    block_dropout: float = 0.1,
    name: str = "tcn",
) -> keras.Model:
    """Residual blocks of two causal dilated convolutions (Bai et al. 2018), one per dilation."""
    check_positive(filters=filters, kernel_size=kernel_size)
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = inputs
    for index, rate in enumerate(dilations):
        prefix = f"block{index}"
        shortcut = x
        for conv in range(2):
            x = keras.layers.Conv1D(
                filters, kernel_size, padding="causal", dilation_rate=rate,
                name=f"{prefix}_conv{conv}",
            )(x)
            x = keras.layers.LayerNormalization(name=f"{prefix}_norm{conv}")(x)
            x = keras.layers.ReLU(name=f"{prefix}_relu{conv}")(x)
            if block_dropout:
                x = keras.layers.SpatialDropout1D(block_dropout, name=f"{prefix}_drop{conv}")(x)
        if shortcut.shape[-1] != filters:
            shortcut = keras.layers.Conv1D(filters, 1, name=f"{prefix}_shortcut")(shortcut)
        x = keras.layers.Add(name=f"{prefix}_add")([shortcut, x])
        x = keras.layers.ReLU(name=f"{prefix}_out")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


@register(
    "models", task="sequence_classification", family="tcn",
    paper="Bai et al., An Empirical Evaluation of Generic Convolutional and Recurrent Networks "
    "for Sequence Modeling, 2018",
    params=88_522, input_shape=(128, 1), num_classes=10, preprocessing=SEQUENCE,
)
@variant_of(temporal_conv_net)
def tcn(**kwargs) -> keras.Model:
    """Temporal convolutional network: 4 residual blocks (dilations 1, 2, 4, 8), 64 filters.

    Classifies float sequences ``[T, F]`` (causal convolutions, average pooling over time); use
    ``pooling="max"`` or ``include_top=False`` for sequence features.
    """
    kwargs.setdefault("name", "tcn")
    return temporal_conv_net(**kwargs)
