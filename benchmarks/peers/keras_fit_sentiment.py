"""The plain Keras script a user writes for the sentiment recipe's data and zoo model.

The embedded corpus's own train/validation/test splits, a ``TextVectorization`` adapted on the
training texts (10,000 tokens, 48 per text, as the recipe's defaults), the recipe's default zoo
model (``bilstm_text_classifier``), Adam 3e-3, batch 32, 10 epochs, ``model.fit`` with the
validation split, ``model.evaluate`` on the test split. ``--model tfidf`` trains the TF-IDF
1-2-gram linear baseline instead (``kerazoo.zoo.text.tfidf_linear_classifier``). Prints one JSON
line ``{"test_accuracy": ...}``.

Usage: python benchmarks/peers/keras_fit_sentiment.py [--model NAME|tfidf] [--epochs 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bilstm_text_classifier")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import keras

    from kerazoo import zoo
    from kerazoo.recipes.embedded.sentiment import CLASS_NAMES, load_sentiment_reviews

    keras.utils.set_random_seed(args.seed)
    splits = {}
    for split in ("train", "validation", "test"):
        texts, labels = load_sentiment_reviews(split)
        splits[split] = (np.asarray(texts, dtype=object),
                         np.asarray([CLASS_NAMES.index(label) for label in labels]))
    (x, y), (vx, vy), (tx, ty) = (splits[s] for s in ("train", "validation", "test"))
    if args.model == "tfidf":
        from kerazoo.zoo.text import tfidf_linear_classifier

        model = tfidf_linear_classifier(x, num_classes=len(CLASS_NAMES))
    else:
        vectorizer = keras.layers.TextVectorization(max_tokens=10_000, output_sequence_length=48)
        vectorizer.adapt(x)
        inner = zoo.build(args.model, input_shape=(48,), num_classes=len(CLASS_NAMES),
                          vocab_size=vectorizer.vocabulary_size(), sequence_length=48)
        inputs = keras.Input((), dtype="string")
        model = keras.Model(inputs, inner(vectorizer(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=args.epochs, validation_data=(vx, vy), verbose=0)
    _, accuracy = model.evaluate(tx, ty, batch_size=256, verbose=0)
    print(json.dumps({"test_accuracy": float(accuracy), "test_examples": int(len(ty))}))


if __name__ == "__main__":
    main()
