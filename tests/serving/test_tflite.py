"""TFLite conversion: parity with the SavedModel (stated tolerances), clear errors, atomic write."""

from __future__ import annotations

import numpy as np
import pytest

from kerazoo.errors import ConfigError, KerazooError
from kerazoo.serving.tflite import DEFAULT_TOLERANCE, check_parity, convert_saved_model

pytestmark = pytest.mark.tf_only


@pytest.fixture(scope="module")
def dense_model(tmp_path_factory):
    """A small two-layer classifier with random weights, exported with a named output."""
    import tensorflow as tf

    tf.random.set_seed(0)

    class Net(tf.Module):
        def __init__(self):
            super().__init__()
            self.w1 = tf.Variable(tf.random.normal([32, 128], stddev=0.2))
            self.w2 = tf.Variable(tf.random.normal([128, 5], stddev=0.2))

        @tf.function(input_signature=[tf.TensorSpec([None, 32], tf.float32, name="features")])
        def serve(self, features):
            hidden = tf.nn.relu(tf.matmul(features, self.w1))
            logits = tf.matmul(hidden, self.w2)
            return {"probabilities": tf.nn.softmax(logits),
                    "class_ids": tf.argmax(logits, axis=-1, output_type=tf.int32)}

    module = Net()
    path = tmp_path_factory.mktemp("dense") / "1"
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


def test_float32_conversion_matches_saved_model(dense_model, tmp_path):
    output = convert_saved_model(str(dense_model), str(tmp_path / "model.tflite"))
    feeds = {"features": np.random.default_rng(1).normal(size=(8, 32)).astype(np.float32)}
    differences = check_parity(str(dense_model), output, feeds)
    print(f"float32 TFLite max |diff|: {differences}")
    assert differences["probabilities"] <= DEFAULT_TOLERANCE["none"] == 1e-5
    assert differences["class_ids"] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]  # no temporary left over


def test_dynamic_int8_conversion_is_smaller_and_within_tolerance(dense_model, tmp_path):
    float_path = convert_saved_model(str(dense_model), str(tmp_path / "f.tflite"))
    int8_path = convert_saved_model(str(dense_model), str(tmp_path / "q.tflite"),
                                    quantization="dynamic_int8")
    assert (tmp_path / "q.tflite").stat().st_size < 0.6 * (tmp_path / "f.tflite").stat().st_size
    feeds = {"features": np.random.default_rng(2).normal(size=(64, 32)).astype(np.float32)}
    differences = check_parity(str(dense_model), int8_path, feeds, quantization="dynamic_int8")
    print(f"dynamic-int8 TFLite: max |diff| of probabilities {differences['probabilities']:.4f}, "
          f"class ids differing {differences['class_ids']:.1%}")
    assert differences["probabilities"] <= DEFAULT_TOLERANCE["dynamic_int8"] == 5e-2
    assert differences["class_ids"] <= 0.05
    assert float_path != int8_path


def test_unconvertible_ops_give_a_clear_error_and_no_file(tmp_path):
    import tensorflow as tf

    class Strings(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve(self, text):
            return {"number": tf.strings.to_number(tf.strings.regex_replace(text, "x", ""))}

    module = Strings()
    tf.saved_model.save(module, str(tmp_path / "1"), signatures={"serving_default": module.serve})
    with pytest.raises(KerazooError, match=r"TFLite cannot convert .*not TFLite builtins: tf\.\w+"):
        convert_saved_model(str(tmp_path / "1"), str(tmp_path / "out" / "m.tflite"))
    assert not (tmp_path / "out" / "m.tflite").exists()
    # As Select TF ops they convert (running them needs an interpreter with the Flex delegate).
    flex = convert_saved_model(str(tmp_path / "1"), str(tmp_path / "out" / "m.tflite"),
                               allow_select_tf_ops=True)
    assert (tmp_path / "out" / "m.tflite").stat().st_size > 0 and flex.endswith("m.tflite")


def test_bad_arguments(dense_model, tmp_path):
    with pytest.raises(ConfigError, match="quantization"):
        convert_saved_model(str(dense_model), str(tmp_path / "m.tflite"), quantization="int4")
    with pytest.raises(KerazooError, match="not a SavedModel"):
        convert_saved_model(str(tmp_path), str(tmp_path / "m.tflite"))
