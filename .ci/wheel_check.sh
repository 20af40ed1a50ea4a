#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtual environment and check the import namespace:
# kerazoo.* imports; no top-level layers/zoo/recipes module was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m build --wheel --outdir "$work/dist" . > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/kerazoo-*.whl)
python3 -m zipfile -l "$wheel" | awk '{print $1}' | grep -E '^(layers|zoo|recipes)/' && {
  echo "wheel installs a top-level layers/zoo/recipes folder"; exit 1; } || true
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$wheel"
cd "$work"
"$work/venv/bin/python" - <<'PY'
import importlib.util, sys
import kerazoo.layers, kerazoo.zoo, kerazoo.recipes, kerazoo.losses, kerazoo.metrics
import kerazoo.optimizers, kerazoo.schedules, kerazoo.callbacks, kerazoo.activations
for name in ("layers", "zoo", "recipes"):
    assert importlib.util.find_spec(name) is None, f"top-level module {name!r} is importable"
from kerazoo.cli import main
assert main(["list", "--json"]) == 0
# Package data travels with the wheel: embedded datasets and the shipped preset.
from kerazoo.recipes.embedded import co2, digits, sentiment, speech
assert len(digits.load()["test"][0]) > 300
assert len(sentiment.load_sentiment_reviews("train")[0]) > 1000
assert speech.load("test")[0].shape == (113, 16000)
assert len(co2.load().series["co2"].values) == 2284
from kerazoo import zoo
for preset in ("simple_cnn_digits", "sentiment_bilstm_embedded", "forecast_co2_nlinear"):
    assert zoo.from_preset(preset).count_params() > 0, preset
print("wheel check passed:", kerazoo.__version__)
PY
"$work/venv/bin/kerazoo" --version
