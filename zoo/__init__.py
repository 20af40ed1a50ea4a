"""kerazoo.zoo: reference CNN, LSTM and MLP builders behind one registry, with presets, and
ImageNet-pretrained backbones (``build(name, weights="imagenet")`` for ``resnet50`` and the
``keras.applications`` families ``efficientnetv2_b0..b3``, ``mobilenetv3_small/large``,
``convnext_tiny/small``; feed them as ``preprocessing_for(name, "imagenet")`` says).

Every model is registered in ``kerazoo.registry.registry("models")`` by a small builder function
whose name is the model name (timm style). Built models are plain functional ``keras.Model``s of
two named parts, ``backbone`` and ``head``:

>>> from kerazoo import zoo
>>> model = zoo.build("resnet20", num_classes=10)
>>> model.get_layer("backbone").output.shape
(None, 8, 8, 64)

Inputs: image models take float ``[H, W, C]`` preprocessed as ``model_config(name)
["preprocessing"]`` says; text models int token ids ``[T]`` (overrides ``vocab_size``,
``sequence_length``); audio models log-mel ``[T, F, 1]`` (CNNs) or ``[T, F]`` (LSTMs);
forecasters ``[lookback, features]`` and return ``[horizon, targets]``. Classifier heads return
logits (train with ``from_logits=True``).
"""

from kerazoo.zoo import (  # noqa: F401  (registers)
    applications,
    audio,
    cnn,
    ensemble,
    forecasting,
    lstm,
    mlp,
    resnet,
    text,
)
from kerazoo.zoo.api import (
    TASKS,
    build,
    list_models,
    model_config,
    replace_head,
    set_backbone_trainable,
)
from kerazoo.zoo.applications import preprocessing_for
from kerazoo.zoo.presets import from_preset, list_presets, save_to_preset
from kerazoo.zoo.profile import profile

__all__ = [
    "TASKS",
    "build",
    "list_models",
    "from_preset",
    "list_presets",
    "model_config",
    "preprocessing_for",
    "profile",
    "replace_head",
    "save_to_preset",
    "set_backbone_trainable",
]
