"""The text baselines: TF-IDF + linear on raw strings matches scikit-learn's TF-IDF + logistic
regression on a noisy 3-class set, and both baselines save, load and export on raw strings."""

from __future__ import annotations

import numpy as np
import pytest

POSITIVE = ["good", "great", "love", "excellent", "happy", "nice", "perfect", "recommend"]
NEGATIVE = ["bad", "awful", "hate", "terrible", "poor", "broken", "worst", "refund"]
NEUTRAL = ["okay", "average", "fine", "normal", "arrived", "received", "standard", "usual"]
CUES = (NEGATIVE, NEUTRAL, POSITIVE)


def noisy_texts(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Short mixed-domain posts in 3 classes (negative, neutral, positive) with typos, negated
    cues ("not great" is negative) and cues of the wrong class, so bigrams matter and nothing is
    separable by a single word."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(300)] + ["the", "a", "phone", "movie", "hotel", "food",
                                              "delivery", "service", "app", "it", "was", "is"]
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(3))
        words = list(rng.choice(filler, size=int(rng.integers(3, 12))))
        cues = []
        for _ in range(int(rng.integers(1, 3))):
            if label != 1 and rng.random() < 0.3:  # negation: "not <opposite cue>"
                cues += ["not", str(rng.choice(CUES[2 - label]))]
            elif rng.random() < 0.2:  # a misleading cue of another class
                cues.append(str(rng.choice(CUES[int(rng.integers(3))])))
            else:
                cues.append(str(rng.choice(CUES[label])))
        for cue in cues[::-1]:
            words.insert(int(rng.integers(len(words) + 1)), cue)
        typo = [w[:-1] if len(w) > 3 and rng.random() < 0.1 else w for w in words]
        texts.append(" ".join(typo))
        labels.append(label)
    return texts, np.asarray(labels, "int32")


@pytest.fixture(scope="module")
def noisy():
    train = noisy_texts(1500, seed=0)
    test = noisy_texts(600, seed=1)
    return train, test


def _fit(model, texts, labels, epochs, learning_rate):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(np.asarray(texts, dtype=object), labels, batch_size=32, epochs=epochs, verbose=0)
    return model


def _accuracy(model, texts, labels):
    import keras

    logits = keras.ops.convert_to_numpy(model.predict(np.asarray(texts, dtype=object),
                                                      verbose=0))
    return float(np.mean(logits.argmax(-1) == labels))


@pytest.mark.tf_only  # raw-string inputs: TextVectorization's string ops are TensorFlow's
def test_tfidf_linear_matches_scikit_learn_and_round_trips_on_raw_strings(noisy, tmp_path):
    import keras
    import tensorflow as tf
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from kerazoo.zoo.text import tfidf_linear_classifier

    (train_x, train_y), (test_x, test_y) = noisy
    reference = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(C=10.0))
    reference.fit(train_x, train_y)
    sklearn_accuracy = float(np.mean(reference.predict(test_x) == test_y))
    assert sklearn_accuracy > 0.6  # the set is learnable, and far from trivial

    keras.utils.set_random_seed(0)
    model = tfidf_linear_classifier(train_x, num_classes=3)
    _fit(model, train_x, train_y, epochs=6, learning_rate=1e-2)
    accuracy = _accuracy(model, test_x, test_y)
    assert accuracy >= sklearn_accuracy - 0.03, (accuracy, sklearn_accuracy)

    probe = ["not great phone", "love it", "arrived okay"]
    expected = keras.ops.convert_to_numpy(model(tf.constant(probe)))
    path = tmp_path / "tfidf.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(tf.constant(probe))), expected,
                               atol=1e-5)
    model.export(tmp_path / "saved", format="tf_saved_model", verbose=False)
    served = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_allclose(served.serve(tf.constant(probe)).numpy(), expected, atol=1e-5)


