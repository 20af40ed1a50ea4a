"""Convert an exported SavedModel to TensorFlow Lite, and check the result against the original.

Tolerances that ``check_parity`` applies by default (absolute, on every float output):

* ``"none"`` (float32): ``1e-5`` — the same math, only kernels differ.
* ``"dynamic_int8"`` (weights stored as int8, activations quantized on the fly): ``5e-2`` on
  probabilities / activations of order one, which is what dynamic-range quantization gives on small
  dense and conv models; integer outputs (class ids) may flip where two logits almost tie, so up
  to ``5%`` of them may differ (``0`` for float32).
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from kerazoo.errors import ConfigError, DataError, KerazooError

QUANTIZATIONS = ("none", "dynamic_int8")
DEFAULT_TOLERANCE = {"none": 1e-5, "dynamic_int8": 5e-2}
# Fraction of integer output elements (class ids) allowed to differ.
DEFAULT_MISMATCH = {"none": 0.0, "dynamic_int8": 0.05}


def convert_saved_model(
    saved_model_dir: str,
    output_path: str,
    *,
    quantization: str = "none",
    signature_keys: list[str] | None = None,
    allow_select_tf_ops: bool = False,
) -> str:
    """Convert a SavedModel directory to a ``.tflite`` file.

    The file is written to a temporary name beside ``output_path`` and renamed when complete, so a
    failed conversion never leaves a partial file.

    Args:
        saved_model_dir: A SavedModel directory (one version, holding ``saved_model.pb``).
        output_path: Where to write the ``.tflite`` flatbuffer.
        quantization: ``"none"`` (float32) or ``"dynamic_int8"`` (dynamic-range quantization:
            int8 weights, float activations). Defaults to ``"none"``.
        signature_keys: Signatures to convert. Defaults to ``["serving_default"]``.
        allow_select_tf_ops: Let ops outside TFLite's builtin set run as TensorFlow ("Flex")
            ops; the file then needs an interpreter linked with the Flex delegate, which the
            ``tensorflow`` 2.21 pip package's ``tf.lite.Interpreter`` is not. Defaults to False.

    Returns:
        ``output_path``.

    Raises:
        ConfigError: an unknown ``quantization``.
        KerazooError: the model uses ops TFLite cannot convert (named in the message).

    Example:

    >>> import tempfile, tensorflow as tf
    >>> class Double(tf.Module):
    ...     @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
    ...     def double(self, x):
    ...         return {"y": 2.0 * x}
    >>> folder = tempfile.mkdtemp()
    >>> module = Double()
    >>> tf.saved_model.save(module, folder + "/1", signatures={"serving_default": module.double})
    >>> path = convert_saved_model(folder + "/1", folder + "/model.tflite")
    >>> path.endswith("model.tflite")
    True
    """
    import tensorflow as tf

    if quantization not in QUANTIZATIONS:
        raise ConfigError(
            f"quantization must be one of {list(QUANTIZATIONS)}. Received: quantization="
            f"{quantization!r}"
        )
    source = Path(saved_model_dir)
    if not (source / "saved_model.pb").is_file():
        raise DataError(f"{str(source)!r} is not a SavedModel directory (no saved_model.pb)")
    keys = list(signature_keys or ["serving_default"])
    converter = tf.lite.TFLiteConverter.from_saved_model(str(source), signature_keys=keys)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if allow_select_tf_ops:
        converter.target_spec.supported_ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    if quantization == "dynamic_int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        flatbuffer = converter.convert()
    except Exception as error:  # ConverterError and friends: report which ops failed
        ops = sorted(set(re.findall(r"'(tf\.\w+)' op is neither", str(error))))
        allowed = "TFLite builtins or Select TF ops" if allow_select_tf_ops else "TFLite builtins"
        detail = (f"these ops are not {allowed}: {', '.join(ops)}" if ops
                  else str(error).strip().splitlines()[0][:300])
        hint = ("" if allow_select_tf_ops else
                " (allow_select_tf_ops=True embeds TensorFlow ops that the Flex delegate runs)")
        raise KerazooError(
            f"TFLite cannot convert {str(source)!r} (signatures {keys}): {detail}. Convert "
            f"a signature or model without them (signature_keys=: an image export's "
            f"serving_default takes decoded pixels, not encoded bytes; a forecaster trained "
            f"with data.calendar_features needs float64 ops TFLite lacks){hint}."
        ) from error
    output = Path(output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".tflite", dir=output.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(flatbuffer)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return str(output)


def _interpreter(model_path: str) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter warns that LiteRT replaces it
        return Interpreter(model_path=model_path)


def run_tflite(model_path: str, feeds: dict[str, np.ndarray], signature: str = "serving_default"
               ) -> dict[str, np.ndarray]:
    """Run a ``.tflite`` file's signature on ``{input name: array}``."""
    runner = _interpreter(model_path).get_signature_runner(signature)
    return {name: np.asarray(value) for name, value in runner(**feeds).items()}


def check_parity(
    saved_model_dir: str,
    model_path: str,
    feeds: dict[str, np.ndarray],
    *,
    quantization: str = "none",
    atol: float | None = None,
    signature: str = "serving_default",
) -> dict[str, float]:
    """Compare a ``.tflite`` file's outputs with the SavedModel's on the same inputs.

    Args:
        saved_model_dir: The SavedModel that was converted.
        model_path: The ``.tflite`` file.
        feeds: Inputs, ``{input name: array}``.
        quantization: Picks the default tolerance (see the module docstring).
        atol: Absolute tolerance for float outputs. Defaults to the quantization's (above).
        signature: The signature to compare.

    Returns:
        ``{output name: difference}``: the largest absolute difference for float outputs, the
        fraction of differing elements for integer outputs.

    Raises:
        DataError: an output differs by more than the tolerance, or output names differ.
    """
    import tensorflow as tf

    tolerance = DEFAULT_TOLERANCE[quantization] if atol is None else atol
    reference_fn = tf.saved_model.load(saved_model_dir).signatures[signature]
    reference = {k: v.numpy() for k, v in reference_fn(**feeds).items()}
    lite = run_tflite(model_path, feeds, signature)
    if set(reference) != set(lite):
        raise DataError(f"outputs differ: SavedModel {sorted(reference)}, TFLite {sorted(lite)}")
    differences = {}
    for name, expected in reference.items():
        actual = lite[name].reshape(expected.shape)
        if expected.dtype.kind in "iub":
            difference = float(np.mean(expected != actual)) if expected.size else 0.0
            limit = DEFAULT_MISMATCH[quantization]
        else:
            difference = float(np.max(np.abs(expected - actual), initial=0.0))
            limit = tolerance
        differences[name] = difference
        if difference > limit:
            raise DataError(
                f"TFLite output {name!r} differs from the SavedModel by {difference:.3g} "
                f"(tolerance {limit:g})"
            )
    return differences
