"""The sentiment-analysis recipe: a zoo text classifier on raw strings.

Sources (``data.source``): ``sentiment_reviews`` (embedded, the default), ``csv:PATH``
(``data.text_column``, ``data.label_column``, optional ``data.split_column``), ``folder:PATH``
(``PATH/CLASS/*.txt``) and ``tfds:NAME`` (``imdb_reviews``, ``glue/sst2``, ...). Labels may be
strings or integers, any number of classes (``data.class_names`` fixes their order).

The trained model takes a batch of raw strings: a ``keras.layers.TextVectorization`` adapted on
the training split only (``data.vocab_size``, ``data.sequence_length``, ``data.ngrams``) sits in
front of the zoo model, so the SavedModel, the ``.keras`` file and the preset all carry the
vocabulary. ``data.pretrained_vectors`` initialises the embedding from a local GloVe-format text
file and logs the vocabulary coverage. ``train.class_weight=balanced`` or ``train.loss=focal``
handle class imbalance.

String tensors stay on the host: XLA (``runtime.jit_compile``) and TPUs need the vectorizer moved
into the input pipeline, which this recipe does not do yet.

Example:

>>> from kerazoo.recipes.sentiment_analysis import SentimentAnalysis
>>> config = SentimentAnalysis.default_config()
>>> config.data.source, config.model.name
('sentiment_reviews', 'bilstm_text_classifier')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kerazoo.errors import ConfigError, DataError
from kerazoo.recipes.config import DataConfig, ExperimentConfig
from kerazoo.recipes.evaluation import top_k_lines
from kerazoo.recipes.task import PreparedData, Task
from kerazoo.registry import register

log = logging.getLogger(__name__)
TEXT_MODELS = ("bilstm_text_classifier", "text_cnn", "text_mlp", "transformer_text_classifier")
# The "mlp over pooled embeddings"; the zoo's plain ``mlp`` takes dense features.
ALIASES = {"mlp": "text_mlp", "transformer": "transformer_text_classifier"}


@dataclass
class TextDataConfig(DataConfig):
    """Text source and vectorization options, on top of
    :class:`~kerazoo.recipes.config.DataConfig`.

    Args:
        text_column: CSV column (or TFDS feature) holding the text.
        label_column: CSV column (or TFDS feature) holding the label.
        split_column: CSV column with ``train``/``validation``/``test``. Defaults to ``None``
            (stratified random split by ``validation_fraction`` / ``test_fraction``).
        class_names: the label set, in class-id order. Defaults to ``None`` (sorted labels).
        drop_bad_rows: skip rows with an empty text or label (and unreadable files), logging
            the count, instead of failing.
        encoding: text encoding of CSV and folder files.
        vocab_size: vocabulary size, padding and OOV included.
        sequence_length: tokens per text (longer texts are cut, shorter ones padded).
        ngrams: also index n-grams up to this ``n``. Defaults to ``None`` (words only).
        pretrained_vectors: a GloVe-format text file (``word v1 v2 ...``) to initialise the
            embedding from. Defaults to ``None``.
    """

    source: str = "sentiment_reviews"
    text_column: str = "text"
    label_column: str = "label"
    split_column: str | None = None
    class_names: list[str] | None = None
    drop_bad_rows: bool = False
    encoding: str = "utf-8"
    vocab_size: int = 10_000
    sequence_length: int = 48
    ngrams: int | None = None
    pretrained_vectors: str | None = None


@register("recipes", name="sentiment_analysis", task="sentiment_analysis")
class SentimentAnalysis(Task):
    """Text classification with a zoo model on raw strings: data, model, loss, evaluation, serving.

    Args:
        config: an ``ExperimentConfig`` from ``default_config()`` with overrides applied.

    Example:

    >>> from kerazoo.recipes.sentiment_analysis import SentimentAnalysis
    >>> task = SentimentAnalysis(SentimentAnalysis.default_config())
    >>> data = task.prepare_data()
    >>> data.class_names, data.sizes["train"]
    (['negative', 'positive'], 2100)
    """

    name = "sentiment_analysis"

    @classmethod
    def default_config(cls) -> ExperimentConfig:
        config = ExperimentConfig(task=cls.name, data=TextDataConfig())
        config.model.name = "bilstm_text_classifier"
        config.train.epochs = 10
        config.train.batch_size = 32
        config.train.learning_rate = 3e-3
        config.train.warmup_steps = 20
        return config

    # ----- data -----
    def prepare_data(self) -> PreparedData:
        from kerazoo.recipes import text_sources

        data = self.config.data
        if data.augment:
            raise ConfigError("Config key 'data.augment': the text recipe has no augmentations.")
        if data.vocab_size < 3 or data.sequence_length < 1:
            raise ConfigError(
                "data.vocab_size must be >= 3 and data.sequence_length >= 1. Received: "
                f"{data.vocab_size}, {data.sequence_length}"
            )
        if self.model_name not in TEXT_MODELS:
            raise ConfigError(
                f"Config key 'model.name': {self.config.model.name!r} is not a text model; "
                f"choose from {', '.join(TEXT_MODELS)} (or mlp, transformer)."
            )
        source = data.source
        common = {"validation_fraction": data.validation_fraction,
                  "test_fraction": data.test_fraction, "seed": data.seed,
                  "class_names": data.class_names, "drop_bad_rows": data.drop_bad_rows,
                  "encoding": data.encoding}
        if source == text_sources.EMBEDDED:
            prepared = text_sources.load_embedded()
        elif source.startswith("csv:"):
            prepared = text_sources.load_csv(
                source[4:], text_column=data.text_column, label_column=data.label_column,
                split_column=data.split_column, **common,
            )
        elif source.startswith("folder:"):
            prepared = text_sources.load_folder(source[7:], **common)
        elif source.startswith("tfds:"):
            prepared = text_sources.load_tfds(
                source[5:], data_dir=data.data_dir, download=data.download,
                text_column=data.text_column, label_column=data.label_column,
                validation_fraction=data.validation_fraction,
            )
        else:
            raise ConfigError(
                f"Config key 'data.source': {source!r} is not a source; use "
                f"{text_sources.EMBEDDED}, csv:PATH, folder:PATH or tfds:NAME."
            )
        if data.pretrained_vectors and not Path(data.pretrained_vectors).is_file():
            raise DataError(f"data.pretrained_vectors: file not found: {data.pretrained_vectors}")
        self.data = prepared
        return prepared

    @property
    def model_name(self) -> str:
        return ALIASES.get(self.config.model.name, self.config.model.name)

    # ----- model -----
    def _vocabulary(self) -> list[str]:
        """Adapt a vectorizer on the training texts only (never validation or test)."""
        import keras

        if getattr(self, "_adapted", None) is None:
            data = self.config.data
            adapter = keras.layers.TextVectorization(max_tokens=data.vocab_size,
                                                     ngrams=data.ngrams)
            adapter.adapt(self.data.splits["train"].map(lambda text, _: text).batch(1024))
            self._adapted = adapter.get_vocabulary()
        return self._adapted

    def build_model(self):
        import keras

        data = self.config.data
        classes = len(self.data.class_names)
        self._init_vocabulary = None
        inner = self._initial_model(classes)
        vocabulary = self._init_vocabulary or self._vocabulary()
        # Built from the list (not adapted in place) so the vocabulary is part of get_config():
        # presets keep config + weights only, and must still carry it.
        vectorizer = keras.layers.TextVectorization(
            max_tokens=data.vocab_size, output_sequence_length=data.sequence_length,
            ngrams=data.ngrams, vocabulary=vocabulary, name="vectorizer",
        )
        inputs = keras.Input((), dtype="string", name="texts")
        outputs = inner(vectorizer(inputs))
        model = keras.Model(inputs, outputs, name=f"{self.name}_{self.model_name}")
        if self.config.model.freeze_backbone:
            from kerazoo import zoo

            zoo.set_backbone_trainable(inner, False)
        return model

    def _initial_model(self, classes: int):

        from kerazoo import zoo

        cfg, data = self.config.model, self.config.data
        if cfg.init is None:
            kwargs = {}
            vectors = None
            vocab_size = len(self._vocabulary())
            if data.pretrained_vectors:
                vectors = self._pretrained_vectors()
                kwargs["embedding_dim"] = vectors.shape[1]
            model = zoo.build(
                self.model_name, input_shape=(data.sequence_length,), num_classes=classes,
                vocab_size=vocab_size, sequence_length=data.sequence_length,
                dropout=cfg.dropout, **kwargs,
            )
            if vectors is not None:
                model.get_layer("backbone").get_layer("embedding").set_weights([vectors])
            return model
        trained = self.load_init_model()
        # The encoder's embedding rows belong to the trained vocabulary: keep that vectorizer.
        self._init_vocabulary = trained.get_layer("vectorizer").get_vocabulary()
        return zoo.replace_head(self.inner_model(trained), classes, dropout=cfg.dropout,
                                freeze_backbone=cfg.freeze_backbone)

    def _pretrained_vectors(self) -> np.ndarray:
        path = Path(self.config.data.pretrained_vectors)
        vocabulary = self._vocabulary()
        index = {word: i for i, word in enumerate(vocabulary)}
        table, dim = None, None
        with open(path, encoding="utf-8", errors="replace") as stream:
            for line_number, line in enumerate(stream, start=1):
                parts = line.rstrip().split(" ")
                if len(parts) < 2:
                    continue
                if dim is None:
                    dim = len(parts) - 1
                    rng = np.random.default_rng(self.config.data.seed)
                    table = rng.normal(0, 0.1, (len(vocabulary), dim)).astype("float32")
                    table[0] = 0.0
                    found = np.zeros(len(vocabulary), bool)
                if len(parts) - 1 != dim:
                    raise DataError(
                        f"{path}:{line_number}: {len(parts) - 1} values, expected {dim} (the "
                        "dimension of the first line)."
                    )
                row = index.get(parts[0])
                if row is not None and row > 1:
                    try:
                        table[row] = np.asarray(parts[1:], "float32")
                    except ValueError:
                        raise DataError(f"{path}:{line_number}: non-numeric vector.") from None
                    found[row] = True
        if table is None:
            raise DataError(f"{path}: no vectors (expected lines 'word v1 v2 ...').")
        coverage = found[2:].mean() if len(vocabulary) > 2 else 0.0
        self.vector_coverage = float(coverage)
        log.warning("Pretrained vectors %s cover %.1f%% of the %d-word vocabulary.", path,
                    100 * coverage, len(vocabulary) - 2)
        return table

    def build_loss(self):
        from kerazoo.recipes.classification import task_loss

        return task_loss(self)

    # ----- evaluation and serving -----
    def predict_numpy(self, model, texts) -> np.ndarray:
        import keras
        import tensorflow as tf

        outputs = []
        for start in range(0, len(texts), 256):
            batch = tf.constant(list(texts[start : start + 256]), tf.string)
            outputs.append(keras.ops.convert_to_numpy(
                keras.ops.softmax(keras.ops.cast(model(batch, training=False), "float32"))
            ))
        return np.concatenate(outputs) if outputs else np.zeros((0, len(self.data.class_names)))

    def evaluate(self, model, split: str = "test", run_dir=None) -> dict[str, Any]:
        from kerazoo.recipes.evaluation import classification_report

        texts, labels = [], []
        for x, y in self.data.splits[split].batch(1024):
            texts += [t.decode("utf-8", "replace") for t in x.numpy()]
            labels.append(y.numpy())
        labels = np.concatenate(labels)
        probabilities = self.predict_numpy(model, texts)
        report = classification_report(labels, probabilities, self.data.class_names, run_dir)
        report["worst_examples"] = worst_examples(texts, labels, probabilities,
                                                  self.data.class_names)
        if getattr(self, "vector_coverage", None) is not None:
            report["pretrained_vector_coverage"] = self.vector_coverage
        return report

    def input_description(self, data: PreparedData) -> str:
        return ("a batch of raw UTF-8 strings; the vectorizer (vocabulary from the training "
                "split) is inside the model and the SavedModel (`serving_default`, input `texts`)")

    def predict_cli(self, model, args, class_names: list[str]) -> list[str]:
        if not args.inputs:
            raise ConfigError('kerazoo predict: give one or more texts, e.g. "great film".')
        probabilities = self.predict_numpy(model, args.inputs)
        shown = [text if len(text) <= 60 else text[:57] + "..." for text in args.inputs]
        return top_k_lines([repr(text) for text in shown], probabilities, class_names, args.top)

    def serving_signatures(self, model, class_names):
        from kerazoo.recipes.export import text_signatures

        return text_signatures(model, class_names)


def worst_examples(texts, labels, probabilities, class_names, count: int = 10) -> list[dict]:
    """The ``count`` test examples with the lowest probability on their true class."""
    true_probability = probabilities[np.arange(len(labels)), labels]
    order = np.argsort(true_probability)[:count]
    return [
        {"text": texts[i], "label": class_names[labels[i]],
         "predicted": class_names[int(probabilities[i].argmax())],
         "probability_of_label": round(float(true_probability[i]), 4)}
        for i in order
    ]
