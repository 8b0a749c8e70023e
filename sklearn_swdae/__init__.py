"""sklearn-swdae: sparse and wide denoising-autoencoder recommenders for scikit-learn.

Implements SW-DAE from F. Khawar, L. Poon and N. L. Zhang, "Learning the
Structure of Auto-Encoding Recommenders", WWW 2020.
"""

from ._version import __version__
from .autoencoders import (
    CDAERecommender,
    FCDAERecommender,
    MultDAERecommender,
    MultVAERecommender,
    PrunedDAERecommender,
    SparseWideDAERecommender,
    n_clusters_for_parameters,
)
from .base import recommend, similar_items
from .baselines import EASERecommender, PopularityRecommender, SLIMRecommender, WMFRecommender
from .grouping import GroupedInteractions, ItemGrouper

__all__ = [
    "CDAERecommender",
    "EASERecommender",
    "FCDAERecommender",
    "GroupedInteractions",
    "ItemGrouper",
    "MultDAERecommender",
    "MultVAERecommender",
    "PopularityRecommender",
    "PrunedDAERecommender",
    "SLIMRecommender",
    "SparseWideDAERecommender",
    "WMFRecommender",
    "__version__",
    "n_clusters_for_parameters",
    "recommend",
    "similar_items",
]