def zipf_posts(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Short posts whose filler comes from a 3,000-word Zipf vocabulary: most of a new post's
    bigrams were never seen in training, as on real posts (``noisy_texts`` reuses 312 words)."""
    rng = np.random.default_rng(seed)
    filler = np.array([f"w{i}" for i in range(3000)])
    weights = 1.0 / np.arange(1, 3001)
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(3))
        words = list(rng.choice(filler, int(rng.integers(5, 16)), p=weights / weights.sum()))
        if label != 1 or rng.random() < 0.3:
            words.insert(int(rng.integers(len(words) + 1)), str(rng.choice(CUES[label])))
        if rng.random() < 0.15:
            label = int(rng.integers(3))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.asarray(labels, "int32")


@pytest.mark.tf_only
def test_fit_logistic_regression_reaches_scikit_learns_optimum_on_unseen_bigrams():
    """Solved to the optimum (L-BFGS), the Keras TF-IDF model gives scikit-learn's logistic
    regression: the same predictions at the same C, and a C chosen on validation that scores at
    least scikit-learn's default. Unseen n-grams are ignored, as scikit-learn ignores them (with
    Keras' mean IDF on the OOV column they squashed every known n-gram: majority class)."""
    import keras
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline

    from kerazoo.zoo.logistic import fit_logistic_regression
    from kerazoo.zoo.text import tfidf_linear_classifier

    train_x, train_y = zipf_posts(1500, seed=0)
    val_x, val_y = zipf_posts(400, seed=1)
    test_x, test_y = zipf_posts(600, seed=2)
    reference = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
    reference.fit(train_x, train_y)
    expected = reference.predict(test_x)
    assert f1_score(test_y, expected, average="macro") > 0.5  # learnable, far from trivial

    def predictions(model):
        logits = model.predict(np.asarray(test_x, dtype=object), verbose=0)
        return keras.ops.convert_to_numpy(logits).argmax(-1)

    model = tfidf_linear_classifier(train_x, num_classes=3)
    report = fit_logistic_regression(model, train_x, train_y)  # C=1, scikit-learn's default
    assert report["C"] == 1.0 and report["iterations"] > 0
    # The IDF formulas differ a little (log(1 + n / (1 + df)) against 1 + log((1 + n) /
    # (1 + df))): near-identical, not identical, predictions.
    assert np.mean(predictions(model) == expected) > 0.95

    tuned = tfidf_linear_classifier(train_x, num_classes=3)
    chosen = fit_logistic_regression(tuned, train_x, train_y, validation=(val_x, val_y))
    losses = chosen["validation_log_loss_by_C"]
    assert set(losses) == {"0.25", "1.0", "4.0", "16.0"}
    assert losses[str(chosen["C"])] == min(losses.values())
    assert (f1_score(test_y, predictions(tuned), average="macro")
            >= f1_score(test_y, expected, average="macro") - 0.01)


@pytest.mark.tf_only
def test_fasttext_bigram_learns_negations_and_exports_behind_a_vectorizer(noisy, tmp_path):
    import keras
    import tensorflow as tf

    from kerazoo import zoo

    (train_x, train_y), (test_x, test_y) = noisy
    keras.utils.set_random_seed(0)
    vectorizer = keras.layers.TextVectorization(max_tokens=2000, output_sequence_length=24,
                                                name="vectorizer")
    vectorizer.adapt(np.asarray(train_x, dtype=object))
    inner = zoo.build("fasttext_bigram", input_shape=(24,), num_classes=3,
                      vocab_size=vectorizer.vocabulary_size(), buckets=5000)
    inputs = keras.Input((), dtype="string", name="texts")
    model = keras.Model(inputs, inner(vectorizer(inputs)))
    # fastText memorises a small noisy set within a few epochs (validation accuracy peaks at
    # epoch 1-3, then falls from 0.67 to 0.58 by epoch 10): two epochs, as fastText's own default
    # of few passes at a high rate.
    _fit(model, train_x, train_y, epochs=2, learning_rate=1e-2)
    accuracy = _accuracy(model, test_x, test_y)
    assert accuracy > 0.6, accuracy
    # The bigram "not great" moves probability to "negative" that the word "great" alone lacks.
    negated = ["not great", "not love", "not excellent"]
    plain = ["great", "love", "excellent"]
    p_negated = keras.ops.softmax(model(tf.constant(negated)))[:, 0]
    p_plain = keras.ops.softmax(model(tf.constant(plain)))[:, 0]
    assert (keras.ops.convert_to_numpy(p_negated - p_plain) > 0).all()

    expected = keras.ops.convert_to_numpy(model(tf.constant(negated)))
    model.export(tmp_path / "saved", format="tf_saved_model", verbose=False)
    served = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_allclose(served.serve(tf.constant(negated)).numpy(), expected, atol=1e-5)


def test_hashed_bigrams_pads_and_rejects_bad_sizes():
    import keras

    from kerazoo.errors import ConfigError
    from kerazoo.zoo.text import HashedBigrams

    layer = HashedBigrams(vocab_size=100, buckets=7)
    out = keras.ops.convert_to_numpy(layer(np.array([[5, 6, 7, 0, 0]], "int32")))
    assert out.shape == (1, 9)
    np.testing.assert_array_equal(out[0, :5], [5, 6, 7, 0, 0])
    assert (out[0, 5:7] >= 100).all() and (out[0, 5:7] < 107).all()
    np.testing.assert_array_equal(out[0, 7:], [0, 0])  # pairs touching padding
    restored = HashedBigrams.from_config(layer.get_config())
    assert (restored.vocab_size, restored.buckets) == (100, 7)
    with pytest.raises(ConfigError):
        HashedBigrams(vocab_size=10, buckets=0)


@pytest.mark.parametrize("name", ["text_mlp", "transformer_text_classifier", "fasttext_bigram",
                                  "bilstm_text_classifier", "text_cnn"])
def test_an_all_padding_text_gives_finite_logits_and_gradients(name):
    """An empty post, or one of emoji or punctuation only, is all padding after standardization:
    the masked means must give zeros there, not 0 / 0 (one such post made the loss NaN)."""
    import keras

    from kerazoo import zoo

    model = zoo.build(name, input_shape=(8,), num_classes=3, vocab_size=50, sequence_length=8)
    tokens = np.zeros((2, 8), "int32")
    tokens[0, :3] = [5, 6, 7]
    assert np.isfinite(keras.ops.convert_to_numpy(model(tokens))).all()
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    loss = model.train_on_batch(tokens, np.array([0, 1]))
    assert np.isfinite(loss)
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.weights)
