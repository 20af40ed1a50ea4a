"""ResNets: CIFAR ResNet v1/v2 (He et al. 2016), WideResNet (Zagoruyko & Komodakis 2016) and
ImageNet ResNet-18/34/50.

All take float images ``[H, W, 3]``: CIFAR models scaled to ``[0, 1]`` and standardized with the
CIFAR-10 channel mean/std, ImageNet models with the ImageNet mean/std (``model_config(name)
["preprocessing"]``). Heads return logits.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from kerazoo.errors import ConfigError
from kerazoo.registry import register
from kerazoo.zoo.heads import assemble_classifier, variant_of

CIFAR = {
    "input": "image", "rescale": 1 / 255,
    "mean": (0.4914, 0.4822, 0.4465), "std": (0.2470, 0.2435, 0.2616),
}
IMAGENET = {
    "input": "image", "rescale": 1 / 255,
    "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225),
}
HE_2016 = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016"
HE_2016_V2 = "He et al., Identity Mappings in Deep Residual Networks, ECCV 2016"
WRN = "Zagoruyko & Komodakis, Wide Residual Networks, BMVC 2016"
_BN = {"momentum": 0.9, "epsilon": 1e-5}


def _drop_path(x, rate: float, name: str):
    if not rate:
        return x
    from kerazoo.layers.drop_path import DropPath

    return DropPath(rate, name=name)(x)


def _conv(filters: int, kernel: int, strides: int, name: str, use_bias: bool = False):
    return keras.layers.Conv2D(
        filters, kernel, strides=strides, padding="same", use_bias=use_bias,
        kernel_initializer="he_normal", name=name,
    )


def _shortcut(x, filters: int, strides: int, kind: str, name: str):
    """Identity, or the paper's option A (subsample + zero channels) or B (1x1 projection)."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    if kind == "B":
        x = _conv(filters, 1, strides, f"{name}_proj")(x)
        return keras.layers.BatchNormalization(**_BN, name=f"{name}_proj_bn")(x)
    # Option A: a 1x1 max pool with stride 2 is exactly `x[:, ::2, ::2]`; the new channels are
    # zeros (x scaled by 0), which keeps the model free of custom or Lambda layers.
    if strides > 1:
        x = keras.layers.MaxPooling2D(1, strides=strides, name=f"{name}_subsample")(x)
    missing = filters - x.shape[-1]
    if missing != x.shape[-1]:
        raise ConfigError(f"Option-A shortcuts double the width; got {x.shape[-1]} -> {filters}.")
    zeros = keras.layers.Rescaling(0.0, name=f"{name}_zeros")(x)
    return keras.layers.Concatenate(name=f"{name}_pad")([x, zeros])


