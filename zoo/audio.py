"""Keyword-spotting CNNs on log-mel input: DS-CNN ("Hello Edge") and BC-ResNet.

Input: log-mel spectrograms ``[time, mel, 1]``, by default 98 frames (1 s of 16 kHz audio, 30 ms
windows, 10 ms hop) x 40 mel bins; per-utterance standardization is up to the data pipeline
(``model_config(name)["preprocessing"]``). Heads return logits over 12 classes by default (the
Speech Commands v2 10 words + silence + unknown).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from kerazoo.errors import ConfigError
from kerazoo.registry import register
from kerazoo.zoo.heads import assemble_classifier, variant_of

LOG_MEL = {
    "input": "log_mel", "layout": "[time, mel, 1]", "sample_rate": 16_000, "frame_length": 480,
    "frame_step": 160, "num_mel_bins": 40, "log_offset": 1e-6,
}
HELLO_EDGE = "Zhang et al., Hello Edge: Keyword Spotting on Microcontrollers, 2017"
BC_RESNET = (
    "Kim et al., Broadcasted Residual Learning for Efficient Keyword Spotting, Interspeech 2021"
)
_AUDIO_META = {
    "task": "audio_classification", "input_shape": (98, 40, 1), "num_classes": 12,
    "preprocessing": LOG_MEL,
}


def depthwise_separable_cnn(
    *,
    input_shape: Sequence[int] = (98, 40, 1),
    num_classes: int = 12,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    filters: int = 64,
    num_blocks: int = 4,
    first_kernel: Sequence[int] = (10, 4),
    first_strides: Sequence[int] = (2, 2),
    name: str = "ds_cnn",
) -> keras.Model:
    """A 10x4 (time x frequency) strided convolution, then depthwise-separable blocks
    (3x3 depthwise-BN-ReLU, 1x1 pointwise-BN-ReLU), average pooling and the classifier."""
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = keras.layers.Conv2D(
        filters, tuple(first_kernel), strides=tuple(first_strides), padding="same",
        use_bias=False, name="stem_conv",
    )(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for index in range(num_blocks):
        prefix = f"block{index}"
        x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"{prefix}_dw")(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}_dw_bn")(x)
        x = keras.layers.ReLU(name=f"{prefix}_dw_relu")(x)
        x = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{prefix}_pw")(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}_pw_bn")(x)
        x = keras.layers.ReLU(name=f"{prefix}_pw_relu")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


@register("models", family="ds_cnn", paper=HELLO_EDGE, params=24_332, **_AUDIO_META)
@variant_of(depthwise_separable_cnn)
def ds_cnn_s(**kwargs) -> keras.Model:
    """DS-CNN-S: 64 channels, 4 depthwise-separable blocks."""
    kwargs.setdefault("name", "ds_cnn_s")
    return depthwise_separable_cnn(filters=64, num_blocks=4, **kwargs)


@register("models", family="ds_cnn", paper=HELLO_EDGE, params=139_676, **_AUDIO_META)
@variant_of(depthwise_separable_cnn)
def ds_cnn_m(**kwargs) -> keras.Model:
    """DS-CNN-M: 172 channels, 4 depthwise-separable blocks."""
    kwargs.setdefault("name", "ds_cnn_m")
    return depthwise_separable_cnn(filters=172, num_blocks=4, **kwargs)


@register("models", family="ds_cnn", paper=HELLO_EDGE, params=419_808, **_AUDIO_META)
@variant_of(depthwise_separable_cnn)
def ds_cnn_l(**kwargs) -> keras.Model:
    """DS-CNN-L: 276 channels, 5 depthwise-separable blocks."""
    kwargs.setdefault("name", "ds_cnn_l")
    return depthwise_separable_cnn(filters=276, num_blocks=5, **kwargs)


def _sub_spectral_norm(x, sub_bands: int, name: str):
    """SubSpectralNorm (Chang et al. 2021): BatchNorm with separate statistics and affine
    parameters for each of ``sub_bands`` frequency bands, built from Reshape/Permute/BN only."""
    time, freq, channels = x.shape[1:]
    if freq % sub_bands:
        raise ConfigError(
            f"SubSpectralNorm needs the mel axis ({freq}) divisible by sub_bands={sub_bands}; "
            "use 40 (or a multiple of 40) mel bins."
        )
    width = freq // sub_bands
    y = keras.layers.Reshape((time, sub_bands, width, channels), name=f"{name}_split")(x)
    y = keras.layers.Permute((1, 3, 2, 4), name=f"{name}_to_bands")(y)
    y = keras.layers.Reshape((time, width, sub_bands * channels), name=f"{name}_merge")(y)
    y = keras.layers.BatchNormalization(name=f"{name}_bn")(y)
    y = keras.layers.Reshape((time, width, sub_bands, channels), name=f"{name}_unmerge")(y)
    y = keras.layers.Permute((1, 3, 2, 4), name=f"{name}_from_bands")(y)
    return keras.layers.Reshape((time, freq, channels), name=f"{name}_join")(y)


def _bc_block(x, channels: int, stride: int, dilation: int, sub_bands: int, name: str):
    """Broadcasted residual block: a frequency-wise 2-D part, averaged over frequency, a
    temporal 1-D part, broadcast back and added (plus the identity outside transitions)."""
    transition = x.shape[-1] != channels
    shortcut = x
    if transition:
        x = keras.layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_expand")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_expand_bn")(x)
        x = keras.layers.ReLU(name=f"{name}_expand_relu")(x)
    x = keras.layers.DepthwiseConv2D(
        (1, 3), strides=(1, stride), padding="same", use_bias=False, name=f"{name}_freq_dw"
    )(x)
    x = _sub_spectral_norm(x, sub_bands, f"{name}_ssn")
    aux = x
    y = keras.layers.AveragePooling2D((1, x.shape[2]), name=f"{name}_freq_avg")(x)
    y = keras.layers.DepthwiseConv2D(
        (3, 1), dilation_rate=(dilation, 1), padding="same", use_bias=False,
        name=f"{name}_time_dw",
    )(y)
    y = keras.layers.BatchNormalization(name=f"{name}_time_bn")(y)
    y = keras.layers.Activation("swish", name=f"{name}_swish")(y)
    y = keras.layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_pw")(y)
    y = keras.layers.SpatialDropout2D(0.1, name=f"{name}_dropout")(y)
    x = keras.layers.Add(name=f"{name}_broadcast_add")([aux, y])
    if not transition:
        x = keras.layers.Add(name=f"{name}_add")([x, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(x)


def broadcasted_resnet(
    *,
    tau: float = 1.0,
    input_shape: Sequence[int] = (98, 40, 1),
    num_classes: int = 12,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    sub_bands: int = 5,
    name: str = "bc_resnet",
) -> keras.Model:
    """BC-ResNet-τ: a 5x5 stem (frequency stride 2), four stages of (2, 2, 4, 4) broadcasted
    residual blocks with 8τ/12τ/16τ/20τ channels, frequency strides in stages 2 and 3, temporal
    dilations 1/2/4/8, then a 5x5 depthwise convolution that consumes the 5 remaining frequency
    bins and a 1x1 convolution to 32τ channels. The head averages over time.
    """
    base = int(8 * tau)
    widths = [2 * base, base, int(1.5 * base), 2 * base, int(2.5 * base), 4 * base]
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = keras.layers.Conv2D(
        widths[0], 5, strides=(1, 2), padding="same", use_bias=False, name="stem_conv"
    )(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for stage, count in enumerate((2, 2, 4, 4)):
        for block in range(count):
            stride = 2 if stage in (1, 2) and block == 0 else 1
            x = _bc_block(
                x, widths[stage + 1], stride, 2**stage, sub_bands, f"stage{stage}_block{block}"
            )
    freq = x.shape[2]
    x = keras.layers.ZeroPadding2D(((2, 2), (0, 0)), name="tail_pad")(x)
    x = keras.layers.DepthwiseConv2D((5, freq), use_bias=False, name="tail_dw")(x)
    x = keras.layers.Conv2D(widths[-1], 1, use_bias=False, name="tail_pw")(x)
    x = keras.layers.BatchNormalization(name="tail_bn")(x)
    x = keras.layers.ReLU(name="tail_relu")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


def _bc(tau: float, name: str, kwargs: dict) -> keras.Model:
    kwargs.setdefault("name", name)
    return broadcasted_resnet(tau=tau, **kwargs)


@register("models", family="bc_resnet", paper=BC_RESNET, params=11_648, published_params="9.2k",
          **_AUDIO_META)
@variant_of(broadcasted_resnet)
def bc_resnet1(**kwargs) -> keras.Model:
    """BC-ResNet-1 (τ = 1): 8/12/16/20 channels per stage."""
    return _bc(1, "bc_resnet1", kwargs)


@register("models", family="bc_resnet", paper=BC_RESNET, params=20_778,
          **_AUDIO_META)
@variant_of(broadcasted_resnet)
def bc_resnet1_5(**kwargs) -> keras.Model:
    """BC-ResNet-1.5 (τ = 1.5): 12/18/24/30 channels per stage."""
    return _bc(1.5, "bc_resnet1_5", kwargs)


@register("models", family="bc_resnet", paper=BC_RESNET, params=32_116, published_params="27.3k",
          **_AUDIO_META)
@variant_of(broadcasted_resnet)
def bc_resnet2(**kwargs) -> keras.Model:
    """BC-ResNet-2 (τ = 2): 16/24/32/40 channels per stage."""
    return _bc(2, "bc_resnet2", kwargs)


@register("models", family="bc_resnet", paper=BC_RESNET, params=61_416, published_params="54.2k",
          **_AUDIO_META)
@variant_of(broadcasted_resnet)
def bc_resnet3(**kwargs) -> keras.Model:
    """BC-ResNet-3 (τ = 3): 24/36/48/60 channels per stage."""
    return _bc(3, "bc_resnet3", kwargs)


@register("models", family="bc_resnet", paper=BC_RESNET, params=202_308, published_params="188k",
          **_AUDIO_META)
@variant_of(broadcasted_resnet)
def bc_resnet6(**kwargs) -> keras.Model:
    """BC-ResNet-6 (τ = 6): 48/72/96/120 channels per stage."""
    return _bc(6, "bc_resnet6", kwargs)


@register("models", family="bc_resnet", paper=BC_RESNET, params=340_396, published_params="321k",
          **_AUDIO_META)
@variant_of(broadcasted_resnet)
def bc_resnet8(**kwargs) -> keras.Model:
    """BC-ResNet-8 (τ = 8): 64/96/128/160 channels per stage."""
    return _bc(8, "bc_resnet8", kwargs)
