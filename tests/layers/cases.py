"""Conformance cases: constructor arguments and inputs for every registered layer, in one table.

``test_conformance.py`` runs ``kerazoo.testing.run_layer_test(layer, **case)`` for each registered
layer; a registered layer with no row here fails the sweep, so a new layer cannot be forgotten.
A row is the keyword arguments of ``run_layer_test`` (``init_kwargs``, ``input_shape`` or
``input_data``, ``input_dtype``, ``call_kwargs``, ``skip={check: reason}``), plus optionally
``layer_cls``: a callable building the layer when the registered class is not called directly
(e.g. an RNN cell wrapped in ``keras.layers.RNN``). Keep inputs tiny: CI runs each row on three
backends.
"""

from __future__ import annotations


def _in_rnn(cell_name: str):
    """A builder wrapping the registered RNN cell ``cell_name`` in ``keras.layers.RNN``."""

    def build(**kwargs):
        import keras

        from kerazoo.registry import registry

        cell = registry("layers").get(cell_name).obj(**kwargs)
        return keras.layers.RNN(cell, return_sequences=True)

    build.__name__ = f"RNN({cell_name})"
    return build


def _weight_normalized_dense(**kwargs):
    import keras

    from kerazoo.layers import WeightNormalization

    return WeightNormalization(keras.layers.Dense(3, activation="relu"), **kwargs)


def _unpool_data():
    """Pooled values and their argmax positions (flat y*W*C + x*C + c) in a 4 x 4 x 3 map."""
    import numpy as np

    rng = np.random.default_rng(0)
    updates = rng.normal(size=(2, 2, 2, 3)).astype("float32")
    dy, dx = rng.integers(0, 2, size=(2, 2, 2, 3)), rng.integers(0, 2, size=(2, 2, 2, 3))
    rows = 2 * np.arange(2)[None, :, None, None] + dy
    cols = 2 * np.arange(2)[None, None, :, None] + dx
    argmax = (rows * 4 + cols) * 3 + np.arange(3)[None, None, None, :]
    return [updates, argmax.astype("int32")]


CONFORMANCE_CASES: dict[str, dict] = {
    # --- modern building blocks ---
    "ArcMarginHead": {"init_kwargs": {"num_classes": 3}, "input_shape": (2, 4)},
    "AttentionPooling1D": {"init_kwargs": {"units": 4}, "input_shape": (2, 5, 3)},
    "CalendarFeatures": {
        "init_kwargs": {},
        # Epoch seconds of a few days around month ends (float64: a timestamp needs the bits).
        "input_data": __import__("numpy").array(
            [[1_706_659_200.0, 1_706_745_600.0, 1_709_251_200.0],
             [1_711_846_800.0, 1_711_933_200.0, 1_735_686_000.0]], "float64"),
    },
    "DropPath": {"init_kwargs": {"rate": 0.3, "seed": 1}, "input_shape": (4, 3, 2)},
    "LayerScale": {"init_kwargs": {"init_values": 0.1}, "input_shape": (2, 3, 4)},
    "MFCC": {"init_kwargs": {"num_mfcc": 4, "axis": -1}, "input_shape": (2, 5, 8)},
    "PositionEmbedding": {"init_kwargs": {"sequence_length": 6}, "input_shape": (2, 5, 3)},
    "RevIN": {"init_kwargs": {}, "input_shape": (2, 6, 3)},
    "SeriesDecomposition": {"init_kwargs": {"kernel_size": 3}, "input_shape": (2, 7, 2)},
    "SinusoidalPositionEncoding": {"init_kwargs": {}, "input_shape": (2, 5, 4)},
    "Sparsemax": {"init_kwargs": {"axis": -1}, "input_shape": (2, 3, 5)},
    "SpecAugment": {
        "init_kwargs": {"freq_mask_param": 2, "time_mask_param": 3, "seed": 1},
        "input_shape": (2, 8, 6),
    },
    "SqueezeExcitation": {"init_kwargs": {"ratio": 0.5}, "input_shape": (2, 4, 4, 4)},
    # --- layers and RNN cells from TensorFlow Addons ---
    "CRF": {
        "init_kwargs": {"units": 3},
        "input_shape": (2, 4, 5),
        "skip": {
            "jit": "outputs are int tags and the batch-less transition matrix, no MSE target; "
            "test_crf.py trains it with crf_log_likelihood under jit_compile",
            "distribute": "same multi-output reason; test_tfa_layers.py trains CRF under "
            "MirroredStrategy with crf_log_likelihood",
        },
    },
    "EmbeddingBag": {
        "init_kwargs": {"input_dim": 10, "output_dim": 3, "combiner": "mean"},
        "input_shape": (2, 4),
        "input_dtype": "int32",
    },
    "ESN": {
        "init_kwargs": {"units": 4, "seed": 0, "return_sequences": True},
        "input_shape": (2, 5, 3),
    },
    "ESNCell": {
        "layer_cls": _in_rnn("ESNCell"),
        "init_kwargs": {"units": 4, "seed": 0},
        "input_shape": (2, 5, 3),
    },
    "FilterResponseNormalization": {
        "init_kwargs": {"learned_epsilon": True},
        "input_shape": (2, 4, 4, 3),
    },
    "LayerNormLSTMCell": {
        "layer_cls": _in_rnn("LayerNormLSTMCell"),
        "init_kwargs": {"units": 4, "dropout": 0.2, "recurrent_dropout": 0.2, "seed": 1},
        "input_shape": (2, 5, 3),
    },
    "LayerNormSimpleRNNCell": {
        "layer_cls": _in_rnn("LayerNormSimpleRNNCell"),
        "init_kwargs": {"units": 4, "dropout": 0.2, "seed": 1},
        "input_shape": (2, 5, 3),
    },
    "MaxUnpooling2D": {"init_kwargs": {"pool_size": 2, "strides": 2}, "input_data": _unpool_data()},
    "Maxout": {"init_kwargs": {"num_units": 2}, "input_shape": (2, 3, 6)},
    "NoisyDense": {"init_kwargs": {"units": 3, "seed": 1}, "input_shape": (2, 4)},
    "PeepholeLSTMCell": {
        "layer_cls": _in_rnn("PeepholeLSTMCell"),
        "init_kwargs": {"units": 4},
        "input_shape": (2, 5, 3),
    },
    "PoincareNormalize": {"init_kwargs": {"axis": 1}, "input_shape": (2, 4)},
    "PolynomialCrossing": {"init_kwargs": {"projection_dim": 2}, "input_shape": [(2, 6), (2, 6)]},
    "Snake": {"init_kwargs": {}, "input_shape": (2, 5)},
    "SpatialPyramidPooling2D": {"init_kwargs": {"bins": [1, 2]}, "input_shape": (2, 5, 6, 3)},
    "StochasticDepth": {
        "init_kwargs": {"survival_probability": 0.7, "seed": 1},
        "input_shape": [(2, 3, 4), (2, 3, 4)],
    },
    "TLU": {"init_kwargs": {"affine": True}, "input_shape": (2, 3, 4)},
    "WeightNormalization": {
        "layer_cls": _weight_normalized_dense,
        "init_kwargs": {"data_init": True},
        "input_shape": (8, 4),
    },
}
