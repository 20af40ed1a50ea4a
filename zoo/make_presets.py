"""Rebuild the presets shipped inside kerazoo: ``python -m kerazoo.zoo.make_presets [NAME...]``.

``python -m kerazoo.zoo.make_presets --cards [NAME...]`` rewrites the model cards of the
recipe-made presets (metadata.json and README.md: demo status, data, coverage, the figure on
hand-written out-of-distribution inputs) without retraining them.

``simple_cnn_digits``: a small ``simple_cnn`` trained on scikit-learn's 8x8 handwritten digits
(1,797 images from UCI, CC BY 4.0, bundled with scikit-learn so training needs no download).
Needs scikit-learn (the ``dev`` extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np

from kerazoo import zoo
from kerazoo.zoo.presets import SHIPPED_DIR

COMMAND = "python -m kerazoo.zoo.make_presets"


def digits_splits(seed: int = 0):
    """Digits as ``[8, 8, 1]`` uint8 pixels in 0..255 (the UCI 0..16 counts scaled as the image
    recipe's embedded copy scales them), 80/20 stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = np.rint(data.images * (255.0 / 16.0)).astype("uint8")[..., None]
    return train_test_split(
        images, data.target.astype("int32"), test_size=0.2, random_state=seed,
        stratify=data.target,
    )


def with_input_rescaling(model: keras.Model, scale: float, dtype: str) -> keras.Model:
    """``model`` taking raw pixels (as ``dtype``): a ``Rescaling(scale)`` first in its backbone.

    The rescaling sits inside the backbone (not before it), so ``replace_head`` and
    ``set_backbone_trainable`` keep it; the backbone's layers are reused, in order (a chain).
    """
    old = model.get_layer("backbone")
    inputs = keras.Input(old.input.shape[1:], dtype=dtype, name="inputs")
    x = keras.layers.Rescaling(scale, name="rescale")(inputs)
    for layer in old.layers[1:]:
        x = layer(x)
    backbone = keras.Model(inputs, x, name="backbone")
    outer = keras.Input(old.input.shape[1:], dtype=dtype, name="inputs")
    return keras.Model(outer, model.get_layer("head")(backbone(outer)), name=model.name)


DIGITS_DATA = (
    "scikit-learn load_digits: 1,797 real handwritten digits from 43 writers (UCI optical "
    "recognition of handwritten digits), each 32x32 bitmap summed over 4x4 blocks into 8x8 "
    "pixels of 0..16, shipped as 0..255 images; 80/20 stratified split, random_state=0"
)
DIGITS_NOTES = (
    "A demo: a 19k-parameter CNN that knows only this data set's style (thick pen strokes, "
    "centred and size-normalized by the UCI preprocessing). Other digits must be made to look "
    "like it first: 8x8, 0..255, white-on-black ink, centred. On typeset digits rendered to "
    "8x8 its earlier weights got 16/30 (issue 21). For real image work start from an ImageNet-pretrained "
    "backbone: `zoo.build(\"efficientnetv2_b0\", weights=\"imagenet\")`."
)


def _digits_metadata(accuracy: float, test_samples: int, training: str) -> dict:
    return {
        "name": "simple_cnn_digits",
        "task": "image_classification",
        "labels": [str(digit) for digit in range(10)],
        "summary": "Demo: simple_cnn (16/32 filters, 64 hidden) trained on 8x8 handwritten digits.",
        "demo": True,
        "dataset": DIGITS_DATA,
        "coverage": "digits 0-9 in the UCI 8x8 style only",
        "metrics": {"test_accuracy": round(accuracy, 4), "test_samples": test_samples},
        "out_of_distribution": "not re-measured for these weights; the earlier weights got "
                               "16/30 on typeset digits rendered to 8x8 (issue 21)",
        "notes": DIGITS_NOTES,
        "training_command": COMMAND + " simple_cnn_digits",
        "training": training,
        "license": "Apache-2.0 (weights); data CC BY 4.0",
        "preprocessing": {
            "input": "image", "input_range": (0, 255), "rescale": 1.0,
            "inside_model": "Rescaling(1/255) (the backbone's first layer)",
            "note": "image pixels 0..255 as uint8 or float, as every image export takes them "
                    "(the float32 input keeps any value; a uint8 one would truncate floats)",
        },
    }


def make_simple_cnn_digits(target: Path, epochs: int = 30) -> Path:
    """Train the digits preset as a plain Keras script would, keeping its run's artefacts.

    ``metrics.csv`` (per-epoch loss/accuracy, validation on 10% of the training split) and
    ``evaluation.json`` (test accuracy, per-class report, confusion matrix) go into the preset
    folder, as ``kerazoo export --format preset`` puts a recipe run's there: the docs draw the
    curves and the matrix from them.
    """
    import csv
    import io
    import json

    from kerazoo.recipes.evaluation import confusion_matrix, per_class_report
    from kerazoo.recipes.run_dir import atomic_write_text

    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = digits_splits()
    base = zoo.build(
        "simple_cnn", input_shape=(8, 8, 1), num_classes=10, filters=(16, 32), hidden_units=(64,)
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # Cosine decay to zero: at a constant 3e-3, Adam on 1,300 images spikes late in training
    # (validation accuracy 0.99 -> 0.78 within three epochs, seen), and the last epoch is a lottery.
    steps = epochs * int(np.ceil(0.9 * len(x_train) / 32))
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps)
    base.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=["accuracy"])
    # Trained on pixels / 255; the shipped model shares these layers behind a Rescaling(1/255),
    # so it takes 0..255 pixels as every image export does.
    history = base.fit(x_train / 255.0, y_train, batch_size=32, epochs=epochs,
                       validation_split=0.1, verbose=0).history
    model = with_input_rescaling(base, 1 / 255, "float32")
    predicted = np.argmax(model.predict(x_test, verbose=0), -1)
    accuracy = float(np.mean(predicted == y_test))
    metadata = _digits_metadata(
        accuracy, len(y_test), f"Adam 3e-3 with cosine decay, batch 32, {epochs} epochs, seed 0, on pixels / 255, "
        "last 10% of the training split held out for validation"
    )
    folder = zoo.save_to_preset(model, target, metadata=metadata, overwrite=True)
    columns = ["loss", "accuracy", "val_loss", "val_accuracy"]
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["epoch", *columns])
    for epoch in range(epochs):
        writer.writerow([epoch + 1, *(f"{history[c][epoch]:.6g}" for c in columns)])
    atomic_write_text(folder / "metrics.csv", table.getvalue())
    labels = [str(digit) for digit in range(10)]
    matrix = confusion_matrix(y_test, predicted, 10)
    report = {"accuracy": accuracy, "num_examples": len(y_test),
              **per_class_report(matrix, labels), "confusion_matrix": matrix.tolist()}
    atomic_write_text(folder / "evaluation.json", json.dumps(report, indent=2) + "\n")
    return folder


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
        "Trained by the sentiment_analysis recipe with its defaults (early stopping on "
        "validation loss, best epoch restored) on the embedded `sentiment_reviews` corpus "
        "(train 2,100 / validation 448 / test 452). The model takes raw strings: its "
        "`vectorizer` layer holds the vocabulary adapted on the training split.\n\nThe "
        "recipe's own baseline, trained first on the same split, is in `evaluation.json` "
        "(`baseline`): TF-IDF 1-2-grams + an L2-regularised linear layer. Negation and "
        "contrast defeat word counts on this corpus; the BiLSTM reads word order."
    ),
    # The preset is the BiLSTM by name: never the baseline the recipe may prefer on validation.
    "overrides": ("train.prefer_baseline=false",),
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
        "Trained by the speech_commands recipe (bc_resnet1, batch 32, 40 epochs, precise BN "
        "over 16 batches: its defaults until 2026-12-07, now batch 16 and 28 epochs; time "
        "shift + noise mixing + SpecAugment) on the embedded `speech_commands_tiny` set: "
        "12 classes, 567 training clips from 40 synthetic espeak-ng voices; the 113 test clips "
        "come from 8 other voices. Synthetic speech is far more uniform than recordings of "
        "people: treat this as a smoke test and a starting point for fine-tuning "
        "(`--init preset:speech_bc_resnet_embedded`), not as a keyword spotter for users."
    ),
    # What the shipped weights were trained with, so that rebuilding reproduces them.
    "overrides": ("train.epochs=40", "train.batch_size=32", "train.precise_bn_batches=16"),
}


