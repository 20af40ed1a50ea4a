"""The embedded sentiment corpus: shipped file, splits, reproducibility and difficulty."""

from __future__ import annotations

import collections
import gzip
from importlib import resources

import pytest

from kerazoo.errors import DataError
from kerazoo.recipes.embedded import generate_sentiment, sentiment

# A unigram bag-of-words logistic regression measured 0.606-0.622 on the test split (C 0.1-10);
# the ceiling leaves room for sklearn version drift but fails if the corpus became lexical.
BOW_CEILING = 0.72


@pytest.fixture(scope="module")
def rows():
    return sentiment.load_sentiment_rows()


def test_sizes_balance_and_columns(rows):
    assert len(rows) == 3000
    assert set(rows[0]) == {"text", "label", "split", "phenomenon"}
    counts = collections.Counter((row["split"], row["label"]) for row in rows)
    assert counts == {
        ("train", "negative"): 1050, ("train", "positive"): 1050,
        ("validation", "negative"): 224, ("validation", "positive"): 224,
        ("test", "negative"): 226, ("test", "positive"): 226,
    }
    phenomena = collections.Counter((row["phenomenon"], row["label"]) for row in rows)
    assert set(phenomena) == {(p, c) for p in sentiment.PHENOMENA for c in sentiment.CLASS_NAMES}
    # Balanced inside every phenomenon too, so no phenomenon is a label shortcut.
    for phenomenon in sentiment.PHENOMENA:
        assert phenomena[(phenomenon, "negative")] == phenomena[(phenomenon, "positive")]


def test_no_duplicate_texts_and_disjoint_splits(rows):
    texts = [row["text"].lower() for row in rows]
    assert len(set(texts)) == len(texts)
    by_split = {s: {r["text"] for r in rows if r["split"] == s} for s in sentiment.SPLITS}
    assert not by_split["train"] & by_split["test"]
    assert not by_split["train"] & by_split["validation"]
    assert not by_split["validation"] & by_split["test"]
    assert all(row["text"].strip() and row["text"].isascii() for row in rows)


def test_load_split_api_is_fixed(rows):
    texts, labels = sentiment.load_sentiment_reviews("validation")
    expected = [r for r in rows if r["split"] == "validation"]
    assert texts == [r["text"] for r in expected]
    assert labels == [r["label"] for r in expected]
    all_texts, _ = sentiment.load_sentiment_reviews()
    assert len(all_texts) == 3000


@pytest.mark.parametrize("bad", ["valid", "TEST", "", "dev"])
def test_bad_split_name_is_a_clear_data_error(bad):
    with pytest.raises(DataError, match=r"no split .*expected one of train, validation, test"):
        sentiment.load_sentiment_reviews(bad)


def test_generator_reproduces_shipped_file():
    shipped = (
        resources.files("kerazoo.recipes.embedded")
        .joinpath("data", "sentiment_reviews.csv.gz")
        .read_bytes()
    )
    csv_bytes = generate_sentiment.to_csv(generate_sentiment.generate())
    # The CSV is the reproducible artefact; the gzip bytes also match with the same zlib.
    assert gzip.decompress(shipped) == csv_bytes
    assert generate_sentiment.to_gzip(csv_bytes) == shipped
    assert generate_sentiment.main(["--check"]) == 0


def test_generator_check_reports_a_stale_file(tmp_path):
    stale = tmp_path / "stale.csv.gz"
    stale.write_bytes(gzip.compress(b"text,label,split,phenomenon\n"))
    assert generate_sentiment.main(["--check", "--output", str(stale)]) == 1


def test_contrast_label_follows_the_main_clause(rows):
    # Spot checks of the grammar's rule on the shipped rows themselves.
    contrast = [r for r in rows if r["phenomenon"] == "contrast"]
    connectives = (", but ", ", yet ", "; however, ", ". But ", "Although ", ", even though ")
    assert all(any(c in r["text"] for c in connectives) for r in contrast)
    negation = [r for r in rows if r["phenomenon"] == "negation"]
    assert sum("not" in r["text"] or "n't" in r["text"] for r in negation) > len(negation) / 2


def test_bag_of_words_baseline_does_not_solve_it(rows):
    # scikit-learn is a dev dependency (pyproject [dev]); a skip would hide a broken corpus.
    from sklearn import feature_extraction, linear_model
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    vectorizer = feature_extraction.text.CountVectorizer(token_pattern=r"(?u)\b\w+\b")
    features = vectorizer.fit_transform([r["text"] for r in train])
    model = linear_model.LogisticRegression(C=1.0, max_iter=2000)
    model.fit(features, [r["label"] for r in train])
    predicted = model.predict(vectorizer.transform([r["text"] for r in test]))
    hits = collections.Counter()
    totals = collections.Counter()
    for row, guess in zip(test, predicted):
        totals[row["phenomenon"]] += 1
        hits[row["phenomenon"]] += guess == row["label"]
    accuracy = sum(hits.values()) / len(test)
    assert 0.55 < accuracy < BOW_CEILING
    # The lexical signal is there (plain sentences) but negation defeats word counts.
    assert hits["plain"] / totals["plain"] > 0.7
    assert hits["negation"] / totals["negation"] < 0.5
