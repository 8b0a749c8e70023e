"""sklearn-swdae: sparse and wide denoising-autoencoder recommenders for scikit-learn.

Implements SW-DAE from F. Khawar, L. Poon and N. L. Zhang, "Learning the
Structure of Auto-Encoding Recommenders", WWW 2020.
"""

from ._version import __version__
from .autoencoders import (
    FCDAERecommender,
    MultDAERecommender,
    MultVAERecommender,
    SparseWideDAERecommender,
)
from .baselines import EASERecommender, PopularityRecommender
from .grouping import GroupedInteractions, ItemGrouper

__all__ = [
    "EASERecommender",
    "FCDAERecommender",
    "GroupedInteractions",
    "ItemGrouper",
    "MultDAERecommender",
    "MultVAERecommender",
    "PopularityRecommender",
    "SparseWideDAERecommender",
    "__version__",
]