def make_speech_bc_resnet_embedded(target: Path) -> Path:
    return make_recipe_preset("speech_commands", "speech_bc_resnet_embedded", target,
                              **SPEECH_PRESET)


OOD_SENTENCES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / (
    "sentiment_out_of_distribution.tsv"
)


def read_labelled_sentences(path: Path = OOD_SENTENCES) -> list[tuple[str, str, str]]:
    """``(label, domain, text)`` rows of a tab-separated file; ``#`` lines are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, domain, text = line.split("\t")
            rows.append((label, domain, text))
    return rows


def sentiment_out_of_distribution(model: keras.Model, labels: list[str]) -> dict:
    """Accuracy and unknown-word rate of a raw-text sentiment model on the hand-written set."""
    import re

    rows = read_labelled_sentences()
    texts = [text for _, _, text in rows]
    predicted = np.argmax(model.predict(texts, verbose=0), axis=-1)
    correct = [labels[int(i)] == label for i, (label, _, _) in zip(predicted, rows, strict=True)]
    vocabulary = set(model.get_layer("vectorizer").get_vocabulary())
    words = [w for text in texts for w in re.findall(r"[a-z']+", text.lower())]
    unknown = sorted({w for w in words if w not in vocabulary})
    return {
        "correct": int(sum(correct)), "total": len(rows),
        "vocabulary_size": len(vocabulary), "distinct_words": len(set(words)),
        "unknown_words": len(unknown), "unknown_examples": unknown[:12],
    }


def rewrite_card(name: str, fields: dict) -> Path:
    """Update a shipped preset's ``metadata.json`` with ``fields`` and regenerate its README.

    The weights and config are untouched (their sha256 stays the recorded one).
    """
    import json

    from kerazoo.zoo.presets import _demo_lines, model_card

    folder = SHIPPED_DIR / name
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata.update(fields)
    report = folder / "evaluation.json"
    if report.is_file() and (json.loads(report.read_text()).get("baseline") or {}).get("verdict_line"):
        metadata["baseline"] = json.loads(report.read_text())["baseline"]["verdict_line"]
    if (folder / "README.md").read_text().find("## A demo") < 0 and name in HAND_WRITTEN_CARDS:
        # A hand-written card: keep it, put the demo section before its first section.
        readme = (folder / "README.md").read_text()
        cut = readme.index("\n## ") + 1
        readme = readme[:cut] + "\n".join(_demo_lines(metadata)) + "\n" + readme[cut:]
    elif name in HAND_WRITTEN_CARDS:
        readme = (folder / "README.md").read_text()
    else:
        readme = model_card(zoo.from_preset(folder), metadata)
    for file, text in (("metadata.json", json.dumps(metadata, indent=2, default=str) + "\n"),
                       ("README.md", readme)):
        partial = folder / f".{file}.part"
        partial.write_text(text)
        partial.replace(folder / file)
    return folder


HAND_WRITTEN_CARDS = {"forecast_co2_nlinear"}


def sentiment_card_fields() -> dict:
    import json

    metadata = json.loads((SHIPPED_DIR / "sentiment_bilstm_embedded" / "metadata.json").read_text())
    model = zoo.from_preset("sentiment_bilstm_embedded")
    labels = metadata["labels"]
    ood = sentiment_out_of_distribution(model, labels)
    return {
        "demo": True,
        "notes": SENTIMENT_PRESET["notes"],
        "summary": "Demo: a BiLSTM sentiment classifier trained on a small grammar-generated "
                   "review corpus; it knows a few hundred words.",
        "dataset": "sentiment_reviews: 3,000 sentences generated by a hand-written grammar "
                   "(recipes/embedded/generate_sentiment.py: templates and word lists for plain, "
                   "negated, contrastive and idiomatic review clauses), not written reviews; "
                   "70/15/15 split",
        "real_work": "For real text, fine-tune a pretrained text backbone (keras-hub presets "
                     "in the sentiment recipe, planned in issue 21) rather than this model.",
        "coverage": f"{ood['vocabulary_size']} vocabulary entries (including the padding and "
                    f"out-of-vocabulary tokens); {ood['unknown_words']} of the "
                    f"{ood['distinct_words']} distinct words of the 60 hand-written sentences "
                    f"below are unknown to it (e.g. {', '.join(ood['unknown_examples'][:8])})",
        "out_of_distribution": f"{ood['correct']}/{ood['total']} correct "
                               f"({ood['correct'] / ood['total']:.2f}) on 60 hand-written review "
                               "sentences (movies, products, restaurants, apps, services; "
                               "tests/fixtures/sentiment_out_of_distribution.tsv), against "
                               f"{metadata['metrics']['accuracy']} on its own test split",
    }


def speech_card_fields() -> dict:
    return {
        "demo": True,
        "notes": SPEECH_PRESET["notes"],
        "summary": "Demo: BC-ResNet-1 keyword spotter trained on 567 synthetic espeak-ng clips "
                   "of 12 classes.",
        "dataset": "speech_commands_tiny: words synthesized with espeak-ng (40 voices for "
                   "training, 8 other voices for the 113 test clips), 16 kHz, 1 s",
        "coverage": "10 keywords plus _unknown_ and _silence_, synthetic voices only",
        "out_of_distribution": "not measured: no recordings of people are available offline; "
                               "expect much lower accuracy on real speech",
    }


def forecast_card_fields() -> dict:
    return {
        "demo": True,
        "dataset": "co2: weekly Mauna Loa CO2 in ppm (NOAA/Scripps, 2,284 real measurements "
                   "via statsmodels), chronological train/validation/test split",
        "coverage": "one series (Mauna Loa CO2); it forecasts that series only",
        "out_of_distribution": "not applicable: it is a model of one series, not a general "
                               "forecaster",
        "real_work": "For another series, train the time_series_forecasting recipe on it; this "
                     "preset is a worked example and a baseline.",
    }


CARDS = {
    "sentiment_bilstm_embedded": sentiment_card_fields,
    "speech_bc_resnet_embedded": speech_card_fields,
    "forecast_co2_nlinear": forecast_card_fields,
}


PRESETS = {
    "simple_cnn_digits": make_simple_cnn_digits,
    "sentiment_bilstm_embedded": make_sentiment_bilstm_embedded,
    "speech_bc_resnet_embedded": make_speech_bc_resnet_embedded,
}


def main(argv=None) -> int:
    names = list(argv if argv is not None else sys.argv[1:])
    if names[:1] == ["--cards"]:  # rewrite the cards only, keeping the weights
        for name in names[1:] or list(CARDS):
            print(f"rewrote the card of {rewrite_card(name, CARDS[name]())}")
        return 0
    names = names or list(PRESETS)
    for name in names:
        if name not in PRESETS:
            print(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}", file=sys.stderr)
            return 1
        folder = PRESETS[name](SHIPPED_DIR / name)
        print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
