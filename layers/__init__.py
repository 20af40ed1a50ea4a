"""kerazoo.layers: the layers TensorFlow Addons had and Keras 3 lacks, plus modern building blocks.

Every public layer here is registered in ``kerazoo.registry.registry("layers")`` and for Keras
serialization under the package ``"kerazoo"``.
"""

# Each section's names join __all__ at the end of the file: imports first (ruff E402).
__all__: list[str] = []

# --- modern building blocks (DropPath, SqueezeExcitation, ... ) ---
from kerazoo.layers.arc_margin_head import ArcMarginHead
from kerazoo.layers.attention_pooling_1d import AttentionPooling1D
from kerazoo.layers.calendar_features import CalendarFeatures
from kerazoo.layers.drop_path import DropPath
from kerazoo.layers.layer_scale import LayerScale
from kerazoo.layers.mfcc import MFCC
from kerazoo.layers.position_embedding import PositionEmbedding
from kerazoo.layers.revin import RevIN
from kerazoo.layers.series_decomposition import SeriesDecomposition
from kerazoo.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from kerazoo.layers.sparsemax import Sparsemax
from kerazoo.layers.spec_augment import SpecAugment
from kerazoo.layers.squeeze_excitation import SqueezeExcitation

# isort: split
# --- layers and RNN cells from TensorFlow Addons ---
from kerazoo.layers.crf import CRF
from kerazoo.layers.embedding_bag import EmbeddingBag
from kerazoo.layers.esn import ESN
from kerazoo.layers.esn_cell import ESNCell
from kerazoo.layers.filter_response_normalization import FilterResponseNormalization
from kerazoo.layers.layer_norm_lstm_cell import LayerNormLSTMCell
from kerazoo.layers.layer_norm_simple_rnn_cell import LayerNormSimpleRNNCell
from kerazoo.layers.max_unpooling_2d import MaxUnpooling2D
from kerazoo.layers.maxout import Maxout
from kerazoo.layers.noisy_dense import NoisyDense
from kerazoo.layers.peephole_lstm_cell import PeepholeLSTMCell
from kerazoo.layers.poincare_normalize import PoincareNormalize
from kerazoo.layers.polynomial_crossing import PolynomialCrossing
from kerazoo.layers.snake import Snake
from kerazoo.layers.spatial_pyramid_pooling_2d import SpatialPyramidPooling2D
from kerazoo.layers.stochastic_depth import StochasticDepth
from kerazoo.layers.tlu import TLU
from kerazoo.layers.weight_normalization import WeightNormalization

__all__ += [
    "CRF",
    "ESN",
    "ESNCell",
    "EmbeddingBag",
    "FilterResponseNormalization",
    "LayerNormLSTMCell",
    "LayerNormSimpleRNNCell",
    "MaxUnpooling2D",
    "Maxout",
    "NoisyDense",
    "PeepholeLSTMCell",
    "PoincareNormalize",
    "PolynomialCrossing",
    "Snake",
    "SpatialPyramidPooling2D",
    "StochasticDepth",
    "TLU",
    "WeightNormalization",
]

# modern building blocks
__all__ += [
    "ArcMarginHead",
    "AttentionPooling1D",
    "CalendarFeatures",
    "DropPath",
    "LayerScale",
    "MFCC",
    "PositionEmbedding",
    "RevIN",
    "SeriesDecomposition",
    "SinusoidalPositionEncoding",
    "Sparsemax",
    "SpecAugment",
    "SqueezeExcitation",
]
