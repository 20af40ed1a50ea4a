"""Every registered zoo model, generated from the registry: it builds, runs, trains a step,
round-trips through ``.keras`` and a preset, and exports a SavedModel (TensorFlow).

Inputs are shrunk where the architecture allows (shorter sequences, smaller images) so the sweep
stays quick on a CPU; the default configurations are covered by the parameter-count tests.
"""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest

from kerazoo import zoo
from kerazoo.registry import registry
from kerazoo.testing import run_model_test
from kerazoo.testing.model_test import sample_inputs

# Smaller inputs for the sweep; every architecture accepts them.
SMALL: dict[str, dict] = {
    "text_cnn": {"sequence_length": 24, "vocab_size": 300},
    "bilstm_text_classifier": {"sequence_length": 12, "vocab_size": 300},
    "lstm_kws": {"input_shape": (20, 40)},
    "tcn": {"input_shape": (32, 2)},
    "mlp_mixer": {"input_shape": (16, 16, 3)},
    "mlp_mixer_s16": {"input_shape": (32, 32, 3), "num_classes": 5},
    "resnet18": {"input_shape": (64, 64, 3), "num_classes": 5},
    "resnet34": {"input_shape": (64, 64, 3), "num_classes": 5},
    "resnet50": {"input_shape": (64, 64, 3), "num_classes": 5},
    "lstm_forecaster": {"input_shape": (24, 2), "horizon": 6},
    "gru_forecaster": {"input_shape": (24, 2), "horizon": 6},
    "lstm_seq2seq_forecaster": {"input_shape": (24, 2), "horizon": 6},
    "nbeats_generic": {"input_shape": (24, 1), "horizon": 6},
    "nbeats_interpretable": {"input_shape": (24, 1), "horizon": 6},
    "dlinear": {"input_shape": (48, 3), "horizon": 12},
    "nlinear": {"input_shape": (48, 3), "horizon": 12},
}
for _name in registry("models").list("bc_resnet*") + registry("models").list("ds_cnn*"):
    SMALL[_name] = {"input_shape": (32, 40, 1)}
# keras.applications families take 32x32 (their smallest input).
PRETRAINED_FAMILIES = ("efficientnetv2*", "mobilenetv3*", "convnext*")
for _pattern in PRETRAINED_FAMILIES:
    for _name in registry("models").list(_pattern):
        SMALL[_name] = {"input_shape": (32, 32, 3), "num_classes": 5}

NAMES = zoo.list_models()


# Every model on every backend (CI runs this file under TensorFlow, JAX and PyTorch). Measured on
# the 2-core CI machine: about 1.5 min for all models under PyTorch, 7 under JAX (XLA compiles
# each train step), 2 under TensorFlow.
#
# The keras.applications families (ImageNet-size networks of 1-50M parameters) cost 20-130 s each
# here even at 32x32: their whole sweep is `slow` (the full TensorFlow run), and the quick run
# on every backend has one smoke case per family (build, forward, predict) below.
PRETRAINED = {n for p in PRETRAINED_FAMILIES for n in registry("models").list(p)}
PRETRAINED_SMOKE = ("efficientnetv2_b0", "mobilenetv3_small", "convnext_tiny")
PRETRAINED_SMOKE_ALL = PRETRAINED_SMOKE
if keras.backend.backend() == "jax":
    # JAX compiles every initializer once per new weight shape: the first EfficientNetV2-B0
    # build took 59 s of CPU here (ConvNeXt-T about 25 s), a second one 0.8 s. The quick JAX run
    # keeps the smallest family; TensorFlow and PyTorch smoke-test all three.
    PRETRAINED_SMOKE = ("mobilenetv3_small",)


def _slow_if_pretrained(names):
    return [pytest.param(n, marks=[pytest.mark.slow] if n in PRETRAINED else []) for n in names]


def _pretrained_marks(name) -> list:
    """The full sweep of a keras.applications model: `slow`, and `heavy` (outside CI's run, in
    `make test-heavy`) except one model per family, so CI stays under its time budget."""
    if name not in PRETRAINED:
        return []
    return [pytest.mark.slow] + ([] if name in PRETRAINED_SMOKE_ALL else [pytest.mark.heavy])


@pytest.mark.parametrize("name", [pytest.param(n, marks=_pretrained_marks(n)) for n in NAMES])
def test_model_builds_runs_trains_and_round_trips(name, tmp_path):
    checks = ("structure", "forward", "train", "keras", "preset")
    run_model_test(name, checks=checks, workdir=tmp_path, **SMALL.get(name, {}))


