"""Autoencoder recommenders, all trained by :mod:`sklearn_swdae.training`.

One private module per family: ``_swdae`` (SW-DAE, one hidden layer or
stacked), ``_fully_connected`` (FC-DAE, FC-reg and FC-Prune), ``_cdae``
(CDAE), ``_liang`` (Mult-DAE and Mult-VAE); what they share is in ``_base``
(the pieces every ``fit`` is written from, prediction, pickling),
``_losses`` (the losses, one protocol) and ``_modules`` (torch modules only
these estimators build).  See the "Contributing / architecture" page of the
documentation.
"""

from ._cdae import CDAERecommender
from ._fully_connected import FCDAERecommender, PrunedDAERecommender
from ._liang import MultDAERecommender, MultVAERecommender
from ._sizing import n_clusters_for_parameters
from ._swdae import SparseWideDAERecommender

__all__ = [
    "CDAERecommender",
    "FCDAERecommender",
    "MultDAERecommender",
    "MultVAERecommender",
    "PrunedDAERecommender",
    "SparseWideDAERecommender",
    "n_clusters_for_parameters",
]