def cifar_resnet(
    *,
    depth: int = 20,
    version: int = 1,
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    widths: Sequence[int] = (16, 32, 64),
    shortcut: str = "A",
    drop_path_rate: float = 0.0,
    name: str = "resnet",
) -> keras.Model:
    """CIFAR ResNet of ``6n + 2`` layers: a 3x3 stem and three stages of ``n`` basic blocks.

    ``version=1`` is post-activation (conv-BN-ReLU, He et al. 2016a); ``version=2`` is
    pre-activation (BN-ReLU-conv, He et al. 2016b) with a final BN-ReLU. ``shortcut="A"`` (the
    paper's CIFAR choice) adds no parameters; ``"B"`` projects with 1x1 convolutions.
    ``drop_path_rate`` (stochastic depth) grows linearly to that rate over the blocks.
    """
    if (depth - 2) % 6 or depth < 8:
        raise ConfigError(f"CIFAR ResNet depth must be 6n + 2 (20, 32, 44, ...). Received: {depth}")
    if version not in (1, 2) or shortcut not in ("A", "B"):
        raise ConfigError(
            f"version must be 1 or 2 and shortcut 'A' or 'B'. Received: version={version}, "
            f"shortcut={shortcut!r}"
        )
    blocks = (depth - 2) // 6
    total = 3 * blocks
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = _conv(widths[0], 3, 1, "stem_conv")(inputs)
    if version == 1:
        x = keras.layers.BatchNormalization(**_BN, name="stem_bn")(x)
        x = keras.layers.ReLU(name="stem_relu")(x)
    index = 0
    for stage, filters in enumerate(widths):
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            prefix = f"stage{stage}_block{block}"
            rate = drop_path_rate * index / max(total - 1, 1)
            if version == 1:
                y = _conv(filters, 3, strides, f"{prefix}_conv0")(x)
                y = keras.layers.BatchNormalization(**_BN, name=f"{prefix}_bn0")(y)
                y = keras.layers.ReLU(name=f"{prefix}_relu0")(y)
                y = _conv(filters, 3, 1, f"{prefix}_conv1")(y)
                y = keras.layers.BatchNormalization(**_BN, name=f"{prefix}_bn1")(y)
                y = _drop_path(y, rate, f"{prefix}_drop_path")
                skip = _shortcut(x, filters, strides, shortcut, prefix)
                x = keras.layers.Add(name=f"{prefix}_add")([skip, y])
                x = keras.layers.ReLU(name=f"{prefix}_out")(x)
            else:
                y = keras.layers.BatchNormalization(**_BN, name=f"{prefix}_bn0")(x)
                y = keras.layers.ReLU(name=f"{prefix}_relu0")(y)
                y = _conv(filters, 3, strides, f"{prefix}_conv0")(y)
                y = keras.layers.BatchNormalization(**_BN, name=f"{prefix}_bn1")(y)
                y = keras.layers.ReLU(name=f"{prefix}_relu1")(y)
                y = _conv(filters, 3, 1, f"{prefix}_conv1")(y)
                y = _drop_path(y, rate, f"{prefix}_drop_path")
                skip = _shortcut(x, filters, strides, shortcut, prefix)
                x = keras.layers.Add(name=f"{prefix}_add")([skip, y])
            index += 1
    if version == 2:
        x = keras.layers.BatchNormalization(**_BN, name="final_bn")(x)
        x = keras.layers.ReLU(name="final_relu")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


def _cifar(depth: int, version: int, name: str, kwargs: dict) -> keras.Model:
    kwargs.setdefault("name", name)
    return cifar_resnet(depth=depth, version=version, **kwargs)


_CIFAR_META = {
    "task": "image_classification", "family": "resnet_cifar", "input_shape": (32, 32, 3),
    "num_classes": 10, "preprocessing": CIFAR,
}


@register("models", paper=HE_2016, params=271_098, published_params="0.27M", **_CIFAR_META)
@variant_of(cifar_resnet)
def resnet20(**kwargs) -> keras.Model:
    """CIFAR ResNet-20 (v1): 3 stages x 3 basic blocks, 16/32/64 filters, option-A shortcuts."""
    return _cifar(20, 1, "resnet20", kwargs)


@register("models", paper=HE_2016, params=466_426, published_params="0.46M", **_CIFAR_META)
@variant_of(cifar_resnet)
def resnet32(**kwargs) -> keras.Model:
    """CIFAR ResNet-32 (v1): 3 stages x 5 basic blocks, 16/32/64 filters, option-A shortcuts."""
    return _cifar(32, 1, "resnet32", kwargs)


@register("models", paper=HE_2016, params=661_754, published_params="0.66M", **_CIFAR_META)
@variant_of(cifar_resnet)
def resnet44(**kwargs) -> keras.Model:
    """CIFAR ResNet-44 (v1): 3 stages x 7 basic blocks, 16/32/64 filters, option-A shortcuts."""
    return _cifar(44, 1, "resnet44", kwargs)


@register("models", paper=HE_2016, params=857_082, published_params="0.85M", **_CIFAR_META)
@variant_of(cifar_resnet)
def resnet56(**kwargs) -> keras.Model:
    """CIFAR ResNet-56 (v1): 3 stages x 9 basic blocks, 16/32/64 filters, option-A shortcuts."""
    return _cifar(56, 1, "resnet56", kwargs)


@register("models", paper=HE_2016, params=1_736_058, published_params="1.7M", **_CIFAR_META)
@variant_of(cifar_resnet)
def resnet110(**kwargs) -> keras.Model:
    """CIFAR ResNet-110 (v1): 3 stages x 18 basic blocks, 16/32/64 filters, option-A shortcuts."""
    return _cifar(110, 1, "resnet110", kwargs)