@pytest.mark.parametrize("name", PRETRAINED_SMOKE)
def test_pretrained_family_smoke(name):
    model = zoo.build(name, **SMALL[name])
    # A forward pass: everywhere for the smallest; on JAX an eager EfficientNetV2 compiles op by
    # op (over a minute on the CI machine), so the others run it on TensorFlow only.
    if keras.backend.backend() == "tensorflow" or name == "mobilenetv3_small":
        outputs = keras.ops.convert_to_numpy(model(sample_inputs(model), training=False))
        assert outputs.shape == (2, 5) and np.all(np.isfinite(outputs))
    assert zoo.profile(model)["macs"] > 0
    frozen = zoo.replace_head(model, 2)
    assert frozen.get_layer("backbone").trainable is False
    assert frozen.output.shape == (None, 2)


def _first_of_each_family(names):
    seen = {}
    for name in names:
        seen.setdefault(zoo.model_config(name)["family"], name)
    return set(seen.values())


# SavedModel export traces the whole model (seconds each on a busy CPU): one model per family
# in the quick run (never a large one), every model in the full (`slow`) TensorFlow run.
HEAVY = {"resnet34", "resnet50", "resnet110", "resnet110_v2", "wide_resnet28_10", "mlp_mixer_s16"}
HEAVY |= PRETRAINED
EXPORT_QUICK = _first_of_each_family([n for n in NAMES if n not in HEAVY])


@pytest.mark.tf_only
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[] if n in EXPORT_QUICK else
                          [pytest.mark.slow, *_pretrained_marks(n)[1:]]) for n in NAMES]
)
def test_model_exports_a_savedmodel(name, tmp_path):
    run_model_test(name, checks=("export",), workdir=tmp_path, **SMALL.get(name, {}))


def _published(text: str) -> tuple[float, float]:
    """'0.27M' -> (270000, 5000): the value and half a unit of its last digit."""
    match = re.fullmatch(r"(\d+(?:\.(\d+))?)([kM])", text)
    assert match, f"unparsable published count {text!r}"
    scale = {"k": 1e3, "M": 1e6}[match.group(3)]
    decimals = len(match.group(2) or "")
    return float(match.group(1)) * scale, 0.5 * scale / 10**decimals


PUBLISHED = [n for n in NAMES if zoo.model_config(n).get("published_params")]


@pytest.mark.tf_only
@pytest.mark.parametrize("name", _slow_if_pretrained(NAMES))
def test_parameter_count_is_the_registered_and_the_published_one(name):
    config = zoo.model_config(name)
    model = zoo.build(name)
    assert model.count_params() == config["params"]
    if config.get("published_params"):
        # Papers count trainable parameters (PyTorch's convention: BatchNorm statistics are
        # buffers), rounded; the count must round to the published figure.
        trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
        value, tolerance = _published(config["published_params"])
        assert abs(trainable - value) <= tolerance, (name, trainable, value)


def test_the_issue_s_published_counts_are_all_checked():
    expected = {"resnet20", "resnet56", "resnet110", "wide_resnet28_10", "bc_resnet1",
                "bc_resnet8", "resnet50"}
    assert expected <= set(PUBLISHED)
    assert zoo.model_config("bc_resnet8")["num_classes"] == 12
    assert zoo.model_config("wide_resnet28_10")["num_classes"] == 10


@pytest.mark.tf_only
def test_resnet50_has_exactly_keras_applications_parameter_count():
    reference = keras.applications.ResNet50(weights=None)
    assert zoo.build("resnet50").count_params() == reference.count_params() == 25_636_712


@pytest.mark.tf_only
@pytest.mark.parametrize(
    ("name", "published_macs"),
    # He et al. 2016 give ResNet-20 ~41M and ResNet-50 3.8G FLOPs (multiply-adds; stride on the
    # 1x1 convolution, as here; torchvision's stride-on-3x3 v1.5 counts 4.1G).
    [("resnet20", 41e6), ("resnet50", 3.8e9), ("bc_resnet1", None)],
)
def test_profile_counts_macs(name, published_macs):
    counts = zoo.profile(zoo.build(name))
    assert counts["params"] == zoo.model_config(name)["params"]
    if published_macs:
        assert abs(counts["macs"] - published_macs) / published_macs < 0.05, counts
    else:
        assert counts["macs"] > 0


@pytest.mark.tf_only
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_pretrained_backbone_has_keras_applications_parameter_count(name):
    architecture = zoo.model_config(name)["keras_application"]
    reference = getattr(keras.applications, architecture)(weights=None, include_top=False)
    backbone = zoo.build(name, include_top=False).get_layer("backbone")
    assert backbone.count_params() == reference.count_params()
