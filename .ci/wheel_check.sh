#!/usr/bin/env bash
# Build the wheel, install it plainly (no extras, no extra steps) into a fresh virtual environment
# and check what a new user gets:
#   - the import namespace: kerazoo.* imports; no top-level layers/zoo/recipes module was installed;
#   - package data: embedded datasets, shipped presets, the catalog index;
#   - `kerazoo list` / `kerazoo info` answer without importing TensorFlow;
#   - `kerazoo serve` (from the installed wheel) answers a REST and a gRPC predict on free ports,
#     with no TensorFlow log line on its stderr, and stops cleanly on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m build --wheel --outdir "$work/dist" . > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/kerazoo-*.whl)
python3 -m zipfile -l "$wheel" | awk '{print $1}' | grep -E '^(layers|zoo|recipes)/' && {
  echo "wheel installs a top-level layers/zoo/recipes folder"; exit 1; } || true
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --upgrade pip
start=$(date +%s)
"$work/venv/bin/pip" install --quiet "$wheel"
echo "plain install: $(( $(date +%s) - start )) s, $(du -sm "$work/venv" | cut -f1) MB venv"
"$work/venv/bin/pip" check
cd "$work"
# A clean environment: the filter is only off when the user chose a TF log level.
unset TF_CPP_MIN_LOG_LEVEL
"$work/venv/bin/python" - <<'PY'
import importlib.util, subprocess, sys
import kerazoo.layers, kerazoo.zoo, kerazoo.recipes, kerazoo.losses, kerazoo.metrics
import kerazoo.optimizers, kerazoo.schedules, kerazoo.callbacks, kerazoo.activations
for name in ("layers", "zoo", "recipes"):
    assert importlib.util.find_spec(name) is None, f"top-level module {name!r} is importable"
# Package data travels with the wheel: embedded datasets and the shipped presets.
from kerazoo.recipes.embedded import co2, digits, sentiment, speech
assert len(digits.load()["test"][0]) > 300
assert len(sentiment.load_sentiment_reviews("train")[0]) > 1000
assert speech.load("test")[0].shape == (113, 16000)
assert len(co2.load().series["co2"].values) == 2284
from kerazoo import zoo
for preset in ("simple_cnn_digits", "sentiment_bilstm_embedded", "forecast_co2_nlinear"):
    assert zoo.from_preset(preset).count_params() > 0, preset
# The catalog commands answer from the shipped index, without TensorFlow.
code = ("import sys\nfrom kerazoo.cli import main\n"
        "assert main(['list', '--json']) == 0 and main(['list', 'presets']) == 0\n"
        "assert main(['info', 'resnet20']) == 0 and main(['info', 'simple_cnn_digits']) == 0\n"
        "assert 'tensorflow' not in sys.modules\n")
subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
print("wheel imports and data: ok", kerazoo.__version__)
PY
"$work/venv/bin/kerazoo" --version
"$work/venv/bin/python" - "$work" <<'PY'
"""Export a tiny SavedModel, serve it with the installed `kerazoo serve`, predict over REST and gRPC."""
import json, os, re, signal, subprocess, sys, threading, time, urllib.request
from pathlib import Path

work = Path(sys.argv[1])
import keras
import numpy as np

inputs = keras.Input((4,), name="x")
model = keras.Model(inputs, keras.layers.Dense(2, name="scores")(inputs))
model.export(str(work / "export" / "1"), format="tf_saved_model", verbose=False)
row = [1.0, 2.0, 3.0, 4.0]
expected = np.asarray(model.predict(np.array([row], "float32"), verbose=0))[0]

kerazoo = str(Path(sys.executable).with_name("kerazoo"))
server = subprocess.Popen(
    [kerazoo, "serve", str(work / "export"), "--rest-port", "0", "--grpc-port", "0",
     "--poll-seconds", "0"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
)
stderr_lines = []
threading.Thread(target=lambda: stderr_lines.extend(server.stderr), daemon=True).start()
try:
    announced = []
    reader = threading.Thread(target=lambda: announced.append(server.stdout.readline()), daemon=True)
    reader.start()
    reader.join(120)
    line = announced[0] if announced else ""
    rest = re.search(r"REST http://([\d.]+):(\d+)", line)
    grpc_at = re.search(r"gRPC ([\d.]+:\d+)", line)
    assert rest and grpc_at, f"no serving line: {line!r}; stderr: {''.join(stderr_lines)}"

    body = json.dumps({"instances": [row]}).encode()
    request = urllib.request.Request(
        f"http://{rest.group(1)}:{rest.group(2)}/v1/models/default:predict", data=body,
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        predictions = np.asarray(json.loads(response.read())["predictions"][0])
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-5)
    print("REST predict:", predictions.tolist())

    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    with grpc.insecure_channel(grpc_at.group(1)) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        grpc_request = predict_pb2.PredictRequest()
        grpc_request.model_spec.name = "default"
        grpc_request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([row], "float32")))
        reply = stub.Predict(grpc_request, timeout=60)
    outputs = {key: tf.make_ndarray(value) for key, value in reply.outputs.items()}
    (scores,) = outputs.values()
    np.testing.assert_allclose(scores[0], expected, rtol=1e-5, atol=1e-5)
    print("gRPC predict:", scores[0].tolist())
finally:
    server.send_signal(signal.SIGTERM)
    code = server.wait(60)
time.sleep(0.2)
noise = [l for l in stderr_lines if re.match(r"^([IWE]\d{4} |WARNING: All log messages)", l)]
assert code == 0, f"kerazoo serve exited {code}; stderr: {''.join(stderr_lines)}"
assert not noise, f"TensorFlow log lines on kerazoo serve's stderr: {noise}"
print("kerazoo serve from the wheel: REST and gRPC predict ok, stopped cleanly")
PY
