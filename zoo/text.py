"""Text classifiers over token ids beyond the CNN and BiLSTM: a pooled-embedding MLP and a small
Transformer encoder.

Both take int token ids ``[T]`` (0 is padding, masked) and return logits. The Transformer uses
Keras's ``MultiHeadAttention`` with kerazoo's learned ``PositionEmbedding`` (or the fixed
``SinusoidalPositionEncoding``), pre-norm blocks as in Xiong et al. 2020, and masked mean pooling.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from kerazoo.errors import ConfigError
from kerazoo.registry import register
from kerazoo.zoo.cnn import TOKENS
from kerazoo.zoo.heads import assemble_classifier, check_positive, variant_of

POSITIONS = ("learned", "sinusoidal")


def pooled_embedding_mlp(
    *,
    input_shape: Sequence[int] = (256,),
    num_classes: int = 2,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    vocab_size: int = 20_000,
    sequence_length: int | None = None,
    embedding_dim: int = 64,
    widths: Sequence[int] = (64,),
    name: str = "text_mlp",
) -> keras.Model:
    """Embedding, masked mean over tokens (a fastText-style bag), then ReLU dense layers."""
    check_positive(vocab_size=vocab_size, embedding_dim=embedding_dim)
    length = sequence_length or input_shape[0]
    inputs = keras.Input((length,), dtype="int32", name="inputs")
    embedded = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True,
                                      name="embedding")(inputs)
    # GlobalAveragePooling1D averages over the unmasked steps only (the padding is masked).
    x = keras.layers.GlobalAveragePooling1D(name="masked_mean")(embedded)
    for index, width in enumerate(widths):
        x = keras.layers.Dense(width, activation="relu", name=f"dense{index}")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=0.2 if dropout is None else dropout, name=name,
    )


@register(
    "models", task="text_classification", family="mlp",
    paper="Joulin et al., Bag of Tricks for Efficient Text Classification, EACL 2017",
    params=1_284_290, input_shape=(256,), input_dtype="int32", num_classes=2, preprocessing=TOKENS,
)
@variant_of(pooled_embedding_mlp)
def text_mlp(**kwargs) -> keras.Model:
    """A 64-d embedding averaged over the unmasked tokens, one 64-unit ReLU layer, dropout 0.2.

    Takes int token ids ``[T]``; overrides ``vocab_size`` (20,000), ``sequence_length`` (256),
    ``embedding_dim``, ``widths``.
    """
    kwargs.setdefault("name", "text_mlp")
    return pooled_embedding_mlp(**kwargs)


def transformer_encoder_classifier(
    *,
    input_shape: Sequence[int] = (256,),
    num_classes: int = 2,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    vocab_size: int = 20_000,
    sequence_length: int | None = None,
    embedding_dim: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    mlp_dim: int = 128,
    position: str = "learned",
    attention_dropout: float = 0.1,
    name: str = "transformer_text_classifier",
) -> keras.Model:
    """Token embedding + positions, ``num_layers`` pre-norm encoder blocks, masked mean pooling."""
    from kerazoo.layers import PositionEmbedding, SinusoidalPositionEncoding

    check_positive(vocab_size=vocab_size, embedding_dim=embedding_dim, num_layers=num_layers,
                   num_heads=num_heads, mlp_dim=mlp_dim)
    if position not in POSITIONS:
        raise ConfigError(f"position must be one of {', '.join(POSITIONS)}. Received: {position!r}")
    if embedding_dim % num_heads:
        raise ConfigError(
            f"embedding_dim ({embedding_dim}) must be divisible by num_heads ({num_heads})."
        )
    length = sequence_length or input_shape[0]
    inputs = keras.Input((length,), dtype="int32", name="inputs")
    # The padding mask travels with the tensors: attention ignores padded keys and the final
    # pooling averages over real tokens only.
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
    if position == "learned":
        x = PositionEmbedding(length, name="positions")(x)
    else:
        x = SinusoidalPositionEncoding(name="positions")(x)
    for index in range(num_layers):
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{index}_norm1")(x)
        y = keras.layers.MultiHeadAttention(
            num_heads, embedding_dim // num_heads, dropout=attention_dropout,
            name=f"block{index}_attention",
        )(y, y)
        x = keras.layers.Add(name=f"block{index}_add1")([x, y])
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{index}_norm2")(x)
        y = keras.layers.Dense(mlp_dim, activation="gelu", name=f"block{index}_mlp1")(y)
        y = keras.layers.Dense(embedding_dim, name=f"block{index}_mlp2")(y)
        x = keras.layers.Add(name=f"block{index}_add2")([x, y])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = keras.layers.GlobalAveragePooling1D(name="masked_mean")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=0.1 if dropout is None else dropout, name=name,
    )


@register(
    "models", task="text_classification", family="transformer",
    paper="Vaswani et al., Attention Is All You Need, NeurIPS 2017",
    params=1_363_586, input_shape=(256,), input_dtype="int32", num_classes=2,
    preprocessing=TOKENS,
)
@variant_of(transformer_encoder_classifier)
def transformer_text_classifier(**kwargs) -> keras.Model:
    """Two pre-norm encoder blocks (64-d, 4 heads, MLP 128) with learned positions.

    Takes int token ids ``[T]``; overrides ``vocab_size`` (20,000), ``sequence_length`` (256),
    ``embedding_dim``, ``num_layers``, ``num_heads``, ``mlp_dim``, ``position``
    (``"learned"`` or ``"sinusoidal"``).
    """
    kwargs.setdefault("name", "transformer_text_classifier")
    return transformer_encoder_classifier(**kwargs)