@register("models", paper=HE_2016_V2, params=271_098, **_CIFAR_META)
@variant_of(cifar_resnet)
def resnet20_v2(**kwargs) -> keras.Model:
    """CIFAR ResNet-20 v2: pre-activation basic blocks (BN-ReLU-conv), option-A shortcuts."""
    return _cifar(20, 2, "resnet20_v2", kwargs)


@register("models", paper=HE_2016_V2, params=857_082, **_CIFAR_META)
@variant_of(cifar_resnet)
def resnet56_v2(**kwargs) -> keras.Model:
    """CIFAR ResNet-56 v2: pre-activation basic blocks (BN-ReLU-conv), option-A shortcuts."""
    return _cifar(56, 2, "resnet56_v2", kwargs)


@register("models", paper=HE_2016_V2, params=1_736_058, published_params="1.7M", **_CIFAR_META)
@variant_of(cifar_resnet)
def resnet110_v2(**kwargs) -> keras.Model:
    """CIFAR ResNet-110 v2: pre-activation basic blocks (BN-ReLU-conv), option-A shortcuts."""
    return _cifar(110, 2, "resnet110_v2", kwargs)


def wide_resnet(
    *,
    depth: int = 28,
    width: int = 10,
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    block_dropout: float = 0.0,
    name: str = "wide_resnet",
) -> keras.Model:
    """WRN-d-k: a 3x3 stem (16) and three groups of ``(d - 4) / 6`` pre-activation blocks of
    widths 16k/32k/64k, 1x1 projections where the shape changes, final BN-ReLU.

    ``block_dropout`` is the paper's dropout between the two convolutions of a block (0.3 in
    its best CIFAR runs).
    """
    if (depth - 4) % 6 or depth < 10:
        raise ConfigError(f"WideResNet depth must be 6n + 4 (16, 22, 28, ...). Received: {depth}")
    blocks = (depth - 4) // 6
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = _conv(16, 3, 1, "stem_conv")(inputs)
    for group, filters in enumerate((16 * width, 32 * width, 64 * width)):
        for block in range(blocks):
            strides = 2 if group > 0 and block == 0 else 1
            prefix = f"group{group}_block{block}"
            pre = keras.layers.BatchNormalization(**_BN, name=f"{prefix}_bn0")(x)
            pre = keras.layers.ReLU(name=f"{prefix}_relu0")(pre)
            y = _conv(filters, 3, strides, f"{prefix}_conv0")(pre)
            y = keras.layers.BatchNormalization(**_BN, name=f"{prefix}_bn1")(y)
            y = keras.layers.ReLU(name=f"{prefix}_relu1")(y)
            if block_dropout:
                y = keras.layers.Dropout(block_dropout, name=f"{prefix}_dropout")(y)
            y = _conv(filters, 3, 1, f"{prefix}_conv1")(y)
            if strides == 1 and x.shape[-1] == filters:
                skip = x
            else:  # the projection sees the pre-activated input, as in the authors' code
                skip = _conv(filters, 1, strides, f"{prefix}_proj")(pre)
            x = keras.layers.Add(name=f"{prefix}_add")([skip, y])
    x = keras.layers.BatchNormalization(**_BN, name="final_bn")(x)
    x = keras.layers.ReLU(name="final_relu")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


@register(
    "models", task="image_classification", family="wide_resnet", paper=WRN, params=2_752_506,
    published_params="2.7M", input_shape=(32, 32, 3), num_classes=10, preprocessing=CIFAR,
)
@variant_of(wide_resnet)
def wide_resnet16_4(**kwargs) -> keras.Model:
    """WRN-16-4: 2 blocks per group, widths 64/128/256."""
    kwargs.setdefault("name", "wide_resnet16_4")
    return wide_resnet(depth=16, width=4, **kwargs)


@register(
    "models", task="image_classification", family="wide_resnet", paper=WRN, params=36_497_146,
    published_params="36.5M", input_shape=(32, 32, 3), num_classes=10, preprocessing=CIFAR,
)
@variant_of(wide_resnet)
def wide_resnet28_10(**kwargs) -> keras.Model:
    """WRN-28-10: 4 blocks per group, widths 160/320/640 (36.5M parameters)."""
    kwargs.setdefault("name", "wide_resnet28_10")
    return wide_resnet(depth=28, width=10, **kwargs)


