"""Rebuild the presets shipped inside kerazoo: ``python -m kerazoo.zoo.make_presets [NAME...]``.

``simple_cnn_digits``: a small ``simple_cnn`` trained on scikit-learn's 8x8 handwritten digits
(1,797 images from UCI, CC BY 4.0, bundled with scikit-learn so training needs no download).
Needs scikit-learn (the ``dev`` extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras

from kerazoo import zoo
from kerazoo.zoo.presets import SHIPPED_DIR

COMMAND = "python -m kerazoo.zoo.make_presets"


def digits_splits(seed: int = 0):
    """Digits as ``[8, 8, 1]`` floats in ``[0, 1]`` (pixels are 0..16), 80/20 stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = (data.images / 16.0).astype("float32")[..., None]
    return train_test_split(
        images, data.target.astype("int32"), test_size=0.2, random_state=seed,
        stratify=data.target,
    )


def make_simple_cnn_digits(target: Path, epochs: int = 30) -> Path:
    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = digits_splits()
    model = zoo.build(
        "simple_cnn", input_shape=(8, 8, 1), num_classes=10, filters=(16, 32), hidden_units=(64,)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    metadata = {
        "name": "simple_cnn_digits",
        "summary": "simple_cnn (16/32 filters, 64 hidden) trained on 8x8 handwritten digits.",
        "dataset": "scikit-learn load_digits (UCI optical digits, 1,797 8x8 images), "
        "80/20 stratified split, random_state=0; pixels / 16",
        "metrics": {"test_accuracy": round(float(accuracy), 4), "test_samples": len(y_test)},
        "training_command": COMMAND,
        "training": f"Adam 3e-3, batch 32, {epochs} epochs, seed 0",
        "license": "Apache-2.0 (weights); data CC BY 4.0",
        "preprocessing": {"input": "image", "rescale": 1 / 16, "note": "digits pixels are 0..16"},
    }
    return zoo.save_to_preset(model, target, metadata=metadata, overwrite=True)


def recipe_preset_metadata(task_name: str, name: str, *, overrides=(), notes: str = "",
                           license: str = "Apache-2.0", preprocessing=None) -> dict:
    """Metadata of a preset made from a recipe run: reproducing command, notes, license."""
    command = f"kerazoo train {task_name}" + "".join(f" --set {item}" for item in overrides)
    return {
        "training_command": f"{COMMAND} {name}   # = {command}, then export --format preset",
        "notes": notes, "license": license, "preprocessing": preprocessing,
    }


def make_recipe_preset(task_name: str, name: str, target: Path, **metadata) -> Path:
    """Train ``task_name`` with its defaults (plus ``overrides``) and save the run as a preset."""
    import json
    import tempfile

    from kerazoo.recipes import api
    from kerazoo.recipes.export import export_preset

    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(scratch) / "run"
        api.train(task_name, run_dir, overrides=list(metadata.get("overrides", ())),
                  export=False, verbose=True)
        task, model = api.load_run(run_dir)
        labels = json.loads((run_dir / "labels.json").read_text())
        return export_preset(task, model, run_dir, labels, name=name, target=target,
                             extra=recipe_preset_metadata(task_name, name, **metadata))


SENTIMENT_PRESET = {
    "license": "Apache-2.0 (weights); data CC0-1.0 (written for kerazoo)",
    "preprocessing": {"input": "raw_text", "note": "a batch of strings; the vectorizer (and "
                      "its vocabulary) is the model's first layer"},
    "notes": (
        "Trained by the sentiment_analysis recipe with its defaults on the embedded "
        "`sentiment_reviews` corpus (train 2,100 / validation 448 / test 452). The model "
        "takes raw strings: its `vectorizer` layer holds the vocabulary adapted on the "
        "training split.\n\nBaseline on the same test split: bag-of-words logistic "
        "regression (scikit-learn `CountVectorizer(token_pattern=r\"(?u)\\b\\w+\\b\")` + "
        "`LogisticRegression(C=1.0, max_iter=2000)`): accuracy 0.6062, macro-F1 0.6057. "
        "Negation and contrast defeat word counts; the BiLSTM reads word order."
    ),
}


def make_sentiment_bilstm_embedded(target: Path) -> Path:
    return make_recipe_preset("sentiment_analysis", "sentiment_bilstm_embedded", target,
                              **SENTIMENT_PRESET)


SPEECH_PRESET = {
    "license": "Apache-2.0 (weights); data CC0-1.0 (synthesized for kerazoo with espeak-ng)",
    "preprocessing": {"input": "waveform", "sample_rate": 16_000, "samples": 16_000,
                      "note": "float32 [batch, 16000] in [-1, 1]; log-mel and per-utterance "
                      "standardization are the model's first layers"},
    "notes": (
        "Trained by the speech_commands recipe with its defaults (bc_resnet1, 40 epochs, "
        "time shift + noise mixing + SpecAugment) on the embedded `speech_commands_tiny` set: "
        "12 classes, 567 training clips from 40 synthetic espeak-ng voices; the 113 test clips "
        "come from 8 other voices. Synthetic speech is far more uniform than recordings of "
        "people: treat this as a smoke test and a starting point for fine-tuning "
        "(`--init preset:speech_bc_resnet_embedded`), not as a keyword spotter for users."
    ),
}


def make_speech_bc_resnet_embedded(target: Path) -> Path:
    return make_recipe_preset("speech_commands", "speech_bc_resnet_embedded", target,
                              **SPEECH_PRESET)


PRESETS = {
    "simple_cnn_digits": make_simple_cnn_digits,
    "sentiment_bilstm_embedded": make_sentiment_bilstm_embedded,
    "speech_bc_resnet_embedded": make_speech_bc_resnet_embedded,
}


def main(argv=None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(PRESETS)
    for name in names:
        if name not in PRESETS:
            print(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}", file=sys.stderr)
            return 1
        folder = PRESETS[name](SHIPPED_DIR / name)
        print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
