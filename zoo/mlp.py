"""Multi-layer perceptrons: ``mlp``, ``residual_mlp`` (tabular / flattened input) and MLP-Mixer.

Inputs: ``mlp`` and ``residual_mlp`` take float feature vectors ``[F]`` (any rank is flattened,
so 8x8 digits or 28x28 images work too), standardized per feature; ``mlp_mixer*`` take float
images ``[H, W, C]`` (H and W multiples of the patch size).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from kerazoo.errors import ConfigError
from kerazoo.registry import register
from kerazoo.zoo.heads import assemble_classifier, check_positive, variant_of
from kerazoo.zoo.resnet import CIFAR, IMAGENET

NORMS = (None, "batch", "layer")
TABULAR = {"input": "features", "note": "standardize each feature (zero mean, unit variance)"}


def _norm(kind: str | None, name: str):
    if kind not in NORMS:
        raise ConfigError(f"norm must be one of {NORMS}. Received: norm={kind!r}")
    if kind == "batch":
        return keras.layers.BatchNormalization(name=name)
    if kind == "layer":
        return keras.layers.LayerNormalization(name=name)
    return None


def multilayer_perceptron(
    *,
    input_shape: Sequence[int] = (64,),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    widths: Sequence[int] = (256, 128),
    activation: str = "relu",
    norm: str | None = "batch",
    hidden_dropout: float = 0.1,
    name: str = "mlp",
) -> keras.Model:
    """Flatten, then ``Dense -> norm -> activation -> dropout`` for each width."""
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for index, width in enumerate(widths):
        layer_norm = _norm(norm, f"dense{index}_norm")
        x = keras.layers.Dense(width, use_bias=layer_norm is None, name=f"dense{index}")(x)
        x = layer_norm(x) if layer_norm is not None else x
        x = keras.layers.Activation(activation, name=f"dense{index}_act")(x)
        if hidden_dropout:
            x = keras.layers.Dropout(hidden_dropout, name=f"dense{index}_dropout")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


@register(
    "models", task="tabular_classification", family="mlp", paper=None, params=51_978,
    input_shape=(64,), num_classes=10, preprocessing=TABULAR,
)
@variant_of(multilayer_perceptron)
def mlp(**kwargs) -> keras.Model:
    """MLP with hidden widths 256 and 128, BatchNorm, ReLU and dropout 0.1.

    Overrides: ``widths``, ``activation``, ``norm`` (``"batch"``, ``"layer"`` or ``None``),
    ``hidden_dropout``.
    """
    kwargs.setdefault("name", "mlp")
    return multilayer_perceptron(**kwargs)


def residual_perceptron(
    *,
    input_shape: Sequence[int] = (64,),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    width: int = 256,
    num_blocks: int = 3,
    expansion: int = 2,
    activation: str = "gelu",
    drop_path_rate: float = 0.0,
    name: str = "residual_mlp",
) -> keras.Model:
    """A linear stem to ``width``, then pre-norm residual blocks
    ``x + DropPath(Dense(act(Dense(LayerNorm(x)))))``, and a final LayerNorm."""
    check_positive(width=width, num_blocks=num_blocks, expansion=expansion)
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    x = keras.layers.Dense(width, name="stem")(x)
    for index in range(num_blocks):
        prefix = f"block{index}"
        y = keras.layers.LayerNormalization(name=f"{prefix}_norm")(x)
        y = keras.layers.Dense(width * expansion, activation=activation, name=f"{prefix}_fc0")(y)
        y = keras.layers.Dense(width, name=f"{prefix}_fc1")(y)
        rate = drop_path_rate * index / max(num_blocks - 1, 1)
        if rate:
            from kerazoo.layers.drop_path import DropPath

            y = DropPath(rate, name=f"{prefix}_drop_path")(y)
        x = keras.layers.Add(name=f"{prefix}_add")([x, y])
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


@register(
    "models", task="tabular_classification", family="mlp", params=809_994,
    paper="Gorishniy et al., Revisiting Deep Learning Models for Tabular Data, NeurIPS 2021",
    input_shape=(64,), num_classes=10, preprocessing=TABULAR,
)
@variant_of(residual_perceptron)
def residual_mlp(**kwargs) -> keras.Model:
    """Residual MLP: width 256, 3 pre-LayerNorm blocks (expansion 2, GELU); ``drop_path_rate``
    adds kerazoo's ``DropPath`` (stochastic depth) to the blocks."""
    kwargs.setdefault("name", "residual_mlp")
    return residual_perceptron(**kwargs)