def imagenet_resnet(
    *,
    blocks: Sequence[int] = (2, 2, 2, 2),
    bottleneck: bool = False,
    input_shape: Sequence[int] = (224, 224, 3),
    num_classes: int = 1000,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    conv_bias: bool = False,
    drop_path_rate: float = 0.0,
    name: str = "resnet",
) -> keras.Model:
    """ImageNet ResNet v1: 7x7/2 stem, 3x3/2 max pool, four stages (64-512 base widths).

    Bottleneck blocks (1x1-3x3-1x1, expansion 4) carry the stride in the first 1x1 convolution,
    as keras.applications' ResNet50 does; ``conv_bias=True`` reproduces its convolution biases.
    Projection shortcuts (option B) where the shape changes.
    """
    expansion = 4 if bottleneck else 1
    total = sum(blocks)
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = keras.layers.ZeroPadding2D(3, name="stem_pad")(inputs)
    x = keras.layers.Conv2D(64, 7, strides=2, use_bias=conv_bias, name="stem_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=1.001e-5, name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    x = keras.layers.ZeroPadding2D(1, name="pool_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
    index = 0
    for stage, count in enumerate(blocks):
        width = 64 * 2**stage
        for block in range(count):
            strides = 2 if stage > 0 and block == 0 else 1
            prefix = f"stage{stage}_block{block}"
            rate = drop_path_rate * index / max(total - 1, 1)
            bn = {"epsilon": 1.001e-5}
            if bottleneck:
                plan = [(width, 1, strides), (width, 3, 1), (width * expansion, 1, 1)]
            else:
                plan = [(width, 3, strides), (width, 3, 1)]
            y = x
            for step, (filters, kernel, stride) in enumerate(plan):
                y = _conv(filters, kernel, stride, f"{prefix}_conv{step}", conv_bias)(y)
                y = keras.layers.BatchNormalization(**bn, name=f"{prefix}_bn{step}")(y)
                if step < len(plan) - 1:
                    y = keras.layers.ReLU(name=f"{prefix}_relu{step}")(y)
            y = _drop_path(y, rate, f"{prefix}_drop_path")
            skip = x
            if strides != 1 or x.shape[-1] != width * expansion:
                skip = _conv(width * expansion, 1, strides, f"{prefix}_proj", conv_bias)(x)
                skip = keras.layers.BatchNormalization(**bn, name=f"{prefix}_proj_bn")(skip)
            x = keras.layers.Add(name=f"{prefix}_add")([skip, y])
            x = keras.layers.ReLU(name=f"{prefix}_out")(x)
            index += 1
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


_IMAGENET_META = {
    "task": "image_classification", "family": "resnet", "paper": HE_2016,
    "input_shape": (224, 224, 3), "num_classes": 1000, "preprocessing": IMAGENET,
}


@register("models", params=11_699_112, published_params="11.7M", **_IMAGENET_META)
@variant_of(imagenet_resnet)
def resnet18(**kwargs) -> keras.Model:
    """ImageNet ResNet-18: basic blocks (2, 2, 2, 2), convolutions without bias."""
    kwargs.setdefault("name", "resnet18")
    return imagenet_resnet(blocks=(2, 2, 2, 2), **kwargs)


@register("models", params=21_814_696, published_params="21.8M", **_IMAGENET_META)
@variant_of(imagenet_resnet)
def resnet34(**kwargs) -> keras.Model:
    """ImageNet ResNet-34: basic blocks (3, 4, 6, 3), convolutions without bias."""
    kwargs.setdefault("name", "resnet34")
    return imagenet_resnet(blocks=(3, 4, 6, 3), **kwargs)


@register(
    "models", params=25_636_712, published_params="25.6M", weights=("imagenet",),
    keras_application="ResNet50", **_IMAGENET_META,
)
@variant_of(imagenet_resnet)
def resnet50(**kwargs) -> keras.Model:
    """ImageNet ResNet-50: bottleneck blocks (3, 4, 6, 3), stride in the first 1x1 convolution
    and convolution biases, like keras.applications.ResNet50: the same layers in the same order,
    so ``weights="imagenet"`` loads Keras's published no-top file into the backbone (those
    weights expect Caffe-style BGR input: ``preprocessing_for("resnet50", "imagenet")``).
    """
    kwargs.setdefault("name", "resnet50")
    kwargs.setdefault("conv_bias", True)
    return imagenet_resnet(blocks=(3, 4, 6, 3), bottleneck=True, **kwargs)
