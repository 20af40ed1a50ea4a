"""Conformance cases: constructor arguments and inputs for every registered loss, in one table.

``test_conformance.py`` runs ``kerazoo.testing.run_loss_test(loss, **case)`` for each registered
loss; a registered loss with no row here fails the sweep. Inputs are small and fixed (seeded).
"""

from __future__ import annotations

import numpy as np

_rng = np.random.default_rng(7)
_labels = np.array([0, 0, 1, 1, 2, 2, 0, 1])
_emb = _rng.normal(size=(8, 5)).astype("float32")
_sim = _rng.normal(size=(8, 8)).astype("float32")
_multi_hot = (_rng.random((8, 3)) > 0.5).astype("float32")
_multi_hot[:, 0] = 1.0
_onehot = np.eye(4, dtype="float32")[[0, 1, 2, 3, 1, 2]]
_probs = _rng.dirichlet(np.ones(4), size=6).astype("float32")
_logits = _rng.normal(size=(6, 4)).astype("float32")
_boxes_true = np.array([[0, 0, 2, 2], [1, 1, 3, 4], [0, 0, 1, 1], [2, 2, 5, 3]], "float32")
_boxes_pred = _boxes_true + _rng.uniform(-0.5, 0.5, size=(4, 4)).astype("float32")
_series = np.cumsum(_rng.normal(size=(4, 10, 2)), axis=1).astype("float32")
_crf_potentials = _rng.normal(size=(3, 5, 4)).astype("float32")
_crf_transitions = _rng.normal(size=(4, 4)).astype("float32")

LOSS_CASES: dict[str, dict] = {
    # --- from TensorFlow Addons ---
    "ContrastiveLoss": {"init_kwargs": {"margin": 1.0},
                        "y_true": np.array([1, 0, 1, 0, 0, 1], "float32"),
                        "y_pred": _rng.uniform(0, 2, size=6).astype("float32")},
    "GIoULoss": {"init_kwargs": {"mode": "giou"}, "y_true": _boxes_true, "y_pred": _boxes_pred},
    "LiftedStructLoss": {"init_kwargs": {"margin": 1.0}, "y_true": _labels, "y_pred": _emb},
    "NpairsLoss": {"init_kwargs": {}, "y_true": _labels, "y_pred": _sim},
    "NpairsMultilabelLoss": {"init_kwargs": {}, "y_true": _multi_hot, "y_pred": _sim},
    "PinballLoss": {"init_kwargs": {"tau": 0.3}, "y_true": _rng.normal(size=(6, 3)),
                    "y_pred": _rng.normal(size=(6, 3)).astype("float32")},
    "SigmoidFocalCrossEntropy": {"init_kwargs": {"alpha": 0.25, "gamma": 2.0},
                                 "y_true": (_probs > 0.25).astype("float32"), "y_pred": _probs},
    "SparsemaxLoss": {"init_kwargs": {}, "y_true": _onehot, "y_pred": _logits},
    "TripletHardLoss": {"init_kwargs": {"margin": 1.0, "soft": False},
                        "y_true": _labels, "y_pred": _emb},
    "TripletSemiHardLoss": {"init_kwargs": {"margin": 1.0, "distance_metric": "L2"},
                            "y_true": _labels, "y_pred": _emb},
    "WeightedKappaLoss": {"init_kwargs": {"num_classes": 4}, "y_true": _onehot,
                          "y_pred": _probs},
    # --- for the CRF layer: y_pred is the layer's output list, not one model output ---
    "CRFLoss": {
        "init_kwargs": {},
        "y_true": _rng.integers(0, 4, size=(3, 5)),
        "y_pred": [_crf_potentials, np.array([5, 3, 1]), _crf_transitions],
        "skip": {"saving": "y_pred is the CRF layer's output list, not a model output",
                 "jit": "y_pred is the CRF layer's output list, not a model output"},
    },
    # --- modern additions ---
    "ArcFaceLoss": {"init_kwargs": {"margin": 0.5, "scale": 16.0},
                    "y_true": np.array([0, 1, 2, 3, 1, 2]),
                    "y_pred": np.tanh(_logits).astype("float32")},
    "MASELoss": {"init_kwargs": {"seasonality": 1}, "y_true": _series,
                 "y_pred": _series[:, -3:] + 0.3},
    "PolyLoss": {"init_kwargs": {"epsilon": 1.0, "from_logits": True}, "y_true": _onehot,
                 "y_pred": _logits},
    "QuantileLoss": {"init_kwargs": {"quantiles": (0.1, 0.5, 0.9)},
                     "y_true": _rng.normal(size=(6, 1)),
                     "y_pred": np.sort(_rng.normal(size=(6, 3)), axis=-1).astype("float32")},
    "SMAPELoss": {"init_kwargs": {}, "y_true": _rng.uniform(1, 5, size=(6, 4)),
                  "y_pred": _rng.uniform(1, 5, size=(6, 4)).astype("float32")},
    "SupervisedContrastiveLoss": {"init_kwargs": {"temperature": 0.5}, "y_true": _labels,
                                  "y_pred": _emb},
}
