"""Per-epoch curves of the text models on the embedded sentiment corpus and on a noisy 3-class
set: is the BiLSTM default worth its time against TF-IDF + linear and fastText bigrams?

Each model is trained with plain ``model.fit`` (Adam, batch 32) for ``--epochs`` epochs and the
per-epoch training accuracy, validation loss/accuracy and the cumulative seconds are printed,
with scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2))`` + ``LogisticRegression`` as the
reference. Early stopping on validation loss with best-weights restore is emulated by reading
the test accuracy at the epoch of the lowest validation loss (the model is evaluated on the test
split after every epoch: cheap on these sizes).

The noisy set mimics short human posts: 3 classes, mixed domains, typos, negations ("not
great"), misleading cue words; 6,000 training rows by default.

Usage: python benchmarks/peers/text_baselines_curves.py [--corpus embedded|noisy|both]
       [--epochs 10] [--models bilstm_text_classifier,fasttext_bigram,tfidf]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

POSITIVE = ["good", "great", "love", "excellent", "happy", "nice", "perfect", "recommend",
            "amazing", "fast", "works", "beautiful"]
NEGATIVE = ["bad", "awful", "hate", "terrible", "poor", "broken", "worst", "refund", "slow",
            "useless", "rude", "cold"]
NEUTRAL = ["okay", "average", "fine", "normal", "arrived", "received", "standard", "usual",
           "expected", "ordinary"]
CUES = (NEGATIVE, NEUTRAL, POSITIVE)


def _typo(word: str, rng) -> str:
    if len(word) < 4 or rng.random() > 0.12:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(3)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]


def noisy_texts(n: int, seed: int):
    rng = np.random.default_rng(seed)
    domains = [["phone", "battery", "screen", "app", "update", "charger"],
               ["hotel", "room", "staff", "breakfast", "bed", "pool"],
               ["movie", "plot", "actor", "ending", "scene", "music"],
               ["food", "pizza", "waiter", "table", "menu", "dessert"],
               ["delivery", "package", "courier", "box", "order", "tracking"]]
    fill = ["the", "a", "it", "was", "is", "and", "but", "so", "my", "this", "i", "we", "today",
            "really", "very", "just", "lol", "tbh", "!!", "..."] + [f"x{i}" for i in range(400)]
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(3))
        domain = domains[int(rng.integers(len(domains)))]
        words = [str(rng.choice(domain if rng.random() < 0.4 else fill))
                 for _ in range(int(rng.integers(3, 16)))]
        cues = []
        for _ in range(int(rng.integers(1, 3))):
            if label != 1 and rng.random() < 0.3:
                cues += [str(rng.choice(["not", "never", "hardly"])), str(rng.choice(CUES[2 - label]))]
            elif rng.random() < 0.25:
                cues.append(str(rng.choice(CUES[int(rng.integers(3))])))
            elif label == 1 and rng.random() < 0.3:
                continue  # neutral posts often carry no cue at all
            else:
                cues.append(str(rng.choice(CUES[label])))
        for cue in cues:
            words.insert(int(rng.integers(len(words) + 1)), cue)
        texts.append(" ".join(_typo(w, rng) for w in words))
        labels.append(label)
    return np.asarray(texts, dtype=object), np.asarray(labels)


def load(corpus: str, n_train: int):
    if corpus == "noisy":
        return (noisy_texts(n_train, 0), noisy_texts(n_train // 5, 1), noisy_texts(n_train // 2, 2),
                ["negative", "neutral", "positive"])
    from kerazoo.recipes.embedded.sentiment import CLASS_NAMES, load_sentiment_reviews

    splits = []
    for split in ("train", "validation", "test"):
        texts, labels = load_sentiment_reviews(split)
        splits.append((np.asarray(texts, dtype=object),
                       np.asarray([CLASS_NAMES.index(label) for label in labels])))
    return (*splits, list(CLASS_NAMES))


def build(name: str, x, classes: int, length: int = 48):
    import keras

    from kerazoo import zoo

    if name == "tfidf":
        from kerazoo.zoo.text import tfidf_linear_classifier

        return tfidf_linear_classifier(x, num_classes=classes), 1e-2
    vectorizer = keras.layers.TextVectorization(max_tokens=10_000, output_sequence_length=length)
    vectorizer.adapt(x)
    inner = zoo.build(name, input_shape=(length,), num_classes=classes,
                      vocab_size=vectorizer.vocabulary_size(), sequence_length=length)
    inputs = keras.Input((), dtype="string")
    return keras.Model(inputs, inner(vectorizer(inputs))), (1e-2 if name == "fasttext_bigram"
                                                          else 3e-3)


def curves(name, data, epochs):
    import keras
    from sklearn.metrics import f1_score

    (x, y), (vx, vy), (tx, ty), classes = data
    keras.utils.set_random_seed(0)
    started = time.monotonic()
    model, rate = build(name, x, len(classes))
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    rows = []
    for epoch in range(epochs):
        history = model.fit(x, y, batch_size=32, epochs=1, validation_data=(vx, vy), verbose=0)
        predicted = model.predict(tx, batch_size=256, verbose=0).argmax(-1)
        rows.append({"epoch": epoch + 1, "train_acc": history.history["accuracy"][0],
                     "val_loss": history.history["val_loss"][0],
                     "val_acc": history.history["val_accuracy"][0],
                     "test_acc": float(np.mean(predicted == ty)),
                     "test_macro_f1": float(f1_score(ty, predicted, average="macro")),
                     "seconds": time.monotonic() - started})
    best = min(rows, key=lambda row: row["val_loss"])
    return rows, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="both", choices=("embedded", "noisy", "both"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-size", type=int, default=6000)
    parser.add_argument("--models", default="bilstm_text_classifier,fasttext_bigram,tfidf")
    args = parser.parse_args()
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline

    for corpus in ("embedded", "noisy") if args.corpus == "both" else (args.corpus,):
        data = load(corpus, args.train_size)
        (x, y), _, (tx, ty), _ = data
        started = time.monotonic()
        reference = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)),
                                  LogisticRegression(max_iter=1000)).fit(list(x), y)
        predicted = reference.predict(list(tx))
        print(json.dumps({"corpus": corpus, "model": "sklearn_tfidf_logreg", "train": len(y),
                          "test_acc": round(float(np.mean(predicted == ty)), 4),
                          "test_macro_f1": round(float(f1_score(ty, predicted, average="macro")), 4),
                          "seconds": round(time.monotonic() - started, 1)}), flush=True)
        for name in args.models.split(","):
            rows, best = curves(name, data, args.epochs)
            for row in rows:
                print(json.dumps({"corpus": corpus, "model": name,
                                  **{k: round(v, 4) for k, v in row.items()}}), flush=True)
            print(json.dumps({"corpus": corpus, "model": name, "early_stop_epoch": best["epoch"],
                              "test_acc_at_best_val_loss": round(best["test_acc"], 4),
                              "test_f1_at_best_val_loss": round(best["test_macro_f1"], 4),
                              "last_epoch_test_acc": round(rows[-1]["test_acc"], 4),
                              "seconds_to_best": round(best["seconds"], 1)}), flush=True)


if __name__ == "__main__":
    main()
