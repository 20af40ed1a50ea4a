"""A tabular classification recipe: CONTRIBUTING.md's "add a recipe" walk-through, run by
``test_add_a_recipe.py``. CSV rows of numbers plus a label column; a zoo ``mlp`` behind a
``Normalization`` layer set from the training split's statistics."""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from kerazoo.errors import DataError
from kerazoo.recipes.classification import ClassificationTask
from kerazoo.recipes.config import DataConfig
from kerazoo.recipes.data import split_indices
from kerazoo.recipes.task import PreparedData, Source
from kerazoo.registry import register


@dataclass
class TabularDataConfig(DataConfig):  # 1. the recipe's own source options
    label_column: str = "label"


def load_csv(task, path):  # 2. one source-table entry: (task, where) -> PreparedData
    data = task.config.data
    try:
        with open(path, newline="") as stream:
            rows = list(csv.DictReader(stream))
    except FileNotFoundError:
        raise DataError(f"CSV file not found: {path}") from None
    if not rows or data.label_column not in rows[0]:
        raise DataError(f"{path}: no column {data.label_column!r}.")
    columns = [name for name in rows[0] if name != data.label_column]
    features = np.array([[float(row[c]) for c in columns] for row in rows], "float32")
    class_names = sorted({row[data.label_column] for row in rows})
    labels = np.array([class_names.index(row[data.label_column]) for row in rows])
    parts = split_indices(labels, {"validation": data.validation_fraction,
                                   "test": data.test_fraction}, data.seed)
    return PreparedData.from_arrays({name: (features[i], labels[i]) for name, i in parts.items()},
                                    class_names, {"source": f"csv:{path}", "columns": columns})


@register("recipes", name="tabular_classification", task="tabular_classification")
class TabularClassification(ClassificationTask):  # 3. only what differs from the base class
    name = "tabular_classification"
    sources = {"csv": Source(load_csv, "rows of numbers and a label column", "PATH")}
    input_kind = "text"  # `kerazoo predict RUN "1.0,2.5,..."`
    data_config = TabularDataConfig
    defaults = {"data.source": "csv:data.csv", "model.name": "mlp", "train.epochs": 5}

    def build_features(self, data, trained=None):  # raw rows in, standardized rows out
        import keras

        train = np.concatenate([x.numpy() for x, _ in data.splits["train"].batch(4096)])
        inputs = keras.Input(data.feature_spec[0], name="features")
        return inputs, keras.layers.Normalization(mean=train.mean(0), variance=train.var(0))(inputs)

    def read_inputs(self, model, inputs):
        return np.array([[float(v) for v in text.split(",")] for text in inputs], "float32")

    def serving_signatures(self, model, class_names):
        import tensorflow as tf

        from kerazoo.recipes.export import classifier_outputs

        names = tf.constant(list(class_names))
        spec = tf.TensorSpec([None, model.input_shape[-1]], tf.float32, name="features")
        return {"serving_default": (lambda x: classifier_outputs(model, names, x), [spec])}
