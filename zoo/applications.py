"""ImageNet-pretrained families wrapping ``keras.applications``: EfficientNetV2 (Tan & Le 2021),
MobileNetV3 (Howard et al. 2019) and ConvNeXt (Liu et al. 2022); and the table of Keras's
published ImageNet weight files behind ``zoo.build(name, weights="imagenet")``.

The backbone of each model is the ``keras.applications`` network without its top (same layers,
same order), so Keras's published "no top" weight file loads into it the way
``keras.applications`` loads it: ``load_weights`` on the ``.h5`` file, matched by topology (the
order of the layers that hold weights). The head is the zoo's (pooling, optional dropout, a
``Dense`` classifier returning logits): ImageNet weights cover the backbone, the head is new and
is what fine-tuning trains first.

These models rescale their input themselves (``include_preprocessing=True`` in Keras): they take
float RGB pixels in ``[0, 255]``; ``preprocessing_for(name)`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from kerazoo.errors import ConfigError, KerazooError
from kerazoo.registry import register
from kerazoo.zoo.heads import assemble_classifier, variant_of

KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class PublishedWeights:
    """A weights file Keras publishes for ``keras.applications`` (values from Keras's source)."""

    file_name: str
    folder: str  # under KERAS_APPLICATIONS_URL
    file_hash: str  # md5 (32 hex digits) or sha256 (64), as Keras's source records it

    @property
    def url(self) -> str:
        return f"{KERAS_APPLICATIONS_URL}{self.folder}/{self.file_name}"


# The "no top" (backbone-only) files, from keras/src/applications/{resnet,efficientnet_v2,
# mobilenet_v3,convnext}.py of Keras 3.15: file name, folder, and the hash Keras checks.
IMAGENET_WEIGHTS: dict[str, PublishedWeights] = {
    "resnet50": PublishedWeights(
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "resnet",
        "4d473c1dd8becc155b73f8504c6f6626"),
    "efficientnetv2_b0": PublishedWeights(
        "efficientnetv2-b0_notop.h5", "efficientnet_v2", "893217f2bb855e2983157299931e43ff"),
    "efficientnetv2_b1": PublishedWeights(
        "efficientnetv2-b1_notop.h5", "efficientnet_v2", "0e80663031ca32d657f9caa404b6ec37"),
    "efficientnetv2_b2": PublishedWeights(
        "efficientnetv2-b2_notop.h5", "efficientnet_v2", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "efficientnetv2_b3": PublishedWeights(
        "efficientnetv2-b3_notop.h5", "efficientnet_v2", "f6abf7b5849ac99a89b50dd3fd532856"),
    "mobilenetv3_small": PublishedWeights(
        "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5", "mobilenet_v3",
        "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "mobilenetv3_large": PublishedWeights(
        "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5", "mobilenet_v3",
        "07fb09a5933dd0c8eaafa16978110389"),
    "convnext_tiny": PublishedWeights(
        "convnext_tiny_notop.h5", "convnext",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": PublishedWeights(
        "convnext_small_notop.h5", "convnext",
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
}

# What the caller does to raw RGB pixels for each family. "inside_model" families take float
# pixels in [0, 255] (rescale 1.0, no mean/std) and normalize in their first layers.
INSIDE_EFFICIENTNETV2 = {
    "input": "image", "rescale": 1.0, "mean": None, "std": None, "input_range": (0, 255),
    "inside_model": "Rescaling(1/255) then Normalization(ImageNet mean/std)",
}
INSIDE_MOBILENETV3 = {
    "input": "image", "rescale": 1.0, "mean": None, "std": None, "input_range": (0, 255),
    "inside_model": "Rescaling(1/127.5, offset=-1) to [-1, 1]",
}
INSIDE_CONVNEXT = {
    "input": "image", "rescale": 1.0, "mean": None, "std": None, "input_range": (0, 255),
    "inside_model": "Rescaling(1/255) then Normalization(ImageNet mean/std)",
}
# keras.applications.ResNet50's weights were trained on Caffe-style input: BGR channel order,
# pixels in [0, 255] minus the ImageNet BGR mean, no scaling (resnet.preprocess_input).
CAFFE_BGR = {
    "input": "image", "rescale": 1.0, "channel_order": "BGR",
    "mean": (103.939, 116.779, 123.68), "std": None, "input_range": (0, 255),
    "inside_model": None,
}
IMAGENET_PREPROCESSING = {"resnet50": CAFFE_BGR}

TAN_2021 = "Tan & Le, EfficientNetV2: Smaller Models and Faster Training, ICML 2021"
HOWARD_2019 = "Howard et al., Searching for MobileNetV3, ICCV 2019"
LIU_2022 = "Liu et al., A ConvNet for the 2020s, CVPR 2022"

_ARCHITECTURES = {
    "efficientnetv2_b0": "EfficientNetV2B0", "efficientnetv2_b1": "EfficientNetV2B1",
    "efficientnetv2_b2": "EfficientNetV2B2", "efficientnetv2_b3": "EfficientNetV2B3",
    "mobilenetv3_small": "MobileNetV3Small", "mobilenetv3_large": "MobileNetV3Large",
    "convnext_tiny": "ConvNeXtTiny", "convnext_small": "ConvNeXtSmall",
}


def keras_application(
    *,
    architecture: str,
    input_shape: Sequence[int] = (224, 224, 3),
    num_classes: int = 1000,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float | None = None,
    name: str = "keras_application",
) -> keras.Model:
    """A ``keras.applications`` network (without its top) as the backbone of a zoo classifier.

    Args:
        architecture: the ``keras.applications`` function, e.g. ``"EfficientNetV2B0"``.
        input_shape: ``[H, W, 3]``, at least 32x32. Defaults to ``(224, 224, 3)``.
        num_classes: classes of the zoo head. Defaults to 1000.
        include_top: add the zoo head (pooling, dropout, logits). Defaults to ``True``.
        pooling: ``"avg"``/``"max"`` feature pooling without a top. Defaults to ``None``.
        dropout: dropout before the logits. Defaults to ``None`` (the family's own).
        name: the model's name.
    """
    if architecture not in _ARCHITECTURES.values():
        raise ConfigError(
            f"architecture must be one of {sorted(_ARCHITECTURES.values())}. "
            f"Received: architecture={architecture!r}"
        )
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3 or min(input_shape[:2]) < 32:
        raise ConfigError(
            f"{architecture} takes RGB images of at least 32x32, [H, W, 3]. "
            f"Received: input_shape={input_shape}"
        )
    inputs = keras.Input(input_shape, name="inputs")
    network = getattr(keras.applications, architecture)(
        include_top=False, weights=None, input_tensor=inputs, include_preprocessing=True,
    )
    # A new Functional over the same layers: keras.applications' layer order (which Keras's
    # weight files are matched by) and the zoo's part name.
    backbone = keras.Model(network.inputs[0], network.outputs[0], name="backbone")
    return assemble_classifier(
        backbone, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, name=name,
    )


def _variant(name: str, family: str, paper: str, params: int, preprocessing: dict,
             summary: str, published_params: str | None = None):
    architecture = _ARCHITECTURES[name]

    def builder(**kwargs) -> keras.Model:
        kwargs.setdefault("name", name)
        return keras_application(architecture=architecture, **kwargs)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = summary
    extra = {"published_params": published_params} if published_params else {}
    register(
        "models", task="image_classification", family=family, paper=paper, params=params,
        input_shape=(224, 224, 3), num_classes=1000, preprocessing=preprocessing,
        weights=("imagenet",), keras_application=architecture, **extra,
    )(variant_of(keras_application)(builder))


# Parameters of the zoo model at its defaults (224x224, 1000 classes, the zoo's GAP + Dense
# head). Backbones equal keras.applications' include_top=False counts exactly; totals equal
# keras.applications' include_top=True counts except MobileNetV3, whose Keras top adds a 1x1
# conv of 1024/1280 units (Keras: 2,554,968 Small, 5,507,432 Large). The papers count those
# hidden units too, so MobileNetV3 records no published figure; ConvNeXt's "28M"/"50M" are
# truncations of 28.59M/50.22M, so they are not recorded either.
_variant("efficientnetv2_b0", "efficientnetv2", TAN_2021, 7_200_312, INSIDE_EFFICIENTNETV2,
         "EfficientNetV2-B0 (keras.applications backbone, ImageNet weights available).", "7.1M")
_variant("efficientnetv2_b1", "efficientnetv2", TAN_2021, 8_212_124, INSIDE_EFFICIENTNETV2,
         "EfficientNetV2-B1 (keras.applications backbone, ImageNet weights available).", "8.1M")
_variant("efficientnetv2_b2", "efficientnetv2", TAN_2021, 10_178_374, INSIDE_EFFICIENTNETV2,
         "EfficientNetV2-B2 (keras.applications backbone, ImageNet weights available).", "10.1M")
_variant("efficientnetv2_b3", "efficientnetv2", TAN_2021, 14_467_622, INSIDE_EFFICIENTNETV2,
         "EfficientNetV2-B3 (keras.applications backbone, ImageNet weights available).", "14.4M")
_variant("mobilenetv3_small", "mobilenetv3", HOWARD_2019, 1_516_120, INSIDE_MOBILENETV3,
         "MobileNetV3-Small 1.0 (keras.applications backbone, ImageNet weights available).")
_variant("mobilenetv3_large", "mobilenetv3", HOWARD_2019, 3_957_352, INSIDE_MOBILENETV3,
         "MobileNetV3-Large 1.0 (keras.applications backbone, ImageNet weights available).")
_variant("convnext_tiny", "convnext", LIU_2022, 28_589_128, INSIDE_CONVNEXT,
         "ConvNeXt-Tiny (keras.applications backbone, ImageNet weights available).")
_variant("convnext_small", "convnext", LIU_2022, 50_223_688, INSIDE_CONVNEXT,
         "ConvNeXt-Small (keras.applications backbone, ImageNet weights available).")


def pretrained_weights(name: str) -> dict[str, PublishedWeights]:
    """The pretrained weights ``zoo.build(name, weights=...)`` offers: ``{"imagenet": ...}``."""
    return {"imagenet": IMAGENET_WEIGHTS[name]} if name in IMAGENET_WEIGHTS else {}


def imagenet_weights_file(name: str, input_shape: Sequence[int] | None = None) -> Path:
    """The published ImageNet "no top" file of ``name``, from Keras's cache or downloaded.

    Checked before the model is built, so a missing file or a wrong input fails at once.

    Args:
        name: a key of ``IMAGENET_WEIGHTS``.
        input_shape: the input shape the model will have; must have 3 channels.

    Returns:
        The path of the verified file (``keras.utils.get_file`` into ``$KERAS_HOME/models``).
    """
    from kerazoo.zoo.weights import keras_file

    published = IMAGENET_WEIGHTS.get(name)
    if published is None:
        raise ConfigError(
            f"Model '{name}' has no ImageNet weights; models with them: "
            f"{', '.join(sorted(IMAGENET_WEIGHTS))}."
        )
    if input_shape is not None and tuple(input_shape)[-1] != 3:
        raise ConfigError(
            f"ImageNet weights of '{name}' need RGB input (3 channels). Received: "
            f"input_shape={tuple(input_shape)}"
        )
    return keras_file(published.file_name, published.url, published.file_hash)


def load_imagenet_weights(model: keras.Model, name: str, path: str | Path) -> Path:
    """Load Keras's published ImageNet "no top" weights file into ``model``'s backbone.

    The way ``keras.applications`` loads it: ``load_weights`` on the legacy ``.h5``, matched
    by topology (the order of the layers that hold weights).

    Args:
        model: a model built by ``zoo.build(name, ...)``.
        name: its registered name.
        path: the file (``imagenet_weights_file(name)``).

    Returns:
        ``path``.
    """
    path = Path(path)
    try:
        model.get_layer("backbone").load_weights(str(path))
    except (ValueError, OSError, KeyError) as error:
        detail = " ".join(str(error).split())
        raise KerazooError(
            f"{path} does not fit the backbone of '{name}' ({detail}); expected Keras's "
            f"{IMAGENET_WEIGHTS[name].file_name}."
        ) from None
    return path


def preprocessing_for(name: str, weights: str | None = None) -> dict[str, Any]:
    """What to do to raw RGB pixels before ``name``'s model (with ``weights``) sees them.

    Keys as in ``model_config(name)["preprocessing"]``: ``rescale``, ``mean``, ``std`` (applied
    as ``(x * rescale - mean) / std``), and where they apply ``channel_order`` (``"BGR"``: flip
    the channels first), ``input_range`` (the raw pixel range expected) and ``inside_model``
    (normalization the model does itself; then rescale is 1 and mean/std are None).

    Args:
        name: a registered model name.
        weights: ``None`` (the registered preprocessing) or ``"imagenet"`` (the preprocessing
            the published weights were trained with).

    Example:

    >>> from kerazoo import zoo
    >>> zoo.preprocessing_for("efficientnetv2_b0", "imagenet")["input_range"]
    (0, 255)
    >>> zoo.preprocessing_for("resnet50", "imagenet")["channel_order"]
    'BGR'
    """
    from kerazoo.zoo.api import model_config

    config = model_config(name)
    if weights is None:
        return dict(config.get("preprocessing") or {})
    if weights != "imagenet" or name not in IMAGENET_WEIGHTS:
        offered = ["imagenet"] if name in IMAGENET_WEIGHTS else []
        raise ConfigError(
            f"Model '{name}' has no {weights!r} weights; it offers: {offered or 'none'}."
        )
    return dict(IMAGENET_PREPROCESSING.get(name) or config.get("preprocessing") or {})