def mixer(
    *,
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    patch_size: int = 4,
    hidden_dim: int = 128,
    num_blocks: int = 8,
    tokens_mlp_dim: int = 64,
    channels_mlp_dim: int = 512,
    drop_path_rate: float = 0.0,
    name: str = "mlp_mixer",
) -> keras.Model:
    """MLP-Mixer: non-overlapping patches embedded by a strided convolution, then blocks of
    token mixing (an MLP across patches) and channel mixing (an MLP across features), each
    pre-LayerNorm and residual; a final LayerNorm. The head averages over patches."""
    height, width = input_shape[0], input_shape[1]
    if height % patch_size or width % patch_size:
        raise ConfigError(
            f"Image size must be a multiple of patch_size. Received: input_shape={input_shape}, "
            f"patch_size={patch_size}"
        )
    tokens = (height // patch_size) * (width // patch_size)
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = keras.layers.Conv2D(hidden_dim, patch_size, strides=patch_size, name="stem")(inputs)
    x = keras.layers.Reshape((tokens, hidden_dim), name="to_tokens")(x)
    for index in range(num_blocks):
        prefix = f"block{index}"
        rate = drop_path_rate * index / max(num_blocks - 1, 1)
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{prefix}_token_norm")(x)
        y = keras.layers.Permute((2, 1), name=f"{prefix}_to_channels")(y)
        y = keras.layers.Dense(tokens_mlp_dim, activation="gelu", name=f"{prefix}_token_fc0")(y)
        y = keras.layers.Dense(tokens, name=f"{prefix}_token_fc1")(y)
        y = keras.layers.Permute((2, 1), name=f"{prefix}_to_tokens")(y)
        x = keras.layers.Add(name=f"{prefix}_token_add")([x, _maybe_drop(y, rate, prefix, 0)])
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{prefix}_channel_norm")(x)
        y = keras.layers.Dense(channels_mlp_dim, activation="gelu", name=f"{prefix}_chan_fc0")(y)
        y = keras.layers.Dense(hidden_dim, name=f"{prefix}_chan_fc1")(y)
        x = keras.layers.Add(name=f"{prefix}_channel_add")([x, _maybe_drop(y, rate, prefix, 1)])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


def _maybe_drop(y, rate: float, prefix: str, index: int):
    if not rate:
        return y
    from kerazoo.layers.drop_path import DropPath

    return DropPath(rate, name=f"{prefix}_drop_path{index}")(y)


MIXER = "Tolstikhin et al., MLP-Mixer: An all-MLP Architecture for Vision, NeurIPS 2021"


@register(
    "models", task="image_classification", family="mlp_mixer", paper=MIXER, params=1_132_170,
    input_shape=(32, 32, 3), num_classes=10, preprocessing=CIFAR,
)
@variant_of(mixer)
def mlp_mixer(**kwargs) -> keras.Model:
    """A CIFAR-sized MLP-Mixer: 4x4 patches (64 tokens), width 128, 8 blocks, token MLP 64,
    channel MLP 512."""
    kwargs.setdefault("name", "mlp_mixer")
    return mixer(**kwargs)


@register(
    "models", task="image_classification", family="mlp_mixer", paper=MIXER, params=18_528_264,
    input_shape=(224, 224, 3), num_classes=1000, preprocessing=IMAGENET,
)
@variant_of(mixer)
def mlp_mixer_s16(**kwargs) -> keras.Model:
    """Mixer-S/16 of the paper: 16x16 patches, width 512, 8 blocks, token MLP 256, channel MLP
    2048 (18.5M parameters at 224x224, as timm's ``mixer_s16_224``; the paper rounds to 18M)."""
    kwargs.setdefault("name", "mlp_mixer_s16")
    return mixer(patch_size=16, hidden_dim=512, num_blocks=8, tokens_mlp_dim=256,
                 channels_mlp_dim=2048, **kwargs)
